"""The benchmark machinery (benchmarks/compare, contenders, problem, measurements, report) on tiny sizes.

Benchmarks are not tests: nothing here asserts anything about speed. These tests check that
every contender runs, that they all train the same network (same initial weights, same batches:
the same loss), and that the JSON and the table are well formed.
"""

from __future__ import annotations

import importlib.util
import json
import math

import pytest

from benchmarks import compare as bench
from tests.conftest import assert_close_by_bound, matmul_error_bound
from xpnet.errors import ConfigError

HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_JAX = importlib.util.find_spec("jax") is not None


def _tiny(**kwargs):
    args = dict(
        epochs=1,
        warmup=1,
        batch_sizes=(64, None),
        optimizers=("sgd", "adam"),
        contenders="floor,xpnet-numpy,numpy",
        data="synthetic",
        n_samples=256,
        tutorial=True,
        tutorial_epochs=2,
        memory=True,
    )
    args.update(kwargs)
    return bench.run_benchmark(**args)


def _by_name(result):
    return {c["name"]: c for c in result["contenders"]}


def test_run_benchmark_structure_and_json_round_trip():
    results = _tiny()
    assert json.loads(json.dumps(results)) == results  # plain JSON types only
    assert results["data"] == {"source": "synthetic", "n_samples": 256, "n_features": 784}
    configs = [(r["network"], r["batch_size"], r["optimizer"]) for r in results["results"]]
    assert configs == [
        ("784-128-10", 64, "sgd"),
        ("784-128-10", "full", "sgd"),
        ("784-128-10", 64, "adam"),
        ("784-128-10", "full", "adam"),
        ("784-10-10", "full", "sgd"),
    ]
    assert [r["tutorial"] for r in results["results"]] == [False] * 4 + [True]
    env = results["environment"]
    assert isinstance(env["threadpools"], list) and env["libraries"]["numpy"]
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
    # Losses after training: no worst-case rounding bound survives the steps (docs/testing.md),
    # but the values are far from zero (≈ 0.5-2) and the contenders share NumPy's kernels:
    # observed ≤ 1e-7 relative on Haswell OpenBLAS, three orders below the tolerance.
    for res in results["results"]:
        cs = _by_name(res)
        ref = cs["numpy"]["final_loss"]
        assert math.isfinite(ref)
        assert cs["xpnet-numpy"]["final_loss"] == pytest.approx(ref, rel=1e-4)


@pytest.mark.skipif(not (HAVE_TORCH or HAVE_JAX), reason="neither PyTorch nor JAX is installed")
def test_optional_library_contenders_run_and_agree():
    names = ["numpy"] + (["torch", "xpnet-torch"] if HAVE_TORCH else []) + (["jax-jit", "jax-scan"] if HAVE_JAX else [])
    results = _tiny(
        contenders=",".join(names),
        batch_sizes=(96,),
        optimizers=("sgd", "adam"),
        n_samples=200,
        memory=False,
        tutorial=False,
    )
    # Other libraries' kernels, after training (no bound survives the steps): observed ≤ 3e-6
    # relative here (JAX with Adam); 1e-3 leaves room for other kernels and for Adam's
    # sign-like first steps, where rounding can flip the step of a near-zero gradient.
    for res in results["results"]:
        cs = _by_name(res)
        for name in names:
            assert cs[name]["status"] == "ok", cs[name]
            assert cs[name]["ratio_to_floor"] is None  # no floor selected
            assert cs[name]["final_loss"] == pytest.approx(cs["numpy"]["final_loss"], rel=1e-3)


def test_strict_oracle_is_selectable():
    results = _tiny(
        contenders="xpnet-strict,xpnet-numpy",
        batch_sizes=(32,),
        optimizers=("sgd",),
        n_samples=64,
        memory=False,
        tutorial=False,
    )
    cs = _by_name(results["results"][0])
    assert cs["xpnet-strict"]["status"] == "ok"
    assert cs["xpnet-strict"]["final_loss"] == pytest.approx(cs["xpnet-numpy"]["final_loss"], rel=1e-4)


def test_thread_limit_is_applied_and_restored(monkeypatch):
    from threadpoolctl import threadpool_info

    monkeypatch.setenv("XLA_FLAGS", "")  # restored afterwards, whatever the benchmark sets
    before = [p["num_threads"] for p in threadpool_info()]
    results = _tiny(
        threads=1, contenders="floor", batch_sizes=(128,), optimizers=("sgd",), tutorial=False, memory=False
    )
    assert results["environment"]["threads_requested"] == 1
    assert all(p["num_threads"] == 1 for p in results["environment"]["threadpools"])
    assert [p["num_threads"] for p in threadpool_info()] == before


