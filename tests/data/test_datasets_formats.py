"""Local sources: IDX directories, Kaggle CSV files, .npz archives, and load_dataset on paths."""

import gzip
import hashlib

import numpy as np
import pytest

from xpnet.datasets import DataError, Dataset, load_dataset, read_kaggle_csv, read_npz, write_idx
from xpnet.datasets.directory import read_idx_directory

RNG = np.random.default_rng(42)


def make_split(n):
    return RNG.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), RNG.integers(0, 10, size=n).astype(np.uint8)


def write_idx_dir(directory, train=5, test=3, gzip=True, names=None):
    """Write the standard four IDX files (or some of them) and return the arrays."""
    directory.mkdir(parents=True, exist_ok=True)
    names = names or {
        "train-images-idx3-ubyte": "x_train",
        "train-labels-idx1-ubyte": "y_train",
        "t10k-images-idx3-ubyte": "x_test",
        "t10k-labels-idx1-ubyte": "y_test",
    }
    (x_train, y_train), (x_test, y_test) = make_split(train), make_split(test)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for stem, key in names.items():
        write_idx(directory / (stem + (".gz" if gzip else "")), arrays[key], gzip=gzip)
    return arrays


# -- IDX directories ---------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_idx_directory_full(tmp_path, compress):
    arrays = write_idx_dir(tmp_path / "digits", gzip=compress)
    data = load_dataset(tmp_path / "digits")
    assert isinstance(data, Dataset) and data.name == "digits"
    assert data.x_train.shape == (5, 784) and data.x_train.dtype == np.uint8
    assert data.y_train.shape == (5,) and data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.x_train.reshape(-1, 28, 28), arrays["x_train"])
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])
    assert data.class_names == tuple("0123456789")
    suffix = ".gz" if compress else ""
    expected = hashlib.sha256((tmp_path / "digits" / f"t10k-images-idx3-ubyte{suffix}").read_bytes()).hexdigest()
    assert data.checksums[f"t10k-images-idx3-ubyte{suffix}"] == expected and len(data.checksums) == 4


def test_idx_directory_with_original_dotted_names(tmp_path):
    names = {
        "train-images.idx3-ubyte": "x_train",
        "train-labels.idx1-ubyte": "y_train",
    }
    write_idx_dir(tmp_path, gzip=False, names=names)
    data = read_idx_directory(tmp_path)
    assert data.n_train == 5 and data.x_test is None


def test_idx_directory_with_only_the_test_pair(tmp_path, caplog):
    write_idx_dir(tmp_path, names={"t10k-images-idx3-ubyte": "x_test", "t10k-labels-idx1-ubyte": "y_test"})
    with caplog.at_level("INFO", logger="xpnet.datasets"):
        data = load_dataset(tmp_path)
    assert data.x_train is None and data.y_train is None and data.n_train == 0
    assert data.n_test == 3
    assert "3 test images" in data.summary()
    assert "no training split" in caplog.text and "t10k-images-idx3-ubyte.gz" in caplog.text


def test_idx_directory_labels_without_images(tmp_path):
    write_idx_dir(
        tmp_path,
        names={
            "t10k-labels-idx1-ubyte": "y_test",
            "train-images-idx3-ubyte": "x_train",
            "train-labels-idx1-ubyte": "y_train",
        },
    )
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz: test labels found but no test images"):
        load_dataset(tmp_path)


def test_idx_directory_training_images_without_labels(tmp_path):
    write_idx_dir(tmp_path, names={"train-images-idx3-ubyte": "x_train"})
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: training images found but no training labels"):
        load_dataset(tmp_path)


