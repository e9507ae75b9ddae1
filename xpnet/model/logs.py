"""Per-epoch logs that other programs read while training runs: a CSV file and TensorBoard events.

Two [`Callback`][xpnet.model.mlp.Callback] classes, for [`MLP.fit`][xpnet.model.mlp.MLP.fit] and for ``xpnet train``
(which writes ``epochs.csv`` into every run directory, and ``tensorboard/`` with ``--tensorboard``):

[`CSVLogger`][xpnet.model.logs.CSVLogger]
:   One row per epoch, appended (and flushed) as the epoch ends: a run that is killed keeps the
    rows of the epochs it finished, and ``pandas.read_csv``, a spreadsheet or ``tail -f`` read the
    file while the run goes. The columns are the keys of the epoch's ``logs``, in their order:
    ``epoch, loss, accuracy, val_loss, val_accuracy, lr, epoch_time`` for a classifier (``val_r2``
    for a regressor, ``penalty`` with an L2 penalty); an empty cell is a value the epoch does not
    have (no validation data).
[`TensorBoardLogger`][xpnet.model.logs.TensorBoardLogger]
:   The same numbers as TensorBoard scalars (step: the epoch), written by
    [tensorboardX](https://github.com/lanpa/tensorboardX) (``pip install 'xpnet[tensorboard]'``,
    a 90 kB wheel needing only NumPy and protobuf; neither TensorFlow nor PyTorch). It is imported
    when the logger is made, never by ``import xpnet``.

Continuing a run: both keep what was logged up to the model's epoch when training (re)starts
and drop what was logged after it. A run killed after its checkpoint was saved at epoch 3 but
after it logged epoch 5 trains epochs 4 and 5 again when resumed; their new rows replace the
old ones, so the file holds every epoch once, the epochs of the model that exists.

>>> import xpnet
>>> model = xpnet.MLP([784, 64, 10], seed=0)
>>> model.fit(X, y, epochs=5, validation_data=(Xv, yv),
...           callbacks=[xpnet.CSVLogger("epochs.csv")])          # doctest: +SKIP
>>> import pandas as pd; pd.read_csv("epochs.csv")                  # doctest: +SKIP
   epoch      loss  accuracy  val_loss  val_accuracy     lr  epoch_time
0      1  0.312...
"""

from __future__ import annotations

import csv
import importlib.util
import io
import logging
import math
import numbers
import os
import time
from pathlib import Path
from typing import Any

from .._lib.fileio import atomic_write
from ..errors import ConfigError
from .callbacks import Callback

__all__ = ["CSVLogger", "TensorBoardLogger", "EPOCHS_CSV_NAME", "TENSORBOARD_DIR_NAME", "TENSORBOARD_EXTRA_HINT"]

log = logging.getLogger("xpnet.runs")

#: The names ``xpnet train`` gives them inside a run directory.
EPOCHS_CSV_NAME = "epochs.csv"
TENSORBOARD_DIR_NAME = "tensorboard"
TENSORBOARD_EXTRA_HINT = (
    "TensorBoard logs are written with tensorboardX, which is not installed: pip install 'xpnet[tensorboard]'"
)


def _cell(value) -> str:
    """A CSV cell: empty for a missing value (``None``, NaN), else ``repr``-exact numbers."""
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return "" if math.isnan(value) else repr(value)
    return str(value)


