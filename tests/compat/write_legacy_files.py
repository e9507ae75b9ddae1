"""Write the files that earlier xpnet versions left with their users, for tests/compat.

Run once with the version whose files are to be kept (0.1.0: commit c221eb8, before the
package was reorganised into folders), from the repository root::

    python tests/compat/write_legacy_files.py tests/compat/legacy-0.1.0

It writes pickles of ``MLP`` (several configurations: optimizer state, schedules, dropout,
preprocessing, regression heads) and of the fitted scikit-learn estimators, a checkpoint from
``xpnet.save`` and one from ``xpnet train``, and ``expected.npz``: the inputs each file is tested
on and what the model predicted there when the file was written. The pickles are the project's
own test fixtures (a pickle can run code: never load one you did not make).
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np

import xpnet
from xpnet.optim import SGD, Adam, Cosine


def _data(rng, n=64, d=12, k=3):
    X = rng.uniform(0, 1, (n, d)).astype(np.float32)
    y = (X[:, :k].argmax(axis=1)).astype(np.int64)
    return X, y


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    X, y = _data(rng)
    expected: dict[str, np.ndarray] = {"X": X, "y": y}
    manifest = {"xpnet": xpnet.__version__, "numpy": np.__version__, "python": sys.version.split()[0], "files": {}}

    models = {
        "mlp-adam": xpnet.MLP([12, 16, 3], backend="cpu", seed=1),
        "mlp-sgd-cosine-tanh-f64": xpnet.MLP([12, 8, 8, 3], activation="tanh", dtype="float64", backend="cpu", seed=2),
        "mlp-dropout-leaky": xpnet.MLP([12, 16, 3], activation="leaky_relu", dropout=0.3, backend="cpu", seed=3),
        "mlp-regressor-sigmoid": xpnet.MLP(
            [12, 6, 2], activation="sigmoid", loss="squared_error", backend="cpu", seed=4
        ),
        "mlp-preprocessing": xpnet.MLP(
            [12, 10, 3],
            backend="cpu",
            seed=5,
            preprocessing=xpnet.Preprocessing(scale=True, mean=0.45, std=0.3),
        ),
    }
    optimizers = {
        "mlp-adam": Adam(lr=0.01),
        "mlp-sgd-cosine-tanh-f64": SGD(lr=0.1, momentum=0.9, schedule=Cosine()),
    }
    for name, model in models.items():
        if model.head.classifies:
            target = y
        else:
            target = np.stack([X[:, 0] + X[:, 1], X[:, 2] - X[:, 3]], axis=1)
        Xin = (X * 255).astype(np.uint8) if model.preprocessing is not None else X
        model.fit(Xin, target, epochs=2, batch_size=16, optimizer=optimizers.get(name), sample_weight=None)
        (out / f"{name}.pkl").write_bytes(pickle.dumps(model, protocol=4))
        expected[f"{name}/input"] = Xin
        expected[f"{name}/output"] = model.predict_proba(Xin) if model.head.classifies else model.predict(Xin)
        manifest["files"][f"{name}.pkl"] = repr(model)

    # xpnet.save: the pickle-free checkpoint of a trained model (optimizer state included).
    xpnet.save(models["mlp-adam"], out / "saved-model.npz")
    manifest["files"]["saved-model.npz"] = "xpnet.save(mlp-adam)"

    # The scikit-learn estimators.
    from xpnet.sklearn import MLPClassifier, MLPRegressor

    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, X[:, 0] - X[:, 1])
    for name, est in (("sklearn-classifier", clf), ("sklearn-regressor", reg)):
        (out / f"{name}.pkl").write_bytes(pickle.dumps(est, protocol=4))
        expected[f"{name}/output"] = est.predict_proba(X) if name.endswith("classifier") else est.predict(X)
        manifest["files"][f"{name}.pkl"] = repr(est)

    # xpnet train: a run on a small .npz of digit-shaped images; its checkpoint is kept.
    images = rng.integers(0, 256, (80, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 80).astype(np.uint8)
    data = out.parent / "_train-data.npz"
    np.savez(data, x_train=images[:60], y_train=labels[:60], x_test=images[60:], y_test=labels[60:])
    run = out.parent / "_run"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "xpnet.cli",
            "train",
            "--data",
            str(data),
            "--hidden",
            "16",
            "--epochs",
            "2",
            "--backend",
            "cpu",
            "--no-plots",
            "--out",
            str(run),
            "--overwrite",
        ],
        check=True,
    )
    (out / "train-model.npz").write_bytes((run / "model.npz").read_bytes())
    model = xpnet.load(out / "train-model.npz")
    expected["train-model/input"] = images[60:].reshape(20, -1)
    expected["train-model/output"] = model.predict_proba(images[60:].reshape(20, -1))
    manifest["files"]["train-model.npz"] = "xpnet train --hidden 16 --epochs 2 (see write_legacy_files.py)"
    data.unlink()
    subprocess.run(["rm", "-rf", str(run)], check=True)

    np.savez(out / "expected.npz", **expected)
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
