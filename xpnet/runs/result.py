"""What a training run returns: [`RunResult`][xpnet.runs.RunResult], and the floating-point warnings it carries.

[`Run.train`][xpnet.runs.Run.train] fills a [`RunResult`][xpnet.runs.RunResult] with the run's status,
its ``metrics.json`` content, the files it wrote and, by status, the test results, where an
interrupted run was saved or a learning rate to retry a diverged one with; the command line
only presents it. [`runtime_warnings`][xpnet.runs.result.runtime_warnings] sorts the warnings caught
while training into the NumPy ``RuntimeWarning`` messages the result records and the rest.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..model.mlp import MLP, TrainingDiverged
from .config import TrainConfig
from .rundir import CHECKPOINT_NAME

__all__ = ["RunResult", "runtime_warnings"]


@dataclass
class RunResult:
    """What a training run did.

    Attributes
    ----------
    status : str
        ``completed``, ``interrupted`` or ``diverged``.
    run_dir : pathlib.Path
        The run directory.
    metrics : dict
        The content of ``metrics.json``.
    files : list of str
        Names of the files written into ``run_dir`` (empty when nothing changed).
    model : xpnet.MLP
        The model as training left it (for ``diverged``: with its non-finite weights).
    test : dict or None
        [`evaluate_model`][xpnet.runs.evaluate_model] on the test split (``completed`` only).
    already_finished : bool
        The run was complete before: nothing was trained or written.
    error : xpnet.TrainingDiverged or None
        Why training diverged.
    warnings : list of str
        Floating-point warnings (NumPy ``RuntimeWarning``) raised while training, once each.
    saved : str or None
        ``interrupted``: where the checkpoint was saved, or why it was not.
    kept_epoch : int or None
        ``diverged``: the epoch of the last good weights kept in the checkpoint.
    suggested_lr : float or None
        ``diverged``: a learning rate to retry with; ``suggestion`` says why that one.
    train_seconds : float
        Training time of this call; ``metrics["train_seconds"]`` sums every part of the run.
    config : TrainConfig
        The run's settings (``config.command(...)`` writes them as an ``xpnet train`` command).
    """

    status: str
    run_dir: Path
    metrics: dict
    files: list
    model: MLP
    test: dict | None = None
    already_finished: bool = False
    error: TrainingDiverged | None = None
    warnings: list = field(default_factory=list)
    saved: str | None = None
    kept_epoch: int | None = None
    suggested_lr: float | None = None
    suggestion: str = ""
    train_seconds: float = 0.0
    config: TrainConfig | None = None

    @property
    def checkpoint(self) -> Path:
        """The run's checkpoint file."""
        return self.run_dir / CHECKPOINT_NAME


def runtime_warnings(caught) -> list[str]:
    """The RuntimeWarnings among ``caught``, once each; any other warning is shown again as usual."""
    seen: list[str] = []
    for w in caught:
        if issubclass(w.category, RuntimeWarning):
            text = str(w.message)
            if text not in seen:
                seen.append(text)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return seen
