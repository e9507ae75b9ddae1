"""The loss heads (regression with squared error and Poisson), the L2 penalty with each batch's
true weight sum, the stopping callbacks, and the optimizer options scikit-learn's semantics
need (InvScaling, Adam's ε on √v, SGD's rate inside the velocity), on every backend."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import xpnet
from tests.conftest import native
from xpnet import losses, network, optim
from xpnet.model.stopping import EarlyStopping, ReduceLROnPlateau


def _regression(n=96, d=4, k=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, k))
    return X, np.tanh(X @ W) + 0.05 * rng.standard_normal((n, k))


# -- heads ----------------------------------------------------------------------------------------
def test_mlp_regresses_on_every_backend_with_native_inputs(backend):
    X, Y = _regression()
    model = xpnet.MLP([4, 16, 2], loss="squared_error", dtype="float64", backend=backend, seed=0)
    Xn, Yn = native(backend, X), native(backend, Y)
    model.fit(Xn, Yn, epochs=60, batch_size=32, optimizer=optim.Adam(lr=0.01))
    P = model.predict(Xn)
    assert backend.is_native(P) and tuple(P.shape) == (96, 2)
    r2 = model.score(Xn, Yn)
    residual = ((Y - backend.to_numpy(P)) ** 2).sum(axis=0)
    total = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    assert r2 == pytest.approx(float(np.mean(1 - residual / total)), rel=1e-9)  # sklearn's R²
    assert r2 > 0.9
    assert model.history.accuracy[-1] is None and set(model.evaluate(Xn, Yn)) == {"loss", "r2"}
    with pytest.raises(xpnet.errors.ConfigError, match="predict_proba needs a classifier"):
        model.predict_proba(Xn)


def test_regression_targets_are_checked():
    model = xpnet.MLP([3, 4, 2], loss="squared_error", backend="numpy")
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"shape \(5, 2\)"):
        model.fit(X, np.zeros(5), epochs=1)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, np.full((5, 2), np.nan), epochs=1)
    with pytest.raises(ValueError, match="negative"):
        xpnet.MLP([3, 4, 1], loss="poisson", backend="numpy").fit(X, -np.ones(5), epochs=1)
    with pytest.raises(ValueError, match="unknown loss"):
        xpnet.MLP([3, 2], loss="hinge")
    assert xpnet.MLP([3, 1], loss="squared_error").sizes == [3, 1]  # one output is fine here
    with pytest.raises(ValueError, match="at least 2 classes"):
        xpnet.MLP([3, 1])


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_the_head_is_saved_pickled_and_copied(tmp_path, loss):
    X, Y = _regression(k=1)
    Y = np.exp(Y) if loss == "poisson" else Y
    model = xpnet.MLP([4, 5, 1], loss=loss, backend="numpy", dtype="float64")
    model.fit(X, Y, epochs=2)
    xpnet.save(model, tmp_path / "m.npz")
    for other in (xpnet.load(tmp_path / "m.npz"), pickle.loads(pickle.dumps(model)), model.copy()):
        assert other.head == model.head and other.get_config()["loss"] == loss
        np.testing.assert_array_equal(other.predict(X), model.predict(X))
    assert "loss=" in repr(model)


def test_poisson_head_is_the_half_deviance_and_predicts_rates():
    Z = np.array([[0.3, -1.0], [2.0, 0.1]])
    T = np.array([[1.0, 0.0], [4.0, 2.0]])
    loss_sum, A = losses.PoissonDeviance().loss_sum(Z, T)
    A_ref = np.exp(Z)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_log = np.where(T > 0, T * np.log(T / A_ref), 0.0)
    assert float(loss_sum) == pytest.approx(float((t_log - T + A_ref).sum()), rel=1e-12)
    np.testing.assert_allclose(A, A_ref)


# -- the L2 penalty -------------------------------------------------------------------------------
def test_l2_uses_each_batch_true_weight_sum_and_is_in_the_logged_loss(backend):
    """Two steps of plain SGD on batches of different weight sums equal the steps taken by
    hand with ``MLP.gradients(batch, l2=λ)`` (whose penalty gradient is λ·W/Σ_batch w), and the
    epoch's logged loss is ``(Σ w ℓ + Σ_steps (λ/2)·Σ‖W‖²) / Σ w``."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 3))
    y = rng.integers(0, 3, 10)
    w = np.r_[np.full(6, 0.2), np.full(4, 3.0)]  # batch sums 1.2 and 12: very different
    lam, lr = 0.7, 0.3
    model = xpnet.MLP([3, 5, 3], activation="tanh", dtype="float64", backend=backend, seed=2)
    by_hand = model.copy()
    expected_sum = 0.0
    for lo, hi in ((0, 6), (6, 10)):
        params = by_hand.numpy_params()
        expected_sum += float(np.sum(w[lo:hi] * _ce_rows(params, X[lo:hi], y[lo:hi])))
        expected_sum += 0.5 * lam * sum(float((params[k] ** 2).sum()) for k in params if k[0] == "W")
        grads = by_hand.gradients(
            native(backend, X[lo:hi]), native(backend, y[lo:hi]), native(backend, w[lo:hi]), l2=lam
        )
        by_hand.set_params({k: params[k] - lr * backend.to_numpy(grads[k]) for k in params})
    logs = next(
        model.fit_epochs(
            native(backend, X),
            native(backend, y),
            epochs=1,
            batch_size=6,
            shuffle=False,
            optimizer=optim.SGD(lr=lr),
            sample_weight=native(backend, w),
            l2=lam,
        )
    )
    for k, v in model.numpy_params().items():
        np.testing.assert_allclose(v, by_hand.numpy_params()[k], rtol=1e-12, atol=1e-14)
    assert logs["loss"] == pytest.approx(expected_sum / w.sum(), rel=1e-12)
    assert 0 < logs["penalty"] < logs["loss"]


