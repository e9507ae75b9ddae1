"""Elastic distortions of the training images (Simard et al. 2003), on the device, in the affine warp's one gather.

Each epoch every training image gets its own random displacement field: two fields ``u_x, u_y``
of independent uniform numbers in [−1, 1), one per pixel, smoothed by a Gaussian of standard
deviation ``σ`` pixels and scaled by ``α``,

    ``d_c = α · G U_c Gᵀ``,  ``G[i, j] = g(i − j)``,  ``g(k) ∝ exp(−k²/(2σ²))`` for ``|k| ≤ r``,

``r = ⌊4σ + ½⌋``, ``Σ_k g(k) = 1`` (SciPy's ``gaussian_filter(U, σ, mode="constant")``: the
field is taken as 0 beyond the image). The separable filter is two products with the banded
``side × side`` matrix ``G`` (symmetric, so ``Gᵀ = G``), a matrix product over a stack of
``2m`` fields per batch. The displacement is added to the source point of
[`RandomAffine`][xpnet.augment.affine.RandomAffine]'s affine map, so output pixel ``q = (x, y)``
of a sample reads its source at

    ``p = B q + o + d(q)``

with the same bilinear interpolation and ``fill`` outside: affine and elastic distortion are one
bilinear gather per batch. [`RandomElastic`][xpnet.augment.elastic.RandomElastic] is a
[`RandomAffine`][xpnet.augment.affine.RandomAffine] (the same ranges, draws and protocol) whose
``gather`` adds the displacement; with ``α = 0`` it gives RandomAffine's images bit for bit.

Where the random numbers come from
----------------------------------
Moving two fields of ``n`` numbers per sample to the device every epoch (60,000 × 1,568 floats
for MNIST) costs far more than the rest of the augmentation, so the fields are *hashed on the
device*, as dropout's masks are ([`xpnet.nn.dropout`][xpnet.nn.dropout]): on the host, once per
epoch, a 31-bit key per sample is drawn from ``numpy.random.default_rng((seed, epoch, 5))``
(stream 5: the shifts use 1, dropout 2, the affine maps 3) and crosses to the device with the
affine matrices; on the device, field value ``c`` (``c = component·n + y·side + x``) of a sample
with key ``k`` is ``u = H(H(c) ⊕ k) · 2⁻³¹``, ``H`` dropout's lowbias32 hash read as a signed
32-bit integer (``H(c)`` is computed once per run). A sample's field depends only on the seed,
the epoch and the sample, not on the batch or the sample order: the same integers on every
backend, and a resumed run repeats them.

Two implementations, as for the affine maps:

* [`random_elastic`][xpnet.augment.elastic.random_elastic]: on the host in float64 with NumPy
  (the reference; the tests check it against SciPy's ``gaussian_filter`` and ``map_coordinates``);
* [`RandomElastic`][xpnet.augment.elastic.RandomElastic]: on the model's device with standard
  array operations (``MLP.fit(..., augment=RandomElastic(...))``, ``xpnet train --elastic``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import array_namespace
from ..errors import ConfigError
from ..nn.dropout import _hash  # the project's counter-based generator (lowbias32)
from .affine import AFFINE_STREAM, RandomAffine, _square_side, affine_matrices, bilinear, source_points, warp_host

__all__ = [
    "RandomElastic",
    "random_elastic",
    "displacement_fields",
    "gaussian_matrix",
    "field_keys",
    "ELASTIC_STREAM",
    "ELASTIC_DEFAULTS",
]

ELASTIC_STREAM = 5
"""The third number of the epoch's seed of the field keys, ``(seed, epoch, 5)``: shifts use 1,
dropout 2, affine maps 3."""

ELASTIC_DEFAULTS = {"alpha": 34.0, "sigma": 4.0}
"""Simard et al. (2003)'s values for 28 × 28 MNIST digits: ``σ = 4`` pixels, ``α = 34``."""

