"""Averaged weights on a model: which weights inference reads, and how the average is kept.

A model trained with ``fit(average=xpnet.EMA(decay))`` holds two sets of weights:

* ``model.params``, θ, what the optimizer trains (with its state); a resumed run goes on from
  these, bit for bit;
* ``model.averaged_params``, θ̄, the average of [`xpnet.nn.averaging`][xpnet.nn.averaging],
  updated after every step (eagerly or inside the compiled steps).

Everything that reads the model out uses θ̄ where there is one
([`inference_params`][xpnet.model.averaging.inference_params]): ``predict``, ``evaluate``, the
validation during ``fit`` (so early stopping watches θ̄), the exports (ONNX, safetensors),
the server. ``model.averaging`` is the [`EMA`][xpnet.nn.averaging.EMA] (or
[`SWA`][xpnet.nn.averaging.SWA]) with its update count. An SWA has no θ̄ until the end of its
first averaged epoch ([`end_epoch`][xpnet.model.averaging.end_epoch], called by the training
loop before that epoch's validation); until then inference uses θ.
Checkpoints store θ̄ as ``avg.W1``, … beside ``param.*`` (θ), and the averaging in the
manifest's ``"averaging"`` entry (an SWA's before its first average: the entry alone); files
without it load with no averaging.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import CheckpointError, ConfigError
from ..nn.averaging import EMA, SWA, averaging_from_config, copy_params, update
from .inputs import InvalidInputType

if TYPE_CHECKING:
    from .mlp import MLP

__all__ = ["inference_params", "resolve", "start", "end_epoch", "manifest_entry", "restore", "AVG_PREFIX"]

AVG_PREFIX = "avg."


def inference_params(model: MLP) -> dict:
    """The weights inference uses: the averaged weights where the model keeps them, else its
    ``params``."""
    averaged = getattr(model, "averaged_params", None)
    return model.params if averaged is None else averaged


def resolve(model: MLP, average) -> None:
    """Set up the averaging of a [`fit`][xpnet.model.mlp.MLP.fit] call (its ``average``).

    ``None``: the model's own (``model.averaging``; none by default), continued; ``False``:
    none (the model's average is dropped); an [`EMA`][xpnet.nn.averaging.EMA] (or its decay,
    a float) or an [`SWA`][xpnet.nn.averaging.SWA]: that one — the model's own object continues its average, another starts afresh
    from the current weights.

    Raises
    ------
    ConfigError, InvalidInputType
        A decay outside (0, 1), or something that is not an averaging.
    """
    if average is False:
        model.averaging, model.averaged_params = None, None
        return
    if average is not None and average is not model.averaging:
        if isinstance(average, (int, float)) and not isinstance(average, bool):
            average = EMA(float(average))
        if not isinstance(average, (EMA, SWA)):
            raise InvalidInputType(
                f"average must be an xpnet.EMA, its decay (a float in (0, 1)), an xpnet.SWA, None or False; "
                f"got {type(average).__name__}"
            )
        model.averaging, model.averaged_params = average, None
    if model.averaging is not None and model.averaged_params is None:
        start(model)


def start(model: MLP) -> None:
    """Start the model's average at its current weights (θ̄ = θ, no update done yet); an SWA's
    starts empty (no θ̄ until its first averaged epoch ends)."""
    if model.averaging is None:
        raise ConfigError("the model has no averaging to start (set model.averaging = xpnet.EMA(...))")
    model.averaging.t = 0
    model.averaged_params = None if isinstance(model.averaging, SWA) else copy_params(model.params)


def end_epoch(model: MLP, e: int) -> None:
    """After epoch ``e`` (0-based) of the training loop, before its validation: add the
    weights to an [`SWA`][xpnet.nn.averaging.SWA] mean if ``e`` is one it averages,
    ``θ̄ ← θ̄ + (θ − θ̄)/(n + 1)`` (θ̄ = θ for the first), eagerly on the model's backend, for
    eager and compiled runs alike. Nothing for an EMA or without averaging."""
    swa = model.averaging
    if not isinstance(swa, SWA) or not swa.averages(e):
        return
    if model.averaged_params is None:  # the first (or the average was dropped, e.g. by set_params)
        swa.t = 0
        model.averaged_params = copy_params(model.params)
    else:
        update(model.averaged_params, model.params, swa.rate())
    swa.t += 1


def manifest_entry(model: MLP) -> tuple[dict | None, dict]:
    """What a checkpoint stores of the averaging: the manifest's ``"averaging"`` entry (None
    without one) and the arrays ``{"avg.W1": host array, ...}``."""
    if model.averaging is None or (model.averaged_params is None and not isinstance(model.averaging, SWA)):
        return None, {}
    averaged = model.averaged_params or {}  # an SWA before its first average: none yet
    arrays = {AVG_PREFIX + k: model.backend.to_numpy(v, copy=True) for k, v in averaged.items()}
    return {"config": model.averaging.get_config(), "step": int(model.averaging.t)}, arrays


def restore(model: MLP, entry, read_array, shapes: dict, path) -> None:
    """Give a model loaded from a checkpoint the averaging the manifest's ``entry`` records
    (nothing for an older file without one). ``read_array(key)`` reads an array of the file.

    Raises
    ------
    CheckpointError
        The entry is invalid or the averaged arrays are missing or misshapen.
    """
    if not entry:
        return
    try:
        averaging = averaging_from_config(entry["config"])
        averaging.t = int(entry.get("step", 0))
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: the manifest's weight averaging is invalid ({exc})") from None
    if isinstance(averaging, SWA) and averaging.t == 0:  # saved before its first averaged epoch
        model.averaging, model.averaged_params = averaging, None
        return
    averaged = {}
    for name, shape in shapes.items():
        a = read_array(AVG_PREFIX + name)
        if tuple(a.shape) != shape:
            raise CheckpointError(f"{path}: array {AVG_PREFIX + name!r} has shape {tuple(a.shape)}, expected {shape}")
        averaged[name] = model.backend.asarray(a, model.dtype_name)
    model.averaging, model.averaged_params = averaging, averaged


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
