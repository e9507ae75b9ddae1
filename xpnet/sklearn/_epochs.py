"""The epoch loop of scikit-learn's semantics around [`xpnet.MLP.fit_epochs`][xpnet.model.MLP.fit_epochs]:
the loss with the L2 penalty, ``tol``/``n_iter_no_change``, ``early_stopping`` on a validation
split, ``learning_rate="invscaling"``/``"adaptive"``, and ``verbose`` logging."""

from __future__ import annotations

import logging
import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._optim import _BatchWeightSums

__all__ = ["run_epochs", "device_accuracy"]

log = logging.getLogger("xpnet.sklearn")


class _VerboseLog:
    """While ``verbose`` is set, show this module's INFO records on stdout (as scikit-learn
    prints them) unless the application configured logging itself."""

    def __init__(self, verbose):
        self.handler = None
        if verbose and not logging.getLogger().handlers and log.getEffectiveLevel() > logging.INFO:
            self.handler = logging.StreamHandler(sys.stdout)
            self.level = log.level

    def __enter__(self):
        if self.handler is not None:
            log.addHandler(self.handler)
            log.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc):
        if self.handler is not None:
            log.removeHandler(self.handler)
            log.setLevel(self.level)


def run_epochs(est, X, y, sw, val, incremental: bool):
    """Train ``est.model_`` for ``est.max_iter`` epochs (one when ``incremental``), deciding
    between epochs as scikit-learn does; ``val`` is ``(X_val, y_val, sw_val)`` on the device
    with ``early_stopping``, else ``None``."""
    model, opt = est.model_, est.model_.optimizer
    n = X.shape[0]
    if est.batch_size == "auto":
        bs = min(200, n)
    else:
        if est.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. "
                          "It is going to be clipped")
        bs = int(np.clip(est.batch_size, 1, n))
    mean_w = 1.0
    kwargs = {}
    if sw is not None:
        mean_w = float(sw.mean())
        kwargs["sample_weight"] = sw
    epochs = 1 if incremental else est.max_iter
    gen = model.fit_epochs(X, y, epochs=epochs, batch_size=bs, optimizer=None,
                             validation_data=None, shuffle=bool(est.shuffle),
                             callbacks=[_BatchWeightSums(opt, n, bs, mean_w)], **kwargs)
    est.n_iter_ = 0
    best = None
    with _VerboseLog(est.verbose):
        try:
            for logs in gen:
                opt_sq, opt.sq_norms = opt.sq_norms, None
                penalty = 0.0
                if opt.alpha and opt_sq is not None:
                    # Σ_b (α/2)·‖W‖²_b/s_b · (b's share of n) = (α/2)·Σ_b ‖W‖²_b / (n·w̄)
                    penalty = 0.5 * opt.alpha * float(opt_sq) / (n * mean_w)
                est.loss_ = float(logs["loss"]) + penalty
                est.n_iter_ += 1
                est.t_ += n
                est.loss_curve_.append(est.loss_)
                log.info("Iteration %d, loss = %.8f", est.n_iter_, est.loss_)
                if est.early_stopping:
                    score = device_accuracy(est, *val)
                    est.validation_scores_.append(score)
                    log.info("Validation score: %f", score)
                    if score < est.best_validation_score_ + est.tol:
                        est._no_improvement_count += 1
                    else:
                        est._no_improvement_count = 0
                    if score > est.best_validation_score_:
                        est.best_validation_score_ = score
                        xp = model.backend.xp
                        best = {k: xp.asarray(v, copy=True) for k, v in model.params.items()}
                else:
                    if est.loss_curve_[-1] > est.best_loss_ - est.tol:
                        est._no_improvement_count += 1
                    else:
                        est._no_improvement_count = 0
                    est.best_loss_ = min(est.best_loss_, est.loss_curve_[-1])
                if est.solver == "sgd" and est.learning_rate == "invscaling":
                    opt.lr = float(est.learning_rate_init) / (est.t_ + 1) ** est.power_t
                if est._no_improvement_count > est.n_iter_no_change:
                    what = "Validation score" if est.early_stopping else "Training loss"
                    msg = (f"{what} did not improve more than tol={est.tol:f} for "
                           f"{est.n_iter_no_change} consecutive epochs.")
                    if trigger_stopping(est, opt, msg):
                        break
                    est._no_improvement_count = 0
                if incremental:
                    break
                if est.n_iter_ == est.max_iter:
                    warnings.warn(f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) "
                                  "reached and the optimization hasn't converged yet.",
                                  ConvergenceWarning)
        finally:
            gen.close()
    if best is not None:
        model.set_params(best)

def trigger_stopping(est, opt, msg) -> bool:
    """True to stop; with ``learning_rate="adaptive"`` divide the rate by 5 instead while it is above 1e-6."""
    if not (est.solver == "sgd" and est.learning_rate == "adaptive"):
        log.info("%s Stopping.", msg)
        return True
    if opt.lr <= 1e-6:
        log.info("%s Learning rate too small. Stopping.", msg)
        return True
    opt.lr /= 5.0
    log.info("%s Setting learning rate to %f", msg, opt.lr)
    return False

def device_accuracy(est, X, y, sw) -> float:
    """(Weighted) accuracy of the model on device data ``X``, labels ``y`` (indices)."""
    model = est.model_
    xp = model.backend.xp
    hit = xp.astype(xp.argmax(model._logits(X), axis=1) == y, model.dtype)
    if sw is None:
        return float(xp.mean(hit))
    w = model.backend.asarray(sw, model.dtype_name)
    return float(xp.sum(hit * w) / xp.sum(w))


from .._typing import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
