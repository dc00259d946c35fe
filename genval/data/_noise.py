"""Noise models for denoising autoencoders: small pure functions of a Generator.

Each takes pixels in [0, 1], a noise level (a scalar, or an array that
broadcasts against the pixels, e.g. one level per sample) and a
``numpy.random.Generator``, and returns new noisy pixels in [0, 1]; ``out``
receives them, and ``axis`` names the pixels' axis (images are rows unless
the caller says otherwise; only noise that looks at a whole image uses it).
"""

from __future__ import annotations

import numpy as np

from genval.errors import ParameterError

__all__ = ["NOISES", "flip_noise", "gaussian_noise", "image_gaussian_noise", "make_noise"]


def flip_noise(X, p, rng: np.random.Generator, out=None, axis: int = -1) -> np.ndarray:
    """Salt and pepper: each pixel becomes ``1 - pixel`` with probability ``p``.

    Examples
    --------
    >>> flip_noise(np.zeros((1, 4)), 1.0, np.random.default_rng(0)).tolist()
    [[1.0, 1.0, 1.0, 1.0]]
    """
    X = np.asarray(X)
    flip = rng.random(X.shape) < p
    out = np.array(X, dtype=float, copy=True) if out is None else out
    if out is not X:
        np.copyto(out, X)
    np.subtract(1.0, out, out=out, where=flip)
    return out


def gaussian_noise(X, std, rng: np.random.Generator, out=None, axis: int = -1) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``std`` and clip to [0, 1]."""
    X = np.asarray(X)
    noise = rng.standard_normal(X.shape) * std
    out = np.array(X, dtype=float, copy=True) if out is None else out
    np.add(X, noise, out=out, casting="unsafe")
    return np.clip(out, 0.0, 1.0, out=out)


def image_gaussian_noise(X, scale, rng: np.random.Generator, out=None, axis: int = -1) -> np.ndarray:
    """Add Gaussian noise with each image's own mean and spread, times ``scale``; clip to [0, 1].

    Image ``x`` gets ``scale * N(mean(x), std(x))`` on every pixel: the noise
    of the course's Fashion-MNIST denoiser. ``axis`` is the axis of the
    pixels (the training loop passes feature-major batches, ``axis=0``).

    Examples
    --------
    >>> X = np.array([[0.0, 1.0, 0.0, 1.0], [0.5, 0.5, 0.5, 0.5]])
    >>> image_gaussian_noise(X, 0.0, np.random.default_rng(0)).tolist()  # scale 0: no noise
    [[0.0, 1.0, 0.0, 1.0], [0.5, 0.5, 0.5, 0.5]]
    >>> noisy = image_gaussian_noise(X, 0.2, np.random.default_rng(0))
    >>> bool(np.all(noisy[1] == 0.6))  # a flat image has spread 0: it moves by 0.2 * its mean
    True
    """
    X = np.asarray(X)
    out = np.array(X, dtype=float, copy=True) if out is None else out
    noise = rng.standard_normal(X.shape)
    noise *= X.std(axis=axis, keepdims=True)
    noise += X.mean(axis=axis, keepdims=True)
    noise *= scale
    np.add(X, noise, out=out, casting="unsafe")
    return np.clip(out, 0.0, 1.0, out=out)


NOISES = {"flip": flip_noise, "gaussian": gaussian_noise, "image_gaussian": image_gaussian_noise}


def make_noise(name: str):
    """The noise function called ``name`` ("flip", "gaussian" or "image_gaussian")."""
    try:
        return NOISES[name]
    except KeyError:
        raise ParameterError(f"unknown noise {name!r}; choose one of {', '.join(NOISES)}") from None
