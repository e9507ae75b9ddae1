"""The web application behind ``xpnet serve``: one page and a small JSON API (Starlette).

Routes
------
``GET /``
    The page (``static/index.html`` with its ``app.js`` and ``style.css``; nothing from the
    internet): draw a digit, see X, A1, A2, … and W1 update as you draw.

``GET /api/model``
:   The architecture, dataset, class names, test accuracy, layer equations (JSON).

``GET /api/weights.png``
:   The first layer's weights W1, one 28×28 tile per hidden unit (layout in ``/api/model``).

``POST /api/predict``
:   An image (PNG/JPEG body, or the canvas's data URL as JSON ``{"image": ...}`` or text) →
    ``prediction``, ``label``, ``probabilities``, ``input`` (28×28) and ``layers`` (JSON).

Every error is JSON ``{"error": ..., "reason": ..., "status": ...}`` with a 4xx status: 400
not an image / empty / malformed, 404 unknown path, 405 wrong method, 413 over the size limit,
415 a body type that holds no image, 422 nothing drawn.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .inference import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, Inspector, RequestError, image_bytes_from_body

__all__ = ["create_app", "STATIC_DIR", "DEFAULT_DRAIN_BYTES"]

log = logging.getLogger("xpnet.serve")

#: The page's files, shipped inside the package.
STATIC_DIR = Path(__file__).resolve().parent / "static"

# The page loads nothing but its own files and talks only to this server.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; script-src 'self'; "
        "style-src 'self'; connect-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

#: How much of a body over the limit is read through (and discarded) before answering 413.
DEFAULT_DRAIN_BYTES = 64 * 1024 * 1024

_REASONS = {404: "not_found", 405: "method_not_allowed"}


def _error(status: int, message: str, reason: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "reason": reason, "status": status}, status_code=status, headers=headers)


def _too_large(max_bytes: int, drain_bytes: int, *, received: int | None, closing: bool) -> JSONResponse:
    """413 for a body over ``max_bytes``.

    ``closing=False``: the body was read to its end (and thrown away), so the client has
    finished sending and reads this answer; the connection stays usable. ``closing=True``: the
    body is over ``drain_bytes`` too and is not read further; the answer says
    ``Connection: close`` and the server closes while the client may still be sending. The
    kernel then resets the connection (unread data on a closed socket), and a client that
    stops reading at its failed write (httpx's async client does) never sees the 413.
    """
    message = f"the request body is over the limit of {max_bytes:,} bytes: send a smaller image"
    if closing:
        how = "announced by Content-Length" if received is None else f"{received:,} bytes read"
        log.info("413: a request body over %s bytes (%s); closing without reading the rest", f"{drain_bytes:,}", how)
    return _error(413, message, "too_large", {"Connection": "close"} if closing else None)


def create_app(
    model_path_or_checkpoint,
    backend=None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    drain_bytes: int = DEFAULT_DRAIN_BYTES,
) -> Starlette:
    """The Starlette application serving one model.

    Parameters
    ----------
    model_path_or_checkpoint : str, os.PathLike, Checkpoint or Inspector
        A checkpoint file, a run folder holding ``model.npz``, a loaded
        [`Checkpoint`][xpnet.model.checkpoint.Checkpoint], or an [`Inspector`][xpnet.serve.inference.Inspector].
    backend : str or Backend, optional
        Where the forward pass runs (``"cpu"``, ``"gpu"``, ...; default ``$XPNET_BACKEND`` or
        auto). Ignored for an ``Inspector``, which already has its model.
    max_bytes : int
        The largest ``POST /api/predict`` body (default 5 MiB); larger ones get 413 JSON.
    drain_bytes : int
        How much of a body over ``max_bytes`` is still read (and thrown away, never kept)
        before answering 413, so that the client finishes sending and can read the answer
        (default 64 MiB). A body announced or streamed beyond this gets its 413 at once, with
        ``Connection: close``; a client still sending may then see a reset connection instead.
    max_pixels : int
        The largest image, width × height (default 40 million); larger ones get 413.

    Returns
    -------
    starlette.applications.Starlette
        The ASGI application; run it with [`xpnet.serve.server.serve`][xpnet.serve.server.serve] or any ASGI server.

    Raises
    ------
    CheckpointError
        The checkpoint cannot be read.
    ValueError
        The model does not take 28×28 images.
    """
    if isinstance(model_path_or_checkpoint, Inspector):
        inspector = model_path_or_checkpoint
    else:
        inspector = Inspector(model_path_or_checkpoint, backend=backend, max_pixels=max_pixels)
    max_bytes = int(max_bytes)
    drain_bytes = max(int(drain_bytes), max_bytes)
    info = inspector.model_info()
    info["limits"]["max_bytes"] = max_bytes

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers=_PAGE_HEADERS)

    async def model(request: Request) -> Response:
        return JSONResponse(info)

    async def weights(request: Request) -> Response:
        data = await run_in_threadpool(inspector.weights_png)
        return Response(data, media_type="image/png", headers={"Cache-Control": "no-cache"})

    async def predict(request: Request) -> Response:
        length = request.headers.get("content-length")
        announced = None
        if length is not None:
            try:
                announced = int(length)
            except ValueError:
                return _error(400, f"Content-Length {length!r} is not a number", "bad_request")
        if announced is not None and announced > drain_bytes:
            # Too large to read through: answer at once and close. The client, still sending,
            # may see the connection reset before it reads this (see _too_large).
            return _too_large(max_bytes, drain_bytes, received=None, closing=True)
        body = bytearray()
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received <= max_bytes:
                body += chunk
            elif received > drain_bytes:
                return _too_large(max_bytes, drain_bytes, received=received, closing=True)
            elif body:
                body = bytearray()  # over the limit: read the rest through, keep nothing
        if received > max_bytes:
            return _too_large(max_bytes, drain_bytes, received=received, closing=False)
        try:
            data = image_bytes_from_body(bytes(body), request.headers.get("content-type"))
            result = await run_in_threadpool(inspector.predict_bytes, data)
        except RequestError as exc:
            return JSONResponse(exc.to_json(), status_code=exc.status)
        return JSONResponse(result)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)  # registered for it alone (Starlette types a handler's exc as Exception)
        status = exc.status_code
        if status == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = f"{request.method} is not allowed on {request.url.path}" + (f"; use {allowed}" if allowed else "")
        elif status == 404:
            message = (
                f"no such page or endpoint: {request.url.path} (the API is GET /api/model, "
                "GET /api/weights.png and POST /api/predict)"
            )
        else:
            message = str(exc.detail)
        return _error(status, message, _REASONS.get(status, "http_error"), exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("error answering %s %s", request.method, request.url.path)
        return _error(500, f"internal error ({type(exc).__name__}); the server log has the details", "internal_error")

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/api/model", model, methods=["GET"]),
        Route("/api/weights.png", weights, methods=["GET"]),
        Route("/api/predict", predict, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error, 500: server_error})
    app.state.inspector = inspector
    return app
