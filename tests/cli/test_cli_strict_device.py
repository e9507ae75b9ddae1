"""End to end on array-api-strict's second device (a stand-in for a GPU): `xpnet train`,
`evaluate`, `predict` and `train --resume`, all with ``--backend array_api_strict:device1``.

array-api-strict refuses to mix devices and to convert a device1 array to NumPy implicitly, so
any place where the command line or the library moves data between host and device without
saying so fails here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import xpnet
from tests.cli.test_cli import FAST, _images, _write_split, run

DEVICE = ["--backend", "array_api_strict:device1"]


@pytest.fixture(scope="module")
def tiny_idx(tmp_path_factory):
    d = tmp_path_factory.mktemp("strict-idx")
    _write_split(d, "train", 300, 0)
    _write_split(d, "t10k", 60, 1)
    return d


def test_train_evaluate_predict_resume_on_strict_device1(tiny_idx, tmp_path, monkeypatch):
    out = tmp_path / "run"
    result = run("train", "--data", tiny_idx, "--epochs", "3", *FAST, *DEVICE, "--out", out)
    assert "array_api_strict:device1" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["backend"]["spec"] == "array_api_strict:device1"
    assert metrics["test"]["accuracy"] > 0.3

    ev = run("evaluate", out / "model.npz", *DEVICE)
    assert f"accuracy {metrics['test']['accuracy']:.4f}" in ev.stdout

    monkeypatch.chdir(tmp_path)
    x, _ = _images(2, 3)
    for i in range(2):
        Image.fromarray(255 - x[i]).save(f"digit{i}.png")
    pred = run("predict", out, "digit0.png", "digit1.png", *DEVICE)
    assert "digit0.png" in pred.stdout and "%" in pred.stdout

    resumed = run("train", "--resume", "--out", out, "--epochs", "4", "--no-plots", *DEVICE)
    assert "Resuming" in resumed.stdout
    model = xpnet.load(out / "model.npz")
    assert model.epoch == 4
    # The same run and resume on NumPy give the same weights (to float32 noise). array-api-strict
    # computes with NumPy's own kernels, so no kernel difference enters; the tolerance only
    # leaves xpnet room for a NumPy-only path (no rounding bound survives 4 epochs).
    straight = tmp_path / "numpy"
    run("train", "--data", tiny_idx, "--epochs", "3", *FAST, "--backend", "numpy", "--out", straight)
    run("train", "--resume", "--out", straight, "--epochs", "4", "--no-plots", "--backend", "numpy")
    reference = xpnet.load(straight / "model.npz").numpy_params()
    for k, w in model.numpy_params().items():
        np.testing.assert_allclose(w, reference[k], rtol=1e-4, atol=1e-5, err_msg=k)
