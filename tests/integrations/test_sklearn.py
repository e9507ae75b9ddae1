"""``xpnet.sklearn.MLPClassifier`` against scikit-learn: its own estimator checks, its
``MLPClassifier``'s numbers, the weighted penalised loss's gradient (finite differences),
array-API dispatch on array-api-strict (including its ``device1``), bad input, and tools
(``Pipeline``, ``GridSearchCV``, ``clone``, pickling).

Skipped as a whole when scikit-learn is not installed (``pip install "xpnet[sklearn]"``).
"""

from __future__ import annotations

import os

# scikit-learn's array-API dispatch needs SciPy's array-API mode, read when SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pickle  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import xpnet  # noqa: E402
from tests.conftest import assert_close_by_bound, unit_roundoff  # noqa: E402
from xpnet.sklearn import MLPClassifier  # noqa: E402

SCIPY_ARRAY_API = os.environ.get("SCIPY_ARRAY_API") == "1"
needs_dispatch = pytest.mark.skipif(not SCIPY_ARRAY_API, reason="SCIPY_ARRAY_API=1 not set")


# -- scikit-learn's own checks --------------------------------------------------------------------
def _expected_failures(estimator) -> dict:
    """None without dropout. With it, a sample of weight 2 and the same sample given twice
    are different training problems: the two copies get different dropout masks."""
    if not estimator.dropout:
        return {}
    return {"check_sample_weight_equivalence_on_dense_data": "dropout draws a mask per row, so repeats differ"}


@parametrize_with_checks(
    [
        MLPClassifier(),
        MLPClassifier(solver="sgd", learning_rate="adaptive", max_iter=100),
        MLPClassifier(dropout=0.2, max_iter=100),  # not in scikit-learn's MLP (#6175)
        MLPClassifier(ema_decay=0.9, max_iter=100),  # nor weight averaging
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# -- the same numbers as scikit-learn's MLPClassifier ---------------------------------------------
def _digits(n=300):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16.0, y[:n]


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam", alpha=1e-3, batch_size=50),
        dict(solver="adam", activation="logistic", batch_size=64),
        dict(solver="adam", activation="identity", alpha=1.0, batch_size=50),
        dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1, alpha=0.01, batch_size=64),
        dict(
            solver="sgd",
            learning_rate="adaptive",
            learning_rate_init=0.1,
            batch_size=64,
            tol=0.1,
            n_iter_no_change=1,
            max_iter=12,
        ),
        dict(solver="sgd", momentum=0.9, nesterovs_momentum=False, alpha=0.1, batch_size=300),
        dict(
            solver="adam",
            activation="tanh",
            alpha=1.0,
            batch_size=50,
            early_stopping=True,
            max_iter=30,
            n_iter_no_change=2,
        ),
    ],
)
def test_same_numbers_as_sklearn(params):
    """Same initial weights, updates, penalty, schedules and stopping: without shuffling, the
    loss curve and the weights equal scikit-learn's to rounding (multiclass problems)."""
    X, y = _digits()
    common = dict(hidden_layer_sizes=(20,), max_iter=5, shuffle=False, random_state=3)
    common.update(params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(**common).fit(X, y)
        theirs = SkMLPClassifier(**common).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_
    # float64 throughout, after up to 30 epochs: no useful worst-case bound survives the steps,
    # but the two layouts' kernels start ~1e-16 apart (observed ≤ 6e-16 after training), six
    # orders below these tolerances, while a wrong update, penalty or schedule shows at ≥ 1e-4.
    # Probabilities get an atol: p ≤ 1, and their error is p times the logits' absolute error.
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-10)
    if params.get("early_stopping"):
        assert ours.validation_scores_ == theirs.validation_scores_
        assert ours.best_validation_score_ == theirs.best_validation_score_ and ours.best_loss_ is None
    else:
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-10)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-9)


