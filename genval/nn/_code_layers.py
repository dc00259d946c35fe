"""What varies between autoencoders, as small objects a :class:`~genval.nn.Network` holds.

* the **code layer** sits between encoder and decoder: :class:`LinearCode`
  (a plain or sparse autoencoder, with an optional code activation) or
  :class:`GaussianCode` (a variational autoencoder: mean and log-variance,
  a reparameterised sample, a KL term);
* **penalties** are applied where they act: :class:`ActivityL1` on the code,
  :class:`Contractive` on the first encoder layer.

Each works on the network's feature-major arrays (features, batch rows) and
writes with ``out=``, as the network does (:mod:`genval.nn._network`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from genval.nn._activations import Identity

__all__ = ["ActivityL1", "Contractive", "GaussianCode", "LinearCode"]


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
