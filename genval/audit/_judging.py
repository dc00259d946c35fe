"""Judging samples: every check on every distinct bitmap, once, and whether it copies a training item.

:func:`judge_distinct` is the one place verdicts are computed: it
deduplicates packed bitmaps, runs the checks on each distinct one and looks
up the training item it equals. :func:`judge` (a few samples, with reasons
in words) and :func:`genval.audit.audit` (many samples, in chunks) both use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from genval._utils.budget import dedupe_rows
from genval.checks._rules import default_checks, load_rules
from genval.checks._validity import CheckSet
from genval.data._bitmap_set import BitmapSet
from genval.errors import ShapeMismatchError

__all__ = ["SampleVerdicts", "judge", "load_checks"]


@dataclass(frozen=True, eq=False)
class SampleVerdicts:
    """The verdict on each of a few decoded samples: valid or not, why, and new or a copy.

    Attributes
    ----------
    valid : ndarray of bool (n,)
        Every check passes.
    failed : tuple of tuple of str
        Per sample, the names of the checks it fails.
    reasons : tuple of tuple of str
        Per sample, one sentence per failed check; a valid sample judged by
        a classifier check gets the class it names
        (``classifier: looks like '7' (probability 0.93)``).
    copy_of : ndarray of int (n,)
        The training item (index) a sample's bitmap equals, or -1 for a new bitmap.
    item_names : tuple of str
        The training items' names, to name the copies.
    """

    valid: np.ndarray
    failed: tuple[tuple[str, ...], ...]
    reasons: tuple[tuple[str, ...], ...]
    copy_of: np.ndarray
    item_names: tuple[str, ...]

    @property
    def novel(self) -> np.ndarray:
        """Per sample: its bitmap equals no training item."""
        return self.copy_of < 0

    def __len__(self) -> int:
        return len(self.valid)

    def record(self, i: int) -> dict:
        """Sample ``i`` as JSON: ``valid``, ``failed``, ``reasons``, ``novel`` and ``copy_of`` (a name or null)."""
        k = int(self.copy_of[i])
        return {"valid": bool(self.valid[i]), "failed": list(self.failed[i]), "reasons": list(self.reasons[i]),
                "novel": k < 0, "copy_of": None if k < 0 else self.item_names[k]}

    def label(self, i: int) -> str:
        """A short verdict for a table or a picture: ``valid, new``, ``invalid (eyes), copy of :)``."""
        verdict = "valid" if self.valid[i] else f"invalid ({', '.join(self.failed[i])})"
        k = int(self.copy_of[i])
        return f"{verdict}, {'new' if k < 0 else 'copy of ' + self.item_names[k]}"


def _copy_of(packed: np.ndarray, training: BitmapSet) -> np.ndarray:
    """For distinct packed bitmaps, the training item each equals (the first of identical items), or -1."""
    items = np.packbits(training.binary(), axis=1)
    _, both = dedupe_rows(np.concatenate([packed, items]))
    owner = np.full(both.max() + 1, -1, dtype=np.int64)
    owner[both[len(packed):][::-1]] = np.arange(len(items))[::-1]  # the last write wins: the first item
    return owner[both[:len(packed)]]


@dataclass(frozen=True)
class DistinctVerdicts:
    """The verdicts on the distinct bitmaps of some samples.

    Attributes
    ----------
    bitmaps : ndarray of bool (k, n_pixels)
        The distinct bitmaps, in order of first appearance.
    passes : ndarray of bool (k, n_checks)
        Every check on every distinct bitmap.
    copy_of : ndarray of int (k,)
        The training item a distinct bitmap equals, -1 for a new one.
    inverse : ndarray of int (n,)
        The distinct bitmap of each sample.
    """

    bitmaps: np.ndarray
    passes: np.ndarray
    copy_of: np.ndarray
    inverse: np.ndarray


def judge_distinct(packed: np.ndarray, n_pixels: int, training: BitmapSet, checks: CheckSet) -> DistinctVerdicts:
    """Deduplicate packed bitmaps (``np.packbits`` rows), check each distinct one and find the item it copies."""
    first, inverse = dedupe_rows(packed)
    bitmaps = np.unpackbits(packed[first], axis=1, count=n_pixels).astype(bool)
    return DistinctVerdicts(bitmaps, checks.passes(bitmaps), _copy_of(packed[first], training), inverse)


def _reasons(bitmap: np.ndarray, passes: np.ndarray, checks: CheckSet) -> tuple[str, ...]:
    """Why a bitmap fails (one sentence per failed check), or, for a classifier's pass, the class it names."""
    if not passes.all():
        return checks.verdict(bitmap).reasons
    if checks.classifier is not None:  # the class it names is why it passes
        return (checks.classifier.reason(bitmap.reshape(-1)),)
    return ()


def judge(pixels: np.ndarray, training: BitmapSet, checks: CheckSet | None = None) -> SampleVerdicts:
    """Judge decoded samples: every check with its reasons, and whether each equals a training item.

    Parameters
    ----------
    pixels : array (n, n_pixels)
        Decoded pixel probabilities (thresholded at 0.5) or bitmaps.
    training : BitmapSet
        The set the model learned: copies are identical to one of its items
        (thresholded at 0.5).
    checks : CheckSet, optional
        Default :func:`genval.checks.default_checks` of the set.

    Returns
    -------
    SampleVerdicts

    Raises
    ------
    ShapeMismatchError
        When the samples, the set or the checks disagree on the number of pixels.

    Examples
    --------
    >>> from genval import load_dataset
    >>> emojis = load_dataset("emojis")
    >>> found = judge(emojis.X[:2], emojis)
    >>> found.label(0), found.record(1)["copy_of"] == emojis.names[1]
    ('valid, copy of :)', True)
    """
    checks = checks if checks is not None else default_checks(training)
    B = np.asarray(pixels) > 0.5
    p = training.n_features
    if B.ndim != 2 or B.shape[1] != p or int(np.prod(checks.shape)) != p:
        raise ShapeMismatchError(f"cannot judge samples of shape {B.shape} against {training.title}'s {p}-pixel "
                                 f"items with checks for {checks.shape[0]}x{checks.shape[1]} bitmaps")
    found = judge_distinct(np.packbits(B, axis=1), p, training, checks)
    failed = [tuple(name for name, good in zip(checks.names, ok) if not good) for ok in found.passes]
    reasons = [_reasons(row, ok, checks) for row, ok in zip(found.bitmaps, found.passes)]
    inverse = found.inverse
    return SampleVerdicts(valid=found.passes.all(axis=1)[inverse], failed=tuple(failed[k] for k in inverse),
                          reasons=tuple(reasons[k] for k in inverse), copy_of=found.copy_of[inverse],
                          item_names=tuple(training.names))


def load_checks(bitmaps: BitmapSet, rules: str | os.PathLike | None = None) -> CheckSet:
    """The checks an audit of ``bitmaps`` runs: a rule file's, or the set's default ones.

    Parameters
    ----------
    bitmaps : BitmapSet
        The training set (generic checks take their ranges from it).
    rules : path, optional
        A TOML rule file (see :mod:`genval.checks._rules`); default
        :func:`genval.checks.default_checks`: the emoji rules for the emojis,
        generic checks for any other set.

    Raises
    ------
    RuleFileError
        For a missing or bad rule file, or one written for another bitmap size.

    Examples
    --------
    >>> from genval import load_dataset
    >>> load_checks(load_dataset("emojis")).names
    ('eyes', 'mouth')
    """
    return default_checks(bitmaps) if rules is None else load_rules(rules, bitmaps)
