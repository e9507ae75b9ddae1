"""The datasets xpnet knows by name: their files, checksums and mirrors.

Checksums of the files as the mirrors serve them come from TensorFlow
Datasets' ``url_checksums/mnist.txt`` and ``url_checksums/fashion_mnist.txt``
(size and SHA-256) and torchvision's ``datasets/mnist.py`` (MD5); the MD5 sums
are those published by the dataset authors.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "FileSpec",
    "KnownDataset",
    "MNIST",
    "FASHION_MNIST",
    "KNOWN_DATASETS",
    "get_known_dataset",
    "identify_file",
]

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"


@dataclass(frozen=True)
class FileSpec:
    """A file of a dataset and how to recognise a good copy of it.

    Attributes
    ----------
    name : str
        File name, as on the mirrors and in the cache directory.
    size : int
        Size in bytes of the file as the mirrors serve it.
    sha256 : str
        SHA-256 of that file, lowercase hex.
    md5 : str or None
        MD5 as published by the dataset authors, for reference only.
    repackaged : tuple of (int, str)
        Further ``(size, sha256)`` pairs also accepted: the same data in a
        different gzip wrapping (e.g. re-compressed by a Linux distribution).
    """

    name: str
    size: int
    sha256: str
    md5: str | None = None
    repackaged: tuple[tuple[int, str], ...] = ()

    def matches(self, size: int, sha256: str) -> bool:
        """Tell whether a file of this ``size`` and ``sha256`` is a good copy."""
        return (size, sha256.lower()) in ((self.size, self.sha256), *self.repackaged)


@dataclass(frozen=True)
class KnownDataset:
    """A dataset that can be downloaded by name.

    Attributes
    ----------
    name : str
        Canonical lowercase name, e.g. ``"fashion-mnist"``; also the name of
        its cache subdirectory.
    title : str
        Display name, e.g. ``"Fashion-MNIST"``.
    files : tuple of FileSpec
        Training images, training labels, test images, test labels: gzipped
        IDX files with the standard names ``train-images-idx3-ubyte.gz``,
        ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
        ``t10k-labels-idx1-ubyte.gz``.
    mirrors : tuple of str
        Base URLs (ending in ``/``) tried in order; file URL = base + name.
    class_names : tuple of str
        Names of the 10 classes, indexed by label.
    homepage : str
        Where the dataset is described.
    """

    name: str
    title: str
    files: tuple[FileSpec, ...]
    mirrors: tuple[str, ...]
    class_names: tuple[str, ...]
    homepage: str = ""

    def file(self, name: str) -> FileSpec:
        """Return the spec of the file called ``name``."""
        for spec in self.files:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.title} has no file {name!r}")


MNIST = KnownDataset(
    name="mnist",
    title="MNIST",
    files=(
        FileSpec(
            TRAIN_IMAGES,
            9_912_422,
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        ),
        FileSpec(
            TRAIN_LABELS,
            28_881,
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "d53e105ee54ea40749a09fcbcd1e9432",
        ),
        FileSpec(
            TEST_IMAGES,
            1_648_877,
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "9fb629c4189551a2d022fa330f9573f3",
        ),
        FileSpec(
            TEST_LABELS,
            4_542,
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    ),
    # yann.lecun.com, the original home, answers 403 Forbidden since 2024.
    mirrors=(
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ),
    class_names=tuple(str(digit) for digit in range(10)),
    homepage="https://yann.lecun.com/exdb/mnist/",
)

# The `repackaged` pairs are a re-gzipped copy found in the wild (the one in
# xpnet's CI reference data; the origin may be a distribution package). Each is
# smaller than the original by exactly the length of the gzip file-name field
# ("train-images-idx3-ubyte" plus a NUL byte), so presumably the same deflate
# stream with that field dropped; the parsed IDX content is checked as usual.
FASHION_MNIST = KnownDataset(
    name="fashion-mnist",
    title="Fashion-MNIST",
    files=(
        FileSpec(
            TRAIN_IMAGES,
            26_421_880,
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            repackaged=((26_421_856, "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"),),
        ),
        FileSpec(
            TRAIN_LABELS,
            29_515,
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "25c81989df183df01b3e8a0aad5dffbe",
            repackaged=((29_491, "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"),),
        ),
        FileSpec(
            TEST_IMAGES,
            4_422_102,
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "bef4ecab320f06d8554ea6380940ec79",
            repackaged=((4_422_079, "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"),),
        ),
        FileSpec(
            TEST_LABELS,
            5_148,
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "bb300cfdad3c16e7a12a480ee83cd310",
            repackaged=((5_125, "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"),),
        ),
    ),
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    homepage="https://github.com/zalandoresearch/fashion-mnist",
)

#: The datasets known by name, keyed by canonical name (read-only mapping).
KNOWN_DATASETS = MappingProxyType({dataset.name: dataset for dataset in (MNIST, FASHION_MNIST)})


def get_known_dataset(name: str) -> KnownDataset | None:
    """Look up a known dataset by name.

    Parameters
    ----------
    name : str
        Case-insensitive; ``_`` and ``-`` are interchangeable, so
        ``"Fashion_MNIST"`` finds ``"fashion-mnist"``.

    Returns
    -------
    KnownDataset or None
        ``None`` if no dataset has that name.
    """
    return KNOWN_DATASETS.get(name.strip().lower().replace("_", "-"))


def identify_file(size: int, sha256: str) -> tuple[KnownDataset, FileSpec] | None:
    """Find which known dataset file has this size and SHA-256, if any.

    Returns
    -------
    tuple of (KnownDataset, FileSpec) or None
    """
    for dataset in KNOWN_DATASETS.values():
        for spec in dataset.files:
            if spec.matches(size, sha256):
                return dataset, spec
    return None
