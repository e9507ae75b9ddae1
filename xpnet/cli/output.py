"""What the command line shows: rich rendering of the values the library returns.

The commands (registered by [`xpnet.cli.command`][xpnet.cli.command]) parse options, call the library and hand the
results to these functions; nothing here computes anything the library does not return.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from ..model.mlp import Callback

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = [
    "console",
    "esc",
    "fmt_time",
    "setup_logging",
    "print_setup",
    "ConsoleProgress",
    "report_run",
    "report_finished",
    "print_evaluation",
    "print_gradcheck",
    "err",
]


def err(message: str) -> None:
    """Write one line to stderr."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class _DropDownloadRetries(logging.Filter):
    """Hide per-mirror download failures: the final error message lists them again."""

    def filter(self, record):
        return not (record.name.startswith("xpnet.datasets") and record.getMessage().startswith("Could not download"))


#: The name of the handler setup_logging installs (and replaces when called again).
_CLI_HANDLER = "xpnet.cli"


def setup_logging(verbose: int) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    logger = logging.getLogger("xpnet")
    for h in list(logger.handlers):
        if h.get_name() == _CLI_HANDLER:
            logger.removeHandler(h)
    handler = RichHandler(
        console=Console(stderr=True), show_time=False, show_path=False, markup=False, rich_tracebacks=False
    )
    handler.set_name(_CLI_HANDLER)
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler.setLevel(level)
    if verbose == 0:
        handler.addFilter(_DropDownloadRetries())
    logger.addHandler(handler)
    logger.setLevel(min(logger.level or logging.WARNING, level))


