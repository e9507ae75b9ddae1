"""Every public entry point with NumPy arrays, Python lists and arrays native to the backend.

``as_input`` (tests/conftest.py) turns the NumPy test data into each of the three kinds; on
``array_api_strict:device1`` a native array lives on a non-default device, so any hidden
conversion through NumPy or any array created without ``device=`` fails there.
"""

from __future__ import annotations

import copy

import numpy as np

import xpnet
from tests.conftest import assert_close_by_bound, native, proba_error_bound
from xpnet import optim


def _data(n=48, n_features=5, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(n_classes, n_features))
    y = rng.integers(0, n_classes, n)
    X = (centers[y] + rng.normal(0, 1, size=(n, n_features))).astype(np.float32)
    return X, y, rng.random(n).astype(np.float32) + 0.5


def _host(a):
    return xpnet.to_numpy(a)


def _same_namespace(model, a):
    assert type(a) is type(model.params["W1"]), type(a)
    assert model.backend.is_native(a)


def test_every_entry_point_accepts_every_input_kind(backend, as_input):
    """Each input kind against the same model fed NumPy arrays on the same backend: the same
    numbers reach the same kernels, so every result is the same bit for bit. (A reference on
    another backend would differ by rounding that grows chaotically over the training steps,
    with no useful bound; how backends differ at equal weights is tested with rounding bounds
    in test_copy_to_save_and_load_keep_native_inputs_working and test_error_bounds.py.)"""
    X, y, w = _data()
    ref = xpnet.MLP([5, 8, 3], backend=backend, seed=0)
    model = xpnet.MLP([5, 8, 3], backend=backend, seed=0)
    kwargs = dict(epochs=2, batch_size=16)
    ref.fit(X, y, validation_data=(X[:8], y[:8], w[:8]), sample_weight=w, optimizer=optim.Adam(lr=1e-2), **kwargs)
    model.fit(
        as_input(X),
        as_input(y),
        validation_data=(as_input(X[:8]), as_input(y[:8]), as_input(w[:8])),
        sample_weight=as_input(w),
        optimizer=optim.Adam(lr=1e-2),
        **kwargs,
    )
    np.testing.assert_array_equal(model.history.loss, ref.history.loss)
    np.testing.assert_array_equal(model.history.val_loss, ref.history.val_loss)

    Xi, yi, wi = as_input(X), as_input(y), as_input(w)
    for method in ("predict", "predict_proba", "decision_function"):
        out = getattr(model, method)(Xi)
        _same_namespace(model, out)
        np.testing.assert_array_equal(_host(out), _host(getattr(ref, method)(X)))
    assert model.score(Xi, yi) == ref.score(X, y)
    assert model.score(Xi, yi, sample_weight=wi) == ref.score(X, y, sample_weight=w)
    assert model.evaluate(Xi, yi)["loss"] == ref.evaluate(X, y)["loss"]
    assert model.loss(Xi, yi, sample_weight=wi) == ref.loss(X, y, sample_weight=w)
    grads = model.gradients(Xi, yi, sample_weight=wi)
    for name, g in grads.items():
        _same_namespace(model, g)
        np.testing.assert_array_equal(_host(g), _host(ref.gradients(X, y, sample_weight=w)[name]))
    report = xpnet.gradcheck(model, as_input(X[:6]), as_input(y[:6]), max_entries=6, sample_weight=as_input(w[:6]))
    assert report.passed, str(report)


def test_copy_to_save_and_load_keep_native_inputs_working(backend, as_input, tmp_path):
    X, y, w = _data()
    model = xpnet.MLP([5, 8, 3], backend=backend, seed=0)
    model.fit(as_input(X), as_input(y), epochs=1, batch_size=16, sample_weight=as_input(w))
    expected = _host(model.predict_proba(as_input(X)))

    # A copy, a deep copy and a save/load on the same backend compute the same products of the
    # same numbers with the same kernels: bit for bit.
    clone = model.copy()
    _same_namespace(clone, clone.predict_proba(as_input(X)))
    np.testing.assert_array_equal(_host(clone.predict_proba(as_input(X))), expected)

    deep = copy.deepcopy(model)
    np.testing.assert_array_equal(_host(deep.predict_proba(as_input(X))), expected)

    path = xpnet.save(model, tmp_path / "m.npz")
    loaded = xpnet.load(path, backend=backend)
    np.testing.assert_array_equal(_host(loaded.predict_proba(as_input(X))), expected)
    loaded.fit(as_input(X), as_input(y), epochs=1, batch_size=16, sample_weight=as_input(w))
    model.fit(as_input(X), as_input(y), epochs=1, batch_size=16, sample_weight=as_input(w))
    np.testing.assert_array_equal(_host(loaded.params["W1"]), _host(model.params["W1"]))

    model.to("numpy")
    assert model.backend.name == "numpy"
    # Now NumPy's float32 GEMMs against the backend's own: each within the rounding bound of
    # the exact probabilities, so within twice it of each other. No rtol holds here: a
    # probability of 1e-9 carries the logits' absolute rounding error as relative error.
    _, bound = proba_error_bound(model.params, X, np.float32, model.activation)
    assert_close_by_bound(model.predict_proba(X), _host(loaded.predict_proba(as_input(X))), 2 * bound)
    model.to(backend)
    _same_namespace(model, model.predict(as_input(X)))
    model.fit(as_input(X), as_input(y), epochs=1, batch_size=16)  # optimizer state moved back too


def test_set_params_accepts_native_arrays(backend):
    model = xpnet.MLP([5, 4, 3], backend=backend, seed=0)
    host = model.numpy_params()
    model.set_params({k: native(backend, v * 2) for k, v in host.items()})
    for k, v in model.numpy_params().items():
        np.testing.assert_array_equal(v, host[k] * 2)


def test_arrays_of_another_device_are_moved():
    """array_api_strict's default-device arrays given to a device1 model (a GPU stand-in)."""
    X, y, _ = _data()
    model = xpnet.MLP([5, 8, 3], backend="array_api_strict:device1", seed=0)
    cpu = xpnet.get_backend("array_api_strict")
    model.fit(cpu.asarray(X), cpu.asarray(y), epochs=1, batch_size=16)
    out = model.predict(cpu.asarray(X))
    assert model.backend.is_native(out)
