"""xpnet itself: [`xpnet.MLP.fit`][xpnet.model.mlp.MLP.fit]'s own training loop on one backend, one epoch at a time.

The runner drives the model's public epoch generator ([`xpnet.MLP.fit_epochs`][xpnet.model.mlp.MLP.fit_epochs]), so each timed epoch holds exactly what
``fit`` does per epoch (shuffling, the steps, the loss and accuracy, the per-epoch checks);
the host data are checked and moved to the device once, in the first (warm-up) epoch.
The ``+shifts`` contenders train the same way with ``augment=RandomShifts(max_shift=1)``
([`xpnet.augment.shifts.RandomShifts`][xpnet.augment.shifts.RandomShifts], what ``xpnet train --shift 1`` uses), the ``+affine``
ones with ``augment=RandomAffine(...)`` ([`xpnet.augment.affine.RandomAffine`][xpnet.augment.affine.RandomAffine] with the ranges of
``xpnet train --augment affine``, shifts of up to 1 pixel): the augmentation overhead table
compares each with its plain twin.
"""

from __future__ import annotations

from ..problem import ADAM, Problem
from .base import Contender, Runner, probe_module

__all__ = ["XpnetRunner", "CONTENDERS", "SHIFT", "SHIFTED", "AFFINE", "AFFINE_TWIN", "affine_augment"]

#: The random shift of the ``+shifts`` contenders, in pixels (``xpnet train``'s default preset's).
SHIFT = 1
#: Each unshifted contender and its twin trained with random shifts.
SHIFTED = {"xpnet-numpy": "xpnet-numpy+shifts", "xpnet-cupy": "xpnet-cupy+shifts"}
#: Each plain contender and its twin trained with random affine distortions.
AFFINE_TWIN = {"xpnet-numpy": "xpnet-numpy+affine", "xpnet-cupy": "xpnet-cupy+affine"}


def affine_augment(seed: int = 0):
    """The ``+affine`` contenders' augmentation: ``RandomAffine`` with ``xpnet train --augment
    affine``'s ranges ([`AFFINE_RANGES`][xpnet.runs.config.AFFINE_RANGES]) and shifts of up to
    `SHIFT` pixels."""
    from xpnet.augment.affine import RandomAffine
    from xpnet.runs.config import AFFINE_RANGES

    return RandomAffine(**AFFINE_RANGES, shift=SHIFT, seed=seed)


#: How the ``+affine`` contenders are labelled: ``RandomAffine(rotation=15, ...)``.
AFFINE = "RandomAffine(rotation={rotation:g}, scale={scale:g}, shear={shear:g}, shift={shift:g})"


class XpnetRunner(Runner):
    """[`xpnet.MLP.fit`][xpnet.model.mlp.MLP.fit]'s loop on the backend ``spec``, advanced one epoch at a time.

    Parameters
    ----------
    p : Problem
        The configuration; the model starts from ``p.params0`` (its own copy).
    spec : str
        An xpnet backend spec (``"numpy"``, ``"cupy"``, ``"torch:cpu"``, ...).
    shift : int
        Train with ``augment=RandomShifts(max_shift=shift, seed=p.seed)`` (0: no augmentation).
        The data must be square images (784 features).
    affine : bool
        Train with ``augment=``[`affine_augment`][benchmarks.compare.contenders.xpnet_fit.affine_augment]``(p.seed)``
        instead (square images too).
    compile : bool or None
        ``MLP.fit``'s ``compile``: ``None`` compiles where the backend does (JAX), ``False``
        runs every step eagerly.
    """

    def __init__(self, p: Problem, spec: str, shift: int = 0, compile: bool | None = None, affine: bool = False):
        from xpnet.backend import get_backend
        from xpnet.model.mlp import MLP
        from xpnet.nn.optim import SGD, Adam

        self.backend = get_backend(spec)
        self.platform = "cuda" if self.backend.is_gpu else "cpu"
        self.uses_torch = self.backend.name == "torch"
        self.model = MLP(list(p.sizes), init=p.init, backend=self.backend, seed=p.seed)
        self.model.set_params({k: v.copy() for k, v in p.params0.items()})
        opt = SGD(lr=p.lr) if p.optimizer == "sgd" else Adam(lr=p.lr, **ADAM)
        batch = None if p.full_batch else p.batch_size
        self.shift, self.affine = int(shift), bool(affine)
        augment = None
        if affine:
            augment = affine_augment(p.seed)
        elif shift:
            from xpnet.augment.shifts import RandomShifts

            augment = RandomShifts(max_shift=shift, seed=p.seed)
        self._epochs = self.model.fit_epochs(
            p.data.X,
            p.data.y,
            epochs=1 << 40,
            batch_size=batch,
            optimizer=opt,
            augment=augment,
            compile=compile,
        )

    def epoch(self):
        return next(self._epochs)["loss"]

    def sync(self):
        self.backend.synchronize()

    def close(self):
        self._epochs.close()


