#!/usr/bin/env python3
"""Run the comparison harness (``benchmarks/compare/``): ``python -m benchmarks.compare``'s command.

    python benchmarks/bench.py --help
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench.py --json results.json

Works from a source checkout without installing xpnet. (``xpnet bench``, the installed command,
times xpnet's own backends against each other; this harness times xpnet against other libraries.)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.compare import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