def test_gpu_contenders_are_skipped_with_a_reason_without_a_gpu():
    usable = bench.available_contenders()
    assert usable["floor"] is None and usable["xpnet-numpy"] is None and usable["numpy"] is None
    if usable["xpnet-cupy"] is not None:  # no CUDA GPU with CuPy here
        results = _tiny(
            contenders="floor,xpnet-cupy,floor-cupy",
            batch_sizes=(128,),
            optimizers=("sgd",),
            tutorial=False,
            memory=False,
        )
        cs = _by_name(results["results"][0])
        assert cs["xpnet-cupy"]["status"] == "skipped" and cs["xpnet-cupy"]["reason"]
        assert cs["floor"]["status"] == "ok"


def test_unknown_contender_is_an_error():
    with pytest.raises(ValueError, match="unknown contender.*tensorflow"):
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


def test_parse_batch_sizes():
    assert bench.parse_batch_sizes("64, full,128") == [64, None, 128]
    for bad in ("0", "", " , "):
        with pytest.raises(ConfigError, match="batch size"):
            bench.parse_batch_sizes(bad)


def test_numpy_training_setting_is_recorded():
    from xpnet.backend import tune_host_allocator

    assert isinstance(tune_host_allocator(), bool)
    results = _tiny(contenders="floor", batch_sizes=(128,), optimizers=("sgd",), tutorial=False, memory=False)
    assert isinstance(results["environment"]["malloc_tuned"], bool)


@pytest.mark.parametrize("setting, calls", [("1", 1), ("0", 0)])
def test_allocator_tuning_is_applied_before_the_contenders_unless_turned_off(monkeypatch, setting, calls):
    from benchmarks.compare import run
    from xpnet import backend

    seen = []
    monkeypatch.setattr(backend, "tune_host_allocator", lambda: seen.append(1) or True)
    monkeypatch.setenv("XPNET_MALLOC_TUNING", setting)
    assert run.prepare_host_allocator() is bool(calls)
    assert len(seen) == calls


# -- the floor: both weight layouts, the faster one kept ------------------------------------------
def test_floor_layouts_compute_the_same_products():
    """(n_out, n_in) with X·Wᵀ and (n_in, n_out) with X·W: the same dW, transposed."""
    import numpy as np

    from benchmarks.compare.contenders.floor import FloorRunner
    from benchmarks.compare.problem import initial_params

    data = bench.load_bench_data("synthetic", n_samples=100)
    p = bench.Problem(data, (784, 32, 10), 40, "sgd", 0.1)
    p.params0 = initial_params(p.sizes, p.init, p.seed)
    a, b = FloorRunner(p, "out_in"), FloorRunner(p, "in_out")
    a.epoch(), b.epoch()
    assert a.W[0].shape == (32, 784) and b.W[0].shape == (784, 32)
    # The two layouts run different float32 GEMM kernels (summation orders), and Z1 = X·W1ᵀ has
    # entries near zero, where no rtol holds: each product is within γ_k·(|A|·|B|) of the exact
    # one, so the two are within twice that (tests/conftest.py, docs/testing.md).
    m = 20  # the last, partial batch: what dW and the buffers hold after the epoch
    A, Z, dZ, _ = a.buffers[m]
    for same_a, same_b in zip(A[1:] + dZ, b.buffers[m][0][1:] + b.buffers[m][2]):
        np.testing.assert_array_equal(same_a, same_b)  # the same random operands in both
    lo, hi = p.batches()[-1]
    assert hi - lo == m
    Xb = data.X[lo:hi]
    inputs = [Xb] + A[1:]
    for l, (dw_a, dw_b) in enumerate(zip(a.dW, b.dW)):  # dW_l = dZ_lᵀ·A_{l−1}
        assert_close_by_bound(
            dw_a, dw_b.T, 2 * matmul_error_bound(dZ[l].T, inputs[l], np.float32), err_msg=f"dW{l + 1}"
        )
    assert_close_by_bound(Z[0], b.buffers[m][1][0], 2 * matmul_error_bound(Xb, a.W[0].T, np.float32), err_msg="Z1")
    with pytest.raises(ValueError, match="layout"):
        FloorRunner(p, "diagonal")


