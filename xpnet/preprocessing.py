"""The input transformation a trained model expects, stored with it in the checkpoint.

A model trained on pixels scaled to [0, 1] and standardised with the training set's mean and
standard deviation must see new images transformed the same way. :class:`Preprocessing`
records that transformation as a few numbers (JSON in the checkpoint manifest) and applies it
to raw uint8 pixels on the host.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Preprocessing"]


@dataclass(frozen=True)
class Preprocessing:
    """``x ↦ ((x / 255) − mean) / std`` for raw pixels ``x`` in 0..255.

    Attributes
    ----------
    scale: divide the pixels by 255 first (xpnet always does; kept for clarity).
    mean, std: scalar standardisation statistics of the (scaled) training images, or ``None``
        for no standardisation.
    """

    scale: bool = True
    mean: float | None = None
    std: float | None = None

    def __post_init__(self):
        if (self.mean is None) != (self.std is None):
            raise ValueError("Preprocessing needs both mean and std, or neither")
        if self.std is not None and not self.std > 0:
            raise ValueError(f"Preprocessing std must be > 0, got {self.std}")

    @classmethod
    def fit(cls, x_train: np.ndarray, standardize: bool = True) -> "Preprocessing":
        """Statistics from raw uint8 training pixels (mean/std over all pixels of the set)."""
        if not standardize:
            return cls()
        scaled = np.asarray(x_train, dtype=np.float64) / 255.0
        std = float(scaled.std())
        return cls(True, float(scaled.mean()), std if std > 0 else 1.0)

    @property
    def standardized(self) -> bool:
        return self.mean is not None

    def transform(self, x: np.ndarray, dtype: str = "float32") -> np.ndarray:
        """Raw pixels (any integer or float array with values 0..255) → model inputs."""
        out = np.asarray(x).astype(dtype)
        if self.scale:
            out /= np.asarray(255, dtype=dtype)
        if self.mean is not None:
            out -= np.asarray(self.mean, dtype=dtype)
            out /= np.asarray(self.std, dtype=dtype)
        return out

    def get_config(self) -> dict:
        """JSON-friendly description; :meth:`from_config` inverts it."""
        return {"scale": 255.0 if self.scale else None,
                "standardize": None if self.mean is None else {"mean": self.mean, "std": self.std}}

    @classmethod
    def from_config(cls, config: dict | None) -> "Preprocessing":
        if not config:
            return cls()
        std = config.get("standardize")
        return cls(config.get("scale") is not None,
                   None if not std else float(std["mean"]), None if not std else float(std["std"]))

    def describe(self) -> str:
        text = "pixels / 255" if self.scale else "raw pixels"
        if self.mean is not None:
            text += f", standardised (mean {self.mean:.4f}, std {self.std:.4f})"
        return text
