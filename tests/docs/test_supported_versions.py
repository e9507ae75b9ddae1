"""The Pythons and the NumPy that pyproject.toml claims are the ones the docs name and CI tests.

.ci/python-range runs the suite under the oldest and the newest Python on the CI machine, the
oldest with NumPy's floor, reading both floors from pyproject.toml; it also refuses a classifier
newer than the newest Python it found. These checks keep the rest of the claims in step: the
classifiers name every Python from requires-python's floor up, and the docs say the same floors.
(pyproject.toml is read with regular expressions: tomllib is not in Python 3.10.)
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = (REPO / "pyproject.toml").read_text(encoding="utf-8")


def _python_floor() -> int:
    match = re.search(r'^requires-python = ">=3\.(\d+)"$', PYPROJECT, re.M)
    assert match, 'requires-python must read ">=3.X" (.ci/python-range reads it)'
    return int(match[1])


def _numpy_floor() -> str:
    match = re.search(r'^ *"numpy>=([\d.]+)",$', PYPROJECT, re.M)
    assert match, 'the numpy dependency must read "numpy>=X.Y" (.ci/python-range reads it)'
    return match[1]


def test_the_classifiers_name_every_python_from_the_floor_up():
    minors = sorted(int(m) for m in re.findall(r'"Programming Language :: Python :: 3\.(\d+)"', PYPROJECT))
    assert minors and minors[0] == _python_floor()
    assert minors == list(range(minors[0], minors[-1] + 1)), minors


def test_the_docs_name_the_floors_pyproject_claims():
    python, numpy = f"Python 3.{_python_floor()}", f"NumPy {_numpy_floor()}"
    for page in ("README.md", "docs/getting-started.md"):
        text = (REPO / page).read_text(encoding="utf-8")
        assert python in text and numpy in text, f"{page} should name {python} and {numpy}"


def test_the_license_file_is_shipped():
    assert 'license-files = ["LICENSE"]' in PYPROJECT
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
