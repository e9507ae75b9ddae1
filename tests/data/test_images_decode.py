"""xpnet.images.decode: large JPEGs decoded reduced (Pillow's draft mode), upright, within the size limit."""

from __future__ import annotations

import functools
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from xpnet.images import ImageError, load_image, preprocessing_steps
from xpnet.images import decode as decode_module
from xpnet.images.decode import DRAFT_SIDE, open_image

SEVEN = [(0.3, 0.2), (0.7, 0.2), (0.47, 0.8)]


@functools.cache
def photo(size, mode="RGB") -> Image.Image:
    """A blue "7" on cream paper with a little noise, ``size = (width, height)`` (drawn at a
    quarter of the size and enlarged, which is quicker)."""
    w, h = size[0] // 4, size[1] // 4
    img = Image.new("RGB", (w, h), (235, 225, 200))
    ImageDraw.Draw(img).line([(x * w, y * h) for x, y in SEVEN], fill=(40, 60, 170), width=max(3, w // 60))
    noisy = np.asarray(img, dtype=float) + np.random.default_rng(0).normal(0, 4, (h, w, 3))
    small = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    return small.resize(size, Image.BICUBIC).convert(mode)


@functools.cache
def photo_jpeg(size, mode="RGB") -> bytes:
    return jpeg(photo(size, mode))


def jpeg(img, **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85, **options)
    return buf.getvalue()


def similarity(a, b) -> float:
    return float(np.corrcoef(a.astype(float).ravel(), b.astype(float).ravel())[0, 1])


@pytest.mark.parametrize(
    ("size", "decoded"),
    [((3000, 2000), (750, 500)), ((1000, 700), (500, 350)), ((4000, 3000), (500, 375)), ((700, 500), (700, 500))],
)
def test_large_jpegs_are_decoded_reduced_to_at_least_the_working_size(size, decoded):
    img = open_image(photo_jpeg(size))
    assert img.size == decoded and img.mode == "RGBA"
    assert max(img.size) >= min(DRAFT_SIDE, max(size))


def test_gray_jpegs_and_pngs():
    assert open_image(photo_jpeg((3000, 2000), "L")).size == (750, 500)
    buf = io.BytesIO()
    photo((1200, 800)).save(buf, "PNG", compress_level=1)
    assert open_image(buf.getvalue()).size == (1200, 800)  # only JPEG has a draft mode


def test_draft_decoding_reads_the_same_digit_as_a_full_decode():
    big = photo((3000, 2000))
    data = photo_jpeg((3000, 2000))
    buf = io.BytesIO()
    big.save(buf, "BMP")  # the same pixels, decoded in full (uncompressed: quick to write)
    assert similarity(load_image(data), load_image(buf.getvalue())) > 0.97


def test_exif_orientation_is_applied_after_the_reduced_decode():
    img = photo((3000, 2000))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: rotate 90° clockwise to view
    upright = open_image(jpeg(img, exif=exif))
    assert upright.size == (500, 750)
    rotated = img.transpose(Image.Transpose.ROTATE_270)
    assert similarity(load_image(jpeg(img, exif=exif)), load_image(jpeg(rotated))) > 0.97


def test_the_pixel_limit_is_checked_on_the_stored_size(monkeypatch):
    monkeypatch.setattr(decode_module, "MAX_PIXELS", 1_000_000)
    with pytest.raises(ImageError, match="3000x2000 pixels is more than the 1,000,000 accepted"):
        open_image(photo_jpeg((3000, 2000)))


def test_a_truncated_large_jpeg_is_an_image_error():
    data = photo_jpeg((3000, 2000))
    with pytest.raises(ImageError, match="not a readable image"):
        load_image(data[: len(data) // 3])


def test_steps_of_a_large_photo_are_at_working_size():
    steps = preprocessing_steps(photo_jpeg((3000, 2000)))
    assert steps["working"].shape[:2] == (267, 400)
