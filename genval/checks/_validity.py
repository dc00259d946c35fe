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
connected-component labelling for the whole batch; rules and the region
measurements are in :mod:`genval.checks._rule_regions`).

:func:`check_emoji` is the course's emoji criterion written out by hand; the
bundled ``emojis.rules.toml`` says the same as data, and the tests hold the
two to identical verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage

from genval._utils.budget import nearest_bitmaps
from genval.checks._rule_regions import (_STRUCTURE, MAX_REACH, Rule, _count_text, _counted, _in_chunks,
                                         _isolated_pixels, _region_stats, _rule_pass, _rule_reason, _whole_components)
from genval.data._bitmap_set import BitmapSet

__all__ = ["CheckResult", "CheckSet", "GENERIC_CHECKS", "Verdict", "check_emoji"]

GENERIC_CHECKS = ("not_empty", "ink_range", "component_range", "isolated_pixels")


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: its name, pass or fail, and a readable reason when it fails.

    One check's part of a :class:`Verdict`; :class:`genval.audit.SampleVerdicts` keeps the failed ones' reasons.

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

    One bitmap's; a batch's is :class:`genval.audit.SampleVerdicts`, labelled by ``genval.plotting.verdict_text``.

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

