"""The augmentation of a training run (TrainConfig.augment, flip and the affine ranges): which
augmenter a run builds, how the settings are recorded, described and written back as a
command, and that an interrupted augmented run resumes bit for bit."""

from __future__ import annotations

import json

import numpy as np
import pytest

import xpnet
from tests.cli.test_cli import _images
from xpnet.augment.affine import RandomAffine
from xpnet.augment.shifts import RandomShifts
from xpnet.datasets.dataset import make_dataset
from xpnet.errors import ConfigError
from xpnet.model.checkpoint import load_checkpoint
from xpnet.runs import run_training
from xpnet.runs.config import AFFINE_RANGES, TrainConfig
from xpnet.runs.epochs import make_augment


@pytest.fixture(scope="module")
def data():
    (x, y), (xt, yt) = _images(300, 0), _images(100, 1)
    return make_dataset("syn", source="synthetic", train=(x.reshape(300, 784), y), test=(xt.reshape(100, 784), yt))


def small(**changes) -> TrainConfig:
    return TrainConfig.from_preset(
        "default", **{"hidden": [16], "batch_size": 32, "epochs": 3, "augment": "shift", **changes}
    )


def test_each_setting_builds_its_augmenter():
    assert make_augment(small(shift=0)) is None
    assert make_augment(small(augment="none")) is None
    shifts = make_augment(small(shift=2, seed=4), fill=-0.5)
    assert isinstance(shifts, RandomShifts) and (shifts.max_shift, shifts.seed, shifts.fill) == (2, 4, -0.5)
    affine = make_augment(small(augment="affine", shift=2, rotation=5, scale=0.05, shear=0.2, seed=4), fill=-0.5)
    assert isinstance(affine, RandomAffine) and affine.subpixel and not affine.flip
    assert (affine.rotation, affine.scale, affine.shear, affine.shift, affine.seed, affine.fill) == (
        5,
        0.05,
        0.2,
        2,
        4,
        -0.5,
    )
    flips = make_augment(small(flip=True, shift=1))
    assert isinstance(flips, RandomAffine) and flips.flip and not flips.subpixel
    assert (flips.rotation, flips.scale, flips.shear, flips.shift) == (0, 0, 0, 1)
    assert make_augment(small(augment="none", flip=True, shift=1)).shift == 0  # flips alone
    assert make_augment(small(augment="affine", flip=True)).flip
    with pytest.raises(ConfigError, match="unknown augmentation 'elastic'; choose one of auto, none, shift, affine"):
        make_augment(small(augment="elastic"))
    with pytest.raises(ConfigError, match="rotation is the largest angle"):
        make_augment(small(augment="affine", rotation=400))


def test_auto_is_affine_for_mnist_and_shifts_for_other_data(data, tmp_path):
    """The presets' ``augment="auto"`` is decided when the run sees its data, and the run
    records what it became (so the checkpoint and ``command()`` say what was done)."""
    for preset in ("default", "workstation"):
        assert TrainConfig.from_preset(preset).augment == "auto"
    for name, kind in (("mnist", "affine"), ("MNIST", "affine"), ("fashion-mnist", "shift"), ("syn", "shift")):
        config = TrainConfig.from_preset("default")
        config.resolve_augment(name)
        assert config.augment == kind, name
    explicit = TrainConfig.from_preset("default", augment="none")
    explicit.resolve_augment("mnist")
    assert explicit.augment == "none"  # a choice the user made stays
    with pytest.raises(ConfigError, match="augment='auto' depends on the data"):
        make_augment(TrainConfig.from_preset("default"))
    config = TrainConfig.from_preset("default", hidden=[8], epochs=1)
    result = run_training(config, tmp_path / "auto", dataset=data, plots=False)
    assert result.config.augment == "shift"
    assert json.loads((tmp_path / "auto" / "metrics.json").read_text())["config"]["augment"] == "shift"
    assert "--augment shift" in result.config.command()


def test_a_config_of_an_earlier_version_still_shifts():
    """A checkpoint's config written before these fields existed reads back as the shifts it
    trained with (the new fields take their defaults)."""
    old = {
        k: v for k, v in small(shift=1).to_dict().items() if k not in ("augment", "flip", "rotation", "scale", "shear")
    }
    config = TrainConfig.from_dict(old)
    assert (config.augment, config.flip, config.rotation) == ("shift", False, AFFINE_RANGES["rotation"])
    assert isinstance(make_augment(config), RandomShifts)


def test_descriptions_and_commands_name_the_augmentation():
    default = TrainConfig.from_preset("default", data="mnist")
    assert default.command() == "xpnet train --dataset mnist"  # fields outside the preset: not written either
    assert "random shifts of up to 1 px" in default.describe_optimizer()
    affine = TrainConfig.from_preset("default", augment="affine", shift=2, rotation=5, data="mnist")
    assert affine.command() == "xpnet train --dataset mnist --shift 2 --augment affine --rotation 5"
    assert affine.describe_augmentation() == (
        f"random affine distortions (rotation ±5°, scale ±{AFFINE_RANGES['scale']:g}, "
        f"shear ±{AFFINE_RANGES['shear']:g}, shifts ±2 px)"
    )
    flips = TrainConfig.from_preset("default", flip=True, data="fashion-mnist")
    assert flips.command() == "xpnet train --dataset fashion-mnist --flip"
    assert flips.describe_augmentation() == "random flips and shifts of up to 1 px"
    assert flips.command(flip=False) == "xpnet train --dataset fashion-mnist --no-flip"
    assert TrainConfig.from_preset("default", augment="none").describe_augmentation() == ""
    assert TrainConfig.from_preset("default", augment="none", flip=True).describe_augmentation() == "random flips"
    assert "and flips" in TrainConfig.from_preset("default", augment="affine", flip=True).describe_augmentation()
    assert TrainConfig.from_preset("tutorial").describe_augmentation() == ""  # shift 0


class _StopAt(xpnet.Callback):
    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_batch_end(self, model, epoch, batch, n_batches):
        if (epoch, batch) == self.at:
            model.stop_training = True


@pytest.mark.parametrize("changes", [{"augment": "affine", "shift": 2}, {"augment": "affine", "flip": True}])
def test_an_interrupted_augmented_run_resumes_bit_for_bit(data, tmp_path, changes):
    config = small(**changes)
    straight = run_training(config, tmp_path / "straight", dataset=data, plots=False, handle_sigint=False)
    cut = run_training(
        small(**changes),
        tmp_path / "cut",
        dataset=data,
        plots=False,
        handle_sigint=False,
        callbacks=[_StopAt(1, 2)],
    )
    assert cut.status == "interrupted"
    resumed = run_training(resume=True, out_dir=tmp_path / "cut", dataset=data, plots=False, handle_sigint=False)
    assert resumed.status == "completed"
    a = load_checkpoint(straight.checkpoint)
    b = load_checkpoint(resumed.checkpoint)
    for name, w in a.model.numpy_params().items():
        np.testing.assert_array_equal(b.model.numpy_params()[name], w, err_msg=name)
    assert b.training["config"]["augment"] == "affine"
    recorded = json.loads((tmp_path / "cut" / "metrics.json").read_text())["config"]
    assert {k: recorded[k] for k in changes} == changes
    assert recorded["rotation"] == AFFINE_RANGES["rotation"]
