"""The planned step (xpnet.nn.plan) and the per-library kernels (xpnet.backend.kernels) are speed
work only: they give the numbers of the general step, bit for bit, on every backend of
conftest's ``backend`` fixture (NumPy, array-api-strict and its device1, PyTorch, JAX, CuPy
when present), and the training loop takes them only for runs that need nothing else."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.backend import Kernels, NumPyKernels, TorchKernels, kernels
from xpnet.model import training
from xpnet.nn import losses, plan
from xpnet.nn.step import batch_gradients

ACTIVATIONS = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]
HEADS = {
    "cross_entropy": losses.CrossEntropy(),
    "smoothed": losses.CrossEntropy(0.1),
    "squared_error": losses.SquaredError(),
    "poisson": losses.PoissonDeviance(),
}


def same(backend, a, b) -> None:
    """``a`` and ``b`` hold the same numbers, bit for bit (NaN where NaN), and the same dtype."""
    a, b = backend.to_numpy(a), backend.to_numpy(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b, strict=True)


def problem(backend, sizes, m, head, dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"] = backend.asarray(rng.normal(size=(n_out, n_in)) / np.sqrt(n_in), dtype)
        params[f"b{l}"] = backend.asarray(rng.normal(size=n_out) * 0.1, dtype)
    X = backend.asarray(rng.normal(size=(m, sizes[0])), dtype)
    if head.classifies:
        y = backend.asarray(rng.integers(0, sizes[-1], m), "int64")
    else:
        y = backend.asarray(rng.poisson(1.0, size=(m, sizes[-1])), dtype)
    T = head.targets(y, sizes[-1], backend.float_dtype(dtype))
    return params, X, T


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_planned_step_is_batch_gradients_bit_for_bit(backend, activation, dtype):
    for sizes in ([6, 5], [6, 5, 4], [6, 7, 5, 4]):
        for name, head in HEADS.items():
            params, X, T = problem(backend, sizes, 9, head, dtype)
            step = plan.plan_step(params, backend.xp, activation=activation, head=head)
            for m in (9, 4, 9):  # a shorter batch in between: its own ones-vector, then the first again
                ell, miss, grads = step(params, X[:m, ...], T[:m, ...], 0.25)
                ref = batch_gradients(params, X[:m, ...], T[:m, ...], activation=activation, head=head, scale=0.25)
                same(backend, ell, ref.losses)
                assert (miss is None) == (ref.misses is None) == (not head.classifies), name
                if miss is not None:
                    same(backend, miss, ref.misses)
                assert list(grads) == list(ref.grads) == list(params)
                for k in params:
                    same(backend, grads[k], ref.grads[k])


def test_the_kernels_are_the_standard_spelling_bit_for_bit(backend):
    """Each library's kernels against the standard spelling, on values with ties, zeros, signed
    zeros, infinities and NaN."""
    xp = backend.xp
    k, standard = kernels(xp), Kernels(xp)
    assert isinstance(k, NumPyKernels) == (backend.name == "numpy")
    assert isinstance(k, TorchKernels) == (backend.name == "torch")
    values = np.array([[0.0, -0.0, 1.5, -2.0, 1.5], [np.inf, -np.inf, 3.0, np.nan, -1e-30], [7.0, 7.0, -7.0, 0.0, 2.0]])
    for dtype in ("float32", "float64"):
        Z = backend.asarray(values, dtype)
        same(backend, k.row_max(Z), standard.row_max(Z))
        same(backend, k.sign(Z), standard.sign(Z))
        same(backend, k.relu(Z), standard.relu(Z))
        Y = backend.asarray(values[::-1, :] - 1.0, dtype)
        same(backend, k.vecdot_rows(Y, Z), standard.vecdot_rows(Y, Z))
        same(backend, k.vecdot_rows(Z[:, :3], Z[:, 2:]), standard.vecdot_rows(Z[:, :3], Z[:, 2:]))
        dA = backend.asarray(np.arange(15.0).reshape(3, 5) - 7.0, dtype)
        dA2 = backend.asarray(np.arange(15.0).reshape(3, 5) - 7.0, dtype)
        same(backend, k.relu_backward_inplace(dA, Z), standard.relu_backward_inplace(dA2, Z))
        idx = backend.asarray(np.array([2, 0, 2, 1]), backend.index_dtype)
        same(backend, k.take_rows(Z, idx), standard.take_rows(Z, idx))
        w = backend.asarray(values[:, 2], dtype)
        same(backend, k.take_rows(w, idx), standard.take_rows(w, idx))
    assert kernels(xp) is k  # made once per namespace


def general_step(params, xp, *, activation, head):
    """A stand-in for plan_step that runs the general step."""

    def step(params, X, T, scale):
        ell, miss, grads, _ = batch_gradients(params, X, T, activation=activation, head=head, scale=scale)
        return ell, miss, grads

    return step


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_fit_on_the_planned_step_trains_as_on_the_general_one(backend, monkeypatch, opt):
    """The whole loop (gathers, the planned step, the update, the epoch's sums) gives the weights
    and logs the general step gives, bit for bit: shuffled batches with a shorter last one,
    slices, the full batch, and a schedule that changes the rate inside an epoch."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(45, 7)).astype(np.float32)
    y = rng.integers(0, 3, 45)
    cases = [dict(batch_size=8), dict(batch_size=8, shuffle=False), dict(batch_size=None)]
    for kwargs in cases:
        results = []
        for stand_in in (None, general_step):
            if stand_in is not None:
                monkeypatch.setattr(training, "plan_step", stand_in)
            model = xpnet.MLP([7, 6, 5, 3], backend=backend, seed=3)
            schedule = xpnet.optim.Cosine()
            o = xpnet.optim.SGD(0.1, schedule=schedule) if opt == "sgd" else xpnet.optim.Adam(1e-2, schedule=schedule)
            history = model.fit(X, y, epochs=2, optimizer=o, compile=False, **kwargs)
            results.append((model.numpy_params(), history.loss, history.accuracy))
            monkeypatch.undo()
        (p1, loss1, acc1), (p2, loss2, acc2) = results
        assert loss1 == loss2 and acc1 == acc2, kwargs
        for k in p1:
            np.testing.assert_array_equal(p1[k], p2[k], strict=True)


def test_only_a_run_without_weights_dropout_or_l2_is_planned(monkeypatch):
    """A plain run never calls batch_gradients; a run with sample weights, dropout or L2 never
    plans (it needs what only the general step does)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 4)).astype(np.float32)
    y = rng.integers(0, 2, 30)
    calls = {"plan": 0, "general": 0}
    real_plan, real_general = training.plan_step, training.batch_gradients

    def counted_plan(*a, **k):
        calls["plan"] += 1
        return real_plan(*a, **k)

    def counted_general(*a, **k):
        calls["general"] += 1
        return real_general(*a, **k)

    monkeypatch.setattr(training, "plan_step", counted_plan)
    monkeypatch.setattr(training, "batch_gradients", counted_general)
    xpnet.MLP([4, 5, 2], backend="numpy", seed=0).fit(X, y, epochs=3, batch_size=8)
    assert calls == {"plan": 3, "general": 0}  # once per epoch, before its loop
    for model, kwargs in [
        (xpnet.MLP([4, 5, 2], backend="numpy", seed=0), dict(sample_weight=np.ones(30))),
        (xpnet.MLP([4, 5, 2], backend="numpy", seed=0), dict(l2=1e-3)),
        (xpnet.MLP([4, 5, 2], backend="numpy", seed=0, dropout=0.2), {}),
    ]:
        calls.update(plan=0, general=0)
        model.fit(X, y, epochs=1, batch_size=8, **kwargs)
        assert calls == {"plan": 0, "general": 4}, kwargs
