"""Reading a picture (a path, bytes, a binary stream or an array) into a Pillow image.

Everything the network sees starts here: the file is opened with Pillow (never unpickled,
never executed), turned upright by its EXIF orientation (phone photos are often stored on
their side), reduced to its first frame (a large JPEG is decoded at ½, ¼ or ⅛ of its size in
Pillow's draft mode, never in full), and converted to ``RGBA`` (8 bits per channel; 16-bit
and floating-point grayscale are rescaled so that their maximum is 255).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO

import numpy as np

from .errors import ImageError

__all__ = ["open_image", "array_to_image", "source_name", "IMAGE_SUFFIXES", "MAX_PIXELS"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")

#: Images with more pixels than this are refused (a 50-megapixel photo is the most anyone needs
#: for one digit; the limit also stops "decompression bombs").
MAX_PIXELS = 50_000_000

#: A large JPEG is decoded reduced (draft mode) to no less than this longer side, in pixels: the
#: working resolution's upper bound, `mnistify.WORK_MAX`.
DRAFT_SIDE = 400


def source_name(source) -> str:
    """How to call ``source`` in a message: its path, a stream's ``name``, or ``"the image"``."""
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    name = getattr(source, "name", None)
    return str(name) if isinstance(name, (str, os.PathLike)) else "the image"


def open_image(source):
    """Open ``source`` with Pillow and return an upright ``RGBA`` `PIL.Image.Image`.

    Parameters
    ----------
    source : str, os.PathLike, bytes, bytearray, memoryview or binary file-like object
        A path to an image file, the file's bytes (e.g. a PNG from a browser canvas), or an
        object with ``read()`` returning bytes (e.g. `io.BytesIO`).

    Returns
    -------
    PIL.Image.Image
        Mode ``"RGBA"``; size at least 1×1.

    Raises
    ------
    ImageError
        The file is missing, empty, not an image Pillow can decode, truncated, or larger than
        `MAX_PIXELS`.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    name = source_name(source)
    stream: Path | IO[bytes]
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise ImageError(f"{name}: empty (0 bytes); send the PNG or JPEG file's content")
        stream = io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
        stream = Path(source)
    elif hasattr(source, "read"):
        stream = source
    else:
        raise ImageError(f"expected a path, bytes or a binary file object, got {type(source).__name__}")
    try:
        with Image.open(stream) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ImageError(
                    f"{name}: {img.width}x{img.height} pixels is more than the "
                    f"{MAX_PIXELS:,} accepted; scale the picture down first"
                )
            _draft(img)
            img.load()
            img = ImageOps.exif_transpose(img)
            return _to_rgba(img)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{name}: is a directory, not an image file") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name}: too many pixels ({exc})") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        detail = str(exc) or type(exc).__name__
        raise ImageError(
            f"{name}: not a readable image ({detail}); give a PNG, JPEG, BMP, GIF, TIFF or WebP file"
        ) from None


def _draft(img) -> None:
    """Ask a large JPEG to decode at ``1/2``, ``1/4`` or ``1/8`` of its size (Pillow's draft mode).

    The JPEG decoder can skip the high frequencies of each 8×8 block and return the picture
    reduced by ``s ∈ {2, 4, 8}``: the largest ``s`` whose result still has a longer side of at
    least `DRAFT_SIDE` pixels. The steps work at most at
    `mnistify.WORK_MAX` pixels anyway (area averaging), so nothing they
    use is lost, and a 3000×2000 phone photo decodes as 750×500 in a fraction of the time.
    Other formats, and JPEGs whose longer side is under ``2 · DRAFT_SIDE``, decode in full.
    """
    if img.format != "JPEG" or max(img.size) < 2 * DRAFT_SIDE:
        return
    s = DRAFT_SIDE / max(img.size)
    img.draft(None, (max(1, int(np.ceil(img.width * s))), max(1, int(np.ceil(img.height * s)))))


def _to_rgba(img):
    from PIL import Image

    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(img, dtype=np.float64)
        peak = float(values.max()) if values.size else 0.0
        scale = 255.0 / peak if peak > 255 else 1.0
        img = Image.fromarray(np.clip(values * scale, 0, 255).astype(np.uint8), mode="L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return img.convert("RGBA")


def array_to_image(array):
    """A NumPy image → ``RGBA`` `PIL.Image.Image`.

    Parameters
    ----------
    array : array_like
        Shape ``(H, W)`` (gray), ``(H, W, 1)``, ``(H, W, 3)`` (RGB) or ``(H, W, 4)`` (RGBA);
        ``(784,)`` is read as 28×28. Booleans become 0/255; integers must lie in 0..255; floats
        whose maximum is at most 1 are read as 0..1 (multiplied by 255), other floats as 0..255.

    Returns
    -------
    PIL.Image.Image

    Raises
    ------
    ImageError
        Wrong number of dimensions or channels, values outside the ranges above, NaN, or an
        empty array.
    """
    from PIL import Image

    a = np.asarray(array)
    if a.ndim == 1 and a.size == 784:
        a = a.reshape(28, 28)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ImageError(f"expected an image array of shape (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    if a.size == 0:
        raise ImageError(f"the image array is empty (shape {a.shape})")
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype.kind in "iu":
        if a.min() < 0 or a.max() > 255:
            raise ImageError(f"integer pixel values must lie in 0..255, got {a.min()}..{a.max()}")
    elif a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise ImageError("the image array contains NaN or infinite values")
        if a.min() < 0:
            raise ImageError(f"pixel values must not be negative (minimum {a.min():g})")
        if a.max() <= 1.0:
            a = a * 255.0
        elif a.max() > 255.0:
            raise ImageError(f"float pixel values must lie in 0..1 or 0..255, got up to {a.max():g}")
    else:
        raise ImageError(f"unsupported pixel dtype {a.dtype}")
    a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    mode = "L" if a.ndim == 2 else ("RGB" if a.shape[2] == 3 else "RGBA")
    return Image.fromarray(a, mode=mode).convert("RGBA")
