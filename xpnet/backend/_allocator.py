"""Host memory: glibc's malloc thresholds raised so that NumPy's temporaries stay mapped.

The process-wide state (``_ALLOCATOR_TUNED``) lives here and only here.
"""

from __future__ import annotations

import logging
import os

__all__ = ["tune_host_allocator", "host_allocator_tuned"]

log = logging.getLogger("xpnet.backend")

# -- host memory: no page faults for NumPy's temporaries ----------------------------------------
_ALLOCATOR_TUNED: bool | None = None
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def tune_host_allocator() -> bool:
    """Let glibc's malloc keep freed memory for reuse instead of handing it back to the kernel.

    NumPy takes each array's memory from malloc. glibc serves blocks above its mmap threshold
    (adaptive, at most 32 MiB) with fresh mappings and unmaps them when freed, and trims the top
    of its heap once more than twice that threshold is free there. A training step allocates
    and frees the same temporaries every step (a 400 KiB batch and gradient at batch 128, 30 MiB
    activations at full batch), so their pages are faulted in and zeroed anew each time. With
    the mmap threshold at 64 MiB and the trim threshold at 512 MiB they stay in the heap:
    full-batch SGD went from 1.22× to 1.10× the GEMM floor, batch 128 from 1.51× to 1.44×
    (benchmarks/RESULTS.md). The cost: up to 512 MiB of freed memory stays with the process.

    It is an explicit call, never made by [`MLP.fit`][xpnet.model.mlp.MLP.fit]: ``xpnet train``
    (on NumPy) and the benchmark make it; call it yourself before training on NumPy in a
    process whose memory use you control. Process-wide and done once.

    Returns
    -------
    bool
        Whether the thresholds were raised: False without glibc (musl, macOS, Windows) and
        when the environment variable ``XPNET_MALLOC_TUNING=0`` opts out (nothing changes then).
    """
    global _ALLOCATOR_TUNED
    if os.environ.get("XPNET_MALLOC_TUNING", "1") == "0":
        log.debug("XPNET_MALLOC_TUNING=0: glibc malloc thresholds left alone")
        return bool(_ALLOCATOR_TUNED)
    if _ALLOCATOR_TUNED is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None)
            _ALLOCATOR_TUNED = bool(libc.mallopt(_M_MMAP_THRESHOLD, 64 << 20)) and bool(
                libc.mallopt(_M_TRIM_THRESHOLD, 512 << 20)
            )
        except (OSError, AttributeError):  # no glibc (musl, macOS, Windows)
            _ALLOCATOR_TUNED = False
        log.debug("glibc malloc thresholds raised: %s", _ALLOCATOR_TUNED)
    return _ALLOCATOR_TUNED


def host_allocator_tuned() -> bool | None:
    """Whether [`tune_host_allocator`][xpnet.backend.tune_host_allocator] raised glibc's thresholds in this process.

    Returns
    -------
    bool or None
        ``None`` if it has not been tried (or was opted out of), else what it returned.
    """
    return _ALLOCATOR_TUNED


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
