"""``xpnet predict`` for other programs: folders of pictures (recursive, pictures only, sorted),
``--output`` as CSV (read back by pandas) and JSON lines (read back by json), the unreadable
picture's error in its row, and the file written atomically."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import xpnet
from tests.cli.test_predict import digit_file, model_path, run  # noqa: F401  (model_path: a fixture)


@pytest.fixture
def pictures(tmp_path):
    """pictures/ with nested folders, a picture in upper case, a broken one, a text file, a hidden one."""
    root = tmp_path / "pictures"
    (root / "b" / "deep").mkdir(parents=True)
    (root / "a").mkdir()
    digit_file(root / "b" / "deep" / "z.png", 200)
    digit_file(root / "a" / "1.png", 250)
    digit_file(root / "b.png", 300)
    Image.fromarray(np.full((28, 28), 0, np.uint8)).save(root / "a" / "0.JPG")  # blank: reported, not guessed
    (root / "a" / "broken.png").write_bytes(b"\x89PNG not really")
    (root / "notes.txt").write_text("not a picture")
    (root / ".hidden.png").write_bytes(b"")
    return root


#: Sorted by path components below the folder: the folder b's pictures before b.png ("b" < "b.png").
ORDER = ["a/0.JPG", "a/1.png", "a/broken.png", "b/deep/z.png", "b.png"]


def test_a_folder_is_its_pictures_in_sorted_order_and_csv_output_reads_in_pandas(model_path, pictures, tmp_path):  # noqa: F811
    pd = pytest.importorskip("pandas")
    out_csv = tmp_path / "out" / "preds.csv"
    result = run("predict", model_path, pictures, "--output", out_csv, expect=2)  # two pictures unusable
    assert "wrote" in result.stdout and "5 predictions" in result.stdout
    frame = pd.read_csv(out_csv, keep_default_na=False)
    expected = [str(pictures / p) for p in ORDER]
    assert list(frame["file"]) == expected
    assert list(frame.columns[:5]) == ["file", "row", "label", "class", "error"]
    assert list(frame.columns[5:]) == [f"p_{k}" for k in range(10)]
    errors = dict(zip(frame["file"], frame["error"]))
    assert errors[str(pictures / "a" / "broken.png")] != "" and errors[str(pictures / "a" / "0.JPG")] != ""
    good = frame[frame["error"] == ""]
    assert len(good) == 3
    ckpt = xpnet.load_checkpoint(model_path)
    from xpnet.images import load_image

    pixels = np.stack([load_image(f) for f in good["file"]])
    proba = xpnet.to_numpy(ckpt.model.predict_proba(ckpt.model_inputs(pixels)))
    probs = good[[f"p_{k}" for k in range(10)]].to_numpy(dtype=float)
    np.testing.assert_array_equal(probs, proba.astype(float))  # repr-exact
    assert list(good["label"].astype(int)) == list(proba.argmax(axis=1))
    assert not [p for p in out_csv.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_jsonl_output_and_csv_inputs_with_rows(model_path, pictures, tmp_path):  # noqa: F811
    rng = np.random.default_rng(0)
    kaggle = tmp_path / "test.csv"
    x = rng.integers(0, 256, (4, 784))
    np.savetxt(kaggle, x, fmt="%d", delimiter=",", header=",".join(f"pixel{i}" for i in range(784)), comments="")
    good = pictures / "b.png"
    out = tmp_path / "preds.jsonl"
    run("predict", model_path, good, pictures / "a" / "broken.png", kaggle, "--output", out, expect=2)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["file"], r["row"]) for r in records] == [
        (str(good), None),
        (str(pictures / "a" / "broken.png"), None),
        *((str(kaggle), i) for i in range(1, 5)),
    ]
    assert records[1]["error"] and records[1]["label"] is None and records[1]["probabilities"] is None
    for r in [records[0], *records[2:]]:
        assert r["error"] is None
        assert list(r["probabilities"]) == [str(k) for k in range(10)]
        assert sum(r["probabilities"].values()) == pytest.approx(1, abs=1e-5)
        assert r["class"] == max(r["probabilities"], key=r["probabilities"].get) == str(r["label"])


def test_format_option_and_refusals(model_path, pictures, tmp_path):  # noqa: F811
    out = tmp_path / "preds.txt"
    line = run("predict", model_path, pictures / "b.png", "--output", out, expect=2).stderr
    assert ".csv or .jsonl" in line and not out.exists()
    run("predict", model_path, pictures / "b.png", "--output", out, "--format", "jsonl")
    assert json.loads(out.read_text())["file"] == str(pictures / "b.png")
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "a.txt").write_text("x")
    assert "holds no pictures" in run("predict", model_path, tmp_path / "empty", expect=2).stderr
