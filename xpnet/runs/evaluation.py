"""What a run reports about its trained model: the test-split measurements and the PNG plots.

[`evaluate_model`][xpnet.runs.evaluate_model] measures a model on labelled data in one forward
pass (accuracy, loss, predictions, confusion matrix, per-class precision and recall); ``xpnet
evaluate`` and a completed run both use it. [`write_plots`][xpnet.runs.evaluation.write_plots]
draws a completed run's plots ([`xpnet.runs.plots`][xpnet.runs.plots]) into its directory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..model.inputs import check_labels
from ..model.mlp import MLP
from ..nn.network import one_hot, softmax_cross_entropy

__all__ = ["evaluate_model", "write_plots"]


def evaluate_model(model: MLP, x, y: np.ndarray) -> dict:
    """Accuracy, loss, predictions, confidence and confusion matrix of ``model`` on ``(x, y)``.

    One forward pass: the logits give the loss and the probabilities, and the probabilities
    the predictions, the accuracy and the confusion matrix.

    Parameters
    ----------
    model : MLP
        The trained model.
    x : array_like
        The inputs as the model takes them: raw pixels for a model that carries its
        preprocessing (every model a run trains); for a loaded checkpoint,
        [`Checkpoint.model_inputs`][xpnet.model.checkpoint.Checkpoint.model_inputs] of the raw pixels.
    y : numpy.ndarray
        The ``(n,)`` integer labels.

    Returns
    -------
    dict
        ``accuracy``, ``loss`` (the mean cross-entropy), ``n``, ``pred`` (``(n,)`` classes),
        ``confidence`` (``(n,)`` largest probabilities), ``confusion_matrix`` (``(k, k)``) and
        ``per_class`` (see [`xpnet.runs.metrics.per_class_metrics`][xpnet.runs.metrics.per_class_metrics]);
        host NumPy values.
    """
    from .metrics import confusion_matrix, per_class_metrics

    k = model.sizes[-1]
    y = np.asarray(y)
    Z = model.decision_function(x)  # the forward pass (the model applies its own preprocessing)
    check_labels(y, Z.shape[0], k)
    labels = model.backend.asarray(y, model.backend.index_dtype)
    loss_sum, P = softmax_cross_entropy(Z, one_hot(labels, k, Z.dtype))
    proba = model.backend.to_numpy(P)
    pred = proba.argmax(axis=1)
    cm = confusion_matrix(y, pred, k)
    return {
        "accuracy": float(np.mean(pred == y)),
        "loss": float(loss_sum) / len(y),
        "n": int(len(y)),
        "pred": pred,
        "confidence": proba.max(axis=1),
        "confusion_matrix": cm,
        "per_class": per_class_metrics(cm),
    }


def write_plots(model: MLP, dataset, x_test, y_test, test: dict, run_dir: Path) -> list[str]:
    """Write a completed run's plots into ``run_dir``; return the names of the files written.

    Parameters
    ----------
    model : MLP
        The trained model (its history gives the curves, its first layer the weight images).
    dataset : xpnet.datasets.Dataset
        The run's data (its name and class names label the plots).
    x_test, y_test : numpy.ndarray
        The test split, raw pixels and labels.
    test : dict
        [`evaluate_model`][xpnet.runs.evaluate_model] of ``model`` on that split.
    run_dir : pathlib.Path
        The run directory.

    Returns
    -------
    list of str
        ``curves.png``, ``confusion_matrix.png``, ``misclassified.png`` and, when the first
        layer can be drawn as images, ``first_layer_weights.png``.
    """
    from . import plots

    names = list(dataset.class_names)
    plots.plot_history(
        model.history,
        run_dir / "curves.png",
        title=f"{dataset.name}: {'-'.join(map(str, model.sizes))}",
    )
    plots.plot_confusion_matrix(test["confusion_matrix"], names, run_dir / "confusion_matrix.png")
    plots.plot_misclassified(
        x_test,
        y_test,
        test["pred"],
        names,
        run_dir / "misclassified.png",
        confidence=test["confidence"],
    )
    written = ["curves.png", "confusion_matrix.png", "misclassified.png"]
    if plots.plot_first_layer(model.numpy_params(averaged=True)["W1"], run_dir / "first_layer_weights.png") is not None:
        written.append("first_layer_weights.png")
    return written
