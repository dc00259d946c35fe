"""How well a denoising autoencoder restores noisy bitmaps, against the best possible.

For each noise level, :func:`denoise_report` corrupts ``trials`` copies of
every item, reconstructs them and counts the copies restored exactly and
within one wrong pixel, and the grey-level figures of the restored copies
against the clean items: mean squared error, PSNR (peak 1.0) and the share of
pixels within a tolerance (:mod:`genval.models._reconstruction`), beside the
noisy copies' own mean squared error. Beside it stands the bound: the best any denoiser
can do on that set, decoding each noisy copy to its nearest training item by
Hamming distance (ties shared evenly, as a fair coin among the tied items
would). The copies are drawn and scored a chunk at a time (the memory
budget of :mod:`genval._utils.budget` sizes the chunks), so any number of trials
runs in bounded memory. The report keeps a few of the scored copies, the
data of a picture (:func:`genval.plotting.plot_denoising`).

:func:`cached_denoiser` trains the standard denoiser (:data:`DENOISER`) once
per set and settings and keeps it in genval's cache (:mod:`genval.models._cache`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from genval._utils.budget import chunk_rows, dedupe_rows
from genval._utils.files import resolve_rng
from genval.models._autoencoder import Autoencoder
from genval.data._bitmap_set import BitmapSet
from genval.models._cache import cached_model
from genval.models._reconstruction import TOLERANCE, GreyLevels
from genval.errors import ParameterError, ShapeMismatchError
from genval.data._noise import make_noise

__all__ = ["DENOISER", "DenoiseExamples", "DenoiseReport", "DenoiseResult", "cached_denoiser", "denoise_report",
           "make_denoiser"]

# A denoiser that comes within a few points of the bound on the font: wide ReLU layers, an
# 8-D code, trained on four levels at once with 8 noisy copies each (1,024 rows an epoch).
# Its 4,000 epochs took 13 s on a quiet 2-core machine; genval denoise caches it.
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


def cached_denoiser(bitmaps: BitmapSet, noise: str = "flip", noise_levels: Sequence[float] | None = None,
                    epochs: int | None = None, random_state: int = 0,
                    progress: Callable[[int, float], None] | None = None,
                    on_train: Callable[[Path, Autoencoder], None] | None = None) -> tuple[Autoencoder, bool]:
    """The standard denoiser trained on ``bitmaps``, from genval's cache or trained and cached now.

    The cache entry is keyed by the set and every parameter of
    :func:`make_denoiser`'s model (noise, training levels, epochs, seed and
    the architecture); see :func:`genval.models.cached_model` for the checks
    an entry must pass.

    Parameters
    ----------
    bitmaps : BitmapSet
    noise, noise_levels, epochs
        As :func:`make_denoiser`.
    random_state : int
        An integer seed: it names the cache entry.
    progress : callable, optional
        ``progress(epochs_done, loss)`` while training.
    on_train : callable, optional
        ``on_train(path, model)`` just before training (never when cached).

    Returns
    -------
    model : Autoencoder
    cached : bool
        True when it came from the cache (no training happened).

    Raises
    ------
    ParameterError
        For a ``random_state`` that is not an integer.

    Examples
    --------
    >>> import os, tempfile
    >>> from unittest import mock
    >>> from genval import load_dataset
    >>> with mock.patch.dict(os.environ, GENVAL_CACHE=tempfile.mkdtemp()):  # a fresh cache folder
    ...     first = cached_denoiser(load_dataset("emojis"), epochs=3)[1]
    ...     again = cached_denoiser(load_dataset("emojis"), epochs=3)[1]
    >>> first, again
    (False, True)
    """
    if not isinstance(random_state, numbers.Integral) or isinstance(random_state, bool):
        raise ParameterError(f"a cached denoiser needs an integer random_state (it names the cache entry), "
                             f"got {random_state!r}")
    random_state = int(random_state)

    def make() -> Autoencoder:
        return make_denoiser(noise, noise_levels, epochs, random_state)

    return cached_model(bitmaps, "denoiser", make().get_params(), make, progress=progress, on_train=on_train)


@dataclass(frozen=True)
class DenoiseResult:
    """Restoration at one noise level; fractions of ``samples`` noisy copies.

    Attributes
    ----------
    level : float
    samples : int
    restored, within_one : float
        Copies restored exactly, and within one wrong pixel (thresholded at 0.5).
    bound_restored, bound_within_one : float
        The same for the nearest-item decoder, the best any denoiser can do.
    mse : float
        Mean squared error of the restored copies against the clean items, over every pixel.
    within_tolerance : float
        The share of restored pixels within ``tolerance`` of the clean pixel.
    tolerance : float
    noisy_mse : float
        Mean squared error of the noisy copies themselves: what restoring improves on.
    psnr : float
        ``10 log10(1 / mse)`` dB (peak 1.0), ``inf`` for an ``mse`` of 0 (null in JSON).
    """

    level: float
    samples: int
    restored: float
    within_one: float
    bound_restored: float
    bound_within_one: float
    mse: float = math.nan
    within_tolerance: float = math.nan
    tolerance: float = TOLERANCE
    noisy_mse: float = math.nan

    @property
    def psnr(self) -> float:
        return GreyLevels(self.mse, self.within_tolerance, self.tolerance).psnr

    def to_dict(self) -> dict:
        """Every field, and ``psnr`` (null when infinite)."""
        value = self.psnr
        return asdict(self) | {"psnr": value if math.isfinite(value) else None}


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


def _bound(noisy: np.ndarray, truth: np.ndarray, training: np.ndarray,
           ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: P(exact) and P(within one) of the nearest-item decoder with random tie-breaks.

    ``noisy`` (rows, p) bool, ``truth`` (rows,) item indices, ``training``
    (items, p) float32 0/1 and ``ink`` its row sums. Distances are integer
    counts, exact in float32; each distinct noisy row and each item present
    is compared once.
    """
    first, inverse = dedupe_rows(noisy)
    a = noisy[first].astype(np.float32)
    dist = a @ training.T
    dist *= -2.0
    dist += a.sum(axis=1, keepdims=True)
    dist += ink[None, :]
    tied = dist == dist.min(axis=1, keepdims=True)
    share = tied / tied.sum(axis=1, keepdims=True)  # (distinct rows, items)
    items, where = np.unique(truth, return_inverse=True)
    gap = training[items] @ training.T  # (items here, items): pixels the true item and each item differ by
    gap *= -2.0
    gap += ink[items, None]
    gap += ink[None, :]
    exact = share[inverse, truth]
    within = np.einsum("ij,ij->i", share[inverse], gap[where] <= 1)
    return exact, within