_TRUNCATE = 4.0  # the Gaussian is cut at ⌊4σ + ½⌋ pixels, as SciPy's gaussian_filter's default


def _check(alpha, sigma) -> tuple[float, float]:
    for name, v in (("alpha", alpha), ("sigma", sigma)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ConfigError(f"elastic {name} must be a number, got {v!r}")
        if not math.isfinite(v):
            raise ConfigError(f"elastic {name} must be finite, got {v!r}")
    if alpha < 0:
        raise ConfigError(f"elastic alpha (the displacement's scale in pixels) must be >= 0, got {alpha!r}")
    if not 0 < sigma <= 100:
        raise ConfigError(
            f"elastic sigma (the smoothing's standard deviation in pixels) must be in (0, 100], got {sigma!r}"
        )
    return float(alpha), float(sigma)


def gaussian_matrix(side: int, sigma: float) -> np.ndarray:
    """The smoothing matrix ``G`` ``(side, side)`` float64: ``G[i, j] = g(i − j)``.

    ``g(k) = exp(−k²/(2σ²)) / Σ_{|l| ≤ r} exp(−l²/(2σ²))`` for ``|k| ≤ r = ⌊4σ + ½⌋``, 0
    beyond: ``G @ F`` smooths the columns of ``F`` as ``scipy.ndimage.gaussian_filter1d(F, σ,
    axis=0, mode="constant")`` does (values beyond the edges are 0). Symmetric and banded.
    """
    r = int(_TRUNCATE * float(sigma) + 0.5)
    k = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-0.5 * k * k / float(sigma) ** 2)
    g /= g.sum()
    i = np.arange(int(side))
    d = i[:, None] - i[None, :]
    return np.where(np.abs(d) <= r, g[np.clip(d + r, 0, 2 * r)], 0.0)


def field_keys(n: int, seed) -> np.ndarray:
    """The ``n`` samples' keys, integers in ``[0, 2³¹)`` (int64 on the host), from
    ``numpy.random.default_rng(seed)``; [`RandomElastic`][xpnet.augment.elastic.RandomElastic]
    uses seed ``(seed, epoch, 5)``. A sample's key does not depend on ``n``."""
    return np.random.default_rng(seed).integers(0, 2**31, size=int(n))


def _hashed_counters(xp, n: int, device=None):
    """``H(c)`` for ``c = 0 … 2n − 1``, int32 ``(1, 2n)``."""
    return xp.reshape(_hash(xp, xp.arange(2 * n, dtype=xp.int32, device=device)), (1, 2 * n))


def _uniform(xp, hashed, keys, dtype):
    """The fields' uniform numbers ``H(H(c) ⊕ k)·2⁻³¹`` in [−1, 1), ``(m, 2n)`` in ``dtype``."""
    h = _hash(xp, hashed ^ xp.reshape(keys, (-1, 1)))
    return xp.astype(h, dtype) * (2.0**-31)


def displacement_fields(keys, side: int, alpha: float, sigma: float) -> np.ndarray:
    """The displacement fields of samples with these keys, ``(N, 2, side²)`` float64 on the host:
    ``d_c = α · G U_c G`` (column displacement ``c = 0``, row displacement ``c = 1``), ``U`` the
    hashed uniform numbers (the module's equations).

    Raises
    ------
    ConfigError
        ``alpha`` negative or ``sigma`` not in (0, 100].
    """
    alpha, sigma = _check(alpha, sigma)
    n = int(side) * int(side)
    k = np.asarray(keys, dtype=np.int64).astype(np.int32)
    U = _uniform(np, _hashed_counters(np, n), k, np.float64)
    G = gaussian_matrix(side, sigma)
    D = alpha * (G @ U.reshape(len(k), 2, side, side) @ G)
    return D.reshape(len(k), 2, n)


