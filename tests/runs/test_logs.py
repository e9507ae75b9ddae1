"""Per-epoch logs read by programs nobody here wrote: pandas reads epochs.csv (while and after a
run), TensorBoard's own EventAccumulator reads the event files, and metrics.json loads into pandas
the way the docs say."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xpnet
from tests.cli.test_cli import _images
from xpnet.datasets.dataset import make_dataset
from xpnet.errors import ConfigError
from xpnet.model.logs import CSVLogger, TensorBoardLogger
from xpnet.runs import run_training
from xpnet.runs.config import TrainConfig


@pytest.fixture(scope="module")
def xy():
    x, y = _images(200, 0)
    return x.reshape(200, 784).astype(np.float32) / 255, y


def _model():
    return xpnet.MLP([784, 16, 10], backend="cpu", seed=0)


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_import_xpnet_imports_neither_the_runs_layer_nor_tensorboard():
    code = (
        "import sys, xpnet; assert 'xpnet.runs' not in sys.modules and 'tensorboardX' not in sys.modules; "
        "assert xpnet.CSVLogger.__module__ == 'xpnet.model.logs' and 'tensorboardX' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_csv_logger_writes_a_row_per_epoch_as_it_ends(xy, tmp_path):
    pd = pytest.importorskip("pandas")
    x, y = xy
    path = tmp_path / "logs" / "epochs.csv"
    seen = []

    class Peek(xpnet.Callback):  # reads the file while training goes, after the logger's row
        def on_epoch_end(self, model, epoch, logs):
            seen.append(len(pd.read_csv(path)))

    model = _model()
    model.fit(x[:150], y[:150], epochs=3, batch_size=32, validation_data=(x[150:], y[150:]),
              callbacks=[xpnet.CSVLogger(path), Peek()])  # fmt: skip
    assert seen == [1, 2, 3]
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch_time"]
    assert list(frame["epoch"]) == [1, 2, 3]
    np.testing.assert_array_equal(frame["loss"], model.history.loss)  # repr-exact floats
    np.testing.assert_array_equal(frame["val_accuracy"], model.history.val_accuracy)
    assert path.read_text().count("epoch,") == 1


def test_missing_values_are_empty_cells_and_a_regressor_logs_val_r2(xy, tmp_path):
    pd = pytest.importorskip("pandas")
    x, y = xy
    _model().fit(x, y, epochs=2, batch_size=64, callbacks=[CSVLogger(tmp_path / "c.csv")])
    frame = pd.read_csv(tmp_path / "c.csv")
    assert frame["val_loss"].isna().all() and frame["accuracy"].notna().all()

    reg = xpnet.MLP([784, 8, 1], backend="cpu", seed=0, loss="squared_error")
    t = y.astype(np.float32)[:, None] / 9
    reg.fit(x[:150], t[:150], epochs=2, batch_size=64, validation_data=(x[150:], t[150:]),
            callbacks=[CSVLogger(tmp_path / "r.csv")])  # fmt: skip
    frame = pd.read_csv(tmp_path / "r.csv")
    assert "val_r2" in frame.columns and frame["val_r2"].notna().all() and frame["accuracy"].isna().all()


def test_a_new_logger_starts_a_new_file_and_the_same_logger_continues_it(xy, tmp_path):
    x, y = xy
    path = tmp_path / "e.csv"
    path.write_text("old,file\n1,2\n")
    logger, model = CSVLogger(path), _model()
    model.fit(x, y, epochs=2, batch_size=64, callbacks=[logger])
    model.fit(x, y, epochs=1, batch_size=64, callbacks=[logger])  # one more epoch: epoch 3
    assert [r["epoch"] for r in _rows(path)] == ["1", "2", "3"]
    assert path.read_text().count("epoch,") == 1


def test_append_keeps_the_rows_up_to_the_model_and_drops_those_after_it(xy, tmp_path):
    """A killed run whose checkpoint (epoch 2) is behind its log (epoch 4): continuing from the
    checkpoint trains epochs 3 and 4 again, and their new rows replace the old ones."""
    x, y = xy
    path = tmp_path / "e.csv"
    model = _model()
    model.fit(x, y, epochs=2, batch_size=64, callbacks=[CSVLogger(path)])
    saved = model.copy()
    model.fit(x, y, epochs=2, batch_size=64, callbacks=[CSVLogger(path, append=True)])
    assert [r["epoch"] for r in _rows(path)] == ["1", "2", "3", "4"]
    first_rows = _rows(path)[:2]

    saved.fit(x, y, epochs=3, batch_size=64, callbacks=[CSVLogger(path, append=True)])
    rows = _rows(path)
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert rows[:2] == first_rows
    assert path.read_text().count("epoch,") == 1


def test_tensorboard_events_read_back_by_tensorboard(xy, tmp_path):
    pytest.importorskip("tensorboardX")
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    x, y = xy
    model = _model()
    model.fit(x[:150], y[:150], epochs=3, batch_size=32, validation_data=(x[150:], y[150:]),
              callbacks=[xpnet.TensorBoardLogger(tmp_path / "tb")])  # fmt: skip
    acc = ea.EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch_time"} <= tags
    events = acc.Scalars("val_accuracy")
    assert [e.step for e in events] == [1, 2, 3]
    np.testing.assert_allclose([e.value for e in events], model.history.val_accuracy, rtol=1e-6)
    np.testing.assert_allclose([e.value for e in acc.Scalars("loss")], model.history.loss, rtol=1e-6)


def test_tensorboard_sessions_in_the_same_second_keep_their_own_files(xy, tmp_path):
    pytest.importorskip("tensorboardX")
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    x, y = xy
    model = _model()
    for _ in range(3):  # three fit calls within a second or so: three files, every epoch read back
        model.fit(x, y, epochs=1, batch_size=100, callbacks=[TensorBoardLogger(tmp_path / "tb")])
    assert len(list((tmp_path / "tb").iterdir())) == 3
    acc = ea.EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("loss")] == [1, 2, 3]


def test_tensorboard_without_tensorboardx_says_what_to_install(monkeypatch, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboardX" else real(name))
    with pytest.raises(ConfigError, match=r"pip install 'xpnet\[tensorboard\]'"):
        TensorBoardLogger(tmp_path)


@pytest.fixture(scope="module")
def data():
    (x, y), (xt, yt) = _images(300, 0), _images(100, 1)
    return make_dataset("syn", source="synthetic", train=(x.reshape(300, 784), y), test=(xt.reshape(100, 784), yt))


def test_a_run_writes_epochs_csv_and_tensorboard_and_metrics_json_loads_as_the_docs_say(data, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tensorboardX")
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    config = TrainConfig.from_preset("default", hidden=[16], batch_size=32, epochs=3, shift=0)
    result = run_training(config, tmp_path / "r", dataset=data, plots=False, handle_sigint=False, tensorboard=True)
    assert result.files == ["model.npz", "metrics.json", "epochs.csv", "tensorboard/"]
    run_dir = tmp_path / "r"

    # The snippet of docs/cli.md, "Logs": metrics.json's history is a dict of per-epoch lists
    # next to two scalars (interrupted, stop_reason), which is why pd.read_json refuses it.
    with open(run_dir / "metrics.json") as f:
        history = json.load(f)["history"]
    frame = pd.DataFrame({k: v for k, v in history.items() if isinstance(v, list)})
    assert list(frame["epoch"]) == [1, 2, 3]

    from_csv = pd.read_csv(run_dir / "epochs.csv")
    pd.testing.assert_frame_equal(from_csv.drop(columns="epoch_time"), frame.drop(columns="epoch_time"))
    acc = ea.EventAccumulator(str(run_dir / "tensorboard"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("val_loss")] == [1, 2, 3]

    # --overwrite starts the logs over too
    again = run_training(
        TrainConfig.from_preset("default", hidden=[16], batch_size=32, epochs=1, shift=0),
        run_dir,
        dataset=data,
        plots=False,
        handle_sigint=False,
        overwrite=True,
    )
    assert again.status == "completed"
    assert list(pd.read_csv(run_dir / "epochs.csv")["epoch"]) == [1]
    assert not (run_dir / "tensorboard").exists()


KILLED_RUN = """
import os, sys
import xpnet
from tests.cli.test_cli import _images
from xpnet.datasets.dataset import make_dataset
from xpnet.runs import run_training
from xpnet.runs.config import TrainConfig

