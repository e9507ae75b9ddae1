"""``MLP.fit(class_weight=...)`` and early stopping on a validation set the caller gives, with
the best weights restored, on every backend with inputs native to it.

Class weights are multiplied into the sample weights, so a fit with ``class_weight`` must be
the fit with those products as ``sample_weight``; "balanced" is scikit-learn's
``n_samples / (n_classes · bincount(y))``, written here independently in NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from tests.conftest import native
from xpnet import optim
from xpnet.model.inputs import apply_class_weight
from xpnet.model.stopping import EarlyStopping


def _imbalanced(n=90, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.zeros(n - 20, dtype=np.int64), np.ones(15, dtype=np.int64), np.full(5, k - 1)])
    X = rng.standard_normal((n, d)) + y[:, None]  # separable-ish, the classes shifted apart
    return X, y


def _balanced_reference(y, k):
    """n / (K · bincount(y)) for the K classes present, 0 for the absent ones."""
    counts = np.bincount(y, minlength=k)
    present = counts > 0
    c = np.zeros(k)
    c[present] = len(y) / (present.sum() * counts[present])
    return c


# -- the weights themselves -----------------------------------------------------------------------
def test_balanced_class_weights_are_n_over_k_times_the_counts(backend):
    k = 4  # class 2 never occurs: K = 3 classes present, and class 2 gets weight 0
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 3, 0, 1, 3], dtype=np.int64)
    model = xpnet.MLP([2, 3, k], dtype="float64", backend=backend)
    yd = model.validate_data(np.zeros((len(y), 2)), native(backend, y)).y
    w = backend.to_numpy(apply_class_weight(model, yd, None, "balanced"))
    # one correctly rounded division per class, in float64 on both sides: the same numbers
    np.testing.assert_array_equal(w, _balanced_reference(y, k)[y])
    np.testing.assert_array_equal(_balanced_reference(y, k), [12 / (3 * 7), 12 / (3 * 3), 0.0, 12 / (3 * 2)])
    # the weighted classes weigh the same in total (n / K each), which is the point of it
    totals = np.bincount(y, weights=w, minlength=k)
    np.testing.assert_allclose(totals[[0, 1, 3]], len(y) / 3, rtol=4 * np.finfo(np.float64).eps)
    # a dict leaves the classes it does not name at 1; an array gives every class its weight;
    # both multiply into sample_weight
    sw = np.linspace(0.5, 2.0, len(y))
    swd = model.validate_data(np.zeros((len(y), 2)), None, native(backend, sw)).sample_weight
    got = backend.to_numpy(apply_class_weight(model, yd, swd, {1: 2.5, 3: 0.0}))
    np.testing.assert_array_equal(got, sw * np.array([1.0, 2.5, 1.0, 0.0])[y])
    got = backend.to_numpy(apply_class_weight(model, yd, None, native(backend, np.array([1.0, 2.0, 3.0, 4.0]))))
    np.testing.assert_array_equal(got, np.array([1.0, 2.0, 3.0, 4.0])[y])


@pytest.mark.parametrize(
    "class_weight",
    ["balanced", {0: 0.3, 2: 4.0}, [1.0, 2.0, 0.5]],
    ids=["balanced", "dict", "array"],
)
def test_fit_with_class_weight_is_fit_with_those_sample_weights(backend, class_weight):
    X, y = _imbalanced()
    c = _balanced_reference(y, 3) if class_weight == "balanced" else None
    if isinstance(class_weight, dict):
        c = np.array([class_weight.get(j, 1.0) for j in range(3)])
    if isinstance(class_weight, list):
        c = np.array(class_weight)
        class_weight = native(backend, c)  # an array on the model's device
    sw = np.random.default_rng(1).uniform(0.5, 1.5, len(y))
    kw = dict(epochs=3, batch_size=32, optimizer=None)
    runs = []
    for cw, w in [(class_weight, sw), (None, sw * c[y])]:
        model = xpnet.MLP([5, 8, 3], dtype="float64", backend=backend, seed=0)
        model.fit(native(backend, X), native(backend, y), class_weight=cw, sample_weight=native(backend, w), **kw)
        runs.append((model.history.loss, model.numpy_params()))
    # the same weights reach the same steps: the two runs are one computation
    assert runs[0][0] == runs[1][0]
    for key in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][key], runs[1][1][key])


def test_class_weight_errors_name_the_problem():
    X, y = _imbalanced()
    model = xpnet.MLP([5, 4, 3], backend="numpy")
    with pytest.raises(xpnet.errors.InvalidInput, match=r"class 3, which this network does not have.*0\.\.2"):
        model.fit(X, y, epochs=1, class_weight={0: 1.0, 3: 2.0})
    with pytest.raises(xpnet.errors.InvalidInput, match="class 'a'"):
        model.fit(X, y, epochs=1, class_weight={"a": 1.0})
    with pytest.raises(xpnet.errors.InvalidInput, match=r"class_weight\[1\] must be finite and >= 0"):
        model.fit(X, y, epochs=1, class_weight={1: -1.0})
    with pytest.raises(xpnet.errors.InvalidInput, match=r"one weight per class \(3\), got shape \(2,\)"):
        model.fit(X, y, epochs=1, class_weight=[1.0, 2.0])
    with pytest.raises(xpnet.errors.InvalidInput, match="NaN"):
        model.fit(X, y, epochs=1, class_weight=[1.0, np.nan, 1.0])
    with pytest.raises(xpnet.errors.ConfigError, match="'balanced'"):
        model.fit(X, y, epochs=1, class_weight="balance")
    with pytest.raises(xpnet.errors.InvalidInput, match="every sample at weight 0"):
        model.fit(X, y, epochs=1, class_weight={0: 0.0, 1: 0.0, 2: 0.0})
    regressor = xpnet.MLP([5, 4, 1], loss="squared_error", backend="numpy")
    with pytest.raises(xpnet.errors.ConfigError, match="needs a classifier"):
        regressor.fit(X, y.astype(float), epochs=1, class_weight="balanced")
    assert model.epoch == 0  # nothing was trained by the refused calls


# -- early stopping on the caller's validation set ------------------------------------------------
def _overfitting_problem():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 6))
    y = rng.integers(0, 2, 40)  # labels of noise: the validation loss soon grows
    Xv, yv = rng.standard_normal((40, 6)), rng.integers(0, 2, 40)
    return X, y, Xv, yv


@pytest.mark.parametrize("monitor", ["val_loss", "val_accuracy"])
def test_early_stopping_on_a_validation_set_restores_the_best_epoch(backend, monitor):
    X, y, Xv, yv = (native(backend, a) for a in _overfitting_problem())
    kw = dict(batch_size=8, optimizer=optim.Adam(lr=0.01), validation_data=(Xv, yv))
    model = xpnet.MLP([6, 32, 2], dtype="float64", backend=backend, seed=0)
    # tol > 0: a tie with the best is no improvement, so the stop comes 3 epochs after the first best
    stop = EarlyStopping(monitor, tol=1e-12, patience=3, restore_best_weights=True)
    history = model.fit(X, y, epochs=100, callbacks=[stop], **kw)
    values = np.array(getattr(history, monitor))
    best = int(np.argmin(values) if monitor == "val_loss" else np.argmax(values))  # the first best
    assert len(history) == best + 1 + 3 < 100 and f"{monitor} did not improve" in history.stop_reason
    assert stop.best_epoch == best + 1 and stop.best == values[best]
    # the model is now the one of that epoch: its validation loss and accuracy are those logged
    result = model.evaluate(Xv, yv)
    assert result["loss"] == pytest.approx(history.val_loss[best], rel=1e-12)
    assert result["accuracy"] == history.val_accuracy[best]
    # and its weights are those of a run stopped by hand after that epoch (the same steps)
    again = xpnet.MLP([6, 32, 2], dtype="float64", backend=backend, seed=0)
    again.fit(X, y, epochs=best + 1, **{**kw, "optimizer": optim.Adam(lr=0.01)})
    for key, value in again.numpy_params().items():
        np.testing.assert_array_equal(model.numpy_params()[key], value)
    assert backend.is_native(model.params["W1"])


def test_restored_weights_stay_the_best_for_a_later_fit_with_the_same_callback(backend):
    """The callback's state carries over between fits: when a later fit never beats the best
    value, it ends with the best weights again, not with weights trained on in place since
    (NumPy's set_params used the kept arrays themselves before they were copied)."""
    X, y, _, _ = (native(backend, a) for a in _overfitting_problem())
    values = iter([3.0, 1.0, 2.0, 2.5, 2.6, 5.0])  # the best after epoch 2 of the first fit
    stop = EarlyStopping(lambda model, logs: next(values), mode="min", patience=3, restore_best_weights=True)
    model = xpnet.MLP([6, 8, 2], dtype="float64", backend=backend, seed=0)
    model.fit(X, y, epochs=2, batch_size=8, optimizer=optim.Adam(lr=0.01))
    after_two = model.numpy_params()
    model = xpnet.MLP([6, 8, 2], dtype="float64", backend=backend, seed=0)
    model.fit(X, y, epochs=10, batch_size=8, optimizer=optim.Adam(lr=0.01), callbacks=[stop])
    assert len(model.history) == 5 and stop.best_epoch == 2
    # the count carries over too (3 epochs without improvement): 5.0 is the fourth, and stops it
    model.fit(X, y, epochs=3, batch_size=8, callbacks=[stop])
    assert len(model.history) == 6 and stop.best == 1.0 and model.history.stop_reason
    for key, value in after_two.items():
        np.testing.assert_array_equal(model.numpy_params()[key], value)
