"""Plain hand-written NumPy, the way the tutorial writes it (generalised to L layers).

Per-batch fancy indexing of X and the one-hot targets, ``Z = A·Wᵀ + b``, ReLU as
``maximum(Z, 0)``, a stable softmax, ``dZ = (P − Y)/m``, ``dZ_{l−1} = (dZ_l·W_l) * (Z_{l−1} > 0)``,
and textbook SGD or Adam (bias-corrected moments, ``m̂/(√v̂ + ε)``).
"""

from __future__ import annotations

import numpy as np

from ..problem import ADAM, Problem
from .base import Contender, Runner

__all__ = ["NumpyRunner", "CONTENDERS"]


class NumpyRunner(Runner):
    """Hand-written NumPy training loop.

    Parameters
    ----------
    p : Problem
        The configuration; the loop starts from a copy of ``p.params0``.
    """

    def __init__(self, p: Problem):
        self.p = p
        self.P = {k: v.copy() for k, v in p.params0.items()}
        self.m = {k: np.zeros_like(v) for k, v in self.P.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.P.items()}
        self.t = 0
        self.e = 0

    def epoch(self):
        p, P, L = self.p, self.P, self.p.n_layers
        X, Y = p.data.X, p.Y
        order = p.permutation(self.e)
        self.e += 1
        loss = 0.0
        for lo, hi in p.batches():
            if order is None:
                Xb, Yb = X, Y
            else:
                idx = order[lo:hi]
                Xb, Yb = X[idx], Y[idx]
            m = hi - lo
            # forward
            As, Zs = [Xb], []
            for l in range(1, L + 1):
                Z = As[-1] @ P[f"W{l}"].T + P[f"b{l}"]
                Zs.append(Z)
                if l < L:
                    As.append(np.maximum(Z, 0))
            Z = Zs[-1] - Zs[-1].max(axis=1, keepdims=True)
            E = np.exp(Z)
            S = E.sum(axis=1, keepdims=True)
            A_out = E / S
            loss += float(np.log(S).sum() - (Yb * Z).sum())
            # backward
            grads = {}
            dZ = (A_out - Yb) / m
            for l in range(L, 0, -1):
                grads[f"W{l}"] = dZ.T @ As[l - 1]
                grads[f"b{l}"] = dZ.sum(axis=0)
                if l > 1:
                    dZ = (dZ @ P[f"W{l}"]) * (Zs[l - 2] > 0)
            self._update(grads)
        return loss / p.n

    def _update(self, grads):
        lr, P = self.p.lr, self.P
        if self.p.optimizer == "sgd":
            for k in P:
                P[k] -= lr * grads[k]
            return
        b1, b2, eps = ADAM["beta1"], ADAM["beta2"], ADAM["eps"]
        self.t += 1
        for k in P:
            g = grads[k]
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
            m_hat = self.m[k] / (1 - b1**self.t)
            v_hat = self.v[k] / (1 - b2**self.t)
            P[k] -= lr * m_hat / (np.sqrt(v_hat) + eps)


CONTENDERS = [
    Contender(
        "numpy",
        "cpu",
        "plain hand-written NumPy (tutorial style)",
        lambda: None,
        lambda p, variant=None: NumpyRunner(p),
    ),
]
