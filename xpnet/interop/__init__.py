"""A trained model in the formats other tools read: ONNX and safetensors (``xpnet.export``).

[`export`][xpnet.interop.export] writes a model to a file whose format follows the file's
suffix:

| suffix          | what is written                                                               | module |
| --------------- | ----------------------------------------------------------------------------- | ------ |
| ``.onnx``       | the whole inference path as an ONNX graph: input transform, layers, head       | [`xpnet.interop.onnx`][xpnet.interop.onnx] |
| ``.safetensors``| the weights under ``torch.nn.Sequential`` names, the settings as metadata      | [`xpnet.model.safetensors`][xpnet.model.safetensors] |

The model may be an [`MLP`][xpnet.model.mlp.MLP], the path of a checkpoint written by
[`xpnet.save`][xpnet.model.checkpoint.save] or ``xpnet train``, or a fitted ``xpnet.sklearn``
estimator. The libraries that write the files are optional (``pip install "xpnet[export]"``);
importing this package imports neither of them. docs/export.md describes the files.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._lib.extras import EXTRA_HINT
from ..errors import ExportError, ExportExtraMissing, InvalidInputType

__all__ = ["export", "ExportError", "ExportExtraMissing", "SUFFIXES", "EXTRA_HINT", "resolve_model"]

SUFFIXES = {".onnx": "ONNX", ".safetensors": "safetensors"}
"""The suffixes [`export`][xpnet.interop.export] knows, and the format each one means."""


def resolve_model(obj):
    """The [`MLP`][xpnet.model.mlp.MLP] behind ``obj`` and the class labels that go with it.

    Parameters
    ----------
    obj : MLP, str, os.PathLike or fitted xpnet.sklearn estimator
        A model; the path of a checkpoint (``.npz``, or a ``.safetensors`` file written by
        [`export`][xpnet.interop.export]); or an ``xpnet.sklearn.MLPClassifier`` /
        ``MLPRegressor`` after ``fit``.

    Returns
    -------
    model : MLP
    classes : numpy.ndarray or None
        A scikit-learn classifier's ``classes_`` (its labels are those values), else None
        (labels are the class indices 0..K−1).

    Raises
    ------
    CheckpointError
        the path is not a readable checkpoint.
    ExportError
        an estimator that is not fitted.
    InvalidInputType
        anything else.
    """
    from ..model import MLP

    if isinstance(obj, MLP):
        return obj, None
    if isinstance(obj, (str, os.PathLike)):
        from ..model.checkpoint import load_checkpoint

        return load_checkpoint(obj, backend="cpu").model, None
    if hasattr(obj, "get_params") and hasattr(obj, "fit"):  # a scikit-learn estimator (duck-typed)
        model = getattr(obj, "model_", None)
        if not isinstance(model, MLP):
            raise ExportError(
                f"this {type(obj).__name__} is not fitted (or is not an xpnet.sklearn estimator): "
                "call fit before exporting it"
            )
        classes = getattr(obj, "classes_", None)
        return model, None if classes is None else _host(classes)
    raise InvalidInputType(
        f"export needs an xpnet.MLP, a checkpoint path, or a fitted xpnet.sklearn estimator; got {type(obj).__name__}"
    )


def _host(a):
    import numpy as np

    return np.asarray(a)


def export(obj, path: str | os.PathLike, *, input_dtype: str | None = None) -> Path:
    """Write ``obj`` to ``path`` in the format of its suffix: ``.onnx`` or ``.safetensors``.

    ``xpnet.export(model, "model.onnx")``; ``xpnet.export("runs/mnist/model.npz", "mnist.safetensors")``.

    Parameters
    ----------
    obj : MLP, str, os.PathLike or fitted xpnet.sklearn estimator
        What to export ([`resolve_model`][xpnet.interop.resolve_model]).
    path : str or os.PathLike
        The file to write. Its directory must exist. The write is atomic: a temporary file in
        the same directory moved onto ``path``, so a failure never leaves half a file.
    input_dtype : {"uint8", "float32", "float64"} or None
        ONNX only: the element type of the graph's input (``None``: the model's dtype). With
        ``"uint8"`` raw pixels go in as they are, and a ``Cast`` node turns them into the
        model's dtype first, as [`MLP.predict`][xpnet.model.mlp.MLP.predict] does.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ExportError
        an unknown suffix, a missing directory, an unfitted estimator, or ``input_dtype`` with
        a format that has no graph input.
    ExportExtraMissing
        the optional library of the format is not installed.
    CheckpointError
        ``obj`` is a path that is not a readable checkpoint.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        known = ", ".join(f"{s} ({f})" for s, f in SUFFIXES.items())
        raise ExportError(f"{path}: cannot tell the format from the suffix {path.suffix or '(none)'!r}; use {known}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise ExportError(f"{path}: the directory {parent} {what}; create it first")
    if path.is_dir():
        raise ExportError(f"{path}: is a directory; give a file name ending in {suffix}")
    if suffix == ".safetensors" and input_dtype is not None:
        raise ExportError(
            "input_dtype (--input-dtype) applies to ONNX graphs only; a safetensors file holds weights, not a graph"
        )
    model, classes = resolve_model(obj)
    if suffix == ".onnx":
        from .onnx import save_onnx

        return save_onnx(model, path, input_dtype=input_dtype, classes=classes)
    from ..model.safetensors import save_safetensors

    return save_safetensors(model, path, classes=classes)


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
