"""What varies between autoencoders, as small objects a :class:`~genval.nn.Network` holds.

* the **code layer** sits between encoder and decoder: :class:`LinearCode`
  (a plain or sparse autoencoder, with an optional code activation) or
  :class:`GaussianCode` (a variational autoencoder: mean and log-variance,
  a reparameterised sample, a KL term);
* **penalties** are applied where they act: :class:`ActivityL1` and
  :class:`KLSparsity` on the code, :class:`Contractive` on the first encoder
  layer.

Each works on the network's feature-major arrays (features, batch rows) and
writes with ``out=``, as the network does (:mod:`genval.nn._network`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from genval.errors import ParameterError
from genval.nn._activations import ACTIVATIONS, Identity, Sigmoid

__all__ = ["ActivityL1", "Contractive", "GaussianCode", "KLSparsity", "LinearCode"]


@dataclass(frozen=True)
class LinearCode:
    """The code of a plain autoencoder: ``code = activation(W h + b)``.

    ``width`` is how many units the encoder's last layer has; with the identity
    activation the network writes that layer's output straight into the
    decoder's input (``aliased``).
    """

    n_latent: int
    activation: object = field(default_factory=Identity)

    @property
    def width(self) -> int:
        return self.n_latent

    @property
    def aliased(self) -> bool:
        return isinstance(self.activation, Identity)

    def workspace(self, m: int, dtype) -> None:
        return None

    def forward(self, z, code, cache, rng) -> float:
        """Write the code of pre-activations ``z`` into ``code``; return the extra loss (none)."""
        if not self.aliased:
            self.activation.forward(z, code)
        return 0.0

    def backward(self, z, code, d_code, delta, cache, scale: float):
        """dLoss/dz from dLoss/dcode (returned; may be ``d_code`` itself)."""
        if self.aliased:
            return d_code
        return self.activation.backward(z, code, d_code, out=delta)

    def encode(self, z: np.ndarray) -> np.ndarray:
        """Codes of sample-major pre-activations (inference)."""
        return self.activation.forward(z, np.empty_like(z))


@dataclass
class _GaussianCache:
    eps: np.ndarray
    std: np.ndarray


@dataclass(frozen=True)
class GaussianCode:
    """The code of a variational autoencoder (Kingma and Welling, 2014).

    The encoder's last layer has ``2 * n_latent`` units, a mean ``mu`` and a
    log-variance ``log_var``; training decodes ``mu + exp(log_var / 2) * eps``
    with ``eps ~ N(0, I)`` and adds ``beta`` times ``KL(N(mu, var) || N(0, I))
    = -1/2 sum(1 + log_var - mu^2 - var)``. Inference uses the mean.
    """

    n_latent: int
    beta: float = 1.0

    @property
    def width(self) -> int:
        return 2 * self.n_latent

    aliased = False

    def workspace(self, m: int, dtype) -> _GaussianCache:
        return _GaussianCache(np.empty((self.n_latent, m), dtype), np.empty((self.n_latent, m), dtype))

    def forward(self, z, code, cache: _GaussianCache, rng) -> float:
        k = self.n_latent
        mu, log_var = z[:k], z[k:]
        rng.standard_normal(out=cache.eps, dtype=cache.eps.dtype)
        np.multiply(log_var, 0.5, out=cache.std)
        np.exp(cache.std, out=cache.std)
        np.multiply(cache.std, cache.eps, out=code)
        code += mu
        kl = -0.5 * float(np.add.reduce(1.0 + log_var - mu * mu - cache.std * cache.std, axis=None))
        return self.beta * kl

    def backward(self, z, code, d_code, delta, cache: _GaussianCache, scale: float):
        k = self.n_latent
        mu, std = z[:k], cache.std
        weight = self.beta * scale
        np.multiply(mu, weight, out=delta[:k])
        delta[:k] += d_code
        np.multiply(d_code, cache.eps, out=delta[k:])
        delta[k:] *= std
        delta[k:] += weight * (std * std - 1.0)
        delta[k:] *= 0.5
        return delta

    def encode(self, z: np.ndarray) -> np.ndarray:
        return z[:, :self.n_latent]


# ---------------------------------------------------------------- penalties

@dataclass(frozen=True)
class ActivityL1:
    """``weight * sum |code|``: the sparse autoencoder's L1 activity penalty."""

    weight: float
    site = "code"

    def apply(self, code, d_code, scale: float) -> float:
        """Add the penalty's gradient to ``d_code`` in place; return its value."""
        d_code += np.sign(code) * (self.weight * scale)
        return self.weight * scale * float(np.abs(code).sum())

    def check_code(self, code) -> None:
        """Any code works."""


