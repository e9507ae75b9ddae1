"""The ``xpnet`` command line, the top of the layers: it parses options, calls the library and
presents what the library returns.

``command``
:   The click group and its commands, options and exit codes ([`xpnet.cli.command`][xpnet.cli.command]).
``output``
:   What the commands show, rendered with rich ([`xpnet.cli.output`][xpnet.cli.output]).
``predict``
:   The predictions table of ``xpnet predict`` ([`xpnet.cli.predict`][xpnet.cli.predict]).

The console script ``xpnet`` is [`main`][xpnet.cli.command.main]; ``python -m xpnet.cli`` runs it too.
"""

from .command import cli, main

__all__ = ["cli", "main"]
