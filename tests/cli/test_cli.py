"""The `xpnet` command line: end to end on tiny generated IDX data, every bad input, Ctrl-C,
resume, divergence, the offline error, exit codes, pipes and messages.

The training runs themselves (what `xpnet train` calls) are tested without the command line in
test_runs.py."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import xpnet
from tests.conftest import shared_data_dir
from xpnet.cli import cli
from xpnet.cli import output as cli_output
from xpnet.datasets import write_idx

needs_mnist_t10k = pytest.mark.skipif(
    shared_data_dir() is None or not (shared_data_dir() / "mnist-t10k").is_dir(),
    reason="real MNIST t10k not found (set XPNET_TEST_DATA)",
)

FAST = ["--hidden", "16", "--batch-size", "32", "--no-plots"]


# -- helpers -------------------------------------------------------------------------------------
def _images(n, seed):
    """Learnable 28x28 images: class k has a bright block at a class-specific place."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.integers(0, 60, (n, 28, 28))
    for i, k in enumerate(y):
        r, c = divmod(int(k), 5)
        x[i, 4 + r * 10 : 12 + r * 10, 2 + c * 5 : 6 + c * 5] += 150
    return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.uint8)


def _write_split(directory: Path, prefix: str, n: int, seed: int):
    x, y = _images(n, seed)
    write_idx(directory / f"{prefix}-images-idx3-ubyte.gz", x)
    write_idx(directory / f"{prefix}-labels-idx1-ubyte.gz", y)
    return x, y


@pytest.fixture(scope="module")
def idx_data(tmp_path_factory) -> Path:
    """A directory with train (300 images) and t10k (100 images) IDX files."""
    d = tmp_path_factory.mktemp("syn")
    _write_split(d, "train", 300, 0)
    _write_split(d, "t10k", 100, 1)
    return d


