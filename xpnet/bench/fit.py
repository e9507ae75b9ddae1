"""What ``xpnet bench`` trains: synthetic images, and [`xpnet.MLP.fit`][xpnet.model.mlp.MLP.fit]'s
own loop on one backend, advanced one epoch at a time.

The runner drives the model's public epoch generator
([`xpnet.MLP.fit_epochs`][xpnet.model.mlp.MLP.fit_epochs]), so each timed epoch holds exactly what
``fit`` does per epoch (shuffling, the steps, the loss and accuracy, the per-epoch checks); the
host data are checked and moved to the device once, in the first (warm-up) epoch. Every backend
starts from the same initial weights and draws the same order of the samples each epoch (both
come from a host generator seeded with the same seed), so their losses agree to rounding.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "FitRunner",
    "synthetic_images",
    "make_augment",
    "AUGMENTATIONS",
    "SHIFT",
    "AFFINE_LABEL",
    "ELASTIC_LABEL",
    "DEFAULT_LR",
]

#: The learning rate of each optimizer ``--optimizers`` offers.
DEFAULT_LR = {"sgd": 0.1, "adam": 1e-3}
#: The random shift of the ``shifts`` rows, in pixels (``xpnet train --shift 1``).
SHIFT = 1
#: The augmentations of the augmentation overhead table, the plain training first.
AUGMENTATIONS = ("none", "shifts", "affine", "elastic", "erase", "affine-erase")
#: How the ``affine`` rows are labelled: ``RandomAffine(rotation=15, ...)``.
AFFINE_LABEL = "RandomAffine(rotation={rotation:g}, scale={scale:g}, shear={shear:g}, shift={shift:g})"
#: How the ``elastic`` rows are labelled: the affine ranges plus Simard's field.
ELASTIC_LABEL = "RandomElastic(alpha={alpha:g}, sigma={sigma:g}, the same affine ranges)"


def synthetic_images(
    n: int, n_features: int = 784, n_classes: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST-like synthetic images with class-dependent patterns, scaled to [0, 1].

    Parameters
    ----------
    n : int
        Number of samples.
    n_features : int
        Pixels per image; a square number gets a blank border of ``side // 9`` pixels
        (3 for 28 × 28, as in (Fashion-)MNIST).
    n_classes : int
        Number of classes.
    seed : int
        Seed of the generator.

    Returns
    -------
    X : numpy.ndarray
        float32 ``(n, n_features)``: ``clip(proto[y] · (0.5 + u), 0, 1)`` rounded to 1/255,
        u ~ U[0, 1).
    y : numpy.ndarray
        int64 ``(n,)`` labels drawn uniformly.
    """
    rng = np.random.default_rng(seed)
    side = int(round(math.sqrt(n_features)))
    protos = rng.random((n_classes, n_features)).astype(np.float32)
    border = side // 9
    if side * side == n_features and border:
        mask = np.zeros((side, side), np.float32)
        mask[border:-border, border:-border] = 1
        protos *= mask.reshape(-1)
    y = rng.integers(0, n_classes, n).astype(np.int64)
    X = np.empty((n, n_features), np.float32)
    for lo in range(0, n, 8192):  # in chunks, to keep the temporaries small
        hi = min(lo + 8192, n)
        noise = rng.random((hi - lo, n_features), dtype=np.float32)
        X[lo:hi] = np.rint(np.clip(255 * protos[y[lo:hi]] * (0.5 + noise), 0, 255)) / np.float32(255)
    return X, y


def make_augment(kind: str, seed: int = 0):
    """The augmentation of an augmentation overhead row.

    Parameters
    ----------
    kind : str
        ``"none"``; ``"shifts"``: ``RandomShifts(max_shift=SHIFT)`` (``xpnet train --shift 1``);
        ``"affine"``: ``RandomAffine`` with ``xpnet train --augment affine``'s ranges
        ([`AFFINE_RANGES`][xpnet.runs.config.AFFINE_RANGES]) and shifts of up to `SHIFT` pixels;
        ``"elastic"``: the same plus elastic distortions of Simard's ``α = 34, σ = 4``
        ([`RandomElastic`][xpnet.augment.elastic.RandomElastic], ``xpnet train --augment affine --elastic 34``).
        ``"erase"``: ``RandomErasing(0.5)`` (``xpnet train --augment none --erase 0.5``);
        ``"affine-erase"``: the affine distortions, then ``RandomErasing(0.5)``.
    seed : int
        The augmentation's seed.

    Returns
    -------
    object or None
        What ``MLP.fit(augment=)`` takes.
    """
    if kind == "none":
        return None
    if kind == "shifts":
        from ..augment.shifts import RandomShifts

        return RandomShifts(max_shift=SHIFT, seed=seed)
    from ..augment.affine import RandomAffine
    from ..augment.elastic import ELASTIC_DEFAULTS, RandomElastic
    from ..augment.erasing import RandomErasing
    from ..runs.config import AFFINE_RANGES

    if kind == "elastic":
        alpha, sigma = ELASTIC_DEFAULTS["alpha"], ELASTIC_DEFAULTS["sigma"]
        return RandomElastic(alpha, sigma, **AFFINE_RANGES, shift=SHIFT, seed=seed)
    if kind == "erase":
        return RandomErasing(0.5, seed=seed)
    affine = RandomAffine(**AFFINE_RANGES, shift=SHIFT, seed=seed)
    return RandomErasing(0.5, seed=seed, base=affine) if kind == "affine-erase" else affine


class FitRunner:
    """[`xpnet.MLP.fit`][xpnet.model.mlp.MLP.fit]'s loop on one backend, one epoch per ``epoch()``.

    Parameters
    ----------
    backend : xpnet.backend.Backend
        Where to train.
    X, y : numpy.ndarray
        Host training data.
    sizes : sequence of int
        Layer widths.
    batch_size : int or None
        Samples per step; None for full batch.
    optimizer : str
        ``"sgd"`` or ``"adam"`` (learning rate from `DEFAULT_LR`).
    seed : int
        Initial weights, shuffling and augmentation.
    augment : str
        ``"none"``, ``"shifts"``, ``"affine"`` or ``"elastic"`` (see [`make_augment`][xpnet.bench.fit.make_augment]);
        the data must then be square images.
    """

    def __init__(self, backend, X, y, sizes, batch_size, optimizer: str, seed: int = 0, augment: str = "none"):
        from ..model.mlp import MLP
        from ..nn.optim import SGD, Adam

        self.backend = backend
        self.model = MLP(list(sizes), backend=backend, seed=seed)
        lr = DEFAULT_LR[optimizer]
        opt = SGD(lr=lr) if optimizer == "sgd" else Adam(lr=lr)
        self._epochs = self.model.fit_epochs(
            X,
            y,
            epochs=1 << 40,
            batch_size=batch_size,
            optimizer=opt,
            augment=make_augment(augment, seed),
        )

    def epoch(self) -> float:
        """Train one epoch; return its mean training loss."""
        return float(next(self._epochs)["loss"])

    def sync(self) -> None:
        """Wait for the device's queued work."""
        self.backend.synchronize()

    def close(self) -> None:
        """Stop the training generator."""
        self._epochs.close()
