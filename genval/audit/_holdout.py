"""Memorisation against held-out data: is a generator closer to the items it learned than to new real ones?

A copy of a training item is plain to see; a generator that reproduces its
training items with a few pixels changed is not, and neither is one that is
merely as close to them as any real item would be. Held-out items (real items
the generator never saw) set the reference: a generator as novel as new real
data sits as close to the training items as they do. For samples ``G``,
training items ``T`` and held-out items ``H``, with Hamming distances between
bitmaps thresholded at 0.5 (as every pixel figure of the samples audit) and
``d(x, S)`` the distance from ``x`` to its nearest item of ``S``:

near-copy rate at a threshold calibrated on held-out items
    ``tau`` is the ``q``-quantile (default :data:`HOLDOUT_QUANTILE`, the
    inverted-CDF one: the smallest distance ``d`` with at least ``q`` of the
    held-out items at ``d(h, T) <= d``) of the held-out items' nearest-training
    distances, so about ``q`` of genuinely new real items are within ``tau`` of
    a training item. The report gives the share of samples with
    ``d(g, T) <= tau`` beside the share of held-out items (at least ``q``;
    more when distances tie): a generator as novel as new real data gives
    about the same rate; a memorising one, more.
authenticity (Alaa et al. 2022, "How faithful is your synthetic data?",
    section 3.3; as ``AuthPct`` in the FLD code, marcojira/fld)
    A sample is inauthentic when its nearest training item ``t`` is closer to
    it than ``t`` is to its own nearest other training item: ``d(g, t) <=
    r1(t)``, where a duplicate of ``t`` counts at distance 0 (ties count as
    inauthentic, as :func:`genval.checks.membership_metrics` does; ``t`` the
    first nearest item on ties). The authentic share of the samples stands
    beside that of the held-out items, the value for new real data. A copy of
    a training item is never authentic.
the train-versus-held-out gap of nearest distances (the distance to closest
    record, DCR, of SDMetrics' ``DCROverfittingProtection``, and the train/test
    comparison of Jiralerspong et al. 2023, "Feature Likelihood Divergence")
    The median and quantiles of the samples' distances to the nearest training
    item ``d(g, T)`` beside the held-out items' ``d(h, T)`` (the same reference
    set, so their gap needs no size correction; positive when the samples sit
    closer to the training items than new real items do) and the samples'
    ``d(g, H)``. Then the share of samples closer to the training items than
    to the held-out items (a tie counts one half; SDMetrics counts ties as not
    closer) on sets of equal size, since a larger set is closer to everything
    by its size alone: the larger of ``T`` and ``H`` is cut to the size of the
    smaller, and the share is the exact expectation over every such subset
    (no seed): for ``N > m``, with ``c`` training items nearer than ``d(g, H)``
    and ``e`` at it, ``P(closer) = 1 - C(N - c, m) / C(N, m)`` and
    ``P(tie) = (C(N - c, m) - C(N - c - e, m)) / C(N, m)``. 0.5 when the
    generator treats items it saw and items it did not alike, towards 1 when
    it memorises. Copies of training items score 1 at equal sizes (a held-out
    fraction of one half); with ``m`` of ``N`` training items, at least
    ``m / N`` (the copied item is in the subset), less than 1.

Every figure gets a 95% percentile interval from resampling the samples and
the held-out items (with replacement, independently; ``tau`` recalibrated on
each resample of the held-out items). The share closer to training and the
samples' distances to the held-out items are resampled over the samples
only, given the held-out set: the draw of that set adds variance the
interval does not show, most for a generator with few modes (the share then
rests on which real items happen to lie near them).

Cost: the samples and the held-out items against every training item (the
nearest one; the counts within ``d(g, H)``), and the training items that are
someone's nearest against every other, in float32 blocks within the memory
budget: 10,000 samples and held-out items against 60,000 28x28 items take
about a minute of CPU.

Controls (tests/test_audit_holdout.py): fresh real items given as samples
give a rate near ``q``, an authentic share near the held-out one and a share
closer to training near 0.5; training items given as samples give
authenticity 0 and share 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scipy.special import gammaln

from genval._utils.budget import check_allocation, chunk_rows, nearest_bitmaps
from genval._utils.files import resolve_rng
from genval.audit._bootstrap import N_RESAMPLES, percentile_intervals
from genval.audit._neighbours import count_within, nearest_other_distance
from genval.data._bitmap_set import BitmapSet
from genval.errors import ParameterError, ShapeMismatchError

__all__ = ["HOLDOUT_QUANTILE", "Memorisation", "holdout_split", "memorisation"]

HOLDOUT_QUANTILE = 0.05  # the share of new real items the calibrated near-copy threshold calls near-copies
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
DEFINITIONS = {
    "metric": "Hamming distance between bitmaps thresholded at 0.5",
    "threshold": "the q-quantile (inverted CDF) of the held-out items' distances to their nearest training item",
    "near_copies": "items within the threshold of their nearest training item (distance <= threshold)",
    "authentic": "items farther from their nearest training item than that item is from its own nearest other "
                 "training item (Alaa et al. 2022; a duplicate counts at distance 0)",
    "closer_to_training": "share of samples nearer the training items than the held-out items on sets of equal "
                          "size (the expectation over every subset of the larger set of the smaller's size), a tie "
                          "counting one half: 0.5 when the generator treats items it saw and items it did not alike, "
                          "towards 1 when it memorises",
    "median_gap": "the held-out items' median distance to the nearest training item minus the samples': positive "
                  "when the samples sit closer to the training items than new real items do",
    "matched": "the larger of the training and held-out sets cut to the size of the smaller, every subset alike "
               "(an exact expectation, no seed); copies of training items score 1 at equal sizes, at least m/N "
               "with m of N training items",
    "intervals": "95% percentile intervals over resamples (with replacement) of the samples and, independently, of "
                 "the held-out items, the threshold recalibrated on each; the share closer to training and the "
                 "samples' distances to held-out items over the samples only, given the held-out set",
}


def holdout_split(bitmaps: BitmapSet, fraction: float, random_state=0) -> tuple[BitmapSet, BitmapSet]:
    """Split a set into training and held-out items: ``round(fraction * n)`` items, drawn without replacement.

    The held-out items are the first of a permutation drawn by
    ``numpy.random.default_rng(random_state)``; both parts keep the set's order.
    The split only tells memorisation apart when the generator was trained on
    the training part alone: train it on the same split.

    Parameters
    ----------
    bitmaps : BitmapSet
    fraction : float
        In (0, 1); at least one item on each side.
    random_state : int, numpy Generator or None

    Returns
    -------
    training, holdout : BitmapSet

    Examples
    --------
    >>> from genval import load_dataset
    >>> training, holdout = holdout_split(load_dataset("digits"), 0.2, random_state=0)
    >>> len(training), len(holdout)
    (1438, 359)
    """
    n = len(bitmaps)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.floating)) or not 0 < fraction < 1:
        raise ParameterError(f"the held-out fraction must be a number between 0 and 1, got {fraction!r}")
    m = int(round(fraction * n))
    if not 1 <= m <= n - 1:
        raise ParameterError(f"a held-out fraction of {fraction:g} of {n} items leaves "
                             f"{'no held-out item' if m < 1 else 'no training item'}; expected at least one of each")
    held = np.zeros(n, dtype=bool)
    held[resolve_rng(random_state).permutation(n)[:m]] = True
    return bitmaps.subset(np.flatnonzero(~held).tolist()), bitmaps.subset(np.flatnonzero(held).tolist())


def _order_statistic(values: np.ndarray, q: float) -> np.ndarray:
    """Each row's inverted-CDF ``q``-quantile: its ``ceil(q * m)``-th smallest value (the first, at least)."""
    m = values.shape[1]
    j = min(m, max(1, int(np.ceil(q * m - 1e-9)))) - 1  # q * m = 3.0000000000000004 is the 3rd, not the 4th
    return np.partition(values, j, axis=1)[:, j]


