"""The training loop of [`MLP.fit`][xpnet.model.mlp.MLP.fit], in named pieces.

The algorithm, as [`run_epochs`][xpnet.model.training.run_epochs] reads::

    for each epoch e:
        order ← a permutation of the samples, seeded with (seed, e)
        for each batch of that order:                     # eager_epoch / compiled_epoch
            M          ← dropout masks of (seed, e, batch)    # with dropout only
            ℓ, miss, grads ← batch_gradients(params, X_b, T_b, M)  # nn/step.py: forward, loss head,
                                                                 # backward (+ λ·W_l/s_b with L2)
            params     ← optimizer step
            θ̄         ← θ̄ + (1 − d_t)·(params − θ̄)            # with an EMA of the weights only
            sums      += Σ_b w_i ℓ_i, misses, Σ_b w_i          # EpochSums, on the device
        θ̄ ← θ̄ + (params − θ̄)/(n + 1)                       # with SWA only, from its start_epoch
        logs ← sums read once, validation, callbacks       # end_epoch

Nothing is read from the device inside an epoch: each sample's loss and miss are added in place
into device vectors of one batch's length and summed at the end. A step issues as few array
operations as it can (each is a kernel launch on a GPU; ``tests/core/test_lean_step.py`` pins
the count). Eagerly, a run without sample weights, dropout or L2 steps through
[`plan_step`][xpnet.nn.plan.plan_step]: ``batch_gradients`` with what it looks up per call
(namespace, activation, layer names, head, ones-vectors) bound once per epoch, the same
numbers bit for bit, so the features a run does not use cost it nothing per step. On a backend
that compiles (JAX) the batches run through
[`xpnet.model.compiled`][xpnet.model.compiled] instead: the same
[`batch_gradients`][xpnet.nn.step.batch_gradients] and update, handed to the compiler in runs of
steps. The loops keep only the update and their running sums.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ..backend import kernels
from ..errors import ConfigError, TrainingDiverged
from ..nn import averaging as rule
from ..nn import dropout
from ..nn.averaging import EMA
from ..nn.optim import Optimizer, optimizer_from_config
from ..nn.plan import plan_step
from ..nn.step import batch_gradients
from . import averaging, compiled
from .inputs import InvalidInput, InvalidInputType, training_inputs, validate_inputs

if TYPE_CHECKING:
    from .mlp import MLP

__all__ = [
    "TrainingRun",
    "prepare",
    "run_epochs",
    "EpochSums",
    "batch_ranges",
    "eager_epoch",
    "compiled_epoch",
    "end_epoch",
    "evaluate_on_device",
]

log = logging.getLogger("xpnet.model")  # the loop's records, under the model's name, as before

DEFAULT: Final = "default"  # batch_size="default": the model's own default (None means full batch)


@dataclass
class TrainingRun:
    """What one call of [`fit`][xpnet.model.mlp.MLP.fit] trains on, resolved and on the device."""

    X: Any
    """Features ``(n, n0)``."""
    T: Any
    """Targets ``(n, nL)``: one-hot rows, or real values."""
    w: Any
    """Sample weights ``(n,)`` or None."""
    val: tuple | None
    """``(X_val, y_val, w_val)`` on the device, or None."""
    batch_size: int
    total_epochs: int
    shuffle: bool
    augment: Any
    compiled: bool
    l2: float
    optimizer: Optimizer
    """The model's optimizer (set or made from its defaults by [`prepare`][xpnet.model.training.prepare])."""
    callbacks: list = field(default_factory=list)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def n_batches(self) -> int:
        return math.ceil(self.n / self.batch_size)


