"""The report: the results of [`run_bench`][xpnet.bench.run.run_bench] as rich tables.

One table per configuration (seconds per epoch on each backend, the ratio to the first backend,
CPU time, samples/s, loss), then the augmentation overhead table (augmented / plain on each
backend). A ratio is marked ``?`` when the epochs it is taken from scattered too much
([`scatter`][xpnet.bench.timing.scatter]) for it to be firm.
"""

from __future__ import annotations

from .timing import SCATTER_CV_LIMIT, SCATTER_SPREAD_LIMIT

__all__ = ["print_report"]

_MARK = "?"


def _fmt(x, spec, dash="—"):
    return dash if x is None else format(x, spec)


def _ratio(e: dict) -> str:
    text = _fmt(e.get("ratio"), ".2f")
    if e.get("ratio") is not None and (e.get("reference_unreliable") or e["scatter"].get("unreliable")):
        text += _MARK
    return text


def _header(results: dict, console) -> None:
    env = results["environment"]
    console.print(
        f"[bold]xpnet bench[/]  {results['created']}  ·  {env['cpu']} ({env['cpu_count']} CPUs)"
        f"  ·  Python {env['python']}"
    )
    console.print("libraries: " + ", ".join(f"{k} {v}" for k, v in env["libraries"].items()))
    console.print(
        f"synthetic data, {results['data']['n_samples']:,} samples; median of {results['epochs']} "
        f"epochs after {results['warmup']} warm-up epoch(s), backends interleaved epoch by epoch; "
        f"glibc malloc thresholds raised: {'yes' if env.get('malloc_tuned') else 'no'}"
    )
    skipped = results["backends"]["skipped"]
    if skipped:
        console.print("not timed: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()), highlight=False)


def _problems(res: dict, console) -> None:
    for e in res["backends"]:
        if e["status"] == "failed":
            console.print(f"[red]failed:[/] {e['name']}: {e['reason']}")
    scattered = [
        f"{e['name']} {100 * e['scatter']['spread']:.0f} %" for e in res["backends"] if e["scatter"].get("unreliable")
    ]
    if scattered:
        console.print(
            f"[bold yellow]warning:[/] epochs scattered (limits {100 * SCATTER_SPREAD_LIMIT:.0f} % "
            f"spread, {100 * SCATTER_CV_LIMIT:.0f} % CV) for {', '.join(scattered)}: the ratios from "
            f"them are marked {_MARK}; rerun on a quieter machine or with more --epochs"
        )


def _main_table(res: dict, console) -> None:
    from rich.table import Table

    ok = [e for e in res["backends"] if e["status"] == "ok"]
    ref = next((e["name"] for e in ok if e["reference"] is None), "—")
    table = Table(
        title=f"{res['network']}, batch {res['batch_size']} ({res['n_batches']} steps/epoch), "
        f"{res['optimizer']} lr {res['lr']:g}, {res['n_samples']:,} samples",
        title_justify="left",
    )
    for col in ("backend", "device", "s/epoch", f"× {ref}", "CPU s/epoch", "samples/s", "loss"):
        table.add_column(col, justify="left" if col in ("backend", "device") else "right", no_wrap=True)
    for e in ok:
        table.add_row(
            e["name"],
            e["device"],
            _fmt(e["median_s"], ".4f"),
            _ratio(e),
            _fmt(e["median_cpu_s"], ".4f"),
            _fmt(e["samples_per_s"], ",.0f"),
            _fmt(e["final_loss"], ".4f"),
        )
    console.print(table)
    if len(ok) > 1:
        best = min(ok, key=lambda e: e["median_s"] or float("inf"))
        console.print(f"fastest here: [bold]{best['name']}[/] ({best['device']})", highlight=False)
    _problems(res, console)


def _shifts_table(shifts: dict, console) -> None:
    from rich.table import Table

    table = Table(
        title=f"Augmentation overhead: RandomShifts(max_shift={shifts['max_shift']}), "
        f"{shifts['affine']}"
        + (f" and {shifts['elastic']}" if shifts.get("elastic") else "")
        + f" (erase: RandomErasing(p=0.5), alone or after the affine) against none, batch {shifts['batch_size']}, s per epoch",
        title_justify="left",
    )
    left = ("network", "optimizer", "backend", "augmentation")
    for col in (*left, "s/epoch", "augmented s/epoch", "× (augmented/none)"):
        table.add_column(col, justify="left" if col in left else "right", no_wrap=True)
    for res in shifts["results"]:
        by_name = {e["name"]: e for e in res["backends"] if e["status"] == "ok"}
        for e in by_name.values():
            plain = by_name.get(e["reference"]) if e["reference"] else None
            if plain is None:
                continue
            table.add_row(
                res["network"],
                res["optimizer"],
                plain["name"],
                e["name"].rsplit("+", 1)[1],
                _fmt(plain["median_s"], ".4f"),
                _fmt(e["median_s"], ".4f"),
                _ratio(e),
            )
    console.print(table)
    for res in shifts["results"]:
        _problems(res, console)


def print_report(results: dict, console=None) -> None:
    """Print the tables of an ``xpnet bench`` run.

    Parameters
    ----------
    results : dict
        What [`run_bench`][xpnet.bench.run.run_bench] returned (or its JSON, read back).
    console : rich.console.Console, optional
        Where to print; a new console on standard output by default.
    """
    from rich.console import Console

    console = console or Console()
    _header(results, console)
    for res in results["results"]:
        _main_table(res, console)
    if results.get("shifts"):
        _shifts_table(results["shifts"], console)
    notes = []
    if results["results"]:
        notes.append(
            "× : median seconds per epoch over the first backend's (below 1: faster). "
            "loss: mean training loss of the last epoch (the same start and batches on every backend)."
        )
    if results.get("shifts"):
        notes.append("Augmentation overhead: median epoch time augmented over the same training's without.")
    notes.append("xpnet against other libraries and the GEMM floor: python -m benchmarks.compare in a source checkout.")
    console.print("[dim]" + " ".join(notes) + "[/]")
