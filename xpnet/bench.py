"""``xpnet bench``: xpnet's training speed side by side with the floor and with other libraries.

What is timed
-------------
Training epochs of one network (by default 784-128-10, ReLU, softmax cross-entropy, float32,
every contender starting from the same initial weights and drawing the same shuffled order
of the samples each epoch) on Fashion-MNIST-sized data: the real Fashion-MNIST training set
when its files are found, else synthetic images of the same shape. The contenders:

``floor`` / ``floor-cupy``
    Only the matrix products one epoch needs (forward X·W1ᵀ and A1·W2ᵀ; backward dW2, dA1
    and dW1, no input gradient) into preallocated outputs (``matmul(out=)``), on contiguous
    batches. Nothing that trains this network can be faster on the same BLAS (or cuBLAS):
    every other contender is reported as a ratio to it.
``floor+gather``
    The floor plus each batch's rows gathered through the epoch's permutation: what shuffling
    alone adds (every contender but the floor shuffles).
``xpnet-numpy``, ``xpnet-torch``, ``xpnet-cupy``, ``xpnet-torch-cuda`` (``xpnet-jax``, ``xpnet-strict``)
    :meth:`xpnet.MLP.fit`'s own training loop on that backend, advanced one epoch at a time.
``numpy``
    A plain hand-written NumPy implementation, the way the tutorial writes it (per-batch fancy
    indexing, ``dZ1 = dA1 * (Z1 > 0)``, textbook Adam).
``torch`` / ``torch-cuda``
    PyTorch eager: ``F.linear``/``relu``/``F.cross_entropy``, *autograd* for the gradients and
    ``torch.optim.SGD``/``Adam`` (their default implementation), i.e. PyTorch as usually written.
``jax-jit`` / ``jax-scan``
    JAX with ``jax.grad``; one jitted step per batch, or the whole epoch in one jitted
    ``lax.scan`` (plus one jitted step for a last partial batch).

Contenders run in one process and are *interleaved* epoch by epoch (contender A's epoch 1, B's
epoch 1, ..., A's epoch 2, ...), so that a machine whose speed drifts over tens of seconds
slows them all alike; the first ``warmup`` epochs (compilation, first-touch page faults,
caches) are not counted, and each figure is the median over the timed epochs. On the CPU both
the wall-clock time and the process's CPU time are measured (the CPU time does not count the
time the process waited for a core another program held, which makes it the steadier figure on
a shared machine). On a CUDA device, epochs are timed with CUDA events on the default stream
after a device synchronisation, never with the wall clock around asynchronous calls; the data
stay on the device for the whole run.

Memory is measured separately, in one extra untimed epoch per contender: on the CPU the growth
of the process's peak resident set (``VmHWM``, reset through ``/proc/self/clear_refs`` after
``malloc_trim``) over the resident set before the epoch, i.e. the *extra* memory an epoch
touches beyond the data, parameters and optimizer state that already exist; on CUDA the peak of
memory allocated during the epoch (PyTorch's allocator statistics; a CuPy memory hook).

Usage: ``xpnet bench --help``, or ``python benchmarks/bench.py --help`` (the same command).
Benchmarks are not tests: the test suite only checks that this machinery runs on tiny sizes.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import gc
import gzip
import importlib.util
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import click
import numpy as np

__all__ = [
    "BenchData",
    "Problem",
    "CONTENDERS",
    "load_bench_data",
    "available_contenders",
    "run_benchmark",
    "print_report",
    "bench_command",
    "main",
]

#: Environment variables that change which BLAS kernel or how many threads run.
_ENV_KEYS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
             "MKL_NUM_THREADS", "XLA_FLAGS", "XPNET_BACKEND", "CUDA_VISIBLE_DEVICES",
             "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "XPNET_MALLOC_TUNING")
_SLOW_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

DEFAULT_SIZES = (784, 128, 10)
TUTORIAL_SIZES = (784, 10, 10)
DEFAULT_LR = {"sgd": 0.1, "adam": 1e-3}
ADAM = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


# ================================================================================================
# Data
# ================================================================================================
@dataclass
class BenchData:
    """Training data on the host: ``X`` float32 (n, 784) in [0, 1], ``y`` int64 (n,)."""

    X: np.ndarray
    y: np.ndarray
    source: str
    n_classes: int = 10

    @property
    def n(self) -> int:
        return int(self.X.shape[0])


def _read_idx_gz(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _fashion_dirs() -> list[Path]:
    """Places where the Fashion-MNIST IDX files may be, most specific first."""
    repo = Path(__file__).resolve().parents[1]
    dirs = []
    for var in ("XPNET_BENCH_DATA", "XPNET_TEST_DATA", "XPNET_DATA_DIR"):
        if os.environ.get(var):
            base = Path(os.environ[var])
            dirs += [base, base / "fashion-mnist"]
    dirs += [repo.parent / "shared" / "data" / "fashion-mnist", repo / "shared" / "data" / "fashion-mnist"]
    return dirs


def _load_fashion(directory: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """x_train (uint8, n×784) and y_train from a directory of IDX files, or None."""
    names = [("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
             ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")]
    for img, lab in names:
        if (directory / img).is_file() and (directory / lab).is_file():
            try:  # the datasets package checks more, when it is there
                from .datasets import load_dataset

                ds = load_dataset(Path(directory), download=False, progress=False)
                if ds.x_train is not None and ds.y_train is not None:
                    return ds.x_train, ds.y_train
            except Exception:
                pass
            x = _read_idx_gz(directory / img)
            return x.reshape(x.shape[0], -1), _read_idx_gz(directory / lab).astype(np.int64)
    return None


def synthetic_data(n: int = 60000, n_features: int = 784, n_classes: int = 10, seed: int = 0):
    """Fashion-MNIST-like synthetic images: uint8, a blank border, class-dependent patterns."""
    rng = np.random.default_rng(seed)
    side = int(round(math.sqrt(n_features)))
    protos = rng.random((n_classes, n_features)).astype(np.float32)
    if side * side == n_features:  # blank 3-pixel border, as in (Fashion-)MNIST
        mask = np.zeros((side, side), np.float32)
        mask[3:-3, 3:-3] = 1
        protos *= mask.reshape(-1)
    y = rng.integers(0, n_classes, n).astype(np.int64)
    x = np.empty((n, n_features), np.uint8)
    for lo in range(0, n, 8192):  # in chunks, to keep the float temporaries small
        hi = min(lo + 8192, n)
        noise = rng.random((hi - lo, n_features), dtype=np.float32)
        x[lo:hi] = np.clip(255 * protos[y[lo:hi]] * (0.5 + noise), 0, 255).astype(np.uint8)
    return x, y


def load_bench_data(source: str = "auto", n_samples: int | None = None, seed: int = 0) -> BenchData:
    """The benchmark's training set.

    ``source``: ``"auto"`` (the real Fashion-MNIST training set when its files are found in
    ``$XPNET_BENCH_DATA``, ``$XPNET_TEST_DATA``, ``$XPNET_DATA_DIR`` or ``../shared/data``,
    else synthetic), ``"synthetic"``, or a directory of Fashion-MNIST IDX files.
    ``n_samples`` keeps the first n samples (default: all 60,000).
    """
    loaded, where = None, ""
    if source not in ("auto", "synthetic"):
        loaded = _load_fashion(Path(source))
        if loaded is None:
            raise click.BadParameter(f"no Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz]) in {source}")
        where = f"Fashion-MNIST train ({source})"
    elif source == "auto":
        for d in _fashion_dirs():
            if d.is_dir():
                loaded = _load_fashion(d)
                if loaded is not None:
                    where = f"Fashion-MNIST train ({d})"
                    break
    if loaded is None:
        n = 60000 if n_samples is None else int(n_samples)
        loaded = synthetic_data(n, seed=seed)
        where = "synthetic (Fashion-MNIST shape; the real files were not found)" if source == "auto" \
            else "synthetic"
    x, y = loaded
    if n_samples is not None:
        x, y = x[:n_samples], y[:n_samples]
    X = np.ascontiguousarray(x, dtype=np.float32)
    X *= np.float32(1 / 255)
    return BenchData(X, np.ascontiguousarray(y, dtype=np.int64), where)


# ================================================================================================
# The problem every contender solves
# ================================================================================================
@dataclass
class Problem:
    """One benchmark configuration, with host data and the shared initial weights."""

    data: BenchData
    sizes: tuple[int, ...]
    batch_size: int  # samples per step; == n for full batch
    optimizer: str  # "sgd" or "adam"
    lr: float
    init: str = "he"
    seed: int = 0
    params0: dict = field(default_factory=dict)  # host float32 {"W1": ..., "b1": ..., ...}
    _onehot: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.data.n

    @property
    def full_batch(self) -> bool:
        return self.batch_size >= self.n

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def Y(self) -> np.ndarray:
        if self._onehot is None:
            Y = np.zeros((self.n, self.sizes[-1]), np.float32)
            Y[np.arange(self.n), self.data.y] = 1
            self._onehot = Y
        return self._onehot

    def batches(self):
        """``(lo, hi)`` of every step of an epoch."""
        bs = self.batch_size
        return [(lo, min(lo + bs, self.n)) for lo in range(0, self.n, bs)]

    def permutation(self, epoch: int) -> np.ndarray | None:
        """The epoch's sample order: the same one :meth:`xpnet.MLP.fit` draws (None: full batch)."""
        if self.full_batch:
            return None
        return np.random.default_rng((self.seed, epoch)).permutation(self.n)

    def gemm_flops(self) -> float:
        """Floating-point operations of the matrix products of one epoch (what the floor does):
        forward ``2·n·Σ n_{l−1}·n_l``, backward ``2·n·n_{l−1}·n_l`` for every dW_l and for every
        dA_{l−1} above the input."""
        s = self.sizes
        fwd = sum(s[i] * s[i + 1] for i in range(len(s) - 1))
        bwd = fwd + sum(s[i] * s[i + 1] for i in range(1, len(s) - 1))
        return 2.0 * self.n * (fwd + bwd)

    def label(self) -> str:
        bs = "full" if self.full_batch else str(self.batch_size)
        return f"{'-'.join(map(str, self.sizes))}, batch {bs}, {self.optimizer} (lr {self.lr:g})"


