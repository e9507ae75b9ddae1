"""The ``xpnet`` command line: ``info``, ``train``, ``evaluate``, ``predict``, ``gradcheck``, ``bench``.

Options, exit codes and calls into the library ([`xpnet.runs`][xpnet.runs] runs training);
[`xpnet.cli.output`][xpnet.cli.output] renders the results with rich. Exit codes: 0 success; 1 the work
failed (training diverged, a gradient check failed) or a bug in xpnet (any unexpected error:
rerun with ``--debug`` and report it); 2 bad usage or input (every
[`XpnetError`][xpnet.errors.XpnetError] and ``OSError``: one line, no traceback); 130 Ctrl-C (``train``
saves a checkpoint first); 141 the output pipe closed early (``xpnet info | head -1``).
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import click
import numpy as np
from click.core import ParameterSource

from .. import __version__
from ..activations import ACTIVATIONS
from ..backend import BACKEND_FORMS
from ..errors import XpnetError
from ..init import INITIALIZERS
from ..runs.config import parse_batch_size
from . import output as out

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 130, 141

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
BUG_HINT = "this is a bug in xpnet; rerun with --debug and report it"

_state: dict[str, Any] = {"debug": False}


class CLIError(XpnetError, click.ClickException):
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
    """A positive integer, or ``full`` for full-batch gradient descent ([`xpnet.runs.config.parse_batch_size`][xpnet.runs.config.parse_batch_size])."""

    name = "N|full"

    def convert(self, value, param, ctx):
        if value is None or isinstance(value, int) or value == "full":
            return value
        try:
            n = parse_batch_size(value)
        except XpnetError as exc:
            self.fail(str(exc), param, ctx)
        return "full" if n is None else n


def resolve_backend(spec: str | None):
    """The [`Backend`][xpnet.backend.Backend] for ``--backend`` (``None``: ``$XPNET_BACKEND``, else auto).

    The spec is read by [`parse_backend_spec`][xpnet.backend.parse_backend_spec], so a malformed
    one gets the list of valid forms and the message says where it came from (``--backend`` or
    ``$XPNET_BACKEND``).
    """
    from ..backend import get_backend, parse_backend_spec

    return get_backend(None if spec is None else parse_backend_spec(spec, "--backend"))


def _backend_option(ctx, param, value):
    return resolve_backend(value)


BACKEND_HELP = f"Backend: {BACKEND_FORMS} (default: $XPNET_BACKEND, else auto)."


# -- the group and error handling ----------------------------------------------------------------
class XpnetGroup(click.Group):
    """A click group whose ``main`` turns every failure into one message and an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        _state.update(debug="--debug" in args, verbose=0)
        code = _run(self, args, prog_name or "xpnet", complete_var, extra)
        if standalone_mode:
            sys.exit(code)
        return code


_err = out.err


def _debug_traceback() -> None:
    if _state["debug"]:
        traceback.print_exc()


