"""A picture of what the network was given: the 28×28 inputs in a grid, with their predictions."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .._lib.fileio import atomic_write
from ..errors import InvalidInput

__all__ = ["save_input_grid"]


def save_input_grid(images, titles, path: str | os.PathLike) -> Path:
    """Write the 28×28 inputs as a grid PNG (Matplotlib's Agg canvas, no ``pyplot``).

    Parameters
    ----------
    images : array_like
        Shape ``(N, 784)`` or ``(N, 28, 28)``, values 0..255, ``N ≥ 1``.
    titles : sequence of str
        One caption per image.
    path : str or os.PathLike
        Output file; written to a temporary file in the same directory and renamed.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from matplotlib.figure import Figure

    x = np.asarray(images, dtype=np.float64).reshape(-1, 28, 28)
    titles = list(titles)
    if len(titles) != len(x) or len(x) == 0:
        raise InvalidInput(
            f"need one title per image and at least one image, got {len(x)} images and {len(titles)} titles"
        )
    cols = min(len(x), 6)
    rows = math.ceil(len(x) / cols)
    fig = Figure(figsize=(2.0 * cols, 2.3 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, image, title in zip(axes, x, titles):
        ax.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(title, fontsize=8, wrap=True)
    path = Path(path)
    with atomic_write(path, "wb") as stream:
        fig.savefig(stream, format="png", dpi=100)
    return path
