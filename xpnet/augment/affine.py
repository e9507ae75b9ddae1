"""Random affine distortions of the training images: rotation, scaling, shear, shifts and flips.

Each epoch every training image is moved by its own small affine map (Ciresan et al. 2010
trained MLPs on MNIST with such distortions): rotated by ``θ``, scaled by ``s``, sheared by
``h``, optionally mirrored left–right, and moved by ``(tx, ty)`` pixels, all about the image
centre ``c = ((side − 1)/2, (side − 1)/2)``. A source point ``p`` (column, row) lands at

    ``q = A (p − c) + c + t``,  ``A = R(θ) · [[1, h], [0, 1]] · diag(m·s, s)``,

``m = −1`` for a mirrored image and 1 otherwise. The output image is sampled from the source
with bilinear interpolation at ``p = B q + o``, ``B = A⁻¹``, ``o = c − B (c + t)`` (the
per-sample 2×3 *sampling matrix* ``[B | o]``); a point outside the image reads ``fill``.

Two implementations of the same distortions:

* [`random_affine`][xpnet.augment.affine.random_affine]: raw images on the host with NumPy in float64,
  all at once (the reference).
* [`RandomAffine`][xpnet.augment.affine.RandomAffine]: inside the training loop on the model's device
  with standard array operations only, so the training data crosses to the device once per
  run (``MLP.fit(..., augment=RandomAffine(...))``; what ``xpnet train --augment affine`` uses).

How [`RandomAffine`][xpnet.augment.affine.RandomAffine] splits the work:

* [`prepare`][xpnet.augment.affine.RandomAffine.prepare] (device, once per ``fit``): the training
  images with a border of ``fill`` (one pixel above and left, two below and right), flattened.
* [`matrices`][xpnet.augment.affine.RandomAffine.matrices] (host, once per epoch): each sample's
  sampling matrix, from ``numpy.random.default_rng((seed, epoch, 3))`` (stream 3: the shifts
  use 1, dropout 2). They depend only on the seed and the epoch, so they are the same on every
  backend and a resumed run repeats them.
  [`start_epoch`][xpnet.augment.affine.RandomAffine.start_epoch] moves them to the device (six numbers
  per sample) in the epoch's sample order.
* [`batch`][xpnet.augment.affine.RandomAffine.batch] (device, per batch): every output pixel's source
  point, its four neighbours' flat indices, one ``take`` and the bilinear interpolation of
  the four values (about twenty array operations, [`gather`][xpnet.augment.affine.RandomAffine.gather]).

The device images equal [`random_affine`][xpnet.augment.affine.random_affine]'s with seed
``(seed, epoch, 3)`` up to float rounding (the test bound: the coordinates' rounding error times
the largest step between neighbouring pixels, plus the rounding of a 4-term weighted sum), and
exactly where the map moves whole pixels: the identity, mirror images and whole-pixel shifts
(``subpixel=False`` without rotation, scaling or shear). Interpolation weights sum to 1, so on
features transformed pixel by pixel with one affine map (scaling, standardising with one mean
and standard deviation) the result equals the transformed host images up to rounding, when
``fill`` is what a raw 0 pixel becomes.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import array_namespace
from ..errors import ConfigError, InvalidInput

__all__ = [
    "random_affine",
    "affine_matrices",
    "sampling_matrices",
    "RandomAffine",
    "AFFINE_STREAM",
    "bilinear",
    "source_points",
]

AFFINE_STREAM = 3
"""The third number of the epoch's seed, ``(seed, epoch, 3)``: random shifts use 1, dropout 2."""

_BORDER = (1, 2)  # fill pixels before and after each row and column of a prepared image


def _check_ranges(rotation, scale, shear, shift, subpixel) -> tuple[float, float, float, float]:
    values = {"rotation": rotation, "scale": scale, "shear": shear, "shift": shift}
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ConfigError(f"{name} must be a number, got {v!r}")
        if not (math.isfinite(v) and v >= 0):
            raise ConfigError(f"{name} must be a finite number >= 0 (the largest change either way), got {v!r}")
    if rotation > 180:
        raise ConfigError(f"rotation is the largest angle in degrees, at most 180, got {rotation!r}")
    if scale >= 1:
        raise ConfigError(f"scale must be below 1: images are scaled by 1 ± scale, got {scale!r}")
    if shear > 1:
        raise ConfigError(f"shear is the largest shear factor (x += shear·y), at most 1, got {shear!r}")
    if not subpixel and int(shift) != shift:
        raise ConfigError(f"shift must be a whole number of pixels with subpixel=False, got {shift!r}")
    return float(rotation), float(scale), float(shear), float(shift)


