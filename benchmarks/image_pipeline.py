"""How long ``load_image`` takes per picture: this tree's pipeline next to another revision's.

The other revision (default `OLD`, the last commit with the hand-written NumPy + Pillow
pipeline) is read from git (``git show REV:xpnet/images/…``) into a
temporary package, so both pipelines run in this one process on the same bytes. Each
repetition calls both on every picture, alternating which goes first, and the medians of the
wall-clock (``time.perf_counter``) and CPU (``time.process_time``) times are printed with
their ratio and the largest difference between the two 28×28 outputs. The pictures, all in
memory, are the kinds ``xpnet serve`` and ``xpnet predict`` receive:

``serve-canvas``
    280×280 RGB PNG, white strokes 280/13 px wide on black: what ``xpnet serve``'s pad sends.
``canvas-rgba``
    280×280 RGBA PNG, black strokes on a transparent canvas.
``mnist-enlarged``
    280×280 PNG, the MNIST digit enlarged 10× (bicubic), dark on white.
``photo-3000``
    3000×2000 JPEG (quality 85): the photo rendering of ``tests/digit_renderings.py``
    enlarged, with fresh sensor noise (σ = 4), as a phone takes it.
``coarse-x35``
    280×280 PNG: the 8×8, 16-level digit of ``coarse-x35`` enlarged by nearest neighbour.

The digits are real MNIST test digits when ``$XPNET_TEST_DATA`` (or ``--data``) holds
``mnist-t10k/``, else one synthetic "7". Run from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/image_pipeline.py --repeats 30
    python benchmarks/image_pipeline.py --against none        # this tree only
    python benchmarks/image_pipeline.py --skimage             # also SciPy next to scikit-image
    python benchmarks/image_pipeline.py --files 1000          # also xpnet predict's reading, 1 vs N processes

``--skimage`` times the operations the pipeline needs in SciPy's ``ndimage`` and in
scikit-image (when it is importable): the choice between the two libraries.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import digit_renderings as renderings  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

CASES = ("serve-canvas", "canvas-rgba", "mnist-enlarged", "photo-3000", "coarse-x35")
#: The last commit whose xpnet/images was the hand-written NumPy + Pillow pipeline (before SciPy).
OLD = "a90ffccdf63bde3e1e446aee3a6161bdacc3cc9c"


def short(rev: str) -> str:
    """A revision as the tables name it: a commit hash cut to 7 characters."""
    return rev[:7] if len(rev) == 40 and all(c in "0123456789abcdef" for c in rev) else rev


def load_revision(rev: str):
    """``xpnet/images`` as it is at git revision ``rev``, imported as ``xpnet._images_at_<rev>``."""
    import xpnet  # noqa: F401  (the package the old modules' ``..errors`` imports resolve in)

    names = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{rev}:xpnet/images"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    folder = Path(tempfile.mkdtemp(prefix="xpnet-images-"))
    for name in names:
        if name.endswith(".py"):
            text = subprocess.run(
                ["git", "show", f"{rev}:xpnet/images/{name}"], cwd=ROOT, check=True, capture_output=True
            ).stdout
            (folder / name).write_bytes(text)
    module_name = "xpnet._images_at_" + "".join(c if c.isalnum() else "_" for c in rev[:12])
    spec = importlib.util.spec_from_file_location(
        module_name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def _png(img, fmt="PNG", **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def _digit(data: Path | None):
    if data is not None and (data / "mnist-t10k").is_dir():
        from xpnet.datasets import read_idx_directory

        return read_idx_directory(data / "mnist-t10k").x_test[9000], "t10k[9000]"
    seven = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(seven).line([(7, 6), (21, 6), (12, 23)], fill=255, width=3)
    return np.asarray(seven), "a synthetic seven"


def pictures(digit: np.ndarray, seed: int = 0) -> dict[str, bytes]:
    """The encoded pictures of `CASES`, one each, drawn from ``digit``."""
    rng = np.random.default_rng(seed)
    out = {}
    cov = renderings._place((280, 280), renderings.stroke_coverage(digit, 200, 280 / 13), rng)
    out["serve-canvas"] = _png(Image.fromarray(np.rint(255 * cov).astype(np.uint8)).convert("RGB"))
    out["canvas-rgba"] = _png(renderings.render("canvas-rgba", digit, rng))
    out["mnist-enlarged"] = _png(renderings.render("mnist-enlarged", digit, rng))
    photo = np.asarray(renderings.render("photo", digit, rng).resize((3000, 2000), Image.BICUBIC), dtype=np.float32)
    photo = np.clip(photo + rng.normal(0, 4, photo.shape), 0, 255).astype(np.uint8)
    out["photo-3000"] = _png(Image.fromarray(photo), "JPEG", quality=85)
    out["coarse-x35"] = _png(renderings.render_coarse("coarse-x35", renderings.coarse(digit)))
    return out


def time_side_by_side(functions: dict, data: bytes, repeats: int) -> dict:
    """Median wall and CPU seconds of each function on ``data``, calls interleaved, order alternating."""
    for f in functions.values():
        f(data)  # warm: imports, caches
    wall = {k: [] for k in functions}
    cpu = {k: [] for k in functions}
    names = list(functions)
    for r in range(repeats):
        for k in names if r % 2 == 0 else names[::-1]:
            t, c = time.perf_counter(), time.process_time()
            functions[k](data)
            cpu[k].append(time.process_time() - c)
            wall[k].append(time.perf_counter() - t)
    return {k: (float(np.median(wall[k])), float(np.median(cpu[k]))) for k in names}


def compare_libraries(repeats: int) -> None:
    """The pipeline's operations in SciPy's ndimage and in scikit-image, median ms."""
    from scipy import ndimage

    try:
        from skimage import measure, morphology
    except ImportError:
        print("\nscikit-image is not installed: only SciPy measured (pip install scikit-image to compare)")
        return
    import skimage

    mask = np.zeros((100, 100), bool)
    mask[20:80, 40:45] = mask[20:25, 20:80] = mask[90:95, 5:8] = True
    strokes = np.zeros((270, 270), bool)
    strokes[30:230, 80:83] = strokes[30:33, 30:230] = True
    r = 10
    gray = np.random.default_rng(0).random((160, 120)).astype(np.float32)
    weights = np.random.default_rng(1).random((20, 20))

    def med(f):
        f()
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
        return 1000 * float(np.median(ts))

    rows = [
        (
            "8-connected labels, 100×100",
            med(lambda: ndimage.label(mask, np.ones((3, 3)))),
            med(lambda: measure.label(mask, connectivity=2)),
        ),
        (
            f"disk dilation r={r}, 270×270",
            med(lambda: ndimage.distance_transform_edt(~strokes) <= r),
            med(lambda: morphology.dilation(strokes, morphology.disk(r, decomposition="sequence"))),
        ),
        (
            "grey closing 81×81, 160×120",
            med(lambda: ndimage.grey_closing(gray, size=(81, 81), mode="mirror")),
            med(lambda: morphology.closing(gray, morphology.footprint_rectangle((81, 81)))),
        ),
        (
            "centre of mass, 20×20",
            med(lambda: ndimage.center_of_mass(weights)),
            med(lambda: measure.regionprops(np.ones((20, 20), int), weights)[0].centroid_weighted),
        ),
    ]
    import scipy

    print(f"\nSciPy {scipy.__version__} ndimage next to scikit-image {skimage.__version__} (median ms of {repeats}):\n")
    print("| operation | scipy.ndimage | scikit-image |")
    print("|---|---:|---:|")
    for name, a, b in rows:
        print(f"| {name} | {a:.2f} | {b:.2f} |")


def time_predict_reading(n_files: int, digit: np.ndarray, rounds: int = 2) -> None:
    """``xpnet predict``'s reading of ``n_files`` pictures (written to a temporary folder, kinds
    mixed): one process next to the processes it picks ([`workers_for`][xpnet.cli.predict.workers_for]), alternating."""
    from xpnet.cli.predict import read_images, workers_for

    kinds = ("serve-canvas", "mnist-enlarged", "canvas-rgba", "coarse-x35")
    data = pictures(digit)
    jobs = workers_for(n_files)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(n_files):
            path = Path(tmp) / f"p{i:05d}.png"
            path.write_bytes(data[kinds[i % len(kinds)]])
            paths.append(path)
        times = {1: [], jobs: []}
        for r in range(rounds):
            for j in (1, jobs) if r % 2 == 0 else (jobs, 1):
                t = time.perf_counter()
                read_images(paths, jobs=j)
                times[j].append(time.perf_counter() - t)
    print(f"\nreading {n_files} pictures as xpnet predict does ({rounds} rounds, alternating):")
    for j, ts in times.items():
        print(f"  {j} process{'es' if j > 1 else ''}: {min(ts):.2f} s (best), {np.median(ts):.2f} s (median)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--against", default=OLD, help="git revision to compare with (default: the hand-written pipeline; 'none': skip)"
    )
    parser.add_argument("--repeats", type=int, default=20, help="calls per picture and pipeline")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ["XPNET_TEST_DATA"]) if "XPNET_TEST_DATA" in os.environ else None
    )
    parser.add_argument("--skimage", action="store_true", help="also time ndimage next to scikit-image")
    parser.add_argument("--files", type=int, default=0, help="also time xpnet predict's reading of this many files")
    args = parser.parse_args(argv)

    from xpnet import images

    functions = {"this tree": images.load_image}
    if args.against.lower() != "none":
        args.against = short(args.against)
        functions[args.against] = load_revision(args.against).load_image
    digit, which = _digit(args.data)
    data = pictures(digit)
    cases = args.cases.split(",")
    print(f"load_image on {which}, {args.repeats} calls each, interleaved; load average {os.getloadavg()[0]:.1f}\n")
    if len(functions) == 2:
        print(
            f"| picture | bytes | {args.against} ms (CPU ms) | this tree ms (CPU ms) "
            f"| {args.against} / this tree | max abs difference |"
        )
        print("|---|---:|---:|---:|---:|---:|")
    else:
        print("| picture | bytes | this tree ms (CPU ms) |")
        print("|---|---:|---:|")
    for case in cases:
        t = time_side_by_side(functions, data[case], args.repeats)
        new = t["this tree"]
        if len(functions) == 2:
            old = t[args.against]
            diff = int(
                np.abs(functions["this tree"](data[case]).astype(int) - functions[args.against](data[case])).max()
            )
            print(
                f"| {case} | {len(data[case]):,} | {1000 * old[0]:.1f} ({1000 * old[1]:.1f}) "
                f"| {1000 * new[0]:.1f} ({1000 * new[1]:.1f}) | {old[0] / new[0]:.1f}× | {diff} |",
                flush=True,
            )
        else:
            print(f"| {case} | {len(data[case]):,} | {1000 * new[0]:.1f} ({1000 * new[1]:.1f}) |", flush=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    if args.skimage:
        compare_libraries(args.repeats)
    if args.files:
        time_predict_reading(args.files, digit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
