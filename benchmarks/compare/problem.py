"""The problem every contender solves: the training data and one benchmark configuration.

The data are loaded through [`xpnet.datasets`][xpnet.datasets] (the real Fashion-MNIST training set when its
files are found, else synthetic images of the same shape); nothing here reads files itself.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xpnet.datasets import DataError, load_dataset, scale

__all__ = [
    "BenchData",
    "Problem",
    "synthetic_data",
    "load_bench_data",
    "initial_params",
    "DEFAULT_SIZES",
    "TUTORIAL_SIZES",
    "TINY_SIZES",
    "DEFAULT_LR",
    "ADAM",
]

DEFAULT_SIZES = (784, 128, 10)
TUTORIAL_SIZES = (784, 10, 10)
#: The tiny network of the per-step overhead table: its matrix products cost next to nothing.
TINY_SIZES = (64, 16, 10)
DEFAULT_LR = {"sgd": 0.1, "adam": 1e-3}
ADAM = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


@dataclass
class BenchData:
    """Training data on the host.

    Attributes
    ----------
    X : numpy.ndarray
        float32 ``(n, n_features)`` in [0, 1].
    y : numpy.ndarray
        int64 ``(n,)`` class labels.
    source : str
        Where the data came from, in words.
    n_classes : int
        Number of classes (10).
    """

    X: np.ndarray
    y: np.ndarray
    source: str
    n_classes: int = 10

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.X.shape[0])


def synthetic_data(
    n: int = 60000, n_features: int = 784, n_classes: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST-like synthetic images with class-dependent patterns.

    Parameters
    ----------
    n : int
        Number of samples.
    n_features : int
        Pixels per image; a square number gets a blank border of ``side // 9`` pixels
        (3 for 28 × 28, as in (Fashion-)MNIST).
    n_classes : int
        Number of classes.
    seed : int
        Seed of the generator.

    Returns
    -------
    x : numpy.ndarray
        uint8 ``(n, n_features)``: ``clip(255 · proto[y] · (0.5 + u), 0, 255)``, u ~ U[0, 1).
    y : numpy.ndarray
        int64 ``(n,)`` labels drawn uniformly.
    """
    rng = np.random.default_rng(seed)
    side = int(round(math.sqrt(n_features)))
    protos = rng.random((n_classes, n_features)).astype(np.float32)
    border = side // 9
    if side * side == n_features and border:
        mask = np.zeros((side, side), np.float32)
        mask[border:-border, border:-border] = 1
        protos *= mask.reshape(-1)
    y = rng.integers(0, n_classes, n).astype(np.int64)
    x = np.empty((n, n_features), np.uint8)
    for lo in range(0, n, 8192):  # in chunks, to keep the float temporaries small
        hi = min(lo + 8192, n)
        noise = rng.random((hi - lo, n_features), dtype=np.float32)
        x[lo:hi] = np.clip(255 * protos[y[lo:hi]] * (0.5 + noise), 0, 255).astype(np.uint8)
    return x, y


def _fashion_dirs() -> list[Path]:
    """Places where the Fashion-MNIST IDX files may be, most specific first."""
    from xpnet.datasets.cache import dataset_dir

    repo = Path(__file__).resolve().parents[2]
    dirs = []
    for var in ("XPNET_BENCH_DATA", "XPNET_TEST_DATA", "XPNET_DATA_DIR"):
        if os.environ.get(var):
            base = Path(os.environ[var])
            dirs += [base, base / "fashion-mnist"]
    dirs += [
        repo.parent / "shared" / "data" / "fashion-mnist",
        repo / "shared" / "data" / "fashion-mnist",
        dataset_dir("fashion-mnist"),
    ]
    return dirs