def _initial_params(sizes, init: str, seed: int) -> dict:
    from .model import MLP

    model = MLP(list(sizes), init=init, backend="numpy", seed=seed)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in model.numpy_params().items()}


# ================================================================================================
# Contenders
# ================================================================================================
class Runner:
    """One contender set up for one problem: ``epoch()`` trains one epoch and returns its mean
    training loss (a float) or None when the contender computes none (the floor)."""

    platform = "cpu"

    def epoch(self) -> float | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def sync(self) -> None:
        """Wait for queued device work (CUDA contenders)."""

    def close(self) -> None:
        """Free what the contender holds."""


@dataclass(frozen=True)
class Contender:
    name: str
    platform: str  # "cpu" or "cuda"
    description: str
    probe: Callable[[], str | None]  # None when usable, else why not
    make: Callable[["Problem"], Runner]
    default: bool = True


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _probe_module(module: str, what: str):
    def probe():
        return None if _have(module) else f"{what} is not installed"
    return probe


def _probe_cupy():
    if not _have("cupy"):
        return "CuPy is not installed"
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "CuPy found no CUDA device"
    except Exception as exc:
        return f"CUDA is not usable through CuPy ({type(exc).__name__})"
    return None


def _probe_torch_cuda():
    if not _have("torch"):
        return "PyTorch is not installed"
    import torch

    return None if torch.cuda.is_available() else "PyTorch sees no CUDA device"


