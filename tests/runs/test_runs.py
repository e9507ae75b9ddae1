"""Training runs as library calls (xpnet.runs and the modules it uses): what `xpnet train` does,
without the command line: one call, a result value, the files and their status."""

from __future__ import annotations

import json

import numpy as np
import pytest

import xpnet
from tests.cli.test_cli import _images
from xpnet.augment.shifts import random_shifts
from xpnet.datasets.dataset import make_dataset
from xpnet.errors import ConfigError, RunError, UntrainedModel, XpnetError
from xpnet.model.checkpoint import load_checkpoint
from xpnet.runs import Run, check_trained, find_checkpoint, run_training
from xpnet.runs.config import PRESETS, TrainConfig, parse_batch_size
from xpnet.runs.splits import evaluation_split, prepare_splits


@pytest.fixture(scope="module")
def data():
    """300 training and 100 test images of the learnable synthetic digits."""
    (x, y), (xt, yt) = _images(300, 0), _images(100, 1)
    return make_dataset("syn", source="synthetic", train=(x.reshape(300, 784), y), test=(xt.reshape(100, 784), yt))


def small(**changes) -> TrainConfig:
    return TrainConfig.from_preset("default", **{"hidden": [16], "batch_size": 32, "epochs": 2, "shift": 0, **changes})


def test_one_call_does_what_xpnet_train_does(data, tmp_path):
    result = run_training(small(), tmp_path / "r", dataset=data, plots=False, handle_sigint=False)
    assert result.status == "completed" and not result.already_finished
    assert result.files == ["model.npz", "metrics.json", "epochs.csv"]
    on_disk = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert on_disk["status"] == "completed" and on_disk["test"]["accuracy"] == result.test["accuracy"] > 0.3
    assert on_disk["versions"]["xpnet"] == xpnet.__version__
    ckpt = load_checkpoint(result.checkpoint)
    assert ckpt.training["status"] == "completed" and check_trained(ckpt) is None
    assert ckpt.training["train_seconds"] == pytest.approx(on_disk["train_seconds"])


@pytest.mark.parametrize("carries", [True, False], ids=["model-carries-preprocessing", "checkpoint-records-it"])
def test_evaluate_model_runs_one_forward_pass_and_agrees_with_the_model(data, tmp_path, monkeypatch, carries):
    from xpnet.model.preprocessing import Preprocessing
    from xpnet.nn import network  # where compiled.logits_in_blocks finds forward
    from xpnet.runs import evaluate_model

    x, y = data.x_train[:120], data.y_train[:120]
    pre = Preprocessing.fit(x)
    model = xpnet.MLP([784, 16, 10], backend="cpu", seed=0)
    model.fit(pre.transform(x), y, epochs=2, batch_size=32)
    if carries:
        model.preprocessing = pre
    ckpt = load_checkpoint(xpnet.save(model, tmp_path / "m.npz", preprocessing=pre))
    ckpt.model.preprocessing = pre if carries else None
    xt, yt = data.x_test, data.y_test
    expected = ckpt.model.evaluate(ckpt.model_inputs(xt), yt)
    predicted = xpnet.to_numpy(ckpt.model.predict(ckpt.model_inputs(xt)))
    calls = []
    forward = network.forward
    monkeypatch.setattr(network, "forward", lambda *a, **k: calls.append(1) or forward(*a, **k))
    result = evaluate_model(ckpt.model, ckpt.model_inputs(xt), yt)
    assert len(calls) == 1  # one forward pass gives the loss, the accuracy and the predictions
    np.testing.assert_array_equal(result["pred"], predicted)
    assert result["accuracy"] == pytest.approx(expected["accuracy"]) == np.mean(predicted == yt)
    assert result["loss"] == pytest.approx(expected["loss"], rel=1e-6)
    assert result["confusion_matrix"].sum() == len(yt) == result["n"]
    assert np.trace(result["confusion_matrix"]) == int(np.sum(predicted == yt))
    np.testing.assert_allclose(
        result["confidence"], xpnet.to_numpy(ckpt.model.predict_proba(ckpt.model_inputs(xt))).max(axis=1)
    )


def test_a_finished_run_is_not_trained_again(data, tmp_path):
    run_training(small(), tmp_path / "r", dataset=data, plots=False, handle_sigint=False)
    before = (tmp_path / "r" / "metrics.json").read_bytes()
    run = Run.resume(tmp_path / "r", dataset=data)
    assert run.finished
    again = run.train(handle_sigint=False)
    assert again.already_finished and again.files == []
    assert (tmp_path / "r" / "metrics.json").read_bytes() == before
    longer = Run.resume(tmp_path / "r", dataset=data, epochs=3)
    assert not longer.finished
    result = longer.train(handle_sigint=False, plots=False)
    assert result.model.epoch == 3 and len(result.metrics["train_seconds_parts"]) == 2


