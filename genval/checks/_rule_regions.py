"""Rules as data: a region of the grid and what must hold there, measured on a whole batch at once.

A :class:`Rule` names a region and its conditions (how many ink components,
with 4- or 8-connectivity; column ranges that distinct components must reach;
the narrowest span a component may have; how much ink). :func:`_region_stats`
measures a rule's region on thousands of bitmaps with one connected-component
labelling; :func:`_rule_pass` and :func:`_rule_reason` turn the measurements
into pass/fail and into a sentence. The whole-bitmap measurements the generic
checks use (components, isolated pixels) live here too. :class:`CheckSet`
(:mod:`genval.checks._validity`) bundles rules and generic checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from genval._utils.budget import chunk_rows

__all__ = ["MAX_REACH", "Rule"]

# At most this many reach ranges per rule. Deciding them is a matching, polynomial in their number, but each
# range needs a component of its own: 64 is already more eyes than any bitmap rule needs.
MAX_REACH = 64
_STRUCTURE = {4: ndimage.generate_binary_structure(2, 1), 8: np.ones((3, 3), dtype=bool)}


def _span_text(word: str, lo: int, hi: int) -> str:
    """``row 3`` or ``rows 1-4``."""
    return f"{word} {lo}" if lo == hi else f"{word}s {lo}-{hi}"


def _count_text(lo: int, hi: int | None) -> str:
    if hi is None:
        return f"at least {lo}"
    return f"{lo}" if lo == hi else f"{lo} to {hi}"


@dataclass(frozen=True)
class Rule:
    """What must hold in one region of the grid.

    Parameters
    ----------
    name : str
    rows, cols : (int, int)
        1-based inclusive ranges; ``cols`` defaults to every column.
    components : (int, int or None), optional
        How many ink components the region holds: ``(2, 2)`` exactly two,
        ``(1, None)`` at least one.
    connectivity : {4, 8}
    reach : tuple of (int, int)
        Column ranges (1-based, inclusive) that distinct components must each
        reach, e.g. the two eyes ``((1, 2), (4, 5))``; at most
        :data:`MAX_REACH` (64) of them. Decided as a bipartite matching of
        ranges to components, in polynomial time.
    min_span : int, optional
        Every component spans at least this many columns.
    ink : (int, int or None), optional
        Ink pixels in the region.

    Examples
    --------
    >>> eyes = Rule("eyes", rows=(1, 4), components=(2, 2), reach=((1, 2), (4, 5)))
    >>> eyes.where()
    'rows 1-4'
    """

    name: str
    rows: tuple[int, int]
    cols: tuple[int, int] | None = None
    components: tuple[int, int | None] | None = None
    connectivity: int = 8
    reach: tuple[tuple[int, int], ...] = ()
    min_span: int | None = None
    ink: tuple[int, int | None] | None = None

    def where(self) -> str:
        """The region in words, 1-based, for reasons."""
        text = _span_text("row", *self.rows)
        return text if self.cols is None else f"{text}, {_span_text('column', *self.cols)}"


@dataclass(frozen=True)
class _Stats:
    """Per-bitmap measurements of one rule's region."""

    n_components: np.ndarray
    reach_ok: np.ndarray
    min_span: np.ndarray  # narrowest component span (0 when none)
    ink: np.ndarray


def _region_stats(B: np.ndarray, rule: Rule) -> _Stats:
    """Measure a rule's region on a batch ``B`` (n, h, w) with one labelling call."""
    n = len(B)
    r0, r1 = rule.rows
    c0, c1 = rule.cols if rule.cols is not None else (1, B.shape[2])
    region = B[:, r0 - 1:r1, c0 - 1:c1]
    rh, cw = region.shape[1:]
    # Stack the regions with a blank row between: components cannot cross it.
    canvas = np.zeros((n, rh + 1, cw), dtype=bool)
    canvas[:, :rh] = region
    labels, count = ndimage.label(canvas.reshape(n * (rh + 1), cw), _STRUCTURE[rule.connectivity])
    ink = region.reshape(n, -1).sum(axis=1)
    if count == 0:
        zeros = np.zeros(n, dtype=np.int64)
        return _Stats(zeros, np.full(n, not rule.reach), zeros, ink)
    # find_objects gives each component's bounding box in one pass over the labels (ndimage.minimum and
    # maximum per label take ten times as long on a 60,000-item set).
    boxes = np.array([(o[0].start, o[1].start, o[1].stop) for o in ndimage.find_objects(labels)], dtype=np.int64)
    owner = boxes[:, 0] // (rh + 1)
    lo = boxes[:, 1] + c0  # 1-based
    hi = boxes[:, 2] - 1 + c0
    n_components = np.bincount(owner, minlength=n)
    span = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(span, owner, hi - lo + 1)
    span[n_components == 0] = 0
    reach_ok = _reach_served(owner, lo, hi, rule.reach, n) if rule.reach else np.ones(n, dtype=bool)
    return _Stats(n_components, reach_ok, span, ink)


# Bytes of working memory per (component, range) pair while matching: the overlap flag, the edge's row and
# column, and scipy's copies of them.
_BYTES_PER_EDGE = 40


