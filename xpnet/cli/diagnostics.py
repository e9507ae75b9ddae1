"""The commands that check the installation and the math: ``xpnet info`` and ``xpnet gradcheck``.

``info`` shows the versions, the installed backends and devices, what ``auto`` picks and the
data cache; ``gradcheck`` compares backprop's gradients with finite differences
([`xpnet.gradcheck`][xpnet.model.gradcheck.gradcheck]) and exits with 1 when they disagree.
"""

from __future__ import annotations

import os
import time

import click
import numpy as np

from ..errors import XpnetError
from ..nn.activations import ACTIVATIONS
from . import output as out
from .options import BACKEND_HELP, CONTEXT_SETTINGS, EXIT_FAILURE, IntList, backend_option, resolve_backend

__all__ = ["info", "gradcheck"]


@click.command(context_settings=CONTEXT_SETTINGS)
def info() -> None:
    """Show the version, the installed backends and devices, and what 'auto' picks.

    \b
    Examples:
      xpnet info
      XPNET_BACKEND=cpu xpnet info
    """
    from ..backend import ENV_VAR, available_backends
    from ..backend.environment import auto_backend, blas_threads, versions
    from ..datasets.cache import data_root
    from ..datasets.sources import KNOWN_DATASETS

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


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--backend", metavar="SPEC", callback=backend_option, help=BACKEND_HELP)
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
    from ..model.gradcheck import gradcheck as run_gradcheck
    from ..model.mlp import MLP

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
