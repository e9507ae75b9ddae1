"""``xpnet train``: the same command again with ``--resume`` continues (issue 25), a changed
setting is refused with both values, and the per-epoch logs (epochs.csv, --tensorboard)."""

from __future__ import annotations

import csv

import pytest

from tests.cli.test_cli import idx_data, one_line_error, run  # noqa: F401  (idx_data: a fixture)


def _epochs(run_dir):
    with open(run_dir / "epochs.csv", newline="") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def test_the_same_command_with_resume_continues(idx_data, tmp_path):  # noqa: F811
    out = tmp_path / "r"
    common = ["--data", idx_data, "--hidden", "64", "--no-plots"]
    run("train", *common, "--epochs", "2", "--out", out)
    result = run("train", *common, "--epochs", "3", "--out", out, "--resume")
    assert "Resuming" in result.stdout and "at epoch 3 of 3" in result.stdout
    assert _epochs(out) == [1, 2, 3]
    # every option the run was made with, given again with the same values (spelled otherwise)
    same = ["--preset", "default", "--lr", "1e-3", "--batch-size", "128", "--standardize", "--seed", "0",
            "--augment", "auto", "--val-split", "0.1", "--dtype", "float32"]  # fmt: skip
    result = run("train", *common, *same, "--epochs", "4", "--out", out, "--resume")
    assert "at epoch 4 of 4" in result.stdout
    assert _epochs(out) == [1, 2, 3, 4]


def test_a_changed_setting_is_refused_with_both_values(idx_data, tmp_path):  # noqa: F811
    out = tmp_path / "r"
    run("train", "--data", idx_data, "--hidden", "64", "--epochs", "1", "--no-plots", "--out", out)
    line = one_line_error(
        run("train", "--data", idx_data, "--hidden", "128", "--epochs", "2", "--out", out, "--resume", expect=2)
    )
    assert "--hidden: the run has 64, the command says 128" in line
    assert "drop --hidden" in line and f"another --out than {out}" in line
    line = one_line_error(run("train", "--out", out, "--resume", "--batch-size", "full", "--no-standardize", expect=2))
    assert "--batch-size: the run has 128, the command says full" in line
    assert "--standardize: the run has --standardize, the command says --no-standardize" in line
    assert _epochs(out) == [1]


def test_tensorboard_flag_writes_events_tensorboard_reads(idx_data, tmp_path):  # noqa: F811
    pytest.importorskip("tensorboardX")
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    out = tmp_path / "r"
    result = run("train", "--data", idx_data, "--hidden", "16", "--epochs", "2", "--no-plots", "--tensorboard",
                 "--out", out)  # fmt: skip
    assert "tensorboard/" in result.stdout
    run("train", "--out", out, "--epochs", "3", "--resume", "--tensorboard")
    acc = ea.EventAccumulator(str(out / "tensorboard"))
    acc.Reload()
    assert sorted(e.step for e in acc.Scalars("val_accuracy")) == [1, 2, 3]
    assert _epochs(out) == [1, 2, 3]


def test_tensorboard_without_tensorboardx_is_refused_before_training(idx_data, tmp_path, monkeypatch):  # noqa: F811
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboardX" else real(name))
    line = one_line_error(run("train", "--data", idx_data, "--tensorboard", "--out", tmp_path / "r", expect=2))
    assert "pip install 'xpnet[tensorboard]'" in line
    assert not (tmp_path / "r").exists()
