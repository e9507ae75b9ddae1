"""[`MLPClassifier`][xpnet.sklearn.MLPClassifier]: class labels in, a softmax output, the
cross-entropy head (see [`xpnet.sklearn`][xpnet.sklearn])."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets
from sklearn.utils.validation import column_or_1d

from ..errors import ConfigError, InvalidInput
from ..nn import network
from ..nn.losses import LossHead, get_loss
from ._base import BaseMLP
from ._inputs import _host

__all__ = ["MLPClassifier"]


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier with scikit-learn's interface, trained by xpnet.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Width of each hidden layer.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Hidden activation: identity ``g(z) = z``, logistic ``σ(z) = 1/(1+e^{−z})`` (xpnet's
        ``sigmoid``), ``tanh``, or ``relu`` ``max(z, 0)``.
    solver : {"adam", "sgd"}, default="adam"
        ``"adam"`` ([`xpnet.nn.optim.Adam`][xpnet.nn.optim.Adam]) or ``"sgd"`` ([`xpnet.nn.optim.SGD`][xpnet.nn.optim.SGD], with
        ``momentum``/``nesterovs_momentum``). ``"lbfgs"`` is **not offered**: xpnet trains with
        stochastic gradient methods only; fitting with it raises ``ValueError``.
    alpha : float, default=1e-4
        L2 penalty ``α/(2·s_b)·Σ‖W_l‖²`` added to each batch's loss (weights, not biases;
        ``s_b`` the batch's sum of sample weights): [`MLP.fit`][xpnet.model.mlp.MLP.fit]'s ``l2``.
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
        Stop when the validation accuracy does not improve by ``tol`` for more than
        ``n_iter_no_change`` epochs, and end with the weights of its best epoch. The
        validation set is ``fit``'s ``X_val``/``y_val`` when given, else
        ``validation_fraction`` of the training data (held out as scikit-learn does:
        stratified for two classes). Works with ``partial_fit`` too (see there).
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping when no ``X_val`` is given.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's ε.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping (or, for ``adaptive``, lowering the rate).
    max_fun : int, default=15000
        Accepted for compatibility; only scikit-learn's ``lbfgs`` uses it.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight`` (scikit-learn's
        ``compute_sample_weight(class_weight, y)``): a dict ``{label: weight}`` (labels left
        out weigh 1; a label that is not a class is an error), or ``"balanced"``:
        ``n_samples / (n_classes · bincount(y))``, counted on the ``y`` of each ``fit``.
        The held-out validation split keeps them (as HistGradientBoostingClassifier's does);
        ``X_val`` is weighted by ``sample_weight_val`` only. ``"balanced"`` is refused by
        ``partial_fit``, which sees one chunk at a time: pass a dict from
        ``sklearn.utils.class_weight.compute_class_weight``.
    restore_best_weights : bool, default=False
        With ``early_stopping=False``: end ``fit`` with the weights of the epoch of the
        lowest training loss (``best_loss_``; the loss is the mean over the epoch's steps,
        the weights those at its end). With ``early_stopping=True`` the weights of the best
        validation score are restored whatever this is, as scikit-learn does.
        ``partial_fit`` without early stopping never restores.
    dropout : float or list of float, default=0.0
        Not in scikit-learn (its issue #6175): inverted dropout on the hidden layers while
        training, the fraction of units dropped at every step, one rate or one per hidden
        layer, each in [0, 1) ([`xpnet.nn.dropout`][xpnet.nn.dropout]). Prediction never drops.
    ema_decay : float or None, default=None
        Not in scikit-learn: keep an exponential moving average of the weights, updated after
        every step with this decay (``d`` in (0, 1), warmed up as ``min(d, (1+t)/(10+t))``;
        [`xpnet.EMA`][xpnet.nn.averaging.EMA]), and predict, score and early-stop with it
        (``coefs_`` and ``intercepts_`` are the averaged weights). ``None``: no averaging.
    label_smoothing : float, default=0.0
        Not in scikit-learn: train against the smoothed targets ``(1 − ε)·onehot + ε/K``
        (Szegedy et al. 2016; PyTorch's and Keras's ``label_smoothing``), ε in [0, 1).
        ``loss_`` and ``loss_curve_`` are then the smoothed loss.
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
    validation_loss_curve_ : list of float or None
        Mean cross-entropy on the validation set after every epoch (weighted by its sample
        weights), without the L2 penalty that ``loss_curve_`` includes (None without early
        stopping).
    early_stopped_ : bool
        True once early stopping ran out of patience in ``partial_fit`` (see there).
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

    _OUT_ACTIVATION = "softmax"

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    @property
    def _LOSS(self) -> LossHead:
        """The cross-entropy head, with ``label_smoothing``'s targets (estimators pickled before
        the parameter have none)."""
        return get_loss("cross_entropy", getattr(self, "label_smoothing", 0.0))

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
        class_weight=None,
        restore_best_weights=False,
        dropout=0.0,
        ema_decay=None,
        label_smoothing=0.0,
        backend=None,
        dtype=None,
    ):
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            restore_best_weights=restore_best_weights,
            dropout=dropout,
            ema_decay=ema_decay,
            backend=backend,
            dtype=dtype,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True  # trains on the namespace/device of X under array_api_dispatch
        tags.input_tags.sparse = False  # dense input only: xpnet's network math is dense
        # One softmax over the classes: multiclass yes, multilabel (2-D indicator y) no.
        tags.classifier_tags.multi_label = False
        tags.target_tags.multi_output = False
        tags.non_deterministic = False
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Train on ``X`` (n_samples × n_features) and labels ``y`` (n_samples,).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dense numeric input (NumPy, lists, DataFrames; with ``array_api_dispatch``, any
            Array API array).
        y : array-like of shape (n_samples,)
            Class labels of any sortable type.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights: each batch's loss is ``Σ_i w_i·CE_i / Σ_i w_i`` (times
            ``class_weight``'s).
        X_val : array-like of shape (n_val, n_features), default=None
            A validation set for ``early_stopping``, used instead of holding out
            ``validation_fraction`` of ``X`` (all of ``X`` is trained on); requires
            ``early_stopping=True`` and ``y_val`` (HistGradientBoosting's rules). In a
            ``Pipeline``, ``Pipeline(..., transform_input=["X_val"])`` transforms it as
            ``X`` (with metadata routing and ``set_fit_request(X_val=True, y_val=True)``).
        y_val : array-like of shape (n_val,), default=None
            Its labels: classes of ``y``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples (in its accuracy and loss).

        Returns
        -------
        self : MLPClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            Bad input (scikit-learn's messages), a single class, ``solver="lbfgs"``, ``X_val``
            without ``y_val`` (or the reverse), or without ``early_stopping``, a
            ``class_weight`` label that is not a class.
        TypeError
            Sparse input (not supported).
        """
        return self._fit(X, y, sample_weight, False, X_val, y_val, sample_weight_val)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer state.

        With ``early_stopping=True`` (which scikit-learn's ``partial_fit`` refuses) each call
        is an epoch of early stopping: it scores the validation set afterwards, appends to
        ``validation_scores_`` and ``validation_loss_curve_``, and counts the calls without
        an improvement by ``tol``; the weights of the best call are kept. The validation set
        is the ``X_val``/``y_val`` of this call, else the one of an earlier call (pass the
        same set, or pass it once), else ``validation_fraction`` of the first call's data,
        held out and kept. When more than ``n_iter_no_change`` calls did not improve, the
        best weights are restored, a ``UserWarning`` says so once, ``early_stopped_`` becomes
        True, and further ``partial_fit`` calls with early stopping return without training
        (their input is still checked). ``fit`` starts afresh; ``early_stopping=False``
        trains on from the restored weights.

        Parameters
        ----------
        X, y, sample_weight : as in [`fit`][xpnet.sklearn.MLPClassifier.fit].
        classes : array-like of shape (n_classes,), default=None
            Every class of every call; required in the first call.
        X_val, y_val, sample_weight_val : as in [`fit`][xpnet.sklearn.MLPClassifier.fit]
            The validation set of early stopping, kept for the next calls.

        Returns
        -------
        self : MLPClassifier
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight, classes, X_val, y_val, sample_weight_val)

    @_fit_context(prefer_skip_nested_validation=True)
    def _partial_fit(self, X, y, sample_weight, classes, X_val, y_val, sample_weight_val):
        # Sets classes_ from `classes` on the first call; refuses other classes later.
        _check_partial_fit_first_call(self, classes)
        return self._fit(X, y, sample_weight, True, X_val, y_val, sample_weight_val)

    def _targets(self, y, first_pass: bool, incremental: bool) -> np.ndarray:
        """The labels as indices into ``classes_`` (set on a first fit), checked as
        scikit-learn checks them."""
        y_host = _host(y)
        check_classification_targets(y_host)
        if y_host.dtype == object:
            y_host = y_host.astype(str) if all(isinstance(v, str) for v in y_host) else y_host
        classes = np.unique(y_host)
        if first_pass and not incremental:
            self.classes_ = classes
        elif self.warm_start and not incremental:
            if set(classes) != set(self.classes_):
                raise InvalidInput(
                    "warm_start can only be used where `y` has the same classes as in the "
                    f"previous call to fit. Previously got {self.classes_}, `y` has {classes}"
                )
        elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
            raise InvalidInput(
                f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. 'y' has {classes}."
            )
        if len(self.classes_) < 2:
            raise InvalidInput(
                f"MLPClassifier needs samples of at least 2 classes to train; got 1 class: {self.classes_[0]!r}."
            )
        return np.searchsorted(self.classes_, y_host).astype(np.int64)

    def _validation_targets(self, y_val) -> np.ndarray:
        """``y_val`` as indices into ``classes_``; a label that is not a class is an error."""
        y_host = column_or_1d(_host(y_val), warn=True)
        check_classification_targets(y_host)
        if y_host.dtype == object:
            y_host = y_host.astype(str) if all(isinstance(v, str) for v in y_host) else y_host
        unknown = np.setdiff1d(np.unique(y_host), self.classes_)
        if len(unknown):
            raise InvalidInput(
                f"y_val has labels that are not classes of y: {unknown.tolist()}; the classes are "
                f"{self.classes_.tolist()}."
            )
        return np.searchsorted(self.classes_, y_host).astype(np.int64)

    def _weighted_by_class(self, targets, sample_weight, incremental: bool):
        """``sample_weight × c[y]``, ``c`` the weights of ``class_weight`` (scikit-learn's
        ``compute_sample_weight(class_weight, y)``: ``"balanced"`` is
        ``n_samples / (n_classes · bincount(y))`` over the classes present)."""
        cw = self.class_weight
        if cw is None:
            return sample_weight
        if isinstance(cw, str):  # "balanced" (the parameter constraints allow no other string)
            if incremental:
                raise ConfigError(
                    "class_weight 'balanced' is not supported for partial_fit: each call sees one "
                    "chunk of the data. Compute the weights once with sklearn.utils.class_weight."
                    "compute_class_weight('balanced', classes=classes, y=y) on a large enough "
                    "sample of the training labels, and pass them as class_weight={label: weight}."
                )
            counts = np.bincount(targets, minlength=len(self.classes_)).astype(np.float64)
            present = counts > 0
            c = np.zeros(len(self.classes_))
            c[present] = targets.shape[0] / (np.count_nonzero(present) * counts[present])
        else:
            labels = [v.item() if hasattr(v, "item") else v for v in self.classes_]
            unknown = [key for key in cw if key not in set(labels)]
            if unknown:
                raise InvalidInput(
                    f"class_weight has weights for {unknown}, which are not classes of y; the "
                    f"classes are {self.classes_.tolist()}."
                )
            c = np.ones(len(self.classes_))
            for i, label in enumerate(labels):
                if label in cw:
                    c[i] = float(cw[label])
                    if not (math.isfinite(c[i]) and c[i] >= 0):
                        raise InvalidInput(f"class_weight[{label!r}] must be finite and >= 0, got {cw[label]!r}.")
        weights = c[targets]
        if sample_weight is not None:
            weights = sample_weight * weights
        if not weights.sum() > 0:
            raise InvalidInput(
                "class_weight (with sample_weight) leaves every sample at weight 0: nothing to train on."
            )
        return weights

    def _n_outputs(self, targets) -> int:
        return len(self.classes_)

    @property
    def _stratify_split(self) -> bool:
        # scikit-learn stratifies where its output is one logistic unit: two classes.
        return len(self.classes_) == 2

    # -- prediction ------------------------------------------------------------------------------
    def predict_proba(self, X):
        """Class probabilities ``softmax(Z_L)``, shape ``(n_samples, n_classes)``, columns in
        the order of ``classes_``, in the namespace of ``X``."""
        X = self._check_X(X, "predict_proba")
        return self._to_output(self.model_.predict_proba(X), X)

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``, computed as ``log_softmax(Z_L)`` (no underflow to −inf
        for confident predictions)."""
        X = self._check_X(X, "predict_log_proba")
        return self._to_output(network.log_softmax(self.model_.decision_function(X)), X)

    def predict(self, X):
        """Predicted labels (values of ``classes_``), shape ``(n_samples,)``.

        In the namespace of ``X`` when the labels are numbers; string labels come back as a
        NumPy array.
        """
        X = self._check_X(X, "predict")
        model = self.model_
        idx = model.predict(X)
        out = self._out_backend(X)
        if out.name != "numpy" and self.classes_.dtype.kind in "biuf":
            idx = self._to_output(idx, X)
            classes = out.asarray(self.classes_)
            return out.xp.take(classes, idx, axis=0)
        return self.classes_[model.backend.to_numpy(idx)]


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
