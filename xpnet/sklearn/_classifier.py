"""[`MLPClassifier`][xpnet.sklearn.MLPClassifier]: class labels in, a softmax output, the
cross-entropy head (see [`xpnet.sklearn`][xpnet.sklearn])."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets

from .. import network
from ..errors import InvalidInput
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
        ``"adam"`` ([`xpnet.optim.Adam`][xpnet.optim.Adam]) or ``"sgd"`` ([`xpnet.optim.SGD`][xpnet.optim.SGD], with
        ``momentum``/``nesterovs_momentum``). ``"lbfgs"`` is **not offered**: xpnet trains with
        stochastic gradient methods only; fitting with it raises ``ValueError``.
    alpha : float, default=1e-4
        L2 penalty ``α/(2·s_b)·Σ‖W_l‖²`` added to each batch's loss (weights, not biases;
        ``s_b`` the batch's sum of sample weights): [`MLP.fit`][xpnet.model.MLP.fit]'s ``l2``.
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

    _LOSS = "cross_entropy"
    _OUT_ACTIVATION = "softmax"

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


from .._typing import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
