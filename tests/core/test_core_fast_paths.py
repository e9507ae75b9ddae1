"""The core's performance paths keep its results: gradient scaling, scaled optimizer steps,
Adam's subnormal flush. (Moved here from the benchmark tests: they test the math, not the
benchmark.) Run on every backend of conftest's ``backend`` fixture (NumPy, array-api-strict and its
device1, PyTorch, JAX, CuPy when present).
"""

from __future__ import annotations

import pytest


def test_backward_scale_multiplies_every_gradient(backend):
    import numpy as np

    from xpnet import network

    rng = np.random.default_rng(0)
    params = {
        "W1": backend.asarray(rng.normal(size=(5, 4)), "float64"),
        "b1": backend.asarray(rng.normal(size=5), "float64"),
        "W2": backend.asarray(rng.normal(size=(3, 5)), "float64"),
        "b2": backend.asarray(rng.normal(size=3), "float64"),
    }
    X = backend.asarray(rng.normal(size=(7, 4)), "float64")
    Y = network.one_hot(backend.asarray(rng.integers(0, 3, 7), "int64"), 3, backend.xp.float64)
    Z, cache = network.forward(params, X)
    _, P = network.softmax_cross_entropy(Z, Y)
    plain = network.backward(params, cache, P, Y)
    scaled = network.backward(params, cache, P, Y, scale=0.25)
    for k in params:
        np.testing.assert_allclose(backend.to_numpy(scaled[k]), 0.25 * backend.to_numpy(plain[k]), rtol=1e-12)


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_scaled_gradients_give_the_same_step(backend, name):
    """``step(grads·s, scaled_by=s)`` equals ``step(grads)`` for the optimizer's own s."""
    import numpy as np

    from xpnet import optim

    w, g = np.array([1.0, -2.0, 0.5]), np.array([0.3, -0.1, 0.0])
    results = []
    for scaled in (False, True):
        opt = optim.get_optimizer(name, lr=0.1)
        params = {"W": backend.asarray(w.copy(), "float64")}  # asarray may share w's memory
        for _ in range(3):
            s = opt.gradient_scale(0.1) if scaled else 1.0
            opt.step(params, {"W": backend.asarray(g * s, "float64")}, 0.1, scaled_by=s)
        results.append(backend.to_numpy(params["W"]))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12, atol=1e-15)


def test_adam_flushes_tiny_moments_to_zero(backend):
    """Moments decaying toward the subnormal range are zeroed every 64 steps (float32)."""
    import numpy as np

    from xpnet import optim

    opt = optim.Adam(lr=1e-3)
    params = {"W": backend.asarray(np.ones(3), "float32")}
    opt.step(params, {"W": backend.asarray(np.array([1e-28, 0.5, 0.0]), "float32")})
    zero = backend.asarray(np.zeros(3), "float32")
    for _ in range(63):  # by step 64, m of the first entry has decayed from 1e-29 to 1.2e-32
        opt.step(params, {"W": zero})
    m = backend.to_numpy(opt.state["m"]["W"])
    tiny = np.finfo(np.float32).tiny
    assert not np.any((m != 0) & (np.abs(m) < tiny))  # no subnormals left
    assert m[0] == 0 and m[1] > 0  # the tiny one is flushed, the normal one is not