def test_idx_directory_count_mismatch(tmp_path):
    write_idx_dir(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(DataError, match="3 test images but 4 labels in .*t10k-labels-idx1-ubyte.gz"):
        load_dataset(tmp_path)


def test_idx_directory_label_out_of_range(tmp_path):
    write_idx_dir(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([1, 12, 3], np.uint8))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: label 12 at index 1 is outside 0..9"):
        load_dataset(tmp_path)


def test_idx_directory_wrong_image_size(tmp_path):
    write_idx_dir(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((3, 32, 32), np.uint8))
    with pytest.raises(
        DataError, match=r"t10k-images-idx3-ubyte.gz: images must have shape \(N, 28, 28\).*\(3, 32, 32\)"
    ):
        load_dataset(tmp_path)


def test_idx_directory_swapped_files(tmp_path):
    write_idx_dir(tmp_path, names={"train-images-idx3-ubyte": "y_train", "train-labels-idx1-ubyte": "x_train"})
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: magic number 0x00000801 declares 1 dimension"):
        load_dataset(tmp_path)


def test_empty_directory_lists_what_was_expected(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError) as error:
        load_dataset(tmp_path)
    message = str(error.value)
    assert "no dataset files found" in message and "train-images-idx3-ubyte.gz" in message
    assert "t10k-labels-idx1-ubyte.gz" in message and "notes.txt" in message


# -- Kaggle CSV --------------------------------------------------------------------------------

TRAIN_HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))
TEST_HEADER = ",".join(f"pixel{i}" for i in range(784))


def csv_rows(x, y=None):
    rows = []
    for i, image in enumerate(x.reshape(len(x), 784)):
        values = ([str(int(y[i]))] if y is not None else []) + [str(int(v)) for v in image]
        rows.append(",".join(values))
    return rows


def write_csv(path, header, rows, compress=False):
    text = "\n".join([header, *rows]) + "\n"
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_kaggle_train_csv(tmp_path, compress):
    x, y = make_split(4)
    path = write_csv(tmp_path / ("train.csv" + (".gz" if compress else "")), TRAIN_HEADER, csv_rows(x, y), compress)
    images, labels = read_kaggle_csv(path)
    np.testing.assert_array_equal(images, x.reshape(4, 784))
    np.testing.assert_array_equal(labels, y)
    assert images.dtype == np.uint8 and labels.dtype == np.int64


def test_kaggle_test_csv_has_no_labels(tmp_path):
    x, _ = make_split(2)
    path = write_csv(tmp_path / "test.csv", TEST_HEADER, csv_rows(x))
    images, labels = read_kaggle_csv(path)
    assert labels is None and images.shape == (2, 784)
    data = load_dataset(path)
    assert data.x_train is None and data.y_test is None and data.n_test == 2
    assert "2 unlabelled test images" in data.summary()


def test_load_kaggle_train_file_and_directory(tmp_path):
    x, y = make_split(3)
    write_csv(tmp_path / "train.csv", TRAIN_HEADER, csv_rows(x, y))
    write_csv(tmp_path / "test.csv", TEST_HEADER, csv_rows(x[:2]))
    single = load_dataset(tmp_path / "train.csv")
    assert single.n_train == 3 and single.x_test is None and single.name == "train"
    both = load_dataset(tmp_path)
    assert both.n_train == 3 and both.n_test == 2 and both.y_test is None
    assert set(both.checksums) == {"train.csv", "test.csv"}


def test_kaggle_csv_with_one_based_pixel_names(tmp_path):
    header = "label," + ",".join(f"pixel{i + 1}" for i in range(784))
    x, y = make_split(1)
    images, labels = read_kaggle_csv(write_csv(tmp_path / "fashion.csv", header, csv_rows(x, y)))
    assert labels.tolist() == y.tolist()


def test_kaggle_bad_header_column(tmp_path):
    header = TRAIN_HEADER.replace("pixel17,", "pixl17,")
    with pytest.raises(DataError, match=r"bad.csv: line 1, column 19: header says 'pixl17', expected 'pixel17'"):
        read_kaggle_csv(write_csv(tmp_path / "bad.csv", header, []))


def test_kaggle_header_with_wrong_column_count(tmp_path):
    with pytest.raises(DataError, match=r"line 1: the header has 3 columns.*expected 784.*'label,pixel0,...,pixel783'"):
        read_kaggle_csv(write_csv(tmp_path / "bad.csv", "a,b,c", ["1,2,3"]))


