"""scikit-learn's training parameters mapped onto xpnet's: the optimizer and its schedule, the
stopping callbacks, and ``verbose``. The epochs themselves are
[`xpnet.MLP.fit_epochs`][xpnet.model.mlp.MLP.fit_epochs]'s."""

from __future__ import annotations

import logging
import math
import sys
import warnings

import numpy as np

from ..model.stopping import EarlyStopping, Plateau, ReduceLROnPlateau
from ..nn.optim import SGD, Adam, InvScaling, Optimizer

__all__ = ["new_optimizer", "batch_size", "stopping_callbacks", "BestWeights", "VerboseLog"]

log = logging.getLogger("xpnet.sklearn")


def new_optimizer(est, lr: float) -> Optimizer:
    """``est``'s ``solver`` at learning rate ``lr``, in scikit-learn's forms of the updates:
    Adam with ε added to ``√v`` (``eps_on="v"``), SGD with the rate inside the velocity
    (``lr_in_velocity``), and ``learning_rate="invscaling"`` as an
    [`InvScaling`][xpnet.nn.optim.InvScaling] schedule (its samples per epoch are set by
    [`set_samples_per_epoch`][xpnet.sklearn._epochs.set_samples_per_epoch])."""
    if est.solver == "adam":
        return Adam(lr=lr, beta1=est.beta_1, beta2=est.beta_2, eps=est.epsilon, eps_on="v")
    schedule = InvScaling(est.power_t) if est.learning_rate == "invscaling" else None
    return SGD(
        lr=lr,
        momentum=est.momentum,
        nesterov=bool(est.nesterovs_momentum and est.momentum > 0),
        schedule=schedule,
        lr_in_velocity=True,
    )


def set_samples_per_epoch(opt: Optimizer, est, epoch: int, n: int) -> None:
    """Make an [`InvScaling`][xpnet.nn.optim.InvScaling] rate ``lr / (t_ + 1)^power_t`` with
    ``t_`` the samples seen before each epoch (exact for epochs of equal size, and for the
    first epoch of each call whatever the sizes before)."""
    if isinstance(opt.schedule, InvScaling):
        opt.schedule.samples_per_epoch = est.t_ / epoch if epoch else float(n)


def batch_size(est, n: int) -> int:
    """``batch_size`` resolved as scikit-learn does: ``"auto"`` is ``min(200, n)``; larger
    than n is clipped, with its warning."""
    if est.batch_size == "auto":
        return min(200, n)
    if est.batch_size > n:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped", stacklevel=2
        )
    return int(np.clip(est.batch_size, 1, n))


def stopping_callbacks(est, monitor, incremental: bool = False) -> tuple[Plateau, BestWeights | None]:
    """The callbacks of ``tol``/``n_iter_no_change`` on ``monitor`` (the validation score with
    ``early_stopping``, else the reported training loss), carrying on from ``est``'s count and
    best value: [`ReduceLROnPlateau`][xpnet.model.stopping.ReduceLROnPlateau] for
    ``learning_rate="adaptive"`` (divide by 5, stop below 1e-6), else
    [`EarlyStopping`][xpnet.model.stopping.EarlyStopping]. scikit-learn stops once *more than*
    ``n_iter_no_change`` epochs did not improve: patience ``n_iter_no_change + 1``.

    Second, with ``early_stopping`` (or ``restore_best_weights`` in ``fit``), a
    [`BestWeights`][xpnet.sklearn._epochs.BestWeights] that keeps the weights of the best
    value, starting from ``est``'s kept ones; it restores them at the end of ``fit``, not of
    a ``partial_fit`` (the estimator restores them there when the patience runs out).

    Returns ``(stopper, keeper)``, ``keeper`` None when there is none."""
    mode = "max" if est.early_stopping else "min"
    patience = est.n_iter_no_change + 1 if math.isfinite(est.n_iter_no_change) else math.inf
    stopper: Plateau
    if est.solver == "sgd" and est.learning_rate == "adaptive":
        stopper = ReduceLROnPlateau(monitor, mode, est.tol, patience, factor=0.2, stop_at_lr=1e-6)
    else:
        stopper = EarlyStopping(monitor, mode, est.tol, patience)
    stopper.best = est.best_validation_score_ if est.early_stopping else est.best_loss_
    stopper.wait = est._no_improvement_count
    keeper = None
    if est.early_stopping or (est.restore_best_weights and not incremental):
        keeper = BestWeights(monitor, mode, at_end=not incremental)
        keeper.best, keeper.best_weights = stopper.best, est._best_params
    return stopper, keeper


class BestWeights(EarlyStopping):
    """An [`EarlyStopping`][xpnet.model.stopping.EarlyStopping] that never stops: it copies the
    weights after every epoch better than all before (by any amount), and sets them at the end
    of training when ``at_end`` (else when [`restore`][xpnet.sklearn._epochs.BestWeights.restore]
    is called)."""

    def __init__(self, monitor, mode: str, at_end: bool):
        super().__init__(monitor, mode, tol=math.inf, patience=math.inf, restore_best_weights=True)
        self.at_end = at_end

    def on_train_end(self, model, history):
        if self.at_end:
            self.restore(model)

    def restore(self, model) -> None:
        """Set the kept weights (if any), keeping a copy of them."""
        EarlyStopping.on_train_end(self, model, model.history)


class VerboseLog:
    """While ``verbose`` is set, show the INFO records of xpnet.sklearn and of the stopping
    callbacks on stdout (as scikit-learn prints them) unless the application configured
    logging itself."""

    NAMES = ("xpnet.sklearn", "xpnet.stopping")

    def __init__(self, verbose):
        self.handler = None
        if verbose and not logging.getLogger().handlers and log.getEffectiveLevel() > logging.INFO:
            self.handler = logging.StreamHandler(sys.stdout)
            self.levels = {name: logging.getLogger(name).level for name in self.NAMES}

    def __enter__(self):
        if self.handler is not None:
            for name in self.NAMES:
                logging.getLogger(name).addHandler(self.handler)
                logging.getLogger(name).setLevel(logging.INFO)
        return self

    def __exit__(self, *exc):
        if self.handler is not None:
            for name, level in self.levels.items():
                logging.getLogger(name).removeHandler(self.handler)
                logging.getLogger(name).setLevel(level)


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
