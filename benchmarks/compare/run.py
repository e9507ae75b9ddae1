"""The run: every configuration's contenders set up, timed interleaved, and summarised.

Contenders run in one process and are *interleaved* epoch by epoch (contender A's epoch 1, B's
epoch 1, ..., A's epoch 2, ...), so that a machine whose speed drifts over tens of seconds slows
them all alike; the first ``warmup`` epochs (compilation, first-touch page faults, caches) are
not counted, and each figure is the median over the timed epochs. A contender with variants
(the floor's two weight layouts) has each variant timed as if it were a contender of its own,
and the variant with the lower median is the one reported.
"""

from __future__ import annotations

import datetime as _dt
import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path

from xpnet.errors import ConfigError

from .contenders import CONTENDERS, FLOOR_OF, Runner, available_contenders, select_contenders
from .environment import collect_environment
from .measure import ThreadLimits, measure_memory, median, scatter, time_epoch
from .problem import DEFAULT_LR, DEFAULT_SIZES, TINY_SIZES, TUTORIAL_SIZES, Problem, initial_params, load_bench_data

__all__ = [
    "run_benchmark",
    "run_problem",
    "prepare_host_allocator",
    "TINY_CONTENDERS",
    "SHIFT_SIZES",
    "SHIFT_BATCH",
    "SHIFT_TARGET",
]

#: Who the per-step overhead table compares by default (those not installed are skipped).
TINY_CONTENDERS = "xpnet-numpy,numpy,torch"
#: The small network of the augmentation overhead table, where compute is as cheap as on a GPU
#: (the main table's network is timed too).
SHIFT_SIZES = (784, 32, 10)
#: The batch size of the augmentation overhead table.
SHIFT_BATCH = 128
#: The target for the small network: training with shifts at most this many times as long.
SHIFT_TARGET = 1.15


def prepare_host_allocator() -> bool:
    """Apply xpnet's allocator setting for NumPy training before any contender runs.

    [`xpnet.backend.tune_host_allocator`][xpnet.backend.tune_host_allocator] raises glibc's malloc thresholds for the whole
    process (so every contender runs under it, as ``xpnet train`` does), unless
    ``XPNET_MALLOC_TUNING=0``.

    Returns
    -------
    bool
        Whether the thresholds are raised.
    """
    from xpnet import backend

    if os.environ.get("XPNET_MALLOC_TUNING", "1") != "0":
        return bool(backend.tune_host_allocator())
    return False


def _variant_slots(name: str) -> list[str | None]:
    return list(CONTENDERS[name].variants) or [None]


