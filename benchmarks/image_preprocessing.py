"""Does `xpnet predict` on pictures do as well as the network on MNIST's own arrays?

Trains two small xpnet models (seeded) on the first 8,000 digits of the real MNIST test split,
one plainly and one with ``xpnet train``'s default 1-pixel random shifts, saves them as
checkpoints, then, for held-out digits (``--start``, default 9,000, on; t10k[8000:9000] is
kept for tuning the preprocessing's parameters), compares per model:

* ``arrays``: the model's accuracy on those digits given as MNIST's 28×28 arrays;
* ``re-drawn directly``: on the digits re-drawn (skeleton, round pen of MNIST's width) and
  rasterised straight into 28×28, with no picture and no preprocessing: what the re-drawing
  alone changes;
* per picture kind (see ``tests/digit_renderings.py``): each digit is drawn as a picture of
  that kind, written to a file, read back with [load_image][xpnet.images.load_image] and predicted
  with the checkpoint's preprocessing, exactly as ``xpnet predict`` does.

Each difference from the arrays comes with the half-width of its 95 % interval (the digits
are paired: the same digit as an array and as a picture). Each picture's randomness comes
from the seed, the kind and the digit's index, so ``--jobs`` (processes drawing and reading
the pictures) does not change any picture.

Run from the repository root::

    XPNET_TEST_DATA=/work/shared/data python benchmarks/image_preprocessing.py --n 1000 --epochs 8

``--pictures DIR`` also writes before/after pictures of each kind (docs/img/images-*.png).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import digit_renderings as renderings  # noqa: E402

import xpnet  # noqa: E402
from xpnet.datasets import read_idx_directory  # noqa: E402
from xpnet.images import ImageError, load_image, preprocessing_steps  # noqa: E402
from xpnet.model.checkpoint import load_checkpoint  # noqa: E402
from xpnet.model.preprocessing import Preprocessing  # noqa: E402

N_TRAIN = 8000


def train_model(x, y, seed: int, epochs: int, path: Path, shift: int = 0):
    """Train ``784-256-10`` (ReLU, Adam) on raw uint8 digits and save it; returns the checkpoint.

    ``shift > 0`` trains as ``xpnet train``'s default preset does: every epoch each training
    digit is moved by a random whole-pixel ``(dy, dx)``, ``|dy|, |dx| <= shift``
    ([RandomShifts][xpnet.augment.shifts.RandomShifts]), the uncovered pixels given the value a raw 0
    pixel is transformed to.
    """
    from xpnet.augment.shifts import RandomShifts

    pre = Preprocessing.fit(x)
    model = xpnet.MLP([784, 256, 10], backend="cpu", seed=seed)
    augment = None
    if shift:
        zero = pre.transform(np.zeros((1, 1), np.uint8), model.dtype_name)
        augment = RandomShifts(shift, seed=seed, fill=float(zero[0, 0]))
    model.fit(pre.transform(x), y, epochs=epochs, batch_size=128, augment=augment)
    xpnet.save(model, path, preprocessing=pre)
    return load_checkpoint(path, backend="cpu")


def predict(ckpt, x_raw) -> np.ndarray:
    """Class predictions for raw uint8 pixels, transformed as ``xpnet predict`` does."""
    model = ckpt.model
    return np.asarray(model.backend.to_numpy(model.predict(ckpt.model_inputs(x_raw))))


def evaluate(data_dir: Path, n: int, start: int, seed: int, epochs: int, kinds, pictures: Path | None, jobs: int = 1):
    """Accuracy of two models (plain, and trained with 1-pixel shifts) per picture kind.

    Returns ``(models, rows, direct)``: the model names; per kind ``(kind, {model: (arrays,
    pictures)}, refused, seconds per image)``; and ``{model: accuracy}`` on the digits
    re-drawn directly at 28×28 (`digit_renderings.redrawn_directly`).
    """
    data = read_idx_directory(data_dir / "mnist-t10k")
    x, y = data.x_test, data.y_test.astype(np.int64)
    held = np.arange(start, min(start + n, len(x)))
    models = {"plain": 0, "shifts ±1 px": 1}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpts = {}
        for name, shift in models.items():
            t0 = time.perf_counter()
            ckpts[name] = train_model(x[:N_TRAIN], y[:N_TRAIN], seed, epochs, tmp / f"model{shift}.npz", shift=shift)
            print(
                f"trained 784-256-10 ({name}) on {N_TRAIN:,} t10k digits in {time.perf_counter() - t0:.1f} s",
                flush=True,
            )
        base = {m: predict(c, x[held]) == y[held] for m, c in ckpts.items()}
        redrawn = np.stack(_map(_redraw, [x[c] for c in np.array_split(held, max(1, jobs)) if c.size], jobs))
        direct = {m: float(np.mean(predict(c, redrawn) == y[held])) for m, c in ckpts.items()}
        rows = []
        for kind in kinds:
            inputs, refused, seconds = _pictures_read_back(kind, x, held, seed, jobs)
            good = [j for j, v in enumerate(inputs) if v is not None]
            acc = {}
            for m, c in ckpts.items():
                ok = np.zeros(len(held), dtype=bool)
                if good:
                    ok[good] = predict(c, np.stack([inputs[j] for j in good])) == y[held][good]
                acc[m] = (float(base[m].mean()), float(ok.mean()), _half_width_95(base[m], ok))
            rows.append((kind, acc, refused, seconds))
            print(f"  {kind}: done", flush=True)
            if pictures is not None:
                _pictures(kind, x, held[:6], seed, pictures)
    return list(models), rows, direct


def _read_back(kind: str, seed: int, chunk) -> list:
    """Draw each digit of ``chunk = (digits, indices)`` as a ``kind`` picture, write it, read
    it back with ``load_image``.

    Each picture's randomness comes from ``(seed, kind, digit index)`` alone, so the pictures
    do not depend on how the digits are split between processes. Returns one
    ``(input or None where refused, seconds load_image took)`` per digit.
    """
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for digit, i in zip(*chunk):
            rng = np.random.default_rng([seed, renderings.KINDS.index(kind) + 1000, int(i)])
            path = renderings.write(kind, digit, rng, tmp, f"{kind}-{i}")
            t = time.perf_counter()
            try:
                value = load_image(path)
            except ImageError:
                value = None
            out.append((value, time.perf_counter() - t))
            path.unlink()
    return out


def _redraw(digits) -> list:
    return [renderings.redrawn_directly(d) for d in digits]


def _map(function, chunks: list, jobs: int) -> list:
    """``function`` over ``chunks`` in up to ``jobs`` processes; the results concatenated."""
    if jobs <= 1 or len(chunks) == 1:
        return [v for c in chunks for v in function(c)]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(jobs, len(chunks))) as pool:
        return [v for r in pool.map(function, chunks) for v in r]


def _half_width_95(a: np.ndarray, b: np.ndarray) -> float:
    """Half-width of the 95 % interval of ``mean(b) − mean(a)`` for paired bool outcomes.

    With ``n`` digits of which ``n10`` are right only in ``a`` and ``n01`` only in ``b``, the
    difference ``d = (n01 − n10)/n`` has the standard error
    ``sqrt(n01 + n10 − n d²) / n``; the half-width is 1.96 of them.
    """
    n = a.size
    d = (np.sum(b & ~a) - np.sum(a & ~b)) / n
    return float(1.96 * np.sqrt(max(np.sum(b & ~a) + np.sum(a & ~b) - n * d * d, 0.0)) / n)


def _pictures_read_back(kind: str, x, held, seed: int, jobs: int):
    """`_read_back` over ``held``, split into ``jobs`` processes; ``(inputs, refused, s/image)``."""
    from functools import partial

    chunks = [(x[c], c) for c in np.array_split(held, max(1, jobs)) if c.size]
    results = _map(partial(_read_back, kind, seed), chunks, jobs)
    inputs = [v for v, _ in results]
    return inputs, sum(v is None for v in inputs), sum(t for _, t in results) / len(held)


def _pictures(kind: str, x, indices, seed: int, out: Path) -> None:
    """docs/img/images-KIND.png: the picture, its foreground, mask, and the 28×28 result."""
    from matplotlib.figure import Figure

    rng = np.random.default_rng([seed, 99, renderings.KINDS.index(kind)])
    with tempfile.TemporaryDirectory() as tmp:
        fig = Figure(figsize=(8, 2.2 * 3), layout="constrained")
        axes = fig.subplots(3, 5)
        for row, i in zip(axes, indices[:3]):
            path = renderings.write(kind, x[i], rng, tmp, "p")
            steps = preprocessing_steps(path)
            from PIL import Image

            shown = [
                (np.asarray(Image.open(path).convert("RGBA")), "picture"),
                (x[i].reshape(28, 28), "MNIST original"),
                (steps.get("foreground"), "foreground f"),
                (steps.get("stroke"), "mask, stroke normalised"),
                (steps["output"], "network input"),
            ]
            for ax, (image, title) in zip(row, shown):
                ax.set_axis_off()
                if image is None:
                    continue
                ax.imshow(image, cmap=None if image.ndim == 3 else "gray", interpolation="nearest")
                ax.set_title(title, fontsize=8)
        out.mkdir(parents=True, exist_ok=True)
        fig.savefig(out / f"images-{kind}.png", dpi=80)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("XPNET_TEST_DATA", "/work/shared/data")),
        help="directory holding mnist-t10k/ (default: $XPNET_TEST_DATA)",
    )
    parser.add_argument("--n", type=int, default=300, help="held-out digits per kind")
    parser.add_argument(
        "--start",
        type=int,
        default=9000,
        help="first held-out digit (default 9000: t10k[8000:9000] is kept for tuning)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--kinds", default=",".join(renderings.KINDS))
    parser.add_argument("--pictures", type=Path, help="write before/after pictures here")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes drawing and reading the pictures (default: one per CPU)",
    )
    args = parser.parse_args(argv)
    models, rows, direct = evaluate(
        args.data, args.n, args.start, args.seed, args.epochs, args.kinds.split(","), args.pictures, args.jobs
    )
    count = len(range(args.start, min(args.start + args.n, 10000)))
    worst = {}
    for m in models:
        print(
            f"\nmodel: {m} — digits t10k[{args.start}:{args.start + count}]; re-drawn directly at 28×28 "
            f"(no picture, no preprocessing): {direct[m]:.1%}"
        )
        print(
            "| kind | digits | 28×28 arrays | through load_image | difference | 95 % interval "
            "| vs re-drawn directly | refused | ms/image |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for kind, acc, refused, sec in rows:
            base, pic, half = acc[m]
            vs = "—" if kind == "mnist-enlarged" else f"{100 * (pic - direct[m]):+.1f} pts"
            print(
                f"| {kind} | {count} | {base:.1%} | {pic:.1%} | {100 * (pic - base):+.1f} pts "
                f"| ±{100 * half:.1f} | {vs} | {refused} | {1000 * sec:.0f} |"
            )
        worst[m] = min(pic - base for _, acc, _, _ in rows for base, pic, _ in [acc[m]])
        print(f"worst difference ({m}): {100 * worst[m]:+.1f} points (target: no worse than -2.0)")
    return 0 if min(worst.values()) >= -0.02 else 1


if __name__ == "__main__":
    raise SystemExit(main())
