"""The one place that knows about array libraries and devices.

Everything backend-specific lives here: finding out which libraries are installed and usable,
choosing one, moving arrays between the host (NumPy) and the device, and random numbers. The
network math ([`xpnet.nn.network`][xpnet.nn.network], [`xpnet.nn.optim`][xpnet.nn.optim], ...) never imports NumPy or CuPy; it
asks its arrays for their namespace with `array_api_compat.array_namespace` and uses only
what the Array API standard defines.

Backend specs understood by [`get_backend`][xpnet.backend.get_backend]:

| spec                                 | backend                                                                                                                      |
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

The package's modules, each with one job (import everything from ``xpnet.backend`` itself):
``_arrays`` (an array's library, device and namespace; any array to NumPy), ``_spec`` (the
spec grammar: [`parse_backend_spec`][xpnet.backend.parse_backend_spec]), ``_backend`` (the
[`Backend`][xpnet.backend.Backend] value: host ↔ device, random numbers; it knows nothing of
how backends are found), ``_discovery`` (what is installed, [`get_backend`][xpnet.backend.get_backend]
and the per-library constructors), ``_kernels`` (a training step's hottest small operations
in each library's own spelling: [`kernels`][xpnet.backend.kernels]), ``_allocator`` (glibc's malloc thresholds) and ``_pickling``
([`unpickle_on`][xpnet.backend.unpickle_on], and how a ``Backend`` pickles: as its spec).
"""

from __future__ import annotations

from ._allocator import host_allocator_tuned, tune_host_allocator
from ._arrays import array_library, array_namespace, device_of, to_numpy
from ._backend import Backend, BackendUnavailable, _is_native, resolve_seed  # noqa: F401
from ._discovery import (  # noqa: F401 (ENV_VAR: for the command line)
    ENV_VAR,
    BackendInfo,
    available_backends,
    backend_of,
    cuda_devices,
    get_backend,
)
from ._kernels import Kernels, NumPyKernels, TorchKernels, kernels
from ._pickling import UNPICKLE_ENV_VAR, _unpickle_backend, unpickle_on, unpickle_target  # noqa: F401
from ._spec import BACKEND_FORMS, BackendSpec, parse_backend_spec  # noqa: F401 (BACKEND_FORMS: for --help)

# Pickles of a Backend name ``xpnet.backend._unpickle_backend`` (as before the split): keep it so.
_unpickle_backend.__module__ = __name__

__all__ = [
    "Backend",
    "BackendInfo",
    "BackendUnavailable",
    "available_backends",
    "get_backend",
    "BackendSpec",
    "parse_backend_spec",
    "backend_of",
    "to_numpy",
    "array_namespace",
    "array_library",
    "device_of",
    "kernels",
    "Kernels",
    "NumPyKernels",
    "TorchKernels",
    "cuda_devices",
    "tune_host_allocator",
    "host_allocator_tuned",
    "unpickle_on",
    "UNPICKLE_ENV_VAR",
    "resolve_seed",
]
