"""Backend selection: specs, the environment variable, auto's choice, and clear errors."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import numpy as np
import pytest

import xpnet
from tests.conftest import HAVE_GPU, HAVE_TORCH
from xpnet.backend import BACKEND_FORMS, BackendUnavailable, get_backend, parse_backend_spec
from xpnet.errors import ConfigError


@pytest.mark.parametrize("spec", ["cpu", "numpy", "CPU", " numpy "])
def test_cpu_specs(spec):
    b = get_backend(spec)
    assert (b.name, b.spec, b.device_name, b.is_gpu) == ("numpy", "numpy", "cpu", False)


def test_strict_specs():
    assert get_backend("array_api_strict").spec == "array_api_strict"
    dev1 = get_backend("array_api_strict:device1")
    assert dev1.spec == "array_api_strict:device1"
    x = dev1.asarray(np.arange(3.0), "float32")
    assert x.device == dev1.device
    assert dev1.to_numpy(x).tolist() == [0.0, 1.0, 2.0]


def test_environment_variable_is_the_default(monkeypatch):
    monkeypatch.setenv("XPNET_BACKEND", "array_api_strict")
    assert get_backend().name == "array_api_strict"
    assert xpnet.MLP([3, 2]).backend.name == "array_api_strict"
    assert get_backend("numpy").name == "numpy"  # an argument wins over the variable
    monkeypatch.setenv("XPNET_BACKEND", "bogus")
    with pytest.raises(ValueError, match=r"unknown backend 'bogus' \(from \$XPNET_BACKEND\)"):
        get_backend()


def test_auto_without_gpu_picks_numpy_and_says_why(monkeypatch, caplog):
    if HAVE_GPU:
        pytest.skip("a GPU is present: auto picks CuPy")
    monkeypatch.delenv("XPNET_BACKEND", raising=False)
    with caplog.at_level(logging.INFO, logger="xpnet"):
        b = get_backend()
    assert b.name == "numpy"
    assert "using NumPy on the CPU because CuPy is" in caplog.text


@pytest.mark.parametrize("spec", ["gpu", "cuda", "cuda:0", "cupy", "cupy:1"])
def test_explicit_gpu_without_one_is_a_clear_error(spec):
    if HAVE_GPU:
        pytest.skip("a GPU is present")
    with pytest.raises(BackendUnavailable) as err:
        get_backend(spec)
    message = str(err.value)
    assert f"backend '{spec}'" in message
    assert "CuPy is not installed" in message or "CUDA" in message
    assert "To fix" in message and "--backend cpu" in message


def test_torch_cuda_without_gpu_is_a_clear_error():
    if not HAVE_TORCH:
        with pytest.raises(BackendUnavailable, match="PyTorch is not installed"):
            get_backend("torch")
        return
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA available")
    with pytest.raises(BackendUnavailable, match=r"torch.cuda.is_available\(\) is False"):
        get_backend("torch:cuda")


def test_unknown_spec():
    with pytest.raises(ValueError, match="expected one of: auto, cpu"):
        get_backend("tpu")
    with pytest.raises(ValueError, match="NumPy runs only on the CPU"):
        get_backend("numpy:cuda")


@pytest.mark.parametrize(
    "text, library, device",
    [
        ("auto", "auto", ""),
        (" CPU ", "numpy", ""),
        ("numpy:cpu", "numpy", "cpu"),
        ("gpu", "cupy", ""),
        ("cuda:1", "cupy", "1"),
        ("cupy:0", "cupy", "0"),
        ("torch", "torch", ""),
        ("torch:cuda:1", "torch", "cuda:1"),
        ("torch:gpu", "torch", "gpu"),
        ("jax:gpu", "jax", "gpu"),
        ("strict", "array_api_strict", ""),
        ("array-api-strict:device1", "array_api_strict", "device1"),
    ],
)
def test_one_parser_reads_every_spec(text, library, device):
    spec = parse_backend_spec(text)
    assert (spec.library, spec.device, spec.text, spec.source) == (library, device, text, "argument")


def test_every_listed_form_parses():
    for form in BACKEND_FORMS.split(", "):
        assert parse_backend_spec(form.replace(":N", ":0")).library != "auto" or form == "auto"


@pytest.mark.parametrize(
    "text", ["tpu", "cuda:x", "cuda:", "torch:mps", "torch:cuda:x", "numpy:gpu", "auto:cpu", "jax:a-b"]
)
def test_a_malformed_spec_names_itself_its_source_and_the_valid_forms(text):
    with pytest.raises(ConfigError) as err:
        parse_backend_spec(text, "--backend")
    message = str(err.value)
    assert f"unknown backend {text!r} (from --backend)" in message
    assert message.endswith(f"expected one of: {BACKEND_FORMS}")
    with pytest.raises(ConfigError, match=r"\(from argument\)"):
        get_backend(text)  # the library reads specs with the same parser


def test_a_parsed_spec_keeps_its_source_through_get_backend():
    with pytest.raises(
        ConfigError,
        match=r"'array_api_strict:nodevice' \(from --backend\): array-api-strict has no "
        r"device 'nodevice'; expected one of: auto, cpu",
    ):
        get_backend(parse_backend_spec("array_api_strict:nodevice", "--backend"))
    assert get_backend(parse_backend_spec("array_api_strict:device1", "--backend")).spec == "array_api_strict:device1"


def test_the_backend_value_does_not_import_its_factory():
    """``Backend`` is built by ``_discovery`` (and re-found on unpickling by ``_pickling``); the
    value object itself imports neither, not even inside a function."""
    source = (Path(xpnet.__file__).parent / "backend" / "_backend.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
    assert not {"._discovery", "._pickling", "._spec", "xpnet.backend"} & imported, imported


def test_available_backends_lists_every_library():
    rows = xpnet.available_backends()
    libraries = {r.library for r in rows}
    assert {"numpy", "cupy", "torch", "jax", "array_api_strict"} <= libraries
    numpy_row = next(r for r in rows if r.library == "numpy")
    assert numpy_row.usable and numpy_row.device == "cpu"
    for r in rows:
        assert r.usable or r.detail, r  # an unusable backend says why


def test_to_numpy_for_any_array(backend):
    x = backend.asarray(np.arange(6.0).reshape(2, 3), "float32")
    host = xpnet.to_numpy(x)
    assert isinstance(host, np.ndarray) and host.dtype == np.float32
    assert host.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert xpnet.backend.backend_of(x).name == backend.name


def test_importing_xpnet_has_no_side_effects(monkeypatch):
    """No backend is probed or chosen at import time; a model holds its own backend."""
    import importlib
    import sys

    for name in [m for m in sys.modules if m == "xpnet" or m.startswith("xpnet.")]:
        monkeypatch.delitem(sys.modules, name)
    mod = importlib.import_module("xpnet")
    assert "cupy" not in sys.modules or HAVE_GPU
    a = mod.MLP([3, 2], backend="numpy")
    b = mod.MLP([3, 2], backend="array_api_strict")
    assert a.backend.name == "numpy" and b.backend.name == "array_api_strict"


#: The math folder, whole, and the model code that runs on the device.
MATH_MODULES = sorted(
    str(p.relative_to(Path(xpnet.__file__).parent)) for p in (Path(xpnet.__file__).parent / "nn").glob("*.py")
) + ["model/mlp.py", "model/training.py", "model/compiled.py", "model/gradcheck.py", "model/inputs.py"]


@pytest.mark.parametrize("filename", MATH_MODULES)
def test_network_code_never_imports_numpy_or_cupy(filename):
    """Only xpnet/backend/ (and host-side I/O) may import NumPy or CuPy."""
    source = (Path(xpnet.__file__).parent / filename).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & {"numpy", "cupy", "torch", "jax"}, imported


# -- hygiene: no process-wide change from fit; one CUDA probe; arrays recognised by library -----
def test_fit_does_not_touch_the_host_allocator(monkeypatch):
    from xpnet import backend as backend_module
    from xpnet.backend import _allocator  # where the state lives and Backend.prepare_training looks

    calls = []
    monkeypatch.setattr(_allocator, "_ALLOCATOR_TUNED", None)
    monkeypatch.setattr(_allocator, "tune_host_allocator", lambda: calls.append(1) or True)
    monkeypatch.setattr(backend_module, "tune_host_allocator", _allocator.tune_host_allocator)
    model = xpnet.MLP([3, 2], backend="numpy")
    model.fit(np.zeros((4, 3)), np.array([0, 1, 0, 1]), epochs=1)
    assert calls == [] and backend_module.host_allocator_tuned() is None


def test_tune_host_allocator_is_explicit_and_can_be_opted_out(monkeypatch):
    from xpnet import backend as backend_module
    from xpnet.backend import _allocator  # the one module holding the state

    monkeypatch.setattr(_allocator, "_ALLOCATOR_TUNED", None)
    monkeypatch.setenv("XPNET_MALLOC_TUNING", "0")
    assert backend_module.tune_host_allocator() is False
    assert backend_module.host_allocator_tuned() is None  # nothing was tried
    monkeypatch.delenv("XPNET_MALLOC_TUNING")
    result = backend_module.tune_host_allocator()
    assert isinstance(result, bool) and backend_module.host_allocator_tuned() is result


def test_cuda_devices_is_a_list_of_names():
    devices = xpnet.backend.cuda_devices()
    assert isinstance(devices, list) and all(isinstance(d, str) for d in devices)
    assert bool(devices) == HAVE_GPU


def test_array_library_and_device(backend):
    from xpnet.backend import array_library, device_of

    a = backend.asarray(np.zeros(3))
    assert array_library(a) == backend.name
    assert device_of(a) == backend.device
    assert backend.is_native(a) and not backend.is_native([0.0, 1.0])
    assert array_library([1, 2]) is None and array_library(np.zeros(2)) == "numpy"


def test_asarray_keeps_integer_dtypes(backend):
    y = backend.asarray(np.array([0, 1, 2], dtype=np.uint8))
    for name in ("int64", "int32", "uint8"):
        out = backend.asarray(y, name)
        assert out.dtype == getattr(backend.xp, name), name
        out = backend.asarray(np.array([0, 1, 2]), name)
        assert out.dtype == getattr(backend.xp, name), name
    with pytest.raises(ValueError, match="unsupported dtype"):
        backend.asarray(y, "complex64")


_OUTSIDE_BACKEND = sorted(
    str(p.relative_to(Path(xpnet.__file__).parent))
    for p in Path(xpnet.__file__).parent.rglob("*.py")
    if "backend" not in p.relative_to(Path(xpnet.__file__).parent).parts
)


@pytest.mark.parametrize("name", _OUTSIDE_BACKEND)
def test_one_namespace_lookup_for_everyone(name):
    """Only xpnet.backend asks array_api_compat; everyone else asks xpnet.backend."""
    path = Path(xpnet.__file__).parent / name
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        )
        assert not any(n.split(".")[0] == "array_api_compat" for n in names), name
