"""The [`Dataset`][xpnet.datasets.dataset.Dataset] container and the checks every reader applies."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import DataError

__all__ = ["Dataset", "IMAGE_SHAPE", "N_PIXELS", "DIGIT_CLASS_NAMES", "make_dataset"]

#: Height and width of an image.
IMAGE_SHAPE = (28, 28)
#: Pixels per image, the length of a row of ``Dataset.x_train``.
N_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
#: Class names of MNIST-like digit data.
DIGIT_CLASS_NAMES = tuple(str(digit) for digit in range(10))


@dataclass(eq=False)
class Dataset:
    """Images and labels, split into training and test parts, on the host.

    Either split may be missing (``None``) when the source lacks it: a
    directory with only the ``t10k`` files has no training split, an
    unlabelled CSV has test images but ``y_test`` is ``None``.

    Attributes
    ----------
    name : str
        ``"mnist"``, ``"fashion-mnist"``, or a name derived from the file.
    x_train : numpy.ndarray or None
        Training images, shape ``(N, 784)``, dtype uint8, values 0..255: each
        row is a 28 x 28 image flattened row by row (``x.reshape(-1, 28, 28)``
        restores the images).
    y_train : numpy.ndarray or None
        Training labels, shape ``(N,)``, dtype int64, values
        ``0 .. len(class_names) - 1``.
    x_test : numpy.ndarray or None
        Test images, shape ``(M, 784)``, uint8.
    y_test : numpy.ndarray or None
        Test labels, shape ``(M,)``, int64; ``None`` for unlabelled data.
    class_names : tuple of str
        Class names indexed by label: ``"0"`` .. ``"9"`` for digits, the
        garment names for Fashion-MNIST.
    checksums : dict of str to str
        SHA-256 (hex) of each file actually read, keyed by file name.
    source : str
        Where the data came from (directory or file path).
    """

    name: str
    x_train: np.ndarray | None
    y_train: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: tuple[str, ...] = DIGIT_CLASS_NAMES
    checksums: dict[str, str] = field(default_factory=dict)
    source: str = ""

    @property
    def n_train(self) -> int:
        """Number of training images (0 if there is no training split)."""
        return 0 if self.x_train is None else len(self.x_train)

    @property
    def n_test(self) -> int:
        """Number of test images (0 if there is no test split)."""
        return 0 if self.x_test is None else len(self.x_test)

    @property
    def n_classes(self) -> int:
        """Number of classes, ``len(class_names)``."""
        return len(self.class_names)

    def summary(self) -> str:
        """Describe the dataset in one line, e.g. for a command-line tool.

        Returns
        -------
        str
            For example ``"mnist: 60,000 training and 10,000 test images,
            10 classes (from /home/me/.cache/xpnet/datasets/mnist)"``.
        """
        parts = []
        if self.x_train is not None:
            parts.append(f"{self.n_train:,} training")
        if self.x_test is not None:
            parts.append(f"{self.n_test:,} {'unlabelled ' if self.y_test is None else ''}test")
        images = " and ".join(parts) + " images" if parts else "no images"
        return f"{self.name}: {images}, {self.n_classes} classes (from {self.source})"

    def __repr__(self) -> str:
        def shape(array: np.ndarray | None) -> str:
            return "None" if array is None else f"{array.dtype}{list(array.shape)}"

        arrays = ", ".join(f"{key}={shape(getattr(self, key))}" for key in ("x_train", "y_train", "x_test", "y_test"))
        return f"Dataset(name={self.name!r}, {arrays}, n_classes={self.n_classes}, source={self.source!r})"


def make_dataset(
    name: str,
    *,
    source: str,
    train: tuple[np.ndarray | None, np.ndarray | None] = (None, None),
    test: tuple[np.ndarray | None, np.ndarray | None] = (None, None),
    class_names: tuple[str, ...] = DIGIT_CLASS_NAMES,
    checksums: dict[str, str] | None = None,
    origins: dict[str, str] | None = None,
) -> Dataset:
    """Validate raw arrays and put them in a [`Dataset`][xpnet.datasets.dataset.Dataset].

    Parameters
    ----------
    name, source, class_names, checksums
        As in [`Dataset`][xpnet.datasets.dataset.Dataset].
    train, test : tuple of (images, labels)
        Images of shape ``(N, 28, 28)`` or ``(N, 784)`` with integer values
        0..255, and labels of shape ``(N,)`` with integer values below
        ``len(class_names)``. Training images need labels; test labels may
        be ``None`` (unlabelled). Both may be ``(None, None)``.
    origins : dict of str to str, optional
        Where each array came from (keys ``"x_train"``, ``"y_train"``,
        ``"x_test"``, ``"y_test"``), for error messages; default ``source``.

    Returns
    -------
    Dataset
        With uint8 ``(N, 784)`` images and int64 labels.

    Raises
    ------
    DataError
        On a wrong shape, dtype or value, mismatched lengths, labels without
        images, training images without labels, or no images at all.
    """
    origins = origins or {}
    arrays: dict[str, np.ndarray | None] = {}
    for split, (images, labels) in (("train", train), ("test", test)):
        x_key, y_key = f"x_{split}", f"y_{split}"
        x_origin, y_origin = origins.get(x_key, source), origins.get(y_key, source)
        if images is None and labels is not None:
            raise DataError(f"{y_origin}: {split} labels found but no {split} images to go with them")
        if images is not None and labels is None and split == "train":
            raise DataError(f"{x_origin}: training images found but no training labels to go with them")
        x = arrays[x_key] = None if images is None else as_images(images, x_origin)
        y = arrays[y_key] = None if labels is None else as_labels(labels, y_origin, len(class_names))
        if x is not None and y is not None and len(x) != len(y):
            raise DataError(
                f"{x_origin}: {len(x)} {split} images but {len(y)} labels in {y_origin}; the two must match one to one"
            )
    if arrays["x_train"] is None and arrays["x_test"] is None:
        raise DataError(f"{source}: no images found")
    return Dataset(name, **arrays, class_names=tuple(class_names), checksums=dict(checksums or {}), source=source)


def as_images(images: np.ndarray, origin: str) -> np.ndarray:
    """Check images and return them as uint8 of shape ``(N, 784)``.

    Raises
    ------
    DataError
        Naming ``origin``, if the shape is not ``(N, 28, 28)`` or
        ``(N, 784)`` or the values are not integers in 0..255.
    """
    images = np.asarray(images)
    if not (images.ndim == 3 and images.shape[1:] == IMAGE_SHAPE) and not (
        images.ndim == 2 and images.shape[1] == N_PIXELS
    ):
        raise DataError(f"{origin}: images must have shape (N, 28, 28) or (N, 784), got {images.shape}")
    if len(images) == 0:
        raise DataError(f"{origin}: contains 0 images")
    flat = images.reshape(len(images), N_PIXELS)
    if images.dtype == np.uint8:
        return flat
    if images.dtype.kind not in "iu":
        raise DataError(
            f"{origin}: pixel values must be integers 0..255, got dtype {images.dtype}"
            + (" (if they are scaled to [0, 1], multiply by 255 and round first)" if images.dtype.kind == "f" else "")
        )
    bad = np.flatnonzero((flat < 0) | (flat > 255))
    if bad.size:
        row, pixel = divmod(int(bad[0]), N_PIXELS)
        raise DataError(
            f"{origin}: pixel value {flat[row, pixel]} (image {row}, pixel {pixel}) is outside 0..255"
            f" ({bad.size} values out of range)"
        )
    return flat.astype(np.uint8)


def as_labels(labels: np.ndarray, origin: str, n_classes: int = 10) -> np.ndarray:
    """Check labels and return them as int64 of shape ``(N,)``.

    Raises
    ------
    DataError
        Naming ``origin``, if the labels are not a 1-d array of integers in
        ``0 .. n_classes - 1``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DataError(f"{origin}: labels must have shape (N,), got {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise DataError(f"{origin}: labels must be integers 0..{n_classes - 1}, got dtype {labels.dtype}")
    bad = np.flatnonzero((labels < 0) | (labels >= n_classes))
    if bad.size:
        raise DataError(
            f"{origin}: label {labels[bad[0]]} at index {bad[0]} is outside 0..{n_classes - 1}"
            f" ({bad.size} labels out of range)"
        )
    return labels.astype(np.int64)
