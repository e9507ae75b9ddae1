"""The optimizers scikit-learn's ``alpha`` needs: xpnet's Adam and SGD with the L2 penalty on the
weights added inside the step, and a callback that tells them each batch's sum of weights."""

from __future__ import annotations

import math

from ..backend import array_namespace
from ..model import Callback
from ..optim import SGD, Adam

__all__ = ["new_optimizer"]


class _L2OnWeights:
    """Optimizer mixin: scikit-learn's ``alpha`` penalty, on the weights only.

    Each step adds the gradient of ``α/(2·s)·Σ_l ‖W_l‖²`` to the gradient of every weight
    matrix ``W_l`` (not to the biases): ``∇W_l ← ∇W_l + (α/s)·W_l``, with ``s`` the batch's sum
    of sample weights (its size when unweighted), set before each step by
    `_BatchWeightSums`. It also accumulates ``Σ_steps Σ_l ‖W_l‖²`` (a 0-d device array,
    read once per epoch) so that the reported loss includes the penalty, as scikit-learn's does.
    """

    alpha: float = 0.0
    batch_weight: float = 1.0
    sq_norms = None  # Σ over this epoch's steps of Σ_l ‖W_l‖² (before each update)

    def step(self, params, grads, lr=None, *, scaled_by: float = 1.0):
        if self.alpha:
            c = float(scaled_by) * self.alpha / self.batch_weight
            grads = dict(grads)
            for k, W in params.items():
                if k.startswith("W"):
                    sq = array_namespace(W).sum(W * W)
                    self.sq_norms = sq if self.sq_norms is None else self.sq_norms + sq
                    grads[k] = grads[k] + c * W
        super().step(params, grads, lr, scaled_by=scaled_by)


class _SkAdam(_L2OnWeights, Adam):
    """[`xpnet.optim.Adam`][xpnet.optim.Adam] with scikit-learn's ``alpha`` penalty and its ε.

    scikit-learn adds ε to ``√v`` (``W ← W − α·√(1−β2ᵗ)/(1−β1ᵗ) · m/(√v + ε)``); xpnet's Adam
    adds it to ``√v̂`` (``ε·√(1−β2ᵗ)`` to ``√v``). Setting xpnet's ε to ``ε/√(1−β2ᵗ)`` before
    step t gives scikit-learn's update exactly (it matters in the first steps, for gradients
    near ε).
    """

    sk_epsilon: float = 1e-8

    def step(self, params, grads, lr=None, *, scaled_by: float = 1.0):
        self.eps = self.sk_epsilon / math.sqrt(1.0 - self.beta2 ** (self.t + 1))
        super().step(params, grads, lr, scaled_by=scaled_by)


class _SkSGD(_L2OnWeights, SGD):
    """[`xpnet.optim.SGD`][xpnet.optim.SGD] with scikit-learn's ``alpha`` penalty and its velocity.

    scikit-learn keeps the velocity in units of a step, ``v ← μ·v − α_t·g``, then
    ``W ← W + v`` (Nesterov: ``W ← W + μ·v − α_t·g``); xpnet's SGD keeps it in units of a
    gradient (``v ← μ·v + g``, ``W ← W − α_t·v``). The two agree while the learning rate is
    constant; with ``invscaling``/``adaptive`` rates scikit-learn's velocity keeps the old
    rates, so this is its rule.
    """

    def _update(self, params, grads, lr, scale):
        mu = self.momentum
        if not mu:
            return super()._update(params, grads, lr, scale)
        velocity = self.state["velocity"]
        for k in params:
            g = grads[k] if scale == 1.0 else grads[k] * (1.0 / scale)
            velocity[k] *= mu
            velocity[k] -= lr * g
            if self.nesterov:
                params[k] += mu * velocity[k] - lr * g
            else:
                params[k] += velocity[k]


class _BatchWeightSums(Callback):
    """Tells the optimizer the sum of sample weights ``s_b`` of the batch about to be stepped.

    [`xpnet.MLP.fit`][xpnet.model.MLP.fit] cuts an epoch of n samples into consecutive batches of ``bs``
    (the last one shorter) of its shuffled order; with weights normalised to mean ``w̄``
    over the training set, ``s_b`` is taken as ``w̄ × (batch size)`` (exact without weights,
    and for a full batch).
    """

    def __init__(self, optimizer, n: int, batch_size: int, mean_weight: float):
        self.opt, self.n, self.bs, self.w = optimizer, n, batch_size, mean_weight

    def _set(self, b: int) -> None:
        lo = b * self.bs
        self.opt.batch_weight = max(min(lo + self.bs, self.n) - lo, 1) * self.w

    def on_epoch_begin(self, model, epoch):
        self._set(model.batch)

    def on_batch_end(self, model, epoch, batch, n_batches):
        if batch + 1 < n_batches:
            self._set(batch + 1)


def new_optimizer(est, lr):
    """The optimizer of ``est``'s ``solver`` (``_SkAdam`` or ``_SkSGD``) at learning rate ``lr``,
    with ``est.alpha`` as its L2 penalty."""
    if est.solver == "adam":
        opt = _SkAdam(lr=lr, beta1=est.beta_1, beta2=est.beta_2, eps=est.epsilon)
        opt.sk_epsilon = float(est.epsilon)
    else:
        opt = _SkSGD(lr=lr, momentum=est.momentum,
                     nesterov=bool(est.nesterovs_momentum and est.momentum > 0))
    opt.alpha = float(est.alpha)
    return opt


from .._typing import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
