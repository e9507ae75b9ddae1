"""Your own digits as MNIST images: any reasonable picture of one digit → 28×28 uint8.

>>> from xpnet.images import load_image
>>> x = load_image("my_digit.jpg")          # doctest: +SKIP
>>> x.shape, x.dtype                        # doctest: +SKIP
((784,), dtype('uint8'))

The steps (in ``xpnet.images.mnistify``, each with its equation) estimate and remove the
paper, threshold the ink adaptively, keep the one digit (or say there is none, or several),
bring the stroke to MNIST's width, and repeat MNIST's own preparation: the bounding box into
20×20 with its aspect ratio, anti-aliased, the centre of mass at the centre of 28×28. Coarse
pictures (nearest-neighbour upscales, pixel art, tiny pictures) keep their grey levels and
skip the threshold and the stroke step (``xpnet.images.lowres``). See the documentation page
"Your own digits" for the measurements behind each choice.

Errors are [`ImageError`][xpnet.images.ImageError] (a ``ValueError``) or its subclasses
[`BlankImageError`][xpnet.images.BlankImageError] and [`MultipleObjectsError`][xpnet.images.MultipleObjectsError]; their messages are for users.
"""

from __future__ import annotations

import os
from typing import BinaryIO, Union

import numpy as np

from .decode import IMAGE_SUFFIXES, MAX_PIXELS, array_to_image, open_image, source_name
from .errors import BlankImageError, ImageError, MultipleObjectsError
from .mnistify import prepare

__all__ = [
    "load_image",
    "to_mnist_format",
    "preprocessing_steps",
    "save_input_grid",
    "ImageError",
    "BlankImageError",
    "MultipleObjectsError",
    "IMAGE_SUFFIXES",
    "MAX_PIXELS",
]

ImageSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO]


def load_image(source: ImageSource) -> np.ndarray:
    """Read a picture of one digit and return it as MNIST would have it.

    Parameters
    ----------
    source : str, os.PathLike, bytes or binary file-like object
        A path to a PNG/JPEG/BMP/GIF/TIFF/WebP file, the bytes of one (e.g. a browser
        canvas export), or a stream such as `io.BytesIO`.

    Returns
    -------
    numpy.ndarray
        Shape ``(784,)`` (28×28 row by row), dtype uint8, white digit on black.

    Raises
    ------
    ImageError
        The file is missing or not a readable image.
    BlankImageError
        Nothing is drawn.
    MultipleObjectsError
        Several separate marks far apart (crop to one digit).
    """
    return prepare(open_image(source), source_name(source))


def to_mnist_format(image) -> np.ndarray:
    """An image array (gray, RGB or RGBA) → flat ``(784,)`` uint8 MNIST-style digit.

    Parameters
    ----------
    image : array_like
        Shape ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)``; uint8 0..255 or float 0..1 / 0..255.
        A 28×28 array is taken as already prepared (only made gray and white-on-black).

    Returns
    -------
    numpy.ndarray
        Shape ``(784,)``, dtype uint8.

    Raises
    ------
    ImageError, BlankImageError, MultipleObjectsError
        As [`load_image`][xpnet.images.load_image].
    """
    return prepare(array_to_image(image), "the image")


def preprocessing_steps(source: ImageSource) -> dict:
    """The intermediate arrays of [`load_image`][xpnet.images.load_image], for pictures and debugging.

    Parameters
    ----------
    source : str, os.PathLike, bytes, binary file-like object or array
        As [`load_image`][xpnet.images.load_image]; a NumPy array is read as [`to_mnist_format`][xpnet.images.to_mnist_format] reads it.

    Returns
    -------
    dict
        ``"working"`` (the resized picture), ``"foreground"`` (ink contrast, float),
        ``"mask"`` (thresholded), ``"digit"`` (specks removed), ``"stroke"`` (width
        normalised), ``"output"`` (28×28 uint8); the 28×28 shortcut gives only ``"output"``.
        A nearest-neighbour upscale adds ``"blocks"`` (the picture it was made from); a coarse
        picture has ``"coverage"`` instead of ``"stroke"`` (see
        [`prepare_coarse`][xpnet.images.lowres.prepare_coarse]).
    """
    img = array_to_image(source) if isinstance(source, np.ndarray) else open_image(source)
    steps: dict = {}
    prepare(img, source_name(source), steps)
    return steps


def save_input_grid(images, titles, path) -> os.PathLike:
    """Write a PNG grid of 28×28 network inputs with a title under each (atomically).

    Parameters
    ----------
    images : array_like
        Shape ``(N, 784)`` or ``(N, 28, 28)``, 0..255.
    titles : sequence of str
        ``N`` labels (e.g. ``"digit.png → 7 (98%)"``).
    path : str or os.PathLike
        Where to write the PNG (written to a temporary file, then renamed).

    Returns
    -------
    pathlib.Path
    """
    from .grid import save_input_grid as _save

    return _save(images, titles, path)
