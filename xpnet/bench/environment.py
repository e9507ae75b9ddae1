"""What the benchmark ran on: one function, :func:`collect_environment`.

(xpnet has other version collectors, for ``xpnet info`` and checkpoints; this one adds what a
benchmark needs on top — BLAS thread pools and kernels, the variables that change them, the load
average. It is meant to be merged with the shared collector.)
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

__all__ = ["collect_environment", "ENV_KEYS", "SLOW_ENV"]

#: Environment variables that change which BLAS kernel or how many threads run.
ENV_KEYS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "XLA_FLAGS", "XPNET_BACKEND", "CUDA_VISIBLE_DEVICES",
            "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "XPNET_MALLOC_TUNING")
#: Variables that pin OpenBLAS to a slower kernel when set.
SLOW_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def collect_environment(threads: int | None) -> dict:
    """The machine, libraries, thread pools and settings of this process, JSON-ready.

    Parameters
    ----------
    threads : int or None
        The ``--threads`` the run asked for.

    Returns
    -------
    dict
        ``xpnet``, ``python``, ``platform``, ``cpu`` (model name), ``cpu_count``,
        ``load_average``, ``libraries`` (name → version, for those imported), ``threads_requested``,
        ``malloc_tuned`` (whether :func:`xpnet.backend.tune_host_allocator` raised glibc's
        thresholds in this process), ``torch_threads``, ``threadpool_info`` (threadpoolctl),
        ``env`` (the set variables of :data:`ENV_KEYS`) and ``warnings`` (one per set variable
        of :data:`SLOW_ENV`).
    """
    import array_api_compat
    import numpy as np

    from .. import __version__
    from ..backend import host_allocator_tuned

    libs = {"numpy": np.__version__, "array_api_compat": array_api_compat.__version__}
    for mod in ("torch", "jax", "jaxlib", "cupy", "array_api_strict"):
        m = sys.modules.get(mod)
        if m is not None:
            libs[mod] = getattr(m, "__version__", "?")
    try:
        from threadpoolctl import threadpool_info

        pools = threadpool_info()
    except Exception as exc:  # pragma: no cover
        pools = [{"error": str(exc)}]
    torch_threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        load = None
    return {
        "xpnet": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "load_average": load,
        "libraries": libs,
        "threads_requested": threads,
        "malloc_tuned": bool(host_allocator_tuned()),
        "torch_threads": torch_threads,
        "threadpool_info": pools,
        "env": {k: os.environ[k] for k in ENV_KEYS if k in os.environ},
        "warnings": [f"{k}={os.environ[k]} is set: it pins OpenBLAS's kernel choice and can make "
                     f"NumPy much slower; unset it for representative numbers" for k in SLOW_ENV
                     if k in os.environ],
    }
