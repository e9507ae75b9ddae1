"""The comparison harness's command (`python -m benchmarks.compare`, benchmarks/bench.py): its
options, its table and JSON, and its errors. The harness lives in the source tree, not the wheel.

The machinery behind it is tested in tests/runs/test_compare.py; `xpnet bench` in test_bench.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from benchmarks import compare as bench

REPO = Path(__file__).resolve().parents[2]


def test_unknown_contender_exits_2():
    result = CliRunner().invoke(bench.bench_command, ["--contenders", "floor,tensorflow"])
    assert result.exit_code == 2 and "tensorflow" in result.output


def test_cli_prints_table_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        bench.bench_command,
        [
            "--samples",
            "200",
            "--epochs",
            "1",
            "--batch-sizes",
            "100,full",
            "--optimizers",
            "sgd",
            "--contenders",
            "floor,xpnet-numpy",
            "--no-tutorial",
            "--data",
            "synthetic",
            "--no-memory",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "xpnet-numpy" in result.output and "× floor" in result.output
    data = json.loads(out.read_text())
    assert [r["batch_size"] for r in data["results"]] == [100, "full"]


def test_cli_rejects_bad_batch_sizes():
    result = CliRunner().invoke(bench.bench_command, ["--batch-sizes", "12x"])
    assert result.exit_code == 2 and "'12x' is neither a positive integer nor 'full'" in result.output


def test_script_lists_contenders():
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench.py"), "--list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "xpnet-numpy" in proc.stdout and "floor" in proc.stdout


def test_module_runs_from_the_repository_root():
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.compare", "--list"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert "torch" in proc.stdout and "jax-jit" in proc.stdout


def test_cli_tiny_only_and_help_examples(tmp_path):
    out = tmp_path / "tiny.json"
    result = CliRunner().invoke(
        bench.bench_command,
        [
            "--tiny-only",
            "--tiny-samples",
            "128",
            "--epochs",
            "1",
            "--warmup",
            "0",
            "--optimizers",
            "sgd",
            "--tiny-contenders",
            "xpnet-numpy,numpy",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Per-step overhead: 64-16-10, batch 16" in result.output and "µs/step" in result.output
    assert "784-128-10" not in result.output
    assert json.loads(out.read_text())["tiny"]["n_samples"] == 128
    helptext = CliRunner().invoke(bench.bench_command, ["--help"]).output
    assert "Examples:" in helptext and "python -m benchmarks.compare --quick" in helptext and "--tiny-only" in helptext


def test_a_data_directory_without_data_exits_2(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(bench.bench_command, ["--data", str(empty), "--contenders", "floor"])
    assert result.exit_code == 2 and "--data" in result.output


def test_cli_shifts_only_and_only_flags_combine(tmp_path):
    out = tmp_path / "shifts.json"
    args = [
        "--samples",
        "64",
        "--epochs",
        "1",
        "--warmup",
        "0",
        "--optimizers",
        "sgd",
        "--data",
        "synthetic",
        "--tiny-samples",
        "64",
    ]
    result = CliRunner().invoke(bench.bench_command, args + ["--shifts-only", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Augmentation overhead" in result.output and "xpnet-numpy" in result.output
    assert "Per-step overhead" not in result.output and "GEMM GFLOP/epoch" not in result.output
    data = json.loads(out.read_text())
    assert data["results"] == [] and "tiny" not in data
    assert [r["network"] for r in data["shifts"]["results"]] == ["784-32-10", "784-128-10"]
    both = CliRunner().invoke(bench.bench_command, args + ["--shifts-only", "--tiny-only"])
    assert both.exit_code == 0, both.output
    assert "Augmentation overhead" in both.output and "Per-step overhead" in both.output
    none = CliRunner().invoke(
        bench.bench_command,
        args + ["--batch-sizes", "32", "--contenders", "floor", "--no-tutorial", "--no-tiny", "--no-shifts"],
    )
    assert none.exit_code == 0, none.output
    assert "Augmentation overhead" not in none.output and "× floor" in none.output
