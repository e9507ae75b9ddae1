"""Backprop gradients against central finite differences, in float64, on every backend.

Hypothesis draws architectures (1–4 hidden layers of width 1–16), batch sizes (1–8),
activations, initializations, inputs, the loss head (softmax cross-entropy, squared error,
Poisson), an L2 penalty and sample weights. The analytic gradient of every parameter must match
the central difference with norm-relative error ≤ 1e-7 (eps = 1e-6). Draws that put a ReLU
pre-activation within 1e-4 of its kink are rejected: a finite difference straddling the kink
measures neither slope.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import xpnet
from tests.conftest import assert_close_by_bound, gradient_error_bounds, max_examples
from xpnet.nn import dropout, network, step
from xpnet.nn.activations import ACTIVATIONS
from xpnet.nn.init import INITIALIZERS

KINK_MARGIN = 1e-4


LOSSES = ("cross_entropy", "squared_error", "poisson")


@st.composite
def problems(draw, losses=LOSSES):
    """A network config and a batch to check it on."""
    loss = draw(st.sampled_from(losses))
    n_hidden = draw(st.integers(1, 4))
    sizes = (
        [draw(st.integers(1, 8))]
        + [draw(st.integers(1, 16)) for _ in range(n_hidden)]
        + [draw(st.integers(2 if loss == "cross_entropy" else 1, 6))]
    )
    return {
        "sizes": sizes,
        "m": draw(st.integers(1, 8)),
        "activation": draw(st.sampled_from(sorted(ACTIVATIONS))),
        "init": draw(st.sampled_from(INITIALIZERS)),
        "seed": draw(st.integers(0, 2**32 - 1)),
        "loss": loss,
        "l2": draw(st.sampled_from([0.0, 0.3])) if len(losses) > 1 else 0.0,
        "weighted": draw(st.booleans()) if len(losses) > 1 else False,
        # Dropout: gradcheck fixes the masks (one seeded draw) and checks the thinned network.
        "dropout": [draw(st.sampled_from([0.0, 0.3, 0.7])) for _ in range(n_hidden)] if len(losses) > 1 else 0.0,
        # Label smoothing: the smoothed targets (1 − ε)·onehot + ε/K, the same canonical head.
        "label_smoothing": draw(st.sampled_from([0.0, 0.1, 0.6]))
        if loss == "cross_entropy" and len(losses) > 1
        else 0.0,
    }


def _model_and_batch(problem, backend, dtype="float64"):
    loss = problem.get("loss", "cross_entropy")
    model = xpnet.MLP(
        problem["sizes"],
        activation=problem["activation"],
        init=problem["init"],
        dtype=dtype,
        backend=backend,
        seed=problem["seed"] % 1000,
        loss=loss,
        dropout=problem.get("dropout", 0.0),
        label_smoothing=problem.get("label_smoothing", 0.0),
    )
    rng = np.random.default_rng(problem["seed"])
    # Non-zero biases: with zero biases a dead layer feeds Z = 0 exactly to the next ReLU.
    host = model.numpy_params()
    for name in host:
        if name.startswith("b"):
            host[name] = rng.normal(0.0, 0.1, size=host[name].shape)
    model.set_params(host)
    X = rng.standard_normal((problem["m"], problem["sizes"][0]))
    k = problem["sizes"][-1]
    if loss == "cross_entropy":
        y = rng.integers(0, k, size=problem["m"])
    elif loss == "squared_error":
        y = rng.standard_normal((problem["m"], k))
    else:  # counts, zeros included (T log T is 0 there)
        y = rng.poisson(1.5, size=(problem["m"], k)).astype(np.float64)
    return model, X, y


def _away_from_kinks(model, X) -> bool:
    """No hidden pre-activation within KINK_MARGIN of a ReLU kink (computed on the host in
    float64: a property of the numbers, not of the backend)."""
    if model.activation not in ("relu", "leaky_relu"):
        return True
    masks = None
    if any(model.dropout):  # the masks gradcheck draws with its default seed, 0
        keys = dropout.epoch_keys(np.random.default_rng((0, 0, dropout.KEY_STREAM)), 1, len(model.dropout))[0].tolist()
        masks = dropout.batch_masks(np, model.sizes[1:-1], len(X), np.float64, "cpu", keys, model.dropout)
    _, cache = network.forward(model.numpy_params(), np.asarray(X, np.float64), model.activation, masks)
    return all(float(np.min(np.abs(Z))) > KINK_MARGIN for Z in cache[1])


def test_backprop_matches_central_differences(backend):
    @settings(
        max_examples=max_examples(backend, 25),
        deadline=None,
        suppress_health_check=[HealthCheck.filter_too_much],
    )
    @given(problem=problems())
    # Found by hypothesis: identity layers make the loss 22, where rounding alone exceeded tol
    # on b1 and b2 (gradcheck's rounding floor now covers it).
    @example(
        problem={
            "sizes": [1, 1, 2, 4],
            "m": 2,
            "activation": "identity",
            "init": "he",
            "seed": 90719,
            "loss": "cross_entropy",
            "l2": 0.0,
            "weighted": False,
            "dropout": [0.0, 0.0],
        }
    )
    def check(problem):
        model, X, y = _model_and_batch(problem, backend)
        assume(_away_from_kinks(model, X))
        w = None
        if problem["weighted"]:
            w = np.random.default_rng(problem["seed"] + 1).uniform(0.0, 2.0, problem["m"])
            assume(w.sum() > 0.1)
        report = xpnet.gradcheck(model, X, y, eps=1e-6, tol=1e-7, max_entries=None, sample_weight=w, l2=problem["l2"])
        assert report.passed, f"{problem}\n{report}"
        # Every parameter was checked entry by entry.
        assert [p.name for p in report.parameters] == list(model.params)
        assert all(p.n_checked == int(np.prod(p.shape)) for p in report.parameters)

    check()


def test_float32_gradients_agree_with_float64(backend):
    @settings(max_examples=max_examples(backend, 15), deadline=None)
    @given(problem=problems(losses=("cross_entropy",)))
    def check(problem):
        _float32_gradients_agree_with_float64(backend, problem)

    check()


def _float32_gradients_agree_with_float64(backend, problem):
    """The float32 computation is the same math: on the same (float32) weights and inputs it
    matches float64 to within both computations' rounding bounds (tests/conftest.py), which
    allow for a ReLU pre-activation within rounding of its kink taking the other branch."""
    model, X, y = _model_and_batch(problem, backend, "float64")
    model32 = model.copy(dtype="float32")
    model64 = model32.copy(dtype="float64")  # the float32 weights, widened exactly
    X = X.astype(np.float32)
    g64 = {k: backend.to_numpy(v) for k, v in model64.gradients(X, y).items()}
    g32 = {k: backend.to_numpy(v) for k, v in model32.gradients(X, y).items()}
    params = model64.numpy_params()
    b32 = gradient_error_bounds(params, X, y, np.float32, problem["activation"])
    b64 = gradient_error_bounds(params, X, y, np.float64, problem["activation"])
    for name in g64:
        assert g32[name].dtype == np.float32, name
        assert_close_by_bound(g32[name], g64[name], b32[name] + b64[name], err_msg=name)


def test_directional_derivative_full_size_network(backend):
    """All 101,770 parameters of a 784-128-10 network at once, along a random direction."""
    rng = np.random.default_rng(7)
    model = xpnet.MLP([784, 128, 10], init="he", dtype="float64", backend=backend, seed=3)
    X = rng.random((16, 784))
    y = rng.integers(0, 10, size=16)
    report = xpnet.gradcheck(model, X, y, max_entries=8)
    assert report.directional_rel_error < 1e-7, str(report)
    assert report.passed, str(report)


def test_gradcheck_catches_a_wrong_gradient(monkeypatch):
    """The check can fail: break db2 the way the tutorial's notebook does and it reports FAIL."""
    real_backward = network.backward

    def tutorial_db_bug(params, cache, P, Y, activation="relu", **kwargs):
        grads = real_backward(params, cache, P, Y, activation, **kwargs)
        L = network.n_layers(params)
        xp = xpnet.get_backend("numpy").xp
        # The notebook's db2 = 1/m * np.sum(dZ2): a sum over *all* elements, broadcast.
        grads[f"b{L}"] = xp.zeros_like(grads[f"b{L}"]) + xp.sum(grads[f"b{L}"])
        return grads

    monkeypatch.setattr(step, "backward", tutorial_db_bug)  # the one place that calls it
    model = xpnet.MLP([5, 4, 3], backend="numpy", dtype="float64", seed=0)
    rng = np.random.default_rng(0)
    report = xpnet.gradcheck(model, rng.standard_normal((6, 5)), rng.integers(0, 3, 6))
    assert not report.passed
    failed = [p.name for p in report.parameters if not p.passed]
    assert failed == ["b2"]


