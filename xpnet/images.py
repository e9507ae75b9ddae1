"""Turning an arbitrary picture of a digit into an MNIST-style 28×28 uint8 image.

MNIST digits are white on black, about 20×20 pixels inside a 28×28 frame, centred by their
centre of mass. :func:`load_image` brings a photo or drawing closer to that:

1. open with Pillow, flatten transparency onto white, convert to grayscale (0..255);
2. invert when the background is light (the median of the border pixels is above 127), so the
   digit becomes bright on dark;
3. a picture that is already 28×28 is used as it is; any other size is cropped to the
   digit's bounding box (pixels above 20 % of the brightest), scaled so its longer side is 20
   pixels (keeping the aspect ratio) and pasted into a 28×28 frame with its centre of mass at
   the centre, as in the original MNIST preparation.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import XpnetError

__all__ = ["load_image", "to_mnist_format", "ImageError", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class ImageError(XpnetError, ValueError):
    """An image file cannot be read or holds no usable picture."""


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file and return it as a flat ``(784,)`` uint8 MNIST-style image."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(background, rgba)
            gray = np.asarray(img.convert("L"), dtype=np.uint8)
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc})") from None
    if gray.size == 0:
        raise ImageError(f"{path}: the image is empty")
    return to_mnist_format(gray)


def to_mnist_format(gray: np.ndarray) -> np.ndarray:
    """A 2-d grayscale uint8 array → flat ``(784,)`` uint8, bright digit on dark, centred."""
    from PIL import Image

    gray = np.asarray(gray, dtype=np.uint8)
    if gray.ndim != 2:
        raise ImageError(f"expected a 2-d grayscale image, got shape {gray.shape}")
    if float(np.median(_border(gray))) > 127:
        gray = 255 - gray
    if gray.shape == (28, 28):
        return gray.reshape(784).copy()
    # stretch contrast so that the background is 0 and the brightest stroke 255
    g = gray.astype(np.float64) - float(np.median(_border(gray)))
    g = np.clip(g, 0, None)
    peak = g.max()
    if peak <= 0:
        return np.zeros(784, dtype=np.uint8)
    g = g * (255.0 / peak)
    rows = np.flatnonzero((g > 0.2 * 255).any(axis=1))
    cols = np.flatnonzero((g > 0.2 * 255).any(axis=0))
    crop = g[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.asarray(Image.fromarray(crop.astype(np.uint8)).resize((new_w, new_h), Image.LANCZOS),
                       dtype=np.float64)
    frame = np.zeros((28, 28), dtype=np.float64)
    top, left = (28 - new_h) // 2, (28 - new_w) // 2
    frame[top:top + new_h, left:left + new_w] = small
    # shift so that the centre of mass is at the centre (clamped to stay in the frame)
    total = frame.sum()
    if total > 0:
        ys, xs = np.indices(frame.shape)
        dy = int(round(13.5 - (ys * frame).sum() / total))
        dx = int(round(13.5 - (xs * frame).sum() / total))
        dy = max(-top, min(dy, 28 - top - new_h))
        dx = max(-left, min(dx, 28 - left - new_w))
        frame = np.roll(frame, (dy, dx), axis=(0, 1))
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8).reshape(784)


def _border(gray: np.ndarray) -> np.ndarray:
    return np.concatenate([gray[0, :], gray[-1, :], gray[:, 0], gray[:, -1]])
