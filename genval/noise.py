"""Noise models for denoising autoencoders: small pure functions of a Generator.

Each takes pixels in [0, 1], a noise level (a scalar, or an array that
broadcasts against the pixels, e.g. one level per sample) and a
``numpy.random.Generator``, and returns new noisy pixels in [0, 1].
"""

from __future__ import annotations

import numpy as np

from genval.errors import ParameterError

__all__ = ["NOISES", "flip_noise", "gaussian_noise", "make_noise"]


def flip_noise(X, p, rng: np.random.Generator, out=None) -> np.ndarray:
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


def gaussian_noise(X, std, rng: np.random.Generator, out=None) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``std`` and clip to [0, 1]."""
    X = np.asarray(X)
    noise = rng.standard_normal(X.shape) * std
    out = np.array(X, dtype=float, copy=True) if out is None else out
    np.add(X, noise, out=out, casting="unsafe")
    return np.clip(out, 0.0, 1.0, out=out)


NOISES = {"flip": flip_noise, "gaussian": gaussian_noise}


def make_noise(name: str):
    """The noise function called ``name`` ("flip" or "gaussian")."""
    try:
        return NOISES[name]
    except KeyError:
        raise ParameterError(f"unknown noise {name!r}; choose one of {', '.join(NOISES)}") from None