# -- the GEMM floor -----------------------------------------------------------------------------
class FloorRunner(Runner):
    """Only the matrix products of an epoch, into preallocated buffers, on contiguous batches.

    Per batch: forward ``Z_l = A_{l−1}·W_lᵀ`` for every layer; backward ``dW_l = dZ_lᵀ·A_{l−1}``
    for every layer and ``dA_{l−1} = dZ_l·W_l`` for every layer but the first (no input
    gradient). The buffers hold random numbers in [0, 1) (no zeros or denormals).
    """

    def __init__(self, p: Problem, xp=np, platform="cpu", gather: bool = False):
        self.platform = platform
        self.xp = xp
        self.p = p
        self.gather = gather  # take each batch's rows through the epoch's permutation first
        self.e = 0
        to = (lambda a: xp.asarray(a)) if xp is not np else (lambda a: a)
        self.X = to(p.data.X)
        self.W = [to(p.params0[f"W{l}"]) for l in range(1, p.n_layers + 1)]
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
        for lo, hi in self.p.batches():
            A, Z, dZ, dA = self.buffers[hi - lo]
            Xb = X[lo:hi] if order is None else self.xp.take(X, order[lo:hi], axis=0)
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


# -- xpnet itself -------------------------------------------------------------------------------
class XpnetRunner(Runner):
    """:meth:`xpnet.MLP.fit`'s loop on one backend, advanced one epoch at a time."""

    def __init__(self, p: Problem, spec: str):
        from .backend import get_backend
        from .model import MLP
        from .optim import SGD, Adam

        self.backend = get_backend(spec)
        self.platform = "cuda" if self.backend.is_gpu else "cpu"
        self.model = MLP(list(p.sizes), init=p.init, backend=self.backend, seed=p.seed)
        self.model.set_params({k: v.copy() for k, v in p.params0.items()})  # its own copy
        opt = SGD(lr=p.lr) if p.optimizer == "sgd" else Adam(lr=p.lr, **ADAM)
        batch = None if p.full_batch else p.batch_size
        # Host data: fit checks it and moves it to the device once, in the first (warm-up) epoch.
        self._epochs = self.model._fit_epochs(p.data.X, p.data.y, 1 << 40, batch, opt, None, True, ())

    def epoch(self):
        return next(self._epochs)["loss"]

    def sync(self):
        self.backend.synchronize()

    def close(self):
        self._epochs.close()


def _xpnet(spec):
    return lambda p: XpnetRunner(p, spec)


# -- plain NumPy ----------------------------------------------------------------------------------
class NumpyRunner(Runner):
    """Hand-written NumPy, as the tutorial writes it (generalised to L layers)."""

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
            m_hat = self.m[k] / (1 - b1 ** self.t)
            v_hat = self.v[k] / (1 - b2 ** self.t)
            P[k] -= lr * m_hat / (np.sqrt(v_hat) + eps)


# -- PyTorch eager --------------------------------------------------------------------------------
class TorchRunner(Runner):
    """PyTorch eager: F.linear/relu/cross_entropy, autograd, torch.optim (default implementation)."""

    def __init__(self, p: Problem, device: str = "cpu"):
        import torch

        self.torch = torch
        self.p = p
        self.device = torch.device(device)
        self.platform = "cuda" if self.device.type == "cuda" else "cpu"
        if self.platform == "cuda":  # plain float32 matrix products, no TF32
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        self.X = torch.from_numpy(p.data.X).to(self.device)
        self.y = torch.from_numpy(p.data.y).to(self.device)
        self.params = [torch.tensor(p.params0[f"{k}{l}"], device=self.device, requires_grad=True)
                       for l in range(1, p.n_layers + 1) for k in ("W", "b")]
        if p.optimizer == "sgd":
            self.opt = torch.optim.SGD(self.params, lr=p.lr)
        else:
            self.opt = torch.optim.Adam(self.params, lr=p.lr, betas=(ADAM["beta1"], ADAM["beta2"]),
                                        eps=ADAM["eps"])
        self.e = 0

    def epoch(self):
        torch, F = self.torch, self.torch.nn.functional
        p = self.p
        order = p.permutation(self.e)
        self.e += 1
        if order is not None:
            order = torch.from_numpy(order).to(self.device)
        loss_sum = torch.zeros((), device=self.device)
        L = p.n_layers
        for lo, hi in p.batches():
            if order is None:
                Xb, yb = self.X, self.y
            else:
                idx = order[lo:hi]
                Xb, yb = self.X[idx], self.y[idx]
            A = Xb
            for l in range(L):
                A = F.linear(A, self.params[2 * l], self.params[2 * l + 1])
                if l < L - 1:
                    A = torch.relu(A)
            loss = F.cross_entropy(A, yb)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            loss_sum += loss.detach() * (hi - lo)
        return float(loss_sum) / p.n  # one read per epoch

    def sync(self):
        if self.platform == "cuda":
            self.torch.cuda.synchronize(self.device)


