"""The network's math: forward pass, softmax, backward pass; and one step's loss and gradients.

The public path of [`xpnet.nn.network`][xpnet.nn.network], where the code lives, with
[`loss_and_gradients`][xpnet.nn.step.loss_and_gradients] and
[`mean_loss`][xpnet.nn.step.mean_loss] from [`xpnet.nn.step`][xpnet.nn.step] (here since 0.1.0):
this module re-exports their names, so ``from xpnet.network import ...`` and pickles that name
``xpnet.network`` keep working.
"""

from .nn.network import *  # noqa: F403
from .nn.network import __all__ as _network_all
from .nn.step import loss_and_gradients, mean_loss

__all__ = [*_network_all, "loss_and_gradients", "mean_loss"]
