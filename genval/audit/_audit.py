"""Membership audits: decode many latent points, judge each, and report what is new apart from what is copied.

An audit draws latent points by a *strategy*, decodes and thresholds them,
runs every structural check, and marks each sample as a **copy** (its bitmap
equals a training item's) or **new**. Copies pass by construction, so every
figure is reported twice, for all samples and for new ones alone, each with
its denominators:

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
  predictor of validity (see :data:`SCORES`);
* crispness: the share of decoded pixels the decoder decides firmly
  (probability below 0.1 or above 0.9; 1 = every pixel crisp).

Strategies: ``random`` (uniform in the codes' box), ``prior`` (a Gaussian
fitted to the codes), ``gmm`` (a Gaussian mixture fitted to the codes, its
number of components chosen by BIC), ``neuron`` (uniform inside the cells of
the neurons that hold training items), ``lines`` (straight lines between every
pair of items sharing a neuron), ``som-path`` (paths through the map's weights
between those pairs), ``grid`` (a regular grid over the box), ``regions``
(region by region over a census of the distinct decoded bitmaps), ``vae-prior`` (a
variational autoencoder's prior, N(0, I)) and ``copycat``, the reference row:
it returns training items themselves, so it shows what pure memorisation
scores (validity 1, novelty 0).

Audits work in chunks and check each distinct bitmap once, so a million
points fit in well under a gigabyte; the k-NN metrics and the scores use a
seeded subsample of at most :data:`MAX_SCORED` samples.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from genval._utils.budget import blas_limit, check_allocation, chunk_rows, dedupe_rows, nearest_bitmaps
from genval._utils.files import atomic_write, resolve_rng
from genval.data._bitmaps import BitmapSet
from genval.audit._controls import box_centre_closeness, controlled_comparison, hull_depth
from genval.errors import ParameterError, ShapeMismatchError, StrategyImpossibleError
from genval.checks._membership import membership_metrics, nearest_distance, realism
from genval.checks._nullmodel import null_model
from genval.models._protocol import LatentModel, has_prior, model_kind
from genval.latent._regions import region_census, sample_regions
from genval.checks._rules import default_checks, load_rules
from genval.checks._validity import CheckSet
from genval.latent._space import LatentSpace, plane, points_along, sample_latent

__all__ = ["MAX_SCORED", "SCORES", "SCORE_KINDS", "STRATEGIES", "VARY", "AuditReport", "ModelComparison",
           "SampleVerdicts", "audit", "audit_points", "compare", "compare_models", "fit_mixture", "headline", "interval",
           "judge", "load_checks", "reseeded", "sample_mixture", "sharing_pairs"]

STRATEGIES = ("random", "prior", "gmm", "neuron", "lines", "som-path", "grid", "regions", "vae-prior", "copycat")
K_NEIGHBOURS = 5  # the k of the k-NN metrics and the realism score, as in the papers
MAX_SCORED = 10_000  # samples (a seeded subsample beyond) that enter the k-NN metrics and the scores
GMM_MAX_COMPONENTS = 8
REGIONS_MAX_SIDE = 512  # the census behind the 'regions' strategy: up to 512 x 512 cells over the box
NULL_DRAWS = 2000  # bitmaps per source of the checks' null model in every audit


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


def fit_mixture(codes: np.ndarray, random_state=None, max_components: int = GMM_MAX_COMPONENTS):
    """A scikit-learn ``GaussianMixture`` fitted to the codes, its number of components chosen by BIC.

    Tries 1 to ``max_components`` full-covariance components (never more
    than a third of the items, so each component has points to fit) on at most
    5,000 codes and keeps the lowest BIC.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> codes = np.vstack([rng.normal(-3, 0.2, (40, 2)), rng.normal(3, 0.2, (40, 2))])
    >>> fit_mixture(codes, random_state=0).n_components
    2
    """
    from sklearn.mixture import GaussianMixture

    rng = resolve_rng(random_state)
    if len(codes) > 5000:
        codes = codes[np.sort(rng.choice(len(codes), 5000, replace=False))]
    seed = int(rng.integers(2**31 - 1))
    best, best_bic = None, np.inf
    for k in range(1, max(1, min(max_components, len(codes) // 3)) + 1):
        gmm = GaussianMixture(k, covariance_type="full", reg_covar=1e-4, random_state=seed).fit(codes)
        bic = gmm.bic(codes)
        if bic < best_bic:
            best, best_bic = gmm, bic
    return best


def sample_mixture(gmm, n: int, random_state=None) -> np.ndarray:
    """``n`` points drawn from a fitted full-covariance ``GaussianMixture``, in draw order, from ``random_state``.

    Each point picks a component by the mixture's weights, then ``mean + L @ e`` with ``L`` the
    Cholesky factor of the component's covariance (positive definite: the mixture adds
    ``reg_covar`` to it) and ``e`` standard normal. Unlike ``GaussianMixture.sample`` this takes
    genval's generator, keeps the points in draw order and never warns about a covariance that
    rounding left a hair short of positive semi-definite.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> gmm = fit_mixture(rng.normal(size=(60, 2)), random_state=0)
    >>> drawn = sample_mixture(gmm, 20_000, random_state=1)
    >>> drawn.shape, bool(np.allclose(drawn.mean(axis=0), gmm.weights_ @ gmm.means_, atol=0.05))
    ((20000, 2), True)
    """
    rng = resolve_rng(random_state)
    component = rng.choice(len(gmm.weights_), size=n, p=gmm.weights_ / gmm.weights_.sum())
    factors = np.linalg.cholesky(gmm.covariances_)
    noise = rng.standard_normal((n, gmm.means_.shape[1]))
    return gmm.means_[component] + np.einsum("nij,nj->ni", factors[component], noise)


def audit_points(space: LatentSpace, strategy: str, n: int, random_state=None) -> np.ndarray:
    """The latent points a strategy audits, ``(n_points, n_latent)``.

    ``random``, ``prior``, ``gmm``, ``neuron``, ``regions``, ``vae-prior`` and ``copycat`` give
    exactly ``n`` points (``copycat``: training items' codes, drawn with
    replacement); ``grid`` the smallest square grid with at least ``n``,
    over the box of the codes on their principal plane when the latent space
    is wider than two (:func:`genval.latent.plane`, the plane genval's
    pictures and ``genval grid`` show; in 2-D the codes' own box);
    ``regions`` (2-D models) spreads them evenly over the distinct bitmaps of a
    :func:`genval.latent.region_census` of the box (up to
    :data:`REGIONS_MAX_SIDE` cells a side), each a cell centre that decodes to
    its region's bitmap; ``lines`` and ``som-path`` split ``n`` evenly over the sharing pairs (at
    least 2 points each, both ends included); when there are more than
    ``n / 2`` pairs (a big set), ``n // 2`` of them (at least one) drawn at
    random walk, 2 points each.

    Raises
    ------
    ParameterError
        For an unknown strategy or ``n < 1``.
    StrategyImpossibleError
        When the strategy has nothing to sample here: ``lines``/``som-path``
        find no two items sharing a neuron, ``vae-prior`` meets a model
        without a prior, ``neuron`` finds the occupied cells too small to hit,
        ``grid`` meets a 1-D latent space.
    genval._utils.budget.MemoryBudgetError
        When the points would exceed the memory budget.
    """
    if strategy not in STRATEGIES:
        raise ParameterError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if n < 1:
        raise ParameterError(f"n must be at least 1, got {n}")
    n_latent = space.codes.shape[1]
    check_allocation(8 * n * n_latent, f"{n:,} latent points")
    rng = resolve_rng(random_state)
    if strategy == "random":
        return sample_latent(space, n, "box", random_state=rng)
    if strategy == "prior":
        return sample_latent(space, n, "gaussian", random_state=rng)
    if strategy == "copycat":
        return space.codes[rng.integers(0, len(space.codes), n)]
    if strategy == "gmm":
        return sample_mixture(fit_mixture(space.codes, rng), n, rng)
    if strategy == "neuron":
        return _in_occupied_cells(space, n, rng)
    if strategy == "vae-prior":
        if not has_prior(space.model):
            raise StrategyImpossibleError("the 'vae-prior' strategy samples a variational autoencoder's prior, and "
                                          f"this model ({model_kind(space.model)}) has no sample_prior (train one "
                                          "with genval train --vae)")
        return space.model.sample_prior(n, random_state=rng)
    if strategy == "regions":
        lo, hi = space.box()
        if len(lo) != 2:
            raise StrategyImpossibleError(f"the 'regions' strategy cuts a 2-D latent plane into regions; this "
                                          f"model's codes have {len(lo)} dimensions")
        return sample_regions(_census(space.model, lo, hi), n, random_state=rng)
    if strategy == "grid":
        if n_latent < 2:
            raise StrategyImpossibleError("the 'grid' strategy spans a plane, and this model's latent space has "
                                          "1 dimension; use 'random'")
        side = max(2, math.ceil(math.sqrt(n)))
        check_allocation(8 * side * side * (2 + n_latent), f"a {side:,}x{side:,} grid of latent points")
        origin, axes = plane(space.codes)  # in 2-D the identity: the codes' own box
        P = (space.codes - origin) @ axes.T
        lo, hi = P.min(axis=0), P.max(axis=0)
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], side), np.linspace(lo[1], hi[1], side))
        return origin + np.column_stack([gx.ravel(), gy.ravel()]) @ axes
    pairs = _sharing_pairs(space)
    if not len(pairs):
        rows, cols = space.som.grid_
        raise StrategyImpossibleError(f"no two items share a neuron on the {rows}x{cols} map, so '{strategy}' has nothing "
                          "to walk; use a smaller map (--grid)")
    if len(pairs) > max(1, n // 2):
        pairs = pairs[np.sort(rng.choice(len(pairs), max(1, n // 2), replace=False))]
    per_pair = max(2, n // len(pairs))
    check_allocation(8 * per_pair * len(pairs) * n_latent, f"{per_pair * len(pairs):,} latent points")
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


_CENSUSES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _census(model: LatentModel, lo: np.ndarray, hi: np.ndarray):
    """The model's region census over the box, computed once per model and box (repeated audits share it)."""
    try:
        known = _CENSUSES.setdefault(model, {})
    except TypeError:  # a model that takes no weak reference: no sharing
        known = {}
    params = getattr(model, "params_", None)  # a model refitted in place decodes anew
    key = (lo.tobytes(), hi.tobytes(), None if params is None else hash(np.asarray(params).tobytes()))
    if key not in known:
        known[key] = region_census(model, lo, hi, max_side=REGIONS_MAX_SIDE)
    return known[key]


