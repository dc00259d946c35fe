"""Membership audits: decode many latent points, check each, report honest metrics.

An audit draws latent points by a *strategy*, decodes and thresholds them,
runs every structural check and reports, with denominators stated:

* validity = valid / total;
* uniqueness = unique valid / valid (distinct valid bitmaps);
* novelty = novel unique valid / unique valid (distinct valid bitmaps that
  are not identical to any training item);
* failures per check (in samples);
* SOM agreement: whether each sample's winning neuron is occupied by a
  training item, against the structural verdict (the 2x2 table, and the
  precision and recall of "occupied neuron" as a predictor of validity);
* ambiguity: the mean distance of decoded pixels from 0.5 (0.5 = crisp,
  0 = every pixel undecided).

Strategies: ``random`` (uniform in the codes' box), ``prior`` (a Gaussian
fitted to the codes), ``lines`` (straight lines between every pair of items
sharing a neuron), ``som-path`` (paths through the map's weights between those
pairs), ``grid`` (a regular grid over the box), ``vae-prior`` (a variational
autoencoder's prior, N(0, I)).

Audits work in chunks and check each distinct bitmap once, so a million
points fit in well under a gigabyte.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from genval._budget import check_allocation, chunk_rows, dedupe_rows
from genval._estimator import atomic_write, resolve_rng
from genval.bitmaps import BitmapSet
from genval.errors import GenvalError, ParameterError, ShapeMismatchError
from genval.rules import default_checks, load_rules
from genval.validity import CheckSet
from genval.walks import LatentSpace, points_along, sample_latent

__all__ = ["STRATEGIES", "AuditReport", "ModelComparison", "SampleVerdicts", "audit", "audit_points", "compare",
           "compare_models", "judge", "load_checks", "sharing_pairs"]

STRATEGIES = ("random", "prior", "lines", "som-path", "grid", "vae-prior")


def sharing_pairs(space: LatentSpace) -> list[tuple[int, int]]:
    """Every pair of items (indices, ``i < j``, in lexicographic order) whose codes the same neuron wins."""
    return [(int(i), int(j)) for i, j in _sharing_pairs(space)]


def _sharing_pairs(space: LatentSpace) -> np.ndarray:
    """:func:`sharing_pairs` as an (m, 2) array, built neuron by neuron (never item by item)."""
    winners = space.som.winners(space.codes)
    sizes = np.bincount(winners)
    n_pairs = int((sizes * (sizes - 1) // 2).sum())
    check_allocation(16 * n_pairs, f"the {n_pairs:,} pairs of items that share a neuron")
    order = np.argsort(winners, kind="stable")  # items of a neuron stay in index order
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    found = [np.zeros((0, 2), dtype=np.int64)]
    for k in np.flatnonzero(sizes > 1):
        members = order[bounds[k]:bounds[k + 1]]
        first, second = np.triu_indices(len(members), 1)
        found.append(np.column_stack([members[first], members[second]]))
    pairs = np.concatenate(found)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def audit_points(space: LatentSpace, strategy: str, n: int, random_state=None) -> np.ndarray:
    """The latent points a strategy audits, ``(n_points, n_latent)``.

    ``random``, ``prior`` and ``vae-prior`` give exactly ``n`` points; ``grid`` the smallest
    square grid with at least ``n``; ``lines`` and ``som-path`` split ``n``
    evenly over the sharing pairs (at least 2 points each, both ends
    included); when there are more than ``n / 2`` pairs (a big set), ``n // 2``
    of them (at least one) drawn at random walk, 2 points each.

    Raises
    ------
    ParameterError
        For an unknown strategy or ``n < 1``.
    GenvalError
        When ``lines``/``som-path`` find no two items sharing a neuron, or
        ``vae-prior`` meets a model without a prior.
    """
    if strategy not in STRATEGIES:
        raise ParameterError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if n < 1:
        raise ParameterError(f"n must be at least 1, got {n}")
    check_allocation(8 * n * space.codes.shape[1], f"{n:,} latent points")
    rng = resolve_rng(random_state)
    if strategy == "random":
        return sample_latent(space, n, "box", random_state=rng)
    if strategy == "prior":
        return sample_latent(space, n, "gaussian", random_state=rng)
    if strategy == "vae-prior":
        if not hasattr(space.model, "sample_prior"):
            raise GenvalError("the 'vae-prior' strategy samples a variational autoencoder's prior, and this model "
                              f"is a plain {type(space.model).__name__} (train one with genval train --vae)")
        return space.model.sample_prior(n, random_state=rng)
    if strategy == "grid":
        side = max(2, math.ceil(math.sqrt(n)))
        lo, hi = space.box()
        axes = [np.linspace(lo[d], hi[d], side) for d in range(2)]
        gx, gy = np.meshgrid(*axes)
        return np.column_stack([gx.ravel(), gy.ravel()])
    pairs = _sharing_pairs(space)
    if not len(pairs):
        rows, cols = space.som.grid_
        raise GenvalError(f"no two items share a neuron on the {rows}x{cols} map, so '{strategy}' has nothing "
                          "to walk; use a smaller map (--grid)")
    if len(pairs) > max(1, n // 2):
        pairs = pairs[np.sort(rng.choice(len(pairs), max(1, n // 2), replace=False))]
    per_pair = max(2, n // len(pairs))
    check_allocation(8 * per_pair * len(pairs) * space.codes.shape[1], f"{per_pair * len(pairs):,} latent points")
    t = np.linspace(0.0, 1.0, per_pair)[:, None]
    W = space.som.weights_.reshape(space.som.n_neurons, -1)
    winners = space.som.winners(space.codes)
    chunks = []
    for i, j in pairs:
        za, zb = space.codes[i], space.codes[j]
        if strategy == "lines":
            chunks.append(za + t * (zb - za))
        else:
            path = space.som.grid_path(int(winners[i]), int(winners[j]))
            chunks.append(points_along(np.vstack([za, W[path], zb]), per_pair)[1])
    return np.vstack(chunks)


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
        Per sample, one sentence per failed check.
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
        Default :func:`genval.rules.default_checks` of the set.

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
    packed = np.packbits(B, axis=1)
    first, inverse = dedupe_rows(packed)
    distinct = B[first]
    passes = checks.passes(distinct)
    failed, reasons = [], []
    for row, ok in zip(distinct, passes):
        failed.append(tuple(name for name, good in zip(checks.names, ok) if not good))
        reasons.append(() if ok.all() else checks.verdict(row).reasons)
    train_packed = np.packbits(training.binary(), axis=1)
    _, both = dedupe_rows(np.concatenate([packed[first], train_packed]))
    owner = np.full(both.max() + 1, -1, dtype=np.int64)
    owner[both[len(first):][::-1]] = np.arange(len(train_packed))[::-1]  # the first item of identical ones
    copy_of = owner[both[:len(first)]]
    return SampleVerdicts(valid=passes.all(axis=1)[inverse], failed=tuple(failed[k] for k in inverse),
                          reasons=tuple(reasons[k] for k in inverse), copy_of=copy_of[inverse],
                          item_names=tuple(training.names))


def _ratio(numerator: int, denominator: int, definition: str) -> dict:
    value = numerator / denominator if denominator else None
    return {"value": value, "numerator": numerator, "denominator": denominator, "definition": definition}


@dataclass(frozen=True, eq=False)
class AuditReport:
    """What an audit found. :meth:`to_dict` is the JSON document.

    Attributes
    ----------
    strategy : str
    check_names : tuple of str
    Z : ndarray (n, n_latent)
        The audited points.
    neuron : ndarray of int (n,)
        Winning neuron of each point (flat index).
    bitmap_index : ndarray of int (n,)
        Row of :attr:`bitmaps` each point decodes to.
    bitmaps : ndarray of bool (k, n_pixels)
        The distinct thresholded bitmaps, in order of first appearance.
    passes : ndarray of bool (k, n_checks)
        Every check on every distinct bitmap.
    in_training : ndarray of bool (k,)
        Whether a distinct bitmap is identical to a training item.
    occupied : ndarray of bool (n_neurons,)
        Neurons that win at least one training item.
    ambiguity : float
    """

    strategy: str
    dataset: str
    checks_title: str
    check_names: tuple[str, ...]
    grid: tuple[int, int]
    random_state: object
    Z: np.ndarray
    neuron: np.ndarray
    bitmap_index: np.ndarray
    bitmaps: np.ndarray
    passes: np.ndarray
    in_training: np.ndarray
    occupied: np.ndarray
    ambiguity: float
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def valid(self) -> np.ndarray:
        """Per sample: every check passes."""
        if "valid" not in self._cache:
            self._cache["valid"] = self.passes.all(axis=1)[self.bitmap_index]
        return self._cache["valid"]

    @property
    def n_total(self) -> int:
        return len(self.Z)

    def counts(self) -> dict:
        valid_u = self.passes.all(axis=1)
        seen = np.bincount(self.bitmap_index, minlength=len(self.bitmaps)) > 0
        return {
            "total": self.n_total,
            "valid": int(self.valid.sum()),
            "unique_valid": int((valid_u & seen).sum()),
            "novel_unique_valid": int((valid_u & seen & ~self.in_training).sum()),
        }

    def ratios(self) -> dict:
        c = self.counts()
        return {
            "validity": _ratio(c["valid"], c["total"], "valid / total"),
            "uniqueness": _ratio(c["unique_valid"], c["valid"], "unique valid / valid"),
            "novelty": _ratio(c["novel_unique_valid"], c["unique_valid"], "novel unique valid / unique valid"),
        }

    def failures(self) -> dict:
        """Samples failing each check."""
        per_bitmap = np.bincount(self.bitmap_index, minlength=len(self.bitmaps))
        fails = ((~self.passes) * per_bitmap[:, None]).sum(axis=0)
        return {name: int(f) for name, f in zip(self.check_names, fails)}

    def som_agreement(self) -> dict:
        """The 2x2 table of occupied neuron against structural validity."""
        occupied = self.occupied[self.neuron]
        valid = self.valid
        table = {
            "occupied_valid": int((occupied & valid).sum()),
            "occupied_invalid": int((occupied & ~valid).sum()),
            "empty_valid": int((~occupied & valid).sum()),
            "empty_invalid": int((~occupied & ~valid).sum()),
        }
        tp, fp, fn = table["occupied_valid"], table["occupied_invalid"], table["empty_valid"]
        return {
            "table": table,
            "precision": _ratio(tp, tp + fp, "valid among samples in occupied neurons"),
            "recall": _ratio(tp, tp + fn, "samples in occupied neurons among valid ones"),
        }

    def to_dict(self) -> dict:
        return {
            "strategy": self.strategy,
            "dataset": self.dataset,
            "checks": {"title": self.checks_title, "names": list(self.check_names)},
            "grid": list(self.grid),
            "random_state": self.random_state,
            "counts": self.counts(),
            "ratios": self.ratios(),
            "failures": self.failures(),
            "som_agreement": self.som_agreement(),
            "ambiguity": {"value": self.ambiguity, "definition": "mean |pixel - 0.5| over every decoded pixel"},
        }

    def write_csv(self, path) -> None:
        """One row per sample: point, neuron (1-based), bitmap as 0/1 row-major, verdict, failed checks."""
        strings = ["".join("1" if p else "0" for p in row) for row in self.bitmaps]
        failed = [";".join(n for n, ok in zip(self.check_names, row) if not ok) for row in self.passes]
        dims = self.Z.shape[1]
        with atomic_write(path, "w") as fh:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["sample", *[f"z{d + 1}" for d in range(dims)], "neuron", "bitmap", "valid", "failed"])
            for start in range(0, self.n_total, 50_000):
                fh.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
                stop = min(start + 50_000, self.n_total)
                for i in range(start, stop):
                    b = self.bitmap_index[i]
                    writer.writerow([i, *(f"{v:.6g}" for v in self.Z[i]), int(self.neuron[i]) + 1, strings[b],
                                     int(self.valid[i]), failed[b]])
            fh.write(buffer.getvalue())


def load_checks(bitmaps: BitmapSet, rules: str | os.PathLike | None = None) -> CheckSet:
    """The checks an audit of ``bitmaps`` runs: a rule file's, or the set's default ones.

    Parameters
    ----------
    bitmaps : BitmapSet
        The training set (generic checks take their ranges from it).
    rules : path, optional
        A TOML rule file (see :mod:`genval.rules`); default
        :func:`genval.rules.default_checks`: the emoji rules for the emojis,
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


