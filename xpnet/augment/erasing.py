"""Random erasing of the training images: one blank rectangle per image (Zhong et al. 2017).

Each epoch every training image is, with probability ``p``, given one rectangle of blank
pixels, as torchvision's ``RandomErasing``: its area is a fraction ``a ∈ scale`` of the image's
(uniform), its aspect ratio ``r = h/w`` log-uniform in ``ratio``, its height
``h = round(√(a·side²·r))`` and width ``w = round(√(a·side²/r))``; an attempt whose rectangle
does not fit (``h ≥ side`` or ``w ≥ side``) is drawn again, at most 10 times (then the image is
left whole), and a fitting one is placed uniformly: top row ``y₀ ∈ {0 … side − h}``, left
column ``x₀ ∈ {0 … side − w}``. Its pixels become ``fill``, the value of a blank pixel in the
features' units: 0 for raw pixels, and for standardised features what a raw 0 pixel becomes.

Two implementations of the same erasing:

* [`random_erasing`][xpnet.augment.erasing.random_erasing]: images on the host with NumPy (the
  reference).
* [`RandomErasing`][xpnet.augment.erasing.RandomErasing]: inside the training loop on the model's
  device, as part of the batch's gather, with standard array operations only
  (``MLP.fit(..., augment=RandomErasing(...))``; ``xpnet train --erase P``). With ``base`` (a
  [`RandomAffine`][xpnet.augment.affine.RandomAffine] or
  [`RandomShifts`][xpnet.augment.shifts.RandomShifts]) the batch is first gathered and distorted
  by it, then erased: both in the same per-batch pipeline, and in the same compiled JAX step.

The rectangles (four small whole numbers per image) are drawn on the host once per epoch from
``numpy.random.default_rng((seed, epoch, 4))`` (stream 4: shifts use 1, dropout 2, affine
distortions 3, elastic fields 5), so they depend only on the seed and the
epoch: the same on every backend, and a resumed run repeats them. Per batch the device builds
each image's row and column masks (``(m, side)`` each, four comparisons), their outer product
and one ``where``: two operations on the ``m × n`` batch. Erasing replaces pixels by a constant,
so the device result equals the host reference exactly (bit for bit) on the images the gather
gives, and commutes with any pixel-wise transform (scaling, standardising) when ``fill`` is what
a raw 0 pixel becomes.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import array_namespace
from ..errors import ConfigError, InvalidInput

__all__ = ["random_erasing", "erasing_boxes", "erase_host", "RandomErasing", "ERASING_STREAM"]

ERASING_STREAM = 4
"""The third number of the epoch's seed, ``(seed, epoch, 4)``: shifts use 1, dropout 2, affine 3, elastic fields 5."""

ATTEMPTS = 10
"""Rectangles drawn per image until one fits (torchvision's ``RandomErasing`` tries 10 times)."""


