"""Training steps and inference as pure functions, for backends that compile them (JAX).

On a backend whose [`Backend.compiles`][xpnet.backend.Backend.compiles] is true,
[`MLP.fit`][xpnet.model.mlp.MLP.fit] runs its steps through
[`train_batches`][xpnet.model.compiled.train_batches] compiled once
([`Backend.compile`][xpnet.backend.Backend.compile]), and inference through
[`logits`][xpnet.model.compiled.logits]. Both call the same functions as the eager loop —
[`xpnet.nn.network`][xpnet.nn.network]'s forward, loss and backward and the optimizer's
[`apply`][xpnet.nn.optim.Optimizer.apply] — so there is one copy of the math; what differs is only
that the whole step, and a run of steps ([`Backend.scan`][xpnet.backend.Backend.scan]), is handed
to the compiler at once instead of one operation at a time.

What a compiled step sees as traced values, so that one compilation serves a whole run:

* every number of the update, from [`Optimizer.coefficients`][xpnet.nn.optim.Optimizer.coefficients]
  (learning rate of the schedule, Adam's bias corrections, the gradients' scale), one row per step;
* the batches' sample indices (the epoch's shuffled order) and the augmentation's per-sample
  draws.

It recompiles only for a new shape: a chunk of a new number of batches (at most two chunk
lengths per epoch, see [`chunks`][xpnet.model.compiled.chunks]), or the epoch's shorter last batch, each
once per run.
"""

from __future__ import annotations

import math
from functools import partial

from ..backend import array_namespace
from ..nn import averaging, dropout, network, step
from ..nn.step import batch_gradients

__all__ = [
    "train_batches",
    "logits",
    "loss_and_gradients",
    "compiled",
    "compiled_train_batches",
    "compiled_logits",
    "logits_in_blocks",
    "chunks",
    "step_coefficients",
    "MAX_CHUNK",
]

MAX_CHUNK = 64
"""Most steps one compiled call runs. Between calls, [`MLP.fit`][xpnet.model.mlp.MLP.fit] runs each
batch's ``on_batch_end`` callbacks and checks ``stop_training``: a smaller chunk lets a
progress bar move and Ctrl-C stop sooner; a larger one spends less time per call
(docs/backends.md has the measurement)."""

_COMPILED: dict = {}


