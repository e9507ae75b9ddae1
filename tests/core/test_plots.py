"""Plots (valid PNGs, headless) and image preprocessing for `predict`."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from xpnet import plots
from xpnet.images import ImageError, load_image, to_mnist_format

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path, min_size=(100, 100)):
    assert path.read_bytes()[:8] == PNG_MAGIC
    with Image.open(path) as img:
        assert img.size[0] >= min_size[0] and img.size[1] >= min_size[1]
    assert not list(path.parent.glob(".*.tmp"))  # atomic write left nothing behind
    return True


def test_history_plot(tmp_path):
    history = {"epoch": [1, 2, 3], "loss": [1.0, 0.6, 0.4], "accuracy": [0.6, 0.8, 0.9],
               "val_loss": [0.9, 0.7, 0.6], "val_accuracy": [0.65, 0.75, 0.8]}
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
    path = plots.plot_misclassified(images, y, pred, [str(i) for i in range(10)], tmp_path / "m.png",
                                    confidence=rng.random(30))
    assert _is_png(path)
    # no errors at all still gives a readable picture
    assert _is_png(plots.plot_misclassified(images, y, y, list("0123456789"), tmp_path / "none.png"),
                   min_size=(50, 50))


def test_first_layer_plot(tmp_path):
    W1 = np.random.default_rng(0).standard_normal((20, 784))
    assert _is_png(plots.plot_first_layer(W1, tmp_path / "w.png"))
    assert plots.plot_first_layer(np.zeros((4, 20)), tmp_path / "no.png") is None
    assert not (tmp_path / "no.png").exists()


# -- images --------------------------------------------------------------------------------------
def _digit_photo(size=(120, 90), mode="L"):
    """A dark stroke on a light background, off-centre, like a photo of a handwritten digit."""
    img = np.full((size[1], size[0]), 235, dtype=np.uint8)
    img[20:70, 70:80] = 20   # a "1", to the right of centre
    return Image.fromarray(img).convert(mode)


def test_photo_is_inverted_cropped_and_centred(tmp_path):
    path = tmp_path / "digit.jpg"
    _digit_photo(mode="RGB").save(path)
    x = load_image(path)
    assert x.shape == (784,) and x.dtype == np.uint8
    img = x.reshape(28, 28).astype(float)
    assert img[0, :].max() == 0 and img[:, 0].max() == 0  # dark background
    assert img.max() > 200                                  # bright stroke
    ys, xs = np.indices(img.shape)
    cy, cx = (ys * img).sum() / img.sum(), (xs * img).sum() / img.sum()
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1     # centre of mass in the middle
    rows = np.flatnonzero(img.max(axis=1) > 50)
    assert 18 <= rows[-1] - rows[0] + 1 <= 21               # scaled to about 20 pixels


def test_transparent_png_and_28x28_input(tmp_path):
    rgba = np.zeros((60, 60, 4), dtype=np.uint8)
    rgba[10:50, 25:35] = (0, 0, 0, 255)   # black ink, transparent elsewhere
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    x = load_image(tmp_path / "t.png").reshape(28, 28)
    assert x[0, 0] == 0 and x.max() > 200
    mnist_like = np.zeros((28, 28), dtype=np.uint8)
    mnist_like[5:20, 12:15] = 255
    Image.fromarray(mnist_like).save(tmp_path / "m.png")
    np.testing.assert_array_equal(load_image(tmp_path / "m.png"), mnist_like.reshape(784))


def test_blank_image_is_said_to_be_blank():
    # was: a blank picture gave an all-zero input (and a guess); now it is refused, plainly
    from xpnet.images import BlankImageError

    with pytest.raises(BlankImageError, match="nothing drawn"):
        to_mnist_format(np.full((40, 40), 255, np.uint8))


def test_unreadable_images(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(ImageError, match="not a readable image"):
        load_image(bad)
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "missing.png")
