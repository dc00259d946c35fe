"""How well a denoising autoencoder restores noisy bitmaps, against the best possible.

For each noise level, :func:`denoise_report` corrupts ``trials`` copies of
every item, reconstructs them and counts the copies restored exactly and
within one wrong pixel. Beside it stands the bound: the best any denoiser
can do on that set, decoding each noisy copy to its nearest training item by
Hamming distance (ties shared evenly, as a fair coin among the tied items
would). The report keeps a few of the scored copies, the data of a picture
(:func:`genval.plotting.plot_denoising`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from genval._estimator import resolve_rng
from genval.autoencoder import Autoencoder
from genval.bitmaps import BitmapSet
from genval.errors import ParameterError
from genval.noise import make_noise

__all__ = ["DENOISER", "DenoiseExamples", "DenoiseReport", "DenoiseResult", "denoise_report", "make_denoiser"]

# A denoiser that comes within a few points of the bound on the font in seconds:
# wide ReLU layers, an 8-D code, trained on four levels at once with 8 noisy copies each.
DENOISER = dict(hidden=(128, 64), n_latent=8, activation="relu", noise_levels=(0.0, 0.1, 0.15, 0.2), noise_copies=8,
                epochs=4000)


def make_denoiser(noise: str = "flip", noise_levels: Sequence[float] | None = None, epochs: int | None = None,
                  random_state=0) -> Autoencoder:
    """The standard denoiser (:data:`DENOISER`), unfitted, with the given settings.

    Parameters
    ----------
    noise : {"flip", "gaussian"}
        The noise it trains on.
    noise_levels : sequence of float, optional
        The levels it trains on, all at once; default ``DENOISER["noise_levels"]``.
    epochs : int, optional
        Default ``DENOISER["epochs"]``.
    random_state : int, numpy Generator or None

    Examples
    --------
    >>> model = make_denoiser(noise_levels=(0.0, 0.1), epochs=100)
    >>> model.hidden, model.n_latent, model.noise_levels, model.epochs
    ((128, 64), 8, (0.0, 0.1), 100)
    """
    settings = dict(DENOISER, noise=noise, random_state=random_state)
    if noise_levels is not None:
        settings["noise_levels"] = tuple(noise_levels)
    if epochs is not None:
        settings["epochs"] = epochs
    return Autoencoder(**settings)


@dataclass(frozen=True)
class DenoiseResult:
    """Restoration at one noise level; fractions of ``samples`` noisy copies."""

    level: float
    samples: int
    restored: float
    within_one: float
    bound_restored: float
    bound_within_one: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class DenoiseExamples:
    """The first noisy copy of the first items at every level, as scored.

    Attributes
    ----------
    names : tuple of str (k,)
    clean : ndarray (k, n_pixels)
    noisy : ndarray (n_levels, k, n_pixels)
        The copies the report scored.
    restored : ndarray (n_levels, k, n_pixels)
        The model's reconstructions of them, pixel values in [0, 1].
    """

    names: tuple[str, ...]
    clean: np.ndarray
    noisy: np.ndarray
    restored: np.ndarray


@dataclass(frozen=True, eq=False)
class DenoiseReport:
    """Per level restoration (:class:`DenoiseResult`) and the copies to draw.

    It is the sequence of its results: ``low, high = denoise_report(...)``.
    """

    results: tuple[DenoiseResult, ...]
    examples: DenoiseExamples

    def __iter__(self):
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, i: int) -> DenoiseResult:
        return self.results[i]

    def to_dict(self) -> dict:
        return {"levels": [r.to_dict() for r in self.results]}


def _bound(noisy: np.ndarray, truth: np.ndarray, training: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: P(exact) and P(within one) of the nearest-item decoder with random tie-breaks."""
    a = noisy.astype(np.float32)
    t = training.astype(np.float32)
    dist = a.sum(axis=1, keepdims=True) + t.sum(axis=1)[None, :] - 2.0 * (a @ t.T)
    tied = np.isclose(dist, dist.min(axis=1, keepdims=True))
    share = tied / tied.sum(axis=1, keepdims=True)  # (samples, items)
    item_gap = (training[:, None, :] != training[None, :, :]).sum(axis=2)  # (items, items)
    exact = share[np.arange(len(truth)), truth]
    within = (share * (item_gap[truth] <= 1)).sum(axis=1)
    return exact, within


def denoise_report(model: Autoencoder, bitmaps: BitmapSet, levels: Sequence[float], noise: str = "flip",
                   trials: int = 200, random_state=0, examples: int = 12) -> DenoiseReport:
    """Restoration of noisy copies of every item, and the nearest-item bound, per level.

    Parameters
    ----------
    model : fitted Autoencoder
        Usually trained with ``noise_levels``.
    bitmaps : BitmapSet
        The clean items (binary sets; pixels are thresholded at 0.5).
    levels : sequence of float
        Bit-flip probabilities (``noise="flip"``) or standard deviations
        (``"gaussian"``), each in [0, 1].
    noise : {"flip", "gaussian"}
    trials : int
        Noisy copies of every item per level.
    random_state : int, numpy Generator or None
    examples : int
        How many items (the first ones) the report keeps a scored copy of.

    Returns
    -------
    DenoiseReport
        One :class:`DenoiseResult` per level, and :class:`DenoiseExamples`.

    Raises
    ------
    ParameterError
        For ``trials < 1`` or a level outside [0, 1].

    Examples
    --------
    Flipping every pixel turns each item into its negative:

    >>> from genval import Autoencoder, BitmapSet
    >>> items = BitmapSet(["a", "b"], [[1, 1, 0, 0], [1, 0, 1, 0]], (2, 2))
    >>> model = Autoencoder(hidden=(4,), epochs=20).fit(items.X)
    >>> report = denoise_report(model, items, [1.0], trials=3)
    >>> report[0].samples, report[0].bound_restored
    (6, 0.0)
    >>> report.examples.noisy[0].tolist()
    [[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]]
    """
    if trials < 1:
        raise ParameterError(f"trials must be at least 1, got {trials}")
    bad = [level for level in levels if not 0 <= level <= 1]
    if bad:
        raise ParameterError(f"noise levels must be in [0, 1], got {bad[0]}")
    noise_fn = make_noise(noise)
    rng = resolve_rng(random_state)
    training = bitmaps.binary()
    truth = np.tile(np.arange(len(bitmaps)), trials)
    clean = bitmaps.X[truth]
    shown = min(examples, len(bitmaps))  # the first copy of each of the first items: rows 0..shown-1
    results, noisy_shown, restored_shown = [], [], []
    for level in levels:
        noisy = noise_fn(clean, level, rng)
        restored = model.reconstruct(noisy)
        wrong = ((restored > 0.5) != training[truth]).sum(axis=1)
        exact, within = _bound(noisy > 0.5, truth, training)
        results.append(DenoiseResult(float(level), len(truth), float((wrong == 0).mean()),
                                     float((wrong <= 1).mean()), float(exact.mean()), float(within.mean())))
        noisy_shown.append(noisy[:shown])
        restored_shown.append(restored[:shown])
    p = bitmaps.n_features
    shown_examples = DenoiseExamples(tuple(bitmaps.names[:shown]), bitmaps.X[:shown],
                                     np.array(noisy_shown).reshape(len(levels), shown, p),
                                     np.array(restored_shown).reshape(len(levels), shown, p))
    return DenoiseReport(tuple(results), shown_examples)
