"""A variational autoencoder on the same fast training loop.

The encoder ends in ``2 * n_latent`` linear units, a mean ``mu`` and a
log-variance ``log_var``; training decodes a sample ``z = mu + exp(log_var / 2)
* eps`` with ``eps ~ N(0, I)`` (the reparameterization trick) and adds a KL
term weighted by ``beta``:

    loss = (sum of pixel cross-entropies + beta * sum of KL(q(z|x) || N(0, I)))
           / (n_items * n_pixels)

``transform`` gives the mean, so a VAE works everywhere an autoencoder does:
maps, walks, audits. :meth:`~VariationalAutoencoder.sample_prior` draws from
the prior, which the audits' ``vae-prior`` strategy decodes.
"""

from __future__ import annotations

import math

import numpy as np

from genval._estimator import resolve_rng
from genval.autoencoder import Autoencoder, _check_X

__all__ = ["VariationalAutoencoder"]


class VariationalAutoencoder(Autoencoder):
    """A variational autoencoder in the scikit-learn style.

    Parameters
    ----------
    beta : float, default 1.0
        Weight of the KL term (beta-VAE); 0 trains a noisy plain autoencoder.
    **params
        Every :class:`~genval.autoencoder.Autoencoder` parameter (``hidden``,
        ``n_latent``, ``activation``, ``learning_rate``, ``epochs``, ...).

    Examples
    --------
    >>> from genval import load_dataset
    >>> emojis = load_dataset("emojis")
    >>> vae = VariationalAutoencoder(beta=0.5, epochs=2000).fit(emojis.X)
    >>> vae.transform(emojis.X).shape, vae.sample_prior(4, random_state=0).shape
    ((17, 2), (4, 2))
    """

    def __init__(self, beta: float = 1.0, **params):
        super().__init__(**params)
        self.beta = beta

    def _validate_params(self) -> None:
        super()._validate_params()
        if not (isinstance(self.beta, (int, float)) and math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta must be a number >= 0, got {self.beta!r}")
        if self.contractive or self.activity_l1:
            raise ValueError("the variational autoencoder takes no activity_l1 or contractive penalty")

    def _build(self, n_features: int) -> None:
        super()._build(n_features)
        self._alias[self._code_layer] = False  # the code is sampled, not copied

    def _layer_shapes(self) -> list[tuple[int, int]]:
        hidden = [int(h) for h in self.hidden]
        k = int(self.n_latent)
        encoder = [self.layer_sizes_[0], *hidden, 2 * k]
        decoder = [k, *hidden[::-1], self.layer_sizes_[-1]]
        return ([(a + 1, b) for a, b in zip(encoder[:-1], encoder[1:])]
                + [(a + 1, b) for a, b in zip(decoder[:-1], decoder[1:])])

    def _code_forward(self, ws) -> float:
        e, k = self._code_layer, int(self.n_latent)
        out = ws.Z[e]
        mu, log_var = out[:k], out[k:]
        eps = self._noise_rng.standard_normal(mu.shape).astype(out.dtype, copy=False)
        std = np.exp(0.5 * log_var)
        np.multiply(std, eps, out=ws.A_in[e + 1])
        ws.A_in[e + 1] += mu
        ws.vae = (mu, log_var, eps, std)
        kl = -0.5 * float(np.add.reduce(1.0 + log_var - mu * mu - std * std, axis=None))
        return self.beta * kl / ws.size

    def _code_backward(self, ws, d_code: np.ndarray) -> np.ndarray:
        e, k = self._code_layer, int(self.n_latent)
        mu, log_var, eps, std = ws.vae
        delta = ws.D[e]
        scale = self.beta / ws.size
        np.add(d_code, scale * mu, out=delta[:k])
        np.multiply(d_code, 0.5 * eps * std, out=delta[k:])
        delta[k:] += 0.5 * scale * (std * std - 1.0)
        return delta

    def transform(self, X) -> np.ndarray:
        """Encode: the posterior means, (n_samples, n_latent)."""
        return self.encode(X)[0]

    def encode(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and log-variances, each (n_samples, n_latent)."""
        self._check_fitted()
        X = _check_X(X, self.n_features_in_)
        out = self._run(X, range(self._n_encoder_layers))
        k = int(self.n_latent)
        return out[:, :k], out[:, k:]

    def sample_prior(self, n: int, random_state=None) -> np.ndarray:
        """``n`` latent points from the prior N(0, I), (n, n_latent)."""
        return resolve_rng(random_state).standard_normal((n, int(self.n_latent)))