def test_accuracy_close_to_sklearn_with_shuffling():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    common = dict(hidden_layer_sizes=(32,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(**common).fit(X[:1200], y[:1200]).score(X[1200:], y[1200:])
        theirs = SkMLPClassifier(**common).fit(X[:1200], y[:1200]).score(X[1200:], y[1200:])
    assert ours > 0.8 and abs(ours - theirs) < 0.05, (ours, theirs)


# -- the weighted, penalised loss and its gradient ------------------------------------------------
def _reference_objective(coefs, intercepts, X, y, w, alpha, activation):
    """scikit-learn's full-batch objective, written independently in NumPy:
    Σ_i w_i CE_i / Σ w + α/(2 Σ w) Σ_l ‖W_l‖²."""
    g = {"tanh": np.tanh, "logistic": lambda z: 1 / (1 + np.exp(-z)), "identity": lambda z: z}[activation]
    A = X
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        A = g(A @ W + b)
    Z = A @ coefs[-1] + intercepts[-1]
    Z = Z - Z.max(axis=1, keepdims=True)
    logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    ce = -logp[np.arange(len(y)), y]
    return (w @ ce) / w.sum() + alpha / (2 * w.sum()) * sum((W * W).sum() for W in coefs)


@pytest.mark.parametrize("activation", ["tanh", "logistic", "identity"])
@pytest.mark.parametrize("seed", [0, 1])
def test_weighted_penalised_gradient_matches_central_differences(activation, seed):
    """One full-batch plain-SGD step with learning rate 1 moves the weights by exactly minus
    the gradient the estimator trains with: compare it with central differences of the
    objective (float64)."""
    rng = np.random.default_rng(seed)
    n, d, k = 13, 4, 3
    X = rng.standard_normal((n, d))
    y = np.arange(n) % k
    w = rng.uniform(0.0, 3.0, n)
    alpha = 0.7
    clf = MLPClassifier(
        hidden_layer_sizes=(5, 4),
        activation=activation,
        solver="sgd",
        momentum=0.0,
        learning_rate_init=1.0,
        alpha=alpha,
        batch_size=n,
        max_iter=1,
        random_state=seed,
        shuffle=False,
        dtype="float64",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y, sample_weight=w)
    coefs = [c.copy() for c in clf.coefs_]
    intercepts = [b.copy() for b in clf.intercepts_]
    clf.partial_fit(X, y, sample_weight=w)
    steps = [c0 - c1 for c0, c1 in zip(coefs + intercepts, clf.coefs_ + clf.intercepts_)]
    eps = 1e-6
    L = len(coefs)
    params = coefs + intercepts
    for p, step in zip(params, steps):
        fd = np.zeros_like(p)
        for j in np.ndindex(p.shape):
            old = p[j]
            p[j] = old + eps
            up = _reference_objective(params[:L], params[L:], X, y, w, alpha, activation)
            p[j] = old - eps
            down = _reference_objective(params[:L], params[L:], X, y, w, alpha, activation)
            p[j] = old
            fd[j] = (up - down) / (2 * eps)
        np.testing.assert_allclose(step, fd, rtol=1e-6, atol=1e-8)
    # and the reported loss is the objective at the weights the step started from
    assert clf.loss_ == pytest.approx(_reference_objective(coefs, intercepts, X, y, w, alpha, activation), rel=1e-12)


@pytest.mark.parametrize("spec", ["numpy", "array_api_strict", "array_api_strict:device1"])
def test_identity_activation_gradcheck(spec):
    """activation="identity" maps to xpnet's identity activation (A = Z, dZ = dA): its
    backprop gradients match central differences on every backend (float64)."""
    pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(5)
    model = xpnet.MLP([4, 6, 5, 3], activation="identity", dtype="float64", backend=spec, seed=2)
    report = xpnet.gradcheck(
        model,
        rng.standard_normal((7, 4)),
        rng.integers(0, 3, 7),
        max_entries=None,
        sample_weight=rng.uniform(0, 2, 7),
    )
    assert report.passed, report


def test_sample_weight_ones_equals_none_and_zero_weight_removes_sample():
    X, y = _digits(120)
    kw = dict(hidden_layer_sizes=(10,), max_iter=5, random_state=0)  # full batches
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier(**kw).fit(X, y)
        b = MLPClassifier(**kw).fit(X, y, sample_weight=np.ones(len(y)))
        w = np.ones(len(y))
        w[:20] = 0
        c = MLPClassifier(**kw).fit(X, y, sample_weight=w)
        d = MLPClassifier(**kw).fit(X[20:], y[20:])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(c.predict_proba(X), d.predict_proba(X), atol=1e-10)


# -- fitted attributes, labels, partial_fit, warm_start -------------------------------------------
@pytest.mark.parametrize("labels", [np.array(["cat", "dog", "emu"]), np.array([1, 2, 3]), np.array([-1.0, 0.0, 7.0])])
def test_any_labels_and_fitted_attributes(labels):
    X, y_idx = make_classification(60, 6, n_informative=4, n_classes=3, random_state=0)
    y = labels[y_idx]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(8, 7), max_iter=20, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    assert clf.n_features_in_ == 6 and clf.n_layers_ == 4 and clf.n_outputs_ == 3
    assert clf.out_activation_ == "softmax" and clf.n_iter_ == 20 and clf.t_ == 20 * 60
    assert [c.shape for c in clf.coefs_] == [(6, 8), (8, 7), (7, 3)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (7,), (3,)]
    assert len(clf.loss_curve_) == 20 and clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert set(clf.predict(X)) <= set(labels)
    P = clf.predict_proba(X)
    assert P.shape == (60, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    # log_softmax(Z) against log(softmax(Z)) from the same float64 logits: log p is near 0 for
    # confident predictions, where no rtol holds. Both come from the same shifted logits s;
    # the sums and exps (k + 8)u each, the division u, two logs at 4 ulp of |log p| or
    # |log Σe^s| ≤ |s_i| + |log p_i|, and a subtraction: (2k + 23)u + 17u|log p| + 8u|s|.
    Z = xpnet.to_numpy(clf.model_.decision_function(X))
    shifted = Z - Z.max(axis=1, keepdims=True)
    u, k = unit_roundoff(np.float64), P.shape[1]
    bound = (2 * k + 23) * u + 17 * u * np.abs(np.log(P)) + 8 * u * np.abs(shifted)
    assert_close_by_bound(clf.predict_log_proba(X), np.log(P), bound)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[P.argmax(axis=1)])


def test_binary_problem_two_softmax_units():
    X, y = make_classification(80, 5, random_state=1)
    kw = dict(hidden_layer_sizes=(6,), max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(**kw).fit(X, y)
        theirs = SkMLPClassifier(**kw).fit(X, y).score(X, y)
    assert clf.predict_proba(X).shape == (80, 2)
    assert clf.n_outputs_ == 2 and clf.coefs_[-1].shape == (6, 2)
    assert clf.score(X, y) > theirs - 0.1, (clf.score(X, y), theirs)


def test_feature_names_in():
    pd = pytest.importorskip("pandas")
    X, y = make_classification(40, 3, n_informative=2, n_redundant=0, random_state=0)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(df, y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c"])


def test_partial_fit_and_warm_start():
    X, y = _digits(200)
    clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:100], y[:100], classes=np.arange(10))
    clf.partial_fit(X[100:], y[100:])
    assert clf.n_iter_ == 1 and clf.t_ == 200 and len(clf.loss_curve_) == 2
    with pytest.raises(ValueError, match="classes not in"):
        clf.partial_fit(X, y + 100)
    # warm_start continues from the weights and the optimizer state; a cold fit does not
    kw = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm = MLPClassifier(warm_start=True, **kw).fit(X, y)
        warm.fit(X, y)
        six = MLPClassifier(**{**kw, "max_iter": 6}).fit(X, y)
    assert warm.t_ == six.t_ and len(warm.loss_curve_) == 6
    np.testing.assert_allclose(warm.loss_curve_, six.loss_curve_, rtol=1e-12)


def test_convergence_warning_and_max_fun_accepted():
    X, y = _digits(100)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(2\\)"):
        MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, max_fun=10).fit(X, y)


def test_verbose_logs_each_epoch(caplog):
    X, y = _digits(100)
    with caplog.at_level("INFO", logger="xpnet.sklearn"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, verbose=True).fit(X, y)
    assert [r.getMessage()[:11] for r in caplog.records] == ["Iteration 1", "Iteration 2"]


# -- tools ----------------------------------------------------------------------------------------
def test_pipeline_and_grid_search():
    """The example of docs/sklearn.md."""
    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(MinMaxScaler(), MLPClassifier(max_iter=30, random_state=0))
    grid = GridSearchCV(
        pipe,
        {"mlpclassifier__hidden_layer_sizes": [(32,), (64,)], "mlpclassifier__alpha": [1e-4, 1e-2]},
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X[:1200], y[:1200])
    assert set(grid.best_params_) == {"mlpclassifier__hidden_layer_sizes", "mlpclassifier__alpha"}
    assert grid.best_score_ > 0.85
    assert grid.score(X[1200:], y[1200:]) > 0.85


def test_params_clone_pickle():
    clf = MLPClassifier(hidden_layer_sizes=(7,), alpha=0.5, backend="cpu", dtype="float32", random_state=0)
    params = clf.get_params()
    assert params["alpha"] == 0.5 and params["backend"] == "cpu" and params["max_fun"] == 15000
    added = {"class_weight", "restore_best_weights", "dropout", "ema_decay", "label_smoothing", "backend", "dtype"}
    assert set(params) == set(SkMLPClassifier().get_params()) | added
    assert clone(clf).get_params() == params
    clf.set_params(alpha=0.1)
    assert clf.alpha == 0.1
    with pytest.raises(NotFittedError):
        clf.predict(np.zeros((1, 3)))
    X, y = _digits(150)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.set_params(max_iter=3, warm_start=True, batch_size=50).fit(X, y)
        again = pickle.loads(pickle.dumps(clf))
        np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
        assert again.predict_proba(X).dtype == np.float32
        assert again.model_.optimizer.t == clf.model_.optimizer.t == 9
        # the optimizer state travels: both go on training identically
        clf.fit(X, y)
        again.fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert again.loss_curve_ == clf.loss_curve_


# -- array-API dispatch ---------------------------------------------------------------------------
@needs_dispatch
@pytest.mark.parametrize("device", ["CPU_DEVICE", "device1"])
def test_array_api_dispatch_trains_on_the_inputs_device(device):
    xps = pytest.importorskip("array_api_strict")
    dev = xps.Device(device)
    X, y = _digits(150)
    Xd, yd = xps.asarray(X, device=dev), xps.asarray(y, device=dev)
    with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(Xd, yd)
        assert clf.model_.backend.name == "array_api_strict" and clf.model_.backend.device == dev
        for out in (clf.predict(Xd), clf.predict_proba(Xd), clf.predict_log_proba(Xd), *clf.coefs_):
            assert type(out).__module__.startswith("array_api_strict") and out.device == dev
        assert isinstance(clf.score(Xd, yd), float)
        with pytest.raises(ValueError, match="must use the same namespace"):
            clf.predict(X)
        P = xpnet.to_numpy(clf.predict_proba(Xd))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)
    # float64 on array-api-strict (NumPy's kernels): p's relative error is the logits' absolute
    # error (~1e-15), so an rtol is the right form, with five orders to spare.
    np.testing.assert_allclose(P, ref.predict_proba(X), rtol=1e-10)


