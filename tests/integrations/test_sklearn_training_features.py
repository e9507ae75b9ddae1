"""The training features scikit-learn's MLP users asked for, in ``xpnet.sklearn``: a validation
set of the caller's for early stopping (scikit-learn #18748, with HistGradientBoosting's
``fit(..., X_val=, y_val=, sample_weight_val=)`` rules), ``validation_loss_curve_`` (#18507),
restoring the best weights (``restore_best_weights`` for training-loss stopping),
``partial_fit`` with early stopping (#25693 made it an error) and ``class_weight`` (#11723).

Where scikit-learn has the behaviour, it is the reference: its ``MLPClassifier`` fed the same
validation samples or the same products of weights, its ``compute_sample_weight``, its
``HistGradientBoostingClassifier``'s errors, its ``Pipeline`` and metadata routing.
"""

from __future__ import annotations

import os

# scikit-learn's array-API dispatch needs SciPy's array-API mode, read when SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pickle  # noqa: E402
import runpy  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

sklearn = pytest.importorskip("sklearn")

from sklearn.datasets import load_digits, make_regression  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight  # noqa: E402

import xpnet  # noqa: E402
from xpnet.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


@pytest.fixture(autouse=True)
def _no_convergence_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # short runs, on purpose
        yield


def _digits(n=300):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16.0, y[:n]


def _sklearn_split(n, sizes, random_state, test_size=0.1):
    """The (train, validation) indices scikit-learn's early stopping holds out: its
    ``train_test_split`` on the ``random_state`` stream after the initial weights (a
    ``(fan_in, fan_out)`` and a ``(fan_out,)`` uniform draw per layer), unstratified."""
    rs = np.random.RandomState(random_state)
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        rs.uniform(size=(fan_in, fan_out))
        rs.uniform(size=fan_out)
    return train_test_split(np.arange(n), random_state=rs, test_size=test_size)


# -- a validation set of the caller's (#18748) ----------------------------------------------------
def test_x_val_given_is_the_same_as_scikit_learns_held_out_set():
    """Given the very samples scikit-learn holds out, fit(X_train, y_train, X_val=, y_val=)
    trains on all of X_train and matches scikit-learn's early-stopping run to rounding: the
    loss curve, every validation score, the stop and the restored best weights."""
    X, y = _digits()
    common = dict(
        hidden_layer_sizes=(20,), max_iter=40, shuffle=False, random_state=3, n_iter_no_change=2, batch_size=50
    )
    theirs = SkMLPClassifier(early_stopping=True, **common).fit(X, y)
    tr, va = _sklearn_split(len(y), [64, 20, 10], 3)
    ours = MLPClassifier(early_stopping=True, validation_fraction=0.5, **common)
    ours.fit(X[tr], y[tr], X_val=X[va], y_val=y[va])  # validation_fraction is not used
    assert ours.n_iter_ == theirs.n_iter_ < 40 and ours.t_ == theirs.t_ == ours.n_iter_ * len(tr)
    # float64 on both sides; the layouts' kernels start ~1e-16 apart (test_sklearn.py's bound)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    assert ours.validation_scores_ == theirs.validation_scores_
    assert ours.best_validation_score_ == theirs.best_validation_score_
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_validation_arguments_follow_hist_gradient_boosting():
    """scikit-learn 1.9's HistGradientBoostingClassifier.fit is the convention: both of
    X_val/y_val or neither, and only with early stopping (ValueError, the same messages for
    the half-given pairs); labels outside the classes and the wrong number of features are
    errors too. One deliberate difference: HistGradientBoosting ignores a sample_weight_val
    given without X_val (it fits silently, checked here); xpnet refuses it."""
    X, y = _digits(200)
    Xv, yv = X[:20], y[:20]
    hgb = dict(max_iter=2, random_state=0)
    cases = [
        (dict(X_val=Xv), dict(), "X_val is provided, but y_val was not provided."),
        (dict(y_val=yv), dict(), "y_val is provided, but X_val was not provided."),
        (dict(X_val=Xv, y_val=yv), dict(early_stopping=False), "early_stopping is False"),
        (dict(X_val=Xv, y_val=yv + 100), dict(early_stopping=True), "unseen labels|not classes of y"),
        (dict(X_val=Xv[:, :5], y_val=yv), dict(early_stopping=True), "X has 5 features, but .* is expecting 64"),
    ]
    for fit_params, params, message in cases:
        with pytest.raises(ValueError, match=message):
            HistGradientBoostingClassifier(**hgb, **params).fit(X, y, **fit_params)
        with pytest.raises(ValueError, match=message):
            MLPClassifier(max_iter=2, **params).fit(X, y, **fit_params)
    HistGradientBoostingClassifier(**hgb).fit(X, y, sample_weight_val=np.ones(20))
    with pytest.raises(ValueError, match="sample_weight_val is passed to fit without X_val and y_val"):
        MLPClassifier(max_iter=2).fit(X, y, sample_weight_val=np.ones(20))
    with pytest.raises(ValueError, match="X_val and y_val are passed to partial_fit .* early_stopping is False"):
        MLPClassifier().partial_fit(X, y, classes=np.arange(10), X_val=Xv, y_val=yv)
    with pytest.raises(ValueError, match="y_val has shape"):
        MLPRegressor(early_stopping=True, max_iter=2).fit(X, y.astype(float), X_val=Xv, y_val=np.ones((20, 2)))