def train_batches(
    params: dict,
    state: dict,
    sums: tuple,
    data: tuple,
    batches: tuple,
    averaged: dict | None = None,
    *,
    activation,
    optimizer,
    augment,
    head,
    l2,
    scan,
    rates=(),
):
    """Training steps over a run of ``k`` batches, as one pure function.

    Each step is [`MLP.fit`][xpnet.model.mlp.MLP.fit]'s: forward, the loss head, backward with
    the optimizer's gradient scale folded into ``dZ_L`` (plus the L2 penalty's gradient), and
    the optimizer's update.

    Parameters
    ----------
    params : dict
        ``{"W1": (n1, n0), "b1": (n1,), ...}``.
    state : dict
        The optimizer's state, ``{slot: {name: array}}``.
    sums : tuple
        Running ``(Σ w_i ℓ_i, −Σ w_i [missed_i], Σ w_i, Σ_steps (λ/2)·Σ_l ‖W_l‖²)`` of the
        epoch so far, 0-d arrays (``w_i = 1`` without sample weights; the misses stay 0 for a
        head that does not classify, the penalty without ``l2``).
    data : tuple
        ``(X (N, n0), Y (N, nL) targets, w (N,) or None, augmentation constants or None)``.
    batches : tuple
        ``(idx (k, m) sample indices or None for the whole of X, C (k, n_coefficients) the
        steps' coefficients in the order of ``coefficient_names``, augmentation arrays
        (k, m, ...) or None, dropout keys (k, L − 1) int32 or None)``. With ``averaged``, each
        row of C has one more column at its end: ``1 − d_t`` of the weight average.
    averaged : dict or None
        The averaged weights θ̄ (shaped like ``params``), updated after each step by
        [`xpnet.nn.averaging.update`][xpnet.nn.averaging.update]; None: no averaging.
    activation, optimizer, augment, head, l2, scan, rates
        Static: the hidden activation, the [`Optimizer`][xpnet.nn.optim.Optimizer] (its
        ``apply`` and structure), the augmentation (its ``gather``) or None, the
        [loss head][xpnet.nn.losses.LossHead], the penalty's λ (a float, 0 for none), the
        backend's [`scan`][xpnet.backend.Backend.scan], and the hidden layers' dropout
        rates (a tuple; all 0 or empty for none).

    Returns
    -------
    tuple
        ``(params, state, sums, averaged)`` after the ``k`` steps.
    """
    X, Y, w, aug_constants = data
    names = optimizer_coefficient_names(optimizer)
    xp = array_namespace(X)
    widths = [params[f"W{l}"].shape[0] for l in range(1, len(rates) + 1)]

    def step(carry, batch):
        params, state, (loss, miss, seen, penalty), averaged = carry
        idx, row, aug, keys = batch
        c = {name: row[j] for j, name in enumerate(names)}
        if idx is None:
            Xb, Yb, wb = X, Y, w
        else:
            Xb = xp.take(X, idx, axis=0) if augment is None else None
            Yb = xp.take(Y, idx, axis=0)
            wb = None if w is None else xp.take(w, idx, axis=0)
        if augment is not None:
            Xb = augment.gather(aug_constants, aug)
        masks = None
        if keys is not None:
            masks = dropout.batch_masks(xp, widths, Yb.shape[0], Xb.dtype, None, keys, rates)
        ell, missed, grads, step_penalty = batch_gradients(
            params, Xb, Yb, activation=activation, head=head, weights=wb, l2=l2, masks=masks, scale=c["scale"]
        )
        if step_penalty is not None:
            penalty = penalty + step_penalty
        state = optimizer.apply(params, grads, state, c)  # params updated in the carry's dict
        if averaged is not None:
            averaged = averaging.update(averaged, params, row[len(names)])
        if wb is None:
            seen = seen + Yb.shape[0]
        else:
            ell = ell * wb
            missed = None if missed is None else missed * wb
            seen = seen + xp.sum(wb)
        if missed is not None:
            miss = miss + xp.sum(missed)
        return params, state, (loss + xp.sum(ell), miss, seen, penalty), averaged

    return scan(step, (params, state, sums, averaged), batches)


def logits(params: dict, X, *, activation):
    """The logits ``Z_L`` of [`network.forward`][xpnet.nn.network.forward], ``(m, nL)``, alone
    (what inference compiles)."""
    return network.forward(params, X, activation)[0]


def optimizer_coefficient_names(optimizer) -> tuple[str, ...]:
    """The names of ``optimizer``'s [`coefficients`][xpnet.nn.optim.Optimizer.coefficients], in
    the order of the columns of a compiled step's coefficient rows."""
    return tuple(optimizer.coefficients(1.0, 1.0, 1))


def step_coefficients(optimizer, lrs, t0: int) -> list[list[float]]:
    """The coefficient rows of ``len(lrs)`` steps numbered ``t0 + 1, …``: ``k`` lists of floats.

    The caller moves them to the device in the model's float dtype, rounding each once, as
    the eager step rounds each Python float it multiplies an array with.

    Parameters
    ----------
    optimizer : Optimizer
        Its [`gradient_scale`][xpnet.nn.optim.Optimizer.gradient_scale] and
        [`coefficients`][xpnet.nn.optim.Optimizer.coefficients] give each row.
    lrs : sequence of float
        Each step's (scheduled) learning rate.
    t0 : int
        Steps taken before the first of them.
    """
    names = optimizer_coefficient_names(optimizer)
    rows = []
    for i, lr in enumerate(lrs):
        c = optimizer.coefficients(lr, optimizer.gradient_scale(lr), t0 + i + 1)
        rows.append([float(c[name]) for name in names])
    return rows


