"""Running the app with uvicorn: in the foreground (``xpnet serve``) or in a background thread.

The socket is bound here, before uvicorn starts, so that the address (with the port the
system picked for ``port=0``) is known and printed, and a port in use is one clear error.

>>> from xpnet.serve.app import create_app                     # doctest: +SKIP
>>> with BackgroundServer(create_app("runs/mnist")) as server:  # doctest: +SKIP
...     print(server.url)                                       # http://127.0.0.1:41873/
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
import time

import uvicorn

from ..errors import XpnetError

__all__ = ["bind_socket", "is_loopback", "url_for", "serve", "BackgroundServer", "ServerError"]


class ServerError(XpnetError, OSError):
    """The server cannot listen on the address asked for (in use, not allowed, unknown host)."""


def is_loopback(host: str) -> bool:
    """True when ``host`` is only reachable from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_for(host: str, port: int) -> str:
    """``http://HOST:PORT/``, with IPv6 addresses in brackets."""
    host = host.strip("[]")
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def bind_socket(host: str = "127.0.0.1", port: int = 8000) -> socket.socket:
    """A TCP socket bound to ``host:port`` (``port=0``: a free port the system picks).

    Parameters
    ----------
    host : str
        The address to listen on: ``127.0.0.1`` (this machine only), ``0.0.0.0`` (every
        IPv4 interface), ``::`` or a host name.
    port : int
        0 to 65535.

    Returns
    -------
    socket.socket
        Bound and listening (a browser opened as soon as the address is printed waits in the
        queue until the server runs); ``sock.getsockname()[1]`` is the port.

    Raises
    ------
    ServerError
        The host is unknown, or the port is in use or not allowed.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ServerError(f"cannot listen on {host!r}: unknown host ({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServerError(
                f"port {port} on {host} is already in use: choose another with --port (--port 0 picks a free one)"
            ) from None
        if exc.errno == errno.EACCES:
            raise ServerError(
                f"not allowed to listen on port {port} (ports below 1024 need administrator "
                "rights): choose another with --port"
            ) from None
        raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)  # connections from now on wait in the queue until uvicorn accepts them
    sock.set_inheritable(True)
    return sock


def _config(app, log_level: str, access_log: bool) -> uvicorn.Config:
    return uvicorn.Config(app, log_level=log_level, access_log=access_log, lifespan="off", timeout_graceful_shutdown=2)


def serve(app, sock: socket.socket, *, log_level: str = "warning", access_log: bool = False) -> None:
    """Serve ``app`` on the bound ``sock`` until Ctrl-C (or SIGTERM); closes the socket."""
    try:
        uvicorn.Server(_config(app, log_level, access_log)).run(sockets=[sock])
    finally:
        sock.close()


class BackgroundServer:
    """``app`` served by uvicorn in a daemon thread, for tests and notebooks.

    Use it as a context manager, or call [`start`][xpnet.serve.server.BackgroundServer.start] and [`stop`][xpnet.serve.server.BackgroundServer.stop]; ``url`` is the
    address once started.

    Parameters
    ----------
    app : ASGI application
        E.g. [`xpnet.serve.app.create_app`][xpnet.serve.app.create_app]'s.
    host, port : str, int
        Where to listen (default 127.0.0.1 and a free port).
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"):
        self.app, self.host, self.port = app, host, port
        self.server = uvicorn.Server(_config(app, log_level, access_log=False))
        self.thread: threading.Thread | None = None
        self.url: str | None = None
        self._sock: socket.socket | None = None

    def start(self, timeout: float = 30.0) -> BackgroundServer:
        """Bind, start the thread, and wait (up to ``timeout`` s) until the server accepts."""
        self._sock = bind_socket(self.host, self.port)
        self.port = self._sock.getsockname()[1]
        self.url = url_for(self.host, self.port)
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self._sock]},
            name=f"xpnet-serve-{self.port}",
            daemon=True,
        )
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"the server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to finish, wait for its thread, close the socket."""
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout)
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