def _quiet_stdout() -> None:
    """After a broken pipe: send further output (and the final flush) to /dev/null."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, (sys.__stdout__ or sys.stdout).fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests)
        pass


def _run(group: click.Group, args: list, prog_name: str, complete_var, extra) -> int:
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
    except BrokenPipeError:  # the reader went away (`xpnet info | head -1`): stop quietly
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except SystemExit:  # click's own answer to a closed pipe is a silent exit 1
        if type(sys.stdout).__name__ != "_PacifyFlushWrapper":
            raise
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except click.UsageError as exc:
        _debug_traceback()
        where = exc.ctx.command_path if exc.ctx is not None else prog_name
        hint = f" (see '{where} --help')" if exc.ctx is not None else ""
        _err(f"Error: {_one_line(exc.format_message())}{hint}")
        return EXIT_USAGE
    except click.ClickException as exc:
        _debug_traceback()
        _err(f"Error: {exc.format_message()}")
        return exc.exit_code
    except (XpnetError, OSError) as exc:
        _debug_traceback()
        _err(f"Error: {_one_line(str(exc)) or type(exc).__name__}")
        return EXIT_USAGE
    except Exception as exc:
        if _state["debug"]:
            traceback.print_exc()
        _err(f"Error: unexpected {type(exc).__name__}: {_one_line(str(exc))} ({BUG_HINT})")
        return EXIT_FAILURE


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@click.group(cls=XpnetGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="xpnet")
@click.option("--debug", is_flag=True, help="Show the full traceback when something fails.")
@click.option("-v", "--verbose", count=True, help="Log more: -v for progress details, -vv for debugging.")
def cli(debug: bool, verbose: int) -> None:
    """xpnet: a neural network written once against the Python Array API standard.

    It trains on NumPy (CPU) and CuPy (CUDA GPU) with the same code.

    \b
    Examples:
      xpnet info                                   # backends, devices, what 'auto' picks
      xpnet train --dataset fashion-mnist          # download, train, write runs/<name>-<time>/
      xpnet evaluate runs/fashion-mnist-*/model.npz
      xpnet predict runs/mnist-*/model.npz digit.png

    Exit codes: 0 success, 1 failure (diverged, gradcheck failed, or a bug in xpnet),
    2 bad usage or input, 130 interrupted (Ctrl-C).
    """
    _state["debug"] = debug
    _state["verbose"] = verbose
    out.setup_logging(verbose)


def _data_spec(dataset: str | None, data_path: Path | None) -> str | None:
    if dataset and data_path:
        raise click.UsageError("give either --dataset or --data, not both")
    if data_path is not None:
        return str(data_path.expanduser().resolve())
    return dataset


# -- info -------------------------------------------------------------------------------------------
@cli.command(context_settings=CONTEXT_SETTINGS)
def info() -> None:
    """Show the version, the installed backends and devices, and what 'auto' picks.

    \b
    Examples:
      xpnet info
      XPNET_BACKEND=cpu xpnet info
    """
    from ..backend import ENV_VAR, available_backends
    from ..datasets.cache import data_root
    from ..datasets.sources import KNOWN_DATASETS
    from ..environment import auto_backend, blas_threads, versions

    auto, why = auto_backend()
    env = os.environ.get(ENV_VAR)
    if not env:
        env_line = f"${ENV_VAR} is not set: commands use 'auto' unless given --backend."
    else:
        try:  # resolved the way every command resolves it, not passed as an argument
            env_line = f"${ENV_VAR}={env} → {resolve_backend(None)} (used when --backend is not given)"
        except XpnetError as exc:
            env_line = f"${ENV_VAR}={env} → unusable: {exc}"
    root = data_root()
    cached = [name for name, ds in KNOWN_DATASETS.items() if all((root / ds.name / f.name).is_file() for f in ds.files)]
    blas = blas_threads()
    extra = [f"CPU math: {blas}; {os.cpu_count()} CPUs"] if blas else []
    extra.append(f"Data directory: {root} (--data-dir or $XPNET_DATA_DIR); cached: {', '.join(cached) or 'none'}")
    out.print_info(out.console(), versions(), available_backends(), auto, why, env_line, extra)


# -- train ------------------------------------------------------------------------------------------
_FRESH_ONLY = (
    "preset",
    "hidden",
    "activation",
    "init",
    "optimizer",
    "lr",
    "weight_decay",
    "momentum",
    "schedule",
    "batch_size",
    "standardize",
    "shift",
    "dtype",
    "seed",
    "val_split",
)


def _explicit(ctx: click.Context, names) -> list[str]:
    sources = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    return [n for n in names if ctx.get_parameter_source(n) in sources]


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--dataset",
    type=click.Choice(["mnist", "fashion-mnist"]),
    help="A known dataset, downloaded (and cached) on first use. Default: mnist.",
)
@click.option(
    "--data",
    "data_path",
    type=click.Path(exists=True, path_type=Path),
    help="Local data instead: a directory of IDX files (gzipped or not), a Kaggle "
    "train.csv[.gz], or an .npz with x_train/y_train/x_test/y_test.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache directory for downloaded datasets (default: $XPNET_DATA_DIR, else the user cache directory).",
)
@click.option(
    "--preset",
    type=click.Choice(["default", "tutorial"]),
    default="default",
    show_default=True,
    help="default: 784-1024-512-10, AdamW (weight decay 0.1) + cosine, 20 epochs of batch "
    "128, standardised inputs shifted by up to 1 pixel. tutorial: the tutorial exactly "
    "(784-10-10, uniform init, full-batch gradient descent, lr 0.1, 500 iterations). "
    "Options below override it.",
)
@click.option("--hidden", type=IntList(), help="Hidden layer widths, e.g. 256,128 ('none': no hidden layer).")
@click.option("--activation", type=click.Choice(sorted(ACTIVATIONS)), help="Hidden activation.")
@click.option("--init", type=click.Choice(list(INITIALIZERS)), help="Weight initialisation.")
@click.option("--optimizer", type=click.Choice(["sgd", "adam", "adamw"]), help="Update rule.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), help="Learning rate.")
@click.option(
    "--weight-decay",
    type=click.FloatRange(min=0),
    help="Weight decay (L2 for sgd/adam, decoupled for adamw).",
)
@click.option("--momentum", type=click.FloatRange(0, 1, max_open=True), help="Momentum (sgd only).")
@click.option("--schedule", type=click.Choice(["constant", "step", "cosine"]), help="Learning-rate schedule.")
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs to train (with --resume: the new total).")
@click.option("--batch-size", type=BatchSize(), help="Samples per step, or 'full' for full-batch gradient descent.")
@click.option(
    "--standardize/--no-standardize",
    default=None,
    help="Standardise the scaled pixels with the training set's mean and std.",
)
@click.option(
    "--shift",
    type=click.IntRange(0, 4),
    metavar="PIXELS",
    help="Augmentation: move each training image by a random 0..PIXELS pixels per epoch (0: off).",
)
@click.option("--backend", metavar="SPEC", callback=_backend_option, help=BACKEND_HELP)
@click.option("--dtype", type=click.Choice(["float32", "float64"]), help="Floating-point type (default float32).")
@click.option("--seed", type=int, help="Seeds the weights, the shuffling and the data splits (default 0).")
@click.option(
    "--val-split",
    type=click.FloatRange(0, 1, max_open=True),
    help="Fraction of the training data held out for validation (default 0.1).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run directory (default: runs/<data>-<YYYYmmdd-HHMMSS>).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the run in --out (default: the newest run under runs/) from its checkpoint.",
)
@click.option("--overwrite", is_flag=True, help="Start the run in --out over when it holds one already.")
@click.option("--plots/--no-plots", default=True, show_default=True, help="Write the PNG plots.")
@click.option(
    "--save-every",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Save a checkpoint at the end of an epoch at most this often (0: every epoch). "
    "Ctrl-C and the end of training always save.",
)
@click.option(
    "--log-every",
    type=click.IntRange(min=1),
    help="Print a table row every N epochs (default: every epoch up to 50 epochs).",
)
@click.pass_context
def train(ctx: click.Context, **opts) -> None:
    """Train a network and write the model, metrics.json and plots into a run directory.

    Shows a progress bar over the batches, one table row per epoch and the final test
    accuracy. When the data has no training split (e.g. a directory with only the t10k
    files), 20% of it (chosen with --seed) becomes the test set and the rest is trained on;
    --val-split is then taken from that rest. The default run (20 epochs) took 5m37s on
    Fashion-MNIST on a 2-core CPU.

    Ctrl-C finishes the current step, saves a checkpoint and exits with 130; continue with
    --resume. A NaN/infinite loss stops training (exit 1), keeps the last good checkpoint and
    suggests a learning rate to start over with (--overwrite).

    \b
    Examples:
      xpnet train                                     # MNIST, default preset
      xpnet train --dataset fashion-mnist --epochs 30
      xpnet train --data ~/data/mnist-t10k --val-split 0.2
      xpnet train --preset tutorial --data train.csv
      xpnet train --hidden 256,128 --optimizer sgd --momentum 0.9 --lr 0.05 --batch-size 64
      xpnet train --backend gpu --out runs/gpu-run
      xpnet train --resume --out runs/gpu-run          # continue after Ctrl-C
      xpnet train --overwrite --out runs/gpu-run --lr 3e-4   # start that run over
    """
    from ..runs import Run
    from ..runs.config import TrainConfig

    started = time.perf_counter()
    console, backend = out.console(), opts["backend"]
    spec = _data_spec(opts["dataset"], opts["data_path"])
    data_dir = str(opts["data_dir"]) if opts["data_dir"] else None
    if opts["resume"] and opts["overwrite"]:
        raise click.UsageError("--resume continues the run and --overwrite starts it over: give one of them")
    if opts["resume"]:
        fixed = _explicit(ctx, _FRESH_ONLY)
        if fixed:
            names = ", ".join("--" + n.replace("_", "-") for n in fixed)
            raise click.UsageError(
                f"{names}: cannot be changed when resuming, the run's checkpoint fixes the "
                "model, optimizer and data split; start it over with --overwrite (and the "
                "new settings) or start a new run"
            )
        run = Run.resume(
            opts["out"], epochs=opts["epochs"], data=spec, data_dir=data_dir, backend=backend, progress=True
        )
        if run.finished:
            out.report_finished(console, run)
            return
        console.print(
            f"Resuming [bold]{out.esc(run.run_dir)}[/] at epoch {run.model.epoch + 1}"
            + (f", step {run.model.batch + 1}" if run.model.batch else "")
            + f" of {run.config.epochs}."
        )
    else:
        overrides = {k: opts[k] for k in (*_FRESH_ONLY[1:], "epochs") if k != "batch_size"}
        config = TrainConfig.from_preset(opts["preset"], **overrides, data=spec or "mnist")
        if opts["batch_size"] is not None:
            config.batch_size = None if opts["batch_size"] == "full" else opts["batch_size"]
        run = Run.create(
            config,
            opts["out"],
            data_dir=data_dir,
            backend=backend,
            overwrite=opts["overwrite"],
            progress=True,
        )
    out.print_setup(console, run)
    run.model.backend.prepare_training()  # process-wide speed settings: xpnet train asks, MLP.fit does not

    def on_ctrl_c():
        sys.stderr.write(
            "\nCtrl-C: finishing this step, then saving a checkpoint (press Ctrl-C again to abort without saving)\n"
        )
        sys.stderr.flush()

    reporter = out.ConsoleProgress(console, run.config.epochs, opts["log_every"])
    try:
        result = run.train([reporter], plots=opts["plots"], save_every=opts["save_every"], on_sigint=on_ctrl_c)
    finally:
        reporter.close()
    out.report_run(console, result, time.perf_counter() - started, run.data_dir)
    ctx.exit({"completed": EXIT_OK, "interrupted": EXIT_INTERRUPTED}.get(result.status, EXIT_FAILURE))


# -- evaluate ---------------------------------------------------------------------------------------
def _checkpoint_path(path: Path) -> Path:
    from ..runs import find_checkpoint

    return find_checkpoint(path)


def _load_data(spec: str, data_dir: str | None):
    from ..runs import load_data

    return load_data(spec, data_dir, progress=True)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, path_type=Path))
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist"]), help="Evaluate on a known dataset.")
@click.option(
    "--data",
    "data_path",
    type=click.Path(exists=True, path_type=Path),
    help="Evaluate on local data (IDX directory, Kaggle CSV, .npz).",
)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Dataset cache directory.")
@click.option("--backend", metavar="SPEC", callback=_backend_option, help=BACKEND_HELP)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the confusion-matrix PNG (default: confusion_matrix-<data>.png next to MODEL).",
)
def evaluate(model_path: Path, dataset, data_path, data_dir, backend, plot_path) -> None:
    """Measure a trained model: accuracy, per-class precision/recall, confusion matrix.

    MODEL is a checkpoint (model.npz) or a run directory. Without --dataset/--data the model
    is evaluated on the test part of the data it was trained on (for data with one labelled
    split, the same held-out images as in training).

    \b
    Examples:
      xpnet evaluate runs/fashion-mnist-20250101-120000
      xpnet evaluate model.npz --data ~/data/mnist-t10k
      xpnet evaluate model.npz --dataset mnist --plot cm.png
    """
    from ..checkpoint import load_checkpoint
    from ..runs import check_trained, evaluate_model, plots
    from ..runs.splits import evaluation_split

    console = out.console()
    ckpt = load_checkpoint(_checkpoint_path(model_path), backend=backend)
    warning = check_trained(ckpt)  # refuses untrained weights (a run that diverged at once)
    model = ckpt.model
    spec = _data_spec(dataset, data_path) or (ckpt.training.get("config") or {}).get("data") or ckpt.dataset.get("spec")
    if not spec:
        raise click.UsageError("the checkpoint does not say which data it was trained on; give --dataset or --data")
    data = _load_data(spec, str(data_dir) if data_dir else ckpt.training.get("data_dir"))
    if data.n_classes != model.sizes[-1]:
        raise CLIError(f"the data has {data.n_classes} classes but the model predicts {model.sizes[-1]}")
    x, y, which = evaluation_split(data, ckpt.dataset)
    result = evaluate_model(model, ckpt.model_inputs(x), y)
    names = ckpt.class_names if len(ckpt.class_names) == data.n_classes else list(data.class_names)
    out.print_evaluation(console, ckpt, data, which, result, names, warning)
    cm = result["confusion_matrix"]
    if plot_path is None:
        label = "".join(c if c.isalnum() or c in "-_" else "-" for c in data.name)
        plot_path = ckpt.path.parent / f"confusion_matrix-{label}.png"
    plots.plot_confusion_matrix(cm, names, plot_path)
    console.print(f"wrote {out.esc(plot_path)}")


# -- predict ----------------------------------------------------------------------------------------
@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, path_type=Path))
@click.argument(
    "files",
    metavar="FILE...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="How many of the most probable classes to show.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Rows of a CSV to show (0: all).",
)
@click.option(
    "--kaggle-submission",
    "submission",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With a Kaggle test.csv: write the competition's ImageId,Label file here.",
)
@click.option(
    "--show-input",
    "show_input",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a PNG grid of the 28x28 images the network received, with its predictions.",
)
@click.option(
    "--pixels",
    type=click.Choice(["auto", "0-255", "0-1"]),
    default="auto",
    show_default=True,
    help="CSV pixel scale: 0-255 integers, 0-1 floats, or auto (0-1 when the values are fractions).",
)
@click.option("--backend", metavar="SPEC", callback=_backend_option, help=BACKEND_HELP)
def predict(model_path: Path, files, top, limit, submission, show_input, pixels, backend) -> int:
    """Predict the class of images (PNG, JPEG, ...) or of the rows of a CSV file.

    Images may be any picture of one digit: the paper is estimated and removed, the ink
    thresholded, the stroke brought to MNIST's width, and the digit scaled into 20x20 and
    centred in 28x28 by its centre of mass, like MNIST (a 28x28 image is used as it is). A
    blank picture or one with several separate marks is reported, not guessed at; unreadable
    images are listed at the end (exit status 2) and the others are still predicted. CSV files
    are Kaggle Digit Recognizer style (pixel0..pixel783, with or without a label column or a
    header row; if labelled, the accuracy is shown).

    \b
    Examples:
      xpnet predict runs/mnist-20250101-120000 my_digit.png photo.jpg
      xpnet predict model.npz drawing.png --show-input what-it-saw.png
      xpnet predict model.npz test.csv --limit 20
      xpnet predict model.npz test.csv --kaggle-submission submission.csv
    """
    from ..checkpoint import load_checkpoint
    from .predict import show_predictions

    csvs = [f for f in files if f.name.lower().endswith((".csv", ".csv.gz"))]
    images = [f for f in files if f not in csvs]
    if submission is not None and (len(csvs) != 1 or images):
        raise click.UsageError("--kaggle-submission needs exactly one CSV file (the Kaggle test.csv) and no images")
    if show_input is not None and not images:
        raise click.UsageError("--show-input needs at least one image file")
    ckpt = load_checkpoint(_checkpoint_path(model_path), backend=backend)
    model = ckpt.model
    if model.sizes[0] != 784:
        raise CLIError(f"the model takes {model.sizes[0]} inputs, not 28x28 = 784 pixel images")
    bad = sorted(k for k, v in model.numpy_params().items() if not np.isfinite(v).all())
    if bad:
        raise CLIError(
            f"{model_path}: the weights {', '.join(bad)} contain NaN or infinity (the training "
            "diverged), so every prediction would be meaningless; retrain with a lower --lr"
        )
    top = min(top, model.sizes[-1])
    failed = show_predictions(
        ckpt, images, csvs, top=top, limit=limit, submission=submission, show_input=show_input, pixels=pixels
    )
    if len(failed) == 1:
        _err(f"Error: {failed[0]}")
        return EXIT_USAGE
    if failed:
        _err(f"Error: {len(failed)} of {len(images)} images could not be used:")
        for message in failed:
            _err(f"  {message}")
        return EXIT_USAGE
    return EXIT_OK


# -- gradcheck --------------------------------------------------------------------------------------
@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option("--backend", metavar="SPEC", callback=_backend_option, help=BACKEND_HELP)
@click.option(
    "--sizes",
    type=IntList(min_items=2),
    default="784,32,10",
    show_default=True,
    help="Layer widths of the network to check.",
)
@click.option("--activation", type=click.Choice(sorted(ACTIVATIONS)), default="relu", show_default=True)
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Batch size of the random data.",
)
@click.option(
    "--max-entries",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Entries checked per parameter (chosen at random).",
)
@click.option(
    "--eps",
    type=click.FloatRange(min=0, min_open=True),
    default=1e-6,
    show_default=True,
    help="Finite-difference step.",
)
@click.option(
    "--tol",
    type=click.FloatRange(min=0, min_open=True),
    default=1e-7,
    show_default=True,
    help="Largest accepted relative error.",
)
@click.option("--seed", type=int, default=0, show_default=True)
def gradcheck(backend, sizes, activation, samples, max_entries, eps, tol, seed) -> None:
    """Compare backprop gradients with central finite differences, parameter by parameter.

    Runs in float64 on random data; prints a table and PASSED or FAILED (exit code 1).

    \b
    Examples:
      xpnet gradcheck
      xpnet gradcheck --backend gpu --sizes 784,64,32,10 --activation tanh
    """
    from ..gradcheck import gradcheck as run_gradcheck
    from ..model import MLP

    console = out.console()
    model = MLP(sizes, activation=activation, backend=backend, seed=seed, dtype="float64")
    rng = np.random.default_rng(seed)
    X = rng.random((samples, sizes[0]))
    y = rng.integers(0, sizes[-1], samples)
    start = time.perf_counter()
    report = run_gradcheck(model, X, y, eps=eps, tol=tol, max_entries=max_entries, seed=seed)
    seconds = time.perf_counter() - start
    out.print_gradcheck(
        console,
        report,
        f"gradcheck: {'-'.join(map(str, sizes))} {activation} on "
        f"{out.esc(model.backend)}, {samples} samples, float64, eps {eps:g}, tol {tol:g}",
        seconds,
    )
    if report.passed:
        return
    if activation in ("relu", "leaky_relu") and report.min_abs_preactivation < 10 * eps:
        console.print(
            "Note: a pre-activation lies within 10·eps of the ReLU kink; a finite difference "
            "across it measures the wrong slope. Try another --seed."
        )
    click.get_current_context().exit(EXIT_FAILURE)


# -- bench (from xpnet.bench, when present) ---------------------------------------------------------
try:
    from ..bench import bench_command
except ImportError:  # the benchmark module is optional
    pass
else:
    cli.add_command(bench_command, "bench")

# serve: the drawing page (its web packages are the optional `serve` extra; the command says so)
from ..serve.command import serve_command  # noqa: E402

cli.add_command(serve_command, "serve")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI and return its exit code."""
    return cli.main(args=argv, prog_name="xpnet", standalone_mode=False)
