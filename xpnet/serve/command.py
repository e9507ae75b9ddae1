"""The ``xpnet serve MODEL`` command: start the drawing page for one trained model.

This module imports only click at import time, so the command is listed (and explains how to
install the web packages) even where the ``serve`` extra is not installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from ..errors import XpnetError
from . import SERVE_EXTRA_HINT

__all__ = ["serve_command"]


class ServeError(XpnetError):
    """``xpnet serve`` cannot start (the web packages are missing); the command line shows the
    message as one line and exits with status 2."""


def _have_web_packages() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("starlette", "uvicorn"))


@click.command("serve", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. The default is reachable from this machine only; "
    "0.0.0.0 (or another address) makes the page reachable from the network.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: pick a free one).",
)
@click.option("--backend", metavar="SPEC", help="Backend to run the model on (default: $XPNET_BACKEND, else auto).")
@click.option("--access-log", is_flag=True, help="Print one line per request.")
def serve_command(model_path: Path, host: str, port: int, backend: str | None, access_log: bool) -> None:
    """Open a page where you draw a digit and watch the network think.

    MODEL is a checkpoint (model.npz) or a run directory. The page shows, as you draw, the
    28x28 input X, every layer's activations A1 = ReLU(W1·X + b1), ..., the softmax
    probabilities, and the first layer's weights W1 with the most active units highlighted.

    \b
    Examples:
      xpnet serve runs/mnist-20250101-120000
      xpnet serve model.npz --port 0 --backend gpu
      xpnet serve model.npz --host 0.0.0.0      # reachable from other machines
    """
    if not _have_web_packages():
        raise ServeError(SERVE_EXTRA_HINT)
    from ..backend import get_backend, parse_backend_spec
    from .app import create_app
    from .server import bind_socket, is_loopback, serve, url_for

    # Read as every command reads --backend: errors say "(from --backend)".
    chosen = None if backend is None else get_backend(parse_backend_spec(backend, "--backend"))
    app = create_app(model_path, backend=chosen)
    info = app.state.inspector.model_info()
    sock = bind_socket(host, port)  # ServerError (an XpnetError): one line, exit status 2
    bound = sock.getsockname()[1]
    arch = "-".join(map(str, info["sizes"]))
    facts = [f"{arch} {info['activation']}"]
    if info["dataset"].get("name"):
        facts.append(f"trained on {info['dataset']['name']}")
    if info["accuracy"] is not None:
        facts.append(f"test accuracy {info['accuracy']:.2%}")
    click.echo(
        f"xpnet serve: {app.state.inspector.checkpoint.path} ({', '.join(facts)}) "
        f"on {info['backend']['spec']} ({info['backend']['device']})"
    )
    if info.get("warning"):
        click.echo(f"Warning: {info['warning']}", err=True)
    if not is_loopback(host):
        click.echo(
            f"Warning: listening on {host}: the page and its API are reachable from the network "
            "by anyone who can reach this machine (the default --host 127.0.0.1 is not).",
            err=True,
        )
    if host in ("0.0.0.0", "::", ""):
        click.echo(
            f"Open {url_for('127.0.0.1' if host != '::' else '::1', bound)} here, or this machine's "
            f"address on port {bound} from elsewhere.  (Ctrl-C stops.)"
        )
    else:
        click.echo(f"Open {url_for(host, bound)} in a browser.  (Ctrl-C stops.)")
    try:
        serve(app, sock, log_level="info" if access_log else "warning", access_log=access_log)
    except KeyboardInterrupt:  # uvicorn shuts down cleanly, then passes Ctrl-C on: stopping is normal
        pass
    click.echo("xpnet serve: stopped.")