# -- JAX ------------------------------------------------------------------------------------------
class JaxRunner(Runner):
    """JAX with jax.grad; ``mode="jit"``: one jitted step per batch; ``"scan"``: the epoch's
    full batches in one jitted ``lax.scan`` (then one jitted step for a last partial batch)."""

    def __init__(self, p: Problem, mode: str):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp, self.p, self.mode = jax, jnp, p, mode
        dev = jax.devices("cpu")[0]  # the CPU contenders, even where JAX also sees a GPU
        self.platform = "cpu"
        put = lambda a: jax.device_put(a, dev)  # noqa: E731
        self.X, self.Y = put(p.data.X), put(p.Y)
        self.params = {k: put(v.copy()) for k, v in p.params0.items()}  # donated: a copy
        self.state = ({k: jnp.zeros_like(v) for k, v in self.params.items()},  # m
                      {k: jnp.zeros_like(v) for k, v in self.params.items()},  # v
                      jnp.zeros((), jnp.float32))  # t
        L, lr, opt = p.n_layers, p.lr, p.optimizer
        b1, b2, eps = ADAM["beta1"], ADAM["beta2"], ADAM["eps"]

        def loss_fn(params, Xb, Yb):
            A = Xb
            for l in range(1, L + 1):
                A = A @ params[f"W{l}"].T + params[f"b{l}"]
                if l < L:
                    A = jax.nn.relu(A)
            return -jnp.sum(Yb * jax.nn.log_softmax(A, axis=1))  # summed over the batch

        def step(params, state, Xb, Yb):
            loss_sum, g = jax.value_and_grad(loss_fn)(params, Xb, Yb)
            scale = 1.0 / Xb.shape[0]
            if opt == "sgd":
                params = {k: w - (lr * scale) * g[k] for k, w in params.items()}
                return params, state, loss_sum
            m, v, t = state
            t = t + 1
            g = {k: gk * scale for k, gk in g.items()}
            m = {k: b1 * m[k] + (1 - b1) * g[k] for k in g}
            v = {k: b2 * v[k] + (1 - b2) * g[k] * g[k] for k in g}
            alpha = lr * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            params = {k: w - alpha * m[k] / (jnp.sqrt(v[k]) + eps * jnp.sqrt(1 - b2 ** t))
                      for k, w in params.items()}
            return params, (m, v, t), loss_sum

        def gather_step(params, state, X, Y, idx):
            return step(params, state, jnp.take(X, idx, axis=0), jnp.take(Y, idx, axis=0))

        def scan_epoch(params, state, X, Y, idx2d):
            def body(carry, idx):
                params, state, total = carry
                params, state, loss_sum = gather_step(params, state, X, Y, idx)
                return (params, state, total + loss_sum), None

            (params, state, total), _ = jax.lax.scan(body, (params, state, jnp.zeros((), jnp.float32)), idx2d)
            return params, state, total

        self._step = jax.jit(step, donate_argnums=(0, 1))
        self._gather_step = jax.jit(gather_step, donate_argnums=(0, 1))
        self._scan_epoch = jax.jit(scan_epoch, donate_argnums=(0, 1))
        self._put = put
        self.e = 0

    def epoch(self):
        p, jnp = self.p, self.jnp
        order = p.permutation(self.e)
        self.e += 1
        if order is None:
            self.params, self.state, total = self._step(self.params, self.state, self.X, self.Y)
            return float(total) / p.n
        bs = p.batch_size
        nb = p.n // bs
        if self.mode == "scan":
            idx2d = self._put(order[:nb * bs].reshape(nb, bs))
            self.params, self.state, total = self._scan_epoch(self.params, self.state, self.X, self.Y, idx2d)
            totals = [total]
        else:
            order_dev = self._put(order)
            totals = []
            for b in range(nb):
                self.params, self.state, t = self._gather_step(
                    self.params, self.state, self.X, self.Y, order_dev[b * bs:(b + 1) * bs])
                totals.append(t)
        if nb * bs < p.n:
            self.params, self.state, t = self._gather_step(
                self.params, self.state, self.X, self.Y, self._put(order[nb * bs:]))
            totals.append(t)
        return float(sum(float(t) for t in totals)) / p.n

    def sync(self):
        self.jax.block_until_ready(self.params)


CONTENDERS: dict[str, Contender] = {
    c.name: c
    for c in [
        Contender("floor", "cpu", "NumPy matrix products only (matmul(out=)), no shuffling",
                  lambda: None, lambda p: FloorRunner(p)),
        Contender("floor+gather", "cpu", "the floor plus each batch's rows gathered through the "
                  "epoch's permutation (what shuffling adds)", lambda: None,
                  lambda p: FloorRunner(p, gather=True)),
        Contender("xpnet-numpy", "cpu", "xpnet MLP.fit on NumPy", lambda: None, _xpnet("numpy")),
        Contender("numpy", "cpu", "plain hand-written NumPy (tutorial style)", lambda: None, NumpyRunner),
        Contender("torch", "cpu", "PyTorch eager CPU, autograd + torch.optim",
                  _probe_module("torch", "PyTorch"), lambda p: TorchRunner(p, "cpu")),
        Contender("xpnet-torch", "cpu", "xpnet MLP.fit on PyTorch CPU",
                  _probe_module("torch", "PyTorch"), _xpnet("torch:cpu")),
        Contender("jax-jit", "cpu", "JAX, jax.grad, one jitted step per batch",
                  _probe_module("jax", "JAX"), lambda p: JaxRunner(p, "jit")),
        Contender("jax-scan", "cpu", "JAX, jax.grad, whole epoch jitted with lax.scan",
                  _probe_module("jax", "JAX"), lambda p: JaxRunner(p, "scan")),
        Contender("xpnet-jax", "cpu", "xpnet MLP.fit on JAX (eager, not jitted)",
                  _probe_module("jax", "JAX"), _xpnet("jax"), default=False),
        Contender("xpnet-strict", "cpu", "xpnet MLP.fit on array-api-strict (the slow oracle)",
                  _probe_module("array_api_strict", "array-api-strict"), _xpnet("array_api_strict"),
                  default=False),
        Contender("floor-cupy", "cuda", "CuPy matrix products only (matmul(out=)), no shuffling",
                  _probe_cupy, lambda p: _cupy_floor(p)),
        Contender("xpnet-cupy", "cuda", "xpnet MLP.fit on CuPy", _probe_cupy, _xpnet("cupy")),
        Contender("torch-cuda", "cuda", "PyTorch eager CUDA, autograd + torch.optim",
                  _probe_torch_cuda, lambda p: TorchRunner(p, "cuda")),
        Contender("xpnet-torch-cuda", "cuda", "xpnet MLP.fit on PyTorch CUDA", _probe_torch_cuda,
                  _xpnet("torch:cuda"), default=False),
    ]
}
_FLOOR_OF = {"cpu": "floor", "cuda": "floor-cupy"}


