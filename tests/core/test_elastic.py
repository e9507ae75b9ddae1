"""Elastic distortions on the device (xpnet.augment.elastic.RandomElastic) against the float64 host
reference (random_elastic), SciPy's Gaussian filter and bilinear interpolation, and in training."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import xpnet
from tests.conftest import gamma
from tests.core.test_affine import DIGITS, STRONG, _problem, error_bound, images
from xpnet.augment.affine import AFFINE_STREAM, RandomAffine, affine_matrices
from xpnet.augment.elastic import (
    ELASTIC_STREAM,
    RandomElastic,
    _hashed_counters,
    _uniform,
    displacement_fields,
    field_keys,
    gaussian_matrix,
    random_elastic,
)

HAVE_SCIPY = importlib.util.find_spec("scipy") is not None
HAVE_JAX = importlib.util.find_spec("jax") is not None

SIMARD = {"alpha": 34.0, "sigma": 4.0}


def elastic_bound(aug: RandomElastic, epoch: int, x: np.ndarray, fill: float) -> float:
    """error_bound of the affine part, plus the displacement's rounding: ``D = (αG) U G`` in
    float32 is within ``γ_{2·side+4}·α`` of the float64 one (``|U| ≤ 1``, rows of ``G`` sum to at
    most 1; the conversion of the hash to a float, ``αG``'s rounding and two products of
    ``side`` terms), and ``P + D`` rounds by ``u·(|P| + |D|)``; bilinear interpolation moves by
    ``R`` per pixel of error along each axis."""
    side = int(round(np.sqrt(x.shape[1])))
    M = aug.matrices(epoch, len(x), side)
    allv = np.concatenate([np.ravel(x).astype(np.float64), [fill]])
    R = float(allv.max() - allv.min())
    delta = gamma(2 * side + 4, "float32") * aug.alpha + gamma(1, "float32") * (2 * side + 4 + aug.alpha)
    return error_bound(M, x, fill) + 2 * R * delta


# -- the host reference ----------------------------------------------------------------------------
@pytest.mark.skipif(not HAVE_SCIPY, reason="SciPy not installed")
@pytest.mark.parametrize("side,sigma", [(28, 4.0), (28, 1.3), (9, 2.0), (28, 20.0)])
def test_the_smoothing_matrix_is_scipys_gaussian_filter(side, sigma):
    """G U G equals scipy.ndimage.gaussian_filter(U, σ, mode='constant') (values beyond the
    edges 0, the kernel cut at 4σ): the separable filter as two matrix products."""
    from scipy.ndimage import gaussian_filter

    G = gaussian_matrix(side, sigma)
    np.testing.assert_array_equal(G, G.T)
    U = np.random.default_rng(0).uniform(-1, 1, (5, side, side))
    for u in U:
        np.testing.assert_allclose(G @ u @ G, gaussian_filter(u, sigma, mode="constant"), rtol=0, atol=1e-14)


@pytest.mark.skipif(not HAVE_SCIPY, reason="SciPy not installed")
def test_host_reference_is_scipys_elastic_transform():
    """random_elastic against the usual SciPy recipe (Simard's): fields smoothed by gaussian_filter
    (mode 'constant'), scaled by α, added to the (affine) sampling coordinates, and order-1
    map_coordinates with the fill beyond the edges ('grid-constant')."""
    from scipy.ndimage import gaussian_filter, map_coordinates

    x = np.random.default_rng(1).random((6, 28 * 28))
    got = random_elastic(x, 34, 4, **STRONG, seed=2, epoch=5, fill=0.7)
    M = affine_matrices(6, 28, (2, 5, AFFINE_STREAM), **STRONG)
    keys = field_keys(6, (2, 5, ELASTIC_STREAM))
    U = _uniform(np, _hashed_counters(np, 784), keys.astype(np.int32), np.float64).reshape(6, 2, 28, 28)
    col, row = np.tile(np.arange(28.0), 28), np.repeat(np.arange(28.0), 28)
    for i in range(6):
        dx = 34 * gaussian_filter(U[i, 0], 4, mode="constant").ravel()
        dy = 34 * gaussian_filter(U[i, 1], 4, mode="constant").ravel()
        px = M[i, 0, 0] * col + M[i, 0, 1] * row + M[i, 0, 2] + dx
        py = M[i, 1, 0] * col + M[i, 1, 1] * row + M[i, 1, 2] + dy
        want = map_coordinates(x[i].reshape(28, 28), [py, px], order=1, mode="grid-constant", cval=0.7)
        np.testing.assert_allclose(got[i], want, rtol=0, atol=1e-12)


def test_fields_depend_only_on_seed_epoch_and_sample_and_look_uniform():
    aug = RandomElastic(**SIMARD, seed=4)
    K = aug.keys(2, 3000)
    np.testing.assert_array_equal(K, field_keys(3000, (4, 2, ELASTIC_STREAM)))
    np.testing.assert_array_equal(K[:100], aug.keys(2, 100))  # a sample's key ignores n
    assert K.min() >= 0 and K.max() < 2**31 and len(np.unique(K)) == len(K)
    assert (K != aug.keys(3, 3000)).any() and (K != RandomElastic(seed=5).keys(2, 3000)).any()
    U = _uniform(np, _hashed_counters(np, 784), K.astype(np.int32), np.float64)
    assert U.shape == (3000, 1568) and U.min() >= -1 and U.max() < 1
    assert abs(U.mean()) < 2e-3 and abs(U.var() - 1 / 3) < 2e-3  # U(−1, 1): mean 0, variance 1/3
    assert abs(np.corrcoef(U[:, :-1].ravel(), U[:, 1:].ravel())[0, 1]) < 3e-3  # neighbours independent
    D = aug.fields(2, 3000, 28)
    assert D.shape == (3000, 2, 784)
    np.testing.assert_array_equal(D, displacement_fields(K, 28, 34, 4))
    assert 1.1 < D.std() < 1.4  # about 1.3 px: Simard's α = 34, σ = 4 on 28 × 28 digits
    np.testing.assert_array_equal(RandomElastic(alpha=0).fields(0, 5, 28), np.zeros((5, 2, 784)))


# -- device against host ---------------------------------------------------------------------------
def test_device_hash_equals_the_hosts_bit_for_bit(backend):
    """The fields' uniform numbers are the same integers on every backend, converted once."""
    keys = field_keys(64, (1, 0, ELASTIC_STREAM)).astype(np.int32)
    xp = backend.xp
    dev = _uniform(xp, _hashed_counters(xp, 784, backend.device), backend.asarray(keys, "int32"), xp.float32)
    host = _uniform(np, _hashed_counters(np, 784), keys, np.float32)
    np.testing.assert_array_equal(xpnet.to_numpy(dev), host)


@pytest.mark.parametrize(
    "side,settings",
    [
        (28, {**SIMARD, **DIGITS}),
        (28, {**SIMARD}),
        (28, {"alpha": 80, "sigma": 3, **STRONG}),
        (9, {"alpha": 9, "sigma": 1.5}),
    ],
)
def test_device_distortions_equal_the_host_reference(backend, side, settings):
    x = images(side=side)
    aug = RandomElastic(**settings, seed=7, fill=3.0)
    X = backend.asarray(x, "float32")
    for epoch in (0, 3):
        got = xpnet.to_numpy(aug.transform(X, epoch))
        want = random_elastic(x, **settings, seed=7, epoch=epoch, fill=3.0)
        assert got.shape == want.shape and got.dtype == np.float32
        bound = elastic_bound(aug, epoch, x, 3.0)
        assert np.abs(got - want).max() <= bound, (np.abs(got - want).max(), bound)
        assert bound < 0.2  # of 0..255 pixels: the comparison is meaningful
        assert np.abs(want - random_elastic(x, **{**settings, "alpha": 0}, seed=7, epoch=epoch, fill=3.0)).mean() > 1


def test_without_displacement_the_images_are_random_affines_bit_for_bit(backend):
    X = backend.asarray(images(n=30), "float32")
    for kw in (STRONG, {}):
        want = xpnet.to_numpy(RandomAffine(**kw, seed=2, fill=-1.0).transform(X, 1))
        got = xpnet.to_numpy(RandomElastic(0, 4, **kw, seed=2, fill=-1.0).transform(X, 1))
        np.testing.assert_array_equal(got, want)


def test_batches_of_shuffled_rows_get_their_own_fields(backend):
    """Bit for bit, but on JAX, whose CPU matrix products round differently for other batch
    sizes (there: to the rounding bound)."""
    x = images(n=50)
    aug = RandomElastic(**SIMARD, **DIGITS, seed=0)
    X = backend.asarray(x, "float32")
    whole = xpnet.to_numpy(aug.transform(X, 1))
    order = np.random.default_rng(9).permutation(50)
    aug.prepare(X)
    aug.start_epoch(1, backend.asarray(order))
    bound = 0.0 if backend.name != "jax" else elastic_bound(aug, 1, x, 0.0)
    for lo in range(0, 50, 16):
        hi = min(lo + 16, 50)
        got = xpnet.to_numpy(aug.batch(lo, hi))
        assert np.abs(got - whole[order[lo:hi]]).max() <= bound


def test_bad_settings_and_use_are_explained(backend):
    ConfigError = xpnet.errors.ConfigError
    for kwargs, match in [
        ({"alpha": -1}, "alpha .* must be >= 0"),
        ({"alpha": float("nan")}, "alpha must be finite"),
        ({"sigma": 0}, r"sigma .* must be in \(0, 100\]"),
        ({"sigma": "4"}, "sigma must be a number"),
        ({"alpha": True}, "alpha must be a number"),
        ({"rotation": 200}, "at most 180"),
    ]:
        with pytest.raises(ConfigError, match=match):
            RandomElastic(**kwargs)
        with pytest.raises(ConfigError, match=match):
            random_elastic(images(n=2), **kwargs, seed=0, epoch=0)
    aug = RandomElastic()
    with pytest.raises(ConfigError, match="square images .* got 10 features"):
        aug.prepare(backend.asarray(np.zeros((3, 10)), "float32"))
    with pytest.raises(xpnet.errors.InvalidInput, match="prepare"):
        aug.start_epoch(0)
    aug.prepare(backend.asarray(np.zeros((3, 16)), "float32"))
    with pytest.raises(xpnet.errors.InvalidInput, match="start_epoch"):
        aug.batch(0, 3)
    assert repr(RandomElastic(34, 4, rotation=15)).startswith("RandomElastic(alpha=34, sigma=4, rotation=15, scale=0")


# -- in the training loop ----------------------------------------------------------------------------
def test_an_interrupted_elastic_run_resumes_bit_for_bit(backend):
    """Stopped inside epoch 1 and resumed by a second fit: the same weights as one straight run,
    because epoch e's fields come from the keys of (seed, e, 5) whatever batch training starts at."""
    x, y, pre, fill = _problem(n=200)
    X = pre.transform(x)

    def model():
        return xpnet.MLP([784, 16, 10], backend=backend, seed=1)

    def augment():
        return RandomElastic(**SIMARD, **DIGITS, seed=1, fill=fill)

    straight = model()
    straight.fit(X, y, epochs=3, batch_size=32, optimizer=xpnet.nn.optim.SGD(lr=0.05, momentum=0.9), augment=augment())

    class StopAt(xpnet.Callback):
        def on_batch_end(self, m, epoch, batch, n_batches):
            if (epoch, batch) == (1, 2):
                m.stop_training = True

    cut = model()
    opt = xpnet.nn.optim.SGD(lr=0.05, momentum=0.9)
    cut.fit(X, y, epochs=3, batch_size=32, optimizer=opt, augment=augment(), callbacks=[StopAt()])
    assert cut.epoch == 1
    cut.fit(X, y, epochs=2, batch_size=32, augment=augment())
    assert cut.epoch == 3
    assert cut.history.loss[-1] == straight.history.loss[-1]
    for name, w in straight.numpy_params().items():
        np.testing.assert_array_equal(cut.numpy_params()[name], w, err_msg=name)


def test_training_curves_agree_across_backends():
    """NumPy, array-api-strict and PyTorch train the same 2 epochs with elastic distortions to
    float32 rounding (the same fields: the keys and hashes are integers)."""
    x, y, pre, fill = _problem(n=128)
    X = pre.transform(x)
    losses = {}
    for spec in ("numpy", "array_api_strict", "torch"):
        if spec == "torch" and importlib.util.find_spec("torch") is None:
            continue
        model = xpnet.MLP([784, 16, 10], backend=spec, seed=2)
        model.fit(X, y, epochs=2, batch_size=32, augment=RandomElastic(**SIMARD, **DIGITS, seed=2, fill=fill))
        losses[spec] = model.history.loss
    for spec, loss in losses.items():
        np.testing.assert_allclose(loss, losses["numpy"], rtol=1e-4, err_msg=spec)


@pytest.mark.skipif(not HAVE_JAX, reason="JAX not installed")
def test_compiled_and_eager_elastic_training_agree():
    """float64 on JAX, 2 shuffled epochs of 4 batches: the compiled steps (the hash, the matrix
    products and the gather inside jax.jit of lax.scan) and the eager ones agree to 1e-12."""
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
            augment=RandomElastic(8, 1.5, **STRONG, seed=3, fill=0.5),
            compile=compile,
        )
        runs[compile] = model
    eager, compiled = runs[False], runs[None]
    assert compiled.backend.compiles
    np.testing.assert_allclose(compiled.history.loss, eager.history.loss, rtol=0, atol=1e-12)
    for k, v in eager.numpy_params().items():
        np.testing.assert_allclose(compiled.numpy_params()[k], v, rtol=0, atol=1e-12)


def test_only_keys_and_matrices_cross_to_the_device_per_epoch():
    """On array-api-strict's second device: the training set moves once; each epoch moves the
    sample order, six numbers and one key per sample, not the fields."""
    from tests.tooling.opcount import OpCounter

    x, y, pre, fill = _problem(n=256)
    X = pre.transform(x)
    model = xpnet.MLP([784, 16, 10], backend="array_api_strict:device1", seed=0)
    epochs = 3
    with OpCounter(model.backend) as ops:
        model.fit(X, y, epochs=epochs, batch_size=64, augment=RandomElastic(**SIMARD, **DIGITS, seed=0, fill=fill))
    moved_in = [t for t in ops.transfers if t.kind == "to_device"]
    big = [t for t in moved_in if t.size > 6 * X.shape[0]]
    assert [t.shape for t in big] == [X.shape]
    assert [t.shape for t in moved_in if t.size == 6 * X.shape[0]] == [(X.shape[0], 2, 3)] * epochs
    assert sum(t.size for t in moved_in) < X.size + epochs * 9 * X.shape[0] + 3 * 28 * 28 + 10_000
