"""What a training recipe costs next to another, measured side by side in one process.

``xpnet train``'s time is (epochs) × (time per epoch). This script builds each recipe's model,
preprocessing and augmentation exactly as ``xpnet train`` does (``TrainConfig.make_model``,
``Preprocessing.fit``, ``runs.epochs.make_augment``), then trains them on the same training
images one epoch at a time, *alternating* between the recipes, so that a slow spell of a shared
machine falls on all of them alike. It prints each recipe's median epoch time, and the ratio of
its predicted training time, ``epochs × median epoch``, to the first recipe's.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/preset_cost.py \\
        /work/shared/data/fashion-mnist --rounds 4 \\
        --recipe "old default=--shift 1" --recipe "default=" --recipe "default + affine=--augment affine"

A recipe is ``name=ARGS``: ``xpnet train`` options applied to ``--preset`` (default: the
``default`` preset as it is now; a recipe's own ``--preset`` wins). Only the first ``--rounds`` epochs of each are run: the
epochs of a run cost the same (the cosine schedule changes only numbers).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info

import xpnet
from xpnet.cli.train import train as train_command
from xpnet.datasets import load_dataset
from xpnet.runs.config import TrainConfig
from xpnet.runs.epochs import make_augment
from xpnet.runs.splits import prepare_splits


def config_from_args(preset: str, args: str, data: str) -> TrainConfig:
    """The TrainConfig ``xpnet train --preset PRESET ARGS`` would use (parsed by its own options)."""
    ctx = train_command.make_context("train", ["--preset", preset, *shlex.split(args)], resilient_parsing=False)
    opts = ctx.params
    names = [p.name for p in train_command.params]
    overrides = {
        k: opts[k] for k in names if k in TrainConfig.__dataclass_fields__ and k not in ("preset", "batch_size", "data")
    }
    config = TrainConfig.from_preset(opts["preset"], **overrides, data=data)  # a recipe may name its own
    if opts.get("batch_size") is not None:
        config.batch_size = None if opts["batch_size"] == "full" else opts["batch_size"]
    return config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a dataset folder (IDX files) or name")
    parser.add_argument("--recipe", action="append", required=True, metavar="NAME=ARGS")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--rounds", type=int, default=3, help="epochs of each recipe (alternating)")
    args = parser.parse_args(argv)

    dataset = load_dataset(args.data)
    recipes = []
    for text in args.recipe:
        name, _, options = text.partition("=")
        config = config_from_args(args.preset, options, args.data)
        config.resolve_augment(dataset.name)  # "auto", as xpnet train resolves it
        splits = prepare_splits(dataset, config.val_split, config.seed)
        pre = xpnet.Preprocessing.fit(splits.x_train, standardize=config.standardize)
        model = config.make_model(n_inputs=splits.x_train.shape[1], n_classes=dataset.n_classes)
        model.preprocessing = pre
        zero = pre.transform(np.zeros((1, 1), np.uint8), model.dtype_name)
        augment = make_augment(config, fill=float(zero[0, 0]))
        epochs = model.fit_epochs(
            splits.x_train,
            splits.y_train,
            epochs=config.epochs,
            batch_size=config.batch_size,
            optimizer=config.make_optimizer(),
            augment=augment,
        )
        recipes.append({"name": name, "config": config, "epochs": epochs, "times": []})
    xpnet.backend.tune_host_allocator()  # as xpnet train does
    kernels = sorted({f"{i['internal_api']} {i.get('architecture')} ×{i['num_threads']}" for i in threadpool_info()})
    print(f"BLAS: {', '.join(kernels)}; {len(splits.x_train):,} training images; {args.rounds} rounds")
    for r in range(args.rounds):
        for recipe in recipes:
            start = time.perf_counter()
            next(recipe["epochs"])
            recipe["times"].append(time.perf_counter() - start)
        print(f"round {r + 1}: " + ", ".join(f"{x['name']} {x['times'][-1]:.1f}s" for x in recipes), flush=True)
    base = recipes[0]
    base_total = base["config"].epochs * statistics.median(base["times"])
    print(f"\n{'recipe':<28} {'epochs':>6} {'median epoch':>13} {'predicted train time':>21} {'ratio':>6}")
    for recipe in recipes:
        median = statistics.median(recipe["times"])
        total = recipe["config"].epochs * median
        print(
            f"{recipe['name']:<28} {recipe['config'].epochs:>6} {median:>12.2f}s {total / 60:>19.1f} min "
            f"{total / base_total:>6.2f}"
        )
        print(f"  {recipe['config'].command()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
