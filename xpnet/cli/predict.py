"""What ``xpnet predict`` shows: a table of predictions for image files and for the rows of
Kaggle-style CSV files, the ``--show-input`` grid and the ``--kaggle-submission`` file.

[`xpnet.cli.model_commands`][xpnet.cli.model_commands] checks the options, loads the checkpoint and turns the images that
could not be read into the exit status; this module renders the rest with rich.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..model.checkpoint import Checkpoint
from .output import console as _console
from .output import esc as _esc
from .prediction_files import Prediction

__all__ = ["show_predictions", "read_images", "workers_for", "PARALLEL_MIN", "CHUNK"]

#: From this many image files on, ``xpnet predict`` reads them in several processes (fewer are
#: read in this one: starting a worker, which imports NumPy, SciPy and Pillow, costs about as
#: much as reading ten pictures).
PARALLEL_MIN = 32
#: Files handed to a worker process at a time.
CHUNK = 8


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def workers_for(n_files: int) -> int:
    """How many processes read ``n_files`` pictures: 1 below `PARALLEL_MIN` files, else one per
    usable CPU, but no more than there are chunks of `CHUNK` files."""
    if n_files < PARALLEL_MIN:
        return 1
    return max(1, min(_usable_cpus(), -(-n_files // CHUNK)))


def _read_one(path) -> tuple[np.ndarray | None, str | None]:
    from ..images import ImageError, load_image

    try:
        return load_image(path), None
    except ImageError as exc:
        return None, str(exc)


def _read_chunk(paths: Sequence) -> list[tuple[np.ndarray | None, str | None]]:
    return [_read_one(p) for p in paths]


def read_images(
    paths: Sequence, *, jobs: int | None = None, advance: Callable[[int], None] | None = None
) -> list[tuple[np.ndarray | None, str | None]]:
    """Read every picture with [`load_image`][xpnet.images.load_image], in several processes when there are many.

    Parameters
    ----------
    paths : sequence of path-like
        The picture files.
    jobs : int, optional
        Processes to use (default [`workers_for`][xpnet.cli.predict.workers_for]); 1 reads
        in this process. The files go to the workers in chunks of `CHUNK`.
    advance : callable, optional
        Called with the number of files just read (for a progress bar), in this process.

    Returns
    -------
    list of (numpy.ndarray or None, str or None)
        One per file, in the order given: its ``(784,)`` uint8 pixels and ``None``, or
        ``None`` and the [`ImageError`][xpnet.images.ImageError]'s message (the file is named
        in it). Any other exception is raised, as it would be from one process.
    """
    advance = advance or (lambda n: None)
    paths = list(paths)
    jobs = workers_for(len(paths)) if jobs is None else max(1, min(int(jobs), len(paths)))
    if jobs <= 1:
        results = []
        for p in paths:
            results.append(_read_one(p))
            advance(1)
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # Workers are forked from a fresh server process that has imported xpnet.images once
    # (forkserver; spawn where there is none), never from this one while the progress bar's
    # thread runs.
    context: multiprocessing.context.BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        forkserver = multiprocessing.get_context("forkserver")
        forkserver.set_forkserver_preload(["xpnet.images"])
        context = forkserver
    else:
        context = multiprocessing.get_context("spawn")
    chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    done: list = [None] * len(chunks)
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = {pool.submit(_read_chunk, chunk): i for i, chunk in enumerate(chunks)}
        for future in as_completed(futures):
            i = futures[future]
            done[i] = future.result()
            advance(len(chunks[i]))
    return [r for chunk in done for r in chunk]


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
    records: list | None = None,
) -> list[str]:
    """Predict and print the classes of ``images`` and of the rows of ``csvs``.

    Parameters
    ----------
    checkpoint : Checkpoint
        The loaded checkpoint: its model (whose input layer takes 784 pixels), the inputs it
        takes ([`Checkpoint.model_inputs`][xpnet.model.checkpoint.Checkpoint.model_inputs]) and its class names.
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
    records : list or None
        When given, one [`Prediction`][xpnet.cli.prediction_files.Prediction] per picture
        (in the order given, those that could not be read with their error) and per CSV row is
        appended to it, for ``--output``.

    Returns
    -------
    list of str
        One message per image that could not be read (the others were still predicted).
    """
    from rich.table import Table

    from .._lib.fileio import atomic_write
    from ..datasets import read_kaggle_csv
    from ..images import save_input_grid

    console = _console()
    model, names = checkpoint.model, checkpoint.class_names

    def probabilities(x_raw):
        return model.backend.to_numpy(model.predict_proba(checkpoint.model_inputs(x_raw)))

    def top_text(p):
        order = np.argsort(-p)[:top]
        return ", ".join(f"{_esc(names[k])} {p[k]:.1%}" for k in order)

    failed = []
    if images:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        read: list = []
        inputs: list[np.ndarray] = []
        jobs = workers_for(len(images))
        with Progress(
            TextColumn("reading pictures" + (f" ({jobs} processes)" if jobs > 1 else "")),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal or len(images) < 2,
        ) as bar:
            task = bar.add_task("read", total=len(images))
            results = read_images(images, jobs=jobs, advance=lambda n: bar.advance(task, n))
        for f, (image, error) in zip(images, results):  # not `pixels`: that is the CSV scale, used below
            if image is not None:  # read; else `error` says why not
                inputs.append(image)
                read.append(f)
            else:
                failed.append(str(error))
        if read:
            proba = probabilities(np.stack(inputs))
        if records is not None:
            by_file = dict(zip(read, proba)) if read else {}
            for f, (_, error) in zip(images, results):
                records.append(Prediction(f, None, None if error else by_file[f], error))
        if read:
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
        if records is not None:
            records.extend(Prediction(f, i, p) for i, p in enumerate(proba, start=1))
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
