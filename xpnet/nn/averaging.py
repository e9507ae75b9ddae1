"""Weight averaging: an exponential moving average (EMA, Polyak averaging) of the parameters.

After every training step ``t = 1, 2, …`` (the optimizer's update of θ)::

    d_t = min(d, (1 + t) / (10 + t))        # warm-up (TensorFlow's ExponentialMovingAverage
                                            # with num_updates = t); d_t = d with warmup=False
    θ̄  ← θ̄ + (1 − d_t)·(θ − θ̄)              # = d_t·θ̄ + (1 − d_t)·θ

``θ̄`` starts as a copy of θ where averaging starts. The warm-up keeps the early average
from being dominated by the initial (random) weights: d_1 = 2/11, d_10 = 11/20, and
``d_t = d`` from ``t ≈ 9·d/(1 − d)`` on (about 9,000 steps for d = 0.999). Adam-style bias
correction (dividing by ``1 − d^t``) would need θ̄ to start at zero and a division at every
read; the warm-up needs neither and is what TensorFlow, and timm's ``ModelEmaV3``, offer.

The update is three array operations per parameter array (a subtraction, a product, an
in-place sum), in place where the arrays allow, written once for the eager loop and the
compiled steps (where ``1 − d_t`` is a traced coefficient). What evaluation, prediction and
the exports then use is θ̄ (see ``xpnet.model.averaging``); θ and the optimizer's state go on
training untouched, so averaging changes nothing but what is read out.

Stochastic weight averaging (SWA, Izmailov et al. 2018), [`SWA`][xpnet.nn.averaging.SWA], is
the other averaging: the plain mean of the weights at the end of each epoch from
``start_epoch`` on, ``θ̄ ← θ̄ + (θ − θ̄)/(n + 1)`` with ``n`` the epochs averaged so far (the
same [`update`][xpnet.nn.averaging.update] with rate ``1/(n + 1)``), done once per epoch, after
its last step, so that the steps themselves cost nothing more.
"""

from __future__ import annotations

import math

from ..backend import array_namespace
from ..errors import ConfigError

__all__ = ["EMA", "SWA", "update", "averaging_from_config", "copy_params"]


class EMA:
    """An exponential moving average of the weights, updated after every step.

    Parameters
    ----------
    decay : float
        ``d`` in (0, 1): the weight of the old average at each step (Keras's
        ``ema_momentum``; 0.999 averages over roughly the last 1,000 steps).
    warmup : bool
        Use ``d_t = min(d, (1 + t)/(10 + t))`` at step ``t`` (default) rather than ``d``
        from the first step.

    Attributes
    ----------
    t : int
        Updates done so far (saved with the model, so that a resumed run goes on with the
        same ``d_t``).
    """

    name = "ema"
    per_step = True  # updated after every step (SWA: after every epoch)

    def __init__(self, decay: float = 0.999, warmup: bool = True):
        decay = float(decay)
        if not (0.0 < decay < 1.0 and math.isfinite(decay)):
            raise ConfigError(f"the EMA decay must be in (0, 1), e.g. 0.999; got {decay}")
        self.decay = decay
        self.warmup = bool(warmup)
        self.t = 0

    def decay_at(self, t: int) -> float:
        """``d_t`` of update ``t`` (1 for the first), a Python float."""
        return min(self.decay, (1.0 + t) / (10.0 + t)) if self.warmup else self.decay

    def rates(self, k: int) -> list[float]:
        """``1 − d_t`` of the next ``k`` updates (``t = self.t + 1, …``), Python floats; the
        count is not advanced."""
        return [1.0 - self.decay_at(self.t + i + 1) for i in range(k)]

    def get_config(self) -> dict:
        """The settings as a JSON-friendly dict (``averaging_from_config`` inverts it; the
        count ``t`` is stored apart)."""
        return {"name": self.name, "decay": self.decay, "warmup": self.warmup}

    def __repr__(self) -> str:
        return f"EMA(decay={self.decay!r}, warmup={self.warmup!r})"


