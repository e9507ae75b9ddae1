"""The model layer: [`MLP`][xpnet.model.mlp.MLP] and everything that trains, checks, saves and loads it.

| module | what it holds |
| --- | --- |
| [`mlp`][xpnet.model.mlp] | ``MLP``: parameters, ``fit``, ``predict``, ``evaluate`` |
| [`pickling`][xpnet.model.pickling] | how an ``MLP`` pickles, and loads pickles of earlier versions |
| [`callbacks`][xpnet.model.callbacks] | what ``fit`` records (``History``) and calls (``Callback``) |
| [`inputs`][xpnet.model.inputs] | every check of a model's inputs, in one pass (``validate_inputs``) |
| [`preprocessing`][xpnet.model.preprocessing] | ``Preprocessing``: raw pixels → network inputs |
| [`training`][xpnet.model.training] | ``fit``'s loop: the eager epoch, the running sums, the epoch's end |
| [`compiled`][xpnet.model.compiled] | the same step compiled in runs (JAX), and compiled inference |
| [`stopping`][xpnet.model.stopping] | ``EarlyStopping``, ``ReduceLROnPlateau`` |
| [`gradcheck`][xpnet.model.gradcheck] | backprop against central finite differences |
| [`checkpoint`][xpnet.model.checkpoint] | ``save``/``load``: one pickle-free ``.npz`` with a JSON manifest |

``xpnet.model.MLP`` (and ``History``, ``Callback``, ``TrainingDiverged``, ``ModelInputs``) stay
importable from here, the path of earlier versions and of their pickles.
"""

from .callbacks import Callback, History
from .inputs import ModelInputs
from .mlp import MLP, TrainingDiverged

__all__ = ["MLP", "History", "Callback", "TrainingDiverged", "ModelInputs"]
