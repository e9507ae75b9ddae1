"""CuPy: the GEMM floor on a CUDA device (``floor-cupy``), and whether CUDA is usable at all.

``floor-cupy`` is :class:`~xpnet.bench.contenders.floor.FloorRunner` with CuPy arrays resident
on the device (cuBLAS products into preallocated outputs), both weight layouts tried. The
xpnet-on-CuPy contender is in :mod:`~xpnet.bench.contenders.xpnet_fit`.
"""

from __future__ import annotations

from ..problem import Problem
from .base import Contender, Runner, have
from .floor import LAYOUTS, FloorRunner

__all__ = ["cuda_unusable", "cupy_floor", "CONTENDERS"]


def cuda_unusable(library: str = "cupy") -> str | None:
    """Why CUDA cannot be used through ``library`` here, or None when it can.

    Parameters
    ----------
    library : str
        ``"cupy"`` or ``"torch"``.

    Returns
    -------
    str or None
        The reason in words, or None.
    """
    what = {"cupy": "CuPy", "torch": "PyTorch"}[library]
    if not have(library):
        return f"{what} is not installed"
    from ... import backend

    probe = getattr(backend, "cuda_devices", None)
    if probe is not None:  # the backend's own probe: one for tests, benchmark and library
        try:
            devices = probe(library)
        except TypeError:
            devices = probe()
        return None if devices else f"{what} sees no CUDA device"
    try:  # pragma: no cover - xpnet before backend.cuda_devices
        if library == "cupy":
            import cupy

            return None if cupy.cuda.runtime.getDeviceCount() >= 1 else "CuPy found no CUDA device"
        import torch

        return None if torch.cuda.is_available() else "PyTorch sees no CUDA device"
    except Exception as exc:
        return f"CUDA is not usable through {what} ({type(exc).__name__})"


def cupy_floor(p: Problem, layout: str) -> Runner:
    """The floor on the current CuPy device in ``layout``."""
    import cupy

    return FloorRunner(p, layout, xp=cupy, platform="cuda")


CONTENDERS = [
    Contender("floor-cupy", "cuda", "CuPy matrix products only (matmul(out=)), no shuffling, "
              "faster of two weight layouts", lambda: cuda_unusable("cupy"), cupy_floor,
              variants=tuple(LAYOUTS)),
]
