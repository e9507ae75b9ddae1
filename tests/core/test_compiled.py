"""The compiled training step and inference (JAX): the same numbers as the eager loop, one
compilation per shape, traced hyper-parameters (xpnet.model.compiled, Backend.compile)."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet import optim, steps
from xpnet.augment.shifts import RandomShifts
from xpnet.errors import ConfigError

from ..conftest import HAVE_JAX

needs_jax = pytest.mark.skipif(not HAVE_JAX, reason="JAX not installed")


def _data(n=250, d=16, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)), rng.integers(0, k, n), rng.random(n) + 0.1


def _optimizers():
    return {
        "sgd-momentum": lambda: optim.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        "adam-cosine": lambda: optim.Adam(lr=1e-2, schedule="cosine"),
        "adamw": lambda: optim.AdamW(lr=1e-2, weight_decay=0.05),
        "sgd": lambda: optim.SGD(lr=0.2),
    }


def _curve(model):
    h = model.history
    return np.array([h.loss, h.accuracy, h.val_loss, h.val_accuracy, h.lr], dtype=float)


@needs_jax
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_compiled_and_eager_agree_for_regression_heads_with_l2(loss):
    """The heads and the L2 penalty inside the compiled steps: regression, sample weights,
    λ > 0, two epochs with a shorter last batch; ≤ 1e-12 from the eager loop, penalty too."""
    X, _, w = _data()
    rng = np.random.default_rng(1)
    Y = rng.standard_normal((len(X), 2)) if loss == "squared_error" else rng.poisson(2.0, (len(X), 2)) * 1.0
    runs = {}
    for compile in (False, None):
        model = xpnet.MLP([16, 12, 2], loss=loss, backend="jax", dtype="float64", seed=3)
        model.fit(
            X,
            Y,
            epochs=2,
            batch_size=64,
            optimizer=optim.Adam(lr=1e-2),
            sample_weight=w,
            l2=0.5,
            validation_data=(X[:50], Y[:50]),
            compile=compile,
        )
        runs[compile] = model
    eager, compiled = runs[False], runs[None]
    h_e, h_c = eager.history, compiled.history
    np.testing.assert_allclose(h_c.loss, h_e.loss, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_c.val_loss, h_e.val_loss, rtol=0, atol=1e-12)
    assert h_c.accuracy == [None, None]
    for k, v in eager.numpy_params().items():
        np.testing.assert_allclose(compiled.numpy_params()[k], v, rtol=0, atol=1e-12)


@needs_jax
@pytest.mark.parametrize(
    "opt, extra",
    [
        ("sgd-momentum", "plain"),
        ("adam-cosine", "plain"),
        ("adam-cosine", "weights"),
        ("adamw", "shifts"),
        ("sgd", "shifts"),
        ("sgd", "full-batch"),
        ("sgd-momentum", "weights"),
    ],
)  # each optimizer and each kind of run, in 7 of the 16 pairs (JAX compiles each anew)
def test_compiled_and_eager_loss_curves_agree(opt, extra):
    """float64, 2 shuffled epochs with a shorter last batch (250 = 3·64 + 58): the compiled
    steps and the eager ones give the same curve and weights to ≤ 1e-12."""
    X, y, w = _data()
    runs = {}
    for compile in (False, None):
        model = xpnet.MLP([16, 12, 8, 4], backend="jax", dtype="float64", seed=3)
        kwargs = {"sample_weight": w} if extra == "weights" else {}
        if extra == "shifts":
            kwargs["augment"] = RandomShifts(max_shift=1, seed=3)
        model.fit(
            X,
            y,
            epochs=2,
            batch_size=None if extra == "full-batch" else 64,
            optimizer=_optimizers()[opt](),
            validation_data=(X[:50], y[:50]),
            compile=compile,
            **kwargs,
        )
        runs[compile] = model
    eager, compiled = runs[False], runs[None]
    np.testing.assert_allclose(_curve(compiled), _curve(eager), rtol=0, atol=1e-12)
    for k, v in eager.numpy_params().items():
        np.testing.assert_allclose(compiled.numpy_params()[k], v, rtol=0, atol=1e-12)
    assert compiled.optimizer.t == eager.optimizer.t


def _cache_size(fn) -> int:
    size = getattr(fn, "_cache_size", None)
    if size is None:
        pytest.skip("this JAX version does not report its compilation cache")
    return size()


@needs_jax
def test_the_shorter_last_batch_and_new_rates_do_not_recompile():
    """Epoch after epoch, the same compiled functions serve every run of batches, the shorter
    last batch, and new learning rates and step counts (traced, not baked in)."""
    X, y, _ = _data(n=1000)
    model = xpnet.MLP([16, 8, 4], backend="jax", seed=0)
    opt = optim.Adam(lr=1e-3, schedule="cosine")  # a new rate at every step
    fn = steps.compiled_train_batches(model.backend, model.activation, opt, None, model.head)  # fit's own
    before = _cache_size(fn)  # other tests may have compiled it for other shapes already
    model.fit(X, y, epochs=1, batch_size=64, optimizer=opt)  # 15 full batches + 40
    first = _cache_size(fn)
    assert first - before <= 2  # a run of the 15 full batches, and the last batch of 40
    model.fit(X, y, epochs=4, batch_size=64)
    model.fit(X, y, epochs=1, batch_size=64, optimizer=optim.Adam(lr=0.5))  # same structure
    assert _cache_size(fn) == first
    assert model.optimizer.t == 16


def test_runs_of_batches_are_balanced():
    runs = steps.chunks(0, 469)
    assert runs[0][0] == 0 and runs[-1][1] == 469 and len(runs) == 8
    assert all(a[1] == b[0] for a, b in zip(runs, runs[1:]))
    assert {b - a for a, b in runs} <= {58, 59}
    assert steps.chunks(5, 5) == [] and steps.chunks(3, 7, max_chunk=64) == [(3, 7)]


@needs_jax
def test_compiled_inference_matches_the_eager_forward_pass_for_every_size():
    """Inputs are padded to a few shapes for compiling; the padding never shows."""
    rng = np.random.default_rng(1)
    model = xpnet.MLP([16, 12, 4], backend="jax", dtype="float64", seed=0)
    reference = model.copy(backend="numpy")
    for m in (1, 3, 255, 300, 8192 + 7):
        X = rng.random((m, 16))
        got = xpnet.to_numpy(model.predict_proba(X))
        assert got.shape == (m, 4)
        np.testing.assert_allclose(got, reference.predict_proba(X), rtol=0, atol=1e-13)
        assert np.array_equal(xpnet.to_numpy(model.predict(X)), reference.predict(X))


@needs_jax
def test_an_interrupted_compiled_epoch_resumes_where_it_stopped():
    """stop_training set in on_batch_end stops at the end of that run of batches; fitting
    again finishes the epoch, and the result is the uninterrupted run's."""
    X, y, _ = _data(n=1000)

    class StopOnce(xpnet.Callback):
        done = False

        def on_batch_end(self, model, epoch, batch, n_batches):
            if epoch == 1 and batch == 3 and not self.done:
                self.done = model.stop_training = True

    whole = xpnet.MLP([16, 8, 4], backend="jax", dtype="float64", seed=0)
    whole.fit(X, y, epochs=3, batch_size=32, optimizer=optim.SGD(lr=0.1, momentum=0.9))
    stopped = xpnet.MLP([16, 8, 4], backend="jax", dtype="float64", seed=0)
    old_chunk = steps.MAX_CHUNK
    steps.MAX_CHUNK = 8  # several runs per epoch of 32 batches
    try:
        stopped.fit(X, y, epochs=3, batch_size=32, optimizer=optim.SGD(lr=0.1, momentum=0.9), callbacks=[StopOnce()])
        assert stopped.history.interrupted and stopped.epoch == 1 and stopped.batch == 8
        stopped.fit(X, y, epochs=2, batch_size=32)  # the unfinished epoch counts as one
    finally:
        steps.MAX_CHUNK = old_chunk
    assert stopped.epoch == 3
    for k, v in whole.numpy_params().items():
        np.testing.assert_allclose(stopped.numpy_params()[k], v, rtol=0, atol=1e-12)


