"""Test accuracy of the averaged weights (``--ema``, or ``--swa-epochs``) against the raw ones, from the same runs.

Averaging changes nothing in training (the raw weights θ and the optimizer's state are those
of a run without it), so one ``xpnet train ... --ema DECAY`` run gives both numbers: its
checkpoint holds θ (``param.*``) and θ̄ (``avg.*``). For each ``--schedule`` this trains such a
run, then scores both sets of weights on the data's test split.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/ema_accuracy.py \\
        /work/shared/data/fashion-mnist --out /tmp/ema-runs --ema 0.999 \\
        --schedule constant --schedule cosine -- --hidden 256 --epochs 5

With ``--swa-epochs K`` the runs average by SWA over their last K epochs instead of an EMA.
Options after ``--`` go to ``xpnet train`` as they are.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import xpnet
from xpnet.datasets import load_dataset


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a dataset folder (IDX files)")
    parser.add_argument("--out", required=True, type=Path, help="folder for the runs")
    parser.add_argument("--ema", default="0.999")
    parser.add_argument("--swa-epochs", help="average by SWA over the last K epochs (instead of --ema)")
    parser.add_argument("--schedule", action="append", required=True)
    argv = sys.argv[1:] if argv is None else list(argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    args.train_args = argv[cut + 1 :]
    test = load_dataset(args.data)
    rows = []
    for schedule in args.schedule:
        run_dir = args.out / schedule
        average = ["--swa-epochs", args.swa_epochs] if args.swa_epochs else ["--ema", args.ema]
        cmd = ["xpnet", "train", "--data", args.data, "--schedule", schedule, *average, *args.train_args]
        print("$", " ".join(cmd), flush=True)
        subprocess.run(
            [sys.executable, "-m", "xpnet.cli", *cmd[1:], "--out", str(run_dir), "--overwrite", "--no-plots"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        averaged = xpnet.load(run_dir / "model.npz")
        raw = averaged.copy()
        raw.set_params(averaged.numpy_params())  # θ alone (set_params drops the average)
        rows.append((schedule, raw.score(test.x_test, test.y_test), averaged.score(test.x_test, test.y_test)))
    print(f"\n{'schedule':<10} {'raw θ':>8} {'SWA θ̄' if args.swa_epochs else 'EMA θ̄':>8}")
    for schedule, a, b in rows:
        print(f"{schedule:<10} {a:>8.4f} {b:>8.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