def _in_occupied_cells(space: LatentSpace, n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform points of the box that neurons holding training items win (rejection sampling)."""
    occupied = np.zeros(space.som.n_neurons, dtype=bool)
    occupied[space.som.winners(space.codes)] = True
    lo, hi = space.box()
    found, have = [], 0
    batch = min(max(1024, 2 * n), chunk_rows(16 * len(lo)))
    for _ in range(10_000):
        points = rng.uniform(lo, hi, size=(batch, len(lo)))
        keep = points[occupied[space.som.winners(points)]]
        found.append(keep[:n - have])
        have += len(found[-1])
        if have == n:
            return np.concatenate(found)
    raise StrategyImpossibleError("the occupied neurons win almost none of the codes' box; use the 'random' strategy")


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
    packed = np.packbits(B, axis=1)
    first, inverse = dedupe_rows(packed)
    distinct = B[first]
    passes = checks.passes(distinct)
    failed, reasons = [], []
    for row, ok in zip(distinct, passes):
        failed.append(tuple(name for name, good in zip(checks.names, ok) if not good))
        if not ok.all():
            reasons.append(checks.verdict(row).reasons)
        elif checks.classifier is not None:  # the class it names is why it passes
            reasons.append((checks.classifier.reason(row.reshape(-1)),))
        else:
            reasons.append(())
    copy_of = _copy_of(packed[first], training)
    return SampleVerdicts(valid=passes.all(axis=1)[inverse], failed=tuple(failed[k] for k in inverse),
                          reasons=tuple(reasons[k] for k in inverse), copy_of=copy_of[inverse],
                          item_names=tuple(training.names))


def _ratio(numerator: int, denominator: int, definition: str) -> dict:
    value = numerator / denominator if denominator else None
    return {"value": value, "numerator": numerator, "denominator": denominator, "definition": definition}


STABILITY_MOVES = 8  # latent moves per sample of the stability score
STABILITY_RADIUS = 0.02  # their length, as a share of the sampling box's diagonal

# Each membership score, oriented so that a higher score predicts a valid sample, with what it measures.
SCORES = {
    "som_distance": "minus the distance from the sample's code to its winning neuron's weights",
    "occupied": "1 when the sample's winning neuron wins a training item, else 0 (the seed hypothesis)",
    "hit_count": "how many training items the sample's winning neuron wins",
    "nearest_code": "minus the distance from the sample's code to the nearest training code",
    "gmm_log_density": "log-density of the sample's code under a Gaussian mixture fitted to the codes (BIC)",
    "realism": "k-NN realism in pixel space (Kynkäänniemi et al. 2019): max over training items of "
               "their k-NN radius / distance to the sample",
    "hull_depth": "signed distance of the sample's code to the boundary of the training codes' convex hull, "
                  "positive inside (map-free baseline)",
    "box_centre": "minus the distance to the sampling box's centre, each axis in half-widths (sanity baseline)",
    "umatrix": "minus the U-matrix height at the winning neuron (high between the map's clusters)",
    "relative_qe": "minus the sample's quantization error over the largest of its neuron's training items' "
                   "(an empty neuron: over the 95th percentile of all training items', MiniSom's outlier rule)",
    "decoder_confidence": "mean over the decoded pixels of |2p - 1| (1: every pixel decided)",
    "stability": f"share of {STABILITY_MOVES} latent moves of {STABILITY_RADIUS:.0%} of the box's diagonal "
                 "that decode to the same bitmap",
}
# What each score draws on, for the tables: map-free baselines, the Kohonen map, the decoder, the rest.
SCORE_KINDS = {"hull_depth": "baseline", "nearest_code": "baseline", "box_centre": "baseline", "chance": "baseline",
               "som_distance": "map", "occupied": "map", "hit_count": "map", "umatrix": "map", "relative_qe": "map",
               "decoder_confidence": "decoder", "stability": "decoder", "gmm_log_density": "density",
               "realism": "pixels"}


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
    som_distance : ndarray (n,)
        Distance from each point to its winning neuron's weight vector.
    bitmap_index : ndarray of int (n,)
        Row of :attr:`bitmaps` each point decodes to.
    bitmaps : ndarray of bool (k, n_pixels)
        The distinct thresholded bitmaps, in order of first appearance.
    passes : ndarray of bool (k, n_checks)
        Every check on every distinct bitmap.
    copy_of : ndarray of int (k,)
        The training item a distinct bitmap equals, -1 for a new one.
    hits : ndarray of int (n_neurons,)
        Training items each neuron wins (a neuron is *occupied* when it wins one).
    crisp_pixels : int
        Decoded pixels below 0.1 or above 0.9, of ``n * n_pixels``.
    scored : ndarray of int
        The samples the scores and the k-NN metrics use (all, or a seeded
        subsample of :data:`MAX_SCORED`).
    scores : dict of str to ndarray
        Each of :data:`SCORES` on the scored samples.
    membership : dict
        :func:`genval.checks.membership_metrics` in pixel and latent space, as JSON.
    hull : dict
        How :func:`genval.audit.hull_depth` was computed (exact or projected, dimensions).
    item_distance : ndarray of int (k,)
        Pixels between each distinct bitmap and the nearest training item (0 for a copy).
    min_novelty : int
        The novelty floor of :meth:`novelty`'s ``yield_at_floor``.
    control_seed : int
        Seeds the bootstrap of :meth:`controls`.
    null : dict
        The checks' null model (:func:`genval.checks.null_model`, :data:`NULL_DRAWS` draws per
        source) as JSON: how often they pass bitmaps nobody designed.
    """

    strategy: str
    dataset: str
    checks_title: str
    check_names: tuple[str, ...]
    item_names: tuple[str, ...]
    grid: tuple[int, int]
    random_state: object
    Z: np.ndarray
    neuron: np.ndarray
    som_distance: np.ndarray
    bitmap_index: np.ndarray
    bitmaps: np.ndarray
    passes: np.ndarray
    copy_of: np.ndarray
    hits: np.ndarray
    crisp_pixels: int
    scored: np.ndarray
    scores: dict
    membership: dict
    hull: dict = field(default_factory=dict)
    item_distance: np.ndarray | None = None
    min_novelty: int = 1
    control_seed: int = 0
    null: dict | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def valid(self) -> np.ndarray:
        """Per sample: every check passes."""
        if "valid" not in self._cache:
            self._cache["valid"] = self.passes.all(axis=1)[self.bitmap_index]
        return self._cache["valid"]

    @property
    def novel(self) -> np.ndarray:
        """Per sample: its bitmap equals no training item."""
        if "novel" not in self._cache:
            self._cache["novel"] = (self.copy_of < 0)[self.bitmap_index]
        return self._cache["novel"]

    @property
    def occupied(self) -> np.ndarray:
        """Per neuron: it wins at least one training item."""
        return self.hits > 0

    @property
    def n_total(self) -> int:
        return len(self.Z)

    def counts(self, new_only: bool = False) -> dict:
        """Samples, valid ones, distinct valid bitmaps and distinct new valid ones (of new samples only)."""
        select = self.novel if new_only else np.ones(self.n_total, dtype=bool)
        valid_u = self.passes.all(axis=1)
        seen = np.bincount(self.bitmap_index[select], minlength=len(self.bitmaps)) > 0
        return {
            "total": int(select.sum()),
            "valid": int((self.valid & select).sum()),
            "unique_valid": int((valid_u & seen).sum()),
            "novel_unique_valid": int((valid_u & seen & (self.copy_of < 0)).sum()),
        }

    def ratios(self, new_only: bool = False) -> dict:
        c = self.counts(new_only)
        if new_only:
            return {
                "validity": _ratio(c["valid"], c["total"], "valid new / new"),
                "uniqueness": _ratio(c["unique_valid"], c["valid"], "distinct valid new / valid new"),
                "novelty": _ratio(c["novel_unique_valid"], c["unique_valid"], "1 by definition: every one is new"),
            }
        return {
            "validity": _ratio(c["valid"], c["total"], "valid / total"),
            "uniqueness": _ratio(c["unique_valid"], c["valid"], "unique valid / valid"),
            "novelty": _ratio(c["novel_unique_valid"], c["unique_valid"], "novel unique valid / unique valid"),
        }

    def copies(self) -> dict:
        """How often the model copies: the copy rate and how many training items it reproduced."""
        n_copies = int((~self.novel).sum())
        copied = self.copy_of[np.unique(self.bitmap_index[~self.novel])]
        return {"rate": _ratio(n_copies, self.n_total, "copies / total (a copy equals a training item)"),
                "distinct_items": int(len(np.unique(copied)))}

    def failures(self, new_only: bool = False) -> dict:
        """Samples failing each check."""
        select = self.novel if new_only else slice(None)
        per_bitmap = np.bincount(self.bitmap_index[select], minlength=len(self.bitmaps))
        fails = ((~self.passes) * per_bitmap[:, None]).sum(axis=0)
        return {name: int(f) for name, f in zip(self.check_names, fails)}

    def som_agreement(self, new_only: bool = False) -> dict:
        """The 2x2 table of occupied neuron against structural validity."""
        select = self.novel if new_only else np.ones(self.n_total, dtype=bool)
        occupied = self.occupied[self.neuron] & select
        empty = ~self.occupied[self.neuron] & select
        valid = self.valid
        table = {
            "occupied_valid": int((occupied & valid).sum()),
            "occupied_invalid": int((occupied & ~valid).sum()),
            "empty_valid": int((empty & valid).sum()),
            "empty_invalid": int((empty & ~valid).sum()),
        }
        tp, fp, fn = table["occupied_valid"], table["occupied_invalid"], table["empty_valid"]
        return {
            "table": table,
            "precision": _ratio(tp, tp + fp, "valid among samples in occupied neurons"),
            "recall": _ratio(tp, tp + fn, "samples in occupied neurons among valid ones"),
        }

    def roc(self) -> dict:
        """Each score's ROC curve on the scored new samples as a predictor of validity.

        Returns
        -------
        dict
            Score name to ``{"fpr", "tpr", "auroc", "n_valid", "n_invalid", "distinct_valid",
            "distinct_invalid"}`` (samples, and the distinct bitmaps they decode to);
            ``auroc`` is None (and the curve empty) unless both classes occur.
        """
        if "roc" not in self._cache:
            from sklearn.metrics import roc_auc_score, roc_curve

            new = self.novel[self.scored]
            truth = self.valid[self.scored][new]
            n_valid = int(truth.sum())
            n_invalid = int(len(truth) - n_valid)
            bitmap = self.bitmap_index[self.scored][new]
            distinct = {"distinct_valid": len(np.unique(bitmap[truth])),
                        "distinct_invalid": len(np.unique(bitmap[~truth]))}
            curves = {}
            for name, score in self.scores.items():
                s = np.nan_to_num(score[new].astype(float), posinf=np.finfo(float).max)
                if n_valid and n_invalid:
                    fpr, tpr, _ = roc_curve(truth, s)
                    auroc = float(roc_auc_score(truth, s))
                else:
                    fpr, tpr, auroc = np.zeros(0), np.zeros(0), None
                curves[name] = {"fpr": fpr, "tpr": tpr, "auroc": auroc, "n_valid": n_valid, "n_invalid": n_invalid,
                                **distinct}
            self._cache["roc"] = curves
        return self._cache["roc"]

    def fingerprint(self, with_map: bool = False) -> str:
        """A hash of the audited points and what they decoded to (``with_map``: and their neurons and the
        map's distances): two runs with equal fingerprints are one run of the figures that rest on them."""
        h = hashlib.sha256()
        arrays = [self.Z, self.bitmap_index, np.packbits(self.bitmaps, axis=1), self.passes]
        if with_map:
            arrays += [self.neuron, self.som_distance, self.hits]
        for array in arrays:
            h.update(np.ascontiguousarray(array).tobytes())
        return h.hexdigest()

    def controls(self) -> dict:
        """Every score against the map-free baselines, in strata, with bootstrap intervals.

        See :func:`genval.audit.controlled_comparison`: on the scored new
        samples, the AUROC of each score on all of them, inside the codes'
        hull and matched by nearest-code distance, each beside the best
        baseline (``hull_depth``, ``nearest_code``, ``box_centre``) with the
        difference's 95% interval from resampling distinct bitmaps.
        """
        if "controls" not in self._cache:
            new = self.novel[self.scored]
            if "hull_depth" not in self.scores or not new.any():
                self._cache["controls"] = {"note": "no controls: no new samples, or no hull of the codes"}
            else:
                scores = {name: s[new] for name, s in self.scores.items()}
                self._cache["controls"] = controlled_comparison(
                    scores, self.valid[self.scored][new], self.bitmap_index[self.scored][new],
                    scores["hull_depth"], -scores["nearest_code"], kinds=SCORE_KINDS, random_state=self.control_seed)
        return self._cache["controls"]

    def novelty(self) -> dict:
        """How far the new valid bitmaps lie from the training items: their distribution and the yield at a floor.

        A one-pixel edit of a training item counts as new; the distances say
        how new. ``histogram`` maps a distance in pixels to the number of
        distinct new valid bitmaps at it; ``yield_at_floor`` counts those at
        least :attr:`min_novelty` pixels away.
        """
        valid_u = self.passes.all(axis=1)
        seen = np.bincount(self.bitmap_index, minlength=len(self.bitmaps)) > 0
        d = self.item_distance[valid_u & seen & (self.copy_of < 0)] if self.item_distance is not None else \
            np.zeros(0, dtype=np.int64)
        values, counts = np.unique(d, return_counts=True)
        return {
            "histogram": {str(int(v)): int(c) for v, c in zip(values, counts)},
            "median": float(np.median(d)) if len(d) else None,
            "min_novelty": self.min_novelty,
            "yield_at_floor": int((d >= self.min_novelty).sum()),
            "definition": "pixels between each distinct new valid bitmap and its nearest training item "
                          "(thresholded at 0.5); yield_at_floor counts those at least min_novelty away",
        }

    def crispness(self) -> dict:
        return _ratio(self.crisp_pixels, self.n_total * self.bitmaps.shape[1],
                      "decoded pixels below 0.1 or above 0.9 / all decoded pixels (1 = every pixel decided)")

    def to_dict(self) -> dict:
        new = self.counts(new_only=True)
        return {
            "strategy": self.strategy,
            "dataset": self.dataset,
            "checks": {"title": self.checks_title, "names": list(self.check_names)},
            "grid": list(self.grid),
            "seed": self.random_state,
            "n": self.n_total,
            "copies": self.copies(),
            "yield": {"value": new["novel_unique_valid"], "definition": "distinct new valid bitmaps"},
            "new": {"counts": new, "ratios": self.ratios(True), "failures": self.failures(True),
                    "som_agreement": self.som_agreement(True)},
            "all": {"counts": self.counts(), "ratios": self.ratios(), "failures": self.failures(),
                    "som_agreement": self.som_agreement()},
            "scores": {
                "samples": {"scored": len(self.scored), "new": int(self.novel[self.scored].sum()),
                            "definition": f"AUROC of each score as a predictor of validity, on the new samples "
                                          f"among the scored ones (all samples, or a seeded subsample of "
                                          f"{MAX_SCORED:,})"},
                **{name: {"auroc": c["auroc"], "n_valid": c["n_valid"], "n_invalid": c["n_invalid"],
                          "definition": SCORES[name]} for name, c in self.roc().items()},
            },
            "membership": self.membership,
            "crispness": self.crispness(),
            "novelty": self.novelty(),
            "null_model": self.null,
            "hull": self.hull,
            "controls": self.controls(),
        }

    def write_csv(self, path) -> None:
        """One row per sample (numbered from 1): point, neuron (1-based), the map's distance and the neuron's
        hits, bitmap as 0/1 row-major, verdict, failed checks, new (1) or a copy (0) and of which item, the
        pixels to the nearest training item, then every score of :data:`SCORES` as ``score_NAME`` (oriented:
        higher predicts valid; empty for a sample outside the scored subsample)."""
        strings = ["".join("1" if p else "0" for p in row) for row in self.bitmaps]
        failed = [";".join(n for n, ok in zip(self.check_names, row) if not ok) for row in self.passes]
        valid_u = self.passes.all(axis=1)
        copy_name = ["" if k < 0 else self.item_names[k] for k in self.copy_of]
        distance = self.item_distance if self.item_distance is not None else np.zeros(len(self.bitmaps), int)
        dims = self.Z.shape[1]
        names = list(self.scores)
        row_of = np.full(self.n_total, -1, dtype=np.int64)
        row_of[self.scored] = np.arange(len(self.scored))
        table = np.column_stack([self.scores[name] for name in names]) if names else np.zeros((len(self.scored), 0))
        blank = [""] * len(names)
        with atomic_write(path, "w") as fh:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["sample", *[f"z{d + 1}" for d in range(dims)], "neuron", "som_distance", "hits",
                             "bitmap", "valid", "failed", "novel", "copy_of", "item_distance",
                             *[f"score_{name}" for name in names]])
            for start in range(0, self.n_total, 50_000):
                fh.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
                stop = min(start + 50_000, self.n_total)
                for i in range(start, stop):
                    b = self.bitmap_index[i]
                    k = self.neuron[i]
                    r = row_of[i]
                    writer.writerow([i + 1, *(f"{v:.6g}" for v in self.Z[i]), int(k) + 1, f"{self.som_distance[i]:.6g}",
                                     int(self.hits[k]), strings[b], int(valid_u[b]), failed[b],
                                     int(self.copy_of[b] < 0), copy_name[b], int(distance[b]),
                                     *(blank if r < 0 else (f"{v:.6g}" for v in table[r]))])
            fh.write(buffer.getvalue())


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


