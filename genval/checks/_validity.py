"""Structural checks: is a decoded bitmap a plausible member of the set?

A check looks at a binary bitmap (decoded output thresholded at 0.5) and
passes or fails with a reason a person can read
(``eyes: found 3 components in rows 1-4, expected 2``). A :class:`Verdict`
holds every check's result for one bitmap.

Checks are data where they can be. A :class:`Rule` names a region of the grid
and what must hold there: how many ink components (exactly, or a range), with
4- or 8-connectivity; column ranges that distinct components must reach; the
narrowest span a component may have; how much ink. Generic checks fit any
set and take their ranges from the training items: not empty, ink count and
component count within the training range, no isolated pixels unless the
training items have some, and optionally a maximum Hamming distance to the
nearest training item. A :class:`CheckSet` bundles rules and generic checks
for one bitmap shape and evaluates thousands of bitmaps at once (one
connected-component labelling for the whole batch).

:func:`check_emoji` is the course's emoji criterion written out by hand; the
bundled ``emojis.rules.toml`` says the same as data, and the tests hold the
two to identical verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from genval._utils.budget import chunk_rows, nearest_bitmaps
from genval.data._bitmaps import BitmapSet

__all__ = ["CheckResult", "CheckSet", "GENERIC_CHECKS", "MAX_REACH", "Rule", "Verdict", "check_emoji"]

GENERIC_CHECKS = ("not_empty", "ink_range", "component_range", "isolated_pixels")
# At most this many reach ranges per rule. Deciding them is a matching, polynomial in their number, but each
# range needs a component of its own: 64 is already more eyes than any bitmap rule needs.
MAX_REACH = 64
_STRUCTURE = {4: ndimage.generate_binary_structure(2, 1), 8: np.ones((3, 3), dtype=bool)}


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: its name, pass or fail, and a readable reason when it fails.

    Examples
    --------
    >>> CheckResult("mouth", False, "mouth: spans 2 columns, expected at least 3").passed
    False
    """

    name: str
    passed: bool
    reason: str = ""


@dataclass(frozen=True)
class Verdict:
    """Every check's result for one bitmap.

    Examples
    --------
    >>> v = check_emoji(np.zeros((7, 5), dtype=bool))
    >>> v.valid, v.failed
    (False, ('eyes', 'mouth'))
    """

    results: tuple[CheckResult, ...]

    @property
    def valid(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.results if not r.passed)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(r.reason for r in self.results if not r.passed)

    def __str__(self) -> str:
        return "valid" if self.valid else "invalid: " + "; ".join(self.reasons)


def _span_text(word: str, lo: int, hi: int) -> str:
    """``row 3`` or ``rows 1-4``."""
    return f"{word} {lo}" if lo == hi else f"{word}s {lo}-{hi}"


def _count_text(lo: int, hi: int | None) -> str:
    if hi is None:
        return f"at least {lo}"
    return f"{lo}" if lo == hi else f"{lo} to {hi}"


# --------------------------------------------------------------------------- the hand-written emoji check

def _component_columns(img: np.ndarray) -> list[set[int]]:
    """The columns each 8-connected ink component of a small boolean image covers."""
    labels, count = ndimage.label(img, _STRUCTURE[8])
    return [set(np.nonzero(labels == k)[1].tolist()) for k in range(1, count + 1)]


def check_emoji(bitmap) -> Verdict:
    """The course's emoji criterion, made precise: two eyes and a mouth.

    * eyes: exactly two 8-connected ink components inside rows 1-4 (1-based,
      top first), one reaching the left half (columns 1-2) and another the
      right half (columns 4-5);
    * mouth: exactly one 8-connected ink component inside rows 5-7, spanning
      at least 3 columns.

    Ink outside a region does not count for it.

    Parameters
    ----------
    bitmap : array-like of bool, shape (7, 5) or (35,)

    Examples
    --------
    >>> from genval import load_dataset
    >>> check_emoji(load_dataset("emojis").image(":)") > 0.5).valid
    True
    """
    img = np.asarray(bitmap, dtype=bool).reshape(7, 5)
    results = []
    cols = _component_columns(img[0:4])
    if len(cols) != 2:
        results.append(CheckResult("eyes", False, f"eyes: found {_counted(len(cols), 'component')} in rows 1-4, expected 2"))
    elif not any(cols[i] & {0, 1} and cols[1 - i] & {3, 4} for i in (0, 1)):
        results.append(CheckResult("eyes", False, "eyes: expected one component reaching columns 1-2 "
                                                  "and another reaching columns 4-5"))
    else:
        results.append(CheckResult("eyes", True))
    mouth = _component_columns(img[4:7])
    if len(mouth) != 1:
        results.append(CheckResult("mouth", False, f"mouth: found {_counted(len(mouth), 'component')} in rows 5-7, expected 1"))
    else:
        span = len(mouth[0])
        if span < 3:
            results.append(CheckResult("mouth", False, f"mouth: spans {_counted(span, 'column')}, expected at least 3"))
        else:
            results.append(CheckResult("mouth", True))
    return Verdict(tuple(results))


