"""The callbacks a training run uses: periodic checkpoints and a clean stop on Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..model.checkpoint import CheckpointError, save
from ..model.mlp import MLP, Callback

__all__ = ["CheckpointEveryEpoch", "StopWhen", "stop_on_sigint", "sigint_stops"]

log = logging.getLogger("xpnet.runs")


class CheckpointEveryEpoch(Callback):
    """Save a checkpoint at the start of training and at the end of an epoch once at least
    ``min_interval`` seconds have passed since the last save (0: after every epoch).

    A diverged epoch raises [`TrainingDiverged`][xpnet.model.mlp.TrainingDiverged] before ``on_epoch_end``, so the
    file on disk always holds the last good weights. (Interrupts and the end of training are
    saved by the caller.)
    """

    def __init__(self, path: Path, save_kwargs: Callable[[], dict], min_interval: float = 0.0):
        self.path = Path(path)
        self.save_kwargs = save_kwargs
        self.min_interval = float(min_interval)
        self.saved_at: tuple[int, int] | None = None
        self._last = time.monotonic()

    def save(self, model: MLP) -> Path | None:
        """Save now; ``None`` (and a logged warning) when the weights are not finite."""
        try:
            save(model, self.path, **self.save_kwargs())
        except CheckpointError as exc:  # non-finite weights: keep the last good file
            log.warning("%s", exc)
            return None
        self.saved_at = (model.epoch, model.batch)
        self._last = time.monotonic()
        return self.path

    def on_train_begin(self, model, epochs, n_batches):
        if not self.path.exists():
            self.save(model)

    def on_epoch_end(self, model, epoch, logs):
        if time.monotonic() - self._last >= self.min_interval:
            self.save(model)


class StopWhen(Callback):
    """Stops ``fit`` at its start when ``flag()`` is already true (a Ctrl-C between two fits)."""

    def __init__(self, flag: Callable[[], bool]):
        self.flag = flag

    def on_train_begin(self, model, epochs, n_batches):
        if self.flag():
            model.stop_training = True


@contextmanager
def stop_on_sigint(model: MLP, on_first: Callable[[], None] | None = None) -> Iterator[dict]:
    """While active, the first Ctrl-C (SIGINT) sets ``model.stop_training`` so that ``fit``
    finishes its current step and returns; a second Ctrl-C raises ``KeyboardInterrupt`` at once.

    Yields a dict whose ``"interrupted"`` entry becomes True after a Ctrl-C. Outside the main
    thread (where Python cannot install signal handlers) this does nothing.
    """
    state = {"interrupted": False}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum, frame):
        if state["interrupted"]:
            raise KeyboardInterrupt
        state["interrupted"] = True
        model.stop_training = True
        if on_first is not None:
            on_first()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def sigint_stops(model: MLP, active: bool, on_first=None) -> Iterator[dict]:
    """[`stop_on_sigint`][xpnet.runs.callbacks.stop_on_sigint] when ``active``, else a state that never reports an interrupt."""
    if not active:
        yield {"interrupted": False}
        return
    with stop_on_sigint(model, on_first) as state:
        yield state