@pytest.mark.skipif(os.environ.get("SCIPY_ARRAY_API") != "1", reason="SCIPY_ARRAY_API=1 not set")
def test_x_val_native_to_the_device_under_array_api_dispatch():
    """With dispatch, X, y, X_val and y_val on array-api-strict's device1 train there (the
    stand-in for a GPU, which refuses silent host copies) and give the NumPy fit's numbers."""
    xps = pytest.importorskip("array_api_strict")
    dev = xps.Device("device1")
    X, y = _digits()
    kw = dict(hidden_layer_sizes=(8,), max_iter=6, random_state=0, early_stopping=True, n_iter_no_change=2)
    ref = MLPClassifier(**kw).fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    on = [xps.asarray(a, device=dev) for a in (X[:200], y[:200], X[200:], y[200:])]
    with sklearn.config_context(array_api_dispatch=True):
        clf = MLPClassifier(**kw).fit(on[0], on[1], X_val=on[2], y_val=on[3])
        assert clf.model_.backend.spec == "array_api_strict:device1"
        P = clf.predict_proba(on[2])
        assert P.device == dev
    assert clf.validation_scores_ == ref.validation_scores_
    # float64 on both (array-api-strict runs NumPy's kernels): the same steps, to rounding
    np.testing.assert_allclose(clf.validation_loss_curve_, ref.validation_loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(xpnet.to_numpy(P), ref.predict_proba(X[200:]), rtol=1e-10)


def test_sample_weight_val_weighs_the_validation_score_and_loss():
    X, y = _digits()
    Xv, yv = X[200:], y[200:]
    w = np.where(np.arange(100) % 3 == 0, 2.0, 0.5)
    kw = dict(hidden_layer_sizes=(16,), max_iter=1, random_state=0, early_stopping=True, shuffle=False)
    clf = MLPClassifier(**kw).fit(X[:200], y[:200], X_val=Xv, y_val=yv, sample_weight_val=w)
    # one epoch, and its weights kept: the scores are the fitted model's, weighted by w
    assert clf.validation_scores_ == [clf.score(Xv, yv, sample_weight=w)]
    loss = log_loss(yv, clf.predict_proba(Xv), sample_weight=w, labels=clf.classes_)
    assert clf.validation_loss_curve_[0] == pytest.approx(loss, rel=1e-12)


def test_x_val_in_a_pipeline_with_fit_params_and_with_metadata_routing():
    """Legacy fit params (``step__X_val``) reach the estimator untransformed; with metadata
    routing, ``Pipeline(transform_input=["X_val"])`` scales X_val as X, and the fit is the
    one on the scaled arrays."""
    X, y = load_digits(return_X_y=True)
    X, Xv, y, yv = X[:300], X[300:400], y[:300], y[300:400]
    kw = dict(hidden_layer_sizes=(16,), max_iter=15, random_state=0, early_stopping=True, n_iter_no_change=3)
    scaler = MinMaxScaler().fit(X)
    direct = MLPClassifier(**kw).fit(scaler.transform(X), y, X_val=scaler.transform(Xv), y_val=yv)
    legacy = make_pipeline(MinMaxScaler(), MLPClassifier(**kw))
    legacy.fit(X, y, mlpclassifier__X_val=scaler.transform(Xv), mlpclassifier__y_val=yv)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = Pipeline(
            [("scale", MinMaxScaler()), ("mlp", MLPClassifier(**kw).set_fit_request(X_val=True, y_val=True))],
            transform_input=["X_val"],
        )
        routed.fit(X, y, X_val=Xv, y_val=yv)
    for pipe in (legacy, routed):
        assert pipe[-1].validation_scores_ == direct.validation_scores_
        np.testing.assert_array_equal(pipe.predict_proba(Xv), direct.predict_proba(scaler.transform(Xv)))


# -- validation_loss_curve_ (#18507) --------------------------------------------------------------
def test_validation_loss_curve_is_the_validation_loss_after_each_epoch_without_the_penalty():
    """Each entry is scikit-learn's log_loss of the model after that epoch on the validation
    set (the model after epoch k: the same estimator trained k epochs by partial_fit, the same
    steps when nothing is shuffled). The L2 term of loss_curve_ is left out: alpha is large
    here, and the curve still equals the plain log loss."""
    X, y = _digits()
    Xv, yv = X[200:], y[200:]
    kw = dict(hidden_layer_sizes=(16,), random_state=0, shuffle=False, alpha=5.0, batch_size=50)
    clf = MLPClassifier(early_stopping=True, max_iter=8, n_iter_no_change=100, **kw)
    clf.fit(X[:200], y[:200], X_val=Xv, y_val=yv)
    assert len(clf.validation_loss_curve_) == len(clf.validation_scores_) == len(clf.loss_curve_) == 8
    steps = MLPClassifier(**kw)
    for k in range(8):
        steps.partial_fit(X[:200], y[:200], classes=np.arange(10))
        P = steps.predict_proba(Xv)
        # float64 logits ~1e-16 apart from the estimator's own, log and mean add a few ulp
        assert clf.validation_loss_curve_[k] == pytest.approx(log_loss(yv, P, labels=np.arange(10)), rel=1e-12)
        assert clf.validation_scores_[k] == steps.score(Xv, yv)
    assert clf.loss_curve_ == steps.loss_curve_  # the training curve, with its penalty, is the same
    assert MLPClassifier(max_iter=2).fit(X, y).validation_loss_curve_ is None  # as validation_scores_


def test_regressor_validation_loss_curve_is_reported_like_loss():
    X, Y = make_regression(160, 5, n_informative=4, n_targets=2, noise=3.0, random_state=0)
    X, Y = X / X.std(), Y / Y.std()
    kw = dict(hidden_layer_sizes=(8,), random_state=0, early_stopping=True, max_iter=1, shuffle=False)
    reg = MLPRegressor(**kw).fit(X[:120], Y[:120], X_val=X[120:], y_val=Y[120:])
    # scikit-learn's squared_loss: the mean over samples *and* outputs of (y - ŷ)², halved
    half_mse = 0.5 * np.mean((reg.predict(X[120:]) - Y[120:]) ** 2)
    assert reg.validation_loss_curve_[0] == pytest.approx(half_mse, rel=1e-12)
    # R² by xpnet's head and by scikit-learn's r2_score: a few roundings apart
    assert reg.validation_scores_[0] == pytest.approx(reg.score(X[120:], Y[120:]), rel=1e-12)
    # with the held-out split: one entry per epoch
    held = MLPRegressor(**{**kw, "max_iter": 5}).fit(X, Y)
    assert len(held.validation_loss_curve_) == len(held.validation_scores_) == 5


# -- restoring the best weights -------------------------------------------------------------------
def _noisy_sgd(**params):
    """SGD at a rate high enough that the training loss goes up and down (digits)."""
    kw = dict(
        hidden_layer_sizes=(20,),
        solver="sgd",
        learning_rate_init=0.9,
        momentum=0.9,
        batch_size=25,
        random_state=0,
        shuffle=False,
        max_iter=25,
        n_iter_no_change=4,
    )
    return MLPClassifier(**{**kw, **params})


def test_restore_best_weights_ends_training_loss_stopping_at_the_lowest_loss_epoch():
    X, y = _digits()
    plain = _noisy_sgd().fit(X, y)
    best = _noisy_sgd(restore_best_weights=True).fit(X, y)
    assert best.loss_curve_ == plain.loss_curve_  # the same run ...
    k = int(np.argmin(plain.loss_curve_))
    assert k < len(plain.loss_curve_) - 1 and best.best_loss_ == plain.loss_curve_[k]  # (the premise)
    # ... ending with the weights after epoch k + 1: those of a run of that many epochs
    short = _noisy_sgd(max_iter=k + 1).fit(X, y)
    for a, b in zip(best.coefs_ + best.intercepts_, short.coefs_ + short.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert any(np.abs(a - b).max() > 0 for a, b in zip(plain.coefs_, best.coefs_))  # the default does not
    # scikit-learn's default behaviour is unchanged: it ends with the last weights too
    shared = set(SkMLPClassifier().get_params())
    theirs = SkMLPClassifier(**{k: v for k, v in _noisy_sgd().get_params().items() if k in shared}).fit(X, y)
    np.testing.assert_allclose(theirs.loss_curve_, plain.loss_curve_, rtol=1e-10)
    for a, b in zip(theirs.coefs_, plain.coefs_):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_early_stopping_ends_with_the_best_validation_weights_whatever_restore_best_weights():
    X, y = _digits()
    Xv, yv = X[200:], y[200:]
    kw = dict(early_stopping=True, n_iter_no_change=3, max_iter=60)
    for restore in (False, True):
        clf = _noisy_sgd(restore_best_weights=restore, **kw).fit(X[:200], y[:200], X_val=Xv, y_val=yv)
        k = int(np.argmax(clf.validation_scores_))
        assert k < clf.n_iter_ - 1  # stopped after the best
        assert clf.score(Xv, yv) == clf.best_validation_score_ == clf.validation_scores_[k]


# -- partial_fit with early stopping (#25693) -----------------------------------------------------
def _stop_rule(scores, tol, n_iter_no_change):
    """scikit-learn's rule, written out: the index of the epoch after which it stops."""
    best, count = -np.inf, 0
    for i, s in enumerate(scores):
        count = count + 1 if s < best + tol else 0
        best = max(best, s)
        if count > n_iter_no_change:
            return i
    return None


def test_partial_fit_with_early_stopping_stops_restores_and_warns_once():
    X, y = _digits(600)
    Xv, yv = X[500:], y[500:]
    clf = MLPClassifier(
        hidden_layer_sizes=(4,), early_stopping=True, n_iter_no_change=2, tol=0.02, random_state=0, batch_size=20
    )
    chunks = [(X[i : i + 50], y[i : i + 50]) for i in range(0, 500, 50)] * 4
    kept = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i, (Xc, yc) in enumerate(chunks):
            clf.partial_fit(Xc, yc, classes=np.arange(10), X_val=Xv if i == 0 else None, y_val=yv if i == 0 else None)
            if not clf.early_stopped_:
                kept.append([c.copy() for c in clf.coefs_])
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 1 and "further partial_fit calls do not train" in messages[0]
    stop = _stop_rule(clf.validation_scores_, 0.02, 2)
    assert stop is not None and len(clf.validation_scores_) == len(clf.loss_curve_) == stop + 1
    assert clf.t_ == 50 * (stop + 1) and clf.early_stopped_ and clf.n_iter_ == 0
    # the best call's weights: its validation score, and the coefficients it had then
    best = int(np.argmax(clf.validation_scores_))
    assert clf.score(Xv, yv) == clf.best_validation_score_ == clf.validation_scores_[best]
    for a, b in zip(clf.coefs_, kept[best]):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="classes not in"):  # a stopped estimator still checks its input
        clf.partial_fit(X[:5], y[:5] + 100)
    # early_stopping=False trains on from the restored weights; fit starts afresh
    clf.set_params(early_stopping=False).partial_fit(X[:50], y[:50])
    assert clf.t_ == 50 * (stop + 2) and not clf.early_stopped_
    clf.set_params(early_stopping=True, max_iter=3).fit(X[:500], y[:500], X_val=Xv, y_val=yv)
    assert not clf.early_stopped_ and clf.n_iter_ == 3 and len(clf.validation_scores_) == 3


def test_partial_fit_holds_out_part_of_its_first_call_and_keeps_it():
    """Without X_val, the first call holds out validation_fraction of its data (scikit-learn's
    split) and every later call is scored on those samples: the same numbers as passing them
    as X_val to the first call."""
    X, y = _digits(400)
    kw = dict(hidden_layer_sizes=(12,), early_stopping=True, random_state=4, shuffle=False, batch_size=40)
    auto, given = MLPClassifier(**kw), MLPClassifier(**kw)
    tr, va = _sklearn_split(200, [64, 12, 10], 4)
    auto.partial_fit(X[:200], y[:200], classes=np.arange(10))
    given.partial_fit(X[tr], y[tr], classes=np.arange(10), X_val=X[va], y_val=y[va])
    assert auto.t_ == given.t_ == len(tr) == 180
    for clf in (auto, given):
        clf.partial_fit(X[200:], y[200:])
        clf.partial_fit(X[:200], y[:200])
    assert auto.t_ == 180 + 200 + 200
    assert auto.validation_scores_ == given.validation_scores_ and len(auto.validation_scores_) == 3
    assert auto.validation_loss_curve_ == given.validation_loss_curve_
    np.testing.assert_array_equal(auto.predict_proba(X), given.predict_proba(X))


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict:device1"])
def test_partial_fit_early_stopping_state_pickles_and_trains_on_the_same(backend):
    """The kept validation set and best weights live on the model's device; a pickle holds them
    as host arrays and puts them back, and both copies go on identically."""
    if backend != "numpy":
        pytest.importorskip("array_api_strict")
    X, y = _digits(300)
    clf = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, random_state=0, backend=backend)
    for i in range(3):
        clf.partial_fit(X[100 * i : 100 * i + 100], y[100 * i : 100 * i + 100], classes=np.arange(10))
    again = pickle.loads(pickle.dumps(clf))
    assert again.model_.backend.spec == clf.model_.backend.spec
    for est in (clf, again):
        for i in range(2):
            est.partial_fit(X[100 * i : 100 * i + 100], y[100 * i : 100 * i + 100])
    assert again.validation_scores_ == clf.validation_scores_ and len(clf.validation_scores_) == 5
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_regressor_partial_fit_with_early_stopping():
    X, Y = make_regression(300, 5, n_informative=4, noise=30.0, random_state=1)
    X, Y = X / X.std(), Y / Y.std()
    reg = MLPRegressor(hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=2, random_state=0)
    reg.learning_rate_init = 0.05
    with pytest.warns(UserWarning, match="further partial_fit calls do not train"):
        for _ in range(200):
            reg.partial_fit(X[:200], Y[:200], X_val=X[200:], y_val=Y[200:])
            if reg.early_stopped_:
                break
    assert reg.early_stopped_ and reg.score(X[200:], Y[200:]) == pytest.approx(reg.best_validation_score_, rel=1e-12)
    assert len(reg.validation_loss_curve_) == len(reg.validation_scores_) < 200


