"""Activation functions and reconstruction losses.

They share one small interface so the network treats them alike:

* an activation has ``forward(z, out)`` writing ``f(z)`` into ``out`` and
  ``backward(z, a, grad, out)`` writing ``grad * f'(z)`` into ``out``, given
  ``a = f(z)``; both work in place on preallocated arrays because training
  calls them tens of thousands of times on tiny matrices;
* a loss has ``value(Y, T)`` (mean over every pixel of every item) and
  ``gradient(Y, T, out)`` (d value / d Y).

Shape parameters follow the course: ``tanh(beta * x)``, ``sigmoid(beta * x)``,
leaky ReLU's negative slope, ELU's alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ACTIVATIONS", "LOSSES", "make_activation", "make_loss"]


@dataclass(frozen=True)
class Identity:
    """``f(x) = x``; the latent layer always uses it."""

    def forward(self, z, out):
        np.copyto(out, z)
        return out

    def backward(self, z, a, grad, out):
        np.copyto(out, grad)
        return out


@dataclass(frozen=True)
class Tanh:
    """``f(x) = tanh(beta * x)``, ``f' = beta * (1 - f^2)``."""

    beta: float = 1.0

    def forward(self, z, out):
        if self.beta != 1.0:
            np.multiply(z, self.beta, out=out)
            return np.tanh(out, out=out)
        return np.tanh(z, out=out)

    def backward(self, z, a, grad, out):
        np.multiply(a, a, out=out)
        np.subtract(1.0, out, out=out)
        np.multiply(out, grad, out=out)
        if self.beta != 1.0:
            out *= self.beta
        return out


@dataclass(frozen=True)
class Sigmoid:
    """``f(x) = 1 / (1 + exp(-beta * x))``, ``f' = beta * f * (1 - f)``."""

    beta: float = 1.0

    def forward(self, z, out):
        # sigmoid(x) = (1 + tanh(x / 2)) / 2 never overflows.
        np.multiply(z, 0.5 * self.beta, out=out)
        np.tanh(out, out=out)
        out += 1.0
        out *= 0.5
        return out

    def backward(self, z, a, grad, out):
        np.subtract(1.0, a, out=out)
        out *= a
        out *= grad
        if self.beta != 1.0:
            out *= self.beta
        return out


@dataclass(frozen=True)
class ReLU:
    """``f(x) = max(x, 0)``."""

    def forward(self, z, out):
        return np.maximum(z, 0.0, out=out)

    def backward(self, z, a, grad, out):
        np.greater(z, 0.0, out=out)
        out *= grad
        return out


@dataclass(frozen=True)
class LeakyReLU:
    """``f(x) = x`` for ``x > 0``, else ``slope * x``."""

    slope: float = 0.01

    def forward(self, z, out):
        np.multiply(z, self.slope, out=out)
        return np.maximum(z, out, out=out) if self.slope <= 1 else np.minimum(z, out, out=out)

    def backward(self, z, a, grad, out):
        np.copyto(out, np.where(z > 0, 1.0, self.slope))
        out *= grad
        return out


@dataclass(frozen=True)
class ELU:
    """``f(x) = x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``; ``f' = f + alpha`` there."""

    alpha: float = 1.0

    def forward(self, z, out):
        np.minimum(z, 0.0, out=out)
        np.expm1(out, out=out)
        out *= self.alpha
        np.copyto(out, z, where=z > 0)
        return out

    def backward(self, z, a, grad, out):
        np.add(a, self.alpha, out=out)
        np.copyto(out, 1.0, where=z > 0)
        out *= grad
        return out


ACTIVATIONS = {
    "identity": (Identity, None),
    "sigmoid": (Sigmoid, "beta"),
    "tanh": (Tanh, "beta"),
    "relu": (ReLU, None),
    "leaky_relu": (LeakyReLU, "slope"),
    "elu": (ELU, "alpha"),
}


def make_activation(name: str, param: float | None = None):
    """Build an activation from its name and optional shape parameter.

    Parameters
    ----------
    name : {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu"}
    param : float, optional
        ``beta`` for tanh and sigmoid, the negative slope for leaky_relu,
        ``alpha`` for elu; ``None`` keeps the usual default (1, 0.01, 1).

    Examples
    --------
    >>> make_activation("tanh", 0.5)
    Tanh(beta=0.5)
    """
    try:
        cls, field = ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None
    if param is None:
        return cls()
    if field is None:
        raise ValueError(f"activation {name!r} takes no parameter, got {param}")
    if not np.isfinite(param) or param <= 0:
        raise ValueError(f"the {field} of {name} must be a positive number, got {param}")
    return cls(**{field: float(param)})


_TINY = 1e-12


@dataclass(frozen=True)
class BinaryCrossEntropy:
    """``-mean(T log Y + (1 - T) log(1 - Y))``, Y clipped away from 0 and 1."""

    def value(self, Y, T):
        Yc = np.clip(Y, _TINY, 1 - _TINY)
        return float(-(T * np.log(Yc) + (1 - T) * np.log1p(-Yc)).mean())

    def gradient(self, Y, T, out):
        Yc = np.clip(Y, _TINY, 1 - _TINY)
        np.subtract(Yc, T, out=out)
        out /= Yc * (1 - Yc)
        out /= Y.size
        return out


@dataclass(frozen=True)
class SquaredError:
    """``mean((Y - T) ** 2)``."""

    def value(self, Y, T):
        d = Y - T
        return float(np.vdot(d, d) / d.size)

    def gradient(self, Y, T, out):
        np.subtract(Y, T, out=out)
        out *= 2.0 / Y.size
        return out


LOSSES = {"bce": BinaryCrossEntropy, "mse": SquaredError}


def make_loss(name: str):
    """``"bce"`` (binary cross-entropy) or ``"mse"`` (squared error)."""
    try:
        return LOSSES[name]()
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None
