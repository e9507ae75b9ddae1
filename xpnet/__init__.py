"""xpnet: a neural network written from scratch, once, against the Python Array API standard.

The same forward pass, backward pass and update run on NumPy (CPU), CuPy (CUDA GPU) and any
other standard-conforming array library (array-api-strict, PyTorch, JAX).

>>> import xpnet
>>> model = xpnet.MLP([784, 128, 10], backend="cpu", seed=0)
>>> model.params["W1"].shape
(128, 784)

Where the math is: the folder ``xpnet/nn/`` ([`xpnet.nn`][xpnet.nn]): the forward and backward
pass in [`network`][xpnet.nn.network], one training step in [`step`][xpnet.nn.step], the updates
in [`optim`][xpnet.nn.optim]. ``xpnet.network``, ``xpnet.optim``, ``xpnet.losses`` and
``xpnet.activations`` are their public paths.
"""

import logging

from . import activations, losses, network, optim, stopping
from ._lib import moved
from .backend import Backend, BackendInfo, BackendUnavailable, available_backends, get_backend, to_numpy
from .backend.environment import xpnet_version
from .errors import XpnetError
from .model import MLP, Callback, History, TrainingDiverged
from .model.checkpoint import CheckpointError, load, load_checkpoint, save
from .model.gradcheck import GradcheckReport, gradcheck
from .model.logs import CSVLogger, TensorBoardLogger
from .model.preprocessing import Preprocessing
from .model.stopping import EarlyStopping, ReduceLROnPlateau
from .nn.averaging import EMA, SWA

__version__ = xpnet_version()  # from the package metadata (pyproject.toml)


def export(obj, path, *, input_dtype=None):
    """Write a model to ``path`` as ONNX (``.onnx``) or safetensors (``.safetensors``).

    ``obj`` is an [`MLP`][xpnet.model.MLP], a checkpoint path, or a fitted ``xpnet.sklearn``
    estimator; see [`xpnet.interop.export`][xpnet.interop.export], which this calls, and
    docs/export.md. Needs ``pip install "xpnet[export]"``; ``import xpnet`` imports neither
    onnx nor safetensors.

    >>> xpnet.export(xpnet.load("runs/mnist/model.npz"), "mnist.onnx", input_dtype="uint8")  # doctest: +SKIP
    """
    from .interop import export as _export

    return _export(obj, path, input_dtype=input_dtype)


__all__ = [
    "MLP",
    "Backend",
    "BackendInfo",
    "BackendUnavailable",
    "Callback",
    "EarlyStopping",
    "EMA",
    "SWA",
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
    "stopping",
    "to_numpy",
    "__version__",
    "save",
    "load",
    "load_checkpoint",
    "CheckpointError",
    "Preprocessing",
    "XpnetError",
    "export",
    "CSVLogger",
    "TensorBoardLogger",
]

moved.install()  # the module paths of earlier versions (xpnet.checkpoint, xpnet.training, ...)
logging.getLogger("xpnet").addHandler(logging.NullHandler())