def random_elastic(
    images: np.ndarray,
    alpha: float = ELASTIC_DEFAULTS["alpha"],
    sigma: float = ELASTIC_DEFAULTS["sigma"],
    rotation: float = 0.0,
    scale: float = 0.0,
    shear: float = 0.0,
    shift: float = 0.0,
    *,
    seed: int,
    epoch: int,
    flip: bool = False,
    subpixel: bool = True,
    fill: float = 0.0,
) -> np.ndarray:
    """What [`RandomElastic`][xpnet.augment.elastic.RandomElastic] with these settings makes of
    ``images`` in ``epoch``, on the host in float64: the affine maps of seed ``(seed, epoch, 3)``
    ([`affine_matrices`][xpnet.augment.affine.affine_matrices]), the displacement fields of the
    keys of seed ``(seed, epoch, 5)``, one bilinear resampling
    ([`warp_host`][xpnet.augment.affine.warp_host]).

    Parameters
    ----------
    images : numpy.ndarray
        Raw ``(N, side·side)`` pixels.
    alpha, sigma, rotation, scale, shear, shift, flip, subpixel, fill
        As [`RandomElastic`][xpnet.augment.elastic.RandomElastic]'s.
    seed, epoch : int
        The augmentation's seed and the epoch.

    Returns
    -------
    numpy.ndarray
        ``(N, side·side)`` float64.

    Raises
    ------
    ConfigError
        A bad range, or images that are not square.
    """
    images = np.asarray(images)
    side = _square_side(images.shape[1], "these are not square images")
    N = len(images)
    M = affine_matrices(
        N, side, (seed, epoch, AFFINE_STREAM), rotation, scale, shear, shift, flip=flip, subpixel=subpixel
    )
    D = displacement_fields(field_keys(N, (seed, epoch, ELASTIC_STREAM)), side, alpha, sigma)
    return warp_host(images, M, fill, D)


