"""The ``xpnet`` command line: ``info``, ``train``, ``evaluate``, ``predict``, ``gradcheck``, ``bench``.

Exit codes
----------
=====  ==================================================================================
0      success
1      the work itself failed: training diverged (NaN/inf loss), a gradient check failed,
       or an unexpected internal error (run with ``--debug`` for the traceback)
2      bad usage or bad input: unknown option, invalid value, unreadable or malformed
       data, model or image file, unavailable backend, dataset offline and not cached;
       one message, no traceback (``xpnet --debug ...`` shows it)
130    interrupted with Ctrl-C (``train`` saves a checkpoint first; resume with
       ``xpnet train --resume --out RUN_DIR``)
=====  ==================================================================================

The commands print for people (with rich); the library underneath only logs.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np
from click.core import ParameterSource

from . import __version__
from .activations import ACTIVATIONS
from .init import INITIALIZERS

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

_state: dict[str, Any] = {"debug": False}


class CLIError(click.ClickException):
    """An error to show as one message, with an exit code (2 unless told otherwise)."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        self.exit_code = exit_code


# -- parameter types -----------------------------------------------------------------------------
class IntList(click.ParamType):
    """Comma-separated positive integers, e.g. ``256,128``; ``none`` for an empty list."""

    name = "N,N,..."

    def __init__(self, min_items: int = 0):
        self.min_items = min_items

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        text = str(value).strip()
        if text.lower() in ("", "none", "0") and self.min_items == 0:
            return []
        try:
            items = [int(part) for part in text.replace(" ", "").split(",")]
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of integers (e.g. 256,128)", param, ctx)
        if any(i < 1 for i in items):
            self.fail(f"{value!r}: every size must be a positive integer", param, ctx)
        if len(items) < self.min_items:
            self.fail(f"{value!r}: give at least {self.min_items} sizes", param, ctx)
        return items


class BatchSize(click.ParamType):
    """A positive integer, or ``full`` for full-batch gradient descent."""

    name = "N|full"

    def convert(self, value, param, ctx):
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text in ("full", "all", "none"):
            return "full"
        try:
            n = int(text)
        except ValueError:
            self.fail(f"{value!r} is neither a positive integer nor 'full'", param, ctx)
        if n < 1:
            self.fail(f"{value!r}: the batch size must be at least 1 (or 'full')", param, ctx)
        return n


