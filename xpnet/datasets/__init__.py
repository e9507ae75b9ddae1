"""Datasets for xpnet: MNIST, Fashion-MNIST, and local IDX, CSV and NPZ files.

Everything here runs on the host with NumPy; the network moves the arrays to
the compute device itself. Images come as uint8 arrays of shape ``(N, 784)``
(28 x 28 images flattened row by row), labels as int64 arrays of shape
``(N,)``.

>>> from xpnet.datasets import load_dataset, scale
>>> data = load_dataset("mnist")                      # doctest: +SKIP
>>> x = scale(data.x_train)                           # doctest: +SKIP

Messages go to the ``"xpnet.datasets"`` logger; nothing is printed.
"""

from .dataset import Dataset
from .directory import read_idx_directory
from .download import ensure_downloaded, fetch_files
from .errors import DataError, DatasetUnavailable
from .idx import read_idx, write_idx
from .kaggle import read_kaggle_csv
from .load import load_dataset
from .npz import read_npz
from .preprocess import flatten, scale, standardize, train_val_split
from .sources import FASHION_MNIST, KNOWN_DATASETS, MNIST, FileSpec, KnownDataset

__all__ = [
    "load_dataset",
    "Dataset",
    "DataError",
    "DatasetUnavailable",
    "read_idx",
    "write_idx",
    "read_idx_directory",
    "read_kaggle_csv",
    "read_npz",
    "scale",
    "standardize",
    "flatten",
    "train_val_split",
    "KNOWN_DATASETS",
    "MNIST",
    "FASHION_MNIST",
    "KnownDataset",
    "FileSpec",
    "ensure_downloaded",
    "fetch_files",
]
