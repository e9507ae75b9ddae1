"""Callbacks that watch a value at the end of every epoch: stop when it no longer improves
([`EarlyStopping`][xpnet.model.stopping.EarlyStopping]), or lower the learning rate
([`ReduceLROnPlateau`][xpnet.model.stopping.ReduceLROnPlateau]).

Both count the epochs since the value last improved *by at least* ``tol`` on the best so far
(scikit-learn's rule for ``tol`` and ``n_iter_no_change``; Keras calls ``tol`` ``min_delta``),
while the best value itself, and the weights kept with it, follow every improvement. Their state
carries over from one [`fit`][xpnet.model.mlp.MLP.fit] to the next that uses the same instance,
so that partial fits keep counting; [`reset`][xpnet.model.stopping.Plateau.reset] starts afresh.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from ..errors import ConfigError
from .mlp import MLP, Callback

__all__ = ["Plateau", "EarlyStopping", "ReduceLROnPlateau"]

log = logging.getLogger("xpnet.stopping")

#: Logged values that are better when larger ("auto" mode); all others are better when smaller.
_LARGER_IS_BETTER = ("accuracy", "r2", "score")


class Plateau(Callback):
    """The shared part: which value is watched, and how many epochs it has not improved.

    Parameters
    ----------
    monitor : str or callable
        A key of the epoch's logs (``"loss"``, ``"val_loss"``, ``"val_accuracy"``, ...), or a
        function ``monitor(model, logs) -> float`` (a score computed by the caller).
    mode : {"auto", "min", "max"}
        Whether smaller or larger is better; ``"auto"``: larger for accuracies and scores
        (names containing ``accuracy``, ``r2`` or ``score``), smaller otherwise.
    tol : float
        An epoch improves when its value beats the best so far by at least ``tol``.
    patience : int or float
        Epochs without such an improvement before acting (``math.inf``: never).

    Attributes
    ----------
    best : float
        The best value seen (±inf before the first epoch).
    best_epoch : int or None
        The epoch (1-based) it was seen in.
    wait : int
        Epochs since the last improvement by ``tol``.
    """

    def __init__(
        self, monitor: str | Callable = "val_loss", mode: str = "auto", tol: float = 0.0, patience: float = 10
    ):
        if mode not in ("auto", "min", "max"):
            raise ConfigError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if not (tol >= 0) or not (patience >= 1):
            raise ConfigError(f"tol must be >= 0 and patience >= 1, got tol={tol}, patience={patience}")
        self.monitor = monitor
        self.name = monitor if isinstance(monitor, str) else getattr(monitor, "__name__", "score")
        if mode == "auto":
            mode = "max" if any(k in self.name for k in _LARGER_IS_BETTER) else "min"
        self.mode = mode
        self.tol = float(tol)
        self.patience = patience
        self.reset()

    def reset(self) -> None:
        """Forget the best value and the count."""
        self.best = -math.inf if self.mode == "max" else math.inf
        self.best_epoch: int | None = None
        self.wait = 0

    def value(self, model: MLP, logs: dict) -> float:
        """The watched value of this epoch."""
        if callable(self.monitor):
            return float(self.monitor(model, logs))
        value = logs.get(self.monitor)
        if value is None:
            known = ", ".join(k for k, v in logs.items() if v is not None)
            raise ConfigError(
                f"{type(self).__name__} watches {self.monitor!r}, which this run does not log "
                f"(pass validation_data for val_* values); logged: {known}"
            )
        return float(value)

    def update(self, model: MLP, logs: dict) -> bool:
        """Count this epoch; True when it is better than the best so far (by any amount)."""
        v = self.value(model, logs)
        sign = 1.0 if self.mode == "max" else -1.0
        self.wait = 0 if sign * (v - self.best) >= self.tol else self.wait + 1
        if sign * (v - self.best) > 0:
            self.best, self.best_epoch = v, int(logs.get("epoch", model.epoch))
            return True
        return False

    def message(self) -> str:
        """What happened, as a sentence (logged, and kept as the stop's reason)."""
        return f"{self.name} did not improve by at least tol={self.tol:g} for {self.patience} epochs."


class EarlyStopping(Plateau):
    """Stop training when the watched value has not improved by ``tol`` for ``patience``
    epochs; optionally end with the weights of the best epoch.

    Parameters
    ----------
    monitor, mode, tol, patience
        As in [`Plateau`][xpnet.model.stopping.Plateau].
    restore_best_weights : bool
        At the end of training, set the weights of the epoch with the best value (the model
        then is as it was after that epoch; the optimizer's state stays the last one's). With
        the instance's state carried over, a later fit that never beats that value ends with
        those weights again.

    Notes
    -----
    The stop sets ``model.stop_training`` and ``model.stop_reason``;
    [`History.stop_reason`][xpnet.model.mlp.History] keeps the sentence, and
    ``History.interrupted`` stays False. scikit-learn's ``n_iter_no_change=k`` is
    ``patience=k + 1`` (it stops once more than ``k`` epochs did not improve).
    """

    def __init__(
        self,
        monitor: str | Callable = "val_loss",
        mode: str = "auto",
        tol: float = 0.0,
        patience: float = 10,
        restore_best_weights: bool = False,
    ):
        self.restore_best_weights = bool(restore_best_weights)
        super().__init__(monitor, mode, tol, patience)

    def reset(self) -> None:
        super().reset()
        self.best_weights: dict | None = None

    def on_epoch_end(self, model, epoch, logs):
        if self.update(model, logs) and self.restore_best_weights:
            self.best_weights = _snapshot(model)
        if self.wait >= self.patience:
            model.stop_training = True
            model.stop_reason = f"{self.message()} Stopping."
            log.info("%s", model.stop_reason)

    def on_train_end(self, model, history):
        if self.restore_best_weights and self.best_weights is not None:
            kept = self.best_weights
            model.set_params({k: v for k, v in kept.items() if not k.startswith(_AVERAGED)})
            if model.averaging is not None and any(k.startswith(_AVERAGED) for k in kept):  # what was scored
                xp = model.backend.xp
                model.averaged_params = {k: xp.asarray(kept[_AVERAGED + k], copy=True) for k in model.params}
            # set_params may use NumPy arrays as they are, and training goes on in place: keep
            # a copy of its own, so that the best weights stay those for a later fit
            self.best_weights = _snapshot(model)


_AVERAGED = "avg."  # best_weights' prefix of the averaged weights ("avg.W1", ...), with weight averaging


def _snapshot(model) -> dict:
    """Copies of the model's weights (and of its averaged weights, as ``"avg.W1"``, ...)."""
    xp = model.backend.xp
    out = {k: xp.asarray(v, copy=True) for k, v in model.params.items()}
    if getattr(model, "averaged_params", None) is not None:
        out.update({_AVERAGED + k: xp.asarray(v, copy=True) for k, v in model.averaged_params.items()})
    return out


class ReduceLROnPlateau(Plateau):
    """Multiply the optimizer's learning rate by ``factor`` when the watched value has not
    improved by ``tol`` for ``patience`` epochs, then count afresh.

    Parameters
    ----------
    monitor, mode, tol, patience
        As in [`Plateau`][xpnet.model.stopping.Plateau].
    factor : float
        In (0, 1): the new rate is ``factor`` × the old.
    stop_at_lr : float or None
        When a plateau comes while the rate is already at or below this, stop training
        instead (scikit-learn's ``learning_rate="adaptive"``: ``factor=0.2``,
        ``stop_at_lr=1e-6``). ``None``: never stop.

    Notes
    -----
    The rate changed is the optimizer's base rate ``lr``; a schedule keeps scaling it.
    """

    def __init__(
        self,
        monitor: str | Callable = "val_loss",
        mode: str = "auto",
        tol: float = 0.0,
        patience: float = 10,
        factor: float = 0.1,
        stop_at_lr: float | None = None,
    ):
        if not 0.0 < factor < 1.0:
            raise ConfigError(f"factor must be in (0, 1), got {factor}")
        self.factor = float(factor)
        self.stop_at_lr = None if stop_at_lr is None else float(stop_at_lr)
        super().__init__(monitor, mode, tol, patience)

    def on_epoch_end(self, model, epoch, logs):
        self.update(model, logs)
        if self.wait < self.patience:
            return
        opt = model.optimizer
        if self.stop_at_lr is not None and opt.lr <= self.stop_at_lr:
            model.stop_training = True
            model.stop_reason = f"{self.message()} Learning rate too small. Stopping."
            log.info("%s", model.stop_reason)
            return
        opt.lr /= 1.0 / self.factor  # a division: 0.2 divides by exactly 5, as scikit-learn does
        self.wait = 0
        log.info("%s Setting learning rate to %f", self.message(), opt.lr)


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
