"""What defines a training run: the presets, [`TrainConfig`][xpnet.runs.config.TrainConfig], and the batch-size parser.

A [`TrainConfig`][xpnet.runs.config.TrainConfig] is stored in every checkpoint and ``metrics.json`` written by
[`xpnet.runs`][xpnet.runs], so a run can be resumed (or repeated) with exactly the same settings.
"""

from __future__ import annotations

import shlex
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, TypedDict

from ..augment.elastic import ELASTIC_DEFAULTS
from ..errors import ConfigError
from ..model.mlp import MLP
from ..nn.averaging import EMA, SWA
from ..nn.optim import Cosine, Optimizer, get_optimizer

__all__ = [
    "PRESETS",
    "AUGMENTATIONS",
    "AUTO_AUGMENT",
    "AFFINE_RANGES",
    "TrainConfig",
    "parse_batch_size",
    "parse_batch_sizes",
]

#: Training recipes. ``default``: 784-512-256-10 ReLU, AdamW (lr 1e-3, decoupled weight decay
#: 0.1) with a cosine schedule, 50 epochs of batch 128, standardised inputs, training images
#: augmented each epoch (``auto``); chosen by the measurements in docs/accuracy.md: 0.9095 test
#: accuracy on Fashion-MNIST, the mean of four seeds (the 784-1024-512-10 network of 20 epochs
#: before it: 0.9027, in about the same time). ``tutorial`` is the tutorial's network and training exactly.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {
        "hidden": [512, 256],
        "activation": "relu",
        "init": "he",
        "optimizer": "adamw",
        "lr": 1e-3,
        "weight_decay": 0.1,
        "momentum": 0.0,
        "schedule": "cosine",
        "epochs": 50,
        "batch_size": 128,
        "standardize": True,
        "shift": 1,
        "augment": "auto",
        "dropout": 0.0,
        "val_split": 0.1,
    },
    "workstation": {
        "hidden": [2048, 1024],
        "activation": "relu",
        "init": "he",
        "optimizer": "adamw",
        "lr": 1e-3,
        "weight_decay": 0.1,
        "momentum": 0.0,
        "schedule": "cosine",
        "epochs": 40,
        "batch_size": 128,
        "standardize": True,
        "shift": 1,
        "augment": "auto",
        "dropout": 0.2,
        "val_split": 0.1,
    },
    "tutorial": {
        "hidden": [10],
        "activation": "relu",
        "init": "tutorial",
        "optimizer": "sgd",
        "lr": 0.1,
        "weight_decay": 0.0,
        "momentum": 0.0,
        "schedule": "constant",
        "epochs": 500,
        "batch_size": None,
        "standardize": False,
        "shift": 0,
        "dropout": 0.0,
        "val_split": 0.1,
    },
}

_FULL_BATCH = ("full", "all", "none")

AUGMENTATIONS = ("auto", "none", "shift", "affine")
"""The kinds of augmentation a run can ask for (``TrainConfig.augment``). ``auto`` is resolved
when the run sees its data ([`TrainConfig.resolve_augment`][xpnet.runs.config.TrainConfig.resolve_augment])."""
AUTO_AUGMENT = {"mnist": "affine"}
"""What ``augment="auto"`` becomes for a dataset of this name (anything else: ``shift``).
Measured in docs/augmentation.md: random affine distortions lower MNIST's test error by about
a quarter against whole-pixel shifts; on Fashion-MNIST (whose shoes all point left) affine
distortions and flips both cost accuracy, and shifts are best."""


class AffineRanges(TypedDict):
    """The keys of `AFFINE_RANGES`: the first arguments of [`RandomAffine`][xpnet.augment.affine.RandomAffine]."""

    rotation: float
    scale: float
    shear: float


AFFINE_RANGES: AffineRanges = {"rotation": 15.0, "scale": 0.15, "shear": 0.2}
"""``--augment affine``'s ranges unless given: the largest rotation (degrees), relative change
of size and shear factor (chosen by the measurements in docs/augmentation.md)."""


