"""What xpnet runs on: its version and the versions of the libraries and machine around it.

One collector for everyone that records provenance: checkpoints and ``metrics.json``
([`versions`][xpnet.backend.environment.versions]), ``xpnet info``, and the benchmark report ([`environment`][xpnet.backend.environment.environment]).
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

__all__ = ["xpnet_version", "versions", "environment", "auto_backend", "blas_threads"]

#: Array libraries whose versions are recorded when they are imported (or in use).
ARRAY_LIBRARIES = ("numpy", "array_api_compat", "cupy", "torch", "jax", "jaxlib", "array_api_strict")


def xpnet_version() -> str:
    """xpnet's version from the installed package's metadata (``pyproject.toml``).

    Returns ``"0+unknown"`` when xpnet is imported from a source tree that was never
    installed (``pip install -e .`` installs it).
    """
    try:
        return metadata.version("xpnet")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _module_version(name: str) -> str | None:
    module = sys.modules.get(name)
    version = getattr(module, "__version__", None) if module is not None else None
    if version is None:
        try:
            version = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:
            return None
    return str(version)


def versions(backend=None) -> dict[str, str]:
    """Versions of xpnet, Python, NumPy, array-api-compat and the backend's library.

    Parameters
    ----------
    backend : xpnet.Backend or None
        Also record the version of this backend's array library (e.g. ``cupy``).

    Returns
    -------
    dict
        ``{"xpnet": "0.1.0", "python": "3.12.3", "numpy": "2.1.0", "array_api_compat": ...}``
        (plus ``backend.name`` when it is not NumPy).
    """
    import array_api_compat
    import numpy as np

    found = {
        "xpnet": xpnet_version(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "array_api_compat": array_api_compat.__version__,
    }
    if backend is not None and backend.name not in found:
        version = _module_version(backend.name)
        if version is not None:
            found[backend.name] = version
    return found


def environment() -> dict:
    """The machine and software a measurement ran on, as a JSON-friendly dict.

    Returns
    -------
    dict
        ``xpnet``, ``python``, ``platform``, ``cpu`` (model name), ``cpu_count``,
        ``load_average`` (1, 5, 15 minutes; ``None`` where unknown), ``libraries`` (the
        versions of every array library in `ARRAY_LIBRARIES` that is imported) and
        ``threadpools`` (BLAS/OpenMP pools from threadpoolctl: ``internal_api``, ``user_api``,
        ``num_threads``, ``version``, ``architecture``).
    """
    libraries = {"numpy": _module_version("numpy"), "array_api_compat": _module_version("array_api_compat")}
    libraries.update(
        {name: _module_version(name) for name in ARRAY_LIBRARIES if name in sys.modules and name not in libraries}
    )
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):  # Windows has no load average
        load = None
    try:
        from threadpoolctl import threadpool_info

        pools = [
            {k: p.get(k) for k in ("internal_api", "user_api", "num_threads", "version", "architecture")}
            for p in threadpool_info()
        ]
    except Exception as exc:  # pragma: no cover - informational only
        pools = [{"error": str(exc)}]
    return {
        "xpnet": xpnet_version(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "load_average": load,
        "libraries": {k: v for k, v in libraries.items() if v is not None},
        "threadpools": pools,
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def auto_backend():
    """What ``get_backend("auto")`` picks and the reason it logs.

    Returns
    -------
    tuple
        ``(backend, reason)``: the [`Backend`][xpnet.backend.Backend] and a sentence such as
        ``"using NumPy on the CPU because CuPy is not installed"``.
    """
    import logging

    from ._discovery import get_backend

    reasons: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record):
            reasons.append(record.getMessage())

    logger = logging.getLogger("xpnet.backend")
    collect, old_level = _Collect(level=logging.INFO), logger.level
    logger.addHandler(collect)
    logger.setLevel(logging.INFO)
    try:
        backend = get_backend("auto")
    finally:
        logger.removeHandler(collect)
        logger.setLevel(old_level)
    return backend, (reasons[-1].removeprefix("backend auto: ") if reasons else f"using {backend}")


def blas_threads() -> str | None:
    """The BLAS libraries NumPy uses and their thread counts, e.g. ``"openblas (2 threads)"``."""
    try:
        from threadpoolctl import threadpool_info

        pools = [
            f"{p.get('internal_api')} ({p.get('num_threads')} threads)"
            for p in threadpool_info()
            if p.get("user_api") == "blas"
        ]
    except Exception:  # pragma: no cover - informational only
        return None
    return ", ".join(pools) or None
