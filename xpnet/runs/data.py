"""Which data a run trains on: a known dataset by name, or local data at a path.

A run's ``config.data`` is a spec: ``mnist`` or ``fashion-mnist`` (downloaded once and cached)
or a path to local data ([`xpnet.datasets.load_dataset`][xpnet.datasets.load.load_dataset] reads
the formats). [`load_data`][xpnet.runs.load_data] loads it; [`data_label`][xpnet.runs.data.data_label]
names the default run directory after it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["load_data", "data_label"]


def load_data(spec: str, data_dir: str | None = None, progress: bool = False):
    """Load a known dataset (``mnist``, ``fashion-mnist``; downloaded and cached) or local data at a path."""
    from ..datasets import load_dataset
    from ..datasets.sources import get_known_dataset

    known = get_known_dataset(spec) if os.sep not in spec else None
    return load_dataset(spec if known else Path(spec), data_dir=data_dir, download=True, progress=progress)


def data_label(spec: str) -> str:
    """The name a run directory is given after: a known dataset's name, else the last part of the path."""
    from ..datasets.sources import get_known_dataset

    known = get_known_dataset(spec) if os.sep not in spec else None
    return known.name if known else Path(spec).name