# --------------------------------------------------------------------------- rules as data

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


@dataclass(frozen=True)
class _Generic:
    """Generic checks with the ranges taken from the training items."""

    names: tuple[str, ...]
    ink: tuple[int, int]
    components: tuple[int, int]
    isolated_allowed: bool
    max_hamming: int | None
    training: np.ndarray | None  # (m, n_pixels) bool, for max_hamming


@dataclass(frozen=True, eq=False)
class CheckSet:
    """Rules and generic checks for bitmaps of one shape.

    Build one with :meth:`from_rules` (usually through a rule file:
    :func:`genval.checks.load_rules`, or :func:`genval.checks.bundled_rules`
    for the emojis' two eyes and a mouth) or with :meth:`generic`.

    Attributes
    ----------
    shape : (int, int)
    rules : tuple of Rule
    generic_checks : optional
        The generic checks and the ranges they took from the training items.
    title : str
        Where the checks came from, for reports.

    Examples
    --------
    >>> checks = CheckSet.from_rules([Rule("top", rows=(1, 1), ink=(1, None))], (2, 2))
    >>> checks.passes([[1, 0, 0, 0], [0, 0, 1, 1]]).tolist()
    [[True], [False]]
    >>> str(checks.verdict([0, 0, 1, 1]))
    'invalid: top: 0 ink pixels in row 1, expected at least 1'
    """

    shape: tuple[int, int]
    rules: tuple[Rule, ...]
    generic_checks: _Generic | None = None
    title: str = ""
    _names: tuple[str, ...] = field(default=(), repr=False)
    classifier: object = None  # a genval.checks.ClassifierCheck: judged after every other check

    def with_classifier(self, check) -> "CheckSet":
        """These checks and a classifier's (:class:`genval.checks.ClassifierCheck`), last.

        >>> from genval import ClassifierCheck, load_dataset
        >>> digits = load_dataset("digits")
        >>> checks = CheckSet.generic(digits).with_classifier(ClassifierCheck.fit(digits))
        >>> checks.names[-2:], bool(checks.passes(digits.X[:1])[0, -1])
        (('isolated_pixels', 'classifier'), True)
        """
        if check.name in self._names:
            raise ValueError(f"these checks already have one named {check.name!r}")
        return replace(self, classifier=check, _names=self._names + (check.name,))

    @classmethod
    def from_rules(cls, rules, shape, training: BitmapSet | None = None, generic=(), max_hamming=None,
                   title: str = "") -> "CheckSet":
        """Bind rules (and named generic checks, fitted on ``training``) to a shape.

        Raises
        ------
        ValueError
            For a region outside the grid, an unknown generic check, or
            generic checks without training items.
        """
        shape = tuple(int(s) for s in shape)
        for rule in rules:
            for label, (a, b), limit in (("rows", rule.rows, shape[0]), ("cols", rule.cols or (1, shape[1]), shape[1])):
                if not 1 <= a <= b <= limit:
                    raise ValueError(f"rule {rule.name!r}: {label} {a}-{b} outside the {shape[0]}x{shape[1]} grid "
                                     f"(expected 1 <= first <= last <= {limit})")
            if len(rule.reach) > MAX_REACH:
                raise ValueError(f"rule {rule.name!r}: {len(rule.reach)} reach ranges, more than the limit of "
                                 f"{MAX_REACH}")
            for a, b in rule.reach:
                if not 1 <= a <= b <= shape[1]:
                    raise ValueError(f"rule {rule.name!r}: reach columns {a}-{b} outside 1-{shape[1]}")
            if rule.connectivity not in _STRUCTURE:
                raise ValueError(f"rule {rule.name!r}: connectivity must be 4 or 8, got {rule.connectivity}")
        unknown = [g for g in generic if g not in GENERIC_CHECKS]
        if unknown:
            raise ValueError(f"unknown generic check(s) {', '.join(unknown)}; known: {', '.join(GENERIC_CHECKS)}")
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            raise ValueError(f"rule names must be unique, got {', '.join(names)}")
        gen = None
        if generic or max_hamming is not None:
            if training is None:
                raise ValueError("generic checks take their ranges from training items; pass training=")
            if tuple(training.shape) != shape:
                raise ValueError(f"training items are {training.shape[0]}x{training.shape[1]}, "
                                 f"the checks are for {shape[0]}x{shape[1]}")
            T = training.binary().reshape(len(training), *shape)
            ink = T.reshape(len(T), -1).sum(axis=1)
            comps = _in_chunks(T, _whole_components)
            isolated = _in_chunks(T, _isolated_pixels).any()
            gen = _Generic(tuple(generic), (int(ink.min()), int(ink.max())), (int(comps.min()), int(comps.max())),
                           bool(isolated), max_hamming, training.binary().reshape(len(training), -1))
            names += list(generic) + (["max_hamming"] if max_hamming is not None else [])
        return cls(shape, tuple(rules), gen, title, tuple(names))

    @classmethod
    def generic(cls, training: BitmapSet, checks=GENERIC_CHECKS, max_hamming: int | None = None) -> "CheckSet":
        """The generic checks, with ranges from ``training`` (the default for any set)."""
        return cls.from_rules((), training.shape, training, checks, max_hamming,
                              title=f"generic checks fitted on {training.title or 'the training set'}")

    @property
    def names(self) -> tuple[str, ...]:
        """Check names in evaluation order (rules first, then generic checks)."""
        return self._names

    def _as_batch(self, B) -> np.ndarray:
        B = np.asarray(B, dtype=bool)
        h, w = self.shape
        if B.shape in ((h, w), (h * w,)):
            B = B.reshape(1, h, w)
        elif B.ndim == 2 and B.shape[1] == h * w:
            B = B.reshape(len(B), h, w)
        if B.ndim != 3 or B.shape[1:] != (h, w):
            raise ValueError(f"bitmaps must be {h}x{w} ({h * w} pixels), got shape {np.shape(B)}")
        return B

    def passes(self, B) -> np.ndarray:
        """Pass/fail of every check on a batch: bool array (n, n_checks), columns as :attr:`names`.

        Parameters
        ----------
        B : array-like of bool, (n, height, width) or (n, height * width)
        """
        B = self._as_batch(B)
        return _in_chunks(B, self._passes)

    def _passes(self, B: np.ndarray) -> np.ndarray:
        columns = [_rule_pass(_region_stats(B, rule), rule) for rule in self.rules]
        g = self.generic_checks
        if g is not None:
            flat = B.reshape(len(B), -1)
            ink = flat.sum(axis=1)
            for name in g.names:
                if name == "not_empty":
                    columns.append(ink > 0)
                elif name == "ink_range":
                    columns.append((ink >= g.ink[0]) & (ink <= g.ink[1]))
                elif name == "component_range":
                    comps = _whole_components(B)
                    columns.append((comps >= g.components[0]) & (comps <= g.components[1]))
                elif name == "isolated_pixels":
                    columns.append((_isolated_pixels(B) == 0) | g.isolated_allowed)
            if g.max_hamming is not None:
                columns.append(nearest_bitmaps(flat, g.training)[1] <= g.max_hamming)
        if self.classifier is not None:
            columns.append(self.classifier.passes(B.reshape(len(B), -1)))
        if not columns:
            return np.ones((len(B), 0), dtype=bool)
        return np.column_stack(columns)

    def verdict(self, bitmap) -> Verdict:
        """Every check's result, with reasons, for one bitmap."""
        B = self._as_batch(bitmap)
        if len(B) != 1:
            raise ValueError("verdict takes one bitmap; use passes() for a batch")
        results = []
        for rule in self.rules:
            stats = _region_stats(B, rule)
            ok = bool(_rule_pass(stats, rule)[0])
            results.append(CheckResult(rule.name, ok, "" if ok else _rule_reason(stats, rule, 0)))
        g = self.generic_checks
        flat = B.reshape(-1)
        if g is not None:
            flags = self.passes(B)[0][len(self.rules):]
            generic = self.names[len(self.rules):len(self.names) - (self.classifier is not None)]
            for name, ok in zip(generic, flags):
                results.append(CheckResult(name, bool(ok), "" if ok else self._generic_reason(name, B[0], flat)))
        if self.classifier is not None:  # the class it names is the reason, valid or not
            ok = bool(self.classifier.passes(flat[None])[0])
            results.append(CheckResult(self.classifier.name, ok, self.classifier.reason(flat)))
        return Verdict(tuple(results))

    def _generic_reason(self, name: str, img: np.ndarray, flat: np.ndarray) -> str:
        g = self.generic_checks
        ink = int(flat.sum())
        if name == "not_empty":
            return "not_empty: no ink, expected at least 1 pixel"
        if name == "ink_range":
            return f"ink_range: {_counted(ink, 'ink pixel')}, expected {_count_text(*g.ink)} (the training range)"
        if name == "component_range":
            comps = int(_whole_components(img[None])[0])
            return (f"component_range: {_counted(comps, 'component')}, expected {_count_text(*g.components)} "
                    "(the training range)")
        if name == "isolated_pixels":
            count = int(_isolated_pixels(img[None])[0])
            return f"isolated_pixels: {_counted(count, 'isolated ink pixel')}, and no training item has any"
        distance = int(nearest_bitmaps(flat[None], g.training)[1][0])
        return f"max_hamming: {distance} pixels from the nearest training item, expected at most {g.max_hamming}"

