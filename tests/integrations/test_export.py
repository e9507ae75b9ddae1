"""``xpnet.export``: ONNX graphs run in onnxruntime, safetensors files read by ``xpnet.load``
and by PyTorch, each compared with the model's own ``predict`` and ``predict_proba``.

Skipped where the libraries are missing (``pip install "xpnet[export-test]"``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xpnet
from xpnet.checkpoint import CheckpointError
from xpnet.errors import InvalidInputType
from xpnet.interop import ExportError, ExportExtraMissing

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

REPO = Path(__file__).resolve().parents[2]
ACTIVATIONS = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]
HEADS = ["cross_entropy", "squared_error", "poisson"]
DTYPES = ["float32", "float64"]
#: float32: onnxruntime's Gemm and Softmax against NumPy's, a few ulps; float64 likewise.
TOL = {"float32": {"rtol": 1e-5, "atol": 1e-7}, "float64": {"rtol": 1e-10, "atol": 1e-14}}
N_IN = 12


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _model(activation="relu", loss="cross_entropy", dtype="float32", preprocessing=None, dropout=0.0, seed=0):
    n_out = 4 if loss == "cross_entropy" else 2
    model = xpnet.MLP(
        [N_IN, 9, 7, n_out],
        activation=activation,
        loss=loss,
        dtype=dtype,
        backend="cpu",
        seed=seed,
        preprocessing=preprocessing,
        dropout=dropout,
    )
    # Biases are zero at first; give them values so the graph's b_l matter.
    rng = np.random.default_rng(seed + 1)
    model.set_params({k: v + 0.1 * rng.standard_normal(v.shape) for k, v in model.numpy_params().items()})
    return model


def _pixels(m, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(m, N_IN), dtype=np.uint8)


def _check(model, path, x, input_dtype):
    """The graph at ``path`` answers ``x`` as ``model.predict`` / ``predict_proba`` do."""
    session = _session(path)
    (inp,) = session.get_inputs()
    assert inp.name == "input" and inp.shape == ["batch", N_IN]
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"input": x.astype(input_dtype)})))
    tol = TOL[model.dtype_name]
    if model.head.classifies:
        assert set(got) == {"label", "probabilities"}
        assert got["probabilities"].dtype == np.dtype(model.dtype_name)
        np.testing.assert_allclose(got["probabilities"], model.predict_proba(x), **tol)
        np.testing.assert_array_equal(got["label"], model.predict(x))
        assert got["label"].dtype == np.int64
    else:
        assert set(got) == {"values"}
        assert got["values"].dtype == np.dtype(model.dtype_name)
        np.testing.assert_allclose(got["values"], model.predict(x), **tol)


# -- ONNX ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", HEADS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_onnx_graph_answers_as_predict(tmp_path, activation, loss, dtype):
    """Every activation, head and dtype; raw uint8 pixels through the model's standardisation,
    and float inputs through a model without one; batches of 1, 5 and 300 rows."""
    pre = xpnet.Preprocessing(True, 0.29, 0.35)
    with_pre = _model(activation, loss, dtype, preprocessing=pre)
    path = xpnet.export(with_pre, tmp_path / "pre.onnx", input_dtype="uint8")
    for m in (1, 5, 300):
        _check(with_pre, path, _pixels(m, seed=m), "uint8")
    plain = _model(activation, loss, dtype, seed=3)
    path = xpnet.export(plain, tmp_path / "plain.onnx")  # input: the model's own dtype
    assert _session(path).get_inputs()[0].type == {"float32": "tensor(float)", "float64": "tensor(double)"}[dtype]
    for m in (1, 5, 300):
        _check(plain, path, np.random.default_rng(m).standard_normal((m, N_IN)), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_float_pixels_go_through_the_same_transform(tmp_path, dtype):
    """Pixels given as floats (0..255) and the uint8 graph agree with predict on either."""
    model = _model(dtype=dtype, preprocessing=xpnet.Preprocessing(True, 0.13, 0.31))
    x = _pixels(64)
    for input_dtype in ("float32", "float64", "uint8"):
        path = xpnet.export(model, tmp_path / f"{input_dtype}.onnx", input_dtype=input_dtype)
        _check(model, path, x, input_dtype)
        np.testing.assert_array_equal(model.predict(x.astype(input_dtype)), model.predict(x))


def test_scale_only_preprocessing(tmp_path):
    model = _model(preprocessing=xpnet.Preprocessing())  # pixels / 255, no standardisation
    _check(model, xpnet.export(model, tmp_path / "m.onnx", input_dtype="uint8"), _pixels(50), "uint8")
    ops = [n.op_type for n in onnx.load(tmp_path / "m.onnx").graph.node]
    assert ops[:2] == ["Cast", "Div"] and "Sub" not in ops


def test_a_dropout_model_exports_without_dropout(tmp_path):
    """A model trained with dropout: the graph has no dropout and matches predict exactly."""
    model = _model(dropout=0.5, preprocessing=xpnet.Preprocessing())
    x = _pixels(200)
    model.fit(x, np.arange(200) % 4, epochs=2, batch_size=32)
    path = xpnet.export(model, tmp_path / "dropout.onnx", input_dtype="uint8")
    assert "Dropout" not in {n.op_type for n in onnx.load(path).graph.node}
    _check(model, path, x, "uint8")


def test_graph_metadata_opset_and_nodes(tmp_path):
    model = _model(activation="tanh", preprocessing=xpnet.Preprocessing(True, 0.5, 0.25))
    proto = onnx.load(xpnet.export(model, tmp_path / "m.onnx", input_dtype="uint8"))
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", 17)]
    assert proto.ir_version == 8
    assert proto.producer_name == "xpnet"
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["sizes"] == f"{N_IN},9,7,4" and props["activation"] == "tanh"
    ops = [n.op_type for n in proto.graph.node]
    assert ops == ["Cast", "Div", "Sub", "Div", "Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Softmax", "ArgMax"]


def test_export_from_a_checkpoint_path(tmp_path):
    """A checkpoint as xpnet.save writes it: the graph answers as xpnet.load(path) does."""
    model = _model(dtype="float64", preprocessing=xpnet.Preprocessing(True, 0.2, 0.3))
    ckpt = xpnet.save(model, tmp_path / "model.npz")
    path = xpnet.export(ckpt, tmp_path / "model.onnx", input_dtype="uint8")
    _check(xpnet.load(ckpt, backend="cpu"), path, _pixels(20), "uint8")
    path = xpnet.export(str(ckpt), tmp_path / "model.safetensors")
    assert xpnet.load(path).sizes == model.sizes


# -- safetensors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", HEADS)
def test_safetensors_round_trip_is_bit_for_bit(tmp_path, loss, dtype):
    st = pytest.importorskip("safetensors.numpy")
    model = _model("leaky_relu", loss, dtype, preprocessing=xpnet.Preprocessing(True, 0.1, 0.4), dropout=0.2)
    path = xpnet.export(model, tmp_path / "m.safetensors")
    tensors = st.load_file(str(path))
    assert sorted(tensors) == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    params = model.numpy_params()
    for l in (1, 2, 3):
        assert tensors[f"{2 * (l - 1)}.weight"].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(tensors[f"{2 * (l - 1)}.weight"], params[f"W{l}"])
        np.testing.assert_array_equal(tensors[f"{2 * (l - 1)}.bias"], params[f"b{l}"])
    back = xpnet.load(path, backend="cpu")
    assert back.get_config() == model.get_config()
    for k, v in back.numpy_params().items():
        assert v.dtype == params[k].dtype and v.tobytes() == params[k].tobytes()
    x = _pixels(33)
    np.testing.assert_array_equal(back.predict(x), model.predict(x))


def test_safetensors_metadata(tmp_path):
    pytest.importorskip("safetensors")
    from safetensors import safe_open

    pre = xpnet.Preprocessing(True, 0.1307, 0.3081)
    model = _model("sigmoid", preprocessing=pre)
    path = xpnet.export(model, tmp_path / "m.safetensors")
    with safe_open(str(path), framework="np") as f:
        meta = f.metadata()
    assert meta["format"] == "xpnet.safetensors" and meta["format_version"] == "1"
    assert json.loads(meta["sizes"]) == [N_IN, 9, 7, 4]
    assert (meta["activation"], meta["loss"], meta["dtype"]) == ("sigmoid", "cross_entropy", "float32")
    assert xpnet.Preprocessing.from_config(json.loads(meta["preprocessing"])) == pre
    assert meta["xpnet_version"] == xpnet.__version__
    ckpt = xpnet.load_checkpoint(path)
    assert ckpt.preprocessing == pre and ckpt.manifest["metadata"] == meta


def test_safetensors_loads_into_torch_as_the_docs_show(tmp_path, monkeypatch):
    """docs/_snippets/export-torch.py, the snippet docs/export.md shows, run as it is."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("safetensors")
    snippet = (REPO / "docs" / "_snippets" / "export-torch.py").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    x = _pixels(500)
    for dtype, activation, tol in [
        ("float32", "relu", 1e-6),
        ("float64", "leaky_relu", 1e-13),
        ("float64", "tanh", 1e-13),
    ]:
        model = _model(activation, dtype=dtype, preprocessing=xpnet.Preprocessing(True, 0.29, 0.35))
        xpnet.export(model, "model.safetensors")
        scope: dict = {}
        exec(compile(snippet, "export-torch.py", "exec"), scope)
        got = scope["predict_proba"](x)
        assert got.dtype == getattr(torch, dtype)
        np.testing.assert_allclose(got.numpy(), model.predict_proba(x), rtol=0, atol=tol)


