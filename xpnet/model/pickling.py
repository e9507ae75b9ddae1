"""How an [`MLP`][xpnet.model.mlp.MLP] pickles: parameters and optimizer state as NumPy
arrays, the backend as its spec ([`xpnet.backend.unpickle_on`][xpnet.backend.unpickle_on]),
and the defaults that let pickles of earlier versions load."""

from __future__ import annotations

import copy
from typing import Any

from ..backend import unpickle_target
from ..nn.losses import get_loss

__all__ = ["model_state", "restore_model"]


def model_state(model: Any) -> dict:
    """``model.__dict__`` for `pickle`, `copy.deepcopy` and joblib, with host arrays: the
    parameters (and the averaged ones), the optimizer with its state copied to NumPy, and the
    backend as its spec."""
    state = dict(model.__dict__)
    state.pop("dtype", None)  # a namespace object: rebuilt from dtype_name
    state["backend"] = model.backend.spec
    state["params"] = model.numpy_params()
    if model.averaged_params is not None:
        state["averaged_params"] = model.numpy_params(averaged=True)
    if model.optimizer is not None:
        opt = copy.copy(model.optimizer)  # shallow: the original keeps its device state
        opt.state = {
            slot: {k: model.backend.to_numpy(v, copy=True) for k, v in arrays.items()}
            for slot, arrays in model.optimizer.state.items()
        }
        opt.schedule = copy.deepcopy(model.optimizer.schedule)
        state["optimizer"] = opt
    return state


def restore_model(model: Any, state: dict) -> None:
    """Fill ``model`` from a [`model_state`][xpnet.model.pickling.model_state] (or one pickled
    by an earlier version), on the backend the spec names (or ``$XPNET_UNPICKLE_BACKEND``)."""
    state = dict(state)
    backend = unpickle_target(state.pop("backend"))
    state.setdefault("head", get_loss(None))  # pickled before there were loss heads
    state.setdefault("stop_reason", None)
    state.setdefault("dropout", (0.0,) * (len(state["sizes"]) - 2))  # pickled before dropout
    state.setdefault("averaging", None)  # pickled before weight averaging
    averaged = state.pop("averaged_params", None)
    model.__dict__.update(state)
    model.backend = backend
    model.dtype = backend.float_dtype(model.dtype_name)
    model.params = {k: backend.asarray(v, model.dtype_name) for k, v in state["params"].items()}
    model.averaged_params = (
        None if averaged is None else {k: backend.asarray(v, model.dtype_name) for k, v in averaged.items()}
    )
    if model.optimizer is not None:
        model.optimizer.state = {
            slot: {k: backend.asarray(v, model.dtype_name) for k, v in arrays.items()}
            for slot, arrays in model.optimizer.state.items()
        }


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
