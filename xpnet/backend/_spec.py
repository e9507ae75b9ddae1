"""The backend-spec grammar: [`parse_backend_spec`][xpnet.backend.parse_backend_spec] turns
``"cpu"``, ``"torch:cuda:1"``, ``"array_api_strict:device1"``, ... into a
[`BackendSpec`][xpnet.backend.BackendSpec] (a library and a device), or says which forms are valid.

Parsing imports no array library and probes no device: [`get_backend`][xpnet.backend.get_backend]
builds the backend from the parsed value, and the command line checks ``--backend`` with the
same function before anything is loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["BackendSpec", "parse_backend_spec", "BACKEND_FORMS"]

#: Every form a spec can take, as error messages and ``--help`` list them.
BACKEND_FORMS = (
    "auto, cpu, gpu, cuda:N, cupy:N, torch, torch:cpu, torch:cuda, torch:cuda:N, jax, "
    "jax:cpu, jax:gpu, array_api_strict, array_api_strict:device1"
)

#: Other names of a library, as people write them.
_ALIASES = {
    "cpu": "numpy",
    "np": "numpy",
    "gpu": "cupy",
    "cuda": "cupy",
    "strict": "array_api_strict",
    "array-api-strict": "array_api_strict",
}

#: What may follow ``library:``, per library; why, when it does not match.
_DEVICES = {
    "auto": (re.compile(r""), "auto takes no device"),
    "numpy": (re.compile(r"(cpu)?"), "NumPy runs only on the CPU"),
    "cupy": (re.compile(r"(\d+)?"), "a CuPy device is a CUDA device number (cuda:N)"),
    "torch": (re.compile(r"(cpu|(cuda|gpu)(:\d+)?)?"), "a PyTorch device is cpu, cuda or cuda:N"),
    "jax": (re.compile(r"(\w+)?"), "a JAX device is a platform name such as cpu or gpu"),
    "array_api_strict": (re.compile(r"(\w+)?"), "an array-api-strict device is a name such as device1"),
}


@dataclass(frozen=True)
class BackendSpec:
    """A parsed backend spec: which library, on which device, and where the spec came from.

    Attributes
    ----------
    library : str
        ``"auto"``, ``"numpy"``, ``"cupy"``, ``"torch"``, ``"jax"`` or ``"array_api_strict"``
        (aliases such as ``"cpu"`` and ``"gpu"`` resolved).
    device : str
        What followed the library, lower-cased: ``""`` (the library's default), ``"1"`` for
        ``cuda:1``, ``"cuda:0"`` for ``torch:cuda:0``, ``"device1"``, ...
    text : str
        The spec as it was given (for messages).
    source : str
        Where it came from, for messages: ``"argument"``, ``"$XPNET_BACKEND"``, ``"--backend"``, ...
    """

    library: str
    device: str = ""
    text: str = ""
    source: str = "argument"


def parse_backend_spec(text: str, source: str = "argument") -> BackendSpec:
    """Parse a backend spec such as ``"cpu"``, ``"cuda:1"`` or ``"torch:cuda"``.

    Case and surrounding spaces do not matter. The grammar is ``library[:device]``, with the
    libraries and aliases of the table in [`xpnet.backend`][xpnet.backend]; ``cuda:N`` is
    CuPy on device N.

    Parameters
    ----------
    text : str
        The spec.
    source : str
        Where the spec came from, named in the error message (``"argument"``,
        ``"$XPNET_BACKEND"``, ``"--backend"``).

    Returns
    -------
    BackendSpec
        The library and device; nothing is imported or probed.

    Raises
    ------
    ConfigError
        The spec has none of the valid forms; the message names the spec, its source and
        every valid form (``BACKEND_FORMS``).

    Examples
    --------
    >>> parse_backend_spec("torch:cuda:1")
    BackendSpec(library='torch', device='cuda:1', text='torch:cuda:1', source='argument')
    >>> parse_backend_spec("GPU").library
    'cupy'
    """
    raw = str(text).strip().lower()
    name, _, device = raw.partition(":")
    library = _ALIASES.get(name, name)
    if library not in _DEVICES:
        raise ConfigError(f"unknown backend {text!r} (from {source}); expected one of: {BACKEND_FORMS}")
    pattern, why = _DEVICES[library]
    if raw.endswith(":") or not pattern.fullmatch(device):
        raise ConfigError(f"unknown backend {text!r} (from {source}): {why}; expected one of: {BACKEND_FORMS}")
    return BackendSpec(library, device, str(text), source)


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