# -- class_weight (#11723) ------------------------------------------------------------------------
def _imbalanced_digits(labels=None):
    X, y = _digits(400)
    keep = (y != 3) | (np.arange(len(y)) % 5 == 0)  # class 3 is rare
    X, y = X[keep], y[keep]
    return X, (y if labels is None else labels[y])


@pytest.mark.parametrize(
    "class_weight, labels",
    [
        ("balanced", None),
        ({3: 5.0, 7: 0.5}, None),
        ("balanced", np.array(list("abcdefghij"), dtype=object)),
        ({"d": 5.0, "a": 0.0}, np.array(list("abcdefghij"), dtype=object)),
    ],
    ids=["balanced", "dict", "balanced-strings", "dict-strings"],
)
def test_class_weight_is_compute_sample_weight_multiplied_into_sample_weight(class_weight, labels):
    """The weights are scikit-learn's compute_sample_weight(class_weight, y) (bit for bit: one
    correctly rounded division per class on both sides), times sample_weight; a fit with
    class_weight is the fit with those products as sample_weight."""
    X, y = _imbalanced_digits(labels)
    sw = np.where(np.arange(len(y)) % 4 == 0, 2.0, 1.0)
    expected = compute_sample_weight(class_weight, y)
    kw = dict(hidden_layer_sizes=(10,), max_iter=4, random_state=0, batch_size=64)
    clf = MLPClassifier(class_weight=class_weight, **kw).fit(X, y)
    targets = np.searchsorted(clf.classes_, y)
    np.testing.assert_array_equal(clf._weighted_by_class(targets, None, False), expected)
    np.testing.assert_array_equal(clf._weighted_by_class(targets, sw, False), sw * expected)
    weighted = MLPClassifier(class_weight=class_weight, **kw).fit(X, y, sample_weight=sw)
    products = MLPClassifier(**kw).fit(X, y, sample_weight=sw * expected)
    assert weighted.loss_curve_ == products.loss_curve_
    np.testing.assert_array_equal(weighted.predict_proba(X), products.predict_proba(X))


