"""Timing: one epoch of a runner on the wall clock and in CPU time, epochs of several runners
interleaved, and how much a runner's timed epochs scatter.

An epoch is timed with ``time.perf_counter`` (and ``time.process_time``, the CPU time, which
does not count the time the process waited for a core another program held), between two
[`Backend.synchronize`][xpnet.backend.Backend.synchronize] calls, so that on a GPU the queued
work of the epoch is inside the interval and the previous epoch's is not.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any, Protocol

__all__ = [
    "EpochRunner",
    "time_epoch",
    "interleave",
    "median",
    "scatter",
    "SCATTER_SPREAD_LIMIT",
    "SCATTER_CV_LIMIT",
]

#: A reference whose timed epochs spread by more than this, (max − min) / median, makes the
#: ratios to it unreliable: the report says so instead of printing them as if they were firm.
SCATTER_SPREAD_LIMIT = 0.20
#: ... or whose coefficient of variation (sample standard deviation / mean) exceeds this.
SCATTER_CV_LIMIT = 0.10


class EpochRunner(Protocol):
    """What [`time_epoch`][xpnet.bench.timing.time_epoch] times: ``epoch()`` trains one epoch and
    returns its mean training loss; ``sync()`` waits for the device; ``close()`` frees it."""

    def epoch(self) -> float | None: ...  # pragma: no cover - protocol

    def sync(self) -> None: ...  # pragma: no cover - protocol

    def close(self) -> None: ...  # pragma: no cover - protocol


def median(xs):
    """The median of ``xs``, or None when empty."""
    return statistics.median(xs) if xs else None


def scatter(times) -> dict:
    """How much a runner's timed epochs scatter, and whether ratios to it are reliable.

    Parameters
    ----------
    times : sequence of float
        Seconds per timed epoch.

    Returns
    -------
    dict
        ``n``; ``spread = (max − min) / median``; ``cv = stdev / mean`` (sample standard
        deviation); ``unreliable``: True when ``spread > SCATTER_SPREAD_LIMIT`` or
        ``cv > SCATTER_CV_LIMIT``, None when fewer than two epochs were timed (nothing to
        judge by); ``min`` and ``max``.
    """
    xs = [float(t) for t in times if t is not None]
    if len(xs) < 2:
        return {
            "n": len(xs),
            "spread": None,
            "cv": None,
            "min": min(xs, default=None),
            "max": max(xs, default=None),
            "unreliable": None,
        }
    med, mean = statistics.median(xs), statistics.fmean(xs)
    spread = (max(xs) - min(xs)) / med if med > 0 else float("inf")
    cv = statistics.stdev(xs) / mean if mean > 0 else float("inf")
    return {
        "n": len(xs),
        "spread": spread,
        "cv": cv,
        "min": min(xs),
        "max": max(xs),
        "unreliable": bool(spread > SCATTER_SPREAD_LIMIT or cv > SCATTER_CV_LIMIT),
    }


def time_epoch(runner: EpochRunner) -> tuple[float, float, float | None]:
    """Train one epoch of ``runner`` and time it.

    Returns
    -------
    tuple
        ``(seconds, CPU seconds, loss)``.
    """
    runner.sync()
    t0, c0 = time.perf_counter(), time.process_time()
    loss = runner.epoch()
    runner.sync()
    return time.perf_counter() - t0, time.process_time() - c0, loss


def interleave(
    runners: dict[str, EpochRunner],
    epochs: int,
    warmup: int,
    say: Callable[[str], None] = lambda m: None,
) -> dict[str, dict]:
    """Time ``warmup + epochs`` epochs of every runner, interleaved epoch by epoch.

    Every runner's epoch e runs before any runner's epoch e + 1, so that a machine whose speed
    drifts slows them all alike. A runner that raises is dropped (and closed); every runner is
    closed at the end.

    Parameters
    ----------
    runners : dict
        Name → runner.
    epochs, warmup : int
        Timed epochs, and untimed ones before them (compilation, caches, first-touch faults).
    say : callable
        Progress messages.

    Returns
    -------
    dict
        Name → ``{"wall": [...], "cpu": [...], "losses": [...], "error": None or str}``, the
        seconds of the timed epochs and the losses of all epochs.
    """
    out: dict[str, dict[str, Any]] = {name: {"wall": [], "cpu": [], "losses": [], "error": None} for name in runners}
    live = dict(runners)
    try:
        for e in range(warmup + epochs):
            for name, r in list(live.items()):
                try:
                    wall, cpu, loss = time_epoch(r)
                except Exception as exc:  # one backend failing must not stop the others
                    out[name]["error"] = f"epoch {e + 1}: {type(exc).__name__}: {exc}"
                    live.pop(name).close()
                    continue
                out[name]["losses"].append(loss)
                if e >= warmup:
                    out[name]["wall"].append(wall)
                    out[name]["cpu"].append(cpu)
            say(f"  epoch {e + 1}/{warmup + epochs}" + (" (warm-up)" if e < warmup else ""))
    finally:
        for r in live.values():
            r.close()
    return out