def _load_train_split(directory: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """``(x_train, y_train)`` of the IDX (or other) files in ``directory``, or None."""
    try:
        ds = load_dataset(directory, download=False, progress=False)
    except DataError:
        return None
    if ds.x_train is None or ds.y_train is None:
        return None
    return ds.x_train, ds.y_train


def load_bench_data(
    source: str = "auto", n_samples: int | None = None, seed: int = 0, n_features: int = 784
) -> BenchData:
    """The benchmark's training set.

    Parameters
    ----------
    source : str
        ``"auto"``: the real Fashion-MNIST training set when its files are found in
        ``$XPNET_BENCH_DATA``, ``$XPNET_TEST_DATA``, ``$XPNET_DATA_DIR`` (or their
        ``fashion-mnist/``), ``../shared/data/fashion-mnist`` or xpnet's dataset cache, else
        synthetic; ``"synthetic"``; or a directory of Fashion-MNIST IDX files.
    n_samples : int, optional
        Keep the first ``n_samples`` samples (default: all; 60,000 synthetic ones).
    seed : int
        Seed of the synthetic data.
    n_features : int
        Pixels per image of synthetic data (real data have 784). Anything but 784 means
        synthetic data whatever ``source`` says.

    Returns
    -------
    BenchData
        ``X = x / 255`` in float32 ([`xpnet.datasets.scale`][xpnet.datasets.preprocess.scale]), ``y`` int64.

    Raises
    ------
    xpnet.datasets.DataError
        If ``source`` is a directory without a readable training split.
    """
    loaded, where = None, ""
    if n_features != 784:
        source = "synthetic"
    if source not in ("auto", "synthetic"):
        try:
            ds = load_dataset(Path(source), download=False, progress=False)
        except DataError as exc:
            raise DataError(f"--data {source}: {exc}") from None
        if ds.x_train is None or ds.y_train is None:
            raise DataError(
                f"--data {source}: no training split (train-images-idx3-ubyte[.gz] "
                "and train-labels-idx1-ubyte[.gz]) there"
            )
        loaded, where = (ds.x_train, ds.y_train), f"Fashion-MNIST train ({source})"
    elif source == "auto":
        for d in _fashion_dirs():
            if d.is_dir():
                loaded = _load_train_split(d)
                if loaded is not None:
                    where = f"Fashion-MNIST train ({d})"
                    break
    if loaded is None:
        n = 60000 if n_samples is None else int(n_samples)
        loaded = synthetic_data(n, n_features=n_features, seed=seed)
        where = (
            "synthetic (Fashion-MNIST shape; the real files were not found)"
            if source == "auto"
            else "synthetic"
            if n_features == 784
            else f"synthetic, {n_features} features"
        )
    x, y = loaded
    if n_samples is not None:
        x, y = x[:n_samples], y[:n_samples]
    X = np.ascontiguousarray(scale(x.reshape(x.shape[0], -1), "float32"))
    return BenchData(X, np.ascontiguousarray(y, dtype=np.int64), where)


@dataclass
class Problem:
    """One benchmark configuration, with host data and the shared initial weights.

    Attributes
    ----------
    data : BenchData
        The training set.
    sizes : tuple of int
        Layer widths ``(n_0, ..., n_L)``.
    batch_size : int
        Samples per step; ``n`` for full batch.
    optimizer : str
        ``"sgd"`` or ``"adam"``.
    lr : float
        Learning rate.
    init : str
        xpnet initialisation (``"he"``; ``"tutorial"`` for the tutorial network).
    seed : int
        Initial weights and shuffling.
    params0 : dict
        Host float32 ``{"W1": (n_1, n_0), "b1": (n_1,), ...}``, the same for every contender.
    """

    data: BenchData
    sizes: tuple[int, ...]
    batch_size: int
    optimizer: str
    lr: float
    init: str = "he"
    seed: int = 0
    params0: dict = field(default_factory=dict)
    _onehot: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of training samples."""
        return self.data.n

    @property
    def full_batch(self) -> bool:
        """Whether one step sees every sample."""
        return self.batch_size >= self.n

    @property
    def n_layers(self) -> int:
        """Number of weight layers L."""
        return len(self.sizes) - 1

    @property
    def Y(self) -> np.ndarray:
        """One-hot float32 targets ``(n, n_L)``, built once."""
        if self._onehot is None:
            Y = np.zeros((self.n, self.sizes[-1]), np.float32)
            Y[np.arange(self.n), self.data.y] = 1
            self._onehot = Y
        return self._onehot

    def batches(self) -> list[tuple[int, int]]:
        """``(lo, hi)`` of every step of an epoch."""
        bs = self.batch_size
        return [(lo, min(lo + bs, self.n)) for lo in range(0, self.n, bs)]

    def permutation(self, epoch: int) -> np.ndarray | None:
        """The epoch's sample order: the same one [`xpnet.MLP.fit`][xpnet.model.mlp.MLP.fit] draws (None: full batch)."""
        if self.full_batch:
            return None
        return np.random.default_rng((self.seed, epoch)).permutation(self.n)

    def gemm_flops(self) -> float:
        """Floating-point operations of the matrix products of one epoch (what the floor does).

        Returns
        -------
        float
            Forward ``2·n·Σ_l n_{l−1}·n_l``, plus backward ``2·n·n_{l−1}·n_l`` for every dW_l
            and for every dA_{l−1} above the input.
        """
        s = self.sizes
        fwd = sum(s[i] * s[i + 1] for i in range(len(s) - 1))
        bwd = fwd + sum(s[i] * s[i + 1] for i in range(1, len(s) - 1))
        return 2.0 * self.n * (fwd + bwd)

    def label(self) -> str:
        """One line naming the configuration."""
        bs = "full" if self.full_batch else str(self.batch_size)
        return f"{'-'.join(map(str, self.sizes))}, batch {bs}, {self.optimizer} (lr {self.lr:g})"


def initial_params(sizes, init: str, seed: int) -> dict:
    """xpnet's initial weights for ``sizes`` as host float32 arrays (every contender's start).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths.
    init : str
        xpnet initialisation scheme.
    seed : int
        Seed.

    Returns
    -------
    dict
        ``{"W1": (n_1, n_0), "b1": (n_1,), ...}``, C-contiguous float32.
    """
    from xpnet.model.mlp import MLP

    model = MLP(list(sizes), init=init, backend="numpy", seed=seed)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in model.numpy_params().items()}