def audit(space: LatentSpace, strategy: str = "random", n: int = 10_000, checks: CheckSet | None = None,
          random_state=0, chunk: int | None = None, progress: Callable[[int, int], None] | None = None,
          k: int = K_NEIGHBOURS, max_scored: int = MAX_SCORED, min_novelty: int = 1) -> AuditReport:
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
        Points decoded at once; default from the memory budget.
    progress : callable, optional
        Called as ``progress(points_done, points_total)`` after each chunk.
    k : int
        Neighbours of the k-NN metrics and the realism score (5, as the papers).
    max_scored : int
        At most this many samples (a seeded subsample) enter the k-NN metrics and the scores.
    min_novelty : int
        The novelty floor: the report's ``yield_at_floor`` counts distinct new valid bitmaps at
        least this many pixels away from every training item (1: every new one).

    Returns
    -------
    AuditReport

    Raises
    ------
    ShapeMismatchError
        When the checks are for bitmaps of another size.
    genval._utils.budget.MemoryBudgetError
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
    >>> copies = report.copies()["rate"]["numerator"]
    >>> report.counts(new_only=True)["total"] == 1000 - copies
    True
    """
    checks = checks if checks is not None else default_checks(space.bitmaps)
    if tuple(checks.shape) != tuple(space.bitmaps.shape):
        raise ShapeMismatchError(f"the checks are for {checks.shape[0]}x{checks.shape[1]} bitmaps, "
                                 f"the set is {space.bitmaps.shape[0]}x{space.bitmaps.shape[1]}")
    if k < 1:
        raise ParameterError(f"k must be at least 1, got {k}")
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
    rng = resolve_rng(random_state)
    Z = audit_points(space, strategy, n, rng)
    total = len(Z)
    chunk = chunk or chunk_rows(32 * p)
    bitmap_index = np.empty(total, dtype=np.int64)
    neuron = np.empty(total, dtype=np.int64)
    som_distance = np.empty(total)
    W = space.som.weights_.reshape(space.som.n_neurons, -1)
    crisp = 0
    found: list[np.ndarray] = []  # each chunk's distinct bitmaps, packed, in order of first appearance
    n_found = 0
    copied = None
    if strategy == "copycat":  # the reference row returns the training items themselves, not their decodings
        copied = rng.integers(0, len(space.bitmaps), total)
        Z = space.codes[copied]
    for start in range(0, total, chunk):
        Zc = Z[start:start + chunk]
        pixels = space.bitmaps.X[copied[start:start + chunk]] if copied is not None else \
            space.model.inverse_transform(Zc)
        crisp += int(np.count_nonzero((pixels < 0.1) | (pixels > 0.9)))
        packed = np.packbits(pixels > 0.5, axis=1)
        first, inverse = dedupe_rows(packed)
        found.append(packed[first])
        bitmap_index[start:start + chunk] = inverse + n_found
        n_found += len(first)
        winners = space.som.winners(Zc)
        neuron[start:start + chunk] = winners
        som_distance[start:start + chunk] = np.sqrt(((Zc - W[winners]) ** 2).sum(axis=1))
        if progress is not None:
            progress(min(start + chunk, total), total)
    # Chunks found their bitmaps in order; one pass over them all merges the repeats across chunks.
    packed = np.concatenate(found) if found else np.zeros((0, (p + 7) // 8), dtype=np.uint8)
    first, inverse = dedupe_rows(packed)
    bitmap_index = inverse[bitmap_index]
    packed = packed[first]
    bitmaps = np.unpackbits(packed, axis=1, count=p).astype(bool)
    passes = checks.passes(bitmaps)
    copy_of = _copy_of(packed, space.bitmaps)
    hits = np.bincount(space.som.winners(space.codes), minlength=space.som.n_neurons)
    scored = np.arange(total) if total <= max_scored else np.sort(rng.choice(total, max_scored, replace=False))
    if space.bitmaps.is_binary:
        fake, metric = bitmaps[bitmap_index[scored]], "hamming"
    else:  # grey levels: the decoded probabilities against the items, by Euclidean distance
        fake = space.bitmaps.X[copied[scored]] if copied is not None else space.model.inverse_transform(Z[scored])
        metric = "euclidean"
    # The scores multiply the scored samples by the training items, a few dozen to a few thousand wide each.
    with blas_limit(len(space.bitmaps) * p * 64):
        scores, membership, hull = _scores(space, Z[scored], neuron[scored], som_distance[scored], hits, fake,
                                           metric, k, rng, None if copied is None else copied[scored])
    _, item_distance = nearest_bitmaps(bitmaps, space.bitmaps.binary())  # it dedupes both sides itself
    return AuditReport(
        strategy=strategy, dataset=space.bitmaps.title, checks_title=checks.title, check_names=checks.names,
        item_names=tuple(space.bitmaps.names), grid=tuple(space.som.grid_),
        random_state=random_state if isinstance(random_state, (int, type(None))) else "generator",
        Z=Z, neuron=neuron, som_distance=som_distance, bitmap_index=bitmap_index, bitmaps=bitmaps, passes=passes,
        copy_of=copy_of, hits=hits, crisp_pixels=crisp, scored=scored, scores=scores, membership=membership,
        hull=hull, item_distance=item_distance, min_novelty=min_novelty,
        control_seed=int(rng.integers(2**31 - 1)),
        # seeded apart from the audit: a property of the checks and the set, the same in every audit of them
        null=null_model(checks, space.bitmaps, n=NULL_DRAWS, random_state=0).to_dict(),
    )


def _scores(space: LatentSpace, Z: np.ndarray, neuron: np.ndarray, som_distance: np.ndarray, hits: np.ndarray,
            fake_pixels: np.ndarray, metric: str, k: int, rng: np.random.Generator, copied: np.ndarray | None
            ) -> tuple[dict, dict, dict]:
    """Every membership score of the scored samples, the k-NN metrics in pixel and latent space, and the hull."""
    training = space.bitmaps
    real_pixels = training.binary() if metric == "hamming" else training.X
    nearest = nearest_distance(space.codes, Z)[0]
    scores = {
        "som_distance": -som_distance,
        "occupied": (hits[neuron] > 0).astype(float),
        "hit_count": hits[neuron].astype(float),
        "nearest_code": -nearest,
        "gmm_log_density": fit_mixture(space.codes, rng).score_samples(Z),
    }
    membership = {"k": k, "n_real": len(training), "n_fake": len(Z)}
    if len(training) > k and len(Z) > k:
        scores["realism"] = realism(real_pixels, fake_pixels, k=k, metric=metric)
        membership["pixels"] = membership_metrics(real_pixels, fake_pixels, k=k, metric=metric).to_dict()
        membership["latent"] = membership_metrics(space.codes, Z, k=k, metric="euclidean").to_dict()
    else:
        membership["note"] = f"the k-NN metrics need more than k = {k} training items and samples"
    hull = {"note": "no hull: fewer than 3 training codes"}
    if len(space.codes) >= 3:
        depth = hull_depth(space.codes, Z)
        scores["hull_depth"], hull = depth.depth, depth.to_dict()
    lo, hi = space.box()
    scores["box_centre"] = box_centre_closeness(lo, hi, Z)
    scores.update(_map_scores(space, neuron, som_distance))
    scores.update(_decoder_scores(space, Z, rng, copied))
    return scores, membership, hull


def _map_scores(space: LatentSpace, neuron: np.ndarray, som_distance: np.ndarray) -> dict:
    """The map's own signals at each sample's winning neuron: the U-matrix height and the relative quantization error."""
    W = space.som.weights_.reshape(space.som.n_neurons, -1)
    owner = space.som.winners(space.codes)
    item_qe = np.sqrt(((space.codes - W[owner]) ** 2).sum(axis=1))
    scale = np.zeros(space.som.n_neurons)
    np.maximum.at(scale, owner, item_qe)
    fallback = float(np.percentile(item_qe, 95)) if len(item_qe) else 0.0
    scale = np.where(scale > 0, scale, fallback)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(scale[neuron] > 0, som_distance / scale[neuron], np.where(som_distance > 0, np.inf, 0.0))
    return {"umatrix": -space.som.umatrix().ravel()[neuron], "relative_qe": -relative}


def _decoder_scores(space: LatentSpace, Z: np.ndarray, rng: np.random.Generator, copied: np.ndarray | None) -> dict:
    """The decoder's own signals: how firmly it decides the pixels, and whether small moves keep the bitmap."""
    chunk = chunk_rows(8 * (STABILITY_MOVES + 2) * 4 * space.bitmaps.n_features)
    lo, hi = space.box()
    radius = STABILITY_RADIUS * float(np.linalg.norm(hi - lo))
    confidence, stability = np.empty(len(Z)), np.empty(len(Z))
    for s in range(0, len(Z), chunk):
        Zc = Z[s:s + chunk]
        directions = rng.standard_normal((len(Zc), STABILITY_MOVES, Z.shape[1]))  # one stream, whatever the chunk
        directions *= radius / np.maximum(np.linalg.norm(directions, axis=2, keepdims=True), 1e-300)
        pixels = space.bitmaps.X[copied[s:s + chunk]] if copied is not None else space.model.inverse_transform(Zc)
        confidence[s:s + chunk] = np.abs(2 * pixels - 1).mean(axis=1)
        moved = space.model.inverse_transform((Zc[:, None, :] + directions).reshape(-1, Z.shape[1]))
        same = ((moved > 0.5).reshape(len(Zc), STABILITY_MOVES, -1) == (pixels > 0.5)[:, None, :]).all(axis=2)
        stability[s:s + chunk] = same.mean(axis=1)
    return {"decoder_confidence": confidence, "stability": stability}


