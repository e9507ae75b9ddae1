"""The central promise: the same seed trains the same network on every backend.

float64, 3 shuffled epochs with a shorter last batch, SGD with Nesterov momentum and Adam: the
loss curves (and the weights) on NumPy, array-api-strict (both devices), PyTorch and JAX (whose
steps run compiled) agree to 1e-10. Only rounding differs between them (each library sums in
its own order), and float64 keeps its growth over 3 epochs far below that.
"""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet import optim

from ..conftest import HAVE_JAX, HAVE_TORCH

SPECS = [
    "array_api_strict",
    "array_api_strict:device1",
    pytest.param("torch", marks=pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch not installed")),
    pytest.param("jax", marks=pytest.mark.skipif(not HAVE_JAX, reason="JAX not installed")),
]
OPTIMIZERS = {
    "sgd-nesterov": lambda: optim.SGD(lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda: optim.Adam(lr=3e-3, schedule="cosine"),
}


def _train(spec, opt):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((600, 20))
    y = (X[:, :3].sum(axis=1) > 0).astype(int) + 2 * (X[:, 3] > 0.5)
    model = xpnet.MLP([20, 32, 16, 4], backend=spec, dtype="float64", seed=5)
    model.fit(X, y, epochs=3, batch_size=64, optimizer=OPTIMIZERS[opt](), validation_data=(X[:100], y[:100]))
    h = model.history
    return np.array([h.loss, h.accuracy, h.val_loss]), model.numpy_params()


@pytest.fixture(scope="module")
def reference():
    return {opt: _train("numpy", opt) for opt in OPTIMIZERS}


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("spec", SPECS)
def test_every_backend_trains_the_same_loss_curve(reference, spec, opt):
    curve, params = _train(spec, opt)
    ref_curve, ref_params = reference[opt]
    assert ref_curve[0, -1] < ref_curve[0, 0] - 0.1  # it trained
    np.testing.assert_allclose(curve, ref_curve, rtol=0, atol=1e-10)
    for k, v in ref_params.items():
        np.testing.assert_allclose(params[k], v, rtol=0, atol=1e-10, err_msg=k)
