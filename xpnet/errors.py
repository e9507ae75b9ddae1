"""One family of exceptions: everything xpnet raises on purpose derives from [`XpnetError`][xpnet.errors.XpnetError].

Every class also derives from the builtin exception it has always been (``ValueError``,
``RuntimeError``, ``FloatingPointError``), so ``except ValueError`` keeps working:

    XpnetError
    ├── BackendUnavailable (RuntimeError)     xpnet.backend: a requested backend cannot be used
    ├── CheckpointError (ValueError)          xpnet.model.checkpoint: a checkpoint cannot be read
    ├── DataError (ValueError)                xpnet.datasets: a data file is missing or malformed
    │   └── DatasetUnavailable                    a known dataset is neither cached nor downloadable
    ├── ImageError (ValueError)               xpnet.images: an image file cannot be read
    ├── TrainingDiverged (FloatingPointError) xpnet.model.mlp: the training loss became NaN or infinite
    ├── ConfigError (ValueError)              an invalid setting (training option, optimizer,
    │                                             initialiser, activation, dtype, backend spec …)
    ├── InvalidInput (ValueError)             an input array or argument has a bad shape or values
    ├── InvalidInputType (TypeError)          an input is not of an accepted type
    ├── RunError (ValueError)                 xpnet.runs: a run directory cannot be used as asked
    └── UntrainedModel (ValueError)           xpnet.runs: a checkpoint holds no trained weights

The command line shows an [`XpnetError`][xpnet.errors.XpnetError] as one line and exits with status 2; any other
exception is a bug in xpnet (exit status 1). This module imports nothing from xpnet, so every
module may import it.
"""

from __future__ import annotations

__all__ = [
    "XpnetError",
    "ConfigError",
    "InvalidInput",
    "InvalidInputType",
    "RunError",
    "UntrainedModel",
    "TrainingDiverged",
]


class XpnetError(Exception):
    """The root of every exception xpnet raises on purpose.

    The message is meant for the user as it is: it names the problem and what to do about it.
    """


class ConfigError(XpnetError, ValueError):
    """A setting is invalid or two settings do not go together (e.g. ``momentum`` with the
    ``adam`` optimizer, an unknown preset, optimizer, schedule, initialiser, activation, dtype
    or backend, a batch size of 0)."""


class InvalidInput(XpnetError, ValueError):
    """An input array (X, y, sample_weight, labels, pixels) or argument has the wrong shape
    or bad values; the message says which input, what is wrong and what was expected."""


class InvalidInputType(XpnetError, TypeError):
    """An input is not of an accepted type (e.g. float labels, strings, sparse matrices, a
    seed that is not an integer)."""


class RunError(XpnetError, ValueError):
    """A run directory cannot be used as asked: it already holds a run, holds nothing to
    resume, or was trained on other data."""


class UntrainedModel(XpnetError, ValueError):
    """A checkpoint holds no trained weights, e.g. the initial weights a run kept when it
    diverged in its first epoch."""


class TrainingDiverged(XpnetError, FloatingPointError):
    """The training loss became NaN or infinite."""


class CheckpointError(XpnetError, ValueError):
    """A checkpoint file cannot be read: missing, not an xpnet checkpoint, truncated,
    corrupted, from an unknown format version, or with missing or misshapen arrays.

    The message names the file and the problem.
    """


class ExportError(XpnetError, ValueError):
    """A model cannot be exported as asked: an unknown suffix, a directory that does not
    exist, an unfitted estimator, a model the format cannot express. The message says which
    and what to do."""


class ExportExtraMissing(ExportError, ImportError):
    """The library that writes (or reads) the format is not installed; the message names
    the package and ``pip install "xpnet[export]"``."""


TrainingDiverged.__module__ = "xpnet.model"  # importable (and pickled) there since 0.1.0
CheckpointError.__module__ = "xpnet.model.checkpoint"  # documented (and raised) there
ExportError.__module__ = ExportExtraMissing.__module__ = "xpnet.interop"
