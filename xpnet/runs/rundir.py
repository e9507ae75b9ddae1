"""Run directories: their file names, where new ones go, finding a checkpoint, its status.

A run directory holds ``model.npz`` (the checkpoint), ``metrics.json`` and the plots; see
[`xpnet.runs`][xpnet.runs]. The run's status (``running``, ``interrupted``, ``diverged``,
``completed``) is recorded in the checkpoint's ``training`` record, so that a checkpoint
carried away from its directory still says whether its weights are trained.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from ..errors import RunError, UntrainedModel
from ..model.checkpoint import Checkpoint

__all__ = [
    "CHECKPOINT_NAME",
    "METRICS_NAME",
    "PLOT_NAMES",
    "default_run_dir",
    "latest_run_dir",
    "find_checkpoint",
    "check_trained",
    "retrain_command",
    "read_metrics",
]

#: File names inside a run directory.
CHECKPOINT_NAME = "model.npz"
METRICS_NAME = "metrics.json"
PLOT_NAMES = ("curves.png", "confusion_matrix.png", "misclassified.png", "first_layer_weights.png")


def default_run_dir(data_name: str, root: str | os.PathLike = "runs") -> Path:
    """``runs/<data>-<YYYYmmdd-HHMMSS>`` (with a suffix if that exists already)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in data_name) or "run"
    base = Path(root) / f"{safe}-{stamp}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


def _run_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(
        (p for p in root.iterdir() if (p / CHECKPOINT_NAME).is_file()),
        key=lambda p: (p / CHECKPOINT_NAME).stat().st_mtime,
    )


def latest_run_dir(root: str | os.PathLike = "runs") -> Path | None:
    """The most recently modified run directory under ``root`` that holds a checkpoint."""
    runs = _run_dirs(Path(root))
    return runs[-1] if runs else None


def find_checkpoint(path: str | os.PathLike) -> Path:
    """The checkpoint meant by ``path``: a checkpoint file, or a run directory holding one.

    Raises
    ------
    RunError
        ``path`` is a directory without a checkpoint; the message lists the run directories
        inside it, if any (``runs/`` rather than ``runs/mnist-...``).
    """
    path = Path(path)
    if not path.is_dir():
        return path
    if (path / CHECKPOINT_NAME).is_file():
        return path / CHECKPOINT_NAME
    inside = _run_dirs(path)
    if inside:
        names = ", ".join(p.name for p in inside[-5:]) + (f" and {len(inside) - 5} more" if len(inside) > 5 else "")
        raise RunError(
            f"{path} is not a run directory but holds {len(inside)} run folder"
            f"{'s' if len(inside) > 1 else ''} ({names}); pass one of them, e.g. {inside[-1]} "
            "(the newest)"
        )
    raise RunError(
        f"{path} is a directory without a checkpoint ({CHECKPOINT_NAME}); pass a run directory or a checkpoint file"
    )


def check_trained(checkpoint: Checkpoint) -> str | None:
    """Whether a checkpoint's weights are fit to predict with, as ``xpnet train`` recorded it.

    Returns
    -------
    str or None
        ``None`` for a completed run (or a checkpoint saved by [`xpnet.save`][xpnet.model.checkpoint.save]); a warning
        sentence for a run that was interrupted, or that diverged after some epochs (its
        checkpoint holds the last good weights).

    Raises
    ------
    UntrainedModel
        The run diverged before finishing one epoch: the checkpoint holds the initial,
        untrained weights. The message says how to train again.
    """
    training = checkpoint.training
    status = training.get("status")
    epoch, total = checkpoint.model.epoch, (training.get("config") or {}).get("epochs", "?")
    where = checkpoint.path.parent
    if status == "diverged":
        retry = retrain_command(checkpoint)
        if epoch == 0:
            raise UntrainedModel(
                f"{checkpoint.path} holds untrained weights: the run diverged in its first "
                f"epoch, so only the initial weights were kept; train again with '{retry}'"
            )
        return (
            f"the run diverged after {epoch} of {total} epochs; {checkpoint.path} holds the weights of "
            f"epoch {epoch} (train again with '{retry}')"
        )
    if status in ("interrupted", "running"):
        return (
            f"the run was stopped after {epoch} of {total} epochs; finish it with 'xpnet train --resume --out {where}'"
        )
    return None


def retrain_command(checkpoint: Checkpoint) -> str:
    """The ``xpnet train`` command that starts a diverged run over in place with a safer rate."""
    from .config import TrainConfig

    training = checkpoint.training
    config = TrainConfig.from_dict(training.get("config") or {})
    lr = (training.get("diverged") or {}).get("suggested_lr") or config.suggested_lr()[0]
    extra = ("--data-dir", str(training["data_dir"])) if training.get("data_dir") else ()
    return config.command(*extra, "--overwrite", "--out", str(checkpoint.path.parent), lr=lr)


def read_metrics(run_dir: str | os.PathLike) -> dict:
    """The run's ``metrics.json`` as a dict (empty when it is missing or unreadable)."""
    try:
        return json.loads((Path(run_dir) / METRICS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
