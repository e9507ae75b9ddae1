"""The one module that knows about array libraries and devices.

Everything backend-specific lives here: finding out which libraries are installed and usable,
choosing one, moving arrays between the host (NumPy) and the device, and random numbers. The
network math ([`xpnet.network`][xpnet.network], [`xpnet.optim`][xpnet.optim], ...) never imports NumPy or CuPy; it
asks its arrays for their namespace with `array_api_compat.array_namespace` and uses only
what the Array API standard defines.

Backend specs understood by [`get_backend`][xpnet.backend.get_backend]:

| ------------------------------------ | ---------------------------------------------------------------------------------------------------------------------------- |
| ------------------------------------ | ---------------------------------------------------------------------------------------------------------------------------- |
| ``"auto"``                           | CuPy if it is installed *and* a CUDA device is usable, else NumPy                                                            |
| ``"cpu"``, ``"numpy"``               | NumPy on the CPU                                                                                                             |
| ``"gpu"``, ``"cuda"``, ``"cupy"``    | CuPy on CUDA device 0                                                                                                        |
| ``"cuda:N"``, ``"cupy:N"``           | CuPy on CUDA device N                                                                                                        |
| ``"torch"``, ``"torch:cpu"``         | PyTorch on the CPU                                                                                                           |
| ``"torch:cuda"``, ``"torch:cuda:N"`` | PyTorch on a CUDA device                                                                                                     |
| ``"jax"``                            | JAX on its default device                                                                                                    |
| ``"array_api_strict"``               | array-api-strict (the conformance oracle used in the tests); ``"array_api_strict:device1"`` puts arrays on its second device |

When no spec is given, the environment variable ``XPNET_BACKEND`` is used, else ``"auto"``.
An explicit request that cannot be met raises [`BackendUnavailable`][xpnet.backend.BackendUnavailable] with what was found
and how to fix it; only ``"auto"`` falls back, and it logs which backend it chose and why.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ConfigError, InvalidInput, InvalidInputType, XpnetError

__all__ = [
    "Backend",
    "BackendInfo",
    "BackendUnavailable",
    "available_backends",
    "get_backend",
    "backend_of",
    "to_numpy",
    "array_namespace",
    "array_library",
    "device_of",
    "cuda_devices",
    "tune_host_allocator",
    "host_allocator_tuned",
    "unpickle_on",
    "UNPICKLE_ENV_VAR",
    "resolve_seed",
]

log = logging.getLogger("xpnet.backend")

ENV_VAR = "XPNET_BACKEND"

_FLOAT_DTYPES = ("float32", "float64")
_OTHER_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


class BackendUnavailable(XpnetError, RuntimeError):
    """An explicitly requested backend is not installed or has no usable device."""


@dataclass(frozen=True)
class Backend:
    """A chosen array library and device, plus the few helpers that depend on them.

    Attributes
    ----------
    name
        Library: ``"numpy"``, ``"cupy"``, ``"torch"``, ``"jax"`` or ``"array_api_strict"``.
    xp
        The Array API namespace (wrapped by ``array_api_compat`` where needed).
    device
        The library's device object, passed as ``device=`` when creating arrays.
    device_name
        Human-readable device description, e.g. ``"cpu"`` or ``"NVIDIA H200 (cuda:0)"``.
    spec
        Canonical spec string that [`get_backend`][xpnet.backend.get_backend] maps back to this backend.
    """

    name: str
    xp: Any = field(repr=False)
    device: Any
    device_name: str
    spec: str

    @property
    def is_gpu(self) -> bool:
        """True when arrays live on a CUDA device."""
        return "cuda" in self.spec or self.name == "cupy" or (
            self.name == "jax" and getattr(self.device, "platform", "cpu") == "gpu"
        )

    def float_dtype(self, name: str = "float32"):
        """The namespace's floating dtype called ``name`` (``"float32"`` or ``"float64"``)."""
        if name not in _FLOAT_DTYPES:
            raise ConfigError(f"dtype must be one of {_FLOAT_DTYPES}, got {name!r}")
        if self.name == "jax" and name == "float64":
            import jax

            if not jax.config.jax_enable_x64:
                raise BackendUnavailable(
                    "float64 on JAX needs 64-bit mode: set JAX_ENABLE_X64=1 before importing jax "
                    "(or call jax.config.update('jax_enable_x64', True))."
                )
        return getattr(self.xp, name)

    # -- host <-> device -------------------------------------------------------------------
    def asarray(self, x, dtype: Any = None):
        """Move ``x`` (a NumPy array, anything NumPy accepts, or an array of this backend) here.

        ``dtype`` is a dtype name (``"float32"``, ``"int64"``, ...), a NumPy dtype or a dtype of
        this namespace. Host data is converted on the host first, then copied to the device once;
        an array already on this backend and device is converted there (no host round trip).
        """
        target = None if dtype is None else self._dtype(dtype)  # validates the name too
        if _is_native(self, x):
            if target is not None:
                x = self.xp.astype(x, target)  # a copy, as from the host
            return x
        host = np.asarray(x)
        if dtype is not None:
            host = host.astype(np.dtype(_dtype_name(dtype)), copy=False)
        if self.name == "numpy":
            return host
        if self.name == "cupy":
            import cupy

            with cupy.cuda.Device(self.device.id):
                return cupy.asarray(host)
        if self.name == "torch":
            import torch

            return torch.from_numpy(np.ascontiguousarray(host)).to(self.device)
        if self.name == "jax":
            import jax

            return jax.device_put(host, self.device)
        # array_api_strict (and anything else that follows the standard)
        return self.xp.asarray(host, device=self.device)

    def host_or_native(self, x):
        """``x`` unchanged if it is already an array of this backend on its device, else a
        NumPy array on the host (lists, NumPy arrays, and arrays of other libraries or devices)."""
        if _is_native(self, x) or isinstance(x, np.ndarray):
            return x
        return to_numpy(x) if array_library(x) is not None else np.asarray(x)

    def is_native(self, x) -> bool:
        """True when ``x`` is an array of this backend's library on this backend's device."""
        return isinstance(x, np.ndarray) if self.name == "numpy" else _is_native(self, x)

    def to_numpy(self, x, copy: bool = False) -> np.ndarray:
        """An array of this backend as a NumPy array on the host.

        Without ``copy`` the result may share memory with ``x`` (NumPy, PyTorch CPU and
        array-api-strict arrays already live on the host); with ``copy`` it never does.
        """
        if isinstance(x, np.ndarray):
            host = x
        elif self.name == "cupy":
            host = x.get()
        elif self.name == "torch":
            host = x.detach().cpu().numpy()
        elif self.name == "array_api_strict":
            cpu = self.xp.Device("CPU_DEVICE")
            host = np.asarray(x if device_of(x) == cpu else x.to_device(cpu))
        else:
            host = np.asarray(x)
        return np.array(host, copy=True) if copy else host

    def rng(self, seed) -> np.random.Generator:
        """A host random generator: the same seed gives the same numbers on every backend."""
        return np.random.default_rng(seed)

    def prepare_training(self) -> None:
        """Process-wide settings that make training on this backend faster, applied on request.

        NumPy: [`tune_host_allocator`][xpnet.backend.tune_host_allocator] (unless ``XPNET_MALLOC_TUNING=0``). Others: nothing.
        :meth:`MLP.fit <xpnet.model.MLP.fit>` does **not** call it (a library call should not
        change the process); ``xpnet train`` and the benchmark do.
        """
        if self.name == "numpy":
            tune_host_allocator()

    def synchronize(self) -> None:
        """Wait for queued device work to finish (for timing); a no-op on the CPU."""
        if self.name == "cupy":
            import cupy

            cupy.cuda.Device(self.device.id).synchronize()
        elif self.name == "torch" and self.device.type == "cuda":
            import torch

            torch.cuda.synchronize(self.device)

    def _dtype(self, dtype):
        """This namespace's dtype for a name, a NumPy dtype or scalar type, or a native dtype."""
        if isinstance(dtype, (str, np.dtype, type)):
            name = _dtype_name(dtype)
            if name in _FLOAT_DTYPES:
                return self.float_dtype(name)
            if name in _OTHER_DTYPES:
                return getattr(self.xp, name)
            raise ConfigError(f"unsupported dtype {name!r}; expected one of {_FLOAT_DTYPES + _OTHER_DTYPES}")
        return dtype

    def __str__(self) -> str:
        return f"{self.spec} ({self.device_name})"

    def __reduce__(self):
        # A backend pickles as its spec and is looked up again where it is unpickled (the
        # namespace module and the device object do not pickle); see unpickle_on.
        return (_unpickle_backend, (self.spec,))


