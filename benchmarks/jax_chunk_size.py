"""How many steps one compiled call should run on JAX (xpnet.model.compiled.MAX_CHUNK), measured.

Trains 784-128-10 (batch 128, SGD lr 0.1 and Adam lr 1e-3) on the first 20,000 Fashion-MNIST
training images with ``MLP.fit`` on JAX, for several chunk sizes, interleaved epoch by epoch
in one process, and prints each one's median epoch time over xpnet-numpy's measured beside it.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \\
        python benchmarks/jax_chunk_size.py /path/to/fashion-mnist
"""

from __future__ import annotations

import statistics
import sys
import time

import xpnet
from xpnet import optim, steps
from xpnet.datasets import load_dataset

CHUNKS = (1, 8, 64, 1000)


def main(path: str, epochs: int = 5) -> None:
    data = load_dataset(path)
    X, y = data.x_train[:20000].reshape(20000, -1) / 255.0, data.y_train[:20000]
    for name, make in (("sgd", lambda: optim.SGD(lr=0.1)), ("adam", lambda: optim.Adam(lr=1e-3))):
        runs = {
            "numpy": xpnet.MLP([784, 128, 10], backend="numpy", seed=0).fit_epochs(
                X, y, epochs=epochs + 1, batch_size=128, optimizer=make()
            )
        }
        for k in CHUNKS:
            model = xpnet.MLP([784, 128, 10], backend="jax", seed=0)
            runs[k] = model.fit_epochs(X, y, epochs=epochs + 1, batch_size=128, optimizer=make())
        times = {key: [] for key in runs}
        for epoch in range(epochs + 1):
            for key, gen in runs.items():
                steps.MAX_CHUNK = 64 if key == "numpy" else key
                start = time.perf_counter()
                next(gen)
                if epoch:  # the first epoch compiles
                    times[key].append(time.perf_counter() - start)
        base = statistics.median(times["numpy"])
        cells = ", ".join(f"{k} steps {statistics.median(times[k]) / base:.2f}×" for k in CHUNKS)
        print(f"{name}: xpnet-numpy {base:.3f} s/epoch; xpnet-jax with runs of at most {cells}")


if __name__ == "__main__":
    main(sys.argv[1])
