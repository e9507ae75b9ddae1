"""Files that users of earlier versions have keep loading and predicting the same.

``legacy-0.1.0/`` was written by xpnet 0.1.0 (commit c221eb8, the flat layout before the
package was organised into folders) with ``write_legacy_files.py``: pickles of ``MLP`` and of
the scikit-learn estimators (they name classes by the module paths of that layout, such as
``xpnet.model.mlp.MLP`` and ``xpnet.model.preprocessing.Preprocessing``), a checkpoint from
``xpnet.save`` and one from ``xpnet train``. ``expected.npz`` holds the inputs and what each
model predicted there when it was written.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xpnet

HERE = Path(__file__).parent / "legacy-0.1.0"
PICKLED_MLPS = [
    "mlp-adam",
    "mlp-sgd-cosine-tanh-f64",
    "mlp-dropout-leaky",
    "mlp-regressor-sigmoid",
    "mlp-preprocessing",
]

# The pickles were written under NumPy 2, whose arrays pickle as numpy._core.multiarray
# objects; NumPy 1.x cannot read those (a NumPy limitation, not xpnet's).
needs_numpy2 = pytest.mark.skipif(int(np.__version__.split(".")[0]) < 2, reason="pickles written by NumPy 2")


@pytest.fixture(scope="module")
def expected():
    with np.load(HERE / "expected.npz", allow_pickle=False) as f:
        return dict(f)


def _close(a, b, dtype):
    tol = 1e-12 if np.dtype(dtype) == np.float64 else 1e-6
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


@needs_numpy2
@pytest.mark.parametrize("name", PICKLED_MLPS)
def test_pickled_mlp_loads_and_predicts_the_same(name, expected):
    model = pickle.loads((HERE / f"{name}.pkl").read_bytes())  # our own fixture, see the docstring
    assert isinstance(model, xpnet.MLP)
    X = expected[f"{name}/input"]
    out = model.predict_proba(X) if model.head.classifies else model.predict(X)
    _close(out, expected[f"{name}/output"], model.dtype_name)


@needs_numpy2
@pytest.mark.parametrize("name", PICKLED_MLPS[:2])
def test_pickled_mlp_trains_on(name, expected):
    """The optimizer's state and schedule came along: one more epoch runs and changes the weights."""
    model = pickle.loads((HERE / f"{name}.pkl").read_bytes())
    before = model.numpy_params()
    model.fit(expected["X"], expected["y"], epochs=1, batch_size=16)
    assert model.epoch == 3
    assert any(not np.array_equal(before[k], v) for k, v in model.numpy_params().items())


@needs_numpy2
@pytest.mark.parametrize("name", ["sklearn-classifier", "sklearn-regressor"])
def test_pickled_sklearn_estimator_predicts_the_same(name, expected):
    pytest.importorskip("sklearn")
    est = pickle.loads((HERE / f"{name}.pkl").read_bytes())
    X = expected["X"]
    out = est.predict_proba(X) if name.endswith("classifier") else est.predict(X)
    _close(out, expected[f"{name}/output"], "float32")


def test_saved_checkpoint_loads_and_predicts_the_same(expected):
    model = xpnet.load(HERE / "saved-model.npz")
    _close(model.predict_proba(expected["mlp-adam/input"]), expected["mlp-adam/output"], "float32")
    assert model.optimizer is not None and model.epoch == 2


def test_train_checkpoint_loads_and_predicts_the_same(expected):
    model = xpnet.load(HERE / "train-model.npz")
    _close(model.predict_proba(expected["train-model/input"]), expected["train-model/output"], "float32")
    assert model.preprocessing is not None


@needs_numpy2
def test_a_fresh_interpreter_unpickles_without_importing_xpnet_first():
    """pickle imports ``xpnet.input_transform`` (a 0.1.0 path) itself: the old paths resolve
    without the user importing xpnet beforehand."""
    code = (
        "import pickle, sys; "
        f"m = pickle.loads(open({str(HERE / 'mlp-preprocessing.pkl')!r}, 'rb').read()); "
        "assert type(m).__module__ == 'xpnet.model.mlp', type(m); "
        "assert sys.modules['xpnet.input_transform'] is sys.modules['xpnet.model.preprocessing']"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_old_module_paths_are_the_new_modules():
    import importlib

    from xpnet._lib.moved import MOVED

    for old, new in MOVED.items():
        assert importlib.import_module(old) is importlib.import_module(new), old
    from xpnet.checkpoint import load as old_load  # what a 0.1.0 user may have written
    from xpnet.training import DEFAULT

    assert old_load is xpnet.load and DEFAULT == "default"
