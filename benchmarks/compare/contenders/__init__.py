"""The contenders, one module each, and the registry that ``--contenders`` picks from.

- ``floor``: ``floor``, ``floor+gather`` (NumPy matrix products only, both weight layouts).
- ``xpnet_fit``: ``xpnet-numpy``, ``xpnet-torch``, ``xpnet-jax`` (compiled), ``xpnet-jax-eager``, ``xpnet-strict``,
  ``xpnet-cupy``, ``xpnet-torch-cuda`` (``MLP.fit``'s own loop on each backend), and
  ``xpnet-numpy+shifts``, ``xpnet-cupy+shifts`` (the same with 1-pixel random shifts; opt-in),
  ``xpnet-numpy+affine``, ``xpnet-cupy+affine`` (with random affine distortions; opt-in).
- ``numpy_loop``: ``numpy`` (plain hand-written NumPy).
- ``torch_eager``: ``torch``, ``torch-cuda`` (PyTorch eager, autograd, ``torch.optim``).
- ``jax_grad``: ``jax-jit``, ``jax-scan``.
- ``cupy_floor``: ``floor-cupy`` (the floor on a CUDA device) and the CUDA probe.
"""

from __future__ import annotations

from xpnet.errors import ConfigError

from . import cupy_floor, floor, jax_grad, numpy_loop, torch_eager, xpnet_fit
from .base import Contender, Runner

__all__ = ["Contender", "Runner", "CONTENDERS", "FLOOR_OF", "available_contenders", "select_contenders"]

_ORDER = [
    "floor",
    "floor+gather",
    "xpnet-numpy",
    "xpnet-numpy+shifts",
    "xpnet-numpy+affine",
    "numpy",
    "torch",
    "xpnet-torch",
    "jax-jit",
    "jax-scan",
    "xpnet-jax",
    "xpnet-jax-eager",
    "xpnet-strict",
    "floor-cupy",
    "xpnet-cupy",
    "xpnet-cupy+shifts",
    "xpnet-cupy+affine",
    "torch-cuda",
    "xpnet-torch-cuda",
]
_ALL = {c.name: c for m in (floor, xpnet_fit, numpy_loop, torch_eager, jax_grad, cupy_floor) for c in m.CONTENDERS}
#: Every contender by name, in the order the tables list them.
CONTENDERS: dict[str, Contender] = {n: _ALL[n] for n in _ORDER + sorted(set(_ALL) - set(_ORDER))}
#: The floor every contender of a platform is compared with.
FLOOR_OF = {"cpu": "floor", "cuda": "floor-cupy"}


def available_contenders() -> dict[str, str | None]:
    """Every contender's name → None when usable here, else the reason it is not."""
    out = {}
    for name, c in CONTENDERS.items():
        try:
            out[name] = c.probe()
        except Exception as exc:  # a broken install must not stop the benchmark
            out[name] = f"{type(exc).__name__}: {exc}"
    return out


def select_contenders(spec: str | None, usable: dict | None = None) -> tuple[list[str], dict[str, str]]:
    """Resolve a ``--contenders`` value.

    Parameters
    ----------
    spec : str or None
        ``"default"``/``None`` (every usable default contender), ``"all"`` (every usable one)
        or a comma-separated list of names.
    usable : dict, optional
        [`available_contenders`][benchmarks.compare.contenders.available_contenders]'s answer, if already known.

    Returns
    -------
    selected : list of str
        The usable contenders asked for.
    skipped : dict
        Name → why it is not usable, for those asked for but not usable.

    Raises
    ------
    ValueError
        If a name is unknown (the message lists the known ones).
    """
    usable = available_contenders() if usable is None else usable
    if spec in (None, "", "default"):
        wanted = [n for n, c in CONTENDERS.items() if c.default]
    elif spec == "all":
        wanted = list(CONTENDERS)
    else:
        wanted = [s.strip() for s in spec.split(",") if s.strip()]
        unknown = [w for w in wanted if w not in CONTENDERS]
        if unknown:
            raise ConfigError(f"unknown contender(s) {', '.join(unknown)}; choose from {', '.join(CONTENDERS)}")
    selected = [n for n in wanted if usable[n] is None]
    skipped = {n: usable[n] for n in wanted if usable[n] is not None}
    return selected, skipped