def interval(values: Sequence[float | None], confidence: float = 0.95,
             bounds: tuple[float, float] | None = None) -> dict:
    """The mean of per-seed values and its two-sided t interval; None values (nothing to divide by) are left out.

    ``bounds`` clips the interval to a figure's range (a share lies in [0, 1]
    however wide the t interval of a few seeds is).

    Examples
    --------
    >>> interval([0.5, 0.7, 0.6])["value"]
    0.6
    >>> [round(v, 3) for v in interval([0.5, 0.7, 0.6])["interval"]]
    [0.352, 0.848]
    >>> interval([0.5, None])
    {'value': 0.5, 'interval': None, 'per_seed': [0.5, None], 'n': 1}
    """
    from scipy.stats import t

    known = np.array([v for v in values if v is not None], dtype=float)
    doc = {"value": float(known.mean()) if len(known) else None, "interval": None, "per_seed": list(values),
           "n": len(known)}
    if len(known) > 1:
        half = float(t.ppf(0.5 + confidence / 2, len(known) - 1) * known.std(ddof=1) / math.sqrt(len(known)))
        lo, hi = doc["value"] - half, doc["value"] + half
        if bounds is not None:
            lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
        doc["interval"] = [lo, hi]
    return doc


def headline(report: AuditReport) -> dict:
    """The figures ``--compare`` puts side by side, from one report (all on new samples but the copy rate)."""
    doc = report.to_dict()
    new = doc["new"]
    figures = {
        "copy_rate": doc["copies"]["rate"]["value"],
        "new_validity": new["ratios"]["validity"]["value"],
        "yield": doc["yield"]["value"],
        "som_precision": new["som_agreement"]["precision"]["value"],
        "som_recall": new["som_agreement"]["recall"]["value"],
        "crispness": doc["crispness"]["value"],
    }
    figures.update({f"auroc_{name}": doc["scores"][name]["auroc"] for name in SCORES if name in doc["scores"]})
    figures["yield_at_floor"] = doc["novelty"]["yield_at_floor"]
    strata = doc["controls"].get("strata", {})
    for stratum in ("all", "inside_hull", "matched"):
        figures[f"{stratum}_ranked"] = float(strata.get(stratum, {}).get("ranked", False))
    for stratum in ("inside_hull", "matched"):
        table = strata.get(stratum, {"scores": {}})
        for name in ("som_distance", "hull_depth", "nearest_code"):
            figures[f"{stratum}_auroc_{name}"] = table["scores"].get(name, {}).get("auroc")
        figures[f"{stratum}_distinct_invalid"] = table.get("distinct_invalid")
    for space_name in ("pixels", "latent"):
        for metric in ("precision", "recall", "density", "coverage", "authenticity"):
            figures[f"{space_name}_{metric}"] = doc["membership"].get(space_name, {}).get(metric, {}).get("value")
    return figures


