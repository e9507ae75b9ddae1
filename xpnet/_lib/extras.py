"""Optional libraries, imported where they are used, with an error that says how to install them."""

from __future__ import annotations

import importlib

from ..errors import ExportExtraMissing

__all__ = ["EXTRA_HINT", "require"]

EXTRA_HINT = 'pip install "xpnet[export]"'
"""What installs the libraries that write (and read) the exported files."""


def require(module: str, purpose: str, hint: str = EXTRA_HINT):
    """Import ``module`` (``"onnx"``, ``"safetensors.numpy"``), or raise
    [`ExportExtraMissing`][xpnet.errors.ExportExtraMissing] saying how to install it (``hint``:
    the extra that does)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        raise ExportExtraMissing(
            f"{purpose} needs the {package!r} package, which is not installed ({exc}); {hint}"
        ) from None
