import warnings

import numpy as np
from sklearn.datasets import load_digits

from xpnet.sklearn import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, y_train, X_val, y_val = X[:1200], y[:1200], X[1200:1500], y[1200:1500]

# Early stopping on your own validation set (all of X_train is trained on), with its loss curve.
clf = MLPClassifier(hidden_layer_sizes=(64,), early_stopping=True, random_state=0)
clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
best = int(np.argmax(clf.validation_scores_))
print(f"fit: {clf.n_iter_} epochs, best validation accuracy {clf.best_validation_score_:.4f} after epoch {best + 1}")
print(f"validation loss then {clf.validation_loss_curve_[best]:.4f}, at the end {clf.validation_loss_curve_[-1]:.4f}")

# partial_fit with early stopping: each call is one epoch over its chunk, then a validation score.
stream = MLPClassifier(hidden_layer_sizes=(64,), early_stopping=True, random_state=0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for _ in range(50):  # epochs over the stream
        for i in range(0, 1200, 300):
            stream.partial_fit(
                X_train[i : i + 300], y_train[i : i + 300], classes=np.arange(10), X_val=X_val, y_val=y_val
            )
print(
    f"partial_fit: {len(stream.validation_scores_)} of {50 * 4} calls trained, early_stopped_={stream.early_stopped_}"
)
print(
    f"restored: accuracy {stream.score(X_val, y_val):.4f} = best_validation_score_ {stream.best_validation_score_:.4f}"
)
print("warned once:", len(caught) == 1, "|", str(caught[0].message)[:72], "...")
