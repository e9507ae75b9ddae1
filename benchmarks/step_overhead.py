"""Per-step cost of ``MLP.fit`` against a plain NumPy loop, side by side in one process.

The plain loop is the tutorial's step written by hand for samples as rows (forward, softmax
cross-entropy, backward, update), the fewest NumPy calls a person would write; ``MLP.fit``
runs the same problem (same sizes, batch, shuffled order per epoch, learning rate). Epochs of
the two alternate, ``--repeats`` times, and the medians are compared: the ratio is what the
library's generality costs per step where the products are cheap.

    python benchmarks/step_overhead.py                      # 64-16-10, batch 16, SGD and Adam
    python benchmarks/step_overhead.py --sizes 784,128,10 --batch 128

Run it with one BLAS thread for stable numbers (``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import xpnet
from xpnet.optim import SGD, Adam


def plain_epoch(P, X, Y, order, batch, lr, adam=None):
    """One epoch of a hand-written NumPy loop, as a person writes it after the tutorial (the
    loop of the comparison harness's plain-NumPy contender): forward, softmax cross-entropy
    with the epoch's loss summed, backward, and the update (``adam``: ``{"m", "v", "t"}``)."""
    L = len(P) // 2
    loss = 0.0
    for lo in range(0, X.shape[0], batch):
        idx = order[lo : lo + batch]
        Xb, Yb = X[idx], Y[idx]
        m = Xb.shape[0]
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
        grads = {}
        dZ = (A_out - Yb) / m
        for l in range(L, 0, -1):
            grads[f"W{l}"] = dZ.T @ As[l - 1]
            grads[f"b{l}"] = dZ.sum(axis=0)
            if l > 1:
                dZ = (dZ @ P[f"W{l}"]) * (Zs[l - 2] > 0)
        if adam is None:
            for k in P:
                P[k] -= lr * grads[k]
            continue
        adam["t"] += 1
        t = adam["t"]
        for k in P:
            g = grads[k]
            adam["m"][k] = 0.9 * adam["m"][k] + 0.1 * g
            adam["v"][k] = 0.999 * adam["v"][k] + 0.001 * g * g
            m_hat = adam["m"][k] / (1 - 0.9**t)
            v_hat = adam["v"][k] / (1 - 0.999**t)
            P[k] -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    return loss / X.shape[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="64,16,10")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=500, help="steps per epoch")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--optimizers", default="sgd,adam")
    ap.add_argument("--parts", action="store_true", help="also time the step's parts one by one")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    n0, k = sizes[0], sizes[-1]
    n = args.batch * args.steps
    rng = np.random.default_rng(0)
    X = rng.random((n, n0), dtype=np.float32)
    y = rng.integers(0, k, n)
    y1h = np.eye(k, dtype=np.float32)[y]
    print(f"sizes {sizes}, batch {args.batch}, {args.steps} steps an epoch, {args.repeats} epochs each, alternating")
    print(f"numpy {np.__version__}, xpnet {xpnet.__version__}")
    for name in args.optimizers.split(","):
        model = xpnet.MLP(sizes, backend="numpy", seed=0)
        opt = SGD(lr=0.1) if name == "sgd" else Adam(lr=1e-3)
        model.fit(X, y, epochs=1, batch_size=args.batch, optimizer=opt)  # warm-up: the optimizer's state
        params = {k_: v.copy() for k_, v in model.numpy_params().items()}
        state = None
        if name == "adam":
            state = {"m": {k_: np.zeros_like(v) for k_, v in params.items()}, "t": 0}
            state["v"] = {k_: np.zeros_like(v) for k_, v in params.items()}
        ours, plain = [], []
        for r in range(args.repeats):
            order = np.random.default_rng((0, r)).permutation(n)
            t0 = time.perf_counter()
            plain_epoch(params, X, y1h, order, args.batch, 0.1 if name == "sgd" else 1e-3, state)
            t1 = time.perf_counter()
            model.fit(X, y, epochs=1, batch_size=args.batch)
            t2 = time.perf_counter()
            plain.append((t1 - t0) / args.steps)
            ours.append((t2 - t1) / args.steps)
        p, o = statistics.median(plain), statistics.median(ours)
        print(
            f"{name:5s} plain NumPy loop {p * 1e6:7.1f} µs/step   MLP.fit {o * 1e6:7.1f} µs/step   ratio {o / p:5.2f}"
        )
    if args.parts:
        time_parts(sizes, args.batch, args.repeats)


def time_parts(sizes, batch: int, repeats: int, calls: int = 3000) -> None:
    """The step's parts called one by one, ``calls`` times each, interleaved ``repeats`` times."""
    from xpnet.backend import kernels
    from xpnet.nn import network
    from xpnet.nn.losses import get_loss
    from xpnet.nn.plan import plan_step
    from xpnet.nn.step import batch_gradients

    rng = np.random.default_rng(1)
    model = xpnet.MLP(sizes, backend="numpy", seed=0)
    params, head, opt = model.params, get_loss("cross_entropy"), SGD(lr=0.1)
    X = rng.random((batch, sizes[0]), dtype=np.float32)
    T = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], batch)]
    idx = np.arange(batch)
    Z, cache = network.forward(params, X, "relu")
    _, _, A = head.rows(Z, T)
    grads = network.backward(params, cache, A, T, "relu", scale=0.1)
    xp = model.backend.xp
    planned = plan_step(params, xp, activation="relu", head=head)
    take = kernels(xp).take_rows
    parts = {
        "forward": lambda: network.forward(params, X, "relu"),
        "loss head (rows)": lambda: head.rows(Z, T),
        "backward": lambda: network.backward(params, cache, A, T, "relu", scale=0.1),
        "SGD update": lambda: opt.step(params, grads, 0.1, scaled_by=0.1),
        "two row gathers": lambda: (xp.take(X, idx, axis=0), xp.take(T, idx, axis=0)),
        "two take_rows": lambda: (take(X, idx), take(T, idx)),
        "batch_gradients": lambda: batch_gradients(params, X, T, activation="relu", head=head, scale=0.1),
        "planned step": lambda: planned(params, X, T, 0.1),
        # the standard's spelling through array-api-compat against NumPy's own, on the logits
        "xp.max(Z, axis=1)": lambda: xp.max(Z, axis=1, keepdims=True),
        "Z.max(axis=1)": lambda: Z.max(axis=1, keepdims=True),
        "xp.sign(z)": lambda: xp.sign(Z),
        "np.sign(z)": lambda: np.sign(Z),
    }
    times: dict[str, list[float]] = {k: [] for k in parts}
    for _ in range(repeats):
        for k, f in parts.items():
            t0 = time.perf_counter()
            for _ in range(calls):
                f()
            times[k].append((time.perf_counter() - t0) / calls)
    print("the step's parts, one by one:")
    for k, v in times.items():
        print(f"  {k:18s} {statistics.median(v) * 1e6:6.2f} µs")


if __name__ == "__main__":
    main()
