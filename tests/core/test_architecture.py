"""How the code is organised (docs/architecture.md), enforced: imports point down the layers,
the math imports no array library, only the command line uses click and rich, and every
exception xpnet raises on purpose belongs to one family."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import xpnet
from xpnet.errors import XpnetError

PACKAGE = Path(xpnet.__file__).parent

#: The layers, bottom first. A module may import modules of its own layer and of those below.
#: A name is a top-level module or a folder (a package: every module in it has its layer).
LAYERS = {
    "base": ["errors", "fileio", "_typing"],
    "backend": ["backend", "environment", "validation"],
    "math": ["activations", "init", "network", "losses", "dropout", "optim", "steps"],
    "model and data": [
        "model",
        "training",
        "stopping",
        "inputs",
        "gradcheck",
        "input_transform",
        "checkpoint",
        "datasets",
        "images",
        "augment",
        "affine",
        "interop",
    ],
    "runs": ["runs"],
    "applications": ["cli", "bench", "serve", "sklearn"],
}
RANK = {name: rank for rank, names in enumerate(LAYERS.values()) for name in names}
MATH = LAYERS["math"]
ARRAY_LIBRARIES = {"numpy", "cupy", "torch", "jax", "array_api_strict", "array_api_compat"}
#: Where click and rich may be imported: the command line, and the optional download progress bar.
TERMINAL_OK = {"cli", "bench", "serve", "datasets.download"}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name:  # the package root re-exports everything and is not a layer
            found.append((name, path))
    return found


def _imports(name: str, path: Path) -> set[str]:
    """Every module ``path`` imports (at any depth of the file), as absolute dotted names."""
    is_package = path.name == "__init__.py"
    package = ["xpnet", *name.split(".")][: None if is_package else -1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            if node.module is None:  # from . import network
                out |= {f"{module}.{alias.name}" for alias in node.names}
            else:
                out.add(module)
    return out


def _layer_of(module: str) -> str:
    """``datasets.idx`` -> ``datasets``; ``bench.report`` -> ``bench``."""
    return module.split(".")[0]


MODULES = _modules()


def test_every_folder_is_one_unit_of_a_layer():
    """The folders of xpnet/ are the packages the layers name (``runs``, ``cli``, ...), and the
    layers name no module that is not there."""
    folders = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert folders <= set(RANK), f"folders without a layer: {sorted(folders - set(RANK))}"
    assert set(RANK) <= folders | modules, f"layers name what does not exist: {sorted(set(RANK) - folders - modules)}"


def test_the_architecture_page_lists_the_same_layers():
    """docs/architecture.md's table of layers names what LAYERS names (folders written ``name/``)."""
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1:3] for line in page.splitlines() if line.startswith("| ") and "|" in line[2:]]
    documented = {
        layer.strip(): {name.rstrip("/") for name in re.findall(r"`([\w/]+)`", names)}
        for layer, names in rows
        if layer.strip() in LAYERS
    }
    assert documented == {layer: set(names) for layer, names in LAYERS.items()}


@pytest.mark.parametrize("name, path", MODULES, ids=[m for m, _ in MODULES])
def test_every_module_has_a_layer(name, path):
    assert _layer_of(name) in RANK, f"xpnet.{name} has no layer: add it to LAYERS here and to docs/architecture.md"


@pytest.mark.parametrize("name, path", MODULES, ids=[m for m, _ in MODULES])
def test_imports_point_down_the_layers(name, path):
    own = RANK[_layer_of(name)]
    for target in _imports(name, path):
        if not target.startswith("xpnet.") or target in ("xpnet.__version__",):
            continue
        layer = _layer_of(target.removeprefix("xpnet."))
        assert RANK.get(layer, 0) <= own, f"xpnet.{name} (layer {own}) imports {target} (layer {RANK.get(layer)})"


@pytest.mark.parametrize("name", MATH)
def test_the_math_imports_no_array_library(name):
    imported = {t.split(".")[0] for t in _imports(name, PACKAGE / f"{name}.py")}
    assert not imported & ARRAY_LIBRARIES, f"xpnet.{name} imports {sorted(imported & ARRAY_LIBRARIES)}"


@pytest.mark.parametrize("name, path", MODULES, ids=[m for m, _ in MODULES])
def test_only_the_command_line_uses_click_and_rich(name, path):
    if name in TERMINAL_OK or _layer_of(name) in TERMINAL_OK:
        return
    terminal = {t.split(".")[0] for t in _imports(name, path)} & {"click", "rich"}
    assert not terminal, f"xpnet.{name} imports {sorted(terminal)}: presentation belongs in xpnet.cli"


def _exception_classes():
    for info in pkgutil.walk_packages(xpnet.__path__, "xpnet."):
        try:
            module = importlib.import_module(info.name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("xpnet"):
                raise
            continue  # an integration whose optional library is not installed (serve, sklearn)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                yield obj


def test_every_exception_class_is_an_xpnet_error():
    classes = sorted(set(_exception_classes()), key=lambda c: f"{c.__module__}.{c.__qualname__}")
    assert len(classes) >= 10
    strays = [f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, XpnetError)]
    assert not strays, f"not derived from xpnet.errors.XpnetError: {strays}"


#: Builtins that a user's bad input must not surface as: xpnet raises its own subclass of them.
BARE_BUILTINS = {"ValueError", "TypeError", "RuntimeError"}


@pytest.mark.parametrize("name, path", MODULES, ids=[m for m, _ in MODULES])
def test_no_bare_builtin_errors_are_raised(name, path):
    """``raise ValueError(...)`` would reach the command line as a bug (exit 1, "report it");
    bad input must raise an XpnetError subclass (ConfigError, InvalidInput, DataError, ...)."""
    bare = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id in BARE_BUILTINS:
                bare.append(f"line {node.lineno}: raise {exc.id}")
    assert not bare, (
        f"xpnet.{name} raises builtin errors ({'; '.join(bare)}): raise the matching "
        "xpnet.errors class (it keeps the builtin base)"
    )


@pytest.mark.parametrize(
    "name, builtin",
    [
        ("xpnet.backend.BackendUnavailable", RuntimeError),
        ("xpnet.checkpoint.CheckpointError", ValueError),
        ("xpnet.images.ImageError", ValueError),
        ("xpnet.model.TrainingDiverged", FloatingPointError),
        ("xpnet.datasets.errors.DataError", ValueError),
        ("xpnet.datasets.errors.DatasetUnavailable", ValueError),
        ("xpnet.errors.ConfigError", ValueError),
        ("xpnet.errors.RunError", ValueError),
        ("xpnet.errors.InvalidInput", ValueError),
        ("xpnet.errors.InvalidInputType", TypeError),
        ("xpnet.validation.InvalidInput", ValueError),
        ("xpnet.validation.InvalidInputType", TypeError),
    ],
)
def test_each_error_keeps_its_builtin_base(name, builtin):
    module, _, cls = name.rpartition(".")
    assert issubclass(getattr(importlib.import_module(module), cls), builtin)