def _ce_rows(params, X, y):
    Z = network.forward(params, X, "tanh")[0]
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), y]


def test_gradcheck_checks_the_penalty():
    model = xpnet.MLP([3, 4, 2], activation="tanh", backend="numpy", seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    assert xpnet.gradcheck(model, X, y, l2=2.0).passed
    g0, g1 = model.gradients(X, y), model.gradients(X, y, l2=2.0)
    np.testing.assert_allclose(g1["W1"] - g0["W1"], 2.0 * model.params["W1"] / 5, rtol=1e-5)
    np.testing.assert_array_equal(g1["b1"], g0["b1"])  # biases are not penalised


# -- stopping callbacks ---------------------------------------------------------------------------
def _overfitting_problem():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 6))
    y = rng.integers(0, 2, 40)  # labels of noise: the validation loss soon grows
    Xv, yv = rng.standard_normal((40, 6)), rng.integers(0, 2, 40)
    return X, y, Xv, yv


def test_early_stopping_stops_and_restores_the_best_weights():
    X, y, Xv, yv = _overfitting_problem()
    model = xpnet.MLP([6, 64, 2], backend="numpy", dtype="float64", seed=0)
    stop = EarlyStopping("val_loss", patience=3, restore_best_weights=True)
    history = model.fit(
        X,
        y,
        epochs=200,
        batch_size=8,
        validation_data=(Xv, yv),
        optimizer=optim.Adam(lr=0.01),
        callbacks=[stop],
    )
    n = len(history)
    assert n < 200 and not history.interrupted
    assert "val_loss did not improve" in history.stop_reason
    best = int(np.argmin(history.val_loss))
    assert stop.best_epoch == best + 1 and n == best + 1 + 3  # stopped after `patience` epochs
    assert model.evaluate(Xv, yv)["loss"] == pytest.approx(history.val_loss[best], rel=1e-12)


