"""Weight initializations, drawn on the host so every backend starts from the same numbers.

Each initializer takes a NumPy ``Generator`` (from [`xpnet.backend.Backend.rng`][xpnet.backend.Backend.rng]) and the
layer's fan-in and fan-out, and returns the host array ``W`` of shape ``(fan_out, fan_in)`` in float64 and
the host bias ``b`` of shape ``(fan_out,)``, or ``None`` when the bias starts at zero. The model casts them to its dtype and copies them to its device
once, so the same seed gives the same initial weights on NumPy, CuPy, PyTorch, JAX and
array-api-strict.

* ``"tutorial"``: W and b uniform in [−0.5, 0.5] — the tutorial's ``np.random.rand(10, 784) - 0.5``.
* ``"he"``: W ~ N(0, 2 / fan_in), b = 0 (He et al. 2015; suits ReLU).
* ``"glorot"``: W ~ U(−r, r) with r = √(6 / (fan_in + fan_out)), b = 0 (Glorot & Bengio 2010;
  suits tanh and sigmoid).
"""

from __future__ import annotations

import math

from ..errors import ConfigError

__all__ = ["INITIALIZERS", "init_layer"]

INITIALIZERS = ("tutorial", "he", "glorot")


def init_layer(rng, fan_in: int, fan_out: int, scheme: str):
    """Draw one layer's ``(W, b)`` on the host: W is (fan_out, fan_in), b is (fan_out,) or None (zeros)."""
    if scheme == "tutorial":
        W = rng.uniform(-0.5, 0.5, size=(fan_out, fan_in))
        b = rng.uniform(-0.5, 0.5, size=(fan_out,))
    elif scheme == "he":
        W = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(fan_out, fan_in))
        b = None
    elif scheme == "glorot":
        r = math.sqrt(6.0 / (fan_in + fan_out))
        W = rng.uniform(-r, r, size=(fan_out, fan_in))
        b = None
    else:
        raise ConfigError(f"unknown init {scheme!r}; choose one of {', '.join(INITIALIZERS)}")
    return W, b
