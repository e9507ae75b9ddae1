"""``python -m xpnet.cli``: the ``xpnet`` command."""

import sys

from .command import main

if __name__ == "__main__":  # not when imported (pkgutil.walk_packages, the architecture test)
    sys.exit(main())