def test_class_weight_with_early_stopping_matches_scikit_learn_with_those_sample_weights():
    """The held-out split keeps the class weights (HistGradientBoostingClassifier's way): the
    run is scikit-learn's MLPClassifier given compute_sample_weight(...) as sample_weight, to
    the same weights, validation scores and stop. (Not the same loss_curve_: with weights and
    mini-batches the two report an epoch's loss differently, see docs/sklearn.md.)"""
    X, y = _imbalanced_digits()
    cw = {3: 4.0, 0: 0.5}
    common = dict(hidden_layer_sizes=(16,), max_iter=40, shuffle=False, random_state=2, early_stopping=True)
    common.update(n_iter_no_change=2, batch_size=60, learning_rate_init=0.01)
    ours = MLPClassifier(class_weight=cw, **common).fit(X, y)
    theirs = SkMLPClassifier(**common).fit(X, y, sample_weight=compute_sample_weight(cw, y))
    assert ours.n_iter_ == theirs.n_iter_ < 40
    assert ours.validation_scores_ == pytest.approx(theirs.validation_scores_, rel=1e-12)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_balanced_class_weight_raises_the_rare_class_recall(seed):
    """Seven 3s among 365 digits: "balanced" weighs each 3 by 365/(10·7), and the network
    recognises more of the 141 unseen 3s (the shares are printed, for docs/sklearn.md)."""
    X, y = _imbalanced_digits()
    assert np.bincount(y)[3] == 7 and len(y) == 365
    X_all, y_all = _digits(1797)
    threes = X_all[400:][y_all[400:] == 3]
    kw = dict(hidden_layer_sizes=(16,), max_iter=40, learning_rate_init=0.01, random_state=seed)
    plain = MLPClassifier(**kw).fit(X, y).predict(threes)
    balanced = MLPClassifier(class_weight="balanced", **kw).fit(X, y).predict(threes)
    assert len(threes) == 141
    print(f"seed {seed}: unseen 3s recognised {np.mean(plain == 3):.2f} plain, {np.mean(balanced == 3):.2f} balanced")
    assert np.mean(balanced == 3) > np.mean(plain == 3) + 0.1, (np.mean(balanced == 3), np.mean(plain == 3))


