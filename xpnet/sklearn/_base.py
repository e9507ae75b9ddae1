"""What [`MLPClassifier`][xpnet.sklearn.MLPClassifier] and
[`MLPRegressor`][xpnet.sklearn.MLPRegressor] share: scikit-learn's parameters, the fit (input
checks, scikit-learn's initial weights, the validation split, the epochs), the array-API
plumbing of the outputs, and the fitted network in scikit-learn's layout."""

from __future__ import annotations

import logging
import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._array_api import get_namespace
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_consistent_length, check_is_fitted, validate_data

from ..backend import Backend, backend_of, get_backend
from ..errors import ConfigError, InvalidInput, InvalidInputType
from ..model.averaging import inference_params
from ..model.mlp import MLP, Callback, ModelInputs
from ..nn.averaging import EMA
from ..nn.losses import LossHead, get_loss
from ._epochs import VerboseLog, batch_size, new_optimizer, set_samples_per_epoch, stopping_callbacks
from ._inputs import _dispatch_enabled, _dtype_name, _host, check_same_namespace

__all__ = ["BaseMLP", "ACTIVATION_NAMES"]

log = logging.getLogger("xpnet.sklearn")

#: scikit-learn's activation names → xpnet's.
ACTIVATION_NAMES = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}


# -- the shared estimator ----------------------------------------------------------------------
class BaseMLP(BaseEstimator):
    """scikit-learn's multi-layer perceptron, trained by xpnet; subclasses say what the
    targets are (``_LOSS``, ``_targets``) and how predictions come out."""

    # Properties here, so that a subclass may give a constant or compute them from its parameters.
    @property
    def _LOSS(self) -> str | LossHead:
        """The xpnet loss head (xpnet.nn.losses), or its name."""
        return "cross_entropy"

    @property
    def _OUT_ACTIVATION(self) -> str:
        return "softmax"

    # Fitted state, set by `_initialize` and `_train` (annotations for the type checker only: no
    # class attributes, so that check_is_fitted still sees an unfitted estimator as unfitted).
    model_: MLP
    loss_: float
    loss_curve_: list[float]
    validation_scores_: list[float] | None  # None without early_stopping
    validation_loss_curve_: list[float] | None
    best_validation_score_: float | None  # None without early_stopping
    best_loss_: float | None  # None with early_stopping
    early_stopped_: bool
    _best_params: dict | None  # the weights kept with the best score (or loss)
    _validation: ModelInputs | None  # partial_fit's validation set, on the device

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "restore_best_weights": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "ema_decay": [None, Interval(Real, 0, 1, closed="neither")],
        "backend": [None, str, Backend],
        "dtype": [None, StrOptions({"float32", "float64"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        restore_best_weights=False,
        dropout=0.0,
        ema_decay=None,
        backend=None,
        dtype=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.restore_best_weights = restore_best_weights
        self.dropout = dropout
        self.ema_decay = ema_decay
        self.backend = backend
        self.dtype = dtype

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def _check_solver(self) -> bool:
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. {self.solver} is not stochastic."
            )
        return True

    def _refuse_sparse(self, X) -> None:
        if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
            raise InvalidInputType(
                f"xpnet.sklearn.{type(self).__name__} does not support sparse input: xpnet's "
                "network is dense. Convert X with X.toarray() if it fits in memory."
            )

    def _validate_xy(self, X, y, sample_weight, reset: bool):
        self._refuse_sparse(X)
        xp, _ = get_namespace(X)
        X, y = validate_data(self, X, y, dtype=(xp.float64, xp.float32), reset=reset, **self._y_validation)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        return X, y, sample_weight

    _y_validation: dict = {}  # extra validate_data arguments for y

    # -- fitting ---------------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight, incremental: bool, X_val=None, y_val=None, sample_weight_val=None):
        if self.solver == "lbfgs":
            raise ConfigError(
                f"solver='lbfgs' is not offered by xpnet.sklearn.{type(self).__name__}: xpnet "
                "trains with stochastic gradient methods only. Use solver='adam' or solver='sgd' "
                f"(or sklearn.neural_network.{type(self).__name__} for L-BFGS)."
            )
        self._check_validation_arguments(X_val, y_val, sample_weight_val, "partial_fit" if incremental else "fit")
        hidden = self.hidden_layer_sizes
        hidden = [int(h) for h in (hidden if hasattr(hidden, "__iter__") else [hidden])]
        if any(h <= 0 for h in hidden):
            raise ConfigError(f"hidden_layer_sizes must be > 0, got {hidden}.")
        first_pass = not hasattr(self, "model_") or (not self.warm_start and not incremental)

        X, y, sample_weight = self._validate_xy(X, y, sample_weight, reset=first_pass)
        targets = self._targets(y, first_pass, incremental)  # host: class indices, or values
        sw_host = None
        if sample_weight is not None:
            sw_host = _host(sample_weight).astype(np.float64)
            if not sw_host.sum() > 0:
                raise InvalidInput(
                    "Sample weights must contain at least one non-zero number; the total weight is zero."
                )
        sw_host = self._weighted_by_class(targets, sw_host, incremental)

        self._input_backend = backend_of(X).spec
        rs = check_random_state(self.random_state)
        if first_pass:
            self._initialize(X, hidden, self._n_outputs(targets), rs)
        model = self.model_
        if model.head.classifies:  # warm_start / partial_fit: the parameters as they are now
            model.head = get_loss(self._LOSS)
        if incremental and self.early_stopping and self.early_stopped_:
            log.info("partial_fit: not training, early stopping ended the training (early_stopped_ is True)")
            self.n_iter_ = 0
            return self

        # The validation set: the caller's, partial_fit's kept one, or a split of X (scikit-learn
        # draws it after the initial weights).
        Xt, yt, swt, val = X, targets, sw_host, None
        if self.early_stopping and X_val is not None:
            val = self._validation_inputs(X_val, y_val, sample_weight_val)
        elif self.early_stopping and incremental and self._validation is not None:
            val = self._validation
        elif self.early_stopping:
            idx = np.arange(X.shape[0])
            # scikit-learn's split for the same random_state: stratified where its output is a
            # single unit of a classifier (two classes), not for one-hot or real targets.
            stratify = targets if self._stratify_split else None
            tr, va = train_test_split(idx, random_state=rs, test_size=self.validation_fraction, stratify=stratify)
            if va.shape[0] < 2:
                raise ConfigError(
                    "The validation set is too small. Increase 'validation_fraction' or the size of your dataset"
                    + (" (or pass X_val and y_val)." if incremental else ".")
                )
            xp = model.backend.xp
            Xd = model.validate_data(X).X
            Xt, Xv = (xp.take(Xd, model.backend.asarray(i), axis=0) for i in (tr, va))
            yt, yv = targets[tr], targets[va]
            swv = None
            if sw_host is not None:
                swt, swv = sw_host[tr], sw_host[va]
            val = model.validate_data(Xv, yv, swv)
        if incremental and val is not None:
            self._validation = val  # kept for the next partial_fit calls
        model.seed = int(rs.randint(np.iinfo(np.int32).max))
        self._train(Xt, yt, swt, val, incremental)
        return self

    def _check_validation_arguments(self, X_val, y_val, sample_weight_val, method: str) -> None:
        """HistGradientBoosting's rules for ``X_val``/``y_val`` (scikit-learn 1.9): both or
        neither, and only with ``early_stopping``; ``sample_weight_val`` only with them."""
        if X_val is not None or y_val is not None:
            if y_val is None:
                raise InvalidInput("X_val is provided, but y_val was not provided.")
            if X_val is None:
                raise InvalidInput("y_val is provided, but X_val was not provided.")
            if not self.early_stopping:
                raise ConfigError(
                    f"X_val and y_val are passed to {method} while at the same time early_stopping is "
                    f"False. When passing X_val and y_val to {method}, set early_stopping=True: they "
                    "are the validation set that early stopping watches."
                )
        elif sample_weight_val is not None:
            raise InvalidInput(
                f"sample_weight_val is passed to {method} without X_val and y_val: it weighs the "
                "samples of a validation set you pass. Pass X_val and y_val too, or drop it."
            )

    def _validation_inputs(self, X_val, y_val, sample_weight_val):
        """The caller's validation set, checked as ``X`` and ``y`` are (scikit-learn's
        messages), on the model's device."""
        self._refuse_sparse(X_val)
        xp, _ = get_namespace(X_val)
        X_val = validate_data(self, X_val, dtype=(xp.float64, xp.float32), reset=False)
        check_consistent_length(X_val, y_val)
        targets = self._validation_targets(y_val)
        if sample_weight_val is not None:
            sample_weight_val = _host(_check_sample_weight(sample_weight_val, X_val, ensure_non_negative=True))
        return self.model_.validate_data(
            X_val, targets, sample_weight_val, names=("X_val", "y_val", "sample_weight_val")
        )

    def _weighted_by_class(self, targets, sample_weight, incremental: bool):
        """The sample weights with the class weights multiplied in (classifiers)."""
        return sample_weight

    @property
    def _stratify_split(self) -> bool:
        return False

    def _dropout(self):
        """The ``dropout`` parameter as [`MLP`][xpnet.model.mlp.MLP] takes it: a float, or a list
        of one per hidden layer."""
        rate = self.dropout
        return float(rate) if np.ndim(rate) == 0 else [float(p) for p in rate]

    def _average(self, model: MLP):
        """``fit``'s ``average`` for ``ema_decay``: the model's average continued while the decay
        is the same, a new one (from the current weights) for a new decay, False for none."""
        decay = self.ema_decay
        if decay is None:
            return False
        if isinstance(model.averaging, EMA) and model.averaging.decay == float(decay):
            return None
        return EMA(float(decay))

    def _initialize(self, X, hidden, k: int, rs):
        """A new network with scikit-learn's initial weights, and the fitted-state attributes."""
        backend = (
            get_backend(self.backend)
            if self.backend is not None
            else (backend_of(X) if _dispatch_enabled() else get_backend("cpu"))
        )
        dtype = self.dtype or ("float32" if _dtype_name(X) == "float32" else "float64")
        sizes = [X.shape[1], *hidden, k]
        model = MLP(
            sizes,
            activation=ACTIVATION_NAMES[self.activation],
            init="glorot",
            dtype=dtype,
            backend=backend,
            seed=0,
            loss=self._LOSS,
            dropout=self._dropout(),
        )
        factor = 2.0 if self.activation == "logistic" else 6.0
        params = {}
        for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            bound = math.sqrt(factor / (fan_in + fan_out))
            params[f"W{l}"] = np.ascontiguousarray(rs.uniform(-bound, bound, (fan_in, fan_out)).T)
            params[f"b{l}"] = rs.uniform(-bound, bound, fan_out)
        model.set_params(params)
        model.optimizer = new_optimizer(self, self.learning_rate_init)
        self.model_ = model
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = k
        self.n_layers_ = len(sizes)
        self.out_activation_ = self._OUT_ACTIVATION
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self._best_params = None  # the weights kept with the best score (or loss)
        self._validation = None  # partial_fit's validation set, on the device
        self.early_stopped_ = False
        if self.early_stopping:
            self.validation_scores_ = []
            self.validation_loss_curve_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = self.validation_loss_curve_ = None
            self.best_validation_score_ = None

    def _reported_loss(self, logs: dict) -> float:
        """``loss_`` of an epoch from xpnet's logs (the mean loss with its penalty)."""
        return float(logs["loss"])

    def _reported_validation_loss(self, val_loss: float) -> float:
        """An entry of ``validation_loss_curve_`` from xpnet's ``val_loss`` (the mean loss
        on the validation set, no penalty)."""
        return float(val_loss)

    def _train(self, X, y, sw, val, incremental: bool) -> None:
        """``max_iter`` epochs (one when ``incremental``) of ``model_.fit_epochs``, with
        ``alpha`` as its ``l2``, the validation set as its ``validation_data`` and
        scikit-learn's stopping rules as callbacks; records ``loss_curve_``, ``n_iter_``,
        ``t_``, the validation scores and losses, and the best weights."""
        model, n = self.model_, X.shape[0]
        optimizer = model.optimizer
        assert optimizer is not None  # given by _initialize, or __setstate__; fit_epochs keeps it
        set_samples_per_epoch(optimizer, self, model.epoch, n)
        scores: list[float] = []  # validation_scores_ and validation_loss_curve_, with early_stopping
        val_losses: list[float] = []
        if self.early_stopping:
            if self.validation_scores_ is None or self.validation_loss_curve_ is None:  # early_stopping set since
                self.validation_scores_, self.validation_loss_curve_ = [], []
                self.best_validation_score_ = -np.inf
            scores, val_losses = self.validation_scores_, self.validation_loss_curve_
        if not self.early_stopping and self.best_loss_ is None:
            self.best_loss_ = np.inf
        self.early_stopped_ = False

        def training_loss(model, logs):
            return self.loss_

        def validation_score(model, logs):
            return scores[-1]

        class Record(Callback):  # first, as scikit-learn records before it decides
            def on_epoch_end(_, model, epoch, logs):
                self.loss_ = self._reported_loss(logs)
                self.loss_curve_.append(self.loss_)
                log.info("Iteration %d, loss = %.8f", len(self.loss_curve_) - start, self.loss_)
                if val is not None:
                    score = float(logs["val_accuracy" if model.head.classifies else "val_r2"])
                    scores.append(score)
                    val_losses.append(self._reported_validation_loss(logs["val_loss"]))
                    log.info("Validation score: %f", score)

        start = len(self.loss_curve_)
        stopper, keeper = stopping_callbacks(
            self, validation_score if self.early_stopping else training_loss, incremental
        )
        callbacks = [stopper] if keeper is None else [stopper, keeper]
        epochs = model.fit_epochs(
            X,
            y,
            epochs=1 if incremental else self.max_iter,
            batch_size=batch_size(self, n),
            validation_data=val,
            shuffle=bool(self.shuffle),
            callbacks=[Record(), *callbacks],
            sample_weight=sw,
            l2=float(self.alpha),
            average=self._average(model),
        )
        self.n_iter_ = 0
        with VerboseLog(self.verbose):
            for _ in epochs:
                self.n_iter_ += 1
                self.t_ += n
                set_samples_per_epoch(optimizer, self, model.epoch, n)
                if not incremental and not model.stop_training and self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=2,
                    )
        self._no_improvement_count = stopper.wait
        if self.early_stopping:
            self.best_validation_score_ = stopper.best
        else:
            self.best_loss_ = stopper.best
        # keeper: never None with early_stopping (stopping_callbacks).
        if incremental and self.early_stopping and model.stop_training and keeper is not None:
            keeper.restore(model)
            self.early_stopped_ = True
            warnings.warn(
                f"Validation score did not improve more than tol={self.tol:f} for "
                f"{self.n_iter_no_change} consecutive partial_fit calls: the weights of the best "
                f"(validation score {self.best_validation_score_:f}) are restored, and further "
                "partial_fit calls do not train (early_stopped_ is True). Call fit to train "
                "afresh, or set early_stopping=False to train on.",
                UserWarning,
                stacklevel=3,
            )
        self._best_params = None if keeper is None else keeper.best_weights

    # -- prediction ------------------------------------------------------------------------------
    def _check_X(self, X, method: str):
        check_is_fitted(self)
        self._refuse_sparse(X)
        check_same_namespace(X, self, attribute="_fit_input_anchor", method=method)
        xp, _ = get_namespace(X)
        return validate_data(self, X, dtype=(xp.float64, xp.float32), reset=False)

    @property
    def _fit_input_anchor(self):
        """An empty array in the namespace/device of the ``X`` seen by ``fit`` (with
        ``array_api_dispatch``, methods refuse inputs of another namespace, as scikit-learn's
        array-API estimators do)."""
        b = get_backend(self._input_backend)
        return b.xp.zeros((0,), dtype=b.float_dtype("float32"), device=b.device)

    def _out_backend(self, X) -> Backend:
        return backend_of(X) if _dispatch_enabled() else get_backend("cpu")

    def _to_output(self, a, X):
        """``a`` (on the model's backend) in the namespace and device of the input ``X``."""
        out, here = self._out_backend(X), self.model_.backend
        if out.spec == here.spec:
            return a
        return out.asarray(here.to_numpy(a))

    # -- the fitted network in scikit-learn's layout ---------------------------------------------
    @property
    def coefs_(self):
        """Weight matrices ``W_lᵀ``, shape ``(n_in, n_out)`` each (scikit-learn's layout)."""
        check_is_fitted(self)
        m = self.model_
        return [self._attr(inference_params(m)[f"W{l}"].T) for l in range(1, m.n_layers + 1)]

    @property
    def intercepts_(self):
        """Bias vectors ``b_l``, shape ``(n_out,)`` each."""
        check_is_fitted(self)
        m = self.model_
        return [self._attr(inference_params(m)[f"b{l}"]) for l in range(1, m.n_layers + 1)]

    def _attr(self, a):
        out, here = get_backend(self._input_backend), self.model_.backend
        return a if out.spec == here.spec else out.asarray(here.to_numpy(a))

    # -- pickling: the network pickles itself (host arrays, rebuilt on its backend) -------------
    def __getstate__(self):
        state = super().__getstate__()
        model = state.get("model_")
        if model is not None:  # the kept weights and validation set, as host arrays too
            to_host = model.backend.to_numpy
            if state.get("_best_params") is not None:
                state["_best_params"] = {k: to_host(v, copy=True) for k, v in state["_best_params"].items()}
            if state.get("_validation") is not None:
                state["_validation"] = tuple(None if a is None else to_host(a, copy=True) for a in state["_validation"])
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop("_xpnet_model", None)  # written by xpnet before 2026-12
        state.setdefault("ema_decay", None)  # pickled before weight averaging
        if "model_" in state or saved is not None:  # fitted before these attributes were
            state.setdefault("_best_params", None)
            state.setdefault("_validation", None)
            state.setdefault("early_stopped_", False)
            scores = state.get("validation_scores_")
            state.setdefault("validation_loss_curve_", None if scores is None else [math.nan] * len(scores))
        super().__setstate__(state)
        model = state.get("model_")
        if model is not None:
            b = model.backend
            if self._best_params is not None:
                self._best_params = {k: b.asarray(v) for k, v in self._best_params.items()}
            if self._validation is not None:
                self._validation = ModelInputs(*(None if a is None else b.asarray(a) for a in self._validation))
        if saved is not None:
            c = saved["config"]
            model = MLP(
                c["sizes"],
                activation=c["activation"],
                init=c["init"],
                dtype=c["dtype"],
                backend=saved["backend"],
                seed=c["seed"],
                loss=self._LOSS,
                dropout=c.get("dropout", 0.0),
            )
            model.set_params(saved["params"])
            model.epoch = saved["epoch"]
            opt = new_optimizer(self, saved["opt_lr"])
            opt.load_state(
                saved["opt_t"],
                {k: model.backend.asarray(v, c["dtype"]) for k, v in saved["opt_state"].items()},
            )
            model.optimizer = opt
            self.model_ = model


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
