"""Dropout: the rates, the on-device masks, and training with them on every backend.

The gradients of a dropout network are checked against finite differences (with fixed masks)
in tests/core/test_core_gradients.py, where the hypothesis problems draw the rates.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import xpnet
from tests.conftest import native
from xpnet import dropout, network
from xpnet.errors import ConfigError


def _data(n=240, n0=12, k=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    centres = rng.normal(0, 2, (k, n0))
    return (centres[y] + rng.normal(0, 1, (n, n0))).astype(np.float32), y


# -- rates -------------------------------------------------------------------------------------
def test_one_rate_or_one_per_hidden_layer():
    assert xpnet.MLP([4, 8, 6, 3], dropout=0.25).dropout == (0.25, 0.25)
    assert xpnet.MLP([4, 8, 6, 3], dropout=[0.5, 0.0]).dropout == (0.5, 0.0)
    assert xpnet.MLP([4, 3]).dropout == ()  # no hidden layer, nothing to drop
    assert xpnet.MLP([4, 8, 3]).dropout == (0.0,)


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        (1.0, r"in \[0, 1\)"),
        (-0.1, r"in \[0, 1\)"),
        ([0.5], "lists 1 rates, but the network has 2 hidden layer"),
        ("half", "a rate in"),
        (object(), "a rate in"),
    ],
)
def test_bad_rates_are_refused_with_the_fix(rate, message):
    with pytest.raises(ConfigError, match=message):
        xpnet.MLP([4, 8, 6, 3], dropout=rate)


# -- masks -------------------------------------------------------------------------------------
def _host_masks(widths, m, rates, seed=0, epoch=0, n_batches=1, batch=0):
    keys = dropout.epoch_keys(np.random.default_rng((seed, epoch, dropout.KEY_STREAM)), n_batches, len(rates))
    return dropout.batch_masks(np, widths, m, np.float64, "cpu", keys[batch].tolist(), rates)


def test_masks_are_the_same_bits_on_every_backend(backend):
    keys = dropout.epoch_keys(np.random.default_rng((3, 1, dropout.KEY_STREAM)), 2, 2)[1].tolist()
    rates = (0.3, 0.6)
    dtype = backend.float_dtype("float32")
    on_backend = dropout.batch_masks(backend.xp, [50, 20], 33, dtype, backend.device, keys, rates)
    on_host = dropout.batch_masks(np, [50, 20], 33, np.float32, "cpu", keys, rates)
    for got, expected in zip(on_backend, on_host):
        assert got.device == backend.device
        np.testing.assert_array_equal(backend.to_numpy(got), expected)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_masks_keep_a_fraction_one_minus_p_scaled_by_its_inverse(rate):
    (mask,) = _host_masks([1000], 400, (rate,))
    keep = 1.0 - rate
    np.testing.assert_array_equal(np.unique(mask), [0.0, 1.0 / keep])
    # 400,000 independent Bernoulli(1 − p) draws: the kept fraction is within 5 standard
    # deviations of 1 − p (a false alarm once in about 3.5 million runs).
    sd = math.sqrt(keep * (1 - keep) / mask.size)
    assert abs((mask > 0).mean() - dropout.expected_keep_fraction(rate)) < 5 * sd
    # No structure along rows or columns: neighbouring units and samples are uncorrelated.
    kept = (mask > 0).astype(float)
    for a, b in ((kept[:, :-1], kept[:, 1:]), (kept[:-1], kept[1:])):
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 5 / math.sqrt(a.size)


def test_every_batch_and_layer_gets_its_own_mask():
    first, second = _host_masks([64, 64], 32, (0.5, 0.5), n_batches=2, batch=0)
    other_batch = _host_masks([64, 64], 32, (0.5, 0.5), n_batches=2, batch=1)[0]
    other_epoch = _host_masks([64, 64], 32, (0.5, 0.5), epoch=1)[0]
    for a, b in ((first, second), (first, other_batch), (first, other_epoch)):
        agree = ((a > 0) == (b > 0)).mean()
        assert 0.4 < agree < 0.6  # independent halves agree about half the time


def test_forward_multiplies_the_hidden_outputs_by_the_masks():
    rng = np.random.default_rng(0)
    model = xpnet.MLP([5, 7, 6, 3], dtype="float64", seed=0, activation="tanh")
    params = model.numpy_params()
    X = rng.standard_normal((4, 5))
    masks = _host_masks([7, 6], 4, (0.5, 0.25))
    Z, (inputs, preacts, kept_masks, outputs) = network.forward(params, X, "tanh", masks)
    A1 = np.tanh(X @ params["W1"].T + params["b1"]) * masks[0]
    A2 = np.tanh(A1 @ params["W2"].T + params["b2"]) * masks[1]
    np.testing.assert_allclose(Z, A2 @ params["W3"].T + params["b3"], rtol=1e-12)
    np.testing.assert_allclose(inputs[1], A1, rtol=1e-12)
    np.testing.assert_allclose(outputs[0], np.tanh(preacts[0]), rtol=1e-12)
    assert kept_masks is masks


# -- training ----------------------------------------------------------------------------------
def test_rate_zero_trains_exactly_as_without_dropout():
    X, y = _data()
    plain = xpnet.MLP([12, 16, 4], seed=2)
    zero = xpnet.MLP([12, 16, 4], seed=2, dropout=0.0)
    plain.fit(X, y, epochs=2, batch_size=32)
    zero.fit(X, y, epochs=2, batch_size=32)
    for name, w in plain.numpy_params().items():
        np.testing.assert_array_equal(zero.numpy_params()[name], w, err_msg=name)


def test_dropout_changes_training_and_inference_never_drops(backend, as_input):
    X, y = _data()
    plain = xpnet.MLP([12, 32, 4], seed=2, backend=backend)
    dropped = xpnet.MLP([12, 32, 4], seed=2, backend=backend, dropout=0.5)
    fit = dict(epochs=8, batch_size=32, optimizer=xpnet.nn.optim.Adam(lr=1e-2))
    plain.fit(as_input(X), as_input(y), **fit)
    history = dropped.fit(as_input(X), as_input(y), **{**fit, "optimizer": xpnet.nn.optim.Adam(lr=1e-2)})
    assert history.loss[-1] != plain.history.loss[-1]
    # Inference uses the whole network: the same logits twice, and those of forward without masks.
    first = backend.to_numpy(dropped.decision_function(as_input(X)))
    np.testing.assert_array_equal(backend.to_numpy(dropped.decision_function(as_input(X))), first)
    Z, _ = network.forward(dropped.numpy_params(), X.astype(np.float32), "relu")
    np.testing.assert_allclose(first, Z, rtol=1e-4, atol=1e-4)
    assert dropped.score(as_input(X), as_input(y)) > 0.9  # the blobs are well apart


def test_dropout_training_is_the_same_on_every_backend(backend):
    """The masks are the same bits everywhere, so the weights after training agree to float64
    rounding (not only statistically)."""
    X, y = _data()
    kwargs = dict(seed=4, dropout=[0.5, 0.2], dtype="float64")
    reference = xpnet.MLP([12, 16, 8, 4], backend="numpy", **kwargs)
    reference.fit(X, y, epochs=2, batch_size=32)
    model = xpnet.MLP([12, 16, 8, 4], backend=backend, **kwargs)
    model.fit(native(backend, X), native(backend, y), epochs=2, batch_size=32)
    for name, w in reference.numpy_params().items():
        np.testing.assert_allclose(model.numpy_params()[name], w, rtol=1e-10, atol=1e-12, err_msg=name)


def test_an_interrupted_dropout_run_resumes_bit_for_bit(backend, tmp_path):
    X, y = _data()

    def fresh():
        return xpnet.MLP([12, 16, 4], backend=backend, seed=1, dropout=0.4)

    straight = fresh()
    straight.fit(X, y, epochs=3, batch_size=32, optimizer=xpnet.nn.optim.Adam(lr=1e-2))

    class StopAt(xpnet.Callback):
        def on_batch_end(self, m, epoch, batch, n_batches):
            if (epoch, batch) == (1, 2):
                m.stop_training = True

    cut = fresh()
    cut.fit(X, y, epochs=3, batch_size=32, optimizer=xpnet.nn.optim.Adam(lr=1e-2), callbacks=[StopAt()])
    assert cut.history.interrupted and cut.epoch == 1
    resumed = xpnet.load(xpnet.save(cut, tmp_path / "cut.npz"), backend=backend)
    assert resumed.dropout == (0.4,)
    resumed.fit(X, y, epochs=3 - resumed.epoch, batch_size=32)
    assert resumed.epoch == 3
    for name, w in straight.numpy_params().items():
        np.testing.assert_array_equal(resumed.numpy_params()[name], w, err_msg=name)


def test_the_checkpoint_records_the_rates_and_older_files_load_without(tmp_path):
    model = xpnet.MLP([6, 5, 4, 3], dropout=[0.3, 0.1])
    path = xpnet.save(model, tmp_path / "m.npz")
    assert xpnet.load(path).dropout == (0.3, 0.1)
    assert xpnet.load(path).get_config()["dropout"] == [0.3, 0.1]
    import pickle

    state = model.__getstate__()
    del state["dropout"]  # a model pickled before there was dropout
    older = xpnet.MLP.__new__(xpnet.MLP)
    older.__setstate__(state)
    assert older.dropout == (0.0, 0.0)
    assert pickle.loads(pickle.dumps(model)).dropout == (0.3, 0.1)
    assert "dropout=[0.3, 0.1]" in repr(model)


def test_jax_compiled_dropout_steps_equal_the_eager_ones():
    pytest.importorskip("jax")
    X, y = _data()
    runs = {}
    for compile in (False, True):
        model = xpnet.MLP([12, 16, 8, 4], backend="jax", seed=3, dropout=[0.5, 0.25], dtype="float64")
        model.fit(X, y, epochs=2, batch_size=32, compile=compile)
        runs[compile] = model.numpy_params()
    for name, w in runs[False].items():
        np.testing.assert_allclose(runs[True][name], w, rtol=1e-10, atol=1e-12, err_msg=name)


def test_gradcheck_fixes_the_masks_of_a_dropout_model(backend):
    rng = np.random.default_rng(1)
    model = xpnet.MLP([6, 9, 7, 3], backend=backend, dropout=[0.5, 0.3], activation="sigmoid", seed=0)
    report = xpnet.gradcheck(model, rng.standard_normal((5, 6)), rng.integers(0, 3, 5))
    assert report.passed, str(report)
