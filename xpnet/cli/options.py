"""What every ``xpnet`` command shares: exit codes, the error it raises, its parameter types and options.

The exit codes ([`xpnet.cli.command`][xpnet.cli.command] turns every failure into one of them),
[`CLIError`][xpnet.cli.options.CLIError], the parameter types ``N,N,...``
([`IntList`][xpnet.cli.options.IntList]) and ``N|full`` ([`BatchSize`][xpnet.cli.options.BatchSize]),
``--backend`` ([`resolve_backend`][xpnet.cli.options.resolve_backend]) and ``--dataset`` /
``--data`` ([`data_spec`][xpnet.cli.options.data_spec]). The commands import them from here, so
they do not depend on the group that holds them.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..backend import BACKEND_FORMS
from ..errors import XpnetError
from ..runs.config import parse_batch_size

__all__ = [
    "EXIT_OK",
    "EXIT_FAILURE",
    "EXIT_USAGE",
    "EXIT_INTERRUPTED",
    "EXIT_BROKEN_PIPE",
    "CONTEXT_SETTINGS",
    "BUG_HINT",
    "BACKEND_HELP",
    "CLIError",
    "IntList",
    "BatchSize",
    "resolve_backend",
    "backend_option",
    "data_spec",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 130, 141

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
BUG_HINT = "this is a bug in xpnet; rerun with --debug and report it"


class CLIError(XpnetError, click.ClickException):
    """An error to show as one message, with an exit code (2 unless told otherwise)."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        # click declares exit_code a ClassVar, but reads it from the exception it catches (e.exit_code):
        # an instance value is how each error carries its own code.
        self.exit_code = exit_code  # type: ignore[misc]


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


def backend_option(ctx, param, value):
    """The ``--backend`` option's callback: [`resolve_backend`][xpnet.cli.options.resolve_backend] of its value."""
    return resolve_backend(value)


BACKEND_HELP = f"Backend: {BACKEND_FORMS} (default: $XPNET_BACKEND, else auto)."


def data_spec(dataset: str | None, data_path: Path | None) -> str | None:
    """The data spec of ``--dataset`` or ``--data`` (an absolute path); a usage error for both."""
    if dataset and data_path:
        raise click.UsageError("give either --dataset or --data, not both")
    if data_path is not None:
        return str(data_path.expanduser().resolve())
    return dataset
