"""What ``xpnet predict`` shows: a table of predictions for image files and for the rows of
Kaggle-style CSV files, the ``--show-input`` grid and the ``--kaggle-submission`` file.

[`xpnet.cli.model_commands`][xpnet.cli.model_commands] checks the options, loads the checkpoint and turns the images that
could not be read into the exit status; this module renders the rest with rich.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..checkpoint import Checkpoint
from .output import console as _console
from .output import esc as _esc

__all__ = ["show_predictions"]


def show_predictions(
    checkpoint: Checkpoint,
    images: list[Path],
    csvs: list[Path],
    *,
    top: int,
    limit: int,
    submission: Path | None,
    show_input: Path | None,
    pixels: str,
) -> list[str]:
    """Predict and print the classes of ``images`` and of the rows of ``csvs``.

    Parameters
    ----------
    checkpoint : Checkpoint
        The loaded checkpoint: its model (whose input layer takes 784 pixels), the inputs it
        takes ([`Checkpoint.model_inputs`][xpnet.checkpoint.Checkpoint.model_inputs]) and its class names.
    images, csvs : list of Path
        Image files (one digit each) and Kaggle Digit Recognizer CSV files.
    top : int
        How many of the most probable classes to show per input (at most the number of classes).
    limit : int
        Rows of each CSV to show (0: all).
    submission : Path or None
        With exactly one CSV: write its ``ImageId,Label`` file here (atomically).
    show_input : Path or None
        Write a PNG grid of the images the network received, with their predictions.
    pixels : str
        The CSV pixel scale: ``"auto"``, ``"0-255"`` or ``"0-1"``.

    Returns
    -------
    list of str
        One message per image that could not be read (the others were still predicted).
    """
    from rich.table import Table

    from ..datasets import read_kaggle_csv
    from ..fileio import atomic_write
    from ..images import ImageError, load_image, save_input_grid

    console = _console()
    model, names = checkpoint.model, checkpoint.class_names

    def probabilities(x_raw):
        return model.backend.to_numpy(model.predict_proba(checkpoint.model_inputs(x_raw)))

    def top_text(p):
        order = np.argsort(-p)[:top]
        return ", ".join(f"{_esc(names[k])} {p[k]:.1%}" for k in order)

    failed = []
    if images:
        read, inputs = [], []
        for f in images:
            try:
                inputs.append(load_image(f))
                read.append(f)
            except ImageError as exc:
                failed.append(str(exc))
        if read:
            proba = probabilities(np.stack(inputs))
            table = Table(title_justify="left")
            table.add_column("file", overflow="fold")
            for col in ("prediction", f"top {top} probabilities"):
                table.add_column(col)
            for f, p in zip(read, proba):
                table.add_row(_esc(f), f"[bold]{_esc(names[int(p.argmax())])}[/]", top_text(p))
            console.print(table)
            if show_input is not None:
                titles = [f"{f.name}: {names[int(p.argmax())]} ({p.max():.0%})" for f, p in zip(read, proba)]
                save_input_grid(np.stack(inputs), titles, show_input)
                console.print(f"wrote {_esc(show_input)} (the {len(read)} input(s) the network received)")
    for f in csvs:
        x, y = read_kaggle_csv(f, pixels=pixels)
        proba = probabilities(x)
        pred = proba.argmax(axis=1)
        shown = len(x) if limit == 0 else min(limit, len(x))
        table = Table(
            title=f"{_esc(f)}: {len(x):,} rows" + (f" (first {shown})" if shown < len(x) else ""),
            title_justify="left",
        )
        for col in ("row", *(["label"] if y is not None else []), "prediction", f"top {top} probabilities"):
            table.add_column(col)
        for i in range(shown):
            table.add_row(
                str(i + 1),
                *([_esc(names[int(y[i])])] if y is not None else []),
                f"[bold]{_esc(names[int(pred[i])])}[/]",
                top_text(proba[i]),
            )
        console.print(table)
        if y is not None:
            console.print(f"accuracy on the {len(y):,} labelled rows: {float(np.mean(pred == y)):.4f}")
        if submission is not None:
            with atomic_write(submission, "w", encoding="utf-8") as out:
                out.write("ImageId,Label\n")
                out.writelines(f"{i},{int(label)}\n" for i, label in enumerate(pred, start=1))
            console.print(f"wrote {_esc(submission)} ({len(pred):,} predictions, ImageId,Label)")
    return failed
