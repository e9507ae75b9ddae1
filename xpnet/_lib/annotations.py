"""Annotations that read well in ``help()``: evaluated, not strings.

The modules use ``from __future__ import annotations`` (so a method of ``MLP`` can say it
returns an ``MLP``), which leaves every annotation a string: ``help(MLP.to)`` would show
``-> 'MLP'``. `resolve_annotations`, called at the end of a module, replaces the strings
of its public functions and methods by the objects they name.
"""

from __future__ import annotations

import inspect
import typing


def resolve_annotations(namespace: dict, names) -> None:
    """Evaluate the string annotations of the functions, classes and methods ``names`` in
    ``namespace`` (a module's ``globals()``), in place. Leaves any it cannot evaluate."""
    for name in names:
        obj = namespace.get(name)
        targets = [obj]
        if inspect.isclass(obj):
            targets += [m for m in vars(obj).values()]
        for target in targets:
            fn = getattr(target, "__func__", target)  # classmethods, staticmethods
            if isinstance(fn, property):
                fn = fn.fget
            fn = inspect.unwrap(fn) if callable(fn) else fn  # e.g. @contextmanager
            if not callable(fn) or not getattr(fn, "__annotations__", None):
                continue
            try:
                fn.__annotations__ = typing.get_type_hints(fn, namespace, include_extras=True)
            except Exception:  # noqa: BLE001 - a name only importable under TYPE_CHECKING
                continue
