"""Hidden activations and their derivatives.

The public path of [`xpnet.nn.activations`][xpnet.nn.activations], where the code lives: this module
re-exports its names, so ``from xpnet.activations import ...`` and pickles that name
``xpnet.activations`` keep working.
"""

from .nn.activations import *  # noqa: F403
from .nn.activations import __all__  # noqa: F401
