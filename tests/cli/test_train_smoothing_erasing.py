"""xpnet train --erase and --label-smoothing: described, recorded, resumed with, refused when changed."""

from __future__ import annotations

import json

from tests.cli.test_cli import FAST, idx_data, one_line_error, run  # noqa: F401 (a fixture)
from xpnet.augment.affine import RandomAffine
from xpnet.augment.erasing import RandomErasing
from xpnet.augment.shifts import RandomShifts
from xpnet.model.checkpoint import load_checkpoint
from xpnet.runs.config import TrainConfig
from xpnet.runs.epochs import make_augment


def test_the_config_makes_the_erasing_and_the_smoothed_head():
    config = TrainConfig.from_preset("default", augment="affine", erase=0.4, label_smoothing=0.1, seed=3)
    aug = make_augment(config, fill=-0.5)
    assert isinstance(aug, RandomErasing) and isinstance(aug.base, RandomAffine)
    assert (aug.p, aug.seed, aug.fill, aug.base.fill) == (0.4, 3, -0.5, -0.5)
    assert isinstance(make_augment(TrainConfig(augment="shift", erase=0.5)).base, RandomShifts)
    assert make_augment(TrainConfig(augment="none", erase=0.5)).base is None
    assert isinstance(make_augment(TrainConfig(augment="shift")), RandomShifts)  # erase 0: as before
    assert config.make_model(n_inputs=784).label_smoothing == 0.1
    assert config.describe_optimizer().endswith("random erasing (p 0.4), label smoothing 0.1")
    assert "--erase 0.4 --label-smoothing 0.1" in config.command()
    old = {k: v for k, v in config.to_dict().items() if k not in ("erase", "label_smoothing")}
    assert (TrainConfig.from_dict(old).erase, TrainConfig.from_dict(old).label_smoothing) == (0.0, 0.0)


def test_train_with_erasing_and_label_smoothing_records_and_resumes_them(idx_data, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    args = ["--erase", "0.5", "--label-smoothing", "0.1"]
    result = run("train", "--data", idx_data, "--epochs", "1", *args, *FAST, "--out", out)
    assert "random erasing (p 0.5)" in result.stdout and "label smoothing 0.1" in result.stdout
    config = json.loads((out / "metrics.json").read_text())["config"]
    assert (config["erase"], config["label_smoothing"]) == (0.5, 0.1)
    model = load_checkpoint(out / "checkpoint.npz").model if (out / "checkpoint.npz").exists() else None
    if model is not None:
        assert model.label_smoothing == 0.1
    run("train", "--data", idx_data, "--epochs", "2", *args, *FAST, "--out", out, "--resume")
    line = one_line_error(run("train", "--resume", "--out", out, "--label-smoothing", "0.2", expect=2))
    assert "--label-smoothing" in line
    for bad in (["--erase", "1.5"], ["--label-smoothing", "1"]):
        result = run("train", "--data", idx_data, *bad, "--out", tmp_path / "bad", expect=2)
        assert bad[0] in result.stderr
