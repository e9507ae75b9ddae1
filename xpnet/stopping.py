"""Callbacks on a watched value: EarlyStopping, ReduceLROnPlateau.

The public path of [`xpnet.model.stopping`][xpnet.model.stopping], where the code lives: this module
re-exports its names, so ``from xpnet.stopping import ...`` and pickles that name
``xpnet.stopping`` keep working.
"""

from .model.stopping import *  # noqa: F403
from .model.stopping import __all__  # noqa: F401
