"""Data augmentation for image classification: random shifts (and, from
[`xpnet.augment.affine`][xpnet.augment.affine], random affine distortions) of the training images.

Shifting each training digit by a pixel or so every epoch shows the network new, plausible
images and lowers the test error of the default network on MNIST and Fashion-MNIST (see the
ablation in ``notebooks/03_from_tutorial_to_modern.ipynb``). Two implementations of the same
shifts:

* [`random_shifts`][xpnet.augment.shifts.random_shifts]: raw images on the host with NumPy, all at once.
* [`RandomShifts`][xpnet.augment.shifts.RandomShifts]: inside the training loop on the model's device, with standard array
  operations only, so that the training data crosses to the device once per run
  (``MLP.fit(..., augment=RandomShifts(...))``; what ``xpnet train --shift`` uses).

[`RandomShifts`][xpnet.augment.shifts.RandomShifts] splits the work so that a batch costs three array operations, no more
than the plain gather of its rows that it replaces:

* [`RandomShifts.prepare`][xpnet.augment.shifts.RandomShifts.prepare] (device, once per [`fit`][xpnet.model.mlp.MLP.fit]): the training
  features with one extra column holding the fill value, flattened, and the
  ``(2s + 1)² × n`` table of flat pixel indices, one row per possible shift.
* [`RandomShifts.draw`][xpnet.augment.shifts.RandomShifts.draw] (host, once per epoch): each sample's shift, as an integer id
  ``k = (dy + s)(2s + 1) + (dx + s)``, from ``numpy.random.default_rng((seed, epoch, 1))``.
  The draws depend only on the seed and the epoch, so they are the same on every backend and a
  resumed run repeats them exactly. [`RandomShifts.start_epoch`][xpnet.augment.shifts.RandomShifts.start_epoch] moves them to the device
  (one integer per sample) in the epoch's sample order.
* [`RandomShifts.batch`][xpnet.augment.shifts.RandomShifts.batch] (device, per batch): ``take(table, ids)``, plus each sample's
  offset in the flat features, then one ``take`` gathers the shifted batch.

The shifted images equal [`random_shifts`][xpnet.augment.shifts.random_shifts] of the same images with seed
``(seed, epoch, 1)``, element for element; when the features were transformed pixel by pixel
before (scaled, standardised), the fill value must be what a raw 0 pixel becomes, and then the
result equals the transformed host-shifted images exactly too (a permutation of pixels commutes
with an element-wise transformation).

Rotations, scaling, shear, sub-pixel shifts and mirror images are
[`RandomAffine`][xpnet.augment.affine.RandomAffine] and [`random_affine`][xpnet.augment.affine.random_affine],
in [`xpnet.augment.affine`][xpnet.augment.affine] and importable from here too: the same protocol, with
bilinear interpolation (``xpnet train --augment affine``, ``--flip``).
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import array_namespace
from ..errors import ConfigError, InvalidInput
from .affine import RandomAffine, random_affine

__all__ = ["random_shifts", "RandomShifts", "RandomAffine", "random_affine"]


def random_shifts(images: np.ndarray, max_shift: int, seed) -> np.ndarray:
    """Move every square image by a random whole number of pixels, up to ``max_shift`` in each
    direction (independently for rows and columns; uncovered pixels become 0).

    Parameters
    ----------
    images : numpy.ndarray
        Raw ``(N, side·side)`` pixels.
    max_shift : int
        Largest shift in pixels (0: the images are returned unchanged).
    seed
        Seeds the shifts: the same seed gives the same shifts, so an augmented epoch can be
        recomputed exactly on resume.

    Returns
    -------
    numpy.ndarray
        The same shape and dtype as ``images``.
    """
    images = np.asarray(images)
    if max_shift <= 0:
        return images
    n, side = len(images), int(round(np.sqrt(images.shape[1])))
    s = int(max_shift)
    rng = np.random.default_rng(seed)
    dy, dx = rng.integers(-s, s + 1, n), rng.integers(-s, s + 1, n)
    padded = np.pad(images.reshape(n, side, side), ((0, 0), (s, s), (s, s)))
    out = np.empty((n, side, side), dtype=images.dtype)
    for a in range(-s, s + 1):
        for b in range(-s, s + 1):
            idx = np.flatnonzero((dy == a) & (dx == b))
            out[idx] = padded[idx, s - a : s - a + side, s - b : s - b + side]
    return out.reshape(n, side * side)


class RandomShifts:
    """Random whole-pixel shifts of flat square images (``n = side²`` features per sample).

    Image ``x`` moved by ``(dy, dx)`` is ``x'[r, c] = x[r − dy, c − dx]`` where that pixel
    exists and ``fill`` elsewhere; ``dy`` and ``dx`` are drawn independently and uniformly from
    ``−s … s`` for every sample and epoch.

    Parameters
    ----------
    max_shift : int
        ``s``, the largest shift in pixels in each direction (0: no augmentation).
    seed : int
        Seeds the draws: epoch ``e`` uses ``numpy.random.default_rng((seed, e, 1))``, as
        ``xpnet train`` always has.
    fill : float
        Value of the uncovered pixels, in the features' units (0 for raw pixels; for
        transformed features the transform of a raw 0 pixel).

    Raises
    ------
    ConfigError
        ``max_shift`` is negative or not whole.

    Notes
    -----
    What [`MLP.fit`][xpnet.model.mlp.MLP.fit]'s ``augment`` calls, so that another augmentation
    can do the same: ``prepare(X)`` once, with the features on the device;
    ``start_epoch(epoch, order)`` with the epoch's sample order on the device (``None`` when
    not shuffled); ``batch(lo, hi)``, the augmented features of ``order[lo:hi]``. On a backend
    that compiles (JAX) also ``structure()``, ``device_constants()``, ``batch_arrays(lo, hi)``
    and a pure static ``gather(constants, arrays)``; without them training runs eagerly.
    """

    def __init__(self, max_shift: int, seed: int = 0, fill: float = 0.0):
        if int(max_shift) != max_shift or max_shift < 0:
            raise ConfigError(f"max_shift must be a whole number of pixels >= 0, got {max_shift!r}")
        self.max_shift = int(max_shift)
        self.seed = int(seed)
        self.fill = float(fill)
        self._table = None
        self._table_key = None

    @property
    def n_shifts(self) -> int:
        """Number of distinct shifts, ``(2s + 1)²``."""
        return (2 * self.max_shift + 1) ** 2

    def __repr__(self) -> str:
        return f"RandomShifts(max_shift={self.max_shift}, seed={self.seed}, fill={self.fill!r})"

    # -- host: the draws -----------------------------------------------------------------------
    def offsets(self, epoch: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The shifts ``(dy, dx)`` of ``n`` samples in ``epoch``, two ``(n,)`` int arrays.

        The same numbers [`random_shifts`][xpnet.augment.shifts.random_shifts] draws with seed
        ``(seed, epoch, 1)``.
        """
        s = self.max_shift
        rng = np.random.default_rng((self.seed, int(epoch), 1))
        dy = rng.integers(-s, s + 1, n)
        dx = rng.integers(-s, s + 1, n)
        return dy, dx

    def draw(self, epoch: int, n: int) -> np.ndarray:
        """Each sample's shift id ``k = (dy + s)(2s + 1) + (dx + s)`` in ``epoch``, ``(n,)`` int64.

        Index the result with the epoch's sample order and move it to the device once per
        epoch; `apply` takes a batch's slice of it.
        """
        s = self.max_shift
        dy, dx = self.offsets(epoch, n)
        return ((dy + s) * (2 * s + 1) + (dx + s)).astype(np.int64)

    # -- device: once per run ------------------------------------------------------------------
    def prepare(self, X) -> None:
        """Keep ``X`` (``(N, n)`` features on the device) for [`batch`][xpnet.augment.shifts.RandomShifts.batch], with a fill column.

        Stores the flat ``(N·(n + 1),)`` features with the fill value appended to every row,
        and builds, on ``X``'s device, the index table: row ``k`` (shift ``(dy, dx)``) holds for
        every output pixel ``p = r·side + c`` the index of its source pixel
        ``(r − dy)·side + (c − dx)`` in a row, or ``n`` (the fill column) when that lies outside
        the image. Indices have the namespace's default index dtype.

        Raises
        ------
        ConfigError
            ``n`` is not a square number.
        """
        xp = array_namespace(X)
        N, n = X.shape
        side = math.isqrt(n)
        if side * side != n:
            raise ConfigError(
                f"random shifts need square images (n_features = side²), got {n} features; use --shift 0 for other data"
            )
        self._xp, self._n, self._device = xp, n, X.device
        # The namespace's own index dtype: int64 on NumPy (which gathers with it faster than
        # with int32, which it converts first), int32 on JAX without 64-bit mode.
        self._index = xp.__array_namespace_info__().default_dtypes(device=X.device)["indexing"]
        fill = xp.full((N, 1), self.fill, dtype=X.dtype, device=X.device)
        self._source = xp.reshape(xp.concat([X, fill], axis=1), (-1,))
        self._table = xp.astype(self._index_table(xp, side, X.device), self._index)
        self._ids = self._base = None

    def _index_table(self, xp, side: int, device):
        s, n = self.max_shift, side * side
        r = xp.reshape(xp.arange(side, device=device), (side, 1))
        c = xp.reshape(xp.arange(side, device=device), (1, side))
        rows = []
        for dy in range(-s, s + 1):
            for dx in range(-s, s + 1):
                src_r, src_c = r - dy, c - dx
                inside = (src_r >= 0) & (src_r < side) & (src_c >= 0) & (src_c < side)
                flat = src_r * side + src_c
                outside = xp.full_like(flat, n)  # the index of the fill column
                rows.append(xp.reshape(xp.where(inside, flat, outside), (n,)))
        return xp.stack(rows, axis=0)

    # -- device: per epoch and per batch ---------------------------------------------------------
    def start_epoch(self, epoch: int, order=None) -> None:
        """Move ``epoch``'s draws to the device, in the order the batches will take the samples.

        Parameters
        ----------
        epoch : int
            The epoch (0-based) whose draws to use.
        order : array, ``(N,)`` integer, optional
            The epoch's sample order on the device (``None``: samples in their order).

        Raises
        ------
        InvalidInput
            [`prepare`][xpnet.augment.shifts.RandomShifts.prepare] was not called first.
        """
        if getattr(self, "_source", None) is None:
            raise InvalidInput("RandomShifts.start_epoch needs prepare(X) first")
        xp, N = self._xp, self._source.shape[0] // (self._n + 1)
        ids = xp.asarray(self.draw(epoch, N), dtype=self._index, device=self._device)
        rows = xp.arange(N, dtype=self._index, device=self._device) if order is None else xp.astype(order, self._index)
        if order is not None:
            ids = xp.take(ids, order, axis=0)
        self._ids = ids
        self._base = rows * (self._n + 1)  # where each sample's row starts in the flat features

    def batch(self, lo: int, hi: int):
        """The shifted features of the epoch's samples ``lo … hi − 1``, shape ``(hi − lo, n)``.

        ``out[i, p] = source[row_i·(n + 1) + table[k_i, p]]``: the index table's row of each
        sample's shift plus the start of its row, then one gather
        ([`gather`][xpnet.augment.shifts.RandomShifts.gather] of
        [`device_constants`][xpnet.augment.shifts.RandomShifts.device_constants] and
        [`batch_arrays`][xpnet.augment.shifts.RandomShifts.batch_arrays]).

        Raises
        ------
        InvalidInput
            [`start_epoch`][xpnet.augment.shifts.RandomShifts.start_epoch] was not called first.
        """
        return self.gather(self.device_constants(), self.batch_arrays(lo, hi))

    # -- the same, split for a compiled training step (xpnet.model.compiled) ------------------------------
    def structure(self) -> tuple:
        """What a compiled step that calls [`gather`][xpnet.augment.shifts.RandomShifts.gather]
        depends on besides its array arguments (nothing but the kind)."""
        return (type(self).__qualname__,)

    def device_constants(self) -> tuple:
        """``(source, table)``: the arrays of [`prepare`][xpnet.augment.shifts.RandomShifts.prepare] that every batch reads."""
        return self._source, self._table

    def batch_arrays(self, lo: int, hi: int) -> tuple:
        """``(ids, base)`` of the epoch's samples ``lo … hi − 1``: each one's shift id and the
        start of its row in the flat source, ``(hi − lo,)`` each.

        Raises
        ------
        InvalidInput
            [`start_epoch`][xpnet.augment.shifts.RandomShifts.start_epoch] was not called first.
        """
        if self._ids is None:
            raise InvalidInput("RandomShifts.batch needs start_epoch() first")
        return self._ids[lo:hi], self._base[lo:hi]

    @staticmethod
    def gather(constants: tuple, arrays: tuple):
        """The shifted batch, ``(m, n)``, from [`device_constants`][xpnet.augment.shifts.RandomShifts.device_constants]
        and [`batch_arrays`][xpnet.augment.shifts.RandomShifts.batch_arrays]: a pure function of them,
        so a compiled step can call it (three array operations)."""
        (source, table), (ids, base) = constants, arrays
        xp, m, n = array_namespace(source), ids.shape[0], table.shape[1]
        index = xp.take(table, ids, axis=0)
        index += xp.reshape(base, (m, 1))
        return xp.reshape(xp.take(source, xp.reshape(index, (-1,)), axis=0), (m, n))

    def shift(self, X, epoch: int):
        """All of ``X`` (``(N, n)`` on the device) shifted with ``epoch``'s draws, in sample order.

        [`prepare`][xpnet.augment.shifts.RandomShifts.prepare], [`start_epoch`][xpnet.augment.shifts.RandomShifts.start_epoch] and [`batch`][xpnet.augment.shifts.RandomShifts.batch] in one call, for inspection and
        tests (training takes the shifted images batch by batch instead).
        """
        self.prepare(X)
        self.start_epoch(epoch)
        return self.batch(0, X.shape[0])
