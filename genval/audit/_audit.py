"""Membership audits: decode many latent points, judge each, and report what is new apart from what is copied.

An audit draws latent points by a *strategy* (:mod:`genval.audit._strategies`),
decodes and thresholds them, runs every structural check, and marks each sample
as a **copy** (its bitmap equals a training item's) or **new**. Copies pass by
construction, so every figure is reported twice, for all samples and for new
ones alone, each with its denominators:

* validity = valid / total; uniqueness = unique valid / valid; novelty =
  novel unique valid / unique valid; the *yield* = distinct new valid bitmaps;
* the copy rate = copies / total (the model's memorisation);
* failures per check;
* the Kohonen map's verdict: whether each sample's winning neuron is occupied
  by a training item, against the structural verdict (the 2x2 table with the
  precision and recall of "occupied neuron" as a predictor of validity), and
  as scores (the distance to the winning neuron's weights, its hit count);
* rule-free membership metrics (:mod:`genval.checks._membership`: k-NN precision and
  recall, density, coverage, authenticity) in pixel and latent space;
* the ROC curve and AUROC, on new samples, of each membership score as a
  predictor of validity (see :data:`genval.audit.SCORES`);
* crispness: the share of decoded pixels the decoder decides firmly
  (probability below 0.1 or above 0.9; 1 = every pixel crisp).

Audits work in chunks and check each distinct bitmap once, so a million
points fit in well under a gigabyte; the k-NN metrics and the scores use a
seeded subsample of at most :data:`genval.audit.MAX_SCORED` samples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from genval._utils.budget import blas_limit, check_allocation, chunk_rows, dedupe_rows, nearest_bitmaps
from genval._utils.files import resolve_rng
from genval.audit._bootstrap import N_RESAMPLES
from genval.audit._judging import judge_distinct
from genval.audit._report import AuditReport
from genval.audit._scores import K_NEIGHBOURS, MAX_SCORED, SCORES, score_samples
from genval.audit._strategies import ItemsOnMap, draw
from genval.checks._nullmodel import null_model
from genval.checks._rules import default_checks
from genval.checks._validity import CheckSet
from genval.errors import ParameterError, ShapeMismatchError
from genval.latent._space import LatentSpace

# Modules of other stages import these from here, where they lived before the audit stage was split.

__all__ = ["audit"]

NULL_DRAWS = 2000  # bitmaps per source of the checks' null model in every audit


def audit(space: LatentSpace, strategy: str = "random", n: int = 10_000, checks: CheckSet | None = None,
          random_state=0, chunk: int | None = None, progress: Callable[[int, int], None] | None = None,
          k: int = K_NEIGHBOURS, max_scored: int = MAX_SCORED, min_novelty: int = 1,
          n_resamples: int = N_RESAMPLES) -> AuditReport:
    """Audit what the decoder produces at latent points chosen by ``strategy``.

    Parameters
    ----------
    space : LatentSpace
    strategy : str
        One of :data:`STRATEGIES`.
    n : int
        Points to audit (see :func:`audit_points` for how each strategy uses it).
    checks : CheckSet, optional
        Default :func:`genval.checks.default_checks` of the set.
    random_state : int, numpy Generator or None
        Draws the points, then the scored subsample and the mixture's start.
    chunk : int, optional
        Points decoded at once (at least 1); default from the memory budget.
    progress : callable, optional
        Called as ``progress(points_done, points_total)`` after each chunk.
    k : int
        Neighbours of the k-NN metrics and the realism score (5, as the papers).
    max_scored : int
        At most this many samples (a seeded subsample) enter the k-NN metrics and the scores.
    min_novelty : int
        The novelty floor: the report's ``yield_at_floor`` counts distinct new valid bitmaps at
        least this many pixels away from every training item (1: every new one).
    n_resamples : int
        Bootstrap resamples of the samples behind the report's ``bootstrap`` intervals (0: none).

    Returns
    -------
    AuditReport

    Raises
    ------
    ShapeMismatchError
        When the checks are for bitmaps of another size.
    ParameterError
        For ``k``, ``chunk``, ``max_scored``, ``min_novelty`` or ``n_resamples`` out of range, or ``n`` points
        beyond the memory budget (a MemoryBudgetError; it assumes every point decodes to a bitmap of its own).

    Examples
    --------
    >>> from genval import Autoencoder, build_space, load_dataset
    >>> emojis = load_dataset("emojis")
    >>> space = build_space(emojis, Autoencoder(stop_wrong_pixels=0).fit(emojis.X), grid=(3, 3))
    >>> report = audit(space, "random", n=1000, random_state=0)
    >>> report.counts()["total"], report.check_names
    (1000, ('eyes', 'mouth'))
    >>> report.counts(new_only=True)["total"] == 1000 - report.copies()["rate"]["numerator"]
    True
    """
    checks = _checked(space, checks, n, k, max_scored, min_novelty, chunk, n_resamples)
    rng = resolve_rng(random_state)
    items = ItemsOnMap(space)
    drawn = draw(space, strategy, n, rng, items)
    copied = drawn.items  # a strategy that returns training items: they are judged as they are, not decoded
    Z = drawn.points if copied is None else space.codes[copied]
    decoded = _decode(items, Z, copied, chunk or chunk_rows(32 * space.bitmaps.n_features), progress)
    verdicts = judge_distinct(decoded.packed, space.bitmaps.n_features, space.bitmaps, checks)
    bitmap_index = verdicts.inverse[decoded.bitmap_index]
    scored = np.arange(len(Z)) if len(Z) <= max_scored else np.sort(rng.choice(len(Z), max_scored, replace=False))
    scored_bitmaps = verdicts.bitmaps[bitmap_index[scored]]
    scores, membership, hull = _score(items, Z, copied, scored, decoded, scored_bitmaps, k, rng)
    _, item_distance = nearest_bitmaps(verdicts.bitmaps, space.bitmaps.binary())  # it dedupes both sides itself
    return AuditReport(
        strategy=strategy, dataset=space.bitmaps.title, checks_title=checks.title, check_names=checks.names,
        item_names=tuple(space.bitmaps.names), grid=tuple(space.som.grid_),
        random_state=random_state if isinstance(random_state, (int, type(None))) else "generator",
        Z=Z, neuron=decoded.neuron, som_distance=decoded.som_distance, bitmap_index=bitmap_index,
        bitmaps=verdicts.bitmaps, passes=verdicts.passes, copy_of=verdicts.copy_of, hits=items.hits,
        crisp_pixels=int(decoded.crisp @ np.arange(len(decoded.crisp))), crisp_histogram=decoded.crisp,
        scored=scored, scores=scores, membership=membership, hull=hull,
        item_distance=item_distance, min_novelty=min_novelty, control_seed=int(rng.integers(2**31 - 1)),
        bootstrap_seed=int(rng.integers(2**31 - 1)), n_resamples=n_resamples,  # drawn last: earlier draws unchanged
        # seeded apart from the audit: a property of the checks and the set, the same in every audit of them
        null=null_model(checks, space.bitmaps, n=NULL_DRAWS, random_state=0).to_dict(),
    )


def _checked(space: LatentSpace, checks: CheckSet | None, n: int, k: int, max_scored: int,
             min_novelty: int, chunk: int | None = None, n_resamples: int = 0) -> CheckSet:
    """The checks an audit runs (default: the set's), once the arguments fit the set and the memory budget."""
    checks = checks if checks is not None else default_checks(space.bitmaps)
    if tuple(checks.shape) != tuple(space.bitmaps.shape):
        raise ShapeMismatchError(f"the checks are for {checks.shape[0]}x{checks.shape[1]} bitmaps, "
                                 f"the set is {space.bitmaps.shape[0]}x{space.bitmaps.shape[1]}")
    for name, value, low in (("k", k, 1), ("chunk", chunk, 1), ("max_scored", max_scored, 1),
                             ("n_resamples", n_resamples, 0)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                  or value < low):
            raise ParameterError(f"{name} must be a whole number of at least {low}, got {value!r}")
    p = space.bitmaps.n_features
    if not 1 <= min_novelty <= p:
        raise ParameterError(f"min_novelty must be a number of pixels from 1 to {p}, got {min_novelty}")
    # Per point: its latent point, distinct bitmap, neuron and map distance; at worst every point
    # decodes to a bitmap of its own, kept packed while the audit runs and as booleans in the report,
    # with its distance to the nearest training item.
    # Per scored sample: its scores, and the near neighbours the k-NN radii keep (about k + 8 each).
    scored_bytes = min(n, max_scored) * (8 * len(SCORES) + 32 * (k + 8))
    check_allocation(n * (8 * (space.codes.shape[1] + 4) + p + p // 8 + 1) + scored_bytes,
                     f"an audit of {n:,} points of {p} pixels")
    return checks


def _score(items: ItemsOnMap, Z: np.ndarray, copied: np.ndarray | None, scored: np.ndarray, decoded: "_Decoded",
           bitmaps: np.ndarray, k: int, rng: np.random.Generator) -> tuple[dict, dict, dict]:
    """:func:`score_samples` of the scored samples (``bitmaps``: each scored sample's thresholded bitmap)."""
    space = items.space
    if space.bitmaps.is_binary:
        fake, metric = bitmaps, "hamming"
    else:  # grey levels: the decoded probabilities against the items, by Euclidean distance
        fake = space.bitmaps.X[copied[scored]] if copied is not None else space.model.inverse_transform(Z[scored])
        metric = "euclidean"
    # The scores multiply the scored samples by the training items, a few dozen to a few thousand wide each.
    with blas_limit(len(space.bitmaps) * space.bitmaps.n_features * 64):
        return score_samples(items, Z[scored], decoded.neuron[scored], decoded.som_distance[scored], fake, metric,
                             k, rng, None if copied is None else copied[scored])


class _Decoded(NamedTuple):
    """The audited points decoded: each chunk's distinct bitmaps (packed), and per point its bitmap's row there,
    its winning neuron and the distance to that neuron's weights; and how many points decide firmly 0, 1, ... of
    their pixels."""

    packed: np.ndarray
    bitmap_index: np.ndarray
    neuron: np.ndarray
    som_distance: np.ndarray
    crisp: np.ndarray


def _decode(items: ItemsOnMap, Z: np.ndarray, copied: np.ndarray | None, chunk: int,
            progress: Callable[[int, int], None] | None) -> _Decoded:
    """Decode the points a chunk at a time (``copied``: take those training items' pixels instead)."""
    space, total, p = items.space, len(Z), items.space.bitmaps.n_features
    bitmap_index = np.empty(total, dtype=np.int64)
    neuron = np.empty(total, dtype=np.int64)
    som_distance = np.empty(total)
    crisp, n_found = np.zeros(p + 1, dtype=np.int64), 0
    found: list[np.ndarray] = []  # each chunk's distinct bitmaps, packed, in order of first appearance
    for start in range(0, total, chunk):
        Zc = Z[start:start + chunk]
        pixels = space.bitmaps.X[copied[start:start + chunk]] if copied is not None else \
            space.model.inverse_transform(Zc)
        crisp += np.bincount(np.count_nonzero((pixels < 0.1) | (pixels > 0.9), axis=1), minlength=p + 1)
        packed = np.packbits(pixels > 0.5, axis=1)
        first, inverse = dedupe_rows(packed)
        found.append(packed[first])
        bitmap_index[start:start + chunk] = inverse + n_found
        n_found += len(first)
        winners = space.som.winners(Zc)
        neuron[start:start + chunk] = winners
        som_distance[start:start + chunk] = np.sqrt(((Zc - items.weights[winners]) ** 2).sum(axis=1))
        if progress is not None:
            progress(min(start + chunk, total), total)
    # Chunks found their bitmaps in order; judge_distinct merges the repeats across chunks in one pass.
    packed = np.concatenate(found) if found else np.zeros((0, (p + 7) // 8), dtype=np.uint8)
    return _Decoded(packed, bitmap_index, neuron, som_distance, crisp)
