"""Activation functions and reconstruction losses.

An activation carries everything the network needs of it, so adding one
touches this file only:

* ``forward(z, out)`` writes ``f(z)`` into ``out``;
* ``backward(z, a, grad, out)`` writes ``grad * f'(z)`` into ``out``, given
  ``a = f(z)``;
* ``derivatives(z, a)`` returns ``(f'(z), f''(z))``, which the contractive
  penalty needs;
* ``init_bound(fan_in, fan_out)`` is the half-width of the uniform
  distribution its layer's weights start from (Glorot for saturating units,
  He for rectifiers).

``forward`` and ``backward`` work in place on preallocated arrays because
training calls them tens of thousands of times on tiny matrices.

A loss is computed from the output layer's pre-activations (the logits), never
from a probability that float32 has already rounded to exactly 0 or 1:
``evaluate(z, T, output, Y, delta, tmp, scale)`` writes the outputs into ``Y``
and ``d loss / d z`` into ``delta``, and returns the loss, each multiplied by
``scale`` (the network passes one over the number of pixels, so the loss is a
per-pixel mean).

Shape parameters follow the course: ``tanh(beta * x)``, ``sigmoid(beta * x)``,
leaky ReLU's negative slope, ELU's alpha.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from genval.errors import ParameterError

__all__ = ["ACTIVATIONS", "LOSSES", "make_activation", "make_loss"]


def _glorot(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / (fan_in + fan_out))


def _he(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / fan_in)


@dataclass(frozen=True)
class Identity:
    """``f(x) = x``."""

    def forward(self, z, out):
        np.copyto(out, z)
        return out

    def backward(self, z, a, grad, out):
        np.copyto(out, grad)
        return out

    def derivatives(self, z, a):
        return np.ones_like(z), np.zeros_like(z)

    def init_bound(self, fan_in: int, fan_out: int) -> float:
        return _glorot(fan_in, fan_out)


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

    def derivatives(self, z, a):
        one_minus = 1.0 - a * a
        return self.beta * one_minus, -2.0 * self.beta * self.beta * a * one_minus

    def init_bound(self, fan_in: int, fan_out: int) -> float:
        return _glorot(fan_in, fan_out)


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

    def derivatives(self, z, a):
        s = a * (1.0 - a)
        return self.beta * s, self.beta * self.beta * s * (1.0 - 2.0 * a)

    def init_bound(self, fan_in: int, fan_out: int) -> float:
        return _glorot(fan_in, fan_out)


@dataclass(frozen=True)
class ReLU:
    """``f(x) = max(x, 0)``."""

    def forward(self, z, out):
        return np.maximum(z, 0.0, out=out)

    def backward(self, z, a, grad, out):
        np.greater(z, 0.0, out=out)
        out *= grad
        return out

    def derivatives(self, z, a):
        return (z > 0).astype(z.dtype), np.zeros_like(z)

    def init_bound(self, fan_in: int, fan_out: int) -> float:
        return _he(fan_in, fan_out)


@dataclass(frozen=True)
class LeakyReLU:
    """``f(x) = x`` for ``x > 0``, else ``slope * x``."""

    slope: float = 0.01

    def forward(self, z, out):
        np.multiply(z, self.slope, out=out)
        return np.maximum(z, out, out=out) if self.slope <= 1 else np.minimum(z, out, out=out)

    def backward(self, z, a, grad, out):
        np.greater(z, 0.0, out=out)
        out *= 1.0 - self.slope
        out += self.slope
        out *= grad
        return out

    def derivatives(self, z, a):
        return np.where(z > 0, 1.0, self.slope).astype(z.dtype), np.zeros_like(z)

    def init_bound(self, fan_in: int, fan_out: int) -> float:
        return _he(fan_in, fan_out)


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

    def derivatives(self, z, a):
        negative = z <= 0
        return np.where(negative, a + self.alpha, 1.0), np.where(negative, a + self.alpha, 0.0)

    def init_bound(self, fan_in: int, fan_out: int) -> float:
        return _he(fan_in, fan_out)


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

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or a parameter
        the activation does not take.

    Examples
    --------
    >>> make_activation("tanh", 0.5)
    Tanh(beta=0.5)
    >>> make_activation("relu")
    ReLU()
    """
    try:
        cls, field = ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ParameterError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None
    if param is None:
        return cls()
    if field is None:
        raise ParameterError(f"activation {name!r} takes no parameter, got {param}")
    if not isinstance(param, (int, float)) or not math.isfinite(param) or param <= 0:
        raise ParameterError(f"the {field} of {name} must be a positive number, got {param!r}")
    return cls(**{field: float(param)})


