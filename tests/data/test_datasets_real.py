"""Integration: the real Fashion-MNIST and MNIST test files, where a copy is on disk.

The data directory is ``$XPNET_TEST_DATA`` if set, else ``../shared/data``
next to the repository; it holds ``fashion-mnist/`` (all four files) and
``mnist-t10k/`` (only the test pair). Skipped when absent.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from xpnet.datasets import FASHION_MNIST, MNIST, DatasetUnavailable, load_dataset
from xpnet.datasets.download import sha256_file


def shared_data_dir():
    configured = os.environ.get("XPNET_TEST_DATA")
    return Path(configured) if configured else Path(__file__).resolve().parents[2].parent / "shared" / "data"


DATA = shared_data_dir()
needs_fashion = pytest.mark.skipif(not (DATA / "fashion-mnist").is_dir(), reason=f"no Fashion-MNIST copy in {DATA}")
needs_mnist_test = pytest.mark.skipif(not (DATA / "mnist-t10k").is_dir(), reason=f"no MNIST t10k copy in {DATA}")


@pytest.fixture(scope="module")
def fashion():
    if not (DATA / "fashion-mnist").is_dir():
        pytest.skip(f"no Fashion-MNIST copy in {DATA}")
    # By name, from a data root that already holds the files: nothing is downloaded.
    return load_dataset("fashion-mnist", data_dir=DATA, download=False)


@needs_fashion
def test_fashion_mnist_shapes_and_labels(fashion):
    assert fashion.name == "fashion-mnist"
    assert fashion.x_train.shape == (60000, 784) and fashion.x_train.dtype == np.uint8
    assert fashion.x_test.shape == (10000, 784)
    assert fashion.y_train.dtype == np.int64
    assert np.bincount(fashion.y_train).tolist() == [6000] * 10  # balanced classes
    assert np.bincount(fashion.y_test).tolist() == [1000] * 10
    assert fashion.class_names == FASHION_MNIST.class_names
    # Mean pixel of the training set is the well-known 0.2860 (of 255): the parse is aligned.
    assert abs(fashion.x_train.mean() / 255 - 0.2860) < 0.0005


@needs_fashion
def test_fashion_mnist_checksums_match_the_table(fashion):
    for spec in FASHION_MNIST.files:
        path = DATA / "fashion-mnist" / spec.name
        assert spec.matches(path.stat().st_size, fashion.checksums[spec.name])
        assert fashion.checksums[spec.name] == sha256_file(path)


@needs_mnist_test
def test_mnist_test_split_directory():
    data = load_dataset(DATA / "mnist-t10k")
    assert data.name == "mnist"  # recognised by checksum, whatever the directory is called
    assert data.x_train is None and data.y_train is None
    assert data.x_test.shape == (10000, 784) and data.y_test.shape == (10000,)
    assert np.bincount(data.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert abs(data.x_test.mean() / 255 - 0.1325) < 0.0005
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        spec = MNIST.file(name)
        assert (DATA / "mnist-t10k" / name).stat().st_size == spec.size
        assert data.checksums[name] == spec.sha256  # the files as the mirrors serve them


@needs_mnist_test
def test_incomplete_known_dataset_without_download(tmp_path):
    # A data root with only the MNIST test pair: by name, it is unavailable offline, and says why.
    (tmp_path / "mnist").mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / "mnist" / name).symlink_to(DATA / "mnist-t10k" / name)
    with pytest.raises(DatasetUnavailable) as error:
        load_dataset("mnist", data_dir=tmp_path, download=False)
    message = str(error.value)
    assert "2 of its 4 files" in message and "(present)" in message
    assert "train-images-idx3-ubyte.gz" in message and MNIST.files[0].sha256 in message
