"""Loss heads: the output layer's activation and the loss on it.

The public path of [`xpnet.nn.losses`][xpnet.nn.losses], where the code lives: this module
re-exports its names, so ``from xpnet.losses import ...`` and pickles that name
``xpnet.losses`` keep working.
"""

from .nn.losses import *  # noqa: F403
from .nn.losses import __all__  # noqa: F401
