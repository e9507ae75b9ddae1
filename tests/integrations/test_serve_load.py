"""The load test of ``xpnet serve`` (benchmarks/serve_load.py), short: a real ``xpnet serve``
child process on 127.0.0.1, 4 concurrent clients, 40 requests of every kind (canvas PNGs,
JPEG photos, garbage, empty bodies, 30 MB bodies with and without Content-Length).

The full run (1,000 requests, 16 clients) and its output are in docs/serve.md.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("uvicorn", reason="the serve extra (uvicorn) is not installed")
pytest.importorskip("httpx", reason="httpx (the load test's client) is not installed")

REPO = Path(__file__).resolve().parents[2]


def _load_script():
    spec = importlib.util.spec_from_file_location("serve_load", REPO / "benchmarks" / "serve_load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


serve_load = _load_script()


def test_job_mix_is_exact_and_alternates_oversized_framing():
    import numpy as np

    cfg = serve_load.LoadConfig(
        requests=103, mix={"canvas": 60, "photo": 15, "garbage": 10, "empty": 10, "oversized": 5}
    )
    kinds = serve_load.job_kinds(cfg, np.random.default_rng(0))
    counts = {k: kinds.count(k) for k in serve_load.KINDS}
    assert sum(counts.values()) == 103
    assert all(abs(counts[k] - 103 * cfg.mix[k] / 100) < 1 for k in serve_load.KINDS), counts
    bodies = {k: [(bytes([i]), "image/png") for i in range(3)] for k in serve_load.KINDS}
    jobs = serve_load.jobs_for(kinds, bodies)
    chunked = [c for kind, _, _, c in jobs if kind == "oversized"]
    assert chunked == [i % 2 == 1 for i in range(len(chunked))]
    assert not any(c for kind, _, _, c in jobs if kind != "oversized")


def test_short_load_run_no_5xx_every_kind_answered_memory_settles():
    cfg = serve_load.LoadConfig(
        requests=40,
        clients=4,
        mix={"canvas": 50, "photo": 10, "garbage": 15, "empty": 15, "oversized": 10},
        photo_size=(1200, 800),
        single=10,
        warmup=8,
        max_seconds=300,
    )
    summary = serve_load.run(cfg, log=lambda *a: None)
    report = serve_load.format_report(summary)
    assert summary["ok"], report
    assert summary["n_5xx"] == 0
    for kind, status in serve_load.EXPECTED_STATUS.items():
        assert set(summary["statuses"][kind]) == {str(status)}, (kind, summary["statuses"][kind])
    assert sum(sum(v.values()) for v in summary["statuses"].values()) == 40
    assert summary["statuses"]["oversized"]["413"] == 4  # two announced by Content-Length, two chunked
    assert summary["server_exit"] == 0  # stopped by Ctrl-C (SIGINT), cleanly
    if sys.platform.startswith("linux"):
        assert summary["memory"]["measured"] and summary["memory"]["settled"], report
    lat = summary["latency"]["all"]
    assert lat["n"] == 32 and 0 < lat["p50_ms"] <= lat["p99_ms"] <= lat["max_ms"]
    assert summary["single_client"]["n"] == 10
    assert "requests/s" in report and "p99 ms" in report
