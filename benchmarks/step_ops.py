"""Array operations one training step issues, counted on array-api-strict (tests/tooling/opcount.py).

On a GPU every computing operation is at least one kernel launch, so this count bounds how fast
small networks can train there. Prints, for 784-128-10 at batch 128 and the tutorial network at
full batch, SGD and Adam: the operations of one steady-state step (views such as ``.T`` and
slices included), the computing ones ("kernels"), the namespace lookups, and the device reads
(0: the loop never waits for the device inside an epoch). tests/core/test_lean_step.py pins them.

``python benchmarks/step_ops.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: xpnet, tests

import xpnet  # noqa: E402
from tests.tooling.opcount import count_step_ops  # noqa: E402


def main() -> None:
    rng = np.random.default_rng(0)
    cases = [
        ("784-128-10, batch 128", lambda: xpnet.MLP([784, 128, 10], backend="array_api_strict"), 128),
        ("tutorial 784-10-10, full batch", lambda: xpnet.MLP.tutorial(backend="array_api_strict"), None),
    ]
    print(f"{'network':32s} {'opt':5s} {'ops':>4s} {'kernels':>8s} {'lookups':>8s} {'reads':>6s}")
    for label, make, batch in cases:
        X = rng.random((512 if batch is None else 6 * batch, 784), dtype=np.float32)
        y = rng.integers(0, 10, len(X))
        for opt in ("sgd", "adam"):
            optimizer = xpnet.nn.optim.SGD(lr=0.1) if opt == "sgd" else xpnet.nn.optim.Adam(lr=1e-3)
            steps = count_step_ops(make(), X, y, epochs=3, batch_size=batch, optimizer=optimizer)
            steady = [i for i, n in enumerate(steps.totals) if n == steps.steady]
            print(
                f"{label:32s} {opt:5s} {steps.steady:4d} {steps.steady_kernels:8d} "
                f"{steps.lookups[steady[-1]]:8d} {max(steps.reads):6d}"
            )
            print("    " + ", ".join(f"{k} {v}" for k, v in sorted(steps.steady_counts.items())))


if __name__ == "__main__":
    main()