def prepare(
    model: MLP,
    X,
    y,
    epochs,
    batch_size,
    optimizer,
    validation_data,
    shuffle,
    callbacks,
    sample_weight,
    augment,
    compile,
    l2,
    class_weight=None,
    *,
    average=None,
) -> TrainingRun:
    """Check [`fit`][xpnet.model.mlp.MLP.fit]'s arguments, fill in the model's defaults, set the
    optimizer and move the data to the device (once per call)."""
    epochs = model.train_defaults["epochs"] if epochs is None else int(epochs)
    if epochs < 0:
        raise ConfigError(f"epochs must be >= 0, got {epochs}")
    if isinstance(batch_size, str):
        if batch_size != DEFAULT:
            raise ConfigError(
                f"batch_size must be a positive integer, None (full batch) or 'default', got {batch_size!r}"
            )
        batch_size = model.train_defaults["batch_size"]
    if batch_size is not None and int(batch_size) < 1:
        raise ConfigError(f"batch_size must be a positive integer or None (full batch), got {batch_size}")
    l2 = float(l2)
    if not (l2 >= 0 and math.isfinite(l2)):
        raise ConfigError(f"l2 must be a finite number >= 0, got {l2}")
    if optimizer is not None:
        if not isinstance(optimizer, Optimizer):
            raise InvalidInputType(f"optimizer must be an xpnet.optim.Optimizer, got {type(optimizer).__name__}")
    elif model.optimizer is not None:
        optimizer = model.optimizer
    else:
        optimizer = optimizer_from_config(dict(model.train_defaults["optimizer"]))
    model.optimizer = optimizer
    averaging.resolve(model, average)

    X, y, w = training_inputs(model, X, y, sample_weight, class_weight)
    T = model.head.targets(y, model.sizes[-1], model.dtype)  # built once; batches gather its rows
    if augment is not None:
        augment.prepare(X)  # on the device, once: it gives the augmented batches
    val = None
    if validation_data is not None:
        if len(validation_data) not in (2, 3):
            raise InvalidInput("validation_data must be (X_val, y_val) or (X_val, y_val, sample_weight_val)")
        X_val, y_val, *w_val = validation_data
        val = tuple(
            validate_inputs(
                model, X_val, y_val, w_val[0] if w_val else None, names=("X_val", "y_val", "sample_weight_val")
            )
        )
    n = X.shape[0]
    bs = n if batch_size is None else min(int(batch_size), n)
    return TrainingRun(
        X,
        T,
        w,
        val,
        bs,
        model.epoch + epochs,
        bool(shuffle),
        augment,
        _compiles(model, optimizer, compile, augment),
        l2,
        optimizer,
        list(callbacks),
    )


def _compiles(model: MLP, optimizer: Optimizer, compile: bool | None, augment) -> bool:
    """Whether the steps run compiled ([`fit`][xpnet.model.mlp.MLP.fit]'s ``compile``)."""
    if compile is False:
        return False
    why_not = None
    if not model.backend.compiles:
        why_not = f"the {model.backend.name} backend runs eagerly (only JAX compiles)"
    elif not optimizer.compilable:
        why_not = f"{type(optimizer).__name__} overrides step(), which a compiled step cannot call"
    elif augment is not None and not hasattr(augment, "gather"):
        why_not = f"{type(augment).__name__} has no pure gather() for a compiled step"
    if why_not is not None and compile:
        raise ConfigError(f"compile=True, but {why_not}; pass compile=None or False")
    return why_not is None


def run_epochs(model: MLP, run: TrainingRun) -> Iterator[dict]:
    """Train ``model`` epoch after epoch until ``run.total_epochs`` or a stop; yields each
    epoch's logs (the generator behind [`fit_epochs`][xpnet.model.mlp.MLP.fit_epochs])."""
    if model.batch >= run.n_batches:  # an unfinished epoch from a run with other batches
        model.batch = 0
    model.stop_training, model.stop_reason = False, None
    model.history.interrupted, model.history.stop_reason = False, None
    for cb in run.callbacks:
        cb.on_train_begin(model, run.total_epochs - model.epoch, run.n_batches)
    while model.epoch < run.total_epochs and not model.stop_training:
        e = model.epoch
        for cb in run.callbacks:
            cb.on_epoch_begin(model, e)
        start = time.perf_counter()
        host_order = None
        if run.shuffle and run.batch_size < run.n:
            host_order = model.backend.rng((model.seed, e)).permutation(run.n)
        order = None
        if host_order is not None and (not run.compiled or run.augment is not None):
            order = model.backend.asarray(host_order)
        if run.augment is not None:
            run.augment.start_epoch(e, order)
        if run.compiled:
            sums, lr = compiled_epoch(model, run, e, host_order)
        else:
            sums, lr = eager_epoch(model, run, e, order)
        if model.batch < run.n_batches:  # stopped inside the epoch
            model.history.interrupted = True
            break
        yield end_epoch(model, run, e, sums, lr, start)
    if model.stop_training:
        model.history.interrupted = model.stop_reason is None
        model.history.stop_reason = model.stop_reason
    for cb in run.callbacks:
        cb.on_train_end(model, model.history)


def batch_ranges(start: int, n: int, batch_size: int) -> Iterator[tuple[int, int, int]]:
    """``(b, lo, hi)`` of the batches ``b = start, …`` of an epoch of ``n`` samples: rows
    ``lo:hi`` of the epoch's order; the last batch may be shorter."""
    for b in range(start, math.ceil(n / batch_size)):
        yield b, b * batch_size, min((b + 1) * batch_size, n)


