"""How a [`Backend`][xpnet.backend.Backend] pickles, and unpickling xpnet models and backends
onto a chosen backend ([`unpickle_on`][xpnet.backend.unpickle_on], ``$XPNET_UNPICKLE_BACKEND``)."""

from __future__ import annotations

import contextlib
import contextvars
import copyreg
import os

from ._backend import Backend, BackendUnavailable
from ._discovery import get_backend

__all__ = ["unpickle_on", "unpickle_target", "UNPICKLE_ENV_VAR"]

UNPICKLE_ENV_VAR = "XPNET_UNPICKLE_BACKEND"
_UNPICKLE_TARGET: contextvars.ContextVar[str | None] = contextvars.ContextVar("xpnet_unpickle_on", default=None)


@contextlib.contextmanager
def unpickle_on(spec: str | None):
    """Unpickle xpnet models and backends onto ``spec`` instead of the backend they were on.

    A pickled [`MLP`][xpnet.model.mlp.MLP] stores its weights as NumPy arrays and its backend as a
    spec (e.g. ``"cupy:0"``); unpickling looks that spec up again with [`get_backend`][xpnet.backend.get_backend],
    so a model pickled on a GPU fails, where there is none, with [`BackendUnavailable`][xpnet.backend.BackendUnavailable].
    Load it onto the CPU explicitly instead:

        with xpnet.backend.unpickle_on("cpu"):
            model = pickle.load(f)          # or joblib.load(path)

    The environment variable ``XPNET_UNPICKLE_BACKEND`` (e.g. ``=cpu``) does the same for a
    whole process (worker processes, for instance); the context manager takes precedence.

    Parameters
    ----------
    spec : str or None
        Any spec [`get_backend`][xpnet.backend.get_backend] understands; ``None`` restores the default (each object's
        own backend).
    """
    token = _UNPICKLE_TARGET.set(spec)
    try:
        yield
    finally:
        _UNPICKLE_TARGET.reset(token)


def unpickle_target(saved_spec: str) -> Backend:
    """The backend an object pickled on ``saved_spec`` is unpickled onto (see [`unpickle_on`][xpnet.backend.unpickle_on])."""
    target = _UNPICKLE_TARGET.get() or os.environ.get(UNPICKLE_ENV_VAR) or None
    try:
        return get_backend(target or saved_spec)
    except BackendUnavailable as exc:
        if target:
            raise
        raise BackendUnavailable(
            f"{exc}. The object was pickled on {saved_spec!r}; to load it onto the CPU instead, "
            "unpickle it inside `with xpnet.backend.unpickle_on('cpu'):` "
            f"(or set {UNPICKLE_ENV_VAR}=cpu)"
        ) from None


def _unpickle_backend(spec: str) -> Backend:
    return unpickle_target(spec)


def _reduce_backend(backend: Backend):
    """A backend pickles (and deep-copies) as its spec: the namespace module and the device
    object do not pickle, and the spec is looked up again where it is unpickled."""
    return (_unpickle_backend, (backend.spec,))


copyreg.pickle(Backend, _reduce_backend)  # read by pickle, copy, cloudpickle and joblib


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
