"""Which backends exist here and choosing one: [`available_backends`][xpnet.backend.available_backends],
[`cuda_devices`][xpnet.backend.cuda_devices] (xpnet's one CUDA probe),
[`get_backend`][xpnet.backend.get_backend] with one constructor per library, and
[`backend_of`][xpnet.backend.backend_of] for an array that already exists."""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, InvalidInputType
from ._arrays import array_library, array_namespace, device_of
from ._backend import Backend, BackendUnavailable
from ._spec import BACKEND_FORMS, BackendSpec, parse_backend_spec

__all__ = ["BackendInfo", "available_backends", "cuda_devices", "get_backend", "backend_of", "ENV_VAR"]

log = logging.getLogger("xpnet.backend")

ENV_VAR = "XPNET_BACKEND"


@dataclass(frozen=True)
class BackendInfo:
    """One row of [`available_backends`][xpnet.backend.available_backends]: a spec and whether it can be used here."""

    spec: str
    library: str
    usable: bool
    device: str
    detail: str = ""


def _import(name: str):
    try:
        return importlib.import_module(name), None
    except Exception as exc:  # ImportError, or a broken install raising something else
        return None, f"{type(exc).__name__}: {exc}"


def _cuda_devices_cupy() -> tuple[list[str], str]:
    """Names of usable CUDA devices seen by CuPy, and why there are none if empty."""
    cupy, err = _import("cupy")
    if cupy is None:
        return [], f"CuPy is not installed ({err})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return [], f"CuPy is installed but CUDA is not usable ({type(exc).__name__}: {exc})"
    if count == 0:
        return [], "CuPy is installed but found no CUDA device"
    names = []
    for i in range(count):
        try:
            props = cupy.cuda.runtime.getDeviceProperties(i)
            name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
            mem = props.get("totalGlobalMem", 0) / 2**30
            names.append(f"{name}, {mem:.0f} GiB (cuda:{i})")
        except Exception as exc:
            names.append(f"cuda:{i} (properties unavailable: {exc})")
    return names, ""


def cuda_devices() -> list[str]:
    """Names of the CUDA devices usable here through CuPy (``[]`` when there are none).

    The one CUDA probe of xpnet: [`get_backend`][xpnet.backend.get_backend], the tests and the benchmark all use it.
    Each name reads like ``"NVIDIA H200, 140 GiB (cuda:0)"``. Never raises.
    """
    return _cuda_devices_cupy()[0]


def available_backends() -> list[BackendInfo]:
    """List the backends xpnet knows, whether each is installed and usable, with device names.

    Probing is done now (not at import time) and never raises.
    """
    rows = [BackendInfo("numpy", "numpy", True, "cpu", f"NumPy {np.__version__}")]

    gpus, why = _cuda_devices_cupy()
    if gpus:
        import cupy

        for i, name in enumerate(gpus):
            rows.append(BackendInfo(f"cupy:{i}", "cupy", True, name, f"CuPy {cupy.__version__}"))
    else:
        rows.append(BackendInfo("cupy", "cupy", False, "-", why))

    torch, err = _import("torch")
    if torch is None:
        rows.append(BackendInfo("torch", "torch", False, "-", "PyTorch is not installed"))
    else:
        rows.append(BackendInfo("torch", "torch", True, "cpu", f"PyTorch {torch.__version__}"))
        try:
            n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        except Exception:
            n = 0
        for i in range(n):
            rows.append(
                BackendInfo(
                    f"torch:cuda:{i}",
                    "torch",
                    True,
                    torch.cuda.get_device_name(i),
                    f"PyTorch {torch.__version__}",
                )
            )

    jax, err = _import("jax")
    if jax is None:
        rows.append(BackendInfo("jax", "jax", False, "-", "JAX is not installed"))
    else:
        try:
            dev = jax.devices()[0]
            rows.append(BackendInfo("jax", "jax", True, f"{dev.platform}:{dev.id}", f"JAX {jax.__version__}"))
        except Exception as exc:
            rows.append(BackendInfo("jax", "jax", False, "-", f"JAX has no usable device ({exc})"))

    strict, err = _import("array_api_strict")
    if strict is None:
        rows.append(
            BackendInfo(
                "array_api_strict",
                "array_api_strict",
                False,
                "-",
                "array-api-strict is not installed (pip install array-api-strict)",
            )
        )
    else:
        rows.append(
            BackendInfo(
                "array_api_strict",
                "array_api_strict",
                True,
                "CPU_DEVICE",
                f"array-api-strict {strict.__version__} (conformance testing only; slow)",
            )
        )
    return rows


# -- selection ---------------------------------------------------------------------------------
def get_backend(spec: str | BackendSpec | Backend | None = None) -> Backend:
    """Resolve a backend spec (see the module docstring) to a [`Backend`][xpnet.backend.Backend].

    Parameters
    ----------
    spec : str, BackendSpec, Backend or None
        A spec read by [`parse_backend_spec`][xpnet.backend.parse_backend_spec] (``"cpu"``,
        ``"torch:cuda"``, ...), one parsed already (its ``source`` is named in messages), or a
        ``Backend`` (returned as it is). ``None`` means ``$XPNET_BACKEND`` if set, else ``"auto"``.

    Returns
    -------
    Backend

    Raises
    ------
    BackendUnavailable
        An explicitly requested library or device is missing (only ``"auto"`` falls back).
    ConfigError
        A spec xpnet does not know, or a device its library does not have; the message lists
        the valid forms and says where the spec came from.
    """
    if isinstance(spec, Backend):
        return spec
    if spec is None:
        env = os.environ.get(ENV_VAR)
        spec = parse_backend_spec(env, f"${ENV_VAR}") if env else BackendSpec("auto", "", "auto", "default")
    elif not isinstance(spec, BackendSpec):
        spec = parse_backend_spec(spec)
    lib, device = spec.library, spec.device
    try:
        if lib == "auto":
            return _auto()
        if lib == "numpy":
            return _numpy_backend()
        if lib == "cupy":
            return _cupy_backend(int(device) if device else 0)
        if lib == "torch":
            return _torch_backend(device or "cpu")
        if lib == "jax":
            return _jax_backend(device)
        return _strict_backend(device)
    except BackendUnavailable as exc:
        raise BackendUnavailable(f"backend {spec.text!r} (from {spec.source}) is unavailable: {exc}") from None
    except ConfigError as exc:  # a device of a valid form that the library does not have
        raise ConfigError(
            f"backend {spec.text!r} (from {spec.source}): {str(exc).rstrip('.')}; expected one of: {BACKEND_FORMS}"
        ) from None


