"""Every check of a model's inputs, in one place, and what the model does with them.

[`validate_inputs`][xpnet.model.inputs.validate_inputs] is the one pass: it takes what a user
gave ``fit``, ``predict`` or ``evaluate`` down the layers once — to the host or the array's own
library, through the model's [`Preprocessing`][xpnet.model.preprocessing.Preprocessing], checked,
then onto the model's device — and returns a [`ModelInputs`][xpnet.model.inputs.ModelInputs].

The checks ([`check_features`][xpnet.model.inputs.check_features], ``check_labels``,
``check_targets``, ``check_sample_weight``) say what is wrong and what was expected. They run on
whatever array they are given, through its own namespace: the model calls them on host (NumPy)
data *before* it is copied to the device, so bad values are caught where they are cheap to
report (CuPy, for one, silently wraps out-of-range integer indices on the GPU). Arrays that
already live on the device are checked there, with one synchronisation per call.

Besides: class weights folded into the sample weights, the warning for data that looks
unscaled, and Dask arrays (lazy inference; refused in training).
"""

from __future__ import annotations

import logging
import math
import operator
from typing import Any, NamedTuple

from ..backend import array_library, array_namespace
from ..errors import ConfigError, InvalidInput, InvalidInputType

__all__ = [
    "ModelInputs",
    "check_features",
    "check_labels",
    "check_targets",
    "check_sample_weight",
    "unsigned_integer",
    "InvalidInput",
    "InvalidInputType",
    "validate_inputs",
    "training_inputs",
    "apply_class_weight",
    "warn_if_unscaled",
    "is_integer_array",
    "refuse_dask",
    "lazy_map",
]

log = logging.getLogger("xpnet.model")  # the model's warnings, under the model's name


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


class ModelInputs(NamedTuple):
    """Inputs checked and moved to the model's backend by [`MLP.validate_data`][xpnet.model.mlp.MLP.validate_data]."""

    X: Any
    """Features ``(m, n0)`` in the model's dtype, on its device."""
    y: Any
    """Integer labels ``(m,)`` (int64) on the model's device, or ``None``."""
    sample_weight: Any
    """Weights ``(m,)`` in the model's dtype on its device, or ``None``."""


# Re-exported by xpnet.model, the path of earlier versions.
ModelInputs.__module__ = "xpnet.model"


def validate_inputs(model, X, y=None, sample_weight=None, names=("X", "y", "sample_weight")) -> ModelInputs:
    """[`MLP.validate_data`][xpnet.model.mlp.MLP.validate_data]: check the inputs against ``model``
    (its preprocessing, input width, head and outputs) and move them to its backend."""
    X = model.backend.host_or_native(X)
    if model.preprocessing is not None:
        X = model.preprocessing.transform(X, model.dtype_name)
    check_features(X, model.sizes[0], names[0])
    X = model.backend.asarray(X, model.dtype_name)
    n = X.shape[0]
    if y is not None and not model.head.classifies:
        y = model.backend.host_or_native(y)
        check_targets(y, n, model.sizes[-1], names[1])
        y = model.backend.asarray(y, model.dtype_name)
        if model.head.nonnegative_targets and n and float(model.backend.xp.min(y)) < 0:
            raise InvalidInput(
                f"{names[1]} has negative values, which the {model.head.name!r} "
                "loss does not allow (it models counts and rates >= 0)"
            )
        if y.ndim == 1:
            y = model.backend.xp.reshape(y, (n, 1))
    elif y is not None:
        y = model.backend.host_or_native(y)
        if model.backend.is_native(y) and unsigned_integer(y):
            # Once, here: PyTorch implements few operations (min, max, ...) on uint16-64.
            y = model.backend.xp.astype(y, model.backend.index_dtype)
        check_labels(y, n, model.sizes[-1], names[1])
        y = model.backend.asarray(y, model.backend.index_dtype)
    if sample_weight is not None:
        if isinstance(sample_weight, (int, float)):
            sample_weight = [float(sample_weight)] * n
        sample_weight = model.backend.host_or_native(sample_weight)
        check_sample_weight(sample_weight, n, names[2])
        sample_weight = model.backend.asarray(sample_weight, model.dtype_name)
    return ModelInputs(X, y, sample_weight)


