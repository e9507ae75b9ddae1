"""The network's math against the tutorial's own equations, written out in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from tests.conftest import (
    assert_close_by_bound,
    gamma,
    gradient_error_bounds,
    proba_error_bound,
    unit_roundoff,
)
from xpnet import network
from xpnet.nn.activations import ACTIVATIONS


def tutorial_reference(W1, b1, W2, b2, X_cols, labels):
    """The tutorial's network, samples as columns, per-unit bias gradients (its slip fixed)."""
    m = X_cols.shape[1]
    Z1 = W1 @ X_cols + b1[:, None]
    A1 = np.maximum(Z1, 0)
    Z2 = W2 @ A1 + b2[:, None]
    A2 = np.exp(Z2 - Z2.max(axis=0)) / np.exp(Z2 - Z2.max(axis=0)).sum(axis=0)
    Y = np.zeros((W2.shape[0], m))
    Y[labels, np.arange(m)] = 1
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = dZ2.sum(axis=1) / m
    dZ1 = (W2.T @ dZ2) * (Z1 > 0)
    dW1 = dZ1 @ X_cols.T / m
    db1 = dZ1.sum(axis=1) / m
    return A2, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def test_forward_and_backward_are_the_tutorial_equations_transposed(backend):
    model = xpnet.MLP.tutorial(backend=backend, dtype="float64", seed=1)
    rng = np.random.default_rng(1)
    X = rng.random((32, 784))
    y = rng.integers(0, 10, 32)
    host = model.numpy_params()
    assert host["W1"].shape == (10, 784) and host["b1"].shape == (10,)
    A2_ref, grads_ref = tutorial_reference(host["W1"], host["b1"], host["W2"], host["b2"], X.T, y)

    # Two float64 implementations on different kernels (the backend's and NumPy's, in other
    # layouts): each within the rounding bound of the exact values, so within twice it.
    A2 = backend.to_numpy(model.predict_proba(X))
    _, bound = proba_error_bound(host, X, np.float64)
    assert_close_by_bound(A2, A2_ref.T, 2 * bound)
    grads = {k: backend.to_numpy(v) for k, v in model.gradients(X, y).items()}
    bounds = gradient_error_bounds(host, X, y, np.float64)
    for name, ref in grads_ref.items():
        assert grads[name].shape == host[name].shape
        assert_close_by_bound(grads[name], ref, 2 * bounds[name], err_msg=name)


def test_bias_gradient_is_a_per_unit_sum_and_output_biases_learn(backend):
    """The notebook behind the tutorial computes db2 = Σ over *all* of dZ2, which is exactly
    zero (each row of A2 − Y sums to 0), so its output biases never move. xpnet's must."""
    model = xpnet.MLP([6, 5, 4], backend=backend, dtype="float64", seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 6))
    y = rng.integers(0, 4, 12)
    db2 = backend.to_numpy(model.gradients(X, y)["b2"])
    assert db2.shape == (4,)
    assert np.abs(db2).max() > 1e-3
    assert abs(db2.sum()) < 1e-12  # the all-element sum the notebook used is zero
    before = model.numpy_params()["b2"]
    model.fit(X, y, epochs=3, batch_size=None, optimizer=xpnet.nn.optim.SGD(lr=0.5))
    assert np.abs(model.numpy_params()["b2"] - before).max() > 1e-3


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_is_stable_for_huge_logits(backend, dtype):
    Z = backend.asarray(np.array([[1000.0, 0.0, -1000.0], [89.0, 89.0, 0.0]]), dtype)
    P = backend.to_numpy(network.softmax(Z))
    assert np.all(np.isfinite(P))
    # The rounding of the softmax ((k + 20)·u, conftest.softmax_error_bound) and of the host's sum.
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=(3 + 20) * unit_roundoff(dtype) + gamma(2, dtype))
    np.testing.assert_allclose(P[1], [0.5, 0.5, 0.0], atol=1e-6)
    Y = network.one_hot(backend.asarray(np.array([0, 2]), "int64"), 3, backend.float_dtype(dtype))
    loss_sum, _ = network.softmax_cross_entropy(Z, Y)
    # Row 0 is right with certainty (loss 0); row 1 puts e^-89·... on class 2: loss ≈ 89 + log 2.
    assert float(loss_sum) == pytest.approx(89.0 + np.log(2.0), rel=1e-5)
    logp = backend.to_numpy(network.log_softmax(Z))
    assert np.all(np.isfinite(logp))


def test_cross_entropy_matches_definition(backend):
    rng = np.random.default_rng(3)
    Z_host = rng.standard_normal((7, 5))
    labels = rng.integers(0, 5, 7)
    Z = backend.asarray(Z_host, "float64")
    Y = network.one_hot(backend.asarray(labels, "int64"), 5, backend.float_dtype("float64"))
    loss_sum, P = network.softmax_cross_entropy(Z, Y)
    P_ref = np.exp(Z_host) / np.exp(Z_host).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(backend.to_numpy(P), P_ref, rtol=1e-12)
    assert float(loss_sum) == pytest.approx(-np.log(P_ref[np.arange(7), labels]).sum(), rel=1e-12)
    assert backend.to_numpy(Y).tolist() == np.eye(5)[labels].tolist()


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values(backend, name):
    Z_host = np.array([[-3.0, -0.5, 0.5, 3.0]])
    expected = {
        "relu": np.maximum(Z_host, 0),
        "leaky_relu": np.where(Z_host > 0, Z_host, 0.01 * Z_host),
        "tanh": np.tanh(Z_host),
        "sigmoid": 1 / (1 + np.exp(-Z_host)),
        "identity": Z_host,
    }[name]
    out = ACTIVATIONS[name].forward(backend.asarray(Z_host, "float64"))
    np.testing.assert_allclose(backend.to_numpy(out), expected, rtol=1e-12)


def test_sigmoid_does_not_overflow(backend):
    Z = backend.asarray(np.array([[-1000.0, 1000.0]]), "float32")
    out = backend.to_numpy(ACTIVATIONS["sigmoid"].forward(Z))
    np.testing.assert_array_equal(out, [[0.0, 1.0]])


def test_deeper_network_shapes(backend):
    model = xpnet.MLP([12, 9, 7, 5, 3], activation="tanh", backend=backend, seed=0)
    X = np.random.default_rng(0).standard_normal((4, 12))
    Z, (inputs, preacts) = network.forward(model.params, model.validate_data(X).X, model.activation)
    assert tuple(Z.shape) == (4, 3)
    assert [tuple(a.shape) for a in inputs] == [(4, 12), (4, 9), (4, 7), (4, 5)]
    assert [tuple(z.shape) for z in preacts] == [(4, 9), (4, 7), (4, 5)]
    grads = model.gradients(X, np.array([0, 1, 2, 0]))
    assert {k: tuple(v.shape) for k, v in grads.items()} == {k: tuple(v.shape) for k, v in model.params.items()}