def parse_batch_size(text: str | int | None) -> int | None:
    """A batch size as written on a command line: a positive integer, or ``full``.

    Parameters
    ----------
    text : str, int or None
        ``"128"``, ``128``, or ``"full"`` (also ``"all"``, ``"none"``, or ``None``).

    Returns
    -------
    int or None
        The batch size; ``None`` means the full batch (gradient descent on all samples).

    Raises
    ------
    ConfigError
        ``text`` is neither a positive integer nor ``full``.
    """
    if text is None:
        return None
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        word = str(text).strip().lower()
        if word in _FULL_BATCH:
            return None
        try:
            value = int(word)
        except ValueError:
            raise ConfigError(f"batch size {str(text)!r} is neither a positive integer nor 'full'") from None
    if value < 1:
        raise ConfigError(f"batch size {value} must be at least 1 (or 'full' for the full batch)")
    return value


def parse_batch_sizes(text: str) -> list[int | None]:
    """A comma-separated list of batch sizes, each read by [`parse_batch_size`][xpnet.runs.config.parse_batch_size].

    Parameters
    ----------
    text : str
        E.g. ``"128,512,full"``; empty entries (``"64,,128"``) are skipped.

    Returns
    -------
    list of int or None
        One entry per size, ``None`` for each ``full``.

    Raises
    ------
    ConfigError
        An entry is neither a positive integer nor ``full``, or no entry is given.
    """
    sizes = [parse_batch_size(part) for part in str(text).split(",") if part.strip()]
    if not sizes:
        raise ConfigError(f"no batch size in {str(text)!r}; give at least one, e.g. '128,full'")
    return sizes