def run_problem(
    p: Problem,
    selected,
    skipped,
    epochs: int,
    warmup: int,
    memory: bool,
    is_tutorial: bool = False,
    say: Callable[[str], None] = lambda m: None,
    reference_of: dict | None = None,
    ratio_key: str = "floor",
) -> dict:
    """Time the ``selected`` contenders on ``p``, interleaved epoch by epoch.

    Parameters
    ----------
    p : Problem
        The configuration, with ``params0`` set.
    selected : list of str
        Contenders to run. ``skipped`` (dict name → reason) are listed as not run.
    epochs, warmup : int
        Timed epochs, and untimed epochs before them.
    memory : bool
        Measure each contender's extra memory in one more, untimed epoch.
    is_tutorial : bool
        Add the time of 500 iterations (the tutorial's full-batch run).
    say : callable
        Progress messages.
    reference_of : dict, optional
        Platform → the contender every ratio is taken to (default: the platform's floor).
    ratio_key : str
        The ratios are stored as ``ratio_to_<ratio_key>`` and ``cpu_ratio_to_<ratio_key>``.

    Returns
    -------
    dict
        JSON-ready: the configuration, one entry per contender (status, per-epoch seconds,
        medians, ratios, samples/s, GEMM GFLOP/s, memory, final loss, ``scatter`` of its own
        epochs; ``layout`` and ``layouts`` for contenders with variants) and
        ``reference_scatter`` (the scatter of the reference every ratio is taken to).
    """
    reference_of = FLOOR_OF if reference_of is None else reference_of
    entries: dict[str, dict] = {}
    slots: dict[tuple[str, str | None], Runner] = {}
    timing: dict[tuple[str, str | None], dict] = {}
    for name in selected:
        c = CONTENDERS[name]
        entries[name] = {
            "name": name,
            "platform": c.platform,
            "description": c.description,
            "status": "ok",
            "reason": None,
        }
        for variant in _variant_slots(name):
            try:
                slots[(name, variant)] = c.make(p, variant)
                timing[(name, variant)] = {"wall": [], "cpu": [], "losses": []}
            except Exception as exc:
                entries[name].update(status="failed", reason=f"setup: {type(exc).__name__}: {exc}")
        if entries[name]["status"] != "ok":
            for variant in _variant_slots(name):
                r = slots.pop((name, variant), None)
                timing.pop((name, variant), None)
                if r is not None:
                    r.close()
    for name, why in skipped.items():
        entries[name] = {
            "name": name,
            "platform": CONTENDERS[name].platform,
            "description": CONTENDERS[name].description,
            "status": "skipped",
            "reason": why,
        }
    # Interleaved epochs: every contender's epoch e before any contender's epoch e + 1.
    for e in range(warmup + epochs):
        for key, r in list(slots.items()):
            try:
                wall, cpu, loss = time_epoch(r)
            except Exception as exc:
                entries[key[0]].update(status="failed", reason=f"epoch {e + 1}: {type(exc).__name__}: {exc}")
                for k in [k for k in slots if k[0] == key[0]]:
                    slots.pop(k).close()
                    timing.pop(k)
                continue
            t = timing[key]
            t["losses"].append(loss)
            if e >= warmup:
                t["wall"].append(wall)
                t["cpu"].append(cpu)
        say(f"  epoch {e + 1}/{warmup + epochs}" + (" (warm-up)" if e < warmup else ""))

    # Each contender's fastest variant (by median seconds per epoch).
    chosen: dict[str, Runner] = {}
    for name, entry in entries.items():
        keys = [k for k in timing if k[0] == name]
        if not keys:
            continue
        best = min(keys, key=lambda k: median(timing[k]["wall"]) or float("inf"))
        t = timing[best]
        entry.update(
            epoch_seconds=t["wall"],
            epoch_cpu_seconds=t["cpu"],
            losses=[x for x in t["losses"] if x is not None],
        )
        if best[1] is not None:
            entry["layout"] = best[1]
            entry["layouts"] = {
                k[1]: {
                    "median_s": median(timing[k]["wall"]),
                    "median_cpu_s": median(timing[k]["cpu"]),
                    "epoch_seconds": timing[k]["wall"],
                }
                for k in keys
            }
        chosen[name] = slots[best]
    for key, r in slots.items():
        if chosen.get(key[0]) is not r:
            r.close()
    if memory:
        for name, r in chosen.items():
            try:
                mib, how = measure_memory(r)
            except Exception as exc:
                mib, how = None, f"not measured ({type(exc).__name__}: {exc})"
            entries[name]["peak_extra_mib"] = mib
            entries[name]["memory_method"] = how
    for r in chosen.values():
        r.close()
    slots.clear()
    chosen.clear()
    gc.collect()
    return _summarise(p, entries, epochs, is_tutorial, reference_of, ratio_key)


def _summarise(p, entries, epochs, is_tutorial, reference_of, ratio_key) -> dict:
    flops = p.gemm_flops()
    ok = {n: e for n, e in entries.items() if e["status"] == "ok"}
    medians = {n: median(e["epoch_seconds"]) for n, e in ok.items()}
    cpu_medians = {n: median(e["epoch_cpu_seconds"]) for n, e in ok.items()}
    out = []
    for name, entry in entries.items():
        if entry["status"] == "ok":
            med, cmed = medians[name], cpu_medians[name]
            ref = reference_of.get(entry["platform"])
            fmed, fcmed = medians.get(ref), cpu_medians.get(ref)
            losses = entry.pop("losses")
            entry.update(
                {
                    "median_s": med,
                    "median_cpu_s": cmed,
                    f"ratio_to_{ratio_key}": (med / fmed) if med and fmed else None,
                    f"cpu_ratio_to_{ratio_key}": (cmed / fcmed)
                    if cmed and fcmed and entry["platform"] == "cpu"
                    else None,
                    "samples_per_s": (p.n / med) if med else None,
                    "gemm_gflop_per_s": (flops / med / 1e9) if med else None,
                    "final_loss": losses[-1] if losses else None,
                    "scatter": {
                        "wall": scatter(entry["epoch_seconds"]),
                        "cpu": scatter(entry["epoch_cpu_seconds"]) if entry["platform"] == "cpu" else None,
                    },
                }
            )
            if is_tutorial and med:
                entry["iterations_500_s"] = 500 * med
        out.append(entry)
    ref_scatter = {}
    for platform, ref in reference_of.items():
        if ref in ok:
            ref_scatter[ref] = {
                "wall": scatter(ok[ref]["epoch_seconds"]),
                "cpu": scatter(ok[ref]["epoch_cpu_seconds"]) if platform == "cpu" else None,
            }
    return {
        "network": "-".join(map(str, p.sizes)),
        "sizes": list(p.sizes),
        "tutorial": is_tutorial,
        "init": p.init,
        "batch_size": "full" if p.full_batch else p.batch_size,
        "n_batches": len(p.batches()),
        "optimizer": p.optimizer,
        "lr": p.lr,
        "epochs": epochs,
        "gemm_gflop_per_epoch": flops / 1e9,
        "reference_scatter": ref_scatter,
        "contenders": out,
    }


