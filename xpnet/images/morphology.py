"""Binary-mask morphology for the image steps: block pooling, connected components, dilation, erosion.

[`xpnet.images.mnistify`][xpnet.images.mnistify] finds the one digit among the marks of a picture
([`select_digit`][xpnet.images.mnistify.select_digit]) and brings its strokes to MNIST's width
([`normalise_stroke`][xpnet.images.mnistify.normalise_stroke]) with these. They work on small
``(H, W)`` bool arrays, in NumPy alone (no SciPy).
"""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = ["pool", "label", "dilate", "erode"]


def pool(mask: np.ndarray, side: int = 100) -> tuple[np.ndarray, int]:
    """Ink counts of ``p × p`` blocks, ``p`` the smallest factor that makes the longer side ≤ ``side``."""
    h, w = mask.shape
    p = max(1, int(np.ceil(max(h, w) / side)))
    gh, gw = int(np.ceil(h / p)), int(np.ceil(w / p))
    padded = np.zeros((gh * p, gw * p), dtype=np.int64)
    padded[:h, :w] = mask
    return padded.reshape(gh, p, gw, p).sum(axis=(1, 3)), p


def label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected component labels (0 = background) of a small bool array, by breadth-first search."""
    labels = np.zeros(mask.shape, dtype=np.int64)
    h, w = mask.shape
    n = 0
    for start in zip(*np.nonzero(mask)):
        if labels[start]:
            continue
        n += 1
        labels[start] = n
        queue = deque([start])
        while queue:
            r, c = queue.popleft()
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < h and 0 <= cc < w and mask[rr, cc] and not labels[rr, cc]:
                        labels[rr, cc] = n
                        queue.append((rr, cc))
    return labels, n


def dilate(mask: np.ndarray, r: int, square: bool = False) -> np.ndarray:
    """Binary dilation by ``r`` steps: a square, or alternating 4-/8-neighbour steps (an octagon ≈ disk)."""
    out = mask.copy()
    for i in range(r):
        p = np.pad(out, 1)
        grown = p[1:-1, 1:-1] | p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]
        if square or i % 2:
            grown |= p[:-2, :-2] | p[:-2, 2:] | p[2:, :-2] | p[2:, 2:]
        out = grown
    return out


def erode(mask: np.ndarray, r: int) -> np.ndarray:
    """Binary erosion by ``r`` steps: the dilation of the background, complemented."""
    return ~dilate(~mask, r)
