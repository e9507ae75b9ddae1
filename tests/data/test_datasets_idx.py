"""IDX reading and writing: round trips and every kind of malformed file."""

import gzip
import struct

import numpy as np
import pytest

from xpnet.datasets import DataError, read_idx, write_idx
from xpnet.datasets.idx import parse_idx


def images(n=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip_uint8_images_and_labels(tmp_path, compress):
    x, y = images(), np.array([7, 0, 9], dtype=np.uint8)
    write_idx(tmp_path / "x", x, gzip=compress)
    write_idx(tmp_path / "y", y, gzip=compress)
    assert ((tmp_path / "x").read_bytes()[:2] == b"\x1f\x8b") == compress
    x_read, y_read = read_idx(tmp_path / "x", ndim=3), read_idx(tmp_path / "y", ndim=1)
    np.testing.assert_array_equal(x_read, x)
    np.testing.assert_array_equal(y_read, y)
    assert x_read.dtype == np.uint8 and x_read.flags.writeable


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float32", "float64"])
def test_round_trip_multibyte_types_are_big_endian_on_disk(tmp_path, dtype):
    array = np.arange(-6, 6).reshape(3, 4).astype(dtype)
    path = write_idx(tmp_path / "a.idx", array, gzip=False)
    raw = path.read_bytes()
    assert raw[3] == 2 and struct.unpack(">II", raw[4:12]) == (3, 4)
    assert raw[12:] == array.astype(np.dtype(dtype).newbyteorder(">")).tobytes()
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype) and result.dtype.isnative
    np.testing.assert_array_equal(result, array)


def test_header_is_the_standard_mnist_magic(tmp_path):
    write_idx(tmp_path / "x", images(2), gzip=False)
    write_idx(tmp_path / "y", np.zeros(2, np.uint8), gzip=False)
    assert (tmp_path / "x").read_bytes()[:16] == struct.pack(">IIII", 0x803, 2, 28, 28)
    assert (tmp_path / "y").read_bytes()[:8] == struct.pack(">II", 0x801, 2)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    x = images(1)
    write_idx(tmp_path / "looks-plain.idx", x, gzip=True)
    write_idx(tmp_path / "looks-compressed.gz", x, gzip=False)
    np.testing.assert_array_equal(read_idx(tmp_path / "looks-plain.idx"), x)
    np.testing.assert_array_equal(read_idx(tmp_path / "looks-compressed.gz"), x)


def test_write_is_reproducible(tmp_path):
    write_idx(tmp_path / "a", images(), gzip=True)
    write_idx(tmp_path / "b", images(), gzip=True)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_write_rejects_types_idx_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match=r"int64.*astype\(numpy.uint8\)"):
        write_idx(tmp_path / "y", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "s", np.uint8(3))


# -- malformed files --------------------------------------------------------------------------


def raw_idx(magic, dims, payload):
    return struct.pack(f">I{len(dims)}I", magic, *dims) + payload


def read_bytes_as_file(tmp_path, data, name="bad-idx3-ubyte", **kwargs):
    path = tmp_path / name
    path.write_bytes(data)
    return read_idx(path, **kwargs)


def test_wrong_magic_names_file_and_expected_magic(tmp_path):
    data = b"PK\x03\x04" + bytes(20)
    with pytest.raises(DataError) as error:
        read_bytes_as_file(tmp_path, data, ndim=3)
    message = str(error.value)
    assert "bad-idx3-ubyte" in message and "not an IDX file" in message
    assert "0x504B0304" in message and "0x00000803" in message


def test_unknown_type_code(tmp_path):
    with pytest.raises(DataError, match=r"unknown IDX data type code 0x07.*0x08 \(uint8\)"):
        read_bytes_as_file(tmp_path, raw_idx(0x0701, [1], b"\x00"))


def test_labels_file_where_images_are_expected(tmp_path):
    with pytest.raises(DataError, match=r"declares 1 dimension\(s\), expected 3 \(magic number 0x00000803\)"):
        read_bytes_as_file(tmp_path, raw_idx(0x801, [2], b"\x01\x02"), ndim=3)


def test_zero_dimensions(tmp_path):
    with pytest.raises(DataError, match="declares 0 dimensions"):
        read_bytes_as_file(tmp_path, struct.pack(">I", 0x800))


def test_too_short_for_magic(tmp_path):
    with pytest.raises(DataError, match="2 bytes long.*too short"):
        read_bytes_as_file(tmp_path, b"\x00\x00")


def test_header_cut_short(tmp_path):
    with pytest.raises(
        DataError, match="truncated IDX header: 3 dimensions need a 16-byte header but the file has only 10"
    ):
        read_bytes_as_file(tmp_path, struct.pack(">IIH", 0x803, 5, 28))


def test_truncated_data(tmp_path):
    data = raw_idx(0x803, [2, 28, 28], bytes(2 * 784 - 100))
    with pytest.raises(DataError) as error:
        read_bytes_as_file(tmp_path, data)
    message = str(error.value)
    assert "bad-idx3-ubyte: truncated" in message
    assert "2 x 28 x 28 uint8 values (1,568 bytes)" in message and "only 1,468 bytes" in message


def test_dimensions_disagree_with_size(tmp_path):
    # The header claims 3 images, the data holds 2: same as a truncation, stated with both sizes.
    with pytest.raises(DataError, match=r"3 x 28 x 28 uint8 values \(2,352 bytes\) but only 1,568"):
        read_bytes_as_file(tmp_path, raw_idx(0x803, [3, 28, 28], bytes(2 * 784)))


def test_trailing_garbage(tmp_path):
    data = raw_idx(0x801, [4], bytes(4)) + b"extra"
    with pytest.raises(DataError, match=r"5 unexpected bytes after the data.*4 uint8 values \(4 bytes\)"):
        read_bytes_as_file(tmp_path, data)


def test_truncated_data_inside_gzip_says_so(tmp_path):
    data = gzip.compress(raw_idx(0x801, [10], bytes(5)))
    with pytest.raises(DataError, match=r"only 5 bytes of data follow it \(after gzip decompression\)"):
        read_bytes_as_file(tmp_path, data)


def test_corrupted_gzip(tmp_path):
    good = gzip.compress(raw_idx(0x803, [4, 28, 28], images(4).tobytes()))
    corrupted = bytearray(good)
    corrupted[len(good) // 2] ^= 0xFF
    with pytest.raises(DataError, match="bad-idx3-ubyte: corrupted gzip data"):
        read_bytes_as_file(tmp_path, bytes(corrupted))


def test_cut_off_gzip(tmp_path):
    good = gzip.compress(raw_idx(0x803, [4, 28, 28], images(4).tobytes()))
    with pytest.raises(DataError, match="corrupted gzip data.*incomplete download"):
        read_bytes_as_file(tmp_path, good[: len(good) // 2])


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="nope.gz: cannot read IDX file"):
        read_idx(tmp_path / "nope.gz")


def test_data_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_idx(b"", source="empty")