def _figures(dT, dH, authentic, item_authentic, closer, dG, q: float, g: np.ndarray,
             h: np.ndarray) -> dict[str, np.ndarray]:
    """Every figure for samples ``g`` (b, n) and held-out items ``h`` (b, m) given as rows of indices."""
    tau = _order_statistic(dH[h], q)
    figures = {"threshold": tau.astype(np.float64),
               "near_copy_rate": (dT[g] <= tau[:, None]).mean(axis=1),
               "holdout_near_copy_rate": (dH[h] <= tau[:, None]).mean(axis=1),
               "authenticity": authentic[g].mean(axis=1),
               "holdout_authenticity": item_authentic[h].mean(axis=1),
               "closer_to_training": closer[g].mean(axis=1),
               "median_to_training": _order_statistic(dT[g], 0.5).astype(np.float64),
               "median_to_holdout": _order_statistic(dG[g], 0.5).astype(np.float64),
               "holdout_median_to_training": _order_statistic(dH[h], 0.5).astype(np.float64)}
    figures["near_copy_excess"] = figures["near_copy_rate"] - figures["holdout_near_copy_rate"]
    figures["authenticity_gap"] = figures["authenticity"] - figures["holdout_authenticity"]
    figures["median_gap"] = figures["holdout_median_to_training"] - figures["median_to_training"]
    return figures