def _distinct(prints: list[str]) -> list[int]:
    """Indices of the first run of each distinct fingerprint, in order."""
    first: dict[str, int] = {}
    for i, p in enumerate(prints):
        first.setdefault(p, i)
    return sorted(first.values())


def _rests_on_map(figure: str) -> bool:
    """Whether a :func:`headline` figure reads the map (its neurons, weights or hits), not only the samples."""
    return any(word in figure for word in ("som_", "occupied", "hit_count", "umatrix", "relative_qe"))


def _bounds(figure: str) -> tuple[float, float] | None:
    """The range of a :func:`headline` figure: shares and AUROCs lie in [0, 1], counts at or above 0."""
    if figure in ("pixels_density", "latent_density"):
        return None
    if figure in ("yield", "yield_at_floor") or figure.endswith("distinct_invalid"):
        return 0.0, math.inf  # counts: never below 0
    return 0.0, 1.0


def reseeded(space: LatentSpace, seed: int) -> LatentSpace:
    """The same items and model with the map retrained from ``seed``."""
    from sklearn.base import clone

    som = clone(space.som).set_params(random_state=seed).fit(space.codes)
    return replace(space, som=som)


def compare(space: LatentSpace, strategies=STRATEGIES, n: int = 10_000, checks: CheckSet | None = None,
            random_state=0, skip_impossible: bool = True) -> list[AuditReport]:
    """Run the same audit under several strategies (each with the same seed).

    A strategy that cannot run here (a :class:`StrategyImpossibleError`:
    ``lines`` or ``som-path`` when no two items share a neuron, ``vae-prior``
    for a plain autoencoder) is left out when ``skip_impossible``; any other
    error, such as a request beyond the memory budget, propagates.
    """
    checks = checks if checks is not None else default_checks(space.bitmaps)
    reports = []
    for strategy in strategies:
        try:
            reports.append(audit(space, strategy, n, checks, random_state))
        except StrategyImpossibleError:
            if not skip_impossible:
                raise
    return reports


