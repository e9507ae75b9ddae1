"""What every contender is: a [`Runner`][benchmarks.compare.contenders.base.Runner] that trains one epoch, and its registry entry."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from ..problem import Problem

__all__ = ["Runner", "Contender", "have", "probe_module"]


class Runner:
    """One contender set up for one problem.

    [`epoch`][benchmarks.compare.contenders.base.Runner.epoch] trains one epoch and returns its mean training loss (a float), or None when
    the contender computes none (the floor). ``platform`` is ``"cpu"`` or ``"cuda"``;
    ``uses_torch`` tells the timer to use PyTorch's CUDA events rather than CuPy's.
    """

    platform = "cpu"
    uses_torch = False

    def epoch(self) -> float | None:  # pragma: no cover - abstract
        """Train one epoch; return the mean training loss or None."""
        raise NotImplementedError

    def sync(self) -> None:
        """Wait for queued device work (CUDA contenders)."""

    def close(self) -> None:
        """Free what the contender holds."""


@dataclass(frozen=True)
class Contender:
    """A registry entry.

    Attributes
    ----------
    name : str
        What ``--contenders`` calls it.
    platform : str
        ``"cpu"`` or ``"cuda"``.
    description : str
        One line for ``--list`` and the JSON.
    probe : callable
        ``() -> None`` when usable here, else the reason it is not.
    make : callable
        ``(problem, variant) -> Runner``.
    default : bool
        Part of ``--contenders default``.
    variants : tuple of str
        Arrangements of the same work that are all timed, interleaved, the fastest (lowest
        median) being reported (the floor's two weight layouts). Empty: just one.
    """

    name: str
    platform: str
    description: str
    probe: Callable[[], str | None]
    make: Callable[[Problem, str | None], Runner]
    default: bool = True
    variants: tuple[str, ...] = ()


def have(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def probe_module(module: str, what: str) -> Callable[[], str | None]:
    """A probe that says ``"<what> is not installed"`` when ``module`` is missing."""

    def probe():
        return None if have(module) else f"{what} is not installed"

    return probe