def test_floor_reports_its_faster_layout(monkeypatch):
    """Fake timings: the in_out layout is slower, so out_in is the floor, and the JSON says so."""
    from benchmarks.compare import run

    fake = {"out_in": 0.30, "in_out": 0.40}

    def time_epoch(r):
        r.epoch()
        t = fake.get(getattr(r, "layout", None), 0.45)
        return t, t, None

    monkeypatch.setattr(run, "time_epoch", time_epoch)
    results = _tiny(
        contenders="floor,numpy",
        batch_sizes=(64,),
        optimizers=("sgd",),
        tutorial=False,
        memory=False,
        epochs=3,
    )
    floor = _by_name(results["results"][0])["floor"]
    assert floor["layout"] == "out_in" and floor["median_s"] == 0.30
    assert {k: v["median_s"] for k, v in floor["layouts"].items()} == fake
    assert _by_name(results["results"][0])["numpy"]["ratio_to_floor"] == pytest.approx(1.5)


# -- the floor's scatter: ratios marked unreliable ------------------------------------------------
def test_scatter_from_fake_timings():
    from benchmarks.compare.measure import scatter

    steady = scatter([1.00, 1.02, 0.99, 1.01])
    assert steady["unreliable"] is False and steady["spread"] == pytest.approx(0.03 / 1.005)
    noisy = scatter([0.30, 0.41, 0.31])
    assert noisy["unreliable"] is True and noisy["spread"] == pytest.approx(0.11 / 0.31)
    assert scatter([0.3])["unreliable"] is None  # one epoch: nothing to judge by
    one_outlier = scatter([1.0] * 9 + [1.5])
    assert one_outlier["unreliable"] is True  # spread 50 %


def test_report_marks_ratios_when_the_floor_scatters(monkeypatch):
    from rich.console import Console

    from benchmarks.compare import run

    floor_times = iter([0.30, 0.30, 0.45, 0.31])  # warm-up, then 3 timed epochs: 48 % spread

    def time_epoch(r):
        r.epoch()
        t = next(floor_times) if getattr(r, "layout", None) == "out_in" else 1.0
        return t, 0.5, None

    monkeypatch.setattr(run, "time_epoch", time_epoch)
    monkeypatch.setattr(run, "_variant_slots", lambda name: ["out_in"] if name == "floor" else [None])
    results = _tiny(
        contenders="floor,numpy",
        batch_sizes=(64,),
        optimizers=("sgd",),
        tutorial=False,
        memory=False,
        epochs=3,
    )
    res = results["results"][0]
    wall = res["reference_scatter"]["floor"]["wall"]
    assert wall["unreliable"] is True and wall["spread"] == pytest.approx(0.15 / 0.31)
    assert res["reference_scatter"]["floor"]["cpu"]["unreliable"] is False  # CPU time held steady
    console = Console(record=True, width=300)
    bench.print_report(results, console)
    text = console.export_text()
    assert "3.23?" in text  # numpy's wall-clock ratio 1.0 / 0.31, marked
    assert "floor's wall-clock epochs scattered by 48 %" in text and "unreliable" in text
    assert "CPU-time epochs scattered" not in text


# -- the per-step overhead table ------------------------------------------------------------------
def test_tiny_network_table():
    results = _tiny(
        batch_sizes=(),
        tutorial=False,
        memory=False,
        tiny=True,
        tiny_contenders="xpnet-numpy,numpy,torch",
        tiny_samples=256,
        epochs=2,
    )
    assert results["results"] == [] and results["data"] is None
    tiny = results["tiny"]
    assert (tiny["network"], tiny["batch_size"], tiny["n_samples"]) == ("64-16-10", 16, 256)
    assert [r["optimizer"] for r in tiny["results"]] == ["sgd", "adam"]
    for res in tiny["results"]:
        assert res["n_batches"] == 16
        cs = _by_name(res)
        for name in ("xpnet-numpy", "numpy"):
            c = cs[name]
            assert c["status"] == "ok"
            assert c["us_per_step"] == pytest.approx(1e6 * c["median_s"] / 16)
            assert c["ratio_to_numpy"] > 0 and "ratio_to_floor" not in c
        assert cs["numpy"]["ratio_to_numpy"] == 1.0
        assert cs["xpnet-numpy"]["final_loss"] == pytest.approx(cs["numpy"]["final_loss"], rel=1e-4)
        assert cs["torch"]["status"] == ("ok" if HAVE_TORCH else "skipped")
    assert json.loads(json.dumps(results)) == results