def test_directional_check_is_not_fooled_by_a_near_orthogonal_direction():
    """Found by hypothesis: a random direction almost orthogonal to the gradient made both
    directional derivatives ~1e-5, and their rounding noise looked like a 6e-6 relative error."""
    problem = {"sizes": [5, 5, 8, 8, 2], "m": 4, "activation": "relu", "init": "he", "seed": 2303}
    model, X, y = _model_and_batch(problem, xpnet.get_backend("numpy"))
    report = xpnet.gradcheck(model, X, y, max_entries=None)
    assert report.passed, str(report)


def test_gradcheck_catches_backprop_that_ignores_the_dropout_mask(monkeypatch):
    """A backward pass that forgets ``dA ⊙ M`` is caught: the dropped units' incoming weights
    get gradients their (zero) contribution does not have."""
    real_backward = network.backward

    def mask_forgotten(params, cache, P, Y, activation="relu", **kwargs):
        inputs, preactivations, _, outputs = cache
        return real_backward(params, (inputs, preactivations, None, outputs), P, Y, activation, **kwargs)

    monkeypatch.setattr(step, "backward", mask_forgotten)
    model = xpnet.MLP([5, 6, 3], backend="numpy", dtype="float64", seed=0, dropout=0.5, activation="tanh")
    rng = np.random.default_rng(0)
    report = xpnet.gradcheck(model, rng.standard_normal((6, 5)), rng.integers(0, 3, 6))
    assert not report.passed
    assert [p.name for p in report.parameters if not p.passed] == ["W1", "b1"]
