"""Typing that tools and help() can use: py.typed ships, signatures hold types, not strings,
and no default shows as ``<object object at …>``."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import xpnet

MODULES = [
    "model.mlp",
    "model.preprocessing",
    "model.checkpoint",
    "model.gradcheck",
    "model.inputs",
    "model.compiled",
    "backend",
    "nn.network",
    "nn.step",
    "nn.optim",
    "nn.fast",
    "nn.plan",
]


def _public_callables(module):
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                fn = getattr(member, "__func__", member)
                if callable(fn):
                    yield f"{name}.{attr}", fn
        elif callable(obj):
            yield name, obj


def test_py_typed_ships():
    assert (Path(xpnet.__file__).parent / "py.typed").is_file()
    pyproject = (Path(xpnet.__file__).parents[1] / "pyproject.toml").read_text()
    assert '[tool.setuptools.package-data]\nxpnet = ["py.typed"]' in pyproject


@pytest.mark.parametrize("module_name", MODULES)
def test_signatures_read_well_in_help(module_name):
    module = importlib.import_module(f"xpnet.{module_name}")
    checked = 0
    for name, fn in _public_callables(module):
        try:
            sig = str(inspect.signature(fn))
        except (TypeError, ValueError):
            continue
        checked += 1
        assert "object at 0x" not in sig, (name, sig)
        assert not re.search(r"(: |-> )'", sig) and not re.search(r'(: |-> )"', sig), (name, sig)
    assert checked > 0
