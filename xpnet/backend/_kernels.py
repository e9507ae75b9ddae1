"""Per-library spellings of a training step's hottest small operations, chosen once per namespace.

The training step ([`xpnet.nn.plan`][xpnet.nn.plan]) asks [`kernels`][xpnet.backend.kernels]
for these once, before its loop, and calls them every step:

| kernel                          | computes                                   | standard spelling                          |
| ------------------------------- | ------------------------------------------ | ------------------------------------------ |
| ``take_rows(A, idx)``           | the rows ``A[idx_i]``, ``(len(idx), n)``   | ``xp.take(A, idx, axis=0)``                |
| ``row_max(Z)``                  | ``max_k Z_ik``, ``(m, 1)``                 | ``xp.max(Z, axis=1, keepdims=True)``       |
| ``sign(x)``                     | ``sign(x)``, shape kept                    | ``xp.sign(x)``                             |
| ``relu(Z)``                     | ``max(Z, 0)``, shape kept                  | ``xp.maximum(Z, 0.0)``                     |
| ``relu_backward_inplace(dA, Z)``| ``dA ⊙ [Z > 0]``, in ``dA`` where it can be| ``dA *= xp.astype(Z > 0, dA.dtype)``       |

[`Kernels`][xpnet.backend.Kernels] is that standard spelling, which every library runs.
[`NumPyKernels`][xpnet.backend.NumPyKernels] spells the same operations NumPy's own way: on a
small batch array-api-compat's wrappers and NumPy's Python-level dispatch cost more than the
operation (``xp.take`` 1.3 µs against 0.4 µs for the method, ``xp.sign`` 2.0 µs against 0.3 µs
for the ufunc: docs/benchmarks.md), while the numbers are the same, bit for bit (the same
NumPy loops run underneath). Other libraries get the standard spelling.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Kernels", "NumPyKernels", "kernels"]


class Kernels:
    """The Array API standard's spelling of each kernel, bound to the namespace ``xp``.

    Each method looks its function up on ``xp`` when called (a counter or a test may patch
    the namespace; the lookup is a module attribute, tens of nanoseconds).
    """

    def __init__(self, xp):
        self.xp = xp

    def take_rows(self, A, idx):
        """``A[idx]``: rows ``idx`` ``(b,)`` of ``A`` ``(n, ...)``, ``(b, ...)``."""
        return self.xp.take(A, idx, axis=0)

    def row_max(self, Z):
        """Each row's largest entry, ``(m, 1)`` for ``Z`` ``(m, k)``."""
        return self.xp.max(Z, axis=1, keepdims=True)

    def sign(self, x):
        """−1, 0 or 1 by the sign of each entry (NaN stays NaN)."""
        return self.xp.sign(x)

    def relu(self, Z):
        """``max(Z, 0)`` entry by entry, a new array."""
        return self.xp.maximum(Z, 0.0)

    def relu_backward_inplace(self, dA, Z):
        """``dA ⊙ [Z > 0]``, written into ``dA`` where its library allows (returned)."""
        dA *= self.xp.astype(Z > 0, dA.dtype)
        return dA


class NumPyKernels(Kernels):
    """The same kernels in NumPy's own spelling: methods and ufuncs called directly."""

    def __init__(self, xp):
        super().__init__(xp)
        # The ufuncs themselves: no Python frame between the step and NumPy's C loop.
        self.sign = np.sign  # type: ignore[method-assign]

    def take_rows(self, A, idx):
        return A.take(idx, axis=0)

    def row_max(self, Z):
        return Z.max(axis=1, keepdims=True)

    def relu(self, Z):
        return np.maximum(Z, 0.0)

    def relu_backward_inplace(self, dA, Z):
        dA *= Z > 0  # the 0/1 mask cast to dA's dtype inside the multiplication: the same numbers
        return dA


_KERNELS: dict[Any, Kernels] = {}


def kernels(xp) -> Kernels:
    """The kernels for namespace ``xp`` (NumPy's own for NumPy, the standard spelling for every
    other library), made once per namespace."""
    k = _KERNELS.get(xp)
    if k is None:
        from array_api_compat import is_numpy_namespace

        k = _KERNELS[xp] = NumPyKernels(xp) if is_numpy_namespace(xp) else Kernels(xp)
    return k


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
