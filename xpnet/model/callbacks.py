"""What [`MLP.fit`][xpnet.model.mlp.MLP.fit] records ([`History`][xpnet.model.callbacks.History])
and calls ([`Callback`][xpnet.model.callbacks.Callback])."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

__all__ = ["History", "Callback"]

if TYPE_CHECKING:  # annotations only: the model imports this module
    from .mlp import MLP


@dataclass
class History:
    """Per-epoch training record. Every list has one entry per finished epoch.

    ``val_loss``/``val_accuracy`` hold ``None`` when no validation data was given.
    ``interrupted`` is True when the last [`MLP.fit`][xpnet.model.mlp.MLP.fit] was stopped
    (``stop_training``, a Ctrl-C) before its last epoch; ``stop_reason`` says why a callback
    such as [`EarlyStopping`][xpnet.model.stopping.EarlyStopping] ended it (then ``interrupted``
    is False).
    """

    epoch: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    epoch_time: list = field(default_factory=list)
    interrupted: bool = False
    stop_reason: str | None = None

    def append(self, logs: dict) -> None:
        for key in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch_time"):
            getattr(self, key).append(logs.get(key))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> History:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def __len__(self) -> int:
        return len(self.epoch)


class Callback:
    """Hooks called by [`MLP.fit`][xpnet.model.mlp.MLP.fit]; override the ones you need. They must not block long.

    ``on_batch_end`` runs after every step *without* reading anything from the device, so a
    progress bar costs no synchronisation. Set ``model.stop_training = True`` from any hook to
    stop after the current step (a stop that is not an interruption, such as early stopping's,
    also sets ``model.stop_reason`` to a sentence saying why).
    """

    def on_train_begin(self, model: MLP, epochs: int, n_batches: int) -> None: ...

    def on_epoch_begin(self, model: MLP, epoch: int) -> None: ...

    def on_batch_end(self, model: MLP, epoch: int, batch: int, n_batches: int) -> None: ...

    def on_epoch_end(self, model: MLP, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, model: MLP, history: History) -> None: ...