(x, y), (xt, yt) = _images(300, 0), _images(100, 1)
data = make_dataset("syn", source="synthetic", train=(x.reshape(300, 784), y), test=(xt.reshape(100, 784), yt))

class Kill(xpnet.Callback):  # the process dies at the start of epoch 3, as with kill -9
    def on_epoch_begin(self, model, epoch):
        if epoch == 2:
            os._exit(9)

config = TrainConfig.from_preset("default", hidden=[16], batch_size=32, epochs=4, shift=0)
run_training(config, sys.argv[1], dataset=data, plots=False, handle_sigint=False, save_every=1e9, callbacks=[Kill()])
"""


def test_a_killed_run_keeps_its_rows_and_resuming_logs_every_epoch_once(data, tmp_path):
    """The checkpoint of the killed run is the one saved at its start (save_every is long), its
    epochs.csv has epochs 1 and 2: resuming trains them again and their new rows replace the old."""
    run_dir = tmp_path / "r"
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(run_dir)], cwd=Path(__file__).parents[2])
    assert killed.returncode == 9
    assert [r["epoch"] for r in _rows(run_dir / "epochs.csv")] == ["1", "2"]
    assert not (run_dir / "metrics.json").exists()
    result = run_training(None, run_dir, resume=True, dataset=data, plots=False, handle_sigint=False)
    assert result.status == "completed"
    rows = _rows(run_dir / "epochs.csv")
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"]
    assert (run_dir / "epochs.csv").read_text().count("epoch,") == 1
    history = json.loads((run_dir / "metrics.json").read_text())["history"]
    assert [float(r["loss"]) for r in rows] == history["loss"]
