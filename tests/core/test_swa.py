"""Stochastic weight averaging (xpnet.SWA, fit(average=xpnet.SWA(start_epoch))): the mean of
the weights at the ends of the epochs from start_epoch on, what reads it, and that a run with
it is the same eagerly and compiled, on every backend, and through a checkpoint or a pickle."""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest

import xpnet
from xpnet import optim
from xpnet.errors import ConfigError
from xpnet.model.mlp import Callback
from xpnet.nn import averaging as rule
from xpnet.runs.config import TrainConfig

from ..conftest import HAVE_JAX

needs_jax = pytest.mark.skipif(not HAVE_JAX, reason="JAX not installed")
LEGACY = Path(__file__).parents[1] / "compat" / "legacy-0.1.0"


def _data(n=250, d=16, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)), rng.integers(0, k, n)


def _fit(backend="numpy", epochs=5, start=2, compile=None, dtype="float64", **kwargs):
    X, y = _data()
    model = xpnet.MLP([16, 12, 4], backend=backend, dtype=dtype, seed=3)
    kwargs.setdefault("optimizer", optim.Adam(lr=1e-2))
    average = xpnet.SWA(start_epoch=start) if isinstance(start, int) else start
    model.fit(X, y, epochs=epochs, batch_size=64, average=average, compile=compile, **kwargs)
    return model


def _host(params):
    return {k: np.array(xpnet.to_numpy(v), copy=True) for k, v in params.items()}


class _EpochWeights(Callback):
    """θ at the end of every epoch, and what the model infers with then."""

    def __init__(self):
        self.raw, self.used = [], []

    def on_epoch_end(self, model, epoch, logs):
        self.raw.append(_host(model.params))
        self.used.append(model.numpy_params(averaged=True))


def test_settings_and_errors():
    swa = xpnet.SWA(start_epoch=3)
    assert swa.get_config() == {"name": "swa", "start_epoch": 3} and swa.t == 0
    assert not swa.averages(2) and swa.averages(3)
    back = rule.averaging_from_config(swa.get_config())
    assert isinstance(back, xpnet.SWA) and back.start_epoch == 3
    assert xpnet.SWA().start_epoch == 0 and repr(swa) == "SWA(start_epoch=3)"
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(ConfigError, match="start_epoch"):
            xpnet.SWA(bad)
    with pytest.raises(ConfigError, match="'ema' and 'swa'"):
        rule.averaging_from_config({"name": "polyak"})


def test_the_running_mean_is_the_mean_of_the_epochs_weights_and_training_is_untouched():
    """θ̄ = the mean of θ at the ends of epochs 3, 4, 5 (to 1e-12 in float64); θ and the
    optimizer's state are bit for bit those of a run without averaging; before epoch 3 ends
    inference uses θ."""
    seen = _EpochWeights()
    plain = _fit(start=None, callbacks=[seen])
    model = _fit(start=2, callbacks=[averaged := _EpochWeights()])
    assert model.averaging.t == 3
    for k in plain.params:
        assert np.array_equal(model.numpy_params()[k], plain.numpy_params()[k])
        mean = np.mean([w[k] for w in seen.raw[2:]], axis=0)
        np.testing.assert_allclose(model.numpy_params(averaged=True)[k], mean, rtol=0, atol=1e-12)
        for e in (0, 1):  # no average yet: the raw weights
            assert np.array_equal(averaged.used[e][k], seen.raw[e][k])
        assert np.array_equal(averaged.used[2][k], seen.raw[2][k])  # the first average: θ itself
        np.testing.assert_allclose(averaged.used[3][k], (seen.raw[2][k] + seen.raw[3][k]) / 2, rtol=0, atol=1e-14)
    for k, v in plain.optimizer.state_arrays().items():
        assert np.array_equal(xpnet.to_numpy(model.optimizer.state_arrays()[k]), xpnet.to_numpy(v))


def test_the_model_reads_out_nothing_averaged_before_the_start():
    X, y = _data()
    model = xpnet.MLP([16, 12, 4], dtype="float64", seed=3)
    epochs = model.fit_epochs(X, y, epochs=3, batch_size=64, average=xpnet.SWA(start_epoch=2))
    next(epochs)
    next(epochs)
    assert model.averaged_params is None and model.averaging.t == 0
    next(epochs)
    assert model.averaging.t == 1 and model.averaged_params is not None


def test_predict_evaluate_validation_and_exports_use_the_average(tmp_path):
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
    assert model.history.val_loss[-1] == avg.evaluate(X, y)["loss"]  # validated after the update
    if importlib.util.find_spec("safetensors") is not None:
        path = tmp_path / "m.safetensors"
        xpnet.export(model, path)
        for k, v in model.numpy_params(averaged=True).items():
            assert np.array_equal(xpnet.load(path).numpy_params()[k], v)


