"""Augmentation of the training images, drawn on the host per epoch and applied per batch on the device.

[`shifts`][xpnet.augment.shifts]: random whole-pixel shifts; [`affine`][xpnet.augment.affine]:
random rotations, scaling, shear, sub-pixel shifts and flips, one bilinear gather per batch;
[`erasing`][xpnet.augment.erasing]: one random blank rectangle per image, alone or after either.
"""

from .affine import AFFINE_STREAM, RandomAffine, affine_matrices, random_affine, sampling_matrices
from .erasing import ERASING_STREAM, RandomErasing, random_erasing
from .shifts import RandomShifts, random_shifts

__all__ = [
    "random_shifts",
    "RandomShifts",
    "RandomAffine",
    "random_affine",
    "affine_matrices",
    "sampling_matrices",
    "AFFINE_STREAM",
    "RandomErasing",
    "random_erasing",
    "ERASING_STREAM",
]
