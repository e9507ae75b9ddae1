"""Random affine distortions on the device (xpnet.augment.affine.RandomAffine) against the float64 host
reference (random_affine), an independent bilinear interpolation (SciPy's), and in training."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import xpnet
from tests.conftest import gamma, unit_roundoff
from xpnet import Preprocessing
from xpnet.augment.affine import (
    AFFINE_STREAM,
    RandomAffine,
    affine_matrices,
    random_affine,
    sampling_matrices,
    warp_host,
)
from xpnet.augment.shifts import RandomAffine as ReExported
from xpnet.runs.config import AFFINE_RANGES

HAVE_SCIPY = importlib.util.find_spec("scipy") is not None
HAVE_JAX = importlib.util.find_spec("jax") is not None

DIGITS = {**AFFINE_RANGES, "shift": 1}  # what xpnet train --augment affine uses
STRONG = {"rotation": 30, "scale": 0.3, "shear": 0.5, "shift": 3.5, "flip": True}


def images(n=40, side=28, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, side * side), dtype=np.uint8)


def error_bound(M: np.ndarray, values: np.ndarray, fill: float, dtype="float32") -> float:
    """How far the device's distorted images may be from the float64 host reference.

    The source point ``p_j = B_j0·x + B_j1·y + o_j`` is computed from entries rounded to
    ``dtype`` (the border's ``+1`` folded into ``o``) with three rounded operations: off by at
    most ``δ_j = γ_5·(|B_j0|·(side − 1) + |B_j1|·(side − 1) + |o_j| + 1)``. Bilinear
    interpolation (with fill outside) is continuous and, along each axis, Lipschitz with the
    largest difference ``R`` between two values, so that moves the result by ``R·(δ_x + δ_y)``
    across a floor's jump too. The two-stage lerp ``a + f·(b − a)`` rounds to within
    ``γ_4·(2R + A)``, ``A`` the largest magnitude. The host's own float64 rounding is added
    with float64's γ.
    """
    side = int(round(np.sqrt(values.shape[-1])))
    allv = np.concatenate([np.ravel(values).astype(np.float64), [fill]])
    R, A = float(allv.max() - allv.min()), float(np.abs(allv).max())
    reach = (np.abs(M[:, :, 0]) + np.abs(M[:, :, 1])) * (side - 1) + np.abs(M[:, :, 2]) + 1  # (N, 2)
    bound = 0.0
    for dt in (dtype, "float64"):
        delta = gamma(5, dt) * reach.sum(axis=1).max()
        bound += R * delta + gamma(4, dt) * (2 * R + A)
    return bound


def moved(x: np.ndarray, dx: int, dy: int, mirror: bool, fill: float) -> np.ndarray:
    """``x`` (side × side) mirrored left–right about its centre, then moved by whole pixels
    (``out[r, c] = x'[r − dy, c − dx]``, fill where that is outside), by slicing."""
    side = x.shape[0]
    src = x[:, ::-1] if mirror else x
    out = np.full((side + 2 * side, side + 2 * side), fill, dtype=np.float64)
    out[side + dy : 2 * side + dy, side + dx : 2 * side + dx] = src
    return out[side : 2 * side, side : 2 * side]


# -- the host reference ----------------------------------------------------------------------------
@pytest.mark.skipif(not HAVE_SCIPY, reason="SciPy not installed")
def test_host_reference_is_bilinear_interpolation_with_fill_outside():
    """warp_host against SciPy's order-1 map_coordinates ('grid-constant': interpolation with
    the constant continues beyond the edges), an implementation written independently."""
    from scipy.ndimage import map_coordinates

    x = np.random.default_rng(1).random((6, 28 * 28))
    M = affine_matrices(6, 28, 0, **STRONG)
    got = warp_host(x, M, fill=0.7)
    col, row = np.tile(np.arange(28.0), 28), np.repeat(np.arange(28.0), 28)
    for i in range(6):
        px = M[i, 0, 0] * col + M[i, 0, 1] * row + M[i, 0, 2]
        py = M[i, 1, 0] * col + M[i, 1, 1] * row + M[i, 1, 2]
        want = map_coordinates(x[i].reshape(28, 28), [py, px], order=1, mode="grid-constant", cval=0.7)
        np.testing.assert_allclose(got[i], want, rtol=0, atol=16 * unit_roundoff("float64"))


def test_the_maps_mean_what_they_say():
    """A quarter turn is np.rot90 (clockwise on screen: rows grow downwards), scale 2 about the
    centre doubles distances from it, shear moves row r by h·(r − c) columns, a shift (dx, dy)
    moves as RandomShifts does, a mirror is x[:, ::-1]."""
    side = 8
    x = np.arange(side * side, dtype=np.float64).reshape(1, -1) + 1
    img = x.reshape(side, side)

    def warp(**kw):
        p = {"angle": 0.0, "scale": 1.0, "shear": 0.0, "tx": 0.0, "ty": 0.0, "mirror": False, **kw}
        M = sampling_matrices(side, *([p[k]] for k in ("angle", "scale", "shear", "tx", "ty", "mirror")))
        return warp_host(x, M).reshape(side, side)

    np.testing.assert_allclose(warp(angle=90.0), np.rot90(img, -1), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(warp(mirror=True), img[:, ::-1])
    np.testing.assert_array_equal(warp(tx=2.0, ty=-1.0), moved(img, 2, -1, False, 0.0))
    big = warp(scale=2.0)  # the source of output pixel q is c + (q − c)/2
    c = (side - 1) / 2
    q = np.arange(side)
    src = c + (q - c) / 2
    ref_rows = np.stack([np.interp(src, np.arange(side), img[:, j]) for j in range(side)], axis=1)
    want = np.stack([np.interp(src, np.arange(side), ref_rows[i]) for i in range(side)], axis=0)
    np.testing.assert_allclose(big, want, rtol=0, atol=1e-12)
    sheared = warp(shear=0.5)  # output (x, y) reads source column x − 0.5·(y − c)
    r = 5
    padded = np.concatenate([[0.0], img[r], [0.0]])  # fill 0 beyond the edges, interpolated to
    want_row = np.interp(q - 0.5 * (r - c), np.arange(-1, side + 1), padded, left=0.0, right=0.0)
    np.testing.assert_allclose(sheared[r], want_row, rtol=0, atol=1e-12)


def test_draws_depend_only_on_seed_and_epoch_and_stay_in_range():
    aug = RandomAffine(**STRONG, seed=4)
    M = aug.matrices(2, 500, 28)
    assert M.shape == (500, 2, 3) and M.dtype == np.float64
    np.testing.assert_array_equal(M, RandomAffine(**STRONG, seed=4).matrices(2, 500, 28))
    np.testing.assert_array_equal(M[:100], aug.matrices(2, 100, 28))  # a sample's draw ignores n
    np.testing.assert_array_equal(M, affine_matrices(500, 28, (4, 2, AFFINE_STREAM), **STRONG))
    assert (M != aug.matrices(3, 500, 28)).any() and (M != RandomAffine(**STRONG, seed=5).matrices(2, 500, 28)).any()
    # |det B| = 1/s²: the scales lie in 1 ± 0.3; mirrored images have det < 0, about half of them
    det = M[:, 0, 0] * M[:, 1, 1] - M[:, 0, 1] * M[:, 1, 0]
    s = 1 / np.sqrt(np.abs(det))
    assert s.min() >= 0.7 - 1e-12 and s.max() <= 1.3 + 1e-12 and s.max() - s.min() > 0.5
    assert 200 < (det < 0).sum() < 300
    # the rotation: B's second row is (−sin θ, cos θ)/s
    theta = np.degrees(np.arctan2(-M[:, 1, 0], M[:, 1, 1]))
    assert np.abs(theta).max() <= 30 + 1e-9 and np.abs(theta).max() > 25
    identity = RandomAffine(seed=4).matrices(0, 50, 28)
    np.testing.assert_array_equal(identity, np.broadcast_to([[1.0, 0, 0], [0, 1, 0]], (50, 2, 3)))


def test_whole_pixel_shifts_are_uniform_whole_numbers():
    M = RandomAffine(shift=2, subpixel=False, seed=0).matrices(0, 5000, 28)
    t = -M[:, :, 2]  # o = −t for the identity map
    np.testing.assert_array_equal(t, np.round(t))
    values, counts = np.unique(t, return_counts=True)
    np.testing.assert_array_equal(values, [-2, -1, 0, 1, 2])
    assert counts.min() > 0.17 * 10000  # 0.2 each


# -- device against host ---------------------------------------------------------------------------
@pytest.mark.parametrize("side,ranges", [(28, DIGITS), (28, STRONG), (5, STRONG), (9, {"rotation": 180})])
def test_device_distortions_equal_the_host_reference(backend, side, ranges):
    x = images(side=side)
    aug = RandomAffine(**ranges, seed=7, fill=3.0)
    X = backend.asarray(x, "float32")
    for epoch in (0, 3):
        got = xpnet.to_numpy(aug.transform(X, epoch))
        want = random_affine(x, **ranges, seed=(7, epoch, AFFINE_STREAM), fill=3.0)
        assert got.shape == want.shape and got.dtype == np.float32
        bound = error_bound(aug.matrices(epoch, len(x), side), x, 3.0)
        assert np.abs(got - want).max() <= bound, (np.abs(got - want).max(), bound)
        assert bound < 0.05  # of 0..255 pixels: the comparison is meaningful


def test_identity_mirrors_and_whole_shifts_are_exact(backend):
    """Where the map only moves whole pixels the device images are the source pixels, bit for
    bit: the identity, and mirror images with whole-pixel shifts (checked against slicing)."""
    x = images(n=30)
    X = backend.asarray(x, "float32")
    np.testing.assert_array_equal(xpnet.to_numpy(RandomAffine().transform(X, 0)), x.astype(np.float32))
    aug = RandomAffine(shift=3, flip=True, subpixel=False, seed=2, fill=-1.5)
    got = xpnet.to_numpy(aug.transform(X, 1))
    np.testing.assert_array_equal(got, random_affine(x, shift=3, flip=True, subpixel=False, seed=(2, 1, 3), fill=-1.5))
    M = aug.matrices(1, 30, 28)
    mirror = M[:, 0, 0] < 0
    assert 0 < mirror.sum() < 30
    for i in range(30):  # o_x = 27 + t_x when mirrored, −t_x otherwise; o_y = −t_y
        dx = int(M[i, 0, 2] - 27) if mirror[i] else int(-M[i, 0, 2])
        dy = int(-M[i, 1, 2])
        want = moved(x[i].reshape(28, 28).astype(np.float64), dx, dy, mirror[i], -1.5)
        np.testing.assert_array_equal(got[i].reshape(28, 28), want)


def test_distorting_transformed_features_equals_transforming_distorted_pixels(backend):
    """On standardised features with fill = the transform of a raw 0 pixel: the same images as
    transforming the host's distorted raw pixels, up to the bound in the features' units."""
    x = images(n=64)
    pre = Preprocessing.fit(x, standardize=True)
    fill = float(pre.transform(np.zeros((1, 1), np.uint8))[0, 0])
    aug = RandomAffine(**DIGITS, seed=3, fill=fill)
    features = pre.transform(x)
    got = xpnet.to_numpy(aug.transform(backend.asarray(features), 2))
    want = pre.transform(random_affine(x, **DIGITS, seed=(3, 2, AFFINE_STREAM)), "float64")
    bound = error_bound(aug.matrices(2, 64, 28), features, fill)
    bound += 4 * gamma(4, "float32") * np.abs(features).max()  # the transform's own rounding
    assert np.abs(got - want).max() <= bound


def test_batches_of_shuffled_rows_get_their_own_distortions(backend):
    x = images(n=50)
    aug = RandomAffine(**STRONG, seed=0)
    X = backend.asarray(x, "float32")
    whole = xpnet.to_numpy(aug.transform(X, 1))
    order = np.random.default_rng(9).permutation(50)
    aug.prepare(X)
    aug.start_epoch(1, backend.asarray(order))
    for lo in range(0, 50, 16):
        hi = min(lo + 16, 50)
        np.testing.assert_array_equal(xpnet.to_numpy(aug.batch(lo, hi)), whole[order[lo:hi]])


def test_bad_ranges_and_use_are_explained(backend):
    ConfigError = xpnet.errors.ConfigError
    for kwargs, match in [
        ({"rotation": -1}, "rotation must be a finite number >= 0"),
        ({"rotation": 200}, "at most 180"),
        ({"scale": 1.0}, "scale must be below 1"),
        ({"scale": float("nan")}, "scale must be a finite number"),
        ({"shear": 1.5}, "shear is the largest shear factor"),
        ({"shear": "0.1"}, "shear must be a number"),
        ({"shift": float("inf")}, "shift must be a finite number"),
        ({"shift": 1.5, "subpixel": False}, "whole number of pixels"),
        ({"rotation": True}, "rotation must be a number"),
    ]:
        with pytest.raises(ConfigError, match=match):
            RandomAffine(**kwargs)
        with pytest.raises(ConfigError, match=match):
            random_affine(images(n=2), **kwargs, seed=0)
    aug = RandomAffine(**DIGITS)
    with pytest.raises(ConfigError, match="square images .* got 10 features; use --augment shift or none"):
        aug.prepare(backend.asarray(np.zeros((3, 10)), "float32"))
    with pytest.raises(ConfigError, match="square images"):
        random_affine(np.zeros((3, 10)), seed=0)
    with pytest.raises(xpnet.errors.InvalidInput, match="prepare"):
        aug.start_epoch(0)
    aug.prepare(backend.asarray(np.zeros((3, 16)), "float32"))
    with pytest.raises(xpnet.errors.InvalidInput, match="start_epoch"):
        aug.batch(0, 3)
    assert ReExported is RandomAffine
    assert "RandomAffine(rotation=15, scale=0.15, shear=0.2, shift=1, seed=0, flip=False" in repr(aug)


# -- in the training loop ----------------------------------------------------------------------------
def _problem(n=300):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 784), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    pre = Preprocessing.fit(x, standardize=True)
    fill = float(pre.transform(np.zeros((1, 1), np.uint8))[0, 0])
    return x, y, pre, fill


def test_fit_with_device_flips_equals_host_flipping_every_epoch(backend):
    """Mirror images and whole shifts move pixels only, so ``fit(augment=RandomAffine(...))``
    trains bit for bit like one fit per epoch on the host's distorted raw pixels."""
    x, y, pre, fill = _problem()
    kw = {"shift": 1, "flip": True, "subpixel": False}
    host = xpnet.MLP([784, 32, 10], backend=backend, seed=3)
    for epoch in range(3):
        raw = random_affine(x, **kw, seed=(3, epoch, AFFINE_STREAM)).astype(np.uint8)
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
        augment=RandomAffine(**kw, seed=3, fill=fill),
    )
    assert device.history.loss == host.history.loss
    for name, w in host.numpy_params().items():
        np.testing.assert_array_equal(device.numpy_params()[name], w, err_msg=name)


def test_an_interrupted_affine_run_resumes_bit_for_bit(backend):
    """Stopped inside epoch 1 and resumed by a second fit: the same weights as one straight run,
    because epoch e's distortions come from (seed, e, 3) whatever batch training starts at."""
    x, y, pre, fill = _problem(n=200)
    X = pre.transform(x)

    def model():
        return xpnet.MLP([784, 16, 10], backend=backend, seed=1)

    def augment():
        return RandomAffine(**STRONG, seed=1, fill=fill)

    straight = model()
    straight.fit(X, y, epochs=3, batch_size=32, optimizer=xpnet.nn.optim.SGD(lr=0.05, momentum=0.9), augment=augment())

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
        augment=augment(),
        callbacks=[StopAt()],
    )
    assert (cut.epoch, cut.batch) == (1, 6 if cut.backend.compiles else 3)
    cut.fit(X, y, epochs=2, batch_size=32, augment=augment())
    assert cut.epoch == 3
    assert cut.history.loss[-1] == straight.history.loss[-1]
    for name, w in straight.numpy_params().items():
        np.testing.assert_array_equal(cut.numpy_params()[name], w, err_msg=name)