def audit(space: LatentSpace, strategy: str = "random", n: int = 10_000, checks: CheckSet | None = None,
          random_state=0, chunk: int | None = None,
          progress: Callable[[int, int], None] | None = None) -> AuditReport:
    """Audit what the decoder produces at latent points chosen by ``strategy``.

    Parameters
    ----------
    space : LatentSpace
    strategy : {"random", "prior", "lines", "som-path", "grid"}
    n : int
        Points to audit (see :func:`audit_points` for how each strategy uses it).
    checks : CheckSet, optional
        Default :func:`genval.rules.default_checks` of the set.
    random_state : int, numpy Generator or None
    chunk : int, optional
        Points decoded at once; default from the memory budget.
    progress : callable, optional
        Called as ``progress(points_done, points_total)`` after each chunk.

    Returns
    -------
    AuditReport

    Raises
    ------
    ShapeMismatchError
        When the checks are for bitmaps of another size.
    genval._budget.MemoryBudgetError
        When ``n`` points could not be audited within the memory budget
        (the estimate assumes every point decodes to a bitmap of its own).

    Examples
    --------
    >>> from genval import Autoencoder, build_space, load_dataset
    >>> emojis = load_dataset("emojis")
    >>> space = build_space(emojis, Autoencoder(stop_wrong_pixels=0).fit(emojis.X), grid=(3, 3))
    >>> report = audit(space, "random", n=1000, random_state=0)
    >>> report.counts()["total"], report.check_names
    (1000, ('eyes', 'mouth'))
    >>> ratio = report.ratios()["validity"]
    >>> ratio["value"] == ratio["numerator"] / 1000
    True
    """
    checks = checks if checks is not None else default_checks(space.bitmaps)
    if tuple(checks.shape) != tuple(space.bitmaps.shape):
        raise ShapeMismatchError(f"the checks are for {checks.shape[0]}x{checks.shape[1]} bitmaps, "
                         f"the set is {space.bitmaps.shape[0]}x{space.bitmaps.shape[1]}")
    p = space.bitmaps.n_features
    # Per point: its latent point, distinct bitmap, neuron and distance from 0.5; at worst every point
    # decodes to a bitmap of its own, kept packed while the audit runs and as booleans in the report.
    check_allocation(n * (8 * (space.codes.shape[1] + 3) + p + p // 8 + 1), f"an audit of {n:,} points of {p} pixels")
    Z = audit_points(space, strategy, n, random_state)
    total = len(Z)
    chunk = chunk or chunk_rows(32 * p)
    bitmap_index = np.empty(total, dtype=np.int64)
    neuron = np.empty(total, dtype=np.int64)
    row_distance = np.empty(total)
    found: list[np.ndarray] = []  # each chunk's distinct bitmaps, packed, in order of first appearance
    n_found = 0
    for start in range(0, total, chunk):
        Zc = Z[start:start + chunk]
        pixels = space.model.inverse_transform(Zc)
        row_distance[start:start + chunk] = np.abs(pixels - 0.5).sum(axis=1)
        packed = np.packbits(pixels > 0.5, axis=1)
        first, inverse = dedupe_rows(packed)
        found.append(packed[first])
        bitmap_index[start:start + chunk] = inverse + n_found
        n_found += len(first)
        neuron[start:start + chunk] = space.som.winners(Zc)
        if progress is not None:
            progress(min(start + chunk, total), total)
    # Chunks found their bitmaps in order; one pass over them all merges the repeats across chunks.
    packed = np.concatenate(found) if found else np.zeros((0, (p + 7) // 8), dtype=np.uint8)
    first, inverse = dedupe_rows(packed)
    bitmap_index = inverse[bitmap_index]
    packed = packed[first]
    bitmaps = np.unpackbits(packed, axis=1, count=p).astype(bool)
    passes = checks.passes(bitmaps)
    training = np.packbits(space.bitmaps.binary(), axis=1)
    _, inverse = dedupe_rows(np.concatenate([packed, training]))
    in_training = np.isin(inverse[:len(packed)], inverse[len(packed):])
    occupied = np.zeros(space.som.n_neurons, dtype=bool)
    occupied[space.som.winners(space.codes)] = True
    return AuditReport(
        strategy=strategy, dataset=space.bitmaps.title, checks_title=checks.title, check_names=checks.names,
        grid=tuple(space.som.grid_),
        random_state=random_state if isinstance(random_state, (int, type(None))) else "generator",
        Z=Z, neuron=neuron, bitmap_index=bitmap_index, bitmaps=bitmaps, passes=passes, in_training=in_training,
        # fsum of per-row sums: the same figure whatever the chunk size.
        occupied=occupied, ambiguity=math.fsum(row_distance) / (total * p),
    )


def compare(space: LatentSpace, strategies=STRATEGIES, n: int = 10_000, checks: CheckSet | None = None,
            random_state=0, skip_impossible: bool = True) -> list[AuditReport]:
    """Run the same audit under several strategies (each with the same seed).

    A strategy that cannot run here (``lines`` or ``som-path`` when no two
    items share a neuron, ``vae-prior`` for a plain autoencoder) is left out
    when ``skip_impossible``.
    """
    checks = checks if checks is not None else default_checks(space.bitmaps)
    reports = []
    for strategy in strategies:
        try:
            reports.append(audit(space, strategy, n, checks, random_state))
        except GenvalError:
            if not skip_impossible:
                raise
    return reports


@dataclass(frozen=True)
class ModelComparison:
    """Several models audited under the same strategies. :meth:`to_dict` is the JSON document.

    Attributes
    ----------
    reports : tuple of (str, AuditReport)
        Each model's label with one of its reports: models in the order
        given, strategies in the order asked.
    skipped : tuple of (str, str)
        ``(label, strategy)`` for every strategy that cannot run on that model
        (no two items share a neuron, or no prior to sample).
    """

    reports: tuple[tuple[str, AuditReport], ...]
    skipped: tuple[tuple[str, str], ...]

    def min_validity(self) -> float:
        """The lowest validity of any report (0 when a report has no samples, or there is none)."""
        return min((report.ratios()["validity"]["value"] or 0.0 for _, report in self.reports), default=0.0)

    def to_dict(self) -> dict:
        return {
            "strategies": [dict(report.to_dict(), model=label) for label, report in self.reports],
            "skipped": [f"{label} {strategy}" for label, strategy in self.skipped],
        }


def compare_models(spaces: Mapping[str, LatentSpace], strategies: Sequence[str] = STRATEGIES, n: int = 10_000,
                   checks: CheckSet | None = None, random_state=0) -> ModelComparison:
    """Audit every model (each in its own latent space) under every strategy, same seed throughout.

    Parameters
    ----------
    spaces : mapping of str to LatentSpace
        A label for each model (``"autoencoder"``, ``"vae"``) and its space.
    strategies : sequence of str
        See :data:`STRATEGIES`; one that cannot run on a model is listed in
        :attr:`ModelComparison.skipped`.
    n : int
        Points per audit.
    checks : CheckSet, optional
        Default: :func:`genval.rules.default_checks` of each space's set.
    random_state : int or None
        The same seed for every audit, so the strategies and models see
        comparable draws.

    Returns
    -------
    ModelComparison

    Examples
    --------
    >>> from genval import Autoencoder, build_space, load_dataset
    >>> emojis = load_dataset("emojis")
    >>> space = build_space(emojis, Autoencoder(stop_wrong_pixels=0).fit(emojis.X), grid=(3, 3))
    >>> found = compare_models({"autoencoder": space}, ["random", "vae-prior"], n=200)
    >>> [(label, r.strategy) for label, r in found.reports], found.skipped
    ([('autoencoder', 'random')], (('autoencoder', 'vae-prior'),))
    """
    reports: list[tuple[str, AuditReport]] = []
    skipped: list[tuple[str, str]] = []
    for label, space in spaces.items():
        done = compare(space, strategies, n, checks, random_state)
        reports += [(label, report) for report in done]
        ran = {report.strategy for report in done}
        skipped += [(label, strategy) for strategy in strategies if strategy not in ran]
    return ModelComparison(tuple(reports), tuple(skipped))