def test_early_stopping_tol_counts_only_improvements_of_at_least_tol():
    stop = EarlyStopping("loss", tol=0.1, patience=2)
    model = xpnet.MLP([2, 2], backend="numpy")
    for epoch, loss in enumerate([1.0, 0.95, 0.93, 0.5], start=1):
        stop.on_epoch_end(model, epoch - 1, {"epoch": epoch, "loss": loss})
        if model.stop_training:
            break
    # 0.95 and 0.93 are better, but not by 0.1: two epochs without improvement stop it
    assert model.stop_training and stop.best == 0.93 and stop.best_epoch == 3
    with pytest.raises(xpnet.errors.ConfigError, match="val_accuracy"):
        EarlyStopping("val_accuracy").on_epoch_end(model, 0, {"epoch": 1, "loss": 1.0, "val_accuracy": None})


def test_reduce_lr_on_plateau_divides_then_stops_at_its_floor():
    model = xpnet.MLP([2, 2], backend="numpy")
    model.optimizer = optim.SGD(lr=0.1)
    # a loss that only grows: every epoch after the first fails to improve
    cb = ReduceLROnPlateau(lambda model, logs: logs["epoch"], mode="min", patience=2, factor=0.2, stop_at_lr=0.005)
    lrs = []
    for e in range(12):
        cb.on_epoch_end(model, e, {"epoch": e + 1})
        lrs.append(model.optimizer.lr)
        if model.stop_training:
            break
    assert lrs == [0.1, 0.1, 0.1 / 5, 0.1 / 5, 0.1 / 5 / 5, 0.1 / 5 / 5, 0.1 / 5 / 5]  # ÷5, as scikit-learn
    assert model.stop_training and "Learning rate too small" in model.stop_reason


# -- optimizer options ----------------------------------------------------------------------------
def test_invscaling_is_constant_within_epochs_and_decays_with_samples():
    s = optim.InvScaling(power_t=0.5, samples_per_epoch=100)
    assert s.factor(0.0, None) == s.factor(0.99, None) == 1.0
    assert s.factor(2.5, None) == pytest.approx(1 / math.sqrt(201))
    assert optim.get_schedule(s.get_config()).get_config() == s.get_config()


def test_adam_eps_on_v_is_the_papers_efficient_form():
    p = {"W": np.array([[0.5, -0.2]]), "b": np.array([0.1])}
    g = {"W": np.array([[1e-7, 3.0]]), "b": np.array([-2e-8])}
    for eps_on in ("v_hat", "v"):
        opt = optim.Adam(lr=0.1, eps=1e-6, eps_on=eps_on)
        q = {k: v.copy() for k, v in p.items()}
        opt.step(q, g)
        m = {k: 0.1 * v for k, v in g.items()}
        v = {k: 0.001 * v * v for k, v in g.items()}
        for k in p:
            if eps_on == "v":  # α·√(1−β2)/(1−β1) · m/(√v + ε)
                step = 0.1 * math.sqrt(1 - 0.999) / (1 - 0.9) * m[k] / (np.sqrt(v[k]) + 1e-6)
            else:  # α·m̂/(√v̂ + ε)
                step = 0.1 * (m[k] / 0.1) / (np.sqrt(v[k] / 0.001) + 1e-6)
            np.testing.assert_allclose(p[k] - q[k], step, rtol=1e-12)
    assert optim.optimizer_from_config(optim.Adam(eps_on="v").get_config()).eps_on == "v"
    with pytest.raises(ValueError, match="eps_on"):
        optim.Adam(eps_on="sqrt")


def test_sgd_rate_in_velocity_differs_only_when_the_rate_changes():
    rng = np.random.default_rng(0)
    grads = [{"W": rng.standard_normal((2, 2))} for _ in range(4)]
    for schedule, same in ((None, True), (optim.StepDecay(every=1, gamma=0.5), False)):
        out = []
        for in_velocity in (False, True):
            opt = optim.SGD(lr=0.1, momentum=0.9, schedule=schedule, lr_in_velocity=in_velocity)
            p = {"W": np.zeros((2, 2))}
            for t, g in enumerate(grads):
                opt.step(p, g, lr=opt.lr_at(t))
            out.append(p["W"])
        assert np.allclose(out[0], out[1], rtol=1e-12) == same
    assert optim.optimizer_from_config(optim.SGD(momentum=0.5, lr_in_velocity=True).get_config()).lr_in_velocity