class EpochSums:
    """An epoch's running sums on the device, read once at its end by [`read`][xpnet.model.training.EpochSums.read].

    ``Σ w_i ℓ_i`` and ``−Σ w_i [missed_i]`` are kept as vectors of one batch's length, added
    to in place (no reduction per step); a shorter last batch is reduced on its own. ``Σ w_i``
    is counted on the host without sample weights. The L2 penalty ``(λ/2)·Σ_l ‖W_l‖²`` of
    each step is summed as a 0-d array.
    """

    def __init__(self, xp):
        self.xp = xp
        self.loss_rows = self.miss_rows = None
        self.tail: list = []  # (Σℓ, Σmiss) of a last, shorter batch
        self.seen = 0  # samples, or a 0-d device array of their summed weights
        self.penalty = None

    def add(self, ell, miss, wb, m: int) -> None:
        """One batch: its ``ℓ`` ``(m,)``, ``−[missed]`` ``(m,)`` or None, and weights or None."""
        xp = self.xp
        if wb is not None:
            ell *= wb
            if miss is not None:
                miss *= wb
            self.seen = self.seen + xp.sum(wb)
        else:
            self.seen += m
        if self.loss_rows is None:
            self.loss_rows, self.miss_rows = ell, miss
        elif m == self.loss_rows.shape[0]:
            self.loss_rows += ell
            if miss is not None:
                self.miss_rows += miss
        else:
            self.tail.append((xp.sum(ell), None if miss is None else xp.sum(miss)))

    def add_penalty(self, p) -> None:
        self.penalty = p if self.penalty is None else self.penalty + p

    def totals(self) -> tuple:
        """``(Σ w ℓ, −Σ w [missed] or None, Σ w, Σ penalty or None)``, device 0-d arrays
        (``Σ w`` a Python int without sample weights)."""
        xp = self.xp
        loss = xp.sum(self.loss_rows)
        miss = None if self.miss_rows is None else xp.sum(self.miss_rows)
        for t_loss, t_miss in self.tail:
            loss = loss + t_loss
            miss = None if miss is None else miss + t_miss
        return loss, miss, self.seen, self.penalty

    @staticmethod
    def read(backend, totals: tuple | list) -> list:
        """The totals as Python floats (None stays None), in one read from the device."""
        xp = backend.xp
        arrays = [t for t in totals if t is not None and not isinstance(t, (int, float))]
        host = iter(
            backend.to_numpy(xp.stack([xp.astype(a, arrays[0].dtype) for a in arrays])).tolist() if arrays else ()
        )  # (NumPy's float64 scalars are floats already)
        return [None if t is None else float(t) if isinstance(t, (int, float)) else next(host) for t in totals]


def eager_epoch(model: MLP, run: TrainingRun, e: int, order) -> tuple[tuple, float]:
    """The rest of epoch ``e`` (from batch `batch` on), one step after the other, each array
    operation dispatched on its own. ``order`` is the epoch's sample order on the device
    (``None``: unshuffled). Returns the epoch's [`totals`][xpnet.model.training.EpochSums.totals]
    and the last step's learning rate.

    What a step needs is decided before the loop: how a batch's rows are fetched, and the step
    itself, planned once ([`plan_step`][xpnet.nn.plan.plan_step]) for a run without sample
    weights, dropout or L2, else [`batch_gradients`][xpnet.nn.step.batch_gradients].
    """
    xp, opt, n, bs = model.backend.xp, run.optimizer, run.n, run.batch_size
    n_batches = run.n_batches
    constant_lr = opt.schedule.constant_within_epochs
    if constant_lr:  # the rate, and the factor folded into dZ_L, once per epoch
        lr = opt.lr_at(e, run.total_epochs)
        scale = opt.gradient_scale(lr)
    sums = EpochSums(xp)
    keys = _dropout_keys(model, e, n_batches)
    masks = None
    ema = model.averaging if isinstance(model.averaging, EMA) else None  # (an SWA: once per epoch)
    averaged = model.averaged_params
    fetch = _batch_fetcher(run, order, xp)
    planned = None
    if run.w is None and not run.l2 and keys is None:
        planned = plan_step(model.params, xp, activation=model.activation, head=model.head)
    callbacks = run.callbacks
    for b, lo, hi in batch_ranges(model.batch, n, bs):
        Xb, Tb, wb = fetch(lo, hi)
        if not constant_lr:
            lr = opt.lr_at(e + b / n_batches, run.total_epochs)
            scale = opt.gradient_scale(lr)
        if planned is not None:
            ell, miss, grads = planned(model.params, Xb, Tb, scale)
            penalty = None
        else:
            if keys is not None:
                masks = dropout.batch_masks(
                    xp, model.sizes[1:-1], hi - lo, model.dtype, model.backend.device, keys[b].tolist(), model.dropout
                )
            ell, miss, grads, penalty = batch_gradients(
                model.params,
                Xb,
                Tb,
                activation=model.activation,
                head=model.head,
                weights=wb,
                l2=run.l2,
                masks=masks,
                scale=scale,
            )
        opt.step(model.params, grads, lr, scaled_by=scale)
        if ema is not None and averaged is not None:
            rule.update(averaged, model.params, ema.rates(1)[0])
            ema.t += 1
        sums.add(ell, miss, wb, hi - lo)
        if penalty is not None:
            sums.add_penalty(penalty)
        model.batch = b + 1
        for cb in callbacks:
            cb.on_batch_end(model, e, b, n_batches)
        if model.stop_training:
            break
    return sums.totals(), lr