def test_kaggle_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="empty.csv: line 1: empty file"):
        read_kaggle_csv(path)


def test_kaggle_no_rows(tmp_path):
    with pytest.raises(DataError, match="no data rows"):
        read_kaggle_csv(write_csv(tmp_path / "train.csv", TRAIN_HEADER, []))


def test_kaggle_row_with_wrong_column_count(tmp_path):
    x, y = make_split(3)
    rows = csv_rows(x, y)
    rows[1] = rows[1].rsplit(",", 1)[0]  # drop the last pixel of the second data line
    with pytest.raises(DataError, match=r"train.csv: line 3: 784 values, expected 785"):
        read_kaggle_csv(write_csv(tmp_path / "train.csv", TRAIN_HEADER, rows))


def test_kaggle_all_rows_short_of_the_header(tmp_path):
    x, _ = make_split(2)
    with pytest.raises(DataError, match=r"line 2: 784 values, expected 785"):
        read_kaggle_csv(write_csv(tmp_path / "train.csv", TRAIN_HEADER, csv_rows(x)))


def test_kaggle_pixel_out_of_range(tmp_path):
    x, y = make_split(3)
    rows = csv_rows(x, y)
    fields = rows[2].split(",")
    fields[101] = "256"  # column 102 = pixel100
    rows[2] = ",".join(fields)
    with pytest.raises(DataError, match=r"line 4, column 102 \(pixel100\): pixel value 256 is outside 0..255"):
        read_kaggle_csv(write_csv(tmp_path / "train.csv", TRAIN_HEADER, rows))


def test_kaggle_negative_pixel(tmp_path):
    x, _ = make_split(1)
    rows = csv_rows(x)
    rows[0] = "-1" + rows[0][rows[0].index(",") :]
    with pytest.raises(DataError, match=r"line 2, column 1 \(pixel0\): pixel value -1 is outside 0..255"):
        read_kaggle_csv(write_csv(tmp_path / "test.csv", TEST_HEADER, rows))


@pytest.mark.parametrize("label", ["3.5", "seven", ""])
def test_kaggle_non_integer_label(tmp_path, label):
    x, y = make_split(2)
    rows = csv_rows(x, y)
    rows[1] = label + rows[1][rows[1].index(",") :]
    with pytest.raises(DataError, match=rf"train.csv: line 3, column 1 \(label\): '{label}' is not an integer"):
        read_kaggle_csv(write_csv(tmp_path / "train.csv", TRAIN_HEADER, rows))


def test_kaggle_label_out_of_range(tmp_path):
    x, y = make_split(2)
    rows = csv_rows(x, y)
    rows[0] = "10" + rows[0][rows[0].index(",") :]
    with pytest.raises(DataError, match=r"line 2, column 1 \(label\): label 10 is outside 0..9"):
        read_kaggle_csv(write_csv(tmp_path / "train.csv", TRAIN_HEADER, rows))


def test_kaggle_corrupted_gzip(tmp_path):
    x, y = make_split(20)
    path = write_csv(tmp_path / "train.csv.gz", TRAIN_HEADER, csv_rows(x, y), compress=True)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DataError, match="train.csv.gz: corrupted gzip data"):
        read_kaggle_csv(path)


def test_kaggle_binary_garbage(tmp_path):
    path = tmp_path / "train.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match="train.csv"):
        read_kaggle_csv(path)


# -- NPZ ---------------------------------------------------------------------------------------


def test_npz_round_trip_both_image_layouts(tmp_path):
    (x_train, y_train), (x_test, y_test) = make_split(6), make_split(2)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test.reshape(2, 784), y_test=y_test)
    data = load_dataset(path)
    assert data.name == "mnist" and data.x_train.shape == (6, 784) and data.x_test.shape == (2, 784)
    np.testing.assert_array_equal(data.x_test, x_test.reshape(2, 784))
    assert data.y_train.dtype == np.int64
    assert data.checksums == {"mnist.npz": hashlib.sha256(path.read_bytes()).hexdigest()}