def test_a_bad_safetensors_file_is_a_checkpoint_error(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    foreign = tmp_path / "foreign.safetensors"
    foreign.write_bytes(st.save({"w": np.zeros(3, np.float32)}))
    with pytest.raises(CheckpointError, match="not written by xpnet"):
        xpnet.load(foreign)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file at all")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        xpnet.load(junk)
    with pytest.raises(CheckpointError, match="no such file"):
        xpnet.load(tmp_path / "missing.safetensors")
    model = _model()
    path = xpnet.export(model, tmp_path / "m.safetensors")
    with __import__("safetensors").safe_open(str(path), framework="np") as f:
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    tensors["2.weight"] = tensors["2.weight"][:, :3]
    path.write_bytes(st.save(tensors, metadata=meta))
    with pytest.raises(CheckpointError, match=r"'2.weight' \(W2\)"):
        xpnet.load(path)


# -- errors and atomic writes ----------------------------------------------------------------------
def test_errors_name_the_problem(tmp_path):
    model = _model()
    with pytest.raises(ExportError, match="suffix '.pt'"):
        xpnet.export(model, tmp_path / "m.pt")
    with pytest.raises(ExportError, match="suffix '\\(none\\)'"):
        xpnet.export(model, tmp_path / "model")
    with pytest.raises(ExportError, match="does not exist"):
        xpnet.export(model, tmp_path / "no" / "such" / "m.onnx")
    with pytest.raises(ExportError, match="input_dtype must be one of"):
        xpnet.export(model, tmp_path / "m.onnx", input_dtype="int16")
    with pytest.raises(ExportError, match="ONNX graphs only"):
        xpnet.export(model, tmp_path / "m.safetensors", input_dtype="uint8")
    not_ckpt = tmp_path / "notes.npz"
    not_ckpt.write_text("hello")
    with pytest.raises(CheckpointError, match="not an xpnet checkpoint"):
        xpnet.export(not_ckpt, tmp_path / "m.onnx")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        xpnet.export(tmp_path / "missing.npz", tmp_path / "m.onnx")
    with pytest.raises(InvalidInputType, match="got list"):
        xpnet.export([1, 2], tmp_path / "m.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.npz"]  # nothing written, no temp file


@pytest.mark.parametrize("suffix, module", [(".onnx", "onnx"), (".safetensors", "safetensors")])
def test_a_missing_extra_says_how_to_install_it(tmp_path, monkeypatch, suffix, module):
    monkeypatch.setitem(sys.modules, module, None)  # import module raises ImportError
    monkeypatch.setitem(sys.modules, f"{module}.numpy", None)
    with pytest.raises(ExportExtraMissing, match=r'pip install "xpnet\[export\]"'):
        xpnet.export(_model(), tmp_path / f"m{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")

    def broken(self):
        raise OSError("disk full")

    monkeypatch.setattr(onnx.ModelProto, "SerializeToString", broken)
    with pytest.raises(OSError, match="disk full"):
        xpnet.export(_model(), path)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_import_xpnet_imports_no_export_library():
    code = (
        "import sys, xpnet, xpnet.cli, xpnet.interop\n"
        "heavy = [m for m in ('onnx', 'safetensors', 'skl2onnx', 'onnxruntime', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO)
