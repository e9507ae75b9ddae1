"""``MLP``: the network as an object you can fit, evaluate, move between backends and inspect.

The math lives in [`xpnet.network`][xpnet.network] (forward, loss, backward) and [`xpnet.optim`][xpnet.optim]
(updates); this module owns the parameters, the backend they live on, and the training loop.

The training loop never synchronises with the device inside an epoch: each sample's loss and
miss are added in place into device vectors of one batch's length, summed and read once at the
end of the epoch. A step issues as few array operations as it can (each is a kernel launch on a
GPU; ``tests/core/test_lean_step.py`` pins the count). Shuffling uses a host generator seeded with
``(seed, epoch)``, so an epoch's order is the same on every backend and a resumed run sees the
same batches as an uninterrupted one; augmentation (``fit(augment=...)``) draws on the host per
epoch and is applied per batch on the device.

[`History`][xpnet.model.History] and [`Callback`][xpnet.model.Callback] are defined in
``xpnet.history``, [`ModelInputs`][xpnet.model.ModelInputs] and the Dask and unscaled-input
helpers in ``xpnet.inputs``; all are importable from here.
"""

from __future__ import annotations

import copy as _copy
import logging
import math
import time
from typing import Iterable, Iterator, Literal

from . import network, steps
from .activations import get_activation
from .backend import Backend, array_library, get_backend, resolve_seed, unpickle_target
from .errors import ConfigError, XpnetError
from .init import INITIALIZERS, init_layer
from .optim import SGD, Adam, Optimizer, optimizer_from_config
from .history import Callback, History
from .input_transform import Preprocessing
from .inputs import ModelInputs, is_integer_array, lazy_map, refuse_dask, warn_if_unscaled
from .validation import (InvalidInput, InvalidInputType, check_features, check_labels, check_sample_weight,
                         unsigned_integer)

__all__ = ["MLP", "History", "Callback", "TrainingDiverged", "ModelInputs"]

log = logging.getLogger("xpnet.model")

DEFAULT = "default"  # batch_size="default": the model's own default (None means full batch)


class TrainingDiverged(XpnetError, FloatingPointError):
    """The training loss became NaN or infinite."""


