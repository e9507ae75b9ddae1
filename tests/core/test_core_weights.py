"""Per-sample weights: the weighted loss, its gradient (finite differences), and its semantics.

The loss with weights w is ``Σ_i w_i ℓ_i / Σ_i w_i`` (scikit-learn's ``np.average``); a step
normalises its batch's weights by the batch's weight sum, so a full-batch step uses exactly
the weighted mean over the set.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import xpnet
from tests.conftest import assert_close_by_bound, gradient_error_bounds, max_examples, native
from tests.core.test_core_gradients import _away_from_kinks, _model_and_batch, problems
from xpnet import network, optim


def test_weighted_backprop_matches_central_differences(backend):
    @settings(
        max_examples=max_examples(backend, 20),
        deadline=None,
        suppress_health_check=[HealthCheck.filter_too_much],
    )
    @given(problem=problems(), data=st.data())
    def check(problem, data):
        model, X, y = _model_and_batch(problem, backend)
        assume(_away_from_kinks(model, X))
        w = np.asarray(data.draw(st.lists(st.floats(0.0, 5.0), min_size=problem["m"], max_size=problem["m"])))
        assume(w.sum() > 1e-3)
        report = xpnet.gradcheck(model, X, y, eps=1e-6, tol=1e-7, max_entries=None, sample_weight=w)
        assert report.passed, f"{problem} w={w}\n{report}"

    check()


def test_weighted_loss_is_the_weighted_mean(backend):
    rng = np.random.default_rng(0)
    model = xpnet.MLP([5, 7, 3], dtype="float64", backend=backend, seed=1)
    X, y = rng.standard_normal((9, 5)), rng.integers(0, 3, 9)
    w = rng.random(9) * 3
    Z = xpnet.to_numpy(model.decision_function(X))
    per_sample = -(Z[np.arange(9), y] - np.log(np.exp(Z).sum(axis=1)))
    assert model.loss(X, y, sample_weight=w) == pytest.approx(np.average(per_sample, weights=w), rel=1e-12)
    assert model.loss(X, y) == pytest.approx(per_sample.mean(), rel=1e-12)
    hits = (Z.argmax(axis=1) == y).astype(float)
    assert model.score(X, y, sample_weight=w) == pytest.approx(np.average(hits, weights=w))
    # Equal weights of any size are the unweighted mean.
    assert model.loss(X, y, sample_weight=2.5) == pytest.approx(model.loss(X, y), rel=1e-12)


def test_integer_weights_equal_repeated_samples(backend):
    """Weight k on a sample is the same full-batch gradient as k copies of it."""
    rng = np.random.default_rng(3)
    model = xpnet.MLP([4, 6, 3], dtype="float64", backend=backend, seed=2)
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    k = np.array([0, 1, 3, 2, 1, 4])
    weighted = model.gradients(X, y, sample_weight=k)
    repeated = model.gradients(np.repeat(X, k, axis=0), np.repeat(y, k))
    # Two summation orders of the same exact gradient: each within its own rounding bound.
    params = model.numpy_params()
    b_weighted = gradient_error_bounds(params, X, y, np.float64, weights=k)
    b_repeated = gradient_error_bounds(params, np.repeat(X, k, axis=0), np.repeat(y, k), np.float64)
    for name in weighted:
        assert_close_by_bound(
            xpnet.to_numpy(weighted[name]),
            xpnet.to_numpy(repeated[name]),
            b_weighted[name] + b_repeated[name],
            err_msg=name,
        )


def test_full_batch_training_with_weights_equals_repetition():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((12, 4)).astype(np.float64), rng.integers(0, 3, 12)
    k = rng.integers(1, 4, 12)
    a = xpnet.MLP([4, 8, 3], dtype="float64", backend="numpy", seed=0)
    b = xpnet.MLP([4, 8, 3], dtype="float64", backend="numpy", seed=0)
    ha = a.fit(X, y, epochs=5, batch_size=None, optimizer=optim.SGD(lr=0.5), sample_weight=k)
    hb = b.fit(np.repeat(X, k, axis=0), np.repeat(y, k), epochs=5, batch_size=None, optimizer=optim.SGD(lr=0.5))
    np.testing.assert_allclose(ha.loss, hb.loss, rtol=1e-10)
    np.testing.assert_allclose(ha.accuracy, hb.accuracy, rtol=1e-12)
    for name, v in a.numpy_params().items():
        np.testing.assert_allclose(v, b.numpy_params()[name], rtol=1e-9, atol=1e-12)


def test_minibatch_weights_are_normalised_per_batch(backend):
    """Weights scaled per batch by a constant change nothing; all-zero batches change nothing."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((32, 4)), rng.integers(0, 3, 32)
    ones = xpnet.MLP([4, 5, 3], backend=backend, dtype="float64", seed=0)
    ones.fit(X, y, epochs=2, batch_size=8, shuffle=False, optimizer=optim.SGD(lr=0.1))
    scaled = xpnet.MLP([4, 5, 3], backend=backend, dtype="float64", seed=0)
    w = np.repeat([1.0, 7.0, 0.5, 3.0], 8)  # constant within each batch of 8
    scaled.fit(X, y, epochs=2, batch_size=8, shuffle=False, optimizer=optim.SGD(lr=0.1), sample_weight=w)
    for name, v in ones.numpy_params().items():
        np.testing.assert_allclose(scaled.numpy_params()[name], v, rtol=1e-12, atol=1e-14)
    frozen = xpnet.MLP([4, 5, 3], backend=backend, dtype="float64", seed=0)
    before = frozen.numpy_params()
    w0 = np.zeros(32)
    w0[:8] = 1.0  # only the first batch counts
    frozen.fit(X, y, epochs=1, batch_size=8, shuffle=False, optimizer=optim.SGD(lr=0.1), sample_weight=w0)
    first = xpnet.MLP([4, 5, 3], backend=backend, dtype="float64", seed=0)
    first.fit(X[:8], y[:8], epochs=1, batch_size=8, optimizer=optim.SGD(lr=0.1))
    for name, v in first.numpy_params().items():
        np.testing.assert_allclose(frozen.numpy_params()[name], v, rtol=1e-12, atol=1e-14)
        assert not np.array_equal(v, before[name]) or name.startswith("b")
    assert np.isfinite(frozen.history.loss[-1])