def test_an_existing_run_needs_resume_or_overwrite(data, tmp_path):
    run_training(small(), tmp_path / "r", dataset=data, plots=False, handle_sigint=False)
    with pytest.raises(RunError, match="--overwrite"):
        Run.create(small(), tmp_path / "r", dataset=data)
    result = run_training(
        small(hidden=[8]), tmp_path / "r", dataset=data, overwrite=True, plots=False, handle_sigint=False
    )
    assert result.model.sizes == [784, 8, 10]


def test_divergence_is_a_result_with_warnings_and_a_marked_checkpoint(data, tmp_path):
    result = run_training(small(lr=1e6), tmp_path / "d", dataset=data, plots=False, handle_sigint=False)
    assert result.status == "diverged" and isinstance(result.error, xpnet.TrainingDiverged)
    assert any("overflow" in w for w in result.warnings)
    assert result.kept_epoch == 0 and result.suggested_lr == PRESETS["default"]["lr"]
    ckpt = load_checkpoint(result.checkpoint)
    assert ckpt.training["status"] == "diverged" and ckpt.training["diverged"]["suggested_lr"] == 1e-3
    with pytest.raises(UntrainedModel, match="--lr 0.001"):
        check_trained(ckpt)
    with pytest.raises(RunError, match="diverge again"):
        Run.resume(tmp_path / "d", dataset=data)


def test_a_rate_below_the_presets_gets_a_tenth():
    assert small(lr=1e-4).suggested_lr()[0] == pytest.approx(1e-5)
    assert small(lr=5.0).suggested_lr()[0] == 1e-3


def test_a_config_writes_its_own_command():
    config = TrainConfig.from_preset("default", hidden=[16], standardize=False, data="/d")
    config.batch_size = None  # from_preset skips None overrides
    assert config.command("--out", "r", lr=0.01) == (
        "xpnet train --data /d --hidden 16 --lr 0.01 --batch-size full --no-standardize --out r"
    )
    assert (
        TrainConfig.from_preset("tutorial", data="mnist").command() == "xpnet train --dataset mnist --preset tutorial"
    )


def test_find_checkpoint_names_the_run_folders_inside(data, tmp_path):
    run_training(small(), tmp_path / "runs" / "a", dataset=data, plots=False, handle_sigint=False)
    assert find_checkpoint(tmp_path / "runs" / "a") == tmp_path / "runs" / "a" / "model.npz"
    with pytest.raises(RunError, match="holds 1 run folder .a."):
        find_checkpoint(tmp_path / "runs")
    with pytest.raises(RunError, match="without a checkpoint"):
        find_checkpoint(tmp_path)


@pytest.mark.parametrize(
    "text, expected", [("128", 128), (" 7 ", 7), (64, 64), ("full", None), ("ALL", None), (None, None)]
)
def test_parse_batch_size(text, expected):
    assert parse_batch_size(text) == expected


@pytest.mark.parametrize("text", ["0", "-3", "abc", "1.5"])
def test_parse_batch_size_rejects(text):
    with pytest.raises(ConfigError, match="batch size"):
        parse_batch_size(text)


def test_config_errors_are_xpnet_errors_and_value_errors():
    with pytest.raises(ConfigError) as info:
        small(optimizer="adam", momentum=0.9).make_optimizer()
    assert isinstance(info.value, XpnetError) and isinstance(info.value, ValueError)
    with pytest.raises(ValueError, match="unknown preset"):
        TrainConfig.from_preset("fast")


def test_evaluation_split_uses_the_runs_own_test_images(data):
    splits = prepare_splits(data, 0.1, 0)
    x, y, which = evaluation_split(data, {"checksums": {}, "split": splits.info})
    assert len(x) == 100 and "test split" in which
    one = make_dataset("one", source="s", train=(data.x_train, data.y_train), checksums={"f": "abc"})
    held = prepare_splits(one, 0.1, 3)
    x, y, which = evaluation_split(one, {"checksums": {"f": "abc"}, "split": held.info})
    np.testing.assert_array_equal(x, held.x_test)
    assert "held-out 20%" in which
    x, _, which = evaluation_split(one, {"checksums": {"f": "other"}})
    assert len(x) == 300 and which == "all 300 labelled images"


def test_random_shifts_move_images_reproducibly():
    x = np.zeros((50, 784), np.uint8)
    x.reshape(50, 28, 28)[:, 10:18, 10:18] = 200
    a, b = random_shifts(x, 2, (0, 3, 1)), random_shifts(x, 2, (0, 3, 1))
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == np.uint8
    assert (a.sum(axis=1) == x.sum(axis=1)).all()  # the block stays inside the frame
    assert (a != x).any(axis=1).mean() > 0.5  # most images moved
    rows = np.flatnonzero(a.reshape(50, 28, 28).max(axis=(0, 2)))
    assert rows.min() >= 8 and rows.max() <= 19  # by at most 2 pixels
    np.testing.assert_array_equal(random_shifts(x, 0, 1), x)
