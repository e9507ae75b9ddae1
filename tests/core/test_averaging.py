"""Weight averaging (xpnet.EMA, fit(average=...)): the update rule, what reads the averaged
weights, and that a run with averaging is reproducible, resumes exactly, is the same on every
backend and compiled as eagerly, and leaves the training itself untouched."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import xpnet
from xpnet import optim
from xpnet.errors import ConfigError
from xpnet.model.mlp import Callback
from xpnet.nn import averaging as rule

from ..conftest import HAVE_JAX

needs_jax = pytest.mark.skipif(not HAVE_JAX, reason="JAX not installed")
LEGACY = Path(__file__).parents[1] / "compat" / "legacy-0.1.0"


def _data(n=250, d=16, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)), rng.integers(0, k, n)


def _fit(backend="numpy", epochs=3, average=0.9, compile=None, dtype="float64", **kwargs):
    X, y = _data()
    model = xpnet.MLP([16, 12, 4], backend=backend, dtype=dtype, seed=3)
    kwargs.setdefault("optimizer", optim.Adam(lr=1e-2))
    model.fit(X, y, epochs=epochs, batch_size=64, average=average, compile=compile, **kwargs)
    return model


def _host(params):
    return {k: np.array(xpnet.to_numpy(v), copy=True) for k, v in params.items()}


def test_the_decay_warms_up_as_tensorflows_num_updates():
    ema = xpnet.EMA(0.99)
    assert ema.decay_at(1) == 2 / 11 and ema.decay_at(10) == 11 / 20
    assert ema.decay_at(10_000) == 0.99
    assert xpnet.EMA(0.99, warmup=False).decay_at(1) == 0.99
    ema.t = 5
    assert ema.rates(2) == [1 - 7 / 16, 1 - 8 / 17]
    for bad in (0.0, 1.0, -0.5, float("nan")):
        with pytest.raises(ConfigError, match="decay"):
            xpnet.EMA(bad)
    assert rule.averaging_from_config(ema.get_config()).get_config() == ema.get_config()


def test_the_update_is_the_moving_average():
    rng = np.random.default_rng(0)
    avg, new = {"W": rng.random((3, 2))}, {"W": rng.random((3, 2))}
    expected = 0.9 * avg["W"] + 0.1 * new["W"]
    rule.update(avg, new, 0.1)
    np.testing.assert_allclose(avg["W"], expected, rtol=1e-15)


class _HandAverage(Callback):
    """The EMA of the weights after every step, kept by hand in float64 NumPy."""

    def __init__(self, decay):
        self.ema, self.avg = xpnet.EMA(decay), None

    def on_train_begin(self, model, epochs, n_batches):
        self.avg = _host(model.params)

    def on_batch_end(self, model, epoch, batch, n_batches):
        self.ema.t += 1
        d = self.ema.decay_at(self.ema.t)
        for k, v in _host(model.params).items():
            self.avg[k] = self.avg[k] + (1 - d) * (v - self.avg[k])


def test_averaging_changes_nothing_but_the_averaged_weights():
    """θ and the optimizer's state are bit for bit those of a run without averaging; θ̄ is
    the EMA of θ over the steps, as computed by hand."""
    hand = _HandAverage(0.9)
    plain = _fit(average=None, callbacks=[hand])
    averaged = _fit(average=xpnet.EMA(0.9))
    for k, v in plain.numpy_params().items():
        assert np.array_equal(averaged.numpy_params()[k], v)
        np.testing.assert_allclose(averaged.numpy_params(averaged=True)[k], hand.avg[k], rtol=0, atol=1e-14)
    for k, v in plain.optimizer.state_arrays().items():
        assert np.array_equal(xpnet.to_numpy(averaged.optimizer.state_arrays()[k]), xpnet.to_numpy(v))
    assert averaged.averaging.t == averaged.optimizer.t == 12
    assert plain.averaging is None and plain.averaged_params is None


def test_predict_evaluate_and_validation_use_the_averaged_weights():
    X, y = _data()
    model = _fit(validation_data=(X, y))
    raw = model.copy()
    raw.averaging = raw.averaged_params = None
    avg = model.copy()
    avg.set_params(model.averaged_params)  # a plain model holding θ̄
    assert not np.array_equal(model.predict_proba(X), raw.predict_proba(X))
    np.testing.assert_array_equal(model.predict_proba(X), avg.predict_proba(X))
    np.testing.assert_array_equal(model.predict(X), avg.predict(X))
    assert model.evaluate(X, y) == avg.evaluate(X, y)
    assert model.history.val_loss[-1] == avg.evaluate(X, y)["loss"]
    for k, v in avg.numpy_params().items():
        assert np.array_equal(model.numpy_params(averaged=True)[k], v)


def test_the_average_continues_restarts_or_stops():
    X, y = _data()
    ema = xpnet.EMA(0.9)
    model = _fit(epochs=1, average=ema)
    model.fit(X, y, epochs=1, batch_size=64)  # average=None: the model's own, continued
    assert model.averaging is ema and ema.t == model.optimizer.t == 8
    model.fit(X, y, epochs=1, batch_size=64, average=ema)  # the same object: continued
    assert ema.t == 12
    model.fit(X, y, epochs=1, batch_size=64, average=0.95)  # a new one: from the current θ
    assert model.averaging.decay == 0.95 and model.averaging.t == 4
    model.fit(X, y, epochs=1, batch_size=64, average=False)
    assert model.averaging is None and model.averaged_params is None
    model.averaging = xpnet.EMA(0.5)  # set on the model (as `xpnet train --ema` does): starts at the next fit
    model.fit(X, y, epochs=1, batch_size=64)
    assert model.averaging.t == 4 and model.averaged_params is not None
    model.set_params(model.numpy_params())  # explicit weights: the average is dropped
    assert model.averaged_params is None
    with pytest.raises(TypeError, match="average must be"):
        model.fit(X, y, epochs=1, average="ema")


def test_seeded_runs_are_reproducible():
    a, b = _fit(dtype="float32"), _fit(dtype="float32")
    for k, v in a.numpy_params(averaged=True).items():
        assert np.array_equal(b.numpy_params(averaged=True)[k], v)


def _state(model):
    out = {f"param.{k}": v for k, v in model.numpy_params().items()}
    out.update({f"avg.{k}": v for k, v in model.numpy_params(averaged=True).items()})
    out.update({f"opt.{k}": xpnet.to_numpy(v) for k, v in model.optimizer.state_arrays().items()})
    return out


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_a_run_resumed_from_a_checkpoint_or_a_pickle_equals_an_uninterrupted_one(tmp_path, schedule):
    """2 + 2 epochs through a checkpoint (and through a pickle) = 4 epochs, bit for bit:
    weights, averaged weights, optimizer state and counts."""
    X, y = _data()
    whole = _fit(epochs=4, dtype="float32", optimizer=optim.Adam(lr=1e-2, schedule=optim.Cosine(epochs=4)))
    half = _fit(epochs=2, dtype="float32", optimizer=optim.Adam(lr=1e-2, schedule=optim.Cosine(epochs=4)))
    path = xpnet.save(half, tmp_path / "half.npz")
    assert xpnet.load_checkpoint(path).manifest["averaging"] == {
        "config": {"name": "ema", "decay": 0.9, "warmup": True},
        "step": 8,
    }
    for resumed in (xpnet.load(path), pickle.loads(pickle.dumps(half))):
        resumed.fit(X, y, epochs=2, batch_size=64)
        assert resumed.averaging.t == whole.averaging.t == 16
        got, want = _state(resumed), _state(whole)
        assert got.keys() == want.keys()
        for k, v in want.items():
            assert np.array_equal(got[k], v), k


def test_early_stopping_restores_the_best_averaged_weights():
    X, y = _data()
    best = {}

    class Keep(Callback):
        def on_epoch_end(self, model, epoch, logs):
            if not best or logs["val_loss"] < best["loss"]:
                best.update(loss=logs["val_loss"], avg=model.numpy_params(averaged=True))

    stop = xpnet.EarlyStopping(patience=2, restore_best_weights=True)
    model = _fit(epochs=12, optimizer=optim.SGD(lr=2.0), validation_data=(X, y), callbacks=[Keep(), stop])
    for k, v in best["avg"].items():
        assert np.array_equal(model.numpy_params(averaged=True)[k], v)
    assert model.evaluate(X, y)["loss"] == best["loss"]


def test_cross_backend_equality(backend):
    """The same seeded run on every backend: θ̄ the same to float64 rounding."""
    if backend.name == "jax" and not HAVE_JAX:
        pytest.skip("JAX not installed")
    reference = _fit()
    model = _fit(backend=backend)
    for k, v in reference.numpy_params(averaged=True).items():
        np.testing.assert_allclose(model.numpy_params(averaged=True)[k], v, rtol=0, atol=1e-12)
    X, _ = _data()
    np.testing.assert_array_equal(xpnet.to_numpy(model.predict(X)), reference.predict(X))


@needs_jax
@pytest.mark.parametrize("warmup", [True, False])
def test_compiled_and_eager_agree(warmup):
    """The average is updated inside the compiled (scanned) steps, 1 − d_t a traced
    coefficient: within 1e-10 of the eager loop in float64, and one compiled function serves
    new decays."""
    X, y = _data()
    runs = {}
    for compile in (False, None):
        runs[compile] = _fit(
            backend="jax",
            compile=compile,
            average=xpnet.EMA(0.8, warmup=warmup),
            optimizer=optim.Adam(lr=1e-2, schedule="cosine"),
            validation_data=(X, y),
        )
    eager, compiled = runs[False], runs[None]
    for which in (False, True):
        for k, v in eager.numpy_params(averaged=which).items():
            np.testing.assert_allclose(compiled.numpy_params(averaged=which)[k], v, rtol=0, atol=1e-10)
    np.testing.assert_allclose(compiled.history.val_loss, eager.history.val_loss, rtol=0, atol=1e-10)
    assert compiled.averaging.t == eager.averaging.t == 12


def test_checkpoints_and_pickles_without_averaging_load_with_none(tmp_path):
    for model in (xpnet.load(LEGACY / "saved-model.npz"), xpnet.load(LEGACY / "train-model.npz")):
        assert model.averaging is None and model.averaged_params is None
    if int(np.__version__.split(".")[0]) >= 2:
        model = pickle.loads((LEGACY / "mlp-adam.pkl").read_bytes())  # our own fixture
        assert model.averaging is None and model.averaged_params is None
        X, y = _data(d=model.sizes[0], k=model.sizes[-1])
        before = model.optimizer.t
        model.fit(X, y, epochs=1, batch_size=16, average=0.9)  # and can start averaging
        assert model.averaging.t == model.optimizer.t - before == 16
    plain = _fit(average=None)
    path = xpnet.save(plain, tmp_path / "plain.npz")
    assert "averaging" not in xpnet.load_checkpoint(path).manifest
    with np.load(path) as archive:
        assert not [k for k in archive.files if k.startswith("avg.")]


def test_exports_use_the_averaged_weights(tmp_path):
    pytest.importorskip("safetensors")
    model = _fit()
    path = tmp_path / "m.safetensors"
    xpnet.export(model, path)
    exported = xpnet.load(path)
    for k, v in model.numpy_params(averaged=True).items():
        assert np.array_equal(exported.numpy_params()[k], v)