def denoise_report(model: Autoencoder, bitmaps: BitmapSet, levels: Sequence[float], noise: str = "flip",
                   trials: int = 200, random_state=0, examples: int = 12,
                   progress: Callable[[int, int], None] | None = None, tolerance: float = TOLERANCE) -> DenoiseReport:
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
        Noisy copies of every item per level. Any number: copies are drawn
        and scored in chunks sized by the memory budget (the random stream,
        hence the result, does not depend on the chunk size).
    random_state : int, numpy Generator or None
    examples : int
        How many items (the first ones) the report keeps a scored copy of.
    progress : callable, optional
        ``progress(copies_scored, copies_in_all)`` after every chunk.
    tolerance : float
        A restored pixel within this of the clean one counts in
        ``within_tolerance`` (default 0.1).

    Returns
    -------
    DenoiseReport
        One :class:`DenoiseResult` per level, and :class:`DenoiseExamples`.

    Raises
    ------
    ParameterError
        For ``trials < 1``, a level outside [0, 1] or a negative ``tolerance``.
    ShapeMismatchError
        For a model of another number of pixels than the set's.

    Examples
    --------
    Flipping every pixel turns each item into its negative:

    >>> from genval import Autoencoder, BitmapSet
    >>> items = BitmapSet(["a", "b"], [[1, 1, 0, 0], [1, 0, 1, 0]], (2, 2))
    >>> model = Autoencoder(hidden=(4,), epochs=20).fit(items.X)
    >>> report = denoise_report(model, items, [1.0], trials=3)
    >>> report[0].samples, report[0].bound_restored, report[0].noisy_mse
    (6, 0.0, 1.0)
    >>> report.examples.noisy[0].tolist()
    [[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]]
    """
    _check_inputs(model, bitmaps, levels, trials)
    if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) or not 0 <= tolerance < math.inf:
        raise ParameterError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    scorer = _Scorer(model, bitmaps, make_noise(noise), resolve_rng(random_state), int(trials), examples)
    scorer.tolerance = float(tolerance)
    total = scorer.total
    results = []
    for done_levels, level in enumerate(levels):
        results.append(scorer.score(level, progress, done_levels * total, len(levels) * total))
    return DenoiseReport(tuple(results), scorer.examples(len(levels)))


def _check_inputs(model: Autoencoder, bitmaps: BitmapSet, levels: Sequence[float], trials) -> None:
    if isinstance(trials, bool) or not isinstance(trials, numbers.Integral) or trials < 1:
        raise ParameterError(f"trials must be an integer of at least 1, got {trials!r}")
    bad = [level for level in levels if not 0 <= level <= 1]
    if bad:
        raise ParameterError(f"noise levels must be in [0, 1], got {bad[0]}")
    if model.n_features_in_ != bitmaps.n_features:
        raise ShapeMismatchError(f"the model expects {model.n_features_in_} pixels per item but "
                                 f"{bitmaps.title or 'the set'} has {bitmaps.n_features} "
                                 f"({bitmaps.shape[0]}x{bitmaps.shape[1]})")


class _Scorer:
    """Draws, restores and scores ``trials`` noisy copies of every item, a chunk at a time, level after level.

    Every level draws from the same generator in turn, so the levels' order is part of the result.
    """

    def __init__(self, model: Autoencoder, bitmaps: BitmapSet, noise_fn, rng: np.random.Generator, trials: int,
                 examples: int):
        self.model, self.bitmaps, self.noise_fn, self.rng = model, bitmaps, noise_fn, rng
        self.binary = bitmaps.binary()
        self.training = self.binary.astype(np.float32)
        self.ink = self.training.sum(axis=1)
        n, p = self.binary.shape
        self.total = trials * n
        # Working bytes per noisy copy: its pixels a few times over (clean, noisy, restored, masks, differences),
        # a row of
        # distances, ties, shares and item gaps, and the network's activations.
        self.rows = chunk_rows(8 * (7 * p + 4 * n + sum(model.layer_sizes_)))
        self.shown = min(examples, n)  # the first copy of each of the first items: rows 0..shown-1
        self.noisy_shown, self.restored_shown = [], []
        self.tolerance = TOLERANCE

    def score(self, level: float, progress: Callable[[int, int], None] | None, done_before: int,
              in_all: int) -> DenoiseResult:
        """One level's restoration and bound; ``progress(done_before + copies_scored, in_all)`` after every chunk."""
        n, total, shown = len(self.binary), self.total, self.shown
        exact = within = close = 0
        bound_exact = bound_within = squared = noisy_squared = 0.0
        for start in range(0, total, self.rows):
            truth = np.arange(start, min(total, start + self.rows)) % n
            # One draw per chunk, in row order: the same stream as one draw for every copy at once.
            noisy = self.noise_fn(self.bitmaps.X[truth], level, self.rng)
            restored = self.model.reconstruct(noisy)
            wrong = ((restored > 0.5) != self.binary[truth]).sum(axis=1)
            exact += int((wrong == 0).sum())
            within += int((wrong <= 1).sum())
            clean = self.bitmaps.X[truth]
            diff = np.subtract(restored, clean, dtype=np.float64)
            squared += float(np.vdot(diff, diff))
            close += int(np.count_nonzero(np.abs(diff, out=diff) <= self.tolerance))
            np.subtract(noisy, clean, out=diff, dtype=np.float64)
            noisy_squared += float(np.vdot(diff, diff))
            best_exact, best_within = _bound(noisy > 0.5, truth, self.training, self.ink)
            bound_exact += float(best_exact.sum())
            bound_within += float(best_within.sum())
            if start < shown:
                self.noisy_shown.append(noisy[:shown - start])
                self.restored_shown.append(restored[:shown - start])
            if progress is not None:
                progress(done_before + start + len(truth), in_all)
        pixels = total * self.binary.shape[1]
        return DenoiseResult(float(level), total, exact / total, within / total, bound_exact / total,
                             bound_within / total, squared / pixels, close / pixels, self.tolerance,
                             noisy_squared / pixels)

    def examples(self, n_levels: int) -> DenoiseExamples:
        """The kept copies of every level scored so far, in order: (levels, shown, pixels)."""
        shown, p = self.shown, self.binary.shape[1]

        def per_level(pieces):
            return np.concatenate(pieces).reshape(n_levels, shown, p) if pieces else np.zeros((0, shown, p))

        return DenoiseExamples(tuple(self.bitmaps.names[:shown]), self.bitmaps.X[:shown],
                               per_level(self.noisy_shown), per_level(self.restored_shown))
