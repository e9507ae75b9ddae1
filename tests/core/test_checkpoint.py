"""Checkpoints: round trips on every backend, exact resume, atomic writes, and every bad file."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

import xpnet
from tests.conftest import assert_close_by_bound, proba_error_bound
from xpnet.model.checkpoint import FORMAT_VERSION, CheckpointError, load_checkpoint, read_manifest, save
from xpnet.model.preprocessing import Preprocessing
from xpnet.nn.optim import SGD, AdamW


def _data(n=96, n_in=12, n_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_in)).astype(np.float32)
    y = (np.arange(n) % n_classes).astype(np.int64)
    return X, y


def _trained(tmp_path, epochs=2, **kw):
    X, y = _data()
    model = xpnet.MLP([12, 8, 4], backend="cpu", seed=3, **kw)
    model.fit(
        X,
        y,
        epochs=epochs,
        batch_size=16,
        optimizer=AdamW(lr=1e-2, schedule="cosine"),
        validation_data=(X[:20], y[:20]),
    )
    return model


class StopAt(xpnet.Callback):
    """Simulates Ctrl-C: asks fit to stop after a given step."""

    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_batch_end(self, model, epoch, batch, n_batches):
        if (epoch, batch) == self.at:
            model.stop_training = True


# -- round trips ---------------------------------------------------------------------------------
def test_round_trip_numpy_restores_everything(tmp_path):
    model = _trained(tmp_path)
    pre = Preprocessing(True, 0.25, 0.5)
    path = save(
        model,
        tmp_path / "m.npz",
        preprocessing=pre,
        training={"lr": 0.01},
        dataset={"name": "toy", "checksums": {"a": "0" * 64}},
        metrics={"test_accuracy": 0.5},
    )
    ckpt = load_checkpoint(path, backend="cpu")
    loaded = ckpt.model
    assert loaded.sizes == model.sizes and loaded.activation == model.activation
    assert loaded.get_config() == {**model.get_config(), "preprocessing": pre.get_config()}
    assert loaded.preprocessing == pre  # the model carries the transform it was saved with
    for k, v in model.numpy_params().items():
        np.testing.assert_array_equal(loaded.numpy_params()[k], v)
    assert loaded.epoch == model.epoch == 2 and loaded.batch == 0
    assert loaded.optimizer.t == model.optimizer.t
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    for k, v in model.optimizer.state_arrays().items():
        np.testing.assert_array_equal(loaded.optimizer.state_arrays()[k], v)
    assert loaded.history.to_dict() == model.history.to_dict()
    assert loaded.train_defaults == model.train_defaults
    assert ckpt.preprocessing == pre
    assert ckpt.training == {"lr": 0.01} and ckpt.metrics == {"test_accuracy": 0.5}
    assert ckpt.dataset["name"] == "toy"
    manifest = read_manifest(path)
    assert manifest["format_version"] == FORMAT_VERSION
    assert {"xpnet", "numpy", "python"} <= set(manifest["versions"])
    assert manifest["arrays"]["param.W1"] == {"shape": [8, 12], "dtype": "float32"}


def test_model_inputs_transform_raw_pixels_exactly_once(tmp_path):
    raw = np.random.default_rng(0).integers(0, 256, (5, 12)).astype(np.uint8)
    pre = Preprocessing(True, 0.25, 0.5)
    carrying = load_checkpoint(save(xpnet.MLP([12, 4], backend="cpu", preprocessing=pre), tmp_path / "c.npz"))
    assert carrying.preprocessing == pre and carrying.model_inputs(raw) is raw  # the model transforms them
    bare = load_checkpoint(save(xpnet.MLP([12, 4], backend="cpu"), tmp_path / "b.npz"))
    assert bare.model.preprocessing is None and bare.preprocessing == Preprocessing()  # none stored: pixels / 255
    np.testing.assert_allclose(bare.model_inputs(raw), raw / 255.0, rtol=1e-6)
    recorded = load_checkpoint(save(xpnet.MLP([12, 4], backend="cpu"), tmp_path / "r.npz", preprocessing=pre))
    recorded.model.preprocessing = None  # e.g. set aside by the caller: the manifest's record is used
    assert recorded.preprocessing == pre
    np.testing.assert_allclose(recorded.model_inputs(raw), pre.transform(raw), rtol=1e-6)


def test_checkpoint_is_one_plain_npz_without_pickles(tmp_path):
    path = save(_trained(tmp_path), tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert "__manifest__" in archive.files and "param.W1" in archive.files and "opt.m.W1" in archive.files
        manifest = json.loads(archive["__manifest__"].tobytes().decode("utf-8"))
    assert manifest["format"] == "xpnet.checkpoint"
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_load_on_array_api_strict_and_back(tmp_path):
    pytest.importorskip("array_api_strict")
    model = _trained(tmp_path)
    path = save(model, tmp_path / "m.npz")
    strict = xpnet.load(path, backend="array_api_strict")
    assert strict.backend.name == "array_api_strict"
    X, y = _data(n=20, seed=1)
    _, bound = proba_error_bound(model.params, X, np.float32, model.activation)
    assert_close_by_bound(xpnet.to_numpy(strict.predict_proba(X)), model.predict_proba(X), 2 * bound)
    # training continues there, and a checkpoint written there loads on NumPy
    strict.fit(X, y, epochs=1, batch_size=10)
    again = xpnet.load(save(strict, tmp_path / "s.npz"), backend="cpu")
    assert again.epoch == 3 and again.optimizer.t == strict.optimizer.t
    np.testing.assert_array_equal(again.numpy_params()["W2"], strict.numpy_params()["W2"])


def test_load_with_other_dtype(tmp_path):
    path = save(_trained(tmp_path), tmp_path / "m.npz")
    m64 = xpnet.load(path, backend="cpu", dtype="float64")
    assert m64.numpy_params()["W1"].dtype == np.float64
    assert m64.optimizer.state_arrays()["m.W1"].dtype == np.float64


# -- exact resume --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make_opt, batch_size, stop",
    [
        (lambda: AdamW(lr=1e-2, weight_decay=0.05, schedule="cosine"), 16, (1, 2)),  # inside epoch 2
        (lambda: SGD(lr=0.05, momentum=0.9, schedule="step"), 16, (0, 5)),  # last step of epoch 1
        (lambda: SGD(lr=0.1), None, (1, 0)),  # full batch
    ],
)
def test_interrupted_and_resumed_run_equals_uninterrupted(tmp_path, make_opt, batch_size, stop):
    X, y = _data()
    epochs = 4

    def fresh():
        return xpnet.MLP([12, 8, 4], backend="cpu", seed=5)

    straight = fresh()
    straight.fit(X, y, epochs=epochs, batch_size=batch_size, optimizer=make_opt())

    first = fresh()
    first.fit(X, y, epochs=epochs, batch_size=batch_size, optimizer=make_opt(), callbacks=[StopAt(*stop)])
    assert first.history.interrupted
    path = save(first, tmp_path / "ckpt.npz")
    resumed = xpnet.load(path, backend="cpu")
    assert (resumed.epoch, resumed.batch) == (first.epoch, first.batch)
    resumed.fit(X, y, epochs=epochs - resumed.epoch, batch_size=batch_size)
    assert resumed.epoch == epochs
    for k, v in straight.numpy_params().items():
        np.testing.assert_array_equal(resumed.numpy_params()[k], v, err_msg=k)
    assert resumed.optimizer.t == straight.optimizer.t


# -- atomic writes and non-finite weights --------------------------------------------------------
def test_nonfinite_weights_do_not_overwrite_a_good_checkpoint(tmp_path):
    model = _trained(tmp_path)
    path = save(model, tmp_path / "m.npz")
    before = path.read_bytes()
    model.params["W1"][0, 0] = np.nan
    with pytest.raises(CheckpointError, match="NaN or infinity"):
        save(model, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    save(model, tmp_path / "nan.npz", allow_nonfinite=True)  # possible when asked for


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path, monkeypatch):
    model = _trained(tmp_path)
    path = save(model, tmp_path / "m.npz")
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        save(model, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


# -- bad files -----------------------------------------------------------------------------------
def _rewrite(src, dst, change):
    """Copy a checkpoint's arrays, let ``change(arrays, manifest)`` edit them, write ``dst``."""
    with np.load(src, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    manifest = json.loads(arrays.pop("__manifest__").tobytes())
    change(arrays, manifest)
    if manifest is not None:
        arrays["__manifest__"] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    np.savez(dst, **arrays)
    return dst


@pytest.fixture
def good(tmp_path):
    return save(_trained(tmp_path), tmp_path / "good.npz")


def _expect_error(path, *patterns):
    with pytest.raises(CheckpointError) as info:
        xpnet.load(path, backend="cpu")
    message = str(info.value)
    assert str(path) in message
    for pattern in patterns:
        assert pattern in message, message
    assert isinstance(info.value, ValueError)
    return message


def test_missing_file(tmp_path):
    _expect_error(tmp_path / "nope.npz", "no such checkpoint file")


def test_directory_instead_of_file(tmp_path, good):
    (tmp_path / "run").mkdir()
    _expect_error(tmp_path / "run", "is a directory")


@pytest.mark.parametrize("content", [b"", b"hello, world\n", b"\x00" * 100])
def test_not_a_zip(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    _expect_error(path, "not an xpnet checkpoint")


def test_single_npy_file(tmp_path):
    path = tmp_path / "bad.npz"
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))
    _expect_error(path, ".npy array")


