"""Downloading dataset files from mirrors, verified by size and SHA-256.

A file is streamed into a temporary file in the destination directory and
moved into place (atomically, with `os.replace`) only once its size and
SHA-256 match; otherwise the temporary file is deleted, a warning is logged on
the ``"xpnet.datasets"`` logger and the next mirror is tried. A file already
present with the right checksum is never downloaded again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests
import urllib3

from ..errors import XpnetError
from .cache import DATA_DIR_ENV, dataset_dir
from .errors import DataError, DatasetUnavailable
from .sources import KNOWN_DATASETS, FileSpec, KnownDataset, get_known_dataset

__all__ = ["ensure_downloaded", "fetch_files", "sha256_file"]

logger = logging.getLogger("xpnet.datasets")

_CHUNK = 1 << 16
_USER_AGENT = "xpnet-datasets (+https://github.com/xpnet/xpnet)"


def sha256_file(path: str | os.PathLike) -> str:
    """Return the SHA-256 of a file as lowercase hex, reading it in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_downloaded(
    dataset: str | KnownDataset,
    data_dir: str | os.PathLike | None = None,
    *,
    mirrors: Sequence[str] | str | None = None,
    download: bool = True,
    progress: bool = True,
    timeout: float = 30.0,
) -> dict[str, Path]:
    """Make sure the files of a known dataset are on disk, downloading if needed.

    Parameters
    ----------
    dataset : str or KnownDataset
        ``"mnist"`` or ``"fashion-mnist"`` (see [`get_known_dataset`][xpnet.datasets.sources.get_known_dataset]
        for accepted spellings), or a [`KnownDataset`][xpnet.datasets.sources.KnownDataset].
    data_dir : str or os.PathLike, optional
        Data root; the files go to ``data_root(data_dir) / dataset.name``
        (see [`xpnet.datasets.cache.data_root`][xpnet.datasets.cache.data_root]).
    mirrors : sequence of str or str, optional
        Base URLs to try in order instead of the dataset's own mirrors.
    download : bool
        If false, only check what is already there.
    progress : bool
        Show a progress bar on standard error (only if it is a terminal).
    timeout : float
        Seconds to wait for a server to connect or send more data.

    Returns
    -------
    dict of str to pathlib.Path
        File name -> path of each verified file, in the dataset's file order.

    Raises
    ------
    DatasetUnavailable
        If some file is missing (or corrupt) and could not be downloaded; the
        message says which files are needed, with checksums, and where.
    DataError
        If the dataset name is unknown or the directory cannot be created.
    """
    if isinstance(dataset, str):
        known = get_known_dataset(dataset)
        if known is None:
            raise DataError(f"unknown dataset {dataset!r}; known datasets: {', '.join(KNOWN_DATASETS)}")
        dataset = known
    return fetch_files(
        dataset.files,
        dataset_dir(dataset.name, data_dir),
        dataset.mirrors if mirrors is None else mirrors,
        download=download,
        progress=progress,
        timeout=timeout,
        title=dataset.title,
    )


def fetch_files(
    files: Sequence[FileSpec],
    directory: str | os.PathLike,
    mirrors: Sequence[str] | str,
    *,
    download: bool = True,
    progress: bool = True,
    timeout: float = 30.0,
    title: str = "The dataset",
) -> dict[str, Path]:
    """Make sure the given files are in ``directory``, downloading any missing.

    The lower-level form of [`ensure_downloaded`][xpnet.datasets.download.ensure_downloaded], for any table of
    files: each file is looked up at ``mirror + name`` for each mirror in
    turn. A mirror that cannot be reached at all is not tried again for the
    remaining files.

    Parameters
    ----------
    files : sequence of FileSpec
        The files, each with its expected size and SHA-256.
    directory : str or os.PathLike
        Where the files live; created if a download is needed.
    mirrors : sequence of str or str
        Base URLs, tried in order.
    download, progress, timeout
        As in [`ensure_downloaded`][xpnet.datasets.download.ensure_downloaded].
    title : str
        Dataset name for messages.

    Returns
    -------
    dict of str to pathlib.Path
        File name -> path of each verified file.

    Raises
    ------
    DatasetUnavailable
        If any file is still missing or corrupt at the end.
    """
    directory = Path(directory)
    mirrors = (mirrors,) if isinstance(mirrors, str) else tuple(mirrors)
    found: dict[str, Path] = {}
    problems: dict[str, str] = {}  # file name -> why it is not usable
    mirror_errors: dict[str, str] = {}  # mirror -> last error seen there
    unreachable: set[str] = set()
    for spec in files:
        path = directory / spec.name
        problem = _check_existing(path, spec)
        if problem is None:
            logger.debug("%s is present and verified", path)
            found[spec.name] = path
            continue
        if download:
            if problem != "missing":
                logger.warning("%s %s; downloading it again", path, problem)
            _make_directory(directory)
            if _download_from_mirrors(spec, directory, mirrors, progress, timeout, mirror_errors, unreachable):
                found[spec.name] = path
                continue
        problems[spec.name] = problem
    if problems:
        raise DatasetUnavailable(
            _unavailable_message(title, files, directory, mirrors, problems, mirror_errors, download)
        )
    return found


def _check_existing(path: Path, spec: FileSpec) -> str | None:
    """Return None if ``path`` is a good copy, else why not."""
    try:
        size = path.stat().st_size
        sha256 = sha256_file(path)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if spec.matches(size, sha256):
        return None
    return f"is corrupt ({size:,} bytes, SHA-256 {sha256})"


def _make_directory(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the data directory {directory}: {exc.strerror or exc}; "
            f"pass another data_dir or set {DATA_DIR_ENV} to a writable directory"
        ) from exc


