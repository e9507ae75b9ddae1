"""Binary-mask morphology for the image steps, on SciPy's ``ndimage``: block pooling, connected
components, dilation and erosion.

[`xpnet.images.mnistify`][xpnet.images.mnistify] finds the one digit among the marks of a picture
([`select_digit`][xpnet.images.digit.select_digit]) and brings its strokes to MNIST's width
([`normalise_stroke`][xpnet.images.digit.normalise_stroke]) with these. They work on
``(H, W)`` bool arrays. Square dilations are separable maximum filters (``O(1)`` per pixel
whatever the side); round ones are octagons (a cross dilation repeated, then a square).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["pool", "label", "dilate", "erode", "EIGHT"]

#: The 8-connected neighbourhood (a pixel touches the 8 around it, diagonals included).
EIGHT = np.ones((3, 3), dtype=bool)


def pool(mask: np.ndarray, side: int = 100) -> tuple[np.ndarray, int]:
    """Ink counts of ``p × p`` blocks, ``p`` the smallest factor that makes the longer side ≤ ``side``.

    Parameters
    ----------
    mask : numpy.ndarray
        Shape ``(H, W)``, bool.
    side : int
        The longest side wanted.

    Returns
    -------
    counts : numpy.ndarray
        Shape ``(⌈H/p⌉, ⌈W/p⌉)``, int64: ``counts[i, j] = Σ mask[p i : p i + p, p j : p j + p]``.
    p : int
        The block side.
    """
    h, w = mask.shape
    p = max(1, int(np.ceil(max(h, w) / side)))
    if p == 1:
        return mask.astype(np.int64), 1
    gh, gw = int(np.ceil(h / p)), int(np.ceil(w / p))
    padded = np.zeros((gh * p, gw * p), dtype=np.int64)
    padded[:h, :w] = mask
    return padded.reshape(gh, p, gw, p).sum(axis=(1, 3)), p


def label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected component labels (0 = background), ``scipy.ndimage.label``.

    Returns
    -------
    labels : numpy.ndarray
        Shape ``(H, W)``, int32, ``1..n`` for the components.
    n : int
        The number of components.
    """
    labels, n = ndimage.label(mask, structure=EIGHT)
    return labels, int(n)


def dilate(mask: np.ndarray, r: int, square: bool = False) -> np.ndarray:
    """Binary dilation of ``mask`` by ``r`` steps: a ``(2r+1)``-square, or an octagon close to a disk.

    The square is one separable maximum filter. The octagon is ``r`` alternating 4- and
    8-neighbour steps (4 first): ``⌈r/2⌉`` steps by the 3×3 cross make a diamond of that radius
    (``scipy.ndimage.binary_dilation``) and ``⌊r/2⌋`` steps by the 3×3 square a square of side
    ``2⌊r/2⌋ + 1`` (a maximum filter); dilations add (Minkowski sums commute), so the result is
    that of the ``r`` steps in any order. The outside of the array is background.
    """
    if r <= 0:
        return mask.copy()
    if square:
        return ndimage.maximum_filter(mask, size=2 * r + 1, mode="constant", cval=False)
    out = ndimage.binary_dilation(mask, iterations=(r + 1) // 2)
    half = r // 2
    return ndimage.maximum_filter(out, size=2 * half + 1, mode="constant", cval=False) if half else out


def erode(mask: np.ndarray, r: int) -> np.ndarray:
    """Binary erosion by the octagon of [`dilate`][xpnet.images.morphology.dilate]: the dilation of
    the background, complemented (the outside of the array counts as ink, so a digit is not
    eaten from the picture's edge)."""
    return ~dilate(~mask, r)
