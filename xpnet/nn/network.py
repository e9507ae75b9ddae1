"""The network's math: forward pass, softmax cross-entropy, backward pass.

This is the tutorial "Neural Networks From Scratch: The Core Mathematics of a Neural Network",
generalised to L layers. Every function is pure: it takes arrays, returns new arrays, and gets
its namespace from its arguments (``array_namespace``), so it runs unchanged on NumPy, CuPy,
PyTorch, JAX and array-api-strict.

Layout
------
The tutorial stores samples as *columns* (X is 784 × m). xpnet stores samples as *rows*
(X is m × 784), the layout of NumPy, scikit-learn and PyTorch datasets: a mini-batch is then a
block of contiguous rows. Weights keep the tutorial's shape, ``W_l`` is ``(n_l, n_{l-1})`` (so
W1 is 10 × 784 for the tutorial network) and biases are vectors ``b_l`` of shape ``(n_l,)``.
Every equation is therefore the tutorial's equation transposed:

| tutorial (samples as columns) | xpnet (samples as rows)      | shape in xpnet |
| ----------------------------- | ---------------------------- | -------------- |
| Z1 = W1·X + b1                | Z1 = X·W1ᵀ + b1              | m × n1         |
| A1 = ReLU(Z1)                 | A1 = ReLU(Z1)                | m × n1         |
| Z2 = W2·A1 + b2               | Z2 = A1·W2ᵀ + b2             | m × n2         |
| A2 = softmax(Z2)              | A2 = softmax(Z2), row-wise   | m × n2         |
| dZ2 = A2 − Y                  | dZ2 = (A2 − Y) / m           | m × n2         |
| dW2 = dZ2·A1ᵀ / m             | dW2 = dZ2ᵀ·A1                | n2 × n1        |
| db2 = Σ dZ2 / m               | db2 = Σ_rows dZ2  (per unit) | n2             |
| dZ1 = W2ᵀ·dZ2 ⊙ ReLU′(Z1)     | dZ1 = (dZ2·W2) ⊙ ReLU′(Z1)   | m × n1         |
| dW1 = dZ1·Xᵀ / m              | dW1 = dZ1ᵀ·X                 | n1 × n0        |
| db1 = Σ dZ1 / m               | db1 = Σ_rows dZ1  (per unit) | n1             |

The 1/m is applied once, to dZ_L, so it flows into every gradient without being repeated.
Bias gradients are sums over the batch for each unit; summing over *all* elements of dZ2 (as
the notebook behind the tutorial does) gives exactly zero, because every row of A2 − Y sums
to 0, and the output biases never learn.

Parameters are a dict ``{"W1": ..., "b1": ..., "W2": ..., ...}``; ``n_layers(params)`` is L.
"""

from __future__ import annotations

from ..backend import array_namespace, device_of
from .activations import get_activation
from .fast import sum_columns, sum_rows

__all__ = [
    "n_layers",
    "forward",
    "softmax",
    "log_softmax",
    "one_hot",
    "softmax_cross_entropy",
    "softmax_cross_entropy_rows",
    "normalized_weights",
    "backward",
    "weight_norm_squared",
    "add_l2_gradient",
    "weight_total",
]


def n_layers(params: dict) -> int:
    """Number of weight layers L in ``params`` (W1 … WL)."""
    L = len(params) // 2  # W1, b1, …, WL, bL: checked in two lookups, not L + 1
    if f"W{L}" in params and f"W{L + 1}" not in params:
        return L
    L = 0
    while f"W{L + 1}" in params:
        L += 1
    return L


