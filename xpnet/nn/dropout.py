"""Inverted dropout on the hidden activations: the rates, and the masks drawn on the device.

Training with dropout rate ``p`` on hidden layer l replaces its output by
``A_l = g(Z_l) ⊙ M_l`` with ``M_l = [u ≥ p] / (1 − p)``, ``u`` uniform in [0, 1) for every
sample and unit (Srivastava et al. 2014, "inverted": the ``1/(1 − p)`` is applied while
training, so the expected activation is unchanged and inference uses the network as it is).
Backpropagation goes through the same product: ``∂ℓ/∂g(Z_l) = ∂ℓ/∂A_l ⊙ M_l``
([`network.forward`][xpnet.nn.network.forward] and [`network.backward`][xpnet.nn.network.backward]
take the masks).

Where the random numbers come from
----------------------------------
The Array API standard has no random generator, so the masks are a *hash* of each element's
position, computed on the device with the standard's integer operations (a counter-based
generator, like Philox in cuRAND and JAX):

* on the host, once per epoch, [`epoch_keys`][xpnet.nn.dropout.epoch_keys] draws a 31-bit key
  per batch and hidden layer from the generator seeded ``(seed, epoch, 2)``
  ([`Backend.rng`][xpnet.backend.Backend.rng], NumPy's; the shifts use stream 1): a few
  integers, not a mask, cross to the device;
* on the device, [`keep_mask`][xpnet.nn.dropout.keep_mask] hashes each element's counter
  ``c = i·n_l + j`` (row i of the batch, unit j) with that key, ``h = H(c ⊕ k)``, where ``H`` is
  the "lowbias32" integer hash (two multiplications and three xor-shifts, a bijection of the
  32-bit integers built to scatter consecutive ones; Wellons 2018), and keeps the element when
  ``h``, read as a signed 32-bit integer (uniform over ``[−2³¹, 2³¹)``), is at least
  ``round(p·2³²) − 2³¹``.

The masks depend only on the seed, the epoch, the batch and the layer, so they are bit for bit
the same on every backend (NumPy, CuPy, PyTorch, JAX, array-api-strict: int32 arithmetic wraps
around on all of them) and a resumed run draws the ones an uninterrupted run would have.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

from ..errors import ConfigError

__all__ = ["dropout_rates", "epoch_keys", "keep_mask", "batch_masks", "expected_keep_fraction", "KEY_STREAM"]

KEY_STREAM = 2
"""The third word of the epoch's host seed ``(seed, epoch, KEY_STREAM)`` (random shifts use 1)."""

_MUL1 = 0x7FEB352D  # lowbias32's multipliers, as signed 32-bit integers
_MUL2 = 0x846CA68B - (1 << 32)
_COUNTERS: dict = {}


def dropout_rates(dropout: float | Iterable[float] | None, n_hidden: int) -> tuple[float, ...]:
    """The dropout rate of every hidden layer, a tuple of ``n_hidden`` floats in [0, 1).

    Parameters
    ----------
    dropout : float, sequence of float or None
        One rate for every hidden layer, or one per hidden layer (``None``: 0, no dropout).
    n_hidden : int
        Number of hidden layers, ``L − 1``.

    Raises
    ------
    ConfigError
        A rate outside [0, 1), or a sequence of the wrong length.
    """
    if dropout is None:
        dropout = 0.0
    # float and int are numbers.Real already; named too so that the type checker narrows them.
    if isinstance(dropout, (float, int, numbers.Real)) and not isinstance(dropout, bool):
        rates = [float(dropout)] * n_hidden
    else:
        bad = ConfigError(f"dropout must be a rate in [0, 1) or a list of one per hidden layer, got {dropout!r}")
        if isinstance(dropout, (str, bytes, bool)):
            raise bad
        try:
            rates = [float(p) for p in dropout]
        except (TypeError, ValueError):
            raise bad from None
        if len(rates) != n_hidden:
            raise ConfigError(
                f"dropout lists {len(rates)} rates, but the network has {n_hidden} hidden layer(s): "
                "give one rate, or one per hidden layer"
            )
    for p in rates:
        if not (0.0 <= p < 1.0):
            raise ConfigError(f"dropout rates must be in [0, 1) (the fraction of hidden units dropped), got {p!r}")
    return tuple(rates)


