"""Autoencoders as scikit-learn estimators: fit, encode, decode, save.

:class:`Autoencoder` and :class:`VariationalAutoencoder` share everything
but their code layer (:mod:`genval.nn._network`; the rest is
:mod:`genval.models._base`): ``fit`` builds a network from the parameters and
runs the one training loop (:mod:`genval.nn._training`), ``transform``
encodes, ``inverse_transform`` decodes, ``score`` is the negative mean
reconstruction loss, so grid searches and pipelines work unchanged. A saved
model is a ``.npz`` of arrays plus a JSON config, read back without pickle
(:mod:`genval.models._model_file`).
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from genval._utils.files import resolve_rng
from genval.errors import ParameterError
from genval.models._base import _BaseAutoencoder, store_params
from genval.models._params import PARAMS
from genval.nn._activations import make_activation
from genval.nn._code_layers import GaussianCode, LinearCode

__all__ = ["Autoencoder", "VariationalAutoencoder", "load_model"]


_PARAMETERS_DOC = """
    hidden : tuple of int, default (25, 15)
        Encoder hidden layer widths; the decoder mirrors them.
    n_latent : int, default 2
        Width of the latent space.
    activation : str, default "tanh"
        Hidden activation: "sigmoid", "tanh", "relu", "leaky_relu", "elu",
        "identity".
    activation_param : float, optional
        Its shape parameter: ``beta`` in ``tanh(beta*x)``, the leaky slope,
        ELU's alpha. None keeps the usual default.
    output_activation : str, default "sigmoid"
        Output activation; sigmoid keeps pixels in (0, 1).
    loss : {"bce", "mse"}, default "bce"
        Binary cross-entropy (computed from the logits; needs a sigmoid
        output and data in [0, 1]) or squared error, averaged over every
        pixel. For real-valued data use ``loss="mse"`` with
        ``output_activation="identity"``.
    optimizer : {"adam", "gd", "momentum", "adaptive"}, default "adam"
    learning_rate : float, default 0.004
        The step size. Rule of thumb: 0.004 for Adam on sets of a few dozen
        bitmaps (0.01 is faster but less reliable); plain gradient descent on
        the per-pixel mean loss wants 1 or more.
    optimizer_options : dict, optional
        Extra optimizer settings, e.g. ``{"momentum": 0.8}``; see
        :func:`genval.nn.make_optimizer`.
    epochs : int, default 10000
        Passes over the data (the upper bound when stopping early).
    batch_size : int, optional
        None trains on the full batch each epoch when an epoch has at most
        4,096 rows (noisy copies included), and on mini-batches of 256 beyond
        (an MNIST-sized set); 1 is online learning; any other size draws
        shuffled mini-batches each epoch.
    stop_wrong_pixels : int, optional
        Stop after the first epoch in which every item was reconstructed with
        at most this many wrong pixels (output thresholded at 0.5).
    noise : {"flip", "gaussian", "image_gaussian"}, default "flip"
        The noise of a denoising autoencoder (see :mod:`genval.data._noise`): bit
        flips with probability p, Gaussian noise of standard deviation p, or
        Gaussian noise with each image's own mean and spread, times p.
    noise_levels : tuple of float, default ()
        Train as a denoising autoencoder on every level at once (the course
        trained on 0, 0.10, 0.15 and 0.20 together): each epoch sees every item
        once per level (times ``noise_copies``), with fresh noise, and learns to
        give back the clean item. Empty: a plain autoencoder.
    noise_copies : int, default 1
        Noisy copies of every item per level and epoch.
    activity_l1 : float, default 0
        Weight of an L1 penalty on the code (the sparse autoencoder).
    contractive : float, default 0
        Weight of the contractive penalty, the squared Frobenius norm of the
        first encoder layer's Jacobian ``dh/dx``.
    sparsity_target : float, default 0.05
        The KL sparsity penalty's target ``rho``, in (0, 1): the mean
        activation each code unit should have over a batch.
    sparsity_weight : float, default 0
        Its weight ``beta``: adds ``beta * sum_j KL(rho || rho_j)``, ``rho_j``
        unit ``j``'s mean activation (Ng's sparse autoencoder; see
        :class:`genval.nn.KLSparsity`). Needs ``code_activation="sigmoid"``;
        0 turns it off.
    dropout : float, default 0
        Probability of dropping each hidden unit (the code's too) during
        training (inverted dropout: inference uses every unit).
    validation_fraction : float, default 0
        Share of the items held out (chosen at random) to report
        ``validation_loss_curve_``; ``fit(X, validation_data=V)`` gives the
        held-out set explicitly instead.
    dtype : {"float32", "float64"}, default "float32"
        Precision of the arithmetic, in training and in inference
        (``transform``, ``inverse_transform``, ``score``); ``params_`` is kept
        in float64.
    random_state : int, numpy Generator or None, default 0
        Seeds weight initialisation, shuffling and noise (separate streams)."""

_ATTRIBUTES_DOC = """
    params_ : ndarray of shape (n_params,)
        Every weight and bias.
    layer_sizes_ : list of int
        ``[n_features, *hidden, n_latent, *reversed(hidden), n_features]``.
    loss_curve_ : list of float
        The mean loss of each finished epoch (``len(loss_curve_) == n_epochs_``).
    validation_loss_curve_ : list of float or None
        The held-out reconstruction loss after each epoch (no dropout, a VAE's
        means), or None without a held-out set.
    n_epochs_ : int
        Epochs trained (fewer than ``epochs`` when stopped early).
    stopped_early_ : bool
    n_features_in_ : int
    metadata_ : dict
        Facts saved with the model (see :meth:`save`); empty after ``fit``.
    training_data_ : dict or None
        What ``fit`` was given: ``n_items``, ``n_features``, ``title`` (of a
        BitmapSet, else "") and ``sha256``, the SHA-256 of the pixels as
        little-endian float32, row after row (so float32 and float64 copies of
        a set hash alike); see :meth:`check_training_data`. None for a model
        loaded from a file saved before genval kept this record."""


class Autoencoder(_BaseAutoencoder):
    __doc__ = f"""A dense autoencoder with a small latent space, in the scikit-learn style.

    Parameters
    ----------{_PARAMETERS_DOC}
    code_activation : str, default "identity"
        Activation of the latent code (e.g. "relu" for a rectified code).

    Attributes
    ----------{_ATTRIBUTES_DOC}

    Examples
    --------
    >>> from genval import load_dataset, wrong_pixels
    >>> emojis = load_dataset("emojis")
    >>> ae = Autoencoder(stop_wrong_pixels=0).fit(emojis.X)
    >>> ae.transform(emojis.X).shape
    (17, 2)
    >>> int(wrong_pixels(ae, emojis.X).max())
    0
    """

    def __init__(self, hidden: tuple[int, ...] = (25, 15), n_latent: int = 2, activation: str = "tanh",
                 activation_param: float | None = None, output_activation: str = "sigmoid", loss: str = "bce",
                 optimizer: str = "adam", learning_rate: float = 0.004, optimizer_options: dict | None = None,
                 epochs: int = 10_000, batch_size: int | None = None, stop_wrong_pixels: int | None = None,
                 noise: str = "flip", noise_levels: tuple[float, ...] = (), noise_copies: int = 1,
                 activity_l1: float = 0.0, contractive: float = 0.0, sparsity_target: float = 0.05,
                 sparsity_weight: float = 0.0, dropout: float = 0.0,
                 validation_fraction: float = 0.0, dtype: str = "float32", random_state=0,
                 code_activation: str = "identity"):
        store_params(self, locals())

    def _code(self) -> LinearCode:
        return LinearCode(int(self.n_latent), make_activation(self.code_activation))


class VariationalAutoencoder(_BaseAutoencoder):
    __doc__ = f"""A variational autoencoder in the scikit-learn style.

    The same network as :class:`Autoencoder` with a Gaussian code
    (:class:`genval.nn.GaussianCode`): the encoder gives a mean and a
    log-variance, training decodes a sample of them and adds ``beta`` times the
    KL divergence from N(0, I), per pixel like the loss. ``transform`` gives
    the means, so a VAE works everywhere an autoencoder does: maps, walks,
    audits; :meth:`sample_prior` draws from the prior.

    Parameters
    ----------{_PARAMETERS_DOC}
    beta : float, default 1.0
        Weight of the KL term (beta-VAE); 0 trains a noisy plain autoencoder.

    Attributes
    ----------{_ATTRIBUTES_DOC}

    Examples
    --------
    >>> from genval import load_dataset
    >>> emojis = load_dataset("emojis")
    >>> vae = VariationalAutoencoder(beta=0.5, epochs=2000).fit(emojis.X)
    >>> vae.transform(emojis.X).shape, vae.sample_prior(4, random_state=0).shape
    ((17, 2), (4, 2))
    """

    def __init__(self, hidden: tuple[int, ...] = (25, 15), n_latent: int = 2, activation: str = "tanh",
                 activation_param: float | None = None, output_activation: str = "sigmoid", loss: str = "bce",
                 optimizer: str = "adam", learning_rate: float = 0.004, optimizer_options: dict | None = None,
                 epochs: int = 10_000, batch_size: int | None = None, stop_wrong_pixels: int | None = None,
                 noise: str = "flip", noise_levels: tuple[float, ...] = (), noise_copies: int = 1,
                 activity_l1: float = 0.0, contractive: float = 0.0, sparsity_target: float = 0.05,
                 sparsity_weight: float = 0.0, dropout: float = 0.0,
                 validation_fraction: float = 0.0, dtype: str = "float32", random_state=0,
                 beta: float = 1.0):
        store_params(self, locals())

    def _code(self) -> GaussianCode:
        if not PARAMS["beta"].accepts(self.beta):
            raise ParameterError(f"beta must be {PARAMS['beta'].expected}, got {self.beta!r}")
        return GaussianCode(int(self.n_latent), float(self.beta))

    def encode(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and log-variances, each (n_samples, n_latent)."""
        check_is_fitted(self)
        out = self._net.encoder_output(self._theta(), self._check_X(X, reset=False, dtype=self.dtype))
        k = self._net.code.n_latent
        return out[:, :k], out[:, k:]

    def sample_prior(self, n: int, random_state=None) -> np.ndarray:
        """``n`` latent points from the prior N(0, I), shape (n, n_latent)."""
        return resolve_rng(random_state).standard_normal((n, int(self.n_latent)))


def load_model(path) -> _BaseAutoencoder:
    """Load any genval model file, plain or variational (see :meth:`Autoencoder.load`)."""
    return _BaseAutoencoder.load(path)