def forward(params: dict, X, activation="relu", masks=None):
    """Forward pass: ``Z_l = A_{l−1}·W_lᵀ + b_l``, ``A_l = g(Z_l)`` for l < L; logits ``Z_L``.

    With dropout, hidden layer l's output is ``A_l = g(Z_l) ⊙ M_l`` instead, ``M_l`` its
    scaled mask (``[u ≥ p]/(1 − p)``, from [`xpnet.nn.dropout.keep_mask`][xpnet.nn.dropout.keep_mask]).

    Parameters
    ----------
    params
        ``{"W1": (n1, n0), "b1": (n1,), ..., "WL": (nL, n_{L−1}), "bL": (nL,)}``
    X
        inputs, shape ``(m, n0)``, samples as rows (A0 = X).
    activation
        hidden activation name or [`Activation`][xpnet.nn.activations.Activation].
    masks
        Dropout (training only): one scaled mask ``M_l`` ``(m, n_l)`` or ``None`` per hidden
        layer, ``L − 1`` entries; ``None`` (default): no dropout.

    Returns
    -------
    Z_L
        the output layer's logits, shape ``(m, nL)``; ``softmax(Z_L)`` is the tutorial's A2.
    cache
        ``(inputs, preactivations)`` for [`backward`][xpnet.nn.network.backward]: ``inputs[l−1]`` is A_{l−1},
        the input of layer l (A0 = X), and ``preactivations[l−1]`` is Z_l for the hidden layers.
        With ``masks``, ``(inputs, preactivations, masks, outputs)``: ``outputs[l−1]`` is
        ``g(Z_l)`` before the mask (what the derivatives of tanh and sigmoid are written in).
    """
    g = get_activation(activation)
    L = n_layers(params)
    inputs = [X]
    preactivations = []
    outputs = []
    A = X
    for l in range(1, L):
        Z = A @ params[f"W{l}"].T  # Z_l = A_{l−1}·W_lᵀ + b_l,
        Z += params[f"b{l}"]  # the + b_l in place (no temporary, one pass fewer)
        A = g.forward(Z)
        preactivations.append(Z)
        if masks is not None:
            outputs.append(A)
            if masks[l - 1] is not None:
                A = A * masks[l - 1]  # dropout: A_l = g(Z_l) ⊙ M_l
        inputs.append(A)
    # Z_L = A_{L−1}·W_Lᵀ + b_L, computed as the transpose of the tutorial's own (classes ×
    # samples) product W_L·A_{L−1}ᵀ: the same numbers, but each class's logits lie contiguous
    # in memory, which makes the row-wise max, sum and exp of the softmax several times faster
    # on NumPy (benchmarks/RESULTS.md).
    Z_L = (params[f"W{L}"] @ A.T).T
    Z_L += params[f"b{L}"]
    if masks is not None:
        return Z_L, (inputs, preactivations, masks, outputs)
    return Z_L, (inputs, preactivations)


def softmax(Z):
    """Row-wise softmax, ``P_ik = e^{Z_ik − max_k Z_ik} / Σ_j e^{Z_ij − max_k Z_ik}``, shape kept.

    Subtracting each row's maximum changes nothing mathematically and keeps ``exp`` from
    overflowing (``e^89`` is already infinite in float32).
    """
    xp = array_namespace(Z)
    e = xp.exp(Z - xp.max(Z, axis=1, keepdims=True))
    return e / xp.sum(e, axis=1, keepdims=True)


def log_softmax(Z):
    """Row-wise ``log softmax(Z) = (Z − max) − log Σ e^{Z − max}``, computed stably."""
    xp = array_namespace(Z)
    shifted = Z - xp.max(Z, axis=1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))


def one_hot(labels, n_classes: int, dtype):
    """One-hot matrix Y of shape ``(m, n_classes)``: ``Y[i, labels[i]] = 1``, in ``dtype``."""
    xp = array_namespace(labels)
    classes = xp.arange(n_classes, dtype=labels.dtype, device=device_of(labels))
    return xp.astype(labels[:, None] == classes, dtype)


def softmax_cross_entropy(Z, Y, weights=None):
    """Softmax probabilities and the summed cross-entropy of logits ``Z`` against one-hot ``Y``.

    ``loss_sum = −Σ_i w_i Σ_k Y_ik log P_ik`` with ``log P = log_softmax(Z)`` (max-shifted) and
    ``w_i = 1`` unless ``weights`` are given.

    Parameters
    ----------
    Z : array
        Logits, shape ``(m, k)``.
    Y : array
        One-hot targets, shape ``(m, k)``, same dtype as Z.
    weights : array, optional
        Per-sample weights w, shape ``(m,)``, same dtype as Z (``None``: every sample weighs 1).

    Returns
    -------
    loss_sum : array
        0-d, the (weighted) loss summed over the batch: divide by m (or by Σ w) for the mean.
    P : array
        softmax(Z), ``(m, k)``, which [`backward`][xpnet.nn.network.backward] needs for ``dZ_L = (P − Y)/m``.
    """
    xp = array_namespace(Z, Y)
    shifted = Z - xp.max(Z, axis=1, keepdims=True)
    P = xp.exp(shifted)
    s = xp.sum(P, axis=1, keepdims=True)
    P /= s  # in place: P = e^shifted / s
    # Σ_k Y_ik log P_ik = Σ_k Y_ik shifted_ik − log s_i, because each row of Y sums to 1.
    if weights is None:
        loss_sum = xp.sum(xp.log(s)) - xp.sum(Y * shifted)
    else:  # ℓ_i = log s_i − Σ_k Y_ik shifted_ik, weighted: Σ_i w_i ℓ_i
        per_sample = xp.log(s[:, 0]) - xp.sum(Y * shifted, axis=1)
        loss_sum = xp.sum(weights * per_sample)
    return loss_sum, P


