"""What random-shift augmentation costs a training run, in one process, wall and CPU time.

``xpnet train --hidden 32 --epochs 3`` on Fashion-MNIST, run the way ``xpnet train`` runs it
(:func:`xpnet.runs.train_epochs`: preset ``default`` with the hidden layer and epochs
overridden, its splits, preprocessing and validation), three ways, interleaved:

* ``shift 0``: no augmentation;
* ``shift 1``: ``train_epochs`` with ``--shift 1`` as this version of xpnet does it;
* ``host shifts``: the loop xpnet used before (shift the raw images on the host every epoch
  with :func:`xpnet.augment.random_shifts`, one ``fit`` per epoch).

CPU time (``time.process_time``) is printed beside wall time because it is less disturbed by
other processes on a shared machine. Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for the
command (see /work/.library/env/README.md) and pin one BLAS thread for stable CPU times:
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python benchmarks/shift_overhead.py DATA``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from xpnet.augment import random_shifts
from xpnet.config import TrainConfig
from xpnet.datasets import load_dataset
from xpnet.input_transform import Preprocessing
from xpnet.runs import train_epochs
from xpnet.splits import prepare_splits


def host_shift_loop(model, splits, pre, config, validation):
    """The augmented loop of xpnet before device-side shifts (one fit per epoch)."""
    model.preprocessing = pre
    optimizer = config.make_optimizer()
    while model.epoch < config.epochs:
        shifted = random_shifts(splits.x_train, config.shift, (config.seed, model.epoch, 1))
        model.fit(shifted, splits.y_train, epochs=1, optimizer=optimizer,
                  batch_size=config.batch_size, validation_data=validation)
        optimizer = None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", help="a dataset directory or name (Fashion-MNIST)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--hidden", type=int, nargs="+", default=[32])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--backend", default="numpy")
    args = ap.parse_args(argv)
    dataset = load_dataset(args.data, download=False, progress=False)
    base = TrainConfig.from_preset("default", hidden=args.hidden, epochs=args.epochs)
    splits = prepare_splits(dataset, base.val_split, base.seed)
    pre = Preprocessing.fit(splits.x_train, base.standardize)
    validation = (splits.x_val, splits.y_val)  # raw: the model carries its preprocessing
    ways = {"shift 0": 0, "shift 1": 1, "host shifts": 1}
    wall = {k: [] for k in ways}
    cpu = {k: [] for k in ways}
    acc = {}
    for _ in range(args.runs):
        for way, shift in ways.items():
            config = TrainConfig.from_preset("default", hidden=args.hidden, epochs=args.epochs, shift=shift)
            model = config.make_model(backend=args.backend)
            t0, c0 = time.perf_counter(), time.process_time()
            if way == "host shifts":
                host_shift_loop(model, splits, pre, config, validation)
            else:
                train_epochs(model, splits.x_train, splits.y_train, pre, config, config.make_optimizer(),
                             validation)
            wall[way].append(time.perf_counter() - t0)
            cpu[way].append(time.process_time() - c0)
            acc[way] = model.history.val_accuracy[-1]
    print(f"{'-'.join(map(str, [784, *args.hidden, 10]))}, {args.epochs} epochs, backend {args.backend}, "
          f"{args.runs} interleaved runs: median [min-max] seconds")
    for way in ways:
        print(f"  {way:11s} wall {statistics.median(wall[way]):6.2f} [{min(wall[way]):.2f}-{max(wall[way]):.2f}]"
              f"   cpu {statistics.median(cpu[way]):6.2f} [{min(cpu[way]):.2f}-{max(cpu[way]):.2f}]"
              f"   val accuracy {acc[way]:.4f}")
    for way in ("shift 1", "host shifts"):
        print(f"  {way} / shift 0: wall {statistics.median(wall[way]) / statistics.median(wall['shift 0']):.2f}x, "
              f"cpu {statistics.median(cpu[way]) / statistics.median(cpu['shift 0']):.2f}x")


if __name__ == "__main__":
    main()
