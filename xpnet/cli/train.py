"""``xpnet train``: its options, turned into a [`TrainConfig`][xpnet.runs.config.TrainConfig], and the run.

The command checks what may go together (``--resume`` fixes the model, the optimizer and the
data split), sets up a [`Run`][xpnet.runs.Run] (new or resumed), trains it with a progress bar
([`xpnet.cli.output`][xpnet.cli.output]) and turns the run's status into the exit code: 0
completed, 130 interrupted (a checkpoint saved), 1 diverged.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import click
from click.core import ParameterSource

from ..augment.elastic import ELASTIC_DEFAULTS
from ..nn.activations import ACTIVATIONS
from ..nn.init import INITIALIZERS
from ..runs.config import AFFINE_RANGES, AUGMENTATIONS, PRESETS
from . import output as out
from .options import (
    BACKEND_HELP,
    CONTEXT_SETTINGS,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BatchSize,
    IntList,
    backend_option,
    data_spec,
)

__all__ = ["train"]

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
    "dropout",
    "ema",
    "swa_epochs",
    "augment",
    "flip",
    "rotation",
    "scale",
    "shear",
    "elastic",
    "elastic_sigma",
    "erase",
    "label_smoothing",
    "dtype",
    "seed",
    "val_split",
)


def _explicit(ctx: click.Context, names) -> list[str]:
    sources = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    return [n for n in names if ctx.get_parameter_source(n) in sources]


def _shown(name: str, value) -> str:
    """A setting's value as the command line writes it (``256,128``, ``full``, ``--no-flip``)."""
    if name in ("standardize", "flip"):
        return f"--{name}" if value else f"--no-{name}"
    if name == "hidden":
        return ",".join(map(str, value)) or "none"
    if name == "batch_size" and value is None:
        return "full"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _refuse_changes(ctx: click.Context, opts: dict, run) -> None:
    """On ``--resume``, refuse the options given whose value differs from the run's own (the
    checkpoint fixes the model, the optimizer and the data split); the same value is no change."""
    given = {n: opts[n] for n in _explicit(ctx, _FRESH_ONLY)}
    changed = run.config.differences(given, getattr(run.dataset, "name", None))
    if not changed:
        return
    lines = [
        f"--{n.replace('_', '-')}: the run has {_shown(n, own)}, the command says {_shown(n, new)}"
        for n, own, new in changed
    ]
    flags = " ".join("--" + n.replace("_", "-") for n, _, _ in changed)
    raise click.UsageError(
        "; ".join(lines) + f". The run's checkpoint fixes the model, optimizer and data split: drop {flags} "
        f"to continue it, start it over with --overwrite (and the new settings), or start a new run with "
        f"another --out than {run.run_dir}"
    )