@pytest.mark.skipif(not HAVE_JAX, reason="JAX not installed")
def test_compiled_and_eager_affine_training_agree():
    """float64 on JAX, 2 shuffled epochs of 4 batches: the compiled steps (the gather inside
    jax.jit of lax.scan) and the eager ones give the same curve and weights to 1e-12 (bilinear
    interpolation is continuous, so a coordinate's last bit cannot jump a pixel). One batch
    shape only: eager JAX compiles each operation for each new shape."""
    rng = np.random.default_rng(0)
    X = rng.random((256, 64))
    y = rng.integers(0, 4, 256)
    runs = {}
    for compile in (False, None):
        model = xpnet.MLP([64, 12, 4], backend="jax", dtype="float64", seed=3)
        model.fit(
            X,
            y,
            epochs=2,
            batch_size=64,
            optimizer=xpnet.nn.optim.Adam(lr=1e-2),
            augment=RandomAffine(**STRONG, seed=3, fill=0.5),
            compile=compile,
        )
        runs[compile] = model
    eager, compiled = runs[False], runs[None]
    np.testing.assert_allclose(compiled.history.loss, eager.history.loss, rtol=0, atol=1e-12)
    for k, v in eager.numpy_params().items():
        np.testing.assert_allclose(compiled.numpy_params()[k], v, rtol=0, atol=1e-12)


def test_the_training_set_crosses_to_the_device_once():
    """On array-api-strict's second device (a GPU's stand-in): the training set moves once; each
    epoch moves the sample order and six numbers per sample (the sampling matrices)."""
    from tests.tooling.opcount import OpCounter

    x, y, pre, fill = _problem(n=256)
    X = pre.transform(x)
    model = xpnet.MLP([784, 16, 10], backend="array_api_strict:device1", seed=0)
    epochs = 3
    with OpCounter(model.backend) as ops:
        model.fit(X, y, epochs=epochs, batch_size=64, augment=RandomAffine(**DIGITS, seed=0, fill=fill))
    moved_in = [t for t in ops.transfers if t.kind == "to_device"]
    big = [t for t in moved_in if t.size > 6 * X.shape[0]]
    assert [t.shape for t in big] == [X.shape]
    assert [t.shape for t in moved_in if t.size == 6 * X.shape[0]] == [(X.shape[0], 2, 3)] * epochs
