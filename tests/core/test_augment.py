"""Random shifts on the device (xpnet.augment.shifts) against the host implementation they replace."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet import Preprocessing
from xpnet.augment.shifts import RandomShifts, random_shifts


def images(n=40, side=28, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, side * side), dtype=np.uint8)


@pytest.mark.parametrize("side,max_shift", [(28, 1), (28, 2), (5, 2), (6, 4)])
def test_device_shifts_equal_the_host_shifts(backend, side, max_shift):
    x = images(side=side)
    aug = RandomShifts(max_shift, seed=7)
    X = backend.asarray(x, "float32")
    for epoch in (0, 3):
        got = xpnet.to_numpy(aug.shift(X, epoch))
        want = random_shifts(x, max_shift, (7, epoch, 1)).astype(np.float32)
        np.testing.assert_array_equal(got, want)


def test_shifting_transformed_features_equals_transforming_shifted_pixels(backend):
    x = images(n=64)
    pre = Preprocessing.fit(x, standardize=True)
    fill = float(pre.transform(np.zeros((1, 1), np.uint8))[0, 0])
    aug = RandomShifts(1, seed=3, fill=fill)
    got = xpnet.to_numpy(aug.shift(backend.asarray(pre.transform(x)), 2))
    want = pre.transform(random_shifts(x, 1, (3, 2, 1)))
    np.testing.assert_array_equal(got, want)  # bit for bit, fill pixels included


def test_draws_encode_the_offsets_and_depend_only_on_seed_and_epoch():
    aug = RandomShifts(2, seed=1)
    dy, dx = aug.offsets(4, 1000)
    ids = aug.draw(4, 1000)
    assert ids.dtype == np.int64 and ids.shape == (1000,)
    np.testing.assert_array_equal(ids // 5 - 2, dy)
    np.testing.assert_array_equal(ids % 5 - 2, dx)
    assert set(ids.tolist()) == set(range(25))  # every shift occurs
    np.testing.assert_array_equal(ids, RandomShifts(2, seed=1).draw(4, 1000))
    assert (ids != aug.draw(5, 1000)).any() and (ids != RandomShifts(2, seed=2).draw(4, 1000)).any()


def test_batches_of_shuffled_rows_get_their_own_shifts(backend):
    """Per batch, as the training loop uses it: the batches of a shuffled epoch are the rows
    of the whole shifted set in that order."""
    x = images(n=50)
    aug = RandomShifts(1, seed=0)
    X = backend.asarray(x, "float32")
    whole = xpnet.to_numpy(aug.shift(X, 1))
    order = np.random.default_rng(9).permutation(50)
    aug.prepare(X)
    aug.start_epoch(1, backend.asarray(order))
    for lo in range(0, 50, 16):
        hi = min(lo + 16, 50)
        np.testing.assert_array_equal(xpnet.to_numpy(aug.batch(lo, hi)), whole[order[lo:hi]])


def test_zero_shift_is_the_identity(backend):
    x = images(n=10)
    X = backend.asarray(x, "float32")
    np.testing.assert_array_equal(xpnet.to_numpy(RandomShifts(0).shift(X, 0)), x.astype(np.float32))


def test_bad_use_is_explained(backend):
    with pytest.raises(xpnet.errors.ConfigError, match="max_shift"):
        RandomShifts(-1)
    with pytest.raises(xpnet.errors.ConfigError, match="max_shift"):
        RandomShifts(1.5)
    aug = RandomShifts(1)
    with pytest.raises(xpnet.errors.ConfigError, match="square images"):
        aug.prepare(backend.asarray(np.zeros((3, 10)), "float32"))
    with pytest.raises(xpnet.errors.InvalidInput, match="prepare"):
        aug.start_epoch(0)
    aug.prepare(backend.asarray(np.zeros((3, 16)), "float32"))
    with pytest.raises(xpnet.errors.InvalidInput, match="start_epoch"):
        aug.batch(0, 3)


# -- in the training loop ---------------------------------------------------------------------------
def _shift_problem(n=300):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 784), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    pre = Preprocessing.fit(x, standardize=True)
    fill = float(pre.transform(np.zeros((1, 1), np.uint8))[0, 0])
    return x, y, pre, fill


def test_fit_with_device_shifts_equals_host_shifting_every_epoch(backend):
    """``fit(augment=RandomShifts(...))`` trains bit for bit like the loop it replaces: host
    shifts of the raw pixels with seed (seed, epoch, 1), transformed, one fit call per epoch."""
    x, y, pre, fill = _shift_problem()
    host = xpnet.MLP([784, 32, 10], backend=backend, seed=3)
    for epoch in range(3):
        host.fit(
            pre.transform(random_shifts(x, 1, (3, epoch, 1))),
            y,
            epochs=1,
            batch_size=64,
            optimizer=xpnet.nn.optim.Adam(lr=1e-3) if epoch == 0 else None,
        )
    device = xpnet.MLP([784, 32, 10], backend=backend, seed=3)
    device.fit(
        pre.transform(x),
        y,
        epochs=3,
        batch_size=64,
        optimizer=xpnet.nn.optim.Adam(lr=1e-3),
        augment=RandomShifts(1, seed=3, fill=fill),
    )
    assert device.history.loss == host.history.loss
    for name, w in host.numpy_params().items():
        np.testing.assert_array_equal(device.numpy_params()[name], w, err_msg=name)


def test_an_interrupted_augmented_run_resumes_bit_for_bit(backend):
    x, y, pre, fill = _shift_problem(n=200)
    X = pre.transform(x)

    def model():
        return xpnet.MLP([784, 16, 10], backend=backend, seed=1)

    straight = model()
    straight.fit(
        X,
        y,
        epochs=3,
        batch_size=32,
        optimizer=xpnet.nn.optim.SGD(lr=0.05, momentum=0.9),
        augment=RandomShifts(2, seed=1, fill=fill),
    )

    class StopAt(xpnet.Callback):
        def on_batch_end(self, m, epoch, batch, n_batches):
            if (epoch, batch) == (1, 2):
                m.stop_training = True

    cut = model()
    cut.fit(
        X,
        y,
        epochs=3,
        batch_size=32,
        optimizer=xpnet.nn.optim.SGD(lr=0.05, momentum=0.9),
        augment=RandomShifts(2, seed=1, fill=fill),
        callbacks=[StopAt()],
    )
    # Stopped after batch 2 of epoch 1; on a backend that compiles, at the end of the run of
    # batches that holds it (here the epoch's 6 full batches).
    assert (cut.epoch, cut.batch) == (1, 6 if cut.backend.compiles else 3)
    cut.fit(X, y, epochs=2, batch_size=32, augment=RandomShifts(2, seed=1, fill=fill))
    assert cut.epoch == 3
    for name, w in straight.numpy_params().items():
        np.testing.assert_array_equal(cut.numpy_params()[name], w, err_msg=name)


def test_the_training_set_crosses_to_the_device_once_per_run():
    """On array-api-strict's second device (a GPU's stand-in), every host → device transfer and
    device read during fit is recorded: only the first moves the training set; each later
    epoch moves two index vectors (the order and the shifts) and reads two numbers back."""
    from tests.tooling.opcount import OpCounter

    x, y, pre, fill = _shift_problem(n=256)
    X = pre.transform(x)
    model = xpnet.MLP([784, 16, 10], backend="array_api_strict:device1", seed=0)
    epochs = 4
    with OpCounter(model.backend) as ops:
        model.fit(X, y, epochs=epochs, batch_size=64, augment=RandomShifts(1, seed=0, fill=fill))
    big = ops.large_transfers(X.shape[0] + 1)  # anything larger than one number per sample
    assert [(t.kind, t.shape) for t in big] == [("to_device", X.shape)]
    per_sample = [t for t in ops.transfers if t.size == X.shape[0] and t.kind == "to_device"]
    assert len(per_sample) <= 1 + 2 * epochs  # the labels; per epoch the order and the shifts

    # The loop it replaces (a fit per epoch on host-shifted images) moved it every epoch.
    old = xpnet.MLP([784, 16, 10], backend="array_api_strict:device1", seed=0)
    with OpCounter(old.backend) as ops:
        for epoch in range(epochs):
            old.fit(pre.transform(random_shifts(x, 1, (0, epoch, 1))), y, epochs=1, batch_size=64)
    assert len(ops.large_transfers(X.shape[0] + 1)) == epochs


def test_xpnet_train_moves_the_training_set_once_with_shifts():
    """The run module's epoch loop (what ``xpnet train --shift 1`` runs) on the GPU stand-in:
    raw pixels in, one transfer of the (transformed) training set, the same weights as the
    loop of one fit per host-shifted epoch that it replaced."""
    from tests.tooling.opcount import OpCounter
    from xpnet.runs import train_epochs
    from xpnet.runs.config import TrainConfig

    x, y, pre, _ = _shift_problem(n=256)
    config = TrainConfig.from_preset("default", hidden=[16], epochs=3, augment="shift", shift=1, batch_size=64)
    model = config.make_model(backend="array_api_strict:device1")
    with OpCounter(model.backend) as ops:
        train_epochs(model, x, y, pre, config, config.make_optimizer())
    assert model.epoch == 3
    assert [(t.kind, t.shape) for t in ops.large_transfers(x.shape[0] + 1)] == [("to_device", x.shape)]

    old = config.make_model(backend="array_api_strict:device1")
    old.preprocessing, optimizer = pre, config.make_optimizer()
    for epoch in range(3):
        old.fit(random_shifts(x, 1, (config.seed, epoch, 1)), y, epochs=1, batch_size=64, optimizer=optimizer)
        optimizer = None
    for name, w in old.numpy_params().items():
        np.testing.assert_array_equal(model.numpy_params()[name], w, err_msg=name)
