"""Label smoothing in the cross-entropy head: the smoothed targets, the loss against a float64
reference, exact misses, the gradient check, and ε carried through configs, files and caches."""

from __future__ import annotations

import importlib.util
import pickle

import numpy as np
import pytest

import xpnet
from tests.compat.test_legacy_files import HERE as LEGACY
from xpnet.errors import ConfigError
from xpnet.nn import network, step
from xpnet.nn.losses import CrossEntropy, get_loss

HAVE_JAX = importlib.util.find_spec("jax") is not None


def reference_loss(model, X, y, eps):
    """−(1/m) Σ_i Σ_k T′_ik log softmax(Z)_ik in float64 on the host, T′ = (1 − ε)·onehot + ε/K."""
    A = np.asarray(X, np.float64)
    params = model.numpy_params()
    L = model.n_layers
    for l in range(1, L + 1):
        Z = A @ params[f"W{l}"].T.astype(np.float64) + params[f"b{l}"]
        A = np.maximum(Z, 0) if l < L else Z
    K = Z.shape[1]
    log_p = Z - Z.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    T = (1 - eps) * np.eye(K)[y] + eps / K
    return float(-(T * log_p).sum(axis=1).mean())


def _problem(m=64, n=12, k=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n)), rng.integers(0, k, m)


def test_targets_are_smoothed_one_hot_rows_summing_to_one(backend):
    y = backend.asarray(np.array([0, 3, 1]))
    T = xpnet.to_numpy(CrossEntropy(0.2).targets(y, 4, backend.float_dtype("float64")))
    expect = 0.8 * np.eye(4)[[0, 3, 1]] + 0.05
    np.testing.assert_allclose(T, expect, rtol=0, atol=1e-16)
    np.testing.assert_allclose(T.sum(axis=1), 1, rtol=0, atol=1e-15)
    hard = xpnet.to_numpy(CrossEntropy().targets(y, 4, backend.float_dtype("float64")))
    np.testing.assert_array_equal(hard, np.eye(4)[[0, 3, 1]])


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5])
def test_the_loss_is_the_smoothed_cross_entropy(backend, eps):
    X, y = _problem()
    model = xpnet.MLP([12, 8, 5], backend=backend, dtype="float64", seed=1, label_smoothing=eps)
    expect = reference_loss(model, X, y, eps)
    assert model.evaluate(X, y)["loss"] == pytest.approx(expect, rel=1e-12)
    # The training loop's per-sample rows say the same (one full-batch step: its loss is the
    # loss before the step).
    model.fit(X, y, epochs=1, batch_size=None, optimizer=xpnet.nn.optim.SGD(lr=0.1))
    assert model.history.loss[0] == pytest.approx(expect, rel=1e-12)


