"""[`MLPRegressor`][xpnet.sklearn.MLPRegressor]: real targets (one or many outputs), an
identity output and the squared-error head, or an exponential output and the Poisson head
(see [`xpnet.sklearn`][xpnet.sklearn])."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d

from ..errors import InvalidInput
from ._base import BaseMLP
from ._inputs import _host

__all__ = ["MLPRegressor"]


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor with scikit-learn's interface, trained by xpnet.

    Parameters
    ----------
    loss : {"squared_error", "poisson"}, default="squared_error"
        ``"squared_error"``: identity output, half the squared error (xpnet's
        [`SquaredError`][xpnet.nn.losses.SquaredError] head); ``"poisson"``: exponential output,
        half the Poisson deviance, for targets ≥ 0 ([`PoissonDeviance`][xpnet.nn.losses.PoissonDeviance]).
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
        Stop when the validation R² does not improve by ``tol`` for more than
        ``n_iter_no_change`` epochs, and end with the weights of its best epoch. The
        validation set is ``fit``'s ``X_val``/``y_val`` when given, else
        ``validation_fraction`` of the training data. Works with ``partial_fit`` too (see
        [`MLPClassifier.partial_fit`][xpnet.sklearn.MLPClassifier.partial_fit]).
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
    restore_best_weights : bool, default=False
        With ``early_stopping=False``: end ``fit`` with the weights of the epoch of the
        lowest training loss (``best_loss_``). With ``early_stopping=True`` the weights of the
        best validation score are restored whatever this is, as scikit-learn does.
    dropout : float or list of float, default=0.0
        Not in scikit-learn (its issue #6175): inverted dropout on the hidden layers while
        training, the fraction of units dropped at every step, one rate or one per hidden
        layer, each in [0, 1) ([`xpnet.nn.dropout`][xpnet.nn.dropout]). Prediction never drops.
    ema_decay : float or None, default=None
        Not in scikit-learn: keep an exponential moving average of the weights, updated after
        every step with this decay (``d`` in (0, 1), warmed up as ``min(d, (1+t)/(10+t))``;
        [`xpnet.EMA`][xpnet.nn.averaging.EMA]), and predict, score and early-stop with it
        (``coefs_`` and ``intercepts_`` are the averaged weights). ``None``: no averaging.
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
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` had string column names (a DataFrame).
    coefs_ : list of arrays of shape (n_in, n_out)
        Weight matrices in scikit-learn's layout (the transposes of xpnet's ``W_l``).
    intercepts_ : list of arrays of shape (n_out,)
        Bias vectors.
    loss_ : float
        Loss of the last epoch as scikit-learn reports it: the squared error averaged over
        the outputs (the Poisson deviance summed over them), plus the penalty.
    loss_curve_ : list of float
        ``loss_`` of every epoch.
    best_loss_ : float or None
        Lowest ``loss_`` (None with early stopping).
    validation_scores_ : list of float or None
        Validation R² of every epoch (None without early stopping).
    best_validation_score_ : float or None
        Best validation R² (None without early stopping).
    validation_loss_curve_ : list of float or None
        The loss on the validation set after every epoch, as ``loss_`` reports it (the
        squared error averaged over the outputs, the Poisson deviance summed), without the
        L2 penalty (None without early stopping).
    early_stopped_ : bool
        True once early stopping ran out of patience in ``partial_fit``.
    n_iter_ : int
        Epochs run by the last ``fit`` (1 per ``partial_fit``).
    t_ : int
        Training samples seen by the optimizer, over all calls.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs (columns of y).
    out_activation_ : str
        ``"identity"`` (``"exp"`` for ``loss="poisson"``).
    model_ : xpnet.MLP
        The xpnet network trained (its ``backend``, ``params``, ``history``, ...).
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }
    _y_validation = {"multi_output": True, "y_numeric": True}

    def __init__(
        self,
        loss="squared_error",
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
        self.loss = loss
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

    @property
    def _LOSS(self) -> str:
        return self.loss

    @property
    def _OUT_ACTIVATION(self) -> str:
        return "exp" if self.loss == "poisson" else "identity"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True  # trains on the namespace/device of X under array_api_dispatch
        tags.input_tags.sparse = False  # dense input only: xpnet's network math is dense
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        tags.non_deterministic = False
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Train on ``X`` (n_samples × n_features) and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dense numeric input (NumPy, lists, DataFrames; with ``array_api_dispatch``, any
            Array API array).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Real targets (≥ 0 for ``loss="poisson"``).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights: each batch's loss is ``Σ_i w_i·ℓ_i / Σ_i w_i``.
        X_val, y_val, sample_weight_val : array-like, default=None
            A validation set for ``early_stopping`` instead of the held-out
            ``validation_fraction``, as in [`MLPClassifier.fit`][xpnet.sklearn.MLPClassifier.fit]
            (``y_val`` shaped like ``y``).

        Returns
        -------
        self : MLPRegressor
            The fitted estimator.

        Raises
        ------
        ValueError
            Bad input (scikit-learn's messages), ``solver="lbfgs"``, negative Poisson targets,
            ``X_val`` without ``y_val`` (or the reverse), or without ``early_stopping``.
        TypeError
            Sparse input (not supported).
        """
        return self._fit(X, y, sample_weight, False, X_val, y_val, sample_weight_val)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer state;
        with ``early_stopping``, one epoch of early stopping, as
        [`MLPClassifier.partial_fit`][xpnet.sklearn.MLPClassifier.partial_fit] describes.

        Parameters
        ----------
        X, y, sample_weight, X_val, y_val, sample_weight_val : as in [`fit`][xpnet.sklearn.MLPRegressor.fit].

        Returns
        -------
        self : MLPRegressor
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight, X_val, y_val, sample_weight_val)

    @_fit_context(prefer_skip_nested_validation=True)
    def _partial_fit(self, X, y, sample_weight, X_val, y_val, sample_weight_val):
        return self._fit(X, y, sample_weight, True, X_val, y_val, sample_weight_val)

    def _targets(self, y, first_pass: bool, incremental: bool) -> np.ndarray:
        """The targets as a float64 host array ``(n, n_outputs)``; a column vector is the
        single-output case (as scikit-learn's ``column_or_1d``)."""
        y = np.asarray(_host(y), dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        y = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.loss == "poisson" and np.any(y < 0):
            raise InvalidInput("Some value(s) of y are negative which is not allowed for Poisson regression.")
        if not first_pass and y.shape[1] != self.n_outputs_:
            raise InvalidInput(f"y has {y.shape[1]} outputs, but the fitted network has {self.n_outputs_}.")
        return y

    def _validation_targets(self, y_val) -> np.ndarray:
        """``y_val`` as ``_targets`` makes ``y``: float64 ``(n_val, n_outputs)``."""
        y = np.asarray(_host(y_val), dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        y = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.loss == "poisson" and np.any(y < 0):
            raise InvalidInput("Some value(s) of y_val are negative which is not allowed for Poisson regression.")
        if y.ndim != 2 or y.shape[1] != self.n_outputs_:
            raise InvalidInput(f"y_val has shape {y.shape}, but the fitted network has {self.n_outputs_} outputs.")
        return y

    def _n_outputs(self, targets) -> int:
        return targets.shape[1]

    def _reported_loss(self, logs: dict) -> float:
        """scikit-learn's ``loss_``: the squared error averaged over the outputs (xpnet's
        head sums over them, as its gradient does), plus the penalty; the Poisson deviance
        summed over them."""
        if self.loss == "poisson":
            return float(logs["loss"])
        penalty = logs.get("penalty") or 0.0
        return (float(logs["loss"]) - penalty) / self.n_outputs_ + penalty

    def _reported_validation_loss(self, val_loss: float) -> float:
        """The validation loss as ``loss_`` reports the training loss, without the penalty."""
        return float(val_loss) if self.loss == "poisson" else float(val_loss) / self.n_outputs_

    # -- prediction ------------------------------------------------------------------------------
    def predict(self, X):
        """Predictions ``A_L``, shape ``(n_samples,)`` for one output, else
        ``(n_samples, n_outputs)``, in the namespace of ``X``."""
        X = self._check_X(X, "predict")
        A = self.model_.predict(X)
        if A.shape[1] == 1:
            A = self.model_.backend.xp.reshape(A, (A.shape[0],))
        return self._to_output(A, X)


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