# -- data through xpnet.datasets ------------------------------------------------------------------
def test_data_directory_is_read_through_xpnet_datasets(tmp_path):
    import numpy as np

    from xpnet.datasets import DataError, write_idx

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 30).astype(np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", x)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", y)
    data = bench.load_bench_data(str(tmp_path), n_samples=20)
    assert data.X.shape == (20, 784) and data.X.dtype.name == "float32"
    np.testing.assert_allclose(data.X, x[:20].reshape(20, -1) / np.float32(255), rtol=1e-6)
    assert (data.y == y[:20]).all() and data.y.dtype.name == "int64"
    assert str(tmp_path) in data.source
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="--data"):
        bench.load_bench_data(str(empty))


def test_report_marks_a_contenders_own_scatter(monkeypatch):
    from rich.console import Console

    from benchmarks.compare import run

    numpy_times = iter([0.5, 0.28, 0.57, 0.80])  # warm-up, then growing: 186 % spread

    def time_epoch(r):
        r.epoch()
        t = 0.2 if getattr(r, "layout", None) else next(numpy_times)
        return t, 0.3, None

    monkeypatch.setattr(run, "time_epoch", time_epoch)
    monkeypatch.setattr(run, "_variant_slots", lambda name: ["out_in"] if name == "floor" else [None])
    results = _tiny(
        contenders="floor,numpy",
        batch_sizes=(64,),
        optimizers=("sgd",),
        tutorial=False,
        memory=False,
        epochs=3,
    )
    res = results["results"][0]
    assert res["reference_scatter"]["floor"]["wall"]["unreliable"] is False
    assert _by_name(res)["numpy"]["scatter"]["wall"]["unreliable"] is True
    console = Console(record=True, width=300)
    bench.print_report(results, console)
    text = console.export_text()
    assert "2.85?" in text and "1.00?" not in text  # numpy's ratio 0.57 / 0.2 marked, the floor's not
    assert "wall-clock epochs scattered (max − min over the median) for numpy 91 %" in text


# -- the augmentation overhead table --------------------------------------------------------------
def test_augmentation_overhead_table():
    results = _tiny(
        batch_sizes=(),
        tutorial=False,
        memory=False,
        shifts=True,
        shift_batch=32,
        n_samples=96,
        epochs=2,
        optimizers=("sgd",),
    )
    assert results["results"] == [] and "tiny" not in results
    shifts = results["shifts"]
    assert (shifts["max_shift"], shifts["batch_size"], shifts["n_samples"]) == (1, 32, 96)
    assert shifts["pairs"]["xpnet-numpy"] == "xpnet-numpy+shifts"
    assert shifts["affine_pairs"]["xpnet-numpy"] == "xpnet-numpy+affine"
    assert shifts["affine"] == "RandomAffine(rotation=15, scale=0.15, shear=0.2, shift=1)"
    assert shifts["reference"]["cpu"] == "xpnet-numpy" and shifts["target_network"] == "784-32-10"
    assert [(r["network"], r["optimizer"]) for r in shifts["results"]] == [
        ("784-32-10", "sgd"),
        ("784-128-10", "sgd"),
    ]
    assert [r["target_ratio"] for r in shifts["results"]] == [shifts["target_ratio"], None]
    for res in shifts["results"]:
        assert res["n_batches"] == 3
        cs = _by_name(res)
        plain, shifted = cs["xpnet-numpy"], cs["xpnet-numpy+shifts"]
        assert plain["status"] == shifted["status"] == "ok"
        assert plain["ratio_to_unshifted"] == 1.0 and "ratio_to_floor" not in shifted
        assert shifted["ratio_to_unshifted"] == pytest.approx(shifted["median_s"] / plain["median_s"])
        assert shifted["cpu_ratio_to_unshifted"] == pytest.approx(shifted["median_cpu_s"] / plain["median_cpu_s"])
        assert len(shifted["epoch_seconds"]) == len(shifted["epoch_cpu_seconds"]) == 2
        # the same start and batches, different (shifted) images: a different, finite loss
        assert math.isfinite(shifted["final_loss"]) and shifted["final_loss"] != plain["final_loss"]
        affine = cs["xpnet-numpy+affine"]
        assert affine["status"] == "ok" and affine["ratio_to_unshifted"] == pytest.approx(
            affine["median_s"] / plain["median_s"]
        )
        assert math.isfinite(affine["final_loss"]) and affine["final_loss"] not in (
            plain["final_loss"],
            shifted["final_loss"],
        )
        assert cs["xpnet-cupy"]["status"] in ("ok", "skipped")
    assert json.loads(json.dumps(results)) == results


