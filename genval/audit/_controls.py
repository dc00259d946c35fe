"""Controls for membership scores: map-free baselines, strata, and paired bootstrap comparisons.

A membership score (the map's distance, say) that tells valid samples from
invalid ones is evidence about the map only if a trivial geometric score
does not do as well. :mod:`genval.audit._baselines` supplies those trivial scores (the hull's
depth, the box's centre); this module the machinery to compare against them honestly:

* :func:`auroc`: the area under the ROC curve with sample weights and,
  optionally, strata (*bins*) inside which alone valid and invalid samples
  are paired (a matched comparison).
* :func:`controlled_comparison`: every score's AUROC on all new samples, on
  those inside the hull and matched by nearest-code distance, each beside
  the best baseline (or chance, a constant score, when every baseline is
  worse than chance), with a 95% interval for the difference from a bootstrap
  that resamples *distinct bitmaps* (many samples decode to one bitmap, so
  samples are not independent), and a verdict in words.

Rules of thumb: a stratum resting on fewer than :data:`MIN_DISTINCT` distinct
valid or invalid bitmaps is reported but not ranked; a score "beats" the
baselines only when the whole interval of its difference lies above 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from genval._utils.budget import blas_limit, check_allocation
from genval._utils.files import resolve_rng
from genval.errors import ParameterError

__all__ = ["BASELINES", "MIN_DISTINCT", "N_BINS", "N_BOOTSTRAP", "auroc", "bootstrap_aurocs",
           "controlled_comparison"]

BASELINES = ("hull_depth", "nearest_code", "box_centre", "chance")
# "chance" is a constant score (AUROC 0.5 exactly): beating the best baseline never means beating one below chance.
MIN_DISTINCT = 10  # distinct valid and distinct invalid bitmaps a stratum needs before its scores are ranked
N_BINS = 20  # nearest-code distance bins of the matched stratum (equal counts of new samples): with 5, the
# emojis' nearest-code distance still scored 0.67 within bins; with 20, 0.57
N_BOOTSTRAP = 1000  # resamples of distinct bitmaps behind each interval
def _bin_members(n: int, bins: np.ndarray | None) -> list[np.ndarray]:
    """The sample indices of each bin (one bin of all ``n`` samples without ``bins``)."""
    return [np.arange(n)] if bins is None else [np.flatnonzero(bins == b) for b in np.unique(bins)]


def auroc(score, truth, weight=None, bins=None) -> float | None:
    """Area under the ROC curve of ``score`` as a predictor of ``truth``; ties count one half.

    Parameters
    ----------
    score : array (n,)
        Higher predicts ``True``.
    truth : array of bool (n,)
    weight : array (n,), optional
        Each sample's weight (a bootstrap multiplicity).
    bins : array of int (n,), optional
        Strata: only valid/invalid pairs in one bin are compared, and the
        bins pooled by their numbers of pairs (a matched AUROC).

    Returns
    -------
    float or None
        None when no bin holds both classes.

    Examples
    --------
    >>> auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True])
    0.75
    >>> auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True], bins=[0, 1, 0, 1])
    1.0
    """
    score = np.asarray(score, dtype=float)
    truth = np.asarray(truth, dtype=bool)
    weight = np.ones(len(score)) if weight is None else np.asarray(weight, dtype=float)
    # numerator: over (valid i, invalid j) pairs in one bin, w_i w_j ([s_i > s_j] + [s_i = s_j] / 2);
    # denominator: over bins, (valid weight) x (invalid weight)
    num = den = 0.0
    for members in _bin_members(len(score), None if bins is None else np.asarray(bins)):
        order = members[np.argsort(score[members], kind="stable")]
        s = score[order]
        starts = np.flatnonzero(np.concatenate([[True], s[1:] != s[:-1]]))  # tied scores form one group
        w, t = weight[order], truth[order]
        V = np.add.reduceat(w * t, starts) if len(order) else np.zeros(0)
        In = np.add.reduceat(w * ~t, starts) if len(order) else np.zeros(0)
        num += float((V * (np.cumsum(In) - In + 0.5 * In)).sum())
        den += float(V.sum() * In.sum())
    return num / den if den > 0 else None


def _matched_bins(distance: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-count bins of a distance (quantile edges; tied edges merge bins)."""
    edges = np.unique(np.quantile(distance, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.searchsorted(edges, distance, side="right")


def _stratum_table(scores: Mapping[str, np.ndarray], truth: np.ndarray, bitmap: np.ndarray, select: np.ndarray,
                   bins: np.ndarray | None, kinds: Mapping[str, str], baselines: Sequence[str], n_boot: int,
                   min_distinct: int, rng: np.random.Generator) -> dict:
    t, b = truth[select], bitmap[select]
    bins = None if bins is None else bins[select]
    distinct_valid, distinct_invalid = np.unique(b[t]), np.unique(b[~t])
    doc = {"n_valid": int(t.sum()), "n_invalid": int((~t).sum()),
           "distinct_valid": len(distinct_valid), "distinct_invalid": len(distinct_invalid),
           "ranked": bool(len(distinct_valid) >= min_distinct and len(distinct_invalid) >= min_distinct),
           "best_baseline": None, "scores": {}}
    if not (len(distinct_valid) and len(distinct_invalid)):
        doc["note"] = "no AUROC: this stratum does not hold both valid and invalid new samples"
        return doc
    if bins is not None and len(np.unique(bins)) > 1:
        doc["bins"] = int(len(np.unique(bins)))
    points = {name: auroc(s[select], t, bins=bins) for name, s in scores.items()}
    known = [name for name in baselines if points.get(name) is not None]
    best = max(known, key=lambda name: points[name]) if known else None
    doc["best_baseline"] = best
    diffs = _bootstrap_differences(scores, best, t, b, bins, select, n_boot, rng) \
        if best is not None and doc["ranked"] else {}
    for name, value in points.items():
        row = {"auroc": value, "kind": kinds.get(name, "score")}
        if name in diffs:
            lo, hi = diffs[name]
            row["vs_best_baseline"] = {"difference": None if value is None else value - points[best],
                                       "interval": [lo, hi]}
            row["verdict"] = "beats" if lo > 0 else ("worse than" if hi < 0 else "no better than")
        doc["scores"][name] = row
    if not doc["ranked"]:
        doc["note"] = (f"not ranked: {len(distinct_valid)} distinct valid and {len(distinct_invalid)} distinct "
                       f"invalid bitmaps; ranking needs at least {min_distinct} of each")
    return doc


def _pair_matrix(score: np.ndarray, truth: np.ndarray, column: np.ndarray, bins: np.ndarray | None, kv: int,
                 ki: int) -> tuple[np.ndarray, np.ndarray]:
    """Per (valid bitmap, invalid bitmap): the AUROC numerator and the number of their sample pairs, within bins.

    ``P[a, b]`` sums ``[s_i > s_j] + [s_i = s_j] / 2`` over valid samples ``i`` of bitmap ``a`` and invalid
    samples ``j`` of bitmap ``b`` in one bin; ``Q[a, b]`` counts those pairs. A bootstrap that draws bitmaps
    with multiplicities ``u`` (valid) and ``v`` (invalid) then has the AUROC ``u P v / u Q v``.
    """
    P, Q = np.zeros((kv, ki)), np.zeros((kv, ki))
    for members in _bin_members(len(score), bins):
        t = truth[members]
        sv, cv = score[members][t], column[members][t]
        si, ci = score[members][~t], column[members][~t] - kv
        Q += np.outer(np.bincount(cv, minlength=kv), np.bincount(ci, minlength=ki))
        order = np.lexsort((si, ci))  # invalid samples by bitmap, then score
        si, ci = si[order], ci[order]
        starts = np.searchsorted(ci, np.arange(ki + 1))
        for b in np.flatnonzero(np.diff(starts)):
            ranked = si[starts[b]:starts[b + 1]]
            below = np.searchsorted(ranked, sv, side="left")
            ties = np.searchsorted(ranked, sv, side="right") - below
            P[:, b] += np.bincount(cv, weights=below + 0.5 * ties, minlength=kv)
    return P, Q


def _resample_counts(rng: np.random.Generator, k: int, n_boot: int) -> np.ndarray:
    """How often each of ``k`` items is drawn in each of ``n_boot`` resamples of ``k`` draws with replacement."""
    drawn = rng.integers(0, k, size=(n_boot, k)) + k * np.arange(n_boot)[:, None]
    return np.bincount(drawn.ravel(), minlength=n_boot * k).reshape(n_boot, k).astype(np.float64)


def bootstrap_aurocs(scores: Mapping[str, np.ndarray], valid, bitmap, bins=None, n_boot: int = N_BOOTSTRAP,
                     random_state=None, return_weights: bool = False) -> dict | tuple[dict, np.ndarray]:
    """Each score's AUROC over ``n_boot`` resamples of distinct bitmaps, valid and invalid apart.

    A resample draws as many distinct valid bitmaps as there are, with
    replacement, and likewise the invalid ones; a drawn bitmap brings every
    sample that decodes to it (drawn twice: each sample counts twice). The
    AUROC of a resample is then the weighted AUROC (:func:`auroc` with these
    weights, within ``bins``), computed for all resamples at once from one
    matrix per score of (valid bitmap, invalid bitmap) pair counts.

    Parameters
    ----------
    scores : mapping of str to array (n,)
    valid : array of bool (n,)
    bitmap : array of int (n,)
        Which distinct bitmap each sample decodes to; one bitmap is all valid or all invalid.
    bins : array of int (n,), optional
        Strata, as :func:`auroc` takes them.
    n_boot : int
    random_state : int, Generator or None
    return_weights : bool
        Also return each sample's multiplicity in each resample.

    Returns
    -------
    aurocs : dict of str to ndarray (n_boot,)
        NaN where a resample has no valid-invalid pair.
    weights : ndarray (n_boot, n)
        Only with ``return_weights``.

    Examples
    --------
    >>> found, weights = bootstrap_aurocs({"s": [0.1, 0.2, 0.9, 0.8]}, [False, False, True, True], [0, 0, 1, 2],
    ...                                   n_boot=3, random_state=0, return_weights=True)
    >>> found["s"].tolist(), weights.shape
    ([1.0, 1.0, 1.0], (3, 4))
    """
    valid = np.asarray(valid, dtype=bool)
    bitmap = np.asarray(bitmap)
    distinct_valid, distinct_invalid = np.unique(bitmap[valid]), np.unique(bitmap[~valid])
    if np.intersect1d(distinct_valid, distinct_invalid).size:
        raise ParameterError("a bitmap is either valid or invalid: the same bitmap index has both verdicts")
    kv, ki = len(distinct_valid), len(distinct_invalid)
    if not (kv and ki):
        raise ParameterError(f"a bootstrap of AUROCs needs valid and invalid samples, got {kv} and {ki} bitmaps")
    rng = resolve_rng(random_state)
    column = np.where(valid, np.searchsorted(distinct_valid, bitmap),
                      kv + np.searchsorted(distinct_invalid, bitmap))
    u, v = _resample_counts(rng, kv, n_boot), _resample_counts(rng, ki, n_boot)
    check_allocation(8 * (2 * kv * ki + n_boot * (len(scores) + kv + ki)),
                     f"bootstrap AUROCs over {kv:,} x {ki:,} distinct valid and invalid bitmaps")
    found = {}
    bins = None if bins is None else np.asarray(bins)
    with blas_limit(n_boot * kv * ki), np.errstate(invalid="ignore", divide="ignore"):
        for name, values in scores.items():
            P, Q = _pair_matrix(np.asarray(values, dtype=float), valid, column, bins, kv, ki)
            found[name] = ((u @ P) * v).sum(axis=1) / ((u @ Q) * v).sum(axis=1)
    return (found, np.hstack([u, v])[:, column]) if return_weights else found


def _bootstrap_differences(scores, best, t, b, bins, select, n_boot, rng) -> dict:
    """95% percentile intervals of AUROC(score) - AUROC(best) over resamples of distinct bitmaps."""
    per_score = bootstrap_aurocs({name: s[select] for name, s in scores.items()}, t, b, bins, n_boot, rng)
    out = {}
    for name in scores:
        if name == best:
            continue
        d = per_score[name] - per_score[best]
        d = d[np.isfinite(d)]
        if len(d):
            out[name] = (float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975)))
    return out


