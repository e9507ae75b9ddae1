"""``xpnet serve``: the API through a real uvicorn server on 127.0.0.1 and a real HTTP client.

The models are trained here, in a temporary folder: 784-16-10 ReLU (the tutorial's shape,
wider) and 784-12-8-10 tanh with Fashion-MNIST's class names (two hidden layers, negative
activations). Every answer of ``POST /api/predict`` is checked against the forward pass
written out in NumPy, so the server can only pass by computing the tutorial's equations.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("uvicorn", reason="the serve extra (uvicorn) is not installed")
httpx = pytest.importorskip("httpx", reason="httpx (the HTTP client of these tests) is not installed")

from PIL import Image, ImageDraw  # noqa: E402

import xpnet  # noqa: E402
from tests.conftest import (  # noqa: E402
    assert_close_by_bound,
    forward_error_bounds,
    gamma,
    softmax_error_bound,
    unit_roundoff,
)
from xpnet.images import load_image  # noqa: E402
from xpnet.model.preprocessing import Preprocessing  # noqa: E402
from xpnet.serve.app import create_app  # noqa: E402
from xpnet.serve.inference import Inspector  # noqa: E402
from xpnet.serve.server import BackgroundServer, bind_socket, is_loopback, url_for  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FASHION = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


# -- models trained here ----------------------------------------------------------------------------
def synthetic_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 28×28 uint8 images (flat) of 10 classes: class c is a bright bar at a place of its
    own (rows for c < 5, columns for c ≥ 5), with noise. Learnable by a tiny network."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.integers(0, 40, (n, 28, 28)).astype(np.float64)
    for i, c in enumerate(y):
        start = 4 + 4 * (c % 5) + int(rng.integers(-1, 2))
        if c < 5:
            x[i, start : start + 3, 6:22] += 200
        else:
            x[i, 6:22, start : start + 3] += 200
    return np.clip(x, 0, 255).astype(np.uint8).reshape(n, 784), y


def train_checkpoint(
    path: Path, sizes, activation="relu", class_names=None, dataset="synthetic digits", epochs=8
) -> Path:
    x, y = synthetic_digits(600)
    pre = Preprocessing.fit(x)
    model = xpnet.MLP(sizes, activation=activation, backend="numpy", seed=1)
    model.fit(pre.transform(x[:500]), y[:500], epochs=epochs, batch_size=32)
    accuracy = model.score(pre.transform(x[500:]), y[500:])
    names = class_names or [str(i) for i in range(sizes[-1])]
    return xpnet.save(
        model,
        path,
        preprocessing=pre,
        dataset={"name": dataset, "class_names": names},
        metrics={"test_accuracy": accuracy, "n_test": 100},
    )


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("serve-models")
    shallow = train_checkpoint(root / "shallow.npz", [784, 16, 10])
    run = root / "run"
    run.mkdir()
    deep = train_checkpoint(
        run / "model.npz",
        [784, 12, 8, 10],
        activation="tanh",
        class_names=FASHION,
        dataset="Fashion-MNIST (synthetic stand-in)",
    )
    return {"shallow": shallow, "deep": deep, "deep_run": run}


@pytest.fixture(scope="module")
def server(models):
    with BackgroundServer(create_app(models["shallow"])) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


# -- images as users send them -----------------------------------------------------------------------
def digit_image(c: int = 2, size: int = 280, seed: int = 3) -> Image.Image:
    """A picture of synthetic class ``c``: dark ink on white paper, ``size`` pixels wide."""
    x, y = synthetic_digits(200, seed=seed)
    img = x[np.flatnonzero(y == c)[0]].reshape(28, 28)
    return Image.fromarray(255 - img).resize((size, size), Image.BILINEAR)


def encode(img: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt)
    return buffer.getvalue()


def data_url(data: bytes, media: str = "image/png") -> str:
    return f"data:{media};base64," + base64.b64encode(data).decode("ascii")


def expected_answer(checkpoint_path: Path, data: bytes, tmp_path: Path) -> dict:
    """What the server must answer, from xpnet.images and the forward pass written in NumPy."""
    ckpt = xpnet.load_checkpoint(checkpoint_path, backend="numpy")
    f = tmp_path / "sent.img"
    f.write_bytes(data)
    pixels = load_image(f)
    A = ckpt.preprocessing.transform(pixels[None, :]).astype(np.float64)
    params = {k: v.astype(np.float64) for k, v in ckpt.model.numpy_params().items()}
    L = ckpt.model.n_layers
    g = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[ckpt.model.activation]
    layers = []
    for l in range(1, L + 1):
        Z = A @ params[f"W{l}"].T + params[f"b{l}"]  # Z_l = W_l·A_{l−1} + b_l, samples as rows
        if l < L:
            A = g(Z)
        else:
            e = np.exp(Z - Z.max())
            A = e / e.sum()  # A_L = softmax(Z_L)
        layers.append(A[0])
    return {
        "pixels": pixels,
        "layers": layers,
        "names": ckpt.class_names,
        "bounds": rounding_bounds(ckpt.model, ckpt.preprocessing.transform(pixels[None, :])),
    }


def rounding_bounds(model, X) -> list:
    """How far the server's float32 A_1 … A_L may be from the exact ones (tests/conftest.py):
    the forward pass's bound for the hidden layers, the softmax's for A_L. The float64
    reference above is off by ~1e-9 of these, which the bounds' slack covers."""
    layers = forward_error_bounds(model.params, X, np.float32, model.activation)
    Z, E = layers[-1]
    return [bound[0] for _, bound in layers[:-1]] + [softmax_error_bound(Z, E, np.float32)[0]]