def test_shifted_contender_trains_on_the_shifted_images():
    """xpnet-numpy+shifts is MLP.fit with RandomShifts(1, seed): the same loss as fit() so."""
    from benchmarks.compare.contenders import CONTENDERS
    from benchmarks.compare.problem import initial_params
    from xpnet import MLP
    from xpnet.augment.shifts import RandomShifts
    from xpnet.nn.optim import SGD

    data = bench.load_bench_data("synthetic", n_samples=64)
    p = bench.Problem(data, (784, 16, 10), 16, "sgd", 0.1, seed=3)
    p.params0 = initial_params(p.sizes, p.init, p.seed)
    runner = CONTENDERS["xpnet-numpy+shifts"].make(p, None)
    losses = [runner.epoch(), runner.epoch()]
    runner.close()
    model = MLP(list(p.sizes), backend="numpy", seed=p.seed)
    model.set_params({k: v.copy() for k, v in p.params0.items()})
    history = model.fit(
        data.X,
        data.y,
        epochs=2,
        batch_size=16,
        optimizer=SGD(lr=0.1),
        augment=RandomShifts(max_shift=1, seed=3),
    )
    assert losses == pytest.approx(history.loss, rel=1e-6)
    assert not CONTENDERS["xpnet-numpy+shifts"].default  # not in the main tables unless asked


def test_affine_contender_trains_on_the_distorted_images():
    """xpnet-numpy+affine is MLP.fit with xpnet train --augment affine's RandomAffine."""
    from benchmarks.compare.contenders import CONTENDERS
    from benchmarks.compare.problem import initial_params
    from xpnet import MLP
    from xpnet.augment.affine import RandomAffine
    from xpnet.nn.optim import SGD
    from xpnet.runs.config import AFFINE_RANGES

    data = bench.load_bench_data("synthetic", n_samples=64)
    p = bench.Problem(data, (784, 16, 10), 16, "sgd", 0.1, seed=3)
    p.params0 = initial_params(p.sizes, p.init, p.seed)
    runner = CONTENDERS["xpnet-numpy+affine"].make(p, None)
    losses = [runner.epoch(), runner.epoch()]
    runner.close()
    model = MLP(list(p.sizes), backend="numpy", seed=p.seed)
    model.set_params({k: v.copy() for k, v in p.params0.items()})
    augment = RandomAffine(**AFFINE_RANGES, shift=1, seed=3)
    history = model.fit(data.X, data.y, epochs=2, batch_size=16, optimizer=SGD(lr=0.1), augment=augment)
    assert losses == pytest.approx(history.loss, rel=1e-6)
    assert not CONTENDERS["xpnet-numpy+affine"].default


def test_report_marks_shift_ratios_when_the_unshifted_run_scatters(monkeypatch):
    from rich.console import Console

    from benchmarks.compare import run

    plain_times = iter([0.30, 0.30, 0.45, 0.31] * 2)  # warm-up, then 3 timed epochs: 48 % spread

    def time_epoch(r):
        r.epoch()
        t = 0.62 if (r.shift or r.affine) else next(plain_times)
        return t, 0.5, None

    monkeypatch.setattr(run, "time_epoch", time_epoch)
    results = _tiny(
        batch_sizes=(),
        tutorial=False,
        memory=False,
        shifts=True,
        shift_batch=32,
        n_samples=64,
        epochs=3,
        optimizers=("sgd",),
    )
    res = results["shifts"]["results"][0]
    assert res["reference_scatter"]["xpnet-numpy"]["wall"]["unreliable"] is True
    console = Console(record=True, width=300)
    bench.print_report(results, console)
    text = console.export_text()
    assert "Augmentation overhead: RandomShifts(max_shift=1) and RandomAffine(rotation=15" in text
    assert "2.00?" in text  # 0.62 / 0.31, marked: the unshifted run's wall-clock epochs scattered
    assert "784-32-10 sgd: xpnet-numpy's wall-clock epochs scattered by 48 %" in text
    assert "≤ 1.15" in text and "× floor:" not in text
