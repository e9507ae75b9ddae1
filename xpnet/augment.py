"""Data augmentation for image classification: random shifts of the training images.

Shifting each training digit by a pixel or so every epoch shows the network new, plausible
images and lowers the test error of the default network on MNIST and Fashion-MNIST (see the
ablation in ``notebooks/03_from_tutorial_to_modern.ipynb``). Host NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["random_shifts"]


def random_shifts(images: np.ndarray, max_shift: int, seed) -> np.ndarray:
    """Move every square image by a random whole number of pixels, up to ``max_shift`` in each
    direction (independently for rows and columns; uncovered pixels become 0).

    Parameters
    ----------
    images : numpy.ndarray
        Raw ``(N, side·side)`` pixels.
    max_shift : int
        Largest shift in pixels (0: the images are returned unchanged).
    seed
        Seeds the shifts: the same seed gives the same shifts, so an augmented epoch can be
        recomputed exactly on resume.

    Returns
    -------
    numpy.ndarray
        The same shape and dtype as ``images``.
    """
    images = np.asarray(images)
    if max_shift <= 0:
        return images
    n, side = len(images), int(round(np.sqrt(images.shape[1])))
    s = int(max_shift)
    rng = np.random.default_rng(seed)
    dy, dx = rng.integers(-s, s + 1, n), rng.integers(-s, s + 1, n)
    padded = np.pad(images.reshape(n, side, side), ((0, 0), (s, s), (s, s)))
    out = np.empty((n, side, side), dtype=images.dtype)
    for a in range(-s, s + 1):
        for b in range(-s, s + 1):
            idx = np.flatnonzero((dy == a) & (dx == b))
            out[idx] = padded[idx, s - a: s - a + side, s - b: s - b + side]
    return out.reshape(n, side * side)
