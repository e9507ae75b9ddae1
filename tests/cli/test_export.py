"""``xpnet export MODEL OUT``: the file by OUT's suffix, user errors with exit status 2."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import xpnet
from xpnet.cli import cli

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("safetensors")


@pytest.fixture
def run_dir(tmp_path):
    """A run directory as `xpnet train` leaves it (model.npz with its preprocessing)."""
    model = xpnet.MLP([16, 8, 3], backend="cpu", preprocessing=xpnet.Preprocessing(True, 0.3, 0.3))
    directory = tmp_path / "run"
    directory.mkdir()
    xpnet.save(model, directory / "model.npz")
    return directory


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_export_onnx_and_safetensors_from_a_run_directory(run_dir, tmp_path):
    result = _invoke("export", run_dir, tmp_path / "m.onnx", "--input-dtype", "uint8")
    assert result.exit_code == 0, result.output
    assert "m.onnx (ONNX" in result.output
    model = xpnet.load(run_dir / "model.npz", backend="cpu")
    x = np.random.default_rng(0).integers(0, 256, (10, 16), dtype=np.uint8)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"input": x})
    np.testing.assert_array_equal(label, model.predict(x))
    np.testing.assert_allclose(proba, model.predict_proba(x), rtol=1e-5, atol=1e-7)
    result = _invoke("export", run_dir / "model.npz", tmp_path / "m.safetensors")
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(xpnet.load(tmp_path / "m.safetensors").predict(x), model.predict(x))


@pytest.mark.parametrize(
    "out, extra, message",
    [
        ("m.pt", [], "cannot tell the format from the suffix '.pt'"),
        ("missing/m.onnx", [], "does not exist"),
        ("m.safetensors", ["--input-dtype", "uint8"], "ONNX graphs only"),
        ("m.onnx", ["--input-dtype", "int8"], "Invalid value for '--input-dtype'"),
    ],
)
def test_user_errors_exit_2(run_dir, tmp_path, out, extra, message):
    result = _invoke("export", run_dir, tmp_path / out, *extra)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_file_that_is_not_a_checkpoint_exits_2(tmp_path):
    bad = tmp_path / "model.npz"
    bad.write_text("not a checkpoint")
    result = _invoke("export", bad, tmp_path / "m.onnx")
    assert result.exit_code == 2 and "not an xpnet checkpoint" in result.output
    result = _invoke("export", tmp_path / "nothing.npz", tmp_path / "m.onnx")
    assert result.exit_code == 2 and "does not exist" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _invoke("export", empty, tmp_path / "m.onnx")
    assert result.exit_code == 2 and "without a checkpoint" in result.output
