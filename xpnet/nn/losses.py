"""Loss heads: the output layer's activation and the loss on it, one small object each.

A head turns the logits ``Z_L`` (``m × n_L``) into the network's output ``A_L`` and scores
``A_L`` against the targets ``T``:

| head                                     | output ``A_L``  | per-sample loss ``ℓ_i``            | targets ``T``        |
| ---------------------------------------- | --------------- | ---------------------------------- | -------------------- |
| [`CrossEntropy`][xpnet.nn.losses.CrossEntropy] (``"cross_entropy"``) | softmax(Z_L)    | ``−Σ_k T_ik log A_ik``             | one-hot of labels (or smoothed) |
| [`SquaredError`][xpnet.nn.losses.SquaredError] (``"squared_error"``) | Z_L (identity)  | ``½ Σ_k (A_ik − T_ik)²``           | real values, m × n_L |
| [`PoissonDeviance`][xpnet.nn.losses.PoissonDeviance] (``"poisson"``)  | e^{Z_L}         | ``Σ_k (T log(T/A) − T + A)_ik``    | counts ≥ 0, m × n_L  |

Every pair is *canonical*: the derivative of ``ℓ`` with respect to the logits is
``A_L − T`` for each, so [`xpnet.nn.network.backward`][xpnet.nn.network.backward] starts from
``dZ_L = (A_L − T)/m`` whichever head produced ``A_L`` — the tutorial's ``dZ2 = A2 − Y``.

Every method gets its namespace from its arguments, as in [`xpnet.nn.network`][xpnet.nn.network],
whose softmax cross-entropy functions the first head calls.
"""

from __future__ import annotations

from ..backend import array_namespace, device_of
from ..errors import ConfigError
from .fast import sum_columns
from .network import one_hot, softmax, softmax_cross_entropy, softmax_cross_entropy_rows

__all__ = [
    "LossHead",
    "CrossEntropy",
    "SquaredError",
    "PoissonDeviance",
    "get_loss",
    "check_label_smoothing",
    "LOSSES",
]


