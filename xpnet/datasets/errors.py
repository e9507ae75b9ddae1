"""Exceptions raised by [`xpnet.datasets`][xpnet.datasets]."""

from __future__ import annotations

from ..errors import XpnetError

__all__ = ["DataError", "DatasetUnavailable"]


class DataError(XpnetError, ValueError):
    """A data file is missing, malformed, or fails verification.

    The message always names the file (or dataset), says what is wrong and,
    where it helps, what was expected and what to do about it. It is meant to
    be shown to the user as is, without a traceback.
    """


class DatasetUnavailable(DataError):
    """A known dataset is neither cached locally nor downloadable right now.

    Raised when the files are missing and downloading is switched off or every
    mirror failed (for example on an offline machine). The message lists the
    files needed, with their sizes and SHA-256 checksums, and the directory to
    put them in.
    """
