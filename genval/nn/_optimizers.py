"""The course's optimizers, each a few lines over one flat parameter vector.

Every optimizer is built for one training run with :func:`make_optimizer`
(its state takes the parameter vector's size and dtype), then
``step(theta, grad, loss)`` updates ``theta`` in place. The network keeps
all weights and biases in one contiguous vector, so an update is a handful of
NumPy calls whatever the number of layers.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from genval.errors import ParameterError

__all__ = ["OPTIMIZERS", "make_optimizer"]


class GradientDescent:
    """``theta -= learning_rate * grad``."""

    def __init__(self, theta: np.ndarray, learning_rate: float):
        self.learning_rate = learning_rate
        self._tmp = np.empty_like(theta)

    def step(self, theta, grad, loss):
        np.multiply(grad, self.learning_rate, out=self._tmp)
        theta -= self._tmp


class Momentum:
    """Classical momentum: ``v = momentum * v - learning_rate * grad; theta += v``."""

    def __init__(self, theta: np.ndarray, learning_rate: float, momentum: float = 0.9):
        if not 0 <= momentum < 1:
            raise ParameterError(f"momentum must be in [0, 1), got {momentum}")
        self.learning_rate = learning_rate
        self.momentum = momentum
        self._v = np.zeros_like(theta)
        self._tmp = np.empty_like(theta)

    def step(self, theta, grad, loss):
        self._v *= self.momentum
        np.multiply(grad, self.learning_rate, out=self._tmp)
        self._v -= self._tmp
        theta += self._v


class AdaptiveLearningRate(GradientDescent):
    """Gradient descent whose rate adapts to the loss, as in the course.

    After ``patience`` consecutive decreases of the loss the rate grows by the
    constant ``increase``; after an increase it shrinks by the factor
    ``decrease`` (``lr -= decrease * lr``). With ``momentum`` > 0 the adapted
    step feeds a velocity as in :class:`Momentum` (the course combined the
    two): ``v = momentum * v - lr * grad; theta += v``.
    """

    def __init__(self, theta: np.ndarray, learning_rate: float, increase: float | None = None,
                 decrease: float = 0.1, patience: int = 5, momentum: float = 0.0):
        super().__init__(theta, learning_rate)
        if not 0 < decrease < 1:
            raise ParameterError(f"decrease must be in (0, 1), got {decrease}")
        if patience < 1:
            raise ParameterError(f"patience must be >= 1, got {patience}")
        if not 0 <= momentum < 1:
            raise ParameterError(f"momentum must be in [0, 1), got {momentum}")
        # By default the rate may grow by a tenth of its starting value per step.
        self.increase = 0.1 * learning_rate if increase is None else increase
        self.decrease = decrease
        self.patience = patience
        self.momentum = momentum
        self._v = np.zeros_like(theta) if momentum else None
        self._previous = np.inf
        self._streak = 0

    def step(self, theta, grad, loss):
        if loss < self._previous:
            self._streak += 1
            if self._streak >= self.patience:
                self.learning_rate += self.increase
                self._streak = 0
        elif loss > self._previous:
            self.learning_rate -= self.decrease * self.learning_rate
            self._streak = 0
        self._previous = loss
        if self._v is None:
            super().step(theta, grad, loss)
            return
        self._v *= self.momentum
        np.multiply(grad, self.learning_rate, out=self._tmp)
        self._v -= self._tmp
        theta += self._v


class Adam:
    """Adam (Kingma and Ba, 2015) with bias correction, AMSGrad by default.

    With ``amsgrad=True`` (Reddi et al., 2018) the step divides by the largest
    second moment seen so far. On these tiny sets the loss falls to 1e-4 and
    below, the second moments shrink with it, and plain Adam then takes
    occasional huge steps that undo the fit (loss spikes of 100x late in a
    10,000-epoch run); AMSGrad keeps the run monotone at the cost of one
    ``maximum`` per step.

    The moments are kept unscaled (``m' = m / (1 - beta_1)``), which folds two
    multiplications per step into the scalar step size.
    """

    def __init__(self, theta: np.ndarray, learning_rate: float, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-8, amsgrad: bool = True):
        for name, b in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= b < 1:
                raise ParameterError(f"{name} must be in [0, 1), got {b}")
        self.learning_rate = learning_rate
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self._m = np.zeros_like(theta)
        self._v = np.zeros_like(theta)
        self._tmp = np.empty_like(theta)
        self._vmax = np.zeros_like(theta) if amsgrad else self._v
        self.amsgrad = amsgrad
        self._t = 0

    def step(self, theta, grad, loss):
        b1, b2 = self.beta_1, self.beta_2
        self._t += 1
        m, v, tmp = self._m, self._v, self._tmp
        m *= b1
        m += grad
        v *= b2
        np.multiply(grad, grad, out=tmp)
        v += tmp
        if self.amsgrad:
            np.maximum(self._vmax, v, out=self._vmax)
        # m_hat = (1-b1) m / (1-b1^t), sqrt(v_hat) = c * sqrt(v) with c below.
        # Python floats (not NumPy scalars) keep float32 arithmetic in float32.
        c = math.sqrt((1 - b2) / (1 - b2 ** self._t))
        scale = self.learning_rate * (1 - b1) / (1 - b1 ** self._t) / c
        np.sqrt(self._vmax, out=tmp)
        tmp += self.epsilon / c
        np.divide(m, tmp, out=tmp)
        tmp *= scale
        theta -= tmp


OPTIMIZERS = {
    "gd": GradientDescent,
    "momentum": Momentum,
    "adaptive": AdaptiveLearningRate,
    "adam": Adam,
}


def make_optimizer(name: str, theta: np.ndarray, learning_rate: float, options: dict | None = None):
    """Build an optimizer for the flat parameter vector ``theta``.

    Parameters
    ----------
    name : {"gd", "momentum", "adaptive", "adam"}
    theta : ndarray of shape (n_params,)
    learning_rate : float
    options : dict, optional
        Extra settings: ``momentum`` for momentum; ``increase``, ``decrease``,
        ``patience``, ``momentum`` for adaptive; ``beta_1``, ``beta_2``, ``epsilon``, ``amsgrad`` for adam.

    Raises
    ------
    ValueError
        For an unknown optimizer or option; the message lists the valid ones.
    """
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ParameterError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}") from None
    options = dict(options or {})
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "theta", "learning_rate")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ParameterError(
            f"unknown option(s) {', '.join(unknown)} for optimizer {name!r}; "
            f"it takes {', '.join(allowed) or 'none'}"
        )
    return cls(theta, learning_rate, **options)
