"""The report: the results of [`run_benchmark`][benchmarks.compare.run.run_benchmark] as rich tables.

One table per configuration (seconds per epoch, ratios to the floor, samples/s, GFLOP/s,
memory, loss), the per-step overhead table of the tiny network, the augmentation overhead table
(training with random shifts, and with random affine distortions, over the same training
without), and the settings that matter.
When the reference a ratio is taken to (the floor; the plain NumPy loop in the tiny table; the
unshifted training in the augmentation table)
scattered too much across its timed epochs, its ratios are marked ``?`` and a warning says by how
much, instead of printing them as if they were firm.
"""

from __future__ import annotations

from .measure import SCATTER_CV_LIMIT, SCATTER_SPREAD_LIMIT

__all__ = ["print_report", "scatter_warnings"]

_SCATTER_MARK = "?"


def _fmt(x, spec, dash="—"):
    return dash if x is None else format(x, spec)


def _unreliable(res: dict, ref: str, clock: str) -> bool:
    info = (res.get("reference_scatter") or {}).get(ref) or {}
    return bool((info.get(clock) or {}).get("unreliable"))


def _own_unreliable(c: dict, clock: str) -> bool:
    return bool(((c.get("scatter") or {}).get(clock) or {}).get("unreliable"))


def _ratio(res, c, key, ref, clock) -> str:
    text = _fmt(c.get(key), ".2f")
    if c.get(key) is not None and (_unreliable(res, ref, clock) or _own_unreliable(c, clock)):
        text += _SCATTER_MARK
    return text


def scatter_warnings(res: dict) -> list[str]:
    """Lines saying whose timed epochs in ``res`` scatter too much for firm ratios.

    One line per reference (the floor) whose epochs scattered, per clock; then one line naming
    the other contenders whose own epochs scattered (their ratios are marked too).

    Parameters
    ----------
    res : dict
        One configuration's result (an entry of ``results["results"]``).

    Returns
    -------
    list of str
        E.g. ``"the floor's epochs scattered by 35 % (0.301–0.412 s, CV 16 %) over 3 epochs:
        ratios to it (marked ?) are unreliable ..."``; empty when every reference held steady.
    """
    lines = []
    for ref, clocks in (res.get("reference_scatter") or {}).items():
        for clock, label in (("wall", "wall-clock"), ("cpu", "CPU-time")):
            s = (clocks or {}).get(clock)
            if not s or not s.get("unreliable"):
                continue
            lines.append(
                f"{ref}'s {label} epochs scattered by {100 * s['spread']:.0f} % "
                f"({s['min']:.4f}–{s['max']:.4f} s, CV {100 * s['cv']:.0f} %) over {s['n']} epochs "
                f"(limits {100 * SCATTER_SPREAD_LIMIT:.0f} % spread, {100 * SCATTER_CV_LIMIT:.0f} % CV): "
                f"the {label} ratios to it (marked {_SCATTER_MARK}) are unreliable; rerun on a quieter "
                "machine or with more --epochs"
            )
    refs = set(res.get("reference_scatter") or {})
    for clock, label in (("wall", "wall-clock"), ("cpu", "CPU-time")):
        own = [
            f"{c['name']} {100 * c['scatter'][clock]['spread']:.0f} %"
            for c in res.get("contenders", [])
            if c["name"] not in refs and _own_unreliable(c, clock)
        ]
        if own:
            lines.append(
                f"{label} epochs scattered (max − min over the median) for {', '.join(own)}: "
                f"their {label} ratios are marked {_SCATTER_MARK} as well"
            )
    return lines