@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_truncated(tmp_path, good, keep):
    data = good.read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: int(len(data) * keep)])
    _expect_error(path, "truncated or corrupted")


def test_corrupted_bytes(tmp_path, good):
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo("param.W1.npy")
    data[info.header_offset + 200] ^= 0xFF  # inside the stored array data
    path = tmp_path / "flip.npz"
    path.write_bytes(bytes(data))
    _expect_error(path, "corrupted", "param.W1")


def test_plain_npz_without_manifest(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, W1=np.zeros((2, 2)))
    _expect_error(path, "not an xpnet checkpoint", "__manifest__")


def test_manifest_not_json(tmp_path, good):
    path = tmp_path / "m.npz"
    with np.load(good) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["__manifest__"] = np.frombuffer(b"{not json", dtype=np.uint8)
    np.savez(path, **arrays)
    _expect_error(path, "not valid JSON")


def test_other_format(tmp_path, good):
    path = _rewrite(good, tmp_path / "f.npz", lambda a, m: m.update(format="something.else"))
    _expect_error(path, "not an xpnet checkpoint")


@pytest.mark.parametrize("version", [FORMAT_VERSION + 1, 0, "1", None])
def test_unknown_format_version(tmp_path, good, version):
    path = _rewrite(good, tmp_path / "v.npz", lambda a, m: m.update(format_version=version))
    _expect_error(path, "unknown checkpoint format version")


