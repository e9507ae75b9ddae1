"""``xpnet predict``'s inputs and outputs for other programs: folders of pictures in, a CSV or
JSON-lines file of predictions out.

Folders
:   A folder given as a FILE is searched recursively for pictures, by the suffixes the image
    reader supports (``xpnet.images.IMAGE_SUFFIXES``, in any case), in a stable
    order: sorted by their path below the folder. Other files in it (CSV files too) are skipped.

``--output preds.csv``
:   One row per picture (and per row of a CSV input) with the columns ``file, row, label, class,
    error`` and one probability per class, ``p_<class name>``. ``row`` is the 1-based row of a
    CSV input (empty for a picture); ``label`` is the predicted class index and ``class`` its
    name; a picture that could not be read has empty predictions and the reason in ``error``.
    ``pandas.read_csv("preds.csv")`` reads it.

``--output preds.jsonl``
:   The same, one JSON object a line: ``{"file", "row", "label", "class", "probabilities":
    {class name: p}, "error"}`` (``null`` where a value is missing).

The file is written whole, atomically (a temporary file renamed onto the name), after every
input was predicted: a reader never sees half a file.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._lib.fileio import atomic_write

__all__ = ["Prediction", "expand_inputs", "output_format", "write_predictions", "FORMATS"]

#: ``--format``'s choices, and the suffixes that choose them.
FORMATS = {"csv": (".csv",), "jsonl": (".jsonl", ".ndjson")}


@dataclass
class Prediction:
    """One input's prediction: a picture (``row`` None) or a row of a CSV file (``row`` from 1);
    ``proba`` the ``(n_classes,)`` probabilities, or None and ``error`` the reason."""

    file: Path
    row: int | None
    proba: np.ndarray | None
    error: str | None = None


def expand_inputs(paths, suffixes) -> list[Path]:
    """The files ``paths`` name: files as given, folders replaced by the pictures below them.

    Parameters
    ----------
    paths : sequence of Path
        Files and folders, in the order given.
    suffixes : sequence of str
        The picture suffixes (``".png"``, ...), compared without case.

    Returns
    -------
    list of Path
        A folder's pictures sorted by their path relative to it (``a/1.png`` before ``b.png``
        before ``b/0.png``: component by component), hidden files and folders skipped.
    """
    wanted = tuple(s.lower() for s in suffixes)
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if not path.is_dir():
            files.append(path)
            continue
        found = []
        for root, dirs, names in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            found += [Path(root, n) for n in names if not n.startswith(".") and n.lower().endswith(wanted)]
        files += sorted(found, key=lambda p: p.relative_to(path).parts)
    return files


def output_format(path: Path, fmt: str | None) -> str | None:
    """``fmt``, else the format ``path``'s suffix names (``.csv`` or ``.jsonl``/``.ndjson``), else None."""
    if fmt:
        return fmt
    suffix = path.suffix.lower()
    return next((name for name, suffixes in FORMATS.items() if suffix in suffixes), None)


def _record(p: Prediction, names: list[str]) -> dict[str, Any]:
    label = None if p.proba is None else int(np.argmax(p.proba))
    return {
        "file": str(p.file),
        "row": p.row,
        "label": label,
        "class": None if label is None else str(names[label]),
        "probabilities": None if p.proba is None else {str(n): float(v) for n, v in zip(names, p.proba)},
        "error": p.error,
    }


def write_predictions(path: Path, fmt: str, predictions: list[Prediction], names: list[str]) -> Path:
    """Write ``predictions`` to ``path`` as ``fmt`` (``csv`` or ``jsonl``), atomically.

    ``names`` are the class names, one per output of the model (the CSV's ``p_<name>``
    columns, the JSON lines' ``probabilities`` keys). Probabilities are written with
    ``repr`` precision (the float32 values exactly).
    """
    with atomic_write(path, "w", encoding="utf-8") as stream:
        if fmt == "jsonl":
            for p in predictions:
                stream.write(json.dumps(_record(p, names), ensure_ascii=False) + "\n")
        else:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(["file", "row", "label", "class", "error", *(f"p_{n}" for n in names)])
            for p in predictions:
                r = _record(p, names)
                probs = [] if p.proba is None else [repr(float(v)) for v in p.proba]
                probs += [""] * (len(names) - len(probs))
                writer.writerow(
                    [
                        r["file"],
                        "" if r["row"] is None else r["row"],
                        "" if r["label"] is None else r["label"],
                        r["class"] or "",
                        r["error"] or "",
                        *probs,
                    ]
                )
    return Path(path)