class RandomElastic(RandomAffine):
    """Elastic distortions (Simard et al. 2003) on top of random affine ones, on the device, in one gather.

    Every sample and epoch gets a random affine map, as
    [`RandomAffine`][xpnet.augment.affine.RandomAffine] draws it (the same draws: with ``α = 0``
    the images are RandomAffine's bit for bit), and a smooth random displacement field of scale
    ``alpha`` and smoothness ``sigma`` added to its source points (the module's equations).

    Parameters
    ----------
    alpha : float
        Scale of the displacement (≥ 0; 0: none). For ``α = 34, σ = 4`` on 28 × 28 images the
        displacements' standard deviation is 1.26 px (``RandomElastic().fields(0, 2000, 28).std()``).
    sigma : float
        Standard deviation of the Gaussian smoothing, in pixels (0 < σ ≤ 100).
    rotation, scale, shear, shift, seed, flip, subpixel, fill
        As [`RandomAffine`][xpnet.augment.affine.RandomAffine]'s (all 0 by default: elastic
        distortions only). ``seed`` also seeds the fields' keys, ``(seed, epoch, 5)``.

    Raises
    ------
    ConfigError
        ``alpha`` negative, ``sigma`` not in (0, 100], or a bad affine range.

    Notes
    -----
    Per batch of ``m`` samples, on top of RandomAffine's work: the hash of ``2·m·n`` counters
    (about ten integer operations each), their conversion to floats and two matrix products of a
    ``side × side`` matrix with a stack of ``2m`` fields (``4·m·side³`` multiply-adds). Per
    epoch, one more integer per sample crosses to the device.
    """

    def __init__(
        self,
        alpha: float = ELASTIC_DEFAULTS["alpha"],
        sigma: float = ELASTIC_DEFAULTS["sigma"],
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
        super().__init__(rotation, scale, shear, shift, seed=seed, flip=flip, subpixel=subpixel, fill=fill)
        self.alpha, self.sigma = _check(alpha, sigma)
        self._keys: Any = None

    def __repr__(self) -> str:
        return f"RandomElastic(alpha={self.alpha:g}, sigma={self.sigma:g}, " + super().__repr__().split("(", 1)[1]

    def keys(self, epoch: int, n: int) -> np.ndarray:
        """The ``n`` samples' field keys in ``epoch`` (host, int64):
        [`field_keys`][xpnet.augment.elastic.field_keys] with seed ``(seed, epoch, 5)``."""
        return field_keys(n, (self.seed, int(epoch), ELASTIC_STREAM))

    def fields(self, epoch: int, n: int, side: int) -> np.ndarray:
        """The first ``n`` samples' displacement fields in ``epoch``, ``(n, 2, side²)`` float64 on the host."""
        return displacement_fields(self.keys(epoch, n), side, self.alpha, self.sigma)

    def prepare(self, X) -> None:
        """[`RandomAffine.prepare`][xpnet.augment.affine.RandomAffine.prepare], and on ``X``'s
        device the hashed counters ``H(c)`` (int32 ``(1, 2n)``), ``α·G`` and ``G`` (``X``'s dtype).

        Raises
        ------
        ConfigError
            ``n`` is not a square number.
        """
        super().prepare(X)
        xp, dev, dt, side = self._xp, self._device, self._dtype, self._side
        G = gaussian_matrix(side, self.sigma)
        self._hashed = _hashed_counters(xp, self._n, dev)
        self._smooth = (xp.asarray(self.alpha * G, dtype=dt, device=dev), xp.asarray(G, dtype=dt, device=dev))
        self._keys = None

    def start_epoch(self, epoch: int, order=None) -> None:
        """[`RandomAffine.start_epoch`][xpnet.augment.affine.RandomAffine.start_epoch], and the
        epoch's field keys (int32, one per sample) to the device in the batches' sample order.

        Raises
        ------
        InvalidInput
            [`prepare`][xpnet.augment.elastic.RandomElastic.prepare] was not called first.
        """
        super().start_epoch(epoch, order)
        xp = self._xp
        matrices: Any = self._matrices  # set by RandomAffine.start_epoch
        N = matrices.shape[0]
        keys = xp.asarray(self.keys(epoch, N).astype(np.int32), device=self._device)
        self._keys = keys if order is None else xp.take(keys, xp.astype(order, self._index), axis=0)

    def device_constants(self) -> tuple:
        """``(source, grid, offsets, hashed, αG, G)``: what every batch reads."""
        return (*super().device_constants(), self._hashed, *self._smooth)

    def batch_arrays(self, lo: int, hi: int) -> tuple:
        """``(matrices, base, keys)`` of the epoch's samples ``lo … hi − 1``.

        Raises
        ------
        InvalidInput
            [`start_epoch`][xpnet.augment.elastic.RandomElastic.start_epoch] was not called first.
        """
        return (*super().batch_arrays(lo, hi), self._keys[lo:hi])

    @staticmethod
    def gather(constants: tuple, arrays: tuple):
        """The distorted batch, ``(m, n)``: a pure function of
        [`device_constants`][xpnet.augment.elastic.RandomElastic.device_constants] and
        [`batch_arrays`][xpnet.augment.elastic.RandomElastic.batch_arrays], so a compiled step can call it.

        The affine source points ``P = B q + o`` ``(m, 2, n)``; the fields' uniform numbers
        ``U = H(H(c) ⊕ k)·2⁻³¹`` ``(m, 2n)``, viewed as ``2m`` images ``(m, 2, side, side)``;
        the displacement ``D = (αG) @ U @ G`` (matrix products broadcast over the stack); then
        [`bilinear`][xpnet.augment.affine.bilinear] of ``P + D``.
        """
        (source, grid, offsets, hashed, alpha_g, g), (M, base, keys) = constants, arrays
        xp = array_namespace(source)
        P = source_points(grid, M)
        m, n = P.shape[0], P.shape[2]
        side = math.isqrt(n)
        U = xp.reshape(_uniform(xp, hashed, keys, P.dtype), (m, 2, side, side))
        D = alpha_g @ U @ g
        return bilinear(source, offsets, P + xp.reshape(D, (m, 2, n)), base)