def _xpnet(spec: str, shift: int = 0, compile: bool | None = None, affine: bool = False):
    return lambda p, variant=None: XpnetRunner(p, spec, shift, compile, affine)


def _cuda_probe(library: str):
    def probe():
        from .cupy_floor import cuda_unusable

        return cuda_unusable(library)

    return probe


CONTENDERS = [
    Contender("xpnet-numpy", "cpu", "xpnet MLP.fit on NumPy", lambda: None, _xpnet("numpy")),
    Contender(
        "xpnet-torch",
        "cpu",
        "xpnet MLP.fit on PyTorch CPU",
        probe_module("torch", "PyTorch"),
        _xpnet("torch:cpu"),
    ),
    Contender(
        "xpnet-jax",
        "cpu",
        "xpnet MLP.fit on JAX (steps compiled: jax.jit of lax.scan)",
        probe_module("jax", "JAX"),
        _xpnet("jax"),
    ),
    Contender(
        "xpnet-jax-eager",
        "cpu",
        "xpnet MLP.fit on JAX with compile=False (one dispatch per operation)",
        probe_module("jax", "JAX"),
        _xpnet("jax", compile=False),
        default=False,
    ),
    Contender(
        "xpnet-strict",
        "cpu",
        "xpnet MLP.fit on array-api-strict (the slow oracle)",
        probe_module("array_api_strict", "array-api-strict"),
        _xpnet("array_api_strict"),
        default=False,
    ),
    Contender("xpnet-cupy", "cuda", "xpnet MLP.fit on CuPy", _cuda_probe("cupy"), _xpnet("cupy")),
    Contender(
        "xpnet-torch-cuda",
        "cuda",
        "xpnet MLP.fit on PyTorch CUDA",
        _cuda_probe("torch"),
        _xpnet("torch:cuda"),
        default=False,
    ),
    Contender(
        "xpnet-numpy+shifts",
        "cpu",
        f"xpnet MLP.fit on NumPy with RandomShifts(max_shift={SHIFT})",
        lambda: None,
        _xpnet("numpy", SHIFT),
        default=False,
    ),
    Contender(
        "xpnet-cupy+shifts",
        "cuda",
        f"xpnet MLP.fit on CuPy with RandomShifts(max_shift={SHIFT})",
        _cuda_probe("cupy"),
        _xpnet("cupy", SHIFT),
        default=False,
    ),
    Contender(
        "xpnet-numpy+affine",
        "cpu",
        "xpnet MLP.fit on NumPy with RandomAffine (xpnet train --augment affine's ranges)",
        lambda: None,
        _xpnet("numpy", affine=True),
        default=False,
    ),
    Contender(
        "xpnet-cupy+affine",
        "cuda",
        "xpnet MLP.fit on CuPy with RandomAffine (xpnet train --augment affine's ranges)",
        _cuda_probe("cupy"),
        _xpnet("cupy", affine=True),
        default=False,
    ),
]
