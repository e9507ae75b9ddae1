"""Host-side preprocessing: scaling, standardizing, flattening, splitting.

These work on NumPy arrays before the data is moved to the compute device.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import ConfigError, InvalidInput, InvalidInputType

__all__ = ["scale", "standardize", "flatten", "train_val_split"]


def scale(x: np.ndarray, dtype: str | np.dtype = "float32") -> np.ndarray:
    """Map integer pixels 0..255 to floats in [0, 1] (``x / 255``).

    Parameters
    ----------
    x : numpy.ndarray
        Integer pixel values 0..255, any shape (e.g. ``(N, 784)`` uint8).
    dtype : str or numpy.dtype
        Floating-point result type, ``"float32"`` (default) or ``"float64"``.

    Returns
    -------
    numpy.ndarray
        A new array of the same shape and the given dtype.

    Raises
    ------
    TypeError
        If ``x`` is not an integer array (scaling twice is a common bug) or
        ``dtype`` is not a floating-point type.
    ValueError
        If values lie outside 0..255.
    """
    x = np.asarray(x)
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise InvalidInputType(f"scale() needs a floating-point dtype, got {dtype}")
    if x.dtype.kind not in "iu":
        raise InvalidInputType(f"scale() expects integer pixels 0..255, got dtype {x.dtype} (already scaled?)")
    if x.dtype != np.uint8 and x.size and (x.min() < 0 or x.max() > 255):
        raise InvalidInput(f"scale() expects pixels in 0..255, got values from {x.min()} to {x.max()}")
    out = x.astype(dtype)
    out /= dtype.type(255)
    return out


def standardize(
    x: np.ndarray,
    mean: float | np.ndarray | None = None,
    std: float | np.ndarray | None = None,
    *,
    per_feature: bool = False,
) -> tuple[np.ndarray, float | np.ndarray, float | np.ndarray]:
    """Shift and rescale to zero mean and unit variance.

    Compute the statistics on the training data, store them (e.g. in a
    checkpoint), and pass them back in to transform validation or test data
    identically.

    Parameters
    ----------
    x : numpy.ndarray
        Shape ``(N, D)``, usually the output of [`scale`][xpnet.datasets.preprocess.scale]. Integer input
        is converted to float32.
    mean, std : float or numpy.ndarray, optional
        Statistics to use; computed from ``x`` when ``None``. Give both or
        neither.
    per_feature : bool
        When computing: one mean and std per column (shape ``(D,)``) instead
        of a single scalar over all values. Columns with zero spread get std
        1 so they map to 0 instead of dividing by zero.

    Returns
    -------
    z : numpy.ndarray
        ``(x - mean) / std``, same shape as ``x``, float (``x``'s float
        dtype, or float32).
    mean : float or numpy.ndarray
        The mean used (a float, or shape ``(D,)`` if ``per_feature``).
    std : float or numpy.ndarray
        The standard deviation used.

    Raises
    ------
    ValueError
        If only one of ``mean`` and ``std`` is given, or ``std`` has a
        non-positive entry.
    """
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    if (mean is None) != (std is None):
        raise InvalidInput("standardize() needs both mean and std, or neither")
    if mean is None or std is None:  # both None (checked just above)
        if per_feature:
            mean = x.mean(axis=0, dtype=np.float64)
            feature_std = x.std(axis=0, dtype=np.float64)
            feature_std[feature_std == 0] = 1.0
            std = feature_std
        else:
            mean = float(x.mean(dtype=np.float64))
            std = float(x.std(dtype=np.float64)) or 1.0
    if np.any(np.asarray(std) <= 0):
        raise InvalidInput("standardize() needs std > 0")
    z = (x.astype(dtype) - np.asarray(mean, dtype=dtype)) / np.asarray(std, dtype=dtype)
    return z, mean, std


def flatten(x: np.ndarray) -> np.ndarray:
    """Flatten images to one row each.

    Parameters
    ----------
    x : numpy.ndarray
        Shape ``(N, H, W)`` (or ``(N, H, W, C)``, or already ``(N, D)``).

    Returns
    -------
    numpy.ndarray
        Shape ``(N, H * W)`` (``(N, D)`` unchanged); a view when possible.
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise InvalidInput(f"flatten() expects a batch of images with shape (N, ...), got {x.shape}")
    return x.reshape(len(x), -1)


def train_val_split(
    x: np.ndarray,
    y: np.ndarray,
    val_fraction: float,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split off a random validation set, reproducibly.

    The validation indices are the first ``round(N * val_fraction)`` of
    ``numpy.random.default_rng(seed).permutation(N)``; both parts keep the
    original order of their samples.

    Parameters
    ----------
    x : numpy.ndarray
        Samples, shape ``(N, ...)``.
    y : numpy.ndarray
        Labels, shape ``(N,)``.
    val_fraction : float
        Fraction of samples for validation, ``0 <= val_fraction < 1``. With
        0 the validation part is empty and ``x``, ``y`` are returned as is.
    seed : int or None
        Seed of the permutation; the same seed gives the same split.
        ``None`` gives a different split each time.

    Returns
    -------
    x_train, y_train, x_val, y_val : numpy.ndarray
        Shapes ``(N - M, ...)``, ``(N - M,)``, ``(M, ...)``, ``(M,)`` with
        ``M = round(N * val_fraction)``.

    Raises
    ------
    ValueError
        If ``val_fraction`` is outside [0, 1), ``x`` and ``y`` differ in
        length, or a positive fraction leaves either part empty.
    """
    x, y = np.asarray(x), np.asarray(y)
    if not isinstance(val_fraction, numbers.Real) or not 0 <= val_fraction < 1:
        raise ConfigError(f"val_fraction must be a number with 0 <= val_fraction < 1, got {val_fraction!r}")
    if len(x) != len(y):
        raise InvalidInput(f"x has {len(x)} samples but y has {len(y)}")
    if val_fraction == 0:
        return x, y, x[:0], y[:0]
    n = len(x)
    n_val = round(n * val_fraction)
    if n_val == 0 or n_val == n:
        raise InvalidInput(
            f"val_fraction={val_fraction} of {n} samples gives {n_val} validation and {n - n_val} "
            "training samples; both parts must be non-empty"
        )
    order = np.random.default_rng(seed).permutation(n)
    val_index, train_index = np.sort(order[:n_val]), np.sort(order[n_val:])
    return x[train_index], y[train_index], x[val_index], y[val_index]
