"""MLPClassifier(label_smoothing=): the smoothed head, validated, kept through warm starts and pickles."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402

from xpnet.nn.losses import CrossEntropy  # noqa: E402
from xpnet.sklearn import MLPClassifier  # noqa: E402


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 6))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)


def test_label_smoothing_trains_the_smoothed_loss_and_is_a_parameter():
    X, y = _data()
    plain = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    smooth = MLPClassifier((8,), max_iter=5, random_state=0, label_smoothing=0.2).fit(X, y)
    assert smooth.model_.head == CrossEntropy(0.2) and plain.model_.head == CrossEntropy()
    assert smooth.loss_curve_ != plain.loss_curve_  # the smoothed loss
    assert clone(smooth).get_params()["label_smoothing"] == 0.2
    again = pickle.loads(pickle.dumps(smooth))
    np.testing.assert_array_equal(again.predict_proba(X), smooth.predict_proba(X))
    assert again.model_.label_smoothing == 0.2
    smooth.set_params(label_smoothing=0.0, warm_start=True).fit(X, y)  # warm start: the new value
    assert smooth.model_.label_smoothing == 0.0
    with pytest.raises(ValueError, match="label_smoothing"):
        MLPClassifier(label_smoothing=1.0).fit(X, y)