@click.command(context_settings=CONTEXT_SETTINGS)
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
    type=click.Choice(list(PRESETS)),
    default="default",
    show_default=True,
    help="default: 784-512-256-10, AdamW (weight decay 0.1) + cosine, 50 epochs of batch "
    "128, standardised inputs, augmented every epoch (MNIST: random affine distortions; other "
    "data: shifts of up to 1 pixel). workstation: 784-2048-1024-10 with dropout 0.2 for 40 "
    "epochs, about 5-7x the default's training time and, as measured in docs/accuracy.md, "
    "hardly more accurate. "
    "tutorial: the tutorial exactly (784-10-10, uniform init, full-batch gradient descent, "
    "lr 0.1, 500 iterations). Options below override it.",
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
    help="Augmentation: move each training image by a random 0..PIXELS pixels per epoch (0: off); "
    "with --augment affine the largest (sub-pixel) shift.",
)
@click.option(
    "--augment",
    type=click.Choice(AUGMENTATIONS),
    help="How the training images change every epoch, on the device: 'shift' (random whole-pixel "
    "shifts of up to --shift pixels), 'affine' (random rotation, scaling, shear and "
    "sub-pixel shifts, for digits: ranges --rotation, --scale, --shear, --shift), 'none', or "
    "'auto' (the presets': affine for MNIST, shift for other data).",
)
@click.option(
    "--flip/--no-flip",
    default=None,
    help="Also mirror each training image left-right with probability 1/2 (pictures of things, "
    "e.g. Fashion-MNIST; not digits). With shift or none the pixels are only moved.",
)
@click.option(
    "--rotation",
    type=click.FloatRange(0, 180),
    metavar="DEGREES",
    help=f"--augment affine: largest rotation (default {AFFINE_RANGES['rotation']:g}).",
)
@click.option(
    "--scale",
    type=click.FloatRange(0, 1, max_open=True),
    metavar="FRACTION",
    help=f"--augment affine: images are scaled by 1 ± FRACTION at most (default {AFFINE_RANGES['scale']:g}).",
)
@click.option(
    "--shear",
    type=click.FloatRange(0, 1),
    metavar="FACTOR",
    help=f"--augment affine: largest horizontal shear, x += FACTOR·y (default {AFFINE_RANGES['shear']:g}).",
)
@click.option(
    "--elastic",
    type=click.FloatRange(min=0),
    metavar="ALPHA",
    help="Also elastic distortions (Simard et al. 2003), with any --augment: smooth random "
    "displacement fields scaled by ALPHA (0: off; Simard's MNIST value: "
    f"{ELASTIC_DEFAULTS['alpha']:g}), in the same gather on the device.",
)
@click.option(
    "--elastic-sigma",
    type=click.FloatRange(0, 100, min_open=True),
    metavar="PIXELS",
    help=f"--elastic: the fields' smoothing, a Gaussian's standard deviation (default {ELASTIC_DEFAULTS['sigma']:g}).",
)
@click.option(
    "--erase",
    type=click.FloatRange(0, 1),
    metavar="P",
    help="Random erasing: give each training image, with probability P per epoch, one blank "
    "rectangle of 2-33% of its area (after --augment's distortion; 0: off, the default).",
)
@click.option(
    "--label-smoothing",
    type=click.FloatRange(0, 1, max_open=True),
    metavar="EPS",
    help="Train against smoothed targets (1-EPS)*onehot + EPS/classes (0: off, the default); "
    "the logged losses are then the smoothed loss.",
)
@click.option(
    "--dropout",
    type=click.FloatRange(0, 1, max_open=True),
    metavar="P",
    help="Inverted dropout: drop this fraction of every hidden layer's units at each training step (0: off).",
)
@click.option(
    "--ema",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    metavar="DECAY",
    help="Keep an exponential moving average of the weights, θ̄ ← d·θ̄ + (1−d)·θ after every step "
    "(d warms up as min(DECAY, (1+t)/(10+t))), and validate, test and save it for prediction; "
    "training goes on from the raw weights. E.g. 0.999. Default: off.",
)
@click.option(
    "--swa-epochs",
    type=click.IntRange(1),
    metavar="K",
    help="Stochastic weight averaging: validate, test and save for prediction the mean of the weights "
    "at the ends of the last K epochs (from epoch EPOCHS-K+1 on). Not with --ema. Best with "
    "--schedule constant (cosine decays the rate to 0). Default: off.",
)
@click.option("--backend", metavar="SPEC", callback=backend_option, help=BACKEND_HELP)
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
    "--tensorboard",
    is_flag=True,
    help="Also write the per-epoch numbers as TensorBoard events into <run>/tensorboard/ "
    "(tensorboard --logdir <run>; needs pip install 'xpnet[tensorboard]'). "
    "<run>/epochs.csv is always written, one row per epoch as it ends.",
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
    --val-split is then taken from that rest. The default run (50 epochs) took 1m43s on
    Fashion-MNIST on a quiet 2-core CPU.

    Ctrl-C finishes the current step, saves a checkpoint and exits with 130; continue with
    --resume. A NaN/infinite loss stops training (exit 1), keeps the last good checkpoint and
    suggests a learning rate to start over with (--overwrite).

    \b
    Examples:
      xpnet train                                     # MNIST, default preset
      xpnet train --dataset fashion-mnist --epochs 30
      xpnet train --augment affine --shift 2            # rotated, scaled, sheared digits
      xpnet train --dataset fashion-mnist --flip        # mirror images and shifts
      xpnet train --augment affine --elastic 34         # + elastic distortions (Simard 2003)
      xpnet train --dataset fashion-mnist --ema 0.999   # predict with averaged weights
      xpnet train --schedule constant --swa-epochs 5    # SWA: mean of the last 5 epochs
      xpnet train --erase 0.5 --label-smoothing 0.1     # random erasing, smoothed targets
      xpnet train --data ~/data/mnist-t10k --val-split 0.2
      xpnet train --preset tutorial --data train.csv
      xpnet train --hidden 256,128 --optimizer sgd --momentum 0.9 --lr 0.05 --batch-size 64
      xpnet train --backend gpu --out runs/gpu-run
      xpnet train --resume --out runs/gpu-run          # continue after Ctrl-C
      xpnet train --hidden 64 --epochs 30 --out r --resume   # the same command again, 30 epochs in all
      xpnet train --tensorboard --out runs/tb          # + TensorBoard events in runs/tb/tensorboard
      xpnet train --overwrite --out runs/gpu-run --lr 3e-4   # start that run over
    """
    from ..runs import Run
    from ..runs.config import TrainConfig

    started = time.perf_counter()
    console, backend = out.console(), opts["backend"]
    spec = data_spec(opts["dataset"], opts["data_path"])
    data_dir = str(opts["data_dir"]) if opts["data_dir"] else None
    if opts["resume"] and opts["overwrite"]:
        raise click.UsageError("--resume continues the run and --overwrite starts it over: give one of them")
    if opts["ema"] is not None and opts["swa_epochs"] is not None:
        raise click.UsageError(
            "--ema and --swa-epochs are two ways of averaging the weights: give one of them "
            "(EMA after every step, or SWA: the mean of the last epochs' weights)"
        )
    if opts["tensorboard"] and importlib.util.find_spec("tensorboardX") is None:  # before loading any data
        from ..model.logs import TENSORBOARD_EXTRA_HINT

        raise click.UsageError(TENSORBOARD_EXTRA_HINT)
    if opts["resume"]:
        run = Run.resume(
            opts["out"], epochs=opts["epochs"], data=spec, data_dir=data_dir, backend=backend, progress=True
        )
        _refuse_changes(ctx, opts, run)
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
        result = run.train(
            [reporter],
            plots=opts["plots"],
            save_every=opts["save_every"],
            on_sigint=on_ctrl_c,
            tensorboard=opts["tensorboard"],
        )
    finally:
        reporter.close()
    out.report_run(console, result, time.perf_counter() - started, run.data_dir)
    ctx.exit({"completed": EXIT_OK, "interrupted": EXIT_INTERRUPTED}.get(result.status, EXIT_FAILURE))