def chunks(start: int, stop: int, max_chunk: int | None = None) -> list[tuple[int, int]]:
    """``[start, stop)`` cut into consecutive runs of nearly equal length, at most ``max_chunk``
    (default [`MAX_CHUNK`][xpnet.model.compiled.MAX_CHUNK], read at each call).

    Balanced, so that an epoch has at most two run lengths (two compilations) whatever its
    number of batches: 469 batches in runs of at most 64 are 8 runs of 58 or 59.
    """
    max_chunk = MAX_CHUNK if max_chunk is None else max_chunk
    n = stop - start
    if n <= 0:
        return []
    parts = math.ceil(n / max_chunk)
    base, extra = divmod(n, parts)
    out, lo = [], start
    for i in range(parts):
        hi = lo + base + (1 if i < extra else 0)
        out.append((lo, hi))
        lo = hi
    return out


def compiled(backend, fn, **static):
    """``partial(fn, **static)`` compiled for ``backend`` ([`Backend.compile`][xpnet.backend.Backend.compile]),
    made once per backend, function and static values, then reused (a new ``partial`` each
    call would be traced anew). Where the backend runs eagerly, the plain ``partial``."""
    key = (backend.spec, fn, tuple(sorted(static.items())))
    out = _COMPILED.get(key)
    if out is None:
        if len(_COMPILED) > 256:
            _COMPILED.clear()
        out = _COMPILED[key] = backend.compile(partial(fn, **static))
    return out


def compiled_train_batches(backend, activation: str, optimizer, augment, head, l2: float = 0.0, rates=()):
    """[`train_batches`][xpnet.model.compiled.train_batches] compiled for ``backend``; one per
    activation, optimizer structure, augmentation kind, loss head, λ and dropout rates (the
    objects of the first call serve every later one of the same structure)."""
    rates = tuple(float(p) for p in rates)
    key = (
        "train",
        backend.spec,
        activation,
        optimizer.structure(),
        None if augment is None else augment.structure(),
        head,  # its name and settings (label smoothing): equal heads share a compiled step
        float(l2),
        rates,
    )
    fn = _COMPILED.get(key)
    if fn is None:
        fn = _COMPILED[key] = backend.compile(
            partial(
                train_batches,
                activation=activation,
                optimizer=optimizer,
                augment=augment,
                head=head,
                l2=float(l2),
                scan=backend.scan,
                rates=rates,
            )
        )
    return fn


def compiled_logits(backend, activation: str):
    """[`logits`][xpnet.model.compiled.logits] compiled for ``backend`` (made once, then reused)."""
    return compiled(backend, logits, activation=activation)


def logits_in_blocks(backend, params: dict, activation: str, X, batch_size: int = 8192):
    """The logits ``Z_L`` of ``X`` ``(m, n0)``, forward passes over blocks of ``batch_size`` rows
    (inference of a large X without a large temporary), ``(m, nL)``.

    Where the backend compiles, through [`logits`][xpnet.model.compiled.logits] compiled once: each
    block is padded with zero rows to a multiple of 256 (a power of two below 256), so that
    inputs of every size share a few compilations; the padding rows' logits are dropped.
    """
    xp = backend.xp
    fn = compiled_logits(backend, activation) if backend.compiles else None
    parts = []
    for i in range(0, X.shape[0], batch_size):
        Xi = X[i : min(i + batch_size, X.shape[0]), ...]
        if fn is None:
            parts.append(network.forward(params, Xi, activation)[0])
            continue
        m = Xi.shape[0]
        padded = 1 << (m - 1).bit_length() if m < 256 else -(-m // 256) * 256
        if padded != m:
            pad = xp.zeros((padded - m, Xi.shape[1]), dtype=Xi.dtype, device=backend.device)
            Xi = xp.concat([Xi, pad], axis=0)
        parts.append(fn(params, Xi)[:m, ...])
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)


def loss_and_gradients(params: dict, X, Y, weights, *, activation, loss="cross_entropy", l2=0.0):
    """[`step.loss_and_gradients`][xpnet.nn.step.loss_and_gradients] with the arrays
    positional and the rest static (what [`MLP.gradients`][xpnet.model.mlp.MLP.gradients] compiles)."""
    return step.loss_and_gradients(params, X, Y, activation, weights, loss, l2)


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
