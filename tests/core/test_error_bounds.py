"""The rounding-error bounds of tests/conftest.py hold on every backend, and are not so loose
that a real error passes (docs/testing.md)."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from tests.conftest import (
    assert_close_by_bound,
    forward_error_bounds,
    gamma,
    gradient_error_bounds,
    matmul_error_bound,
    mean_cross_entropy_error_bound,
    proba_error_bound,
    unit_roundoff,
)


def test_unit_roundoff_and_gamma():
    assert unit_roundoff("float32") == 2.0**-24 and unit_roundoff(np.float64) == 2.0**-53
    u = 2.0**-24
    assert gamma(10, "float32") == pytest.approx(10 * u / (1 - 10 * u), rel=1e-15)
    with pytest.raises(ValueError, match="no rounding bound"):
        gamma(2**24, "float32")


def test_matmul_bound_holds_near_zero_and_catches_a_dropped_term(backend):
    """Entries of A·B near zero (signed data) are where an rtol fails; the bound holds there."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 500)).astype(np.float32)
    B = rng.standard_normal((500, 20)).astype(np.float32)
    exact = A.astype(np.float64) @ B.astype(np.float64)
    got = backend.to_numpy(backend.asarray(A) @ backend.asarray(B))
    bound = matmul_error_bound(A, B, np.float32)
    assert assert_close_by_bound(got, exact, bound) < 1
    wrong = A[:, 1:] @ B[1:]  # one of 500 terms left out
    with pytest.raises(AssertionError, match="worst"):
        assert_close_by_bound(wrong, exact, 2 * bound)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_forward_and_softmax_bounds_hold_on_every_backend(backend, activation):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((64, 40)).astype(np.float32)
    model = xpnet.MLP([40, 30, 20, 5], activation=activation, backend=backend, seed=3)
    params = model.numpy_params()
    layers = forward_error_bounds(params, X, np.float32, activation)
    Z, E = layers[-1]
    assert assert_close_by_bound(xpnet.to_numpy(model.decision_function(X)), Z, E) < 1
    P, bound = proba_error_bound(params, X, np.float32, activation)
    assert assert_close_by_bound(xpnet.to_numpy(model.predict_proba(X)), P, bound) < 1
    # One output weight off by 1 % of the largest is no rounding error.
    params["W3"][2, 7] += 0.01 * np.abs(params["W3"]).max()
    model.set_params(params)
    with pytest.raises(AssertionError, match="rounding bound"):
        assert_close_by_bound(xpnet.to_numpy(model.decision_function(X)), Z, 2 * E)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "identity"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_and_loss_bounds_hold_on_every_backend(backend, activation, weighted):
    """float32 gradients and mean loss on the backend against float64 ones (whose own error,
    bounded the same way, is added)."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 12)).astype(np.float32)
    y = rng.integers(0, 4, 50)
    w = rng.uniform(0.0, 2.0, 50).astype(np.float32) if weighted else None
    model = xpnet.MLP([12, 16, 8, 4], activation=activation, backend=backend, seed=4)
    params = model.numpy_params()
    exact = xpnet.MLP([12, 16, 8, 4], activation=activation, backend="numpy", dtype="float64")
    exact.set_params({k: v.astype(np.float64) for k, v in params.items()})
    wide = {k: v.astype(np.float64) for k, v in params.items()}
    b32 = gradient_error_bounds(params, X, y, np.float32, activation, weights=w)
    b64 = gradient_error_bounds(wide, X, y, np.float64, activation, weights=w)
    got, ref = model.gradients(X, y, sample_weight=w), exact.gradients(X, y, sample_weight=w)
    for name in params:
        assert assert_close_by_bound(xpnet.to_numpy(got[name]), ref[name], b32[name] + b64[name], err_msg=name) < 1
    loss, bound = mean_cross_entropy_error_bound(params, X, y, np.float32, activation)
    assert abs(model.loss(X, y) - loss) <= bound
    assert abs(exact.loss(X, y) - loss) <= 1e-6 * bound  # float64: the same loss, far below it
    # A gradient with one sample left out is no rounding error.
    ws = np.ones(50, np.float32)
    ws[7] = 0
    wrong = exact.gradients(X, y, sample_weight=ws if w is None else w * ws)
    with pytest.raises(AssertionError, match="rounding bound"):
        assert_close_by_bound(wrong["W1"], ref["W1"], 2 * b32["W1"])


def test_failure_message_reports_the_worst_ratio():
    with pytest.raises(AssertionError, match=r"1 of 3 entries .* = 4 at \(1,\)"):
        assert_close_by_bound([1.0, 2.0, 3.0], [1.0, 2.4, 3.0], 0.1, err_msg="x")
    assert assert_close_by_bound([1.0, 2.05], [1.0, 2.0], 0.1) == pytest.approx(0.5)
