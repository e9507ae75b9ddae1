"""Train / validation / test splits of a dataset, made the same way by training and evaluation.

[`prepare_splits`][xpnet.runs.splits.prepare_splits] turns a [`Dataset`][xpnet.datasets.dataset.Dataset] into train / validation / test
parts, all raw uint8 pixels on the host:

* A dataset with labelled training and test splits (MNIST, Fashion-MNIST): the test split is
  the test set; ``val_split`` of the training images (chosen with the seed) are held out for
  validation.
* A dataset with only one labelled split (a directory with only the ``t10k`` files, a Kaggle
  ``train.csv`` alone, or one with an unlabelled ``test.csv``): `HOLDOUT_FRACTION` (20 %)
  of it, chosen with ``numpy.random.default_rng(seed)``, becomes the test set and the rest the
  training data; ``val_split`` of that training data is then held out for validation. With the
  10,000 MNIST ``t10k`` images and ``val_split=0.2``: 2,000 test, 1,600 validation and 6,400
  training images. The split is recorded in the checkpoint, so [`evaluation_split`][xpnet.runs.splits.evaluation_split] finds
  the same held-out images again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..datasets.errors import DataError
from ..errors import ConfigError

__all__ = ["HOLDOUT_FRACTION", "Splits", "prepare_splits", "test_split", "evaluation_split", "dataset_record"]

#: Fraction of a dataset's only labelled split that is held out as the test set.
HOLDOUT_FRACTION = 0.2


@dataclass
class Splits:
    """Raw (uint8) train / validation / test images and labels, and how they were made.

    ``info`` is recorded in the checkpoint (holdout fraction and source, ``val_split``, seed,
    sizes); ``notes`` are sentences for the user about what was done.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    info: dict
    notes: list = field(default_factory=list)


def _split(x, y, fraction: float, seed: int):
    from ..datasets import train_val_split

    return train_val_split(x, y, fraction, seed=seed)


def _labelled(dataset) -> tuple[bool, bool]:
    return (
        dataset.x_train is not None and dataset.y_train is not None,
        dataset.x_test is not None and dataset.y_test is not None,
    )


def prepare_splits(dataset, val_split: float, seed: int, holdout: float = HOLDOUT_FRACTION) -> Splits:
    """Train / validation / test parts of ``dataset`` (see the module docstring).

    Parameters
    ----------
    dataset : xpnet.datasets.Dataset
        The data, with one or two labelled splits.
    val_split : float
        Fraction of the training part held out for validation, in [0, 1).
    seed : int
        Chooses the held-out images.
    holdout : float
        Fraction of a dataset's only labelled split that becomes the test set.

    Returns
    -------
    Splits

    Raises
    ------
    ConfigError
        ``val_split`` is outside [0, 1).
    DataError
        The data has no labelled images.
    """
    if not 0 <= val_split < 1:
        raise ConfigError(f"--val-split must be in [0, 1), got {val_split}")
    notes = []
    has_train, has_test = _labelled(dataset)
    info: dict[str, Any] = {
        "val_split": val_split,
        "seed": seed,
        "holdout_fraction": None,
        "holdout_from": None,
    }
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
            f"the other {len(x_rest):,}."
        )
    else:
        raise DataError(f"{dataset.source or dataset.name}: the data has no labelled images to train on")
    if val_split > 0:
        x_train, y_train, x_val, y_val = _split(x_rest, y_rest, val_split, seed)
        notes.append(f"Validation: {len(x_val):,} images ({val_split:.0%} of the training data, seed {seed}).")
    else:
        x_train, y_train, x_val, y_val = x_rest, y_rest, x_rest[:0], y_rest[:0]
    info.update(n_train=len(x_train), n_val=len(x_val), n_test=len(x_test))
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, info, notes)


def test_split(dataset, split_info: dict | None) -> tuple[np.ndarray, np.ndarray, str]:
    """The test images and labels of ``dataset`` as a run with ``split_info`` saw them.

    Returns
    -------
    tuple
        ``(x, y, which)``: the test split, or the held-out part when the data had one labelled
        split, and a sentence saying which.

    Raises
    ------
    DataError
        The data has no labelled images.
    """
    info = split_info or {}
    has_train, has_test = _labelled(dataset)
    if has_test and has_train:
        return dataset.x_test, dataset.y_test, f"the test split ({dataset.n_test:,} images)"
    if not (has_test or has_train):
        raise DataError(f"{dataset.source or dataset.name}: the data has no labelled images to evaluate on")
    fraction = info.get("holdout_fraction") or HOLDOUT_FRACTION
    seed = int(info.get("seed", 0))
    x_all = dataset.x_train if has_train else dataset.x_test
    y_all = dataset.y_train if has_train else dataset.y_test
    _, _, x_test, y_test = _split(x_all, y_all, fraction, seed)
    return (
        x_test,
        y_test,
        (
            f"the held-out {fraction:.0%} of the only labelled split "
            f"({len(x_test):,} images, seed {seed}), as in training"
        ),
    )


def evaluation_split(dataset, trained_on: dict | None) -> tuple[np.ndarray, np.ndarray, str]:
    """The images to evaluate a model on, given the record of the data it was trained on.

    The same data (equal SHA-256 checksums) gives the run's own test images
    ([`test_split`][xpnet.runs.splits.test_split]); other data with a test split gives that split; other data with
    one labelled split gives all of it (the model has never seen any of it).

    Returns
    -------
    tuple
        ``(x, y, which)``, as [`test_split`][xpnet.runs.splits.test_split].
    """
    record = trained_on or {}
    same = bool(dataset.checksums) and dict(dataset.checksums) == (record.get("checksums") or {})
    has_train, has_test = _labelled(dataset)
    if same or (has_train and has_test):
        return test_split(dataset, record.get("split") if same else None)
    if not (has_train or has_test):
        raise DataError(f"{dataset.source or dataset.name}: the data has no labels to evaluate against")
    x, y = (dataset.x_train, dataset.y_train) if has_train else (dataset.x_test, dataset.y_test)
    return x, y, f"all {len(x):,} labelled images"


def dataset_record(dataset, spec: str, splits: Splits | None = None) -> dict:
    """What the checkpoint and metrics.json say about the data (name, checksums, split)."""
    record = {
        "name": dataset.name,
        "spec": spec,
        "source": dataset.source,
        "checksums": dict(dataset.checksums),
        "class_names": list(dataset.class_names),
    }
    if splits is not None:
        record["split"] = splits.info
    return record
