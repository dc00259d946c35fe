"""Intervals over samples: one audit's figures, resampled.

A single audit's figures rest on ``n`` samples; redrawing ``n`` of them with
replacement (the bootstrap) says how much each figure owes to the draw. Every
figure counts samples by something they share (the distinct bitmap, the map's
cell, the pixels decided firmly), so a resample is drawn as multinomial counts
over those classes, with the classes' multiplicities as weights: the same law
as resampling the samples one by one, in ``B x classes`` integers, in chunks
within the memory budget, from one numpy Generator.

Each figure gets the 2.5th and 97.5th percentiles of its ``B`` resampled
values (a 95% percentile interval) over the resamples where it is defined
(its denominator is not 0). Counts of *distinct* bitmaps (the yield) shrink
under resampling, which repeats some samples and leaves out others, so their
intervals lie below the observed count: their width is the guide, not their
position.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from genval._utils.budget import chunk_rows

__all__ = ["N_RESAMPLES"]

N_RESAMPLES = 1000  # bootstrap resamples of one audit's samples

NOT_RESAMPLED = {
    "recall": "its k-NN radii among the samples change with every resample",
    "coverage": "whether a real item's ball holds a sample needs the item-sample pairs, which the metric "
                "does not keep",
    "density": "it counts the real balls holding each sample, which the metric does not keep",
    "authenticity": "it compares each sample's nearest item, which the metric does not keep",
    "latent_precision": "it would need the latent k-NN balls a second time",
    "auroc": "the controls resample distinct bitmaps for every AUROC (see controls)",
}
DEFINITION = ("95% percentile intervals over resamples of the audit's samples, each drawn as multinomial counts "
              "over what the figure counts (distinct bitmaps, the map's cells, decided pixels) weighted by their "
              "multiplicities; a figure's interval uses the resamples where it is defined. Counts of distinct "
              "bitmaps (yield, yield_at_floor, distinct_items) shrink in a resample, which repeats some samples "
              "and misses others: their intervals lie below the observed count; observed_outside says when a "
              "figure's observed value lies outside its interval")


def resampled_counts(weights: np.ndarray, n_resamples: int, rng: np.random.Generator,
                     budget: int | None = None) -> Iterator[np.ndarray]:
    """Multinomial resamples of classes with multiplicities ``weights``, a chunk of resamples at a time.

    Parameters
    ----------
    weights : ndarray of int (k,)
        Samples in each class; a resample draws ``weights.sum()`` of them.
    n_resamples : int
    rng : numpy Generator
    budget : int, optional
        Bytes of working memory (default: the memory budget).

    Yields
    ------
    ndarray of float64 (b, k)
        Each row one resample's counts per class (summing to ``weights.sum()``); ``b`` rows per chunk, ``B``
        in all.

    Examples
    --------
    >>> chunks = list(resampled_counts(np.array([3, 1]), 5, np.random.default_rng(0)))
    >>> sum(len(c) for c in chunks), {float(s) for c in chunks for s in c.sum(axis=1)}
    (5, {4.0})
    """
    weights = np.asarray(weights, dtype=np.int64)
    total = int(weights.sum())
    p = weights / total if total else np.full(len(weights), 1.0 / max(1, len(weights)))
    rows = chunk_rows(8 * 4 * max(1, len(weights)), budget)  # the counts, as floats, and a few temporaries
    for start in range(0, n_resamples, rows):
        yield rng.multinomial(total, p, size=min(rows, n_resamples - start)).astype(np.float64)


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def bitmap_figures(C: np.ndarray, valid: np.ndarray, new: np.ndarray, passes: np.ndarray, far: np.ndarray,
                   check_names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The figures that count samples by their distinct bitmap, for resampled counts ``C`` (b, k bitmaps).

    ``valid``, ``new``, ``far`` (at least the novelty floor from every item): per distinct bitmap, as 0/1
    floats; ``passes`` (k, n_checks).
    """
    seen = (C > 0).astype(np.float64)
    total = C.sum(axis=1)
    n_new = C @ new
    n_valid = C @ valid
    n_valid_new = C @ (valid * new)
    unique_valid = seen @ valid
    made = seen @ (valid * new)  # distinct new valid bitmaps: the yield
    figures = {
        "copy_rate": _divide(total - n_new, total),
        "distinct_items": seen @ (1 - new),  # distinct bitmaps equal distinct items
        "new_validity": _divide(n_valid_new, n_new),
        "new_uniqueness": _divide(made, n_valid_new),
        "yield": made,
        "yield_at_floor": seen @ (valid * new * far),
        "all_validity": _divide(n_valid, total),
        "all_uniqueness": _divide(unique_valid, n_valid),
        "all_novelty": _divide(made, unique_valid),
    }
    failing_new = C @ ((1 - passes) * new[:, None])
    figures.update({f"new_failures_{name}": failing_new[:, j] for j, name in enumerate(check_names)})
    return figures


CELLS = 8  # (new, valid, occupied) of a sample, as bits 4, 2, 1


