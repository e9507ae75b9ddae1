"""Reading the Kaggle "Digit Recognizer" CSV files.

``train.csv`` has a header ``label,pixel0,...,pixel783`` and one image per
line; ``test.csv`` has ``pixel0,...,pixel783`` only (no labels). Columns
numbered ``pixel1 .. pixel784`` (as in Kaggle's Fashion-MNIST CSVs) are
accepted too, and so are gzip-compressed files (detected by content).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .dataset import N_PIXELS, Dataset, make_dataset
from .errors import DataError
from .idx import is_gzip

__all__ = [
    "PIXEL_SCALES",
    "read_kaggle_csv",
    "read_kaggle_file",
    "read_kaggle_directory",
    "find_kaggle_files",
]

_PIXEL_HEADERS = (
    [f"pixel{i}" for i in range(N_PIXELS)],
    [f"pixel{i + 1}" for i in range(N_PIXELS)],
)
_EXPECTED_HEADER = (
    "'label,pixel0,...,pixel783' (labelled training data) or 'pixel0,...,pixel783' (unlabelled test data)"
)


PIXEL_SCALES = ("auto", "0-255", "0-1")


def read_kaggle_csv(path: str | os.PathLike, *, pixels: str = "auto") -> tuple[np.ndarray, np.ndarray | None]:
    """Read a Kaggle Digit Recognizer CSV file (plain or gzipped), with or without a header.

    Parameters
    ----------
    path : str or os.PathLike
        A ``train.csv``-style file (header ``label,pixel0,...,pixel783``) or a
        ``test.csv``-style file (header ``pixel0,...,pixel783``). Without a header row
        (the first line is numbers) the column count says which: 785 values a line are a
        label and 784 pixels, 784 are pixels only.
    pixels : {"auto", "0-255", "0-1"}
        The pixel scale. ``"0-255"``: values 0..255 (fractions are rounded). ``"0-1"``:
        values 0..1, stored as ``round(255 v)``. ``"auto"`` (default): integers are 0..255,
        and a file whose pixels have fractions and all lie in 0..1 is read as 0..1; a file of
        only the integers 0 and 1 is refused (it could be either), naming the option to use.

    Returns
    -------
    images : numpy.ndarray
        Shape ``(N, 784)``, dtype uint8.
    labels : numpy.ndarray or None
        Shape ``(N,)``, dtype int64, values 0..9; ``None`` when the file has
        no ``label`` column.

    Raises
    ------
    DataError
        On a wrong header, a line with the wrong number of values, a value that is not a
        number (a label that is not an integer), a pixel outside the scale, a label outside
        0..9, or an ambiguous 0/1 file under ``"auto"``; the message gives the file, line
        and column.
    """
    if pixels not in PIXEL_SCALES:
        raise DataError(f"pixels must be one of {', '.join(PIXEL_SCALES)}, got {pixels!r}")
    path = Path(path)
    numpy_message = "malformed data"
    fractional = False
    with _open_text(path) as text:
        first = text.readline()
        columns, header = _check_header(path, first)
    try:
        try:
            values = _parse(path, header, np.int32)
        except ValueError:
            # not all integers: read again as numbers (a rare path, so the fast one stays fast)
            values = _parse(path, header, np.float64)
            fractional = True
    except ValueError as exc:
        values, numpy_message = None, str(exc)
    if values is not None and not np.isfinite(values).all():
        values, numpy_message = None, "NaN or infinite value"
    if values is not None and values.shape[0] == 0:
        raise DataError(f"{path}: no data rows after the header")
    labeled = columns[0] == "label"
    if (
        values is not None
        and values.shape[1] == len(columns)
        and fractional
        and labeled
        and not np.array_equal(values[:, 0], np.round(values[:, 0]))
    ):
        values = None  # a fractional label: let _locate_problem name it
    scale = (
        _pixel_scale(path, values, labeled, pixels, fractional)
        if values is not None and values.shape[1] == len(columns)
        else 255.0
    )
    if values is None or values.shape[1] != len(columns) or not _in_range(values, labeled, scale):
        # Rare path: read the file again to say exactly where the problem is.
        raise DataError(_locate_problem(path, columns, values, header, scale) or f"{path}: {numpy_message}")
    pix = values[:, 1:] if labeled else values
    if scale != 255.0 or fractional:
        pix = np.rint(np.asarray(pix, dtype=np.float64) * (255.0 / scale))
    pix = pix.astype(np.uint8)
    if labeled:
        return pix, values[:, 0].astype(np.int64)
    return pix, None


def _parse(path: Path, header: bool, dtype) -> np.ndarray:
    with _open_text(path) as text:
        if header:
            text.readline()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
            # NumPy 2.0 to 2.2 read "3.5" into an integer dtype as 3 and only warn ("Parsing an
            # integer via a float is deprecated"); NumPy 2.4 refuses it. Refuse it on every
            # NumPy, so that a fractional label or pixel takes the float path (and a fractional
            # label is then named) instead of being truncated.
            # (NumPy then raises ValueError "could not convert string '3.5' to int32".)
            warnings.filterwarnings("error", r".*Parsing an integer via a float", DeprecationWarning)
            return np.loadtxt(text, delimiter=",", dtype=dtype, ndmin=2, comments=None)


def _pixel_scale(path: Path, values: np.ndarray, labeled: bool, pixels: str, fractional: bool) -> float:
    """The largest pixel value of the file's scale: 255 or 1."""
    if pixels == "0-255":
        return 255.0
    if pixels == "0-1":
        return 1.0
    pix = values[:, 1:] if labeled else values
    high = float(pix.max()) if pix.size else 0.0
    if fractional and high <= 1.0:
        return 1.0
    if not fractional and high <= 1.0 and pix.size:
        raise DataError(
            f"{path}: every pixel value is 0 or 1, which could be 0-255 intensities (a black "
            "image) or 0-1 intensities; say which: xpnet predict --pixels 0-1 (or --pixels "
            "0-255), read_kaggle_csv(..., pixels='0-1')"
        )
    if fractional:
        raise DataError(
            f"{path}: pixel values have fractions and go up to {high:g}: if they are 0-255 "
            "intensities, use xpnet predict --pixels 0-255 (read_kaggle_csv(..., pixels='0-255')) "
            "to round them"
        )
    return 255.0


