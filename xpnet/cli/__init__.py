"""The ``xpnet`` command line, the top of the layers: it parses options, calls the library and
presents what the library returns.

``command``
:   The click group: its commands, error handling and exit codes ([`xpnet.cli.command`][xpnet.cli.command]).
``options``
:   What the commands share: exit codes, parameter types, ``--backend`` ([`xpnet.cli.options`][xpnet.cli.options]).
``train``
:   ``xpnet train`` ([`xpnet.cli.train`][xpnet.cli.train]).
``model_commands``
:   ``xpnet evaluate`` and ``xpnet predict`` ([`xpnet.cli.model_commands`][xpnet.cli.model_commands]).
``export``
:   ``xpnet export`` ([`xpnet.cli.export`][xpnet.cli.export]).
``diagnostics``
:   ``xpnet info`` and ``xpnet gradcheck`` ([`xpnet.cli.diagnostics`][xpnet.cli.diagnostics]).
``output``
:   What the commands show, rendered with rich ([`xpnet.cli.output`][xpnet.cli.output]).
``predict``
:   The predictions table of ``xpnet predict`` ([`xpnet.cli.predict`][xpnet.cli.predict]).

The console script ``xpnet`` is [`main`][xpnet.cli.command.main]; ``python -m xpnet.cli`` runs it too.
"""

from .command import cli, main

__all__ = ["cli", "main"]
