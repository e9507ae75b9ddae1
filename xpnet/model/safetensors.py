"""An [`MLP`][xpnet.model.mlp.MLP]'s weights as a ``.safetensors`` file that PyTorch loads as it is.

The file holds one tensor per parameter, named as in a ``torch.nn.Sequential`` of
``Linear`` layers with an activation module after each hidden one: layer l's weight
``W_l`` ``(n_l, n_{l−1})`` (the shape of ``torch.nn.Linear.weight``) is ``"{2(l−1)}.weight"``
and its bias ``b_l`` is ``"{2(l−1)}.bias"``, so ``0.weight, 0.bias, 2.weight, 2.bias, …``.
The tensors keep the model's dtype (float32 or float64).

The header's metadata (strings; the lists and objects as JSON) says the rest:

| key               | value                                                              |
| ----------------- | ------------------------------------------------------------------ |
| ``format``        | ``"xpnet.safetensors"``                                            |
| ``format_version``| ``"1"``                                                            |
| ``sizes``         | layer widths, e.g. ``"[784, 128, 10]"``                            |
| ``activation``    | ``relu``, ``leaky_relu`` (slope 0.01), ``tanh``, ``sigmoid`` or ``identity`` |
| ``loss``          | the head: ``cross_entropy`` (softmax), ``squared_error`` (identity), ``poisson`` (exp) |
| ``dtype``         | ``float32`` or ``float64``                                         |
| ``preprocessing`` | ``Preprocessing.get_config()`` as JSON, or ``"null"``              |
| ``dropout``       | the training dropout rates (inference uses none), JSON list        |
| ``label_smoothing`` | ε of the cross-entropy's smoothed training targets, e.g. ``"0.1"`` (absent in older files: 0) |
| ``init``, ``seed``| how the weights were first drawn                                   |
| ``classes``       | a scikit-learn classifier's ``classes_`` as a JSON list (only then) |
| ``xpnet_version`` | the version that wrote the file                                    |

[`xpnet.load`][xpnet.model.checkpoint.load] reads such a file back into an ``MLP`` with the same
weights, bit for bit ([`read_safetensors`][xpnet.model.safetensors.read_safetensors]).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .._lib.extras import require
from .._lib.fileio import atomic_write
from ..backend.environment import xpnet_version
from ..errors import CheckpointError, ConfigError

__all__ = ["FORMAT", "FORMAT_VERSION", "tensor_names", "metadata", "save_safetensors", "read_safetensors"]

FORMAT = "xpnet.safetensors"
"""The ``format`` value in the metadata of every file xpnet writes."""
FORMAT_VERSION = 1
"""The ``format_version`` this xpnet writes and reads."""


def tensor_names(layer: int) -> tuple[str, str]:
    """The names of layer ``layer``'s (1-based) weight and bias: ``("0.weight", "0.bias")``
    for layer 1, ``("2.weight", "2.bias")`` for layer 2, …"""
    i = 2 * (layer - 1)
    return f"{i}.weight", f"{i}.bias"


def metadata(model, classes: np.ndarray | None = None) -> dict[str, str]:
    """The header metadata of ``model`` (the table in the module docstring)."""
    cfg = model.get_config()
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "sizes": json.dumps(cfg["sizes"]),
        "activation": cfg["activation"],
        "loss": cfg["loss"],
        "dtype": cfg["dtype"],
        "preprocessing": json.dumps(cfg["preprocessing"]),
        "dropout": json.dumps(cfg["dropout"]),
        "label_smoothing": repr(float(cfg.get("label_smoothing", 0.0))),
        "init": cfg["init"],
        "seed": str(cfg["seed"]),
        "xpnet_version": xpnet_version(),
    }
    if classes is not None:
        meta["classes"] = json.dumps(np.asarray(classes).tolist())
    return meta


def save_safetensors(model, path: str | os.PathLike, *, classes: np.ndarray | None = None) -> Path:
    """Write ``model``'s weights and [`metadata`][xpnet.model.safetensors.metadata] to ``path``, atomically."""
    st = require("safetensors.numpy", "exporting to safetensors")
    params = model.numpy_params(averaged=True)
    tensors = {}
    for l in range(1, model.n_layers + 1):
        weight, bias = tensor_names(l)
        tensors[weight] = np.ascontiguousarray(params[f"W{l}"])
        tensors[bias] = np.ascontiguousarray(params[f"b{l}"])
    data = st.save(tensors, metadata=metadata(model, classes))
    path = Path(path)
    with atomic_write(path, "wb") as stream:
        stream.write(data)
    return path