def _header(results: dict, console) -> None:
    env = results["environment"]
    blas = (
        ", ".join(
            f"{p.get('internal_api', '?')} {p.get('version', '')} {p.get('architecture', '') or ''}"
            f" ({p.get('num_threads', '?')} threads)".replace("  ", " ")
            for p in env["threadpools"]
            if isinstance(p, dict) and "internal_api" in p
        )
        or "none found"
    )
    console.print(
        f"[bold]benchmarks.compare[/]  {results['created']}  ·  {env['cpu']} ({env['cpu_count']} CPUs)"
        f"  ·  Python {env['python']}"
    )
    console.print("libraries: " + ", ".join(f"{k} {v}" for k, v in env["libraries"].items()))
    console.print(
        f"thread pools: {blas}; threads requested: {env['threads_requested']}"
        + (f"; torch threads: {env['torch_threads']}" if env.get("torch_threads") else "")
        + f"; glibc malloc thresholds raised: {'yes' if env.get('malloc_tuned') else 'no'}"
    )
    if env.get("env"):
        console.print("environment: " + ", ".join(f"{k}={v}" for k, v in env["env"].items()))
    if env.get("load_average"):
        console.print("load average at the end: " + ", ".join(f"{x:.2f}" for x in env["load_average"]))
    if results.get("data"):
        console.print(
            f"data: {results['data']['source']}, {results['data']['n_samples']} samples; "
            f"median of {results['epochs']} epochs after {results['warmup']} warm-up epoch(s), "
            "contenders interleaved epoch by epoch"
        )
    for w in env.get("warnings", []):
        console.print(f"[bold yellow]warning:[/] {w}")
    skipped = {}
    for res in (
        results["results"]
        + (results.get("tiny") or {}).get("results", [])
        + (results.get("shifts") or {}).get("results", [])
    ):
        for c in res["contenders"]:
            if c["status"] == "skipped":
                skipped[c["name"]] = c["reason"]
    if skipped:
        console.print("not run: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()))


def _main_table(res: dict, console) -> None:
    from rich.table import Table

    title = (
        f"{res['network']}{' (the tutorial network)' if res['tutorial'] else ''}, "
        f"batch {res['batch_size']} ({res['n_batches']} steps/epoch), {res['optimizer']} "
        f"lr {res['lr']:g} — {res['gemm_gflop_per_epoch']:.2f} GEMM GFLOP/epoch"
    )
    table = Table(title=title, title_justify="left")
    for col in (
        "contender",
        "s/epoch",
        "× floor",
        "CPU s/epoch",
        "× floor (CPU)",
        "samples/s",
        "GFLOP/s",
        "+MiB",
        "loss",
    ) + (("500 it. (s)",) if res["tutorial"] else ()):
        table.add_column(col, justify="left" if col == "contender" else "right", no_wrap=True)
    failed, layouts = [], []
    for c in res["contenders"]:
        if c["status"] == "failed":
            failed.append(c)
        if c["status"] != "ok":
            continue
        ref = "floor-cupy" if c["platform"] == "cuda" else "floor"
        row = [
            c["name"],
            _fmt(c["median_s"], ".4f"),
            _ratio(res, c, "ratio_to_floor", ref, "wall"),
            _fmt(c["median_cpu_s"], ".4f") if c["platform"] == "cpu" else "—",
            _ratio(res, c, "cpu_ratio_to_floor", ref, "cpu"),
            _fmt(c["samples_per_s"], ",.0f"),
            _fmt(c["gemm_gflop_per_s"], ".1f"),
            _fmt(c.get("peak_extra_mib"), ".1f"),
            _fmt(c.get("final_loss"), ".4f"),
        ]
        if res["tutorial"]:
            row.append(_fmt(c.get("iterations_500_s"), ".2f"))
        table.add_row(*row)
        if c.get("layouts"):
            others = ", ".join(f"{k} {_fmt(v['median_s'], '.4f')} s" for k, v in c["layouts"].items())
            layouts.append(f"{c['name']}: layout {c['layout']} was the faster ({others})")
    console.print(table)
    if layouts:
        console.print("[dim]" + "; ".join(layouts) + "[/]")
    for line in scatter_warnings(res):
        console.print(f"[bold yellow]warning:[/] {line}")
    for c in failed:
        console.print(f"[red]failed:[/] {c['name']}: {c['reason']}")


def _tiny_table(tiny: dict, console) -> None:
    from rich.table import Table

    tables = tiny["results"]
    steps = tables[0]["n_batches"] if tables else 0
    table = Table(
        title=f"Per-step overhead: {tiny['network']}, batch {tiny['batch_size']}, "
        f"{tiny['n_samples']:,} samples ({steps} steps/epoch), µs per step",
        title_justify="left",
    )
    table.add_column("contender", no_wrap=True)
    for res in tables:
        opt = res["optimizer"]
        for col in (f"{opt} µs/step", f"{opt} × numpy", f"{opt} CPU µs/step", f"{opt} × numpy (CPU)"):
            table.add_column(col, justify="right", no_wrap=True)
    names = []
    for res in tables:
        names += [c["name"] for c in res["contenders"] if c["status"] == "ok" and c["name"] not in names]
    for name in names:
        row = [name]
        for res in tables:
            c = next((c for c in res["contenders"] if c["name"] == name and c["status"] == "ok"), None)
            if c is None:
                row += ["—"] * 4
                continue
            row += [
                _fmt(c.get("us_per_step"), ".1f"),
                _ratio(res, c, "ratio_to_numpy", "numpy", "wall"),
                _fmt(c.get("cpu_us_per_step"), ".1f"),
                _ratio(res, c, "cpu_ratio_to_numpy", "numpy", "cpu"),
            ]
        table.add_row(*row)
    console.print(table)
    _print_problems(tables, console, lambda res: res["optimizer"])


def _shifts_table(shifts: dict, console) -> None:
    from rich.table import Table

    tables = shifts["results"]
    steps = tables[0]["n_batches"] if tables else 0
    kinds = [("shifts", shifts["pairs"])]
    if shifts.get("affine_pairs"):  # results written before the affine rows have none
        kinds.append(("affine", shifts["affine_pairs"]))
    named = f"RandomShifts(max_shift={shifts['max_shift']})"
    if len(kinds) > 1:
        named += f" and {shifts['affine']}"
    table = Table(
        title=f"Augmentation overhead: {named} against none, "
        f"batch {shifts['batch_size']}, {shifts['n_samples']:,} samples ({steps} steps/epoch), "
        "s per epoch",
        title_justify="left",
    )
    left = ("network", "optimizer", "contender", "augmentation")
    for col in (
        *left,
        "s/epoch",
        "augmented s/epoch",
        "× (augmented/none)",
        "CPU s/epoch",
        "augmented CPU s/epoch",
        "× (CPU)",
        "target",
    ):
        table.add_column(col, justify="left" if col in left else "right", no_wrap=True)
    for res in tables:
        cs = {c["name"]: c for c in res["contenders"] if c["status"] == "ok"}
        for kind, pairs in kinds:
            for plain, twin in pairs.items():
                a, b = cs.get(plain), cs.get(twin)
                if a is None or b is None:
                    continue
                cpu = a["platform"] == "cpu"
                target = res.get("target_ratio") if kind == "shifts" else None
                table.add_row(
                    res["network"],
                    res["optimizer"],
                    plain,
                    kind,
                    _fmt(a["median_s"], ".4f"),
                    _fmt(b["median_s"], ".4f"),
                    _ratio(res, b, "ratio_to_unshifted", plain, "wall"),
                    _fmt(a["median_cpu_s"], ".4f") if cpu else "—",
                    _fmt(b["median_cpu_s"], ".4f") if cpu else "—",
                    _ratio(res, b, "cpu_ratio_to_unshifted", plain, "cpu"),
                    "—" if target is None else f"≤ {target:.2f}",
                )
    console.print(table)
    _print_problems(tables, console, lambda res: f"{res['network']} {res['optimizer']}")


def _print_problems(tables: list, console, label) -> None:
    """Each table's scatter warnings and failed contenders, prefixed with ``label(res)``."""
    for res in tables:
        for line in scatter_warnings(res):
            console.print(f"[bold yellow]warning:[/] {label(res)}: {line}")
        for c in res["contenders"]:
            if c["status"] == "failed":
                console.print(f"[red]failed:[/] {c['name']} ({label(res)}): {c['reason']}")


def print_report(results: dict, console=None) -> None:
    """Print the tables of a benchmark run.

    Parameters
    ----------
    results : dict
        What [`run_benchmark`][benchmarks.compare.run.run_benchmark] returned (or its JSON, read back).
    console : rich.console.Console, optional
        Where to print; a new console on standard output by default.
    """
    from rich.console import Console

    console = console or Console()
    _header(results, console)
    for res in results["results"]:
        _main_table(res, console)
    if results.get("tiny"):
        _tiny_table(results["tiny"], console)
    if results.get("shifts"):
        _shifts_table(results["shifts"], console)
    notes = []
    if results["results"]:
        notes.append(
            "× floor: median seconds per epoch over the GEMM floor's on the same device "
            "(wall clock; CUDA events on GPUs); the floor is the faster of two weight layouts. "
            "+MiB: extra memory one epoch touches. loss: mean training loss of the last epoch."
        )
    if results.get("tiny"):
        notes.append("Per-step overhead: median epoch time / steps per epoch; × numpy: over the plain NumPy loop's.")
    if results.get("shifts"):
        notes.append(
            "Augmentation overhead: median epoch time with random shifts (or affine distortions) "
            "over the same training's without, both xpnet MLP.fit on the same backend and data; "
            f"the target is for the shifts on {results['shifts']['target_network']}."
        )
    if notes:
        console.print("[dim]" + " ".join(notes) + "[/]")
