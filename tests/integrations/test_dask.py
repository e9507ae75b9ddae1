"""Lazy inference on Dask arrays: chunked like X, nothing computed until asked, equal to NumPy,
under a real dask.distributed cluster; training on Dask is refused with the reason."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from tests.conftest import assert_close_by_bound, forward_error_bound, proba_error_bound
from xpnet import Preprocessing

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.dask

CALLS: list[int] = []


def _counted(block):
    CALLS.append(len(block))
    return block


def _data(n=53, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 6)).astype(np.float32), rng.integers(0, 3, n)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0")
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.mark.parametrize("spec", ["numpy", "array_api_strict:device1"])
def test_lazy_predictions_chunked_like_x_equal_numpy(client, spec):
    X, y = _data()
    model = xpnet.MLP([6, 8, 3], backend=spec, seed=0)
    model.fit(X, y, epochs=2, batch_size=16)
    Xd = da.from_array(X, chunks=(10, 6)).map_blocks(_counted, meta=np.empty((0, 0), X.dtype))
    CALLS.clear()
    lazy = {m: getattr(model, m)(Xd) for m in ("predict", "predict_proba", "decision_function")}
    assert CALLS == []  # building the graph computed nothing
    # Chunks of 10 rows against one product of 53: the GEMM kernel may block and sum them in
    # other orders, so logits and probabilities agree to twice their rounding bounds.
    _, proba_bound = proba_error_bound(model.params, X, np.float32, model.activation)
    bounds = {
        "decision_function": 2 * forward_error_bound(model.params, X, np.float32, model.activation),
        "predict_proba": 2 * proba_bound,
    }
    for method, out in lazy.items():
        assert isinstance(out, da.Array), method
        assert out.chunks[0] == Xd.chunks[0], method
        expected = xpnet.to_numpy(getattr(model, method)(X))
        got = client.compute(out).result()
        assert isinstance(got, np.ndarray)
        if method == "predict":  # classes: the same, unless two logits are within rounding of a tie
            np.testing.assert_array_equal(got, expected)
        else:
            assert_close_by_bound(got, expected, bounds[method], err_msg=method)
    assert sorted(CALLS) == [3] * 3 + [10] * 15  # 6 chunks (5 of 10 rows, 1 of 3), once per method


def test_unknown_chunk_sizes_and_feature_chunks(client):
    X, y = _data()
    model = xpnet.MLP([6, 8, 3], backend="numpy", seed=0)
    Xd = da.from_array(X, chunks=(10, 3))  # features split over two chunks: rechunked
    keep = X[:, 0] > 0.3
    filtered = Xd[da.from_array(keep, chunks=10)]
    assert np.isnan(filtered.chunks[0][0])
    out = model.predict(filtered)
    np.testing.assert_array_equal(client.compute(out).result(), model.predict(X[keep]))


def test_preprocessing_is_applied_per_chunk(client):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (30, 6)).astype(np.uint8)
    model = xpnet.MLP([6, 5, 3], backend="numpy", seed=1, preprocessing=Preprocessing.fit(x))
    out = model.predict_proba(da.from_array(x, chunks=7))
    # Each chunk's pixels are transformed by the same host code (the same numbers); the products
    # of 7 rows and of 30 may round differently: twice the probabilities' rounding bound.
    _, bound = proba_error_bound(model.params, model.preprocessing.transform(x), np.float32, model.activation)
    assert_close_by_bound(client.compute(out).result(), model.predict_proba(x), 2 * bound)


def test_training_on_dask_is_refused_with_the_reason():
    X, y = _data()
    model = xpnet.MLP([6, 3], backend="numpy")
    with pytest.raises(TypeError, match="graph.*grows"):
        model.fit(da.from_array(X, chunks=10), y)
    with pytest.raises(TypeError, match="y is a dask array"):
        model.fit(X, da.from_array(y, chunks=10))


def test_bad_dask_shapes_fail_before_computing():
    model = xpnet.MLP([6, 3], backend="numpy")
    with pytest.raises(ValueError, match="5 features"):
        model.predict(da.zeros((4, 5), chunks=2))
    with pytest.raises(ValueError, match="2-D"):
        model.predict(da.zeros((4,), chunks=2))


def test_one_hot_uses_array_api_compat_device():
    """network.one_hot on arrays without a usable .device (Dask) stays lazy."""
    from xpnet import network

    labels = da.from_array(np.array([0, 2, 1, 2]), chunks=2)
    Y = network.one_hot(labels, 3, "float32" if False else np.float32)
    assert isinstance(Y, da.Array)
    np.testing.assert_array_equal(Y.compute(), np.eye(3, dtype=np.float32)[[0, 2, 1, 2]])


def test_model_ships_to_a_worker_process():
    """processes=True: the model is pickled into another process and predicts there."""
    X, y = _data()
    model = xpnet.MLP([6, 8, 3], backend="numpy", seed=3)
    model.fit(X, y, epochs=1, batch_size=16)
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as c,
    ):
        got = c.compute(model.predict_proba(da.from_array(X, chunks=20))).result()
    np.testing.assert_array_equal(got, model.predict_proba(X))