VARY = ("model", "map", "sample")  # what the seeds of repeated audits may vary


@dataclass(frozen=True)
class ModelComparison:
    """Models audited under the same strategies, over one or more seeds. :meth:`to_dict` is the JSON document.

    Attributes
    ----------
    runs : tuple of (str, str, tuple of AuditReport)
        ``(model label, strategy, one report per seed)``: models in the
        order given, strategies in the order asked.
    seeds : tuple of int
    skipped : tuple of (str, str, str)
        ``(label, strategy, reason)`` for every strategy that cannot run on
        that model (the :class:`StrategyImpossibleError`'s message: no two
        items share a neuron, no prior to sample, ...).
    vary : tuple of str
        What the seeds varied: some of ``"model"`` (the default model
        retrained from each seed), ``"map"`` and ``"sample"``.
    """

    runs: tuple[tuple[str, str, tuple[AuditReport, ...]], ...]
    seeds: tuple
    skipped: tuple[tuple[str, str, str], ...]
    vary: tuple[str, ...] = ("map", "sample")

    @property
    def reports(self) -> tuple[tuple[str, AuditReport], ...]:
        """``(label, report)`` for the first seed's reports."""
        return tuple((label, reports[0]) for label, _, reports in self.runs)

    def rows(self) -> list[dict]:
        """Per model and strategy: every :func:`headline` figure as its mean, interval and per-seed values.

        Runs that audited identical samples count once in the mean and the
        interval of every figure that rests on the samples alone (two map
        seeds can give one map, and ``lines`` the same points; ``grid``
        always draws the same points), and runs that also share their map's
        verdicts count once in the map's figures. ``independent_runs`` says
        how many remain of each (``samples``, ``maps``), and ``identical``
        lists the groups of seeds that audited one sample set.
        """
        rows = []
        for label, strategy, reports in self.runs:
            per_seed = [headline(r) for r in reports]
            prints = [r.fingerprint() for r in reports]
            keep = {False: _distinct(prints), True: _distinct([r.fingerprint(with_map=True) for r in reports])}
            groups = [[self.seeds[i] for i, p in enumerate(prints) if p == prints[k]] for k in keep[False]]
            figures = {}
            for name in per_seed[0]:
                chosen = keep[_rests_on_map(name)]
                figures[name] = dict(interval([per_seed[i][name] for i in chosen], bounds=_bounds(name)),
                                     per_seed=[f[name] for f in per_seed])
            rows.append({"label": label, "strategy": strategy,
                         "independent_runs": {"samples": len(keep[False]), "maps": len(keep[True])},
                         "identical": [g for g in groups if len(g) > 1], "figures": figures})
        return rows

    def min_validity(self) -> float:
        """The lowest mean new-sample validity of any row but ``copycat`` (a row without new samples counts 0)."""
        return min(((row["figures"]["new_validity"]["value"] or 0.0) for row in self.rows()
                    if row["strategy"] != "copycat"), default=0.0)

    def to_dict(self) -> dict:
        return {
            "seeds": list(self.seeds),
            "vary": list(self.vary),
            "rows": self.rows(),
            "runs": [dict(report.to_dict(), label=label) for label, _, reports in self.runs for report in reports],
            "skipped": [{"label": label, "strategy": strategy, "reason": reason}
                        for label, strategy, reason in self.skipped],
        }


