"""Count the array operations, device reads and host↔device transfers that code issues.

On a GPU every array operation is at least one kernel launch (a few microseconds, however small
the arrays), so the number of operations a training step issues bounds how fast small networks
can train there. This module counts them without a GPU: it runs the code on a backend whose
arrays are plain Python objects (array-api-strict, which runs exactly the standard code path
that CuPy runs) and wraps, while a [`OpCounter`][tests.tooling.opcount.OpCounter] is active,

* every public function of the namespace (``xp.exp``, ``xp.take``, ``xp.sum``, ...),
* every operator and indexing method of the array class (``+``, ``+=``, ``@``, ``>``, ``[]``,
  ``.T``, ...),
* the ways data leaves or enters the device: ``xp.asarray`` of a non-array (host → device),
  ``x.to_device(...)`` (a device move), ``np.asarray(x)``/DLPack (device → host) and
  ``float(x)``/``int(x)``/``bool(x)`` (a scalar read, which also synchronises with the device).

Calls made *inside* a counted call (array-api-strict's own implementation) are not counted
again: one ``xp.sum(x)`` in the code is one operation. Inspection functions that compute
nothing on arrays (``isdtype``, ``result_type``, ``finfo``, ...) are not counted.

Example
-------
>>> import xpnet
>>> from tests.tooling.opcount import count_step_ops
>>> model = xpnet.MLP([784, 128, 10], backend="array_api_strict")   # doctest: +SKIP
>>> steps = count_step_ops(model, X, y, batch_size=128, optimizer=xpnet.nn.optim.SGD(0.1))  # doctest: +SKIP
>>> steps.steady                        # operations of one steady-state training step  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from xpnet.errors import InvalidInput, InvalidInputType

__all__ = ["OpCounter", "Transfer", "StepOps", "count_step_ops", "VIEWS"]

#: Array methods counted as operations: arithmetic, bitwise, comparison (plain, reflected and
#: in-place), matrix product, indexing.
_OPERATORS = tuple(
    f"__{p}{name}__"
    for name in (
        "add",
        "sub",
        "mul",
        "truediv",
        "floordiv",
        "mod",
        "pow",
        "matmul",
        "and",
        "or",
        "xor",
        "lshift",
        "rshift",
    )
    for p in ("", "r", "i")
) + (
    "__neg__",
    "__pos__",
    "__abs__",
    "__invert__",
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__getitem__",
    "__setitem__",
)
#: Array properties that are operations (a transposed view).
_PROPERTIES = ("T", "mT")
#: Array methods that copy the array (or a scalar) to the host.
_SCALAR_READS = ("__float__", "__int__", "__bool__", "__index__", "__complex__")
#: ``__buffer__``: on Python >= 3.12 ``np.asarray(x)`` reads an array-api-strict array through
#: the buffer protocol (PEP 688) and reaches ``__array__`` only when that fails.
_ARRAY_READS = ("__array__", "__buffer__", "__dlpack__")
#: Operations that make a view (no kernel on CuPy, no pass over memory anywhere). Indexing with
#: integer arrays is a gather, counted as ``getitem_array``.
VIEWS = frozenset({"T", "mT", "getitem", "reshape", "expand_dims", "squeeze", "permute_dims", "broadcast_to"})
#: Namespace functions that compute nothing on arrays.
_NOT_OPERATIONS = frozenset(
    {
        "isdtype",
        "result_type",
        "can_cast",
        "finfo",
        "iinfo",
        "__array_namespace_info__",
        "get_array_api_strict_flags",
        "set_array_api_strict_flags",
        "reset_array_api_strict_flags",
        "ArrayAPIStrictFlags",
        "Device",
    }
)


@dataclass(frozen=True)
class Transfer:
    """One movement of data across the host/device boundary (or between devices).

    ``kind`` is ``"to_device"`` (``xp.asarray`` of host data), ``"move"`` (``x.to_device``
    to another device), ``"to_host"`` (``np.asarray(x)``, DLPack) or ``"scalar"``
    (``float(x)`` and the like); ``size`` is the number of elements, ``shape`` their shape.
    """

    kind: str
    size: int
    shape: tuple


def _shape_of(obj) -> tuple:
    shape = getattr(obj, "shape", None)
    if shape is None:
        try:
            import numpy as np  # only to measure host data handed to asarray

            shape = np.shape(obj)
        except Exception:  # not array-like: count it as one element
            shape = ()
    return tuple(int(s) for s in shape)


class OpCounter:
    """While active (``with OpCounter(backend) as ops: ...``), count what goes through a namespace.

    Parameters
    ----------
    backend : Backend or module
        The [`Backend`][xpnet.backend.Backend] (or its namespace ``xp``) whose operations to count.
        Its arrays must be instances of a Python class (array-api-strict; PyTorch partly), not
        of a built-in type such as ``numpy.ndarray``, whose operators cannot be wrapped.

    Attributes
    ----------
    counts : collections.Counter
        Calls per operation name (``"matmul"`` is ``@``, ``"iadd"`` is ``+=``, ``"take"`` is
        ``xp.take``, ...).
    lookups : int
        Calls of [`xpnet.backend.array_namespace`][xpnet.backend.array_namespace] made by xpnet's modules.
    transfers : list of Transfer
        Every host↔device movement and device read, in order.

    Raises
    ------
    InvalidInputType
        The backend's arrays are of a built-in type (NumPy, CuPy): count on array-api-strict,
        which runs the same code.
    """

    def __init__(self, backend: Any):
        xp = getattr(backend, "xp", backend)
        device = getattr(backend, "device", None)
        self.xp = xp
        probe = xp.asarray(0.0) if device is None else xp.asarray(0.0, device=device)
        self.array_type = type(probe)
        self.counts: Counter = Counter()
        self.lookups = 0
        self.transfers: list[Transfer] = []
        self._depth = 0
        self._undo: list = []
        self._active = False

    # -- results ----------------------------------------------------------------------------
    @property
    def total(self) -> int:
        """All operations counted so far."""
        return sum(self.counts.values())

    @property
    def kernels(self) -> int:
        """The operations that compute ([`total`][tests.tooling.opcount.OpCounter.total] less the views in `VIEWS`): on a
        GPU each is at least one kernel launch.
        """
        return sum(c for name, c in self.counts.items() if name not in VIEWS)

    @property
    def reads(self) -> int:
        """Device → host reads so far (scalars and arrays): each one waits for the device."""
        return sum(1 for t in self.transfers if t.kind in ("scalar", "to_host"))

    def large_transfers(self, min_size: int) -> list[Transfer]:
        """The transfers and moves of at least ``min_size`` elements."""
        return [t for t in self.transfers if t.size >= min_size]

    def snapshot(self) -> Counter:
        """A copy of `counts` now (subtract two snapshots to count a stretch of code)."""
        return Counter(self.counts)

    # -- wrapping ---------------------------------------------------------------------------
    def _counted(self, name: str, fn, on_call=None, on_success=None):
        """``fn`` wrapped: counted as ``name`` (or ``on_call(*args)``) before the call, and
        ``on_success(*args)`` after it returns (a read that fails, such as ``__buffer__`` of an
        array on another device before NumPy falls back to ``__array__``, is no read).
        """
        counter = self

        @functools.wraps(fn)
        def counted(*args, **kwargs):
            if counter._depth:
                return fn(*args, **kwargs)
            counter._depth += 1
            try:
                if on_call is None and on_success is None:
                    counter.counts[name] += 1
                elif on_call is not None:
                    on_call(*args, **kwargs)
                result = fn(*args, **kwargs)
                if on_success is not None:
                    on_success(*args, **kwargs)
                return result
            finally:
                counter._depth -= 1

        return counted

    def _patch(self, owner, name: str, value) -> None:
        had = name in vars(owner)
        old = vars(owner).get(name)
        setattr(owner, name, value)
        self._undo.append((owner, name, had, old))

    def _on_asarray(self, obj, *args, **kwargs):
        self.counts["asarray"] += 1
        if not isinstance(obj, self.array_type):
            shape = _shape_of(obj)
            self.transfers.append(Transfer("to_device", math.prod(shape), shape))
        elif kwargs.get("device") is not None and kwargs["device"] != obj.device:
            self.transfers.append(Transfer("move", obj.size, tuple(obj.shape)))

    def _on_getitem(self, x, key, *args, **kwargs):
        keys = key if isinstance(key, tuple) else (key,)
        gather = any(isinstance(k, self.array_type) for k in keys)
        self.counts["getitem_array" if gather else "getitem"] += 1

    def _on_to_device(self, x, device, *args, **kwargs):
        self.counts["to_device"] += 1
        if device != x.device:
            self.transfers.append(Transfer("move", x.size, tuple(x.shape)))

    def _on_read(self, kind):
        def record(x, *args, **kwargs):
            self.transfers.append(Transfer(kind, x.size, tuple(x.shape)))

        return record

    def __enter__(self) -> OpCounter:
        if self._active:
            raise InvalidInput("this OpCounter is already active")
        cls, xp = self.array_type, self.xp
        try:
            for name in _OPERATORS:
                if name in dir(cls):
                    hook = self._on_getitem if name == "__getitem__" else None
                    self._patch(cls, name, self._counted(name.strip("_"), getattr(cls, name), hook))
        except TypeError:
            self._restore()
            raise InvalidInputType(
                f"cannot count the operators of {cls.__module__}.{cls.__name__}, a built-in type; "
                "count on backend 'array_api_strict' instead, which runs the same code"
            ) from None
        for name in _PROPERTIES:
            prop = vars(cls).get(name)
            if isinstance(prop, property):
                self._patch(cls, name, property(self._counted(name, prop.fget)))
        for name in _SCALAR_READS:
            if name in dir(cls):
                self._patch(cls, name, self._counted(name, getattr(cls, name), on_success=self._on_read("scalar")))
        for name in _ARRAY_READS:
            if name in dir(cls):
                self._patch(cls, name, self._counted(name, getattr(cls, name), on_success=self._on_read("to_host")))
        if "to_device" in dir(cls):
            self._patch(cls, "to_device", self._counted("to_device", cls.to_device, self._on_to_device))
        for name in dir(xp):
            fn = getattr(xp, name)
            if name.startswith("_") or name in _NOT_OPERATIONS or not callable(fn) or inspect.isclass(fn):
                continue
            hook = self._on_asarray if name == "asarray" else None
            self._patch(xp, name, self._counted(name, fn, hook))
        self._patch_lookups()
        self._active = True
        return self

    def _patch_lookups(self) -> None:
        from xpnet import backend

        original = backend.array_namespace
        counter = self

        @functools.wraps(original)
        def counted_namespace(*arrays):
            counter.lookups += 1
            return original(*arrays)

        for mod_name, mod in list(sys.modules.items()):
            if (mod_name == "xpnet" or mod_name.startswith("xpnet.")) and getattr(
                mod, "array_namespace", None
            ) is original:
                self._patch(mod, "array_namespace", counted_namespace)

    def _restore(self) -> None:
        for owner, name, had, old in reversed(self._undo):
            if had:
                setattr(owner, name, old)
            else:
                delattr(owner, name)
        self._undo.clear()

    def __exit__(self, *exc) -> None:
        self._restore()
        self._active = False


@dataclass
class StepOps:
    """Operations per training step, as counted by [`count_step_ops`][tests.tooling.opcount.count_step_ops].

    Attributes
    ----------
    steps : list of collections.Counter
        Operation names and counts of every step, in order. A step runs from the end of the
        previous step's ``on_batch_end`` to the end of its own, so the first step of an epoch
        also holds the epoch's set-up (the shuffle order, the accumulators).
    lookups : list of int
        Namespace lookups of every step.
    reads : list of int
        Device → host reads of every step (0 in a loop that never synchronises).
    """

    steps: list
    lookups: list
    reads: list

    @property
    def totals(self) -> list[int]:
        """All operations of every step (views included)."""
        return [sum(c.values()) for c in self.steps]

    @property
    def kernels(self) -> list[int]:
        """The computing operations of every step (without the views in `VIEWS`)."""
        return [sum(n for name, n in c.items() if name not in VIEWS) for c in self.steps]

    @property
    def steady_kernels(self) -> int:
        """The most common number of computing operations per step."""
        return Counter(self.kernels).most_common(1)[0][0]

    @property
    def steady(self) -> int:
        """The most common number of operations per step (the steady state)."""
        return Counter(self.totals).most_common(1)[0][0]

    @property
    def steady_counts(self) -> Counter:
        """The operation counts of the first step with [`steady`][tests.tooling.opcount.StepOps.steady] operations."""
        return next(c for c in self.steps if sum(c.values()) == self.steady)


def count_step_ops(model, X, y, **fit_kwargs) -> StepOps:
    """Train ``model`` with ``model.fit(X, y, **fit_kwargs)`` and count each step's operations.

    Parameters
    ----------
    model : MLP
        A model on a backend [`OpCounter`][tests.tooling.opcount.OpCounter] can count (array-api-strict).
    X, y : arrays
        Training data, as for [`fit`][xpnet.model.mlp.MLP.fit].
    **fit_kwargs
        Passed on to [`fit`][xpnet.model.mlp.MLP.fit] (``epochs``, ``batch_size``, ``optimizer``, ...);
        a ``callbacks`` list is extended, not replaced.

    Returns
    -------
    StepOps
        The counts of every step of the run.
    """
    from xpnet.model.mlp import Callback

    counter = OpCounter(model.backend)
    marks: list[tuple[Counter, int, int]] = []

    class Mark(Callback):
        def on_train_begin(self, model, epochs, n_batches):
            marks.append((counter.snapshot(), counter.lookups, counter.reads))

        def on_epoch_begin(self, model, epoch):
            marks.append((counter.snapshot(), counter.lookups, counter.reads))

        def on_batch_end(self, model, epoch, batch, n_batches):
            marks.append((counter.snapshot(), counter.lookups, counter.reads))
            mark_is_step.append(len(marks) - 1)

    mark_is_step: list[int] = []
    callbacks = [*fit_kwargs.pop("callbacks", ()), Mark()]
    with counter:
        model.fit(X, y, callbacks=callbacks, **fit_kwargs)
    steps, lookups, reads = [], [], []
    for i in mark_is_step:
        # From the previous mark: the previous step's end, or the epoch's start for its first
        # step (whose count then includes the epoch's set-up; the epoch's end is in no step).
        (c1, l1, r1), (c0, l0, r0) = marks[i], marks[i - 1]
        steps.append(c1 - c0)
        lookups.append(l1 - l0)
        reads.append(r1 - r0)
    return StepOps(steps, lookups, reads)