@dataclass
class TrainConfig:
    """Everything that defines a training run (stored in the checkpoint and metrics.json).

    Attributes
    ----------
    preset : str
        The preset the settings started from (``default``, ``workstation`` or ``tutorial``).
    hidden : list of int
        Hidden layer widths.
    activation, init, optimizer, schedule : str
        See [`xpnet.MLP`][xpnet.model.mlp.MLP] and [`xpnet.nn.optim`][xpnet.nn.optim].
    lr, weight_decay, momentum : float
        Optimizer settings (``momentum``: SGD only).
    epochs : int
        Length of the run; ``batch_size``: samples per step, ``None`` for the full batch.
    standardize : bool
        Standardise the scaled pixels with the training set's mean and standard deviation.
    augment : str
        Augmentation of the training images every epoch: ``shift`` (random whole-pixel shifts of
        up to ``shift`` pixels, [`RandomShifts`][xpnet.augment.shifts.RandomShifts]), ``affine``
        (random rotations, scaling, shear and sub-pixel shifts,
        [`RandomAffine`][xpnet.augment.affine.RandomAffine]), ``none``, or ``auto`` (the presets'):
        ``affine`` for handwritten digits (MNIST), ``shift`` otherwise, decided by
        [`resolve_augment`][xpnet.runs.config.TrainConfig.resolve_augment] once the data is
        known and recorded as such.
    shift : int
        The largest shift in pixels (``shift`` and ``affine``; 0 with ``shift``: off).
    flip : bool
        Also mirror each training image left–right with probability ½ (with any ``augment``).
    rotation, scale, shear : float
        ``affine``'s largest rotation in degrees, relative change of size, and shear factor.
    elastic : float
        Also elastic distortions (Simard et al. 2003) of this scale ``α`` (0: off), with any
        ``augment`` ([`RandomElastic`][xpnet.augment.elastic.RandomElastic]).
    elastic_sigma : float
        The elastic distortions' smoothness: the Gaussian's standard deviation in pixels.
    dropout : float
        Inverted dropout rate of every hidden layer while training (0: off).
    ema : float or None
        Decay of an exponential moving average of the weights, updated after every step
        ([`xpnet.EMA`][xpnet.nn.averaging.EMA]); validation, the checkpoint's predictions and the
        test accuracy use the averaged weights. ``None``: no averaging.
    swa_epochs : int or None
        Stochastic weight averaging ([`xpnet.SWA`][xpnet.nn.averaging.SWA]) of the last this
        many epochs: the mean of the weights at the ends of epochs ``epochs − swa_epochs + 1,
        …, epochs``, used like ``ema``'s average (and not together with it). Best with
        ``schedule="constant"``: the cosine schedule decays to 0, so the last epochs' weights
        hardly differ. ``None``: off.
    erase : float
        Random erasing ([`RandomErasing`][xpnet.augment.erasing.RandomErasing]): the probability
        that a training image gets one blank rectangle each epoch, after ``augment`` (0: off).
    label_smoothing : float
        ε of the cross-entropy's smoothed targets ``(1 − ε)·onehot + ε/K`` (0: one-hot); the
        logged losses are then the smoothed loss.
    val_split : float
        Fraction of the training data held out for validation.
    dtype : str
        ``float32`` or ``float64``; ``seed`` seeds weights, shuffling and splits.
    data : str
        A known dataset name or a path.
    """

    preset: str = "default"
    hidden: list = field(default_factory=lambda: [512, 256])
    activation: str = "relu"
    init: str = "he"
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 0.1
    momentum: float = 0.0
    schedule: str = "cosine"
    epochs: int = 50
    batch_size: int | None = 128
    standardize: bool = True
    shift: int = 1
    dropout: float = 0.0
    ema: float | None = None
    swa_epochs: int | None = None
    val_split: float = 0.1
    augment: str = "shift"
    flip: bool = False
    rotation: float = AFFINE_RANGES["rotation"]
    scale: float = AFFINE_RANGES["scale"]
    shear: float = AFFINE_RANGES["shear"]
    elastic: float = 0.0
    elastic_sigma: float = ELASTIC_DEFAULTS["sigma"]
    erase: float = 0.0
    label_smoothing: float = 0.0
    dtype: str = "float32"
    seed: int = 0
    data: str = "mnist"

    @classmethod
    def from_preset(cls, preset: str = "default", **overrides: Any) -> TrainConfig:
        """The preset's settings with ``overrides`` (those that are not ``None``) applied.

        Raises
        ------
        ConfigError
            ``preset`` is unknown.
        """
        if preset not in PRESETS:
            raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
        values = {**PRESETS[preset], "preset": preset}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """The inverse of [`to_dict`][xpnet.runs.config.TrainConfig.to_dict] (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict:
        """The settings as a JSON-friendly dict."""
        return asdict(self)

    def differences(self, given: dict[str, Any], dataset_name: str | None = None) -> list[tuple[str, Any, Any]]:
        """The settings in ``given`` whose value differs from this run's, as ``(name, run's, given)``.

        What resuming a run checks: the same command run again (``xpnet train ... --resume``)
        gives the run's own values, which are not a change. Values are compared as the run
        records them: ``batch_size`` ``"full"`` is ``None``, ``augment="auto"`` is what it
        resolves to for ``dataset_name`` ([`resolve_augment`][xpnet.runs.config.TrainConfig.resolve_augment]),
        numbers by value (``1e-3 == 0.001``). ``None`` values in ``given`` are skipped.

        Raises
        ------
        ConfigError
            ``given`` names a setting a run does not have, or a batch size that is not one.
        """
        known = {f.name for f in fields(self)}
        out = []
        for name, value in given.items():
            if value is None:
                continue
            if name not in known:
                raise ConfigError(f"{name!r} is not a setting of a training run")
            own = getattr(self, name)
            if name == "batch_size":
                value = parse_batch_size(value)
            elif name == "augment" and value == "auto":
                value = AUTO_AUGMENT.get(str(dataset_name).lower(), "shift") if dataset_name else own
            elif name == "hidden":
                value, own = [int(v) for v in value], [int(v) for v in own]
            if isinstance(own, bool) or isinstance(value, bool):
                same = bool(own) == bool(value) and isinstance(own, bool) == isinstance(value, bool)
            elif isinstance(own, (int, float)) and isinstance(value, (int, float)):
                same = float(own) == float(value)
            else:
                same = own == value
            if not same:
                out.append((name, own, value))
        return out

    def make_model(self, backend=None, n_inputs: int = 784, n_classes: int = 10) -> MLP:
        """A new [`MLP`][xpnet.model.mlp.MLP] with these settings, ``n_inputs`` inputs and ``n_classes`` outputs."""
        model = MLP(
            [n_inputs, *self.hidden, n_classes],
            activation=self.activation,
            init=self.init,
            dtype=self.dtype,
            backend=backend,
            seed=self.seed,
            dropout=self.dropout,
            label_smoothing=self.label_smoothing,
        )
        model.averaging = self.make_averaging()  # an EMA: the first fit starts it at the initial weights
        model.train_defaults = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "optimizer": self.make_optimizer().get_config(),
        }
        return model

    def make_averaging(self) -> EMA | SWA | None:
        """The weight averaging these settings ask for (``ema`` or ``swa_epochs``), or None.

        Raises
        ------
        ConfigError
            Both are set, or ``swa_epochs`` is not in ``1 … epochs``.
        """
        if self.swa_epochs is None:
            return None if self.ema is None else EMA(self.ema)
        if self.ema is not None:
            raise ConfigError(
                "--ema and --swa-epochs are two ways of averaging the weights: give one of them "
                "(EMA after every step, or SWA: the mean of the last epochs' weights)"
            )
        k = self.swa_epochs
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self.epochs:
            raise ConfigError(f"--swa-epochs must be a number of epochs from 1 to --epochs ({self.epochs}); got {k!r}")
        return SWA(start_epoch=self.epochs - k)

    def make_optimizer(self) -> Optimizer:
        """The optimizer these settings describe.

        A cosine schedule is tied to this run's length explicitly, so that it stays the same
        when training proceeds one epoch per ``fit`` call (augmentation) or is resumed.

        Raises
        ------
        ConfigError
            The settings do not go together (``momentum`` with an optimizer other than SGD).
        """
        schedule = Cosine(epochs=self.epochs) if self.schedule == "cosine" else self.schedule
        kwargs: dict[str, Any] = {"lr": self.lr, "schedule": schedule, "weight_decay": self.weight_decay}
        if self.optimizer == "sgd":
            kwargs["momentum"] = self.momentum
            kwargs["nesterov"] = False
        elif self.momentum:
            raise ConfigError(f"--momentum applies to the sgd optimizer only, not {self.optimizer}")
        try:
            return get_optimizer(self.optimizer, **kwargs)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def describe_optimizer(self) -> str:
        """One line: ``adamw lr=0.001, weight_decay=0.1, schedule=cosine, ...``."""
        parts = [f"{self.optimizer} lr={self.lr:g}"]
        if self.weight_decay:
            parts.append(f"weight_decay={self.weight_decay:g}")
        if self.momentum:
            parts.append(f"momentum={self.momentum:g}")
        parts.append(f"schedule={self.schedule}")
        augmentation = self.describe_augmentation()
        if augmentation:
            parts.append(augmentation)
        if self.dropout:
            parts.append(f"dropout {self.dropout:g}")
        if self.ema is not None:
            parts.append(f"EMA of the weights (decay {self.ema:g})")
        if self.swa_epochs is not None:
            parts.append(f"SWA of the last {self.swa_epochs} epochs' weights")
        if self.label_smoothing:
            parts.append(f"label smoothing {self.label_smoothing:g}")
        return ", ".join(parts)

    def resolve_augment(self, dataset_name: str) -> None:
        """Replace ``augment="auto"`` by what it means for data named ``dataset_name``, in
        place ([`AUTO_AUGMENT`][xpnet.runs.config.AUTO_AUGMENT]; ``shift`` for other data), so
        that the run's recorded settings say what it did."""
        if self.augment == "auto":
            self.augment = AUTO_AUGMENT.get(str(dataset_name).lower(), "shift")

    def describe_augmentation(self) -> str:
        """The augmentation in words (empty without one): ``random shifts of up to 1 px``,
        ``random affine distortions (rotation ±15°, scale ±0.15, shear ±0.2, shifts ±1 px)``,
        ``random flips and shifts of up to 1 px``; with ``elastic``, ``... and elastic
        distortions (alpha 34, sigma 4 px)``; random erasing is added as ``, random erasing (p 0.5)``."""
        text = self._describe_distortion()
        if self.erase:
            return f"{text}, random erasing (p {self.erase:g})" if text else f"random erasing (p {self.erase:g})"
        return text

    def _describe_distortion(self) -> str:
        text = self._describe_without_elastic()
        if not self.elastic:
            return text
        elastic = f"elastic distortions (alpha {self.elastic:g}, sigma {self.elastic_sigma:g} px)"
        return f"{text} and {elastic}" if text else f"random {elastic}"

    def _describe_without_elastic(self) -> str:
        shifts = self.shift and self.augment != "none"
        if self.augment == "affine":
            text = (
                f"random affine distortions (rotation ±{self.rotation:g}°, scale ±{self.scale:g}, "
                f"shear ±{self.shear:g}, shifts ±{self.shift:g} px)"
            )
            return text + (" and flips" if self.flip else "")
        if self.flip:
            return f"random flips and shifts of up to {self.shift} px" if shifts else "random flips"
        return f"random shifts of up to {self.shift} px" if shifts else ""

    def suggested_lr(self) -> tuple[float, str]:
        """A learning rate to retry with after this run diverged, and a sentence saying why.

        The preset's own rate when this run used a larger one (a tenth of an absurd rate
        diverges again); a tenth of this run's rate otherwise.
        """
        preset_lr = PRESETS.get(self.preset, PRESETS["default"])["lr"]
        if self.lr > preset_lr:
            return preset_lr, f"the {self.preset} preset's learning rate, which trains this network stably"
        return self.lr / 10, "a tenth of this run's learning rate"

    def command(self, *extra: str, **changes: Any) -> str:
        """The ``xpnet train`` command line that makes this run, with ``changes`` applied.

        Only settings that differ from the preset are written (``lr`` when changed). ``extra``
        arguments go at the end, e.g. ``config.command("--overwrite", "--out", "runs/a",
        lr=1e-3)`` gives ``"xpnet train --dataset mnist --lr 0.001 --overwrite --out runs/a"``.
        """
        values = {**self.to_dict(), **changes}
        preset = PRESETS.get(values["preset"], PRESETS["default"])
        data = str(values["data"])
        args = [
            "xpnet",
            "train",
            *(["--dataset", data] if data in ("mnist", "fashion-mnist") else ["--data", data]),
        ]
        if values["preset"] != "default":
            args += ["--preset", values["preset"]]
        defaults = {f.name: f.default for f in fields(self) if f.default is not MISSING}
        defaults.update({**preset, "dtype": "float32", "seed": 0})
        for name, value in values.items():
            if name in ("preset", "data") or (value == defaults.get(name) and name not in changes):
                continue
            flag = "--" + name.replace("_", "-")
            if name in ("standardize", "flip"):
                args.append(flag if value else f"--no-{name}")
            elif name == "hidden":
                args += [flag, ",".join(map(str, value)) or "none"]
            elif name == "batch_size":
                args += [flag, "full" if value is None else str(value)]
            else:
                args += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
        return shlex.join([*args, *extra])