# -- the heads ---------------------------------------------------------------------------------
class LossHead:
    """The output activation and its loss. Subclasses define every method below.

    Attributes
    ----------
    name : str
        The name [`get_loss`][xpnet.nn.losses.get_loss] and checkpoints know it by.
    output_activation : str
        ``"softmax"`` or ``"identity"`` (scikit-learn's ``out_activation_``).
    classifies : bool
        True when the targets are class labels (predictions are ``argmax Z_L``), False when
        they are real values (predictions are ``A_L`` itself).
    min_outputs : int
        The fewest output units the head accepts.
    nonnegative_targets : bool
        True when real targets must be ≥ 0 (counts).
    """

    name = "loss"
    output_activation = "identity"
    classifies = False
    min_outputs = 1
    nonnegative_targets = False

    def targets(self, y, n_outputs: int, dtype):
        """The target matrix ``T`` ``(m, n_L)`` in ``dtype`` from validated targets ``y``."""
        raise NotImplementedError  # pragma: no cover - abstract

    def output(self, Z):
        """``A_L`` from the logits ``Z_L``, ``(m, n_L)``."""
        raise NotImplementedError  # pragma: no cover - abstract

    def rows(self, Z, T):
        """Each sample's loss for the training loop, in few array operations.

        Returns
        -------
        ell : array
            ``ℓ_i``, shape ``(m,)``.
        miss : array or None
            ``−1`` where sample i is misclassified, else 0, ``(m,)`` (None when the head does
            not classify).
        A : array
            ``A_L``, ``(m, n_L)``, for [`backward`][xpnet.nn.network.backward].
        """
        raise NotImplementedError  # pragma: no cover - abstract

    def loss_sum(self, Z, T, weights=None):
        """``Σ_i w_i ℓ_i`` (0-d; ``w_i = 1`` without ``weights`` ``(m,)``) and ``A_L``."""
        raise NotImplementedError  # pragma: no cover - abstract

    def score(self, Z, y, weights=None):
        """The head's quality score (accuracy, or R²) as ``(numerator, denominator)``: 0-d
        device arrays or numbers, divided on the host (an accuracy of n samples is then
        exactly ``hits / n``, whatever the dtype)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def __eq__(self, other) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CrossEntropy(LossHead):
    """Softmax output and cross-entropy against class labels (the tutorial's head).

    ``A_L = softmax(Z_L)``, ``ℓ_i = −Σ_k T_ik log A_ik``; targets are the one-hot rows of the
    labels, or with label smoothing ``ε`` (Szegedy et al. 2016) the smoothed rows
    ``T′ = (1 − ε)·onehot + ε/K`` (``K = n_L`` classes), which still sum to 1, so the head stays
    canonical: ``∂ℓ_i/∂Z_i = A_i − T′_i``. Without smoothing ``ℓ_i = −log A_{i,y_i}``. The
    score is the (weighted) accuracy.

    Parameters
    ----------
    label_smoothing : float
        ``ε``, 0 ≤ ε < 1 (0: the one-hot targets). PyTorch's
        ``CrossEntropyLoss(label_smoothing=ε)`` and Keras's
        ``CategoricalCrossentropy(label_smoothing=ε)`` mean the same targets.

    Raises
    ------
    ConfigError
        ``label_smoothing`` is not a number in [0, 1).
    """

    name = "cross_entropy"
    output_activation = "softmax"
    classifies = True
    min_outputs = 2
    label_smoothing = 0.0  # the class's value: heads pickled before label smoothing have none

    def __init__(self, label_smoothing: float = 0.0):
        self.label_smoothing = check_label_smoothing(label_smoothing)

    def targets(self, y, n_outputs, dtype):
        T = one_hot(y, n_outputs, dtype)
        eps = self.label_smoothing
        return T if not eps else T * (1 - eps) + eps / n_outputs

    def output(self, Z):
        return softmax(Z)

    def rows(self, Z, T):
        xp = array_namespace(Z, T)
        if not self.label_smoothing:
            log_s, t, P = softmax_cross_entropy_rows(Z, T, xp)
            return log_s - t, xp.sign(t), P  # ℓ_i = log s_i − t_i; sign(t_i) = −[missed_i]
        # Smoothed targets: t_i = Σ_k T′_ik shifted_ik is no longer the label's shifted logit;
        # the label is where T′ exceeds the midpoint between its two values (1 − ε + ε/K, ε/K),
        # whose 0/1 indicator gives the label's shifted logit exactly, so misses stay exact.
        K = Z.shape[1]
        middle = (1 - self.label_smoothing) / 2 + self.label_smoothing / K
        shifted = Z - xp.max(Z, axis=1, keepdims=True)
        P = xp.exp(shifted)
        s = sum_columns(P, xp)
        P /= s[:, None]
        label = xp.vecdot(xp.astype(T > middle, Z.dtype), shifted)
        return xp.log(s) - xp.vecdot(T, shifted), xp.sign(label), P

    def loss_sum(self, Z, T, weights=None):
        return softmax_cross_entropy(Z, T, weights)  # −Σ_k T_ik log P_ik: rows of T sum to 1

    def score(self, Z, y, weights=None):
        """Accuracy ``Σ_i w_i [argmax_k Z_ik = y_i] / Σ_i w_i`` against labels ``y`` ``(m,)``."""
        xp = array_namespace(Z)
        hits = xp.astype(xp.argmax(Z, axis=1) == y, Z.dtype)
        if weights is None:
            return xp.sum(hits), Z.shape[0]
        return xp.sum(hits * weights), xp.sum(weights)

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.label_smoothing == other.label_smoothing

    def __hash__(self) -> int:
        return hash((type(self), self.label_smoothing))

    def __repr__(self) -> str:
        eps = self.label_smoothing
        return f"CrossEntropy(label_smoothing={eps!r})" if eps else "CrossEntropy()"


def check_label_smoothing(value) -> float:
    """``value`` as a float ε with 0 ≤ ε < 1, or a [`ConfigError`][xpnet.errors.ConfigError] that says so."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise ConfigError(f"label_smoothing must be a number in [0, 1), got {value!r}")
    eps = float(value)
    if not (0 <= eps < 1):  # also refuses NaN
        raise ConfigError(
            f"label_smoothing must be in [0, 1) (the weight moved from the label to all classes), got {value!r}"
        )
    return eps


class SquaredError(LossHead):
    """Identity output and half the squared error, for regression.

    ``A_L = Z_L``, ``ℓ_i = ½ Σ_k (Z_ik − T_ik)²``: summed over the outputs, as the
    cross-entropy sums over the classes, so that ``∂ℓ_i/∂Z_i = Z_i − T_i``. (scikit-learn's
    ``MLPRegressor`` trains on the same gradient and reports this loss divided by ``n_L``.)
    The score is R², averaged over the outputs.
    """

    name = "squared_error"
    output_activation = "identity"

    def targets(self, y, n_outputs, dtype):
        xp = array_namespace(y)
        y = xp.astype(y, dtype)
        return xp.reshape(y, (y.shape[0], n_outputs)) if y.ndim == 1 else y

    def output(self, Z):
        return Z

    def rows(self, Z, T):
        xp = array_namespace(Z)
        D = Z - T
        return 0.5 * xp.vecdot(D, D), None, Z

    def loss_sum(self, Z, T, weights=None):
        xp = array_namespace(Z)
        D = Z - T
        per_sample = xp.vecdot(D, D)
        total = xp.sum(per_sample) if weights is None else xp.vecdot(weights, per_sample)
        return 0.5 * total, Z

    def score(self, Z, y, weights=None):
        """R², ``1 − Σ_i w_i (y_ik − z_ik)² / Σ_i w_i (y_ik − ȳ_k)²`` averaged over the outputs
        k (ȳ_k the weighted mean); an output whose targets are constant scores 1 when fitted
        exactly, else 0 (scikit-learn's ``r2_score``)."""
        xp = array_namespace(Z)
        T = self.targets(y, Z.shape[1], Z.dtype)
        Z = self.output(Z)  # the predictions A_L
        w = xp.ones((T.shape[0],), dtype=Z.dtype, device=device_of(Z)) if weights is None else weights
        mean = (w @ T) / xp.sum(w)
        residual = w @ ((T - Z) ** 2)
        total = w @ ((T - mean) ** 2)
        exact = xp.astype(residual == 0, Z.dtype)
        safe_total = xp.where(total == 0, xp.ones_like(total), total)
        r2 = xp.where(total == 0, exact, 1 - residual / safe_total)
        return xp.sum(r2), Z.shape[1]


class PoissonDeviance(SquaredError):
    """Exponential output and half the Poisson deviance, for counts and rates ``T ≥ 0``.

    ``A_L = e^{Z_L}``, ``ℓ_i = Σ_k (T_ik log(T_ik/A_ik) − T_ik + A_ik)``, which is
    ``Σ_k (e^{Z_ik} − T_ik Z_ik) + const``, so ``∂ℓ_i/∂Z_i = A_i − T_i`` (the log link is
    canonical). ``T log T`` is 0 at ``T = 0``. scikit-learn's ``MLPRegressor(loss="poisson")``.
    The score is R² of the predictions ``A_L``.
    """

    name = "poisson"
    output_activation = "exp"
    nonnegative_targets = True

    def output(self, Z):
        return array_namespace(Z).exp(Z)

    def _per_sample(self, Z, T):
        xp = array_namespace(Z)
        A = xp.exp(Z)
        safe = xp.where(T > 0, T, xp.ones_like(T))
        t_log_t = xp.where(T > 0, T * xp.log(safe), xp.zeros_like(T))
        return xp.sum(t_log_t - T * Z - T + A, axis=1), A

    def rows(self, Z, T):
        ell, A = self._per_sample(Z, T)
        return ell, None, A

    def loss_sum(self, Z, T, weights=None):
        xp = array_namespace(Z)
        ell, A = self._per_sample(Z, T)
        return (xp.sum(ell) if weights is None else xp.vecdot(weights, ell)), A


LOSSES: dict[str, type[LossHead]] = {
    "cross_entropy": CrossEntropy,
    "squared_error": SquaredError,
    "poisson": PoissonDeviance,
}


def get_loss(spec: str | LossHead | None, label_smoothing: float = 0.0) -> LossHead:
    """A head from its name (``"cross_entropy"``, ``"squared_error"``) or itself; ``None`` is
    cross-entropy. ``label_smoothing`` ε > 0 smooths a cross-entropy head's targets (a head
    given as itself keeps its own unless ε is given); other heads refuse it.

    Raises
    ------
    ConfigError
        An unknown loss, or label smoothing of a head that does not classify.
    """
    eps = check_label_smoothing(label_smoothing)
    if isinstance(spec, LossHead):
        head = spec
    elif spec is None:
        head = CrossEntropy()
    else:
        try:
            head = LOSSES[str(spec)]()
        except KeyError:
            raise ConfigError(f"unknown loss {spec!r}; choose one of {', '.join(LOSSES)}") from None
    if not eps:
        return head
    if not isinstance(head, CrossEntropy):
        raise ConfigError(f"label_smoothing applies to the cross_entropy loss only, not {head.name!r}")
    return CrossEntropy(eps)


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
