"""scikit-learn pipelines holding ``xpnet.sklearn`` estimators, converted by skl2onnx and run in
onnxruntime against the pipeline's own ``predict`` / ``predict_proba``; and ``xpnet.export`` of
a fitted estimator."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import xpnet  # noqa: E402
from xpnet.interop import ExportError  # noqa: E402
from xpnet.sklearn import MLPClassifier, MLPRegressor, register_skl2onnx  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}


def _data(dtype, labels):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(240, 6)) * [1, 10, 100, 1, 1, 0.1] + 50).astype(dtype)  # wants the scaler
    y = np.asarray(labels)[(X[:, 0] > 50).astype(int) + (X[:, 1] > 55)]
    return X, y


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _run(onx, X):
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name: X})))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("labels", [[3, 7, 11], ["cat", "dog", "eel"], [0, 1, 1]], ids=["ints", "strings", "binary"])
def test_classifier_pipeline_converts_with_skl2onnx(dtype, labels):
    X, y = _data(dtype, labels)
    clf = MLPClassifier(hidden_layer_sizes=(16, 8), activation="tanh", max_iter=40, random_state=0)
    pipe = _fit(make_pipeline(StandardScaler(), clf), X, y)
    onx = skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False}, target_opset=17)
    got = _run(onx, X)
    assert set(got) == {"label", "probabilities"}
    np.testing.assert_array_equal(got["label"], pipe.predict(X))
    assert got["probabilities"].dtype == dtype
    np.testing.assert_allclose(got["probabilities"], pipe.predict_proba(X), **TOL[dtype])


def test_classifier_with_zipmap_and_a_float64_model_under_float32_input():
    """skl2onnx's defaults: ZipMap on the probabilities, and a float32 graph input although the
    estimator was trained in float64 (the converter casts in and out)."""
    X, y = _data(np.float64, [0, 1, 2])
    pipe = _fit(make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(10,), max_iter=30)), X, y)
    assert pipe[-1].model_.dtype_name == "float64"
    got = _run(skl2onnx.to_onnx(pipe, X[:1].astype(np.float32)), X.astype(np.float32))
    np.testing.assert_array_equal(got["output_label"], pipe.predict(X))
    probs = np.array([[row[k] for k in (0, 1, 2)] for row in got["output_probability"]])
    np.testing.assert_allclose(probs, pipe.predict_proba(X), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressor_pipeline_converts_with_skl2onnx(dtype, n_outputs, loss):
    X, _ = _data(dtype, [0, 1, 2])
    y = np.c_[np.abs(X[:, 0] - 50), np.abs(X[:, 1] - 50) / 10][:, :n_outputs].astype(dtype)
    if n_outputs == 1:
        y = y[:, 0]
    reg = MLPRegressor(hidden_layer_sizes=(12,), activation="relu", loss=loss, max_iter=40, random_state=0)
    pipe = _fit(make_pipeline(StandardScaler(), reg), X, y)
    got = _run(skl2onnx.to_onnx(pipe, X[:1], target_opset=17), X)
    (values,) = got.values()
    assert values.shape == (len(X), n_outputs) and values.dtype == dtype
    np.testing.assert_allclose(values, pipe.predict(X).reshape(len(X), n_outputs), **TOL[dtype])


def test_xpnet_export_of_an_estimator_labels_with_its_classes(tmp_path):
    X, y = _data(np.float64, ["cat", "dog", "eel"])
    clf = _fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0), X / 100, y)
    got = _run(__import__("onnx").load(xpnet.export(clf, tmp_path / "clf.onnx")), X / 100)
    np.testing.assert_array_equal(got["label"], clf.predict(X / 100))
    np.testing.assert_allclose(got["probabilities"], clf.predict_proba(X / 100), rtol=1e-10, atol=1e-12)
    pytest.importorskip("safetensors")
    path = xpnet.export(clf, tmp_path / "clf.safetensors")
    assert xpnet.load_checkpoint(path).class_names == ["cat", "dog", "eel"]
    with pytest.raises(ExportError, match="not fitted"):
        xpnet.export(MLPClassifier(), tmp_path / "unfitted.onnx")


def test_register_is_idempotent():
    register_skl2onnx()
    register_skl2onnx()
    from skl2onnx._supported_operators import sklearn_operator_name_map

    assert sklearn_operator_name_map[MLPClassifier] == "XpnetMLPClassifier"
    assert sklearn_operator_name_map[MLPRegressor] == "XpnetMLPRegressor"


def test_importing_xpnet_sklearn_does_not_import_skl2onnx_but_registers_when_it_is():
    """In a fresh interpreter: xpnet.sklearn first, skl2onnx afterwards, and the pipeline converts."""
    code = (
        "import sys, numpy as np\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "from xpnet.sklearn import MLPClassifier\n"
        "assert 'skl2onnx' not in sys.modules\n"
        "X = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32); y = (X[:, 0] > 0).astype(int)\n"
        "pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=5)).fit(X, y)\n"
        "from skl2onnx import to_onnx\n"
        "to_onnx(pipe, X[:1], options={'zipmap': False})\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO)


def test_the_docs_pipeline_example_runs(capsys):
    """docs/_snippets/export-sklearn.py, shown on docs/export.md with its output."""
    snippet = (REPO / "docs" / "_snippets" / "export-sklearn.py").read_text(encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        exec(compile(snippet, "export-sklearn.py", "exec"), {})
    agree, difference = capsys.readouterr().out.split()
    assert agree == "True" and float(difference) < 1e-5
