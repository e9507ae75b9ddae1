"""Exceptions raised by :mod:`xpnet.images`: :class:`ImageError` (an ``XpnetError`` and a ``ValueError``) and its kinds."""

from __future__ import annotations

from ..errors import XpnetError

__all__ = ["ImageError", "BlankImageError", "MultipleObjectsError"]


class ImageError(XpnetError, ValueError):
    """An image cannot be read or holds no usable picture of one digit.

    The message names the image and says what is wrong and what to do; it is meant to be shown
    to a user as it is (``xpnet predict`` prints it, ``xpnet serve`` returns it as JSON).
    """


class BlankImageError(ImageError):
    """Nothing is drawn: no mark stands out from the background more than its noise does."""


class MultipleObjectsError(ImageError):
    """More than one mark of similar size, far apart: the picture is not of a single digit.

    Attributes
    ----------
    count : int
        How many separate marks were found.
    """

    def __init__(self, message: str, count: int = 2):
        super().__init__(message)
        self.count = count
