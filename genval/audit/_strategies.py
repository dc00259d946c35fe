"""Sampling strategies: where an audit draws its latent points, one sampler per strategy.

Every strategy is one sampler with one signature, ``sampler(space, n, rng,
items) -> Draw``, looked up by name in :data:`SAMPLERS` (the names, in order,
are :data:`STRATEGIES`):

* ``random``: uniform in the codes' box; ``prior``: a Gaussian fitted to the codes;
* ``gmm``: a Gaussian mixture fitted to the codes, its number of components chosen by BIC;
* ``neuron``: uniform inside the cells of the neurons that hold training items;
* ``lines``: straight lines between every pair of items sharing a neuron;
  ``som-path``: paths through the map's weights between those pairs;
* ``grid``: a regular grid over the box; ``regions``: region by region over
  a census of the distinct decoded bitmaps;
* ``vae-prior``: a variational autoencoder's prior, N(0, I);
* ``copycat``, the reference row: training items themselves, so it shows
  what pure memorisation scores (validity 1, novelty 0).

``items`` (:class:`ItemsOnMap`) holds what several samplers and the scores
need of the training items: their winning neurons, the neurons' hits and the
map's weights, each computed once per audit.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from functools import cached_property
from typing import NamedTuple

import numpy as np

from genval._utils.budget import check_allocation, chunk_rows
from genval._utils.files import resolve_rng
from genval.errors import ParameterError, StrategyImpossibleError
from genval.latent._regions import region_census, sample_regions
from genval.latent._plane import plane
from genval.latent._samples import sample_latent
from genval.latent._space import LatentSpace
from genval.latent._walks import points_along
from genval.models._protocol import LatentModel, has_prior, model_kind

__all__ = ["STRATEGIES", "audit_points", "fit_mixture", "sample_mixture", "sharing_pairs"]

GMM_MAX_COMPONENTS = 8
GMM_MAX_CODES = 5000  # codes (a seeded subsample beyond) a mixture is fitted on
REGIONS_MAX_SIDE = 512  # the census behind the 'regions' strategy: up to 512 x 512 cells over the box


class Draw(NamedTuple):
    """What a sampler returns: the latent points and, for a strategy that returns training items, which."""

    points: np.ndarray
    items: np.ndarray | None = None  # the audit judges these items' own pixels, at their codes


class ItemsOnMap:
    """What an audit needs of the training items, each computed once on first use.

    Parameters
    ----------
    space : LatentSpace
    """

    def __init__(self, space: LatentSpace):
        self.space = space

    @cached_property
    def winners(self) -> np.ndarray:
        """Each item's winning neuron (flat index), ``(n_items,)``."""
        return self.space.som.winners(self.space.codes)

    @cached_property
    def hits(self) -> np.ndarray:
        """Items each neuron wins, ``(n_neurons,)``."""
        return np.bincount(self.winners, minlength=self.space.som.n_neurons)

    @cached_property
    def weights(self) -> np.ndarray:
        """The map's weights, one row per neuron, ``(n_neurons, n_latent)``."""
        return self.space.som.weights_.reshape(self.space.som.n_neurons, -1)


def sharing_pairs(space: LatentSpace) -> list[tuple[int, int]]:
    """Every pair of items (indices, ``i < j``, in lexicographic order) whose codes the same neuron wins."""
    return [(int(i), int(j)) for i, j in _sharing_pairs(ItemsOnMap(space).winners)]


def _sharing_pairs(winners: np.ndarray) -> np.ndarray:
    """:func:`sharing_pairs` as an (m, 2) array from the items' winners, built neuron by neuron (never item by item)."""
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
    if len(codes) > GMM_MAX_CODES:
        codes = codes[np.sort(rng.choice(len(codes), GMM_MAX_CODES, replace=False))]
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


def _random(space: LatentSpace, n: int, rng: np.random.Generator, items: ItemsOnMap) -> Draw:
    return Draw(sample_latent(space, n, "box", random_state=rng))


def _prior(space: LatentSpace, n: int, rng: np.random.Generator, items: ItemsOnMap) -> Draw:
    return Draw(sample_latent(space, n, "gaussian", random_state=rng))


def _gmm(space: LatentSpace, n: int, rng: np.random.Generator, items: ItemsOnMap) -> Draw:
    # The audit's gmm_log_density score fits a mixture of its own, later in the stream: sharing this one
    # would change that score's figures for every seed of the 'gmm' strategy.
    return Draw(sample_mixture(fit_mixture(space.codes, rng), n, rng))


def _neuron(space: LatentSpace, n: int, rng: np.random.Generator, items: ItemsOnMap) -> Draw:
    """Uniform points of the box that neurons holding training items win (rejection sampling)."""
    occupied = items.hits > 0
    lo, hi = space.box()
    found, have = [], 0
    batch = min(max(1024, 2 * n), chunk_rows(16 * len(lo)))
    for _ in range(10_000):
        points = rng.uniform(lo, hi, size=(batch, len(lo)))
        keep = points[occupied[space.som.winners(points)]]
        found.append(keep[:n - have])
        have += len(found[-1])
        if have == n:
            return Draw(np.concatenate(found))
    raise StrategyImpossibleError("the occupied neurons win almost none of the codes' box; use the 'random' strategy")


