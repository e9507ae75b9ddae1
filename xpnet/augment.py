"""Data augmentation applied on the model's device, from draws made on the host.

:class:`RandomShifts` moves every square image by a random whole number of pixels, up to
``max_shift`` in each direction, with the uncovered pixels filled with a constant. It splits
the work into three steps so that the training data crosses to the device once per run:

* :meth:`RandomShifts.prepare` (device, once per :meth:`~xpnet.MLP.fit`): the training
  features with one extra column holding the fill value, ``(N, n + 1)``, and the
  ``(2s + 1)² × n`` table of flat pixel indices, one row per possible shift.
* :meth:`RandomShifts.draw` (host, once per epoch): each sample's shift, as an integer id
  ``k = (dy + s)(2s + 1) + (dx + s)``, from ``numpy.random.default_rng((seed, epoch, 1))``.
  The draws depend only on the seed and the epoch, so they are the same on every backend and a
  resumed run repeats them exactly.
* :meth:`RandomShifts.apply` (device, per batch): two standard operations,
  ``take(table, ids)`` and ``take_along_axis(rows, ·)``, give the shifted batch.

The shifted images equal :func:`xpnet.training.random_shifts` of the raw images with seed
``(seed, epoch, 1)``, element for element; when the features were transformed pixel by pixel
before (scaled, standardised), the fill value must be what a raw 0 pixel becomes, and then the
result equals the transformed host-shifted images exactly too (a permutation of pixels commutes
with an element-wise transformation).
"""

from __future__ import annotations

import math

import numpy as np

from .backend import array_namespace

__all__ = ["RandomShifts"]


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
    ValueError
        ``max_shift`` is negative.
    """

    def __init__(self, max_shift: int, seed: int = 0, fill: float = 0.0):
        if int(max_shift) != max_shift or max_shift < 0:
            raise ValueError(f"max_shift must be a whole number of pixels >= 0, got {max_shift!r}")
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

        The same numbers :func:`xpnet.training.random_shifts` draws with seed
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
        epoch; :meth:`apply` takes a batch's slice of it.
        """
        s = self.max_shift
        dy, dx = self.offsets(epoch, n)
        return ((dy + s) * (2 * s + 1) + (dx + s)).astype(np.int64)

    # -- device: once per run ------------------------------------------------------------------
    def prepare(self, X):
        """``X`` (``(N, n)`` features on the device) with the fill column appended, ``(N, n + 1)``.

        Also builds, on ``X``'s device, the index table that :meth:`apply` uses: row ``k``
        (shift ``(dy, dx)``) holds for every output pixel ``p = r·side + c`` the flat index of
        its source pixel ``(r − dy)·side + (c − dx)``, or ``n`` (the fill column) when that lies
        outside the image.

        Raises
        ------
        ValueError
            ``n`` is not a square number.
        """
        xp = array_namespace(X)
        N, n = X.shape
        side = math.isqrt(n)
        if side * side != n:
            raise ValueError(
                f"random shifts need square images (n_features = side²), got {n} features; "
                "use --shift 0 for other data")
        fill = xp.full((N, 1), self.fill, dtype=X.dtype, device=X.device)
        self._table = self._index_table(xp, side, X.device)
        self._table_key = (xp, n, X.device)
        return xp.concat([X, fill], axis=1)

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

    # -- device: per batch ---------------------------------------------------------------------
    def apply(self, rows, ids):
        """The shifted batch: ``out[i, p] = rows[i, table[ids[i], p]]``, shape ``(m, n)``.

        Parameters
        ----------
        rows : array, ``(m, n + 1)``
            A batch of rows of :meth:`prepare`'s result.
        ids : array, ``(m,)`` integer
            The batch's shift ids (a slice of :meth:`draw`'s result on the device).

        Raises
        ------
        RuntimeError
            :meth:`prepare` was not called for features of this width on this device.
        """
        xp = array_namespace(rows)
        if self._table_key != (xp, rows.shape[1] - 1, rows.device):
            raise RuntimeError("RandomShifts.apply needs prepare() of the same features first")
        return xp.take_along_axis(rows, xp.take(self._table, ids, axis=0), axis=1)

    def shift(self, X, epoch: int):
        """All of ``X`` (``(N, n)`` on the device) shifted with ``epoch``'s draws, in sample order.

        :meth:`prepare`, :meth:`draw` and :meth:`apply` in one call, for inspection and tests
        (training applies the shifts per batch instead, without this ``(N, n)`` index array).
        """
        xp = array_namespace(X)
        ids = xp.asarray(self.draw(epoch, X.shape[0]), device=X.device)
        return self.apply(self.prepare(X), ids)