def _check(p, scale, ratio) -> tuple[float, tuple[float, float], tuple[float, float]]:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not (0 <= p <= 1):
        raise ConfigError(f"the erasing probability p must be a number in [0, 1], got {p!r}")
    pairs = {}
    for name, pair in (("scale", scale), ("ratio", ratio)):
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a pair of numbers (low, high), got {pair!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
            raise ConfigError(f"{name} must be a pair 0 < low <= high of finite numbers, got {pair!r}")
        pairs[name] = (lo, hi)
    if pairs["scale"][1] > 1:
        raise ConfigError(f"scale is the erased fraction of the image's area, at most 1, got {scale!r}")
    return float(p), pairs["scale"], pairs["ratio"]


def _square_side(n_features: int) -> int:
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise ConfigError(
            f"random erasing needs square images (n_features = side²), got {n_features} features; "
            "use it on image data only"
        )
    return side


def erasing_boxes(n: int, side: int, seed, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3)) -> np.ndarray:
    """The erased rectangles of ``n`` images of ``side × side`` pixels, ``(n, 4)`` int64.

    Row ``i`` is ``(x₀, x₁, y₀, y₁)``: image i's pixels of columns ``x₀ ≤ x < x₁`` and rows
    ``y₀ ≤ y < y₁`` are erased; an image left whole has ``(0, 0, 0, 0)``. One ``(n, 41)``
    block of uniform numbers ``u`` in [0, 1) from ``numpy.random.default_rng(seed)``, a row per
    image (so the first images' rectangles do not depend on ``n``): the image is erased where
    ``u₀ < p``; attempt ``k`` (0 … 9) reads ``u₁₊₄ₖ … u₄₊₄ₖ`` as the area fraction
    ``scale₀ + (scale₁ − scale₀)·u``, the log aspect ratio, and the top row
    ``⌊u·(side − h + 1)⌋`` and left column ``⌊u·(side − w + 1)⌋``; the first attempt that fits
    is used (the module's equations).

    Raises
    ------
    ConfigError
        ``p`` outside [0, 1], or ``scale`` / ``ratio`` not pairs ``0 < low ≤ high`` (``scale`` at
        most 1).
    """
    p, (s0, s1), (r0, r1) = _check(p, scale, ratio)
    n = int(n)
    u = np.random.default_rng(seed).random((n, 1 + 4 * ATTEMPTS))
    tries = u[:, 1:].reshape(n, ATTEMPTS, 4)
    area = side * side * (s0 + (s1 - s0) * tries[:, :, 0])
    aspect = np.exp(math.log(r0) + (math.log(r1) - math.log(r0)) * tries[:, :, 1])
    h = np.round(np.sqrt(area * aspect)).astype(np.int64)
    w = np.round(np.sqrt(area / aspect)).astype(np.int64)
    fits = (h < side) & (w < side)
    y0 = np.floor(tries[:, :, 2] * (side - h + 1)).astype(np.int64)
    x0 = np.floor(tries[:, :, 3] * (side - w + 1)).astype(np.int64)
    first = np.argmax(fits, axis=1)  # the first attempt that fits (0 where none does)
    rows = np.arange(n)
    erase = (u[:, 0] < p) & fits[rows, first]
    x0, y0, w, h = x0[rows, first], y0[rows, first], w[rows, first], h[rows, first]
    boxes = np.stack([x0, x0 + w, y0, y0 + h], axis=1)
    boxes[~erase] = 0
    return boxes


def erase_host(images: np.ndarray, boxes: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """Square images with each one's rectangle ``boxes[i] = (x₀, x₁, y₀, y₁)`` set to ``fill``,
    a copy in the images' dtype (``(N, side·side)``), on the host."""
    out = np.array(images, copy=True)
    side = _square_side(out.shape[1])
    view = out.reshape(len(out), side, side)
    for i, (x0, x1, y0, y1) in enumerate(np.asarray(boxes).tolist()):
        view[i, y0:y1, x0:x1] = fill
    return out


def random_erasing(
    images: np.ndarray, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), *, seed, fill: float = 0.0
) -> np.ndarray:
    """Erase one random rectangle of each square image with probability ``p``, on the host.

    Parameters
    ----------
    images : numpy.ndarray
        ``(N, side·side)`` pixels (or features transformed pixel by pixel).
    p, scale, ratio, fill
        As [`RandomErasing`][xpnet.augment.erasing.RandomErasing]'s.
    seed
        Seeds the draws (``numpy.random.default_rng(seed)``); [`RandomErasing`][xpnet.augment.erasing.RandomErasing]
        uses ``(seed, epoch, 4)``.

    Returns
    -------
    numpy.ndarray
        ``(N, side·side)`` in the images' dtype.

    Raises
    ------
    ConfigError
        A bad ``p``, ``scale`` or ``ratio``, or images that are not square.
    """
    images = np.asarray(images)
    side = _square_side(images.shape[1])
    return erase_host(images, erasing_boxes(len(images), side, seed, p, scale, ratio), fill)


