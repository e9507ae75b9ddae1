"""xpnet's ``MLPClassifier`` next to scikit-learn's, on the same data with the same parameters.

Both estimators are fitted in this one process on the same Fashion-MNIST arrays (60 000
training images scaled to [0, 1] as float32, 10 000 test images) with the same parameters
(by default ``hidden_layer_sizes=(128,)``, ``solver="adam"``, ``batch_size=200``,
``max_iter=10``, ``random_state=0``), one after the other, alternating the order when
``--repeats`` is above 1. Reported: the wall-clock time of ``fit`` (``time.perf_counter``), the
epochs run, the last training loss and the test accuracy.

    python benchmarks/sklearn_side_by_side.py --data-dir /work/shared/data
    python benchmarks/sklearn_side_by_side.py --data-dir DIR --backend gpu --json
    python benchmarks/sklearn_side_by_side.py --data-dir DIR --interleave --seeds 0 1 2

``--interleave`` measures the ratio on a noisy machine: both estimators train one epoch at a
time (``partial_fit``, the same epoch as ``fit``'s), alternating which goes first, so that each
epoch of one is timed next to an epoch of the other; it reports the median of the per-epoch
ratios and each estimator's test accuracy after ``--max-iter`` epochs, for every seed.

Both train in float32 on the same BLAS (NumPy's) when xpnet runs on the CPU; ``--backend``
moves xpnet's training to another backend (its results still come back as NumPy arrays).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings


def _fit_and_score(make, X, y, X_test, y_test) -> dict:
    from sklearn.exceptions import ConvergenceWarning

    clf = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        clf.fit(X, y)
        fit_s = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = float(clf.score(X_test, y_test))
    return {
        "fit_s": fit_s,
        "score_s": time.perf_counter() - start,
        "epochs": int(clf.n_iter_),
        "loss": float(clf.loss_),
        "test_accuracy": accuracy,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir", default=None, help="data root holding fashion-mnist/ (default: xpnet's data directory)"
    )
    parser.add_argument("--hidden", type=int, nargs="+", default=[128], help="hidden layer widths")
    parser.add_argument("--max-iter", type=int, default=10, help="epochs (max_iter)")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--solver", default="adam", choices=["adam", "sgd"])
    parser.add_argument("--backend", default="cpu", help="xpnet's backend (default: cpu)")
    parser.add_argument("--repeats", type=int, default=1, help="fits of each estimator (alternating)")
    parser.add_argument("--seed", type=int, default=0, help="random_state of both")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--interleave",
        action="store_true",
        help="alternate single epochs (partial_fit) of the two; report per-epoch ratios",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="with --interleave: random_states")
    parser.add_argument(
        "--tune-allocator",
        action="store_true",
        help="call xpnet.backend.tune_host_allocator() first (process-wide: both estimators get it)",
    )
    args = parser.parse_args(argv)
    if args.tune_allocator:
        import xpnet.backend

        xpnet.backend.tune_host_allocator()
    if args.interleave:
        return _interleaved(args)

    import numpy as np
    import sklearn
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier
    from threadpoolctl import threadpool_info

    import xpnet
    from xpnet.datasets import load_dataset, scale
    from xpnet.sklearn import MLPClassifier

    data = load_dataset("fashion-mnist", data_dir=args.data_dir, download=False, progress=False)
    X, X_test = scale(data.x_train, "float32"), scale(data.x_test, "float32")
    y, y_test = data.y_train, data.y_test
    params = dict(
        hidden_layer_sizes=tuple(args.hidden),
        solver=args.solver,
        batch_size=args.batch_size,
        max_iter=args.max_iter,
        random_state=args.seed,
    )
    contenders = {
        "scikit-learn": lambda: SkMLPClassifier(**params),
        "xpnet": lambda: MLPClassifier(**params, backend=args.backend),
    }
    runs: dict[str, list] = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(args.repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            runs[name].append(_fit_and_score(contenders[name], X, y, X_test, y_test))

    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    report = {
        "data": {
            "name": "fashion-mnist",
            "train": list(X.shape),
            "test": list(X_test.shape),
            "dtype": str(X.dtype),
        },
        "params": {**params, "hidden_layer_sizes": list(params["hidden_layer_sizes"])},
        "xpnet_backend": str(xpnet.get_backend(args.backend)),
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "xpnet": xpnet.__version__,
        },
        "blas": blas,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "runs": runs,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Fashion-MNIST: train {tuple(X.shape)} test {tuple(X_test.shape)} float32 in [0, 1]")
    print("params: " + ", ".join(f"{k}={v!r}" for k, v in params.items()))
    print(f"xpnet backend: {report['xpnet_backend']}; BLAS: {'; '.join(blas) or 'unknown'}")
    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, xpnet {xpnet.__version__}")
    print()
    head = f"{'estimator':<14}{'run':>4}{'epochs':>8}{'fit s':>9}{'s/epoch':>9}{'loss':>9}{'test acc':>10}"
    print(head)
    print("-" * len(head))
    for name, rs in runs.items():
        for i, r in enumerate(rs, 1):
            print(
                f"{name:<14}{i:>4}{r['epochs']:>8}{r['fit_s']:>9.2f}{r['fit_s'] / r['epochs']:>9.2f}"
                f"{r['loss']:>9.4f}{r['test_accuracy']:>10.4f}"
            )
    best = {name: min(r["fit_s"] for r in rs) for name, rs in runs.items()}
    print()
    print(
        f"fastest fit: scikit-learn {best['scikit-learn']:.2f} s, xpnet {best['xpnet']:.2f} s "
        f"(xpnet / scikit-learn = {best['xpnet'] / best['scikit-learn']:.2f})"
    )
    return 0


def _interleaved(args) -> int:
    """Both estimators one epoch at a time, alternating; the median per-epoch time ratio."""
    import statistics

    import numpy as np
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier
    from threadpoolctl import threadpool_info

    from xpnet.datasets import load_dataset, scale
    from xpnet.sklearn import MLPClassifier

    data = load_dataset("fashion-mnist", data_dir=args.data_dir, download=False, progress=False)
    X, X_test = scale(data.x_train, "float32"), scale(data.x_test, "float32")
    y, y_test = data.y_train, data.y_test
    classes = np.unique(y)
    blas = [
        f"{i.get('internal_api')} {i.get('architecture')} ({i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    print(
        f"Fashion-MNIST: train {tuple(X.shape)} test {tuple(X_test.shape)} float32 in [0, 1]; "
        f"hidden {tuple(args.hidden)}, {args.solver}, batch {args.batch_size}, {args.max_iter} epochs "
        f"of partial_fit each, alternating; xpnet backend {args.backend}; BLAS {'; '.join(blas)}"
    )
    head = f"{'seed':>4}{'sklearn s/epoch':>17}{'xpnet s/epoch':>15}{'median ratio':>14}{'sklearn acc':>13}{'xpnet acc':>11}"
    print(head)
    print("-" * len(head))
    all_ratios, accs = [], {"scikit-learn": [], "xpnet": []}
    for seed in args.seeds or [args.seed]:
        params = dict(
            hidden_layer_sizes=tuple(args.hidden), solver=args.solver, batch_size=args.batch_size, random_state=seed
        )
        ests = {"scikit-learn": SkMLPClassifier(**params), "xpnet": MLPClassifier(**params, backend=args.backend)}
        times = {name: [] for name in ests}
        for epoch in range(args.max_iter):
            order = list(ests) if epoch % 2 == 0 else list(ests)[::-1]
            for name in order:
                start = time.perf_counter()
                ests[name].partial_fit(X, y, classes=classes)
                times[name].append(time.perf_counter() - start)
        ratios = [a / b for a, b in zip(times["xpnet"], times["scikit-learn"])]
        all_ratios += ratios
        for name, est in ests.items():
            accs[name].append(float(est.score(X_test, y_test)))
        print(
            f"{seed:>4}{statistics.median(times['scikit-learn']):>17.3f}{statistics.median(times['xpnet']):>15.3f}"
            f"{statistics.median(ratios):>14.2f}{accs['scikit-learn'][-1]:>13.4f}{accs['xpnet'][-1]:>11.4f}"
        )
    print()
    print(
        f"median of all per-epoch ratios xpnet / scikit-learn: {statistics.median(all_ratios):.2f} "
        f"(xpnet {1 / statistics.median(all_ratios):.2f}x as fast); mean test accuracy: scikit-learn "
        f"{np.mean(accs['scikit-learn']):.4f}, xpnet {np.mean(accs['xpnet']):.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
