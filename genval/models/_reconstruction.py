"""How well a model reconstructs a set: wrong pixels per item, thresholded at 0.5."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from genval.errors import ParameterError
from genval.models._training_data import titled_array

if TYPE_CHECKING:
    from genval.data._bitmap_set import BitmapSet

__all__ = ["ReconstructionReport", "reconstruction_report", "wrong_pixels"]


def wrong_pixels(model, X, T=None) -> np.ndarray:
    """Wrong pixels per item after reconstructing ``X`` and thresholding at 0.5.

    Parameters
    ----------
    model : fitted Autoencoder or VariationalAutoencoder
    X : array-like of shape (n_samples, n_features) or BitmapSet
    T : array-like, optional
        Targets to compare with (default ``X``; a denoiser compares noisy
        inputs with clean targets).

    Returns
    -------
    ndarray of int, shape (n_samples,)
    """
    X = np.asarray(titled_array(X)[0], dtype=float)
    T = X if T is None else np.asarray(titled_array(T)[0], dtype=float)
    if T.shape != X.shape:
        raise ParameterError(f"T has shape {T.shape}, but X has shape {X.shape}")
    return ((model.reconstruct(X) > 0.5) != (T > 0.5)).sum(axis=1)


@dataclass(frozen=True)
class ReconstructionReport:
    """How well a model reconstructs a bitmap set.

    Attributes
    ----------
    names : tuple of str
    wrong_pixels : tuple of int
        Per item, pixels that differ after thresholding at 0.5.
    perfect : int
        Items with no wrong pixel.
    within_one : int
        Items with at most one wrong pixel.
    """

    names: tuple[str, ...]
    wrong_pixels: tuple[int, ...]

    @property
    def perfect(self) -> int:
        return sum(w == 0 for w in self.wrong_pixels)

    @property
    def within_one(self) -> int:
        return sum(w <= 1 for w in self.wrong_pixels)

    def to_dict(self) -> dict:
        return {
            "items": [{"name": n, "wrong_pixels": w} for n, w in zip(self.names, self.wrong_pixels)],
            "perfect": self.perfect,
            "within_one": self.within_one,
        }


def reconstruction_report(model, bitmaps: BitmapSet) -> ReconstructionReport:
    """Wrong pixels of every item of ``bitmaps`` (see :func:`wrong_pixels`).

    Examples
    --------
    >>> from genval import Autoencoder, load_dataset
    >>> font = load_dataset("font")
    >>> report = reconstruction_report(Autoencoder(stop_wrong_pixels=0).fit(font.X), font)
    >>> report.perfect
    32
    """
    return ReconstructionReport(bitmaps.names, tuple(int(w) for w in wrong_pixels(model, bitmaps.X)))
