"""Classification metrics on host arrays: the confusion matrix and per-class precision/recall/F1."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from xpnet.runs.metrics import confusion_matrix, per_class_metrics


def test_confusion_matrix_and_per_class_metrics():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 1])
    cm = confusion_matrix(y_true, y_pred, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [1, 2, 0], [0, 1, 0]])
    rows = per_class_metrics(cm)
    assert rows[0] == pytest.approx({"class": 0, "precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert rows[1]["precision"] == pytest.approx(2 / 4) and rows[1]["recall"] == pytest.approx(2 / 3)
    assert rows[2] == {"class": 2, "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match="labels"):
        confusion_matrix([0, 1], [0], 3)


@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="scikit-learn is not installed")
def test_metrics_agree_with_scikit_learn():
    import sklearn.metrics as sklearn_metrics

    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 5, 300), rng.integers(0, 5, 300)
    cm = confusion_matrix(y_true, y_pred, 5)
    np.testing.assert_array_equal(cm, sklearn_metrics.confusion_matrix(y_true, y_pred, labels=range(5)))
    p, r, f, s = sklearn_metrics.precision_recall_fscore_support(y_true, y_pred, labels=range(5), zero_division=0)
    rows = per_class_metrics(cm)
    np.testing.assert_allclose([row["precision"] for row in rows], p)
    np.testing.assert_allclose([row["recall"] for row in rows], r)
    np.testing.assert_allclose([row["f1"] for row in rows], f)
    assert [row["support"] for row in rows] == list(s)
