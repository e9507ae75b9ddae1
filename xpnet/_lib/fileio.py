"""Atomic file writes: readers see either the old file or the complete new one, never a torn one.

Every file xpnet writes for a user (checkpoints, ``metrics.json``, plots, Kaggle submissions)
goes through [`atomic_write`][xpnet._lib.fileio.atomic_write]: the content is written to a temporary file in the target's
directory, flushed to disk, then moved over the target with `os.replace`, which is atomic
on POSIX and Windows when both paths are on the same file system. If anything fails on the way,
the temporary file is removed and the old target, if any, is left untouched.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "write_json", "to_jsonable"]


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Open a temporary file next to ``path`` for writing; on success move it onto ``path``.

    >>> with atomic_write("out.txt", "w") as f:   # doctest: +SKIP
    ...     f.write("hello")
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, _file_mode(path))  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, mode, encoding=encoding if "b" not in mode else None) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _file_mode(path: Path) -> int:
    """The existing file's permissions, else what ``open()`` would give a new file (0666 & ~umask)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def to_jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars/arrays, tuples and paths turned into JSON types.

    NaN and infinities become ``None`` (JSON has no such numbers).
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return to_jsonable(value.tolist())
    return str(value)


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON, atomically. Returns the path."""
    text = json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n"
    with atomic_write(path, "w", encoding="utf-8") as stream:
        stream.write(text)
    return Path(path)
