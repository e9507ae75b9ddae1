"""A model carries its input transform: Preprocessing, MLP(preprocessing=...), checkpoints,
the CLI-trained model scored on raw pixels, the unscaled-data warning, and seeds."""

from __future__ import annotations

import logging
import pickle
import re

import numpy as np
import pytest

import xpnet
from tests.conftest import assert_close_by_bound, gamma, native, proba_error_bound
from xpnet import Preprocessing
from xpnet.datasets import scale, standardize


def _pixels(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.integers(0, 80, (n, 16))
    for i, k in enumerate(y):
        x[i, 5 * k : 5 * k + 5] += 170
    return np.clip(x, 0, 255).astype(np.uint8), y


def _exact_transform(x, pre):
    """``(x/255 − mean)/std`` in float64 from the float32 mean and std both paths use, and the
    bound on the error of any float32 computation of it: at most 6 roundings (``/255``, ``− mean``,
    ``/ std``, each possibly done as a product with a rounded reciprocal) on values of size
    ``x/255 + |mean|``, so ``γ_6·(x/255 + |mean|)/std``."""
    mean, std = float(np.float32(pre.mean)), float(np.float32(pre.std))
    s = np.asarray(x, np.float64) / 255
    return (s - mean) / std, gamma(6, np.float32) * (s + abs(mean)) / std


def test_transform_is_datasets_scale_then_standardize(backend):
    x, _ = _pixels()
    pre = Preprocessing.fit(x)
    z_ref, mean, std = standardize(scale(x, "float64"))
    assert (pre.mean, pre.std) == (pytest.approx(mean), pytest.approx(std))
    expected, _, _ = standardize(scale(x), pre.mean, pre.std)
    np.testing.assert_array_equal(pre.transform(x), expected)
    np.testing.assert_array_equal(Preprocessing().transform(x), scale(x))
    # On the device, in the array's own namespace: the same numbers up to float32 rounding,
    # which may differ between the libraries' elementwise kernels (z has entries near zero,
    # where no rtol holds): each within the transform's rounding bound, so within twice it.
    out = pre.transform(native(backend, x))
    assert type(out) is type(native(backend, x)) or backend.name == "numpy"
    _, bound = _exact_transform(x, pre)
    assert_close_by_bound(xpnet.to_numpy(out), expected, 2 * bound)


def test_model_applies_its_preprocessing_everywhere(backend, as_input):
    """The model carrying ``pre`` against a bare one fed ``pre.transform`` of the same input: the
    same numbers on the same backend, so the same results bit for bit. Then, at equal weights,
    against the bare model fed the host's transform (which may round differently from the
    backend's): within twice the rounding bound."""
    x, y = _pixels()
    pre = Preprocessing.fit(x)
    carrying = xpnet.MLP([16, 8, 3], backend=backend, seed=0, preprocessing=pre)
    bare = xpnet.MLP([16, 8, 3], backend=backend, seed=0)
    carrying.fit(as_input(x), as_input(y), epochs=2, batch_size=16, validation_data=(as_input(x), as_input(y)))
    X = pre.transform(as_input(x))  # where the model carrying pre transforms it: the same numbers
    bare.fit(X, as_input(y), epochs=2, batch_size=16, validation_data=(X, as_input(y)))
    np.testing.assert_array_equal(carrying.history.loss, bare.history.loss)
    np.testing.assert_array_equal(carrying.history.val_loss, bare.history.val_loss)
    np.testing.assert_array_equal(
        xpnet.to_numpy(carrying.predict_proba(as_input(x))), xpnet.to_numpy(bare.predict_proba(X))
    )
    assert carrying.score(as_input(x), as_input(y)) == bare.score(X, y)
    assert carrying.loss(as_input(x), as_input(y)) == bare.loss(X, y)
    g = carrying.gradients(as_input(x), as_input(y))
    np.testing.assert_array_equal(xpnet.to_numpy(g["W1"]), xpnet.to_numpy(bare.gradients(X, y)["W1"]))
    host = pre.transform(x)
    z, input_error = _exact_transform(x, pre)
    _, bound = proba_error_bound(bare.params, z, np.float32, bare.activation, input_error)
    assert_close_by_bound(
        xpnet.to_numpy(carrying.predict_proba(as_input(x))),
        xpnet.to_numpy(bare.predict_proba(host)),
        2 * bound,
    )
    assert xpnet.gradcheck(carrying, as_input(x[:4]), as_input(y[:4]), max_entries=4).passed
    clone = pickle.loads(pickle.dumps(carrying))
    assert clone.preprocessing == pre and carrying.copy().preprocessing == pre


def test_save_and_load_carry_the_preprocessing(tmp_path):
    x, y = _pixels()
    pre = Preprocessing.fit(x)
    model = xpnet.MLP([16, 8, 3], backend="numpy", seed=0, preprocessing=pre)
    model.fit(x, y, epochs=2, batch_size=16)
    loaded = xpnet.load(xpnet.save(model, tmp_path / "m.npz"))
    assert loaded.preprocessing == pre
    assert loaded.score(x, y) == model.score(x, y)
    bare = xpnet.MLP([16, 8, 3], backend="numpy", seed=0)
    assert xpnet.load(xpnet.save(bare, tmp_path / "b.npz")).preprocessing is None
    with pytest.raises(TypeError, match="preprocessing must be"):
        xpnet.MLP([16, 3], preprocessing="standardize")
    assert xpnet.MLP([16, 3], preprocessing=pre.get_config()).preprocessing == pre


def test_cli_trained_model_scores_raw_pixels_like_xpnet_evaluate(tmp_path):
    from tests.cli.test_cli import FAST, _write_split, run

    data = tmp_path / "idx"
    data.mkdir()
    _write_split(data, "train", 300, 0)
    x_test, y_test = _write_split(data, "t10k", 100, 1)
    out = tmp_path / "run"
    run("train", "--data", data, "--epochs", "3", *FAST, "--out", out)
    printed = run("evaluate", out / "model.npz").stdout
    cli_accuracy = float(re.search(r"accuracy (\d\.\d{4})", printed).group(1))
    model = xpnet.load(out / "model.npz")
    assert model.preprocessing is not None and model.preprocessing.standardized
    accuracy = model.score(x_test.reshape(len(x_test), -1), y_test)  # raw uint8 pixels
    assert round(accuracy, 4) == cli_accuracy
    assert accuracy > 0.5


# -- the unscaled-data warning ------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind, warns", [("uint8", True), ("float 0-255", True), ("scaled", False), ("standardised", False)]
)
def test_fit_warns_on_data_that_looks_unscaled(kind, warns, caplog):
    x, y = _pixels()
    X = {
        "uint8": x,
        "float 0-255": x.astype(np.float32),
        "scaled": scale(x),
        "standardised": standardize(scale(x))[0],
    }[kind]
    with caplog.at_level(logging.WARNING, logger="xpnet.model"):
        xpnet.MLP([16, 4, 3], backend="numpy").fit(X, y, epochs=1)
    messages = [r.getMessage() for r in caplog.records if r.name == "xpnet.model"]
    if warns:
        assert len(messages) == 1 and "looks unscaled" in messages[0]
        assert "xpnet.datasets.scale" in messages[0] and "preprocessing=" in messages[0]
    else:
        assert messages == []


