"""``xpnet bench``: how fast xpnet trains on each of its backends on this machine, side by side.

What a user choosing between ``--backend cpu`` and ``--backend gpu`` (or ``torch``, ``jax``)
wants to know: [`xpnet.MLP.fit`][xpnet.model.mlp.MLP.fit]'s seconds per epoch on every usable
backend ([`xpnet.backend.available_backends`][xpnet.backend.available_backends]), for a network,
batch size and optimizer of the user's choosing, on synthetic Fashion-MNIST-shaped images.

What is timed
-------------
Every backend trains a fresh model of the same network from the same initial weights, drawing
the same shuffled batches (both come from a host generator seeded alike), so the losses agree to
rounding. The backends run in one process and are *interleaved* epoch by epoch, so that a machine
whose speed drifts slows them all alike; the first ``warmup`` epochs (compilation, moving the data
to the device, caches) are not counted, and each figure is the median of the timed epochs, on the
wall clock between two device synchronisations, with the process's CPU time beside it. Ratios are
to the first backend (NumPy by default), and marked ``?`` when the epochs they come from scatter
by more than 20 % (max − min over the median) or 10 % (coefficient of variation).

The augmentation overhead table (``--shifts``) trains, on each backend, with
[`RandomShifts`][xpnet.augment.shifts.RandomShifts] (``max_shift=1``, ``xpnet train --shift 1``)
with [`RandomAffine`][xpnet.augment.affine.RandomAffine] (``xpnet train --augment affine``'s
ranges), with [`RandomElastic`][xpnet.augment.elastic.RandomElastic] (the same and
``--elastic 34``), and with [`RandomErasing`][xpnet.augment.erasing.RandomErasing] (``p=0.5``,
``--erase 0.5``) alone and after the affine distortions, against the same training without, and
gives the ratio augmented / plain.

This package imports no array library but NumPy: the backends import theirs through
[`xpnet.backend`][xpnet.backend]. Timing xpnet against PyTorch, JAX, a plain NumPy loop or the
GEMM floor is the source tree's harness, ``python -m benchmarks.compare`` (docs/benchmarks.md).

Layout: [`fit`][xpnet.bench.fit] (the data and the runner), [`timing`][xpnet.bench.timing]
(clocks, interleaving, scatter), [`run`][xpnet.bench.run] (backends and configurations),
[`report`][xpnet.bench.report] (the tables), [`command`][xpnet.bench.command] (the click command).
"""

from __future__ import annotations

from .command import bench_command
from .fit import FitRunner, synthetic_images
from .report import print_report
from .run import run_bench, select_backends
from .timing import interleave, scatter, time_epoch

__all__ = [
    "bench_command",
    "run_bench",
    "select_backends",
    "print_report",
    "FitRunner",
    "synthetic_images",
    "interleave",
    "time_epoch",
    "scatter",
]