def sampling_matrices(side: int, angle, scale, shear, tx, ty, mirror) -> np.ndarray:
    """The sampling matrices ``[B | o]`` of given distortions of ``side × side`` images.

    Parameters
    ----------
    side : int
        The images' side in pixels; the centre is ``c = (side − 1)/2`` in both directions.
    angle, scale, shear, tx, ty : array_like, ``(n,)``
        Rotation ``θ`` in degrees, scale ``s`` (> 0), shear ``h``, shift ``t`` in pixels
        (columns, rows).
    mirror : array_like of bool, ``(n,)``
        Which images are mirrored left–right (``m = −1``).

    Returns
    -------
    numpy.ndarray
        ``(n, 2, 3)`` float64: row 0 gives the source column, row 1 the source row, of the
        output pixel at column ``x`` and row ``y``: ``p = B (x, y)ᵀ + o``, with
        ``B = diag(1/(m·s), 1/s) · [[1, −h], [0, 1]] · R(−θ)`` (the inverse of the module's
        ``A``, factor by factor, so the identity, mirrors and whole shifts are exact) and
        ``o = c − B (c + t)``.
    """
    theta = np.radians(np.asarray(angle, dtype=np.float64))
    s = np.asarray(scale, dtype=np.float64)
    h = np.asarray(shear, dtype=np.float64)
    m = np.where(np.asarray(mirror, dtype=bool), -1.0, 1.0)
    cos, sin = np.cos(theta), np.sin(theta)
    sx, sy = m * s, s
    B = np.empty((theta.shape[0], 2, 3))
    B[:, 0, 0] = (cos + h * sin) / sx  # [[1, −h], [0, 1]] · [[cos, sin], [−sin, cos]], rows / (m·s, s)
    B[:, 0, 1] = (sin - h * cos) / sx
    B[:, 1, 0] = -sin / sy
    B[:, 1, 1] = cos / sy
    c = (side - 1) / 2
    cx, cy = c + np.asarray(tx, dtype=np.float64), c + np.asarray(ty, dtype=np.float64)
    B[:, 0, 2] = c - (B[:, 0, 0] * cx + B[:, 0, 1] * cy)
    B[:, 1, 2] = c - (B[:, 1, 0] * cx + B[:, 1, 1] * cy)
    return B


def affine_matrices(
    n: int,
    side: int,
    seed,
    rotation: float = 0.0,
    scale: float = 0.0,
    shear: float = 0.0,
    shift: float = 0.0,
    *,
    flip: bool = False,
    subpixel: bool = True,
) -> np.ndarray:
    """Random sampling matrices of ``n`` images, ``(n, 2, 3)`` float64 (see
    [`sampling_matrices`][xpnet.augment.affine.sampling_matrices]).

    One ``(n, 6)`` block of uniform numbers ``u`` in [0, 1) from
    ``numpy.random.default_rng(seed)``, a row per image (so the first images' draws do not
    depend on ``n``), gives ``θ = rotation·(2u₀ − 1)`` degrees, ``s = 1 + scale·(2u₁ − 1)``,
    ``h = shear·(2u₂ − 1)``, ``t = shift·(2u₃,₄ − 1)`` pixels (with ``subpixel=False`` the
    whole numbers ``⌊u·(2·shift + 1)⌋ − shift``), and a mirror image where ``u₅ < ½`` (with
    ``flip``). A range of 0 gives exactly 0 (or a scale of exactly 1).

    Raises
    ------
    ConfigError
        A range is negative, not finite or too large (rotation > 180, scale ≥ 1, shear > 1), or
        ``shift`` is not whole with ``subpixel=False``.
    """
    rotation, scale, shear, shift = _check_ranges(rotation, scale, shear, shift, subpixel)
    u = np.random.default_rng(seed).random((int(n), 6))
    sym = 2 * u - 1
    if subpixel:
        tx, ty = shift * sym[:, 3], shift * sym[:, 4]
    else:
        k = 2 * int(shift) + 1
        tx, ty = np.floor(u[:, 3] * k) - int(shift), np.floor(u[:, 4] * k) - int(shift)
    mirror = (u[:, 5] < 0.5) if flip else np.zeros(int(n), dtype=bool)
    return sampling_matrices(side, rotation * sym[:, 0], 1 + scale * sym[:, 1], shear * sym[:, 2], tx, ty, mirror)