@dataclass(frozen=True)
class KLSparsity:
    """The lecture's sparsity penalty: ``weight * sum_j KL(target || rho_j)`` on the code.

    ``rho_j`` is the mean activation of code unit ``j`` over the batch (Ng,
    *CS294A Lecture notes: Sparse autoencoder*), and ``KL(r || q) = r log(r/q)
    + (1 - r) log((1 - r)/(1 - q))``, the divergence between two Bernoulli
    variables. The lecture's hidden layer is the code here, so the penalty
    needs code activations that lie in (0, 1), read as firing rates: a
    sigmoid code (``code_activation="sigmoid"``). Any other code is refused
    rather than mapped to (0, 1): for tanh, ReLU or a Gaussian code a mean
    activation is not a firing rate, and ``target`` would mean something
    else for each.

    The term is added to the per-pixel mean loss divided by the number of
    output pixels, so that ``weight`` weighs it against a per-item loss
    summed over pixels as the lecture's ``beta`` does. With mini-batches,
    ``rho_j`` is the mean over each mini-batch. ``rho_j`` is clipped to
    ``[EPSILON, 1 - EPSILON]`` (``EPSILON = 1e-6``) before the logarithms and
    quotients, so that a saturated float32 sigmoid (exactly 0 or 1) gives a
    finite value and gradient.
    """

    target: float
    weight: float
    site = "code"

    EPSILON = 1e-6

    def check_code(self, code) -> None:
        """Refuse a code whose activations are not in (0, 1), naming it and what is accepted."""
        activation = getattr(code, "activation", None)
        if isinstance(activation, Sigmoid):
            return
        if activation is None:
            found = f"the {type(code).__name__} of a variational autoencoder (unbounded)"
        else:
            names = [name for name, (cls, _) in ACTIVATIONS.items() if type(activation) is cls]
            found = f"code_activation={names[0] if names else type(activation).__name__!r}"
        raise ParameterError(f"the KL sparsity penalty (sparsity_weight) needs code activations in (0, 1), "
                             f"code_activation='sigmoid'; got {found}")

    def apply(self, code, d_code, scale: float) -> float:
        """Add the penalty's gradient to ``d_code`` in place; return its value.

        ``code`` and ``d_code`` are feature-major, (n_latent, m); ``scale`` is
        one over the number of output values, ``1 / (n_features * m)``.
        """
        m = code.shape[1]
        rho = np.clip(code.mean(axis=1, keepdims=True), self.EPSILON, 1.0 - self.EPSILON)
        r = self.target
        # d/d rho_j of the sum, times d rho_j / d code_ij = 1 / m; the m cancels against scale's.
        d_code += (self.weight * scale) * (-r / rho + (1.0 - r) / (1.0 - rho))
        rho = rho.astype(np.float64)
        kl = float(np.sum(r * np.log(r / rho) + (1.0 - r) * np.log((1.0 - r) / (1.0 - rho))))
        return self.weight * scale * m * kl


@dataclass(frozen=True)
class Contractive:
    """``weight * ||dh/dx||_F^2`` of the first encoder layer (Rifai et al., 2011).

    Per sample ``||dh/dx||_F^2 = sum_j f'(z_j)^2 ||W_:j||^2``; the activation
    supplies ``f'`` and ``f''``, so any activation works.
    """

    weight: float
    site = "first_layer"

    def apply(self, activation, z, h, W, delta, scale: float):
        """Add to ``delta`` (dLoss/dz of the first layer); return the value and dLoss/dW."""
        fp, fpp = activation.derivatives(z, h)
        col = (W * W).sum(axis=0)[:, None]                  # ||W_:j||^2, (n_hidden, 1)
        w = self.weight * scale
        delta += (2.0 * w) * fp * fpp * col
        dW = (2.0 * w) * W * (fp * fp).sum(axis=1)[None, :]
        return w * float((fp * fp * col).sum()), dW