class SWA:
    """Stochastic weight averaging: the running mean of the weights at the end of each epoch
    from ``start_epoch`` on (Izmailov et al. 2018).

    After epoch ``e`` (0-based, counted over all of a model's ``fit`` calls, as
    ``model.epoch``) with ``e >= start_epoch``::

        θ̄ ← θ                        # the first epoch averaged (n = 0)
        θ̄ ← θ̄ + (θ − θ̄)/(n + 1)      # then; n = the epochs averaged so far

    so after the last epoch θ̄ is the mean of the weights at the ends of epochs
    ``start_epoch + 1, …`` (1-based). Nothing is done per step. Until the first averaged
    epoch ends there is no θ̄ and inference uses the trained weights θ; from then on
    validation, early stopping, the checkpoint's predictions, ``predict`` and the exports use
    θ̄. To average the last ``K`` of ``N`` epochs, take ``start_epoch = N − K``
    (``xpnet train --swa-epochs K``).

    SWA is meant for a learning rate that stays high (constant or cyclic): under a schedule
    that decays to zero (cosine, xpnet's default) the last epochs' weights hardly differ and
    their mean is close to the last one. Pair it with ``schedule="constant"``.

    Parameters
    ----------
    start_epoch : int
        Epochs trained before the averaging starts (>= 0; 0: average every epoch's end).

    Attributes
    ----------
    t : int
        ``n``, the epochs averaged so far (saved with the model, so that a resumed run goes
        on with the same mean).
    """

    name = "swa"
    per_step = False

    def __init__(self, start_epoch: int = 0):
        if (
            isinstance(start_epoch, bool)
            or not isinstance(start_epoch, (int, float))
            or start_epoch != int(start_epoch)
        ):
            raise ConfigError(f"the SWA start_epoch must be a whole number of epochs >= 0; got {start_epoch!r}")
        if start_epoch < 0:
            raise ConfigError(f"the SWA start_epoch must be >= 0 (0: average every epoch); got {start_epoch}")
        self.start_epoch = int(start_epoch)
        self.t = 0

    def averages(self, epoch: int) -> bool:
        """Whether the weights at the end of epoch ``epoch`` (0-based) join the mean."""
        return epoch >= self.start_epoch

    def rate(self) -> float:
        """``1/(n + 1)``, the rate of the next update (1 for the first: θ̄ = θ)."""
        return 1.0 / (self.t + 1)

    def get_config(self) -> dict:
        """The settings as a JSON-friendly dict (``averaging_from_config`` inverts it; the
        count ``t`` is stored apart)."""
        return {"name": self.name, "start_epoch": self.start_epoch}

    def __repr__(self) -> str:
        return f"SWA(start_epoch={self.start_epoch!r})"


def update(averaged: dict, params: dict, rate) -> dict:
    """``θ̄ ← θ̄ + rate·(θ − θ̄)`` for every array, in place where the arrays allow (item
    assignment on JAX); returns ``averaged`` (the same dict).

    Parameters
    ----------
    averaged : dict
        θ̄, ``{"W1": (n1, n0), "b1": (n1,), ...}``.
    params : dict
        θ, the same names and shapes.
    rate : float or 0-d array
        ``1 − d_t``: a Python float eagerly, a traced coefficient inside a compiled step.
    """
    for k, p in params.items():
        a = averaged[k]
        step = p - a
        step *= rate
        a += step
        averaged[k] = a
    return averaged


def averaging_from_config(config: dict) -> EMA | SWA:
    """The inverse of [`EMA.get_config`][xpnet.nn.averaging.EMA.get_config] and
    [`SWA.get_config`][xpnet.nn.averaging.SWA.get_config].

    Raises
    ------
    ConfigError
        The name is not one of the averagings xpnet knows.
    """
    config = dict(config)
    name = config.pop("name", "ema")
    if name == "swa":
        return SWA(**config)
    if name != "ema":
        raise ConfigError(f"unknown weight averaging {name!r}; xpnet knows 'ema' and 'swa'")
    return EMA(**config)


def copy_params(params: dict) -> dict:
    """A copy of every array of ``params`` (the start of an average)."""
    out = {}
    for k, p in params.items():
        out[k] = array_namespace(p).asarray(p, copy=True)
    return out