def controlled_comparison(scores: Mapping[str, np.ndarray], valid, bitmap, depth, nearest, *,
                          kinds: Mapping[str, str] | None = None, baselines: Sequence[str] = BASELINES,
                          n_boot: int = N_BOOTSTRAP, min_distinct: int = MIN_DISTINCT, n_bins: int = N_BINS,
                          random_state=None) -> dict:
    """Every score's AUROC in three strata, each against the best map-free baseline, as a JSON-ready dict.

    Strata (all of new samples): ``all``; ``inside_hull`` (``depth >= 0``);
    ``matched``: valid and invalid samples compared only within one of
    ``n_bins`` equal-count bins of their distance to the nearest training
    code, the bins pooled by their numbers of valid-invalid pairs. In each,
    the best baseline is the one of ``baselines`` with the highest AUROC (``chance``, a constant score
    added when not given, has AUROC 0.5: a score never "beats" baselines that are all below chance);
    every other score gets the difference to it with a 95% percentile
    interval from ``n_boot`` resamples that draw distinct valid bitmaps and
    distinct invalid bitmaps with replacement (each drawn bitmap brings all
    its samples), and a verdict: ``beats`` (interval above 0), ``worse
    than`` (below 0) or ``no better than``.

    Parameters
    ----------
    scores : mapping of str to array (n,)
        Higher predicts valid; must include the baselines.
    valid : array of bool (n,)
    bitmap : array of int (n,)
        The distinct bitmap each sample decodes to.
    depth : array (n,)
        :func:`hull_depth` of each sample.
    nearest : array (n,)
        Distance of each sample's code to the nearest training code.
    kinds : mapping of str to str, optional
        A word per score for the table (``baseline``, ``map``, ``decoder``).
    random_state : int, Generator or None
        Draws the resamples.

    Returns
    -------
    dict
        ``{"strata": {name: {...}}, "definition", "n_bootstrap", "min_distinct", "summary": [sentences]}``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> depth = rng.normal(size=400)
    >>> valid = depth + rng.normal(scale=0.3, size=400) > 0
    >>> scores = {"hull_depth": depth, "nearest_code": -np.abs(depth), "box_centre": rng.normal(size=400),
    ...           "coin": rng.normal(size=400)}
    >>> doc = controlled_comparison(scores, valid, np.arange(400), depth, np.abs(depth), n_boot=200, random_state=0)
    >>> doc["strata"]["all"]["best_baseline"], doc["strata"]["all"]["scores"]["coin"]["verdict"]
    ('hull_depth', 'worse than')
    """
    valid = np.asarray(valid, dtype=bool)
    bitmap = np.asarray(bitmap)
    n = len(valid)
    if any(len(s) != n for s in scores.values()) or len(bitmap) != n or len(depth) != n or len(nearest) != n:
        raise ParameterError("every score, the verdicts, the bitmaps, the depths and the distances need one value "
                             f"per sample ({n})")
    scores = dict(scores)
    if "chance" in baselines and "chance" not in scores:
        scores["chance"] = np.zeros(n)
    missing = [b for b in baselines if b not in scores]
    if missing:
        raise ParameterError(f"the scores lack the baselines {', '.join(missing)}")
    rng = resolve_rng(random_state)
    kinds = dict(kinds or {})
    strata = _strata(np.asarray(depth), np.asarray(nearest, dtype=float), n_bins)
    doc = {"strata": {}, "n_bootstrap": n_boot, "min_distinct": min_distinct,
           "definition": "AUROC of each score as a predictor of validity on new samples; the difference to the "
                         "stratum's best map-free baseline with a 95% interval from a bootstrap over distinct "
                         "bitmaps (valid and invalid resampled apart)"}
    scores = {name: np.nan_to_num(np.asarray(s, dtype=float), posinf=np.finfo(float).max,
                                  neginf=-np.finfo(float).max) for name, s in scores.items()}
    for name, (select, bins, definition) in strata.items():
        table = _stratum_table(scores, valid, bitmap, select, bins, kinds, baselines, n_boot, min_distinct, rng)
        doc["strata"][name] = {"definition": definition, **table}
    doc["summary"] = _summary(doc["strata"], baselines)
    return doc


