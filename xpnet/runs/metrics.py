"""Classification metrics on host NumPy arrays: confusion matrix, per-class precision/recall."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInput

__all__ = ["confusion_matrix", "per_class_metrics"]


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """``cm[i, j]`` = number of samples of true class ``i`` predicted as class ``j``.

    Returns an ``(n_classes, n_classes)`` int64 array; rows sum to the class counts.
    """
    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise InvalidInput(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise InvalidInput(f"{name} has labels outside 0..{n_classes - 1}")
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_metrics(cm: np.ndarray) -> list[dict]:
    """Precision, recall, F1 and support of every class from a confusion matrix.

    Precision of class ``k`` is ``cm[k, k] / Σ_i cm[i, k]`` (of the samples predicted ``k``,
    the fraction that are ``k``); recall is ``cm[k, k] / Σ_j cm[k, j]``. A ratio with a zero
    denominator is reported as 0.0.
    """
    cm = np.asarray(cm)
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    actual = cm.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return [
        {
            "class": k,
            "precision": float(precision[k]),
            "recall": float(recall[k]),
            "f1": float(f1[k]),
            "support": int(actual[k]),
        }
        for k in range(cm.shape[0])
    ]
