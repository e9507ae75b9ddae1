"""The network's math: forward pass, softmax, backward pass.

The public path of [`xpnet.nn.network`][xpnet.nn.network], where the code lives: this module
re-exports its names, so ``from xpnet.network import ...`` and pickles that name
``xpnet.network`` keep working.
"""

from .nn.network import *  # noqa: F403
from .nn.network import __all__  # noqa: F401