def epoch_keys(rng, n_batches: int, n_hidden: int):
    """The keys of every batch and hidden layer of an epoch, ``(n_batches, n_hidden)``
    integers in ``[0, 2³¹)`` on the host.

    ``rng`` is the epoch's host generator, ``backend.rng((seed, epoch, KEY_STREAM))`` (a NumPy
    ``Generator``: the same numbers on every backend and on resume).
    """
    return rng.integers(0, 2**31, size=(n_batches, n_hidden))


def _counters(xp, rows: int, units: int, device):
    """``c[i, j] = i·units + j``, int32 ``(rows, units)``, made once per shape and device (not
    while a step is traced for compilation, where ``device`` is None)."""
    if rows * units >= 2**31:
        raise ConfigError(
            f"dropout on a batch of {rows} × {units} activations is more than its 32-bit counters "
            "can number; train with smaller batches"
        )
    if device is None:
        return xp.reshape(xp.arange(rows * units, dtype=xp.int32), (rows, units))
    key = (xp, rows, units, device)
    try:
        c = _COUNTERS.get(key)
    except TypeError:  # an unhashable device: no memo
        c = None
    if c is None:
        if len(_COUNTERS) > 16:
            _COUNTERS.clear()
        c = xp.reshape(xp.arange(rows * units, dtype=xp.int32, device=device), (rows, units))
        try:
            _COUNTERS[key] = c
        except TypeError:
            pass
    return c


def _shift_xor(xp, x, s: int):
    """``x ⊕ (x >> s)`` with a *logical* shift of the 32 bits (int32's ``>>`` copies the sign)."""
    return x ^ ((x >> s) & ((1 << (32 - s)) - 1))


def _hash(xp, x):
    """lowbias32: a bijection of the 32-bit integers that mixes every input bit into every
    output bit, in int32 arithmetic that wraps around."""
    x = _shift_xor(xp, x, 16)
    x = x * _MUL1
    x = _shift_xor(xp, x, 15)
    x = x * _MUL2
    return _shift_xor(xp, x, 16)


def keep_mask(xp, shape: tuple[int, int], dtype, device, key, rate: float):
    """The scaled mask ``M = [u ≥ p] / (1 − p)`` of one batch's hidden layer, ``(m, n)``.

    Parameters
    ----------
    xp
        The namespace of the activations the mask multiplies.
    shape : (int, int)
        ``(m, n)``: the batch's rows and the layer's units.
    dtype, device
        The activations' floating dtype and device (``None`` while a step is traced).
    key : int, or a 0-d int32 array
        The batch's and layer's key ([`epoch_keys`][xpnet.nn.dropout.epoch_keys]): a Python int,
        or a device value inside a compiled step.
    rate : float
        ``p`` in [0, 1).

    Returns
    -------
    array
        ``(m, n)`` in ``dtype``: ``1/(1 − p)`` where the unit is kept, 0 where it is dropped.
    """
    m, n = shape
    c = _counters(xp, m, n, device)
    kept = _hash(xp, c ^ key) >= _threshold(rate)
    return xp.astype(kept, dtype) * (1.0 / (1.0 - rate))


def _threshold(rate: float) -> int:
    """``round(p·2³²) − 2³¹``: a uniform signed 32-bit integer is at least this with probability
    ``1 − round(p·2³²)/2³²``."""
    return min(round(rate * 2**32) - 2**31, 2**31 - 1)


def batch_masks(xp, widths, m: int, dtype, device, keys, rates):
    """The masks of one batch of ``m`` samples, one per hidden layer (``None`` at rate 0), for
    [`network.forward`][xpnet.nn.network.forward]'s ``masks``.

    ``widths`` are the hidden layers' widths ``[n1, …, n_{L−1}]``, ``keys`` the batch's
    ``L − 1`` keys (a row of [`epoch_keys`][xpnet.nn.dropout.epoch_keys]), ``rates`` the
    hidden layers' rates.
    """
    return [None if p == 0 else keep_mask(xp, (m, n), dtype, device, k, p) for n, k, p in zip(widths, keys, rates)]


def expected_keep_fraction(rate: float) -> float:
    """``1 − round(p·2³²)/2³²``, the exact probability that a unit is kept at rate ``p``."""
    return 1.0 - round(rate * 2**32) / 2**32