def _square_side(n_features: int, what: str) -> int:
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise ConfigError(
            f"random affine distortions need square images (n_features = side²), got {n_features} features; {what}"
        )
    return side


def warp_host(images: np.ndarray, matrices: np.ndarray, fill: float = 0.0, displacement=None) -> np.ndarray:
    """Square images resampled through per-image sampling matrices, in float64 on the host.

    ``out[i, y·side + x] = Σ_{a,b ∈ {0,1}} w_a(p_x) w_b(p_y) · x_i[⌊p_y⌋ + b, ⌊p_x⌋ + a]``,
    ``p = B_i (x, y)ᵀ + o_i``, ``w_0(v) = 1 − (v − ⌊v⌋)``, ``w_1(v) = v − ⌊v⌋``; a neighbour
    outside the image reads ``fill``.

    Parameters
    ----------
    images : numpy.ndarray
        ``(N, side·side)``.
    matrices : numpy.ndarray
        ``(N, 2, 3)``, as [`sampling_matrices`][xpnet.augment.affine.sampling_matrices] gives them.
    fill : float
        The value outside the image.
    displacement : numpy.ndarray, optional
        ``(N, 2, side·side)``: added to every output pixel's source column (``[:, 0]``) and row
        (``[:, 1]``), ``p = B_i (x, y)ᵀ + o_i + d_i(x, y)`` (elastic distortions).

    Returns
    -------
    numpy.ndarray
        ``(N, side·side)`` float64.
    """
    x = np.asarray(images, dtype=np.float64)
    N, n = x.shape
    side = _square_side(n, "these are not square images")
    col = np.tile(np.arange(side, dtype=np.float64), side)
    row = np.repeat(np.arange(side, dtype=np.float64), side)
    M = np.asarray(matrices, dtype=np.float64)
    px = M[:, 0, 0, None] * col + M[:, 0, 1, None] * row + M[:, 0, 2, None]  # (N, n)
    py = M[:, 1, 0, None] * col + M[:, 1, 1, None] * row + M[:, 1, 2, None]
    if displacement is not None:
        px, py = px + displacement[:, 0, :], py + displacement[:, 1, :]
    x0, y0 = np.floor(px), np.floor(py)
    fx, fy = px - x0, py - y0
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    out = np.zeros((N, n))
    rows = np.arange(N)[:, None]
    for b, wy in ((0, 1 - fy), (1, fy)):
        for a, wx in ((0, 1 - fx), (1, fx)):
            xs, ys = x0 + a, y0 + b
            inside = (xs >= 0) & (xs < side) & (ys >= 0) & (ys < side)
            v = np.where(inside, x[rows, np.clip(ys, 0, side - 1) * side + np.clip(xs, 0, side - 1)], fill)
            out += wy * wx * v
    return out


def random_affine(
    images: np.ndarray,
    rotation: float = 0.0,
    scale: float = 0.0,
    shear: float = 0.0,
    shift: float = 0.0,
    *,
    seed,
    flip: bool = False,
    subpixel: bool = True,
    fill: float = 0.0,
) -> np.ndarray:
    """Distort every square image by its own random affine map, on the host in float64.

    Parameters
    ----------
    images : numpy.ndarray
        Raw ``(N, side·side)`` pixels.
    rotation, scale, shear, shift : float
        The ranges, as [`RandomAffine`][xpnet.augment.affine.RandomAffine]'s.
    seed
        Seeds the draws (``numpy.random.default_rng(seed)``); [`RandomAffine`][xpnet.augment.affine.RandomAffine]
        uses ``(seed, epoch, 3)``.
    flip, subpixel, fill
        As [`RandomAffine`][xpnet.augment.affine.RandomAffine]'s.

    Returns
    -------
    numpy.ndarray
        ``(N, side·side)`` float64 (interpolated pixels are not whole numbers).

    Raises
    ------
    ConfigError
        A bad range (see [`affine_matrices`][xpnet.augment.affine.affine_matrices]) or images that are
        not square.
    """
    images = np.asarray(images)
    side = _square_side(images.shape[1], "these are not square images")
    M = affine_matrices(len(images), side, seed, rotation, scale, shear, shift, flip=flip, subpixel=subpixel)
    return warp_host(images, M, fill)