def _download_from_mirrors(
    spec: FileSpec,
    directory: Path,
    mirrors: Sequence[str],
    progress: bool,
    timeout: float,
    mirror_errors: dict[str, str],
    unreachable: set[str],
) -> bool:
    """Try each mirror in turn; return whether the file is now in place."""
    for mirror in mirrors:
        if mirror in unreachable:
            continue
        url = mirror.rstrip("/") + "/" + spec.name
        logger.info("Downloading %s from %s", spec.name, url)
        try:
            _download(url, spec, directory, progress, timeout)
        except _DownloadFailed as failure:
            logger.warning("Could not download %s: %s", url, failure.reason)
            mirror_errors[mirror] = failure.reason
            if failure.unreachable:
                unreachable.add(mirror)
            continue
        logger.info("Verified and saved %s", directory / spec.name)
        return True
    return False


class _DownloadFailed(XpnetError):
    def __init__(self, reason: str, *, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unreachable = unreachable


def _download(url: str, spec: FileSpec, directory: Path, progress: bool, timeout: float) -> None:
    """Download ``url`` to ``directory / spec.name`` if it verifies, else raise."""
    max_size = max([spec.size, *(size for size, _ in spec.repackaged)])
    try:
        descriptor, temporary_name = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise _cannot_write(directory, exc) from exc
    temporary = Path(temporary_name)
    try:
        digest = hashlib.sha256()
        received = 0
        with os.fdopen(descriptor, "wb") as output:
            with _get(url, timeout) as response, _progress_bar(spec.name, spec.size, progress) as advance:
                # The raw stream, so that a server's Content-Encoding: gzip
                # header does not get the .gz file decompressed on the way.
                for chunk in _read_raw(response):
                    received += len(chunk)
                    if received > max_size:
                        raise _DownloadFailed(f"the server sent more than the expected {spec.size:,} bytes")
                    digest.update(chunk)
                    output.write(chunk)
                    advance(len(chunk))
        sha256 = digest.hexdigest()
        if not spec.matches(received, sha256):
            if received < spec.size:
                raise _DownloadFailed(f"truncated download: got {received:,} of {spec.size:,} bytes")
            raise _DownloadFailed(f"checksum mismatch: got SHA-256 {sha256}, expected {spec.sha256}")
        os.replace(temporary, directory / spec.name)
    except _DownloadFailed:
        temporary.unlink(missing_ok=True)
        raise
    except OSError as exc:  # network errors became _DownloadFailed: this one is local
        temporary.unlink(missing_ok=True)
        raise _cannot_write(directory, exc) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _cannot_write(directory: Path, exc: OSError) -> DataError:
    return DataError(
        f"cannot write to the data directory {directory}: {exc.strerror or exc}; "
        f"pass another data_dir or set {DATA_DIR_ENV} to a writable directory"
    )


@contextmanager
def _get(url: str, timeout: float) -> Iterator[requests.Response]:
    try:
        response = requests.get(url, stream=True, timeout=timeout, headers={"User-Agent": _USER_AGENT})
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _DownloadFailed(f"cannot connect ({_connection_problem(exc)})", unreachable=True) from exc
    except requests.RequestException as exc:
        raise _DownloadFailed(_short(exc)) from exc
    with response:
        if not response.ok:
            raise _DownloadFailed(f"HTTP {response.status_code} {response.reason}")
        yield response


def _read_raw(response: requests.Response) -> Iterator[bytes]:
    try:
        yield from response.raw.stream(_CHUNK, decode_content=False)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise _DownloadFailed(f"transfer interrupted ({_short(exc)})") from exc


@contextmanager
def _progress_bar(name: str, total: int, enabled: bool) -> Iterator[Callable[[int], None]]:
    if not (enabled and sys.stderr is not None and sys.stderr.isatty()):
        yield lambda advance: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(name, total=total)
        yield lambda advance: bar.advance(task, advance)


def _connection_problem(exc: requests.RequestException) -> str:
    """Say in a few words why a connection failed (requests' own text is long)."""
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    for marker, problem in (
        ("NameResolutionError", "host name not found; offline?"),
        ("Failed to resolve", "host name not found; offline?"),
        ("Connection refused", "connection refused"),
        ("Network is unreachable", "network unreachable; offline?"),
    ):
        if marker in text:
            return problem
    return _short(exc)


def _short(exc: BaseException) -> str:
    """A one-line description of a requests/urllib3 exception."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _unavailable_message(
    title: str,
    files: Sequence[FileSpec],
    directory: Path,
    mirrors: Sequence[str],
    problems: dict[str, str],
    mirror_errors: dict[str, str],
    download: bool,
) -> str:
    if download:
        why = f"{len(problems)} of its {len(files)} files are not in {directory} and downloading them failed"
    else:
        why = f"{len(problems)} of its {len(files)} files are not in {directory} and downloading is switched off"
    lines = [f"{title} is not available: {why}."]
    if mirror_errors:
        lines.append("Download attempts:")
        lines += [f"  {mirror}: {error}" for mirror, error in mirror_errors.items()]
    lines.append(
        f"To use it offline, download these files (from {' or '.join(mirrors) or 'a mirror'}) "
        f"and put them in {directory}:"
    )
    width = max(len(spec.name) for spec in files)
    for spec in files:
        status = f"  ({problems[spec.name]})" if spec.name in problems else "  (present)"
        lines.append(f"  {spec.name:<{width}}  {spec.size:>10,} bytes  SHA-256 {spec.sha256}{status}")
    lines.append(
        "Or pass a directory that holds the IDX files instead (in the xpnet CLI: --data DIR); "
        "a Kaggle-style CSV file or an .npz file works too."
    )
    return "\n".join(lines)
