"""Speed work beside the equations: sums over an axis as products with a memoised vector of ones.

[`network`][xpnet.nn.network] writes ``db_l = Σ_rows dZ_l`` as ``sum_rows(dZ)`` and the
softmax's row sums as ``sum_columns(P)``: the same numbers as ``xp.sum(dZ, axis=0)`` up to
rounding, computed as ``1ᵀ·dZ`` and ``P·1``. On NumPy one call into BLAS costs about a third of
the Python-level overhead of ``xp.sum``, which is most of a step's time on small networks; on a
GPU either is one kernel. The vectors are made once per namespace, length, dtype and device, so
that a step creates no array for them.
"""

from __future__ import annotations

from ..backend import array_namespace, device_of

__all__ = ["sum_rows", "sum_columns", "ones", "device"]

_ONES: dict = {}


def ones(xp, n: int, dtype, device):
    """A vector of ``n`` ones, ``(n,)``, made once per namespace, length, dtype and device.

    Not memoised while a step is being traced for compilation (JAX), where arrays have no
    device (``None``) and what would be kept is a placeholder of that one trace.
    """
    if device is None:
        return xp.ones((n,), dtype=dtype)
    key = (xp, n, dtype, device)
    try:
        v = _ONES.get(key)
    except TypeError:  # an unhashable device: no memo
        return xp.ones((n,), dtype=dtype, device=device)
    if v is None:
        if len(_ONES) > 64:
            _ONES.clear()
        v = _ONES[key] = xp.ones((n,), dtype=dtype, device=device)
    return v


def device(x):
    """``x.device``, or [`device_of`][xpnet.backend.device_of] for arrays without that attribute
    (the attribute is a dict lookup; ``device_of`` costs a few µs, which a step notices)."""
    d = getattr(x, "device", None)
    return device_of(x) if d is None or callable(d) else d


def sum_rows(M, xp=None):
    """``Σ_i M_ij``, shape ``(n,)`` for ``M`` ``(m, n)``: the product ``1ᵀ·M`` (``xp``: M's
    namespace, when the caller has it)."""
    xp = array_namespace(M) if xp is None else xp
    return ones(xp, M.shape[0], M.dtype, device(M)) @ M


def sum_columns(M, xp=None):
    """``Σ_j M_ij``, shape ``(m,)`` for ``M`` ``(m, n)``: the product ``M·1``."""
    xp = array_namespace(M) if xp is None else xp
    return M @ ones(xp, M.shape[1], M.dtype, device(M))


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