def test_missing_parameter_array(tmp_path, good):
    path = _rewrite(good, tmp_path / "m.npz", lambda a, m: a.pop("param.W2"))
    _expect_error(path, "'param.W2' is missing")


def test_wrong_parameter_shape(tmp_path, good):
    path = _rewrite(good, tmp_path / "s.npz", lambda a, m: a.update({"param.W1": np.zeros((8, 13), np.float32)}))
    _expect_error(path, "'param.W1' has shape (8, 13)", "(8, 12)")


def test_layer_sizes_disagree_with_arrays(tmp_path, good):
    path = _rewrite(good, tmp_path / "s.npz", lambda a, m: m["model"].update(sizes=[12, 9, 4]))
    _expect_error(path, "shape")


def test_invalid_layer_sizes(tmp_path, good):
    path = _rewrite(good, tmp_path / "s.npz", lambda a, m: m["model"].update(sizes=[12, -1]))
    _expect_error(path, "invalid layer sizes")


def test_missing_optimizer_state(tmp_path, good):
    path = _rewrite(good, tmp_path / "o.npz", lambda a, m: [a.pop(k) for k in [k for k in a if k.startswith("opt.v.")]])
    _expect_error(path, "optimizer state", "opt.v.")


def test_wrong_optimizer_state_shape(tmp_path, good):
    path = _rewrite(good, tmp_path / "o.npz", lambda a, m: a.update({"opt.m.b1": np.zeros(3, np.float32)}))
    _expect_error(path, "'opt.m.b1' has shape (3,)")


def test_object_arrays_are_never_unpickled(tmp_path, good):
    path = tmp_path / "pickle.npz"
    with np.load(good) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["param.W1"] = np.array([{"evil": 1}], dtype=object)
    np.savez(path, **arrays)  # np.savez pickles object arrays; loading must refuse them
    _expect_error(path, "'param.W1'", "cannot be read safely")
