"""What the page shows, computed: decode an uploaded drawing, run the forward pass, keep every A.

Nothing here needs the web packages: [`Inspector`][xpnet.serve.inference.Inspector] is a loaded checkpoint plus the few
functions the web app calls, and every failure a client can cause is a [`RequestError`][xpnet.serve.inference.RequestError]
carrying the HTTP status it deserves.

The forward pass is [`xpnet.nn.network.forward`][xpnet.nn.network.forward], the same function training uses, on the
backend the model was loaded on (``--backend``). Its cache holds the input of every layer,
``inputs = [X, A1, …, A_{L−1}]``, so the hidden activations come for free; the output layer's
activation is ``A_L = softmax(Z_L)``. Only the final arrays are copied to the host, for JSON.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import math
import os
import threading
from pathlib import Path

import numpy as np

from .. import images as _images
from ..errors import ConfigError, XpnetError
from ..model.averaging import inference_params
from ..model.checkpoint import Checkpoint, load_checkpoint
from ..nn import network
from ..runs.rundir import check_trained, find_checkpoint

__all__ = [
    "Inspector",
    "RequestError",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "image_bytes_from_body",
    "resolve_checkpoint_path",
]

log = logging.getLogger("xpnet.serve")

#: Largest request body accepted by ``POST /api/predict`` (5 MiB).
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
#: Largest image accepted, in pixels (width × height), checked from the header before decoding:
#: a small compressed file can hold a huge picture (a "decompression bomb").
DEFAULT_MAX_PIXELS = 40_000_000

_ACTIVATION_SYMBOL = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "tanh": "tanh", "sigmoid": "σ"}
_SIDE = 28


class RequestError(XpnetError, ValueError):
    """A request the server cannot answer, with the HTTP status and a short machine reason.

    Parameters
    ----------
    status : int
        The 4xx status to answer with.
    message : str
        One sentence for people: what is wrong and what to send instead.
    reason : str
        A stable identifier for programs, e.g. ``"nothing_drawn"`` or ``"too_large"``.
    """

    def __init__(self, status: int, message: str, reason: str):
        super().__init__(message)
        self.status = int(status)
        self.message = message
        self.reason = reason

    def to_json(self) -> dict:
        """The JSON error body: ``{"error": message, "reason": reason, "status": status}``."""
        return {"error": self.message, "reason": self.reason, "status": self.status}


def resolve_checkpoint_path(path: str | os.PathLike) -> Path:
    """A checkpoint file, or the ``model.npz`` inside a run folder ([`xpnet.runs.rundir.find_checkpoint`][xpnet.runs.rundir.find_checkpoint])."""
    return find_checkpoint(path)


# -- request bodies -------------------------------------------------------------------------------
def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _from_data_url(text: str) -> bytes:
    """The bytes inside a ``data:image/png;base64,...`` URL (what ``canvas.toDataURL()`` gives)."""
    text = text.strip()
    if not text.lower().startswith("data:"):
        raise RequestError(400, "expected a data URL (data:image/png;base64,...) holding the image", "bad_data_url")
    header, comma, payload = text.partition(",")
    if not comma:
        raise RequestError(400, "the data URL has no ',' before its data", "bad_data_url")
    media = header[5:].split(";", 1)[0].strip().lower()
    if media and not media.startswith("image/"):
        raise RequestError(
            415, f"the data URL holds {media!r}, not an image (send image/png or image/jpeg)", "not_an_image"
        )
    if ";base64" not in header.lower():
        raise RequestError(400, "the data URL must be base64-encoded (data:image/png;base64,...)", "bad_data_url")
    try:
        data = base64.b64decode(payload.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(400, "the data URL's base64 data is malformed", "bad_data_url") from None
    if not data:
        raise RequestError(400, "the data URL holds no data", "empty_body")
    return data


def image_bytes_from_body(body: bytes, content_type: str | None) -> bytes:
    """The encoded image in a ``POST /api/predict`` body.

    Parameters
    ----------
    body : bytes
        The request body.
    content_type : str or None
        Its ``Content-Type``. ``image/*``, ``application/octet-stream`` or none: the body is
        the image file itself (PNG, JPEG, ...). ``application/json``: ``{"image": DATA_URL}``
        (or the data URL as a JSON string). ``text/plain``: the data URL itself.

    Returns
    -------
    bytes
        The encoded image (not yet decoded).

    Raises
    ------
    RequestError
        400 for an empty or malformed body, 415 for a content type that holds no image.
    """
    if not body:
        raise RequestError(
            400, "the request body is empty: send a PNG or JPEG image, or the canvas's data URL", "empty_body"
        )
    media = _media_type(content_type)
    if media in ("", "application/octet-stream") or media.startswith("image/"):
        return _from_data_url(body.decode("latin-1")) if body[:5].lower() == b"data:" else body
    if media == "application/json":
        try:
            value = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RequestError(400, f"the body is not valid JSON ({exc})", "bad_json") from None
        if isinstance(value, dict):
            value = value.get("image")
        if not isinstance(value, str):
            raise RequestError(
                400,
                'the JSON body needs an "image" field holding a data URL (data:image/png;base64,...)',
                "bad_json",
            )
        return _from_data_url(value)
    if media == "text/plain":
        try:
            return _from_data_url(body.decode("ascii"))
        except UnicodeDecodeError:
            raise RequestError(400, "a text/plain body must be the canvas's data URL (ASCII)", "bad_data_url") from None
    raise RequestError(
        415,
        f"cannot read a {media} body: send the image file itself (Content-Type "
        'image/png or image/jpeg), or JSON {"image": DATA_URL}',
        "unsupported_media_type",
    )


# -- the model ------------------------------------------------------------------------------------
class Inspector:
    """A loaded checkpoint that shows its work: every layer's activations for one image.

    Parameters
    ----------
    checkpoint : str, os.PathLike or Checkpoint
        A checkpoint file (``model.npz``), a run folder holding one, or a loaded
        [`Checkpoint`][xpnet.model.checkpoint.Checkpoint].
    backend : str or Backend, optional
        Where to run the forward pass (``"cpu"``, ``"gpu"``, ...; default ``$XPNET_BACKEND``
        or auto). A loaded checkpoint is moved there when given.
    max_pixels : int
        The largest image accepted (width × height).

    Attributes
    ----------
    warning : str or None
        Why the weights may not be the final ones (an interrupted run, or one that diverged
        after some epochs and kept its last good weights), from [`xpnet.runs.rundir.check_trained`][xpnet.runs.rundir.check_trained].

    Raises
    ------
    CheckpointError
        The file is not a readable checkpoint.
    RunError
        A folder without a checkpoint.
    UntrainedModel
        The run diverged before its first epoch ended: the weights are untrained.
    ValueError
        The model does not take 28×28 = 784 pixel images.
    """

    def __init__(self, checkpoint, backend=None, max_pixels: int = DEFAULT_MAX_PIXELS):
        if isinstance(checkpoint, Checkpoint):
            if backend is not None:
                checkpoint.model.to(backend)
        else:
            checkpoint = load_checkpoint(resolve_checkpoint_path(checkpoint), backend=backend)
        self.checkpoint = checkpoint
        self.warning = check_trained(checkpoint)
        self.model = checkpoint.model
        if self.model.sizes[0] != _SIDE * _SIDE:
            raise ConfigError(
                f"{checkpoint.path}: the model takes {self.model.sizes[0]} inputs, "
                f"not {_SIDE}x{_SIDE} = {_SIDE * _SIDE} pixel images; xpnet serve needs a digit model"
            )
        self.class_names = checkpoint.class_names
        self.max_pixels = int(max_pixels)
        self._lock = threading.Lock()  # one forward pass at a time (GPU streams, BLAS threads)
        self._sprite: bytes | None = None
        self._sprite_columns = max(1, math.ceil(math.sqrt(self.model.sizes[1])))

    # -- what the page labels ----------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        """``["A1", …, "AL"]``: the tutorial's names of the layers' outputs (A_L is softmax)."""
        return [f"A{l}" for l in range(1, self.model.n_layers + 1)]

    def equations(self) -> list[str]:
        """The tutorial's equation for every layer, e.g. ``A1 = ReLU(W1·X + b1)``."""
        g = _ACTIVATION_SYMBOL.get(self.model.activation, self.model.activation)
        L = self.model.n_layers
        out = []
        for l in range(1, L + 1):
            prev = "X" if l == 1 else f"A{l - 1}"
            f = "softmax" if l == L else g
            out.append(f"A{l} = {f}(W{l}·{prev} + b{l})")
        return out

    def model_info(self) -> dict:
        """What ``GET /api/model`` returns: architecture, data, class names, accuracy, layers."""
        ckpt, model = self.checkpoint, self.model
        metrics, dataset = ckpt.metrics, ckpt.dataset
        L = model.n_layers
        layers = [
            {
                "name": name,
                "units": int(n),
                "activation": "softmax" if l == L else model.activation,
                "equation": eq,
                "weights": f"W{l}",
                "weights_shape": [int(n), int(model.sizes[l - 1])],
            }
            for l, (name, n, eq) in enumerate(zip(self.layer_names(), model.sizes[1:], self.equations()), start=1)
        ]
        accuracy = metrics.get("test_accuracy")
        return {
            "checkpoint": ckpt.path.name,
            "sizes": [int(s) for s in model.sizes],
            "activation": model.activation,
            "n_params": int(model.n_params),
            "dtype": model.dtype_name,
            "epochs": int(model.epoch),
            "dataset": {"name": dataset.get("name")},  # not its source: a local path is nobody else's business
            "class_names": list(self.class_names),
            "accuracy": None if accuracy is None else float(accuracy),
            "n_test": metrics.get("n_test"),
            "preprocessing": ckpt.preprocessing.describe(),
            "backend": {"spec": model.backend.spec, "device": model.backend.device_name},
            "input": {
                "name": "X",
                "shape": [_SIDE, _SIDE],
                "description": "the drawing as MNIST-style 28×28 pixels (0 = background, 1 = ink)",
            },
            "layers": layers,
            "weights": {
                "url": "/api/weights.png",
                "layer": "W1",
                "tile": _SIDE,
                "columns": self._sprite_columns,
                "count": int(model.sizes[1]),
                "colors": "per unit, scaled to its largest |weight|: orange > 0, blue < 0",
            },
            "limits": {"max_pixels": self.max_pixels},
            "warning": self.warning,
        }

    def weights_png(self) -> bytes:
        """The first layer's weights as one PNG: unit k's row of W1 as a 28×28 tile.

        Tiles are laid out row by row, ``columns`` per row (``model_info()["weights"]``), with
        no gap. Each tile is scaled by its own largest ``|w|``: positive weights (ink there
        raises the unit's Z) orange, negative ones blue, zero black.
        """
        if self._sprite is None:
            from PIL import Image

            W = self.model.numpy_params(averaged=True)["W1"].astype(np.float64)
            n, cols = W.shape[0], self._sprite_columns
            rows = math.ceil(n / cols)
            peak = np.max(np.abs(W), axis=1, keepdims=True)
            t = W / np.where(peak > 0, peak, 1.0)  # in [−1, 1]
            pos = np.array([255.0, 150.0, 40.0])
            neg = np.array([60.0, 140.0, 255.0])
            rgb = np.clip(t, 0, None)[..., None] * pos + np.clip(-t, 0, None)[..., None] * neg
            rgb = rgb.reshape(n, _SIDE, _SIDE, 3)
            sheet = np.zeros((rows * _SIDE, cols * _SIDE, 3))
            for k in range(n):
                r, c = divmod(k, cols)
                sheet[r * _SIDE : (r + 1) * _SIDE, c * _SIDE : (c + 1) * _SIDE] = rgb[k]
            buffer = io.BytesIO()
            Image.fromarray(np.clip(np.rint(sheet), 0, 255).astype(np.uint8), "RGB").save(buffer, "PNG")
            self._sprite = buffer.getvalue()
        return self._sprite

    # -- one request -------------------------------------------------------------------------------
    def pixels(self, data: bytes) -> np.ndarray:
        """Decode an encoded image into the MNIST-style ``(784,)`` uint8 input.

        Parameters
        ----------
        data : bytes
            A PNG, JPEG, ... file's bytes.

        Returns
        -------
        numpy.ndarray
            ``(784,)`` uint8, bright digit on dark, from [`xpnet.images.load_image`][xpnet.images.load_image].

        Raises
        ------
        RequestError
            400 not an image, 413 more than ``max_pixels`` pixels, 422 nothing drawn
            ([`BlankImageError`][xpnet.images.errors.BlankImageError]) or several marks far apart
            ([`MultipleObjectsError`][xpnet.images.errors.MultipleObjectsError]).
        """
        from PIL import Image, UnidentifiedImageError

        try:  # the header only: the format and size, before any pixel is decoded
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
        except UnidentifiedImageError:
            raise RequestError(
                400,
                "the body is not an image (not PNG, JPEG or another format Pillow reads): send a PNG or JPEG",
                "not_an_image",
            ) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise RequestError(
                400, f"the image cannot be read ({_short(exc)}): send a PNG or JPEG", "not_an_image"
            ) from None
        if width * height > self.max_pixels:
            raise RequestError(
                413,
                f"the image is {width}×{height} pixels; the limit is "
                f"{self.max_pixels:,} pixels: send a smaller picture",
                "too_large",
            )
        try:
            pixels = _images.load_image(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise RequestError(413, f"the image is too large to decode ({exc})", "too_large") from None
        except _images.BlankImageError as exc:
            message = _user_message(exc)
            if "nothing drawn" not in message.lower():
                message = f"nothing drawn: {message}"
            raise RequestError(422, message, "nothing_drawn") from None
        except _images.MultipleObjectsError as exc:
            raise RequestError(422, _user_message(exc), "several_marks") from None
        except _images.ImageError as exc:
            raise RequestError(400, _user_message(exc), "not_an_image") from None
        pixels = np.asarray(pixels, dtype=np.uint8).reshape(-1)
        if not pixels.any():
            raise RequestError(422, "nothing drawn: the picture is blank (draw a digit first)", "nothing_drawn")
        return pixels

    def _model_inputs(self, pixels: np.ndarray):
        """``(1, 784)`` raw pixels → the model's input X on its backend, preprocessed exactly once.

        [`Checkpoint.model_inputs`][xpnet.model.checkpoint.Checkpoint.model_inputs], as ``xpnet predict``
        does: a model that carries its preprocessing applies it itself in ``validate_data``.
        """
        return self.model.validate_data(self.checkpoint.model_inputs(pixels.reshape(1, -1))).X

    def inspect(self, pixels: np.ndarray) -> dict:
        """Run the forward pass on one image and return what ``POST /api/predict`` answers.

        Parameters
        ----------
        pixels : numpy.ndarray
            ``(784,)`` raw pixels 0..255 (from [`pixels`][xpnet.serve.inference.Inspector.pixels]).

        Returns
        -------
        dict
            ``prediction`` (class index), ``label`` (its name), ``probabilities`` (one per
            class, ``A_L = softmax(Z_L)``), ``input`` (28×28 floats in [0, 1], pixels / 255:
            what was drawn as the network sees it, before any standardisation) and ``layers``
            (for every layer l: ``name`` ``"A<l>"``, ``shape``, ``activation``, ``equation``
            and ``values``, the activations A_l; the last is the softmax output).
        """
        model = self.model
        pixels = np.asarray(pixels).reshape(-1)
        X = self._model_inputs(pixels)
        with self._lock:
            Z_L, (inputs, _) = network.forward(inference_params(model), X, model.activation)
            P = network.softmax(Z_L)
            to_np = model.backend.to_numpy
            activations = [np.array(to_np(A)[0], dtype=np.float64) for A in inputs[1:]]
            probabilities = np.array(to_np(P)[0], dtype=np.float64)
        activations.append(probabilities)
        L = model.n_layers
        layers = [
            {
                "name": name,
                "shape": [int(a.shape[0])],
                "activation": "softmax" if l == L else model.activation,
                "equation": eq,
                "values": a.tolist(),
            }
            for l, (name, eq, a) in enumerate(zip(self.layer_names(), self.equations(), activations), start=1)
        ]
        k = int(np.argmax(probabilities))
        return {
            "prediction": k,
            "label": self.class_names[k],
            "probabilities": probabilities.tolist(),
            "input": np.round(pixels.reshape(_SIDE, _SIDE) / 255.0, 4).tolist(),
            "layers": layers,
        }

    def predict_bytes(self, data: bytes) -> dict:
        """[`pixels`][xpnet.serve.inference.Inspector.pixels] then [`inspect`][xpnet.serve.inference.Inspector.inspect]: an encoded image → the ``/api/predict`` answer."""
        return self.inspect(self.pixels(data))


def _user_message(exc: Exception) -> str:
    """xpnet.images' message without the name it gives an unnamed stream ("the image: ...")."""
    text = str(exc)
    return text[len("the image: ") :] if text.startswith("the image: ") else text


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