def source_points(grid, M):
    """Every output pixel's source point ``p = B_i (x, y)ᵀ + o_i``, ``(m, 2, n)`` (column, row),
    from the pixels' ``grid`` ``(2, n)`` and the sampling matrices ``M`` ``(m, 2, 3)``, on the device."""
    xp = array_namespace(grid)
    n = grid.shape[1]
    gx, gy = xp.reshape(grid[0, :], (1, 1, n)), xp.reshape(grid[1, :], (1, 1, n))
    P = M[:, :, 0:1] * gx  # (m, 2, n): each output pixel's source column and row
    P += M[:, :, 1:2] * gy
    P += M[:, :, 2:3]
    return P


def bilinear(source, offsets, P, base):
    """Bilinear interpolation of padded square images at given source points, on the device.

    The part of [`RandomAffine.gather`][xpnet.augment.affine.RandomAffine.gather] after the
    source points are known (shared with [`RandomElastic`][xpnet.augment.elastic.RandomElastic]).

    Parameters
    ----------
    source : array, ``(N·W²,)``
        The flat padded images of [`prepare`][xpnet.augment.affine.RandomAffine.prepare], ``W = side + 3``.
    offsets : array, ``(4,)`` integer
        ``(0, 1, W, W + 1)``.
    P : array, ``(m, 2, n)`` float
        Each output pixel's source column (``P[:, 0]``) and row (``P[:, 1]``) in the padded frame.
    base : array, ``(m,)`` integer
        Where each sample's padded image starts in ``source``.

    Returns
    -------
    array
        ``(m, n)``: ``P`` clipped to ``[0, side + 1]`` (beyond that every neighbour is fill),
        ``k = ⌊P⌋``, ``f = P − k``, the four neighbours gathered with one ``take``,
        ``top = v₀ + f_x (v₁ − v₀)``, ``bottom = v₂ + f_x (v₃ − v₂)``, ``top + f_y (bottom − top)``.
    """
    xp = array_namespace(source)
    m, n = P.shape[0], P.shape[2]
    side = math.isqrt(n)
    W = side + sum(_BORDER)
    P = xp.clip(P, 0, side + _BORDER[0])
    K = xp.floor(P)
    F = P - K  # exact, as P >= 0
    corner = xp.astype(K[:, 1, :] * W + K[:, 0, :], offsets.dtype)  # whole numbers below W², exact
    corner += xp.reshape(base, (m, 1))  # (m, n): each top-left neighbour in the flat source
    index = xp.reshape(corner, (m, 1, n)) + xp.reshape(offsets, (1, 4, 1))  # (m, 4, n)
    v = xp.reshape(xp.take(source, xp.reshape(index, (-1,)), axis=0), (m, 4, n))
    fx, fy = F[:, 0, :], F[:, 1, :]
    top = v[:, 0, :] + fx * (v[:, 1, :] - v[:, 0, :])
    bottom = v[:, 2, :] + fx * (v[:, 3, :] - v[:, 2, :])
    return top + fy * (bottom - top)


