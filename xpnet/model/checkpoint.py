"""Checkpoints: a model, its optimizer state and its provenance in one pickle-free ``.npz`` file.

Format (version 1)
------------------
A checkpoint is a single file written by `numpy.savez` (an uncompressed zip archive of
``.npy`` arrays) and read back with ``numpy.load(..., allow_pickle=False)``, so loading one can
never run code. It holds

``__manifest__``
:   UTF-8 JSON stored as a 1-d ``uint8`` array (see [`read_manifest`][xpnet.model.checkpoint.read_manifest]).

``param.W1``, ``param.b1``, ... ``param.WL``, ``param.bL``
:   The parameters, in the model's dtype, with the shapes of [`xpnet.MLP`][xpnet.model.mlp.MLP]
    (``W_l`` is ``(n_l, n_{l-1})``, ``b_l`` is ``(n_l,)``).

``opt.<slot>.<param>``
:   Optimizer state for resuming, e.g. ``opt.m.W1`` and ``opt.v.W1`` for Adam (absent for
    plain SGD or before the first step).

``avg.W1``, ... ``avg.bL``
:   The averaged weights θ̄ of a model trained with weight averaging (``fit(average=...)``,
    ``xpnet train --ema``), which the loaded model predicts with; ``param.*`` stay the trained
    weights θ, from which training resumes. Absent without averaging (and in older files).

The manifest is a JSON object:

    {"format": "xpnet.checkpoint", "format_version": 1, "created": "2025-...Z",
     "model": {"sizes": [784, 512, 256, 10], "activation": "relu", "init": "he",
               "dtype": "float32", "seed": 0},
     "arrays": {"param.W1": {"shape": [512, 784], "dtype": "float32"}, ...},
     "progress": {"epoch": 12, "batch": 0},             # finished epochs, steps into the next
     "optimizer": {"config": {"name": "adamw", "lr": 0.001, ...}, "step": 5064} | null,
     "averaging": {"config": {"name": "ema", "decay": 0.999, "warmup": true}, "step": 5064},
                                                          # absent without weight averaging
     "train_defaults": {...},                             # MLP.train_defaults
     "history": {"epoch": [...], "loss": [...], ...},   # xpnet.History.to_dict()
     "preprocessing": {"scale": 255.0, "standardize": {"mean": 0.286, "std": 0.353}} | null,
     "training": {...},   # free-form: how the run was configured (the CLI stores its options)
     "dataset": {...},    # free-form: name, source, SHA-256 checksums of the files read, ...
     "metrics": {...},    # free-form: test accuracy, ...
     "versions": {"xpnet": "0.1.0", "numpy": "2.1.0", "python": "3.12.3", ...},
     "backend": "numpy"}  # where the arrays were when saved (informational)

Readers must reject a ``format_version`` they do not know. Writes are atomic (temporary file
in the same directory, then `os.replace`), so a crash never leaves half a checkpoint.

>>> import xpnet
>>> model = xpnet.MLP([784, 32, 10], backend="cpu")
>>> path = xpnet.save(model, "model.npz")                 # doctest: +SKIP
>>> same = xpnet.load("model.npz", backend="gpu")         # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .._lib.fileio import atomic_write, to_jsonable
from ..backend import Backend
from ..backend.environment import versions, xpnet_version
from ..errors import CheckpointError
from ..nn.optim import optimizer_from_config
from . import averaging
from .mlp import MLP, History
from .preprocessing import Preprocessing
from .safetensors import read_safetensors

__all__ = [
    "CheckpointError",
    "Checkpoint",
    "save",
    "load",
    "load_checkpoint",
    "read_manifest",
    "FORMAT",
    "FORMAT_VERSION",
]

log = logging.getLogger("xpnet.checkpoint")

FORMAT = "xpnet.checkpoint"  # the file format's name (kept when the module moved)
FORMAT_VERSION = 1
MANIFEST_KEY = "__manifest__"
PARAM_PREFIX = "param."
OPT_PREFIX = "opt."


# -- saving ------------------------------------------------------------------------------------
def save(
    model: MLP,
    path: str | os.PathLike,
    *,
    preprocessing: Preprocessing | dict | None = None,
    training: dict | None = None,
    dataset: dict | None = None,
    metrics: dict | None = None,
    include_optimizer: bool = True,
    allow_nonfinite: bool = False,
) -> Path:
    """Write ``model`` (weights, optimizer state, counters, history) and metadata to ``path``.

    Parameters
    ----------
    model
        the [`MLP`][xpnet.model.mlp.MLP] to save, on any backend.
    path
        the file to write (``.npz`` is conventional; nothing is appended).
    preprocessing
        the input transformation the model expects ([`Preprocessing`][xpnet.model.preprocessing.Preprocessing]);
        default: the model's own ``model.preprocessing`` (which [`load`][xpnet.model.checkpoint.load] gives back to the
        loaded model, so it applies it to raw inputs itself).
    training, dataset, metrics
        JSON-friendly dicts stored as they are.
    include_optimizer
        store the optimizer state so that training can resume exactly.
    allow_nonfinite
        write even if a parameter holds NaN or infinity. By default that raises
        [`CheckpointError`][xpnet.model.checkpoint.CheckpointError] and leaves an existing file untouched, so a diverged run never
        overwrites its last good checkpoint.

    Returns
    -------
    The path written. The write is atomic.
    """
    path = Path(path)
    params = model.numpy_params()
    if not allow_nonfinite:
        bad = [k for k, v in params.items() if not np.all(np.isfinite(v))]
        if bad:
            raise CheckpointError(
                f"{path}: not saved because parameters {', '.join(bad)} contain NaN or infinity "
                "(training diverged; lower the learning rate)"
            )
    arrays = {PARAM_PREFIX + k: v for k, v in params.items()}
    opt_manifest = None
    if include_optimizer and model.optimizer is not None:
        opt = model.optimizer
        to_np = model.backend.to_numpy
        arrays.update({OPT_PREFIX + k: to_np(v) for k, v in opt.state_arrays().items()})
        opt_manifest = {"config": opt.get_config(), "step": int(opt.t)}
    avg_manifest, avg_arrays = averaging.manifest_entry(model)
    arrays.update(avg_arrays)
    if preprocessing is None:
        preprocessing = model.preprocessing
    if isinstance(preprocessing, Preprocessing):
        preprocessing = preprocessing.get_config()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": model.get_config(),
        "arrays": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in arrays.items()},
        "progress": {"epoch": int(model.epoch), "batch": int(model.batch)},
        "optimizer": opt_manifest,
        **({"averaging": avg_manifest} if avg_manifest else {}),
        "train_defaults": model.train_defaults,
        "history": model.history.to_dict(),
        "preprocessing": preprocessing,
        "training": training or {},
        "dataset": dataset or {},
        "metrics": metrics or {},
        "versions": versions(model.backend),
        "backend": model.backend.spec,
    }
    text = json.dumps(to_jsonable(manifest), allow_nan=False)
    arrays[MANIFEST_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with atomic_write(path, "wb") as stream:
        np.savez(stream, **arrays)
    log.info("saved checkpoint %s (epoch %d, batch %d)", path, model.epoch, model.batch)
    return path


# -- loading -----------------------------------------------------------------------------------
def _open_archive(path: Path):
    """``np.load`` of a verified zip archive, or a CheckpointError saying what is wrong."""
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if path.is_dir():
        model = path / "model.npz"
        hint = f"; did you mean {model}?" if model.exists() else ""
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file{hint}")
    with open(path, "rb") as stream:
        head = stream.read(4)
    if not zipfile.is_zipfile(path):
        if head.startswith(b"PK"):
            raise CheckpointError(
                f"{path}: the checkpoint is truncated or corrupted (its zip directory is missing or damaged)"
            )
        if head == b"\x93NUM":
            raise CheckpointError(f"{path}: is a single .npy array, not an xpnet checkpoint (.npz)")
        raise CheckpointError(f"{path}: not an xpnet checkpoint (not an .npz/zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()  # reads every member and checks its CRC-32
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: the checkpoint is truncated or corrupted ({exc})") from None
    if bad is not None:
        raise CheckpointError(f"{path}: the checkpoint is corrupted (member {bad!r} fails its CRC check)")
    try:
        return np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, OSError) as exc:  # pragma: no cover - caught above
        raise CheckpointError(f"{path}: cannot be read as .npz ({exc})") from None


def _read_array(archive, key: str, path: Path) -> np.ndarray:
    try:
        return archive[key]
    except KeyError:
        raise CheckpointError(f"{path}: array {key!r} is missing") from None
    except ValueError as exc:  # object arrays (pickles) and malformed .npy headers
        raise CheckpointError(f"{path}: array {key!r} cannot be read safely ({exc})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:  # pragma: no cover
        raise CheckpointError(f"{path}: array {key!r} is corrupted ({exc})") from None


def _parse_manifest(archive, path: Path) -> dict:
    if MANIFEST_KEY not in archive.files:
        raise CheckpointError(
            f"{path}: not an xpnet checkpoint (an .npz file without {MANIFEST_KEY!r}; "
            "a checkpoint is written by xpnet.save or `xpnet train`)"
        )
    raw = _read_array(archive, MANIFEST_KEY, path)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"{path}: {MANIFEST_KEY!r} must be a 1-d uint8 array, got {raw.dtype}{list(raw.shape)}")
    try:
        manifest = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: the manifest is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: not an xpnet checkpoint (manifest format is "
            f"{manifest.get('format') if isinstance(manifest, dict) else manifest!r}, "
            f"expected {FORMAT!r})"
        )
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: unknown checkpoint format version {version!r}; xpnet {xpnet_version()} reads "
            f"version {FORMAT_VERSION} (upgrade xpnet to read newer checkpoints)"
        )
    model = manifest.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("sizes"), list):
        raise CheckpointError(f"{path}: the manifest has no valid 'model' entry (layer sizes missing)")
    sizes = model["sizes"]
    if len(sizes) < 2 or not all(isinstance(s, int) and s > 0 for s in sizes):
        raise CheckpointError(f"{path}: invalid layer sizes {sizes} in the manifest")
    return manifest


def read_manifest(path: str | os.PathLike) -> dict:
    """The checkpoint's manifest (validated: format, version, layer sizes) without its arrays."""
    path = Path(path)
    with _open_archive(path) as archive:
        return _parse_manifest(archive, path)


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model and everything stored with it.

    Attributes
    ----------
    path : pathlib.Path
        The file it was read from.
    model : MLP
        The model, with its parameters, optimizer state, counters and history.
    manifest : dict
        The manifest as stored (see the module docstring).
    """

    path: Path
    model: MLP
    manifest: dict

    @property
    def preprocessing(self) -> Preprocessing:
        """The input transformation that turns raw pixels into this model's inputs.

        The model's own (``model.preprocessing``, which [`load_checkpoint`][xpnet.model.checkpoint.load_checkpoint]
        restores from the manifest), else the one the manifest records: a checkpoint saved
        from a model without preprocessing records none, which means ``pixels / 255``
        ([`Preprocessing.from_config`][xpnet.model.preprocessing.Preprocessing.from_config]).

        Returns
        -------
        Preprocessing
        """
        own = self.model.preprocessing
        return own if own is not None else Preprocessing.from_config(self.manifest.get("preprocessing"))

    def model_inputs(self, x_raw):
        """Raw pixels → what ``self.model`` takes, transformed exactly once.

        A model that carries its preprocessing applies it itself in every inference and
        evaluation method, so ``x_raw`` is returned as it is; for one that does not, the
        checkpoint's [`preprocessing`][xpnet.model.checkpoint.Checkpoint.preprocessing] is applied here.

        Parameters
        ----------
        x_raw : array_like
            Pixels 0..255, shape ``(m, n_inputs)`` (NumPy, or an array of the model's backend).

        Returns
        -------
        array
            The array to pass to ``self.model.predict`` and the like, in ``x_raw``'s namespace.

        Examples
        --------
        >>> ckpt = xpnet.load_checkpoint("runs/mnist/model.npz")          # doctest: +SKIP
        >>> ckpt.model.predict(ckpt.model_inputs(raw_uint8_images))     # doctest: +SKIP
        """
        if self.model.preprocessing is not None:
            return x_raw
        return self.preprocessing.transform(x_raw, self.model.dtype_name)

    @property
    def training(self) -> dict:
        return self.manifest.get("training") or {}

    @property
    def dataset(self) -> dict:
        return self.manifest.get("dataset") or {}

    @property
    def metrics(self) -> dict:
        return self.manifest.get("metrics") or {}

    @property
    def class_names(self) -> list[str]:
        names = self.dataset.get("class_names")
        n = self.model.sizes[-1]
        return list(names) if names and len(names) == n else [str(i) for i in range(n)]


def load_checkpoint(
    path: str | os.PathLike, backend: str | Backend | None = None, dtype: str | None = None
) -> Checkpoint:
    """Read a checkpoint and rebuild its model on ``backend`` (any backend; default: auto).

    The model gets its parameters, its optimizer with the saved state and step count, its
    ``epoch``/``batch`` counters, ``history`` and ``train_defaults``, so ``model.fit`` continues
    exactly where training stopped.

    Raises
    ------
    CheckpointError
        the file is missing, not a checkpoint, truncated, corrupted, of an unknown
        format version, or has missing or misshapen arrays.
    """
    path = Path(path)
    if path.suffix.lower() == ".safetensors":  # weights written by xpnet.export
        return _load_safetensors(path, backend, dtype)
    with _open_archive(path) as archive:
        manifest = _parse_manifest(archive, path)
        cfg = manifest["model"]
        try:
            model = MLP(
                cfg["sizes"],
                activation=cfg.get("activation", "relu"),
                init=cfg.get("init", "he"),
                dtype=dtype or cfg.get("dtype", "float32"),
                backend=backend,
                seed=int(cfg.get("seed", 0)),
                loss=cfg.get("loss", "cross_entropy"),
                dropout=cfg.get("dropout", 0.0),
                label_smoothing=cfg.get("label_smoothing", 0.0),
            )  # older files: the softmax head, no dropout, no label smoothing
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"{path}: the manifest's model settings are invalid ({exc})") from None
        shapes = {k: tuple(v.shape) for k, v in model.params.items()}
        params = {}
        for name, shape in shapes.items():
            a = _read_array(archive, PARAM_PREFIX + name, path)
            if tuple(a.shape) != shape:
                raise CheckpointError(
                    f"{path}: array {PARAM_PREFIX + name!r} has shape {tuple(a.shape)}, "
                    f"but layer sizes {cfg['sizes']} need {shape}"
                )
            if a.dtype.kind != "f":
                raise CheckpointError(f"{path}: array {PARAM_PREFIX + name!r} has dtype {a.dtype}, expected float")
            params[name] = a
        model.set_params(params)
        if manifest.get("preprocessing"):
            try:
                model.preprocessing = Preprocessing.from_config(manifest["preprocessing"])
            except (ValueError, KeyError, TypeError) as exc:
                raise CheckpointError(f"{path}: the manifest's preprocessing is invalid ({exc})") from None
        _restore_training_state(model, manifest, archive, shapes, path)
        averaging.restore(model, manifest.get("averaging"), lambda key: _read_array(archive, key, path), shapes, path)
    return Checkpoint(path, model, manifest)


def _restore_training_state(model: MLP, manifest: dict, archive, shapes: dict, path: Path) -> None:
    progress = manifest.get("progress") or {}
    model.epoch = int(progress.get("epoch", 0))
    model.batch = int(progress.get("batch", 0))
    if manifest.get("history"):
        model.history = History.from_dict(manifest["history"])
    if isinstance(manifest.get("train_defaults"), dict):
        model.train_defaults = manifest["train_defaults"]
    opt = manifest.get("optimizer")
    if not opt:
        return
    try:
        optimizer = optimizer_from_config(opt["config"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: the manifest's optimizer settings are invalid ({exc})") from None
    step = int(opt.get("step", 0))
    stored = sorted(k[len(OPT_PREFIX) :] for k in archive.files if k.startswith(OPT_PREFIX))
    expected = sorted(f"{slot}.{p}" for slot in optimizer.state for p in shapes) if stored or step else []
    if stored and stored != expected:
        missing = sorted(set(expected) - set(stored))
        raise CheckpointError(
            f"{path}: optimizer state arrays do not match the {optimizer.name} optimizer "
            f"(missing {[OPT_PREFIX + k for k in missing]}, "
            f"unexpected {[OPT_PREFIX + k for k in sorted(set(stored) - set(expected))]})"
        )
    if not stored and expected:
        raise CheckpointError(
            f"{path}: optimizer state arrays are missing "
            f"(expected {OPT_PREFIX + expected[0]} and {len(expected) - 1} more)"
        )
    state = {}
    for key in stored:
        a = _read_array(archive, OPT_PREFIX + key, path)
        want = shapes[key.partition(".")[2]]
        if tuple(a.shape) != want:
            raise CheckpointError(f"{path}: array {OPT_PREFIX + key!r} has shape {tuple(a.shape)}, expected {want}")
        state[key] = model.backend.asarray(a, model.dtype_name)
    optimizer.load_state(step, state)
    model.optimizer = optimizer


def load(path: str | os.PathLike, backend: str | Backend | None = None, dtype: str | None = None) -> MLP:
    """Load a model saved by [`save`][xpnet.model.checkpoint.save] (or ``xpnet train``) onto ``backend``.

    ``xpnet.load("runs/mnist/model.npz", backend="gpu")``. The model gets back the
    preprocessing stored with it and applies it itself: a model trained by ``xpnet train``
    takes raw 0..255 pixels, ``model.score(raw_uint8_X, y)``. Use [`load_checkpoint`][xpnet.model.checkpoint.load_checkpoint] to get
    the preprocessing, dataset and metrics stored with it as well.
    """
    return load_checkpoint(path, backend=backend, dtype=dtype).model


def _load_safetensors(path: Path, backend, dtype) -> Checkpoint:
    """A ``.safetensors`` file of ``xpnet export`` as a checkpoint: the model with its weights
    bit for bit, no optimizer state or history."""
    cfg, preprocessing, params, manifest = read_safetensors(path)
    try:
        model = MLP(
            cfg["sizes"],
            activation=cfg["activation"],
            init=cfg["init"],
            dtype=dtype or cfg["dtype"],
            backend=backend,
            seed=cfg["seed"],
            loss=cfg["loss"],
            dropout=cfg["dropout"],
            label_smoothing=cfg.get("label_smoothing", 0.0),
            preprocessing=preprocessing,
        )
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: the metadata's model settings are invalid ({exc})") from None
    model.set_params(params)
    return Checkpoint(path, model, manifest)


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