def _cupy_floor(p: Problem) -> Runner:
    import cupy

    return FloorRunner(p, xp=cupy, platform="cuda")


def available_contenders() -> dict[str, str | None]:
    """Every contender's name → None when usable here, else the reason it is not."""
    out = {}
    for name, c in CONTENDERS.items():
        try:
            out[name] = c.probe()
        except Exception as exc:  # a broken install must not stop the benchmark
            out[name] = f"{type(exc).__name__}: {exc}"
    return out


def select_contenders(spec: str | None) -> tuple[list[str], dict[str, str]]:
    """Resolve ``--contenders``: ``default``/``None`` (every usable default contender), ``all``
    (every usable one) or a comma-separated list of names. Returns (selected, skipped→reason)."""
    usable = available_contenders()
    if spec in (None, "", "default"):
        wanted = [n for n, c in CONTENDERS.items() if c.default]
    elif spec == "all":
        wanted = list(CONTENDERS)
    else:
        wanted = [s.strip() for s in spec.split(",") if s.strip()]
        unknown = [w for w in wanted if w not in CONTENDERS]
        if unknown:
            raise click.BadParameter(f"unknown contender(s) {unknown}; choose from {', '.join(CONTENDERS)}")
    selected = [n for n in wanted if usable[n] is None]
    skipped = {n: usable[n] for n in wanted if usable[n] is not None}
    return selected, skipped


# ================================================================================================
# Timing and memory
# ================================================================================================
def _uses_torch(runner: Runner) -> bool:
    return isinstance(runner, TorchRunner) or getattr(getattr(runner, "backend", None), "name", "") == "torch"


class _CudaEvents:
    """CUDA events on the current stream of the library that runs the contender (PyTorch's
    for PyTorch contenders, else CuPy's)."""

    def __init__(self, torch_events: bool = False):
        try:
            if torch_events:
                raise ImportError
            import cupy

            self.lib = "cupy"
            self.start, self.end = cupy.cuda.Event(), cupy.cuda.Event()
        except ImportError:
            import torch

            self.lib = "torch"
            self.start = torch.cuda.Event(enable_timing=True)
            self.end = torch.cuda.Event(enable_timing=True)

    def elapsed_s(self) -> float:
        self.end.synchronize()
        if self.lib == "cupy":
            import cupy

            return cupy.cuda.get_elapsed_time(self.start, self.end) / 1000.0
        return self.start.elapsed_time(self.end) / 1000.0


def _time_epoch(runner: Runner) -> tuple[float, float, float | None]:
    """(wall seconds, CPU seconds, loss) of one epoch; CUDA contenders: wall = CUDA event time."""
    if runner.platform == "cuda":
        runner.sync()
        ev = _CudaEvents(torch_events=_uses_torch(runner))
        c0 = time.process_time()
        ev.start.record()
        loss = runner.epoch()
        ev.end.record()
        elapsed = ev.elapsed_s()
        return elapsed, time.process_time() - c0, loss
    t0, c0 = time.perf_counter(), time.process_time()
    loss = runner.epoch()
    return time.perf_counter() - t0, time.process_time() - c0, loss


def _rss_kib() -> dict:
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, val = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(val.split()[0])
    except OSError:
        pass
    return out


def _malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except Exception:
        pass


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _measure_memory(runner: Runner) -> tuple[float | None, str]:
    """Extra memory (MiB) one epoch needs beyond what exists before it, and how it was measured."""
    if runner.platform == "cuda":
        return _measure_cuda_memory(runner)
    gc.collect()
    _malloc_trim()
    before = _rss_kib().get("VmRSS")
    if before is None or not _reset_peak_rss():
        import tracemalloc

        tracemalloc.start()
        runner.epoch()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak / 2**20, "tracemalloc peak (NumPy buffers only)"
    runner.epoch()
    peak = _rss_kib().get("VmHWM", before)
    return max(peak - before, 0) / 1024, "peak RSS growth during an epoch"


def _measure_cuda_memory(runner: Runner) -> tuple[float | None, str]:
    runner.sync()
    if _uses_torch(runner):
        import torch

        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        runner.epoch()
        runner.sync()
        return (torch.cuda.max_memory_allocated() - before) / 2**20, "peak CUDA memory allocated during an epoch"
    try:
        import cupy
        from cupy.cuda import memory_hook

        class _Peak(memory_hook.MemoryHook):
            name = "xpnet-bench-peak"

            def __init__(self):
                self.cur = self.peak = 0

            # CuPy calls these with keyword arguments (device_id, size, mem_size, mem_ptr, ...)
            def malloc_postprocess(self, **kwargs):
                self.cur += kwargs["mem_size"]
                self.peak = max(self.peak, self.cur)

            def free_postprocess(self, **kwargs):
                self.cur -= kwargs["mem_size"]

        hook = _Peak()
        with hook:
            runner.epoch()
            runner.sync()
        cupy.cuda.Device().synchronize()
        return hook.peak / 2**20, "peak CuPy memory-pool use during an epoch"
    except Exception as exc:  # pragma: no cover - needs a GPU
        return None, f"not measured ({type(exc).__name__})"


