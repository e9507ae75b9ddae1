"""Coarse digits (8×8, 16 grey levels, enlarged by nearest neighbour): read as pictures as well as
the same grids given as arrays?

The digits are real MNIST test digits made coarse as old optical-digit datasets keep them
(``tests/digit_renderings.py``: ``coarse`` averages the central 24×24 over 3×3 blocks and rounds
to 16 levels), each drawn as every picture kind of ``COARSE_KINDS`` (the 8×8 picture itself,
×4, ×10, ×12.5, ×35, and ×35 on a transparent canvas; PNGs in memory). The models are those of
``benchmarks/image_preprocessing.py`` (784-256-10 trained on t10k[:8000], plainly and with
1-pixel shifts, seeded). For each model and kind the table gives the accuracy on

* ``coarse arrays``: the same 8×8 grids enlarged bilinearly back to 28×28 as arrays
  (``coarse_as_array``), no picture, no preprocessing;
* ``through load_image``: the pictures read by this tree's [load_image][xpnet.images.load_image];
* ``REV's load_image`` (``--against REV``, default the last commit with the hand-written
  pipeline, ``image_pipeline.OLD``; ``none`` to skip): the same pictures read by that git
  revision's pipeline, for comparison.

with the difference from the coarse arrays and its paired 95 % interval. Run from the
repository root::

    XPNET_TEST_DATA=/work/shared/data python benchmarks/image_coarse.py --start 9000 --n 1000

``--pictures DIR`` also writes DIR/images-coarse.png (three digits, step by step).

The targets: every kind at least 0.90, and no more than 2 points below the coarse arrays.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import digit_renderings as renderings  # noqa: E402
import image_pipeline  # noqa: E402
import image_preprocessing as bench  # noqa: E402

from xpnet.datasets import read_idx_directory  # noqa: E402
from xpnet.images import ImageError, load_image  # noqa: E402

_REVISIONS: dict = {}


def _reader(rev: str | None):
    if rev is None:
        return load_image
    if rev not in _REVISIONS:
        _REVISIONS[rev] = image_pipeline.load_revision(rev)
    return _REVISIONS[rev].load_image


def _read_back(kind: str, rev: str | None, grids) -> list:
    """Each grid drawn as a ``kind`` picture (PNG bytes), read back; ``(input or None, seconds)``."""
    read = _reader(rev)
    errors = (ImageError, ValueError)  # another revision's ImageError is its own class (a ValueError)
    out = []
    for grid in grids:
        buf = io.BytesIO()
        renderings.render_coarse(kind, grid).save(buf, "PNG")
        t = time.perf_counter()
        try:
            value = read(buf.getvalue())
        except errors:
            value = None
        out.append((value, time.perf_counter() - t))
    return out


def evaluate(data_dir: Path, n: int, start: int, seed: int, epochs: int, kinds, against: str | None, jobs: int):
    data = read_idx_directory(data_dir / "mnist-t10k")
    x, y = data.x_test, data.y_test.astype(np.int64)
    held = np.arange(start, min(start + n, len(x)))
    grids = np.stack([renderings.coarse(x[i]) for i in held])
    arrays = np.stack([renderings.coarse_as_array(g) for g in grids])
    models = {"plain": 0, "shifts ±1 px": 1}
    with tempfile.TemporaryDirectory() as tmp:
        ckpts = {}
        for name, shift in models.items():
            t0 = time.perf_counter()
            ckpts[name] = bench.train_model(
                x[: bench.N_TRAIN], y[: bench.N_TRAIN], seed, epochs, Path(tmp) / f"m{shift}.npz", shift=shift
            )
            print(f"trained 784-256-10 ({name}) on {bench.N_TRAIN:,} t10k digits in {time.perf_counter() - t0:.1f} s")
        mnist = {m: float(np.mean(bench.predict(c, x[held]) == y[held])) for m, c in ckpts.items()}
        base = {m: bench.predict(c, arrays) == y[held] for m, c in ckpts.items()}
        chunks = [grids[c] for c in np.array_split(np.arange(len(held)), max(1, jobs)) if c.size]
        rows = []
        for kind in kinds:
            result = {}
            for label, rev in [("this tree", None)] + ([(against, against)] if against else []):
                got = bench._map(partial(_read_back, kind, rev), chunks, jobs)
                good = [j for j, (v, _) in enumerate(got) if v is not None]
                seconds = float(np.median([t for _, t in got]))
                for m, c in ckpts.items():
                    ok = np.zeros(len(held), dtype=bool)
                    if good:
                        ok[good] = bench.predict(c, np.stack([got[j][0] for j in good])) == y[held][good]
                    result[(label, m)] = (ok, len(held) - len(good), seconds)
            rows.append((kind, result))
            print(f"  {kind}: done", flush=True)
    return list(models), mnist, base, rows


def write_pictures(data_dir: Path, indices, out: Path, kind: str = "coarse-x35") -> Path:
    """docs/img/images-coarse.png: the picture, the grid found in it, the enlarged coverage, the
    network's input, and the coarse array it is compared with."""
    from matplotlib.figure import Figure

    from xpnet.images import preprocessing_steps

    x = read_idx_directory(data_dir / "mnist-t10k").x_test
    fig = Figure(figsize=(8, 2.2 * len(indices)), layout="constrained")
    axes = fig.subplots(len(indices), 5)
    for row, i in zip(axes, indices):
        grid = renderings.coarse(x[i])
        buf = io.BytesIO()
        picture = renderings.render_coarse(kind, grid)
        picture.save(buf, "PNG")
        steps = preprocessing_steps(buf.getvalue())
        shown = [
            (np.asarray(picture.convert("RGB")), f"picture ({kind})"),
            (steps["blocks"][:, :, :3], "blocks found: 8×8"),
            (steps["coverage"], "coverage, enlarged"),
            (steps["output"], "network input"),
            (renderings.coarse_as_array(grid).reshape(28, 28), "coarse array"),
        ]
        for ax, (image, title) in zip(row, shown):
            ax.set_axis_off()
            ax.imshow(image, cmap=None if image.ndim == 3 else "gray", interpolation="nearest")
            ax.set_title(title, fontsize=8)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "images-coarse.png"
    fig.savefig(path, dpi=80)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("XPNET_TEST_DATA", "/work/shared/data")),
        help="directory holding mnist-t10k/ (default: $XPNET_TEST_DATA)",
    )
    parser.add_argument("--n", type=int, default=1000, help="held-out digits")
    parser.add_argument("--start", type=int, default=9000, help="first digit (t10k[8000:9000] is for tuning)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--kinds", default=",".join(renderings.COARSE_KINDS))
    parser.add_argument(
        "--against",
        default=image_pipeline.OLD,
        help="git revision to compare with (default: the hand-written pipeline; 'none' to skip)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes reading the pictures")
    parser.add_argument("--pictures", type=Path, help="write images-coarse.png (three digits, step by step) here")
    args = parser.parse_args(argv)
    if args.pictures is not None:
        print(f"wrote {write_pictures(args.data, range(args.start, args.start + 3), args.pictures)}")
    against = None if args.against.lower() == "none" else image_pipeline.short(args.against)
    models, mnist, base, rows = evaluate(
        args.data, args.n, args.start, args.seed, args.epochs, args.kinds.split(","), against, args.jobs
    )
    count = len(base[models[0]])
    met = True
    for m in models:
        print(
            f"\nmodel: {m} — digits t10k[{args.start}:{args.start + count}] as 8×8 grids of 16 levels; "
            f"MNIST's own 28×28 arrays: {mnist[m]:.1%}, the coarse arrays: {base[m].mean():.1%}"
        )
        extra = f" {against}'s load_image | refused ({against}) |" if against else ""
        print(f"| kind | digits | coarse arrays | through load_image | difference | 95 % interval | refused |{extra}")
        print("|---|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if against else ""))
        for kind, result in rows:
            ok, refused, _ = result[("this tree", m)]
            d = ok.mean() - base[m].mean()
            met = met and ok.mean() >= 0.90 and d >= -0.02
            line = (
                f"| {kind} | {count} | {base[m].mean():.1%} | {ok.mean():.1%} | {100 * d:+.1f} pts "
                f"| ±{100 * bench._half_width_95(base[m], ok):.1f} | {refused} |"
            )
            if against:
                old, old_refused, _ = result[(against, m)]
                line += f" {old.mean():.1%} | {old_refused} |"
            print(line)
    print("\nmedian ms per picture (this tree" + (f" / {against}" if against else "") + "):")
    for kind, result in rows:
        ms = [f"{1000 * result[(label, models[0])][2]:.1f}" for label in ["this tree"] + ([against] if against else [])]
        print(f"  {kind}: {' / '.join(ms)}")
    print(f"\ntargets (every kind ≥ 90.0 % and within 2.0 points of the coarse arrays): {'met' if met else 'missed'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
