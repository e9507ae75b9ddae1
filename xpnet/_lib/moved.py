"""The module paths of earlier versions, kept importable.

xpnet 0.1.0 kept every module directly under ``xpnet/``; they now live in the layer folders
(docs/architecture.md). Pickles written by 0.1.0 name their classes by the old paths (an
``MLP`` pickle refers to ``xpnet.input_transform.Preprocessing``), and users' code may import
``xpnet.checkpoint`` or ``xpnet.training``. Each old path is served by the module that now holds
the code: ``import xpnet.checkpoint`` gives the module object ``xpnet.model.checkpoint`` itself,
so classes, functions and their identity are the same under both names.

The public paths (``xpnet.network``, ``xpnet.optim``, ``xpnet.losses``, ``xpnet.activations``,
``xpnet.stopping``, ``xpnet.model``) are real modules and are not listed here.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

__all__ = ["MOVED", "install"]

#: Old module path → the module that holds its code now.
MOVED = {
    "xpnet._typing": "xpnet._lib.annotations",
    "xpnet.fileio": "xpnet._lib.fileio",
    "xpnet.environment": "xpnet.backend.environment",
    "xpnet.init": "xpnet.nn.init",
    "xpnet.dropout": "xpnet.nn.dropout",
    "xpnet.steps": "xpnet.model.compiled",
    "xpnet.training": "xpnet.model.training",
    "xpnet.inputs": "xpnet.model.inputs",
    "xpnet.validation": "xpnet.model.inputs",
    "xpnet.input_transform": "xpnet.model.preprocessing",
    "xpnet.checkpoint": "xpnet.model.checkpoint",
    "xpnet.affine": "xpnet.augment.affine",
}


class _Loader(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)  # the new module itself, not a copy

    def exec_module(self, module) -> None:
        pass  # already executed under its own name


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _Loader(new))


def install() -> None:
    """Serve the old paths (idempotent; called by ``xpnet/__init__.py``)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