def run_benchmark(
    *,
    epochs: int = 5,
    warmup: int = 1,
    batch_sizes=(128, 512, None),
    optimizers=("sgd", "adam"),
    contenders: str | None = None,
    threads: int | None = None,
    data: str = "auto",
    n_samples: int | None = None,
    sizes=DEFAULT_SIZES,
    tutorial: bool = True,
    tutorial_epochs: int | None = None,
    memory: bool = True,
    seed: int = 0,
    tiny: bool = False,
    tiny_contenders: str = TINY_CONTENDERS,
    tiny_samples: int = 16384,
    tiny_batch: int = 16,
    tiny_sizes=TINY_SIZES,
    shifts: bool = False,
    shift_batch: int = SHIFT_BATCH,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Run the benchmark and return its results as a JSON-ready dict.

    Parameters
    ----------
    epochs, warmup : int
        Timed epochs per contender (the median is reported), and untimed ones before them.
    batch_sizes : sequence
        ints, ``None`` meaning the full batch; one table per batch size and optimizer.
    optimizers : sequence of str
        ``"sgd"`` (lr 0.1) and/or ``"adam"`` (lr 1e-3).
    contenders : str, optional
        See [`select_contenders`][benchmarks.compare.contenders.select_contenders].
    threads : int, optional
        Limit BLAS/OpenMP, PyTorch and XLA to this many threads for the whole run.
    data, n_samples : str, int
        See [`load_bench_data`][benchmarks.compare.problem.load_bench_data].
    sizes : sequence of int
        The network of the main tables.
    tutorial : bool
        Add the tutorial network (784-10-10, full batch, SGD α = 0.1, uniform initialisation),
        timed over ``tutorial_epochs`` iterations (default ``max(epochs, 10)``).
    memory : bool
        Measure each contender's extra memory in one more, untimed epoch.
    seed : int
        Initial weights and shuffling.
    tiny : bool
        Add the per-step overhead table: ``tiny_contenders`` on ``tiny_sizes`` (64-16-10),
        batch ``tiny_batch`` (16), ``tiny_samples`` (16,384) synthetic samples, one table per
        optimizer, ratios to the plain NumPy loop.
    shifts : bool
        Add the augmentation overhead table: xpnet trained with
        ``RandomShifts(max_shift=1)``, and with ``RandomAffine`` (``xpnet train --augment
        affine``'s ranges), against the same training without, interleaved, at batch
        ``shift_batch`` (128) on the benchmark's data, for `SHIFT_SIZES` (784-32-10) and
        ``sizes``, one table per optimizer; ratios augmented / plain on each backend.
    progress : callable, optional
        Receives progress messages.

    Returns
    -------
    dict
        ``environment``, ``data``, ``results`` (one entry per configuration, see
        [`run_problem`][benchmarks.compare.run.run_problem]), with ``tiny`` ``tiny``, with ``shifts`` ``shifts``.

    Raises
    ------
    ValueError
        An unknown optimizer or contender, or unreadable ``data``.
    """
    say = progress or (lambda msg: None)
    for opt in optimizers:
        if opt not in DEFAULT_LR:
            raise ConfigError(f"unknown optimizer {opt!r}; choose sgd or adam")
    limits = ThreadLimits(threads)
    prepare_host_allocator()
    try:
        usable = available_contenders()
        selected, skipped = select_contenders(contenders, usable)
        problems = []
        bench_data = None
        if batch_sizes or tutorial or shifts:
            bench_data = load_bench_data(data, n_samples, seed)
            say(f"data: {bench_data.source}, {bench_data.n} samples")
            for opt in optimizers:
                for bs in batch_sizes:
                    size = bench_data.n if bs is None else min(int(bs), bench_data.n)
                    problems.append(Problem(bench_data, tuple(sizes), size, opt, DEFAULT_LR[opt], "he", seed))
            if tutorial:
                problems.append(Problem(bench_data, TUTORIAL_SIZES, bench_data.n, "sgd", 0.1, "tutorial", seed))
        results = []
        for p in problems:
            p.params0 = initial_params(p.sizes, p.init, p.seed)
            is_tutorial = p.init == "tutorial"
            n_epochs = (tutorial_epochs or max(epochs, 10)) if is_tutorial else epochs
            say(f"{p.label()}: {', '.join(selected)}")
            results.append(run_problem(p, selected, skipped, n_epochs, warmup, memory, is_tutorial, say))
        out = {
            "benchmark": "benchmarks.compare",
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
            "environment": None,
            "data": None
            if bench_data is None
            else {
                "source": bench_data.source,
                "n_samples": bench_data.n,
                "n_features": int(bench_data.X.shape[1]),
            },
            "epochs": epochs,
            "warmup": warmup,
            "clock": {
                "cpu": "wall clock (time.perf_counter) and process CPU time (time.process_time)",
                "cuda": "CUDA events on the default stream after a device synchronisation",
            },
            "results": results,
        }
        if tiny:
            out["tiny"] = _run_tiny(
                tiny_contenders,
                usable,
                tiny_sizes,
                tiny_batch,
                tiny_samples,
                optimizers,
                epochs,
                warmup,
                seed,
                say,
            )
        if shifts:
            out["shifts"] = _run_shifts(
                bench_data,
                usable,
                (SHIFT_SIZES, tuple(sizes)),
                shift_batch,
                optimizers,
                epochs,
                warmup,
                seed,
                say,
            )
        out["environment"] = collect_environment(threads)
        return out
    finally:
        limits.restore()


def _run_tiny(spec, usable, sizes, batch, n_samples, optimizers, epochs, warmup, seed, say) -> dict:
    """The per-step overhead table: tiny network, small batches, µs per step."""
    selected, skipped = select_contenders(spec, usable)
    data = load_bench_data("synthetic", n_samples, seed, n_features=int(sizes[0]))
    say(f"tiny network {'-'.join(map(str, sizes))}, batch {batch}, {data.n} samples: {', '.join(selected)}")
    tables = []
    for opt in optimizers:
        p = Problem(data, tuple(sizes), min(int(batch), data.n), opt, DEFAULT_LR[opt], "he", seed)
        p.params0 = initial_params(p.sizes, p.init, p.seed)
        res = run_problem(
            p,
            selected,
            skipped,
            epochs,
            warmup,
            False,
            False,
            say,
            reference_of={"cpu": "numpy"},
            ratio_key="numpy",
        )
        steps = res["n_batches"]
        for c in res["contenders"]:
            if c["status"] == "ok":
                c["us_per_step"] = 1e6 * c["median_s"] / steps if c["median_s"] else None
                c["cpu_us_per_step"] = 1e6 * c["median_cpu_s"] / steps if c["median_cpu_s"] else None
        tables.append(res)
    return {
        "network": "-".join(map(str, sizes)),
        "batch_size": int(batch),
        "n_samples": data.n,
        "data": data.source,
        "reference": "numpy",
        "results": tables,
    }


def _run_shifts(data, usable, networks, batch, optimizers, epochs, warmup, seed, say) -> dict:
    """The augmentation overhead table: xpnet with random shifts, and with random affine
    distortions, against xpnet without."""
    from .contenders.xpnet_fit import AFFINE, AFFINE_TWIN, SHIFT, SHIFTED, affine_augment

    names = ",".join(dict.fromkeys(n for twins in (SHIFTED, AFFINE_TWIN) for pair in twins.items() for n in pair))
    selected, skipped = select_contenders(names, usable)
    reference_of = {CONTENDERS[plain].platform: plain for plain in SHIFTED}
    tables = []
    for sizes in dict.fromkeys(networks):  # the main network may be the small one
        for opt in optimizers:
            p = Problem(data, tuple(sizes), min(int(batch), data.n), opt, DEFAULT_LR[opt], "he", seed)
            p.params0 = initial_params(p.sizes, p.init, p.seed)
            say(f"augmentation overhead, {p.label()}: {', '.join(selected)}")
            res = run_problem(
                p,
                selected,
                skipped,
                epochs,
                warmup,
                False,
                False,
                say,
                reference_of=reference_of,
                ratio_key="unshifted",
            )
            res["target_ratio"] = SHIFT_TARGET if tuple(sizes) == SHIFT_SIZES else None
            tables.append(res)
    return {
        "max_shift": SHIFT,
        "batch_size": int(batch),
        "n_samples": data.n,
        "data": data.source,
        "pairs": dict(SHIFTED),
        "affine_pairs": dict(AFFINE_TWIN),
        "affine": AFFINE.format(**vars(affine_augment())),
        "reference": reference_of,
        "target_ratio": SHIFT_TARGET,
        "target_network": "-".join(map(str, SHIFT_SIZES)),
        "results": tables,
    }
