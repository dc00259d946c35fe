"""Intervals over samples for an audit of given samples (:func:`genval.audit.audit_samples`).

The samples audit's figures rest on the ``n`` given samples; as for the latent
audit (:mod:`genval.audit._bootstrap`, whose resampler this module uses), each
resample redraws them with replacement as multinomial counts over classes with
their multiplicities as weights, from one Generator:

* the distinct bitmaps (copies, near-copies, validity, failures per check, the
  median distance to the nearest item, the distinct items copied or nearly copied);
* with a map, the samples themselves (where each falls on the map, its distance to
  the neuron's weights);
* in each space of the k-NN metrics, the scored samples: precision, density and
  authenticity are means over samples of a per-sample quantity (inside some real
  ball, the real balls holding it, farther than its nearest item's own nearest
  neighbour), so a resample's value is their mean weighted by the counts, with
  no new neighbour search.

Recall and coverage are means over real items of a quantity that depends on the
whole generated set, and have no interval (see :data:`NOT_RESAMPLED`).
"""

from __future__ import annotations

import numpy as np

from genval._utils.budget import memory_budget
from genval.audit._bootstrap import _divide, percentile_intervals, resampled_counts
from genval.checks._blocks import _check_k, _setup
from genval.checks._cross import _cross
from genval.checks._knn import _radii
from genval.checks._membership import MembershipMetrics

__all__ = []

SPACES = ("pixels", "latent", "features")
NOT_RESAMPLED = {
    "recall": "its balls are the samples' k-NN radii among the samples, which change with every resample (a sample "
              "drawn k + 1 times has radius 0): each resample would need its own k-NN search among the samples",
    "coverage": "whether a resample still covers a real item depends on every sample inside its ball; the one pass "
                "over distance blocks keeps a flag per real item, not the item-sample pairs",
    "item_distance.min, item_distance.max": "extremes, which a percentile bootstrap does not estimate",
    "null_model": "a property of the checks and the set, not of the samples",
    "holdout": "has its own intervals (holdout.figures), over the samples and the held-out items",
}
DEFINITION = ("95% percentile intervals over resamples of the audit's samples, each drawn as multinomial counts "
              "over what the figure counts (distinct bitmaps; with a map, samples; in each space of the k-NN "
              "metrics, the scored samples) weighted by their multiplicities, from one Generator seeded by seed; "
              "a resample's precision, density and authenticity are means of the scored samples' own values "
              "weighted by their counts. A figure's interval uses the resamples where it is defined. Counts of "
              "distinct items (copies.distinct_items, near_copies.distinct_items) shrink in a resample, which "
              "repeats some samples and misses others: their intervals lie below the observed count; "
              "observed_outside says when a figure's observed value lies outside its interval")


def membership_per_sample(real, fake, k: int, metric: str, budget: int | None = None
                          ) -> tuple[MembershipMetrics, dict[str, np.ndarray]]:
    """:func:`genval.checks.membership_metrics` of ``fake`` against ``real``, with each fake's own values.

    Returns
    -------
    metrics : MembershipMetrics
        Equal to ``membership_metrics(real, fake, k, metric)``.
    per_sample : dict of ndarray (M,)
        ``inside`` (0/1: in some real ball; its mean is the precision), ``count`` (the real balls holding the fake;
        its mean over ``k`` is the density) and ``authentic`` (0/1; its mean is the authenticity).
    """
    budget = memory_budget() if budget is None else int(budget)
    space, R, F = _setup(real, fake, metric)
    k = _check_k(k, R.n, "real rows")
    _check_k(k, F.n, "fake rows")
    rR, r1 = _radii(space, R, k, budget)
    rF, _ = _radii(space, F, k, budget)
    found = _cross(space, R, F, budget, rR=rR, rF=rF, nearest=True)
    wF, wR = F.weight, R.weight
    authentic = found["distance"] > r1[found["nearest"]]
    metrics = MembershipMetrics(
        precision=float(wF @ found["inside"]) / F.n, recall=float(wR @ found["reached"]) / R.n,
        density=float(wF @ found["count"]) / (k * F.n), coverage=float(wR @ found["covered"]) / R.n,
        authenticity=float(wF @ authentic) / F.n, k=k, n_real=R.n, n_fake=F.n, metric=metric)
    per_sample = {"inside": found["inside"][F.inverse].astype(np.float64),
                  "count": np.asarray(found["count"], dtype=np.float64)[F.inverse],
                  "authentic": authentic[F.inverse].astype(np.float64)}
    return metrics, per_sample


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


def _membership_group(space: str, values: dict[str, np.ndarray], k: int) -> tuple[np.ndarray, callable]:
    """The scored samples as classes: precision, density and authenticity in one space of the k-NN metrics."""
    inside, count, authentic = values["inside"], values["count"], values["authentic"]

    def figures(C: np.ndarray) -> dict[str, np.ndarray]:
        total = C.sum(axis=1)
        return {f"membership.{space}.precision": _divide(C @ inside, total),
                f"membership.{space}.density": _divide(C @ count, k * total),
                f"membership.{space}.authenticity": _divide(C @ authentic, total)}

    return np.ones(len(inside), dtype=np.int64), figures


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
    groups += [_membership_group(space, per_sample[space], k) for space in SPACES if space in per_sample]
    values: dict[str, list[np.ndarray]] = {}
    observed: dict[str, float | None] = {}
    for weights, figures in groups:
        for name, v in figures(np.asarray(weights, dtype=np.float64)[None, :]).items():
            observed[name] = None if np.isnan(v[0]) else float(v[0])
            values[name] = []
        for C in resampled_counts(weights, n_resamples, rng, budget):
            for name, v in figures(C).items():
                values[name].append(v)
    skipped = {f"membership.{space}.{name}": why for space in SPACES if space in per_sample
               for name, why in NOT_RESAMPLED.items() if name in ("recall", "coverage")}
    skipped.update({name: why for name, why in NOT_RESAMPLED.items() if name not in ("recall", "coverage")})
    return {"n_resamples": int(n_resamples), "confidence": 0.95, "seed": int(seed), "samples": len(report),
            "scored": int(len(report.scored)), "definition": DEFINITION,
            "figures": percentile_intervals(values, observed), "not_resampled": skipped}