def check_answer(answer: dict, expected: dict) -> None:
    probs = np.array(answer["probabilities"])
    assert_close_by_bound(probs, expected["layers"][-1], expected["bounds"][-1], err_msg="probabilities")
    k = len(probs)  # the softmax's own rounding, (k + 20)·u, and this float64 sum's
    assert abs(probs.sum() - 1) <= (k + 20) * unit_roundoff(np.float32) + gamma(k - 1, np.float64)
    assert answer["prediction"] == int(np.argmax(expected["layers"][-1]))
    assert answer["label"] == expected["names"][answer["prediction"]]
    # pixels / 255 rounded to 4 decimals by the server: within 5e-5 (not a rounding-error question)
    np.testing.assert_allclose(np.array(answer["input"]), expected["pixels"].reshape(28, 28) / 255, atol=1e-4)
    assert [layer["name"] for layer in answer["layers"]] == [f"A{l}" for l in range(1, len(expected["layers"]) + 1)]
    for l, (layer, values, bound) in enumerate(zip(answer["layers"], expected["layers"], expected["bounds"]), 1):
        assert layer["shape"] == [len(values)]
        assert_close_by_bound(layer["values"], values, bound, err_msg=f"A{l}")


# -- the page -----------------------------------------------------------------------------------------
def test_page_is_served_self_contained(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'id="pad"' in r.text and "/static/app.js" in r.text and "/static/style.css" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        s = client.get(f"/static/{name}")
        assert s.status_code == 200 and kind in s.headers["content-type"]
    static = REPO / "xpnet" / "serve" / "static"
    for f in static.iterdir():  # nothing fetched from elsewhere: no CDN, works offline
        text = f.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, f.name


def test_model_endpoint(client, models):
    info = client.get("/api/model").json()
    ckpt = xpnet.load_checkpoint(models["shallow"])
    assert info["sizes"] == [784, 16, 10] and info["activation"] == "relu"
    assert info["class_names"] == [str(i) for i in range(10)]
    assert info["dataset"]["name"] == "synthetic digits"
    assert info["accuracy"] == pytest.approx(ckpt.metrics["test_accuracy"])
    assert info["n_params"] == 784 * 16 + 16 + 16 * 10 + 10
    assert [layer["equation"] for layer in info["layers"]] == [
        "A1 = ReLU(W1·X + b1)",
        "A2 = softmax(W2·A1 + b2)",
    ]
    assert info["weights"]["count"] == 16 and info["weights"]["tile"] == 28
    assert info["limits"]["max_bytes"] == 5 * 1024 * 1024


def test_weights_png_holds_every_row_of_w1(client, models):
    info = client.get("/api/model").json()["weights"]
    r = client.get(info["url"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    sheet = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB")).astype(int)
    cols = info["columns"]
    assert sheet.shape == (math.ceil(16 / cols) * 28, cols * 28, 3)
    W1 = xpnet.load_checkpoint(models["shallow"]).model.numpy_params()["W1"]
    for k in (0, 7, 15):
        r0, c0 = divmod(k, cols)
        tile = sheet[r0 * 28 : (r0 + 1) * 28, c0 * 28 : (c0 + 1) * 28].reshape(784, 3)
        w = W1[k]
        top, bottom = int(np.argmax(w)), int(np.argmin(w))
        if abs(w[top]) >= abs(w[bottom]):  # the largest |w| gets the full colour of its sign
            assert tuple(tile[top]) == (255, 150, 40)
        else:
            assert tuple(tile[bottom]) == (60, 140, 255)
        assert (tile[w > 0, 0] >= tile[w > 0, 2]).all() and (tile[w < 0, 2] >= tile[w < 0, 0]).all()


# -- predictions -----------------------------------------------------------------------------------------
def test_predict_png_is_the_forward_pass(client, models, tmp_path):
    data = encode(digit_image(2))
    r = client.post("/api/predict", content=data, headers={"Content-Type": "image/png"})
    assert r.status_code == 200, r.text
    answer = r.json()
    check_answer(answer, expected_answer(models["shallow"], data, tmp_path))
    assert answer["layers"][0]["equation"] == "A1 = ReLU(W1·X + b1)"
    assert min(answer["layers"][0]["values"]) >= 0  # ReLU


@pytest.mark.parametrize("how", ["json", "json-string", "text", "data-url-as-body", "octet-stream", "jpeg"])
def test_predict_accepts_what_browsers_and_tools_send(client, models, tmp_path, how):
    png = encode(digit_image(6))
    data = png
    if how == "json":
        kw = {
            "content": json.dumps({"image": data_url(png)}),
            "headers": {"Content-Type": "application/json"},
        }
    elif how == "json-string":
        kw = {"content": json.dumps(data_url(png)), "headers": {"Content-Type": "application/json"}}
    elif how == "text":
        kw = {"content": data_url(png), "headers": {"Content-Type": "text/plain;charset=UTF-8"}}
    elif how == "data-url-as-body":
        kw = {"content": data_url(png), "headers": {"Content-Type": "image/png"}}
    elif how == "octet-stream":
        kw = {"content": png, "headers": {"Content-Type": "application/octet-stream"}}
    else:
        data = encode(digit_image(6).convert("RGB"), "JPEG")
        kw = {"content": data, "headers": {"Content-Type": "image/jpeg"}}
    r = client.post("/api/predict", **kw)
    assert r.status_code == 200, r.text
    check_answer(r.json(), expected_answer(models["shallow"], data, tmp_path))


def test_any_depth_and_fashion_names(models, tmp_path):
    with BackgroundServer(create_app(models["deep_run"])) as srv, httpx.Client(base_url=srv.url) as c:
        info = c.get("/api/model").json()
        assert info["sizes"] == [784, 12, 8, 10] and info["class_names"] == FASHION
        assert [layer["equation"] for layer in info["layers"]] == [
            "A1 = tanh(W1·X + b1)",
            "A2 = tanh(W2·A1 + b2)",
            "A3 = softmax(W3·A2 + b3)",
        ]
        data = encode(digit_image(8))
        answer = c.post("/api/predict", content=data, headers={"Content-Type": "image/png"}).json()
    check_answer(answer, expected_answer(models["deep"], data, tmp_path))
    assert [layer["shape"] for layer in answer["layers"]] == [[12], [8], [10]]
    assert answer["label"] in FASHION
    assert min(answer["layers"][0]["values"]) < 0  # tanh units go negative; the page shows them


def test_backend_is_used_and_results_copied_to_the_host(models):
    """The forward pass runs on the chosen backend (array-api-strict's second device here, a
    stand-in for a GPU) and the answer is the same numbers as on NumPy."""
    data = encode(digit_image(4))
    on_numpy = Inspector(models["deep"], backend="numpy")
    strict = Inspector(models["deep"], backend="array_api_strict:device1")
    assert strict.model.backend.spec == "array_api_strict:device1"
    assert strict.model_info()["backend"]["spec"] == "array_api_strict:device1"
    a, b = on_numpy.predict_bytes(data), strict.predict_bytes(data)
    # Two libraries: each within the rounding bounds of the exact values, so within twice them.
    ckpt = xpnet.load_checkpoint(models["deep"], backend="numpy")
    bounds = rounding_bounds(ckpt.model, ckpt.preprocessing.transform(on_numpy.pixels(data)[None, :]))
    assert_close_by_bound(a["probabilities"], b["probabilities"], 2 * bounds[-1])
    for l, (la, lb, bound) in enumerate(zip(a["layers"], b["layers"], bounds), 1):
        assert_close_by_bound(la["values"], lb["values"], 2 * bound, err_msg=f"A{l}")
    json.dumps(b)  # plain Python numbers, nothing of the backend left
    with BackgroundServer(create_app(models["deep"], backend="array_api_strict:device1")) as srv:
        r = httpx.post(srv.url + "api/predict", content=data, headers={"Content-Type": "image/png"})
    # The same code on the same backend and input, and JSON round-trips floats exactly.
    assert r.status_code == 200 and r.json()["probabilities"] == b["probabilities"]


def test_preprocessing_is_applied_exactly_once(models, tmp_path):
    """Standardised checkpoints (above) and one saved with no preprocessing (pixels / 255, as
    ``xpnet predict`` reads it): the network sees ((x/255) − mean)/std or x/255, never twice."""
    plain = xpnet.save(xpnet.MLP([784, 6, 10], backend="numpy", seed=2), tmp_path / "plain.npz")
    data = encode(digit_image(7))
    answer = Inspector(plain).predict_bytes(data)
    check_answer(answer, expected_answer(plain, data, tmp_path))
    std = xpnet.load_checkpoint(models["shallow"]).preprocessing
    assert std.standardized  # so check_answer on the other models tests the standardisation


def test_real_digits_predicted_as_from_arrays(shared_data, tmp_path):
    """Real t10k digits, drawn dark-on-white at 280×280: the server predicts what the model
    predicts from the same images' 28×28 arrays (the server adds no error of its own)."""
    from xpnet.datasets import load_dataset

    data = load_dataset(shared_data / "mnist-t10k")
    x, y = data.x_test[:1300], data.y_test[:1300]
    pre = Preprocessing.fit(x[:1000])
    model = xpnet.MLP([784, 32, 10], backend="numpy", seed=0)
    model.fit(pre.transform(x[:1000]), y[:1000], epochs=10, batch_size=32)
    path = xpnet.save(
        model,
        tmp_path / "t10k.npz",
        preprocessing=pre,
        dataset={"name": "MNIST t10k", "class_names": [str(i) for i in range(10)]},
    )
    inspector = Inspector(path)
    agree = correct = 0
    for image, label in zip(x[1000:1100], y[1000:1100]):
        png = encode(Image.fromarray(255 - image.reshape(28, 28)))
        answer = inspector.predict_bytes(png)
        direct = int(model.predict(pre.transform(load_image_bytes(png, tmp_path)[None, :]))[0])
        agree += answer["prediction"] == direct
        correct += answer["prediction"] == label
    assert agree == 100
    assert correct >= 75  # a 1000-image model: well above chance (10) on unseen digits


def load_image_bytes(data: bytes, tmp_path: Path) -> np.ndarray:
    f = tmp_path / "img.png"
    f.write_bytes(data)
    return load_image(f)


# -- bad requests: a JSON error with a 4xx, and the server keeps serving ---------------------------
def _blank(mode: str, color) -> bytes:
    return encode(Image.new(mode, (280, 280), color))


def _two_marks() -> bytes:
    img = Image.new("L", (280, 280), 255)
    draw = ImageDraw.Draw(img)
    draw.line([(20, 20), (20, 100)], fill=0, width=18)
    draw.line([(250, 180), (250, 260)], fill=0, width=18)
    return encode(img)


BAD_REQUESTS = [
    # (case, content, content type, status, reason)
    ("empty", b"", "image/png", 400, "empty_body"),
    ("not an image", b"hello, this is text", "image/png", 400, "not_an_image"),
    ("truncated png", None, "image/png", 400, "not_an_image"),
    ("bad json", b"{not json", "application/json", 400, "bad_json"),
    ("json without image", b'{"picture": 1}', "application/json", 400, "bad_json"),
    ("bad base64", b"data:image/png;base64,@@@@", "text/plain", 400, "bad_data_url"),
    ("data url not base64", b"data:image/png,abc", "text/plain", 400, "bad_data_url"),
    ("data url of text", b"data:text/plain;base64,aGVsbG8=", "text/plain", 415, "not_an_image"),
    ("html", b"<html></html>", "text/html", 415, "unsupported_media_type"),
    ("form", b"--x\r\n", "multipart/form-data; boundary=x", 415, "unsupported_media_type"),
    ("white page", _blank("L", 255), "image/png", 422, "nothing_drawn"),
    ("black canvas", _blank("RGB", (0, 0, 0)), "image/png", 422, "nothing_drawn"),
    ("transparent canvas", _blank("RGBA", (0, 0, 0, 0)), "image/png", 422, "nothing_drawn"),
    ("two marks far apart", _two_marks(), "image/png", 422, "several_marks"),
]


@pytest.mark.parametrize("case,content,ctype,status,reason", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_predict_requests(client, case, content, ctype, status, reason):
    if content is None:
        content = encode(digit_image(1))[:200]
    r = client.post("/api/predict", content=content, headers={"Content-Type": ctype})
    assert r.status_code == status, r.text
    body = r.json()
    assert body["reason"] == reason and body["status"] == status and body["error"]
    if reason == "nothing_drawn":
        assert body["error"].startswith("nothing drawn")
    if reason == "several_marks":
        assert "separate marks" in body["error"]
    assert client.get("/api/model").status_code == 200


def test_body_over_the_limit_is_413_announced_or_streamed(models):
    with BackgroundServer(create_app(models["shallow"], max_bytes=100_000)) as srv:
        with httpx.Client(base_url=srv.url) as c:
            big = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (400, 400), dtype=np.uint8)))
            assert len(big) > 100_000
            r = c.post("/api/predict", content=big, headers={"Content-Type": "image/png"})
            assert r.status_code == 413 and r.json()["reason"] == "too_large"

            def chunks():  # no Content-Length: the limit is enforced while reading
                for i in range(0, len(big), 16_384):
                    yield big[i : i + 16_384]

            r = c.post("/api/predict", content=chunks(), headers={"Content-Type": "image/png"})
            assert "content-length" not in r.request.headers
            assert r.status_code == 413 and r.json()["reason"] == "too_large"
            ok = c.post("/api/predict", content=encode(digit_image(3)), headers={"Content-Type": "image/png"})
            assert ok.status_code == 200


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_30_mb_upload_reads_its_413_json(models, framing):
    """A 30 MB body (the limit is 5 MiB) gets its 413 JSON in both of httpx's clients, and the
    connection stays usable. The server reads the body through before answering: answering
    and closing while the client still sends makes the kernel reset the connection, and
    httpx's async client then reports ReadError instead of the answer (the old behaviour)."""
    big = np.random.default_rng(1).integers(0, 256, 30 * 1024 * 1024, dtype=np.uint8).tobytes()
    step = 256 * 1024

    def content():
        return big if framing == "content-length" else (big[i : i + step] for i in range(0, len(big), step))

    async def async_content():
        for i in range(0, len(big), step):
            yield big[i : i + step]

    def check(r):
        sent = r.request.headers
        assert ("content-length" in sent) == (framing == "content-length"), sent
        assert r.status_code == 413, r.text
        assert r.json() == {"error": r.json()["error"], "reason": "too_large", "status": 413}
        assert "5,242,880 bytes" in r.json()["error"]
        assert r.headers.get("connection") != "close"

    with BackgroundServer(create_app(models["shallow"])) as srv:
        with httpx.Client(base_url=srv.url, timeout=60) as c:
            check(c.post("/api/predict", content=content(), headers={"Content-Type": "image/png"}))
            again = c.post("/api/predict", content=encode(digit_image(3)), headers={"Content-Type": "image/png"})
            assert again.status_code == 200  # on the same connection

        async def upload():
            async with httpx.AsyncClient(base_url=srv.url, timeout=60) as c:
                body = big if framing == "content-length" else async_content()
                check(await c.post("/api/predict", content=body, headers={"Content-Type": "image/png"}))
                ok = await c.post("/api/predict", content=encode(digit_image(3)), headers={"Content-Type": "image/png"})
                assert ok.status_code == 200

        asyncio.run(upload())


def test_body_beyond_the_drain_bound_is_answered_at_once_and_closed(models):
    """Past ``drain_bytes`` the server stops reading, answers 413 with Connection: close and
    closes; httpx's sync client, which reads after a failed write, still gets the JSON."""
    with BackgroundServer(create_app(models["shallow"], max_bytes=10_000, drain_bytes=100_000)) as srv:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            r = c.post("/api/predict", content=b"\0" * 50_000)  # over the limit, read through
            assert r.status_code == 413 and r.headers.get("connection") != "close"
            r = c.post("/api/predict", content=b"\0" * 8_000_000)
            assert r.status_code == 413 and r.json()["reason"] == "too_large"
            assert r.headers["connection"] == "close"
            assert c.post("/api/predict", content=b"").json()["reason"] == "empty_body"


def test_default_limit_is_5_mib(client):
    r = client.post("/api/predict", content=b"\0" * (5 * 1024 * 1024 + 1), headers={"Content-Type": "image/png"})
    assert r.status_code == 413
    assert client.get("/api/model").status_code == 200


def test_picture_with_too_many_pixels_is_413(models):
    with BackgroundServer(create_app(models["shallow"], max_pixels=100_000)) as srv:
        big = encode(Image.new("L", (400, 400), 255))  # compresses to a few hundred bytes
        r = httpx.post(srv.url + "api/predict", content=big, headers={"Content-Type": "image/png"})
    assert r.status_code == 413 and "400×400" in r.json()["error"]


@pytest.mark.parametrize(
    "method,path,status",
    [
        ("GET", "/api/predict", 405),
        ("PUT", "/api/predict", 405),
        ("POST", "/api/model", 405),
        ("DELETE", "/", 405),
        ("GET", "/nope", 404),
        ("GET", "/static/missing.js", 404),
        ("POST", "/api/nope", 404),
    ],
)
def test_wrong_method_or_path(client, method, path, status):
    r = client.request(method, path)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json"
    assert r.json()["status"] == status
    if status == 405:
        assert r.json()["reason"] == "method_not_allowed" and r.headers["allow"]
    assert client.get("/api/model").status_code == 200


def test_concurrent_requests(client, models, tmp_path):
    data = [encode(digit_image(c)) for c in range(4)]
    expected = [expected_answer(models["shallow"], d, tmp_path) for d in data]
    results: list = [None] * 12

    def worker(i):  # httpx's default 5 s timeout is too short for 12 at once on a busy 2-core machine
        with httpx.Client(base_url=str(client.base_url), timeout=120) as c:
            results[i] = c.post("/api/predict", content=data[i % 4], headers={"Content-Type": "image/png"}).json()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, answer in enumerate(results):
        want = expected[i % 4]
        assert_close_by_bound(answer["probabilities"], want["layers"][-1], want["bounds"][-1], err_msg=str(i))


# -- the server helpers ----------------------------------------------------------------------------------
def test_addresses():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("127.3.2.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("::")
    assert url_for("127.0.0.1", 80) == "http://127.0.0.1:80/" and url_for("::1", 8) == "http://[::1]:8/"
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0
    finally:
        sock.close()


def test_create_app_takes_a_loaded_checkpoint(models):
    ckpt = xpnet.load_checkpoint(models["deep"], backend="numpy")
    app = create_app(ckpt)
    assert app.state.inspector.checkpoint is ckpt
    assert app.state.inspector.model_info()["class_names"] == FASHION


def test_unfinished_runs_are_flagged_and_untrained_weights_refused(tmp_path):
    from xpnet.errors import UntrainedModel

    model = xpnet.MLP([784, 4, 10], backend="numpy")
    model.epoch = 2
    stopped = xpnet.save(model, tmp_path / "stopped.npz", training={"status": "interrupted", "config": {"epochs": 5}})
    info = create_app(stopped).state.inspector.model_info()
    assert "stopped after 2 of 5 epochs" in info["warning"]
    diverged = xpnet.save(
        xpnet.MLP([784, 4, 10], backend="numpy"),
        tmp_path / "diverged.npz",
        training={"status": "diverged", "config": {"epochs": 5}},
    )
    with pytest.raises(UntrainedModel, match="untrained weights"):
        create_app(diverged)


def test_create_app_rejects_non_image_models(tmp_path):
    path = xpnet.save(xpnet.MLP([20, 4, 3], backend="numpy"), tmp_path / "small.npz")
    with pytest.raises(ValueError, match="784"):
        create_app(path)


# -- the command line --------------------------------------------------------------------------------------
def _start_cli(*args: str) -> tuple[subprocess.Popen, str, str]:
    """``xpnet serve ARGS`` in a child process; returns it, its URL, and what it printed."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "xpnet.cli", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Open "):
            url = next(w for w in line.split() if w.startswith("http://"))
            return proc, url, "".join(lines)
    proc.kill()
    raise AssertionError("xpnet serve did not print its address:\n" + "".join(lines))


def _stop_cli(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        rest, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, rest
    return rest


def test_cli_serves_a_run_folder_and_stops_on_ctrl_c(models):
    proc, url, printed = _start_cli(str(models["deep_run"]), "--port", "0", "--backend", "numpy")
    try:
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0/")
        assert "784-12-8-10 tanh" in printed and "Warning" not in printed
        info = httpx.get(url + "api/model", timeout=30).json()
        assert info["sizes"] == [784, 12, 8, 10]
        r = httpx.post(url + "api/predict", content=encode(digit_image(5)), headers={"Content-Type": "image/png"})
        assert r.status_code == 200 and r.json()["label"] in FASHION
    finally:
        rest = _stop_cli(proc)
    assert "stopped" in rest


def test_cli_warns_when_reachable_from_the_network(models):
    proc, url, printed = _start_cli(str(models["shallow"]), "--host", "0.0.0.0", "--port", "0")
    try:
        assert "reachable from the network" in printed
        assert httpx.get(url + "api/model", timeout=30).status_code == 200
    finally:
        _stop_cli(proc)


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "xpnet.cli", "serve", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_port_in_use_and_bad_model(models, tmp_path):
    sock = bind_socket("127.0.0.1", 0)
    sock.listen()
    try:
        r = _cli(str(models["shallow"]), "--port", str(sock.getsockname()[1]))
    finally:
        sock.close()
    assert r.returncode == 2 and "already in use" in r.stderr and "--port 0" in r.stderr
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a checkpoint")
    r = _cli(str(junk))
    assert r.returncode == 2 and "not an xpnet checkpoint" in r.stderr
    r = _cli(str(models["shallow"]), "--backend", "cuda:x")  # the spec every command reads
    assert r.returncode == 2 and "'cuda:x' (from --backend)" in r.stderr and "cuda:N" in r.stderr


def test_cli_without_the_extra_says_how_to_install(monkeypatch, capsys, models):
    from xpnet import cli
    from xpnet.serve import command

    monkeypatch.setattr(command, "_have_web_packages", lambda: False)
    assert cli.main(["serve", str(models["shallow"])]) == 2
    assert "pip install 'xpnet[serve]'" in capsys.readouterr().err


def test_import_xpnet_does_not_import_the_web_packages():
    code = (
        "import sys, xpnet, xpnet.cli, xpnet.serve, xpnet.serve.command, xpnet.serve.inference; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn')]; "
        "assert not bad, bad; assert 'serve' in xpnet.cli.cli.commands"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