def _reach_served(owner: np.ndarray, lo: np.ndarray, hi: np.ndarray, reach, n: int) -> np.ndarray:
    """Per bitmap: can each range of ``reach`` be reached by a component of its own?

    An 8- or 4-connected component covers every column between its ends, so
    it reaches ``[a, b]`` when its columns ``[lo, hi]`` overlap it. Distinct
    components must serve the ranges: a maximum bipartite matching between
    ranges and components (Hopcroft-Karp, scipy's
    ``maximum_bipartite_matching``) must match every range. The bitmaps of a
    batch are disjoint graphs, so one matching over their union answers them
    all, in ``O(E sqrt(V))`` for ``E`` overlapping pairs; groups of bitmaps
    are matched in turn to keep the edges within the memory budget.

    ``owner`` (nondecreasing: labels run in raster order over the stacked
    regions) gives each component's bitmap, ``lo`` and ``hi`` its first and
    last column.
    """
    R = len(reach)
    a = np.array([r[0] for r in reach], dtype=np.int64)
    b = np.array([r[1] for r in reach], dtype=np.int64)
    n_components = np.bincount(owner, minlength=n)
    served = np.zeros(n, dtype=bool)
    per_bitmap = max(1, int(n_components.max(initial=0))) * R * _BYTES_PER_EDGE
    group = chunk_rows(per_bitmap)
    for g0 in range(0, n, group):
        g1 = min(n, g0 + group)
        c0, c1 = np.searchsorted(owner, [g0, g1])
        overlap = (lo[c0:c1, None] <= b) & (hi[c0:c1, None] >= a)  # (components, ranges)
        # A bitmap with fewer components than ranges cannot serve them all; leave its edges out.
        overlap &= (n_components[owner[c0:c1]] >= R)[:, None]
        comp, k = np.nonzero(overlap)
        slots = (owner[c0 + comp] - g0) * R + k  # one row per (bitmap, range)
        graph = csr_matrix((np.ones(len(comp), dtype=np.int8), (slots, comp)), shape=((g1 - g0) * R, c1 - c0))
        matched = maximum_bipartite_matching(graph, perm_type="column") >= 0
        served[g0:g1] = matched.reshape(g1 - g0, R).all(axis=1)
    return served


def _in_range(values: np.ndarray, bounds: tuple[int, int | None]) -> np.ndarray:
    lo, hi = bounds
    ok = values >= lo
    return ok if hi is None else ok & (values <= hi)


def _rule_pass(stats: _Stats, rule: Rule) -> np.ndarray:
    ok = np.ones(len(stats.ink), dtype=bool)
    if rule.components is not None:
        ok &= _in_range(stats.n_components, rule.components)
    ok &= stats.reach_ok
    if rule.min_span is not None:
        ok &= (stats.n_components == 0) | (stats.min_span >= rule.min_span)
    if rule.ink is not None:
        ok &= _in_range(stats.ink, rule.ink)
    return ok


def _counted(n, noun: str) -> str:
    """``1 component``, ``3 components``."""
    return f"{int(n)} {noun}{'' if int(n) == 1 else 's'}"


def _rule_reason(stats: _Stats, rule: Rule, i: int) -> str:
    """Why bitmap ``i`` fails ``rule``: the first condition that does not hold."""
    where = rule.where()
    if rule.components is not None and not _in_range(stats.n_components[i:i + 1], rule.components)[0]:
        return (f"{rule.name}: found {_counted(stats.n_components[i], 'component')} in {where}, "
                f"expected {_count_text(*rule.components)}")
    if not stats.reach_ok[i]:
        ranges = [_span_text("column", a, b) for a, b in rule.reach]
        if len(ranges) == 2:
            return f"{rule.name}: expected one component reaching {ranges[0]} and another reaching {ranges[1]}"
        return f"{rule.name}: expected distinct components reaching {', '.join(ranges)}"
    if rule.min_span is not None and stats.n_components[i] and stats.min_span[i] < rule.min_span:
        return f"{rule.name}: spans {_counted(stats.min_span[i], 'column')}, expected at least {rule.min_span}"
    return f"{rule.name}: {_counted(stats.ink[i], 'ink pixel')} in {where}, expected {_count_text(*rule.ink)}"


def _neighbour_counts(B: np.ndarray) -> np.ndarray:
    """For every pixel, how many of its 8 neighbours are ink."""
    n, h, w = B.shape
    padded = np.zeros((n, h + 2, w + 2), dtype=np.int8)
    padded[:, 1:-1, 1:-1] = B
    total = np.zeros((n, h, w), dtype=np.int8)
    for dr in (0, 1, 2):
        for dc in (0, 1, 2):
            if dr != 1 or dc != 1:
                total += padded[:, dr:dr + h, dc:dc + w]
    return total


def _whole_components(B: np.ndarray) -> np.ndarray:
    return _region_stats(B, Rule("all", (1, B.shape[1]))).n_components


def _isolated_pixels(B: np.ndarray) -> np.ndarray:
    """Per bitmap: ink pixels with no ink among their 8 neighbours."""
    return ((_neighbour_counts(B) == 0) & B).reshape(len(B), -1).sum(axis=1)


def _in_chunks(B: np.ndarray, measure) -> np.ndarray:
    """``measure(B)`` computed on chunks of bitmaps sized by the memory budget, concatenated.

    A bitmap costs about 16 bytes per pixel while measured (the labelling's
    canvas and int32 labels, the neighbour counts), so chunks keep that
    within the budget whatever the number of bitmaps.
    """
    rows = chunk_rows(16 * B[0].size) if len(B) else 1
    if len(B) <= rows:
        return measure(B)
    return np.concatenate([measure(B[s:s + rows]) for s in range(0, len(B), rows)])
