"""Intervals over samples for an audit of given samples (:func:`genval.audit.audit_samples`).

The samples audit's figures rest on the ``n`` given samples; as for the latent
audit (:mod:`genval.audit._bootstrap`, whose resampler this module uses), each
resample redraws them with replacement as multinomial counts over classes with
their multiplicities as weights, from one Generator:

* the distinct bitmaps (copies, near-copies, validity, failures per check, the
  median distance to the nearest item, the distinct items copied or nearly copied);
* with a map, the samples themselves (where each falls on the map, its distance to
  the neuron's weights);
* in each space of the k-NN metrics, the scored samples (their distinct rows):
  precision, density and authenticity are means over samples of a per-sample
  quantity (inside some real ball, the real balls holding it, farther than its
  nearest item's own nearest neighbour), so a resample's value is their mean
  weighted by the counts, with no new neighbour search.

Coverage is a mean over real items of "some sample lies in my ball"; the real
balls do not change when the samples are resampled, so a resample covers an item
exactly when it draws one of the samples inside its ball. As with counts of
distinct items, a resample misses about a third of the samples, so it covers
fewer items: coverage's interval lies below its value. The one pass over the
distance blocks that finds the metrics keeps those (sample, item) pairs (about
``k`` per sample when the sets match; beyond 1/8 of the memory budget they are
dropped and coverage has no interval). Recall has none: its balls are the
samples' radii among the samples, which every resample changes.
"""

from __future__ import annotations

import numpy as np

from genval._utils.budget import CHUNK_SHARE, chunk_rows, memory_budget
from genval.audit._bootstrap import _divide, group_intervals
from genval.checks._blocks import (_block, _check_k, _entries, _exact, _setup, _sparse_nonzero, _spans,
                                   _to_block_units, _tolerance)
from genval.checks._cross import _Balls, _Nearest
from genval.checks._knn import _radii
from genval.checks._membership import MembershipMetrics

__all__ = []  # private: genval.audit.audit_samples gives the intervals

SPACES = ("pixels", "latent", "features")
NOT_RESAMPLED = {
    "recall": "its balls are the samples' k-NN radii among the samples, which change with every resample (a sample "
              "drawn k + 1 times has radius 0): each resample would need its own k-NN search among the samples",
    "coverage": "more pairs of a sample inside a real item's ball than 1/8 of the memory budget holds: a resample "
                "covers an item when it draws one of them",
    "item_distance.min, item_distance.max": "extremes, which a percentile bootstrap does not estimate",
    "null_model": "a property of the checks and the set, not of the samples",
    "holdout": "has its own intervals (holdout.figures), over the samples and the held-out items",
}
DEFINITION = ("95% percentile intervals over resamples of the audit's samples, each drawn as multinomial counts "
              "over what the figure counts (distinct bitmaps; with a map, samples; in each space of the k-NN "
              "metrics, the scored samples) weighted by their multiplicities, from one Generator seeded by seed; "
              "a resample's precision, density and authenticity are means of the scored samples' own values "
              "weighted by their counts, its coverage the share of real items whose ball holds a drawn sample "
              "(the real balls do not change). A figure's interval uses the resamples where it is defined. Counts of "
              "distinct items (copies.distinct_items, near_copies.distinct_items) and coverage shrink in a "
              "resample, which repeats some samples and misses others (about a third of them): their intervals "
              "lie below the observed value, and their width is the guide, not their position; observed_outside says when a figure's observed value lies outside its interval")


