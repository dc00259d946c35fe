"""How well a model reconstructs a set: wrong pixels per item (thresholded at 0.5) and grey-level figures.

Wrong pixels suit binary bitmaps; grey-level images (the digits, photos,
a denoiser's Gaussian noise) need continuous figures, over every pixel of
every item:

* the mean squared error ``MSE = mean((x - x_hat) ** 2)``;
* the peak signal-to-noise ratio ``PSNR = 10 log10(PEAK ** 2 / MSE)`` in dB,
  with ``PEAK = 1.0`` (pixels in [0, 1]); infinite for an MSE of 0 (in JSON,
  ``null``);
* the share of pixels within a tolerance, ``|x - x_hat| <= tolerance``
  (:data:`TOLERANCE`, 0.1, by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from genval._utils.budget import chunk_rows
from genval.errors import ParameterError
from genval.models._training_data import titled_array

if TYPE_CHECKING:
    from genval.data._bitmap_set import BitmapSet

__all__ = ["GreyLevels", "PEAK", "ReconstructionReport", "TOLERANCE", "grey_levels", "psnr", "reconstruction_report", "wrong_pixels"]

PEAK = 1.0  # the largest pixel value: PSNR's peak
TOLERANCE = 0.1  # a pixel within this of its target counts as right, in the grey-level share


def psnr(mse: float, peak: float = PEAK) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(peak ** 2 / mse)``; ``inf`` for an ``mse`` of 0.

    Examples
    --------
    >>> psnr(0.01), psnr(0.0)
    (20.0, inf)
    """
    if mse < 0 or not math.isfinite(mse):
        raise ParameterError(f"mse must be a finite number >= 0, got {mse!r}")
    return math.inf if mse == 0 else 10.0 * math.log10(peak ** 2 / mse)


@dataclass(frozen=True)
class GreyLevels:
    """Grey-level figures over every pixel of a set: mean squared error, PSNR and the share within a tolerance.

    Attributes
    ----------
    mse : float
        ``mean((x - x_hat) ** 2)`` over items and pixels.
    within_tolerance : float
        The share of pixels with ``|x - x_hat| <= tolerance``, in [0, 1].
    tolerance : float
    psnr : float
        ``10 log10(1 / mse)`` dB (peak :data:`PEAK` = 1.0); ``inf`` when ``mse`` is 0.
    """

    mse: float
    within_tolerance: float
    tolerance: float

    @property
    def psnr(self) -> float:
        return psnr(self.mse)

    def to_dict(self) -> dict:
        """JSON keys: ``mse``, ``psnr`` (null when infinite: an MSE of 0), ``tolerance``, ``within_tolerance``."""
        value = self.psnr
        return {"mse": self.mse, "psnr": value if math.isfinite(value) else None, "tolerance": self.tolerance,
                "within_tolerance": self.within_tolerance}


def _check_tolerance(tolerance) -> float:
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < math.inf:
        raise ParameterError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    return float(tolerance)


def _compare(model, X, T, tolerance: float) -> tuple[np.ndarray, GreyLevels]:
    """Wrong pixels per item and the grey-level figures, reconstructing a chunk of rows at a time."""
    X = np.asarray(titled_array(X)[0], dtype=float)
    T = X if T is None else np.asarray(titled_array(T)[0], dtype=float)
    if T.shape != X.shape:
        raise ParameterError(f"T has shape {T.shape}, but X has shape {X.shape}")
    tolerance = _check_tolerance(tolerance)
    wrong = np.zeros(len(X), dtype=np.int64)
    squared, within = 0.0, 0
    rows = chunk_rows(8 * 4 * X.shape[1] + 8 * sum(getattr(model, "layer_sizes_", [])))
    for start in range(0, len(X), rows):
        t = T[start:start + rows]
        y = np.asarray(model.reconstruct(X[start:start + rows]), dtype=float)
        wrong[start:start + rows] = ((y > 0.5) != (t > 0.5)).sum(axis=1)
        diff = np.abs(y - t)
        squared += float(np.vdot(diff, diff))
        within += int(np.count_nonzero(diff <= tolerance))
    n = max(1, X.size)
    return wrong, GreyLevels(squared / n, within / n, tolerance)


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
    return _compare(model, X, T, TOLERANCE)[0]


def grey_levels(model, X, T=None, tolerance: float = TOLERANCE) -> tuple[np.ndarray, GreyLevels]:
    """Wrong pixels per item (as :func:`wrong_pixels`) and the grey-level figures (:class:`GreyLevels`)."""
    return _compare(model, X, T, tolerance)


@dataclass(frozen=True)
class ReconstructionReport:
    """How well a model reconstructs a bitmap set.

    Attributes
    ----------
    names : tuple of str
    wrong_pixels : tuple of int
        Per item, pixels that differ after thresholding at 0.5.
    grey : GreyLevels, optional
        The mean squared error, PSNR and share of pixels within a tolerance.
    perfect : int
        Items with no wrong pixel.
    within_one : int
        Items with at most one wrong pixel.
    """

    names: tuple[str, ...]
    wrong_pixels: tuple[int, ...]
    grey: GreyLevels | None = None

    @property
    def perfect(self) -> int:
        return sum(w == 0 for w in self.wrong_pixels)

    @property
    def within_one(self) -> int:
        return sum(w <= 1 for w in self.wrong_pixels)

    def to_dict(self) -> dict:
        """``items``, ``perfect``, ``within_one`` and the keys of :meth:`GreyLevels.to_dict`."""
        return {
            "items": [{"name": n, "wrong_pixels": w} for n, w in zip(self.names, self.wrong_pixels)],
            "perfect": self.perfect,
            "within_one": self.within_one,
            **({} if self.grey is None else self.grey.to_dict()),
        }


def reconstruction_report(model, bitmaps: BitmapSet, tolerance: float = TOLERANCE) -> ReconstructionReport:
    """Wrong pixels of every item of ``bitmaps`` (see :func:`wrong_pixels`) and the grey-level figures.

    Parameters
    ----------
    model : fitted Autoencoder or VariationalAutoencoder
    bitmaps : BitmapSet
    tolerance : float
        A pixel within this of its target counts in ``grey.within_tolerance``
        (default :data:`TOLERANCE`, 0.1).

    Examples
    --------
    >>> from genval import Autoencoder, load_dataset
    >>> font = load_dataset("font")
    >>> report = reconstruction_report(Autoencoder(stop_wrong_pixels=0).fit(font.X), font)
    >>> report.perfect
    32
    >>> report.grey.mse < 0.02, report.grey.psnr > 17, report.grey.tolerance
    (True, True, 0.1)
    """
    wrong, grey = _compare(model, bitmaps.X, None, tolerance)
    return ReconstructionReport(bitmaps.names, tuple(int(w) for w in wrong), grey)
