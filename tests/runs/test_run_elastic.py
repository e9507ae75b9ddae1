"""Elastic distortions in a training run (TrainConfig.elastic, xpnet train --elastic): the augmenter
a run builds, how the settings are described, recorded and written back, the command line, and
that an interrupted run resumes bit for bit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.cli.test_cli import FAST, idx_data, run  # noqa: F401 (idx_data: a fixture)
from tests.runs.test_run_augment import _StopAt, data, small  # noqa: F401 (data: a fixture)
from xpnet.augment.elastic import RandomElastic
from xpnet.model.checkpoint import load_checkpoint
from xpnet.runs import run_training
from xpnet.runs.config import AFFINE_RANGES, TrainConfig
from xpnet.runs.epochs import make_augment


def test_elastic_builds_a_random_elastic_with_the_other_settings():
    aug = make_augment(small(augment="affine", shift=2, elastic=34, seed=4), fill=-0.5)
    assert isinstance(aug, RandomElastic)
    assert (aug.alpha, aug.sigma, aug.rotation, aug.scale, aug.shear, aug.shift, aug.seed, aug.fill) == (
        34,
        4,
        AFFINE_RANGES["rotation"],
        AFFINE_RANGES["scale"],
        AFFINE_RANGES["shear"],
        2,
        4,
        -0.5,
    )
    assert aug.subpixel
    shifts = make_augment(small(shift=1, elastic=20, elastic_sigma=5, flip=True))
    assert isinstance(shifts, RandomElastic)
    assert (shifts.alpha, shifts.sigma, shifts.rotation, shifts.shift, shifts.flip, shifts.subpixel) == (
        20,
        5,
        0,
        1,
        True,
        False,
    )
    alone = make_augment(small(augment="none", shift=1, elastic=8))
    assert isinstance(alone, RandomElastic) and alone.shift == 0 and alone.rotation == 0
    assert not isinstance(make_augment(small(augment="affine", elastic=0)), RandomElastic)


def test_descriptions_and_commands_name_the_elastic_distortions():
    config = TrainConfig.from_preset("default", augment="affine", elastic=34, data="mnist")
    assert config.command() == "xpnet train --dataset mnist --augment affine --elastic 34"
    assert config.describe_augmentation().endswith(" and elastic distortions (alpha 34, sigma 4 px)")
    assert config.describe_augmentation().startswith("random affine distortions (rotation ±15°")
    other = TrainConfig.from_preset("default", augment="none", elastic=10, elastic_sigma=3)
    assert other.describe_augmentation() == "random elastic distortions (alpha 10, sigma 3 px)"
    assert "--elastic 10 --elastic-sigma 3" in other.command()
    assert TrainConfig.from_dict({**config.to_dict(), "elastic": 0}).describe_augmentation() == (
        TrainConfig.from_preset("default", augment="affine").describe_augmentation()
    )
    older = {k: v for k, v in config.to_dict().items() if not k.startswith("elastic")}
    assert TrainConfig.from_dict(older).elastic == 0  # a run recorded before elastic: none


def test_an_interrupted_elastic_run_resumes_bit_for_bit(data, tmp_path):  # noqa: F811
    changes = {"augment": "affine", "elastic": 34.0}
    straight = run_training(small(**changes), tmp_path / "straight", dataset=data, plots=False, handle_sigint=False)
    cut = run_training(
        small(**changes), tmp_path / "cut", dataset=data, plots=False, handle_sigint=False, callbacks=[_StopAt(1, 2)]
    )
    assert cut.status == "interrupted"
    resumed = run_training(resume=True, out_dir=tmp_path / "cut", dataset=data, plots=False, handle_sigint=False)
    assert resumed.status == "completed"
    a, b = load_checkpoint(straight.checkpoint), load_checkpoint(resumed.checkpoint)
    for name, w in a.model.numpy_params().items():
        np.testing.assert_array_equal(b.model.numpy_params()[name], w, err_msg=name)
    recorded = json.loads((tmp_path / "cut" / "metrics.json").read_text())["config"]
    assert (recorded["elastic"], recorded["elastic_sigma"]) == (34.0, 4.0)


def test_train_elastic_options(idx_data, tmp_path):  # noqa: F811
    out = tmp_path / "el"
    args = ["--augment", "shift", "--elastic", "20", "--elastic-sigma", "3"]
    result = run("train", "--data", idx_data, "--epochs", "1", *args, *FAST, "--out", out)
    assert "random shifts of up to 1 px and elastic distortions (alpha 20, sigma 3 px)" in result.stdout
    config = json.loads((out / "metrics.json").read_text())["config"]
    assert (config["elastic"], config["elastic_sigma"]) == (20, 3)
    line = run("train", "--resume", "--out", out, "--elastic", "5", expect=2).output
    assert "--elastic: the run has 20, the command says 5" in line
    for bad in (["--elastic", "-1"], ["--elastic-sigma", "0"]):
        result = run("train", "--data", idx_data, *bad, "--out", tmp_path / "bad", expect=2)
        assert bad[0] in result.stderr
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("alpha", [0.0, 34.0])
def test_elastic_zero_is_the_plain_augmentation(alpha):
    aug = make_augment(small(augment="affine", elastic=alpha))
    assert isinstance(aug, RandomElastic) == bool(alpha)
