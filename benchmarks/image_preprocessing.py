"""Does `xpnet predict` on pictures do as well as the network on MNIST's own arrays?

Trains a small xpnet model (seeded) on the first 8,000 digits of the real MNIST test split,
saves it as a checkpoint, then, for held-out digits (from index 8,000 on), compares:

* ``arrays``: the same model's accuracy on those digits given as MNIST's 28×28 arrays;
* per picture kind (see ``tests/digit_renderings.py``): each digit is drawn as a picture of
  that kind, written to a file, read back with :func:`xpnet.images.load_image` and predicted
  with the checkpoint's preprocessing, exactly as ``xpnet predict`` does.

Run from the repository root::

    XPNET_TEST_DATA=/work/shared/data python benchmarks/image_preprocessing.py --n 300

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
from xpnet.checkpoint import load_checkpoint  # noqa: E402
from xpnet.datasets import read_idx_directory  # noqa: E402
from xpnet.images import ImageError, load_image, preprocessing_steps  # noqa: E402
from xpnet.input_transform import Preprocessing  # noqa: E402

N_TRAIN = 8000


def train_model(x, y, seed: int, epochs: int, path: Path):
    """Train ``784-256-10`` (ReLU, Adam) on raw uint8 digits and save it; returns the checkpoint."""
    pre = Preprocessing.fit(x)
    model = xpnet.MLP([784, 256, 10], backend="cpu", seed=seed)
    model.fit(pre.transform(x), y, epochs=epochs, batch_size=128)
    xpnet.save(model, path, preprocessing=pre)
    return load_checkpoint(path, backend="cpu")


def predict(ckpt, x_raw) -> np.ndarray:
    """Class predictions for raw uint8 pixels, transformed as ``xpnet predict`` does."""
    model, pre = ckpt.model, ckpt.preprocessing
    X = x_raw if getattr(model, "preprocessing", None) is not None else pre.transform(x_raw, model.dtype_name)
    return np.asarray(model.backend.to_numpy(model.predict(X)))


def evaluate(data_dir: Path, n: int, seed: int, epochs: int, kinds, pictures: Path | None) -> list[tuple]:
    data = read_idx_directory(data_dir / "mnist-t10k")
    x, y = data.x_test, data.y_test.astype(np.int64)
    held = np.arange(N_TRAIN, min(N_TRAIN + n, len(x)))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        ckpt = train_model(x[:N_TRAIN], y[:N_TRAIN], seed, epochs, tmp / "model.npz")
        print(f"trained 784-256-10 on {N_TRAIN:,} t10k digits in {time.perf_counter() - t0:.1f} s", flush=True)
        base = predict(ckpt, x[held]) == y[held]
        rows = []
        for kind in kinds:
            rng = np.random.default_rng([seed, renderings.KINDS.index(kind) + 1000])
            inputs, refused, seconds = [], 0, 0.0
            for i in held:
                path = renderings.write(kind, x[i], rng, tmp, f"{kind}-{i}")
                t = time.perf_counter()
                try:
                    inputs.append(load_image(path))
                except ImageError:
                    inputs.append(None)
                    refused += 1
                seconds += time.perf_counter() - t
                path.unlink()
            ok = np.zeros(len(held), dtype=bool)
            good = [j for j, v in enumerate(inputs) if v is not None]
            if good:
                ok[good] = predict(ckpt, np.stack([inputs[j] for j in good])) == y[held][good]
            rows.append((kind, float(base.mean()), float(ok.mean()), refused, seconds / len(held)))
            print(f"  {kind}: done", flush=True)
            if pictures is not None:
                _pictures(kind, x, held[:6], seed, pictures)
    return rows


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

            shown = [(np.asarray(Image.open(path).convert("RGBA")), "picture"),
                     (x[i].reshape(28, 28), "MNIST original"),
                     (steps.get("foreground"), "foreground f"),
                     (steps.get("stroke"), "mask, stroke normalised"),
                     (steps["output"], "network input")]
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
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("XPNET_TEST_DATA", "/work/shared/data")),
                        help="directory holding mnist-t10k/ (default: $XPNET_TEST_DATA)")
    parser.add_argument("--n", type=int, default=300, help="held-out digits per kind (max 2000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--kinds", default=",".join(renderings.KINDS))
    parser.add_argument("--pictures", type=Path, help="write before/after pictures here")
    args = parser.parse_args(argv)
    rows = evaluate(args.data, args.n, args.seed, args.epochs, args.kinds.split(","), args.pictures)
    print()
    print(f"| kind | digits | 28×28 arrays | through load_image | difference | refused | ms/image |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, base, acc, refused, sec in rows:
        print(f"| {kind} | {min(args.n, 2000)} | {base:.1%} | {acc:.1%} | {100 * (acc - base):+.1f} pts "
              f"| {refused} | {1000 * sec:.0f} |")
    worst = min(acc - base for _, base, acc, _, _ in rows)
    print(f"\nworst difference: {100 * worst:+.1f} points (target: no worse than -2.0)")
    return 0 if worst >= -0.02 else 1


if __name__ == "__main__":
    raise SystemExit(main())
