"""Per-step overhead on a tiny network: xpnet's training step against a plain NumPy loop.

On 64-16-10 with batch 16 the matrix products cost almost nothing, so the time per step is what
each implementation spends around them (Python, array creation, one call per operation): the
regime of a GPU, where every operation is a kernel launch. Epochs of the two contenders are
interleaved in one process; the median over epochs is printed in µs per step.

Run with the OpenBLAS variables unset (see /work/.library/env/README.md), e.g.
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/step_overhead.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import xpnet
from xpnet import optim

ADAM = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


class PlainNumpy:
    """The tutorial's equations in NumPy (samples as rows), with the same per-epoch shuffle."""

    def __init__(self, params, X, y, batch, opt, lr, seed):
        self.P = {k: v.copy() for k, v in params.items()}
        self.m = {k: np.zeros_like(v) for k, v in self.P.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.P.items()}
        self.X, self.Y = X, np.eye(10, dtype=X.dtype)[y]
        self.batch, self.opt, self.lr, self.seed, self.t, self.e = batch, opt, lr, seed, 0, 0

    def epoch(self):
        P, X, Y, n = self.P, self.X, self.Y, len(self.X)
        order = np.random.default_rng((self.seed, self.e)).permutation(n)
        self.e += 1
        loss = 0.0
        for lo in range(0, n, self.batch):
            idx = order[lo:lo + self.batch]
            Xb, Yb = X[idx], Y[idx]
            Z1 = Xb @ P["W1"].T + P["b1"]
            A1 = np.maximum(Z1, 0)
            Z2 = A1 @ P["W2"].T + P["b2"]
            Z = Z2 - Z2.max(axis=1, keepdims=True)
            E = np.exp(Z)
            S = E.sum(axis=1, keepdims=True)
            loss += float(np.log(S).sum() - (Yb * Z).sum())
            dZ2 = (E / S - Yb) / len(idx)
            dZ1 = (dZ2 @ P["W2"]) * (Z1 > 0)
            grads = {"W2": dZ2.T @ A1, "b2": dZ2.sum(axis=0), "W1": dZ1.T @ Xb, "b1": dZ1.sum(axis=0)}
            self.update(grads)
        return loss / n

    def update(self, grads):
        lr, P = self.lr, self.P
        if self.opt == "sgd":
            for k in P:
                P[k] -= lr * grads[k]
            return
        b1, b2, eps = ADAM["beta1"], ADAM["beta2"], ADAM["eps"]
        self.t += 1
        for k in P:
            g = grads[k]
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
            P[k] -= lr * (self.m[k] / (1 - b1 ** self.t)) / (np.sqrt(self.v[k] / (1 - b2 ** self.t)) + eps)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--samples", type=int, default=16384)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--optimizers", default="sgd,adam")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    X = rng.random((args.samples, 64), dtype=np.float32)
    y = rng.integers(0, 10, args.samples)
    steps = -(-args.samples // args.batch)
    print(f"64-16-10, batch {args.batch}, {args.samples} samples ({steps} steps/epoch), "
          f"{args.epochs} interleaved epochs after one warm-up; median µs per step [min–max]")
    for opt in args.optimizers.split(","):
        lr = 0.1 if opt == "sgd" else 1e-3
        model = xpnet.MLP([64, 16, 10], backend="numpy", seed=0)
        plain = PlainNumpy(model.numpy_params(), X, y, args.batch, opt, lr, seed=0)
        make = (lambda: optim.SGD(lr=lr)) if opt == "sgd" else (lambda: optim.Adam(lr=lr, **ADAM))
        epochs = model.fit_epochs(X, y, 1 << 30, args.batch, make(), None, True, ()) \
            if hasattr(model, "fit_epochs") else model._fit_epochs(X, y, 1 << 30, args.batch, make(), None, True, ())
        times = {"xpnet": [], "plain NumPy": []}
        for e in range(args.epochs + 1):
            for name, run in (("xpnet", lambda: next(epochs)), ("plain NumPy", plain.epoch)):
                t0 = time.perf_counter()
                run()
                dt = time.perf_counter() - t0
                if e:  # the first epoch warms up (and moves the data for xpnet)
                    times[name].append(dt / steps * 1e6)
        med = {k: statistics.median(v) for k, v in times.items()}
        for name, v in times.items():
            print(f"  {opt:4s} {name:12s} {med[name]:7.1f} µs  [{min(v):.1f}–{max(v):.1f}]")
        print(f"  {opt:4s} xpnet / plain NumPy: {med['xpnet'] / med['plain NumPy']:.2f}×")


if __name__ == "__main__":
    main()
