"""The run: which backends, every configuration timed on them interleaved, and the summary.

The backends come from [`xpnet.backend.available_backends`][xpnet.backend.available_backends]
(or the specs asked for, resolved by [`xpnet.backend.get_backend`][xpnet.backend.get_backend]);
xpnet.bench itself imports no array library but NumPy. Each configuration (network, batch size,
optimizer) trains a fresh model per backend, from the same initial weights, and the backends'
epochs are interleaved ([`interleave`][xpnet.bench.timing.interleave]); every ratio is to the
first backend (NumPy by default).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .fit import AFFINE_LABEL, AUGMENTATIONS, DEFAULT_LR, ELASTIC_LABEL, SHIFT, FitRunner, synthetic_images
from .timing import interleave, median, scatter

__all__ = ["select_backends", "run_bench", "DEFAULT_SIZES", "SHIFT_SIZES", "SHIFT_BATCH", "OPT_IN"]

DEFAULT_SIZES = (784, 128, 10)
#: The small network of the augmentation overhead table, where compute is cheap (the main
#: network is timed too).
SHIFT_SIZES = (784, 32, 10)
#: The batch size of the augmentation overhead table.
SHIFT_BATCH = 128
#: Backends that ``--backends default`` leaves out (array-api-strict: the slow oracle).
OPT_IN = ("array_api_strict",)


def select_backends(spec: str | None = None) -> tuple[dict, dict[str, str]]:
    """Resolve a ``--backends`` value to the backends to time.

    Parameters
    ----------
    spec : str or None
        ``"default"``/``None``: every usable backend of
        [`available_backends`][xpnet.backend.available_backends] but array-api-strict;
        ``"all"``: every usable one; or comma-separated backend specs (``"cpu,gpu"``,
        ``"numpy,torch,jax"``, ``"torch:cuda"``; see
        [`parse_backend_spec`][xpnet.backend.parse_backend_spec]).

    Returns
    -------
    selected : dict
        Canonical spec → [`Backend`][xpnet.backend.Backend], in the order asked for (duplicates
        dropped).
    skipped : dict
        Spec → why it cannot be used here.

    Raises
    ------
    xpnet.errors.ConfigError
        If a spec is not a backend spec at all.
    """
    from ..backend import BackendUnavailable, available_backends, get_backend, parse_backend_spec

    skipped: dict[str, str] = {}
    if spec in (None, "", "default", "all"):
        wanted = []
        for row in available_backends():
            if not row.usable:
                skipped[row.spec] = row.detail
            elif spec == "all" or row.library not in OPT_IN:
                wanted.append(row.spec)
    else:
        wanted = [s.strip() for s in spec.split(",") if s.strip()]
        if not wanted:
            raise ConfigError("--backends is empty; give backend specs such as 'cpu,gpu', or 'default'")
        for text in wanted:
            parse_backend_spec(text, "--backends")  # a ConfigError naming the bad spec
    selected: dict[str, Any] = {}
    for text in wanted:
        try:
            b = get_backend(parse_backend_spec(text, "--backends"))
        except BackendUnavailable as exc:
            skipped[text] = str(exc)
            continue
        except Exception as exc:  # a broken install must not stop the benchmark
            skipped[text] = f"{type(exc).__name__}: {exc}"
            continue
        selected.setdefault(b.spec, b)
    return selected, skipped


def _entry(name, backend, timing, reference, n) -> dict:
    med, cmed = median(timing["wall"]), median(timing["cpu"])
    return {
        "name": name,
        "device": backend.device_name,
        "gpu": bool(backend.is_gpu),
        "status": "ok" if timing["error"] is None else "failed",
        "reason": timing["error"],
        "epoch_seconds": timing["wall"],
        "epoch_cpu_seconds": timing["cpu"],
        "median_s": med,
        "median_cpu_s": cmed,
        "samples_per_s": n / med if med else None,
        "final_loss": timing["losses"][-1] if timing["losses"] else None,
        "scatter": scatter(timing["wall"]),
        "reference": reference,
    }


def _ratios(entries: list[dict], ref_of: Callable[[dict], str | None]) -> None:
    by_name = {e["name"]: e for e in entries}
    for e in entries:
        ref = by_name.get(ref_of(e) or e["name"])  # the reference itself: 1
        ok = ref is not None and ref["median_s"] and e["median_s"]
        e["ratio"] = e["median_s"] / ref["median_s"] if ok and ref is not None else None
        e["reference_unreliable"] = bool(ref and ref["scatter"]["unreliable"])


def _config(sizes, X, y, batch, optimizer, seed, backends, epochs, warmup, say, augment="none") -> dict:
    n = len(X)
    size = None if batch is None or batch >= n else int(batch)
    kinds = AUGMENTATIONS if augment == "all" else (augment,)
    runners, setup_errors = {}, {}
    for spec, b in backends.items():
        for kind in kinds:
            name = spec if kind == "none" else f"{spec}+{kind}"
            try:
                runners[name] = (b, FitRunner(b, X, y, sizes, size, optimizer, seed, kind))
            except Exception as exc:
                setup_errors[name] = (b, f"setup: {type(exc).__name__}: {exc}")
    label = f"{'-'.join(map(str, sizes))}, batch {size or 'full'}, {optimizer}"
    say(f"{label}: {', '.join(runners) or 'nothing to run'}")
    timing = interleave({k: r for k, (_, r) in runners.items()}, epochs, warmup, say)
    first = next(iter(backends), None)
    entries = []
    for name in [*runners, *setup_errors]:
        b = runners[name][0] if name in runners else setup_errors[name][0]
        t = timing.get(name) or {"wall": [], "cpu": [], "losses": [], "error": setup_errors[name][1]}
        spec = name.split("+")[0]
        reference = first if augment == "none" else spec
        entries.append(_entry(name, b, t, None if name == reference else reference, n))
    _ratios(entries, lambda e: e["reference"])
    return {
        "network": "-".join(map(str, sizes)),
        "sizes": list(sizes),
        "batch_size": size or "full",
        "n_batches": 1 if size is None else math.ceil(n / size),
        "n_samples": n,
        "optimizer": optimizer,
        "lr": DEFAULT_LR[optimizer],
        "epochs": epochs,
        "backends": entries,
    }


def run_bench(
    *,
    backends: str | None = None,
    sizes=DEFAULT_SIZES,
    batch_sizes=(128, None),
    optimizers=("sgd", "adam"),
    n_samples: int = 60000,
    epochs: int = 5,
    warmup: int = 1,
    seed: int = 0,
    main: bool = True,
    shifts: bool = False,
    shift_batch: int = SHIFT_BATCH,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Time ``MLP.fit`` epochs on each backend and return the results as a JSON-ready dict.

    Parameters
    ----------
    backends : str, optional
        See [`select_backends`][xpnet.bench.run.select_backends].
    sizes : sequence of int
        The network (layer widths) of the main tables.
    batch_sizes : sequence
        ints, ``None`` meaning the full batch; one table per batch size and optimizer.
    optimizers : sequence of str
        ``"sgd"`` (lr 0.1) and/or ``"adam"`` (lr 1e-3).
    n_samples : int
        Synthetic training samples ([`synthetic_images`][xpnet.bench.fit.synthetic_images]).
    epochs, warmup : int
        Timed epochs per backend (the median is reported), and untimed ones before them.
    seed : int
        Data, initial weights and shuffling.
    main : bool
        Time the main tables (False: only the augmentation overhead table).
    shifts : bool
        Add the augmentation overhead table: on each backend, training with
        ``RandomShifts(max_shift=1)``, with ``RandomAffine`` (``xpnet train --augment
        affine``'s ranges) and with ``RandomElastic`` (the same plus ``--elastic 34``) against the same training without, interleaved, at batch
        ``shift_batch`` on 784-pixel images, for `SHIFT_SIZES` and ``sizes`` (when its input is
        784 pixels); ratios augmented / plain.
    progress : callable, optional
        Receives progress messages.

    Returns
    -------
    dict
        ``environment``, ``backends`` (what ran and what was skipped, with why), ``results``
        (one entry per configuration: ``backends``, each with seconds per epoch, the ratio to the
        first backend, samples/s, the final loss, the scatter of its epochs) and, with
        ``shifts``, ``shifts``.

    Raises
    ------
    xpnet.errors.ConfigError
        An unknown optimizer, a bad backend spec, or a network whose input is not ``n_samples``-able.
    """
    say = progress or (lambda msg: None)
    for opt in optimizers:
        if opt not in DEFAULT_LR:
            raise ConfigError(f"unknown optimizer {opt!r}; choose sgd or adam")
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < 2 or min(sizes) < 1:
        raise ConfigError(f"a network needs at least two positive layer widths, got {sizes}")
    selected, skipped = select_backends(backends)
    if any(b.name == "numpy" for b in selected.values()) and os.environ.get("XPNET_MALLOC_TUNING", "1") != "0":
        next(b for b in selected.values() if b.name == "numpy").prepare_training()  # as `xpnet train` does
    say(f"backends: {', '.join(selected) or 'none usable'}")
    data: dict[int, tuple] = {}

    def images(n_features):
        if n_features not in data:
            data[n_features] = synthetic_images(n_samples, n_features, sizes[-1], seed)
        return data[n_features]

    results = []
    if main:
        for opt in optimizers:
            for bs in batch_sizes:
                X, y = images(sizes[0])
                results.append(_config(sizes, X, y, bs, opt, seed, selected, epochs, warmup, say))
    out = {
        "benchmark": "xpnet bench",
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "environment": None,
        "data": {"source": "synthetic", "n_samples": int(n_samples)},
        "epochs": epochs,
        "warmup": warmup,
        "clock": "wall clock (time.perf_counter) between device synchronisations, and process CPU time",
        "backends": {"timed": list(selected), "skipped": skipped},
        "results": results,
    }
    if shifts:
        from ..augment.elastic import ELASTIC_DEFAULTS
        from ..runs.config import AFFINE_RANGES

        nets = [SHIFT_SIZES] + ([sizes] if sizes[0] == 784 and sizes != SHIFT_SIZES else [])
        tables = []
        for net in nets:
            for opt in optimizers:
                X, y = images(784)
                tables.append(_config(net, X, y, shift_batch, opt, seed, selected, epochs, warmup, say, "all"))
        out["shifts"] = {
            "max_shift": SHIFT,
            "affine": AFFINE_LABEL.format(**AFFINE_RANGES, shift=SHIFT),
            "elastic": ELASTIC_LABEL.format(**ELASTIC_DEFAULTS),
            "batch_size": int(shift_batch),
            "results": tables,
        }
    from ..backend import host_allocator_tuned
    from ..backend.environment import environment

    out["environment"] = {**environment(), "malloc_tuned": bool(host_allocator_tuned())}
    return out