def _strata(depth: np.ndarray, nearest: np.ndarray, n_bins: int) -> dict:
    """Each stratum of :func:`controlled_comparison`: the samples it selects, its bins (or None) and its definition."""
    everything = np.ones(len(nearest), dtype=bool)
    return {
        "all": (everything, None, "every new sample"),
        "inside_hull": (np.asarray(depth) >= 0, None, "new samples inside the training codes' convex hull"),
        "matched": (everything, _matched_bins(nearest, n_bins) if len(nearest) else None,
                    f"valid against invalid new samples in the same one of {n_bins} equal-count bins of "
                    "nearest-code distance, bins pooled by their pairs (the nearest code's own AUROC there shows "
                    "how much of its signal the bins leave)"),
    }


def _summary(strata: dict, baselines: Sequence[str]) -> list[str]:
    """One sentence per stratum: which scores beat its best baseline, and which do not."""
    lines = []
    for name, table in strata.items():
        best = table.get("best_baseline")
        if best is None or not table["ranked"]:
            lines.append(f"{name}: " + table.get("note", "not ranked: no baseline"))
            continue
        rows = {k: v for k, v in table["scores"].items() if k not in baselines}
        beats = [k for k, v in rows.items() if v.get("verdict") == "beats"]
        rest = [k for k in rows if k not in beats]
        lines.append(f"{name}: best baseline {best} (AUROC {table['scores'][best]['auroc']:.3f}); "
                     + (f"beaten by {', '.join(beats)}" if beats else "no score beats it")
                     + (f"; not beaten by {', '.join(rest)}" if rest and beats else ""))
    return lines
