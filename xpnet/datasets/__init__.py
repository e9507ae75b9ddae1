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

from .errors import DataError, DatasetUnavailable
from .idx import read_idx, write_idx
from .preprocess import flatten, scale, standardize, train_val_split

__all__ = ["DataError", "DatasetUnavailable", "read_idx", "write_idx", "scale", "standardize", "flatten", "train_val_split"]