def read_kaggle_file(path: str | os.PathLike) -> Dataset:
    """Read one Kaggle CSV file into a [`Dataset`][xpnet.datasets.dataset.Dataset].

    A labelled file becomes the training split, an unlabelled one the test
    split (with ``y_test`` ``None``).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Dataset
        Named after the file (e.g. ``"train"``), with digit class names.
    """
    path = Path(path)
    images, labels = read_kaggle_csv(path)
    pair: tuple[np.ndarray | None, np.ndarray | None] = (images, labels)
    unused: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
    train, test = (pair, unused) if labels is not None else (unused, pair)  # labelled: a training set
    return make_dataset(
        _stem(path),
        source=str(path),
        train=train,
        test=test,
        checksums={path.name: _sha256(path)},
    )


def find_kaggle_files(directory: str | os.PathLike) -> dict[str, Path]:
    """Find ``train.csv`` and ``test.csv`` (or ``.csv.gz``) in a directory.

    Returns
    -------
    dict of str to pathlib.Path
        Keys ``"train"`` and/or ``"test"``.
    """
    directory = Path(directory)
    found = {}
    for split in ("train", "test"):
        for name in (f"{split}.csv", f"{split}.csv.gz"):
            if (directory / name).is_file():
                found[split] = directory / name
                break
    return found


def read_kaggle_directory(directory: str | os.PathLike) -> Dataset:
    """Read Kaggle's ``train.csv`` and/or ``test.csv`` from a directory.

    Parameters
    ----------
    directory : str or os.PathLike

    Returns
    -------
    Dataset
        Training split from ``train.csv`` (labelled), test split from
        ``test.csv`` (whose labels, if it has none, are ``None``).

    Raises
    ------
    DataError
        If neither file is there or one is malformed.
    """
    directory = Path(directory)
    paths = find_kaggle_files(directory)
    if not paths:
        raise DataError(f"{directory}: neither train.csv nor test.csv found")
    splits = {split: read_kaggle_csv(path) for split, path in paths.items()}
    if "train" in splits and splits["train"][1] is None:
        raise DataError(f"{paths['train']}: has no 'label' column, so it cannot be the training split")
    origins = {f"{axis}_{split}": str(path) for split, path in paths.items() for axis in "xy"}
    return make_dataset(
        directory.resolve().name,
        source=str(directory),
        train=splits.get("train", (None, None)),
        test=splits.get("test", (None, None)),
        checksums={path.name: _sha256(path) for path in paths.values()},
        origins=origins,
    )


@contextmanager
def _open_text(path: Path) -> Iterator[io.TextIOBase]:
    try:
        with open(path, "rb") as raw:
            compressed = is_gzip(raw.read(2))
            raw.seek(0)
            binary = gzip.GzipFile(fileobj=raw) if compressed else raw
            with io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
                yield text
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        if isinstance(exc, (gzip.BadGzipFile, EOFError, zlib.error)):
            what = "corrupted gzip data (damaged or incomplete file)"
        elif isinstance(exc, UnicodeDecodeError):
            what = "not a text CSV file"
        else:
            what = "cannot read"
        raise DataError(f"{path}: {what}: {exc}") from exc


