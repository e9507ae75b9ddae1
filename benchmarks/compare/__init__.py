"""xpnet's training speed side by side with the GEMM floor and with other libraries.

The comparison harness of the source tree (not part of the installed package: it imports PyTorch,
JAX and CuPy directly, which the wheel never does outside ``xpnet.backend``). Run it from the
repository root: ``python -m benchmarks.compare --help`` (or ``python benchmarks/bench.py``).
``xpnet bench``, the installed command, only times xpnet's own backends against each other
([`xpnet.bench`][xpnet.bench]).

What is timed
-------------
Training epochs of one network (by default 784-128-10, ReLU, softmax cross-entropy, float32,
every contender starting from the same initial weights and drawing the same shuffled order
of the samples each epoch) on Fashion-MNIST-sized data: the real Fashion-MNIST training set
when its files are found (read through [`xpnet.datasets`][xpnet.datasets]), else synthetic images of the
same shape. The contenders, one module each under [`benchmarks.compare.contenders`][benchmarks.compare.contenders]:

``floor`` / ``floor-cupy``
:   Only the matrix products one epoch needs (forward, and backward dW and dA without an input
    gradient) into preallocated outputs (``matmul(out=)``), on contiguous batches, in both
    weight layouts — ``(n_out, n_in)`` with X·Wᵀ and ``(n_in, n_out)`` with X·W — of which
    the faster is reported (the JSON records which). Nothing that trains this network can be
    faster on the same BLAS (or cuBLAS): every other contender is reported as a ratio to it.

``floor+gather``
:   The floor plus each batch's rows gathered through the epoch's permutation: what shuffling
    alone adds (every contender but the floor shuffles).

``xpnet-numpy``, ``xpnet-torch``, ``xpnet-jax``, ``xpnet-cupy``, ``xpnet-torch-cuda`` (``xpnet-jax-eager``, ``xpnet-strict``)
:   [`xpnet.MLP.fit`][xpnet.model.mlp.MLP.fit]'s own training loop on that backend, advanced one epoch at a time.
    On JAX its steps run compiled ([`xpnet.model.compiled`][xpnet.model.compiled]); ``xpnet-jax-eager`` runs
    them with ``compile=False``, one dispatch per array operation, for comparison.

``numpy``
:   A plain hand-written NumPy implementation, the way the tutorial writes it (per-batch fancy
    indexing, ``dZ1 = dA1 * (Z1 > 0)``, textbook Adam).

``torch`` / ``torch-cuda``
:   PyTorch eager: ``F.linear``/``relu``/``F.cross_entropy``, *autograd* for the gradients and
    ``torch.optim.SGD``/``Adam`` (their default implementation), i.e. PyTorch as usually written.

``jax-jit`` / ``jax-scan``
:   JAX with ``jax.grad``; one jitted step per batch, or the whole epoch in one jitted
    ``lax.scan`` (plus one jitted step for a last partial batch).

A second table, the **per-step overhead**, trains a tiny network (64-16-10, batch 16, 16,384
synthetic samples: 1,024 steps an epoch whose matrix products cost next to nothing) with xpnet,
the plain NumPy loop and PyTorch eager (when installed), interleaved the same way, and gives
microseconds per step and the ratio to the plain NumPy loop.

A third table, the **augmentation overhead**, trains xpnet (``xpnet-numpy``, and
``xpnet-cupy`` where usable) with [`xpnet.augment.shifts.RandomShifts`][xpnet.augment.shifts.RandomShifts] (``max_shift=1``, what
``xpnet train --shift 1`` uses) against the same training without (``xpnet-numpy+shifts``
against ``xpnet-numpy``), and with [`xpnet.augment.affine.RandomAffine`][xpnet.augment.affine.RandomAffine] (the ranges of
``xpnet train --augment affine``; ``xpnet-numpy+affine``), interleaved the same way, on the
benchmark's data at batch 128, for a small network where compute is cheap (784-32-10, the one
with the 1.15× target for the shifts) and the main network, and gives seconds per epoch and the
ratio augmented / plain.

How it is timed ([`benchmarks.compare.run`][benchmarks.compare.run], [`benchmarks.compare.measure`][benchmarks.compare.measure])
--------------------------------------------------------------------
Contenders run in one process and are *interleaved* epoch by epoch, so that a machine whose
speed drifts slows them all alike; the first ``warmup`` epochs are not counted, and each figure
is the median over the timed epochs. On the CPU both the wall-clock time and the process's CPU
time are measured; on a CUDA device, CUDA events after a device synchronisation, with the data
resident on the device. When the floor's timed epochs scatter by more than 20 % (max − min over
the median) or their coefficient of variation exceeds 10 %, the ratios to it are marked ``?``
and a warning says by how much; so are a contender's ratios when its own epochs scatter so.
Memory is measured in one extra untimed epoch per contender.
Before any contender runs, [`xpnet.backend.tune_host_allocator`][xpnet.backend.tune_host_allocator] is applied (as
``xpnet train`` does; ``XPNET_MALLOC_TUNING=0`` turns it off).

Layout of the package
---------------------
[`problem`][benchmarks.compare.problem] (data and configuration), [`contenders`][benchmarks.compare.contenders] (one
module per contender), [`measure`][benchmarks.compare.measure] (timing, memory, threads, scatter),
[`environment`][benchmarks.compare.environment] (what it ran on), [`run`][benchmarks.compare.run] (the interleaved
run), [`report`][benchmarks.compare.report] (the tables), [`command`][benchmarks.compare.command] (the click command).

Usage: ``python -m benchmarks.compare --help``, or ``python benchmarks/bench.py --help`` (the same command).
Benchmarks are not tests: the test suite only checks that this machinery runs on tiny sizes.
"""

from __future__ import annotations

from .command import bench_command, main, parse_batch_sizes
from .contenders import CONTENDERS, available_contenders, select_contenders
from .problem import BenchData, Problem, load_bench_data, synthetic_data
from .report import print_report
from .run import run_benchmark

__all__ = [
    "BenchData",
    "Problem",
    "CONTENDERS",
    "load_bench_data",
    "synthetic_data",
    "available_contenders",
    "select_contenders",
    "run_benchmark",
    "print_report",
    "parse_batch_sizes",
    "bench_command",
    "main",
]
