"""The glue behind ``xpnet train``: presets, data splits, run directories, checkpoint callbacks
and Ctrl-C handling. No printing here; the command line (:mod:`xpnet.cli`) presents results.

Data splits
-----------
:func:`prepare_splits` turns a :class:`~xpnet.datasets.Dataset` into train / validation / test
parts, all raw uint8 pixels on the host:

* A dataset with labeled training and test splits (MNIST, Fashion-MNIST): the test split is the
  test set; ``val_split`` of the training images (chosen with the seed) are held out for
  validation.
* A dataset with only one labeled split (a directory with only the ``t10k`` files, a Kaggle
  ``train.csv`` alone, or one with an unlabeled ``test.csv``): :data:`HOLDOUT_FRACTION` (20 %)
  of it, chosen with ``numpy.random.default_rng(seed)``, becomes the test set and the rest the
  training data; ``val_split`` of that training data is then held out for validation. With the
  10,000 MNIST ``t10k`` images and ``--val-split 0.2``: 2,000 test, 1,600 validation and 6,400
  training images. The split is recorded in the checkpoint, so ``xpnet evaluate`` measures the
  same held-out images.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .checkpoint import CheckpointError, save
from .model import MLP, Callback
from .optim import Cosine, Optimizer, get_optimizer
from .preprocessing import Preprocessing

__all__ = [
    "PRESETS",
    "HOLDOUT_FRACTION",
    "TrainConfig",
    "Splits",
    "prepare_splits",
    "CheckpointEveryEpoch",
    "random_shifts",
    "train_epochs",
    "stop_on_sigint",
    "default_run_dir",
    "CHECKPOINT_NAME",
    "METRICS_NAME",
]

log = logging.getLogger("xpnet.training")

#: Fraction of a dataset's only labeled split that is held out as the test set.
HOLDOUT_FRACTION = 0.2
#: File names inside a run directory.
CHECKPOINT_NAME = "model.npz"
METRICS_NAME = "metrics.json"

#: Training recipes. ``default``: 784-1024-512-10 ReLU, AdamW (lr 1e-3, decoupled weight decay
#: 0.1) with a cosine schedule, 20 epochs of batch 128, standardised inputs, training images
#: shifted by up to 1 pixel each epoch; about 0.90 test accuracy on Fashion-MNIST (see the
#: measurements in docs). ``tutorial`` is the tutorial's network and training exactly.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {
        "hidden": [1024, 512], "activation": "relu", "init": "he",
        "optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.1, "momentum": 0.0,
        "schedule": "cosine", "epochs": 20, "batch_size": 128, "standardize": True,
        "shift": 1, "val_split": 0.1,
    },
    "tutorial": {
        "hidden": [10], "activation": "relu", "init": "tutorial",
        "optimizer": "sgd", "lr": 0.1, "weight_decay": 0.0, "momentum": 0.0,
        "schedule": "constant", "epochs": 500, "batch_size": None, "standardize": False,
        "shift": 0, "val_split": 0.1,
    },
}


@dataclass
class TrainConfig:
    """Everything that defines a training run (stored in the checkpoint and metrics.json)."""

    preset: str = "default"
    hidden: list = field(default_factory=lambda: [1024, 512])
    activation: str = "relu"
    init: str = "he"
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 0.1
    momentum: float = 0.0
    schedule: str = "cosine"
    epochs: int = 20
    batch_size: int | None = 128
    standardize: bool = True
    shift: int = 1  # augmentation: move training images by up to this many pixels (0: off)
    val_split: float = 0.1
    dtype: str = "float32"
    seed: int = 0
    data: str = "mnist"  # a known dataset name or a path

    @classmethod
    def from_preset(cls, preset: str, **overrides) -> "TrainConfig":
        """The preset's settings with ``overrides`` (those that are not ``None``) applied."""
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
        values = {**PRESETS[preset], "preset": preset}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict:
        return asdict(self)

    def make_model(self, backend=None, n_inputs: int = 784, n_classes: int = 10) -> MLP:
        model = MLP([n_inputs, *self.hidden, n_classes], activation=self.activation, init=self.init,
                    dtype=self.dtype, backend=backend, seed=self.seed)
        model.train_defaults = {"epochs": self.epochs, "batch_size": self.batch_size,
                                "optimizer": self.make_optimizer().get_config()}
        return model

    def make_optimizer(self) -> Optimizer:
        # A cosine schedule is tied to this run's length explicitly, so that it stays the same
        # when training proceeds one epoch per fit() call (augmentation) or is resumed.
        schedule = Cosine(epochs=self.epochs) if self.schedule == "cosine" else self.schedule
        kwargs: dict[str, Any] = {"lr": self.lr, "schedule": schedule, "weight_decay": self.weight_decay}
        if self.optimizer == "sgd":
            kwargs["momentum"] = self.momentum
            kwargs["nesterov"] = False
        elif self.momentum:
            raise ValueError(f"--momentum applies to the sgd optimizer only, not {self.optimizer}")
        return get_optimizer(self.optimizer, **kwargs)

    def describe_optimizer(self) -> str:
        parts = [f"{self.optimizer} lr={self.lr:g}"]
        if self.weight_decay:
            parts.append(f"weight_decay={self.weight_decay:g}")
        if self.momentum:
            parts.append(f"momentum={self.momentum:g}")
        parts.append(f"schedule={self.schedule}")
        if self.shift:
            parts.append(f"random shifts of up to {self.shift} px")
        return ", ".join(parts)


