"""Shared fixtures: the backends every core test runs on, and the real-data location.

The same tests run on NumPy and on array-api-strict (which fails loudly on anything outside
the Array API standard), including array-api-strict's non-default device "device1" (which
catches accidental conversions to NumPy), on PyTorch's CPU and JAX when they are installed, and on CuPy
when a CUDA GPU is usable (those cases are marked ``gpu`` and skipped cleanly otherwise).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

import xpnet

REPO = Path(__file__).resolve().parents[1]


HAVE_GPU = bool(xpnet.backend.cuda_devices())  # the backend's own (and only) CUDA probe
HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_JAX = importlib.util.find_spec("jax") is not None
if HAVE_JAX:  # the gradient checks run in float64, which JAX only offers in 64-bit mode
    import jax

    jax.config.update("jax_enable_x64", True)

BACKEND_SPECS = [
    "numpy",
    "array_api_strict",
    "array_api_strict:device1",
    pytest.param("torch", marks=pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch not installed")),
    pytest.param("jax", marks=pytest.mark.skipif(not HAVE_JAX, reason="JAX not installed")),
    pytest.param("cupy", marks=pytest.mark.gpu),
]


def pytest_collection_modifyitems(config, items):
    if HAVE_GPU:
        return
    skip = pytest.mark.skip(reason="needs a usable CUDA GPU with CuPy")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=BACKEND_SPECS)
def backend(request) -> xpnet.Backend:
    """Each backend in turn (numpy, array_api_strict, its device1, torch, cupy)."""
    return xpnet.get_backend(request.param)


def native(backend: xpnet.Backend, a):
    """``a`` (NumPy or a list) as an array of ``backend`` on its device, dtype kept."""
    import numpy as np

    return backend.asarray(np.asarray(a))


INPUT_KINDS = ["numpy", "list", "native"]


@pytest.fixture(params=INPUT_KINDS)
def as_input(request, backend):
    """How a test hands data to a public entry point: a function turning a NumPy array into
    a NumPy array, a Python list, or an array native to ``backend`` (on its device)."""
    kind = request.param
    if kind == "numpy":
        return lambda a: a
    if kind == "list":
        return lambda a: a.tolist()
    return lambda a: native(backend, a)


def shared_data_dir() -> Path | None:
    """Where the real MNIST/Fashion-MNIST files are: $XPNET_TEST_DATA, else ../shared/data."""
    env = os.environ.get("XPNET_TEST_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("real data not found: set XPNET_TEST_DATA or put it at ../shared/data")
    return path


# Hypothesis explores new examples on every local run; in CI (CI=true) it replays a fixed
# sequence, so a red CI is always reproducible.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
