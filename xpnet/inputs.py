"""What [`MLP`][xpnet.model.MLP] does with its inputs besides checking them
([`xpnet.validation`][xpnet.validation] does that): the [`ModelInputs`][xpnet.model.ModelInputs]
record, class weights folded into the sample weights, the warning for data that looks unscaled,
and Dask arrays (lazy inference; refused in training)."""

from __future__ import annotations

import logging
import math
import operator
from typing import Any, NamedTuple

from .backend import array_library, array_namespace
from .errors import ConfigError
from .validation import (
    InvalidInput,
    InvalidInputType,
    check_features,
    check_labels,
    check_sample_weight,
    check_targets,
    unsigned_integer,
)

__all__ = [
    "ModelInputs",
    "validate_inputs",
    "apply_class_weight",
    "warn_if_unscaled",
    "is_integer_array",
    "refuse_dask",
    "lazy_map",
]

log = logging.getLogger("xpnet.model")  # the model's warnings, under the model's name


class ModelInputs(NamedTuple):
    """Inputs checked and moved to the model's backend by [`MLP.validate_data`][xpnet.model.MLP.validate_data]."""

    X: Any
    """Features ``(m, n0)`` in the model's dtype, on its device."""
    y: Any
    """Integer labels ``(m,)`` (int64) on the model's device, or ``None``."""
    sample_weight: Any
    """Weights ``(m,)`` in the model's dtype on its device, or ``None``."""


# Re-exported by xpnet.model, where it is documented.
ModelInputs.__module__ = "xpnet.model"


def validate_inputs(model, X, y=None, sample_weight=None, names=("X", "y", "sample_weight")) -> ModelInputs:
    """[`MLP.validate_data`][xpnet.model.MLP.validate_data]: check the inputs against ``model``
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


def apply_class_weight(model, y, sample_weight, class_weight):
    """The training weights ``w_i · c_{y_i}``: [`MLP.fit`][xpnet.model.MLP.fit]'s ``class_weight``
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


from ._typing import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
