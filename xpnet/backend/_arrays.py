"""Arrays of any library: which library and device an array belongs to, its namespace, and
its values on the host.

The lowest piece of [`xpnet.backend`][xpnet.backend]: it knows nothing of
[`Backend`][xpnet.backend.Backend] objects. [`array_namespace`][xpnet.backend.array_namespace]
is the one namespace lookup of xpnet (memoised here, in ``_NAMESPACES``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidInputType

__all__ = ["array_library", "device_of", "array_namespace", "to_numpy"]


def array_library(x) -> str | None:
    """Which array library ``x`` belongs to: ``"numpy"``, ``"cupy"``, ``"torch"``, ``"jax"``,
    ``"dask"``, ``"array_api_strict"``, another namespace's name, or ``None`` (not an array).

    Recognised with ``array_api_compat``'s ``is_*_array`` helpers, which look only at
    libraries already imported (so asking never imports one).
    """
    import array_api_compat as aac

    for name, test in (
        ("numpy", aac.is_numpy_array),
        ("cupy", aac.is_cupy_array),
        ("torch", aac.is_torch_array),
        ("jax", aac.is_jax_array),
        ("dask", aac.is_dask_array),
    ):
        if test(x):
            return name
    if not aac.is_array_api_obj(x):
        return None
    try:
        xp = array_namespace(x)
    except TypeError:
        return None
    return "array_api_strict" if aac.is_array_api_strict_namespace(xp) else xp.__name__


def device_of(x):
    """The device of array ``x`` (`array_api_compat.device`: also for NumPy and arrays
    without a ``.device`` attribute).
    """
    from array_api_compat import device

    return device(x)


def to_numpy(x) -> np.ndarray:
    """Copy any supported array (NumPy, CuPy, PyTorch, JAX, array-api-strict) to NumPy.

    Parameters
    ----------
    x : array
        An array of any supported library, on any device, or a NumPy scalar.

    Returns
    -------
    numpy.ndarray
        ``x`` itself for a NumPy array; otherwise its values on the host (which may share
        memory with ``x`` where it already lives there: PyTorch on the CPU, array-api-strict).

    Raises
    ------
    InvalidInputType
        ``x`` is not an array.
    """
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.asarray(x)
    library = array_library(x)
    if library is None:
        raise InvalidInputType(f"expected an array, got {type(x).__name__}")
    if library == "cupy":
        return x.get()
    if library == "torch":
        return x.detach().cpu().numpy()
    if library == "array_api_strict":
        cpu = array_namespace(x).Device("CPU_DEVICE")
        return np.asarray(x if device_of(x) == cpu else x.to_device(cpu))
    return np.asarray(x)  # JAX, Dask (computed), and other libraries NumPy can read


# -- the namespace of arrays, memoised -----------------------------------------------------------
_NAMESPACES: dict[tuple, Any] = {}


def array_namespace(*arrays):
    """`array_api_compat.array_namespace`, memoised on the types of ``arrays``.

    An array's namespace depends only on its type, and the math modules ask for it in every
    function, about ten times per training step. ``array_api_compat`` works it out anew each
    time (3–5 µs); this looks it up in a dict (0.3 µs): 2–4 % of an epoch at batch 128 on NumPy
    (benchmarks/RESULTS.md). Arrays of different libraries still raise ``TypeError``.
    """
    key = tuple(map(type, arrays))
    xp = _NAMESPACES.get(key)
    if xp is None:
        from array_api_compat import array_namespace as find

        xp = _NAMESPACES[key] = find(*arrays)
    return xp


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