def _auto() -> Backend:
    gpus, why = _cuda_devices_cupy()
    if gpus:
        backend = _cupy_backend(0)
        log.info("backend auto: using CuPy on %s", backend.device_name)
        return backend
    log.info("backend auto: using NumPy on the CPU because %s", why)
    return _numpy_backend()


def _numpy_backend() -> Backend:
    from array_api_compat import numpy as xp

    return Backend("numpy", xp, "cpu", "cpu", "numpy")


def _cupy_backend(index: int) -> Backend:
    gpus, why = _cuda_devices_cupy()
    if not gpus:
        hint = (
            "install CuPy for your CUDA version (pip install 'xpnet[gpu]' for CUDA 12, "
            "or pip install cupy-cuda13x for CUDA 13) on a machine with an NVIDIA GPU and driver"
            if "not installed" in why
            else "check the NVIDIA driver with `nvidia-smi` and CUDA_VISIBLE_DEVICES"
        )
        raise BackendUnavailable(f"{why}. To fix: {hint}; or use --backend cpu.")
    if not 0 <= index < len(gpus):
        raise BackendUnavailable(f"there is no CUDA device {index}; found {len(gpus)}: {gpus}")
    import cupy
    from array_api_compat import cupy as xp

    return Backend("cupy", xp, cupy.cuda.Device(index), gpus[index], f"cupy:{index}")


def _torch_backend(where: str) -> Backend:
    torch, err = _import("torch")
    if torch is None:
        raise BackendUnavailable(f"PyTorch is not installed ({err}); pip install 'xpnet[torch]'")
    from array_api_compat import torch as xp

    device = torch.device("cuda" + where[3:] if where.startswith("gpu") else where)  # gpu[:N] is cuda[:N]
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise BackendUnavailable(
                "PyTorch is installed but torch.cuda.is_available() is False "
                f"(torch {torch.__version__}, CUDA build: {torch.version.cuda})"
            )
        if device.index is None:
            device = torch.device("cuda", 0)
        if device.index >= torch.cuda.device_count():
            raise BackendUnavailable(f"there is no CUDA device {device.index} for PyTorch")
        name = f"{torch.cuda.get_device_name(device)} ({device})"
    elif device.type == "cpu":
        name = "cpu"
    else:
        raise ConfigError(f"unsupported PyTorch device {where!r}; use cpu or cuda[:N]")
    return Backend("torch", xp, device, name, f"torch:{device}")


def _jax_backend(where: str) -> Backend:
    jax, err = _import("jax")
    if jax is None:
        raise BackendUnavailable(f"JAX is not installed ({err}); pip install 'xpnet[jax]'")
    import jax.numpy as xp

    try:
        devices = jax.devices(where) if where else jax.devices()
    except RuntimeError as exc:
        raise BackendUnavailable(f"JAX has no {where or 'default'} device: {exc}") from None
    dev = devices[0]
    return Backend("jax", xp, dev, f"{dev.platform}:{dev.id}", f"jax:{dev.platform}" if where else "jax")


def _strict_backend(device: str) -> Backend:
    strict, err = _import("array_api_strict")
    if strict is None:
        raise BackendUnavailable(f"array-api-strict is not installed ({err}); pip install array-api-strict")
    name = device or "CPU_DEVICE"
    try:
        dev = strict.Device("CPU_DEVICE" if name.lower() in ("cpu", "cpu_device") else name)
    except ValueError:  # not one of its devices
        raise ConfigError(f"array-api-strict has no device {name!r}") from None
    spec = "array_api_strict" if dev == strict.Device("CPU_DEVICE") else f"array_api_strict:{name}"
    return Backend("array_api_strict", strict, dev, str(name), spec)


# -- helpers for arbitrary arrays ----------------------------------------------------------------
def backend_of(x) -> Backend:
    """The [`Backend`][xpnet.backend.Backend] an existing array belongs to (library and device)."""
    if isinstance(x, np.ndarray) or np.isscalar(x):
        return _numpy_backend()
    lib = array_library(x)
    if lib is None:
        raise InvalidInputType(f"expected an array, got {type(x).__name__}")
    dev = device_of(x)
    if lib == "cupy":
        return _cupy_backend(dev.id)
    if lib == "torch":
        return _torch_backend(str(dev))
    if lib == "jax":
        b = _jax_backend("")
        return Backend("jax", b.xp, dev, str(dev), b.spec)
    if lib == "array_api_strict":
        xp = array_namespace(x)
        for name in ("CPU_DEVICE", "device1", "device2"):
            if dev == xp.Device(name):
                return _strict_backend(name)
    return _numpy_backend()


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
