"""Where downloaded datasets are kept."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["DATA_DIR_ENV", "data_root", "dataset_dir"]

#: Environment variable naming the data root when no ``data_dir`` is given.
DATA_DIR_ENV = "XPNET_DATA_DIR"


def data_root(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the directory under which each known dataset has a subdirectory.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Explicit choice; wins over everything else.

    Returns
    -------
    pathlib.Path
        ``data_dir`` if given, else ``$XPNET_DATA_DIR`` if set and not empty,
        else ``platformdirs.user_cache_dir("xpnet") / "datasets"`` (e.g.
        ``~/.cache/xpnet/datasets`` on Linux). ``~`` is expanded. The
        directory is not created here.
    """
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or Path(platformdirs.user_cache_dir("xpnet")) / "datasets"
    return Path(data_dir).expanduser()


def dataset_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Return the directory holding the files of the known dataset ``name``.

    Parameters
    ----------
    name : str
        Canonical dataset name, e.g. ``"mnist"``.
    data_dir : str or os.PathLike, optional
        Data root, see [`data_root`][xpnet.datasets.cache.data_root].

    Returns
    -------
    pathlib.Path
        ``data_root(data_dir) / name``.
    """
    return data_root(data_dir) / name