@needs_dispatch
def test_array_api_dispatch_y_and_weights_from_another_namespace_or_device():
    xps = pytest.importorskip("array_api_strict")
    d1, cpu = xps.Device("device1"), xps.Device("CPU_DEVICE")
    X, y = _digits(100)
    Xd = xps.asarray(X, device=d1)
    probas = []
    with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for yy, sw in [
            (y, np.ones(100)),
            (xps.asarray(y, device=cpu), xps.asarray(np.ones(100), device=cpu)),
        ]:
            clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(Xd, yy, sample_weight=sw)
            assert clf.model_.backend.spec == "array_api_strict:device1"
            assert clf.predict(Xd).device == d1
            probas.append(xpnet.to_numpy(clf.predict_proba(Xd)))
    np.testing.assert_array_equal(probas[0], probas[1])


def test_explicit_backend_with_numpy_inputs_answers_in_numpy():
    pytest.importorskip("array_api_strict")
    X, y = _digits(100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(
            hidden_layer_sizes=(8,), max_iter=2, random_state=0, backend="array_api_strict:device1"
        ).fit(X, y)
    assert clf.model_.backend.spec == "array_api_strict:device1"
    assert isinstance(clf.predict_proba(X), np.ndarray) and isinstance(clf.coefs_[0], np.ndarray)
    assert clf.predict(X).dtype == y.dtype


# -- bad input --------------------------------------------------------------------------------------
def _bad(X, y, match, error=ValueError, **params):
    with pytest.raises(error, match=match):
        MLPClassifier(max_iter=1, **params).fit(X, y)


def test_bad_input_messages():
    X, y = _digits(20)
    _bad(X.astype(complex), y, "Complex data not supported")
    _bad(np.array([["a"] * 3] * 4, dtype=object), [0, 1, 0, 1], "could not convert|dtype")
    Xn = X.copy()
    Xn[0, 0] = np.nan
    _bad(Xn, y, "Input X contains NaN")
    Xn[0, 0] = np.inf
    _bad(Xn, y, "Input X contains infinity")
    _bad(np.zeros((0, 3)), [], "0 sample")
    _bad(X[0], y, "Expected 2D array, got 1D array")
    _bad(X, np.stack([y, y], axis=1), "y should be a 1d array")
    _bad(X, np.zeros(20), "at least 2 classes")
    _bad(X[:1], y[:1], "at least 2 classes")
    _bad(X, y[:5], "inconsistent numbers of samples")
    _bad(X, y + 0.5, "Unknown label type")
    _bad(X, y, "not offered", solver="lbfgs")
    _bad(X, y, "hidden_layer_sizes", hidden_layer_sizes=(0,))
    with pytest.raises(ValueError, match="zero"):
        MLPClassifier(max_iter=1).fit(X, y, sample_weight=np.zeros(20))
    with pytest.raises(ValueError, match="Negative values"):
        MLPClassifier(max_iter=1).fit(X, y, sample_weight=-np.ones(20))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 64"):
        clf.predict(X[:, :3])


def test_sparse_input_says_not_supported():
    sp = pytest.importorskip("scipy.sparse")
    X, y = _digits(20)
    with pytest.raises(TypeError, match="does not support sparse input"):
        MLPClassifier(max_iter=1).fit(sp.csr_matrix(X), y)


# -- import hygiene -------------------------------------------------------------------------------
def test_import_xpnet_does_not_import_sklearn():
    code = "import sys, xpnet; assert 'sklearn' not in sys.modules, 'xpnet imported sklearn'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pickles_of_the_earlier_layout_still_load():
    """Estimators pickled before the network pickled itself stored it as ``_xpnet_model``
    (config, host arrays, optimizer step, rate and state): such a state still loads, predicts
    the same and trains on."""
    X, y = _digits(120)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=2, random_state=0, batch_size=40).fit(X, y)
    state = dict(pickle.loads(pickle.dumps(clf)).__dict__)  # a copy sharing no list with clf
    model = state.pop("model_")
    opt = model.optimizer
    state["_xpnet_model"] = {
        "config": model.get_config(),
        "backend": model.backend.spec,
        "params": model.numpy_params(),
        "epoch": model.epoch,
        "opt_t": opt.t,
        "opt_lr": opt.lr,
        "opt_state": {k: model.backend.to_numpy(v) for k, v in opt.state_arrays().items()},
    }
    old = MLPClassifier.__new__(MLPClassifier)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.predict_proba(X), clf.predict_proba(X))
    assert old.model_.optimizer.t == clf.model_.optimizer.t == 6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        old.partial_fit(X, y)
        clf.partial_fit(X, y)
    np.testing.assert_allclose(old.predict_proba(X), clf.predict_proba(X), rtol=0, atol=1e-12)