def resolve_seed(seed) -> int:
    """An integer seed from what scikit-learn users pass as ``random_state``.

    Parameters
    ----------
    seed : int, None, numpy.random.RandomState or numpy.random.Generator
        An int ≥ 0 is used as it is; ``None`` draws one from the operating system's entropy
        (a different run each time); a ``RandomState`` or ``Generator`` draws one from itself
        (so a seeded generator gives a reproducible model).

    Returns
    -------
    int
        A seed in ``[0, 2**32)``, recorded with the model (``get_config``, checkpoints).
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**32)
    if isinstance(seed, np.random.RandomState):
        return int(seed.randint(0, 2**32 - 1, dtype=np.int64))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**32 - 1))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidInputType(f"seed must be an int >= 0, None, or a numpy RandomState/Generator, "
                        f"got {type(seed).__name__}")
    if seed < 0:
        raise InvalidInput(f"seed must be >= 0, got {seed}")
    return int(seed)


# -- unpickling onto a chosen backend ----------------------------------------------------------
UNPICKLE_ENV_VAR = "XPNET_UNPICKLE_BACKEND"
_UNPICKLE_TARGET: contextvars.ContextVar[str | None] = contextvars.ContextVar("xpnet_unpickle_on",
                                                                              default=None)


@contextlib.contextmanager
def unpickle_on(spec: str | None):
    """Unpickle xpnet models and backends onto ``spec`` instead of the backend they were on.

    A pickled [`MLP`][xpnet.model.MLP] stores its weights as NumPy arrays and its backend as a
    spec (e.g. ``"cupy:0"``); unpickling looks that spec up again with [`get_backend`][xpnet.backend.get_backend],
    so a model pickled on a GPU fails, where there is none, with [`BackendUnavailable`][xpnet.backend.BackendUnavailable].
    Load it onto the CPU explicitly instead:

        with xpnet.backend.unpickle_on("cpu"):
            model = pickle.load(f)          # or joblib.load(path)

    The environment variable ``XPNET_UNPICKLE_BACKEND`` (e.g. ``=cpu``) does the same for a
    whole process (worker processes, for instance); the context manager takes precedence.

    Parameters
    ----------
    spec : str or None
        Any spec [`get_backend`][xpnet.backend.get_backend] understands; ``None`` restores the default (each object's
        own backend).
    """
    token = _UNPICKLE_TARGET.set(spec)
    try:
        yield
    finally:
        _UNPICKLE_TARGET.reset(token)


def unpickle_target(saved_spec: str) -> Backend:
    """The backend an object pickled on ``saved_spec`` is unpickled onto (see [`unpickle_on`][xpnet.backend.unpickle_on])."""
    target = _UNPICKLE_TARGET.get() or os.environ.get(UNPICKLE_ENV_VAR) or None
    try:
        return get_backend(target or saved_spec)
    except BackendUnavailable as exc:
        if target:
            raise
        raise BackendUnavailable(
            f"{exc}. The object was pickled on {saved_spec!r}; to load it onto the CPU instead, "
            "unpickle it inside `with xpnet.backend.unpickle_on('cpu'):` "
            f"(or set {UNPICKLE_ENV_VAR}=cpu)") from None


def _unpickle_backend(spec: str) -> Backend:
    return unpickle_target(spec)


def _dtype_name(dtype) -> str:
    if isinstance(dtype, str):
        return dtype
    try:
        return np.dtype(dtype).name
    except TypeError:
        return str(dtype).rsplit(".", 1)[-1]


def array_library(x) -> str | None:
    """Which array library ``x`` belongs to: ``"numpy"``, ``"cupy"``, ``"torch"``, ``"jax"``,
    ``"dask"``, ``"array_api_strict"``, another namespace's name, or ``None`` (not an array).

    Recognised with ``array_api_compat``'s ``is_*_array`` helpers, which look only at
    libraries already imported (so asking never imports one).
    """
    import array_api_compat as aac

    for name, test in (("numpy", aac.is_numpy_array), ("cupy", aac.is_cupy_array),
                       ("torch", aac.is_torch_array), ("jax", aac.is_jax_array),
                       ("dask", aac.is_dask_array)):
        if test(x):
            return name
    if not aac.is_array_api_obj(x):
        return None
    try:
        xp = array_namespace(x)
    except TypeError:
        return None
    return "array_api_strict" if aac.is_array_api_strict_namespace(xp) else xp.__name__


def device_of(x):
    """The device of array ``x`` (`array_api_compat.device`: also for NumPy and arrays
    without a ``.device`` attribute).
    """
    from array_api_compat import device

    return device(x)


def _is_native(backend: Backend, x) -> bool:
    if backend.name == "numpy":
        return False  # np.asarray handles it
    if array_library(x) != backend.name:
        return False
    # an array of the right library; move it if it is on another device
    return _same_device(backend, x)


def _same_device(backend: Backend, x) -> bool:
    try:
        return device_of(x) == backend.device
    except Exception:  # jax arrays spread over devices, etc.
        return False


# -- discovery ---------------------------------------------------------------------------------
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
                BackendInfo(f"torch:cuda:{i}", "torch", True, torch.cuda.get_device_name(i),
                            f"PyTorch {torch.__version__}")
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
        rows.append(BackendInfo("array_api_strict", "array_api_strict", False, "-",
                                "array-api-strict is not installed (pip install array-api-strict)"))
    else:
        rows.append(BackendInfo("array_api_strict", "array_api_strict", True, "CPU_DEVICE",
                                f"array-api-strict {strict.__version__} (conformance testing only; slow)"))
    return rows


# -- selection ---------------------------------------------------------------------------------
_ALIASES = {
    "cpu": "numpy",
    "np": "numpy",
    "gpu": "cupy",
    "cuda": "cupy",
    "strict": "array_api_strict",
    "array-api-strict": "array_api_strict",
}


def get_backend(spec: str | Backend | None = None) -> Backend:
    """Resolve a backend spec (see the module docstring) to a [`Backend`][xpnet.backend.Backend].

    ``None`` means ``$XPNET_BACKEND`` if set, else ``"auto"``. Raises [`BackendUnavailable`][xpnet.backend.BackendUnavailable]
    when an explicitly requested library or device is missing, and ``ValueError`` for a spec
    xpnet does not know.
    """
    if isinstance(spec, Backend):
        return spec
    if spec is None:
        spec = os.environ.get(ENV_VAR) or "auto"
        source = f"${ENV_VAR}" if os.environ.get(ENV_VAR) else "default"
    else:
        source = "argument"
    raw = str(spec).strip().lower()
    if raw == "auto":
        return _auto()
    lib, _, rest = raw.partition(":")
    if lib == "cuda" and rest:  # "cuda:1"
        lib = "cupy"
    lib = _ALIASES.get(lib, lib)
    try:
        if lib == "numpy":
            if rest not in ("", "cpu"):
                raise ConfigError(f"NumPy runs only on the CPU; got {spec!r}")
            return _numpy_backend()
        if lib == "cupy":
            return _cupy_backend(int(rest) if rest else 0)
        if lib == "torch":
            return _torch_backend(rest or "cpu")
        if lib == "jax":
            return _jax_backend(rest)
        if lib == "array_api_strict":
            return _strict_backend(rest)
    except BackendUnavailable as exc:
        raise BackendUnavailable(f"backend {spec!r} (from {source}) is unavailable: {exc}") from None
    raise ConfigError(
        f"unknown backend {spec!r} (from {source}); expected one of: auto, cpu, numpy, gpu, cuda, "
        "cuda:N, cupy, torch, torch:cuda, jax, array_api_strict"
    )


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

    device = torch.device(where if where != "gpu" else "cuda")
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
    dev = strict.Device("CPU_DEVICE" if name.lower() in ("cpu", "cpu_device") else name)
    spec = "array_api_strict" if dev == strict.Device("CPU_DEVICE") else f"array_api_strict:{name}"
    return Backend("array_api_strict", strict, dev, str(name), spec)


# -- host memory: no page faults for NumPy's temporaries ----------------------------------------
_ALLOCATOR_TUNED: bool | None = None
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def tune_host_allocator() -> bool:
    """Let glibc's malloc keep freed memory for reuse instead of handing it back to the kernel.

    NumPy takes each array's memory from malloc. glibc serves blocks above its mmap threshold
    (adaptive, at most 32 MiB) with fresh mappings and unmaps them when freed, and trims the top
    of its heap once more than twice that threshold is free there. A training step allocates
    and frees the same temporaries every step (a 400 KiB batch and gradient at batch 128, 30 MiB
    activations at full batch), so their pages are faulted in and zeroed anew each time. With
    the mmap threshold at 64 MiB and the trim threshold at 512 MiB they stay in the heap:
    full-batch SGD went from 1.22× to 1.10× the GEMM floor, batch 128 from 1.51× to 1.44×
    (benchmarks/RESULTS.md). The cost: up to 512 MiB of freed memory stays with the process.

    It is an explicit call, never made by :meth:`MLP.fit <xpnet.model.MLP.fit>`: ``xpnet train``
    (on NumPy) and the benchmark make it; call it yourself before training on NumPy in a
    process whose memory use you control. Process-wide and done once.

    Returns
    -------
    bool
        Whether the thresholds were raised: False without glibc (musl, macOS, Windows) and
        when the environment variable ``XPNET_MALLOC_TUNING=0`` opts out (nothing changes then).
    """
    global _ALLOCATOR_TUNED
    if os.environ.get("XPNET_MALLOC_TUNING", "1") == "0":
        log.debug("XPNET_MALLOC_TUNING=0: glibc malloc thresholds left alone")
        return bool(_ALLOCATOR_TUNED)
    if _ALLOCATOR_TUNED is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None)
            _ALLOCATOR_TUNED = bool(libc.mallopt(_M_MMAP_THRESHOLD, 64 << 20)) and bool(
                libc.mallopt(_M_TRIM_THRESHOLD, 512 << 20))
        except (OSError, AttributeError):  # no glibc (musl, macOS, Windows)
            _ALLOCATOR_TUNED = False
        log.debug("glibc malloc thresholds raised: %s", _ALLOCATOR_TUNED)
    return _ALLOCATOR_TUNED


def host_allocator_tuned() -> bool | None:
    """Whether [`tune_host_allocator`][xpnet.backend.tune_host_allocator] raised glibc's thresholds in this process.

    Returns
    -------
    bool or None
        ``None`` if it has not been tried (or was opted out of), else what it returned.
    """
    return _ALLOCATOR_TUNED


# -- the namespace of arrays, memoised -----------------------------------------------------------
_NAMESPACES: dict[tuple, Any] = {}


def array_namespace(*arrays):
    """`array_api_compat.array_namespace`, memoised on the types of ``arrays``.

    An array's namespace depends only on its type, and the math modules ask for it in every
    function, about ten times per training step. ``array_api_compat`` works it out anew each
    time (3–5 µs); this looks it up in a dict (0.3 µs): 2–4 % of an epoch at batch 128 on NumPy
    (benchmarks/RESULTS.md). Arrays of different libraries still raise ``TypeError``.
    """
    key = tuple(map(type, arrays))
    xp = _NAMESPACES.get(key)
    if xp is None:
        from array_api_compat import array_namespace as find

        xp = _NAMESPACES[key] = find(*arrays)
    return xp


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


def to_numpy(x) -> np.ndarray:
    """Copy any supported array (NumPy, CuPy, PyTorch, JAX, array-api-strict) to NumPy."""
    if isinstance(x, np.ndarray):
        return x
    return backend_of(x).to_numpy(x)


from ._typing import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