def console():
    """A rich console on stdout; a closed pipe raises ``BrokenPipeError`` (rich would exit 1)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError(32, "the reader of the output went away")

    return _Console(highlight=False, soft_wrap=True)


def fmt_time(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def esc(text) -> str:
    from rich.markup import escape

    return escape(str(text))


def print_setup(console, run) -> None:
    c, m, s = run.config, run.model, run.splits
    batch = "full batch" if c.batch_size is None else f"batch {c.batch_size}"
    rows = [
        ("run", f"{run.run_dir}"),
        ("data", run.dataset.summary()),
        *[("", note) for note in s.notes],
        ("split", f"{len(s.x_train):,} train / {len(s.x_val):,} validation / {len(s.x_test):,} test"),
        (
            "model",
            f"{'-'.join(map(str, m.sizes))} {m.activation}, {m.init} init, {m.dtype_name} ({m.n_params:,} parameters)",
        ),
        (
            "training",
            f"{c.describe_optimizer()}; {c.epochs} epochs, {batch}; "
            f"inputs: {run.preprocessing.describe()}  [preset {c.preset}]",
        ),
        ("backend", f"{m.backend.spec} ({m.backend.device_name})"),
    ]
    for key, value in rows:
        console.print(f"[bold]{key:<9}[/]{esc(value)}")


def report_finished(console, run) -> None:
    from ..runs.rundir import read_metrics

    metrics = read_metrics(run.run_dir)
    acc = (metrics.get("test") or {}).get("accuracy")
    seconds = metrics.get("train_seconds")
    console.print(
        f"{esc(run.run_dir)} is already complete: it trained {run.model.epoch} of {run.config.epochs} "
        f"epochs"
        + (f" (test accuracy {acc:.4f}" if acc is not None else " (")
        + (f", trained in {fmt_time(seconds)})" if seconds is not None else ")")
        + ". Nothing was changed."
    )
    console.print(
        f"To train it longer: xpnet train --resume --out {esc(run.run_dir)} --epochs "
        f"{run.model.epoch + max(1, run.config.epochs // 2)}"
    )


def report_run(console, result, wall_seconds: float, data_dir: str | None = None) -> None:
    """Present a [`RunResult`][xpnet.runs.RunResult]."""
    if result.status == "diverged":
        err(f"Training diverged: {result.error}")
        if result.warnings:
            err(f"NumPy warned while training: {'; '.join(result.warnings)}.")
        kept = (
            f"epoch {result.kept_epoch}"
            if result.kept_epoch
            else "epoch 0: the initial, untrained weights, which evaluate refuses"
        )
        err(f"Kept the last good checkpoint ({kept}) in {result.checkpoint}.")
        err(f"Start over with --lr {result.suggested_lr:g} ({result.suggestion}):")
        extra = ("--data-dir", data_dir) if data_dir else ()
        err(f"  {result.config.command(*extra, '--overwrite', '--out', str(result.run_dir), lr=result.suggested_lr)}")
        return
    if result.status == "interrupted":
        err(f"Interrupted: {result.saved}.")
        err(f"Continue with: xpnet train --resume --out {result.run_dir}")
        return
    test, total = result.test, result.metrics["train_seconds"]
    parts = len(result.metrics.get("train_seconds_parts", []))
    trained = f"trained in {fmt_time(total)}" + (f" over {parts} sessions" if parts > 1 else "")
    console.print(
        f"[bold]test accuracy {test['accuracy']:.4f}[/] on {test['n']:,} images "
        f"(loss {test['loss']:.4f}) · {trained} · wall time {fmt_time(wall_seconds)}"
    )
    console.print(f"wrote {esc(result.run_dir)}/: {', '.join(result.files)}")


class ConsoleProgress(Callback):
    """A Callback: a progress bar over the steps (advanced without touching the device) and a
    table row after every ``log_every`` epochs."""

    def __init__(self, console, target_epochs: int, log_every: int | None):
        self.console = console
        self.target = target_epochs
        self.log_every = log_every or (1 if target_epochs <= 50 else max(1, target_epochs // 25))
        self.progress: Progress | None = None  # from on_train_begin to close
        self.task: TaskID | None = None

    def on_train_begin(self, model, epochs, n_batches):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        if self.progress is not None:  # training proceeds one fit() per epoch (augmentation)
            return
        steps = max(0, (self.target - model.epoch) * n_batches - model.batch)
        self.progress = progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("steps"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not self.console.is_terminal,
        )
        progress.start()
        self.task = progress.add_task(f"epoch {model.epoch + 1}/{self.target}", total=steps)
        self.console.print(
            f"[bold]{'epoch':>7} {'loss':>9} {'accuracy':>9} {'val loss':>9} {'val acc':>9} {'time':>8}[/]"
        )

    def on_epoch_begin(self, model, epoch):
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=f"epoch {epoch + 1}/{self.target}")

    def on_batch_end(self, model, epoch, batch, n_batches):
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task)

    def on_epoch_end(self, model, epoch, logs):
        e = epoch + 1
        if e % self.log_every == 0 or e == self.target or e == 1:
            self.console.print(self.row(logs))

    @staticmethod
    def row(logs) -> str:
        def num(v):
            return f"{v:>9.4f}" if v is not None else f"{'-':>9}"

        return (
            f"{logs['epoch']:>7} {num(logs['loss'])} {num(logs['accuracy'])} {num(logs['val_loss'])} "
            f"{num(logs['val_accuracy'])} {logs.get('epoch_time', 0.0):>7.1f}s"
        )

    def close(self):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def print_evaluation(console, ckpt, data, which: str, result: dict, names: list, warning: str | None) -> None:
    """The ``evaluate`` report: the model, the data, accuracy, per-class table, confusion matrix."""
    import numpy as np
    from rich.table import Table

    model = ckpt.model
    console.print(
        f"[bold]{esc(ckpt.path)}[/]: {'-'.join(map(str, model.sizes))} {model.activation}, "
        f"trained {model.epoch} epochs on {esc(ckpt.dataset.get('name', '?'))}"
    )
    if warning:
        console.print(f"[yellow]Note:[/] {esc(warning)}.")
    console.print(f"Evaluating on {esc(data.name)}: {which}.")
    console.print(
        f"[bold]accuracy {result['accuracy']:.4f}[/] ({int(np.trace(result['confusion_matrix'])):,}"
        f" of {result['n']:,} correct) · loss {result['loss']:.4f}"
    )
    table = Table(title="Per class", title_justify="left")
    for col in ("class", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for row in result["per_class"]:
        label = names[row["class"]]
        table.add_row(
            f"{row['class']} {esc(label)}" if label != str(row["class"]) else str(row["class"]),
            f"{row['precision']:.4f}",
            f"{row['recall']:.4f}",
            f"{row['f1']:.4f}",
            f"{row['support']:,}",
        )
    console.print(table)
    cm = result["confusion_matrix"]
    cmt = Table(title="Confusion matrix (rows: true class, columns: predicted)", title_justify="left")
    cmt.add_column("true", justify="right")
    for j in range(cm.shape[1]):
        cmt.add_column(str(j), justify="right")
    for i in range(cm.shape[0]):
        cmt.add_row(
            str(i),
            *[f"[bold]{v:,}[/]" if i == j else (f"{v:,}" if v else "[dim]·[/]") for j, v in enumerate(cm[i])],
        )
    console.print(cmt)


def print_gradcheck(console, report, title: str, seconds: float) -> None:
    """The ``gradcheck`` report: the table of [`xpnet.GradcheckReport.table`][xpnet.model.gradcheck.GradcheckReport.table], the summary, the verdict."""
    from rich.table import Table

    console.print(title)
    header, *rows = report.table()
    table = Table()
    for col in header:
        table.add_column(col, justify="right" if col in ("checked", "max |fd − bp|", "rel error") else "left")
    for row in rows:
        table.add_row(*row[:-1], "[green]ok[/]" if row[-1] == "ok" else "[red]FAIL[/]")
    console.print(table)
    console.print(f"{report.summary()} · {seconds:.1f}s")
    console.print("[bold green]PASSED[/]" if report.passed else "[bold red]FAILED[/]")


def print_info(console, versions: dict, backends, auto, why: str, env_line: str, extra: list[str]) -> None:
    """The ``info`` report: versions, the table of backends, what auto picks, the environment."""
    import platform

    from rich.table import Table

    console.print(
        f"[bold]xpnet {versions['xpnet']}[/] · Python {versions['python']} · NumPy {versions['numpy']} · "
        f"array-api-compat {versions['array_api_compat']} · {esc(platform.platform(terse=True))}"
    )
    table = Table(title="Backends", title_justify="left")
    for col in ("spec", "usable", "device", "details"):
        table.add_column(col)
    for row in backends:
        table.add_row(esc(row.spec), "[green]yes[/]" if row.usable else "[red]no[/]", esc(row.device), esc(row.detail))
    console.print(table)
    console.print(f"[bold]auto[/] → {esc(auto)}: {esc(why)}")
    for line in (env_line, *extra):
        console.print(esc(line))
