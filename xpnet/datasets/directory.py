"""Reading a local directory of MNIST-style IDX files (or Kaggle CSV files)."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from .dataset import DIGIT_CLASS_NAMES, Dataset, make_dataset
from .errors import DataError
from .idx import parse_idx
from .kaggle import find_kaggle_files, read_kaggle_directory
from .sources import KNOWN_DATASETS, identify_file

__all__ = ["read_idx_directory", "read_idx_files", "find_idx_files", "read_directory"]

logger = logging.getLogger("xpnet.datasets")

#: Role -> standard file name stem (without ``.gz``).
IDX_STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _candidate_names(stem: str) -> list[str]:
    # The original uncompressed files are named e.g. "train-images.idx3-ubyte".
    dotted = stem.replace("-idx", ".idx")
    return [f"{stem}.gz", stem, f"{dotted}.gz", dotted]


def find_idx_files(directory: str | os.PathLike) -> dict[str, Path]:
    """Find the standard MNIST IDX files in a directory.

    Accepts each name with or without ``.gz`` and with ``-idx`` or
    ``.idx`` (``train-images.idx3-ubyte``, as the uncompressed originals are
    named); the first existing spelling in that order wins.

    Parameters
    ----------
    directory : str or os.PathLike

    Returns
    -------
    dict of str to pathlib.Path
        For each role found (``"train_images"``, ``"train_labels"``,
        ``"test_images"``, ``"test_labels"``), its path.
    """
    directory = Path(directory)
    found = {}
    for role, stem in IDX_STEMS.items():
        for name in _candidate_names(stem):
            if (directory / name).is_file():
                found[role] = directory / name
                break
    return found


def read_idx_files(
    paths: dict[str, Path],
    *,
    name: str,
    source: str,
    class_names: tuple[str, ...] | None = None,
) -> Dataset:
    """Read and check IDX image and label files into a [`Dataset`][xpnet.datasets.dataset.Dataset].

    Parameters
    ----------
    paths : dict of str to pathlib.Path
        Keys among ``"train_images"``, ``"train_labels"``, ``"test_images"``,
        ``"test_labels"`` (see [`find_idx_files`][xpnet.datasets.directory.find_idx_files]).
    name, source : str
        As in [`Dataset`][xpnet.datasets.dataset.Dataset].
    class_names : tuple of str, optional
        Default: those of the known dataset the files' checksums identify,
        else the digits ``"0"`` .. ``"9"``.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        If a file is unreadable or malformed (see [`read_idx`][xpnet.datasets.idx.read_idx]), images
        are not uint8 28 x 28, labels are outside 0..9, or counts differ.
    """
    arrays = {}
    checksums = {}
    identified = set()
    for role, path in paths.items():
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        checksums[path.name] = hashlib.sha256(raw).hexdigest()
        known = identify_file(len(raw), checksums[path.name])
        identified.add(known[0].name if known else None)
        arrays[role] = parse_idx(raw, source=str(path), ndim=3 if role.endswith("images") else 1)
    if class_names is None:
        class_names = DIGIT_CLASS_NAMES
        only = next(iter(identified)) if len(identified) == 1 else None  # every file from one known dataset
        if only is not None:
            known_dataset = KNOWN_DATASETS[only]
            name, class_names = known_dataset.name, known_dataset.class_names
    return make_dataset(
        name,
        source=source,
        train=(arrays.get("train_images"), arrays.get("train_labels")),
        test=(arrays.get("test_images"), arrays.get("test_labels")),
        class_names=class_names,
        checksums=checksums,
        origins={
            key: str(paths[role])
            for key, role in (
                ("x_train", "train_images"),
                ("y_train", "train_labels"),
                ("x_test", "test_images"),
                ("y_test", "test_labels"),
            )
            if role in paths
        },
    )


def read_idx_directory(directory: str | os.PathLike) -> Dataset:
    """Read a directory of MNIST-style IDX files.

    The files have the standard names (``train-images-idx3-ubyte.gz``,
    ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
    ``t10k-labels-idx1-ubyte.gz``; gzipped or not, see
    [`find_idx_files`][xpnet.datasets.directory.find_idx_files]). Either split may be absent: a directory with
    only the ``t10k`` pair gives a dataset with only a test split. Files
    whose checksums identify a known dataset (e.g. Fashion-MNIST) give that
    dataset's name and class names.

    Parameters
    ----------
    directory : str or os.PathLike

    Returns
    -------
    Dataset
        Images ``(N, 784)`` uint8, labels ``(N,)`` int64.

    Raises
    ------
    DataError
        If no IDX file is found (the message lists the names looked for), a
        split has labels but no images or training images but no labels, or
        a file is malformed.
    """
    directory = Path(directory)
    paths = find_idx_files(directory)
    if not paths:
        raise DataError(_nothing_found_message(directory))
    _log_found(directory, paths)
    return read_idx_files(paths, name=directory.resolve().name, source=str(directory))


def read_directory(directory: str | os.PathLike) -> Dataset:
    """Read a directory of IDX files, or else of Kaggle CSV files.

    Parameters
    ----------
    directory : str or os.PathLike
        Holds the standard IDX files (see [`read_idx_directory`][xpnet.datasets.directory.read_idx_directory]), or
        Kaggle Digit Recognizer ``train.csv`` and/or ``test.csv`` (optionally
        gzipped as ``.csv.gz``).

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        If the directory holds neither, or a file is malformed.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: not a directory")
    if find_idx_files(directory):
        return read_idx_directory(directory)
    if find_kaggle_files(directory):
        return read_kaggle_directory(directory)
    raise DataError(_nothing_found_message(directory))


def _log_found(directory: Path, paths: dict[str, Path]) -> None:
    names = ", ".join(path.name for path in paths.values())
    logger.info("Found in %s: %s", directory, names)
    for split, label in (("train", "training"), ("test", "test")):
        missing = [IDX_STEMS[role] for role in (f"{split}_images", f"{split}_labels") if role not in paths]
        if len(missing) == 2:
            logger.info(
                "No %s files (%s[.gz]) in %s: the dataset has no %s split",
                label,
                " / ".join(missing),
                directory,
                label,
            )


def _nothing_found_message(directory: Path) -> str:
    try:
        present = sorted(entry.name for entry in directory.iterdir())
    except OSError as exc:
        return f"{directory}: cannot list the directory: {exc.strerror or exc}"
    shown = ", ".join(present[:10]) + (f", ... ({len(present)} entries)" if len(present) > 10 else "")
    expected = ", ".join(f"{stem}.gz" for stem in IDX_STEMS.values())
    return (
        f"{directory}: no dataset files found. Expected the MNIST-style IDX files {expected} "
        "(gzipped or not; the training pair or the t10k pair may be missing), "
        "or Kaggle CSV files train.csv / test.csv. "
        f"The directory contains: {shown or 'nothing'}"
    )
