"""The GEMM floor: only the matrix products one epoch needs, in their fastest arrangement.

Per batch, in one of two weight layouts (both are timed, interleaved, and the faster one is
reported as the floor, so that no ratio to it flatters a contender that happens to match the
slower one):

``out_in`` — W_l stored ``(n_l, n_{l−1})``, xpnet's layout
:   forward ``Z_l = A_{l−1}·W_lᵀ``; backward ``dW_l = dZ_lᵀ·A_{l−1}`` for every layer and
    ``dA_{l−1} = dZ_l·W_l`` for every layer but the first (no input gradient).

``in_out`` — W_l stored ``(n_{l−1}, n_l)``
:   forward ``Z_l = A_{l−1}·W_l``; backward ``dW_l = A_{l−1}ᵀ·dZ_l`` and ``dA_{l−1} = dZ_l·W_lᵀ``.

Every product writes into a preallocated output (``matmul(out=)``), on contiguous batches of
the unshuffled data; the other operands hold random numbers in [0, 1) (no zeros or denormals).
Nothing that trains the network can be faster on the same BLAS (or cuBLAS).
"""

from __future__ import annotations

import numpy as np

from xpnet.errors import ConfigError

from ..problem import Problem
from .base import Contender, Runner

__all__ = ["FloorRunner", "LAYOUTS", "CONTENDERS"]

#: The weight layouts the floor tries, each with a one-line description.
LAYOUTS = {
    "out_in": "W (n_out, n_in): Z = X·Wᵀ, dW = dZᵀ·X, dX = dZ·W",
    "in_out": "W (n_in, n_out): Z = X·W, dW = Xᵀ·dZ, dX = dZ·Wᵀ",
}


class FloorRunner(Runner):
    """The matrix products of one epoch, in one weight layout, into preallocated buffers.

    Parameters
    ----------
    p : Problem
        The configuration.
    layout : str
        ``"out_in"`` or ``"in_out"`` (see `LAYOUTS`).
    xp : module
        ``numpy`` or ``cupy``.
    platform : str
        ``"cpu"`` or ``"cuda"``.
    gather : bool
        Take each batch's rows through the epoch's permutation first (what shuffling adds).
    """

    def __init__(self, p: Problem, layout: str = "out_in", xp=np, platform: str = "cpu", gather: bool = False):
        if layout not in LAYOUTS:
            raise ConfigError(f"unknown floor layout {layout!r}; choose from {', '.join(LAYOUTS)}")
        self.platform, self.xp, self.p, self.layout, self.gather = platform, xp, p, layout, gather
        self.e = 0
        to = (lambda a: xp.asarray(a)) if xp is not np else (lambda a: a)
        self.X = to(p.data.X)
        W = [p.params0[f"W{l}"] for l in range(1, p.n_layers + 1)]
        if layout == "in_out":
            W = [np.ascontiguousarray(w.T) for w in W]
        self.W = [to(w) for w in W]
        self.dW = [xp.empty_like(w) for w in self.W]
        rng = np.random.default_rng(1)
        self.buffers = {}
        for lo, hi in p.batches():
            m = hi - lo
            if m not in self.buffers:
                # A[l] is the input of layer l+1 for l ≥ 1 (A[0] is the batch of X itself)
                A = [None] + [to(rng.random((m, s), dtype=np.float32)) for s in p.sizes[1:-1]]
                Z = [to(np.empty((m, s), np.float32)) for s in p.sizes[1:]]
                dZ = [to(rng.random((m, s), dtype=np.float32)) for s in p.sizes[1:]]
                dA = [None] + [to(np.empty((m, s), np.float32)) for s in p.sizes[1:-1]]
                self.buffers[m] = (A, Z, dZ, dA)

    def epoch(self):
        matmul, X, W, dW, L = self.xp.matmul, self.X, self.W, self.dW, self.p.n_layers
        order = self.p.permutation(self.e) if self.gather else None
        self.e += 1
        in_out = self.layout == "in_out"
        for lo, hi in self.p.batches():
            A, Z, dZ, dA = self.buffers[hi - lo]
            Xb = X[lo:hi] if order is None else self.xp.take(X, order[lo:hi], axis=0)
            if in_out:
                for l in range(L):
                    matmul(Xb if l == 0 else A[l], W[l], out=Z[l])
                for l in range(L - 1, -1, -1):
                    matmul((Xb if l == 0 else A[l]).T, dZ[l], out=dW[l])
                    if l > 0:
                        matmul(dZ[l], W[l].T, out=dA[l])
            else:
                for l in range(L):
                    matmul(Xb if l == 0 else A[l], W[l].T, out=Z[l])
                for l in range(L - 1, -1, -1):
                    matmul(dZ[l].T, Xb if l == 0 else A[l], out=dW[l])
                    if l > 0:
                        matmul(dZ[l], W[l], out=dA[l])
        return None

    def sync(self):
        if self.platform == "cuda":
            import cupy

            cupy.cuda.Device().synchronize()


CONTENDERS = [
    Contender(
        "floor",
        "cpu",
        "NumPy matrix products only (matmul(out=)), no shuffling, faster of two weight layouts",
        lambda: None,
        lambda p, layout: FloorRunner(p, layout),
        variants=tuple(LAYOUTS),
    ),
    Contender(
        "floor+gather",
        "cpu",
        "the floor plus each batch's rows gathered through the epoch's permutation (what shuffling adds)",
        lambda: None,
        lambda p, layout: FloorRunner(p, layout, gather=True),
        variants=tuple(LAYOUTS),
    ),
]
