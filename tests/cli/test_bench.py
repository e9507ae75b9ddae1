"""`xpnet bench`, driven as a user does: its options, its table and JSON, and its errors.

The machinery behind it is tested in tests/runs/test_bench.py; the comparison harness of the
source tree (python -m benchmarks.compare) in test_compare.py.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from xpnet.cli.command import cli

TINY = ["--samples", "96", "--epochs", "1", "--warmup", "1", "--sizes", "784,16,10", "--optimizers", "sgd"]


def bench(*args):
    return CliRunner().invoke(cli, ["bench", *args])


def test_list_names_every_backend_and_whether_it_is_usable():
    result = bench("--list")
    assert result.exit_code == 0, result.output
    assert "numpy" in result.output and "usable" in result.output
    assert "cupy" in result.output  # listed even where it cannot be used, with why


def test_prints_one_table_per_configuration_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    result = bench(*TINY, "--backends", "numpy,array_api_strict", "--batch-sizes", "32,full", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "784-16-10, batch 32" in result.output and "784-16-10, batch full" in result.output
    assert "× numpy" in result.output and "array_api_strict" in result.output
    data = json.loads(out.read_text())
    assert data["backends"]["timed"] == ["numpy", "array_api_strict"]
    assert [r["batch_size"] for r in data["results"]] == [32, "full"]
    assert "shifts" not in data


def test_shifts_only_prints_only_the_augmentation_table(tmp_path):
    out = tmp_path / "shifts.json"
    result = bench(*TINY, "--backends", "cpu", "--shifts-only", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "Augmentation overhead" in result.output and "RandomAffine" in result.output
    assert "RandomElastic(alpha=34, sigma=4" in result.output
    assert "steps/epoch" not in result.output.split("Augmentation overhead")[0]
    data = json.loads(out.read_text())
    assert data["results"] == []
    assert [(r["network"], r["batch_size"]) for r in data["shifts"]["results"]] == [
        ("784-32-10", "full"),
        ("784-16-10", "full"),
    ]
    names = [e["name"] for e in data["shifts"]["results"][0]["backends"]]
    assert names == ["numpy", "numpy+shifts", "numpy+affine", "numpy+elastic", "numpy+erase", "numpy+affine-erase"]


def test_bad_options_exit_2_and_name_the_option():
    for args, hint, words in [
        (["--batch-sizes", "12x"], "--batch-sizes", "'12x' is neither a positive integer nor 'full'"),
        (["--sizes", "784"], "--sizes", "two or more positive layer widths"),
        (["--optimizers", "rmsprop"], "--optimizers", "rmsprop"),
        (["--backends", "tensorflow"], "--backends", "tensorflow"),
    ]:
        result = bench(*args)
        assert result.exit_code == 2, (args, result.output)
        assert hint in result.output and words in result.output


def test_an_unusable_backend_is_reported_not_timed(tmp_path):
    out = tmp_path / "b.json"
    result = bench(*TINY, "--batch-sizes", "48", "--backends", "numpy,cuda:7", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "not timed: cuda:7" in result.output
    data = json.loads(out.read_text())
    assert data["backends"]["timed"] == ["numpy"] and "cuda:7" in data["backends"]["skipped"]


def test_help_shows_examples_and_points_to_the_comparison_harness():
    helptext = bench("--help").output
    assert "Examples:" in helptext and "xpnet bench --backends cpu,gpu" in helptext
    assert "python -m benchmarks.compare" in helptext
