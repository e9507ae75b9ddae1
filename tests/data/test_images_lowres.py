"""xpnet.images.lowres: nearest-neighbour upscales found and reduced exactly, coarse pictures read
without threshold or stroke change (synthetic grids, and real t10k digits made coarse)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests import digit_renderings as renderings
from xpnet.images import BlankImageError, MultipleObjectsError, load_image, preprocessing_steps
from xpnet.images.lowres import BOX_LEVEL, COARSE_MAX, find_blocks


def png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def rgba(img) -> np.ndarray:
    return np.asarray(img.convert("RGBA"))


def random_grid(rng, h, w, levels=16):
    return (rng.integers(0, levels, (h, w)) * (255 // (levels - 1))).astype(np.uint8)


def box_and_centre(x, level=0):
    a = x.reshape(28, 28).astype(float)
    rows, cols = np.flatnonzero((a > level).any(axis=1)), np.flatnonzero((a > level).any(axis=0))
    ys, xs = np.indices(a.shape)
    return max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1, ((ys * a).sum() / a.sum(), (xs * a).sum() / a.sum())


# -- finding the blocks ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "size"),
    [((8, 8), (16, 16)), ((8, 8), (32, 32)), ((8, 8), (280, 280)), ((8, 8), (100, 100)), ((13, 9), (50, 71))],
    ids=["x2", "x4", "x35", "x12.5", "13x9-to-71x50"],
)
def test_pillow_nearest_upscales_are_reduced_exactly(source, size):
    rng = np.random.default_rng(sum(size))
    grid = random_grid(rng, *source)
    big = Image.fromarray(grid).resize(size, Image.NEAREST)
    blocks = find_blocks(rgba(big))
    assert blocks is not None and blocks.shape == source
    np.testing.assert_array_equal(blocks.downsample(rgba(big))[:, :, 0], grid)
    assert blocks.factor == pytest.approx(min(size[0] / source[1], size[1] / source[0]), rel=0.1)


def test_other_nearest_conventions_and_merged_cells_are_reduced_exactly():
    """``floor(x n / W)`` (no half-pixel offset) as some programs do it, integer ``np.repeat``,
    and neighbouring cells that are equal (runs of several cells) all give the grid back."""
    rng = np.random.default_rng(3)
    grid = random_grid(rng, 10, 10, levels=3)  # few levels: many equal neighbours
    grid[:, :3] = 0  # an empty margin: one run three cells wide
    idx = np.floor(np.arange(230) * 10 / 230).astype(int)
    blocks = find_blocks(grid[idx][:, idx])
    assert blocks is not None and blocks.shape == (10, 10)
    np.testing.assert_array_equal(blocks.downsample(grid[idx][:, idx]), grid)
    repeated = np.repeat(np.repeat(grid, 6, axis=0), 6, axis=1)
    np.testing.assert_array_equal(find_blocks(repeated).downsample(repeated), grid)


def test_the_colour_of_transparent_pixels_does_not_hide_the_blocks():
    rng = np.random.default_rng(4)
    grid = np.zeros((8, 8, 4), np.uint8)
    grid[:, :, 3] = random_grid(rng, 8, 8, levels=4)
    big = np.asarray(Image.fromarray(grid, "RGBA").resize((96, 96), Image.NEAREST)).copy()
    clear = big[:, :, 3] == 0
    big[clear, :3] = rng.integers(0, 256, (int(clear.sum()), 3))  # invisible noise, as some editors leave
    blocks = find_blocks(big)
    assert blocks is not None and blocks.shape == (8, 8)
    np.testing.assert_array_equal(blocks.downsample(big)[:, :, 3], grid[:, :, 3])


def anti_aliased_canvas(rng, digit=None) -> Image.Image:
    """A drawing as xpnet serve's pad makes it: smooth strokes, white on black, 280x280."""
    if digit is None:
        digit = np.zeros((28, 28), np.uint8)
        img = Image.fromarray(digit)
        ImageDraw.Draw(img).line([(7, 6), (21, 6), (12, 23)], fill=255, width=3)
        digit = np.asarray(img)
    cov = renderings._place((280, 280), renderings.stroke_coverage(digit, 200, 280 / 13), rng)
    return Image.fromarray(np.rint(255 * cov).astype(np.uint8)).convert("RGB")


def test_no_blocks_in_anti_aliased_drawings_photos_or_pen_lines():
    rng = np.random.default_rng(0)
    seven = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(seven).line([(120, 90), (280, 90), (190, 330)], fill=0, width=12, joint="curve")
    photo = io.BytesIO()
    digit = np.asarray(Image.fromarray(np.asarray(anti_aliased_canvas(rng))[:, :, 0]).resize((28, 28), Image.BOX))
    renderings.render("photo", digit, rng).save(photo, "JPEG", quality=70)
    pictures = [
        anti_aliased_canvas(rng),
        seven,  # a hard-edged line (no anti-aliasing)
        Image.open(photo),
        renderings.render("mnist-enlarged", digit, rng),
        renderings.render("canvas-rgba", digit, rng),
    ]
    for picture in pictures:
        assert find_blocks(rgba(picture)) is None


def test_a_few_rectangles_are_not_taken_for_blocks():
    """Axis-aligned bars have runs of identical rows and columns, but too few edges to make a grid."""
    img = np.full((90, 120), 235, np.uint8)
    img[20:70, 70:80] = 20
    assert find_blocks(img) is None


