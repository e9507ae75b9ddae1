"""The training step's array operations are counted and pinned, so they cannot creep back.

Counted on array-api-strict (tests/tooling/opcount.py), which runs exactly the standard code path
that CuPy runs, where every operation is at least one kernel launch. "Kernels" are the
operations that compute; views (``.T``, slices) are counted apart.

Before this pin (main at 88d5ff3) one steady step issued, at 784-128-10 batch 128: SGD 43
operations (37 kernels), Adam 83 (77); the tutorial's full-batch step: SGD 40 (35), Adam 80 (75).
"""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from tests.conftest import gamma, mean_cross_entropy_error_bound, unit_roundoff
from tests.tooling.opcount import count_step_ops
from xpnet.nn import fast, optim

# (sizes, batch size, optimizer) -> (operations, kernels) of one steady-state step, at most.
PINNED = {
    ("784-128-10", 128, "sgd"): (39, 32),
    ("784-128-10", 128, "adam"): (79, 72),
    ("tutorial", None, "sgd"): (34, 28),
    ("tutorial", None, "adam"): (74, 68),
}


def make(opt):
    return optim.SGD(lr=0.1) if opt == "sgd" else optim.Adam(lr=1e-3)


@pytest.mark.parametrize("key", list(PINNED), ids=lambda k: f"{k[0]}-b{k[1]}-{k[2]}")
def test_a_training_step_issues_no_more_operations_than_pinned(key):
    arch, batch, opt = key
    # nn.fast.ones' memo is bounded (cleared past 64 entries): start it empty, so that the
    # tests run before this one cannot make it clear, and create a vector, inside a counted step.
    fast._ONES.clear()
    rng = np.random.default_rng(0)
    X = rng.random((256 if batch is None else 5 * batch + 7, 784), dtype=np.float32)
    y = rng.integers(0, 10, len(X))
    if arch == "tutorial":
        model = xpnet.MLP.tutorial(backend="array_api_strict")
    else:
        model = xpnet.MLP([784, 128, 10], backend="array_api_strict")
    steps = count_step_ops(model, X, y, epochs=3, batch_size=batch, optimizer=make(opt))
    ops, kernels = PINNED[key]
    assert steps.steady <= ops and steps.steady_kernels <= kernels, dict(steps.steady_counts)
    # No step reads from the device (a read waits for it), none looks the namespace up (the
    # planned step found it before the loop; Adam's update looks it up once), and no step but
    # an epoch's first or last (set-up, a shorter batch) issues more than the steady count (a
    # flush of Adam's moments aside).
    assert max(steps.reads) == 0
    inner = [i for i in range(1, len(steps.steps)) if batch is None or i % 6 not in (0, 5)]
    assert max(steps.lookups[i] for i in inner) <= (0 if opt == "sgd" else 1)
    assert max(steps.kernels[i] for i in inner) == steps.steady_kernels


def test_the_lean_epoch_logs_the_mean_loss_and_accuracy_of_its_batches(backend):
    """With a negligible learning rate the weights stay put, so the epoch's logged loss and
    accuracy are those of the initial weights over all samples, including a shorter last batch."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(203, 12)).astype(np.float32)
    y = rng.integers(0, 3, 203)
    model = xpnet.MLP([12, 16, 3], backend=backend, seed=2)
    before = model.copy().evaluate(X, y)
    # Both are the mean loss of the same weights, computed in other batches and orders: each
    # within the derived bound of the exact mean, so within twice it of each other.
    _, bound = mean_cross_entropy_error_bound(model.numpy_params(), X, y, np.float32, model.activation)
    for batch in (32, None):
        history = model.fit(X, y, epochs=1, batch_size=batch, optimizer=optim.SGD(lr=1e-30))
        assert abs(history.loss[-1] - before["loss"]) <= 2 * bound
        assert history.accuracy[-1] == pytest.approx(before["accuracy"], abs=1e-12)


def test_per_sample_losses_add_up_to_the_summed_loss_and_mark_the_hits(backend):
    rng = np.random.default_rng(3)
    Z = backend.asarray(rng.normal(size=(40, 7)), "float64")
    labels = rng.integers(0, 7, 40)
    Y = xpnet.nn.network.one_hot(backend.asarray(labels, "int64"), 7, backend.float_dtype("float64"))
    log_s, t, P = xpnet.nn.network.softmax_cross_entropy_rows(Z, Y)
    loss_sum, P_ref = xpnet.nn.network.softmax_cross_entropy(Z, Y)
    np.testing.assert_allclose(xpnet.to_numpy(log_s - t).sum(), float(loss_sum), rtol=1e-12)
    # Same shift and exps, another sum (P·1 vs sum) and division: a relative difference of at
    # most 2γ_k + 2u whatever the size of p, so an rtol alone is right here.
    np.testing.assert_allclose(
        xpnet.to_numpy(P),
        xpnet.to_numpy(P_ref),
        rtol=2 * gamma(7, np.float64) + 2 * unit_roundoff(np.float64),
    )
    hits = xpnet.to_numpy(Z).argmax(axis=1) == labels
    np.testing.assert_array_equal(xpnet.to_numpy(t) == 0, hits)  # no ties among random logits
    assert (xpnet.to_numpy(t) <= 0).all()
