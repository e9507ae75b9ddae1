"""The ``xpnet`` click group: its commands, how a failure becomes a message and an exit code, ``main``.

The group registers ``info`` and ``gradcheck`` ([`xpnet.cli.diagnostics`][xpnet.cli.diagnostics]),
``train`` ([`xpnet.cli.train`][xpnet.cli.train]), ``evaluate`` and ``predict``
([`xpnet.cli.model_commands`][xpnet.cli.model_commands]), ``export`` ([`xpnet.cli.export`][xpnet.cli.export]),
``bench`` and ``serve``; what the commands
share (exit codes, parameter types, ``--backend``) is in [`xpnet.cli.options`][xpnet.cli.options], and
those names are importable from here too. [`xpnet.cli.output`][xpnet.cli.output] renders the results
with rich. Exit codes: 0 success; 1 the work failed (training diverged, a gradient check failed) or a
bug in xpnet (any unexpected error: rerun with ``--debug`` and report it); 2 bad usage or input (every
[`XpnetError`][xpnet.errors.XpnetError] and ``OSError``: one line, no traceback); 130 Ctrl-C (``train``
saves a checkpoint first); 141 the output pipe closed early (``xpnet info | head -1``).
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import click

from ..backend.environment import xpnet_version
from ..errors import XpnetError
from . import output as out
from .diagnostics import gradcheck, info
from .export import export
from .model_commands import evaluate, predict
from .options import (
    BACKEND_HELP,
    BUG_HINT,
    CONTEXT_SETTINGS,
    EXIT_BROKEN_PIPE,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    BatchSize,
    CLIError,
    IntList,
    resolve_backend,
)
from .train import train

__all__ = [
    "cli",
    "main",
    "XpnetGroup",
    "info",
    "train",
    "evaluate",
    "predict",
    "gradcheck",
    "export",
    "CLIError",
    "IntList",
    "BatchSize",
    "resolve_backend",
    "BACKEND_HELP",
    "CONTEXT_SETTINGS",
    "BUG_HINT",
    "EXIT_OK",
    "EXIT_FAILURE",
    "EXIT_USAGE",
    "EXIT_INTERRUPTED",
    "EXIT_BROKEN_PIPE",
]

_state: dict[str, Any] = {"debug": False}


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
@click.version_option(xpnet_version(), "-V", "--version", prog_name="xpnet")
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
      xpnet export runs/mnist-*/model.npz mnist.onnx

    Exit codes: 0 success, 1 failure (diverged, gradcheck failed, or a bug in xpnet),
    2 bad usage or input, 130 interrupted (Ctrl-C).
    """
    _state["debug"] = debug
    _state["verbose"] = verbose
    out.setup_logging(verbose)


# -- the commands ---------------------------------------------------------------------------------
for _command in (info, train, evaluate, predict, export, gradcheck):
    cli.add_command(_command)

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
