"""The estimator class, [`MLPClassifier`][xpnet.sklearn.MLPClassifier] (see [`xpnet.sklearn`][xpnet.sklearn])."""

from __future__ import annotations

import logging
import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._array_api import get_namespace
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .. import network
from ..backend import Backend, backend_of, get_backend
from ..errors import ConfigError, InvalidInput, InvalidInputType
from ..model import MLP
from ._epochs import device_accuracy, run_epochs
from ._inputs import _dispatch_enabled, _dtype_name, _host, check_same_namespace
from ._optim import new_optimizer

__all__ = ["MLPClassifier"]

log = logging.getLogger("xpnet.sklearn")

#: scikit-learn's activation names → xpnet's.
ACTIVATION_NAMES = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}


# -- the estimator ---------------------------------------------------------------------------------
class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier with scikit-learn's interface, trained by xpnet.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Width of each hidden layer.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Hidden activation: identity ``g(z) = z``, logistic ``σ(z) = 1/(1+e^{−z})`` (xpnet's
        ``sigmoid``), ``tanh``, or ``relu`` ``max(z, 0)``.
    solver : {"adam", "sgd"}, default="adam"
        ``"adam"`` ([`xpnet.optim.Adam`][xpnet.optim.Adam]) or ``"sgd"`` ([`xpnet.optim.SGD`][xpnet.optim.SGD], with
        ``momentum``/``nesterovs_momentum``). ``"lbfgs"`` is **not offered**: xpnet trains with
        stochastic gradient methods only; fitting with it raises ``ValueError``.
    alpha : float, default=1e-4
        L2 penalty ``α/(2·s_b)·Σ‖W_l‖²`` added to each batch's loss (weights, not biases).
    batch_size : int or "auto", default="auto"
        Samples per step; ``"auto"`` is ``min(200, n_samples)``. Larger than n: clipped to n
        with a warning.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule for ``solver="sgd"`` (ignored by Adam). ``invscaling``:
        ``lr = learning_rate_init / (t + 1)^power_t`` after each epoch, t the samples seen;
        ``adaptive``: divide by 5 when ``n_iter_no_change`` epochs did not improve by ``tol``.
    learning_rate_init : float, default=1e-3
        Initial learning rate.
    power_t : float, default=0.5
        Exponent of ``invscaling``.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split and the shuffling.
    tol : float, default=1e-4
        Improvement below which an epoch counts as "no change".
    verbose : bool, default=False
        Log the loss of every epoch (shown on stdout when logging is not configured).
    warm_start : bool, default=False
        Start from the previous fit's weights and optimizer state.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``solver="sgd"`` (when ``momentum > 0``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified) and stop when its
        accuracy does not improve by ``tol`` for ``n_iter_no_change`` epochs; the best
        weights are kept.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's ε.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping (or, for ``adaptive``, lowering the rate).
    max_fun : int, default=15000
        Accepted for compatibility; only scikit-learn's ``lbfgs`` uses it.
    backend : str, Backend or None, default=None
        Where to train (an [`xpnet.get_backend`][xpnet.backend.get_backend] spec: ``"cpu"``, ``"gpu"``,
        ``"torch:cuda"``, ...). ``None``: with ``array_api_dispatch`` enabled, the backend and
        device of ``X`` itself; otherwise NumPy. Results are returned in the namespace of the
        inputs either way.
    dtype : {"float32", "float64"} or None, default=None
        Floating type of the weights and the computation. ``None``: like scikit-learn,
        float32 when ``X`` is float32, float64 otherwise.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (any sortable labels: strings, integers, ...).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` had string column names (a DataFrame).
    coefs_ : list of arrays of shape (n_in, n_out)
        Weight matrices in scikit-learn's layout (the transposes of xpnet's ``W_l``).
    intercepts_ : list of arrays of shape (n_out,)
        Bias vectors.
    loss_ : float
        Loss of the last epoch (mean cross-entropy plus the penalty).
    loss_curve_ : list of float
        ``loss_`` of every epoch.
    best_loss_ : float or None
        Lowest ``loss_`` (None with early stopping).
    validation_scores_ : list of float or None
        Validation accuracy of every epoch (None without early stopping).
    best_validation_score_ : float or None
        Best validation accuracy (None without early stopping).
    n_iter_ : int
        Epochs run by the last ``fit`` (1 per ``partial_fit``).
    t_ : int
        Training samples seen by the optimizer, over all calls.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Output units: the number of classes (2 for a binary problem, see the module notes).
    out_activation_ : str
        ``"softmax"``.
    model_ : xpnet.MLP
        The xpnet network trained (its ``backend``, ``params``, ``history``, ...).
    """

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
        "backend": [None, str, Backend],
        "dtype": [None, StrOptions({"float32", "float64"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 backend=None, dtype=None):
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
        self.backend = backend
        self.dtype = dtype

    # -- tags ------------------------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Trains on the namespace/device of X under array_api_dispatch.
        tags.array_api_support = True
        # Dense input only: xpnet's network math is dense Array API code.
        tags.input_tags.sparse = False
        # One softmax over the classes: multiclass yes, multilabel (2-D indicator y) no.
        tags.classifier_tags.multi_label = False
        tags.target_tags.multi_output = False
        tags.non_deterministic = False
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    # -- fitting ---------------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on ``X`` (n_samples × n_features) and labels ``y`` (n_samples,).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dense numeric input (NumPy, lists, DataFrames; with ``array_api_dispatch``, any
            Array API array).
        y : array-like of shape (n_samples,)
            Class labels of any sortable type.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights: each batch's loss is ``Σ_i w_i·CE_i / Σ_i w_i``.

        Returns
        -------
        self : MLPClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            Bad input (scikit-learn's messages), a single class, ``solver="lbfgs"``.
        TypeError
            Sparse input (not supported).
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _check_solver(self) -> bool:
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                                 f"{self.solver} is not stochastic.")
        return True

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer state.

        Parameters
        ----------
        X, y, sample_weight : as in [`fit`][xpnet.sklearn.MLPClassifier.fit].
        classes : array-like of shape (n_classes,), default=None
            Every class of every call; required in the first call.

        Returns
        -------
        self : MLPClassifier
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight, classes)

    @_fit_context(prefer_skip_nested_validation=True)
    def _partial_fit(self, X, y, sample_weight, classes):
        # Sets classes_ from `classes` on the first call; refuses other classes later.
        _check_partial_fit_first_call(self, classes)
        return self._fit(X, y, sample_weight, incremental=True)

    def _validate_xy(self, X, y, sample_weight, reset: bool):
        if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
            raise InvalidInputType(
                "xpnet.sklearn.MLPClassifier does not support sparse input: xpnet's network is "
                "dense. Convert X with X.toarray() if it fits in memory.")
        xp, _ = get_namespace(X)
        X, y = validate_data(self, X, y, dtype=(xp.float64, xp.float32), reset=reset)
        check_classification_targets(_host(y))
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        return X, y, sample_weight

    def _fit(self, X, y, sample_weight, incremental: bool):
        if self.solver == "lbfgs":
            raise ConfigError(
                "solver='lbfgs' is not offered by xpnet.sklearn.MLPClassifier: xpnet trains "
                "with stochastic gradient methods only. Use solver='adam' or solver='sgd' (or "
                "sklearn.neural_network.MLPClassifier for L-BFGS).")
        if self.early_stopping and incremental:
            raise ConfigError("partial_fit does not support early_stopping=True")
        hidden = self.hidden_layer_sizes
        hidden = [int(h) for h in (hidden if hasattr(hidden, "__iter__") else [hidden])]
        if any(h <= 0 for h in hidden):
            raise ConfigError(f"hidden_layer_sizes must be > 0, got {hidden}.")
        first_pass = not hasattr(self, "model_") or (not self.warm_start and not incremental)

        X, y, sample_weight = self._validate_xy(X, y, sample_weight, reset=first_pass)
        y_host = _host(y)
        if y_host.dtype == object:
            y_host = y_host.astype(str) if all(isinstance(v, str) for v in y_host) else y_host
        classes = np.unique(y_host)
        if first_pass and not incremental:
            self.classes_ = classes
        elif self.warm_start and not incremental:
            if set(classes) != set(self.classes_):
                raise InvalidInput(
                    "warm_start can only be used where `y` has the same classes as in the "
                    f"previous call to fit. Previously got {self.classes_}, `y` has {classes}")
        elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
            raise InvalidInput(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                             f"{self.classes_}. 'y' has {classes}.")
        if len(self.classes_) < 2:
            raise InvalidInput(
                "MLPClassifier needs samples of at least 2 classes to train; got 1 class: "
                f"{self.classes_[0]!r}.")
        y_idx = np.searchsorted(self.classes_, y_host).astype(np.int64)

        sw_host = None
        if sample_weight is not None:
            sw_host = _host(sample_weight).astype(np.float64)
            if not sw_host.sum() > 0:
                raise InvalidInput("Sample weights must contain at least one non-zero number; "
                                 "the total weight is zero.")

        self._input_backend = backend_of(X).spec
        rs = check_random_state(self.random_state)
        if first_pass:
            self._initialize(X, hidden, rs)
        model = self.model_

        # The validation split (scikit-learn draws it after the initial weights).
        Xt, yt, swt = X, y_idx, sw_host
        val = None
        if self.early_stopping:
            idx = np.arange(X.shape[0])
            # scikit-learn's split for the same random_state: stratified for two classes (its
            # single logistic output), not for more (its one-hot targets are multi-output).
            stratify = y_idx if len(self.classes_) == 2 else None
            tr, va = train_test_split(idx, random_state=rs, test_size=self.validation_fraction,
                                      stratify=stratify)
            if va.shape[0] < 2:
                raise ConfigError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            xp = model.backend.xp
            Xd = model.validate_data(X).X
            take = lambda A, i: xp.take(A, model.backend.asarray(i), axis=0)  # noqa: E731
            Xt, Xv = take(Xd, tr), take(Xd, va)
            yt, yv = y_idx[tr], y_idx[va]
            swv = None
            if sw_host is not None:
                swt, swv = sw_host[tr], sw_host[va]
            val = (Xv, model.backend.asarray(yv), swv)
        model.seed = int(rs.randint(np.iinfo(np.int32).max))
        self._run_epochs(Xt, yt, swt, val, incremental)
        return self

    def _initialize(self, X, hidden, rs):
        """A new network with scikit-learn's initial weights, and the fitted-state attributes."""
        backend = get_backend(self.backend) if self.backend is not None else (
            backend_of(X) if _dispatch_enabled() else get_backend("cpu"))
        dtype = self.dtype or ("float32" if _dtype_name(X) == "float32" else "float64")
        k = len(self.classes_)
        sizes = [X.shape[1], *hidden, k]
        model = MLP(sizes, activation=ACTIVATION_NAMES[self.activation], init="glorot",
                    dtype=dtype, backend=backend, seed=0)
        factor = 2.0 if self.activation == "logistic" else 6.0
        params = {}
        for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            bound = math.sqrt(factor / (fan_in + fan_out))
            params[f"W{l}"] = np.ascontiguousarray(rs.uniform(-bound, bound, (fan_in, fan_out)).T)
            params[f"b{l}"] = rs.uniform(-bound, bound, fan_out)
        model.set_params(params)
        model.optimizer = self._new_optimizer(self.learning_rate_init)
        self.model_ = model
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = k
        self.n_layers_ = len(sizes)
        self.out_activation_ = "softmax"
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None
    # The training pieces live in their own modules, as methods of the estimator:
    _new_optimizer = new_optimizer
    _run_epochs = run_epochs
    _device_accuracy = device_accuracy

    # -- prediction ------------------------------------------------------------------------------
    def _check_X(self, X, method: str):
        check_is_fitted(self)
        if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
            raise InvalidInputType("xpnet.sklearn.MLPClassifier does not support sparse input; "
                            "convert X with X.toarray().")
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

    def _proba(self, X, method):
        X = self._check_X(X, method)
        model = self.model_
        P = network.softmax(model._logits(model.validate_data(X).X))
        return P, X

    def predict_proba(self, X):
        """Class probabilities ``softmax(Z_L)``, shape ``(n_samples, n_classes)``, columns in
        the order of ``classes_``, in the namespace of ``X``."""
        P, X = self._proba(X, "predict_proba")
        return self._to_output(P, X)

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``, computed as ``log_softmax(Z_L)`` (no underflow to −inf
        for confident predictions)."""
        X = self._check_X(X, "predict_log_proba")
        model = self.model_
        return self._to_output(network.log_softmax(model._logits(model.validate_data(X).X)), X)

    def predict(self, X):
        """Predicted labels (values of ``classes_``), shape ``(n_samples,)``.

        In the namespace of ``X`` when the labels are numbers; string labels come back as a
        NumPy array.
        """
        X = self._check_X(X, "predict")
        model = self.model_
        idx = model.backend.xp.argmax(model._logits(model.validate_data(X).X), axis=1)
        out = self._out_backend(X)
        if out.name != "numpy" and self.classes_.dtype.kind in "biuf":
            idx = self._to_output(idx, X)
            classes = out.asarray(self.classes_)
            return out.xp.take(classes, idx, axis=0)
        return self.classes_[model.backend.to_numpy(idx)]

    # -- the fitted network in scikit-learn's layout ---------------------------------------------
    @property
    def coefs_(self):
        """Weight matrices ``W_lᵀ``, shape ``(n_in, n_out)`` each (scikit-learn's layout)."""
        check_is_fitted(self)
        m = self.model_
        return [self._attr(m.params[f"W{l}"].T) for l in range(1, m.n_layers + 1)]

    @property
    def intercepts_(self):
        """Bias vectors ``b_l``, shape ``(n_out,)`` each."""
        check_is_fitted(self)
        m = self.model_
        return [self._attr(m.params[f"b{l}"]) for l in range(1, m.n_layers + 1)]

    def _attr(self, a):
        out, here = get_backend(self._input_backend), self.model_.backend
        return a if out.spec == here.spec else out.asarray(here.to_numpy(a))

    # -- pickling (the network is stored as host arrays and rebuilt on its backend) -------------
    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        model = state.pop("model_", None)
        if model is not None:
            opt = model.optimizer
            state["_xpnet_model"] = {
                "config": model.get_config(),
                "backend": model.backend.spec,
                "params": model.numpy_params(),
                "epoch": model.epoch,
                "opt_t": opt.t,
                "opt_lr": opt.lr,
                "opt_state": {k: model.backend.to_numpy(v, copy=True)
                              for k, v in opt.state_arrays().items()},
            }
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop("_xpnet_model", None)
        super().__setstate__(state) if hasattr(super(), "__setstate__") else self.__dict__.update(state)
        if saved is not None:
            c = saved["config"]
            model = MLP(c["sizes"], activation=c["activation"], init=c["init"], dtype=c["dtype"],
                        backend=saved["backend"], seed=c["seed"])
            model.set_params(saved["params"])
            model.epoch = saved["epoch"]
            opt = self._new_optimizer(saved["opt_lr"])
            opt.load_state(saved["opt_t"], {k: model.backend.asarray(v, c["dtype"])
                                            for k, v in saved["opt_state"].items()})
            model.optimizer = opt
            self.model_ = model


from .._typing import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