class RandomErasing:
    """Random erasing of flat square images (``n = side²`` features per sample), on the device.

    Parameters
    ----------
    p : float
        The probability that an image gets a rectangle, each epoch (torchvision's default 0.5).
    scale : (float, float)
        The range of the rectangle's area as a fraction of the image's (default (0.02, 0.33)).
    ratio : (float, float)
        The range of its aspect ratio height/width, drawn log-uniformly (default (0.3, 3.3)).
    seed : int
        Seeds the draws: epoch ``e`` uses ``numpy.random.default_rng((seed, e, 4))``.
    fill : float
        The erased pixels' value in the features' units (0 for raw pixels; for transformed
        features the transform of a raw 0 pixel).
    base : RandomAffine or RandomShifts, optional
        An augmentation applied to the batch first (the rectangles are erased from its output).

    Raises
    ------
    ConfigError
        ``p`` outside [0, 1], ``scale`` or ``ratio`` not pairs ``0 < low ≤ high``, or a ``base``
        without the augmentation protocol.

    Notes
    -----
    The protocol of [`MLP.fit`][xpnet.model.mlp.MLP.fit]'s ``augment``, as
    [`RandomAffine`][xpnet.augment.affine.RandomAffine]'s: ``prepare(X)`` once;
    ``start_epoch(epoch, order)``; ``batch(lo, hi)``; for a compiled step (JAX)
    ``structure()``, ``device_constants()``, ``batch_arrays(lo, hi)`` and the pure
    ``gather(constants, arrays)`` (which depends on nothing but its arguments and
    ``structure()``).
    """

    def __init__(
        self,
        p: float = 0.5,
        scale=(0.02, 0.33),
        ratio=(0.3, 3.3),
        *,
        seed: int = 0,
        fill: float = 0.0,
        base=None,
    ):
        self.p, self.scale, self.ratio = _check(p, scale, ratio)
        self.seed = int(seed)
        self.fill = float(fill)
        if base is not None and not all(
            hasattr(base, a) for a in ("prepare", "start_epoch", "batch", "structure", "gather")
        ):
            raise ConfigError(
                f"base must be an augmentation such as RandomAffine or RandomShifts, got {type(base).__name__}"
            )
        self.base = base
        self._X = None
        self._boxes = None

    def __repr__(self) -> str:
        base = "" if self.base is None else f", base={self.base!r}"
        return (
            f"RandomErasing(p={self.p:g}, scale={self.scale!r}, ratio={self.ratio!r}, seed={self.seed}, "
            f"fill={self.fill!r}{base})"
        )

    # -- host: the draws -----------------------------------------------------------------------
    def boxes(self, epoch: int, n: int, side: int) -> np.ndarray:
        """The rectangles of ``n`` images in ``epoch``, ``(n, 4)`` int64 ``(x₀, x₁, y₀, y₁)``:
        [`erasing_boxes`][xpnet.augment.erasing.erasing_boxes] with seed ``(seed, epoch, 4)``."""
        return erasing_boxes(n, side, (self.seed, int(epoch), ERASING_STREAM), self.p, self.scale, self.ratio)

    # -- device: once per run ------------------------------------------------------------------
    def prepare(self, X) -> None:
        """Keep ``X`` (``(N, n)`` features on the device), the column numbers ``0 … side − 1``
        and ``fill`` (0-d) in ``X``'s dtype, and prepare ``base``.

        Raises
        ------
        ConfigError
            ``n`` is not a square number.
        """
        xp = array_namespace(X)
        side = _square_side(X.shape[1])
        self._xp, self._side, self._N = xp, side, X.shape[0]
        self._device, self._dtype = X.device, X.dtype
        self._index = xp.__array_namespace_info__().default_dtypes(device=X.device)["indexing"]
        self._X = X
        self._columns = xp.astype(xp.arange(side, device=X.device), X.dtype)
        self._fill = xp.asarray(self.fill, dtype=X.dtype, device=X.device)
        if self.base is not None:
            self.base.prepare(X)
        self._boxes = self._order = None

    # -- device: per epoch and per batch ---------------------------------------------------------
    def start_epoch(self, epoch: int, order=None) -> None:
        """Move ``epoch``'s rectangles to the device (``(N, 4)`` in the features' dtype, whole
        numbers, exact) in the order the batches take the samples, and start ``base``'s epoch.

        Raises
        ------
        InvalidInput
            [`prepare`][xpnet.augment.erasing.RandomErasing.prepare] was not called first.
        """
        if self._X is None:
            raise InvalidInput("RandomErasing.start_epoch needs prepare(X) first")
        xp = self._xp
        boxes = xp.asarray(self.boxes(epoch, self._N, self._side), dtype=self._dtype, device=self._device)
        if order is None:
            self._order = xp.arange(self._N, dtype=self._index, device=self._device)
        else:
            self._order = xp.astype(order, self._index)
            boxes = xp.take(boxes, self._order, axis=0)
        self._boxes = boxes
        if self.base is not None:
            self.base.start_epoch(epoch, order)

    def batch(self, lo: int, hi: int):
        """The (distorted and) erased features of the epoch's samples ``lo … hi − 1``,
        ``(hi − lo, n)``.

        Raises
        ------
        InvalidInput
            [`start_epoch`][xpnet.augment.erasing.RandomErasing.start_epoch] was not called first.
        """
        return self.gather(self.device_constants(), self.batch_arrays(lo, hi))

    # -- the same, split for a compiled training step (xpnet.model.compiled) ------------------------------
    def structure(self) -> tuple:
        """The kind, and ``base``'s structure (what the compiled step's gather depends on)."""
        return (type(self).__qualname__, None if self.base is None else self.base.structure())

    def device_constants(self) -> tuple:
        """``(columns, fill, source)``: the column numbers ``(side,)``, ``fill`` (0-d) and
        either ``base``'s constants or the features ``X``."""
        source = self._X if self.base is None else self.base.device_constants()
        return self._columns, self._fill, source

    def batch_arrays(self, lo: int, hi: int) -> tuple:
        """``(*inner, boxes)``: ``base``'s batch arrays (or the samples' rows ``(hi − lo,)``)
        followed by their rectangles ``(hi − lo, 4)``.

        Raises
        ------
        InvalidInput
            [`start_epoch`][xpnet.augment.erasing.RandomErasing.start_epoch] was not called first.
        """
        if self._boxes is None:
            raise InvalidInput("RandomErasing.batch needs start_epoch() first")
        inner = (self._order[lo:hi],) if self.base is None else tuple(self.base.batch_arrays(lo, hi))
        return (*inner, self._boxes[lo:hi, ...])

    def gather(self, constants: tuple, arrays: tuple):
        """The erased batch, ``(m, n)``: a pure function of
        [`device_constants`][xpnet.augment.erasing.RandomErasing.device_constants] and
        [`batch_arrays`][xpnet.augment.erasing.RandomErasing.batch_arrays] (given ``structure()``),
        so a compiled step can call it.

        The batch ``B`` is ``base``'s gather, or ``take(X, rows)``; then with each image's
        column mask ``c_ij = [x₀ ≤ j < x₁]`` and row mask ``r_ik = [y₀ ≤ k < y₁]`` (``(m, side)``
        each), ``out = where(r_ik c_ij, fill, B)`` over the pixels ``(k, j)``.
        """
        columns, fill, source = constants
        *inner, boxes = arrays
        xp = array_namespace(columns)
        if self.base is None:
            B = xp.take(source, inner[0], axis=0)
        else:
            B = self.base.gather(source, tuple(inner))  # static, or pure given its structure()
        m, side = boxes.shape[0], columns.shape[0]
        c = xp.reshape(columns, (1, side))
        in_cols = (c >= boxes[:, 0:1]) & (c < boxes[:, 1:2])  # (m, side)
        in_rows = (c >= boxes[:, 2:3]) & (c < boxes[:, 3:4])
        inside = xp.reshape(in_rows[:, :, None] & in_cols[:, None, :], (m, side * side))
        return xp.where(inside, fill, B)

    def transform(self, X, epoch: int):
        """All of ``X`` (``(N, n)`` on the device) augmented with ``epoch``'s draws, in sample
        order: prepare, start_epoch and batch in one call, for inspection and tests."""
        self.prepare(X)
        self.start_epoch(epoch)
        return self.batch(0, X.shape[0])