def training_inputs(model, X, y, sample_weight=None, class_weight=None) -> ModelInputs:
    """[`MLP.fit`][xpnet.model.mlp.MLP.fit]'s inputs, checked in one pass down the layers.

    Dask arrays are refused (naming the route that trains on them); X is taken to the host or
    its own library once, noted when it holds raw integers, then
    [`validate_inputs`][xpnet.model.inputs.validate_inputs] transforms, checks and moves
    everything to the model's device; ``class_weight`` is folded into the sample weights
    ([`apply_class_weight`][xpnet.model.inputs.apply_class_weight]), and a classifier's X that
    looks unscaled gets a warning.
    """
    refuse_dask(X, y, sample_weight)
    raw_integers = False
    if model.preprocessing is None:
        X = model.backend.host_or_native(X)
        raw_integers = is_integer_array(X)
    X, y, w = validate_inputs(model, X, y, sample_weight)
    w = apply_class_weight(model, y, w, class_weight)
    if model.preprocessing is None and model.head.classifies:
        warn_if_unscaled(X, raw_integers)
    return ModelInputs(X, y, w)


def apply_class_weight(model, y, sample_weight, class_weight):
    """The training weights ``w_i · c_{y_i}``: [`MLP.fit`][xpnet.model.mlp.MLP.fit]'s ``class_weight``
    folded into its ``sample_weight``.

    Parameters
    ----------
    model : MLP
        A classifier (class weights mean nothing to a regression head).
    y : array
        Labels ``(m,)`` on the model's device, as ``validate_inputs``
        returns them.
    sample_weight : array or None
        Weights ``w`` ``(m,)`` on the model's device (None: all 1).
    class_weight : None, "balanced", dict or array_like
        ``None``: ``sample_weight`` unchanged. ``"balanced"``: ``c_k = m / (K · m_k)``, with
        ``m_k`` the number of samples of class k in ``y`` and ``K`` the number of classes that
        occur in ``y`` (scikit-learn's ``n_samples / (n_classes · bincount(y))``; the counts
        ignore ``sample_weight``, as scikit-learn's ``compute_sample_weight`` does); classes
        absent from ``y`` get 0, having no samples. A dict ``{class index: weight}``: the
        classes it leaves out weigh 1. Array-like: ``n_classes`` weights (host, or native to
        the model's backend). Weights must be finite and ``>= 0``.

    Returns
    -------
    array or None
        ``(m,)`` weights in the model's dtype on its device (``sample_weight`` itself when
        ``class_weight`` is None).

    Raises
    ------
    ConfigError
        A regression head, or an unknown string.
    InvalidInput
        A dict key that is not a class index ``0..n_classes-1``, a weight that is negative or
        not finite, the wrong number of weights, or weights that leave every sample at 0.
    """
    if class_weight is None:
        return sample_weight
    if not model.head.classifies:
        raise ConfigError(
            f"class_weight needs a classifier; this model's loss is {model.head.name!r} (a regressor): "
            "weigh its samples with sample_weight"
        )
    backend, k = model.backend, model.sizes[-1]
    xp = backend.xp
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ConfigError(
                f"class_weight must be None, 'balanced', a dict {{class index: weight}} or {k} weights; "
                f"got {class_weight!r}"
            )
        values, counts = xp.unique_counts(y)  # the classes present: at most k numbers, read once
        values, counts = backend.to_numpy(xp.stack([values, xp.astype(counts, values.dtype)])).tolist()
        c = [0.0] * k
        for v, count in zip(values, counts):
            c[int(v)] = y.shape[0] / (len(values) * count)
        weights = backend.asarray(c, model.dtype_name)
    elif isinstance(class_weight, dict):
        c = [1.0] * k
        for key, value in class_weight.items():
            try:
                index = operator.index(key)
            except TypeError:
                index = -1
            if not 0 <= index < k:
                raise InvalidInput(
                    f"class_weight has a weight for class {key!r}, which this network does not have: "
                    f"its classes are the integers 0..{k - 1}"
                )
            try:
                c[index] = float(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"class_weight[{key!r}] must be a number, got {value!r}") from None
            if not (math.isfinite(c[index]) and c[index] >= 0):
                raise InvalidInput(f"class_weight[{key!r}] must be finite and >= 0, got {value!r}")
        weights = backend.asarray(c, model.dtype_name)
    else:
        weights = backend.host_or_native(class_weight)
        if weights.ndim != 1 or weights.shape[0] != k:
            raise InvalidInput(
                f"class_weight must hold one weight per class ({k}), got shape {tuple(weights.shape)}; "
                "or pass a dict {class index: weight}, or 'balanced'"
            )
        check_sample_weight(weights, k, "class_weight")
        weights = backend.asarray(weights, model.dtype_name)
    w = xp.take(weights, y, axis=0)
    if sample_weight is not None:
        w = w * sample_weight
    if y.shape[0] and not float(xp.max(w)) > 0:
        raise InvalidInput("class_weight (with sample_weight) leaves every sample at weight 0: nothing to train on")
    return w


