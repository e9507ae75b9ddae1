"""Speed work beside the equations: the training step of a plain run, planned once before its loop.

[`batch_gradients`][xpnet.nn.step.batch_gradients] is the step as the tutorial writes it, and
every call works out again what it needs: the arrays' namespace, the activation by its name, the
number of layers and the names ``"W1"``, ``"b1"``, …, the ones-vectors of the row sums, and
whether the run has sample weights, dropout or an L2 penalty. Each of those costs a fraction of a
microsecond, and a step on a small network (64-16-10, batch 16) is about 35 µs of NumPy calls:
together they cost a third of it (docs/benchmarks.md, "One step against a hand-written loop").

[`plan_step`][xpnet.nn.plan.plan_step] answers those questions once, for a run that uses none of
the optional features (no sample weights, no dropout, no L2), and returns the step with every
answer bound: the same operations as ``batch_gradients``, in the same order, so the same numbers
bit for bit (``tests/core/test_step_plan.py`` holds it to that on every backend)::

    Z_l = A_{l−1}·W_lᵀ + b_l,  A_l = g(Z_l)            l < L
    Z_L = (W_L·A_{L−1}ᵀ)ᵀ + b_L
    ℓ_i = log s_i − t_i, miss_i = sign(t_i), A_L = softmax(Z_L)   (the head's rows)
    dZ_L = (A_L − T)·scale/m
    dW_l = dZ_lᵀ·A_{l−1},  db_l = 1ᵀ·dZ_l,  dZ_{l−1} = (dZ_l·W_l) ⊙ g′(Z_{l−1})

The few operations whose standard spelling costs more than the operation on NumPy or PyTorch
(the row maximum, ``sign``, the rows' dot products, ReLU and its mask) come from [`xpnet.backend.kernels`][xpnet.backend.kernels],
picked once for the namespace. A run with weights, dropout or L2 trains through
``batch_gradients`` itself, so those features cost the runs that do not use them nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from ..backend import kernels
from .activations import get_activation
from .fast import device, ones
from .losses import CrossEntropy, LossHead
from .network import n_layers

__all__ = ["plan_step"]


def plan_step(params: dict, xp, *, activation, head: LossHead) -> Callable:
    """The step of [`batch_gradients`][xpnet.nn.step.batch_gradients] without sample weights,
    dropout or L2, with everything it looks up bound once.

    Parameters
    ----------
    params : dict
        ``{"W1": (n1, n0), "b1": (n1,), ..., "WL", "bL"}``: read for the layers' names, dtype and
        device (the step reads the arrays themselves from the dict it is given, every call).
    xp : namespace
        The arrays' namespace.
    activation : str or Activation
        The hidden activation.
    head : LossHead
        The loss head.

    Returns
    -------
    callable
        ``step(params, X, T, scale) -> (ell, miss, grads)``: what ``batch_gradients(params, X,
        T, activation=activation, head=head, scale=scale)`` returns (its penalty aside, None
        without L2), the same numbers.
    """
    k = kernels(xp)
    g = get_activation(activation)
    if g.name == "relu":
        g_forward, relu_backward = k.relu, k.relu_backward_inplace

        def g_backward(dA, Z, A):
            return relu_backward(dA, Z)
    else:
        g_forward, g_backward = g.forward, g.backward_inplace or g.backward
    L = n_layers(params)
    names = [(f"W{l}", f"b{l}") for l in range(1, L + 1)]
    hidden, (W_L, b_L) = names[:-1], names[-1]
    backward_layers = list(reversed(list(enumerate(names))))  # (l − 1, ("W_l", "b_l")), l = L … 1
    dtype, where = params[W_L].dtype, device(params[W_L])
    ones_rows: dict[int, object] = {}  # the ones-vector 1 (m,) of each batch length m

    if isinstance(head, CrossEntropy) and not head.label_smoothing:
        ones_classes = ones(xp, params[W_L].shape[0], dtype, where)
        row_max, sign, vecdot_rows = k.row_max, k.sign, k.vecdot_rows

        def rows(Z, T):  # CrossEntropy.rows: softmax_cross_entropy_rows, ℓ = log s − t, sign(t)
            shifted = Z - row_max(Z)
            P = xp.exp(shifted)
            s = P @ ones_classes  # s_i = Σ_k e^{shifted_ik}
            P /= s[:, None]
            t = vecdot_rows(T, shifted)
            return xp.log(s) - t, sign(t), P
    else:
        rows = head.rows

    def step(params, X, T, scale):
        inputs, preactivations = [X], []
        A = X
        for W, b in hidden:
            Z = A @ params[W].T
            Z += params[b]
            A = g_forward(Z)
            preactivations.append(Z)
            inputs.append(A)
        Z = (params[W_L] @ A.T).T
        Z += params[b_L]
        ell, miss, A = rows(Z, T)
        m = T.shape[0]
        one = ones_rows.get(m)
        if one is None:
            one = ones_rows[m] = ones(xp, m, dtype, where)
        grads = dict.fromkeys(params)
        dZ = A - T
        dZ *= scale / m
        for i, (W, b) in backward_layers:
            grads[W] = dZ.T @ inputs[i]
            grads[b] = one @ dZ
            if i:
                dZ = g_backward(dZ @ params[W], preactivations[i - 1], inputs[i])
        return ell, miss, grads

    return step


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