@dataclass(frozen=True, eq=False)
class Memorisation:
    """What held-out items say about the samples' closeness to the training items (see the module's definitions).

    Attributes
    ----------
    train_distance, holdout_distance : ndarray of int (n,)
        Each sample's Hamming distance to its nearest training item and to its nearest held-out item.
    authentic : ndarray of bool (n,)
        Each sample's authenticity (Alaa et al. 2022).
    closer : ndarray of float (n,)
        Each sample's chance of being nearer the training items than the held-out items on sets of equal size
        (a tie counting one half), over every subset of the larger set of the smaller's size.
    item_distance, item_authentic : ndarray (m,)
        Each held-out item's distance to its nearest training item, and its authenticity.
    figures : dict
        Each figure's value and 95% percentile interval (``n_resamples`` resamples; none for 0).
    """

    quantile: float
    threshold: int
    train_distance: np.ndarray
    holdout_distance: np.ndarray
    authentic: np.ndarray
    closer: np.ndarray
    item_distance: np.ndarray
    item_authentic: np.ndarray
    n_training: int
    n_matched: int
    subsampled: str | None
    source: str | None
    split: dict | None
    n_resamples: int
    seed: int | str | None
    figures: dict

    def to_dict(self) -> dict:
        """The figures as JSON, with their definitions, the sets' sizes and the distances' quantiles."""
        n, m = len(self.train_distance), len(self.item_distance)
        quantiles = {name: {f"q{int(100 * q):02d}": int(np.quantile(d, q, method="inverted_cdf")) for q in QUANTILES}
                     for name, d in (("samples_to_training", self.train_distance),
                                     ("samples_to_holdout", self.holdout_distance),
                                     ("holdout_to_training", self.item_distance))}
        return {"source": self.source, "split": self.split, "n_samples": n, "n_holdout": m,
                "n_training": self.n_training, "metric": DEFINITIONS["metric"],
                "quantile": self.quantile, "threshold": int(self.threshold),
                "matched": {"n": self.n_matched, "subsampled": self.subsampled, "definition": DEFINITIONS["matched"]},
                "distances": quantiles,
                "definitions": {name: DEFINITIONS[name] for name in
                                ("threshold", "near_copies", "authentic", "closer_to_training", "median_gap",
                                 "intervals")},
                "n_resamples": self.n_resamples, "seed": self.seed, "figures": self.figures}


def memorisation(samples: np.ndarray, training: BitmapSet, holdout: BitmapSet, *, quantile: float = HOLDOUT_QUANTILE,
                 n_resamples: int = N_RESAMPLES, random_state=0, source: str | None = None, split: dict | None = None,
                 nearest: tuple[np.ndarray, np.ndarray] | None = None) -> Memorisation:
    """Measure the samples against training and held-out items: calibrated near-copies, authenticity, nearest gap.

    Parameters
    ----------
    samples : ndarray of bool (n, p)
        The samples' bitmaps (thresholded at 0.5).
    training, holdout : BitmapSet
        The items the generator learned and real items it never saw, of one shape; at least 2 training items.
    quantile : float
        In (0, 1): the share of held-out items the calibrated threshold calls near-copies (5%: a low quantile,
        so a near-copy is as close as only the closest few new real items come).
    n_resamples : int
        Resamples of the bootstrap (0: no intervals).
    random_state : int, numpy Generator or None
        Draws the resamples.
    source : str, optional
        The held-out items' file; ``split`` describes a split made by :func:`holdout_split`.
    nearest : (ndarray, ndarray), optional
        The samples' nearest training items and distances, when already known (``nearest_bitmaps(samples, T)``).

    Returns
    -------
    Memorisation

    Examples
    --------
    >>> from genval import load_dataset
    >>> digits = load_dataset("digits")
    >>> training, holdout = digits.subset(range(800)), digits.subset(range(800, 1600))
    >>> copies = memorisation(training.binary()[:50], training, holdout, n_resamples=0).figures
    >>> copies["authenticity"]["value"], copies["closer_to_training"]["value"], copies["near_copy_rate"]["value"]
    (0.0, 1.0, 1.0)
    >>> fresh = memorisation(digits.binary()[1600:], training, holdout, n_resamples=0).figures  # new real items
    >>> round(fresh["near_copy_rate"]["value"], 3), round(fresh["holdout_near_copy_rate"]["value"], 3)
    (0.112, 0.083)
    >>> round(fresh["authenticity"]["value"], 3), round(fresh["holdout_authenticity"]["value"], 3)
    (0.584, 0.598)
    >>> round(fresh["closer_to_training"]["value"], 3)
    0.528
    """
    G = np.asarray(samples, dtype=bool)
    T, H = training.binary(), holdout.binary()
    n, m = len(G), len(H)
    _check(G, training, holdout, quantile, n_resamples)
    to_train, train_distance = nearest if nearest is not None else nearest_bitmaps(G, T)
    holdout_distance = nearest_bitmaps(G, H)[1]
    item_nearest, item_distance = nearest_bitmaps(H, T)
    r1 = nearest_other_distance(T, np.concatenate([to_train, item_nearest]))
    authentic, item_authentic = train_distance > r1[:n], item_distance > r1[n:]
    rng = resolve_rng(random_state)
    size, subsampled = min(len(T), m), None if len(T) == m else "training" if len(T) > m else "holdout"
    closer = _closer(G, T, H, train_distance, holdout_distance)
    arrays = (train_distance, item_distance, authentic.astype(np.float64), item_authentic.astype(np.float64),
              closer, holdout_distance)
    observed = {name: float(v[0]) for name, v in
                _figures(*arrays, quantile, np.arange(n)[None, :], np.arange(m)[None, :]).items()}
    values = {name: [] for name in observed}
    rows = chunk_rows(8 * 6 * (n + m))
    for start in range(0, n_resamples, rows):
        b = min(rows, n_resamples - start)
        for name, v in _figures(*arrays, quantile, rng.integers(n, size=(b, n)), rng.integers(m, size=(b, m))).items():
            values[name].append(v)
    return Memorisation(
        quantile=float(quantile), threshold=int(observed["threshold"]), train_distance=train_distance,
        holdout_distance=holdout_distance, authentic=authentic, closer=closer, item_distance=item_distance,
        item_authentic=item_authentic, n_training=len(T), n_matched=size, subsampled=subsampled, source=source,
        split=split, n_resamples=int(n_resamples),
        seed=random_state if isinstance(random_state, (int, type(None))) else "generator",
        figures=percentile_intervals(values, observed))