def cell_figures(C: np.ndarray) -> dict[str, np.ndarray]:
    """The map's precision and recall (new samples, all samples) for resampled counts ``C`` (b, 8 cells)."""
    cell = np.arange(CELLS)
    figures = {}
    for prefix, select in (("", cell >= 4), ("all_", np.ones(CELLS, dtype=bool))):
        def count(valid: bool, occupied: bool) -> np.ndarray:
            return C[:, select & ((cell & 2 > 0) == valid) & ((cell & 1 > 0) == occupied)].sum(axis=1)

        tp, fp, fn = count(True, True), count(False, True), count(True, False)
        figures[f"{prefix}som_precision"] = _divide(tp, tp + fp)
        figures[f"{prefix}som_recall"] = _divide(tp, tp + fn)
    return figures


def percentile_intervals(values: dict[str, list[np.ndarray]], observed: dict[str, float | None],
                         confidence: float = 0.95) -> dict[str, dict]:
    """Each figure's observed value, the percentile interval of its resampled values, how many were defined, and
    ``observed_outside``: whether the observed value lies outside its interval (the counts of distinct bitmaps and
    the shares built on them, whose resamples repeat some samples and miss others, and any figure whose resamples
    rarely reach the observed value).

    Examples
    --------
    >>> doc = percentile_intervals({"a": [np.array([1.0, 2.0, 3.0])]}, {"a": 4.0})
    >>> doc["a"]["interval"], doc["a"]["observed_outside"]
    ([1.05, 2.95], True)
    """
    doc = {}
    for name, chunks in values.items():
        v = np.concatenate(chunks) if chunks else np.zeros(0)
        v = v[np.isfinite(v)]
        tail = 100 * (1 - confidence) / 2
        interval = None if observed[name] is None or not len(v) else \
            [float(x) for x in np.percentile(v, [tail, 100 - tail])]
        outside = interval is not None and not interval[0] <= observed[name] <= interval[1]
        doc[name] = {"value": observed[name], "interval": interval, "defined": int(len(v)), "observed_outside": outside}
    return doc


def group_intervals(groups, n_resamples: int, rng: np.random.Generator, budget: int | None) -> dict:
    """:func:`percentile_intervals` of every figure of ``groups``, pairs ``(weights, figures)`` resampled in order.

    ``figures(C)`` maps rows of counts ``C`` (one resample a row) to each figure's value per row; the observed
    value is ``figures`` of the weights themselves. The groups draw from ``rng`` one after the other.
    """
    values: dict[str, list[np.ndarray]] = {}
    observed: dict[str, float | None] = {}
    for weights, figures in groups:
        for name, v in figures(np.asarray(weights, dtype=np.float64)[None, :]).items():
            observed[name] = None if np.isnan(v[0]) else float(v[0])
            values[name] = []
        for C in resampled_counts(weights, n_resamples, rng, budget):
            for name, v in figures(C).items():
                values[name].append(v)
    return percentile_intervals(values, observed)


def bootstrap_audit(report, n_resamples: int, seed: int, budget: int | None = None) -> dict:
    """The bootstrap over samples of an :class:`genval.audit.AuditReport`'s figures, as JSON.

    Every figure's observed value is computed by the same function from the
    observed counts, so it equals the report's own figure; ``seed`` starts the
    one Generator that draws every resample, the bitmaps' first, then the
    map's cells, the decided pixels and the scored samples'.
    """
    rng = np.random.default_rng(seed)
    n = report.n_total
    valid = report.passes.all(axis=1).astype(np.float64)
    new = (report.copy_of < 0).astype(np.float64)
    distance = report.item_distance if report.item_distance is not None else np.zeros(len(valid))
    far = (distance >= report.min_novelty).astype(np.float64)
    passes = report.passes.astype(np.float64)
    groups = []  # (weights, figures of counts) per kind of class
    groups.append((np.bincount(report.bitmap_index, minlength=len(valid)),
                   lambda C: bitmap_figures(C, valid, new, passes, far, report.check_names)))
    if report.neuron is not None and len(report.hits):  # an audit of samples without a map has no map's figures
        cells = 4 * report.novel + 2 * report.valid + report.occupied[report.neuron]
        groups.append((np.bincount(cells, minlength=CELLS), cell_figures))
    if report.crisp_histogram is not None:
        pixels = np.arange(len(report.crisp_histogram), dtype=np.float64)
        groups.append((report.crisp_histogram,
                       lambda C: {"crispness": _divide(C @ pixels, C.sum(axis=1) * report.bitmaps.shape[1])}))
    skipped = dict(NOT_RESAMPLED)
    inside = _inside(report)
    if inside is None:
        skipped["pixels_precision"] = "no k-NN metrics in this audit, or no realism score that gives them"
    else:
        groups.append((np.bincount(inside, minlength=2), lambda C: {"pixels_precision": _divide(C[:, 1], C.sum(axis=1))}))
    return {"n_resamples": n_resamples, "confidence": 0.95, "seed": seed, "samples": n,
            "scored": len(report.scored), "definition": DEFINITION,
            "figures": group_intervals(groups, n_resamples, rng, budget), "not_resampled": skipped}


def _inside(report) -> np.ndarray | None:
    """Per scored sample: inside some training item's k-NN ball in pixel space (realism at least 1), as 0/1; None
    when the audit has no pixel precision, or the realism scores do not give it exactly."""
    realism = report.scores.get("realism")
    pixels = report.membership.get("pixels")
    if realism is None or pixels is None:
        return None
    inside = (realism >= 1).astype(np.int64)
    return inside if len(inside) and inside.mean() == pixels["precision"]["value"] else None