def membership_per_sample(real, fake, k: int, metric: str, budget: int | None = None
                          ) -> tuple[MembershipMetrics, dict[str, np.ndarray]]:
    """:func:`genval.checks.membership_metrics` of ``fake`` against ``real``, with each distinct fake's own values.

    Returns
    -------
    metrics : MembershipMetrics
        Equal to ``membership_metrics(real, fake, k, metric)``.
    own : dict of ndarray
        Per distinct fake row: ``weight`` (its multiplicity), ``inside`` (0/1: in some real ball; the weighted mean
        is the precision), ``count`` (the real balls holding it; the weighted mean over ``k`` is the density),
        ``authentic`` (0/1); ``inverse`` (M,): each fake's distinct row; ``pairs``: the (fake row, real row) pairs
        with the fake inside the real ball, by real row, or None beyond their share of the budget; ``real_weight``
        (each distinct real row's multiplicity) and ``n_real``.
    """
    budget = memory_budget() if budget is None else int(budget)
    space, R, F = _setup(real, fake, metric)
    k = _check_k(k, R.n, "real rows")
    _check_k(k, F.n, "fake rows")
    rR, r1 = _radii(space, R, k, budget)
    rF, _ = _radii(space, F, k, budget)
    found, pairs = _cross_with_pairs(space, R, F, budget, rR, rF)
    wF, wR = F.weight, R.weight
    authentic = found["distance"] > r1[found["nearest"]]
    metrics = MembershipMetrics(
        precision=float(wF @ found["inside"]) / F.n, recall=float(wR @ found["reached"]) / R.n,
        density=float(wF @ found["count"]) / (k * F.n), coverage=float(wR @ found["covered"]) / R.n,
        authenticity=float(wF @ authentic) / F.n, k=k, n_real=R.n, n_fake=F.n, metric=metric)
    own = {"weight": np.asarray(wF, dtype=np.float64), "inside": found["inside"].astype(np.float64),
           "count": np.asarray(found["count"], dtype=np.float64), "authentic": authentic.astype(np.float64),
           "inverse": F.inverse, "pairs": pairs, "real_weight": np.asarray(wR, dtype=np.float64), "n_real": R.n}
    return metrics, own


