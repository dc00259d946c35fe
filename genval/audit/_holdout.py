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
    Each sample's distance to the nearest training item against its distance
    to the nearest held-out item, on sets of equal size: the larger of ``T``
    and ``H`` is subsampled (seeded) to the size of the smaller, since a
    larger set is closer to everything by its size alone. The median and
    quantiles of both, and the share of samples closer to the training items
    (a tie counts one half; SDMetrics counts ties as not closer): 0.5 when
    the generator treats items it saw and items it did not alike, towards 1
    when it memorises. With a subsample of ``m`` of ``N`` training items, a
    copy of an item left out of it counts as new: copies of random training
    items score about ``(1 + m / N) / 2``, reaching 1 only at equal sizes
    (a held-out fraction of one half).

Every figure gets a 95% percentile interval from resampling the samples and
the held-out items (with replacement, independently; ``tau`` recalibrated on
each resample of the held-out items).

Controls (tests/test_audit_holdout.py): fresh real items given as samples
give a rate near ``q``, an authentic share near the held-out one and a share
closer to training near 0.5; training items given as samples give
authenticity 0 and share 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genval._utils.budget import check_allocation, chunk_rows, dedupe_rows, memory_budget, nearest_bitmaps
from genval._utils.files import resolve_rng
from genval.audit._bootstrap import N_RESAMPLES, percentile_intervals
from genval.data._bitmap_set import BitmapSet
from genval.errors import ParameterError, ShapeMismatchError

__all__ = ["HOLDOUT_QUANTILE", "Memorisation", "holdout_split", "memorisation", "nearest_other_distance"]