def _check(G: np.ndarray, training: BitmapSet, holdout: BitmapSet, quantile, n_resamples) -> None:
    """Refuse mismatched shapes, too few items and bad settings; check the work fits the memory budget."""
    n, m, p = len(G), len(holdout), training.n_features
    if tuple(holdout.shape) != tuple(training.shape) or G.ndim != 2 or G.shape[1] != p:
        raise ShapeMismatchError(f"the held-out items are {holdout.shape[0]}x{holdout.shape[1]} bitmaps and the "
                                 f"samples rows of {G.shape[1:]} pixels; the training set is "
                                 f"{training.shape[0]}x{training.shape[1]}: expected one shape for all three")
    if len(training) < 2 or m < 1 or n < 1:
        raise ParameterError(f"memorisation against held-out items needs at least 2 training items, 1 held-out "
                             f"item and 1 sample, got {len(training)}, {m} and {n}")
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float, np.floating)) or not 0 < quantile < 1:
        raise ParameterError(f"the held-out quantile must be a number between 0 and 1, got {quantile!r}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 0:
        raise ParameterError(f"n_resamples must be a whole number of at least 0, got {n_resamples!r}")
    check_allocation((n + m) * (2 * p + 96), f"memorisation of {n:,} samples against {m:,} held-out items")



def _closer(G: np.ndarray, T: np.ndarray, H: np.ndarray, dT: np.ndarray, dH: np.ndarray) -> np.ndarray:
    """Each sample's chance of being nearer ``T`` than ``H``, a tie counting one half, with the larger set cut to
    the smaller's size: the exact expectation over every such subset (the module's formula)."""
    N, m = len(T), len(H)
    if N == m:
        return 0.5 * (np.sign(dH - dT) + 1)
    if N > m:  # training items nearer than the nearest held-out item, and at its distance
        below, at = count_within(G, T, dH)
        none_below, none = _kept(N - below, m, N), _kept(N - below - at, m, N)
        return 1 - none_below + 0.5 * (none_below - none)
    below, at = count_within(G, H, dT)  # held-out items nearer than the nearest training item, and at it
    none_below, none = _kept(m - below, N, m), _kept(m - below - at, N, m)
    return none + 0.5 * (none_below - none)


def _kept(a: np.ndarray, k: int, n: int) -> np.ndarray:
    """``C(a, k) / C(n, k)``: the chance that ``k`` of ``n`` items drawn without replacement all come from ``a``."""
    a = np.asarray(a, dtype=np.float64)
    ok = a >= k
    safe = np.where(ok, a, k)
    return np.where(ok, np.exp(gammaln(safe + 1) - gammaln(safe - k + 1) - gammaln(n + 1) + gammaln(n - k + 1)), 0.0)