# -- data splits ---------------------------------------------------------------------------------
@dataclass
class Splits:
    """Raw (uint8) train / validation / test images and labels, and how they were made."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    info: dict  # recorded in the checkpoint: holdout fraction/source, val_split, seed, sizes
    notes: list = field(default_factory=list)  # sentences for the user about what was done


def _split(x, y, fraction: float, seed: int):
    from .datasets import train_val_split

    return train_val_split(x, y, fraction, seed=seed)


def prepare_splits(dataset, val_split: float, seed: int, holdout: float = HOLDOUT_FRACTION) -> Splits:
    """Train / validation / test parts of ``dataset`` (see the module docstring).

    Raises ``ValueError`` when there is no labeled data or a fraction leaves a part empty.
    """
    if not 0 <= val_split < 1:
        raise ValueError(f"--val-split must be in [0, 1), got {val_split}")
    notes = []
    has_train = dataset.x_train is not None and dataset.y_train is not None
    has_test = dataset.x_test is not None and dataset.y_test is not None
    info: dict[str, Any] = {"val_split": val_split, "seed": seed, "holdout_fraction": None,
                            "holdout_from": None}
    if has_train and has_test:
        x_rest, y_rest, x_test, y_test = dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test
    elif has_train or has_test:
        source = "train" if has_train else "test"
        x_all = dataset.x_train if has_train else dataset.x_test
        y_all = dataset.y_train if has_train else dataset.y_test
        x_rest, y_rest, x_test, y_test = _split(x_all, y_all, holdout, seed)
        info.update(holdout_fraction=holdout, holdout_from=source)
        missing = "test labels" if has_train else "training split"
        notes.append(
            f"The data has no {missing}: holding out {holdout:.0%} of its {len(x_all):,} {source} "
            f"images ({len(x_test):,}, chosen with seed {seed}) as the test set and training on "
            f"the other {len(x_rest):,}.")
    else:
        raise ValueError(f"{dataset.source or dataset.name}: the data has no labeled images to train on")
    if val_split > 0:
        x_train, y_train, x_val, y_val = _split(x_rest, y_rest, val_split, seed)
        notes.append(f"Validation: {len(x_val):,} images ({val_split:.0%} of the training data, seed {seed}).")
    else:
        x_train, y_train, x_val, y_val = x_rest, y_rest, x_rest[:0], y_rest[:0]
    info.update(n_train=len(x_train), n_val=len(x_val), n_test=len(x_test))
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, info, notes)


def test_split(dataset, split_info: dict | None) -> tuple[np.ndarray, np.ndarray, str]:
    """The test images and labels of ``dataset`` as a training run with ``split_info`` saw them
    (its held-out part when the data had one labeled split), and a sentence saying which."""
    info = split_info or {}
    has_train = dataset.x_train is not None and dataset.y_train is not None
    has_test = dataset.x_test is not None and dataset.y_test is not None
    if has_test and has_train:
        return dataset.x_test, dataset.y_test, f"the test split ({dataset.n_test:,} images)"
    if not (has_test or has_train):
        raise ValueError(f"{dataset.source or dataset.name}: the data has no labeled images to evaluate on")
    fraction = info.get("holdout_fraction") or HOLDOUT_FRACTION
    seed = int(info.get("seed", 0))
    x_all = dataset.x_train if has_train else dataset.x_test
    y_all = dataset.y_train if has_train else dataset.y_test
    _, _, x_test, y_test = _split(x_all, y_all, fraction, seed)
    return x_test, y_test, (f"the held-out {fraction:.0%} of the only labeled split "
                            f"({len(x_test):,} images, seed {seed}), as in training")


def dataset_record(dataset, spec: str, splits: Splits | None = None) -> dict:
    """What the checkpoint and metrics.json say about the data."""
    record = {"name": dataset.name, "spec": spec, "source": dataset.source,
              "checksums": dict(dataset.checksums), "class_names": list(dataset.class_names)}
    if splits is not None:
        record["split"] = splits.info
    return record


# -- augmentation and the epoch loop --------------------------------------------------------------
def random_shifts(images: np.ndarray, max_shift: int, seed) -> np.ndarray:
    """Move every 28×28 image by a random whole number of pixels, up to ``max_shift`` in each
    direction (independently for rows and columns; uncovered pixels become 0).

    ``images`` are raw ``(N, 784)`` pixels; the result has the same shape and dtype. The same
    ``seed`` gives the same shifts, so an augmented epoch can be recomputed exactly on resume.
    """
    images = np.asarray(images)
    if max_shift <= 0:
        return images
    n, side = len(images), int(round(np.sqrt(images.shape[1])))
    s = int(max_shift)
    rng = np.random.default_rng(seed)
    dy, dx = rng.integers(-s, s + 1, n), rng.integers(-s, s + 1, n)
    padded = np.pad(images.reshape(n, side, side), ((0, 0), (s, s), (s, s)))
    out = np.empty((n, side, side), dtype=images.dtype)
    for a in range(-s, s + 1):
        for b in range(-s, s + 1):
            idx = np.flatnonzero((dy == a) & (dx == b))
            out[idx] = padded[idx, s - a: s - a + side, s - b: s - b + side]
    return out.reshape(n, side * side)


def train_epochs(model: MLP, x_train: np.ndarray, y_train: np.ndarray, preprocessing: Preprocessing,
                 config: TrainConfig, optimizer: Optimizer | None, validation=None,
                 callbacks=(), should_stop: Callable[[], bool] = lambda: False) -> None:
    """Train ``model`` until it has finished ``config.epochs`` epochs (or is stopped).

    Without augmentation this is one :meth:`MLP.fit` call. With ``config.shift`` every epoch
    gets freshly shifted images (seeded by ``(seed, epoch)``) and its own ``fit`` call; the
    model's epoch/batch counters, optimizer state and the explicit cosine length make that
    identical to one long run, and an interrupted epoch is finished with the same images.
    Raises :class:`~xpnet.TrainingDiverged` like ``fit``.
    """
    model.backend.prepare_training()  # xpnet train's explicit, process-wide speed setting (NumPy: malloc)
    model.preprocessing = preprocessing  # the model scales its raw inputs itself, and saves that
    kwargs = dict(batch_size=config.batch_size, validation_data=validation, callbacks=list(callbacks))
    if not config.shift:
        model.fit(x_train, y_train, epochs=max(0, config.epochs - model.epoch),
                  optimizer=optimizer, **kwargs)
        return
    while model.epoch < config.epochs and not should_stop():
        shifted = random_shifts(x_train, config.shift, (config.seed, model.epoch, 1))
        model.fit(shifted, y_train, epochs=1, optimizer=optimizer, **kwargs)
        optimizer = None  # later epochs continue with the model's optimizer and its state
        if model.history.interrupted:
            break


# -- run directories -----------------------------------------------------------------------------
def default_run_dir(data_name: str, root: str | os.PathLike = "runs") -> Path:
    """``runs/<data>-<YYYYmmdd-HHMMSS>`` (with a suffix if that exists already)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in data_name) or "run"
    base = Path(root) / f"{safe}-{stamp}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