def _cross_with_pairs(space, R, F, budget: int, rR: np.ndarray, rF: np.ndarray) -> tuple[dict, tuple | None]:
    """What :func:`genval.checks._cross._cross` finds for the k-NN metrics (ball memberships, nearest items), in
    the same blocks, and the (fake, real) pairs with the fake inside the real ball, sorted by real row; None for
    the pairs once they pass 1/8 of the budget."""
    entries = _entries(budget)
    col_spans = _spans(len(R.weight), max(1, entries // 64))
    row_size = max(1, entries // (col_spans[0].stop - col_spans[0].start))
    tolF, tolR = _tolerance(space, F, R), _tolerance(space, R, F)
    reductions = (_Balls(space, R, F, budget, rR, rF, tolR, tolF), _Nearest(space, R, F, budget, tolF))
    lo, hi = _to_block_units(space, rR, tolR)
    store, held = [], 0
    for a in _spans(len(F.weight), row_size):
        for b in col_spans:
            D = _block(F, a, R, b)
            for reduction in reductions:
                reduction.add(D, a, b)
            if store is not None:
                r, c = _sparse_nonzero(D <= hi[None, b])  # surely inside, or too close to the radius to tell
                store.append((r + a.start, c + b.start, D[r, c] <= lo[b][c]))
                held += 17 * len(r)
                store = store if held <= budget // CHUNK_SHARE else None
    found = {name: v for reduction in reductions for name, v in reduction.finish().items()}
    if store is None:
        return found, None
    fake_rows, real_rows, sure = (np.concatenate([part[i] for part in store]) for i in range(3))
    unsure = np.flatnonzero(~sure)  # float32 could not tell: float64 decides, as for the metrics
    sure[unsure] = _exact(space, F, fake_rows[unsure], R, real_rows[unsure], budget) <= rR[real_rows[unsure]]
    fake_rows, real_rows = fake_rows[sure], real_rows[sure]
    order = np.argsort(real_rows, kind="stable")
    return found, (fake_rows[order], real_rows[order])


def _weighted_median(C: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row of counts ``C`` (b, k) over classes with ascending ``values`` (k,): the median of the drawn values,
    as :func:`numpy.median` takes it (the mean of the two middle values for an even count)."""
    cum = np.cumsum(C, axis=1)
    total = cum[:, -1]
    low = np.floor((total - 1) / 2)  # 0-based positions of the middle values
    high = np.floor(total / 2)
    at_low = np.minimum((cum <= low[:, None]).sum(axis=1), len(values) - 1)
    at_high = np.minimum((cum <= high[:, None]).sum(axis=1), len(values) - 1)
    return np.where(total > 0, (values[at_low] + values[at_high]) / 2, np.nan)


def _bitmap_group(report) -> tuple[np.ndarray, callable]:
    """Distinct bitmaps as classes: the figures of copies, near-copies, validity, failures and item distance."""
    u = len(report.bitmaps)
    weights = np.bincount(report.bitmap_index, minlength=u)
    distance = report.item_distance.astype(np.float64)
    valid = report.passes.all(axis=1).astype(np.float64)
    copy = (report.copy_of >= 0).astype(np.float64)
    new = 1 - copy
    near = ((distance >= 1) & (distance <= report.near_copy)).astype(np.float64)
    beyond = (distance > report.near_copy).astype(np.float64)
    failing = (1 - report.passes.astype(np.float64)) * new[:, None]
    order = np.argsort(distance, kind="stable")
    # Near-copies by their nearest item: a resample reaches an item when it draws one of its near-copies.
    near_rows = np.flatnonzero(near)
    by_item = near_rows[np.argsort(report.nearest[near_rows], kind="stable")]
    starts = np.flatnonzero(np.r_[True, np.diff(report.nearest[by_item]) != 0]) if len(by_item) else by_item

    def figures(C: np.ndarray) -> dict[str, np.ndarray]:
        total, seen = C.sum(axis=1), C > 0
        n_new = C @ new
        reached = np.maximum.reduceat(seen[:, by_item], starts, axis=1).sum(axis=1) if len(by_item) \
            else np.zeros(len(C))
        out = {"copies.rate": _divide(C @ copy, total), "copies.distinct_items": seen @ copy,
               "near_copies.rate": _divide(C @ near, total), "near_copies.distinct_items": reached.astype(np.float64),
               "validity.all": _divide(C @ valid, total), "validity.new": _divide(C @ (valid * new), n_new),
               "validity.beyond_near_copies": _divide(C @ (valid * beyond), C @ beyond),
               "item_distance.median": _weighted_median(C[:, order], distance[order])}
        fails = C @ failing
        out.update({f"failures.{name}": _divide(fails[:, j], n_new) for j, name in enumerate(report.check_names)})
        return out

    return weights, figures


def _map_group(report) -> tuple[np.ndarray, callable]:
    """Samples as classes (ordered by their distance to the neuron's weights): the map's verdict."""
    located = report.located
    order = np.argsort(located["som_distance"], kind="stable")
    b = report.bitmap_index[order]
    new = (report.copy_of[b] < 0).astype(np.float64)
    valid_new = report.passes.all(axis=1)[b] * new
    occupied = (located["hits"][located["neuron"][order]] > 0).astype(np.float64)
    distance = np.asarray(located["som_distance"], dtype=np.float64)[order]

    def figures(C: np.ndarray) -> dict[str, np.ndarray]:
        return {"map_verdict.occupied": _divide(C @ occupied, C.sum(axis=1)),
                "map_verdict.valid_when_occupied": _divide(C @ (valid_new * occupied), C @ (new * occupied)),
                "map_verdict.valid_when_empty": _divide(C @ (valid_new * (1 - occupied)), C @ (new * (1 - occupied))),
                "map_verdict.som_distance_median": _weighted_median(C, distance)}

    return np.ones(len(order), dtype=np.int64), figures


def resampled_coverage(own: dict, C: np.ndarray, budget: int | None = None) -> np.ndarray:
    """Coverage for counts ``C`` (b, distinct fake rows) of :func:`membership_per_sample`'s fakes: the real items
    (with multiplicity) whose ball holds a drawn fake, over N.

    Examples
    --------
    >>> real = np.array([[0.0], [1.0], [5.0], [6.0]])
    >>> _, own = membership_per_sample(real, np.array([[0.2], [5.1], [9.0]]), 1, "euclidean")
    >>> def counts(drawn):  # a resample of the fakes, as counts over their distinct rows
    ...     return np.bincount(own["inverse"][drawn], minlength=len(own["weight"]))[None, :]
    >>> [float(resampled_coverage(own, counts(d))[0]) for d in ([0, 1, 2], [0, 0, 0], [2, 2, 2])]
    [1.0, 0.5, 0.0]
    """
    fake_rows, real_rows = own["pairs"]
    out = np.zeros(len(C))
    if not len(fake_rows):
        return out
    starts = np.flatnonzero(np.r_[True, real_rows[1:] != real_rows[:-1]])
    weight = own["real_weight"][real_rows[starts]]
    step = chunk_rows(2 * len(fake_rows), budget)  # the drawn pairs and their reduction, as bytes
    for s in range(0, len(C), step):
        drawn = C[s:s + step][:, fake_rows] > 0
        out[s:s + step] = np.logical_or.reduceat(drawn, starts, axis=1) @ weight / own["n_real"]
    return out


def _membership_group(space: str, own: dict, k: int, budget: int | None) -> tuple[np.ndarray, callable]:
    """The scored samples' distinct rows as classes: precision, density, authenticity and (with the pairs)
    coverage in one space of the k-NN metrics."""
    inside, count, authentic = own["inside"], own["count"], own["authentic"]

    def figures(C: np.ndarray) -> dict[str, np.ndarray]:
        total = C.sum(axis=1)
        out = {f"membership.{space}.precision": _divide(C @ inside, total),
               f"membership.{space}.density": _divide(C @ count, k * total),
               f"membership.{space}.authenticity": _divide(C @ authentic, total)}
        if own["pairs"] is not None:
            out[f"membership.{space}.coverage"] = resampled_coverage(own, C, budget)
        return out

    return own["weight"].astype(np.int64), figures


def _not_resampled(per_sample: dict[str, dict]) -> dict[str, str]:
    """The report's figures without an interval, and why."""
    skipped = {}
    for space in (s for s in SPACES if s in per_sample):
        skipped[f"membership.{space}.recall"] = NOT_RESAMPLED["recall"]
        if per_sample[space]["pairs"] is None:
            skipped[f"membership.{space}.coverage"] = NOT_RESAMPLED["coverage"]
    skipped.update({name: why for name, why in NOT_RESAMPLED.items() if name not in ("recall", "coverage")})
    return skipped


def bootstrap_samples(report, per_sample: dict[str, dict], n_resamples: int, seed: int,
                      budget: int | None = None) -> dict:
    """The bootstrap over samples of a :class:`genval.audit.SamplesReport`'s figures, as JSON.

    ``per_sample`` maps each space of the report's k-NN metrics to :func:`membership_per_sample`'s values of its
    scored samples. Each figure's observed value comes from the same function of the observed counts, so it equals
    the report's own figure; ``seed`` starts the one Generator that draws every resample: the bitmaps' first, then
    the map's samples, then the scored samples of each space in the order pixels, latent, features.
    """
    rng = np.random.default_rng(seed)
    groups = [_bitmap_group(report)]
    if report.located is not None:
        groups.append(_map_group(report))
    k = report.membership["k"]
    groups += [_membership_group(space, per_sample[space], k, budget) for space in SPACES if space in per_sample]
    figures = group_intervals(groups, n_resamples, rng, budget)
    return {"n_resamples": int(n_resamples), "confidence": 0.95, "seed": int(seed), "samples": len(report),
            "scored": int(len(report.scored)), "definition": DEFINITION,
            "figures": figures, "not_resampled": _not_resampled(per_sample)}
