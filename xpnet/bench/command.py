"""``xpnet bench``: the click command."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from ..errors import ConfigError
from ..runs.config import parse_batch_sizes
from .fit import DEFAULT_LR
from .report import print_report
from .run import run_bench, select_backends

__all__ = ["bench_command", "parse_sizes"]


def parse_sizes(text: str) -> tuple[int, ...]:
    """``"784,128,10"`` → ``(784, 128, 10)``: the layer widths of ``--sizes``.

    Raises
    ------
    xpnet.errors.ConfigError
        Fewer than two widths, or one that is not a positive integer.
    """
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        sizes = ()
    if len(sizes) < 2 or min(sizes) < 1:
        raise ConfigError(f"{text!r} is not a network: give two or more positive layer widths, e.g. '784,128,10'")
    return sizes


def _write_json(path: str, results: dict) -> None:
    """Write ``results`` to ``path`` atomically (a temporary file, then a rename)."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 is not what a results file wants
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(results, indent=1, default=str) + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command("bench")
@click.option(
    "--backends",
    default="default",
    show_default=True,
    help="'default' (every usable backend but array-api-strict), 'all', or comma-separated "
    "backend specs such as 'cpu,gpu' or 'numpy,torch,jax'; see --list. Ratios are to the first.",
)
@click.option("--list", "list_only", is_flag=True, help="List the backends and whether each is usable here.")
@click.option("--sizes", default="784,128,10", show_default=True, help="The network: comma-separated layer widths.")
@click.option(
    "--batch-sizes",
    default="128,full",
    show_default=True,
    help="Comma-separated batch sizes; 'full' for full-batch gradient descent.",
)
@click.option(
    "--optimizers", default="sgd,adam", show_default=True, help="Comma-separated: sgd (lr 0.1), adam (lr 1e-3)."
)
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=None,
    help="Synthetic training samples. Default 60,000 (12,000 with --quick).",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Timed epochs per backend (median reported). Default 5 (2 with --quick).",
)
@click.option(
    "--warmup",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Untimed epochs first (compilation, caches, moving the data to the device).",
)
@click.option(
    "--shifts/--no-shifts",
    default=False,
    show_default=True,
    help="Also print the augmentation overhead table: training with RandomShifts(max_shift=1), "
    "with RandomAffine (--augment affine's ranges), with RandomElastic (the same and --elastic 34), "
    "and with RandomErasing(p=0.5) alone and after RandomAffine, against the same without, on each backend, "
    "784-32-10 and the --sizes network, batch 128.",
)
@click.option("--shifts-only", is_flag=True, help="Print only the augmentation overhead table.")
@click.option("--quick", is_flag=True, help="A fast look: 2 epochs on 12,000 samples.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the results as JSON to this file.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Data, initial weights and shuffling.")
def bench_command(
    backends,
    list_only,
    sizes,
    batch_sizes,
    optimizers,
    samples,
    epochs,
    warmup,
    shifts,
    shifts_only,
    quick,
    json_path,
    seed,
):
    """Time MLP.fit on each of xpnet's backends here, side by side: which --backend to train with.

    Every backend trains the same network (784-128-10 by default) on the same synthetic images
    from the same initial weights, drawing the same batches, in one process, interleaved epoch
    by epoch; the table gives seconds per epoch, the ratio to the first backend (below 1:
    faster), CPU time, samples/s and the loss. A ratio is marked "?" when the epochs it comes
    from scattered too much for it to be firm. Comparing xpnet with PyTorch, JAX or the GEMM
    floor is the source tree's harness: python -m benchmarks.compare.

    Examples:

    \b
      xpnet bench --list                          # the backends and whether each is usable
      xpnet bench --quick                         # a fast look: 2 epochs on 12,000 samples
      xpnet bench --backends cpu,gpu              # NumPy against CuPy
      xpnet bench --sizes 784,512,512,10 --batch-sizes 256 --optimizers adam
      xpnet bench --shifts-only --quick           # what augmentation adds on each backend
      xpnet bench --quick --json bench.json
    """
    from rich.console import Console

    console = Console() if sys.stdout.isatty() else Console(width=200)
    if list_only:
        from ..backend import available_backends

        for row in available_backends():
            state = "usable" if row.usable else "unavailable"
            console.print(f"{row.spec:18s} {row.device:28s} {state}: {row.detail}", highlight=False)
        return
    try:
        bs = parse_batch_sizes(batch_sizes)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--batch-sizes") from None
    try:
        net = parse_sizes(sizes)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--sizes") from None
    opts = [o.strip().lower() for o in optimizers.split(",") if o.strip()]
    bad = [o for o in opts if o not in DEFAULT_LR]
    if bad or not opts:
        raise click.BadParameter(
            f"unknown optimizer(s) {', '.join(bad) or '(none given)'}; choose sgd, adam", param_hint="--optimizers"
        )
    try:
        select_backends(backends)  # bad specs are usage errors, before anything is timed
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--backends") from None
    results = run_bench(
        backends=backends,
        sizes=net,
        batch_sizes=bs,
        optimizers=opts,
        n_samples=samples or (12000 if quick else 60000),
        epochs=epochs or (2 if quick else 5),
        warmup=warmup,
        seed=seed,
        main=not shifts_only,
        shifts=shifts or shifts_only,
        progress=lambda msg: console.print(f"[dim]{msg}[/]", highlight=False),
    )
    print_report(results, console)
    if json_path:
        _write_json(json_path, results)
        console.print(f"results written to {json_path}")