# -- the group and error handling ----------------------------------------------------------------
class XpnetGroup(click.Group):
    """A click group whose ``main`` turns every failure into one message and an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        _state["debug"] = "--debug" in args
        _state["verbose"] = 0
        code = _run(self, args, prog_name or "xpnet", complete_var, extra)
        if standalone_mode:
            sys.exit(code)
        return code


def _err(message: str) -> None:
    click.echo(message, err=True)


def _run(group: click.Group, args: list, prog_name: str, complete_var, extra) -> int:
    from .backend import BackendUnavailable
    from .checkpoint import CheckpointError
    from .images import ImageError

    if not args:
        with click.Context(group, info_name=prog_name) as ctx:
            click.echo(group.get_help(ctx))
        return EXIT_OK
    try:
        rv = click.Group.main(group, args, prog_name, complete_var, standalone_mode=False, **extra)
        return rv if isinstance(rv, int) else EXIT_OK
    except click.exceptions.Exit as exc:  # pragma: no cover - click returns it in non-standalone mode
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        _err("Interrupted.")
        return EXIT_INTERRUPTED
    except click.UsageError as exc:
        if _state["debug"]:
            traceback.print_exc()
        where = exc.ctx.command_path if exc.ctx is not None else prog_name
        hint = f" (see '{where} --help')" if exc.ctx is not None else ""
        _err(f"Error: {_one_line(exc.format_message())}{hint}")
        return EXIT_USAGE
    except click.ClickException as exc:
        if _state["debug"]:
            traceback.print_exc()
        _err(f"Error: {exc.format_message()}")
        return exc.exit_code
    except (CheckpointError, ImageError, BackendUnavailable, ValueError, FileNotFoundError,
            IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        if _state["debug"]:
            traceback.print_exc()
        _err(f"Error: {exc}")
        return EXIT_USAGE
    except Exception as exc:
        if _state["debug"]:
            traceback.print_exc()
        else:
            _err(f"Error: unexpected {type(exc).__name__}: {_one_line(str(exc))} "
                 "(run 'xpnet --debug ...' for the traceback and please report it)")
        return EXIT_FAILURE


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _DropDownloadRetries(logging.Filter):
    """Hide per-mirror download failures: the final error message lists them again."""

    def filter(self, record):
        return not (record.name.startswith("xpnet.datasets") and record.getMessage().startswith("Could not download"))


def _setup_logging(verbose: int) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    logger = logging.getLogger("xpnet")
    for h in list(logger.handlers):
        if getattr(h, "_xpnet_cli", False):
            logger.removeHandler(h)
    handler = RichHandler(console=Console(stderr=True), show_time=False, show_path=False,
                          markup=False, rich_tracebacks=False)
    handler._xpnet_cli = True
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler.setLevel(level)
    if verbose == 0:
        handler.addFilter(_DropDownloadRetries())
    logger.addHandler(handler)
    logger.setLevel(min(logger.level or logging.WARNING, level))


@click.group(cls=XpnetGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="xpnet")
@click.option("--debug", is_flag=True, help="Show the full traceback when something fails.")
@click.option("-v", "--verbose", count=True, help="Log more: -v for progress details, -vv for debugging.")
def cli(debug: bool, verbose: int) -> None:
    """xpnet: a neural network written once against the Python Array API standard.

    It trains on NumPy (CPU) and CuPy (CUDA GPU) with the same code.

    \b
    Quick start:
      xpnet info                                   # backends, devices, what 'auto' picks
      xpnet train --dataset fashion-mnist          # download, train, write runs/<name>-<time>/
      xpnet evaluate runs/fashion-mnist-*/model.npz
      xpnet predict runs/mnist-*/model.npz digit.png

    Exit codes: 0 success, 1 failure (diverged, gradcheck failed), 2 bad usage or input,
    130 interrupted (Ctrl-C).
    """
    _state["debug"] = debug
    _state["verbose"] = verbose
    _setup_logging(verbose)


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _fmt_time(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _esc(text) -> str:
    from rich.markup import escape

    return escape(str(text))


# ================================================================================================
# info
# ================================================================================================
@cli.command(context_settings=CONTEXT_SETTINGS)
def info() -> None:
    """Show the version, the installed backends and devices, and what 'auto' picks.

    \b
    Examples:
      xpnet info
      XPNET_BACKEND=cpu xpnet info
    """
    import platform

    import array_api_compat
    from rich.table import Table

    from .backend import ENV_VAR, available_backends, get_backend

    console = _console()
    console.print(f"[bold]xpnet {__version__}[/] · Python {platform.python_version()} · "
                  f"NumPy {np.__version__} · array-api-compat {array_api_compat.__version__} · "
                  f"{_esc(platform.platform(terse=True))}")
    table = Table(title="Backends", title_justify="left")
    for col in ("spec", "usable", "device", "details"):
        table.add_column(col)
    for row in available_backends():
        table.add_row(_esc(row.spec), "[green]yes[/]" if row.usable else "[red]no[/]",
                      _esc(row.device), _esc(row.detail))
    console.print(table)

    # What "auto" picks and why: the backend module logs its reason.
    reasons: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record):
            reasons.append(record.getMessage())

    logger = logging.getLogger("xpnet.backend")
    collect, old_level = _Collect(level=logging.INFO), logger.level
    logger.addHandler(collect)
    logger.setLevel(logging.INFO)
    try:
        auto = get_backend("auto")
    finally:
        logger.removeHandler(collect)
        logger.setLevel(old_level)
    why = reasons[-1].removeprefix("backend auto: ") if reasons else f"using {auto}"
    console.print(f"[bold]auto[/] → {_esc(auto)}: {_esc(why)}")
    env = os.environ.get(ENV_VAR)
    if env:
        try:
            console.print(f"${ENV_VAR}={_esc(env)} → {_esc(get_backend(env))} (used when --backend is not given)")
        except Exception as exc:
            console.print(f"${ENV_VAR}={_esc(env)} → [red]unusable[/]: {_esc(exc)}")
    else:
        console.print(f"${ENV_VAR} is not set: commands use 'auto' unless given --backend.")

    try:
        from threadpoolctl import threadpool_info

        pools = [f"{p.get('internal_api')} ({p.get('num_threads')} threads)" for p in threadpool_info()
                 if p.get("user_api") == "blas"]
        if pools:
            console.print(f"CPU math: {', '.join(pools)}; {os.cpu_count()} CPUs")
    except Exception:  # pragma: no cover - informational only
        pass
    try:
        from .datasets.cache import data_root
        from .datasets.sources import KNOWN_DATASETS

        root = data_root()
        present = [name for name, ds in KNOWN_DATASETS.items()
                   if all((root / ds.name / f.name).is_file() for f in ds.files)]
        console.print(f"Data directory: {_esc(root)} (--data-dir or $XPNET_DATA_DIR); cached: "
                      f"{', '.join(present) if present else 'none'}")
    except Exception:  # pragma: no cover - informational only
        pass


# ================================================================================================
# train
# ================================================================================================
_FRESH_ONLY = ("preset", "hidden", "activation", "init", "optimizer", "lr", "weight_decay", "momentum",
               "schedule", "batch_size", "standardize", "shift", "dtype", "seed", "val_split")


@dataclass
class _Setup:
    config: Any
    run_dir: Path
    dataset: Any
    data_spec: str
    data_dir: str | None
    splits: Any
    preprocessing: Any
    model: Any
    resumed: bool


def _data_spec(dataset: str | None, data_path: Path | None) -> str:
    if dataset and data_path:
        raise click.UsageError("give either --dataset or --data, not both")
    if data_path is not None:
        return str(data_path.expanduser().resolve())
    return dataset or "mnist"


def _spec_label(spec: str) -> str:
    from .datasets.sources import get_known_dataset

    known = get_known_dataset(spec) if os.sep not in spec else None
    return known.name if known else Path(spec).name


def _load_data(spec: str, data_dir: str | None, console):
    from .datasets import load_dataset
    from .datasets.sources import get_known_dataset

    known = get_known_dataset(spec) if os.sep not in spec else None
    return load_dataset(spec if known else Path(spec), data_dir=data_dir, download=True, progress=True)


def _explicit(ctx: click.Context, names) -> list[str]:
    sources = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    return [n for n in names if ctx.get_parameter_source(n) in sources]


def _training_record(setup: _Setup, backend) -> dict:
    return {"config": setup.config.to_dict(), "data_dir": setup.data_dir, "backend": backend.spec,
            "device": backend.device_name}


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist"]),
              help="A known dataset, downloaded (and cached) on first use. Default: mnist.")
@click.option("--data", "data_path", type=click.Path(exists=True, path_type=Path),
              help="Local data instead: a directory of IDX files (gzipped or not), a Kaggle "
                   "train.csv[.gz], or an .npz with x_train/y_train/x_test/y_test.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Cache directory for downloaded datasets (default: $XPNET_DATA_DIR, else the "
                   "user cache directory).")
@click.option("--preset", type=click.Choice(["default", "tutorial"]), default="default", show_default=True,
              help="default: 784-1024-512-10, AdamW (weight decay 0.1) + cosine, 20 epochs of batch "
                   "128, standardised inputs shifted by up to 1 pixel. tutorial: the tutorial exactly (784-10-10, uniform init, full-batch "
                   "gradient descent, lr 0.1, 500 iterations). Options below override it.")
@click.option("--hidden", type=IntList(), help="Hidden layer widths, e.g. 256,128 ('none': no hidden layer).")
@click.option("--activation", type=click.Choice(sorted(ACTIVATIONS)), help="Hidden activation.")
@click.option("--init", type=click.Choice(list(INITIALIZERS)), help="Weight initialisation.")
@click.option("--optimizer", type=click.Choice(["sgd", "adam", "adamw"]), help="Update rule.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), help="Learning rate.")
@click.option("--weight-decay", type=click.FloatRange(min=0), help="Weight decay (L2 for sgd/adam, decoupled for adamw).")
@click.option("--momentum", type=click.FloatRange(0, 1, max_open=True), help="Momentum (sgd only).")
@click.option("--schedule", type=click.Choice(["constant", "step", "cosine"]), help="Learning-rate schedule.")
@click.option("--epochs", type=click.IntRange(min=1),
              help="Epochs to train (with --resume: the new total).")
@click.option("--batch-size", type=BatchSize(), help="Samples per step, or 'full' for full-batch gradient descent.")
@click.option("--standardize/--no-standardize", default=None,
              help="Standardise the scaled pixels with the training set's mean and std.")
@click.option("--shift", type=click.IntRange(0, 4), metavar="PIXELS",
              help="Augmentation: move each training image by a random 0..PIXELS pixels per epoch "
                   "(0: off).")
@click.option("--backend", metavar="SPEC",
              help="auto, cpu, gpu, cuda:N, torch, torch:cuda, jax, array_api_strict "
                   "(default: $XPNET_BACKEND, else auto).")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), help="Floating-point type (default float32).")
@click.option("--seed", type=int, help="Seeds the weights, the shuffling and the data splits (default 0).")
@click.option("--val-split", type=click.FloatRange(0, 1, max_open=True),
              help="Fraction of the training data held out for validation (default 0.1).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Run directory (default: runs/<data>-<YYYYmmdd-HHMMSS>).")
@click.option("--resume", is_flag=True,
              help="Continue the run in --out (default: the newest run under runs/) from its checkpoint.")
@click.option("--plots/--no-plots", default=True, show_default=True, help="Write the PNG plots.")
@click.option("--save-every", type=click.FloatRange(min=0), default=30.0, show_default=True, metavar="SECONDS",
              help="Save a checkpoint at the end of an epoch at most this often (0: every epoch). "
                   "Ctrl-C and the end of training always save.")
@click.option("--log-every", type=click.IntRange(min=1),
              help="Print a table row every N epochs (default: every epoch up to 50 epochs).")
@click.pass_context
def train(ctx: click.Context, **opts) -> None:
    """Train a network and write the model, metrics.json and plots into a run directory.

    Shows a progress bar over the batches, one table row per epoch and the final test
    accuracy. When the data has no training split (e.g. a directory with only the t10k
    files), 20% of it (chosen with --seed) becomes the test set and the rest is trained on;
    --val-split is then taken from that rest.

    Ctrl-C finishes the current step, saves a checkpoint and exits with 130; continue with
    --resume. A NaN/infinite loss stops training (exit 1) and keeps the last good checkpoint.

    \b
    Examples:
      xpnet train                                     # MNIST, default preset
      xpnet train --dataset fashion-mnist --epochs 30
      xpnet train --data ~/data/mnist-t10k --val-split 0.2
      xpnet train --preset tutorial --data train.csv
      xpnet train --hidden 256,128 --optimizer sgd --momentum 0.9 --lr 0.05 --batch-size 64
      xpnet train --backend gpu --out runs/gpu-run
      xpnet train --resume --out runs/gpu-run          # continue after Ctrl-C
    """
    from .backend import get_backend
    from .training import Timer

    timer = Timer()
    console = _console()
    backend = get_backend(opts["backend"])
    if opts["resume"]:
        setup = _setup_resume(ctx, opts, backend, console)
    else:
        setup = _setup_fresh(ctx, opts, backend, console)
    _print_setup(console, setup, backend)
    code = _fit_and_report(ctx, console, setup, backend, opts, timer)
    ctx.exit(code)


def _setup_fresh(ctx, opts, backend, console) -> _Setup:
    from .preprocessing import Preprocessing
    from .training import CHECKPOINT_NAME, TrainConfig, default_run_dir, prepare_splits

    spec = _data_spec(opts["dataset"], opts["data_path"])
    batch = opts["batch_size"]
    overrides = {k: opts[k] for k in ("hidden", "activation", "init", "optimizer", "lr", "weight_decay",
                                      "momentum", "schedule", "epochs", "standardize", "shift", "dtype",
                                      "seed", "val_split")}
    config = TrainConfig.from_preset(opts["preset"], **overrides, data=spec)
    if batch is not None:
        config.batch_size = None if batch == "full" else batch
    config.make_optimizer()  # validate the combination (e.g. --momentum with adam) before loading data
    run_dir = opts["out"] or default_run_dir(_spec_label(spec))
    if (run_dir / CHECKPOINT_NAME).exists():
        raise CLIError(f"{run_dir} already holds a run ({CHECKPOINT_NAME}); continue it with "
                       f"'xpnet train --resume --out {run_dir}' or choose another --out")
    data_dir = str(opts["data_dir"]) if opts["data_dir"] else None
    dataset = _load_data(spec, data_dir, console)
    splits = prepare_splits(dataset, config.val_split, config.seed)
    preprocessing = Preprocessing.fit(splits.x_train, config.standardize)
    model = config.make_model(backend, n_inputs=dataset.x_test.shape[1] if dataset.x_test is not None
                              else dataset.x_train.shape[1], n_classes=dataset.n_classes)
    return _Setup(config, run_dir, dataset, spec, data_dir, splits, preprocessing, model, False)


def _setup_resume(ctx, opts, backend, console) -> _Setup:
    from .checkpoint import load_checkpoint
    from .training import CHECKPOINT_NAME, TrainConfig, latest_run_dir, prepare_splits

    fixed = _explicit(ctx, _FRESH_ONLY)
    if fixed:
        names = ", ".join("--" + n.replace("_", "-") for n in fixed)
        raise click.UsageError(f"{names}: cannot be changed when resuming, the run's checkpoint "
                               "fixes the model, optimizer and data split; start a new run instead")
    run_dir = opts["out"] or latest_run_dir()
    if run_dir is None:
        raise CLIError("nothing to resume: no run directory with a checkpoint under runs/; "
                       "pass the run with --out DIR")
    path = run_dir / CHECKPOINT_NAME
    if not path.is_file():
        raise CLIError(f"cannot resume: {path} does not exist (is --out the run directory?)")
    ckpt = load_checkpoint(path, backend=backend)
    if "config" not in ckpt.training:
        raise CLIError(f"{path}: this checkpoint has no training configuration (it was not written by "
                       "'xpnet train'), so it cannot be resumed from the command line")
    config = TrainConfig.from_dict(ckpt.training["config"])
    if opts["epochs"] is not None:
        config.epochs = opts["epochs"]
    if config.schedule == "cosine" and ckpt.model.optimizer is not None:
        from .optim import Cosine

        ckpt.model.optimizer.schedule = Cosine(epochs=config.epochs)  # the (new) length of the run
    if opts["dataset"] or opts["data_path"]:
        spec = _data_spec(opts["dataset"], opts["data_path"])
    else:
        spec = config.data
    data_dir = str(opts["data_dir"]) if opts["data_dir"] else ckpt.training.get("data_dir")
    dataset = _load_data(spec, data_dir, console)
    saved = ckpt.dataset.get("checksums") or {}
    if saved and dataset.checksums and saved != dict(dataset.checksums):
        raise CLIError(f"the data at {spec} differs from the data this run was trained on (SHA-256 "
                       "checksums do not match); resume with the same data or start a new run")
    config.data = spec
    splits = prepare_splits(dataset, config.val_split, config.seed)
    console.print(f"Resuming [bold]{_esc(run_dir)}[/] at epoch {ckpt.model.epoch + 1}"
                  + (f", step {ckpt.model.batch + 1}" if ckpt.model.batch else "")
                  + f" of {config.epochs}.")
    return _Setup(config, run_dir, dataset, spec, data_dir, splits, ckpt.preprocessing, ckpt.model, True)


def _print_setup(console, setup: _Setup, backend) -> None:
    c, m, s = setup.config, setup.model, setup.splits
    batch = "full batch" if c.batch_size is None else f"batch {c.batch_size}"
    rows = [
        ("run", f"{setup.run_dir}"),
        ("data", setup.dataset.summary()),
        *[("", note) for note in s.notes],
        ("split", f"{len(s.x_train):,} train / {len(s.x_val):,} validation / {len(s.x_test):,} test"),
        ("model", f"{'-'.join(map(str, m.sizes))} {m.activation}, {m.init} init, {m.dtype_name} "
                  f"({m.n_params:,} parameters)"),
        ("training", f"{c.describe_optimizer()}; {c.epochs} epochs, {batch}; "
                     f"inputs: {setup.preprocessing.describe()}  [preset {c.preset}]"),
        ("backend", f"{backend.spec} ({backend.device_name})"),
    ]
    for key, value in rows:
        console.print(f"[bold]{key:<9}[/]{_esc(value)}")


def _callback_base():
    from .model import Callback

    return Callback


class _ConsoleProgress(_callback_base()):
    """A Callback: a progress bar over the steps (advanced without touching the device) and a
    table row after every ``log_every`` epochs."""

    def __init__(self, console, target_epochs: int, log_every: int | None, sigint_state: dict):
        self.console = console
        self.target = target_epochs
        self.log_every = log_every or (1 if target_epochs <= 50 else max(1, target_epochs // 25))
        self.sigint_state = sigint_state
        self.progress = None
        self.task = None
        self.n_batches = 0

    def on_train_begin(self, model, epochs, n_batches):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        if self.sigint_state.get("interrupted"):  # Ctrl-C before fit started its loop
            model.stop_training = True
        if self.progress is not None:  # training proceeds one fit() per epoch (augmentation)
            return
        self.n_batches = n_batches
        steps = max(0, (self.target - model.epoch) * n_batches - model.batch)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("steps"), TimeElapsedColumn(), TextColumn("eta"),
                                 TimeRemainingColumn(), console=self.console, transient=True,
                                 disable=not self.console.is_terminal)
        self.progress.start()
        self.task = self.progress.add_task(f"epoch {model.epoch + 1}/{self.target}", total=steps)
        self.console.print(f"[bold]{'epoch':>7} {'loss':>9} {'accuracy':>9} {'val loss':>9} "
                           f"{'val acc':>9} {'time':>8}[/]")

    def on_epoch_begin(self, model, epoch):
        self.progress.update(self.task, description=f"epoch {epoch + 1}/{self.target}")

    def on_batch_end(self, model, epoch, batch, n_batches):
        self.progress.advance(self.task)

    def on_epoch_end(self, model, epoch, logs):
        e = epoch + 1
        if e % self.log_every == 0 or e == self.target or e == 1:
            self.console.print(self.row(logs))

    @staticmethod
    def row(logs) -> str:
        def num(v):
            return f"{v:>9.4f}" if v is not None else f"{'-':>9}"

        return (f"{logs['epoch']:>7} {num(logs['loss'])} {num(logs['accuracy'])} {num(logs['val_loss'])} "
                f"{num(logs['val_accuracy'])} {logs.get('epoch_time', 0.0):>7.1f}s")

    def close(self):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def _evaluate_arrays(model, preprocessing, x_raw, y) -> dict:
    """Accuracy, loss, predictions, confidence and confusion matrix on raw test images."""
    from .metrics import confusion_matrix, per_class_metrics

    X = x_raw if model.preprocessing is not None else preprocessing.transform(x_raw, model.dtype_name)
    result = model.evaluate(X, y)
    proba = model.backend.to_numpy(model.predict_proba(X))
    pred = proba.argmax(axis=1)
    cm = confusion_matrix(y, pred, model.sizes[-1])
    return {"accuracy": float(np.mean(pred == y)), "loss": float(result["loss"]), "n": int(len(y)),
            "pred": pred, "confidence": proba.max(axis=1), "confusion_matrix": cm,
            "per_class": per_class_metrics(cm)}


def _fit_and_report(ctx, console, setup: _Setup, backend, opts, timer) -> int:
    from .checkpoint import CheckpointError, read_manifest, save
    from .fileio import write_json
    from .model import TrainingDiverged
    from .training import (CHECKPOINT_NAME, METRICS_NAME, CheckpointEveryEpoch, dataset_record,
                           stop_on_sigint, train_epochs)

    config, model, splits, pre = setup.config, setup.model, setup.splits, setup.preprocessing
    run_dir = setup.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = run_dir / CHECKPOINT_NAME
    training = _training_record(setup, backend)
    data_rec = dataset_record(setup.dataset, setup.data_spec, splits)
    dtype = model.dtype_name
    validation = (splits.x_val, splits.y_val) if len(splits.x_val) else None  # raw: the model scales
    saver = CheckpointEveryEpoch(ckpt_path, lambda: {"preprocessing": pre, "training": training,
                                                      "dataset": data_rec}, opts["save_every"])
    optimizer = None if (setup.resumed and model.optimizer is not None) else config.make_optimizer()
    if setup.resumed and model.epoch >= config.epochs:
        console.print(f"The run has already trained {model.epoch} epochs (pass --epochs N to train "
                      "longer); evaluating it again.")

    def on_ctrl_c():
        sys.stderr.write("\nCtrl-C: finishing this step, then saving a checkpoint "
                         "(press Ctrl-C again to abort without saving)\n")
        sys.stderr.flush()

    train_start = time.perf_counter()
    status = "completed"
    diverged = None
    with stop_on_sigint(model, on_ctrl_c) as sig:
        reporter = _ConsoleProgress(console, config.epochs, opts["log_every"], sig)
        try:
            train_epochs(model, splits.x_train, splits.y_train, pre, config, optimizer, validation,
                         callbacks=[reporter, saver], should_stop=lambda: sig["interrupted"])
        except TrainingDiverged as exc:
            status, diverged = "diverged", exc
        finally:
            reporter.close()
        if status == "completed" and (model.history.interrupted or model.epoch < config.epochs):
            status = "interrupted"
    train_seconds = time.perf_counter() - train_start

    metrics: dict[str, Any] = {
        "status": status, "xpnet_version": __version__, "config": config.to_dict(),
        "model": model.get_config(), "n_params": model.n_params,
        "preprocessing": pre.get_config(), "backend": {"spec": backend.spec, "device": backend.device_name},
        "versions": _versions(backend), "dataset": data_rec,
        "progress": {"epoch": model.epoch, "batch": model.batch},
        "history": model.history.to_dict(), "train_seconds": train_seconds,
    }
    if status == "diverged":
        metrics["wall_seconds"] = timer()
        write_json(run_dir / METRICS_NAME, metrics)
        try:
            last = f"epoch {read_manifest(ckpt_path)['progress']['epoch']}"
        except (CheckpointError, KeyError, TypeError):
            last = "none"
        lr = config.lr
        _err(f"Training diverged: {diverged}")
        _err(f"Kept the last good checkpoint ({last}) in {ckpt_path}. Try a lower learning rate, "
             f"e.g. --lr {lr / 10:g}.")
        return EXIT_FAILURE
    if status == "interrupted":
        try:
            save(model, ckpt_path, preprocessing=pre, training=training, dataset=data_rec)
            where = f"epoch {model.epoch + 1}, step {model.batch}/{reporter.n_batches}" if model.batch \
                else f"the end of epoch {model.epoch}"
            saved = f"saved a checkpoint at {where} in {ckpt_path}"
        except CheckpointError as exc:
            saved = f"did not save ({exc}); the last good checkpoint is kept"
        metrics["wall_seconds"] = timer()
        write_json(run_dir / METRICS_NAME, metrics)
        _err(f"Interrupted: {saved}.")
        _err(f"Continue with: xpnet train --resume --out {run_dir}")
        return EXIT_INTERRUPTED

    # -- completed: test, final checkpoint, metrics, plots --------------------------------------
    result = _evaluate_arrays(model, pre, splits.x_test, splits.y_test)
    metrics["test"] = {"accuracy": result["accuracy"], "loss": result["loss"], "n": result["n"],
                       "per_class": result["per_class"],
                       "confusion_matrix": result["confusion_matrix"].tolist()}
    ckpt_metrics = {"test_accuracy": result["accuracy"], "test_loss": result["loss"], "n_test": result["n"]}
    save(model, ckpt_path, preprocessing=pre, training=training, dataset=data_rec, metrics=ckpt_metrics)
    written = [CHECKPOINT_NAME, METRICS_NAME]
    if opts["plots"]:
        written += _training_plots(run_dir, model, setup, splits, result)
    metrics["plots"] = written[2:]
    metrics["wall_seconds"] = timer()
    write_json(run_dir / METRICS_NAME, metrics)
    console.print(f"[bold]test accuracy {result['accuracy']:.4f}[/] on {result['n']:,} images "
                  f"(loss {result['loss']:.4f}) · trained in {_fmt_time(train_seconds)} · "
                  f"wall time {_fmt_time(timer())}")
    console.print(f"wrote {_esc(run_dir)}/: {', '.join(written)}")
    return EXIT_OK


def _versions(backend) -> dict:
    import platform

    import array_api_compat

    versions = {"xpnet": __version__, "python": platform.python_version(), "numpy": np.__version__,
                "array_api_compat": array_api_compat.__version__}
    if backend.name != "numpy":
        try:
            versions[backend.name] = str(__import__(backend.name).__version__)
        except Exception:  # pragma: no cover
            pass
    return versions


def _training_plots(run_dir: Path, model, setup: _Setup, splits, result) -> list[str]:
    from . import plots

    names = list(setup.dataset.class_names)
    title = f"{setup.dataset.name}: {'-'.join(map(str, model.sizes))}"
    written = []
    plots.plot_history(model.history, run_dir / "curves.png", title=title)
    written.append("curves.png")
    plots.plot_confusion_matrix(result["confusion_matrix"], names, run_dir / "confusion_matrix.png")
    written.append("confusion_matrix.png")
    plots.plot_misclassified(splits.x_test, splits.y_test, result["pred"], names,
                             run_dir / "misclassified.png", confidence=result["confidence"])
    written.append("misclassified.png")
    if plots.plot_first_layer(model.numpy_params()["W1"], run_dir / "first_layer_weights.png") is not None:
        written.append("first_layer_weights.png")
    return written


# ================================================================================================
# evaluate
# ================================================================================================
def _checkpoint_path(path: Path) -> Path:
    from .training import CHECKPOINT_NAME

    return path / CHECKPOINT_NAME if path.is_dir() and (path / CHECKPOINT_NAME).is_file() else path


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, path_type=Path))
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist"]), help="Evaluate on a known dataset.")
@click.option("--data", "data_path", type=click.Path(exists=True, path_type=Path),
              help="Evaluate on local data (IDX directory, Kaggle CSV, .npz).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Dataset cache directory.")
@click.option("--backend", metavar="SPEC", help="Backend to run on (default: $XPNET_BACKEND, else auto).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the confusion-matrix PNG (default: confusion_matrix-<data>.png next to MODEL).")
def evaluate(model_path: Path, dataset, data_path, data_dir, backend, plot_path) -> None:
    """Measure a trained model: accuracy, per-class precision/recall, confusion matrix.

    MODEL is a checkpoint (model.npz) or a run directory. Without --dataset/--data the model
    is evaluated on the test part of the data it was trained on (for data with one labeled
    split, the same held-out images as in training).

    \b
    Examples:
      xpnet evaluate runs/fashion-mnist-20250101-120000
      xpnet evaluate model.npz --data ~/data/mnist-t10k
      xpnet evaluate model.npz --dataset mnist --plot cm.png
    """
    from rich.table import Table

    from . import plots
    from .checkpoint import load_checkpoint
    from .training import test_split

    console = _console()
    ckpt = load_checkpoint(_checkpoint_path(model_path), backend=backend)
    model = ckpt.model
    if dataset or data_path:
        spec = _data_spec(dataset, data_path)
    else:
        spec = (ckpt.training.get("config") or {}).get("data") or ckpt.dataset.get("spec")
        if not spec:
            raise click.UsageError("the checkpoint does not say which data it was trained on; "
                                   "give --dataset or --data")
    ddir = str(data_dir) if data_dir else ckpt.training.get("data_dir")
    data = _load_data(spec, ddir, console)
    if data.n_classes != model.sizes[-1]:
        raise CLIError(f"the data has {data.n_classes} classes but the model predicts {model.sizes[-1]}")
    same = bool(data.checksums) and dict(data.checksums) == (ckpt.dataset.get("checksums") or {})
    if same:
        x, y, which = test_split(data, ckpt.dataset.get("split"))
    elif data.x_test is not None and data.y_test is not None:
        x, y, which = data.x_test, data.y_test, f"the test split ({data.n_test:,} images)"
    elif data.x_train is not None:
        x, y, which = data.x_train, data.y_train, f"all {data.n_train:,} labeled images"
    else:
        raise CLIError(f"{spec}: the data has no labels to evaluate against")
    result = _evaluate_arrays(model, ckpt.preprocessing, x, y)
    names = ckpt.class_names if len(ckpt.class_names) == data.n_classes else list(data.class_names)
    console.print(f"[bold]{_esc(ckpt.path)}[/]: {'-'.join(map(str, model.sizes))} {model.activation}, "
                  f"trained {model.epoch} epochs on {_esc(ckpt.dataset.get('name', '?'))}")
    console.print(f"Evaluating on {_esc(data.name)}: {which}.")
    console.print(f"[bold]accuracy {result['accuracy']:.4f}[/] ({int(np.trace(result['confusion_matrix'])):,}"
                  f" of {result['n']:,} correct) · loss {result['loss']:.4f}")

    table = Table(title="Per class", title_justify="left")
    for col in ("class", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for row in result["per_class"]:
        table.add_row(f"{row['class']} {_esc(names[row['class']])}" if names[row['class']] != str(row['class'])
                      else str(row['class']),
                      f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}", f"{row['support']:,}")
    console.print(table)

    cm = result["confusion_matrix"]
    cmt = Table(title="Confusion matrix (rows: true class, columns: predicted)", title_justify="left")
    cmt.add_column("true", justify="right")
    for j in range(cm.shape[1]):
        cmt.add_column(str(j), justify="right")
    for i in range(cm.shape[0]):
        cmt.add_row(str(i), *[f"[bold]{v}[/]" if i == j else (str(v) if v else "[dim]·[/]")
                              for j, v in enumerate(cm[i])])
    console.print(cmt)
    if plot_path is None:
        label = "".join(c if c.isalnum() or c in "-_" else "-" for c in data.name)
        plot_path = ckpt.path.parent / f"confusion_matrix-{label}.png"
    plots.plot_confusion_matrix(cm, names, plot_path)
    console.print(f"wrote {_esc(plot_path)}")


# ================================================================================================
# predict
# ================================================================================================
@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, path_type=Path))
@click.argument("files", metavar="FILE...", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--top", type=click.IntRange(min=1), default=3, show_default=True,
              help="How many of the most probable classes to show.")
@click.option("--limit", type=click.IntRange(min=0), default=10, show_default=True,
              help="Rows of a CSV to show (0: all).")
@click.option("--kaggle-submission", "submission", type=click.Path(dir_okay=False, path_type=Path),
              help="With a Kaggle test.csv: write the competition's ImageId,Label file here.")
@click.option("--backend", metavar="SPEC", help="Backend to run on (default: $XPNET_BACKEND, else auto).")
def predict(model_path: Path, files, top, limit, submission, backend) -> None:
    """Predict the class of images (PNG, JPEG, ...) or of the rows of a CSV file.

    Images may have any size and colours: they are converted to grayscale, inverted when the
    background is light, and (unless already 28x28) cropped to the digit, scaled to 20x20 and
    centred in 28x28 like MNIST. CSV files are in the Kaggle Digit Recognizer format
    (pixel0..pixel783, with or without a label column; if labelled, the accuracy is shown).

    \b
    Examples:
      xpnet predict runs/mnist-20250101-120000 my_digit.png photo.jpg
      xpnet predict model.npz test.csv --limit 20
      xpnet predict model.npz test.csv --kaggle-submission submission.csv
    """
    from rich.table import Table

    from .checkpoint import load_checkpoint
    from .datasets import read_kaggle_csv
    from .fileio import atomic_write
    from .images import load_image

    console = _console()
    csvs = [f for f in files if f.name.lower().endswith((".csv", ".csv.gz"))]
    images = [f for f in files if f not in csvs]
    if submission is not None and (len(csvs) != 1 or images):
        raise click.UsageError("--kaggle-submission needs exactly one CSV file (the Kaggle test.csv) "
                               "and no images")
    ckpt = load_checkpoint(_checkpoint_path(model_path), backend=backend)
    model, pre, names = ckpt.model, ckpt.preprocessing, ckpt.class_names
    if model.sizes[0] != 784:
        raise CLIError(f"the model takes {model.sizes[0]} inputs, not 28x28 = 784 pixel images")
    top = min(top, model.sizes[-1])

    def probabilities(x_raw):
        X = x_raw if model.preprocessing is not None else pre.transform(x_raw, model.dtype_name)
        return model.backend.to_numpy(model.predict_proba(X))

    def top_text(p):
        order = np.argsort(-p)[:top]
        return ", ".join(f"{_esc(names[k])} {p[k]:.1%}" for k in order)

    if images:
        x = np.stack([load_image(f) for f in images])
        proba = probabilities(x)
        table = Table(title_justify="left")
        table.add_column("file", overflow="fold")
        for col in ("prediction", f"top {top} probabilities"):
            table.add_column(col)
        for f, p in zip(images, proba):
            table.add_row(_esc(f), f"[bold]{_esc(names[int(p.argmax())])}[/]", top_text(p))
        console.print(table)
    for f in csvs:
        x, y = read_kaggle_csv(f)
        proba = probabilities(x)
        pred = proba.argmax(axis=1)
        shown = len(x) if limit == 0 else min(limit, len(x))
        table = Table(title=f"{_esc(f)}: {len(x):,} rows" + (f" (first {shown})" if shown < len(x) else ""),
                      title_justify="left")
        for col in ("row", *(["label"] if y is not None else []), "prediction", f"top {top} probabilities"):
            table.add_column(col)
        for i in range(shown):
            table.add_row(str(i + 1), *([_esc(names[int(y[i])])] if y is not None else []),
                          f"[bold]{_esc(names[int(pred[i])])}[/]", top_text(proba[i]))
        console.print(table)
        if y is not None:
            console.print(f"accuracy on the {len(y):,} labelled rows: {float(np.mean(pred == y)):.4f}")
        if submission is not None:
            with atomic_write(submission, "w", encoding="utf-8") as out:
                out.write("ImageId,Label\n")
                out.writelines(f"{i},{int(label)}\n" for i, label in enumerate(pred, start=1))
            console.print(f"wrote {_esc(submission)} ({len(pred):,} predictions, ImageId,Label)")


# ================================================================================================
# gradcheck
# ================================================================================================
@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option("--backend", metavar="SPEC", help="Backend to check (default: $XPNET_BACKEND, else auto).")
@click.option("--sizes", type=IntList(min_items=2), default="784,32,10", show_default=True,
              help="Layer widths of the network to check.")
@click.option("--activation", type=click.Choice(sorted(ACTIVATIONS)), default="relu", show_default=True)
@click.option("--samples", type=click.IntRange(min=1), default=8, show_default=True,
              help="Batch size of the random data.")
@click.option("--max-entries", type=click.IntRange(min=1), default=64, show_default=True,
              help="Entries checked per parameter (chosen at random).")
@click.option("--eps", type=click.FloatRange(min=0, min_open=True), default=1e-6, show_default=True,
              help="Finite-difference step.")
@click.option("--tol", type=click.FloatRange(min=0, min_open=True), default=1e-7, show_default=True,
              help="Largest accepted relative error.")
@click.option("--seed", type=int, default=0, show_default=True)
def gradcheck(backend, sizes, activation, samples, max_entries, eps, tol, seed) -> None:
    """Compare backprop gradients with central finite differences, parameter by parameter.

    Runs in float64 on random data; prints a table and PASSED or FAILED (exit code 1).

    \b
    Examples:
      xpnet gradcheck
      xpnet gradcheck --backend gpu --sizes 784,64,32,10 --activation tanh
    """
    from rich.table import Table

    from .gradcheck import gradcheck as run_gradcheck
    from .model import MLP

    console = _console()
    model = MLP(sizes, activation=activation, backend=backend, seed=seed, dtype="float64")
    rng = np.random.default_rng(seed)
    X = rng.random((samples, sizes[0]))
    y = rng.integers(0, sizes[-1], samples)
    start = time.perf_counter()
    report = run_gradcheck(model, X, y, eps=eps, tol=tol, max_entries=max_entries, seed=seed)
    seconds = time.perf_counter() - start
    console.print(f"gradcheck: {'-'.join(map(str, sizes))} {activation} on {_esc(model.backend)}, "
                  f"{samples} samples, float64, eps {eps:g}, tol {tol:g}")
    table = Table()
    for col, just in (("param", "left"), ("shape", "left"), ("checked", "right"),
                      ("max |fd − bp|", "right"), ("rel error", "right"), ("result", "left")):
        table.add_column(col, justify=just)
    for p in report.parameters:
        table.add_row(p.name, str(p.shape), str(p.n_checked), f"{p.max_abs_error:.2e}", f"{p.rel_error:.2e}",
                      "[green]ok[/]" if p.passed else "[red]FAIL[/]")
    console.print(table)
    console.print(f"directional derivative (all parameters): rel error {report.directional_rel_error:.2e}"
                  f" · smallest |Z| {report.min_abs_preactivation:.1e} · {seconds:.1f}s")
    if report.passed:
        console.print("[bold green]PASSED[/]")
        return
    console.print("[bold red]FAILED[/]")
    if activation in ("relu", "leaky_relu") and report.min_abs_preactivation < 10 * eps:
        console.print("Note: a pre-activation lies within 10·eps of the ReLU kink; a finite difference "
                      "across it measures the wrong slope. Try another --seed.")
    click.get_current_context().exit(EXIT_FAILURE)


# ================================================================================================
# bench (from xpnet.bench, when present)
# ================================================================================================
try:
    from .bench import bench_command
except ImportError:  # the benchmark module is optional
    pass
else:
    cli.add_command(bench_command, "bench")

# serve: the drawing page (its web packages are the optional `serve` extra; the command says so)
from .serve.command import serve_command  # noqa: E402

cli.add_command(serve_command, "serve")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI and return its exit code."""
    return cli.main(args=argv, prog_name="xpnet", standalone_mode=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
