"""``python -m benchmarks.compare`` (also ``python benchmarks/bench.py``): the click command and its entry point."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click
import numpy as np

from xpnet.errors import ConfigError
from xpnet.runs.config import parse_batch_sizes

from .contenders import CONTENDERS, available_contenders, select_contenders
from .problem import DEFAULT_LR
from .report import print_report
from .run import TINY_CONTENDERS, run_benchmark

__all__ = ["bench_command", "main", "parse_batch_sizes"]


def _names(text: str) -> list[str]:
    return [o.strip().lower() for o in text.split(",") if o.strip()]


def _write_json(path: str, results: dict) -> None:
    """Write ``results`` to ``path`` atomically (a temporary file, then a rename)."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 is not what a results file wants
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(results, indent=1, default=_json_default) + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command("compare")
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Timed epochs per contender (median reported). Default 5 (2 with --quick).",
)
@click.option(
    "--warmup",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Untimed epochs first (compilation, caches, page faults).",
)
@click.option(
    "--batch-sizes",
    default="128,512,full",
    show_default=True,
    help="Comma-separated batch sizes; 'full' for full-batch gradient descent.",
)
@click.option(
    "--optimizers",
    default="sgd,adam",
    show_default=True,
    help="Comma-separated: sgd (lr 0.1), adam (lr 1e-3).",
)
@click.option(
    "--contenders",
    default="default",
    show_default=True,
    help="'default' (all usable but xpnet-strict and xpnet-jax-eager), 'all', or a comma-separated list; see --list.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Limit BLAS/OpenMP (threadpoolctl), PyTorch and XLA to this many threads for "
    "the whole run. Default: each library's own default.",
)
@click.option(
    "--data",
    default="auto",
    show_default=True,
    help="'auto' (real Fashion-MNIST if found, else synthetic), 'synthetic', or a "
    "directory of Fashion-MNIST IDX files.",
)
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=None,
    help="Use only the first N training samples. Default: all (12,000 with --quick).",
)
@click.option(
    "--tutorial/--no-tutorial",
    default=True,
    show_default=True,
    help="Also time the tutorial network (784-10-10, full batch, SGD).",
)
@click.option("--tutorial-only", is_flag=True, help="Time only the tutorial network.")
@click.option(
    "--tiny/--no-tiny",
    default=True,
    show_default=True,
    help="Also print the per-step overhead table: 64-16-10, batch 16, 16,384 synthetic "
    "samples, µs per step, for each --optimizers.",
)
@click.option("--tiny-only", is_flag=True, help="Print only the per-step overhead table.")
@click.option(
    "--tiny-contenders",
    default=TINY_CONTENDERS,
    show_default=True,
    help="Contenders of the per-step overhead table (those not installed are skipped).",
)
@click.option(
    "--tiny-samples",
    type=click.IntRange(min=16),
    default=16384,
    show_default=True,
    help="Synthetic samples of the per-step overhead table (1,024 steps of 16 by default).",
)
@click.option(
    "--shifts/--no-shifts",
    default=True,
    show_default=True,
    help="Also print the augmentation overhead table: xpnet training with "
    "RandomShifts(max_shift=1), and with RandomAffine (--augment affine's ranges), against "
    "the same without, 784-32-10 and 784-128-10, batch 128, on the benchmark's data, for "
    "each --optimizers.",
)
@click.option("--shifts-only", is_flag=True, help="Print only the augmentation overhead table.")
@click.option(
    "--memory/--no-memory",
    default=True,
    show_default=True,
    help="Measure each contender's extra memory in one more, untimed epoch.",
)
@click.option("--quick", is_flag=True, help="A fast look: 2 epochs on 12,000 samples.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the results as JSON to this file.",
)
@click.option("--list", "list_only", is_flag=True, help="List the contenders and whether each is usable.")
@click.option("--seed", type=int, default=0, show_default=True, help="Initial weights and shuffling.")
def bench_command(
    epochs,
    warmup,
    batch_sizes,
    optimizers,
    contenders,
    threads,
    data,
    samples,
    tutorial,
    tutorial_only,
    tiny,
    tiny_only,
    tiny_contenders,
    tiny_samples,
    shifts,
    shifts_only,
    memory,
    quick,
    json_path,
    list_only,
    seed,
):
    """Time training epochs of xpnet against the GEMM floor, plain NumPy, PyTorch and JAX.

    All contenders train the same network (784-128-10 ReLU, softmax cross-entropy, float32)
    from the same initial weights in one process, interleaved epoch by epoch; the table gives
    seconds per epoch and the ratio to the floor (only the matrix products an epoch needs, in
    the faster of two weight layouts). A second table gives the per-step overhead on a tiny
    network, a third what random-shift and random affine augmentation add to xpnet's training (the --*-only
    flags combine: --tiny-only --shifts-only prints those two tables). A ratio is marked "?"
    when the floor's epochs, or the contender's own, scattered too much for it to be firm.

    Examples:

    \b
      python -m benchmarks.compare --list                       # the contenders and whether each is usable
      python -m benchmarks.compare --quick                      # a fast look: 2 epochs on 12,000 samples
      python -m benchmarks.compare --tiny-only --optimizers sgd # only the per-step overhead table
      python -m benchmarks.compare --shifts-only --quick        # only the augmentation overhead table
      env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.compare --threads 1 --epochs 3 \\
          --batch-sizes 128 --contenders floor,xpnet-numpy,numpy --json bench.json
    """
    from rich.console import Console

    console = Console() if sys.stdout.isatty() else Console(width=200)
    if list_only:
        for name, why in available_contenders().items():
            c = CONTENDERS[name]
            state = "usable" if why is None else f"unavailable: {why}"
            console.print(
                f"{name:18s} {c.platform:5s} {'' if c.default else '(opt-in) '}{c.description} — {state}",
                highlight=False,
            )
        return
    try:
        sizes = parse_batch_sizes(batch_sizes)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--batch-sizes") from None
    opts = _names(optimizers)
    bad = [o for o in opts if o not in DEFAULT_LR]
    if bad or not opts:
        raise click.BadParameter(
            f"unknown optimizer(s) {', '.join(bad) or '(none given)'}; choose sgd, adam",
            param_hint="--optimizers",
        )
    for spec, hint in ((contenders, "--contenders"), (tiny_contenders, "--tiny-contenders")):
        try:
            select_contenders(spec)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=hint) from None
    if epochs is None:
        epochs = 2 if quick else 5
    if samples is None and quick:
        samples = 12000
    main_tables = True
    if tutorial_only or tiny_only or shifts_only:  # only the tables asked for
        main_tables, tutorial, tiny, shifts = False, tutorial_only, tiny_only, shifts_only
    from xpnet.datasets import DataError

    try:
        results = run_benchmark(
            epochs=epochs,
            warmup=warmup,
            batch_sizes=sizes if main_tables else [],
            optimizers=opts,
            contenders=contenders,
            threads=threads,
            data=data,
            n_samples=samples,
            tutorial=tutorial,
            memory=memory,
            seed=seed,
            tiny=tiny,
            tiny_contenders=tiny_contenders,
            tiny_samples=tiny_samples,
            shifts=shifts,
            progress=lambda msg: console.print(f"[dim]{msg}[/]", highlight=False),
        )
    except DataError as exc:
        raise click.BadParameter(str(exc), param_hint="--data") from None
    print_report(results, console)
    if json_path:
        _write_json(json_path, results)
        console.print(f"results written to {json_path}")


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return str(obj)


def main(argv=None) -> int:
    """Entry point of ``python -m benchmarks.compare`` and ``benchmarks/bench.py``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0, 2 for bad usage, 130 when interrupted.
    """
    try:
        bench_command.main(args=argv, prog_name="python -m benchmarks.compare", standalone_mode=False)
    except click.exceptions.Abort:
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0
