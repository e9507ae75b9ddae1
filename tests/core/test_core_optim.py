"""Optimizer steps against values computed by hand, and learning-rate schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from xpnet import optim


def _one_param(backend, w, g):
    params = {"W1": backend.asarray(np.array(w, dtype=float), "float64")}
    grads = {"W1": backend.asarray(np.array(g, dtype=float), "float64")}
    return params, grads


def _w(backend, params):
    return backend.to_numpy(params["W1"]).tolist()


def test_sgd_is_the_tutorial_rule(backend):
    params, grads = _one_param(backend, [1.0, -2.0], [0.5, -1.0])
    optim.SGD(lr=0.1).step(params, grads)
    assert _w(backend, params) == pytest.approx([1.0 - 0.05, -2.0 + 0.1])


def test_sgd_momentum_and_nesterov(backend):
    params, grads = _one_param(backend, [1.0], [2.0])
    opt = optim.SGD(lr=0.1, momentum=0.9)
    opt.step(params, grads)  # v = 2,    w = 1 - 0.2 = 0.8
    opt.step(params, grads)  # v = 3.8,  w = 0.8 - 0.38 = 0.42
    assert _w(backend, params) == pytest.approx([0.42])

    params, grads = _one_param(backend, [1.0], [2.0])
    opt = optim.SGD(lr=0.1, momentum=0.9, nesterov=True)
    opt.step(params, grads)  # v = 2,   step = 2 + 1.8 = 3.8,  w = 0.62
    opt.step(params, grads)  # v = 3.8, step = 2 + 3.42 = 5.42, w = 0.078
    assert _w(backend, params) == pytest.approx([0.078])


def test_sgd_weight_decay_is_l2(backend):
    params, grads = _one_param(backend, [2.0], [0.0])
    optim.SGD(lr=0.1, weight_decay=0.5).step(params, grads)  # g = 0 + 0.5·2 = 1
    assert _w(backend, params) == pytest.approx([1.9])


def test_adam_first_steps(backend):
    params, grads = _one_param(backend, [1.0, 1.0], [0.5, -2.0])
    opt = optim.Adam(lr=0.01)
    opt.step(params, grads)
    # Step 1: m̂ = g, v̂ = g², so the step is lr·g/(|g| + eps) ≈ lr·sign(g).
    assert _w(backend, params) == pytest.approx([1.0 - 0.01, 1.0 + 0.01], rel=1e-7)
    grads2 = {"W1": backend.asarray(np.array([1.0, -2.0]), "float64")}
    opt.step(params, grads2)
    b1, b2, g1, g2 = 0.9, 0.999, np.array([0.5, -2.0]), np.array([1.0, -2.0])
    m = (1 - b1) * (b1 * g1 + g2)
    v = (1 - b2) * (b2 * g1**2 + g2**2)
    step = 0.01 * (m / (1 - b1**2)) / (np.sqrt(v / (1 - b2**2)) + 1e-8)
    expected = np.array([0.99, 1.01]) - step
    assert _w(backend, params) == pytest.approx(expected.tolist(), rel=1e-9)
    assert opt.t == 2


def test_adamw_decays_weights_decoupled(backend):
    params, grads = _one_param(backend, [2.0], [0.0])
    optim.AdamW(lr=0.1, weight_decay=0.5).step(params, grads)
    # zero gradient: only the decay acts, w ← w·(1 − lr·λ) = 2·0.95
    assert _w(backend, params) == pytest.approx([1.9])
    params, grads = _one_param(backend, [2.0], [0.0])
    optim.Adam(lr=0.1, weight_decay=0.5).step(params, grads)
    # coupled L2: g = 1, first Adam step moves by lr·sign(g)
    assert _w(backend, params) == pytest.approx([1.9], rel=1e-6)


def test_optimizer_state_round_trip(backend):
    params, grads = _one_param(backend, [1.0, 2.0], [0.3, -0.1])
    opt = optim.Adam(lr=0.01)
    opt.step(params, grads)
    clone = optim.optimizer_from_config(opt.get_config())
    copy = lambda a: backend.asarray(backend.to_numpy(a, copy=True))  # noqa: E731
    clone.load_state(opt.t, {k: copy(a) for k, a in opt.state_arrays().items()})
    p2 = {"W1": copy(params["W1"])}
    opt.step(params, grads)
    clone.step(p2, grads)
    assert _w(backend, params) == _w(backend, p2)
    assert sorted(opt.state_arrays()) == ["m.W1", "v.W1"]


def test_schedules():
    assert optim.Constant().factor(3.0, 10) == 1.0
    step = optim.StepDecay(every=2, gamma=0.5)
    assert [step.factor(e, None) for e in (0, 1.9, 2, 4.5)] == [1.0, 1.0, 0.5, 0.25]
    cos = optim.Cosine()
    assert cos.factor(0, 10) == 1.0
    assert cos.factor(5, 10) == pytest.approx(0.5)
    assert cos.factor(10, 10) == pytest.approx(0.0)
    assert optim.Cosine(epochs=4, min_factor=0.1).factor(8, 100) == pytest.approx(0.1)
    opt = optim.SGD(lr=0.2, schedule="cosine")
    assert opt.lr_at(5, 10) == pytest.approx(0.1)
    assert isinstance(opt.lr_at(5, 10), float)


def test_learning_rates_stay_python_floats():
    opt = optim.SGD(lr=np.float64(0.1))
    assert type(opt.lr) is float
    assert type(opt.lr_at(1.0, 2)) is float


@pytest.mark.parametrize(
    "bad",
    [
        lambda: optim.SGD(lr=0),
        lambda: optim.SGD(lr=-1),
        lambda: optim.SGD(lr=math.nan),
        lambda: optim.SGD(momentum=1.0),
        lambda: optim.SGD(nesterov=True),
        lambda: optim.Adam(beta1=1.0),
        lambda: optim.Adam(eps=0),
        lambda: optim.AdamW(weight_decay=-1),
        lambda: optim.get_optimizer("rmsprop"),
        lambda: optim.get_schedule("linear"),
        lambda: optim.StepDecay(every=0),
    ],
)
def test_bad_hyper_parameters_are_rejected(bad):
    with pytest.raises(ValueError):
        bad()
