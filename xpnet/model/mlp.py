"""``MLP``: the network as an object you can fit, evaluate, move between backends and inspect.

The math lives in [`xpnet.nn.network`][xpnet.nn.network] (forward, backward),
[`xpnet.nn.losses`][xpnet.nn.losses] (the output layer and its loss) and [`xpnet.nn.optim`][xpnet.nn.optim]
(updates); the training loop in [`xpnet.model.training`][xpnet.model.training]. This module owns the
parameters, the backend they live on, and what is recorded and called while training:
[`History`][xpnet.model.mlp.History] and the [`Callback`][xpnet.model.mlp.Callback] hooks.

Shuffling uses a host generator seeded with ``(seed, epoch)``, so an epoch's order is the same
on every backend and a resumed run sees the same batches as an uninterrupted one; augmentation
(``fit(augment=...)``) draws on the host per epoch and is applied per batch on the device.
[`ModelInputs`][xpnet.model.mlp.ModelInputs] and the Dask and unscaled-input helpers are defined in
``xpnet.model.inputs`` and importable from here.
"""

from __future__ import annotations

import copy as _copy
import logging
from collections.abc import Generator, Iterable
from typing import Any, Literal

from ..backend import Backend, array_library, get_backend, resolve_seed
from ..errors import ConfigError, TrainingDiverged
from ..nn import network
from ..nn.activations import get_activation
from ..nn.averaging import EMA, SWA
from ..nn.dropout import dropout_rates
from ..nn.init import INITIALIZERS, init_layer
from ..nn.losses import LossHead, get_loss
from ..nn.optim import Optimizer
from . import averaging, compiled, pickling, training
from .callbacks import Callback, History
from .inputs import InvalidInput, InvalidInputType, ModelInputs, lazy_map, validate_inputs
from .preprocessing import Preprocessing
from .training import DEFAULT

__all__ = ["MLP", "History", "Callback", "TrainingDiverged", "ModelInputs"]  # History, Callback: from .callbacks

log = logging.getLogger("xpnet.model")