@pytest.fixture(scope="module")
def t10k_only(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("t10k")
    _write_split(d, "t10k", 250, 2)
    return d


def run(*args, expect=0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == expect, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output or "--debug" in args
    return result


def one_line_error(result):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.fixture(scope="module")
def trained_run(idx_data, tmp_path_factory) -> Path:
    """One complete `xpnet train` with plots, shared by the evaluate/predict tests."""
    out = tmp_path_factory.mktemp("runs") / "run"
    result = run("train", "--data", idx_data, "--epochs", "3", "--hidden", "16", "--batch-size", "32", "--out", out)
    (out.parent / "train-output.txt").write_text(result.stdout)
    return out


# -- help, version, info -------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "gradcheck", "info"])
def test_every_command_has_help_with_examples(command):
    result = run(command, "--help")
    assert "Examples:" in result.output and f"xpnet {command}" in result.output


def test_the_group_help_has_examples():
    assert "Examples:" in run("--help").output


def test_no_arguments_shows_help_and_version():
    assert "Commands:" in run().output
    assert xpnet.__version__ in run("--version").output


def test_info_lists_backends_and_auto_choice():
    out = run("info").stdout
    assert "numpy" in out and "auto" in out and xpnet.__version__ in out
    assert "array_api_strict" in out


def test_module_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "xpnet.cli", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and xpnet.__version__ in proc.stdout


# -- train end to end ----------------------------------------------------------------------------
def test_train_writes_model_metrics_and_plots(trained_run):
    out = (trained_run.parent / "train-output.txt").read_text()
    assert "epoch" in out and "val acc" in out
    assert "test accuracy" in out and "wall time" in out
    for name in (
        "model.npz",
        "metrics.json",
        "curves.png",
        "confusion_matrix.png",
        "misclassified.png",
        "first_layer_weights.png",
    ):
        assert (trained_run / name).is_file(), name
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    assert len(metrics["history"]["loss"]) == 3
    assert metrics["test"]["accuracy"] > 0.5 and metrics["test"]["n"] == 100
    assert metrics["backend"]["spec"] == "numpy"
    assert set(metrics["dataset"]["checksums"]) == {
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    }
    assert metrics["config"]["hidden"] == [16] and metrics["versions"]["numpy"] == np.__version__
    ckpt = xpnet.load_checkpoint(trained_run / "model.npz")
    assert ckpt.model.epoch == 3 and ckpt.metrics["test_accuracy"] == metrics["test"]["accuracy"]
    assert ckpt.preprocessing.standardized


def test_train_on_test_split_only_holds_out_a_test_set(t10k_only, tmp_path):
    result = run("train", "--data", t10k_only, "--val-split", "0.2", "--epochs", "2", *FAST, "--out", tmp_path / "r")
    assert "no training split" in result.stdout and "holding out 20%" in result.stdout
    split = json.loads((tmp_path / "r" / "metrics.json").read_text())["dataset"]["split"]
    assert (split["n_test"], split["n_val"], split["n_train"]) == (50, 40, 160)
    assert split["holdout_from"] == "test"
    # evaluate finds the same held-out images by itself
    ev = run("evaluate", tmp_path / "r")
    assert "held-out" in ev.stdout and "accuracy" in ev.stdout
    acc = json.loads((tmp_path / "r" / "metrics.json").read_text())["test"]["accuracy"]
    assert f"accuracy {acc:.4f}" in ev.stdout


def test_tutorial_preset_is_the_tutorial(idx_data, tmp_path):
    result = run(
        "train",
        "--preset",
        "tutorial",
        "--data",
        idx_data,
        "--epochs",
        "5",
        "--no-plots",
        "--out",
        tmp_path / "t",
    )
    assert "784-10-10" in result.stdout and "sgd lr=0.1" in result.stdout and "full batch" in result.stdout
    config = json.loads((tmp_path / "t" / "metrics.json").read_text())["config"]
    assert config["init"] == "tutorial" and config["batch_size"] is None and config["standardize"] is False
    from xpnet.runs.config import PRESETS

    assert PRESETS["tutorial"]["epochs"] == 500


# -- evaluate and predict ------------------------------------------------------------------------
def test_evaluate_prints_tables_and_writes_confusion_png(trained_run, tmp_path):
    result = run("evaluate", trained_run / "model.npz", "--plot", tmp_path / "cm.png")
    out = result.stdout
    assert "precision" in out and "recall" in out and "Confusion matrix" in out
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"


def _table_rows(out: str) -> dict[str, list[str]]:
    """The body rows of a rich table, by their first cell: ``{"img0.png": ["3", "3 97.1%, 5 1.2%"]}``."""
    rows = {}
    for line in out.splitlines():
        if line.startswith("│"):
            cells = [cell.strip() for cell in line.strip("│").split("│")]
            rows[cells[0]] = cells[1:]
    return rows


def test_predict_images(trained_run, tmp_path, monkeypatch):
    """The printed class and top probabilities of every file are the model's own on the pixels
    the file is read as; 28x28 digits of classes the model knows are printed as those classes."""
    from xpnet.images import load_image

    monkeypatch.chdir(tmp_path)
    ckpt = xpnet.load_checkpoint(trained_run / "model.npz")
    model, names = ckpt.model, ckpt.class_names
    x, y = _images(60, 1)
    known = xpnet.to_numpy(model.predict(ckpt.model_inputs(x.reshape(60, 784)))) == y
    picked = [int(np.flatnonzero(known & (y == k))[0]) for k in np.unique(y[known])[:3]]  # 3 classes it gets right
    assert len(picked) == 3
    files = []
    for i in picked:  # 28x28, white on black: used as they are
        Image.fromarray(x[i]).save(f"digit{i}.png")
        files.append(f"digit{i}.png")
    Image.fromarray(255 - x[picked[0]]).resize((84, 84), Image.NEAREST).save("photo.png")  # dark ink on paper
    files.append("photo.png")
    pixels = np.stack([load_image(f) for f in files])
    np.testing.assert_array_equal(pixels[:3], x[picked].reshape(3, 784))
    proba = xpnet.to_numpy(model.predict_proba(ckpt.model_inputs(pixels)))
    expected = xpnet.to_numpy(model.predict(ckpt.model_inputs(pixels)))
    result = CliRunner().invoke(cli, ["predict", str(trained_run), *files, "--top", "2"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = _table_rows(result.stdout)
    assert set(rows) == set(files)
    for f, p, k in zip(files, proba, expected):
        order = np.argsort(-p)[:2]
        assert rows[f] == [
            names[k],
            f"{names[order[0]]} {p[order[0]]:.1%}, {names[order[1]]} {p[order[1]]:.1%}",
        ], f
    assert [rows[f][0] for f in files[:3]] == [names[k] for k in y[picked]]  # the classes it was shown


def _kaggle_csv(path: Path, x, y=None):
    header = ([] if y is None else ["label"]) + [f"pixel{i}" for i in range(784)]
    rows = x.reshape(len(x), 784)
    if y is not None:
        rows = np.column_stack([y, rows])
    np.savetxt(path, rows, fmt="%d", delimiter=",", header=",".join(header), comments="")
    return path


def test_predict_csv_and_kaggle_submission(trained_run, tmp_path):
    x, y = _images(40, 1)
    labelled = _kaggle_csv(tmp_path / "train.csv", x, y)
    out = run("predict", trained_run, labelled, "--limit", "5").stdout
    assert "accuracy on the 40 labelled rows" in out
    test_csv = _kaggle_csv(tmp_path / "test.csv", x)
    submission = tmp_path / "submission.csv"
    run("predict", trained_run, test_csv, "--kaggle-submission", submission)
    lines = submission.read_text().splitlines()
    assert lines[0] == "ImageId,Label" and len(lines) == 41
    assert lines[1].startswith("1,") and lines[-1].startswith("40,")
    assert all(0 <= int(line.split(",")[1]) <= 9 for line in lines[1:])


# -- gradcheck -----------------------------------------------------------------------------------
def test_gradcheck_passes_and_fails_with_exit_1():
    out = run("gradcheck", "--backend", "cpu", "--sizes", "20,8,5", "--samples", "4").stdout
    assert "PASSED" in out and "W1" in out and "b2" in out
    # A step this coarse: the truncation error O(ε²) dwarfs tol, so the check must fail.
    failed = run("gradcheck", "--backend", "cpu", "--sizes", "20,8,5", "--eps", "0.5", "--samples", "4", expect=1)
    assert "FAILED" in failed.stdout


# -- bad usage and bad input: exit 2, one line, no traceback -------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["train", "--batch-size", "abc"],
        ["train", "--batch-size", "0"],
        ["train", "--hidden", "3,x"],
        ["train", "--hidden", "3,-1"],
        ["train", "--lr", "0"],
        ["train", "--val-split", "1.5"],
        ["train", "--epochs", "0"],
        ["train", "--dataset", "cifar"],
        ["train", "--activation", "swish"],
        ["train", "--data", "/nonexistent/path"],
        ["train", "--dataset", "mnist", "--data", "."],
        ["train", "--momentum", "0.9"],  # momentum with the default adamw
        ["train", "--ema", "0.9", "--swa-epochs", "2"],  # two averagings
        ["train", "--epochs", "3", "--swa-epochs", "4"],  # more epochs averaged than trained
        ["train", "--backend", "no-such-backend"],
        ["gradcheck", "--sizes", "5"],
        ["evaluate", "/nonexistent/model.npz"],
        ["no-such-command"],
    ],
)
def test_bad_usage_exits_2_with_one_line(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_line_error(run(*args, expect=2))


def test_bad_data_file_exits_2(tmp_path):
    d = tmp_path / "broken"
    d.mkdir()
    _write_split(d, "t10k", 20, 0)
    images = d / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:50])  # truncated
    line = one_line_error(run("train", "--data", d, "--out", tmp_path / "r", expect=2))
    assert "t10k-images" in line
    assert not (tmp_path / "r").exists()


def test_bad_checkpoints_exit_2(tmp_path):
    for name, content in (("text.npz", b"hello"), ("trunc.npz", b"PK\x03\x04" + b"\x00" * 30)):
        (tmp_path / name).write_bytes(content)
        line = one_line_error(run("evaluate", tmp_path / name, "--data", tmp_path, expect=2))
        assert name in line


def test_bad_image_and_submission_misuse_exit_2(trained_run, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    assert "bad.png" in one_line_error(run("predict", trained_run, bad, expect=2))
    good = tmp_path / "ok.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(good)
    one_line_error(run("predict", trained_run, good, "--kaggle-submission", tmp_path / "s.csv", expect=2))


def test_existing_run_directory_is_not_overwritten(trained_run, idx_data):
    line = one_line_error(run("train", "--data", idx_data, "--out", trained_run, expect=2))
    assert "--resume" in line


def test_resume_errors(trained_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "nothing to resume" in one_line_error(run("train", "--resume", expect=2))
    assert "--lr" in one_line_error(run("train", "--resume", "--out", trained_run, "--lr", "0.1", expect=2))
    line = one_line_error(run("train", "--resume", "--out", trained_run, "--augment", "affine", "--flip", expect=2))
    assert "--augment: the run has shift, the command says affine; --flip: the run has --no-flip" in line
    assert "drop --augment --flip" in line


def test_train_augment_options(idx_data, tmp_path):
    """--augment affine with its ranges: described in the setup line, recorded in metrics.json;
    ranges outside what RandomAffine takes are refused before anything runs."""
    out = tmp_path / "aff"
    args = ["--augment", "affine", "--rotation", "5", "--scale", "0.05", "--shear", "0.2", "--shift", "2"]
    result = run("train", "--data", idx_data, "--epochs", "1", *args, *FAST, "--out", out)
    assert "random affine distortions (rotation ±5°, scale ±0.05, shear ±0.2, shifts ±2 px)" in result.stdout
    config = json.loads((out / "metrics.json").read_text())["config"]
    assert (config["augment"], config["rotation"], config["scale"], config["shear"], config["shift"]) == (
        "affine",
        5,
        0.05,
        0.2,
        2,
    )
    assert not config["flip"]
    for bad in (["--rotation", "200"], ["--scale", "1"], ["--shear", "-0.1"], ["--augment", "elastic"]):
        result = run("train", "--data", idx_data, *bad, "--out", tmp_path / "bad", expect=2)
        assert bad[0] in result.stderr
    assert not (tmp_path / "bad").exists()
    helptext = run("train", "--help").output
    assert "--augment [auto|none|shift|affine]" in helptext and "--flip / --no-flip" in helptext


def test_debug_flag_shows_the_traceback(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"junk")
    result = run("--debug", "evaluate", tmp_path / "x.npz", "--data", tmp_path, expect=2)
    assert "Traceback" in result.stderr and "CheckpointError" in result.stderr


def test_offline_without_data_prints_the_clear_message(tmp_path, monkeypatch):
    # No network: every request goes to a closed local port.
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "cache"
    result = run("train", "--data-dir", empty, expect=2)
    err = result.stderr
    assert "MNIST is not available" in err and "--data" in err
    for name in (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ):
        assert name in err
    assert str(empty) in err and "SHA-256" in err
    assert not (tmp_path / "runs").exists()


# -- Ctrl-C, resume, divergence ------------------------------------------------------------------
def _interrupt_at(monkeypatch, epoch, batch):
    """Send a real SIGINT to this process after the given step (as Ctrl-C would)."""
    original = cli_output.ConsoleProgress.on_batch_end

    def on_batch_end(self, model, e, b, n):
        original(self, model, e, b, n)
        if (e, b) == (epoch, batch):
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(cli_output.ConsoleProgress, "on_batch_end", on_batch_end)


@pytest.mark.parametrize(
    "augment",
    [
        ["--shift", "0"],
        ["--shift", "1"],
        ["--augment", "affine", "--flip"],
        ["--shift", "1", "--ema", "0.9"],
        ["--shift", "1", "--schedule", "constant", "--swa-epochs", "2"],
    ],
    ids=["plain", "shifts", "affine-flips", "ema", "swa"],
)
def test_ctrl_c_saves_exits_130_and_resume_matches_uninterrupted(idx_data, tmp_path, monkeypatch, augment):
    args = ["train", "--data", idx_data, "--epochs", "3", *augment, *FAST]
    run(*args, "--out", tmp_path / "straight")

    _interrupt_at(monkeypatch, epoch=1, batch=2)
    result = run(*args, "--out", tmp_path / "cut", expect=130)
    assert "Interrupted: saved a checkpoint" in result.stderr
    assert "xpnet train --resume --out" in result.stderr
    stopped = xpnet.load(tmp_path / "cut" / "model.npz")
    assert (stopped.epoch, stopped.batch) == (1, 3)
    assert json.loads((tmp_path / "cut" / "metrics.json").read_text())["status"] == "interrupted"
    monkeypatch.undo()

    resumed = run("train", "--resume", "--out", tmp_path / "cut", "--no-plots")
    assert "Resuming" in resumed.stdout
    for averaged in (False, True):  # the weights trained, and those predicted with (--ema: averaged)
        a = xpnet.load(tmp_path / "straight" / "model.npz").numpy_params(averaged)
        b = xpnet.load(tmp_path / "cut" / "model.npz").numpy_params(averaged)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    if "--ema" in augment:
        cut_model = xpnet.load_checkpoint(tmp_path / "cut" / "model.npz")
        assert cut_model.model.averaging.decay == 0.9 and cut_model.training["config"]["ema"] == 0.9
        assert cut_model.model.averaging.t == cut_model.model.optimizer.t
    if "--swa-epochs" in augment:  # cut in epoch 2, the first averaged: saved with no mean yet
        assert stopped.averaging.start_epoch == 1 and stopped.averaging.t == 0 and stopped.averaged_params is None
        cut_model = xpnet.load_checkpoint(tmp_path / "cut" / "model.npz")
        assert cut_model.model.averaging.t == 2 and cut_model.training["config"]["swa_epochs"] == 2
    m_a = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    m_b = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    assert m_b["status"] == "completed" and m_b["test"]["accuracy"] == m_a["test"]["accuracy"]

    # epochs.csv: the interrupted run kept epoch 1's row; the resumed one appended epochs 2 and 3,
    # each epoch once, with the uninterrupted run's numbers (resuming is exact), except the
    # training loss and accuracy of epoch 2, the epoch cut in two: they cover its steps after the resume.
    def rows(name):
        with open(tmp_path / name / "epochs.csv", newline="") as f:
            return [{k: v for k, v in row.items() if k != "epoch_time"} for row in csv.DictReader(f)]

    assert [row["epoch"] for row in rows("cut")] == ["1", "2", "3"]
    cut, straight = rows("cut"), rows("straight")
    assert cut[0] == straight[0] and cut[2] == straight[2]
    for key in ("val_loss", "val_accuracy", "lr"):
        assert cut[1][key] == straight[1][key]
    parts = m_b["train_seconds_parts"]
    assert len(parts) == 2 and m_b["train_seconds"] == pytest.approx(sum(parts))
    assert m_b["train_seconds"] > parts[-1]
    assert "over 2 sessions" in resumed.stdout


def test_divergence_exits_1_and_keeps_last_good_checkpoint(idx_data, tmp_path, monkeypatch):
    def poison(self, model, e, b, n):
        if e == 1:  # the second epoch goes bad
            model.params["W1"] = model.params["W1"] * np.float32(np.nan)

    monkeypatch.setattr(cli_output.ConsoleProgress, "on_batch_end", poison)
    result = run(
        "train",
        "--data",
        idx_data,
        "--epochs",
        "3",
        *FAST,
        "--save-every",
        "0",
        "--out",
        tmp_path / "d",
        expect=1,
    )
    assert "diverged" in result.stderr and "--lr 0.0001" in result.stderr
    assert "epoch 1" in result.stderr
    kept = xpnet.load(tmp_path / "d" / "model.npz")
    assert kept.epoch == 1
    assert all(np.isfinite(v).all() for v in kept.numpy_params().values())
    assert json.loads((tmp_path / "d" / "metrics.json").read_text())["status"] == "diverged"


# -- real data (skipped when absent) -------------------------------------------------------------
@needs_mnist_t10k
def test_train_on_real_mnist_t10k(tmp_path):
    data = shared_data_dir() / "mnist-t10k"
    result = run(
        "train",
        "--data",
        data,
        "--val-split",
        "0.2",
        "--epochs",
        "2",
        "--hidden",
        "32",
        "--batch-size",
        "32",
        "--no-plots",
        "--out",
        tmp_path / "real",
    )
    assert "no training split" in result.stdout
    metrics = json.loads((tmp_path / "real" / "metrics.json").read_text())
    assert metrics["test"]["n"] == 2000 and metrics["test"]["accuracy"] > 0.85


# -- errors: ours exit 2, anything else is a bug (exit 1) ----------------------------------------
def test_an_unexpected_exception_exits_1_and_asks_for_a_report(monkeypatch):
    import xpnet.backend

    def broken():
        raise ValueError("boom")  # a plain ValueError from a bug, not a user's mistake

    monkeypatch.setattr(xpnet.backend, "available_backends", broken)
    result = run("info", expect=1)
    assert "ValueError: boom" in result.stderr
    assert "this is a bug in xpnet; rerun with --debug and report it" in result.stderr
    assert "Traceback" in run("--debug", "info", expect=1).stderr


@pytest.mark.parametrize("spec", ["cuda:x", "torch:cuda:x", "numpy:gpu", "nonsense", "array_api_strict:nodevice"])
def test_every_bad_backend_gets_one_clean_line(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = one_line_error(run("gradcheck", "--backend", spec, expect=2))
    assert spec in line and "invalid literal" not in line
    assert "cuda:N" in line  # the valid forms


def test_a_spec_from_the_environment_says_so(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XPNET_BACKEND", "nonsense")
    out = run("info").stdout
    assert "from $XPNET_BACKEND" in out and "from argument" not in out
    line = one_line_error(run("gradcheck", expect=2))
    assert "from $XPNET_BACKEND" in line


def test_a_closed_pipe_ends_quietly(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "xpnet.cli", "info"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line, as with `| head -0`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) in (0, 141)
    assert "Traceback" not in err and "Exception ignored" not in err and "Error" not in err


# -- runs: over in place, finished, resumed, diverged --------------------------------------------
def test_overwrite_starts_a_run_over_in_place(idx_data, tmp_path):
    out = tmp_path / "r"
    run("train", "--data", idx_data, "--epochs", "1", *FAST, "--out", out)
    run(
        "train",
        "--data",
        idx_data,
        "--epochs",
        "2",
        "--hidden",
        "8",
        "--batch-size",
        "32",
        "--no-plots",
        "--overwrite",
        "--out",
        out,
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["hidden"] == [8] and len(metrics["history"]["loss"]) == 2
    assert metrics["train_seconds_parts"] == [metrics["train_seconds"]]
    assert xpnet.load(out / "model.npz").sizes == [784, 8, 10]
    assert "--resume" in one_line_error(run("train", "--resume", "--overwrite", "--out", out, expect=2))


def test_resume_of_a_finished_run_changes_nothing(idx_data, tmp_path):
    out = tmp_path / "done"
    run("train", "--data", idx_data, "--epochs", "2", *FAST, "--out", out)
    before = {name: (out / name).read_bytes() for name in ("model.npz", "metrics.json")}
    result = run("train", "--resume", "--out", out)
    assert "already complete" in result.stdout and "2 of 2 epochs" in result.stdout
    assert "Nothing was changed" in result.stdout and "epoch 3" not in result.stdout
    assert {name: (out / name).read_bytes() for name in before} == before


def test_divergence_suggests_a_rate_that_trains_and_the_untrained_checkpoint_is_refused(idx_data, tmp_path):
    out = tmp_path / "div"
    args = ["train", "--data", idx_data, "--epochs", "2", *FAST]
    result = run(*args, "--lr", "1e6", "--out", out, expect=1)
    err = result.stderr
    assert err.startswith("Training diverged")  # nothing leaks out before the message ...
    assert "RuntimeWarning" not in err and "NumPy warned while training: overflow" in err  # ... it is in it
    assert "--lr 0.001" in err and "default preset's learning rate" in err and "--lr 100000" not in err
    assert "epoch 0: the initial, untrained weights" in err
    assert json.loads((out / "metrics.json").read_text())["status"] == "diverged"
    line = one_line_error(run("evaluate", out, expect=2))
    assert "untrained" in line and "--overwrite" in line and "--lr 0.001" in line
    assert "would diverge again" in one_line_error(run("train", "--resume", "--out", out, expect=2))
    command = err.strip().splitlines()[-1].split()
    assert command[:2] == ["xpnet", "train"] and "--overwrite" in command
    run(*command[1:])  # the suggested command trains
    assert json.loads((out / "metrics.json").read_text())["status"] == "completed"
    assert "Note:" not in run("evaluate", out).stdout


def test_evaluate_on_a_folder_of_runs_names_them(trained_run, tmp_path):
    line = one_line_error(run("evaluate", trained_run.parent, expect=2))
    assert "run folder" in line and trained_run.name in line


def test_thousands_separators_and_spelling_in_the_data_line():
    from xpnet.datasets.dataset import make_dataset

    x, y = _images(1200, 0)
    data = make_dataset("syn", source="here", train=(x.reshape(1200, 784), y), test=(x[:1000].reshape(1000, 784), None))
    assert data.summary() == "syn: 1,200 training and 1,000 unlabelled test images, 10 classes (from here)"