def test_npz_wider_integer_types_are_accepted_when_in_range(tmp_path):
    x, y = make_split(2)
    np.savez(tmp_path / "d.npz", x_test=x.astype(np.int32), y_test=y.astype(np.int64))
    data = read_npz(tmp_path / "d.npz")
    assert data.x_test.dtype == np.uint8 and data.x_train is None


def test_npz_object_array_is_refused_without_unpickling(tmp_path):
    x, _ = make_split(2)
    labels = np.array([1, "two"], dtype=object)
    np.savez(tmp_path / "evil.npz", x_train=x, y_train=labels)
    with pytest.raises(DataError) as error:
        read_npz(tmp_path / "evil.npz")
    message = str(error.value)
    assert "evil.npz" in message and "'y_train' holds Python objects" in message and "refuses to unpickle" in message


def test_npz_missing_keys(tmp_path):
    np.savez(tmp_path / "other.npz", images=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(
        DataError,
        match=r"other.npz: none of the expected arrays x_train, y_train, x_test, y_test.*it holds: images",
    ):
        read_npz(tmp_path / "other.npz")


def test_npz_training_labels_missing(tmp_path):
    x, _ = make_split(2)
    np.savez(tmp_path / "half.npz", x_train=x)
    with pytest.raises(DataError, match=r"half.npz \[x_train\]: training images found but no training labels"):
        read_npz(tmp_path / "half.npz")


def test_npz_float_pixels(tmp_path):
    x, y = make_split(2)
    np.savez(tmp_path / "scaled.npz", x_train=x / 255.0, y_train=y)
    with pytest.raises(
        DataError,
        match=r"scaled.npz \[x_train\]: pixel values must be integers 0..255, got dtype float64.*multiply by 255",
    ):
        read_npz(tmp_path / "scaled.npz")


def test_npz_pixel_out_of_range(tmp_path):
    x, y = make_split(2)
    x = x.astype(np.int16)
    x[1, 3, 4] = 300
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y)
    with pytest.raises(DataError, match=r"pixel value 300 \(image 1, pixel 88\) is outside 0..255"):
        read_npz(tmp_path / "d.npz")


def test_npz_float_labels(tmp_path):
    x, y = make_split(2)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y.astype(float))
    with pytest.raises(DataError, match=r"d.npz \[y_train\]: labels must be integers 0..9, got dtype float64"):
        read_npz(tmp_path / "d.npz")


def test_npz_not_an_archive(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"PK\x03\x04 this is not really a zip file")
    with pytest.raises(DataError, match="broken.npz: not a readable .npz archive"):
        read_npz(path)


def test_npy_file_instead_of_npz(tmp_path):
    path = tmp_path / "single.npz"
    with open(path, "wb") as stream:
        np.save(stream, np.zeros(3))
    with pytest.raises(DataError, match="single.npz: holds a single array, not an .npz archive"):
        read_npz(path)


# -- load_dataset dispatch ---------------------------------------------------------------------


def test_unknown_name_and_missing_path(tmp_path):
    with pytest.raises(
        DataError, match=r"'kmnist' is neither a known dataset \(mnist, fashion-mnist\) nor an existing file"
    ):
        load_dataset("kmnist")


def test_missing_path_given_as_path(tmp_path):
    with pytest.raises(DataError, match="mnist: no such file or directory"):
        load_dataset(tmp_path / "mnist")


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    write_idx(path, np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(DataError, match="unsupported file type; give a directory of IDX files"):
        load_dataset(path)


def test_dataset_repr_shows_shapes_not_values(tmp_path):
    write_idx_dir(tmp_path)
    text = repr(load_dataset(str(tmp_path)))
    assert "x_train=uint8[5, 784]" in text and "y_test=int64[3]" in text and len(text) < 300
