"""How the code is organised (docs/architecture.md), enforced: the package is folders, one per
unit of a layer; imports point down the layers and form no circle; the math imports no array
library; only the command line uses click and rich; every exception xpnet raises on purpose
belongs to one family; no module grows past 600 lines."""

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

#: The layers, bottom first, each a list of the folders under xpnet/ that belong to it (and the
#: one base module, errors.py). A module may import modules of its own layer and of those below.
LAYERS = {
    "base": ["errors", "_lib"],
    "backend": ["backend"],
    "math": ["nn"],
    "data": ["datasets", "images", "augment"],
    "model": ["model", "interop"],
    "runs": ["runs"],
    "applications": ["cli", "bench", "serve", "sklearn"],
}
RANK = {name: rank for rank, names in enumerate(LAYERS.values()) for name in names}
#: Modules directly under xpnet/ that hold no code of their own: the package root and the public
#: paths kept from the flat layout (each re-exports one module of a folder). Nothing in xpnet
#: imports them.
PUBLIC_PATHS = {
    "activations": "nn.activations",
    "losses": "nn.losses",
    "network": "nn.network",
    "optim": "nn.optim",
    "stopping": "model.stopping",
}
ARRAY_LIBRARIES = {"numpy", "cupy", "torch", "jax", "array_api_strict", "array_api_compat"}
#: The libraries of the optional backends: only xpnet/backend/ imports them (the wheel ships what
#: users run; the comparison harness that imports them directly lives in benchmarks/).
BACKEND_LIBRARIES = {"torch", "jax", "jaxlib", "cupy", "cupyx"}
#: Where click and rich may be imported: the command line, and the optional download progress bar.
TERMINAL_OK = {"cli", "bench", "serve", "datasets.download"}
MAX_LINES = 600


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name and name not in PUBLIC_PATHS:  # the root and the public paths re-export
            found.append((name, path))
    return found


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Line numbers of the imports under ``if TYPE_CHECKING:``, which never run."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            for sub in node.body:
                lines |= {n.lineno for n in ast.walk(sub) if isinstance(n, (ast.Import, ast.ImportFrom))}
    return lines


