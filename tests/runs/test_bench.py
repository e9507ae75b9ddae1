"""xpnet.bench, the library under `xpnet bench`: backend selection, the interleaved timing, the
results and the report, on tiny sizes.

Benchmarks are not tests: nothing here asserts anything about speed. These check that every
backend trains the same network (same initial weights, same batches: the same loss), that the
JSON and the tables are well formed, and that a failing or missing backend is reported, not fatal.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from xpnet import bench
from xpnet.bench import run as bench_run
from xpnet.errors import ConfigError

HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_JAX = importlib.util.find_spec("jax") is not None


def _tiny(**kwargs):
    args = dict(
        backends="numpy,array_api_strict",
        sizes=(784, 16, 10),
        batch_sizes=(40, None),
        optimizers=("sgd", "adam"),
        n_samples=120,
        epochs=2,
        warmup=1,
    )
    args.update(kwargs)
    return bench.run_bench(**args)


def test_results_structure_and_json_round_trip():
    results = _tiny()
    assert json.loads(json.dumps(results)) == results  # plain JSON types only
    assert results["backends"] == {"timed": ["numpy", "array_api_strict"], "skipped": {}}
    configs = [(r["network"], r["batch_size"], r["optimizer"], r["n_batches"]) for r in results["results"]]
    assert configs == [
        ("784-16-10", 40, "sgd", 3),
        ("784-16-10", "full", "sgd", 1),
        ("784-16-10", 40, "adam", 3),
        ("784-16-10", "full", "adam", 1),
    ]
    assert results["environment"]["libraries"]["numpy"]
    for res in results["results"]:
        numpy, strict = res["backends"]
        assert numpy["name"] == "numpy" and numpy["reference"] is None and numpy["ratio"] == 1.0
        assert strict["reference"] == "numpy" and strict["ratio"] > 0
        for e in (numpy, strict):
            assert e["status"] == "ok" and not e["gpu"]
            assert len(e["epoch_seconds"]) == len(e["epoch_cpu_seconds"]) == 2
            assert e["median_s"] > 0 and e["samples_per_s"] > 0 and e["scatter"]["n"] == 2


def test_every_backend_trains_the_same_network():
    """Same initial weights, same batches, same data: the same loss after training.

    No worst-case rounding bound survives the training steps (docs/testing.md); the losses are
    far from zero and both backends compute in float32 with NumPy underneath (array-api-strict
    wraps NumPy), so they agree far closer than the tolerance."""
    specs = "numpy,array_api_strict" + (",torch" if HAVE_TORCH else "") + (",jax" if HAVE_JAX else "")
    results = _tiny(backends=specs, batch_sizes=(40,))
    for res in results["results"]:
        losses = {e["name"]: e["final_loss"] for e in res["backends"]}
        assert all(e["status"] == "ok" for e in res["backends"]), res["backends"]
        ref = losses.pop("numpy")
        assert np.isfinite(ref) and ref > 0.01
        for name, loss in losses.items():
            # Other kernels (PyTorch, XLA) after training: 1e-3 relative, as in test_compare.py.
            assert loss == pytest.approx(ref, rel=1e-5 if name == "array_api_strict" else 1e-3), name


def test_default_selection_is_every_usable_backend_but_the_strict_oracle():
    selected, skipped = bench.select_backends("default")
    assert next(iter(selected)) == "numpy"
    assert all(b.name != "array_api_strict" for b in selected.values())
    assert ("torch:cpu" in selected) == HAVE_TORCH and ("jax" in selected) == HAVE_JAX
    assert "cupy" in skipped or any(b.name == "cupy" for b in selected.values())
    everything, _ = bench.select_backends("all")
    assert "array_api_strict" in everything


def test_specs_are_resolved_deduplicated_and_checked():
    selected, skipped = bench.select_backends("cpu, numpy ,cuda:9")
    assert list(selected) == ["numpy"] and "cuda:9" in skipped
    with pytest.raises(ConfigError, match="tensorflow"):
        bench.select_backends("numpy,tensorflow")
    with pytest.raises(ConfigError, match="empty"):
        bench.select_backends(" , ")


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="rmsprop"):
        _tiny(optimizers=("rmsprop",))
    with pytest.raises(ConfigError, match="two positive layer widths"):
        _tiny(sizes=(784,))


class _Fake:
    def __init__(self, times, fail_at=None):
        self.times, self.fail_at, self.n, self.closed = list(times), fail_at, 0, False

    def epoch(self):
        self.n += 1
        if self.n == self.fail_at:
            raise FloatingPointError("diverged")
        return 1.0 / self.n

    def sync(self):
        pass

    def close(self):
        self.closed = True


def test_interleave_times_warmup_apart_and_drops_a_failing_runner():
    good, bad = _Fake([]), _Fake([], fail_at=2)
    out = bench.interleave({"good": good, "bad": bad}, epochs=3, warmup=1)
    assert len(out["good"]["wall"]) == 3 and out["good"]["losses"] == [1.0, 0.5, 1 / 3, 0.25]
    assert out["good"]["error"] is None and good.closed
    assert out["bad"]["error"] == "epoch 2: FloatingPointError: diverged" and bad.closed
    assert out["bad"]["wall"] == []  # its one epoch was the warm-up


def test_scatter_marks_ratios_in_the_report(monkeypatch):
    from rich.console import Console

    steady, shaky = iter([1.0, 1.0, 1.0, 1.0]), iter([1.0, 2.0, 1.0, 2.0])

    def fake_interleave(runners, epochs, warmup, say=lambda m: None):
        out = {}
        for name, r in runners.items():
            times = steady if name == "numpy" else shaky
            out[name] = {"wall": [next(times), next(times)], "cpu": [0.5, 0.5], "losses": [0.3], "error": None}
            r.close()
        return out

    monkeypatch.setattr(bench_run, "interleave", fake_interleave)
    results = _tiny(batch_sizes=(40,), optimizers=("sgd",))
    numpy, strict = results["results"][0]["backends"]
    assert strict["scatter"]["unreliable"] and not numpy["scatter"]["unreliable"]
    console = Console(record=True, width=200)
    bench.print_report(results, console)
    text = console.export_text()
    assert "1.50?" in text and "array_api_strict 67 %" in text and "fastest here: numpy" in text


def test_augmentation_table_pairs_each_backend_with_its_plain_training():
    results = _tiny(backends="numpy", main=False, shifts=True, optimizers=("sgd",), n_samples=64, epochs=1)
    assert results["results"] == []
    tables = results["shifts"]["results"]
    assert [r["network"] for r in tables] == ["784-32-10", "784-16-10"]
    for res in tables:
        by_name = {e["name"]: e for e in res["backends"]}
        assert set(by_name) == {
            "numpy",
            "numpy+shifts",
            "numpy+affine",
            "numpy+elastic",
            "numpy+erase",
            "numpy+affine-erase",
        }
        assert by_name["numpy"]["reference"] is None
        assert {by_name[k]["reference"] for k in by_name if k != "numpy"} == {"numpy"}
        assert all(e["status"] == "ok" and e["ratio"] > 0 for e in by_name.values())
    # A network whose input is not 784 pixels only gets the small network's rows.
    other = _tiny(backends="numpy", main=False, shifts=True, sizes=(64, 8, 10), optimizers=("sgd",), epochs=1)
    assert [r["network"] for r in other["shifts"]["results"]] == ["784-32-10"]


def test_synthetic_images_are_scaled_pixels_with_a_blank_border():
    X, y = bench.synthetic_images(50, 784, 10, seed=1)
    assert X.dtype == np.float32 and X.shape == (50, 784) and y.dtype == np.int64
    assert X.min() >= 0 and X.max() <= 1 and np.allclose(X * 255, np.rint(X * 255), atol=1e-4)
    assert (X.reshape(50, 28, 28)[:, :3] == 0).all()
    X2, y2 = bench.synthetic_images(50, 784, 10, seed=1)
    assert (X == X2).all() and (y == y2).all()