HOLDOUT_QUANTILE = 0.05  # the share of new real items the calibrated near-copy threshold calls near-copies
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
DEFINITIONS = {
    "metric": "Hamming distance between bitmaps thresholded at 0.5",
    "threshold": "the q-quantile (inverted CDF) of the held-out items' distances to their nearest training item",
    "near_copies": "items within the threshold of their nearest training item (distance <= threshold)",
    "authentic": "items farther from their nearest training item than that item is from its own nearest other "
                 "training item (Alaa et al. 2022; a duplicate counts at distance 0)",
    "closer_to_training": "share of samples nearer the (size-matched) training items than the held-out items, a "
                          "tie counting one half: 0.5 when the generator treats items it saw and items it did not "
                          "alike, towards 1 when it memorises",
    "matched": "the larger of the training and held-out sets subsampled (seeded) to the size of the smaller; with "
               "m of N training items kept, copies of random training items score about (1 + m/N)/2, not 1",
    "intervals": "95% percentile intervals over resamples (with replacement) of the samples and, independently, of "
                 "the held-out items; the threshold recalibrated on each",
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


def nearest_other_distance(T: np.ndarray, rows: np.ndarray, budget: int | None = None) -> np.ndarray:
    """Hamming distance from each of the bitmaps ``T[rows]`` to its nearest *other* row of ``T``.

    A duplicate counts at distance 0; the row itself does not. The distinct
    rows of ``T`` are compared in float32 blocks within the memory budget.

    Parameters
    ----------
    T : ndarray of bool (n, p), n >= 2
    rows : ndarray of int (r,)
    budget : int, optional

    Returns
    -------
    ndarray of int64 (r,)

    Examples
    --------
    >>> T = np.array([[1, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 0]], dtype=bool)
    >>> nearest_other_distance(T, np.array([0, 1, 3])).tolist()
    [0, 2, 1]
    """
    T = np.asarray(T, dtype=bool)
    if len(T) < 2:
        raise ParameterError(f"a nearest other row needs at least 2 rows, got {len(T)}")
    budget = memory_budget() if budget is None else budget
    first, inverse = dedupe_rows(T)
    U = T[first]
    wanted = np.unique(inverse[rows])
    best = np.where(np.bincount(inverse, minlength=len(U))[wanted] > 1, 0.0, np.inf).astype(np.float32)
    need = np.flatnonzero(best > 0)
    ink = U.sum(axis=1, dtype=np.float32)
    p = U.shape[1]
    r_rows = max(1, min(len(U), chunk_rows(4 * p, budget) // 2))
    for r0 in range(0, len(U), r_rows):
        block = U[r0:r0 + r_rows].astype(np.float32)
        q_rows = chunk_rows(4 * (p + 2 * len(block)), budget)
        for q0 in range(0, len(need), q_rows):
            at = need[q0:q0 + q_rows]
            dist = U[wanted[at]].astype(np.float32) @ block.T
            dist *= -2.0
            dist += ink[wanted[at], None]
            dist += ink[None, r0:r0 + r_rows]
            self_ = wanted[at] - r0
            inside = (self_ >= 0) & (self_ < len(block))
            dist[np.flatnonzero(inside), self_[inside]] = np.inf  # the row itself is not its own neighbour
            best[at] = np.minimum(best[at], dist.min(axis=1))
    distance = np.rint(best).astype(np.int64)
    return distance[np.searchsorted(wanted, inverse[rows])]


def _order_statistic(values: np.ndarray, q: float) -> np.ndarray:
    """Each row's inverted-CDF ``q``-quantile: its ``ceil(q * m)``-th smallest value (the first, at least)."""
    m = values.shape[1]
    j = min(m, max(1, int(np.ceil(q * m - 1e-9)))) - 1  # q * m = 3.0000000000000004 is the 3rd, not the 4th
    return np.partition(values, j, axis=1)[:, j]


def _figures(dT, dH, authentic, item_authentic, closer, matched, q: float, g: np.ndarray,
             h: np.ndarray) -> dict[str, np.ndarray]:
    """Every figure for samples ``g`` (b, n) and held-out items ``h`` (b, m) given as rows of indices."""
    tau = _order_statistic(dH[h], q)
    figures = {"threshold": tau.astype(np.float64),
               "near_copy_rate": (dT[g] <= tau[:, None]).mean(axis=1),
               "holdout_near_copy_rate": (dH[h] <= tau[:, None]).mean(axis=1),
               "authenticity": authentic[g].mean(axis=1),
               "holdout_authenticity": item_authentic[h].mean(axis=1),
               "closer_to_training": closer[g].mean(axis=1),
               "median_to_training": _order_statistic(matched[0][g], 0.5).astype(np.float64),
               "median_to_holdout": _order_statistic(matched[1][g], 0.5).astype(np.float64)}
    figures["near_copy_excess"] = figures["near_copy_rate"] - figures["holdout_near_copy_rate"]
    figures["authenticity_gap"] = figures["authenticity"] - figures["holdout_authenticity"]
    figures["median_gap"] = figures["median_to_holdout"] - figures["median_to_training"]
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
    matched : ndarray of int (2, n)
        Each sample's distance to the nearest item of the size-matched training and held-out sets.
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
    matched: np.ndarray
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

    def closer(self) -> np.ndarray:
        """Per sample: 1 when nearer the matched training items than the matched held-out items, 0.5 on a tie, else 0."""
        return 0.5 * (np.sign(self.matched[1] - self.matched[0]) + 1)

    def to_dict(self) -> dict:
        """The figures as JSON, with their definitions, the sets' sizes and the distances' quantiles."""
        n, m = len(self.train_distance), len(self.item_distance)
        quantiles = {name: {f"q{int(100 * q):02d}": int(np.quantile(d, q, method="inverted_cdf")) for q in QUANTILES}
                     for name, d in (("samples_to_training", self.matched[0]),
                                     ("samples_to_holdout", self.matched[1]),
                                     ("holdout_to_training", self.item_distance))}
        closer = self.closer()
        return {"source": self.source, "split": self.split, "n_samples": n, "n_holdout": m,
                "n_training": self.n_training, "metric": DEFINITIONS["metric"],
                "quantile": self.quantile, "threshold": int(self.threshold),
                "matched": {"n": self.n_matched, "subsampled": self.subsampled, "definition": DEFINITIONS["matched"]},
                "closer_counts": {"closer": int((closer == 1).sum()), "tied": int((closer == 0.5).sum()),
                                  "farther": int((closer == 0).sum())},
                "distances": quantiles,
                "definitions": {name: DEFINITIONS[name] for name in
                                ("threshold", "near_copies", "authentic", "closer_to_training", "intervals")},
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
        Draws the size-matched subsample, then the resamples.
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
    matched = np.stack([train_distance, holdout_distance])
    if subsampled is not None:  # the larger set, cut to the smaller's size: sorted indices, the set's order
        pick = np.sort(rng.choice(max(len(T), m), size, replace=False))
        row = 0 if subsampled == "training" else 1
        matched[row] = nearest_bitmaps(G, (T if row == 0 else H)[pick])[1]
    arrays = (train_distance, item_distance, authentic.astype(np.float64), item_authentic.astype(np.float64),
              0.5 * (np.sign(matched[1] - matched[0]) + 1), matched)
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
        holdout_distance=holdout_distance, authentic=authentic, matched=matched, item_distance=item_distance,
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


def write_holdout(doc: dict, echo) -> None:
    """The memorisation section of a samples audit's text report (:meth:`Memorisation.to_dict`), through ``echo``."""
    f = doc["figures"]

    def cell(name: str, digits: int = 3) -> str:
        figure = f[name]
        text = f"{figure['value']:.{digits}f}"
        return text + (f" [{figure['interval'][0]:.{digits}f}, {figure['interval'][1]:.{digits}f}]"
                       if figure["interval"] else "")

    split = doc["split"]
    where = f"from {doc['source'] or 'an array'}" if split is None else \
        (f"a seeded split of the set: {split['n_holdout']} of {split['of']} items held out, fraction "
         f"{split['fraction']:g}, seed {split['seed']}; {split['n_training']} left for training")
    intervals = f"95% bootstrap intervals, {doc['n_resamples']} resamples of the samples and of the held-out items" \
        if doc["n_resamples"] else "no intervals (0 resamples)"
    echo(f"memorisation against {doc['n_holdout']} held-out items ({where}); Hamming distances between bitmaps "
         f"thresholded at 0.5; {intervals}:")
    pixels = "1 pixel" if doc["threshold"] == 1 else f"{doc['threshold']} pixels"
    echo(f"  near-copies, within {pixels} of a training item (the {100 * doc['quantile']:g}% "
         "quantile of the held-out items' distances to their nearest training item):")
    echo(f"    samples {cell('near_copy_rate')}, held-out items {cell('holdout_near_copy_rate')}; excess "
         f"{cell('near_copy_excess')} (about 0 for a generator as novel as new real data)")
    echo("  authentic, farther from their nearest training item than it is from its nearest other (Alaa et al. 2022):")
    echo(f"    samples {cell('authenticity')}, held-out items {cell('holdout_authenticity')}; gap "
         f"{cell('authenticity_gap')} (a copy is never authentic)")
    matched, d = doc["matched"], doc["distances"]
    cut = "equal sizes" if matched["subsampled"] is None else \
        f"the {matched['subsampled']} items subsampled to {matched['n']}, seeded"
    echo(f"  nearest distances on sets of {matched['n']} training and {matched['n']} held-out items ({cut}):")
    for label, name, key in (("samples to training", "median_to_training", "samples_to_training"),
                             ("samples to held-out", "median_to_holdout", "samples_to_holdout")):
        q = d[key]
        echo(f"    {label:<22}median {cell(name, 0)} (5%-95%: {q['q05']}-{q['q95']})")
    q = d["holdout_to_training"]
    echo(f"    {'held-out to training':<22}median {q['q50']} (5%-95%: {q['q05']}-{q['q95']}; all {doc['n_training']} "
         "training items)")
    ceiling = "" if matched["subsampled"] != "training" else \
        f"; copies of random training items would score about {(1 + matched['n'] / doc['n_training']) / 2:.2f} here"
    c = doc["closer_counts"]
    echo(f"    closer to training than to held-out: {cell('closer_to_training')} ({c['closer']} closer, {c['tied']} "
         f"tied counting one half, {c['farther']} farther; 0.5: no sign of memorisation{ceiling})")
