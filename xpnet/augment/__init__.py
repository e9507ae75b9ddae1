"""Augmentation of the training images, drawn on the host per epoch and applied per batch on the device.

[`shifts`][xpnet.augment.shifts]: random whole-pixel shifts; [`affine`][xpnet.augment.affine]:
random rotations, scaling, shear, sub-pixel shifts and flips, one bilinear gather per batch;
[`elastic`][xpnet.augment.elastic]: elastic distortions on top of those, in the same gather;
[`erasing`][xpnet.augment.erasing]: one random blank rectangle per image, alone or after any of those.
"""

from .affine import AFFINE_STREAM, RandomAffine, affine_matrices, random_affine, sampling_matrices
from .elastic import ELASTIC_STREAM, RandomElastic, random_elastic
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
    "RandomElastic",
    "random_elastic",
    "ELASTIC_STREAM",
    "RandomErasing",
    "random_erasing",
    "ERASING_STREAM",
]