def _imports(name: str, path: Path, *, runtime_only: bool = False) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (function-level imports too), as
    absolute dotted names; ``from . import x`` counts as importing ``x``."""
    is_package = path.name == "__init__.py"
    package = ["xpnet", *name.split(".")][: None if is_package else -1]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_only(tree) if runtime_only else set()
    out = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                child = f"{module}.{alias.name}"
                out.add(child if _is_module(child) else module)
    return out


def _is_module(dotted: str) -> bool:
    if not dotted.startswith("xpnet."):
        return False
    path = PACKAGE.joinpath(*dotted.split(".")[1:])
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _layer_of(module: str) -> str:
    """``datasets.idx`` -> ``datasets``; ``nn.network`` -> ``nn``."""
    return module.split(".")[0]


MODULES = _modules()


def test_the_package_is_folders():
    """Directly under xpnet/: the package root, the base module errors.py and the public paths;
    every other module sits in a folder of its layer."""
    flat = {p.stem for p in PACKAGE.glob("*.py")}
    assert flat == {"__init__", "errors", *PUBLIC_PATHS}, sorted(flat)
    assert len(flat) <= 8


def test_every_folder_is_one_unit_of_a_layer():
    folders = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert folders <= set(RANK), f"folders without a layer: {sorted(folders - set(RANK))}"
    assert set(RANK) <= folders | {"errors"}, f"layers name what does not exist: {sorted(set(RANK) - folders)}"


@pytest.mark.parametrize("name, target", sorted(PUBLIC_PATHS.items()))
def test_a_public_path_is_its_module(name, target):
    """``xpnet.network`` and the others re-export every public name of the module that holds the code."""
    public, real = importlib.import_module(f"xpnet.{name}"), importlib.import_module(f"xpnet.{target}")
    assert set(real.__all__) <= set(public.__all__)
    assert all(getattr(public, n) is getattr(real, n) for n in real.__all__)


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
    """Down or sideways within a layer; never to the package root or a public path (which sit
    above everything), never up."""
    own = RANK[_layer_of(name)]
    for target in _imports(name, path):
        if target == "xpnet" or not target.startswith("xpnet."):
            assert target != "xpnet", f"xpnet.{name} imports the package root"
            continue
        short = target.removeprefix("xpnet.")
        assert short not in PUBLIC_PATHS, (
            f"xpnet.{name} imports the public path {target}: import xpnet.{PUBLIC_PATHS[short]}"
        )
        layer = _layer_of(short)
        assert RANK.get(layer, 0) <= own, f"xpnet.{name} (layer {own}) imports {target} (layer {RANK.get(layer)})"


def _graph() -> dict[str, set[str]]:
    """xpnet's import graph (runtime imports, at any depth of a file): module -> modules it imports.
    Importing ``xpnet.a.b`` also imports its package ``xpnet.a``."""
    graph = {}
    for name, path in MODULES:
        targets = set()
        for t in _imports(name, path, runtime_only=True):
            if t.startswith("xpnet.") and t.removeprefix("xpnet.") not in PUBLIC_PATHS:
                targets.add(t.removeprefix("xpnet."))
        graph[name] = {t for t in targets if t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each a circle."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circle():
    """No module imports, directly or through others, a module that imports it back — function-level
    imports included (they are circles that happen later). A package's ``__init__`` re-exporting
    its modules is an edge like any other; imports under ``if TYPE_CHECKING:`` never run and are
    left out."""
    graph = _graph()
    # A package's __init__ imports its modules, and they may import their siblings: but a module
    # importing its own package (``from . import x`` names the sibling, not the package) is a climb.
    circles = _cycles(graph)
    assert not circles, f"import circles: {circles}"


def test_the_circle_finder_finds_circles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("name, path", MODULES, ids=[m for m, _ in MODULES])
def test_no_module_is_over_600_lines(name, path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"xpnet.{name} has {n} lines (at most {MAX_LINES}): split it by what its parts do"


@pytest.mark.parametrize("name", sorted(n for n, _ in MODULES if _layer_of(n) == "nn"))
def test_the_math_imports_no_array_library(name):
    path = dict(MODULES)[name]
    imported = {t.split(".")[0] for t in _imports(name, path)}
    assert not imported & ARRAY_LIBRARIES, f"xpnet.{name} imports {sorted(imported & ARRAY_LIBRARIES)}"


def _backend_libraries(name: str, path: Path) -> set[str]:
    """The optional backends' libraries ``path`` imports: import statements at any depth (those
    under ``if TYPE_CHECKING:`` too) and ``importlib.import_module("...")`` of a literal name."""
    found = {t.split(".")[0] for t in _imports(name, path)}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value.split(".")[0])
    return found & BACKEND_LIBRARIES


@pytest.mark.parametrize("name, path", MODULES, ids=[m for m, _ in MODULES])
def test_only_the_backends_import_torch_jax_and_cupy(name, path):
    """Outside xpnet/backend/, no module of the wheel imports PyTorch, JAX or CuPy, not even
    inside a function: everything else reaches them through xpnet.backend."""
    if _layer_of(name) == "backend":
        return
    found = _backend_libraries(name, path)
    assert not found, f"xpnet.{name} imports {sorted(found)}: only xpnet/backend/ may"


def test_the_backend_library_scan_sees_imports_inside_functions(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(
        "import numpy\n"
        "def f():\n    import torch.nn\n"
        "class C:\n    def g(self):\n        from jax import numpy as jnp\n"
        "def h():\n    import importlib\n    return importlib.import_module('cupy')\n",
        encoding="utf-8",
    )
    assert _backend_libraries("sample", path) == {"torch", "jax", "cupy"}
    assert _backend_libraries("backend._sample", path)  # the scan itself does not exempt; the test does


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
        ("xpnet.model.checkpoint.CheckpointError", ValueError),
        ("xpnet.images.ImageError", ValueError),
        ("xpnet.model.TrainingDiverged", FloatingPointError),
        ("xpnet.datasets.errors.DataError", ValueError),
        ("xpnet.datasets.errors.DatasetUnavailable", ValueError),
        ("xpnet.errors.ConfigError", ValueError),
        ("xpnet.errors.RunError", ValueError),
        ("xpnet.errors.InvalidInput", ValueError),
        ("xpnet.errors.InvalidInputType", TypeError),
        ("xpnet.model.inputs.InvalidInput", ValueError),
        ("xpnet.model.inputs.InvalidInputType", TypeError),
    ],
)
def test_each_error_keeps_its_builtin_base(name, builtin):
    module, _, cls = name.rpartition(".")
    assert issubclass(getattr(importlib.import_module(module), cls), builtin)


def test_the_backward_pass_is_called_from_one_place():
    """Forward, loss, backward and the L2 term are one function (xpnet.nn.step.batch_gradients):
    the eager loop, the compiled steps, MLP.gradients and gradcheck all go through it, so
    nothing else in the package calls ``backward``."""
    callers = []
    for name, path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                if called == "backward":
                    callers.append(name)
    assert callers == ["nn.step"], callers
