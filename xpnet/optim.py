"""Optimizers (SGD, momentum, Adam, AdamW) and learning-rate schedules.

The public path of [`xpnet.nn.optim`][xpnet.nn.optim], where the code lives: this module
re-exports its names, so ``from xpnet.optim import ...`` and pickles that name
``xpnet.optim`` keep working.
"""

from .nn.optim import *  # noqa: F403
from .nn.optim import __all__  # noqa: F401
