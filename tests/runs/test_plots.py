"""Plots (valid PNGs, headless) and image preprocessing for `predict`."""

from __future__ import annotations

import numpy as np
from PIL import Image

from xpnet.runs import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path, min_size=(100, 100)):
    assert path.read_bytes()[:8] == PNG_MAGIC
    with Image.open(path) as img:
        assert img.size[0] >= min_size[0] and img.size[1] >= min_size[1]
    assert not list(path.parent.glob(".*.tmp"))  # atomic write left nothing behind
    return True


def test_history_plot(tmp_path):
    history = {
        "epoch": [1, 2, 3],
        "loss": [1.0, 0.6, 0.4],
        "accuracy": [0.6, 0.8, 0.9],
        "val_loss": [0.9, 0.7, 0.6],
        "val_accuracy": [0.65, 0.75, 0.8],
    }
    assert _is_png(plots.plot_history(history, tmp_path / "curves.png", title="toy"))
    no_val = {**history, "val_loss": [None] * 3, "val_accuracy": [None] * 3}
    assert _is_png(plots.plot_history(no_val, tmp_path / "curves2.png"))


def test_confusion_matrix_plot_with_long_names(tmp_path):
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 0]])
    names = ["T-shirt/top", "Trouser", "Ankle boot"]
    assert _is_png(plots.plot_confusion_matrix(cm, names, tmp_path / "cm.png"))


def test_misclassified_grid(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 784), dtype=np.uint8)
    y = np.arange(30) % 10
    pred = np.where(np.arange(30) % 3 == 0, (y + 1) % 10, y)
    path = plots.plot_misclassified(
        images, y, pred, [str(i) for i in range(10)], tmp_path / "m.png", confidence=rng.random(30)
    )
    assert _is_png(path)
    # no errors at all still gives a readable picture
    assert _is_png(plots.plot_misclassified(images, y, y, list("0123456789"), tmp_path / "none.png"), min_size=(50, 50))


def test_first_layer_plot(tmp_path):
    W1 = np.random.default_rng(0).standard_normal((20, 784))
    assert _is_png(plots.plot_first_layer(W1, tmp_path / "w.png"))
    assert plots.plot_first_layer(np.zeros((4, 20)), tmp_path / "no.png") is None
    assert not (tmp_path / "no.png").exists()


# -- images --------------------------------------------------------------------------------------
