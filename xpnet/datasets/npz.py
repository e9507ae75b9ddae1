"""Reading datasets stored as NumPy ``.npz`` archives (e.g. Keras' mnist.npz)."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np

from .dataset import Dataset, make_dataset
from .errors import DataError

__all__ = ["read_npz", "NPZ_KEYS"]

#: The arrays an archive may hold.
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_npz(path: str | os.PathLike) -> Dataset:
    """Read a dataset from an ``.npz`` archive, never unpickling anything.

    Parameters
    ----------
    path : str or os.PathLike
        An archive with arrays ``x_train``, ``y_train``, ``x_test``,
        ``y_test`` (as written by ``numpy.savez``): images of shape
        ``(N, 28, 28)`` or ``(N, 784)`` with integer values 0..255, labels of
        shape ``(N,)`` with integer values 0..9. Either split may be left
        out; ``y_test`` may be left out for unlabelled test images.

    Returns
    -------
    Dataset
        Named after the file, with digit class names.

    Raises
    ------
    DataError
        If the file is not an ``.npz`` archive, holds object arrays (which
        would need unpickling; refused because a pickle can run code), has
        none of the expected keys or an incomplete split, or an array has the
        wrong shape, dtype or values.
    """
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({exc})") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{path}: holds a single array, not an .npz archive with the arrays {', '.join(NPZ_KEYS)}")
    with archive:
        present = [key for key in NPZ_KEYS if key in archive.files]
        if not present:
            raise DataError(
                f"{path}: none of the expected arrays {', '.join(NPZ_KEYS)} is in the archive; "
                f"it holds: {', '.join(archive.files) or 'nothing'}"
            )
        arrays = {key: _load_array(archive, key, path) for key in present}
    checksum = hashlib.sha256(path.read_bytes()).hexdigest()
    return make_dataset(
        path.name.removesuffix(".npz"),
        source=str(path),
        train=(arrays.get("x_train"), arrays.get("y_train")),
        test=(arrays.get("x_test"), arrays.get("y_test")),
        checksums={path.name: checksum},
        origins={key: f"{path} [{key}]" for key in NPZ_KEYS},
    )


def _load_array(archive: np.lib.npyio.NpzFile, key: str, path: Path) -> np.ndarray:
    try:
        return archive[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise DataError(
                f"{path}: array {key!r} holds Python objects (dtype=object), which would have to be "
                "unpickled; xpnet refuses to unpickle data files because that can run arbitrary code. "
                "Save plain numeric arrays instead (uint8 pixels, integer labels)"
            ) from exc
        raise DataError(f"{path}: cannot read array {key!r} ({exc})") from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: cannot read array {key!r} ({exc})") from exc
