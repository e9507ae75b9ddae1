"""The benchmark machinery (xpnet/bench.py, benchmarks/bench.py) on tiny sizes.

Benchmarks are not tests: nothing here asserts anything about speed. These tests check that
every contender runs, that they all train the same network (same initial weights, same batches:
the same loss), and that the JSON and the table are well formed.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from xpnet import bench

REPO = Path(__file__).resolve().parents[1]
HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_JAX = importlib.util.find_spec("jax") is not None


def _tiny(**kwargs):
    args = dict(epochs=1, warmup=1, batch_sizes=(64, None), optimizers=("sgd", "adam"),
                contenders="floor,xpnet-numpy,numpy", data="synthetic", n_samples=256,
                tutorial=True, tutorial_epochs=2, memory=True)
    args.update(kwargs)
    return bench.run_benchmark(**args)


def _by_name(result):
    return {c["name"]: c for c in result["contenders"]}


def test_run_benchmark_structure_and_json_round_trip():
    results = _tiny()
    assert json.loads(json.dumps(results)) == results  # plain JSON types only
    assert results["data"] == {"source": "synthetic", "n_samples": 256, "n_features": 784}
    configs = [(r["network"], r["batch_size"], r["optimizer"]) for r in results["results"]]
    assert configs == [("784-128-10", 64, "sgd"), ("784-128-10", "full", "sgd"),
                       ("784-128-10", 64, "adam"), ("784-128-10", "full", "adam"),
                       ("784-10-10", "full", "sgd")]
    assert [r["tutorial"] for r in results["results"]] == [False] * 4 + [True]
    env = results["environment"]
    assert isinstance(env["threadpool_info"], list) and env["libraries"]["numpy"]
    for res in results["results"]:
        assert res["gemm_gflop_per_epoch"] > 0
        assert res["epochs"] == (2 if res["tutorial"] else 1)
        assert res["n_batches"] == (4 if res["batch_size"] == 64 else 1)
        cs = _by_name(res)
        assert set(cs) == {"floor", "xpnet-numpy", "numpy"}
        for c in cs.values():
            assert c["status"] == "ok", c
            assert len(c["epoch_seconds"]) == len(c["epoch_cpu_seconds"]) == res["epochs"]
            assert c["median_s"] > 0 and c["samples_per_s"] > 0 and c["gemm_gflop_per_s"] > 0
            assert c["ratio_to_floor"] > 0 and c["platform"] == "cpu"
            assert c["peak_extra_mib"] is None or c["peak_extra_mib"] >= 0
            assert isinstance(c["memory_method"], str)
        assert cs["floor"]["ratio_to_floor"] == 1.0 and cs["floor"]["final_loss"] is None
        if res["tutorial"]:
            assert cs["xpnet-numpy"]["iterations_500_s"] == pytest.approx(500 * cs["xpnet-numpy"]["median_s"])


def test_contenders_train_the_same_network():
    """Same initial weights and the same batches each epoch: the same training loss."""
    results = _tiny(epochs=2, memory=False, tutorial=False, optimizers=("sgd", "adam"))
    for res in results["results"]:
        cs = _by_name(res)
        ref = cs["numpy"]["final_loss"]
        assert math.isfinite(ref)
        assert cs["xpnet-numpy"]["final_loss"] == pytest.approx(ref, rel=1e-4)


@pytest.mark.skipif(not (HAVE_TORCH or HAVE_JAX), reason="neither PyTorch nor JAX is installed")
def test_optional_library_contenders_run_and_agree():
    names = ["numpy"] + (["torch", "xpnet-torch"] if HAVE_TORCH else []) + (
        ["jax-jit", "jax-scan"] if HAVE_JAX else [])
    results = _tiny(contenders=",".join(names), batch_sizes=(96,), optimizers=("sgd", "adam"),
                    n_samples=200, memory=False, tutorial=False)
    for res in results["results"]:
        cs = _by_name(res)
        for name in names:
            assert cs[name]["status"] == "ok", cs[name]
            assert cs[name]["ratio_to_floor"] is None  # no floor selected
            assert cs[name]["final_loss"] == pytest.approx(cs["numpy"]["final_loss"], rel=1e-3)


def test_strict_oracle_is_selectable():
    results = _tiny(contenders="xpnet-strict,xpnet-numpy", batch_sizes=(32,), optimizers=("sgd",),
                    n_samples=64, memory=False, tutorial=False)
    cs = _by_name(results["results"][0])
    assert cs["xpnet-strict"]["status"] == "ok"
    assert cs["xpnet-strict"]["final_loss"] == pytest.approx(cs["xpnet-numpy"]["final_loss"], rel=1e-4)


def test_thread_limit_is_applied_and_restored(monkeypatch):
    from threadpoolctl import threadpool_info

    monkeypatch.setenv("XLA_FLAGS", "")  # restored afterwards, whatever the benchmark sets
    before = [p["num_threads"] for p in threadpool_info()]
    results = _tiny(threads=1, contenders="floor", batch_sizes=(128,), optimizers=("sgd",),
                    tutorial=False, memory=False)
    assert results["environment"]["threads_requested"] == 1
    assert all(p["num_threads"] == 1 for p in results["environment"]["threadpool_info"])
    assert [p["num_threads"] for p in threadpool_info()] == before


def test_gpu_contenders_are_skipped_with_a_reason_without_a_gpu():
    usable = bench.available_contenders()
    assert usable["floor"] is None and usable["xpnet-numpy"] is None and usable["numpy"] is None
    if usable["xpnet-cupy"] is not None:  # no CUDA GPU with CuPy here
        results = _tiny(contenders="floor,xpnet-cupy,floor-cupy", batch_sizes=(128,),
                        optimizers=("sgd",), tutorial=False, memory=False)
        cs = _by_name(results["results"][0])
        assert cs["xpnet-cupy"]["status"] == "skipped" and cs["xpnet-cupy"]["reason"]
        assert cs["floor"]["status"] == "ok"


def test_unknown_contender_is_an_error():
    with pytest.raises(Exception, match="unknown contender"):
        bench.select_contenders("floor,tensorflow")


def test_problem_accounting():
    data = bench.load_bench_data("synthetic", n_samples=1000)
    p = bench.Problem(data, (784, 128, 10), 300, "sgd", 0.1)
    assert [hi - lo for lo, hi in p.batches()] == [300, 300, 300, 100]
    # forward X·W1ᵀ, A1·W2ᵀ; backward dW2, dA1, dW1: 2·n·(2·784·128 + 3·128·10)
    assert p.gemm_flops() == 2 * 1000 * (2 * 784 * 128 + 3 * 128 * 10)
    assert (p.permutation(3) == bench.Problem(data, (784, 128, 10), 300, "sgd", 0.1).permutation(3)).all()
    assert bench.Problem(data, (784, 10, 10), 1000, "sgd", 0.1).permutation(0) is None
    assert data.X.dtype.name == "float32" and 0 <= data.X.min() and data.X.max() <= 1


def test_cli_prints_table_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(bench.bench_command, [
        "--samples", "200", "--epochs", "1", "--batch-sizes", "100,full", "--optimizers", "sgd",
        "--contenders", "floor,xpnet-numpy", "--no-tutorial", "--data", "synthetic",
        "--no-memory", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "xpnet-numpy" in result.output and "× floor" in result.output
    data = json.loads(out.read_text())
    assert [r["batch_size"] for r in data["results"]] == [100, "full"]


def test_cli_rejects_bad_batch_sizes():
    result = CliRunner().invoke(bench.bench_command, ["--batch-sizes", "12x", "--list"])
    assert result.exit_code != 0 or "usable" in result.output
    with pytest.raises(Exception):
        bench._parse_batch_sizes("0")


def test_script_lists_contenders():
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench.py"), "--list"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "xpnet-numpy" in proc.stdout and "floor" in proc.stdout


# -- the core's performance paths keep its results ---------------------------------------------
@pytest.fixture(params=["numpy", "array_api_strict"])
def be(request):
    import xpnet

    return xpnet.get_backend(request.param)


def test_backward_scale_multiplies_every_gradient(be):
    import numpy as np

    from xpnet import network

    rng = np.random.default_rng(0)
    params = {"W1": be.asarray(rng.normal(size=(5, 4)), "float64"), "b1": be.asarray(rng.normal(size=5), "float64"),
              "W2": be.asarray(rng.normal(size=(3, 5)), "float64"), "b2": be.asarray(rng.normal(size=3), "float64")}
    X = be.asarray(rng.normal(size=(7, 4)), "float64")
    Y = network.one_hot(be.asarray(rng.integers(0, 3, 7), "int64"), 3, be.xp.float64)
    Z, cache = network.forward(params, X)
    _, P = network.softmax_cross_entropy(Z, Y)
    plain = network.backward(params, cache, P, Y)
    scaled = network.backward(params, cache, P, Y, scale=0.25)
    for k in params:
        np.testing.assert_allclose(be.to_numpy(scaled[k]), 0.25 * be.to_numpy(plain[k]), rtol=1e-12)


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_scaled_gradients_give_the_same_step(be, name):
    """``step(grads·s, scaled_by=s)`` equals ``step(grads)`` for the optimizer's own s."""
    import numpy as np

    from xpnet import optim

    w, g = np.array([1.0, -2.0, 0.5]), np.array([0.3, -0.1, 0.0])
    results = []
    for scaled in (False, True):
        opt = optim.get_optimizer(name, lr=0.1)
        params = {"W": be.asarray(w, "float64")}
        for _ in range(3):
            s = opt.gradient_scale(0.1) if scaled else 1.0
            opt.step(params, {"W": be.asarray(g * s, "float64")}, 0.1, scaled_by=s)
        results.append(be.to_numpy(params["W"]))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12, atol=1e-15)


def test_adam_flushes_tiny_moments_to_zero(be):
    """Moments decaying toward the subnormal range are zeroed every 64 steps (float32)."""
    import numpy as np

    from xpnet import optim

    opt = optim.Adam(lr=1e-3)
    params = {"W": be.asarray(np.ones(3), "float32")}
    opt.step(params, {"W": be.asarray(np.array([1e-28, 0.5, 0.0]), "float32")})
    zero = be.asarray(np.zeros(3), "float32")
    for _ in range(63):  # by step 64, m of the first entry has decayed from 1e-29 to 1.2e-32
        opt.step(params, {"W": zero})
    m = be.to_numpy(opt.state["m"]["W"])
    tiny = np.finfo(np.float32).tiny
    assert not np.any((m != 0) & (np.abs(m) < tiny))  # no subnormals left
    assert m[0] == 0 and m[1] > 0  # the tiny one is flushed, the normal one is not


def test_numpy_training_setting_is_recorded():
    from xpnet.backend import tune_host_allocator

    assert isinstance(tune_host_allocator(), bool)
    results = _tiny(contenders="floor", batch_sizes=(128,), optimizers=("sgd",), tutorial=False, memory=False)
    assert isinstance(results["environment"]["malloc_tuned"], bool)
