"""Input checks with messages that say what is wrong and what was expected.

They run on whatever array they are given, through its own namespace: the model calls them on
host (NumPy) data *before* it is copied to the device, so bad values are caught where they are
cheap to report (CuPy, for one, silently wraps out-of-range integer indices on the GPU). Arrays
that already live on the device are checked there, with one synchronisation per call.
"""

from __future__ import annotations

from .backend import array_namespace
from .errors import InvalidInput, InvalidInputType  # defined there, re-exported here

__all__ = [
    "check_features",
    "check_labels",
    "check_targets",
    "check_sample_weight",
    "unsigned_integer",
    "InvalidInput",
    "InvalidInputType",
]


def _kind(xp, dtype) -> str:
    for kind in ("bool", "signed integer", "unsigned integer", "real floating"):
        if xp.isdtype(dtype, kind):
            return kind
    return "other"


def _namespace_and_kind(a, name: str, what: str):
    """``a``'s namespace and the kind of its dtype, or a clear error when ``a`` is no array."""
    try:
        xp = array_namespace(a)
        return xp, _kind(xp, a.dtype)
    except TypeError:
        raise InvalidInputType(f"{name} must be an array of {what}, got {type(a).__name__}") from None


def check_features(X, n_features: int, name: str = "X") -> None:
    """Check that ``X`` is a finite 2-D numeric array of shape ``(m, n_features)`` with m ≥ 1."""
    xp, kind = _namespace_and_kind(X, name, "numbers")
    if X.ndim != 2:
        hint = ""
        if X.ndim >= 3:
            hint = f"; flatten images first, e.g. {name}.reshape({name}.shape[0], -1)"
        elif X.ndim == 1:
            hint = f"; for a single sample use {name}.reshape(1, -1)"
        raise InvalidInput(f"{name} must be 2-D (samples × features), got shape {tuple(X.shape)}{hint}")
    if X.shape[1] != n_features:
        raise InvalidInput(
            f"{name} has {X.shape[1]} features per sample but the network's input layer has "
            f"{n_features}; expected shape (m, {n_features}), got {tuple(X.shape)}"
        )
    if X.shape[0] == 0:
        raise InvalidInput(f"{name} is empty: it has no samples")
    if kind in ("bool", "other"):
        raise InvalidInputType(f"{name} must hold real numbers, got dtype {X.dtype}")
    # A finite sum means every entry is finite (a NaN or an infinity would carry into it), and
    # costs one pass and no temporary; only a sum that is not finite (bad values, or an overflow
    # of large finite ones) needs the entry-wise check.
    if kind == "real floating" and not bool(xp.isfinite(xp.sum(X))) and not bool(xp.all(xp.isfinite(X))):
        bad_rows = xp.any(~xp.isfinite(X), axis=1)
        n_bad = int(xp.count_nonzero(~xp.isfinite(X)))
        first = int(xp.argmax(xp.astype(bad_rows, xp.int8)))
        raise InvalidInput(
            f"{name} contains {n_bad} NaN or infinite value(s), in "
            f"{int(xp.count_nonzero(bad_rows))} sample(s) (first: row {first}); "
            "clean or impute them before training"
        )


def unsigned_integer(a) -> bool:
    """True when ``a`` is an array of an unsigned integer dtype."""
    xp = array_namespace(a)
    return _kind(xp, a.dtype) == "unsigned integer"


def check_labels(y, n_samples: int, n_classes: int, name: str = "y") -> None:
    """Check that ``y`` holds ``n_samples`` integer class labels in ``[0, n_classes)``."""
    xp, kind = _namespace_and_kind(y, name, "integer labels")
    if y.ndim != 1:
        hint = ""
        if y.ndim == 2 and y.shape[-1] == n_classes:
            hint = f"; it looks one-hot encoded: pass the class indices, e.g. {name}.argmax(axis=1)"
        raise InvalidInput(f"{name} must be 1-D (one label per sample), got shape {tuple(y.shape)}{hint}")
    if y.shape[0] != n_samples:
        raise InvalidInput(f"{name} has {y.shape[0]} labels but X has {n_samples} samples")
    if kind not in ("signed integer", "unsigned integer"):
        raise InvalidInputType(
            f"{name} must hold integer class labels 0..{n_classes - 1}, got dtype {y.dtype}; "
            f"convert with {name}.astype(int) if the values are whole numbers"
        )
    lo, hi = int(xp.min(y)), int(xp.max(y))
    if lo < 0 or hi >= n_classes:
        raise InvalidInput(
            f"{name} has labels in [{lo}, {hi}] but the network has {n_classes} output classes; "
            f"labels must be in [0, {n_classes - 1}]"
        )


def check_targets(y, n_samples: int, n_outputs: int, name: str = "y") -> None:
    """Check that ``y`` holds a regressor's finite real targets: ``(n_samples,)`` for one
    output, or ``(n_samples, n_outputs)``."""
    xp, kind = _namespace_and_kind(y, name, "real targets")
    if y.ndim not in (1, 2) or (y.ndim == 1 and n_outputs != 1) or (y.ndim == 2 and y.shape[1] != n_outputs):
        want = f"({n_samples},) or ({n_samples}, 1)" if n_outputs == 1 else f"({n_samples}, {n_outputs})"
        raise InvalidInput(
            f"{name} must have shape {want} for a network with {n_outputs} "
            f"output{'s' if n_outputs > 1 else ''}, got shape {tuple(y.shape)}"
        )
    if y.shape[0] != n_samples:
        raise InvalidInput(f"{name} has {y.shape[0]} targets but X has {n_samples} samples")
    if kind in ("bool", "other"):
        raise InvalidInputType(f"{name} must hold real numbers, got dtype {y.dtype}")
    if kind == "real floating" and not bool(xp.all(xp.isfinite(y))):
        raise InvalidInput(f"{name} contains NaN or infinite values")


def check_sample_weight(w, n_samples: int, name: str = "sample_weight") -> None:
    """Check that ``w`` holds ``n_samples`` finite, non-negative weights, not all zero."""
    xp, kind = _namespace_and_kind(w, name, "numbers")
    if w.ndim != 1:
        raise InvalidInput(f"{name} must be 1-D (one weight per sample), got shape {tuple(w.shape)}")
    if w.shape[0] != n_samples:
        raise InvalidInput(f"{name} has {w.shape[0]} weights but X has {n_samples} samples")
    if kind in ("bool", "other"):
        raise InvalidInputType(f"{name} must hold real numbers, got dtype {w.dtype}")
    if kind == "real floating" and not bool(xp.all(xp.isfinite(w))):
        raise InvalidInput(f"{name} contains NaN or infinite values")
    if n_samples and float(xp.min(w)) < 0:
        raise InvalidInput(f"{name} must be >= 0, got a minimum of {float(xp.min(w))}")
    if n_samples and not float(xp.max(w)) > 0:
        raise InvalidInput(f"{name} is all zero: at least one sample needs a positive weight")


from ._typing import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