@needs_jax
def test_an_optimizer_that_overrides_step_trains_eagerly():
    class Clipped(optim.SGD):
        def step(self, params, grads, lr=None, *, scaled_by=1.0):
            super().step(params, grads, lr, scaled_by=scaled_by)

    X, y, _ = _data()
    assert not Clipped(lr=0.1).compilable and optim.Adam().compilable
    model = xpnet.MLP([16, 8, 4], backend="jax", seed=0)
    model.fit(X, y, epochs=1, optimizer=Clipped(lr=0.1))  # eagerly, no error
    with pytest.raises(ConfigError, match="overrides step"):
        model.fit(X, y, epochs=1, optimizer=Clipped(lr=0.1), compile=True)


def test_compile_true_names_why_it_cannot():
    X, y, _ = _data()
    model = xpnet.MLP([16, 8, 4], backend="numpy", seed=0)
    assert not model.backend.compiles
    with pytest.raises(ConfigError, match="numpy backend runs eagerly"):
        model.fit(X, y, epochs=1, compile=True)


def test_backend_scan_runs_the_loop_eagerly_where_nothing_compiles():
    b = xpnet.get_backend("numpy")
    xs = (np.arange(5.0), {"a": np.ones((5, 2)), "none": None})
    total = b.scan(lambda c, x: c + x[0] + x[1]["a"].sum(), 0.0, xs)
    assert total == 10.0 + 10.0
    assert b.compile(len) is len
