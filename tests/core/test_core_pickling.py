"""pickle, copy.deepcopy and joblib round trips of models (fitted or not, with optimizer state)
and backends, and unpickling a GPU model where there is no GPU."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import numpy as np
import pytest

import xpnet
from tests.conftest import HAVE_GPU, assert_close_by_bound, native, proba_error_bound
from xpnet import optim
from xpnet.backend import BackendUnavailable, get_backend, unpickle_on

joblib = pytest.importorskip("joblib")


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 2, size=(3, 6))
    y = rng.integers(0, 3, n)
    return (centers[y] + rng.normal(0, 1, size=(n, 6))).astype(np.float32), y


def _pickle(model):
    return pickle.loads(pickle.dumps(model))


def _joblib(model, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    return joblib.load(path)


ROUND_TRIPS = ["pickle", "deepcopy", "joblib"]


def _round_trip(how, model, tmp_path):
    if how == "pickle":
        return _pickle(model)
    if how == "deepcopy":
        return copy.deepcopy(model)
    return _joblib(model, tmp_path)


@pytest.mark.parametrize("how", ROUND_TRIPS)
@pytest.mark.parametrize("opt", ["sgd-momentum", "adam"])
def test_round_trip_predicts_identically_and_continues_training_bit_identically(backend, how, opt, tmp_path):
    X, y = _data()
    make_opt = {
        "sgd-momentum": lambda: optim.SGD(lr=0.05, momentum=0.9, schedule=optim.Cosine(epochs=3)),
        "adam": lambda: optim.Adam(lr=1e-2),
    }[opt]
    straight = xpnet.MLP([6, 8, 3], backend=backend, seed=4)
    straight.fit(X, y, epochs=3, batch_size=16, optimizer=make_opt())

    model = xpnet.MLP([6, 8, 3], backend=backend, seed=4)
    model.fit(X, y, epochs=1, batch_size=16, optimizer=make_opt())
    before = xpnet.to_numpy(model.predict_proba(X))
    clone = _round_trip(how, model, tmp_path)
    assert clone.backend == model.backend and clone.backend.spec == backend.spec
    assert type(clone.params["W1"]) is type(model.params["W1"])
    np.testing.assert_array_equal(xpnet.to_numpy(clone.predict_proba(native(backend, X))), before)
    assert clone.optimizer.t == model.optimizer.t and clone.epoch == 1
    assert clone.optimizer is not model.optimizer
    for k, a in model.optimizer.state_arrays().items():
        np.testing.assert_array_equal(xpnet.to_numpy(clone.optimizer.state_arrays()[k]), xpnet.to_numpy(a))
    clone.fit(X, y, epochs=2, batch_size=16)  # continues with the unpickled optimizer state
    assert clone.epoch == 3 and len(clone.history) == 3
    for k, w in straight.numpy_params().items():
        np.testing.assert_array_equal(clone.numpy_params()[k], w, err_msg=k)
    # The original is untouched by the clone's training.
    np.testing.assert_array_equal(xpnet.to_numpy(model.predict_proba(X)), before)


@pytest.mark.parametrize("how", ROUND_TRIPS)
def test_unfitted_model_round_trips(backend, how, tmp_path):
    model = xpnet.MLP([4, 5, 2], backend=backend, dtype="float64", seed=1)
    clone = _round_trip(how, model, tmp_path)
    assert clone.optimizer is None and clone.epoch == 0 and clone.dtype == model.dtype
    for k, w in model.numpy_params().items():
        np.testing.assert_array_equal(clone.numpy_params()[k], w)
    assert repr(clone) == repr(model)


def test_backend_pickles_by_its_spec(backend):
    data = pickle.dumps(backend)
    assert b"array_api_compat" not in data or backend.name != "numpy"
    assert pickle.loads(data) == backend
    assert copy.deepcopy(backend) == backend


def test_unpickle_on_moves_a_model_explicitly(tmp_path, monkeypatch):
    X, y = _data()
    model = xpnet.MLP([6, 8, 3], backend="array_api_strict:device1", seed=0)
    model.fit(X, y, epochs=1, batch_size=16)
    data = pickle.dumps(model)
    with unpickle_on("cpu"):
        on_cpu = pickle.loads(data)
    assert on_cpu.backend.name == "numpy"
    _, bound = proba_error_bound(on_cpu.params, X, np.float32, on_cpu.activation)  # two libraries
    assert_close_by_bound(on_cpu.predict_proba(X), xpnet.to_numpy(model.predict_proba(X)), 2 * bound)
    assert pickle.loads(data).backend.spec == "array_api_strict:device1"  # the context has ended
    monkeypatch.setenv("XPNET_UNPICKLE_BACKEND", "numpy")
    assert pickle.loads(data).backend.name == "numpy"


@pytest.mark.skipif(HAVE_GPU, reason="needs a machine without a usable CUDA GPU")
def test_gpu_model_unpickled_without_a_gpu_says_so_and_how_to_load_on_cpu():
    model = xpnet.MLP([4, 5, 2], backend="numpy", seed=0)
    model.fit(np.zeros((4, 4), np.float32), [0, 1, 0, 1], epochs=1)
    # What a model pickled on CuPy stores: NumPy arrays and the spec "cupy:0".
    model.backend = dataclasses.replace(model.backend, spec="cupy:0")
    data = pickle.dumps(model)
    with pytest.raises(BackendUnavailable) as direct:
        get_backend("cupy:0")
    with pytest.raises(BackendUnavailable) as unpickled:
        pickle.loads(data)
    message = str(unpickled.value)
    assert message.startswith(str(direct.value))
    assert "unpickle_on('cpu')" in message and "XPNET_UNPICKLE_BACKEND=cpu" in message
    with unpickle_on("cpu"):
        restored = pickle.loads(data)
    assert restored.backend.name == "numpy" and restored.optimizer.t == 1
