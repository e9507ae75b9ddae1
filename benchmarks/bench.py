#!/usr/bin/env python3
"""Run xpnet's benchmark: the same command as ``xpnet bench`` (see the ``xpnet/bench/`` package).

    python benchmarks/bench.py --help
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench.py --json results.json

Works from a source checkout without installing xpnet.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xpnet.bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