class MLP:
    """A fully connected network, trained with hand-written backprop: a classifier with a
    softmax output (default), or a regressor with an identity output (``loss="squared_error"``).

    Parameters
    ----------
    sizes
        Layer widths ``[n0, n1, ..., nL]``: ``n0`` inputs, hidden widths, ``nL`` classes (or
        outputs of a regressor).
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
        The input transform the model applies to X itself, in [`fit`][xpnet.model.mlp.MLP.fit] and in every
        inference and evaluation method (a [`Preprocessing`][xpnet.model.preprocessing.Preprocessing], or
        its ``get_config()`` dict); saved with the model by [`xpnet.save`][xpnet.model.checkpoint.save]. ``None``
        (default): X is used as given.
    loss
        The output layer and its loss ([`xpnet.nn.losses`][xpnet.nn.losses]): ``"cross_entropy"``
        (softmax and cross-entropy against class labels, default) or ``"squared_error"``
        (identity and half the squared error against real targets).
    dropout
        Inverted dropout while training ([`xpnet.nn.dropout`][xpnet.nn.dropout]): the fraction of
        each hidden layer's units dropped at every step, one rate for all hidden layers or a
        list of one per hidden layer, each in [0, 1); 0 (default): none. Inference
        ([`predict`][xpnet.model.mlp.MLP.predict], [`evaluate`][xpnet.model.mlp.MLP.evaluate], ...)
        never drops.
    label_smoothing
        ε of the cross-entropy head's smoothed targets ``(1 − ε)·onehot + ε/K``
        ([`CrossEntropy`][xpnet.nn.losses.CrossEntropy]; PyTorch's ``CrossEntropyLoss`` and
        Keras's ``CategoricalCrossentropy`` take the same ``label_smoothing``), 0 ≤ ε < 1; 0
        (default): one-hot targets. Training and evaluation then report the smoothed loss;
        accuracy is unchanged in meaning. A regression head refuses ε > 0.

    Attributes
    ----------
    params
        dict of arrays ``W1 (n1, n0), b1 (n1,), ..., WL, bL`` on the model's backend.
    backend
        the [`Backend`][xpnet.backend.Backend] the parameters live on.
    optimizer
        the optimizer of the last [`fit`][xpnet.model.mlp.MLP.fit] (its state carries over to the next).
    epoch
        number of finished training epochs; ``batch``: steps done in an unfinished epoch.
    history
        [`History`][xpnet.model.mlp.History] of every epoch trained so far.
    preprocessing
        the [`Preprocessing`][xpnet.model.preprocessing.Preprocessing] applied to inputs, or None.
    head
        the [`LossHead`][xpnet.nn.losses.LossHead] of ``loss``.
    dropout
        the dropout rate of every hidden layer, a tuple of ``L − 1`` floats.
    averaging, averaged_params
        the [`EMA`][xpnet.nn.averaging.EMA] or [`SWA`][xpnet.nn.averaging.SWA] of [`fit`][xpnet.model.mlp.MLP.fit]'s ``average`` and the
        averaged weights θ̄ (shaped like `params`), which inference uses; None without
        ([`xpnet.model.averaging`][xpnet.model.averaging]).
    """

    def __init__(
        self,
        sizes: Iterable[int],
        activation: str = "relu",
        init: str = "he",
        dtype: str = "float32",
        backend: str | Backend | None = None,
        seed: int | None = 0,
        preprocessing: Preprocessing | dict | None = None,
        loss: str | LossHead = "cross_entropy",
        dropout: float | Iterable[float] = 0.0,
        label_smoothing: float = 0.0,
    ):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ConfigError(f"sizes must list at least two positive layer widths, got {sizes}")
        self.head = get_loss(loss, label_smoothing)
        if sizes[-1] < self.head.min_outputs:
            raise ConfigError(f"the output layer needs at least {self.head.min_outputs} classes, got {sizes[-1]}")
        if init not in INITIALIZERS:
            raise ConfigError(f"unknown init {init!r}; choose one of {', '.join(INITIALIZERS)}")
        self.sizes = sizes
        self.dropout = dropout_rates(dropout, len(sizes) - 2)
        self.activation = get_activation(activation).name
        self.init = init
        self.seed = resolve_seed(seed)
        if isinstance(preprocessing, dict):
            preprocessing = Preprocessing.from_config(preprocessing)
        if preprocessing is not None and not isinstance(preprocessing, Preprocessing):
            raise InvalidInputType(
                "preprocessing must be an xpnet.Preprocessing, its get_config() dict, or None; "
                f"got {type(preprocessing).__name__}"
            )
        self.preprocessing = preprocessing
        self.backend = get_backend(backend)
        self.dtype_name = str(dtype)
        self.dtype = self.backend.float_dtype(self.dtype_name)
        self.params = self._initial_params()
        self.optimizer: Optimizer | None = None
        self.averaging: EMA | SWA | None = None
        self.averaged_params: dict | None = None
        self.epoch = 0
        self.batch = 0
        self.history = History()
        self.stop_training = False
        self.stop_reason: str | None = None
        self.train_defaults: dict[str, Any] = {
            "epochs": 10,
            "batch_size": 128,
            "optimizer": {"name": "adam", "lr": 1e-3},
        }

    @classmethod
    def tutorial(cls, backend: str | Backend | None = None, seed: int = 0, dtype: str = "float32") -> MLP:
        """The tutorial's network exactly: 784 → 10 ReLU → 10 softmax, weights and biases
        uniform in [−0.5, 0.5]; [`fit`][xpnet.model.mlp.MLP.fit] then defaults to full-batch gradient descent with
        α = 0.1 for 500 iterations (``epochs=500, batch_size=None, optimizer=SGD(lr=0.1)``).
        """
        model = cls([784, 10, 10], activation="relu", init="tutorial", dtype=dtype, backend=backend, seed=seed)
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
                if b is None
                else self.backend.asarray(b, self.dtype_name)
            )
        return params

    @property
    def n_layers(self) -> int:
        """Number of weight layers L."""
        return len(self.sizes) - 1

    @property
    def label_smoothing(self) -> float:
        """ε of the cross-entropy head's smoothed targets (0: none, and for other heads)."""
        return float(getattr(self.head, "label_smoothing", 0.0))

    @property
    def n_params(self) -> int:
        """Total number of trainable numbers."""
        return sum(a * b + b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    def get_config(self) -> dict:
        """Architecture and settings as a JSON-friendly dict (weights not included)."""
        return {
            "sizes": list(self.sizes),
            "activation": self.activation,
            "init": self.init,
            "dtype": self.dtype_name,
            "seed": self.seed,
            "preprocessing": None if self.preprocessing is None else self.preprocessing.get_config(),
            "loss": self.head.name,
            "dropout": list(self.dropout),
            "label_smoothing": self.label_smoothing,
        }

    def numpy_params(self, averaged: bool = False) -> dict:
        """The parameters copied to host NumPy arrays, ``{"W1": ..., "b1": ..., ...}``; with
        ``averaged``, the weights inference uses (the averaged ones, where there are)."""
        params = averaging.inference_params(self) if averaged else self.params
        return {k: self.backend.to_numpy(v, copy=True) for k, v in params.items()}

    def set_params(self, params: dict) -> None:
        """Replace the parameters with host or device arrays of the same names and shapes (an
        average of the weights is dropped: inference then uses these; a later ``fit`` with
        averaging starts it afresh from them)."""
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
        self.params, self.averaged_params = new, None

    def to(self, backend: str | Backend, dtype: str | None = None) -> MLP:
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
        avg_host = None if self.averaged_params is None else self.numpy_params(averaged=True)
        self.backend, self.dtype_name, self.dtype = target, dtype_name, target_dtype
        self.params = {k: target.asarray(v, dtype_name) for k, v in host.items()}
        if avg_host is not None:
            self.averaged_params = {k: target.asarray(v, dtype_name) for k, v in avg_host.items()}
        if self.optimizer is not None and opt_host is not None:
            self.optimizer.load_state(self.optimizer.t, {k: target.asarray(v, dtype_name) for k, v in opt_host.items()})
        return self

    def copy(self, backend: str | Backend | None = None, dtype: str | None = None) -> MLP:
        """A new model with the same architecture and weights, averaged weights too (no
        optimizer state or history)."""
        clone = MLP.__new__(MLP)
        clone.__dict__.update(self.__dict__)
        clone.optimizer, clone.history = None, History()
        clone.averaging = _copy.deepcopy(self.averaging)
        clone.params = dict(self.params)
        clone.to(backend or self.backend, dtype or self.dtype_name)
        xp = clone.backend.xp  # `to` may alias host arrays on NumPy: make the copy real
        clone.params = {k: xp.asarray(v, copy=True) for k, v in clone.params.items()}
        if clone.averaged_params is not None:
            clone.averaged_params = {k: xp.asarray(v, copy=True) for k, v in clone.averaged_params.items()}
        return clone

    # -- data ----------------------------------------------------------------------------------
    def validate_data(self, X, y=None, sample_weight=None, *, names=("X", "y", "sample_weight")) -> ModelInputs:
        """Check ``X`` (and ``y``, ``sample_weight``) and move them to the model's backend.

        What every public entry point does with its inputs; public so that tools working on
        the network's arrays directly ([`xpnet.gradcheck`][xpnet.model.gradcheck.gradcheck], the benchmark) do the same.

        Parameters
        ----------
        X : array_like
            Features, shape ``(m, n0)``: a NumPy array, a list, or an array of any supported
            library (arrays of the model's own backend and device are used where they are).
        y : array_like, optional
            Integer class labels ``(m,)`` in ``[0, n_classes)``, of any integer dtype; for a
            regressor, real targets ``(m,)`` or ``(m, n_outputs)``.
        sample_weight : array_like or float, optional
            Non-negative per-sample weights ``(m,)`` (a number means equal weights).
        names : tuple of str
            The names used in error messages.

        Returns
        -------
        ModelInputs
            ``(X, y, sample_weight)`` on the model's device: X, the weights (and a
            regressor's targets, as ``(m, n_outputs)``) in the model's dtype, labels in the
            namespace's index dtype
            ([`Backend.index_dtype`][xpnet.backend.Backend.index_dtype]: int64, or int32 on
            JAX without 64-bit mode); ``None`` for what was not given.

        Raises
        ------
        ValueError, TypeError
            Saying what is wrong with which input and what was expected.
        """
        return validate_inputs(self, X, y, sample_weight, names)

    # -- training ------------------------------------------------------------------------------
    def fit(
        self,
        X,
        y,
        epochs: int | None = None,
        batch_size: int | None | Literal["default"] = DEFAULT,
        optimizer: Optimizer | None = None,
        validation_data=None,
        shuffle: bool = True,
        callbacks: Iterable[Callback] = (),
        sample_weight=None,
        augment=None,
        compile: bool | None = None,
        l2: float = 0.0,
        class_weight=None,
        average=None,
    ) -> History:
        """Train on ``X`` (m × n0 features) and ``y`` (m integer labels, or real targets).

        Parameters
        ----------
        X : array_like
            Features ``(m, n0)``: NumPy, a list, or arrays of the model's own backend/device.
        y : array_like
            Integer class labels ``(m,)`` in ``[0, n_classes)``, any integer dtype; with
            ``loss="squared_error"``, real targets ``(m,)`` or ``(m, n_outputs)``.
        epochs
            How many epochs to train (more, if the model was trained before). An epoch left
            unfinished by an interruption is finished first and counts as one of them.
            Default: 10 (500 for [`tutorial`][xpnet.model.mlp.MLP.tutorial]).
        batch_size
            Samples per step; ``None`` means the full batch (the tutorial's gradient descent).
            ``"default"``: 128 (``None`` for [`tutorial`][xpnet.model.mlp.MLP.tutorial]).
        optimizer
            An [`Optimizer`][xpnet.nn.optim.Optimizer]. Default: the optimizer of the previous call
            (continuing its state), else ``Adam(lr=1e-3)`` (``SGD(lr=0.1)`` for [`tutorial`][xpnet.model.mlp.MLP.tutorial]).
        validation_data
            Optional ``(X_val, y_val)`` or ``(X_val, y_val, w_val)`` evaluated after every epoch.
        shuffle
            Draw a new order of the samples every epoch (ignored for full batch).
        callbacks
            [`Callback`][xpnet.model.mlp.Callback] objects (progress bars, checkpoints, ...).
        sample_weight
            Optional non-negative weights ``(m,)``. The loss is then the weighted mean
            ``Σ_i w_i ℓ_i / Σ_i w_i`` (scikit-learn's ``np.average`` semantics). Each step uses
            its batch's weights normalised by the batch's own weight sum (as scikit-learn's
            ``MLPClassifier`` does), so a full-batch step is exactly the weighted mean over the
            whole set; a batch whose weights are all 0 changes nothing. The logged loss and
            accuracy are weighted means over the epoch.
        augment
            Optional augmentation of every batch on the model's device, such as
            [`xpnet.augment.shifts.RandomShifts`][xpnet.augment.shifts.RandomShifts] (whose docstring gives the
            methods an augmentation needs, eagerly and compiled). The training data crosses to
            the device once per call, however many epochs are trained.

        compile
            ``None`` (default): compile the training steps where the backend compiles (see
            Notes); ``False``: run them eagerly, operation by operation, on every backend
            (slower on JAX; the same numbers to rounding); ``True``: compile, or raise
            [`ConfigError`][xpnet.errors.ConfigError] where that is not possible.
        l2
            λ of an L2 penalty on the weights (not the biases): each step minimises
            ``(Σ_b w_i ℓ_i + (λ/2)·Σ_l ‖W_l‖²) / s_b``, with ``s_b = Σ_b w_i`` the batch's
            true weight sum (its size without weights), so its gradient adds ``(λ/s_b)·W_l``
            (scikit-learn's ``alpha``). The logged loss includes the penalty (and logs it
            alone as ``penalty``). 0 by default. (The optimizers' ``weight_decay`` adds
            ``λ·W`` instead, whatever the batch.)
        class_weight
            Per-class weights multiplied into ``sample_weight`` (``w_i · c_{y_i}``; not into the
            validation data's): a dict ``{class index: weight}`` (others weigh 1), ``n_classes``
            weights (host or native), or ``"balanced"``: ``c_k = m / (K · m_k)``, ``m_k`` the
            samples of class k and ``K`` the classes present in ``y`` (scikit-learn's rule).
        average
            Weight averaging: an [`xpnet.EMA`][xpnet.nn.averaging.EMA] (or its decay, a float),
            θ̄ ← d_t·θ̄ + (1 − d_t)·θ after every step, or an [`xpnet.SWA`][xpnet.nn.averaging.SWA],
            the mean of θ at the ends of the epochs from its ``start_epoch`` on (before the
            first of them ends, θ is read out). Validation, early stopping,
            [`predict`][xpnet.model.mlp.MLP.predict] and every later read-out use θ̄; θ and the
            optimizer go on as without. ``None`` (default): the model's own ``averaging``,
            continued (none unless set); ``False``: none
            ([`xpnet.model.averaging`][xpnet.model.averaging]).

        Notes
        -----
        On a backend that compiles ([`Backend.compiles`][xpnet.backend.Backend.compiles]: JAX),
        the steps run compiled ([`xpnet.model.compiled`][xpnet.model.compiled]), up to
        [`MAX_CHUNK`][xpnet.model.compiled.MAX_CHUNK] of them per call; the batches' ``on_batch_end``
        callbacks then run after each such run of steps, and ``stop_training`` stops at its
        end. An optimizer that is not [`compilable`][xpnet.nn.optim.Optimizer.compilable] (one
        that overrides ``step``) is stepped eagerly instead.

        Returns
        -------
        The model's [`History`][xpnet.model.mlp.History] (every epoch trained so far, not only this call's).

        Raises
        ------
        TrainingDiverged
            the loss became NaN or infinite (lower the learning rate).
        """
        args = (epochs, batch_size, optimizer, validation_data, shuffle, callbacks, sample_weight, augment, compile)
        for _ in self.fit_epochs(X, y, *args, l2=l2, class_weight=class_weight, average=average):
            pass
        return self.history

    def fit_epochs(
        self,
        X,
        y,
        epochs: int | None = None,
        batch_size: int | None | Literal["default"] = DEFAULT,
        optimizer: Optimizer | None = None,
        validation_data=None,
        shuffle: bool = True,
        callbacks: Iterable[Callback] = (),
        sample_weight=None,
        augment=None,
        compile: bool | None = None,
        l2: float = 0.0,
        class_weight=None,
        average=None,
    ) -> Generator[dict, None, None]:
        """[`fit`][xpnet.model.mlp.MLP.fit] as a generator: trains one epoch per ``next()`` and yields its logs.

        The arguments are [`fit`][xpnet.model.mlp.MLP.fit]'s. Each yielded dict is the epoch's entry of
        `history`: ``{"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr",
        "epoch_time"}`` (``accuracy`` None for a regression head, whose validation score is
        ``val_r2``; ``penalty`` too with ``l2``). The steps are
        [`xpnet.model.training`][xpnet.model.training]'s. Nothing is trained before the first ``next()``; stop iterating (or
        ``close()`` the generator) to stop between epochs, with the model's state as after the
        last yielded epoch. [`fit`][xpnet.model.mlp.MLP.fit] runs it to the end; the benchmark advances it one epoch
        at a time, so that xpnet's epochs interleave with other contenders' in one process and
        their timings include exactly what ``fit`` does per epoch.

        Yields
        ------
        dict
            The logs of each finished epoch.
        """
        args = (epochs, batch_size, optimizer, validation_data, shuffle, callbacks, sample_weight, augment, compile)
        run = training.prepare(self, X, y, *args, l2, class_weight, average=average)
        yield from training.run_epochs(self, run)

    # -- inference -----------------------------------------------------------------------------
    def _logits(self, X, batch_size: int = 8192):
        """The logits ``Z_L`` of device inputs, in blocks of ``batch_size`` rows
        ([`compiled.logits_in_blocks`][xpnet.model.compiled.logits_in_blocks])."""
        params = averaging.inference_params(self)
        return compiled.logits_in_blocks(self.backend, params, self.activation, X, batch_size)

    def decision_function(self, X):
        """Logits Z_L, shape ``(m, n_classes)``, in the model's namespace.

        A Dask array gives a lazy Dask array chunked like X along the samples (see
        [`predict`][xpnet.model.mlp.MLP.predict]).
        """
        if array_library(X) == "dask":
            return self._lazy(X, "decision_function")
        return self._logits(self.validate_data(X).X)

    def predict_proba(self, X):
        """Class probabilities softmax(Z_L), shape ``(m, n_classes)``, in the model's namespace.

        A Dask array gives a lazy Dask array chunked like X along the samples (see
        [`predict`][xpnet.model.mlp.MLP.predict]). A regressor has no probabilities: it raises
        [`ConfigError`][xpnet.errors.ConfigError].
        """
        if not self.head.classifies:
            raise ConfigError(
                f"predict_proba needs a classifier; this model's loss is {self.head.name!r} (a regressor): use predict"
            )
        if array_library(X) == "dask":
            return self._lazy(X, "predict_proba")
        return network.softmax(self.decision_function(X))

    def predict(self, X):
        """Predicted class indices, shape ``(m,)``, in the model's namespace; for a regressor
        the outputs ``A_L = Z_L``, shape ``(m, n_outputs)``.

        For a ``dask.array`` X the result is a lazy Dask array with X's row chunks: nothing is
        computed until you ask (``.compute()``, ``dask.compute``, a distributed ``Client``);
        then every chunk is moved to the model's backend, gets one forward pass and comes
        back as NumPy. Chunks of unknown size work. The model is shipped to the workers with
        the graph (it pickles).
        """
        if array_library(X) == "dask":
            return self._lazy(X, "predict")
        Z = self.decision_function(X)
        return self.backend.xp.argmax(Z, axis=1) if self.head.classifies else self.head.output(Z)

    def _lazy(self, X, method: str):
        """``method`` mapped over the row chunks of the Dask array X, without computing."""
        return lazy_map(self, X, method)

    def evaluate(self, X, y, sample_weight=None) -> dict:
        """Mean loss and accuracy on ``(X, y)``: ``{"loss": ..., "accuracy": ...}``; for a
        regressor ``{"loss": ..., "r2": ...}`` (R², averaged over the outputs).

        With ``sample_weight`` ``w`` both are weighted means: ``Σ w_i ℓ_i / Σ w_i`` and
        ``Σ w_i [ŷ_i = y_i] / Σ w_i``. Values are Python floats.
        """
        X, y, w = self.validate_data(X, y, sample_weight)
        loss, score = training.evaluate_on_device(self, X, y, w)
        return {"loss": loss, "accuracy" if self.head.classifies else "r2": score}

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy on ``(X, y)`` (R² for a regressor), a Python float (weighted, as in
        scikit-learn)."""
        result = self.evaluate(X, y, sample_weight)
        return result["accuracy" if self.head.classifies else "r2"]

    def gradients(self, X, y, sample_weight=None, l2: float = 0.0) -> dict:
        """Backprop gradients of the (weighted) mean loss on ``(X, y)`` (with the L2 penalty
        of [`fit`][xpnet.model.mlp.MLP.fit]'s ``l2``, over the whole of X as one batch).

        The parameters are not changed. Use [`xpnet.gradcheck`][xpnet.model.gradcheck.gradcheck] to compare them with
        finite differences.

        Returns
        -------
        dict
            ``{"W1": dW1, "b1": db1, ...}``, arrays in the model's namespace, shaped like
            `params`.
        """
        X, y, w = self.validate_data(X, y, sample_weight)
        T = self.head.targets(y, self.sizes[-1], self.dtype)
        _, grads = compiled.compiled(
            self.backend,
            compiled.loss_and_gradients,
            activation=self.activation,
            loss=self.head,
            l2=float(l2),
        )(self.params, X, T, w)
        return grads

    def loss(self, X, y, sample_weight=None) -> float:
        """(Weighted) mean loss on ``(X, y)`` as a Python float."""
        return self.evaluate(X, y, sample_weight)["loss"]

    # -- pickling ------------------------------------------------------------------------------
    def __getstate__(self) -> dict:
        """The model for `pickle`, `copy.deepcopy` and joblib ([`pickling`][xpnet.model.pickling])."""
        return pickling.model_state(self)

    def __setstate__(self, state: dict) -> None:
        pickling.restore_model(self, state)

    def __repr__(self) -> str:
        loss = "" if self.head.classifies else f", loss={self.head.name!r}"
        if any(self.dropout):
            rates = set(self.dropout)
            loss += f", dropout={self.dropout[0] if len(rates) == 1 else list(self.dropout)!r}"
        if self.label_smoothing:
            loss += f", label_smoothing={self.label_smoothing!r}"
        return (
            f"MLP(sizes={self.sizes}, activation={self.activation!r}, init={self.init!r}, "
            f"dtype={self.dtype_name!r}, backend={self.backend.spec!r}, seed={self.seed}{loss})"
        )


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