def test_misses_stay_exact_with_smoothed_targets(backend):
    """``rows`` counts a sample missed exactly when ε = 0 would, ties for the largest logit
    counting as hits: the smoothed ``t_i`` is no longer the label's logit."""
    xp = backend.xp
    dt = backend.float_dtype("float32")
    Z = np.array(
        [[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [3.0, 3.0, 1.0], [0.5, 0.5, 0.5], [-1.0, 7.0, 6.999], [0.0, 0.0, 1e-7]],
        np.float32,
    )
    y = np.array([0, 0, 1, 2, 2, 1])
    Zd, yd = backend.asarray(Z, "float32"), backend.asarray(y)
    misses = {}
    for eps in (0.0, 0.1, 0.9, 0.999):
        head = CrossEntropy(eps)
        _, miss, P = head.rows(Zd, head.targets(yd, 3, dt))
        misses[eps] = xpnet.to_numpy(miss)
        assert xp.all(P >= 0)
    np.testing.assert_array_equal(misses[0.0], [0, -1, 0, 0, -1, -1])
    for eps, miss in misses.items():
        np.testing.assert_array_equal(miss, misses[0.0], err_msg=str(eps))


def test_gradcheck_differentiates_the_smoothed_loss():
    X, y = _problem(m=8, n=5, k=4)
    model = xpnet.MLP([5, 6, 4], backend="numpy", dtype="float64", seed=0, label_smoothing=0.3)
    report = xpnet.gradcheck(model, X, y, max_entries=None)
    assert report.passed, str(report)


def test_gradcheck_catches_a_backprop_that_ignores_the_smoothing(monkeypatch):
    """Backprop from the one-hot targets instead of the smoothed ones: gradcheck's finite
    differences of the smoothed loss disagree, on every parameter."""
    real_backward = network.backward

    def one_hot_backward(params, cache, P, Y, activation="relu", **kwargs):
        np_ = xpnet.get_backend("numpy").xp
        hard = np_.astype(Y == np_.max(Y, axis=1, keepdims=True), Y.dtype)
        return real_backward(params, cache, P, hard, activation, **kwargs)

    monkeypatch.setattr(step, "backward", one_hot_backward)
    X, y = _problem(m=8, n=5, k=4)
    plain = xpnet.MLP([5, 6, 4], backend="numpy", dtype="float64", seed=0)
    assert xpnet.gradcheck(plain, X, y).passed  # the same bug is harmless without smoothing
    smoothed = xpnet.MLP([5, 6, 4], backend="numpy", dtype="float64", seed=0, label_smoothing=0.3)
    report = xpnet.gradcheck(smoothed, X, y)
    assert not report.passed
    assert "b2" in [p.name for p in report.parameters if not p.passed]


def test_bad_values_and_regression_heads_are_refused():
    for bad in (-0.1, 1.0, 1.5, float("nan"), "x", True):
        with pytest.raises(ConfigError, match="label_smoothing"):
            xpnet.MLP([3, 2], label_smoothing=bad)
    with pytest.raises(ConfigError, match="cross_entropy loss only, not 'squared_error'"):
        xpnet.MLP([3, 1], loss="squared_error", label_smoothing=0.1)
    assert xpnet.MLP([3, 1], loss="squared_error", label_smoothing=0.0).label_smoothing == 0.0
    assert get_loss(CrossEntropy(0.2)) == CrossEntropy(0.2) != CrossEntropy()
    assert hash(CrossEntropy(0.2)) == hash(get_loss("cross_entropy", 0.2))
    assert repr(CrossEntropy(0.2)) == "CrossEntropy(label_smoothing=0.2)"


def test_label_smoothing_is_saved_and_loaded_everywhere(tmp_path):
    X, y = _problem()
    model = xpnet.MLP([12, 8, 5], seed=1, label_smoothing=0.15)
    model.fit(X, y, epochs=1, batch_size=32)
    assert model.get_config()["label_smoothing"] == 0.15
    assert "label_smoothing=0.15" in repr(model)
    assert pickle.loads(pickle.dumps(model)).head == CrossEntropy(0.15)
    assert model.copy().label_smoothing == 0.15
    xpnet.save(model, tmp_path / "m.npz")
    loaded = xpnet.load(tmp_path / "m.npz")
    assert loaded.label_smoothing == 0.15 and loaded.evaluate(X, y) == model.evaluate(X, y)
    pytest.importorskip("safetensors")
    from xpnet.model.safetensors import save_safetensors

    save_safetensors(model, tmp_path / "m.safetensors")
    assert xpnet.load(tmp_path / "m.safetensors").label_smoothing == 0.15


def test_files_from_before_label_smoothing_load_without_it():
    for name in ("saved-model.npz", "train-model.npz"):
        assert xpnet.load(LEGACY / name).label_smoothing == 0.0
    for pkl in sorted(LEGACY.glob("mlp-*.pkl")):
        model = pickle.loads(pkl.read_bytes())  # our own fixture (tests/compat)
        assert model.label_smoothing == 0.0
        assert model.head == CrossEntropy() or not model.head.classifies


@pytest.mark.skipif(not HAVE_JAX, reason="JAX not installed")
def test_compiled_steps_are_not_shared_between_smoothings():
    """The compiled-step cache is keyed by the head with its ε: after a run with ε = 0, one with
    ε = 0.3 traces its own step, and each compiled run equals its eager one."""
    X, y = _problem(m=128)
    losses = {}
    for eps in (0.0, 0.3):
        for compile in (None, False):
            model = xpnet.MLP([12, 8, 5], backend="jax", dtype="float64", seed=2, label_smoothing=eps)
            model.fit(X, y, epochs=2, batch_size=32, compile=compile)
            losses[eps, compile] = model.history.loss
    for eps in (0.0, 0.3):
        np.testing.assert_allclose(losses[eps, None], losses[eps, False], rtol=1e-12)
    assert losses[0.3, None][0] > losses[0.0, None][0] + 0.05
