"""xpnet's ``MLPClassifier`` next to scikit-learn's, on the same data with the same parameters.

Both estimators are fitted in this one process on the same Fashion-MNIST arrays (60 000
training images scaled to [0, 1] as float32, 10 000 test images) with the same parameters
(by default ``hidden_layer_sizes=(128,)``, ``solver="adam"``, ``batch_size=200``,
``max_iter=10``, ``random_state=0``), one after the other, alternating the order when
``--repeats`` is above 1. Reported: the wall-clock time of ``fit`` (``time.perf_counter``), the
epochs run, the last training loss and the test accuracy.

    python benchmarks/sklearn_side_by_side.py --data-dir /work/shared/data
    python benchmarks/sklearn_side_by_side.py --data-dir DIR --backend gpu --json

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
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    sys.exit(main())
