"""``python -m benchmarks.compare``: xpnet against the GEMM floor, plain NumPy, PyTorch and JAX."""

import sys

from .command import main

if __name__ == "__main__":
    sys.exit(main())
