"""Training runs as library calls: the layer between the model and the applications.

A run trains an [`MLP`][xpnet.model.mlp.MLP] on a dataset, in a directory, and returns a value; the
command line (``xpnet train``, ``xpnet evaluate``) only presents it. The package's modules,
each with one job:

``run``
:   [`Run`][xpnet.runs.Run], [`run_training`][xpnet.runs.run_training]: the run itself, its state
    machine (see [`xpnet.runs.run`][xpnet.runs.run]).
``epochs``
:   [`train_epochs`][xpnet.runs.train_epochs]: the epoch loop, one `MLP.fit` call with the run's settings.
``data``
:   [`load_data`][xpnet.runs.load_data]: a known dataset by name, or local data at a path.
``evaluation``
:   [`evaluate_model`][xpnet.runs.evaluate_model] and the run's plots: what a run reports about its model.
``result``
:   [`RunResult`][xpnet.runs.RunResult]: what a run returns.
``config``
:   What defines a run: the presets and [`TrainConfig`][xpnet.runs.config.TrainConfig].
``splits``
:   Train / validation / test splits, the same for training and evaluation.
``callbacks``
:   Periodic checkpoints and a clean stop on Ctrl-C.
``logs``
:   Per-epoch logs other programs read while training goes: ``epochs.csv``
    ([`CSVLogger`][xpnet.model.logs.CSVLogger]) and TensorBoard events
    ([`TensorBoardLogger`][xpnet.model.logs.TensorBoardLogger]); also ``xpnet.CSVLogger``, ...
``rundir``
:   Run directories: file names, finding a checkpoint, the run's status.
``metrics``
:   Confusion matrix, per-class precision and recall.
``plots``
:   Training curves, confusion matrix, misclassified images, first-layer weights.

The names below are importable from ``xpnet.runs`` itself.
"""

from .data import load_data
from .epochs import train_epochs
from .evaluation import evaluate_model
from .result import RunResult
from .run import Run, run_training
from .rundir import CHECKPOINT_NAME, METRICS_NAME, PLOT_NAMES, check_trained, find_checkpoint

__all__ = [
    "Run",
    "RunResult",
    "run_training",
    "evaluate_model",
    "train_epochs",
    "load_data",
    "check_trained",
    "find_checkpoint",
    "CHECKPOINT_NAME",
    "METRICS_NAME",
    "PLOT_NAMES",
]