class CSVLogger(Callback):
    """Append one CSV row per finished epoch to ``path``.

    Parameters
    ----------
    path : path
        The CSV file (its folder is made if missing).
    append : bool
        Keep the rows already in ``path`` up to the model's epoch when training starts (the
        rows after it are dropped: they belong to epochs the model is about to train again).
        False (default): the first ``fit`` this logger sees starts a new file; later ``fit``
        calls with the same logger continue it.
    fsync : bool
        Also ``os.fsync`` each row, so that it survives a power cut, not only a killed process
        (every row is flushed to the operating system either way).

    Notes
    -----
    The header is written with the first row and names the keys of that epoch's ``logs``; a
    file continued keeps its own header (keys it does not name are not written). Rows are
    appended in place (the point of the file); dropping rows rewrites the file atomically.
    """

    def __init__(self, path: str | os.PathLike, append: bool = False, fsync: bool = False):
        self.path = Path(path)
        self.append = bool(append)
        self.fsync = bool(fsync)
        self.columns: list[str] | None = None
        self._started = False

    def _read(self) -> tuple[list[str] | None, list[dict]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, []
        reader = csv.DictReader(io.StringIO(text))
        return (list(reader.fieldnames) if reader.fieldnames else None), list(reader)

    def _write_all(self, columns: list[str] | None, rows: list[dict]) -> None:
        with atomic_write(self.path, "w", encoding="utf-8") as stream:
            if columns:
                writer = csv.DictWriter(stream, columns, lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)

    def on_train_begin(self, model, epochs, n_batches):
        if not self.append and not self._started:
            self.columns = None
            self._write_all(None, [])
        else:
            columns, rows = self._read()
            kept = [r for r in rows if _epoch_of(r) is not None and _epoch_of(r) <= model.epoch]
            if len(kept) != len(rows):
                log.info("%s: dropping %d rows after epoch %d", self.path, len(rows) - len(kept), model.epoch)
                self._write_all(columns, kept)
            self.columns = columns
        self._started = True

    def on_epoch_end(self, model, epoch, logs):
        new = self.columns is None
        columns = self.columns = list(logs) if self.columns is None else self.columns
        if not new and set(logs) - set(columns):
            log.debug("%s: not logging %s (not in the file's header)", self.path, sorted(set(logs) - set(columns)))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            if new:
                writer.writerow(columns)
            writer.writerow([_cell(logs.get(c)) for c in columns])
            stream.flush()
            if self.fsync:
                os.fsync(stream.fileno())


def _epoch_of(row: dict) -> int | None:
    try:
        return int(float(row.get("epoch") or ""))
    except ValueError:
        return None


class TensorBoardLogger(Callback):
    """Write every number of an epoch's ``logs`` as a TensorBoard scalar (step: the epoch, from 1).

    Parameters
    ----------
    log_dir : path
        The folder TensorBoard is pointed at (``tensorboard --logdir LOG_DIR``); each
        ``fit`` writes one event file into it.

    Raises
    ------
    ConfigError
        tensorboardX is not installed (``pip install 'xpnet[tensorboard]'``).

    Notes
    -----
    A continued model (``model.epoch > 0`` when training starts) opens its event file with
    ``purge_step = model.epoch + 1``: TensorBoard hides the steps an earlier, killed run logged
    past the checkpoint it continues from. Events are flushed at the end of every epoch and the
    file is closed when training ends.
    """

    def __init__(self, log_dir: str | os.PathLike):
        if importlib.util.find_spec("tensorboardX") is None:
            raise ConfigError(TENSORBOARD_EXTRA_HINT)
        self.log_dir = Path(log_dir)
        self._writer: Any = None  # a tensorboardX SummaryWriter once training begins

    def on_train_begin(self, model, epochs, n_batches):
        from tensorboardX import SummaryWriter

        self.close()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        purge = model.epoch + 1 if model.epoch else None
        # tensorboardX names the file by the second it was made in and the host; a session started
        # in the same second (a quick resume) would replace the last one's file. The suffix, the
        # time in nanoseconds, keeps it, and keeps the files sorted by name in the order they were
        # made, the order TensorBoard reads them in (out of order, it drops the earlier steps).
        suffix = f".{time.time_ns():020d}"
        self._writer = SummaryWriter(logdir=str(self.log_dir), purge_step=purge, filename_suffix=suffix)

    def on_epoch_end(self, model, epoch, logs):
        if self._writer is None:
            self.on_train_begin(model, 0, 0)
        writer = self._writer
        assert writer is not None  # made by on_train_begin
        step = int(logs.get("epoch", epoch + 1))
        for key, value in logs.items():
            if key == "epoch" or isinstance(value, bool) or not isinstance(value, numbers.Real):
                continue
            if math.isfinite(value):
                writer.add_scalar(key, float(value), global_step=step)
        writer.flush()

    def on_train_end(self, model, history):
        self.close()

    def close(self) -> None:
        """Flush and close the event file (``on_train_end`` does; safe to call twice)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
