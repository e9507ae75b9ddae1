"""One training step's math, written once: forward pass, loss, backward pass and the L2 term.

For a batch ``(X, T)`` of m samples, with per-sample weights ``w`` (all 1 unless given)::

    Z_L, cache = forward(params, X)                     # Z_l = A_{l−1}·W_lᵀ + b_l, A_l = g(Z_l)
    ℓ, miss, A_L = head.rows(Z_L, T)                    # A_L = softmax(Z_L); ℓ_i = −log A_{i,y_i}
    grads = backward(params, cache, A_L, T)             # dZ_L = (A_L − T)/m, dW_l = dZ_lᵀ·A_{l−1}, …
    grads[W_l] += λ·W_l / Σw                            # with an L2 penalty (λ/2)·Σ_l ‖W_l‖²

[`batch_gradients`][xpnet.nn.step.batch_gradients] is that step. Everything that needs a
batch's gradients calls it: the eager training loop
([`xpnet.model.training`][xpnet.model.training]), the compiled runs of steps
([`xpnet.model.compiled`][xpnet.model.compiled]), [`MLP.gradients`][xpnet.model.mlp.MLP.gradients]
and [`xpnet.gradcheck`][xpnet.model.gradcheck.gradcheck] (through
[`loss_and_gradients`][xpnet.nn.step.loss_and_gradients]). The loops keep only their update and
their running sums. [`mean_loss`][xpnet.nn.step.mean_loss] is the function whose gradients these
are, forward only (what the gradient check differentiates numerically).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..backend import array_namespace
from .losses import get_loss
from .network import add_l2_gradient, backward, forward, weight_norm_squared, weight_total

__all__ = ["BatchGradients", "batch_gradients", "loss_and_gradients", "mean_loss"]


class BatchGradients(NamedTuple):
    """What one step on a batch of m samples computes (device arrays, nothing read)."""

    losses: Any
    """``ℓ_i``, each sample's loss, ``(m,)`` (unweighted)."""
    misses: Any
    """``−1`` where sample i is misclassified, else 0, ``(m,)``; None for a head that does not classify."""
    grads: dict
    """``{"W1": dW1, "b1": db1, ...}``, the gradients of the (weighted) mean loss, times ``scale``."""
    penalty: Any
    """``(λ/2)·Σ_l ‖W_l‖²`` of the weights the gradients were taken at, 0-d; None without ``l2``."""


def batch_gradients(
    params: dict, X, T, *, activation, head, weights=None, l2: float = 0.0, masks=None, scale: float = 1.0
) -> BatchGradients:
    """One batch's forward pass, loss head, backward pass and L2 term.

    Parameters
    ----------
    params : dict
        ``{"W1": (n1, n0), "b1": (n1,), ..., "WL": (nL, n_{L−1}), "bL": (nL,)}``.
    X : array
        Inputs, ``(m, n0)``.
    T : array
        Targets, ``(m, nL)``: one-hot rows (cross-entropy) or real values (``head.targets``).
    activation : str or Activation
        The hidden activation.
    head : LossHead
        The output layer and its loss ([`xpnet.nn.losses`][xpnet.nn.losses]).
    weights : array, optional
        Per-sample weights ``w`` ``(m,)``: the loss is ``Σ_i w_i ℓ_i / Σ_i w_i``.
    l2 : float
        λ of the penalty ``(λ/2)·Σ_l ‖W_l‖²``, added to the summed loss before dividing by
        ``Σ w`` (scikit-learn's ``alpha``); 0: none.
    masks : list, optional
        Dropout masks, one ``(m, n_l)`` array or None per hidden layer
        ([`forward`][xpnet.nn.network.forward]).
    scale : float
        Multiplies every gradient: the training loop folds the optimizer's
        [`gradient_scale`][xpnet.nn.optim.Optimizer.gradient_scale] into ``dZ_L`` here
        ([`backward`][xpnet.nn.network.backward]).

    Returns
    -------
    BatchGradients
        ``(losses, misses, grads, penalty)``.
    """
    Z, cache = forward(params, X, activation, masks)
    ell, miss, A = head.rows(Z, T)
    grads = backward(params, cache, A, T, activation, scale=scale, weights=weights)
    penalty = None
    if l2:  # ∇W_l += λ·W_l/Σw (times the scale)
        penalty = (0.5 * l2) * weight_norm_squared(params)
        add_l2_gradient(grads, params, (l2 * scale) / weight_total(T, weights))
    return BatchGradients(ell, miss, grads, penalty)


def loss_and_gradients(params: dict, X, Y, activation="relu", weights=None, loss=None, l2: float = 0.0, masks=None):
    """The (weighted) mean loss of the network on ``(X, Y)`` and its gradients.

    ``(Σ_i w_i ℓ_i + (λ/2)·Σ_l ‖W_l‖²) / Σ_i w_i`` with the gradients of
    [`batch_gradients`][xpnet.nn.step.batch_gradients] (the same step, its losses summed).

    Parameters
    ----------
    params, X, activation, weights, l2, masks
        As in [`batch_gradients`][xpnet.nn.step.batch_gradients].
    Y : array
        Targets, ``(m, nL)``: one-hot rows for cross-entropy, real values otherwise.
    loss : str or LossHead, optional
        The head: ``"cross_entropy"`` (default), ``"squared_error"`` or ``"poisson"``.

    Returns
    -------
    loss : array
        0-d, the mean loss ([`mean_loss`][xpnet.nn.step.mean_loss]).
    grads : dict
        ``{"W1": dW1, "b1": db1, ...}``, shaped like ``params``.
    """
    ell, _, grads, penalty = batch_gradients(
        params, X, Y, activation=activation, head=get_loss(loss), weights=weights, l2=l2, masks=masks
    )
    return _mean(ell, weights, penalty, Y), grads


def mean_loss(params: dict, X, Y, activation="relu", weights=None, loss=None, l2: float = 0.0, masks=None):
    """The (weighted) mean loss on ``(X, Y)``, 0-d: ``(Σ_i w_i ℓ_i + (λ/2)·Σ_l ‖W_l‖²) / Σ_i w_i``,
    forward only; the function [`loss_and_gradients`][xpnet.nn.step.loss_and_gradients]
    differentiates. Parameters as there."""
    Z, _ = forward(params, X, activation, masks)
    ell, _, _ = get_loss(loss).rows(Z, Y)
    penalty = (0.5 * l2) * weight_norm_squared(params) if l2 else None
    return _mean(ell, weights, penalty, Y)


def _mean(ell, weights, penalty, Y):
    """``(Σ_i w_i ℓ_i + penalty) / Σ_i w_i``."""
    xp = array_namespace(ell)
    total = xp.sum(ell if weights is None else ell * weights)
    if penalty is not None:
        total = total + penalty
    return total / weight_total(Y, weights)


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