def _walk_pairs(space: LatentSpace, n: int, rng: np.random.Generator, items: ItemsOnMap, strategy: str,
                walk: Callable[[int, int, int], np.ndarray]) -> Draw:
    """``walk(i, j, per_pair)`` between the sharing pairs (a random ``n // 2`` of them when there are more)."""
    pairs = _sharing_pairs(items.winners)
    if not len(pairs):
        rows, cols = space.som.grid_
        raise StrategyImpossibleError(f"no two items share a neuron on the {rows}x{cols} map, so '{strategy}' has "
                                      "nothing to walk; use a smaller map (--grid)")
    if len(pairs) > max(1, n // 2):
        pairs = pairs[np.sort(rng.choice(len(pairs), max(1, n // 2), replace=False))]
    per_pair = max(2, n // len(pairs))
    check_allocation(8 * per_pair * len(pairs) * space.codes.shape[1], f"{per_pair * len(pairs):,} latent points")
    return Draw(np.vstack([walk(int(i), int(j), per_pair) for i, j in pairs]))


def _lines(space: LatentSpace, n: int, rng: np.random.Generator, items: ItemsOnMap) -> Draw:
    def line(i: int, j: int, steps: int) -> np.ndarray:
        za, zb = space.codes[i], space.codes[j]
        return za + np.linspace(0.0, 1.0, steps)[:, None] * (zb - za)

    return _walk_pairs(space, n, rng, items, "lines", line)


def _som_path(space: LatentSpace, n: int, rng: np.random.Generator, items: ItemsOnMap) -> Draw:
    def path(i: int, j: int, steps: int) -> np.ndarray:
        neurons = space.som.grid_path(int(items.winners[i]), int(items.winners[j]))
        return points_along(np.vstack([space.codes[i], items.weights[neurons], space.codes[j]]), steps)[1]

    return _walk_pairs(space, n, rng, items, "som-path", path)


def _grid(space: LatentSpace, n: int, rng: np.random.Generator, items: ItemsOnMap) -> Draw:
    n_latent = space.codes.shape[1]
    if n_latent < 2:
        raise StrategyImpossibleError("the 'grid' strategy spans a plane, and this model's latent space has "
                                      "1 dimension; use 'random'")
    side = max(2, math.ceil(math.sqrt(n)))
    check_allocation(8 * side * side * (2 + n_latent), f"a {side:,}x{side:,} grid of latent points")
    origin, axes = plane(space.codes)  # in 2-D the identity: the codes' own box
    P = (space.codes - origin) @ axes.T
    lo, hi = P.min(axis=0), P.max(axis=0)
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], side), np.linspace(lo[1], hi[1], side))
    return Draw(origin + np.column_stack([gx.ravel(), gy.ravel()]) @ axes)


def _regions(space: LatentSpace, n: int, rng: np.random.Generator, items: ItemsOnMap) -> Draw:
    lo, hi = space.box()
    if len(lo) != 2:
        raise StrategyImpossibleError(f"the 'regions' strategy cuts a 2-D latent plane into regions; this "
                                      f"model's codes have {len(lo)} dimensions")
    return Draw(sample_regions(_census(space.model, lo, hi), n, random_state=rng))


def _vae_prior(space: LatentSpace, n: int, rng: np.random.Generator, items: ItemsOnMap) -> Draw:
    if not has_prior(space.model):
        raise StrategyImpossibleError("the 'vae-prior' strategy samples a variational autoencoder's prior, and "
                                      f"this model ({model_kind(space.model)}) has no sample_prior (train one "
                                      "with genval train --vae)")
    return Draw(space.model.sample_prior(n, random_state=rng))


def _copycat(space: LatentSpace, n: int, rng: np.random.Generator, items: ItemsOnMap) -> Draw:
    """Training items drawn with replacement: ``points`` are their codes, ``items`` the ones an audit judges.

    The audit's items are a second draw, after the points: the order of
    genval 0.2.0, kept so that every seed audits the same items it did.
    """
    points = space.codes[rng.integers(0, len(space.codes), n)]
    return Draw(points, rng.integers(0, len(space.codes), n))


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


Sampler = Callable[[LatentSpace, int, np.random.Generator, ItemsOnMap], Draw]
SAMPLERS: dict[str, Sampler] = {
    "random": _random, "prior": _prior, "gmm": _gmm, "neuron": _neuron, "lines": _lines, "som-path": _som_path,
    "grid": _grid, "regions": _regions, "vae-prior": _vae_prior, "copycat": _copycat,
}
STRATEGIES = tuple(SAMPLERS)


def draw(space: LatentSpace, strategy: str, n: int, rng: np.random.Generator, items: ItemsOnMap) -> Draw:
    """The strategy's sampler run on ``space``, after the checks of :func:`audit_points`."""
    sampler = SAMPLERS.get(strategy)
    if sampler is None:
        raise ParameterError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if n < 1:
        raise ParameterError(f"n must be at least 1, got {n}")
    check_allocation(8 * n * space.codes.shape[1], f"{n:,} latent points")
    return sampler(space, n, rng, items)


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
    return draw(space, strategy, n, resolve_rng(random_state), ItemsOnMap(space)).points
