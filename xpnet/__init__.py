"""xpnet: a neural network written from scratch, once, against the Python Array API standard.

The same forward pass, backward pass and update run on NumPy (CPU), CuPy (CUDA GPU) and any
other standard-conforming array library (array-api-strict, PyTorch, JAX).

>>> import xpnet
>>> model = xpnet.MLP([784, 128, 10], backend="cpu", seed=0)
>>> model.params["W1"].shape
(128, 784)

Where the math is: [`xpnet.network`][xpnet.network] (forward, softmax cross-entropy, backward),
[`xpnet.activations`][xpnet.activations], [`xpnet.optim`][xpnet.optim] (updates), [`xpnet.init`][xpnet.init].
"""

import logging

from . import activations, losses, network, optim
from .backend import (
    Backend,
    BackendInfo,
    BackendUnavailable,
    available_backends,
    get_backend,
    to_numpy,
)
from .checkpoint import CheckpointError, load, load_checkpoint, save
from .environment import xpnet_version
from .errors import XpnetError
from .gradcheck import GradcheckReport, gradcheck
from .input_transform import Preprocessing
from .model import MLP, Callback, History, TrainingDiverged
from .stopping import EarlyStopping, ReduceLROnPlateau

__version__ = xpnet_version()  # from the package metadata (pyproject.toml)

__all__ = [
    "MLP",
    "Backend",
    "BackendInfo",
    "BackendUnavailable",
    "Callback",
    "EarlyStopping",
    "ReduceLROnPlateau",
    "GradcheckReport",
    "History",
    "TrainingDiverged",
    "activations",
    "losses",
    "available_backends",
    "get_backend",
    "gradcheck",
    "network",
    "optim",
    "to_numpy",
    "__version__",
    "save",
    "load",
    "load_checkpoint",
    "CheckpointError",
    "Preprocessing",
    "XpnetError",
    "CSVLogger",
    "TensorBoardLogger",
]

#: Defined in xpnet.runs.logs and imported on first use, so that ``import xpnet`` stays light
#: (the runs layer imports the dataset downloader; TensorBoard's writer is imported later still).
_LAZY = {"CSVLogger": "xpnet.runs.logs", "TensorBoardLogger": "xpnet.runs.logs"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'xpnet' has no attribute {name!r}")


logging.getLogger("xpnet").addHandler(logging.NullHandler())