# ================================================================================================
# The run
# ================================================================================================
class _ThreadLimits:
    """Limit BLAS/OpenMP (threadpoolctl), PyTorch and, if not yet imported, XLA to ``threads``
    for the whole run; :meth:`restore` undoes what can be undone (XLA's setting cannot)."""

    def __init__(self, threads: int | None):
        self.limiter = self.torch_threads = None
        if threads is None:
            return
        if "jax" not in sys.modules and threads == 1:
            flags = os.environ.get("XLA_FLAGS", "")
            if "xla_cpu_multi_thread_eigen" not in flags:
                os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                                           "intra_op_parallelism_threads=1").strip()
        if _have("torch"):
            import torch

            self.torch_threads = torch.get_num_threads()
            torch.set_num_threads(threads)
        from threadpoolctl import threadpool_limits

        self.limiter = threadpool_limits(limits=threads)

    def restore(self) -> None:
        if self.limiter is not None:
            self.limiter.restore_original_limits()
        if self.torch_threads is not None:
            import torch

            torch.set_num_threads(self.torch_threads)


def _environment(threads) -> dict:
    import array_api_compat

    from . import __version__

    libs = {"numpy": np.__version__, "array_api_compat": array_api_compat.__version__}
    for mod in ("torch", "jax", "jaxlib", "cupy", "array_api_strict"):
        m = sys.modules.get(mod)
        if m is not None:
            libs[mod] = getattr(m, "__version__", "?")
    try:
        from threadpoolctl import threadpool_info

        pools = threadpool_info()
    except Exception as exc:  # pragma: no cover
        pools = [{"error": str(exc)}]
    torch_threads = None
    if "torch" in sys.modules:
        torch_threads = sys.modules["torch"].get_num_threads()
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    env = {k: os.environ[k] for k in _ENV_KEYS if k in os.environ}
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        load = None
    return {
        "xpnet": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "load_average": load,
        "libraries": libs,
        "threads_requested": threads,
        "malloc_tuned": _malloc_tuned(),
        "torch_threads": torch_threads,
        "threadpool_info": pools,
        "env": env,
        "warnings": [f"{k}={os.environ[k]} is set: it pins OpenBLAS's kernel choice and can make "
                     f"NumPy much slower; unset it for representative numbers" for k in _SLOW_ENV
                     if k in os.environ],
    }


def _malloc_tuned() -> bool:
    from . import backend

    return bool(backend._ALLOCATOR_TUNED)


def _median(xs):
    return statistics.median(xs) if xs else None