def test_network_functions_accept_weights():
    rng = np.random.default_rng(6)
    xp = xpnet.get_backend("numpy").xp
    Z = rng.standard_normal((5, 3))
    Y = np.eye(3)[rng.integers(0, 3, 5)]
    w = np.array([1.0, 0.0, 2.0, 0.5, 1.5])
    loss_sum, P = network.softmax_cross_entropy(Z, Y, w)
    per_sample = -np.sum(Y * np.log(P), axis=1)
    assert float(loss_sum) == pytest.approx(float(np.sum(w * per_sample)))
    np.testing.assert_allclose(network.normalized_weights(w), w / w.sum())
    np.testing.assert_array_equal(network.normalized_weights(np.zeros(3)), np.zeros(3))
    assert xp is not None


@pytest.mark.parametrize(
    "w, message",
    [
        (np.array([1.0, 2.0]), "2 weights but X has 4 samples"),
        (np.array([1.0, -1.0, 1.0, 1.0]), ">= 0"),
        (np.array([1.0, np.nan, 1.0, 1.0]), "NaN"),
        (np.zeros(4), "all zero"),
        (np.ones((4, 1)), "1-D"),
        (np.array(["a"] * 4), "numbers"),
    ],
)
def test_bad_sample_weight(backend, w, message):
    model = xpnet.MLP([3, 2], backend=backend)
    with pytest.raises((ValueError, TypeError), match=message):
        model.fit(np.zeros((4, 3)), np.array([0, 1, 0, 1]), epochs=1, sample_weight=w)


# -- integer labels of any dtype, native to the backend -----------------------------------------
@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"])
def test_native_integer_labels_of_any_dtype(backend, dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 3)).astype(np.float32)
    y = rng.integers(0, 2, 16).astype(dtype)
    model = xpnet.MLP([3, 4, 2], backend=backend, seed=0)
    Xn, yn = native(backend, X), native(backend, y)
    model.fit(Xn, yn, epochs=1, batch_size=8, sample_weight=native(backend, np.ones(16, np.float32)))
    # The reference differs only in the labels' dtype and the arrays' kind, so it is the same
    # computation on the same backend: equal bit for bit (unit weights against none would be
    # another summation order, tested in float64 above).
    reference = xpnet.MLP([3, 4, 2], backend=backend, seed=0)
    reference.fit(X, y.astype(np.int64), epochs=1, batch_size=8, sample_weight=np.ones(16, np.float32))
    assert model.history.loss == reference.history.loss
    assert model.score(Xn, yn) == reference.score(X, y)
    assert model.evaluate(Xn, yn)["loss"] == reference.evaluate(X, y)["loss"]
    grads = model.gradients(Xn, yn)
    assert type(grads["W1"]) is type(model.params["W1"])
    assert xpnet.gradcheck(model.copy(dtype="float64"), Xn, yn, max_entries=4).passed


# -- the public training generator --------------------------------------------------------------
def test_fit_epochs_yields_one_epoch_at_a_time():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((40, 4)).astype(np.float32), rng.integers(0, 3, 40)
    model = xpnet.MLP([4, 6, 3], backend="numpy", seed=0)
    gen = model.fit_epochs(X, y, epochs=3, batch_size=16)
    assert model.epoch == 0  # nothing runs before the first next()
    first = next(gen)
    assert first["epoch"] == 1 and model.epoch == 1 and len(model.history) == 1
    assert set(first) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch_time"}
    rest = list(gen)
    assert [e["epoch"] for e in rest] == [2, 3] and model.epoch == 3
    whole = xpnet.MLP([4, 6, 3], backend="numpy", seed=0)
    whole.fit(X, y, epochs=3, batch_size=16)
    for name, v in whole.numpy_params().items():
        np.testing.assert_array_equal(v, model.numpy_params()[name])


def test_batch_size_default_reads_well_and_bad_strings_are_refused():
    import inspect

    sig = str(inspect.signature(xpnet.MLP.fit))
    assert "object at" not in sig and "= 'default'" in sig
    with pytest.raises(ValueError, match="batch_size"):
        xpnet.MLP([2, 2], backend="numpy").fit(np.zeros((2, 2)), [0, 1], batch_size="full")