def test_a_twice_enlarged_drawing_is_read_at_its_own_size():
    """Blocks of 2 on a picture larger than COARSE_MAX: the drawing itself goes through the
    usual steps, as it would have at its own size."""
    rng = np.random.default_rng(1)
    canvas = anti_aliased_canvas(rng)
    big = canvas.resize((560, 560), Image.NEAREST)
    steps = preprocessing_steps(png(big))
    assert steps["blocks"].shape[:2] == (280, 280) and "stroke" in steps
    np.testing.assert_array_equal(steps["output"].ravel(), load_image(png(canvas)))


# -- reading them -----------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [84, 300])
def test_an_upscaled_28x28_digit_is_the_array(size):
    digit = np.zeros((28, 28), np.uint8)
    digit[5:23, 12:15] = 255
    digit[5:8, 8:20] = 128
    big = Image.fromarray(255 - digit).resize((size, size), Image.NEAREST)  # dark on paper
    np.testing.assert_array_equal(load_image(png(big)), digit.ravel())


def coarse_seven() -> np.ndarray:
    grid = np.zeros((8, 8), np.uint8)
    grid[1, 1:7] = 255
    grid[2, 5:7] = (136, 255)
    for r, c in [(3, 5), (4, 4), (5, 4), (6, 3)]:
        grid[r, c] = 255
        grid[r, c + 1] = 85
    return grid


def test_coarse_pictures_skip_threshold_and_stroke_and_come_out_boxed_and_centred():
    grid = coarse_seven()
    big = Image.fromarray(255 - grid).resize((280, 280), Image.NEAREST)
    steps = preprocessing_steps(png(big))
    assert "stroke" not in steps and {"blocks", "coverage", "output"} <= set(steps)
    assert steps["blocks"].shape[:2] == (8, 8)
    box, (cy, cx) = box_and_centre(steps["output"], level=BOX_LEVEL * 255)
    assert 19 <= box <= 21  # the coverage above BOX_LEVEL fills 20 pixels (its soft edge lies around it)
    assert abs(cy - 14) <= 0.1 and abs(cx - 14) <= 0.1
    assert steps["output"].max() == 255


def test_coarse_polarity_colour_alpha_and_factor_do_not_matter():
    grid = coarse_seven()
    on_white = Image.fromarray(255 - grid).resize((280, 280), Image.NEAREST)
    on_black = Image.fromarray(grid).resize((100, 100), Image.NEAREST)
    alpha = np.zeros((8, 8, 4), np.uint8)
    alpha[:, :, 3] = grid
    transparent = Image.fromarray(alpha, "RGBA").resize((80, 80), Image.NEAREST)
    blue = np.stack([255 - grid // 2, 255 - grid // 2, np.full_like(grid, 255)], axis=2)  # blue ink on white
    reference = load_image(png(Image.fromarray(grid)))  # the 8x8 picture itself
    for picture in (on_white, on_black, transparent, Image.fromarray(blue).resize((64, 64), Image.NEAREST)):
        assert np.abs(load_image(png(picture)).astype(int) - reference).max() <= 1


def test_coarse_blank_and_two_marks_are_refused():
    with pytest.raises(BlankImageError, match="nothing drawn"):
        load_image(png(Image.new("L", (8, 8), 255).resize((280, 280), Image.NEAREST)))
    with pytest.raises(BlankImageError):
        load_image(png(Image.new("L", (40, 40), 250)))
    two = np.zeros((8, 20), np.uint8)
    two[1:7, 1:4] = 255
    two[1:7, 16:19] = 255
    two[3, 2] = two[3, 17] = 0
    with pytest.raises(MultipleObjectsError, match="2 separate marks"):
        load_image(png(Image.fromarray(two).resize((200, 80), Image.NEAREST)))


def test_small_pictures_are_coarse_even_without_blocks():
    rng = np.random.default_rng(5)
    small = np.clip(255 - 230 * (random_grid(rng, COARSE_MAX, COARSE_MAX, 2) > 0) + rng.normal(0, 2, (64, 64)), 0, 255)
    small[:8], small[-8:], small[:, :8], small[:, -8:] = 255, 255, 255, 255
    steps = preprocessing_steps(png(Image.fromarray(small.astype(np.uint8))))
    assert "coverage" in steps and "blocks" not in steps


# -- real digits made coarse ----------------------------------------------------------------------------
DATA = os.environ.get("XPNET_TEST_DATA")


@pytest.mark.slow
def test_coarse_t10k_digits_are_recognised_about_as_well_as_the_coarse_arrays(tmp_path):
    """The 8x8, 16-level digits as pictures (nearest-neighbour upscales) read about as well as
    the same grids given as arrays; the benchmark measures the 2-point target on 1,000."""
    if not DATA or not (Path(DATA) / "mnist-t10k").is_dir():
        pytest.skip("set XPNET_TEST_DATA to a directory holding mnist-t10k/ for the real-digit tests")
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import image_preprocessing as bench

    from xpnet.datasets import read_idx_directory

    data = read_idx_directory(Path(DATA) / "mnist-t10k")
    x, y = data.x_test, data.y_test.astype(np.int64)
    ckpt = bench.train_model(x[:4000], y[:4000], 0, 4, tmp_path / "model.npz")
    held = np.arange(9000, 9150)
    grids = [renderings.coarse(x[i]) for i in held]
    on_arrays = float(np.mean(bench.predict(ckpt, np.stack([renderings.coarse_as_array(g) for g in grids])) == y[held]))
    for kind in ("coarse-8x8", "coarse-x12.5", "coarse-x35-rgba"):
        inputs = np.stack([load_image(png(renderings.render_coarse(kind, g))) for g in grids])
        on_pictures = float(np.mean(bench.predict(ckpt, inputs) == y[held]))
        # 150 digits: one digit is 0.7 points
        assert on_pictures >= on_arrays - 0.05, (kind, on_pictures, on_arrays)
