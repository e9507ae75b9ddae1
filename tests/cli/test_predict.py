"""`xpnet predict`: images in a batch, --show-input, NaN weights, and CSV files as people have them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

import xpnet
from xpnet.cli import cli
from xpnet.datasets import DataError, read_kaggle_csv
from xpnet.model.preprocessing import Preprocessing


def run(*args, expect=0):
    # A wide terminal: at 80 columns rich folds a long temporary path (pytest-xdist's are) across lines.
    result = CliRunner().invoke(cli, [str(a) for a in args], env={"COLUMNS": "250"})
    assert result.exit_code == expect, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (200, 784)).astype(np.uint8)
    y = rng.integers(0, 10, 200)
    pre = Preprocessing.fit(x)
    model = xpnet.MLP([784, 16, 10], backend="cpu", seed=0)
    model.fit(pre.transform(x), y, epochs=1, batch_size=50)
    return xpnet.save(model, tmp_path_factory.mktemp("model") / "model.npz", preprocessing=pre)


def digit_file(path: Path, size=300) -> Path:
    img = Image.new("L", (size, size), 255)
    ImageDraw.Draw(img).line([(90, 70), (210, 70), (140, 240)], fill=0, width=14)
    img.save(path)
    return path


def test_show_input_writes_a_png_grid(model_path, tmp_path):
    files = [digit_file(tmp_path / f"d{i}.png", 200 + 100 * i) for i in range(3)]
    grid = tmp_path / "seen" / "inputs.png"
    out = run("predict", model_path, *files, "--show-input", grid).stdout
    assert "d0.png" in out and "wrote" in out
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(grid) as img:
        img.verify()
    assert not [p for p in grid.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_bad_file_does_not_stop_the_batch(model_path, tmp_path):
    good = digit_file(tmp_path / "good.png")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 300), 255).save(blank)
    result = run("predict", model_path, broken, good, blank, expect=2)
    assert "good.png" in result.stdout and "%" in result.stdout
    assert "2 of 3 images could not be used" in result.stderr
    assert "broken.png: not a readable image" in result.stderr
    assert "blank.png: nothing drawn" in result.stderr


def test_one_bad_file_is_one_line(model_path, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    lines = [line for line in run("predict", model_path, bad, expect=2).stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "bad.png" in lines[0]


# -- many files: worker processes, a progress bar, the order kept -----------------------------------
def mixed_files(tmp_path: Path, n_good: int) -> tuple[list[Path], list[Path], list[Path]]:
    """``n_good`` digit files with a broken and a blank one among them: (all, good, bad) in order."""
    good = [digit_file(tmp_path / f"d{i:02d}.png", 200 + 7 * i) for i in range(n_good)]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 300), 255).save(blank)
    files = good[:3] + [broken] + good[3:11] + [blank] + good[11:]
    return files, good, [broken, blank]


def test_pictures_read_in_processes_are_those_read_in_one_in_the_same_order(tmp_path):
    from xpnet.cli.predict import read_images

    files, good, bad = mixed_files(tmp_path, 14)
    counted = {1: [], 2: []}
    results = {jobs: read_images(files, jobs=jobs, advance=counted[jobs].append) for jobs in (1, 2)}
    for jobs in (1, 2):
        assert sum(counted[jobs]) == len(files)
        assert [e is None for _, e in results[jobs]] == [f not in bad for f in files]
    for (a, error_a), (b, error_b) in zip(results[1], results[2]):
        assert error_a == error_b
        assert (a is None and b is None) or (a == b).all()
    messages = [e for _, e in results[2] if e is not None]
    assert "broken.png: not a readable image" in messages[0] and "blank.png: nothing drawn" in messages[1]


def test_workers_for_many_files_only(monkeypatch):
    from xpnet.cli import predict as predict_module

    monkeypatch.setattr(predict_module, "_usable_cpus", lambda: 4)
    assert predict_module.workers_for(predict_module.PARALLEL_MIN - 1) == 1
    assert predict_module.workers_for(predict_module.PARALLEL_MIN) == min(
        4, -(-predict_module.PARALLEL_MIN // predict_module.CHUNK)
    )
    assert predict_module.workers_for(1000) == 4
    monkeypatch.setattr(predict_module, "_usable_cpus", lambda: 1)
    assert predict_module.workers_for(1000) == 1


def test_predict_on_many_files_keeps_their_order_and_lists_the_bad_ones(model_path, tmp_path, monkeypatch):
    from xpnet.cli import predict as predict_module

    monkeypatch.setattr(predict_module, "workers_for", lambda n: 2)
    files, good, _ = mixed_files(tmp_path, 14)
    result = run("predict", model_path, *files, expect=2)
    shown = [line.strip("│ ").split("│")[0].strip() for line in result.stdout.splitlines() if line.startswith("│")]
    assert shown == [str(f) for f in good]
    assert "2 of 16 images could not be used" in result.stderr
    lines = result.stderr.splitlines()
    assert [i for i, line in enumerate(lines) if "broken.png" in line] < [
        i for i, line in enumerate(lines) if "blank.png" in line
    ]


def test_nan_weights_are_refused(model_path, tmp_path):
    ckpt = xpnet.load_checkpoint(model_path, backend="cpu")
    params = ckpt.model.numpy_params()
    params["W1"] = params["W1"].copy()
    params["W1"][0, 0] = np.nan
    ckpt.model.set_params(params)
    nan_path = xpnet.save(ckpt.model, tmp_path / "nan.npz", preprocessing=ckpt.preprocessing, allow_nonfinite=True)
    result = run("predict", nan_path, digit_file(tmp_path / "d.png"), expect=2)
    assert "NaN" in result.stderr and "W1" in result.stderr and "--lr" in result.stderr
    assert "nan%" not in result.stdout


# -- CSV variants ----------------------------------------------------------------------------------
def write_rows(path: Path, rows: np.ndarray, header: str | None, fmt="%d") -> Path:
    np.savetxt(path, rows, fmt=fmt, delimiter=",", header=header or "", comments="")
    if header is None:  # np.savetxt writes an empty first line for header=""
        path.write_text(path.read_text().lstrip("\n"))
    return path


@pytest.fixture
def pixels():
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (5, 784)).astype(np.uint8), rng.integers(0, 10, 5)


def test_csv_without_header_with_and_without_labels(tmp_path, pixels):
    x, y = pixels
    labelled = write_rows(tmp_path / "l.csv", np.column_stack([y, x]), None)
    images, labels = read_kaggle_csv(labelled)
    assert (images == x).all() and (labels == y).all()
    images, labels = read_kaggle_csv(write_rows(tmp_path / "u.csv", x, None))
    assert (images == x).all() and labels is None


def test_csv_without_header_wrong_count_names_the_line(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(",".join(["1"] * 100) + "\n")
    with pytest.raises(DataError, match="line 1: no header row and 100 values"):
        read_kaggle_csv(path)


def test_csv_with_0_1_floats_is_read_as_intensities(tmp_path, pixels):
    x, y = pixels
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    path = write_rows(tmp_path / "f.csv", np.column_stack([y, x / 255.0]), header, fmt="%.6f")
    images, labels = read_kaggle_csv(path)
    assert (images == x).all() and (labels == y).all()


def test_csv_of_only_0_and_1_is_refused_naming_the_option(tmp_path, model_path):
    x = (np.random.default_rng(0).random((3, 784)) > 0.5).astype(int)
    path = write_rows(tmp_path / "bin.csv", x, None)
    with pytest.raises(DataError, match="--pixels 0-1"):
        read_kaggle_csv(path)
    assert read_kaggle_csv(path, pixels="0-1")[0].max() == 255
    assert read_kaggle_csv(path, pixels="0-255")[0].max() == 1
    assert "--pixels 0-1" in run("predict", model_path, path, expect=2).stderr
    assert "3 rows" in run("predict", model_path, path, "--pixels", "0-1").stdout


def test_csv_fractions_above_1_are_refused_naming_the_option(tmp_path, pixels):
    x, _ = pixels
    path = write_rows(tmp_path / "f255.csv", np.minimum(x, 254) + 0.25, None, fmt="%.2f")
    with pytest.raises(DataError, match="--pixels 0-255"):
        read_kaggle_csv(path)
    assert (read_kaggle_csv(path, pixels="0-255")[0] == np.minimum(x, 254)).all()


def test_csv_0_1_value_out_of_range_is_located(tmp_path, pixels):
    x, _ = pixels
    rows = x / 255.0
    rows[1, 10] = 1.5
    path = write_rows(tmp_path / "bad.csv", rows, None, fmt="%.4f")
    with pytest.raises(DataError, match=r"line 2, column 11 \(pixel10\): pixel value 1.5 is outside 0..1"):
        read_kaggle_csv(path, pixels="0-1")


def test_pictures_and_a_csv_together_keep_the_pixels_option(tmp_path, model_path):
    # `--pixels` applies to the CSV even when pictures come first on the command line (the picture
    # loop once reused the name `pixels` for each picture's array, and the CSV got that array).
    x = (np.random.default_rng(0).random((3, 784)) > 0.5).astype(int)
    path = write_rows(tmp_path / "bin.csv", x, None)
    picture = digit_file(tmp_path / "d.png")
    out = run("predict", model_path, picture, path, "--pixels", "0-1").stdout
    assert "d.png" in out and "3 rows" in out
