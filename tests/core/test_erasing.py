"""Random erasing on the device (xpnet.augment.erasing.RandomErasing) against the host reference
(random_erasing / erase_host), alone and after RandomAffine, and in training."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

import xpnet
from xpnet import Preprocessing
from xpnet.augment import ERASING_STREAM, RandomErasing, random_erasing
from xpnet.augment.affine import AFFINE_STREAM, RandomAffine, random_affine
from xpnet.augment.erasing import ATTEMPTS, erase_host, erasing_boxes
from xpnet.augment.shifts import RandomShifts, random_shifts
from xpnet.errors import ConfigError, InvalidInput

HAVE_JAX = importlib.util.find_spec("jax") is not None
STRONG = {"rotation": 30, "scale": 0.3, "shear": 0.5, "shift": 3.5, "flip": True}


def images(n=40, side=28, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(1, 256, (n, side * side), dtype=np.uint8)  # no raw 0: erased pixels show


# -- the draws ------------------------------------------------------------------------------------
def test_rectangles_follow_torchvisions_distribution_and_fit_the_image():
    side, n = 28, 20000
    b = erasing_boxes(n, side, (0, 1, ERASING_STREAM))
    x0, x1, y0, y1 = b.T
    erased = x1 > x0
    assert abs(erased.mean() - 0.5) < 0.02  # p = 0.5 (an attempt that never fits is rare here)
    assert np.all(b[~erased] == 0)
    assert np.all((x0 >= 0) & (x1 <= side) & (y0 >= 0) & (y1 <= side))
    w, h = (x1 - x0)[erased], (y1 - y0)[erased]
    assert np.all((w < side) & (h < side) & (w >= 1) & (h >= 1))
    area = w * h / side**2
    # Rounding h and w to whole pixels moves the area and ratio a little beyond their ranges.
    assert area.min() > 0.02 * 0.5 and area.max() < 0.33 * 1.3
    assert abs(area.mean() - 0.175) < 0.01  # the mean of U(0.02, 0.33), up to rounding and refits
    ratio = np.log(h / w)
    assert ratio.min() > math.log(0.3) - 0.5 and ratio.max() < math.log(3.3) + 0.5
    assert abs(ratio.mean()) < 0.05  # log-uniform on a range symmetric about ratio 1
    # Every position of a rectangle of a given size is possible: top-left corners cover the image.
    assert x0[erased].min() == 0 and y0[erased].min() == 0 and x1.max() == side and y1.max() == side


def test_draws_depend_only_on_seed_epoch_and_image_and_p_and_ranges_are_honoured():
    a = erasing_boxes(50, 28, (3, 2, ERASING_STREAM))
    np.testing.assert_array_equal(a, erasing_boxes(50, 28, (3, 2, ERASING_STREAM)))
    np.testing.assert_array_equal(a[:20], erasing_boxes(20, 28, (3, 2, ERASING_STREAM)))  # not on n
    assert not np.array_equal(a, erasing_boxes(50, 28, (3, 3, ERASING_STREAM)))
    assert np.all(erasing_boxes(100, 28, 0, p=0) == 0)
    everything = erasing_boxes(1000, 28, 0, p=1)
    assert np.all(everything[:, 1] > everything[:, 0])
    # An area too large to fit in 10 attempts: the image stays whole.
    assert np.all(erasing_boxes(100, 28, 0, p=1, scale=(0.999, 1.0), ratio=(3.0, 3.3)) == 0)
    assert ATTEMPTS == 10
    assert RandomErasing(seed=4).boxes(2, 30, 28).tolist() == erasing_boxes(30, 28, (4, 2, 4)).tolist()


def test_host_reference_blanks_exactly_the_rectangle():
    x = images(3, side=6)
    boxes = np.array([[1, 3, 2, 5], [0, 0, 0, 0], [0, 6, 5, 6]])
    out = erase_host(x, boxes, fill=0)
    expect = x.reshape(3, 6, 6).copy()
    expect[0, 2:5, 1:3] = 0
    expect[2, 5:6, 0:6] = 0
    np.testing.assert_array_equal(out, expect.reshape(3, 36))
    np.testing.assert_array_equal(x, images(3, side=6))  # the input is not changed


# -- on the device ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fill", [0.0, -0.4242])
def test_device_erasing_equals_the_host_reference_bit_for_bit(backend, fill):
    x = images().astype(np.float32) / 255
    expect = random_erasing(x, seed=(7, 2, ERASING_STREAM), fill=np.float32(fill))
    got = xpnet.to_numpy(RandomErasing(seed=7, fill=fill).transform(backend.asarray(x, "float32"), 2))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expect)


def test_shuffled_batches_get_their_own_rectangles(backend):
    x = images(50).astype(np.float32)
    X = backend.asarray(x, "float32")
    order = np.random.default_rng(1).permutation(50)
    aug = RandomErasing(p=0.8, seed=2)
    aug.prepare(X)
    aug.start_epoch(3, backend.asarray(order))
    expect = random_erasing(x, p=0.8, seed=(2, 3, ERASING_STREAM))[order]
    got = np.concatenate([xpnet.to_numpy(aug.batch(lo, min(lo + 16, 50))) for lo in range(0, 50, 16)])
    np.testing.assert_array_equal(got, expect)


def test_after_affine_distortions_erases_the_distorted_images(backend):
    """``base``: the batch is distorted by RandomAffine's own gather, then erased, exactly as
    erasing the affine output on the host."""
    x = images().astype(np.float32) / 255
    X = backend.asarray(x, "float32")
    affine = xpnet.to_numpy(RandomAffine(**STRONG, seed=5, fill=-1.0).transform(X, 1))
    both = RandomErasing(seed=5, fill=-1.0, base=RandomAffine(**STRONG, seed=5, fill=-1.0))
    got = xpnet.to_numpy(both.transform(X, 1))
    np.testing.assert_array_equal(got, random_erasing(affine, seed=(5, 1, ERASING_STREAM), fill=np.float32(-1.0)))
    # ... and the affine part is RandomAffine's host reference, up to its interpolation rounding.
    host = random_affine(x.astype(np.float64), **STRONG, seed=(5, 1, AFFINE_STREAM), fill=-1.0)
    kept = erase_host(np.ones_like(host), erasing_boxes(len(x), 28, (5, 1, ERASING_STREAM)), 0) == 1
    np.testing.assert_allclose(got[kept], host[kept], atol=1e-5)


def test_after_whole_pixel_shifts_is_exact(backend):
    x = images().astype(np.float32)
    both = RandomErasing(p=0.7, seed=1, base=RandomShifts(2, seed=1))
    got = xpnet.to_numpy(both.transform(backend.asarray(x, "float32"), 4))
    shifted = random_shifts(x, 2, (1, 4, 1))
    np.testing.assert_array_equal(got, random_erasing(shifted, p=0.7, seed=(1, 4, ERASING_STREAM)))


def test_bad_settings_and_use_are_explained(backend):
    for kwargs, words in [
        ({"p": 1.5}, "probability p must be a number in [0, 1]"),
        ({"p": True}, "probability p"),
        ({"scale": (0.3, 0.1)}, "scale must be a pair 0 < low <= high"),
        ({"scale": (0.1, 2)}, "at most 1"),
        ({"ratio": 3}, "ratio must be a pair of numbers"),
        ({"ratio": (0, 1)}, "ratio must be a pair 0 < low <= high"),
        ({"base": object()}, "base must be an augmentation"),
    ]:
        with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
            RandomErasing(**kwargs)
    aug = RandomErasing()
    with pytest.raises(InvalidInput, match="needs prepare"):
        aug.start_epoch(0)
    with pytest.raises(ConfigError, match="square images"):
        aug.prepare(backend.asarray(np.zeros((3, 10)), "float32"))
    aug.prepare(backend.asarray(np.zeros((3, 16)), "float32"))
    with pytest.raises(InvalidInput, match="needs start_epoch"):
        aug.batch(0, 2)
    assert repr(RandomErasing(base=RandomShifts(1))).startswith("RandomErasing(p=0.5, scale=(0.02, 0.33)")


# -- in the training loop ------------------------------------------------------------------------------
def _problem(n=300):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 784), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    pre = Preprocessing.fit(x, standardize=True)
    fill = float(pre.transform(np.zeros((1, 1), np.uint8))[0, 0])
    return x, y, pre, fill


def test_fit_with_device_erasing_equals_host_erasing_every_epoch(backend):
    """Erasing to what a raw 0 becomes commutes with standardising, so fit(augment=RandomErasing)
    trains bit for bit like one fit per epoch on the host-erased raw pixels, on every backend."""
    x, y, pre, fill = _problem()
    host = xpnet.MLP([784, 32, 10], backend=backend, seed=3)
    for epoch in range(3):
        raw = random_erasing(x, seed=(3, epoch, ERASING_STREAM))
        host.fit(
            pre.transform(raw), y, epochs=1, batch_size=64, optimizer=xpnet.nn.optim.Adam() if epoch == 0 else None
        )
    device = xpnet.MLP([784, 32, 10], backend=backend, seed=3)
    device.fit(
        pre.transform(x),
        y,
        epochs=3,
        batch_size=64,
        optimizer=xpnet.nn.optim.Adam(),
        augment=RandomErasing(seed=3, fill=fill),
    )
    assert device.history.loss == host.history.loss
    for name, w in host.numpy_params().items():
        np.testing.assert_array_equal(device.numpy_params()[name], w, err_msg=name)


def test_an_interrupted_run_with_affine_and_erasing_resumes_bit_for_bit(backend):
    x, y, pre, fill = _problem(n=200)
    X = pre.transform(x)

    def augment():
        return RandomErasing(p=0.6, seed=1, fill=fill, base=RandomAffine(**STRONG, seed=1, fill=fill))

    def opt():
        return xpnet.nn.optim.SGD(lr=0.05, momentum=0.9)

    straight = xpnet.MLP([784, 16, 10], backend=backend, seed=1)
    straight.fit(X, y, epochs=3, batch_size=32, optimizer=opt(), augment=augment())

    class StopAt(xpnet.Callback):
        def on_batch_end(self, m, epoch, batch, n_batches):
            if (epoch, batch) == (1, 2):
                m.stop_training = True

    cut = xpnet.MLP([784, 16, 10], backend=backend, seed=1)
    cut.fit(X, y, epochs=3, batch_size=32, optimizer=opt(), augment=augment(), callbacks=[StopAt()])
    assert cut.epoch == 1
    cut.fit(X, y, epochs=2, batch_size=32, augment=augment())
    assert cut.epoch == 3
    assert cut.history.loss[-1] == straight.history.loss[-1]
    for name, w in straight.numpy_params().items():
        np.testing.assert_array_equal(cut.numpy_params()[name], w, err_msg=name)


@pytest.mark.skipif(not HAVE_JAX, reason="JAX not installed")
@pytest.mark.parametrize("base", [None, "affine"])
def test_compiled_and_eager_training_with_erasing_agree(base):
    """float64 on JAX: the gather (and RandomAffine's inside it) in the compiled scan and eagerly."""
    rng = np.random.default_rng(0)
    X = rng.random((256, 64))
    y = rng.integers(0, 4, 256)
    runs = {}
    for compile in (False, None):
        model = xpnet.MLP([64, 12, 4], backend="jax", dtype="float64", seed=3)
        inner = None if base is None else RandomAffine(**STRONG, seed=3, fill=0.5)
        model.fit(
            X,
            y,
            epochs=2,
            batch_size=64,
            optimizer=xpnet.nn.optim.Adam(lr=1e-2),
            augment=RandomErasing(p=0.9, seed=3, fill=0.5, base=inner),
            compile=compile,
        )
        runs[compile] = model
    eager, compiled = runs[False], runs[None]
    assert compiled.backend.compiles
    np.testing.assert_allclose(compiled.history.loss, eager.history.loss, rtol=0, atol=1e-12)
    for k, v in eager.numpy_params().items():
        np.testing.assert_allclose(compiled.numpy_params()[k], v, rtol=0, atol=1e-12)


def test_the_training_set_crosses_to_the_device_once():
    """Per epoch only the sample order and four numbers per sample (the rectangles) move."""
    from tests.tooling.opcount import OpCounter

    x, y, pre, fill = _problem(n=256)
    X = pre.transform(x)
    model = xpnet.MLP([784, 16, 10], backend="array_api_strict:device1", seed=0)
    epochs = 3
    with OpCounter(model.backend) as ops:
        model.fit(X, y, epochs=epochs, batch_size=64, augment=RandomErasing(seed=0, fill=fill))
    moved_in = [t for t in ops.transfers if t.kind == "to_device"]
    assert [t.shape for t in moved_in if t.size > 4 * X.shape[0]] == [X.shape]
    assert [t.shape for t in moved_in if t.size == 4 * X.shape[0]] == [(X.shape[0], 4)] * epochs