def _batch_fetcher(run: TrainingRun, order, xp) -> Callable[[int, int], tuple]:
    """``fetch(lo, hi) -> (X_b, T_b, w_b)``: rows ``lo:hi`` of the epoch's order, chosen once
    per epoch (the whole data, slices, gathers with [`take_rows`][xpnet.backend.Kernels.take_rows],
    or the augmentation's batches); ``w_b`` is None without sample weights."""
    X, T, w, augment = run.X, run.T, run.w, run.augment
    if run.batch_size == run.n:
        if augment is not None:
            return lambda lo, hi: (augment.batch(lo, hi), T, w)
        return lambda lo, hi: (X, T, w)
    if order is None:
        if augment is not None:
            return lambda lo, hi: (augment.batch(lo, hi), T[lo:hi, ...], None if w is None else w[lo:hi])
        return lambda lo, hi: (X[lo:hi, ...], T[lo:hi, ...], None if w is None else w[lo:hi])
    take = kernels(xp).take_rows

    def gather(lo, hi):
        idx = order[lo:hi]
        Xb = take(X, idx) if augment is None else augment.batch(lo, hi)
        return Xb, take(T, idx), None if w is None else take(w, idx)

    return gather


def _dropout_keys(model: MLP, e: int, n_batches: int):
    """Epoch ``e``'s dropout keys ``(n_batches, L − 1)`` on the host, or None without dropout."""
    if not any(model.dropout):
        return None
    rng = model.backend.rng((model.seed, e, dropout.KEY_STREAM))
    return dropout.epoch_keys(rng, n_batches, len(model.dropout))


def compiled_epoch(model: MLP, run: TrainingRun, e: int, order) -> tuple[tuple, float]:
    """The rest of epoch ``e`` (from batch `batch` on) through the compiled steps of
    [`xpnet.model.compiled`][xpnet.model.compiled]: the full-size batches in runs of up to
    [`MAX_CHUNK`][xpnet.model.compiled.MAX_CHUNK], then a shorter last batch on its own.

    ``order`` is the epoch's sample order on the host (``None``: unshuffled). `params`, the
    optimizer's state and step count, and `batch` are updated after every run, before its
    batches' ``on_batch_end`` callbacks. Returns the epoch's totals (as
    [`EpochSums.totals`][xpnet.model.training.EpochSums.totals]) and the last step's learning rate.
    """
    backend, opt, augment = model.backend, run.optimizer, run.augment
    xp, n, bs = backend.xp, run.n, run.batch_size
    n_batches, full = run.n_batches, n // bs
    fn = compiled.compiled_train_batches(backend, model.activation, opt, augment, model.head, run.l2, model.dropout)
    opt.ensure_state(model.params)
    data = (run.X, run.T, run.w, None if augment is None else augment.device_constants())
    zero = xp.zeros((), dtype=model.dtype, device=backend.device)
    sums = (zero, zero, zero, zero)
    runs = compiled.chunks(model.batch, full) + ([(full, n_batches)] if full < n_batches else [])
    lr = opt.lr_at(e + model.batch / n_batches, run.total_epochs)
    keys = _dropout_keys(model, e, n_batches)
    ema = model.averaging if isinstance(model.averaging, EMA) else None  # (an SWA: once per epoch)
    for b0, b1 in runs:
        lo, hi, k = b0 * bs, min(b1 * bs, n), b1 - b0
        m = (hi - lo) // k
        idx = None
        if bs < n and order is None:
            idx = xp.reshape(xp.arange(lo, hi, dtype=backend.index_dtype, device=backend.device), (k, m))
        elif bs < n:
            idx = backend.asarray(order[lo:hi].reshape(k, m), backend.index_dtype)
        if opt.schedule.constant_within_epochs:
            lrs = [opt.lr_at(e, run.total_epochs)] * k
        else:
            lrs = [opt.lr_at(e + b / n_batches, run.total_epochs) for b in range(b0, b1)]
        rows = compiled.step_coefficients(opt, lrs, opt.t)
        if ema is not None:  # 1 − d_t, one more column
            rows = [row + [rate] for row, rate in zip(rows, ema.rates(k))]
        coefficients = backend.asarray(rows, model.dtype_name)
        aug_batches = (
            None
            if augment is None
            else tuple(xp.reshape(a, (k, m, *a.shape[1:])) for a in augment.batch_arrays(lo, hi))
        )
        batch_keys = None if keys is None else backend.asarray(keys[b0:b1], "int32")
        model.params, opt.state, sums, averaged = fn(
            model.params,
            opt.state,
            sums,
            data,
            (idx, coefficients, aug_batches, batch_keys),
            None if ema is None else model.averaged_params,
        )
        opt.t += k
        if ema is not None:
            model.averaged_params = averaged
            ema.t += k
        lr = lrs[-1]
        model.batch = b1
        for b in range(b0, b1):
            for cb in run.callbacks:
                cb.on_batch_end(model, e, b, n_batches)
        if model.stop_training:
            break
    loss, miss, seen, penalty = sums
    return (loss, miss if model.head.classifies else None, seen, penalty if run.l2 else None), lr