def latest_run_dir(root: str | os.PathLike = "runs") -> Path | None:
    """The most recently modified run directory under ``root`` that holds a checkpoint."""
    root = Path(root)
    if not root.is_dir():
        return None
    runs = [p for p in root.iterdir() if (p / CHECKPOINT_NAME).is_file()]
    return max(runs, key=lambda p: (p / CHECKPOINT_NAME).stat().st_mtime, default=None)


# -- callbacks -----------------------------------------------------------------------------------
class CheckpointEveryEpoch(Callback):
    """Save a checkpoint at the start of training and at the end of an epoch once at least
    ``min_interval`` seconds have passed since the last save (0: after every epoch).

    A diverged epoch raises :class:`~xpnet.TrainingDiverged` before ``on_epoch_end``, so the
    file on disk always holds the last good weights. (Interrupts and the end of training are
    saved by the caller.)
    """

    def __init__(self, path: Path, save_kwargs: Callable[[], dict], min_interval: float = 0.0):
        self.path = Path(path)
        self.save_kwargs = save_kwargs
        self.min_interval = float(min_interval)
        self.saved_at: tuple[int, int] | None = None
        self._last = time.monotonic()

    def save(self, model: MLP) -> Path | None:
        try:
            save(model, self.path, **self.save_kwargs())
        except CheckpointError as exc:  # non-finite weights: keep the last good file
            log.warning("%s", exc)
            return None
        self.saved_at = (model.epoch, model.batch)
        self._last = time.monotonic()
        return self.path

    def on_train_begin(self, model, epochs, n_batches):
        if not self.path.exists():
            self.save(model)

    def on_epoch_end(self, model, epoch, logs):
        if time.monotonic() - self._last >= self.min_interval:
            self.save(model)


@contextmanager
def stop_on_sigint(model: MLP, on_first: Callable[[], None] | None = None) -> Iterator[dict]:
    """While active, the first Ctrl-C (SIGINT) sets ``model.stop_training`` so that ``fit``
    finishes its current step and returns; a second Ctrl-C raises ``KeyboardInterrupt`` at once.

    Yields a dict whose ``"interrupted"`` entry becomes True after a Ctrl-C. Outside the main
    thread (where Python cannot install signal handlers) this does nothing.
    """
    state = {"interrupted": False}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum, frame):
        if state["interrupted"]:
            raise KeyboardInterrupt
        state["interrupted"] = True
        model.stop_training = True
        if on_first is not None:
            on_first()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)


class Timer:
    """Wall-clock seconds since creation."""

    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.start
