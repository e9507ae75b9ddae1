"""Reading and writing IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte big-endian magic number ``0x0000TTNN`` (``TT`` a data
type code, ``NN`` the number of dimensions), then ``NN`` big-endian uint32
dimension sizes, then the values in C order, big-endian. MNIST images are
``0x00000803`` (uint8, 3 dimensions: count, rows, columns) and labels
``0x00000801`` (uint8, 1 dimension). Files are usually gzip-compressed; gzip is
recognised by its magic bytes ``1f 8b``, not by the file name.
"""

from __future__ import annotations

import gzip as gzip_module
import math
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInput
from .errors import DataError

__all__ = ["read_idx", "parse_idx", "write_idx", "is_gzip"]

GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> big-endian NumPy dtype.
_DTYPE_BY_CODE: dict[int, np.dtype[Any]] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_BY_DTYPE = {dtype.newbyteorder("="): code for code, dtype in _DTYPE_BY_CODE.items()}
_TYPE_LIST = ", ".join(f"0x{code:02X} ({dtype.name})" for code, dtype in _DTYPE_BY_CODE.items())


def is_gzip(data: bytes) -> bool:
    """Tell whether ``data`` starts with the gzip magic bytes ``1f 8b``."""
    return data[:2] == GZIP_MAGIC


def read_idx(path: str | os.PathLike, *, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Gzip compression is detected from the content.
    ndim : int, optional
        Number of dimensions the file must declare (3 for MNIST images, 1 for
        labels). ``None`` accepts any.

    Returns
    -------
    numpy.ndarray
        The values, with the shape from the header (e.g. ``(N, 28, 28)``
        uint8 for MNIST images, ``(N,)`` uint8 for labels), in native byte
        order and writeable.

    Raises
    ------
    DataError
        If the file cannot be read, is not valid gzip, has a bad magic
        number, or its size disagrees with the dimensions in its header
        (truncated, or trailing bytes). The message names the file.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read IDX file: {exc.strerror or exc}") from exc
    return parse_idx(data, source=str(path), ndim=ndim)


def parse_idx(data: bytes, *, source: str = "<bytes>", ndim: int | None = None) -> np.ndarray:
    """Parse the bytes of an IDX file (gzip-compressed or not).

    Parameters
    ----------
    data : bytes
        The file content.
    source : str
        Name of the file, used in error messages.
    ndim : int, optional
        Number of dimensions the header must declare; ``None`` accepts any.

    Returns
    -------
    numpy.ndarray
        The values with the header's shape, native byte order, writeable.

    Raises
    ------
    DataError
        On corrupted gzip data or a malformed IDX header or size.
    """
    where = ""
    if is_gzip(data):
        data = _gunzip(data, source)
        where = " (after gzip decompression)"

    if len(data) < 4:
        raise DataError(
            f"{source}: not an IDX file: it is {len(data)} bytes long{where}, "
            "too short even for the 4-byte magic number"
        )
    magic = int.from_bytes(data[:4], "big")
    zero, type_code, n_dims = struct.unpack(">HBB", data[:4])
    expected_magic = _expected_magic(type_code if type_code in _DTYPE_BY_CODE else 0x08, ndim)
    if zero != 0:
        raise DataError(
            f"{source}: not an IDX file: magic number 0x{magic:08X}{where} does not start "
            f"with two zero bytes; expected {expected_magic} "
            "(0x00000803 for MNIST images, 0x00000801 for labels)"
        )
    if type_code not in _DTYPE_BY_CODE:
        raise DataError(
            f"{source}: unknown IDX data type code 0x{type_code:02X} in magic number "
            f"0x{magic:08X}; expected one of {_TYPE_LIST}"
        )
    if n_dims == 0:
        raise DataError(f"{source}: magic number 0x{magic:08X} declares 0 dimensions; expected {expected_magic}")
    if ndim is not None and n_dims != ndim:
        raise DataError(
            f"{source}: magic number 0x{magic:08X} declares {n_dims} dimension(s), "
            f"expected {ndim} (magic number {expected_magic})"
        )

    header_size = 4 + 4 * n_dims
    if len(data) < header_size:
        raise DataError(
            f"{source}: truncated IDX header: {n_dims} dimensions need a {header_size}-byte "
            f"header but the file has only {len(data)} bytes{where}"
        )
    shape = struct.unpack(f">{n_dims}I", data[4:header_size])
    dtype = _DTYPE_BY_CODE[type_code]
    expected_bytes = math.prod(shape) * dtype.itemsize
    actual_bytes = len(data) - header_size
    described = f"{' x '.join(map(str, shape))} {dtype.name} values ({expected_bytes:,} bytes)"
    if actual_bytes < expected_bytes:
        raise DataError(
            f"{source}: truncated: the header declares {described} but only "
            f"{actual_bytes:,} bytes of data follow it{where}; the file is incomplete, "
            "download or copy it again"
        )
    if actual_bytes > expected_bytes:
        raise DataError(
            f"{source}: {actual_bytes - expected_bytes:,} unexpected bytes after the data: "
            f"the header declares {described} but {actual_bytes:,} bytes follow it{where} "
            "(trailing garbage, or wrong dimensions in the header)"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return values.astype(dtype.newbyteorder("="))  # always a writeable copy


def write_idx(path: str | os.PathLike, array: np.ndarray, *, gzip: bool = True) -> Path:
    """Write an array as an IDX file.

    Parameters
    ----------
    path : str or os.PathLike
        Destination. Its name does not decide the compression; ``gzip`` does.
    array : array_like
        At least one dimension; dtype uint8, int8, int16, int32, float32 or
        float64 (the types IDX can store). For MNIST-style files use uint8
        images of shape ``(N, 28, 28)`` and uint8 labels of shape ``(N,)``.
    gzip : bool
        Compress with gzip (reproducibly: no time stamp, no file name).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If the dtype or number of dimensions cannot be stored in IDX.
    """
    array = np.asarray(array)
    code = _CODE_BY_DTYPE.get(array.dtype.newbyteorder("="))
    if code is None:
        raise InvalidInput(
            f"IDX cannot store dtype {array.dtype}; convert first, e.g. "
            f"array.astype(numpy.uint8) for images and labels (IDX types: {_TYPE_LIST})"
        )
    if not 1 <= array.ndim <= 255:
        raise InvalidInput(f"IDX stores 1 to 255 dimensions, got an array with {array.ndim}")
    if any(size >= 2**32 for size in array.shape):
        raise InvalidInput(f"IDX dimensions must be below 2**32, got shape {array.shape}")
    header = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=_DTYPE_BY_CODE[code]).tobytes()
    if gzip:
        payload = gzip_module.compress(payload, mtime=0)
    path = Path(path)
    path.write_bytes(payload)
    return path


def _expected_magic(type_code: int, ndim: int | None) -> str:
    if ndim is None:
        return f"0x0000{type_code:02X}NN (NN = number of dimensions)"
    return f"0x0000{type_code:02X}{ndim:02X}"


def _gunzip(data: bytes, source: str) -> bytes:
    try:
        return gzip_module.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{source}: corrupted gzip data ({exc}); the file is damaged or an incomplete "
            "download: delete it and download or copy it again"
        ) from exc
