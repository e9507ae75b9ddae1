"""Hidden-layer activations as pairs of pure functions: ``g(Z)`` and the backward rule.

Each activation is an [`Activation`][xpnet.nn.activations.Activation] holding

* ``forward(Z) -> A``: the element-wise non-linearity, ``A = g(Z)``;
* ``backward(dA, Z, A) -> dZ``: the chain rule through it, ``dZ = dA ⊙ g′(Z)``.

``backward`` receives both ``Z`` and ``A`` so each derivative uses whichever is cheaper
(``tanh′ = 1 − A²`` needs no second ``tanh``). All functions take and return arrays of any
shape and get their namespace from their arguments, so they run on every Array API backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..backend import array_namespace
from ..errors import ConfigError

__all__ = ["Activation", "ACTIVATIONS", "get_activation"]


@dataclass(frozen=True)
class Activation:
    """A named element-wise non-linearity and its backward rule."""

    name: str
    forward: Callable
    backward: Callable
    #: Optional ``backward_inplace(dA, Z, A) -> dZ``: the same as ``backward`` but it may
    #: overwrite ``dA`` (which its caller owns) and return it, saving a temporary and a pass
    #: over memory. [`xpnet.nn.network.backward`][xpnet.nn.network.backward] uses it when it is given.
    backward_inplace: Callable | None = None


# ReLU — the tutorial's hidden activation: A = max(Z, 0); ReLU′(Z) = 1 where Z > 0, else 0.
def relu(Z):
    xp = array_namespace(Z)
    return xp.maximum(Z, 0.0)


def relu_backward(dA, Z, A):
    xp = array_namespace(dA, Z)
    # dA ⊙ ReLU′(Z) as a product with a 0/1 mask: NumPy's where() on a random mask is ~10×
    # slower than this (benchmarks/RESULTS.md).
    return dA * xp.astype(Z > 0, dA.dtype)


def relu_backward_inplace(dA, Z, A):
    xp = array_namespace(dA, Z)
    dA *= xp.astype(Z > 0, dA.dtype)
    return dA


# Leaky ReLU: A = Z where Z > 0, else slope·Z.
LEAKY_SLOPE = 0.01


def leaky_relu(Z):
    xp = array_namespace(Z)
    return xp.where(Z > 0, Z, LEAKY_SLOPE * Z)


def leaky_relu_backward(dA, Z, A):
    xp = array_namespace(dA, Z)
    return xp.where(Z > 0, dA, LEAKY_SLOPE * dA)


# tanh: A = tanh(Z); tanh′(Z) = 1 − A².
def tanh(Z):
    return array_namespace(Z).tanh(Z)


def tanh_backward(dA, Z, A):
    return dA * (1.0 - A * A)


# Logistic sigmoid: A = 1 / (1 + e^−Z); σ′(Z) = A (1 − A).
def sigmoid(Z):
    xp = array_namespace(Z)
    # Written with exp(−|Z|) ≤ 1 so neither branch overflows for large |Z|.
    e = xp.exp(-xp.abs(Z))
    return xp.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_backward(dA, Z, A):
    return dA * (A * (1.0 - A))


# Identity (scikit-learn's ``activation="identity"``): A = Z; g′(Z) = 1, so dZ = dA. The
# network is then linear up to the softmax, i.e. multinomial logistic regression.
def identity(Z):
    return Z


def identity_backward(dA, Z, A):
    return dA


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", relu, relu_backward, relu_backward_inplace),
        Activation("leaky_relu", leaky_relu, leaky_relu_backward),
        Activation("tanh", tanh, tanh_backward),
        Activation("sigmoid", sigmoid, sigmoid_backward),
        Activation("identity", identity, identity_backward, identity_backward),
    )
}


def get_activation(name: str | Activation) -> Activation:
    """Look an activation up by name (``relu``, ``leaky_relu``, ``tanh``, ``sigmoid``, ``identity``)."""
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ConfigError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None
