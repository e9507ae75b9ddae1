"""The [`Backend`][xpnet.backend.Backend] object: a chosen array library and device, moving
arrays between the host (NumPy) and that device, and host random numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError, InvalidInput, InvalidInputType, XpnetError
from . import _allocator
from ._arrays import array_library, device_of, to_numpy

__all__ = ["Backend", "BackendUnavailable", "resolve_seed"]

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
        return (
            "cuda" in self.spec
            or self.name == "cupy"
            or (self.name == "jax" and getattr(self.device, "platform", "cpu") == "gpu")
        )

    def float_dtype(self, name: str = "float32"):
        """The namespace's floating dtype called ``name`` (``"float32"`` or ``"float64"``)."""
        if name not in _FLOAT_DTYPES:
            raise ConfigError(f"dtype must be one of {_FLOAT_DTYPES}, got {name!r}")
        if self.name == "jax" and name == "float64":
            import jax

            # float64 stays float64 only in 64-bit mode: jax.config.jax_enable_x64, read through a
            # function jax's type hints declare (its Config class does not declare its options).
            if jax.dtypes.canonicalize_dtype(np.float64) != np.float64:
                raise BackendUnavailable(
                    "float64 on JAX needs 64-bit mode: set JAX_ENABLE_X64=1 before importing jax "
                    "(or call jax.config.update('jax_enable_x64', True))."
                )
        return getattr(self.xp, name)

    # -- compiling ---------------------------------------------------------------------------
    @property
    def compiles(self) -> bool:
        """True when this backend traces and compiles whole functions (JAX, with ``jax.jit``).

        Its eager operations each pay a dispatch that costs more than the arithmetic of a
        small network, so [`MLP.fit`][xpnet.model.mlp.MLP.fit] and inference run their steps
        through [`compile`][xpnet.backend.Backend.compile] there. The other backends run the
        same functions eagerly, operation by operation.
        """
        return self.name == "jax"

    def compile(self, fn, *, static_argnames: tuple[str, ...] = (), donate_argnums: tuple[int, ...] = ()):
        """``fn`` compiled for this backend (``jax.jit``), or ``fn`` itself where it runs eagerly.

        ``fn`` must be pure: array arguments in, arrays out, no side effects on arrays. Python
        floats among its arguments are traced (one compiled function serves every value);
        ``static_argnames`` are baked in (one compilation per value). The compiled function
        recompiles only for new shapes, dtypes or static values.
        """
        if not self.compiles:
            return fn
        import jax

        return jax.jit(fn, static_argnames=static_argnames, donate_argnums=donate_argnums)

    def scan(self, body, carry, xs):
        """``carry`` threaded through ``body(carry, x)`` for each slice ``x`` of ``xs`` along its
        first axis; returns the final carry.

        Inside a compiled function on JAX this is ``jax.lax.scan`` (the loop is compiled once,
        not unrolled); elsewhere a Python loop over the slices. ``xs`` is a (nested) tuple or
        dict of arrays with the same first dimension, or ``None`` leaves.
        """
        if self.compiles:
            import jax

            return jax.lax.scan(lambda c, x: (body(c, x), None), carry, xs)[0]
        leaves = [a for a in _leaves(xs) if a is not None]
        for i in range(leaves[0].shape[0] if leaves else 0):
            carry = body(carry, _map_leaves(lambda a, i=i: None if a is None else a[i, ...], xs))
        return carry

    def map(self, fn, xs):
        """``fn`` applied to each slice of ``xs`` along its first axis, the results stacked.

        ``jax.lax.map`` on JAX (compiled once inside a compiled function); elsewhere a Python
        loop and one ``stack``, so the results are read from the device at once.
        """
        if self.compiles:
            import jax

            return jax.lax.map(fn, xs)
        return self.xp.stack([fn(xs[i, ...]) for i in range(xs.shape[0])])

    @property
    def index_dtype(self):
        """The namespace's default integer dtype for indexing (int64 on NumPy; int32 on JAX
        unless 64-bit mode is on), from the standard's ``__array_namespace_info__``."""
        info = self.xp.__array_namespace_info__()
        return info.default_dtypes(device=self.device)["indexing"]

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
        host = to_numpy(x) if array_library(x) is not None else np.asarray(x)
        return np.array(host, copy=True) if copy else host

    def rng(self, seed) -> np.random.Generator:
        """A host random generator: the same seed gives the same numbers on every backend."""
        return np.random.default_rng(seed)

    def prepare_training(self) -> None:
        """Process-wide settings that make training on this backend faster, applied on request.

        NumPy: [`tune_host_allocator`][xpnet.backend.tune_host_allocator] (unless ``XPNET_MALLOC_TUNING=0``). Others: nothing.
        [`MLP.fit`][xpnet.model.mlp.MLP.fit] does **not** call it (a library call should not
        change the process); ``xpnet train`` and the benchmark do.
        """
        if self.name == "numpy":
            _allocator.tune_host_allocator()

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

    # How a Backend pickles (as its spec, looked up again where it is unpickled) is registered
    # by _pickling with copyreg: that needs get_backend, which this value object does not know.


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
        entropy = np.random.SeedSequence().entropy  # drawn from the OS: an int, never a sequence or None
        assert isinstance(entropy, int)
        return int(entropy % 2**32)
    if isinstance(seed, np.random.RandomState):
        return int(seed.randint(0, 2**32 - 1, dtype=np.int64))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**32 - 1))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidInputType(
            f"seed must be an int >= 0, None, or a numpy RandomState/Generator, got {type(seed).__name__}"
        )
    if seed < 0:
        raise InvalidInput(f"seed must be >= 0, got {seed}")
    return int(seed)


def _dtype_name(dtype) -> str:
    if isinstance(dtype, str):
        return dtype
    try:
        return np.dtype(dtype).name
    except TypeError:
        return str(dtype).rsplit(".", 1)[-1]


def _leaves(tree):
    """The leaves of a nested tuple/list/dict, in order."""
    if isinstance(tree, dict):
        return [x for k in tree for x in _leaves(tree[k])]
    if isinstance(tree, (tuple, list)):
        return [x for t in tree for x in _leaves(t)]
    return [tree]


def _map_leaves(f, tree):
    """The same nesting with ``f`` applied to every leaf."""
    if isinstance(tree, dict):
        return {k: _map_leaves(f, v) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(_map_leaves(f, t) for t in tree)
    return f(tree)


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


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