def read_safetensors(path: str | os.PathLike) -> tuple[dict, dict | None, dict, dict]:
    """A ``.safetensors`` file written by [`save_safetensors`][xpnet.model.safetensors.save_safetensors],
    checked and taken apart: what [`load_checkpoint`][xpnet.model.checkpoint.load_checkpoint]
    builds the model from.

    Returns
    -------
    cfg : dict
        The model's settings (``sizes``, ``activation``, ``loss``, ``dtype``, ``dropout``,
        ``init``, ``seed``).
    preprocessing : dict or None
        ``Preprocessing.get_config()``, or None.
    params : dict
        ``{"W1": (n1, n0), "b1": (n1,), ...}``, NumPy arrays as stored.
    manifest : dict
        What the checkpoint's manifest would hold: the settings, the preprocessing,
        ``{"dataset": {"class_names": classes}}`` when the file has classes (no optimizer
        state, no history), and the metadata as stored.

    Raises
    ------
    CheckpointError
        the file is missing, not a safetensors file, not written by xpnet, or its tensors do
        not fit its layer sizes.
    ExportExtraMissing
        the ``safetensors`` package is not installed.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file" if not path.exists() else f"{path}: is not a file")
    require("safetensors", "reading a .safetensors file")
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="np") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own SafetensorError and others
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: a safetensors file not written by xpnet (no format={FORMAT!r} in its metadata); "
            "xpnet.load reads the files `xpnet export` writes"
        )
    if meta.get("format_version") != str(FORMAT_VERSION):
        raise CheckpointError(
            f"{path}: unknown xpnet safetensors format version {meta.get('format_version')!r} "
            f"(this xpnet reads version {FORMAT_VERSION})"
        )
    try:
        cfg = {
            "sizes": [int(n) for n in json.loads(meta["sizes"])],
            "activation": meta["activation"],
            "loss": meta["loss"],
            "dtype": meta["dtype"],
            "dropout": json.loads(meta.get("dropout", "0")),
            "label_smoothing": float(meta.get("label_smoothing", "0")),
            "init": meta.get("init", "he"),
            "seed": int(meta.get("seed", "0")),
        }
        preprocessing = json.loads(meta.get("preprocessing", "null"))
        sizes = cfg["sizes"]
        if len(sizes) < 2:
            raise ConfigError(f"sizes {sizes} name fewer than two layers")
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: the metadata's model settings are invalid ({exc})") from None
    params = {}
    for l in range(1, len(sizes)):
        for name, key, want in zip((f"W{l}", f"b{l}"), tensor_names(l), ((sizes[l], sizes[l - 1]), (sizes[l],))):
            if key not in tensors:
                raise CheckpointError(f"{path}: tensor {key!r} ({name}) is missing")
            if tuple(tensors[key].shape) != want or tensors[key].dtype.kind != "f":
                raise CheckpointError(
                    f"{path}: tensor {key!r} ({name}) is {tensors[key].dtype}{list(tensors[key].shape)}, "
                    f"but layer sizes {sizes} need a float {list(want)}"
                )
            params[name] = tensors[key]
    extra = sorted(set(tensors) - {k for l in range(1, len(sizes)) for k in tensor_names(l)})
    if extra:
        raise CheckpointError(f"{path}: unexpected tensors {extra} for layer sizes {sizes}")
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": cfg,
        "preprocessing": preprocessing,
        "dataset": {"class_names": [str(c) for c in json.loads(meta["classes"])]} if "classes" in meta else {},
        "versions": {"xpnet": meta.get("xpnet_version")},
        "metadata": meta,
    }
    return cfg, preprocessing, params, manifest


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)
