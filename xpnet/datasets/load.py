"""The single entry point: [`load_dataset`][xpnet.datasets.load.load_dataset]."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .dataset import Dataset
from .directory import IDX_STEMS, read_directory, read_idx_files
from .download import ensure_downloaded
from .errors import DataError
from .kaggle import read_kaggle_file
from .npz import read_npz
from .sources import KNOWN_DATASETS, KnownDataset, get_known_dataset

__all__ = ["load_dataset"]


def load_dataset(
    name_or_path: str | os.PathLike | KnownDataset,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    progress: bool = True,
    mirrors: Sequence[str] | str | None = None,
) -> Dataset:
    """Load a dataset by name (downloading it if needed) or from local files.

    Parameters
    ----------
    name_or_path : str, os.PathLike or KnownDataset
        A known dataset name: ``"mnist"`` or ``"fashion-mnist"``
        (case-insensitive; ``"fashion_mnist"`` works too). Otherwise a path:

        - a directory of MNIST-style IDX files, gzipped or not (see
          [`xpnet.datasets.directory.read_idx_directory`][xpnet.datasets.directory.read_idx_directory]), or of Kaggle
          ``train.csv`` / ``test.csv``;
        - a Kaggle Digit Recognizer ``.csv`` or ``.csv.gz`` file (a labelled
          file becomes the training split, an unlabelled one the test split);
        - an ``.npz`` archive with ``x_train``, ``y_train``, ``x_test``,
          ``y_test``.

        A string equal to a known name is taken as the name; pass a
        `pathlib.Path` (or ``"./mnist"``) to mean a directory of that
        name.
    data_dir : str or os.PathLike, optional
        For known datasets: the data root; files live in
        ``data_dir / <name>``. Default ``$XPNET_DATA_DIR``, else the user
        cache directory (``~/.cache/xpnet/datasets`` on Linux). Ignored for
        paths.
    download : bool
        For known datasets: download missing files. If false, use only what
        is already in the data directory.
    progress : bool
        Show a download progress bar (only when standard error is a
        terminal).
    mirrors : sequence of str or str, optional
        For known datasets: base URLs to download from instead of the
        built-in mirrors.

    Returns
    -------
    Dataset
        ``x_train``/``x_test`` uint8 of shape ``(N, 784)``,
        ``y_train``/``y_test`` int64 of shape ``(N,)``; a split the source
        lacks is ``None``.

    Raises
    ------
    DatasetUnavailable
        If a known dataset is not cached and cannot be downloaded; the
        message lists the files to fetch, their SHA-256 and where to put
        them.
    DataError
        If the name is unknown and no such path exists, or a file is
        malformed (the message names the file and the problem).

    Examples
    --------
    >>> data = load_dataset("fashion-mnist")          # doctest: +SKIP
    >>> data.x_train.shape, data.class_names[0]       # doctest: +SKIP
    ((60000, 784), 'T-shirt/top')
    """
    if isinstance(name_or_path, KnownDataset):
        return _load_known(name_or_path, data_dir, download, progress, mirrors)
    known = get_known_dataset(name_or_path) if isinstance(name_or_path, str) else None
    if known is not None:
        return _load_known(known, data_dir, download, progress, mirrors)

    path = Path(name_or_path).expanduser()
    if not path.exists():
        if isinstance(name_or_path, str):
            raise DataError(
                f"{name_or_path!r} is neither a known dataset ({', '.join(KNOWN_DATASETS)}) "
                "nor an existing file or directory"
            )
        raise DataError(f"{path}: no such file or directory")
    if path.is_dir():
        return read_directory(path)
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return read_kaggle_file(path)
    if name.endswith(".npz"):
        return read_npz(path)
    raise DataError(
        f"{path}: unsupported file type; give a directory of IDX files "
        "(train-images-idx3-ubyte.gz and friends), a Kaggle .csv / .csv.gz file, or an .npz archive"
    )


def _load_known(
    dataset: KnownDataset,
    data_dir: str | os.PathLike | None,
    download: bool,
    progress: bool,
    mirrors: Sequence[str] | str | None,
) -> Dataset:
    files = ensure_downloaded(dataset, data_dir, mirrors=mirrors, download=download, progress=progress)
    paths = {role: files[f"{stem}.gz"] for role, stem in IDX_STEMS.items()}
    return read_idx_files(
        paths,
        name=dataset.name,
        source=str(paths["train_images"].parent),
        class_names=dataset.class_names,
    )
