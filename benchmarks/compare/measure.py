"""Measurement: epoch timing (wall clock and CPU time, CUDA events on GPUs), memory probes,
thread limits, and how much a contender's epoch times scatter.

On the CPU an epoch is timed with ``time.perf_counter`` and ``time.process_time`` (the CPU time
does not count the time the process waited for a core another program held, which makes it the
steadier figure on a shared machine). On a CUDA device, epochs are timed with CUDA events on the
default stream after a device synchronisation, never with the wall clock around asynchronous
calls.

Memory is measured in one extra untimed epoch: on the CPU the growth of the process's peak
resident set (``VmHWM``, reset through ``/proc/self/clear_refs`` after ``malloc_trim``) over the
resident set before the epoch; on CUDA the peak of memory allocated during the epoch (PyTorch's
allocator statistics; a CuPy memory hook).
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import time
from pathlib import Path

from xpnet.bench.timing import SCATTER_CV_LIMIT, SCATTER_SPREAD_LIMIT, median, scatter  # shared with xpnet bench

from .contenders.base import Runner, have

__all__ = [
    "time_epoch",
    "measure_memory",
    "ThreadLimits",
    "median",
    "scatter",
    "SCATTER_SPREAD_LIMIT",
    "SCATTER_CV_LIMIT",
]


class _CudaEvents:
    """CUDA events on the current stream of the library that runs the contender (PyTorch's
    for PyTorch contenders, else CuPy's)."""

    def __init__(self, torch_events: bool = False):
        try:
            if torch_events:
                raise ImportError
            import cupy

            self.lib = "cupy"
            self.start, self.end = cupy.cuda.Event(), cupy.cuda.Event()
        except ImportError:
            import torch

            self.lib = "torch"
            self.start = torch.cuda.Event(enable_timing=True)
            self.end = torch.cuda.Event(enable_timing=True)

    def elapsed_s(self) -> float:
        self.end.synchronize()
        if self.lib == "cupy":
            import cupy

            return cupy.cuda.get_elapsed_time(self.start, self.end) / 1000.0
        return self.start.elapsed_time(self.end) / 1000.0


def time_epoch(runner: Runner) -> tuple[float, float, float | None]:
    """Train one epoch of ``runner`` and time it.

    Returns
    -------
    tuple
        ``(seconds, CPU seconds, loss)``; on CUDA, seconds are CUDA-event time.
    """
    if runner.platform == "cuda":
        runner.sync()
        ev = _CudaEvents(torch_events=runner.uses_torch)
        c0 = time.process_time()
        ev.start.record()
        loss = runner.epoch()
        ev.end.record()
        elapsed = ev.elapsed_s()
        return elapsed, time.process_time() - c0, loss
    t0, c0 = time.perf_counter(), time.process_time()
    loss = runner.epoch()
    return time.perf_counter() - t0, time.process_time() - c0, loss


def _rss_kib() -> dict:
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, val = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(val.split()[0])
    except OSError:
        pass
    return out


def _malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except Exception:
        pass


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure_memory(runner: Runner) -> tuple[float | None, str]:
    """Extra memory (MiB) one epoch needs beyond what exists before it, and how it was measured."""
    if runner.platform == "cuda":
        return _measure_cuda_memory(runner)
    gc.collect()
    _malloc_trim()
    before = _rss_kib().get("VmRSS")
    if before is None or not _reset_peak_rss():
        import tracemalloc

        tracemalloc.start()
        runner.epoch()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak / 2**20, "tracemalloc peak (NumPy buffers only)"
    runner.epoch()
    peak = _rss_kib().get("VmHWM", before)
    return max(peak - before, 0) / 1024, "peak RSS growth during an epoch"


def _measure_cuda_memory(runner: Runner) -> tuple[float | None, str]:
    runner.sync()
    if runner.uses_torch:
        import torch

        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        runner.epoch()
        runner.sync()
        return (torch.cuda.max_memory_allocated() - before) / 2**20, "peak CUDA memory allocated during an epoch"
    try:
        import cupy
        from cupy.cuda import memory_hook

        class _Peak(memory_hook.MemoryHook):
            name = "xpnet-bench-peak"

            def __init__(self):
                self.cur = self.peak = 0

            # CuPy calls these with keyword arguments (device_id, size, mem_size, mem_ptr, ...)
            def malloc_postprocess(self, **kwargs):
                self.cur += kwargs["mem_size"]
                self.peak = max(self.peak, self.cur)

            def free_postprocess(self, **kwargs):
                self.cur -= kwargs["mem_size"]

        hook = _Peak()
        with hook:
            runner.epoch()
            runner.sync()
        cupy.cuda.Device().synchronize()
        return hook.peak / 2**20, "peak CuPy memory-pool use during an epoch"
    except Exception as exc:  # pragma: no cover - needs a GPU
        return None, f"not measured ({type(exc).__name__})"


class ThreadLimits:
    """Limit BLAS/OpenMP (threadpoolctl), PyTorch and, if not yet imported, XLA to ``threads``
    for the whole run; `restore` undoes what can be undone (XLA's setting cannot).
    """

    def __init__(self, threads: int | None):
        self.limiter = self.torch_threads = None
        if threads is None:
            return
        if "jax" not in sys.modules and threads == 1:
            flags = os.environ.get("XLA_FLAGS", "")
            if "xla_cpu_multi_thread_eigen" not in flags:
                os.environ["XLA_FLAGS"] = (
                    flags + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
                ).strip()
        if have("torch"):
            import torch

            self.torch_threads = torch.get_num_threads()
            torch.set_num_threads(threads)
        from threadpoolctl import threadpool_limits

        self.limiter = threadpool_limits(limits=threads)

    def restore(self) -> None:
        if self.limiter is not None:
            self.limiter.restore_original_limits()
        if self.torch_threads is not None:
            import torch

            torch.set_num_threads(self.torch_threads)