def softmax_cross_entropy_rows(Z, Y, xp=None):
    """Softmax probabilities and each sample's cross-entropy, in the fewest array operations.

    With ``shifted = Z − max_k Z`` (row-wise), ``s_i = Σ_k e^{shifted_ik}`` and the label's
    shifted logit ``t_i = Σ_k Y_ik shifted_ik`` (one ``vecdot``), sample i's loss is
    ``ℓ_i = −log P_{i,y_i} = log s_i − t_i``. ``t_i ≤ 0``, and ``t_i = 0`` exactly when the
    label's logit is the largest, i.e. the sample is classified correctly (a tie for the
    largest logit counts as correct, where ``argmax`` would pick the lowest index). The
    training loop accumulates ``ℓ`` and ``sign(t)`` (−1 for a miss) without reductions.

    Parameters
    ----------
    Z : array
        Logits, shape ``(m, k)``.
    Y : array
        One-hot targets, ``(m, k)``, same dtype as Z.

    Returns
    -------
    log_s : array
        ``log s_i``, shape ``(m,)``.
    t : array
        ``t_i``, shape ``(m,)``; ``ℓ_i = log_s_i − t_i``.
    P : array
        ``softmax(Z)``, ``(m, k)``, for [`backward`][xpnet.nn.network.backward].

    ``xp``, when given, is Z's namespace (a caller that looked it up already saves a lookup,
    which a training step notices).
    """
    xp = array_namespace(Z, Y) if xp is None else xp
    shifted = Z - xp.max(Z, axis=1, keepdims=True)
    P = xp.exp(shifted)
    s = sum_columns(P, xp)  # s_i = Σ_k e^{shifted_ik}
    P /= s[:, None]  # in place: P = e^shifted / s
    return xp.log(s), xp.vecdot(Y, shifted), P


def normalized_weights(weights):
    """``w / Σ w`` for per-sample weights ``w`` of shape ``(m,)``, without reading the sum.

    A batch whose weights are all 0 gets all-zero normalised weights (its step then changes
    nothing) instead of 0/0; the check is done on the device, with no synchronisation.
    """
    xp = array_namespace(weights)
    total = xp.sum(weights)
    total = total + xp.astype(total == 0, weights.dtype)  # Σw, or 1 when Σw = 0
    return weights / total