@dataclass(frozen=True)
class BinaryCrossEntropy:
    """Pixel cross-entropy of a sigmoid output, from its logits.

    With ``u = beta * z`` (``beta`` of the sigmoid), the loss of a pixel with
    target ``t`` is ``softplus(u) - t * u = log1p(exp(-|u|)) + u * ([u > 0] -
    t)``, which neither overflows nor takes the log of a saturated
    probability, in float32 as in float64, and is a sum of non-negative terms
    for binary targets; its gradient is ``beta * (sigmoid(u) - t)``.
    """

    def check_output(self, output) -> None:
        if not isinstance(output, Sigmoid):
            raise ParameterError("loss='bce' needs output_activation='sigmoid' (pixels in [0, 1]); "
                             "use loss='mse' for other outputs")

    def evaluate(self, z, T, output, Y, delta, tmp, scale: float) -> float:
        beta = output.beta
        u = z
        if beta != 1.0:
            u = np.multiply(z, beta, out=delta)  # delta is written once u is no longer needed
        e = np.abs(u, out=Y)
        np.negative(e, out=e)
        np.exp(e, out=e)                         # exp(-|u|), in (0, 1]
        np.log1p(e, out=tmp)
        total = np.add.reduce(tmp, axis=None)
        # max(u, 0) - t u = u ([u > 0] - t), summed per pixel: for binary targets
        # every term is >= 0, where two large sums would cancel to float32 noise.
        np.greater(u, 0.0, out=tmp)
        tmp -= T
        tmp *= u
        total += np.add.reduce(tmp, axis=None)
        # sigmoid(u) = 1 / (1 + e) for u >= 0 and e / (1 + e) below: both keep
        # small probabilities accurate, and those keep pushing saturated pixels
        # (a sigmoid through tanh rounds them to 0, and some seeds then end a
        # pixel short). The numerator is max(e, [u > 0]), since e <= 1 and e = 1
        # at u = 0: a masked copy gave the same bytes 15 times slower (a branch
        # per pixel on a random mask).
        np.greater(u, 0.0, out=tmp)
        np.add(e, 1.0, out=delta)
        np.maximum(e, tmp, out=tmp)
        np.divide(tmp, delta, out=Y)
        np.subtract(Y, T, out=delta)
        delta *= beta * scale
        return float(total) * scale


@dataclass(frozen=True)
class SquaredError:
    """``mean((Y - T) ** 2)`` of the outputs ``Y = output(z)``."""

    def check_output(self, output) -> None:
        pass

    def evaluate(self, z, T, output, Y, delta, tmp, scale: float) -> float:
        output.forward(z, Y)
        np.subtract(Y, T, out=tmp)
        total = float(np.vdot(tmp, tmp))
        tmp *= 2.0 * scale
        output.backward(z, Y, tmp, out=delta)
        return total * scale


LOSSES = {"bce": BinaryCrossEntropy, "mse": SquaredError}


def make_loss(name: str):
    """``"bce"`` (binary cross-entropy, from logits) or ``"mse"`` (squared error).

    Examples
    --------
    >>> make_loss("bce")
    BinaryCrossEntropy()
    """
    try:
        return LOSSES[name]()
    except (KeyError, TypeError):
        raise ParameterError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None
