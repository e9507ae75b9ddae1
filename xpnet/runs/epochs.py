"""The epoch loop of a run: one [`MLP.fit`][xpnet.model.mlp.MLP.fit] call with the run's settings.

[`train_epochs`][xpnet.runs.train_epochs] gives the model the run's preprocessing, its optimizer and
the on-device augmentation ([`make_augment`][xpnet.runs.epochs.make_augment]: random shifts,
affine distortions, flips), and trains it until it has finished
``config.epochs`` epochs or a callback stops it. [`Run.train`][xpnet.runs.Run.train] calls it and
handles what training leaves behind (a completed, interrupted or diverged run).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..augment.affine import RandomAffine
from ..augment.elastic import RandomElastic
from ..augment.erasing import RandomErasing
from ..augment.shifts import RandomShifts
from ..errors import ConfigError
from ..model.mlp import MLP
from ..model.preprocessing import Preprocessing
from ..nn.optim import Optimizer
from .config import AUGMENTATIONS, TrainConfig

__all__ = ["train_epochs", "make_augment"]


def train_epochs(
    model: MLP,
    x_train: np.ndarray,
    y_train: np.ndarray,
    preprocessing: Preprocessing,
    config: TrainConfig,
    optimizer: Optimizer | None,
    validation=None,
    callbacks=(),
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Train ``model`` on raw pixels until it has finished ``config.epochs`` epochs (or is stopped).

    ``preprocessing`` becomes the model's own (`MLP.preprocessing`): ``fit`` and every
    later prediction apply it, and checkpoints store it, so raw pixels go in everywhere.

    One [`MLP.fit`][xpnet.model.mlp.MLP.fit] call, so the training images cross to the device once. With
    an augmentation ([`make_augment`][xpnet.runs.epochs.make_augment]) every epoch's images are
    transformed on the device with draws seeded by the seed and the epoch alone, so an interrupted
    epoch is finished with the same images and a resumed run equals an uninterrupted one.

    Raises
    ------
    TrainingDiverged
        As [`MLP.fit`][xpnet.model.mlp.MLP.fit].
    """
    model.preprocessing = preprocessing  # the model scales its raw inputs itself, and saves that
    if should_stop():
        return
    zero = preprocessing.transform(np.zeros((1, 1), np.uint8), model.dtype_name)
    augment = make_augment(config, fill=float(zero[0, 0]))  # uncovered pixels: what a raw 0 becomes
    model.fit(
        x_train,
        y_train,
        epochs=max(0, config.epochs - model.epoch),
        optimizer=optimizer,
        batch_size=config.batch_size,
        validation_data=validation,
        callbacks=list(callbacks),
        augment=augment,
    )


def make_augment(
    config: TrainConfig, fill: float = 0.0
) -> RandomShifts | RandomAffine | RandomElastic | RandomErasing | None:
    """The augmentation ``config`` asks for, or None.

    With ``erase`` > 0 (``--erase P``) the result is ``RandomErasing(erase, base=...)`` of the
    augmentation below (seeded ``(seed, epoch, 4)``): each image is distorted, then given a blank
    rectangle with probability ``erase``.

    * ``augment="shift"`` without ``flip``: ``RandomShifts(shift)`` (None when ``shift`` is 0),
      what ``xpnet train --shift`` has always done, seeded ``(seed, epoch, 1)``;
    * ``augment="affine"``: ``RandomAffine(rotation, scale, shear, shift, flip=flip)``, sub-pixel
      shifts, seeded ``(seed, epoch, 3)``;
    * ``augment="shift"`` or ``"none"`` with ``flip``: ``RandomAffine(shift=shift or 0,
      flip=True, subpixel=False)``, mirror images and whole-pixel shifts (pixels only move);
    * ``augment="none"`` without ``flip``: None;
    * with ``elastic`` (α > 0), whatever ``augment``: ``RandomElastic(elastic, elastic_sigma,
      ...)`` with the affine ranges, shifts and flips above (affine ranges only with
      ``augment="affine"``), the fields seeded ``(seed, epoch, 5)``.

    Parameters
    ----------
    config : TrainConfig
        The run's settings.
    fill : float
        The value of uncovered pixels, in the features' units (what a raw 0 pixel becomes).

    Raises
    ------
    ConfigError
        An unknown ``augment``, or a range [`RandomAffine`][xpnet.augment.affine.RandomAffine] refuses.
    """
    inner = _distortion(config, fill)
    erase = float(getattr(config, "erase", 0.0))
    return RandomErasing(erase, seed=config.seed, fill=fill, base=inner) if erase else inner


def _distortion(config: TrainConfig, fill: float) -> RandomShifts | RandomAffine | RandomElastic | None:
    kind, seed = config.augment, config.seed
    if kind == "auto":
        raise ConfigError(
            "augment='auto' depends on the data: call config.resolve_augment(dataset.name) first "
            "(Run.create does), or choose none, shift or affine"
        )
    if kind not in AUGMENTATIONS:
        raise ConfigError(f"unknown augmentation {kind!r}; choose one of {', '.join(AUGMENTATIONS)}")
    if config.elastic:
        affine = kind == "affine"
        ranges = (config.rotation, config.scale, config.shear) if affine else (0.0, 0.0, 0.0)
        shift = config.shift if kind in ("affine", "shift") else 0
        return RandomElastic(
            config.elastic,
            config.elastic_sigma,
            *ranges,
            shift,
            seed=seed,
            flip=config.flip,
            subpixel=affine,
            fill=fill,
        )
    if kind == "affine":
        return RandomAffine(
            config.rotation, config.scale, config.shear, config.shift, seed=seed, flip=config.flip, fill=fill
        )
    shift = config.shift if kind == "shift" else 0
    if config.flip:
        return RandomAffine(shift=shift, seed=seed, flip=True, subpixel=False, fill=fill)
    return RandomShifts(shift, seed=seed, fill=fill) if shift else None
