"""The epoch loop of a run: one [`MLP.fit`][xpnet.model.MLP.fit] call with the run's settings.

[`train_epochs`][xpnet.runs.train_epochs] gives the model the run's preprocessing, its optimizer and
(with ``config.shift``) the on-device random shifts, and trains it until it has finished
``config.epochs`` epochs or a callback stops it. [`Run.train`][xpnet.runs.Run.train] calls it and
handles what training leaves behind (a completed, interrupted or diverged run).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..augment import RandomShifts
from ..input_transform import Preprocessing
from ..model import MLP
from ..optim import Optimizer
from .config import TrainConfig

__all__ = ["train_epochs"]


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

    One [`MLP.fit`][xpnet.model.MLP.fit] call, so the training images cross to the device once. With
    ``config.shift`` every epoch's images are shifted on the device
    ([`RandomShifts`][xpnet.augment.RandomShifts], seeded by ``(seed, epoch, 1)``: the same images as
    [`random_shifts`][xpnet.augment.random_shifts] of the raw pixels, so an interrupted epoch is finished
    with the same images and a resumed run equals an uninterrupted one).

    Raises
    ------
    TrainingDiverged
        As [`MLP.fit`][xpnet.model.MLP.fit].
    """
    model.preprocessing = preprocessing  # the model scales its raw inputs itself, and saves that
    if should_stop():
        return
    augment = None
    if config.shift:  # an uncovered pixel gets the value a raw 0 pixel is transformed to
        zero = preprocessing.transform(np.zeros((1, 1), np.uint8), model.dtype_name)
        augment = RandomShifts(config.shift, seed=config.seed, fill=float(zero[0, 0]))
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