def test_ema_decay_predicts_with_the_averaged_weights():
    """``ema_decay`` keeps an EMA of the weights (xpnet.EMA) that predict, score, coefs_ and
    the early-stopping score use; warm_start continues it, a new decay restarts it, None drops it;
    it pickles."""
    X, y = _digits(300)
    clf = MLPClassifier(hidden_layer_sizes=(32,), ema_decay=0.9, max_iter=5, random_state=0, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        model = clf.model_
        assert (
            model.averaging.decay == 0.9 and model.averaging.t == model.optimizer.t == 10
        )  # 2 batches of 200 at most, 5 epochs
        np.testing.assert_array_equal(clf.coefs_[0], model.numpy_params(averaged=True)["W1"].T)
        assert not np.array_equal(clf.coefs_[0], model.numpy_params()["W1"].T)
        plain = model.copy()
        plain.set_params(model.numpy_params(averaged=True))
        np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))
        again = pickle.loads(pickle.dumps(clf))
        np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
        clf.fit(X, y)  # warm start: continued
        assert clf.model_.averaging.t == 20
        clf.set_params(ema_decay=0.5).fit(X, y)
        assert clf.model_.averaging.decay == 0.5 and clf.model_.averaging.t == 10
        clf.set_params(ema_decay=None).fit(X, y)
        assert clf.model_.averaging is None and clf.model_.averaged_params is None


def test_dropout_trains_and_predicts_deterministically():
    """``dropout`` reaches the network (the same seed trains differently with it), is
    recorded in the model, and prediction never drops."""
    X, y = _digits(300)
    fits = {}
    for rate in (0.0, 0.3):
        clf = MLPClassifier(hidden_layer_sizes=(64, 32), dropout=rate, max_iter=150, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        fits[rate] = clf
    assert fits[0.3].model_.dropout == (0.3, 0.3)
    assert fits[0.3].loss_curve_ != fits[0.0].loss_curve_
    np.testing.assert_array_equal(fits[0.3].predict_proba(X), fits[0.3].predict_proba(X))
    assert fits[0.3].score(X, y) > 0.9
    per_layer = MLPClassifier(hidden_layer_sizes=(8, 8), dropout=[0.5, 0.1], max_iter=2).fit(X, y)
    assert per_layer.model_.dropout == (0.5, 0.1)
    with pytest.raises(ValueError, match="dropout lists 1 rates"):
        MLPClassifier(hidden_layer_sizes=(8, 8), dropout=[0.5], max_iter=2).fit(X, y)
