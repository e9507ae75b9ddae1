"""The operation and transfer counter (tests/tooling/opcount.py) counts exactly what code issues."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from tests.tooling.opcount import OpCounter


@pytest.fixture(params=["array_api_strict", "array_api_strict:device1"])
def strict(request):
    return xpnet.get_backend(request.param)


def test_counts_each_call_once(strict):
    xp = strict.xp
    x = strict.asarray(np.arange(6.0).reshape(2, 3), "float32")
    with OpCounter(strict) as ops:
        y = x + 1.0  # add
        y *= 2.0  # imul
        z = y @ x.T  # T, matmul
        s = xp.sum(z)  # sum (its own internal calls are not counted again)
        e = xp.exp(y[0, :])  # getitem, exp
        value = float(s)  # a scalar read
    assert dict(ops.counts) == {"add": 1, "imul": 1, "T": 1, "matmul": 1, "sum": 1, "getitem": 1, "exp": 1}
    assert ops.total == 7 and ops.reads == 1
    assert [(t.kind, t.size) for t in ops.transfers] == [("scalar", 1)]
    assert value == float(np.sum((np.arange(6.0).reshape(2, 3) + 1) * 2 @ np.arange(6.0).reshape(2, 3).T))
    assert tuple(e.shape) == (3,)


def test_transfers_are_recorded_with_their_size(strict):
    xp = strict.xp
    with OpCounter(strict) as ops:
        a = strict.asarray(np.zeros((4, 5)), "float32")  # host → device: 20 elements
        xpnet.to_numpy(a)  # device → host
        xp.zeros((3,), device=strict.device)  # created on the device: no transfer
    kinds = [(t.kind, t.size) for t in ops.transfers]
    assert kinds[0] == ("to_device", 20)
    assert ("to_host", 20) in kinds
    if strict.spec.endswith("device1"):
        assert ("move", 20) in kinds  # to the CPU device first
    assert ops.large_transfers(20) == [t for t in ops.transfers if t.size == 20]


def test_each_host_read_is_recorded_once_and_a_failed_one_not_at_all(strict):
    # np.asarray reads through __buffer__ on Python >= 3.12 and through __array__ before; on a
    # device other than the CPU both refuse (NumPy tries one, then the other): no read happened.
    x = strict.asarray(np.zeros((2, 3)), "float32")
    with OpCounter(strict) as ops:
        if strict.spec.endswith("device1"):
            with pytest.raises(RuntimeError):
                np.asarray(x)
        else:
            np.asarray(x)
    expected = [] if strict.spec.endswith("device1") else [("to_host", 6)]
    assert [(t.kind, t.size) for t in ops.transfers] == expected


def test_everything_is_restored_afterwards(strict):
    xp = strict.xp
    cls = type(strict.asarray(np.zeros(1), "float32"))
    before = (cls.__add__, cls.__float__, xp.exp, xp.asarray, xpnet.nn.network.array_namespace)
    with OpCounter(strict) as ops:
        assert cls.__add__ is not before[0]
    assert (cls.__add__, cls.__float__, xp.exp, xp.asarray, xpnet.nn.network.array_namespace) == before
    x = strict.asarray(np.ones(3), "float32")
    _ = xp.exp(x + x)
    assert ops.total == 0


def test_counts_namespace_lookups_of_xpnet(strict):
    x = strict.asarray(np.ones((2, 3)), "float32")
    with OpCounter(strict) as ops:
        xpnet.nn.network.softmax(x)
    assert ops.lookups == 1


def test_builtin_array_types_are_refused():
    with pytest.raises(xpnet.errors.InvalidInputType, match="array_api_strict"):
        with OpCounter(xpnet.get_backend("numpy")):
            pass
    # nothing was left patched
    assert xpnet.nn.network.array_namespace is xpnet.backend.array_namespace