def test_no_warning_when_the_model_scales_itself(caplog):
    x, y = _pixels()
    with caplog.at_level(logging.WARNING, logger="xpnet.model"):
        xpnet.MLP([16, 4, 3], backend="numpy", preprocessing=Preprocessing()).fit(x, y, epochs=1)
    assert not [r for r in caplog.records if r.name == "xpnet.model"]


# -- seeds as scikit-learn users pass them ------------------------------------------------------
def test_seed_none_randomstate_and_generator():
    a, b = xpnet.MLP([4, 3], seed=None, backend="numpy"), xpnet.MLP([4, 3], seed=None, backend="numpy")
    assert isinstance(a.seed, int) and a.seed != b.seed
    r1 = xpnet.MLP([4, 3], seed=np.random.RandomState(7), backend="numpy")
    r2 = xpnet.MLP([4, 3], seed=np.random.RandomState(7), backend="numpy")
    np.testing.assert_array_equal(r1.numpy_params()["W1"], r2.numpy_params()["W1"])
    g1 = xpnet.MLP([4, 3], seed=np.random.default_rng(7), backend="numpy")
    g2 = xpnet.MLP([4, 3], seed=np.random.default_rng(7), backend="numpy")
    assert g1.seed == g2.seed and 0 <= g1.seed < 2**32
    with pytest.raises(TypeError, match="seed must be"):
        xpnet.MLP([4, 3], seed="7")
    with pytest.raises(ValueError, match=">= 0"):
        xpnet.MLP([4, 3], seed=-1)
