"""Training plots as PNG files: curves, confusion matrix, misclassified images, first-layer weights.

Uses Matplotlib's object-oriented API (`matplotlib.figure.Figure` with the Agg canvas)
and never imports ``pyplot``, so it works headless, needs no display, and does not change the
global Matplotlib backend of a program that imports xpnet. Inputs are host NumPy arrays.
Every function writes its file atomically and returns the path.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np

from .._lib.fileio import atomic_write

__all__ = ["plot_history", "plot_confusion_matrix", "plot_misclassified", "plot_first_layer"]

log = logging.getLogger("xpnet.plots")


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _save(fig, path: str | os.PathLike, dpi: int = 100) -> Path:
    path = Path(path)
    with atomic_write(path, "wb") as stream:
        fig.savefig(stream, format="png", dpi=dpi)
    log.info("wrote %s", path)
    return path


def _history_dict(history) -> dict:
    return history.to_dict() if hasattr(history, "to_dict") else dict(history)


def plot_history(history, path: str | os.PathLike, title: str | None = None) -> Path:
    """Loss and accuracy per epoch, training and (when present) validation, side by side.

    ``history`` is an [`xpnet.History`][xpnet.model.mlp.History] or its ``to_dict()``.
    """
    from matplotlib.ticker import MaxNLocator

    h = _history_dict(history)
    epochs = h.get("epoch") or list(range(1, len(h.get("loss", [])) + 1))
    fig = _figure(10, 4)
    axes = fig.subplots(1, 2)
    for ax, key, label in ((axes[0], "loss", "cross-entropy loss"), (axes[1], "accuracy", "accuracy")):
        marker = "o" if len(epochs) <= 30 else None
        ax.plot(epochs, h.get(key, []), marker=marker, markersize=3, label="training")
        val = h.get(f"val_{key}") or []
        if any(v is not None for v in val):
            points = [(e, v) for e, v in zip(epochs, val) if v is not None]
            ax.plot(*zip(*points), marker=marker, markersize=3, label="validation")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_confusion_matrix(cm: np.ndarray, class_names, path: str | os.PathLike, title: str | None = None) -> Path:
    """The confusion matrix as a heat map (rows: true class, columns: predicted), with counts."""
    cm = np.asarray(cm)
    n = cm.shape[0]
    names = [str(c) for c in class_names]
    long_names = max(len(s) for s in names) > 3
    fig = _figure(7.5 if long_names else 6.5, 6.5 if long_names else 5.8)
    ax = fig.subplots()
    # colour by the fraction of each true class so that rare classes are visible too
    rows = cm.sum(axis=1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros(cm.shape, dtype=float), where=rows > 0)
    image = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    ax.set_xticks(range(n), names, rotation=45 if long_names else 0, ha="right" if long_names else "center")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(
                        j,
                        i,
                        str(cm[i, j]),
                        ha="center",
                        va="center",
                        fontsize=7 if n > 10 else 8,
                        color="white" if frac[i, j] > 0.5 else "black",
                    )
    total = cm.sum()
    acc = np.trace(cm) / total if total else 0.0
    ax.set_title(title or f"confusion matrix (accuracy {acc:.4f}, {total} images)")
    return _save(fig, path)


def plot_misclassified(
    images: np.ndarray,
    y_true,
    y_pred,
    class_names,
    path: str | os.PathLike,
    max_images: int = 36,
    confidence=None,
    title: str | None = None,
) -> Path:
    """A grid of misclassified 28×28 images, each titled ``true → predicted``.

    ``images`` are the raw ``(N, 784)`` test images (the first ``max_images`` errors are
    shown); ``confidence`` optionally gives the predicted class's probability per image.
    """
    images = np.asarray(images)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)[:max_images]
    names = [str(c) for c in class_names]
    cols = max(1, min(9, math.ceil(math.sqrt(max(len(wrong), 1) * 1.5))))
    rows = max(1, math.ceil(len(wrong) / cols))
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1.25 * cols + 0.2, 1.45 * rows + 0.6))
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.8 / (1.45 * rows + 0.6), wspace=0.15, hspace=0.5)
    if len(wrong) == 0:
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        return _save(fig, path)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    side = int(round(math.sqrt(images.shape[1])))
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, wrong):
        # ink dark on white, as printed digits are (the raw images are bright on black)
        ax.imshow(images[i].reshape(side, side), cmap="gray_r", vmin=0, vmax=255, interpolation="nearest")
        label = f"true {_short(names[y_true[i]])}\npred {_short(names[y_pred[i]])}"
        if confidence is not None:
            label += f" {float(confidence[i]):.0%}"
        ax.set_title(label, fontsize=7, color="firebrick", linespacing=1.1)
    n_wrong = int(np.sum(y_true != y_pred))
    fig.suptitle(
        title or f"misclassified test images (first {len(wrong)} of {n_wrong}): true and predicted class",
        fontsize=9,
    )
    return _save(fig, path)


def _short(name: str, width: int = 12) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def plot_first_layer(
    W1: np.ndarray, path: str | os.PathLike, max_units: int = 64, title: str | None = None
) -> Path | None:
    """The first layer's weight vectors as images (one tile per hidden unit).

    Each row of ``W1`` (shape ``(n1, 784)``) is reshaped to 28×28, scaled by its own largest
    absolute value and drawn with a diverging colour map centred on 0 (red positive, blue
    negative); the tiles form one mosaic. Returns ``None`` (and writes nothing) when the
    input size is not a square image.
    """
    W1 = np.asarray(W1, dtype=np.float64)
    side = int(round(math.sqrt(W1.shape[1])))
    if side * side != W1.shape[1]:
        log.info("first-layer plot skipped: %d inputs are not a square image", W1.shape[1])
        return None
    units = min(max_units, W1.shape[0])
    cols = min(8, units) if units > 10 else units
    rows = math.ceil(units / cols)
    gap = 2
    mosaic = np.full((rows * (side + gap) - gap, cols * (side + gap) - gap), np.nan)
    for k in range(units):
        r, c = divmod(k, cols)
        w = W1[k].reshape(side, side)
        lim = float(np.abs(w).max()) or 1.0
        mosaic[r * (side + gap) : r * (side + gap) + side, c * (side + gap) : c * (side + gap) + side] = w / lim
    fig = _figure(1.0 * cols + 0.6, 1.0 * rows + 0.6)
    ax = fig.subplots()
    ax.imshow(np.ma.masked_invalid(mosaic), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.axis("off")
    ax.set_title(
        title
        or f"first-layer weights, one {side}×{side} tile per hidden unit\n"
        f"({units} of {W1.shape[0]} units, each scaled to its largest |w|; red +, blue −)",
        fontsize=9,
    )
    return _save(fig, path)
