"""The commands that use a trained model: ``xpnet evaluate`` and ``xpnet predict``.

Both take MODEL, a checkpoint (``model.npz``) or a run directory, and load it on ``--backend``.
``evaluate`` measures it on labelled data ([`evaluate_model`][xpnet.runs.evaluate_model]) and
writes a confusion-matrix plot; ``predict`` checks its weights and the files, and leaves the
predictions table to [`xpnet.cli.predict`][xpnet.cli.predict].
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from . import output as out
from .options import BACKEND_HELP, CONTEXT_SETTINGS, EXIT_OK, EXIT_USAGE, CLIError, backend_option, data_spec

__all__ = ["evaluate", "predict"]


def _checkpoint_path(path: Path) -> Path:
    from ..runs import find_checkpoint

    return find_checkpoint(path)


def _load_data(spec: str, data_dir: str | None):
    from ..runs import load_data

    return load_data(spec, data_dir, progress=True)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, path_type=Path))
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist"]), help="Evaluate on a known dataset.")
@click.option(
    "--data",
    "data_path",
    type=click.Path(exists=True, path_type=Path),
    help="Evaluate on local data (IDX directory, Kaggle CSV, .npz).",
)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Dataset cache directory.")
@click.option("--backend", metavar="SPEC", callback=backend_option, help=BACKEND_HELP)
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
    from ..model.checkpoint import load_checkpoint
    from ..runs import check_trained, evaluate_model, plots
    from ..runs.splits import evaluation_split

    console = out.console()
    ckpt = load_checkpoint(_checkpoint_path(model_path), backend=backend)
    warning = check_trained(ckpt)  # refuses untrained weights (a run that diverged at once)
    model = ckpt.model
    spec = data_spec(dataset, data_path) or (ckpt.training.get("config") or {}).get("data") or ckpt.dataset.get("spec")
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
@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, path_type=Path))
@click.argument(
    "files",
    metavar="FILE...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
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
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write every prediction to this file, for other programs: CSV (.csv: file, row, label, "
    "class, error, one p_<class> column per class) or JSON lines (.jsonl: one object per input, "
    "probabilities as a dict). A picture that cannot be read gets its error in its row.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    help="--output's format when its suffix does not say (default: from the suffix).",
)
@click.option("--backend", metavar="SPEC", callback=backend_option, help=BACKEND_HELP)
def predict(model_path: Path, files, top, limit, submission, show_input, pixels, output, fmt, backend) -> int:
    """Predict the class of images (PNG, JPEG, ...) or of the rows of a CSV file.

    Images may be any picture of one digit: the paper is estimated and removed, the ink
    thresholded, the stroke brought to MNIST's width, and the digit scaled into 20x20 and
    centred in 28x28 by its centre of mass, like MNIST (a 28x28 image is used as it is). A
    blank picture or one with several separate marks is reported, not guessed at; unreadable
    images are listed at the end (exit status 2) and the others are still predicted. CSV files
    are Kaggle Digit Recognizer style (pixel0..pixel783, with or without a label column or a
    header row; if labelled, the accuracy is shown). A folder stands for the pictures in it
    and its subfolders (by their suffix; other files are skipped), in sorted order.

    --output writes the predictions for the next program, as CSV or JSON lines, atomically
    once all are made; the pictures that could not be read are in it with their error.

    \b
    Examples:
      xpnet predict runs/mnist-20250101-120000 my_digit.png photo.jpg
      xpnet predict model.npz drawing.png --show-input what-it-saw.png
      xpnet predict model.npz test.csv --limit 20
      xpnet predict model.npz test.csv --kaggle-submission submission.csv
      xpnet predict model.npz pictures/ --output preds.csv     # every picture below pictures/
      xpnet predict model.npz scans/ --output preds.jsonl
    """
    from ..images import IMAGE_SUFFIXES
    from ..model.checkpoint import load_checkpoint
    from .predict import show_predictions
    from .prediction_files import expand_inputs, output_format, write_predictions

    fmt = output_format(output, fmt) if output is not None else fmt
    if output is not None and fmt is None:
        raise click.UsageError(f"--output {output}: say its format with a .csv or .jsonl suffix, or with --format")
    empty = [f for f in files if f.is_dir() and not expand_inputs([f], IMAGE_SUFFIXES)]
    if empty:
        raise click.UsageError(f"{empty[0]} holds no pictures (looked for {', '.join(IMAGE_SUFFIXES)})")
    files = expand_inputs(files, IMAGE_SUFFIXES)
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
    records: list | None = [] if output is not None else None
    failed = show_predictions(
        ckpt,
        images,
        csvs,
        top=top,
        limit=limit,
        submission=submission,
        show_input=show_input,
        pixels=pixels,
        records=records,
    )
    if output is not None and records is not None:
        write_predictions(output, fmt, records, [str(n) for n in ckpt.class_names])
        console = out.console()
        console.print(f"wrote {out.esc(output)} ({len(records):,} predictions, {fmt})")
    if len(failed) == 1:
        out.err(f"Error: {failed[0]}")
        return EXIT_USAGE
    if failed:
        out.err(f"Error: {len(failed)} of {len(images)} images could not be used:")
        for message in failed:
            out.err(f"  {message}")
        return EXIT_USAGE
    return EXIT_OK