def backward(params: dict, cache, P, Y, activation="relu", scale: float = 1.0, weights=None) -> dict:
    """Backward pass of the mean loss: gradients of every parameter.

    ``dZ_L = (P − Y)/m``, with ``P`` the output ``A_L`` of the loss head: softmax(Z_L) for
    cross-entropy, Z_L itself for squared error; both heads are canonical, so ``A_L − Y`` is
    the loss's derivative with respect to Z_L for either ([`xpnet.nn.losses`][xpnet.nn.losses]).
    Then for l = L … 1:
    ``dW_l = dZ_lᵀ·A_{l−1}``, ``db_l = Σ_rows dZ_l``, and, below the top,
    ``dZ_{l−1} = (dZ_l·W_l) ⊙ g′(Z_{l−1})``; with dropout (a cache from ``forward(...,
    masks=...)``) ``dZ_{l−1} = (dZ_l·W_l) ⊙ M_{l−1} ⊙ g′(Z_{l−1})``, the chain rule through
    ``A_{l−1} = g(Z_{l−1}) ⊙ M_{l−1}``.

    With per-sample weights the loss is the weighted mean ``Σ_i w_i ℓ_i / Σ_i w_i``, and the
    only change is at the top: row i of ``dZ_L`` is ``(P_i − Y_i)·w_i/Σ_j w_j`` instead of
    ``(P_i − Y_i)/m`` (equal weights give back the plain mean).

    Parameters
    ----------
    params : dict
        As in [`forward`][xpnet.nn.network.forward].
    cache : tuple
        The second value returned by [`forward`][xpnet.nn.network.forward].
    P : array
        The output ``A_L``, ``(m, nL)``: softmax of the logits (cross-entropy) or the logits
        (squared error).
    Y : array
        Targets, ``(m, nL)``: one-hot rows, or real values.
    activation : str or Activation
        The hidden activation used in the forward pass.
    scale : float
        Multiplies every gradient (default 1). Every gradient is linear in dZ_L, so the
        factor costs one multiplication of the small ``m × nL`` array: the training loop passes
        the learning rate α for plain SGD and gets the steps α·dW with no pass over the weights.
    weights : array, optional
        Per-sample weights w ≥ 0, shape ``(m,)``, in P's dtype (``None``: all equal).

    Returns
    -------
    dict
        ``{"W1": dW1 (n1, n0), "b1": db1 (n1,), ...}``: same names and shapes as ``params``.
    """
    xp = array_namespace(P, Y)
    g = get_activation(activation)
    inputs, preactivations = cache[0], cache[1]
    masks, outputs = (cache[2], cache[3]) if len(cache) == 4 else (None, inputs[1:])
    L = n_layers(params)
    m = Y.shape[0]
    grads = dict.fromkeys(params)  # filled below, in the parameters' order
    dZ = P - Y
    if weights is None:
        dZ *= scale / m  # dZ_L = (P − Y)/m  (times scale, 1 unless folded in), in place
    else:
        w = normalized_weights(weights)  # dZ_L,i = (P_i − Y_i)·w_i/Σw  (times scale)
        dZ *= (w * scale)[:, None]
    g_backward = g.backward_inplace or g.backward  # dA is ours: it may be overwritten
    for l in range(L, 0, -1):
        grads[f"W{l}"] = dZ.T @ inputs[l - 1]
        grads[f"b{l}"] = sum_rows(dZ, xp)  # db_l = Σ_rows dZ_l
        if l > 1:
            dA = dZ @ params[f"W{l}"]
            if masks is not None and masks[l - 2] is not None:
                dA *= masks[l - 2]  # through the dropout mask: ∂ℓ/∂g(Z) = ∂ℓ/∂A ⊙ M
            dZ = g_backward(dA, preactivations[l - 2], outputs[l - 2])
    return grads


def weight_norm_squared(params: dict):
    """``Σ_l ‖W_l‖²``, the squared Frobenius norms of the weight matrices (not the biases), 0-d."""
    xp = array_namespace(params["W1"])
    total = None
    for l in range(1, n_layers(params) + 1):
        w = xp.reshape(params[f"W{l}"], (-1,))
        sq = xp.vecdot(w, w)
        total = sq if total is None else total + sq
    return total


def add_l2_gradient(grads: dict, params: dict, c) -> dict:
    """``∇W_l ← ∇W_l + c·W_l`` for every weight matrix (biases untouched), in place where the
    arrays allow; returns ``grads``.

    The gradient of the penalty ``(λ/2)·Σ_l ‖W_l‖²`` divided by the batch's weight sum ``s``
    is ``(λ/s)·W_l``: [`MLP.fit`][xpnet.model.mlp.MLP.fit]'s ``l2`` passes ``c = λ·scale/s``
    (``s`` a 0-d device array with sample weights).
    """
    for l in range(1, n_layers(params) + 1):
        grads[f"W{l}"] += c * params[f"W{l}"]
    return grads


def weight_total(Y, weights):
    """A batch's weight sum ``s``: its number of rows m (a float) without ``weights``, else
    ``Σ w`` as a 0-d array (1 where it is 0, so that a mean over all-zero weights is 0)."""
    if weights is None:
        return float(Y.shape[0])
    xp = array_namespace(weights)
    total = xp.sum(weights)
    return total + xp.astype(total == 0, weights.dtype)


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