def run_benchmark(
    *,
    epochs: int = 5,
    warmup: int = 1,
    batch_sizes=(128, 512, None),
    optimizers=("sgd", "adam"),
    contenders: str | None = None,
    threads: int | None = None,
    data: str = "auto",
    n_samples: int | None = None,
    sizes=DEFAULT_SIZES,
    tutorial: bool = True,
    tutorial_epochs: int | None = None,
    memory: bool = True,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Run the benchmark and return its results as a JSON-ready dict (see the module docstring).

    ``batch_sizes``: ints, ``None`` meaning the full batch. ``contenders``: see
    :func:`select_contenders`. ``tutorial`` adds the tutorial network (784-10-10, full batch,
    SGD α = 0.1, uniform initialisation) timed over ``tutorial_epochs`` iterations (default
    ``max(epochs, 10)``).
    """
    say = progress or (lambda msg: None)
    limits = _ThreadLimits(threads)
    from .backend import get_backend

    # xpnet's own setting for training on NumPy (glibc malloc thresholds, process-wide: see
    # xpnet.backend.tune_host_allocator), applied before any contender runs so that all of
    # them run under it; XPNET_MALLOC_TUNING=0 turns it off.
    get_backend("numpy").prepare_training()
    try:
        selected, skipped = select_contenders(contenders)
        bench_data = load_bench_data(data, n_samples, seed)
        say(f"data: {bench_data.source}, {bench_data.n} samples")
        problems = []
        for opt in optimizers:
            if opt not in DEFAULT_LR:
                raise click.BadParameter(f"unknown optimizer {opt!r}; choose sgd or adam")
            for bs in batch_sizes:
                size = bench_data.n if bs is None else min(int(bs), bench_data.n)
                problems.append(Problem(bench_data, tuple(sizes), size, opt, DEFAULT_LR[opt], "he", seed))
        if tutorial:
            problems.append(Problem(bench_data, TUTORIAL_SIZES, bench_data.n, "sgd", 0.1, "tutorial", seed))
        results = []
        for p in problems:
            p.params0 = _initial_params(p.sizes, p.init, p.seed)
            is_tutorial = p.init == "tutorial"
            n_epochs = (tutorial_epochs or max(epochs, 10)) if is_tutorial else epochs
            say(f"{p.label()}: {', '.join(selected)}")
            results.append(_run_problem(p, selected, skipped, n_epochs, warmup, memory, is_tutorial, say))
        return {
            "benchmark": "xpnet bench",
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
            "environment": _environment(threads),
            "data": {"source": bench_data.source, "n_samples": bench_data.n,
                     "n_features": int(bench_data.X.shape[1])},
            "epochs": epochs,
            "warmup": warmup,
            "clock": {"cpu": "wall clock (time.perf_counter) and process CPU time (time.process_time)",
                      "cuda": "CUDA events on the default stream after a device synchronisation"},
            "results": results,
        }
    finally:
        limits.restore()


def _run_problem(p: Problem, selected, skipped, epochs, warmup, memory, is_tutorial, say) -> dict:
    entries: dict[str, dict] = {}
    runners: dict[str, Runner] = {}
    for name in selected:
        c = CONTENDERS[name]
        entry = {"name": name, "platform": c.platform, "description": c.description, "status": "ok",
                 "reason": None, "epoch_seconds": [], "epoch_cpu_seconds": [], "losses": []}
        entries[name] = entry
        try:
            runners[name] = c.make(p)
        except Exception as exc:
            entry.update(status="failed", reason=f"setup: {type(exc).__name__}: {exc}")
    for name, why in skipped.items():
        entries[name] = {"name": name, "platform": CONTENDERS[name].platform,
                         "description": CONTENDERS[name].description, "status": "skipped", "reason": why}
    # Interleaved epochs: every contender's epoch e before any contender's epoch e + 1.
    for e in range(warmup + epochs):
        for name, r in list(runners.items()):
            try:
                wall, cpu, loss = _time_epoch(r)
            except Exception as exc:
                entries[name].update(status="failed", reason=f"epoch {e + 1}: {type(exc).__name__}: {exc}")
                r.close()
                del runners[name]
                continue
            entries[name]["losses"].append(loss)
            if e >= warmup:
                entries[name]["epoch_seconds"].append(wall)
                entries[name]["epoch_cpu_seconds"].append(cpu)
        say(f"  epoch {e + 1}/{warmup + epochs}" + (" (warm-up)" if e < warmup else ""))
    if memory:
        for name, r in runners.items():
            try:
                mib, how = _measure_memory(r)
            except Exception as exc:
                mib, how = None, f"not measured ({type(exc).__name__}: {exc})"
            entries[name]["peak_extra_mib"] = mib
            entries[name]["memory_method"] = how
    for r in runners.values():
        r.close()
    runners.clear()
    gc.collect()

    flops = p.gemm_flops()
    medians = {n: _median(e.get("epoch_seconds", [])) for n, e in entries.items()}
    cpu_medians = {n: _median(e.get("epoch_cpu_seconds", [])) for n, e in entries.items()}
    out = []
    for name, entry in entries.items():
        if entry["status"] == "ok":
            med, cmed = medians[name], cpu_medians[name]
            floor = _FLOOR_OF[entry["platform"]]
            fmed, fcmed = medians.get(floor), cpu_medians.get(floor)
            losses = [x for x in entry.pop("losses") if x is not None]
            entry.update(
                median_s=med,
                median_cpu_s=cmed,
                ratio_to_floor=(med / fmed) if med and fmed else None,
                cpu_ratio_to_floor=(cmed / fcmed) if cmed and fcmed and entry["platform"] == "cpu" else None,
                samples_per_s=(p.n / med) if med else None,
                gemm_gflop_per_s=(flops / med / 1e9) if med else None,
                final_loss=losses[-1] if losses else None,
            )
            if is_tutorial and med:
                entry["iterations_500_s"] = 500 * med
        else:
            entry.pop("losses", None)
        out.append(entry)
    return {
        "network": "-".join(map(str, p.sizes)),
        "sizes": list(p.sizes),
        "tutorial": is_tutorial,
        "init": p.init,
        "batch_size": "full" if p.full_batch else p.batch_size,
        "n_batches": len(p.batches()),
        "optimizer": p.optimizer,
        "lr": p.lr,
        "epochs": epochs,
        "gemm_gflop_per_epoch": flops / 1e9,
        "contenders": out,
    }


# ================================================================================================
# Reporting
# ================================================================================================
def _fmt(x, spec, dash="—"):
    return dash if x is None else format(x, spec)


def print_report(results: dict, console=None) -> None:
    """Print one table per configuration (rich), plus the settings that matter."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    env = results["environment"]
    blas = ", ".join(
        f"{p.get('internal_api', '?')} {p.get('version', '')} {p.get('architecture', '') or ''}"
        f" ({p.get('num_threads', '?')} threads)".replace("  ", " ")
        for p in env["threadpool_info"] if isinstance(p, dict) and "internal_api" in p
    ) or "none found"
    console.print(f"[bold]xpnet bench[/]  {results['created']}  ·  {env['cpu']} ({env['cpu_count']} CPUs)"
                  f"  ·  Python {env['python']}")
    console.print("libraries: " + ", ".join(f"{k} {v}" for k, v in env["libraries"].items()))
    console.print(f"thread pools: {blas}; threads requested: {env['threads_requested']}"
                  + (f"; torch threads: {env['torch_threads']}" if env.get("torch_threads") else "")
                  + f"; glibc malloc thresholds raised: {'yes' if env.get('malloc_tuned') else 'no'}")
    if env.get("env"):
        console.print("environment: " + ", ".join(f"{k}={v}" for k, v in env["env"].items()))
    if env.get("load_average"):
        console.print("load average at the end: " + ", ".join(f"{x:.2f}" for x in env["load_average"]))
    console.print(f"data: {results['data']['source']}, {results['data']['n_samples']} samples; "
                  f"median of {results['epochs']} epochs after {results['warmup']} warm-up epoch(s), "
                  "contenders interleaved epoch by epoch")
    for w in env.get("warnings", []):
        console.print(f"[bold yellow]warning:[/] {w}")
    skipped = {}
    for res in results["results"]:
        for c in res["contenders"]:
            if c["status"] == "skipped":
                skipped[c["name"]] = c["reason"]
    if skipped:
        console.print("not run: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()))
    for res in results["results"]:
        title = (f"{res['network']}{' (the tutorial network)' if res['tutorial'] else ''}, "
                 f"batch {res['batch_size']} ({res['n_batches']} steps/epoch), {res['optimizer']} "
                 f"lr {res['lr']:g} — {res['gemm_gflop_per_epoch']:.2f} GEMM GFLOP/epoch")
        table = Table(title=title, title_justify="left")
        table.add_column("contender", no_wrap=True)
        table.add_column("s/epoch", justify="right")
        table.add_column("× floor", justify="right")
        table.add_column("CPU s/epoch", justify="right")
        table.add_column("× floor (CPU)", justify="right")
        table.add_column("samples/s", justify="right")
        table.add_column("GFLOP/s", justify="right")
        table.add_column("+MiB", justify="right")
        table.add_column("loss", justify="right")
        if res["tutorial"]:
            table.add_column("500 it. (s)", justify="right")
        failed = []
        for c in res["contenders"]:
            if c["status"] == "failed":
                failed.append(c)
            if c["status"] != "ok":
                continue
            row = [
                c["name"],
                _fmt(c["median_s"], ".4f"),
                _fmt(c.get("ratio_to_floor"), ".2f"),
                _fmt(c["median_cpu_s"], ".4f") if c["platform"] == "cpu" else "—",
                _fmt(c.get("cpu_ratio_to_floor"), ".2f"),
                _fmt(c["samples_per_s"], ",.0f"),
                _fmt(c["gemm_gflop_per_s"], ".1f"),
                _fmt(c.get("peak_extra_mib"), ".1f"),
                _fmt(c.get("final_loss"), ".4f"),
            ]
            if res["tutorial"]:
                row.append(_fmt(c.get("iterations_500_s"), ".2f"))
            table.add_row(*row)
        console.print(table)
        for c in failed:
            console.print(f"[red]failed:[/] {c['name']}: {c['reason']}")
    console.print("[dim]× floor: median seconds per epoch over the GEMM floor's on the same device "
                  "(wall clock; CUDA events on GPUs). +MiB: extra memory one epoch touches. "
                  "loss: mean training loss of the last epoch.[/]")


# ================================================================================================
# Command line
# ================================================================================================
def _parse_batch_sizes(text: str):
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        if part in ("full", "none", "all"):
            out.append(None)
        else:
            try:
                value = int(part)
            except ValueError:
                raise click.BadParameter(f"batch size {part!r} is not an integer or 'full'") from None
            if value < 1:
                raise click.BadParameter(f"batch size must be >= 1, got {value}")
            out.append(value)
    if not out:
        raise click.BadParameter("give at least one batch size")
    return out


@click.command("bench")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Timed epochs per contender (median reported). Default 5 (2 with --quick).")
@click.option("--warmup", type=click.IntRange(min=0), default=1, show_default=True,
              help="Untimed epochs first (compilation, caches, page faults).")
@click.option("--batch-sizes", default="128,512,full", show_default=True,
              help="Comma-separated batch sizes; 'full' for full-batch gradient descent.")
@click.option("--optimizers", default="sgd,adam", show_default=True,
              help="Comma-separated: sgd (lr 0.1), adam (lr 1e-3).")
@click.option("--contenders", default="default", show_default=True,
              help="'default' (all usable but xpnet-strict and xpnet-jax), 'all', or a "
                   "comma-separated list; see --list.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Limit BLAS/OpenMP (threadpoolctl), PyTorch and XLA to this many threads for "
                   "the whole run. Default: each library's own default.")
@click.option("--data", default="auto", show_default=True,
              help="'auto' (real Fashion-MNIST if found, else synthetic), 'synthetic', or a "
                   "directory of Fashion-MNIST IDX files.")
@click.option("--samples", type=click.IntRange(min=1), default=None,
              help="Use only the first N training samples. Default: all (12,000 with --quick).")
@click.option("--tutorial/--no-tutorial", default=True, show_default=True,
              help="Also time the tutorial network (784-10-10, full batch, SGD).")
@click.option("--tutorial-only", is_flag=True, help="Time only the tutorial network.")
@click.option("--memory/--no-memory", default=True, show_default=True,
              help="Measure each contender's extra memory in one more, untimed epoch.")
@click.option("--quick", is_flag=True, help="A fast look: 2 epochs on 12,000 samples.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write the results as JSON to this file.")
@click.option("--list", "list_only", is_flag=True, help="List the contenders and whether each is usable.")
@click.option("--seed", type=int, default=0, show_default=True, help="Initial weights and shuffling.")
def bench_command(epochs, warmup, batch_sizes, optimizers, contenders, threads, data, samples,
                  tutorial, tutorial_only, memory, quick, json_path, list_only, seed):
    """Time training epochs of xpnet against the GEMM floor, plain NumPy, PyTorch and JAX.

    All contenders train the same network (784-128-10 ReLU, softmax cross-entropy, float32)
    from the same initial weights in one process, interleaved epoch by epoch; the table gives
    seconds per epoch and the ratio to the floor (only the matrix products an epoch needs).
    """
    from rich.console import Console

    console = Console() if sys.stdout.isatty() else Console(width=200)
    if list_only:
        for name, why in available_contenders().items():
            c = CONTENDERS[name]
            state = "usable" if why is None else f"unavailable: {why}"
            console.print(f"{name:18s} {c.platform:5s} {'' if c.default else '(opt-in) '}{c.description} — {state}")
        return
    if epochs is None:
        epochs = 2 if quick else 5
    if samples is None and quick:
        samples = 12000
    results = run_benchmark(
        epochs=epochs, warmup=warmup, batch_sizes=_parse_batch_sizes(batch_sizes),
        optimizers=[] if tutorial_only else [o.strip().lower() for o in optimizers.split(",") if o.strip()],
        contenders=contenders, threads=threads, data=data, n_samples=samples,
        tutorial=tutorial or tutorial_only,
        memory=memory, seed=seed, progress=lambda msg: console.print(f"[dim]{msg}[/]"),
    )
    print_report(results, console)
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=1, default=_json_default) + "\n")
        console.print(f"results written to {json_path}")


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    return str(obj)


def main(argv=None) -> int:
    """Entry point of ``benchmarks/bench.py``: the same command as ``xpnet bench``."""
    try:
        bench_command.main(args=argv, prog_name="bench.py", standalone_mode=False)
    except click.exceptions.Abort:
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0
