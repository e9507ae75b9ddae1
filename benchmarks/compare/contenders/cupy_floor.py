"""CuPy: the GEMM floor on a CUDA device (``floor-cupy``), and whether CUDA is usable at all.

``floor-cupy`` is [`FloorRunner`][benchmarks.compare.contenders.floor.FloorRunner] with CuPy arrays resident
on the device (cuBLAS products into preallocated outputs), both weight layouts tried. The
xpnet-on-CuPy contender is in [`xpnet_fit`][benchmarks.compare.contenders.xpnet_fit].
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
    if library == "cupy":  # the backend's probe: one for the library, the tests and the benchmark
        from xpnet.backend import cuda_devices

        return None if cuda_devices() else "CuPy sees no usable CUDA device"
    try:  # PyTorch's own view of its CUDA devices (its build may lack CUDA where CuPy has it)
        import torch

        return None if torch.cuda.is_available() else "PyTorch sees no CUDA device"
    except Exception as exc:  # pragma: no cover - a broken install
        return f"CUDA is not usable through PyTorch ({type(exc).__name__})"


def cupy_floor(p: Problem, layout: str) -> Runner:
    """The floor on the current CuPy device in ``layout``."""
    import cupy

    return FloorRunner(p, layout, xp=cupy, platform="cuda")


CONTENDERS = [
    Contender(
        "floor-cupy",
        "cuda",
        "CuPy matrix products only (matmul(out=)), no shuffling, faster of two weight layouts",
        lambda: cuda_unusable("cupy"),
        cupy_floor,
        variants=tuple(LAYOUTS),
    ),
]