_UNSCALED_LIMIT = 50.0  # |x| beyond this: not scaled to [0, 1] nor standardised


def is_integer_array(X) -> bool:
    """True when ``X`` is an array of an integer dtype (raw pixels, say)."""
    try:
        xp = array_namespace(X)
        return bool(xp.isdtype(X.dtype, "integral"))
    except (TypeError, AttributeError):
        return False


def warn_if_unscaled(X, integers: bool) -> None:
    """Log a warning when ``fit``'s X looks like raw data (integers, or |x| > 50)."""
    if integers:
        why = "it holds integers, like raw 0-255 pixels"
    else:
        xp = array_namespace(X)
        peak = max(float(xp.max(X)), -float(xp.min(X)))  # max |x|, without a temporary |X|
        if not peak > _UNSCALED_LIMIT:
            return
        why = f"its values reach {peak:g} in magnitude"
    log.warning(
        "X looks unscaled (%s); the network trains best on inputs in [0, 1] or standardised. "
        "Scale it first (xpnet.datasets.scale(X) for 0-255 pixels, xpnet.datasets.standardize "
        "for other features), or let the model do it in fit and predict alike: "
        "MLP(..., preprocessing=xpnet.Preprocessing.fit(X_train_raw)).",
        why,
    )


def _predict_block(block, model, method):
    """One Dask chunk through ``model.<method>``, back as a host array (Dask's blocks are NumPy)."""
    return model.backend.to_numpy(getattr(model, method)(block))


def refuse_dask(X, y, sample_weight) -> None:
    """Raise [`InvalidInputType`][xpnet.errors.InvalidInputType] when a training input is a Dask array."""
    for name, a in (("X", X), ("y", y), ("sample_weight", sample_weight)):
        if array_library(a) == "dask":
            raise InvalidInputType(
                f"training on Dask arrays is not supported ({name} is a dask array): every step "
                "would add its tasks to the graph, which then grows without bound. Train on "
                f"NumPy or device arrays ({name}.compute(), or a sample that fits in memory), or "
                "out of core, block by block: dask_ml.wrappers.Incremental(xpnet.sklearn.MLPClassifier(...))"
                ".fit(X, y, classes=...) (or MLPRegressor; docs/backends.md, 'Training on Dask'); "
                "predict, predict_proba and decision_function do accept Dask arrays, lazily"
            )


def lazy_map(model, X, method: str):
    """``model.<method>`` mapped over the row chunks of the Dask array X, without computing."""
    if X.ndim != 2:
        raise InvalidInput(f"X must be 2-D (samples × features), got shape {tuple(X.shape)}")
    if model.preprocessing is None and X.shape[1] != model.sizes[0]:
        raise InvalidInput(
            f"X has {X.shape[1]} features per sample but the network's input layer "
            f"has {model.sizes[0]}; expected shape (m, {model.sizes[0]})"
        )
    from dask.array.utils import meta_from_array  # only here: Dask is an optional extra

    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})  # every block holds whole samples
    if method == "predict":
        return X.map_blocks(
            _predict_block,
            model,
            method,
            drop_axis=1,
            dtype="int64",
            chunks=(X.chunks[0],),
            meta=meta_from_array(X, ndim=1, dtype="int64"),
        )
    k = model.sizes[-1]
    return X.map_blocks(
        _predict_block,
        model,
        method,
        dtype=model.dtype_name,
        chunks=(X.chunks[0], (k,)),
        meta=meta_from_array(X, ndim=2, dtype=model.dtype_name),
    )


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