def compare_models(spaces: Mapping[str, LatentSpace], strategies: Sequence[str] = STRATEGIES, n: int = 10_000,
                   checks: CheckSet | None = None, random_state=0, repeats: int = 1,
                   progress: Callable[[int, int], None] | None = None, vary: Sequence[str] = ("map", "sample"),
                   rebuild: Callable[[str, int], LatentSpace] | None = None,
                   min_novelty: int = 1) -> ModelComparison:
    """Audit every model (each in its own latent space) under every strategy, over ``repeats`` seeds.

    Parameters
    ----------
    spaces : mapping of str to LatentSpace
        A label for each model (``"autoencoder"``, ``"vae"``) and its space.
    strategies : sequence of str
        See :data:`STRATEGIES`; one that cannot run on a model (a
        :class:`StrategyImpossibleError`) is listed in
        :attr:`ModelComparison.skipped` with the reason. Any other error, such
        as a request beyond the memory budget, propagates.
    n : int
        Points per audit.
    checks : CheckSet, optional
        Default: :func:`genval.checks.default_checks` of each space's set.
    random_state : int
        The first seed. With ``repeats`` K, seeds ``random_state`` to
        ``random_state + K - 1``; every strategy and model sees the same
        seeds, so their draws are comparable.
    repeats : int
        Seeds per strategy; figures get a 95% t interval when there are two or more.
    progress : callable, optional
        ``progress(audits_done, audits_total)``.
    vary : sequence of str
        What each seed varies (see :data:`VARY`): ``"map"`` retrains the map
        from the seed (the first uses the map as given), ``"sample"`` draws
        the points from it (else every repeat draws from ``random_state``),
        ``"model"`` takes each seed's model from ``rebuild``.
    rebuild : callable, optional
        ``rebuild(label, seed)``: the space of model ``label`` retrained from
        ``seed`` (a cached default model), its map fitted like the given one.
        Needed when ``vary`` holds ``"model"``.
    min_novelty : int
        Passed to :func:`audit`.

    Returns
    -------
    ModelComparison

    Examples
    --------
    >>> from genval import Autoencoder, build_space, load_dataset
    >>> emojis = load_dataset("emojis")
    >>> space = build_space(emojis, Autoencoder(stop_wrong_pixels=0).fit(emojis.X), grid=(3, 3))
    >>> found = compare_models({"autoencoder": space}, ["random", "copycat", "vae-prior"], n=200)
    >>> [(label, r.strategy) for label, r in found.reports], [s[:2] for s in found.skipped]
    ([('autoencoder', 'random'), ('autoencoder', 'copycat')], [('autoencoder', 'vae-prior')])
    >>> found.skipped[0][2][:60]
    "the 'vae-prior' strategy samples a variational autoencoder's"
    >>> found.rows()[1]["figures"]["copy_rate"]["value"]
    1.0
    """
    if repeats < 1:
        raise ParameterError(f"repeats must be at least 1, got {repeats}")
    if not isinstance(random_state, (int, np.integer)):
        raise ParameterError(f"repeated audits need an integer seed, got {random_state!r}")
    unknown = [v for v in vary if v not in VARY]
    if unknown or not vary:
        raise ParameterError(f"vary takes some of {', '.join(VARY)}, got {', '.join(map(str, vary)) or 'nothing'}")
    if "model" in vary and rebuild is None:
        raise ParameterError("varying the model needs rebuild(label, seed) to retrain it")
    seeds = tuple(int(random_state) + r for r in range(repeats))
    runs: list[tuple[str, str, tuple[AuditReport, ...]]] = []
    skipped: list[tuple[str, str, str]] = []
    total, done = len(spaces) * len(strategies) * repeats, 0
    for label, space in spaces.items():
        maps = []
        for r, seed in enumerate(seeds):
            seeded = rebuild(label, seed) if "model" in vary else space
            if "map" in vary and r > 0:
                seeded = reseeded(seeded, seed)
            maps.append(seeded)
        for strategy in strategies:
            reports = []
            for seed, seeded in zip(seeds, maps):
                try:
                    reports.append(audit(seeded, strategy, n, checks, seed if "sample" in vary else seeds[0],
                                         min_novelty=min_novelty))
                except StrategyImpossibleError as exc:
                    skipped.append((label, strategy, str(exc) if seed == seeds[0] else f"with seed {seed}: {exc}"))
                    break
                finally:
                    done += 1
                    if progress is not None:
                        progress(done, total)
            if len(reports) == repeats:
                runs.append((label, strategy, tuple(reports)))
    return ModelComparison(tuple(runs), seeds, tuple(skipped), tuple(v for v in VARY if v in vary))