def test_class_weight_errors_and_partial_fit():
    X, y = _digits(200)
    with pytest.raises(ValueError, match=r"class_weight has weights for \[12\], which are not classes of y"):
        MLPClassifier(class_weight={1: 2.0, 12: 1.0}, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match=r"class_weight\[1\] must be finite and >= 0"):
        MLPClassifier(class_weight={1: -2.0}, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="'class_weight' parameter"):  # scikit-learn's parameter check
        MLPClassifier(class_weight="equal", max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="class_weight 'balanced' is not supported for partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=np.arange(10))
    # a dict works in partial_fit: the weights are those of the fixed classes
    cw = dict(enumerate(compute_class_weight("balanced", classes=np.arange(10), y=y)))
    kw = dict(hidden_layer_sizes=(8,), random_state=0, shuffle=False)
    a = MLPClassifier(class_weight=cw, **kw).partial_fit(X, y, classes=np.arange(10))
    b = MLPClassifier(**kw).partial_fit(X, y, classes=np.arange(10), sample_weight=compute_sample_weight(cw, y))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


# -- the example of docs/sklearn.md ---------------------------------------------------------------
def test_the_example_of_docs_sklearn_md(capsys):
    """docs/_snippets/sklearn-training-features.py runs, and says what its committed output says
    (the figures themselves may move with the BLAS; the facts may not)."""
    snippets = Path(__file__).resolve().parents[2] / "docs" / "_snippets"
    runpy.run_path(str(snippets / "sklearn-training-features.py"), run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    committed = (snippets / "sklearn-training-features-output.txt").read_text(encoding="utf-8").splitlines()[1:]
    assert [line.split(":")[0] for line in out] == [line.split(":")[0] for line in committed]
    assert out[2].endswith("early_stopped_=True") and out[4].startswith("warned once: True")
    restored, best = (float(word.rstrip(",")) for word in out[3].split() if word[0].isdigit())
    assert restored == best