def _state(model):
    out = {f"param.{k}": v for k, v in model.numpy_params().items()}
    if model.averaged_params is not None:
        out.update({f"avg.{k}": v for k, v in model.numpy_params(averaged=True).items()})
    out.update({f"opt.{k}": xpnet.to_numpy(v) for k, v in model.optimizer.state_arrays().items()})
    return out


@pytest.mark.parametrize("start", [1, 3])
def test_a_run_resumed_from_a_checkpoint_or_a_pickle_equals_an_uninterrupted_one(tmp_path, start):
    """2 + 2 epochs through a checkpoint (and a pickle) = 4 epochs, bit for bit: θ, θ̄, n and
    the optimizer's state; start 3: saved before the first averaged epoch, with no θ̄ yet."""
    X, y = _data()
    whole = _fit(epochs=4, start=start, dtype="float32")
    half = _fit(epochs=2, start=start, dtype="float32")
    path = xpnet.save(half, tmp_path / "half.npz")
    n_half = max(0, 2 - start)
    assert xpnet.load_checkpoint(path).manifest["averaging"] == {
        "config": {"name": "swa", "start_epoch": start},
        "step": n_half,
    }
    with np.load(path) as archive:
        assert bool([k for k in archive.files if k.startswith("avg.")]) == (n_half > 0)
    for resumed in (xpnet.load(path), pickle.loads(pickle.dumps(half))):
        assert isinstance(resumed.averaging, xpnet.SWA) and resumed.averaging.t == n_half
        resumed.fit(X, y, epochs=2, batch_size=64)
        assert resumed.averaging.t == whole.averaging.t == 4 - start
        got, want = _state(resumed), _state(whole)
        assert got.keys() == want.keys()
        for k, v in want.items():
            assert np.array_equal(got[k], v), k


def test_cross_backend_equality(backend):
    """The same seeded run on every backend: θ̄ the same to float64 rounding."""
    if backend.name == "jax" and not HAVE_JAX:
        pytest.skip("JAX not installed")
    reference = _fit()
    model = _fit(backend=backend)
    assert model.averaging.t == 3
    for k, v in reference.numpy_params(averaged=True).items():
        np.testing.assert_allclose(model.numpy_params(averaged=True)[k], v, rtol=0, atol=1e-12)
    X, _ = _data()
    np.testing.assert_array_equal(xpnet.to_numpy(model.predict(X)), reference.predict(X))


@needs_jax
def test_compiled_and_eager_agree():
    """The compiled steps know nothing of SWA: the mean is taken eagerly after each epoch."""
    X, y = _data()
    eager, compiled = (_fit(backend="jax", compile=c, validation_data=(X, y)) for c in (False, None))
    for which in (False, True):
        for k, v in eager.numpy_params(averaged=which).items():
            np.testing.assert_allclose(compiled.numpy_params(averaged=which)[k], v, rtol=0, atol=1e-10)
    np.testing.assert_allclose(compiled.history.val_loss, eager.history.val_loss, rtol=0, atol=1e-10)
    assert compiled.averaging.t == eager.averaging.t == 3


def test_early_stopping_restores_what_was_scored():
    X, y = _data()
    stop = xpnet.EarlyStopping(patience=1, restore_best_weights=True)
    model = _fit(epochs=12, start=1, optimizer=optim.SGD(lr=2.0), validation_data=(X, y), callbacks=[stop])
    assert model.evaluate(X, y)["loss"] == min(model.history.val_loss)


def test_an_old_checkpoint_loads_and_can_start_averaging():
    model = xpnet.load(LEGACY / "train-model.npz")
    assert model.averaging is None and model.averaged_params is None
    X, y = _data(d=model.sizes[0], k=model.sizes[-1])
    epoch = model.epoch
    model.fit(X, y, epochs=2, batch_size=64, average=xpnet.SWA(start_epoch=epoch + 1))
    assert model.averaging.t == 1
    for k, v in model.numpy_params().items():
        assert np.array_equal(model.numpy_params(averaged=True)[k], v)  # one epoch averaged: θ


def test_train_config():
    config = TrainConfig(epochs=10, swa_epochs=3)
    swa = config.make_averaging()
    assert isinstance(swa, xpnet.SWA) and swa.start_epoch == 7
    assert isinstance(config.make_model(n_inputs=4, n_classes=2).averaging, xpnet.SWA)
    assert "SWA of the last 3 epochs" in config.describe_optimizer()
    assert TrainConfig.from_dict({"epochs": 4}).make_averaging() is None  # recorded before SWA
    for bad in (TrainConfig(epochs=3, swa_epochs=4), TrainConfig(swa_epochs=0), TrainConfig(ema=0.9, swa_epochs=2)):
        with pytest.raises(ConfigError, match="swa-epochs"):
            bad.make_averaging()
