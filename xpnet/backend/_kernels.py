"""Per-library spellings of a training step's hottest small operations, chosen once per namespace.

The eager training loop ([`xpnet.model.training`][xpnet.model.training]: its gathers) and its
planned step ([`xpnet.nn.plan`][xpnet.nn.plan]) ask [`kernels`][xpnet.backend.kernels] for
these once, before the loop, and call them every step:

| kernel                          | computes                                   | standard spelling                          |
| ------------------------------- | ------------------------------------------ | ------------------------------------------ |
| ``take_rows(A, idx)``           | the rows ``A[idx_i]`` (``idx ≥ 0``)        | ``xp.take(A, idx, axis=0)``                |
| ``row_max(Z)``                  | ``max_k Z_ik``, ``(m, 1)``                 | ``xp.max(Z, axis=1, keepdims=True)``       |
| ``sign(x)``                     | ``sign(x)``, shape kept                    | ``xp.sign(x)``                             |
| ``vecdot_rows(A, B)``           | ``Σ_k A_ik B_ik``, ``(m,)``                | ``xp.vecdot(A, B)``                        |
| ``relu(Z)``                     | ``max(Z, 0)``, shape kept                  | ``xp.maximum(Z, 0.0)``                     |
| ``relu_backward_inplace(dA, Z)``| ``dA ⊙ [Z > 0]``, in ``dA`` where it can be| ``dA *= xp.astype(Z > 0, dA.dtype)``       |

[`Kernels`][xpnet.backend.Kernels] is that standard spelling, which every library runs.
[`NumPyKernels`][xpnet.backend.NumPyKernels] and [`TorchKernels`][xpnet.backend.TorchKernels]
spell the same operations the library's own way: on a small batch array-api-compat's wrappers
and NumPy's Python-level dispatch cost more than the operation (NumPy: ``xp.take`` 1.3 µs
against 0.4 µs for the method, ``xp.sign`` 2.0 µs against 0.3 µs for the ufunc; PyTorch:
``xp.vecdot`` 25 µs against 9 µs for the batched product it makes, ``xp.maximum(Z, 0.0)`` 9 µs
against 2 µs; docs/benchmarks.md), while the numbers are the same, bit for bit: the same
library calls run underneath, minus the wrappers' Python. Other libraries get the standard
spelling.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Kernels", "NumPyKernels", "TorchKernels", "kernels"]


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

    def vecdot_rows(self, A, B):
        """``Σ_k A_ik B_ik``, ``(m,)`` for real ``A``, ``B`` ``(m, k)``."""
        return self.xp.vecdot(A, B)

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
        self.vecdot_rows = np.vecdot  # type: ignore[method-assign]  # array-api-compat's vecdot is it

    def take_rows(self, A, idx):
        return A.take(idx, axis=0)

    def row_max(self, Z):
        return Z.max(axis=1, keepdims=True)

    def relu(self, Z):
        return np.maximum(Z, 0.0)

    def relu_backward_inplace(self, dA, Z):
        dA *= Z > 0  # the 0/1 mask cast to dA's dtype inside the multiplication: the same numbers
        return dA


class TorchKernels(Kernels):
    """The same kernels in PyTorch's own spelling: what array-api-compat calls, without its
    wrappers (argument checks, scalar promotion, broadcasting of arrays that already agree)."""

    def __init__(self, xp):
        import torch

        super().__init__(xp)
        self._maximum = torch.maximum
        self._zeros: dict = {}  # the 0-d zero of each (dtype, device), for relu

    def take_rows(self, A, idx):
        return A.index_select(0, idx)  # what xp.take calls, for indices ≥ 0

    def row_max(self, Z):
        return Z.amax(1, keepdim=True)

    def vecdot_rows(self, A, B):
        # array-api-compat's vecdot: the batched product (1 × k)·(k × 1) of each row pair
        return (A[:, None, :] @ B[:, :, None])[:, 0, 0]

    def relu(self, Z):
        key = (Z.dtype, Z.device)
        zero = self._zeros.get(key)
        if zero is None:  # xp.maximum(Z, 0.0) makes this 0-d tensor on every call
            zero = self._zeros[key] = self.xp.asarray(0.0, dtype=Z.dtype, device=Z.device)
        return self._maximum(Z, zero)

    def relu_backward_inplace(self, dA, Z):
        dA *= (Z > 0).to(dA.dtype)
        return dA


_KERNELS: dict[Any, Kernels] = {}


def kernels(xp) -> Kernels:
    """The kernels for namespace ``xp`` (NumPy's and PyTorch's own for those, the standard
    spelling for every other library), made once per namespace."""
    k = _KERNELS.get(xp)
    if k is None:
        from array_api_compat import is_numpy_namespace, is_torch_namespace

        kind = NumPyKernels if is_numpy_namespace(xp) else TorchKernels if is_torch_namespace(xp) else Kernels
        k = _KERNELS[xp] = kind(xp)
    return k


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
