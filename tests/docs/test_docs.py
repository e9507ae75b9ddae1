"""The documentation and the notebooks: links point at code that exists, outputs are committed.

The full site build (``mkdocs build --strict``) runs here when the ``docs`` extra is installed
and is skipped otherwise; the other checks need nothing beyond xpnet itself.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
NOTEBOOKS = ["01_tutorial_network.ipynb", "02_backends.ipynb", "03_from_tutorial_to_modern.ipynb"]

# mkdocs-autorefs links: [text][xpnet.module.object]
AUTOREF = re.compile(r"\]\[(xpnet(?:\.\w+)*)\]")


class _NeedsExtra(Exception):
    """The link's module imports an optional library that is not installed."""


def _resolve(path: str):
    """Import the longest importable module prefix of ``path`` and getattr the rest."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError as exc:
            if exc.name and not exc.name.startswith("xpnet"):  # e.g. xpnet.sklearn without sklearn
                raise _NeedsExtra(exc.name) from None
            continue
        except ImportError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(path)


def _doc_pages():
    return sorted(p for p in DOCS.rglob("*.md") if "_snippets" not in p.parts)


@pytest.mark.parametrize("page", _doc_pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_every_code_link_in_the_docs_names_an_existing_object(page):
    for target in AUTOREF.findall(page.read_text(encoding="utf-8")):
        try:
            _resolve(target)
        except _NeedsExtra:
            continue  # checked where the extras are installed (CI installs them all)
        except (ImportError, AttributeError) as exc:
            pytest.fail(f"{page.relative_to(REPO)} links to {target}, which does not exist ({exc})")


def test_math_page_links_every_tutorial_equation_to_its_code():
    text = (DOCS / "math.md").read_text(encoding="utf-8")
    links = set(AUTOREF.findall(text))
    needed = {
        "xpnet.nn.network.forward",  # Z1, A1, Z2 (and the L-layer forward)
        "xpnet.nn.activations.relu",  # A1 = ReLU(Z1)
        "xpnet.nn.network.softmax",  # A2 = softmax(Z2)
        "xpnet.nn.network.one_hot",  # Y
        "xpnet.nn.network.softmax_cross_entropy",  # the loss
        "xpnet.nn.network.backward",  # dZ2, dW2, db2, dW1, db1
        "xpnet.nn.activations.relu_backward",  # dZ1 = ... ⊙ ReLU'(Z1)
        "xpnet.nn.optim.SGD",  # the update
    }
    assert needed <= links, f"math.md does not link {sorted(needed - links)}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_are_committed_with_outputs_and_no_errors(name):
    nb = json.loads((REPO / "notebooks" / name).read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, name
    unexecuted = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    assert not unexecuted, f"{name}: code cells {unexecuted} have not been executed"
    outputs = [o for c in code for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, f"{name}: committed with an error output: {errors[0].get('ename')}"
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{name}: no plot in the outputs"


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None,
    reason="the docs extra is not installed (pip install -e '.[docs]')",
)
def test_docs_site_builds_strict(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "site" / "math" / "index.html").is_file()
    shutil.rmtree(tmp_path / "site", ignore_errors=True)