class MLP:
    """A fully connected network with softmax output, trained with hand-written backprop.

    Parameters
    ----------
    sizes
        Layer widths ``[n0, n1, ..., nL]``: ``n0`` inputs, hidden widths, ``nL`` classes.
    activation
        Hidden activation: ``relu`` (default), ``leaky_relu``, ``tanh`` or ``sigmoid``.
    init
        ``he`` (default), ``glorot`` or ``tutorial`` (uniform in [−0.5, 0.5], biases too).
    dtype
        ``float32`` (default) or ``float64``.
    backend
        A backend spec (``"auto"``, ``"cpu"``, ``"gpu"``, ...; see [`xpnet.get_backend`][xpnet.backend.get_backend])
        or a [`Backend`][xpnet.backend.Backend]. ``None`` means ``$XPNET_BACKEND`` or ``"auto"``.
    seed
        Seeds the initial weights and the shuffling; the same seed gives the same numbers on
        every backend. ``None`` draws a seed; a NumPy ``RandomState`` or ``Generator`` draws
        one from itself (scikit-learn's ``random_state`` conventions). The int used is
        `seed`.
    preprocessing
        The input transform the model applies to X itself, in [`fit`][xpnet.model.MLP.fit] and in every
        inference and evaluation method (a [`Preprocessing`][xpnet.input_transform.Preprocessing], or
        its ``get_config()`` dict); saved with the model by [`xpnet.save`][xpnet.checkpoint.save]. ``None``
        (default): X is used as given.

    Attributes
    ----------
    params
        dict of arrays ``W1 (n1, n0), b1 (n1,), ..., WL, bL`` on the model's backend.
    backend
        the [`Backend`][xpnet.backend.Backend] the parameters live on.
    optimizer
        the optimizer of the last [`fit`][xpnet.model.MLP.fit] (its state carries over to the next).
    epoch
        number of finished training epochs; ``batch``: steps done in an unfinished epoch.
    history
        [`History`][xpnet.model.History] of every epoch trained so far.
    preprocessing
        the [`Preprocessing`][xpnet.input_transform.Preprocessing] applied to inputs, or None.
    """

    def __init__(self, sizes: Iterable[int], activation: str = "relu", init: str = "he",
                 dtype: str = "float32", backend: str | Backend | None = None, seed: int | None = 0,
                 preprocessing: Preprocessing | dict | None = None):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ConfigError(f"sizes must list at least two positive layer widths, got {sizes}")
        if sizes[-1] < 2:
            raise ConfigError(f"the output layer needs at least 2 classes, got {sizes[-1]}")
        if init not in INITIALIZERS:
            raise ConfigError(f"unknown init {init!r}; choose one of {', '.join(INITIALIZERS)}")
        self.sizes = sizes
        self.activation = get_activation(activation).name
        self.init = init
        self.seed = resolve_seed(seed)
        if isinstance(preprocessing, dict):
            preprocessing = Preprocessing.from_config(preprocessing)
        if preprocessing is not None and not isinstance(preprocessing, Preprocessing):
            raise InvalidInputType("preprocessing must be an xpnet.Preprocessing, its get_config() dict, or None; "
                            f"got {type(preprocessing).__name__}")
        self.preprocessing = preprocessing
        self.backend = get_backend(backend)
        self.dtype_name = str(dtype)
        self.dtype = self.backend.float_dtype(self.dtype_name)
        self.params = self._initial_params()
        self.optimizer: Optimizer | None = None
        self.epoch = 0
        self.batch = 0
        self.history = History()
        self.stop_training = False
        self.train_defaults = {"epochs": 10, "batch_size": 128, "optimizer": {"name": "adam", "lr": 1e-3}}

    @classmethod
    def tutorial(cls, backend: str | Backend | None = None, seed: int = 0,
                 dtype: str = "float32") -> "MLP":
        """The tutorial's network exactly: 784 → 10 ReLU → 10 softmax, weights and biases
        uniform in [−0.5, 0.5]; [`fit`][xpnet.model.MLP.fit] then defaults to full-batch gradient descent with
        α = 0.1 for 500 iterations (``epochs=500, batch_size=None, optimizer=SGD(lr=0.1)``).
        """
        model = cls([784, 10, 10], activation="relu", init="tutorial", dtype=dtype,
                    backend=backend, seed=seed)
        model.train_defaults = {"epochs": 500, "batch_size": None, "optimizer": {"name": "sgd", "lr": 0.1}}
        return model

    # -- parameters ----------------------------------------------------------------------------
    def _initial_params(self) -> dict:
        rng = self.backend.rng(self.seed)
        xp = self.backend.xp
        params = {}
        for l, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            W, b = init_layer(rng, fan_in, fan_out, self.init)
            params[f"W{l}"] = self.backend.asarray(W, self.dtype_name)
            params[f"b{l}"] = (
                xp.zeros((fan_out,), dtype=self.dtype, device=self.backend.device)
                if b is None else self.backend.asarray(b, self.dtype_name)
            )
        return params

    @property
    def n_layers(self) -> int:
        """Number of weight layers L."""
        return len(self.sizes) - 1

    @property
    def n_params(self) -> int:
        """Total number of trainable numbers."""
        return sum(a * b + b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    def get_config(self) -> dict:
        """Architecture and settings as a JSON-friendly dict (weights not included)."""
        return {"sizes": list(self.sizes), "activation": self.activation, "init": self.init,
                "dtype": self.dtype_name, "seed": self.seed,
                "preprocessing": None if self.preprocessing is None else self.preprocessing.get_config()}

    def numpy_params(self) -> dict:
        """The parameters copied to host NumPy arrays, ``{"W1": ..., "b1": ..., ...}``."""
        return {k: self.backend.to_numpy(v, copy=True) for k, v in self.params.items()}

    def set_params(self, params: dict) -> None:
        """Replace the parameters with host or device arrays of the same names and shapes."""
        expected = {k: tuple(v.shape) for k, v in self.params.items()}
        missing = sorted(set(expected) - set(params))
        extra = sorted(set(params) - set(expected))
        if missing or extra:
            raise InvalidInput(f"parameter names differ: missing {missing}, unexpected {extra}")
        new = {}
        for k, shape in expected.items():
            if tuple(params[k].shape) != shape:
                raise InvalidInput(f"parameter {k} must have shape {shape}, got {tuple(params[k].shape)}")
            new[k] = self.backend.asarray(params[k], self.dtype_name)
        self.params = new

    def to(self, backend: str | Backend, dtype: str | None = None) -> "MLP":
        """Move the parameters (and optimizer state) to another backend, in place; returns self.

        ``model.to("cpu")``, ``model.to("gpu")``, ``model.to("torch:cuda")``, ...
        """
        target = get_backend(backend)
        dtype_name = dtype or self.dtype_name
        target_dtype = target.float_dtype(dtype_name)
        host = self.numpy_params()
        opt_host = None
        if self.optimizer is not None:
            opt_host = {k: self.backend.to_numpy(v) for k, v in self.optimizer.state_arrays().items()}
        self.backend, self.dtype_name, self.dtype = target, dtype_name, target_dtype
        self.params = {k: target.asarray(v, dtype_name) for k, v in host.items()}
        if opt_host is not None:
            self.optimizer.load_state(self.optimizer.t, {k: target.asarray(v, dtype_name)
                                                         for k, v in opt_host.items()})
        return self

    def copy(self, backend: str | Backend | None = None, dtype: str | None = None) -> "MLP":
        """A new model with the same architecture and weights (no optimizer state or history)."""
        clone = MLP.__new__(MLP)
        clone.__dict__.update(self.__dict__)
        clone.optimizer, clone.history = None, History()
        clone.params = dict(self.params)
        clone.to(backend or self.backend, dtype or self.dtype_name)
        xp = clone.backend.xp  # `to` may alias host arrays on NumPy: make the copy real
        clone.params = {k: xp.asarray(v, copy=True) for k, v in clone.params.items()}
        return clone

    # -- data ----------------------------------------------------------------------------------
    def validate_data(self, X, y=None, sample_weight=None, *, names=("X", "y", "sample_weight")
                      ) -> ModelInputs:
        """Check ``X`` (and ``y``, ``sample_weight``) and move them to the model's backend.

        What every public entry point does with its inputs; public so that tools working on
        the network's arrays directly ([`xpnet.gradcheck`][xpnet.gradcheck], the benchmark) do the same.

        Parameters
        ----------
        X : array_like
            Features, shape ``(m, n0)``: a NumPy array, a list, or an array of any supported
            library (arrays of the model's own backend and device are used where they are).
        y : array_like, optional
            Integer class labels ``(m,)`` in ``[0, n_classes)``, of any integer dtype.
        sample_weight : array_like or float, optional
            Non-negative per-sample weights ``(m,)`` (a number means equal weights).
        names : tuple of str
            The names used in error messages.

        Returns
        -------
        ModelInputs
            ``(X, y, sample_weight)`` on the model's device: X and the weights in the model's
            dtype, y in the namespace's index dtype
            ([`Backend.index_dtype`][xpnet.backend.Backend.index_dtype]: int64, or int32 on
            JAX without 64-bit mode); ``None`` for what was not given.

        Raises
        ------
        ValueError, TypeError
            Saying what is wrong with which input and what was expected.
        """
        X = self.backend.host_or_native(X)
        if self.preprocessing is not None:
            X = self.preprocessing.transform(X, self.dtype_name)
        check_features(X, self.sizes[0], names[0])
        X = self.backend.asarray(X, self.dtype_name)
        n = X.shape[0]
        if y is not None:
            y = self.backend.host_or_native(y)
            if self.backend.is_native(y) and unsigned_integer(y):
                # Once, here: PyTorch implements few operations (min, max, ...) on uint16-64.
                y = self.backend.xp.astype(y, self.backend.index_dtype)
            check_labels(y, n, self.sizes[-1], names[1])
            y = self.backend.asarray(y, self.backend.index_dtype)
        if sample_weight is not None:
            if isinstance(sample_weight, (int, float)):
                sample_weight = [float(sample_weight)] * n
            sample_weight = self.backend.host_or_native(sample_weight)
            check_sample_weight(sample_weight, n, names[2])
            sample_weight = self.backend.asarray(sample_weight, self.dtype_name)
        return ModelInputs(X, y, sample_weight)

    # -- training ------------------------------------------------------------------------------
    def fit(self, X, y, epochs: int | None = None,
            batch_size: int | None | Literal["default"] = DEFAULT,
            optimizer: Optimizer | None = None, validation_data=None, shuffle: bool = True,
            callbacks: Iterable[Callback] = (), sample_weight=None, augment=None,
            compile: bool | None = None) -> History:
        """Train on ``X`` (m × n0 features) and ``y`` (m integer labels).

        Parameters
        ----------
        X : array_like
            Features ``(m, n0)``: NumPy, a list, or arrays of the model's own backend/device.
        y : array_like
            Integer class labels ``(m,)`` in ``[0, n_classes)``, any integer dtype.
        epochs
            How many epochs to train (more, if the model was trained before). An epoch left
            unfinished by an interruption is finished first and counts as one of them.
            Default: 10 (500 for [`tutorial`][xpnet.model.MLP.tutorial]).
        batch_size
            Samples per step; ``None`` means the full batch (the tutorial's gradient descent).
            ``"default"``: 128 (``None`` for [`tutorial`][xpnet.model.MLP.tutorial]).
        optimizer
            An [`Optimizer`][xpnet.optim.Optimizer]. Default: the optimizer of the previous call
            (continuing its state), else ``Adam(lr=1e-3)`` (``SGD(lr=0.1)`` for [`tutorial`][xpnet.model.MLP.tutorial]).
        validation_data
            Optional ``(X_val, y_val)`` or ``(X_val, y_val, w_val)`` evaluated after every epoch.
        shuffle
            Draw a new order of the samples every epoch (ignored for full batch).
        callbacks
            [`Callback`][xpnet.model.Callback] objects (progress bars, checkpoints, ...).
        sample_weight
            Optional non-negative weights ``(m,)``. The loss is then the weighted mean
            ``Σ_i w_i ℓ_i / Σ_i w_i`` (scikit-learn's ``np.average`` semantics). Each step uses
            its batch's weights normalised by the batch's own weight sum (as scikit-learn's
            ``MLPClassifier`` does), so a full-batch step is exactly the weighted mean over the
            whole set; a batch whose weights are all 0 changes nothing. The logged loss and
            accuracy are weighted means over the epoch.
        augment
            Optional augmentation of every batch on the model's device, such as
            [`xpnet.augment.RandomShifts`][xpnet.augment.RandomShifts]: an object with ``prepare(X)`` (called once,
            with the features on the device), ``start_epoch(epoch, order)`` (the epoch's sample
            order on the device, ``None`` when not shuffled) and ``batch(lo, hi)`` (the
            augmented features of the samples ``order[lo:hi]``). The training data crosses to
            the device once per call, however many epochs are trained. On a backend that
            compiles (JAX), the augmentation also needs ``structure()``,
            ``device_constants()``, ``batch_arrays(lo, hi)`` and a pure ``gather(constants,
            arrays)``, as [`RandomShifts`][xpnet.augment.RandomShifts] has; without them
            training runs eagerly.

        compile
            ``None`` (default): compile the training steps where the backend compiles (see
            Notes); ``False``: run them eagerly, operation by operation, on every backend
            (slower on JAX; the same numbers to rounding); ``True``: compile, or raise
            [`ConfigError`][xpnet.errors.ConfigError] where that is not possible.

        Notes
        -----
        On a backend that compiles ([`Backend.compiles`][xpnet.backend.Backend.compiles]: JAX),
        the steps run compiled ([`xpnet.steps`][xpnet.steps]), up to
        [`MAX_CHUNK`][xpnet.steps.MAX_CHUNK] of them per call; the batches' ``on_batch_end``
        callbacks then run after each such run of steps, and ``stop_training`` stops at its
        end. An optimizer that is not [`compilable`][xpnet.optim.Optimizer.compilable] (one
        that overrides ``step``) is stepped eagerly instead.

        Returns
        -------
        The model's [`History`][xpnet.model.History] (every epoch trained so far, not only this call's).

        Raises
        ------
        TrainingDiverged
            the loss became NaN or infinite (lower the learning rate).
        """
        for _ in self.fit_epochs(X, y, epochs, batch_size, optimizer, validation_data, shuffle,
                                 callbacks, sample_weight=sample_weight, augment=augment,
                                 compile=compile):
            pass
        return self.history

    def fit_epochs(self, X, y, epochs: int | None = None,
                   batch_size: int | None | Literal["default"] = DEFAULT,
                   optimizer: Optimizer | None = None, validation_data=None, shuffle: bool = True,
                   callbacks: Iterable[Callback] = (), sample_weight=None,
                   augment=None, compile: bool | None = None) -> Iterator[dict]:
        """[`fit`][xpnet.model.MLP.fit] as a generator: trains one epoch per ``next()`` and yields its logs.

        The arguments are [`fit`][xpnet.model.MLP.fit]'s. Each yielded dict is the epoch's entry of
        `history`: ``{"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr",
        "epoch_time"}``. Nothing is trained before the first ``next()``; stop iterating (or
        ``close()`` the generator) to stop between epochs, with the model's state as after the
        last yielded epoch. [`fit`][xpnet.model.MLP.fit] runs it to the end; the benchmark advances it one epoch
        at a time, so that xpnet's epochs interleave with other contenders' in one process and
        their timings include exactly what ``fit`` does per epoch.

        Yields
        ------
        dict
            The logs of each finished epoch.
        """
        refuse_dask(X, y, sample_weight)
        epochs = self.train_defaults["epochs"] if epochs is None else int(epochs)
        if epochs < 0:
            raise ConfigError(f"epochs must be >= 0, got {epochs}")
        if isinstance(batch_size, str):
            if batch_size != DEFAULT:
                raise ConfigError(f"batch_size must be a positive integer, None (full batch) or "
                                 f"'default', got {batch_size!r}")
            batch_size = self.train_defaults["batch_size"]
        if batch_size is not None and int(batch_size) < 1:
            raise ConfigError(f"batch_size must be a positive integer or None (full batch), got {batch_size}")
        if optimizer is not None:
            if not isinstance(optimizer, Optimizer):
                raise InvalidInputType(f"optimizer must be an xpnet.optim.Optimizer, got {type(optimizer).__name__}")
            self.optimizer = optimizer
        elif self.optimizer is None:
            self.optimizer = optimizer_from_config(self.train_defaults["optimizer"])

        xp, dtype = self.backend.xp, self.dtype
        if self.preprocessing is None:
            X = self.backend.host_or_native(X)
            integers = is_integer_array(X)
        X, y, w = self.validate_data(X, y, sample_weight)
        if self.preprocessing is None:
            warn_if_unscaled(X, integers)
        Y = network.one_hot(y, self.sizes[-1], dtype)  # built once; batches gather its rows
        if augment is not None:
            augment.prepare(X)  # on the device, once: it gives the augmented batches
        val = None
        if validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise InvalidInput("validation_data must be (X_val, y_val) or (X_val, y_val, sample_weight_val)")
            val = self.validate_data(*validation_data,
                                     names=("X_val", "y_val", "sample_weight_val"))

        n = X.shape[0]
        bs = n if batch_size is None else min(int(batch_size), n)
        n_batches = math.ceil(n / bs)
        if self.batch >= n_batches:  # an unfinished epoch from a run with other batches
            self.batch = 0
        total_epochs = self.epoch + epochs
        self.stop_training = False
        self.history.interrupted = False
        callbacks = list(callbacks)
        for cb in callbacks:
            cb.on_train_begin(self, epochs, n_batches)

        compiled = self._compiles_training(compile, self.optimizer, augment)
        while self.epoch < total_epochs and not self.stop_training:
            e = self.epoch
            for cb in callbacks:
                cb.on_epoch_begin(self, e)
            start = time.perf_counter()
            order = host_order = None
            if shuffle and bs < n:
                host_order = self.backend.rng((self.seed, e)).permutation(n)
                if not compiled or augment is not None:
                    order = self.backend.asarray(host_order)
            if augment is not None:
                augment.start_epoch(e, order)
            if compiled:
                sums, seen, lr = self._compiled_epoch(e, (X, Y, w), host_order, augment, bs,
                                                      total_epochs, callbacks)
            else:
                sums, seen, lr = self._eager_epoch(e, (X, Y, w), order, augment, bs,
                                                   total_epochs, callbacks)
            if self.batch < n_batches:  # interrupted inside the epoch
                self.history.interrupted = True
                break
            # One read from the device per epoch: Σℓ, −(misses) and the weights' sum.
            host = self.backend.to_numpy(xp.stack(sums)).tolist()
            seen = host[2] if seen is None else seen
            loss = host[0] / seen
            accuracy = (seen + host[1]) / seen
            if not math.isfinite(loss):
                raise TrainingDiverged(
                    f"the training loss became {loss} in epoch {e + 1}; lower the learning rate "
                    f"(it was {self.optimizer.lr:g}) or check the inputs are scaled (e.g. to [0, 1])"
                )
            logs = {"epoch": e + 1, "loss": loss, "accuracy": accuracy, "val_loss": None,
                    "val_accuracy": None, "lr": lr}
            if val is not None:
                logs["val_loss"], logs["val_accuracy"] = self._evaluate_device(*val)
            self.epoch, self.batch = e + 1, 0
            logs["epoch_time"] = time.perf_counter() - start
            self.history.append(logs)
            log.debug("epoch %d: %s", e + 1, logs)
            for cb in callbacks:
                cb.on_epoch_end(self, e, logs)
            yield logs
        if self.stop_training:
            self.history.interrupted = True
        for cb in callbacks:
            cb.on_train_end(self, self.history)

    def _train_step(self, X, Y, lr: float, scale: float, w=None):
        """One step on a batch: forward, loss, backward, update.

        ``scale`` is the optimizer's [`gradient_scale`][xpnet.optim.Optimizer.gradient_scale] at ``lr``
        (α for plain SGD, 1 − β1 for Adam), folded into ``dZ_L`` so that it needs no pass of
        its own over the weights. Returns the device arrays ``(log_s, t)`` of
        [`xpnet.network.softmax_cross_entropy_rows`][xpnet.network.softmax_cross_entropy_rows] (``ℓ_i = log_s_i − t_i``; ``t_i = 0``
        when sample i is classified correctly) without reading them.
        """
        Z, cache = network.forward(self.params, X, self.activation)
        log_s, t, P = network.softmax_cross_entropy_rows(Z, Y)
        grads = network.backward(self.params, cache, P, Y, self.activation, scale=scale, weights=w)
        self.optimizer.step(self.params, grads, lr, scaled_by=scale)
        return log_s, t

    def _eager_epoch(self, e: int, data: tuple, order, augment, bs: int, total_epochs: int,
                     callbacks: list) -> tuple[list, int | None, float]:
        """The rest of epoch ``e`` (from batch `batch` on), one [`_train_step`][xpnet.model.MLP]
        after the other, each array operation dispatched on its own.

        ``order`` is the epoch's sample order on the device (``None``: unshuffled). Each
        sample's loss ℓ_i and −[sample i missed] (weighted by w_i) are added in place into
        vectors of one batch's length and summed at the end, so nothing is read from the device
        here. Returns the device sums ``[Σ w_i ℓ_i, −Σ w_i [missed_i]]`` (and ``Σ w_i`` with
        sample weights), the number of samples seen (``None`` with sample weights: it is the
        last sum), and the last step's learning rate.
        """
        X, Y, w = data
        xp, optimizer, n = self.backend.xp, self.optimizer, X.shape[0]
        n_batches = math.ceil(n / bs)
        constant_lr = optimizer.schedule.constant_within_epochs
        if constant_lr:  # the rate, and the factor folded into dZ_L, once per epoch
            lr = optimizer.lr_at(e, total_epochs)
            scale = optimizer.gradient_scale(lr)
        loss_rows = miss_rows = None
        tail = []  # the sums of a last, shorter batch
        seen = 0  # samples, or a 0-d device array of their summed weights
        for b in range(self.batch, n_batches):
            lo, hi = b * bs, min((b + 1) * bs, n)
            wb = None
            if bs == n:
                Xb, Yb, wb = X, Y, w
            elif order is None:
                Xb, Yb = X[lo:hi, ...], Y[lo:hi, ...]
                if w is not None:
                    wb = w[lo:hi]
            else:
                idx = order[lo:hi]
                Yb = xp.take(Y, idx, axis=0)
                Xb = xp.take(X, idx, axis=0) if augment is None else None
                if w is not None:
                    wb = xp.take(w, idx, axis=0)
            if augment is not None:
                Xb = augment.batch(lo, hi)
            if not constant_lr:
                lr = optimizer.lr_at(e + b / n_batches, total_epochs)
                scale = optimizer.gradient_scale(lr)
            log_s, t = self._train_step(Xb, Yb, lr, scale, wb)
            ell = log_s - t  # ℓ_i
            miss = xp.sign(t)  # −1 where the label's logit is not the largest, else 0
            if wb is not None:
                ell *= wb
                miss *= wb
                seen = seen + xp.sum(wb)
            else:
                seen += hi - lo
            if loss_rows is None:
                loss_rows, miss_rows = ell, miss
            elif hi - lo == loss_rows.shape[0]:
                loss_rows += ell
                miss_rows += miss
            else:
                tail += [xp.sum(ell), xp.sum(miss)]
            self.batch = b + 1
            for cb in callbacks:
                cb.on_batch_end(self, e, b, n_batches)
            if self.stop_training:
                break
        sums = [xp.sum(loss_rows), xp.sum(miss_rows)]
        if tail:
            sums = [sums[0] + tail[0], sums[1] + tail[1]]
        if w is not None:
            return [*sums, xp.astype(seen, sums[0].dtype)], None, lr
        return sums, seen, lr

    def _compiles_training(self, compile: bool | None, optimizer: Optimizer, augment) -> bool:
        """Whether [`fit`][xpnet.model.MLP.fit] runs its steps compiled (its ``compile``)."""
        if compile is False:
            return False
        why_not = None
        if not self.backend.compiles:
            why_not = f"the {self.backend.name} backend runs eagerly (only JAX compiles)"
        elif not optimizer.compilable:
            why_not = f"{type(optimizer).__name__} overrides step(), which a compiled step cannot call"
        elif augment is not None and not hasattr(augment, "gather"):
            why_not = f"{type(augment).__name__} has no pure gather() for a compiled step"
        if why_not is not None and compile:
            raise ConfigError(f"compile=True, but {why_not}; pass compile=None or False")
        return why_not is None

    def _compiled_epoch(self, e: int, data: tuple, order, augment, bs: int,
                        total_epochs: int, callbacks: list) -> tuple[list, None, float]:
        """The rest of epoch ``e`` (from batch `batch` on) through the compiled steps of
        [`xpnet.steps`][xpnet.steps]: the full-size batches in runs of up to
        [`MAX_CHUNK`][xpnet.steps.MAX_CHUNK], then a shorter last batch on its own.

        ``order`` is the epoch's sample order on the host (``None``: unshuffled). Returns the
        epoch's device sums ``[Σ w_i ℓ_i, −Σ w_i [missed_i], Σ w_i]`` (``w_i = 1`` without
        sample weights), ``None`` (the count is the last sum) and the last step's learning
        rate; `params`, the optimizer's state and step count, and `batch` are
        updated after every run, before its batches' ``on_batch_end`` callbacks.
        """
        backend, opt = self.backend, self.optimizer
        xp, n = backend.xp, data[0].shape[0]
        n_batches, full = math.ceil(n / bs), n // bs
        fn = steps.compiled_train_batches(backend, self.activation, opt, augment)
        opt.ensure_state(self.params)
        aug = None if augment is None else augment.device_constants()
        data = (*data, aug)
        zero = xp.zeros((), dtype=self.dtype, device=backend.device)
        sums = (zero, zero, zero)
        runs = steps.chunks(self.batch, full) + ([(full, n_batches)] if full < n_batches else [])
        lr = opt.lr_at(e + self.batch / n_batches, total_epochs)
        for b0, b1 in runs:
            lo, hi, k = b0 * bs, min(b1 * bs, n), b1 - b0
            m = (hi - lo) // k
            idx = None
            if bs < n and order is None:
                idx = xp.reshape(xp.arange(lo, hi, dtype=backend.index_dtype, device=backend.device), (k, m))
            elif bs < n:
                idx = backend.asarray(order[lo:hi].reshape(k, m), backend.index_dtype)
            if opt.schedule.constant_within_epochs:
                lrs = [opt.lr_at(e, total_epochs)] * k
            else:
                lrs = [opt.lr_at(e + b / n_batches, total_epochs) for b in range(b0, b1)]
            coefficients = backend.asarray(steps.step_coefficients(opt, lrs, opt.t), self.dtype_name)
            aug_batches = None if augment is None else tuple(
                xp.reshape(a, (k, m, *a.shape[1:])) for a in augment.batch_arrays(lo, hi))
            self.params, opt.state, sums = fn(self.params, opt.state, sums, data,
                                              (idx, coefficients, aug_batches))
            opt.t += k
            lr = lrs[-1]
            self.batch = b1
            for b in range(b0, b1):
                for cb in callbacks:
                    cb.on_batch_end(self, e, b, n_batches)
            if self.stop_training:
                break
        return list(sums), None, lr

    # -- inference -----------------------------------------------------------------------------
    def _logits(self, X, batch_size: int = 8192):
        xp = self.backend.xp
        if self.backend.compiles:
            return self._compiled_logits(X, batch_size)
        parts = [network.forward(self.params, X[i:min(i + batch_size, X.shape[0]), ...], self.activation)[0]
                 for i in range(0, X.shape[0], batch_size)]
        return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)

    def _compiled_logits(self, X, batch_size: int):
        """The logits through the compiled forward pass of
        [`xpnet.steps.logits`][xpnet.steps.logits]. Each block of rows is padded with zero rows
        to a multiple of 256 (a power of two below 256), so that inputs of every size share a
        few compilations; the padding rows' logits are dropped."""
        xp, fn = self.backend.xp, steps.compiled_logits(self.backend, self.activation)
        parts = []
        for i in range(0, X.shape[0], batch_size):
            Xi = X[i:min(i + batch_size, X.shape[0]), ...]
            m = Xi.shape[0]
            padded = 1 << (m - 1).bit_length() if m < 256 else -(-m // 256) * 256
            if padded != m:
                pad = xp.zeros((padded - m, Xi.shape[1]), dtype=Xi.dtype, device=self.backend.device)
                Xi = xp.concat([Xi, pad], axis=0)
            parts.append(fn(self.params, Xi)[:m, ...])
        return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)

    def decision_function(self, X):
        """Logits Z_L, shape ``(m, n_classes)``, in the model's namespace.

        A Dask array gives a lazy Dask array chunked like X along the samples (see
        [`predict`][xpnet.model.MLP.predict]).
        """
        if array_library(X) == "dask":
            return self._lazy(X, "decision_function")
        return self._logits(self.validate_data(X).X)

    def predict_proba(self, X):
        """Class probabilities softmax(Z_L), shape ``(m, n_classes)``, in the model's namespace.

        A Dask array gives a lazy Dask array chunked like X along the samples (see
        [`predict`][xpnet.model.MLP.predict]).
        """
        if array_library(X) == "dask":
            return self._lazy(X, "predict_proba")
        return network.softmax(self.decision_function(X))

    def predict(self, X):
        """Predicted class indices, shape ``(m,)``, in the model's namespace.

        For a ``dask.array`` X the result is a lazy Dask array with X's row chunks: nothing is
        computed until you ask (``.compute()``, ``dask.compute``, a distributed ``Client``);
        then every chunk is moved to the model's backend, gets one forward pass and comes
        back as NumPy. Chunks of unknown size work. The model is shipped to the workers with
        the graph (it pickles).
        """
        if array_library(X) == "dask":
            return self._lazy(X, "predict")
        return self.backend.xp.argmax(self.decision_function(X), axis=1)

    def _lazy(self, X, method: str):
        """``method`` mapped over the row chunks of the Dask array X, without computing."""
        return lazy_map(self, X, method)

    def _evaluate_device(self, X, y, w=None) -> tuple[float, float]:
        xp = self.backend.xp
        Z = self._logits(X)
        loss_sum, _ = network.softmax_cross_entropy(Z, network.one_hot(y, self.sizes[-1], self.dtype), w)
        hits = xp.astype(xp.argmax(Z, axis=1) == y, self.dtype)
        if w is None:
            correct, n = xp.sum(hits), X.shape[0]
        else:
            correct, n = xp.sum(hits * w), float(xp.sum(w))
        return float(loss_sum) / n, float(correct) / n

    def evaluate(self, X, y, sample_weight=None) -> dict:
        """Mean cross-entropy loss and accuracy on ``(X, y)``: ``{"loss": ..., "accuracy": ...}``.

        With ``sample_weight`` ``w`` both are weighted means: ``Σ w_i ℓ_i / Σ w_i`` and
        ``Σ w_i [ŷ_i = y_i] / Σ w_i``. Values are Python floats.
        """
        X, y, w = self.validate_data(X, y, sample_weight)
        loss, accuracy = self._evaluate_device(X, y, w)
        return {"loss": loss, "accuracy": accuracy}

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy on ``(X, y)``, a Python float in [0, 1] (weighted, as in scikit-learn)."""
        return self.evaluate(X, y, sample_weight)["accuracy"]

    def gradients(self, X, y, sample_weight=None) -> dict:
        """Backprop gradients of the (weighted) mean cross-entropy on ``(X, y)``.

        The parameters are not changed. Use [`xpnet.gradcheck`][xpnet.gradcheck] to compare them with
        finite differences.

        Returns
        -------
        dict
            ``{"W1": dW1, "b1": db1, ...}``, arrays in the model's namespace, shaped like
            `params`.
        """
        X, y, w = self.validate_data(X, y, sample_weight)
        Y = network.one_hot(y, self.sizes[-1], self.dtype)
        _, grads = steps.compiled(self.backend, steps.loss_and_gradients, activation=self.activation)(
            self.params, X, Y, w)
        return grads

    def loss(self, X, y, sample_weight=None) -> float:
        """(Weighted) mean cross-entropy on ``(X, y)`` as a Python float."""
        return self.evaluate(X, y, sample_weight)["loss"]

    # -- pickling ------------------------------------------------------------------------------
    def __getstate__(self) -> dict:
        """The model for `pickle`, `copy.deepcopy` and joblib: parameters and
        optimizer state as NumPy arrays, the backend as its spec (see
        [`xpnet.backend.unpickle_on`][xpnet.backend.unpickle_on]).
        """
        state = dict(self.__dict__)
        state.pop("dtype", None)  # a namespace object: rebuilt from dtype_name
        state["backend"] = self.backend.spec
        state["params"] = self.numpy_params()
        if self.optimizer is not None:
            opt = _copy.copy(self.optimizer)  # shallow: the original keeps its device state
            opt.state = {slot: {k: self.backend.to_numpy(v, copy=True) for k, v in arrays.items()}
                         for slot, arrays in self.optimizer.state.items()}
            opt.schedule = _copy.deepcopy(self.optimizer.schedule)
            state["optimizer"] = opt
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        backend = unpickle_target(state.pop("backend"))
        self.__dict__.update(state)
        self.backend = backend
        self.dtype = backend.float_dtype(self.dtype_name)
        self.params = {k: backend.asarray(v, self.dtype_name) for k, v in state["params"].items()}
        if self.optimizer is not None:
            self.optimizer.state = {slot: {k: backend.asarray(v, self.dtype_name) for k, v in arrays.items()}
                                    for slot, arrays in self.optimizer.state.items()}

    def __repr__(self) -> str:
        return (f"MLP(sizes={self.sizes}, activation={self.activation!r}, init={self.init!r}, "
                f"dtype={self.dtype_name!r}, backend={self.backend.spec!r}, seed={self.seed})")


from ._typing import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
