"""Training runs as library calls: the layer between the model and the applications.

A run trains an [`MLP`][xpnet.model.MLP] on a dataset, in a directory, and returns a value; the
command line (``xpnet train``, ``xpnet evaluate``) only presents it. The package's modules,
each with one job:

``run``
:   [`Run`][xpnet.runs.Run], [`run_training`][xpnet.runs.run_training],
    [`evaluate_model`][xpnet.runs.evaluate_model]: the run itself (see [`xpnet.runs.run`][xpnet.runs.run]).
``config``
:   What defines a run: the presets and [`TrainConfig`][xpnet.runs.config.TrainConfig].
``splits``
:   Train / validation / test splits, the same for training and evaluation.
``callbacks``
:   Periodic checkpoints and a clean stop on Ctrl-C.
``rundir``
:   Run directories: file names, finding a checkpoint, the run's status.
``metrics``
:   Confusion matrix, per-class precision and recall.
``plots``
:   Training curves, confusion matrix, misclassified images, first-layer weights.

The names below are importable from ``xpnet.runs`` itself.
"""

from .run import Run, RunResult, evaluate_model, load_data, run_training, train_epochs
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