def end_epoch(model: MLP, run: TrainingRun, e: int, totals: tuple, lr: float, start: float) -> dict:
    """Read the epoch's totals (one read from the device), add the weights to an SWA mean
    ([`averaging.end_epoch`][xpnet.model.averaging.end_epoch]), evaluate the validation data
    (with that mean), record the epoch in the model's history and call the ``on_epoch_end``
    callbacks; returns the logs.

    The logged ``loss`` is ``(Σ w_i ℓ_i + Σ_steps (λ/2)·Σ_l ‖W_l‖²) / Σ w_i`` over the epoch
    (the penalty term, when ``l2`` is set, also alone as ``penalty``).

    Raises
    ------
    TrainingDiverged
        The loss is NaN or infinite.
    """
    loss_sum, miss, seen, penalty = EpochSums.read(model.backend, totals)
    loss = (loss_sum + (penalty or 0.0)) / seen
    if not math.isfinite(loss):
        raise TrainingDiverged(
            f"the training loss became {loss} in epoch {e + 1}; lower the learning rate "
            f"(it was {run.optimizer.lr:g}) or check the inputs are scaled (e.g. to [0, 1])"
        )
    logs = {
        "epoch": e + 1,
        "loss": loss,
        "accuracy": None if miss is None else (seen + miss) / seen,
        "val_loss": None,
        "val_accuracy": None,
        "lr": lr,
    }
    if run.l2:
        logs["penalty"] = penalty / seen
    averaging.end_epoch(model, e)
    if run.val is not None:
        val_loss, val_score = evaluate_on_device(model, *run.val)
        logs["val_loss"] = val_loss
        logs["val_accuracy" if model.head.classifies else "val_r2"] = val_score
    model.epoch, model.batch = e + 1, 0
    logs["epoch_time"] = time.perf_counter() - start
    model.history.append(logs)
    log.debug("epoch %d: %s", e + 1, logs)
    for cb in run.callbacks:
        cb.on_epoch_end(model, e, logs)
    return logs


def evaluate_on_device(model: MLP, X, y, w=None) -> tuple[float, float]:
    """The mean loss and the head's score (accuracy, or R²) of ``model`` on device data
    ``(X, y, w)`` (as [`MLP.validate_data`][xpnet.model.mlp.MLP.validate_data] returns them), as
    floats, from one forward pass and one read; with the averaged weights where the model
    keeps them ([`inference_params`][xpnet.model.averaging.inference_params])."""
    xp = model.backend.xp
    Z = compiled.logits_in_blocks(model.backend, averaging.inference_params(model), model.activation, X)
    loss_sum, _ = model.head.loss_sum(Z, model.head.targets(y, model.sizes[-1], model.dtype), w)
    num, den = model.head.score(Z, y, w)
    values = [loss_sum, num, X.shape[0] if w is None else xp.sum(w), den]
    loss_sum, num, n, den = EpochSums.read(model.backend, values)
    return loss_sum / n, num / den


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
