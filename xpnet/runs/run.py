"""Training runs: what ``xpnet train`` does, as a library call that returns a value.

A *run* lives in a directory (``runs/<data>-<YYYYmmdd-HHMMSS>`` by default) holding

``model.npz``
:   The checkpoint ([`xpnet.model.checkpoint`][xpnet.model.checkpoint]): saved when training starts, at the end of an
    epoch at most every ``save_every`` seconds, on Ctrl-C and at the end. A diverged epoch
    never overwrites it, so it always holds the last good weights.

``metrics.json``
:   The run's status, configuration, history, test results, versions and timings.

``epochs.csv``
:   One row per finished epoch, appended as the epoch ends ([`CSVLogger`][xpnet.model.logs.CSVLogger]):
    readable (``pandas.read_csv``, a spreadsheet) while the run goes and after it was killed.

``tensorboard/``
:   With ``tensorboard=True`` (``xpnet train --tensorboard``): the same numbers as TensorBoard
    events ([`TensorBoardLogger`][xpnet.model.logs.TensorBoardLogger]).

``curves.png``, ``confusion_matrix.png``, ``misclassified.png``, ``first_layer_weights.png``
:   The plots ([`xpnet.runs.plots`][xpnet.runs.plots]), when asked for.

The run's state machine, recorded as ``status`` in ``metrics.json`` and in the checkpoint's
``training`` record:

    running ──▶ completed      every epoch trained, test split evaluated, plots written
       │──────▶ interrupted    stopped early (Ctrl-C); resume continues exactly
       └──────▶ diverged       the loss became NaN/inf; the last good weights are kept

>>> from xpnet.runs.config import TrainConfig
>>> result = run_training(TrainConfig.from_preset("default", epochs=2, data="mnist"),
...                       "runs/try")                                   # doctest: +SKIP
>>> result.status, result.test["accuracy"]                               # doctest: +SKIP
('completed', 0.97...)

No printing here: progress reaches the caller through [`Callback`][xpnet.model.mlp.Callback] objects, and
the command line ([`xpnet.cli`][xpnet.cli]) presents the [`RunResult`][xpnet.runs.RunResult].

This module holds the state machine: [`Run`][xpnet.runs.Run] (set up, train, end in one of the
states) and [`run_training`][xpnet.runs.run_training]. The pieces it is built from live beside it
and are importable from here as before: the epoch loop ([`xpnet.runs.epochs`][xpnet.runs.epochs]),
the data spec ([`xpnet.runs.data`][xpnet.runs.data]), the test evaluation and plots
([`xpnet.runs.evaluation`][xpnet.runs.evaluation]) and the returned value
([`xpnet.runs.result`][xpnet.runs.result]).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._lib.fileio import write_json
from ..backend.environment import versions, xpnet_version
from ..errors import RunError
from ..model.callbacks import Callback
from ..model.checkpoint import CheckpointError, load_checkpoint, save
from ..model.logs import EPOCHS_CSV_NAME, TENSORBOARD_DIR_NAME, CSVLogger, TensorBoardLogger
from ..model.mlp import MLP, TrainingDiverged
from ..model.preprocessing import Preprocessing
from ..nn.optim import Cosine
from .callbacks import CheckpointEveryEpoch, StopWhen, sigint_stops
from .config import TrainConfig
from .data import data_label, load_data
from .epochs import train_epochs
from .evaluation import evaluate_model, write_plots
from .result import RunResult, runtime_warnings
from .rundir import (
    CHECKPOINT_NAME,
    METRICS_NAME,
    PLOT_NAMES,
    check_trained,
    default_run_dir,
    find_checkpoint,
    latest_run_dir,
    read_metrics,
    retrain_command,
)
from .splits import Splits, dataset_record, prepare_splits

__all__ = [
    "Run",
    "RunResult",
    "run_training",
    "evaluate_model",
    "train_epochs",
    "load_data",
    "check_trained",
    "find_checkpoint",
    "CHECKPOINT_NAME",
    "METRICS_NAME",
    "PLOT_NAMES",
]

log = logging.getLogger("xpnet.runs")


# -- a run ---------------------------------------------------------------------------------------
@dataclass
class Run:
    """A run set up in its directory, ready to [`train`][xpnet.runs.Run.train]: made by [`create`][xpnet.runs.Run.create] or [`resume`][xpnet.runs.Run.resume].

    Attributes
    ----------
    config : TrainConfig
        The settings (for a resumed run: the checkpoint's, with the new ``epochs``).
    run_dir : pathlib.Path
        Where the run's files go.
    dataset : xpnet.datasets.Dataset
        The data; ``splits`` its train / validation / test parts ([`xpnet.runs.splits`][xpnet.runs.splits]).
    model : xpnet.MLP
        The model to train; ``preprocessing`` maps raw pixels to its inputs.
    resumed : bool
        Continues an earlier run; ``previous_seconds`` is the training time of its earlier parts.
    """

    config: TrainConfig
    run_dir: Path
    dataset: Any
    data_dir: str | None
    splits: Splits
    model: MLP
    preprocessing: Preprocessing
    resumed: bool = False
    previous_seconds: float = 0.0
    previous_status: str | None = None
    overwrite: bool = False

    @classmethod
    def create(
        cls,
        config: TrainConfig,
        run_dir: str | os.PathLike | None = None,
        *,
        dataset=None,
        data_dir: str | os.PathLike | None = None,
        backend=None,
        overwrite: bool = False,
        progress: bool = False,
    ) -> Run:
        """Set up a new run: check the settings and the directory, load the data, build the model.

        Parameters
        ----------
        config : TrainConfig
            The settings; ``config.data`` names the data unless ``dataset`` is given.
        run_dir : path or None
            The run directory (default: [`default_run_dir`][xpnet.runs.rundir.default_run_dir]).
        dataset : xpnet.datasets.Dataset or None
            Data already loaded (default: load ``config.data``, downloading a known dataset).
        data_dir : path or None
            The dataset cache directory (see [`xpnet.datasets.load_dataset`][xpnet.datasets.load.load_dataset]).
        backend : str or xpnet.Backend or None
            Where to train (default: ``$XPNET_BACKEND``, else auto).
        overwrite : bool
            Start over when ``run_dir`` holds a run: its files are replaced when training
            starts (not before the data has loaded).
        progress : bool
            Show download progress on stderr.

        Raises
        ------
        ConfigError
            The settings do not go together.
        RunError
            ``run_dir`` already holds a run and ``overwrite`` is false.
        """
        config.make_optimizer()  # validate the combination before touching files or data
        config.make_averaging()
        run_dir = (
            Path(run_dir)
            if run_dir is not None
            else default_run_dir(dataset.name if dataset is not None else data_label(config.data))
        )
        if (run_dir / CHECKPOINT_NAME).exists() and not overwrite:
            raise RunError(
                f"{run_dir} already holds a run ({CHECKPOINT_NAME}); continue it with "
                f"'xpnet train --resume --out {run_dir}', start it over with --overwrite, "
                "or choose another --out"
            )
        data_dir = str(data_dir) if data_dir else None
        if dataset is None:
            dataset = load_data(config.data, data_dir, progress)
        else:
            config.data = str(dataset.source or dataset.name)
        config.resolve_augment(dataset.name)  # "auto": what suits this data, recorded as such
        splits = prepare_splits(dataset, config.val_split, config.seed)
        preprocessing = Preprocessing.fit(splits.x_train, config.standardize)
        n_inputs = (dataset.x_test if dataset.x_test is not None else dataset.x_train).shape[1]
        model = config.make_model(backend, n_inputs=n_inputs, n_classes=dataset.n_classes)
        return cls(config, run_dir, dataset, data_dir, splits, model, preprocessing, overwrite=overwrite)

    @classmethod
    def resume(
        cls,
        run_dir: str | os.PathLike | None = None,
        *,
        epochs: int | None = None,
        dataset=None,
        data: str | None = None,
        data_dir: str | os.PathLike | None = None,
        backend=None,
        progress: bool = False,
    ) -> Run:
        """Set up the continuation of the run in ``run_dir`` from its checkpoint.

        Parameters
        ----------
        run_dir : path or None
            The run directory (default: the newest one under ``runs/``).
        epochs : int or None
            The new total length of the run (default: the run's own).
        dataset, data, data_dir
            The data, if not where the run found it: a loaded dataset, a spec, a cache directory.
        backend : str or xpnet.Backend or None
            Where to continue (any backend: the checkpoint is portable).

        Raises
        ------
        RunError
            Nothing to resume, a checkpoint not written by a run, a run that diverged
            (resuming would diverge again), or data that differs from the run's.
        """
        run_dir = Path(run_dir) if run_dir is not None else latest_run_dir()
        if run_dir is None:
            raise RunError(
                "nothing to resume: no run directory with a checkpoint under runs/; pass the run with --out DIR"
            )
        path = run_dir / CHECKPOINT_NAME
        if not path.is_file():
            raise RunError(f"cannot resume: {path} does not exist (is --out the run directory?)")
        ckpt = load_checkpoint(path, backend=backend)
        if "config" not in ckpt.training:
            raise RunError(
                f"{path}: this checkpoint has no training configuration (it was not written by "
                "'xpnet train'), so it cannot be resumed from the command line"
            )
        config = TrainConfig.from_dict(ckpt.training["config"])
        status = ckpt.training.get("status")
        if status == "diverged":
            raise RunError(
                f"{run_dir} diverged, and resuming keeps its learning rate ({config.lr:g}), so it "
                f"would diverge again; start over with '{retrain_command(ckpt)}'"
            )
        if epochs is not None:
            config.epochs = int(epochs)
        if config.schedule == "cosine" and ckpt.model.optimizer is not None:
            ckpt.model.optimizer.schedule = Cosine(epochs=config.epochs)  # the (new) length of the run
        data_dir = str(data_dir) if data_dir else ckpt.training.get("data_dir")
        if dataset is None:
            dataset = load_data(data or config.data, data_dir, progress)
        saved = ckpt.dataset.get("checksums") or {}
        if saved and dataset.checksums and saved != dict(dataset.checksums):
            raise RunError(
                f"the data at {data or config.data} differs from the data this run was trained on "
                "(SHA-256 checksums do not match); resume with the same data or start a new run"
            )
        config.data = data or config.data
        splits = prepare_splits(dataset, config.val_split, config.seed)
        previous = ckpt.training.get("train_seconds")
        if previous is None:  # a run saved before the total was recorded in the checkpoint
            previous = read_metrics(run_dir).get("train_seconds", 0.0)
        if status is None and ckpt.metrics.get("test_accuracy") is not None:
            status = "completed"
        return cls(
            config,
            run_dir,
            dataset,
            data_dir,
            splits,
            ckpt.model,
            ckpt.preprocessing,
            resumed=True,
            previous_seconds=float(previous or 0.0),
            previous_status=status,
        )

    @property
    def finished(self) -> bool:
        """The run is complete and has trained ``config.epochs`` epochs: [`train`][xpnet.runs.Run.train] has nothing to do."""
        return self.previous_status == "completed" and self.model.epoch >= self.config.epochs

    @property
    def n_batches(self) -> int:
        """Steps per epoch."""
        n = len(self.splits.x_train)
        return 1 if self.config.batch_size is None else math.ceil(n / min(self.config.batch_size, n))

    def _records(self) -> tuple[dict, dict]:
        backend = self.model.backend
        training = {
            "config": self.config.to_dict(),
            "data_dir": self.data_dir,
            "backend": backend.spec,
            "device": backend.device_name,
        }
        return training, dataset_record(self.dataset, self.config.data, self.splits)

    def train(
        self,
        callbacks=(),
        *,
        plots: bool = True,
        save_every: float = 30.0,
        handle_sigint: bool = True,
        on_sigint: Callable[[], None] | None = None,
        tensorboard: bool = False,
    ) -> RunResult:
        """Train to the end of the run, then evaluate, save and plot; or stop cleanly.

        Parameters
        ----------
        callbacks : sequence of xpnet.Callback
            Progress hooks (a progress bar, ...), called by [`MLP.fit`][xpnet.model.mlp.MLP.fit].
        plots : bool
            Write the PNG plots when the run completes.
        save_every : float
            Save a checkpoint at the end of an epoch at most this often, in seconds (0: every
            epoch); the start, an interrupt and the end always save.
        handle_sigint : bool
            Turn the first Ctrl-C into a clean stop (``interrupted``), in the main thread.
        on_sigint : callable or None
            Called at the first Ctrl-C (e.g. to tell the user that a checkpoint is coming).
        tensorboard : bool
            Also write TensorBoard events into ``tensorboard/`` (needs tensorboardX,
            ``pip install 'xpnet[tensorboard]'``). ``epochs.csv`` is always written.

        Raises
        ------
        ConfigError
            ``tensorboard`` is asked for and tensorboardX is not installed (before training).

        Returns
        -------
        RunResult
            Never raises [`TrainingDiverged`][xpnet.model.mlp.TrainingDiverged]: a divergence is a ``diverged`` result.
        """
        if self.finished:
            return RunResult(
                "completed",
                self.run_dir,
                read_metrics(self.run_dir),
                [],
                self.model,
                already_finished=True,
                config=self.config,
            )
        loggers: list[Callback] = [CSVLogger(self.run_dir / EPOCHS_CSV_NAME, append=True)]
        if tensorboard:
            loggers.append(TensorBoardLogger(self.run_dir / TENSORBOARD_DIR_NAME))
        if self.overwrite:
            for name in (CHECKPOINT_NAME, METRICS_NAME, EPOCHS_CSV_NAME, *PLOT_NAMES):
                (self.run_dir / name).unlink(missing_ok=True)
            shutil.rmtree(self.run_dir / TENSORBOARD_DIR_NAME, ignore_errors=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        training, data_rec = self._records()

        finished: list[float] = []  # this part's training time, once training has ended

        def record(status: str) -> dict:
            seconds = finished[0] if finished else time.perf_counter() - start
            return {**training, "status": status, "train_seconds": self.previous_seconds + seconds}

        ckpt_path = self.run_dir / CHECKPOINT_NAME
        pre, splits, model, config = self.preprocessing, self.splits, self.model, self.config
        saver = CheckpointEveryEpoch(
            ckpt_path,
            lambda: {"preprocessing": pre, "training": record("running"), "dataset": data_rec},
            save_every,
        )
        optimizer = None if (self.resumed and model.optimizer is not None) else config.make_optimizer()
        validation = (splits.x_val, splits.y_val) if len(splits.x_val) else None  # raw: the model scales
        status, diverged = "completed", None
        with (
            warnings.catch_warnings(record=True) as caught,
            sigint_stops(model, handle_sigint, on_sigint) as sig,
        ):
            warnings.simplefilter("default", RuntimeWarning)
            try:
                train_epochs(
                    model,
                    splits.x_train,
                    splits.y_train,
                    pre,
                    config,
                    optimizer,
                    validation,
                    callbacks=[StopWhen(lambda: sig["interrupted"]), *callbacks, *loggers, saver],
                    should_stop=lambda: sig["interrupted"],
                )
            except TrainingDiverged as exc:
                status, diverged = "diverged", exc
            finally:
                for logger in loggers:
                    if isinstance(logger, TensorBoardLogger):
                        logger.close()
        seconds = time.perf_counter() - start
        finished.append(seconds)
        earlier_parts = read_metrics(self.run_dir).get("train_seconds_parts", []) if self.resumed else []
        if self.resumed and not earlier_parts and self.previous_seconds:
            earlier_parts = [self.previous_seconds]
        float_warnings = runtime_warnings(caught)
        if status == "completed" and (model.history.interrupted or model.epoch < config.epochs):
            status = "interrupted"
        metrics: dict[str, Any] = {
            "status": status,
            "xpnet_version": xpnet_version(),
            "config": config.to_dict(),
            "model": model.get_config(),
            "n_params": model.n_params,
            "preprocessing": pre.get_config(),
            "backend": {"spec": model.backend.spec, "device": model.backend.device_name},
            "versions": versions(model.backend),
            "dataset": data_rec,
            "progress": {"epoch": model.epoch, "batch": model.batch},
            "history": model.history.to_dict(),
            "train_seconds": self.previous_seconds + seconds,
            "train_seconds_parts": [*earlier_parts, seconds],
        }
        if float_warnings:
            metrics["warnings"] = float_warnings
            if status != "diverged":
                log.warning("floating-point warnings while training: %s", "; ".join(float_warnings))
        result = RunResult(
            status,
            self.run_dir,
            metrics,
            [],
            model,
            warnings=float_warnings,
            train_seconds=seconds,
            config=config,
        )
        if diverged is not None:  # status "diverged"
            self._diverged(result, diverged, ckpt_path, data_rec)
        elif status == "interrupted":
            self._interrupted(result, ckpt_path, record("interrupted"), data_rec)
        else:
            self._completed(result, ckpt_path, record("completed"), data_rec, plots)
        write_json(self.run_dir / METRICS_NAME, metrics)
        result.files.insert(1 if result.files else 0, METRICS_NAME)
        if (self.run_dir / EPOCHS_CSV_NAME).exists():
            result.files.insert(2 if len(result.files) > 1 else 1, EPOCHS_CSV_NAME)
        if tensorboard:
            result.files.append(TENSORBOARD_DIR_NAME + "/")
        return result

    def _diverged(self, result: RunResult, error: TrainingDiverged, ckpt_path: Path, data_rec: dict) -> None:
        result.error = error
        result.suggested_lr, result.suggestion = self.config.suggested_lr()
        kept = load_checkpoint(ckpt_path, backend="cpu")  # the last good weights, saved before the bad epoch
        result.kept_epoch = kept.model.epoch
        note = {"epoch": self.model.epoch + 1, "message": str(error), "suggested_lr": result.suggested_lr}
        save(
            kept.model,
            ckpt_path,
            preprocessing=kept.manifest.get("preprocessing"),
            training={**kept.training, "status": "diverged", "diverged": note},
            dataset=kept.dataset,
            metrics=kept.metrics,
        )
        result.metrics["diverged"] = {**note, "kept_epoch": result.kept_epoch}
        result.files.append(CHECKPOINT_NAME)

    def _interrupted(self, result: RunResult, ckpt_path: Path, training: dict, data_rec: dict) -> None:
        model = self.model
        try:
            save(model, ckpt_path, preprocessing=self.preprocessing, training=training, dataset=data_rec)
            where = (
                f"epoch {model.epoch + 1}, step {model.batch}/{self.n_batches}"
                if model.batch
                else f"the end of epoch {model.epoch}"
            )
            result.saved = f"saved a checkpoint at {where} in {ckpt_path}"
            result.files.append(CHECKPOINT_NAME)
        except CheckpointError as exc:
            result.saved = f"did not save ({exc}); the last good checkpoint is kept"

    def _completed(self, result: RunResult, ckpt_path: Path, training: dict, data_rec: dict, plots: bool) -> None:
        model, splits = self.model, self.splits
        test = evaluate_model(model, splits.x_test, splits.y_test)  # the model carries its preprocessing
        result.test = test
        result.metrics["test"] = {
            "accuracy": test["accuracy"],
            "loss": test["loss"],
            "n": test["n"],
            "per_class": test["per_class"],
            "confusion_matrix": test["confusion_matrix"].tolist(),
        }
        save(
            model,
            ckpt_path,
            preprocessing=self.preprocessing,
            training=training,
            dataset=data_rec,
            metrics={"test_accuracy": test["accuracy"], "test_loss": test["loss"], "n_test": test["n"]},
        )
        result.files.append(CHECKPOINT_NAME)
        if plots:
            result.files += write_plots(model, self.dataset, splits.x_test, splits.y_test, test, self.run_dir)
        result.metrics["plots"] = [f for f in result.files if f.endswith(".png")]


def run_training(
    config: TrainConfig | None = None,
    out_dir: str | os.PathLike | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    dataset=None,
    data_dir=None,
    backend=None,
    epochs: int | None = None,
    plots: bool = True,
    save_every: float = 30.0,
    callbacks=(),
    handle_sigint: bool = True,
    tensorboard: bool = False,
) -> RunResult:
    """Do what ``xpnet train`` does, in one call: set up (or resume) a run and train it.

    Parameters
    ----------
    config : TrainConfig or None
        The settings of a new run (default: the ``default`` preset on MNIST); ignored with
        ``resume``, where the checkpoint's settings apply.
    out_dir : path or None
        The run directory (default: a new one under ``runs/``; with ``resume`` the newest).
    resume : bool
        Continue the run in ``out_dir`` from its checkpoint (``epochs``: its new length).
    overwrite : bool
        Start over when ``out_dir`` already holds a run.
    dataset, data_dir, backend
        See [`Run.create`][xpnet.runs.Run.create].
    plots, save_every, callbacks, handle_sigint, tensorboard
        See [`Run.train`][xpnet.runs.Run.train].

    Returns
    -------
    RunResult
        ``status`` is ``completed``, ``interrupted`` or ``diverged``; ``metrics`` is what
        ``metrics.json`` holds and ``files`` the names written.

    Raises
    ------
    ConfigError, RunError, xpnet.datasets.DataError, xpnet.CheckpointError, xpnet.BackendUnavailable
        The run cannot start: the message says why.
    """
    if resume:
        run = Run.resume(out_dir, epochs=epochs, dataset=dataset, data_dir=data_dir, backend=backend)
    else:
        config = config if config is not None else TrainConfig.from_preset("default")
        if epochs is not None:
            config.epochs = int(epochs)
        run = Run.create(config, out_dir, dataset=dataset, data_dir=data_dir, backend=backend, overwrite=overwrite)
    return run.train(
        callbacks, plots=plots, save_every=save_every, handle_sigint=handle_sigint, tensorboard=tensorboard
    )