class RandomAffine:
    """Random affine distortions of flat square images (``n = side²`` features per sample), on the device.

    Every sample and epoch draws a rotation ``θ ∈ [−rotation, rotation]`` degrees, a scale
    ``s ∈ [1 − scale, 1 + scale]``, a horizontal shear ``h ∈ [−shear, shear]`` (``x += h·y``), a
    shift ``t ∈ [−shift, shift]²`` pixels and, with ``flip``, a mirror image with probability
    ½, each uniformly (see [`affine_matrices`][xpnet.augment.affine.affine_matrices]); the image is
    resampled with bilinear interpolation about its centre (the module's equations).

    Parameters
    ----------
    rotation : float
        Largest rotation in degrees (0 … 180).
    scale : float
        Largest relative change of size (0 ≤ scale < 1).
    shear : float
        Largest shear factor (0 … 1).
    shift : float
        Largest shift in pixels, in each direction.
    seed : int
        Seeds the draws: epoch ``e`` uses ``numpy.random.default_rng((seed, e, 3))``.
    flip : bool
        Mirror each image left–right with probability ½ (a negative x-scale): for pictures of
        things, not for digits.
    subpixel : bool
        Draw shifts from the continuous range (True) or whole pixels ``−shift … shift`` (False;
        without rotation, scaling or shear the images' pixels are then only moved, bit for bit).
    fill : float
        Value outside the image, in the features' units (0 for raw pixels; for transformed
        features the transform of a raw 0 pixel).

    Raises
    ------
    ConfigError
        A range is negative, not finite or too large, or ``shift`` is not whole with
        ``subpixel=False``.

    Notes
    -----
    The protocol of [`MLP.fit`][xpnet.model.mlp.MLP.fit]'s ``augment``, as
    [`RandomShifts`][xpnet.augment.shifts.RandomShifts]'s: ``prepare(X)`` once;
    ``start_epoch(epoch, order)``; ``batch(lo, hi)``; for a compiled step (JAX)
    ``structure()``, ``device_constants()``, ``batch_arrays(lo, hi)`` and the pure static
    ``gather(constants, arrays)``.
    """

    def __init__(
        self,
        rotation: float = 0.0,
        scale: float = 0.0,
        shear: float = 0.0,
        shift: float = 0.0,
        *,
        seed: int = 0,
        flip: bool = False,
        subpixel: bool = True,
        fill: float = 0.0,
    ):
        self.rotation, self.scale, self.shear, self.shift = _check_ranges(rotation, scale, shear, shift, subpixel)
        self.flip, self.subpixel = bool(flip), bool(subpixel)
        self.seed = int(seed)
        self.fill = float(fill)
        self._source = None
        self._matrices = None

    def __repr__(self) -> str:
        return (
            f"RandomAffine(rotation={self.rotation:g}, scale={self.scale:g}, shear={self.shear:g}, "
            f"shift={self.shift:g}, seed={self.seed}, flip={self.flip}, subpixel={self.subpixel}, fill={self.fill!r})"
        )

    # -- host: the draws -----------------------------------------------------------------------
    def matrices(self, epoch: int, n: int, side: int) -> np.ndarray:
        """The sampling matrices of ``n`` images of ``side × side`` pixels in ``epoch``,
        ``(n, 2, 3)`` float64: [`affine_matrices`][xpnet.augment.affine.affine_matrices] with seed
        ``(seed, epoch, 3)``, what [`random_affine`][xpnet.augment.affine.random_affine] uses with it."""
        return affine_matrices(
            n,
            side,
            (self.seed, int(epoch), AFFINE_STREAM),
            self.rotation,
            self.scale,
            self.shear,
            self.shift,
            flip=self.flip,
            subpixel=self.subpixel,
        )

    # -- device: once per run ------------------------------------------------------------------
    def prepare(self, X) -> None:
        """Keep ``X`` (``(N, n)`` features on the device) for [`batch`][xpnet.augment.affine.RandomAffine.batch], with a fill border.

        Stores the images padded with ``fill`` (one pixel before and two after every row and
        column: ``W = side + 3``), flattened to ``(N·W²,)``, every output pixel's column and
        row (``(2, n)`` in ``X``'s dtype) and the flat offsets ``(0, 1, W, W + 1)`` of a
        pixel's four bilinear neighbours, all on ``X``'s device.

        Raises
        ------
        ConfigError
            ``n`` is not a square number.
        """
        xp = array_namespace(X)
        N, n = X.shape
        side = _square_side(n, "use --augment shift or none for other data")
        before, after = _BORDER
        W = side + before + after
        dev, dt = X.device, X.dtype
        self._xp, self._n, self._side, self._device, self._dtype = xp, n, side, dev, dt
        self._index = xp.__array_namespace_info__().default_dtypes(device=dev)["indexing"]
        img = xp.reshape(X, (N, side, side))
        img = xp.concat(
            [
                xp.full((N, side, before), self.fill, dtype=dt, device=dev),
                img,
                xp.full((N, side, after), self.fill, dtype=dt, device=dev),
            ],
            axis=2,
        )
        img = xp.concat(
            [
                xp.full((N, before, W), self.fill, dtype=dt, device=dev),
                img,
                xp.full((N, after, W), self.fill, dtype=dt, device=dev),
            ],
            axis=1,
        )
        self._source = xp.reshape(img, (-1,))
        p = xp.arange(n, device=dev)
        self._grid = xp.astype(xp.stack([p % side, p // side], axis=0), dt)
        self._offsets = xp.asarray([0, 1, W, W + 1], dtype=self._index, device=dev)
        self._matrices = self._base = None

    # -- device: per epoch and per batch ---------------------------------------------------------
    def start_epoch(self, epoch: int, order=None) -> None:
        """Move ``epoch``'s sampling matrices to the device, in the order the batches take the samples.

        The matrices (six numbers per sample) are shifted into the padded frame of
        [`prepare`][xpnet.augment.affine.RandomAffine.prepare] (``o + 1``) on the host in float64 and
        rounded once to the features' dtype.

        Parameters
        ----------
        epoch : int
            The epoch (0-based) whose draws to use.
        order : array, ``(N,)`` integer, optional
            The epoch's sample order on the device (``None``: samples in their order).

        Raises
        ------
        InvalidInput
            [`prepare`][xpnet.augment.affine.RandomAffine.prepare] was not called first.
        """
        if self._source is None:
            raise InvalidInput("RandomAffine.start_epoch needs prepare(X) first")
        xp, side = self._xp, self._side
        W = side + sum(_BORDER)
        N = self._source.shape[0] // (W * W)
        host = self.matrices(epoch, N, side)
        host[:, :, 2] += _BORDER[0]
        M = xp.asarray(host, dtype=self._dtype, device=self._device)
        if order is None:
            rows = xp.arange(N, dtype=self._index, device=self._device)
        else:
            rows = xp.astype(order, self._index)
            M = xp.take(M, rows, axis=0)
        self._matrices = M
        self._base = rows * (W * W)  # where each sample's padded image starts in the flat source

    def batch(self, lo: int, hi: int):
        """The distorted features of the epoch's samples ``lo … hi − 1``, shape ``(hi − lo, n)``:
        [`gather`][xpnet.augment.affine.RandomAffine.gather] of
        [`device_constants`][xpnet.augment.affine.RandomAffine.device_constants] and
        [`batch_arrays`][xpnet.augment.affine.RandomAffine.batch_arrays].

        Raises
        ------
        InvalidInput
            [`start_epoch`][xpnet.augment.affine.RandomAffine.start_epoch] was not called first.
        """
        return self.gather(self.device_constants(), self.batch_arrays(lo, hi))

    # -- the same, split for a compiled training step (xpnet.model.compiled) ------------------------------
    def structure(self) -> tuple:
        """What a compiled step that calls [`gather`][xpnet.augment.affine.RandomAffine.gather]
        depends on besides its array arguments (nothing but the kind)."""
        return (type(self).__qualname__,)

    def device_constants(self) -> tuple:
        """``(source, grid, offsets)``: the arrays of [`prepare`][xpnet.augment.affine.RandomAffine.prepare] that every batch reads."""
        return self._source, self._grid, self._offsets

    def batch_arrays(self, lo: int, hi: int) -> tuple:
        """``(matrices, base)`` of the epoch's samples ``lo … hi − 1``: each one's sampling
        matrix ``(hi − lo, 2, 3)`` in the padded frame and the start of its image in the flat
        source ``(hi − lo,)``.

        Raises
        ------
        InvalidInput
            [`start_epoch`][xpnet.augment.affine.RandomAffine.start_epoch] was not called first.
        """
        if self._matrices is None:
            raise InvalidInput("RandomAffine.batch needs start_epoch() first")
        return self._matrices[lo:hi, ...], self._base[lo:hi]

    @staticmethod
    def gather(constants: tuple, arrays: tuple):
        """The distorted batch, ``(m, n)``, from [`device_constants`][xpnet.augment.affine.RandomAffine.device_constants]
        and [`batch_arrays`][xpnet.augment.affine.RandomAffine.batch_arrays]: a pure function of them,
        so a compiled step can call it.

        For output pixel ``(x, y)`` of sample ``i``: its source point in the padded frame
        ``p = B_i (x, y)ᵀ + o_i``, clipped to ``[0, side + 1]`` (beyond that every neighbour is
        fill, so the value is unchanged), ``k = ⌊p⌋``, ``f = p − k``; the four neighbours
        ``v = source[base_i + k_y·W + k_x + (0, 1, W, W + 1)]`` gathered with one ``take`` and
        interpolated, ``top = v₀ + f_x (v₁ − v₀)``, ``bottom = v₂ + f_x (v₃ − v₂)``,
        ``out = top + f_y (bottom − top)`` (exactly ``v₀`` where ``f = 0``). About twenty array
        operations, each on ``m·n`` to ``4·m·n`` elements.
        """
        (source, grid, offsets), (M, base) = constants, arrays
        return bilinear(source, offsets, source_points(grid, M), base)

    def transform(self, X, epoch: int):
        """All of ``X`` (``(N, n)`` on the device) distorted with ``epoch``'s draws, in sample order.

        [`prepare`][xpnet.augment.affine.RandomAffine.prepare], [`start_epoch`][xpnet.augment.affine.RandomAffine.start_epoch]
        and [`batch`][xpnet.augment.affine.RandomAffine.batch] in one call, for inspection and tests
        (training takes the images batch by batch instead).
        """
        self.prepare(X)
        self.start_epoch(epoch)
        return self.batch(0, X.shape[0])