def _check_header(path: Path, line: str) -> tuple[list[str], bool]:
    """The column names, and whether ``line`` is a header (False: it is the first data row)."""
    if not line.strip():
        raise DataError(f"{path}: line 1: empty file or empty header; expected {_EXPECTED_HEADER}")
    columns = [column.strip().strip('"') for column in line.rstrip("\r\n").split(",")]
    if all(_is_number(c) for c in columns):
        if len(columns) == N_PIXELS + 1:
            return ["label", *_PIXEL_HEADERS[0]], False
        if len(columns) == N_PIXELS:
            return list(_PIXEL_HEADERS[0]), False
        raise DataError(
            f"{path}: line 1: no header row and {len(columns)} values; expected {N_PIXELS + 1} "
            f"(label and pixels) or {N_PIXELS} (pixels only), or a header {_EXPECTED_HEADER}"
        )
    labeled = columns[0] == "label"
    pixels = columns[1:] if labeled else columns
    if any(pixels == expected for expected in _PIXEL_HEADERS):
        return columns, True
    if len(pixels) != N_PIXELS:
        raise DataError(
            f"{path}: line 1: the header has {len(columns)} columns"
            f"{' (label and ' + str(len(pixels)) + ' pixels)' if labeled else ''}, "
            f"expected {N_PIXELS + labeled}: {_EXPECTED_HEADER}"
        )
    expected = _PIXEL_HEADERS[pixels[0] == "pixel1"]
    index = next(i for i, (got, want) in enumerate(zip(pixels, expected)) if got != want)
    raise DataError(
        f"{path}: line 1, column {index + 1 + labeled}: header says {pixels[index]!r}, "
        f"expected {expected[index]!r}; the header must be {_EXPECTED_HEADER}"
    )


_BLANKS = str.maketrans("", "", " \t\r\n")
_DIGITS = str.maketrans("", "", "0123456789")


def _looks_right(line: str, separators: str) -> bool:
    """Quick check that a line is unsigned integers separated by ``separators``' commas."""
    squeezed = line.translate(_BLANKS)
    return (
        squeezed.translate(_DIGITS) == separators
        and ",," not in squeezed
        and not squeezed.startswith(",")
        and not squeezed.endswith(",")
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _in_range(values: np.ndarray, labeled: bool, scale: float = 255.0) -> bool:
    return _first_out_of_range_row(values, labeled, scale) is None


def _first_out_of_range_row(values: np.ndarray, labeled: bool, scale: float = 255.0) -> int | None:
    high = np.full(values.shape[1], scale)
    if labeled:
        high[0] = 9
    bad_rows = np.flatnonzero(((values < 0) | (values > high)).any(axis=1))
    return int(bad_rows[0]) if bad_rows.size else None


def _locate_problem(
    path: Path, columns: list[str], values: np.ndarray | None, header: bool = True, scale: float = 255.0
) -> str | None:
    """Describe the first bad data line, or return None if none is found.

    ``values`` is what NumPy parsed (None if it failed): then the bad row is
    known and only its line number is needed. Otherwise the first line that
    is not just digits and commas is looked at in detail.
    """
    labeled = columns[0] == "label"
    bad_row = None
    if values is not None:
        bad_row = 0 if values.shape[1] != len(columns) else _first_out_of_range_row(values, labeled, scale)
    with _open_text(path) as text:
        if header:
            next(text)
        row = -1
        separators = "," * (len(columns) - 1)
        for line_number, line in enumerate(text, start=2 if header else 1):
            if not line.strip():
                continue  # NumPy skips blank lines too
            row += 1
            if bad_row is None and _looks_right(line, separators):
                continue  # a quick look is enough: only the bad line is split
            if bad_row is not None and row != bad_row:
                continue
            problem = _describe_line(
                f"{path}: line {line_number}", line.rstrip("\r\n").split(","), columns, labeled, scale
            )
            if problem:
                return problem
    return None


def _describe_line(
    where: str, fields: list[str], columns: list[str], labeled: bool, scale: float = 255.0
) -> str | None:
    if len(fields) != len(columns):
        return f"{where}: {len(fields)} values, expected {len(columns)} (one per header column)"
    for index, field in enumerate(fields):
        place = f"{where}, column {index + 1} ({columns[index]})"
        is_label = labeled and index == 0
        value: float | None
        try:
            value = int(field)
        except ValueError:
            try:
                value = float(field) if not is_label else None
            except ValueError:
                value = None
            if value is None or value != value or value in (float("inf"), float("-inf")):
                return f"{place}: {field.strip()!r} is not {'an integer' if is_label else 'a number'}"
        high = 9 if is_label else scale
        if not 0 <= value <= high:
            return f"{place}: {'label' if is_label else 'pixel value'} {value:g} is outside 0..{high:g}"
    return None


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".csv"):
        name = name.removesuffix(suffix)
    return name


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
