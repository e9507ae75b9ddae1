"""The input transformation a model carries: raw pixels in, network inputs out.

A model trained on pixels scaled to [0, 1] and standardised with the training set's mean and
standard deviation must see new images transformed the same way. [`Preprocessing`][xpnet.model.preprocessing.Preprocessing]
records that transformation as a few numbers; give it to the model
(``MLP(..., preprocessing=pre)``) and the model applies it itself in [`fit`][xpnet.model.mlp.MLP.fit]
and in every inference and evaluation method, and [`xpnet.save`][xpnet.model.checkpoint.save] stores it in the
checkpoint (JSON in the manifest), so ``xpnet.load(path).predict(raw_uint8_images)`` is right.

On the host the work is done by [`xpnet.datasets.scale`][xpnet.datasets.preprocess.scale] and
[`xpnet.datasets.standardize`][xpnet.datasets.preprocess.standardize]; arrays that already live on the model's device are
transformed there, with the same two equations in their own namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backend import array_library, array_namespace
from ..errors import ConfigError

__all__ = ["Preprocessing"]


@dataclass(frozen=True)
class Preprocessing:
    """``x ↦ ((x / 255) − mean) / std`` for raw pixels ``x`` in 0..255.

    Parameters
    ----------
    scale : bool
        Divide the pixels by 255 first ([`xpnet.datasets.scale`][xpnet.datasets.preprocess.scale]).
    mean, std : float or None
        Scalar standardisation statistics of the (scaled) training images
        ([`xpnet.datasets.standardize`][xpnet.datasets.preprocess.standardize]), or ``None`` for no standardisation.

    Examples
    --------
    >>> from xpnet.datasets import load_dataset                    # doctest: +SKIP
    >>> data = load_dataset("mnist")                               # doctest: +SKIP
    >>> pre = Preprocessing.fit(data.x_train)                      # doctest: +SKIP
    >>> model = xpnet.MLP([784, 128, 10], preprocessing=pre)       # doctest: +SKIP
    >>> model.fit(data.x_train, data.y_train)                      # raw uint8  # doctest: +SKIP
    """

    scale: bool = True
    mean: float | None = None
    std: float | None = None

    def __post_init__(self):
        if (self.mean is None) != (self.std is None):
            raise ConfigError("Preprocessing needs both mean and std, or neither")
        if self.std is not None and not self.std > 0:
            raise ConfigError(f"Preprocessing std must be > 0, got {self.std}")

    @classmethod
    def fit(cls, x_train, standardize: bool = True) -> Preprocessing:
        """Statistics from raw 0..255 training pixels (mean/std over all pixels of the set).

        Parameters
        ----------
        x_train : numpy.ndarray
            Raw training pixels, integers 0..255, any shape.
        standardize : bool
            Also standardise (else only scale to [0, 1]).

        Returns
        -------
        Preprocessing
        """
        if not standardize:
            return cls()
        from ..datasets import scale as _scale  # on use: import xpnet stays light
        from ..datasets import standardize as _standardize

        scaled = _scale(np.asarray(x_train), "float64")
        _, mean, std = _standardize(scaled)
        return cls(True, float(mean), float(std))

    @property
    def standardized(self) -> bool:
        """Whether a mean and std are subtracted and divided by."""
        return self.mean is not None

    def transform(self, x, dtype: str = "float32"):
        """Raw pixels → model inputs, in ``dtype``.

        Parameters
        ----------
        x : array_like
            Pixels 0..255: integers (any integer dtype), or floats holding such values. NumPy
            arrays and lists are transformed on the host; arrays of another library (CuPy,
            PyTorch, array-api-strict, ...) in their own namespace, on their own device.
        dtype : str
            ``"float32"`` or ``"float64"``.

        Returns
        -------
        array
            ``((x / 255) − mean) / std`` (or what of it is configured), same shape as ``x``,
            in ``x``'s namespace (NumPy for lists).
        """
        lib = array_library(x)
        if lib not in (None, "numpy"):
            return self._transform_native(x, dtype)
        from ..datasets import scale as _scale
        from ..datasets import standardize as _standardize

        x = np.asarray(x)
        if self.scale and x.dtype.kind in "iu":
            out = _scale(x, dtype)
        else:  # floats holding 0..255 (e.g. resampled images): the same x / 255
            out = x.astype(dtype)
            if self.scale:
                out /= np.asarray(255, dtype=dtype)
        if self.mean is not None:
            out, _, _ = _standardize(out, self.mean, self.std)
        return out

    def _transform_native(self, x, dtype):
        xp = array_namespace(x)
        out = xp.astype(x, getattr(xp, dtype))
        if self.scale:
            out = out / 255.0
        if self.mean is not None:
            out = (out - self.mean) / self.std
        return out

    def get_config(self) -> dict:
        """JSON-friendly description; [`from_config`][xpnet.model.preprocessing.Preprocessing.from_config] inverts it."""
        return {
            "scale": 255.0 if self.scale else None,
            "standardize": None if self.mean is None else {"mean": self.mean, "std": self.std},
        }

    @classmethod
    def from_config(cls, config: dict | None) -> Preprocessing:
        """Rebuild from [`get_config`][xpnet.model.preprocessing.Preprocessing.get_config] output (``None`` or ``{}``: scale only)."""
        if not config:
            return cls()
        std = config.get("standardize")
        return cls(
            config.get("scale") is not None,
            None if not std else float(std["mean"]),
            None if not std else float(std["std"]),
        )

    def describe(self) -> str:
        """One line for people, e.g. ``"pixels / 255, standardised (mean 0.1307, std 0.3081)"``."""
        text = "pixels / 255" if self.scale else "raw pixels"
        if self.mean is not None:
            text += f", standardised (mean {self.mean:.4f}, std {self.std:.4f})"
        return text


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings
