"""What the benchmark ran on: [`xpnet.backend.environment.environment`][xpnet.backend.environment.environment] plus the settings that move timings.

The machine, libraries and thread pools come from the shared collector
([`xpnet.backend.environment.environment`][xpnet.backend.environment.environment]); this module adds only what a benchmark needs on top:
the thread count asked for, whether glibc's allocator was tuned, PyTorch's thread count, the
environment variables that change BLAS kernels or thread counts, and a warning for each that
is known to slow NumPy down.
"""

from __future__ import annotations

import os
import sys

from xpnet.backend.environment import environment

__all__ = ["collect_environment", "ENV_KEYS", "SLOW_ENV"]

#: Environment variables that change which BLAS kernel or how many threads run.
ENV_KEYS = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "XLA_FLAGS",
    "XPNET_BACKEND",
    "CUDA_VISIBLE_DEVICES",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_THRESHOLD_",
    "XPNET_MALLOC_TUNING",
)
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
        Every key of [`xpnet.backend.environment.environment`][xpnet.backend.environment.environment] (``xpnet``, ``python``,
        ``platform``, ``cpu``, ``cpu_count``, ``load_average``, ``libraries``, ``threadpools``)
        and ``threads_requested``, ``malloc_tuned`` (whether
        [`xpnet.backend.tune_host_allocator`][xpnet.backend.tune_host_allocator] raised glibc's thresholds in this process),
        ``torch_threads`` (``None`` unless PyTorch is imported), ``env`` (the set variables of
        `ENV_KEYS`) and ``warnings`` (one per set variable of `SLOW_ENV`).
    """
    from xpnet.backend import host_allocator_tuned

    torch = sys.modules.get("torch")
    return {
        **environment(),
        "threads_requested": threads,
        "malloc_tuned": bool(host_allocator_tuned()),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "env": {k: os.environ[k] for k in ENV_KEYS if k in os.environ},
        "warnings": [
            f"{k}={os.environ[k]} is set: it pins OpenBLAS's kernel choice and can make "
            f"NumPy much slower; unset it for representative numbers"
            for k in SLOW_ENV
            if k in os.environ
        ],
    }
