"""Rule-free membership metrics: how a set of generated samples sits among the real items.

Every figure compares ``M`` generated ("fake") samples with ``N`` real ones
through k-nearest-neighbour balls, so it needs no hand-written rule and works
for any set. ``r_k(x)`` is the distance from an item to its k-th nearest
*other* item of its own set; a duplicate row counts as a neighbour at
distance 0.

precision (Kynkäänniemi et al., 2019)
    Share of fakes inside some real item's ball: ``d(j, i) <= r_k(i)``.
recall (Kynkäänniemi et al., 2019)
    Share of real items inside some fake's ball (radii of fakes among fakes).
density (Naeem et al., 2020)
    ``1/(k M) sum_j sum_i 1[d(j, i) <= r_k(i)]``: how many real balls hold a
    fake, on average, over ``k``; about 1 when the two sets match, above 1
    when fakes crowd where the real items are dense.
coverage (Naeem et al., 2020)
    Share of real items whose ball holds at least one fake.
authenticity (after Alaa et al., 2022, simplified)
    Share of fakes strictly farther from their nearest real item than that
    item is from its own nearest other real item (``r_1``). A copy of a
    training item is never authentic.
realism (Kynkäänniemi et al., 2019), per sample
    ``max_i r_k(i) / d(j, i)``; at least 1 exactly when the fake is inside
    some real ball, so ``mean(realism >= 1)`` is the precision.

Ties count as inside (``<=``) everywhere. The published code (the ``prdc``
package, ``compute_prdc``) compares with a strict ``<``; that is the one
deliberate difference. Binary bitmaps tie constantly: an item with ``k``
copies has radius 0, and with ``<`` its ball holds nothing, not even the
copies, so a set of repeated bitmaps scores 0 against itself. Where no
distance ties a radius exactly, genval's values equal ``prdc``'s. As in
``prdc``, ``k`` counts the neighbours other than the item itself.

Realism: a fake at distance 0 from a real item scores ``inf`` (``d <= r``
holds whatever the radius). The paper prunes the half of the real balls with
the largest radii before taking the maximum; genval does not by default, so
that realism and precision agree, and offers it as ``prune=True``.

Cost: recall needs the radii of the fakes among themselves, ``M**2 / 2``
distances; for millions of samples, measure a documented random subsample.

``metric="euclidean"`` suits grey levels; ``metric="hamming"`` suits binary
sets (bool or 0/1 values) and counts the differing pixels, exactly. Data
holding only 0 and 1 are measured through exact Hamming counts under either
metric (the Euclidean distance is then the square root of the count).

How the work is done, since ``N`` and ``M`` may be large: identical rows are
merged first and carried as multiplicities (the figures are those of the
full sets), and distances are computed in float32 blocks sized by the memory
budget, with float64 recomputation where a float32 distance cannot decide a
comparison (:mod:`genval.checks._blocks`); the radii come from
:mod:`genval.checks._knn` and the comparisons of fakes with real items from
one pass of :mod:`genval.checks._cross`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genval._utils.budget import memory_budget
from genval.checks._blocks import _as_matrix, _check_k, _out, _prepare, _setup, _space
from genval.checks._cross import _cross
from genval.checks._knn import _radii
from genval.errors import ParameterError

__all__ = ["MembershipMetrics", "knn_radii", "membership_metrics", "nearest_distance", "realism"]

DEFINITIONS = {
    "precision": "share of generated samples within the k-NN radius of some real item (d <= r_k)",
    "recall": "share of real items within the k-NN radius (among generated samples) of some generated sample",
    "density": "real k-NN balls holding each generated sample, averaged and divided by k",
    "coverage": "share of real items whose k-NN ball holds at least one generated sample",
    "authenticity": "share of generated samples strictly farther from their nearest real item "
                    "than that item is from its own nearest other real item",
}


@dataclass(frozen=True)
class MembershipMetrics:
    """Precision, recall, density, coverage and authenticity of ``n_fake`` samples against ``n_real`` items.

    Attributes
    ----------
    precision, recall, density, coverage, authenticity : float
        See the module documentation; all but density lie in [0, 1].
    k : int
        Neighbours defining the radii.
    n_real, n_fake : int
        N and M, counting duplicates.
    metric : str
        ``"euclidean"`` or ``"hamming"``.

    Examples
    --------
    >>> m = membership_metrics(np.eye(4, dtype=bool), np.eye(4, dtype=bool), k=1, metric="hamming")
    >>> m.to_dict()["precision"]["value"], m.authenticity
    (1.0, 0.0)
    """

    precision: float
    recall: float
    density: float
    coverage: float
    authenticity: float
    k: int
    n_real: int
    n_fake: int
    metric: str

    def to_dict(self) -> dict:
        """A JSON-ready document: each figure with its one-line definition, and ``k``, N, M, the metric."""
        doc = {name: {"value": float(getattr(self, name)), "definition": text} for name, text in DEFINITIONS.items()}
        doc.update(k=int(self.k), n_real=int(self.n_real), n_fake=int(self.n_fake), metric=self.metric)
        return doc


def _budget(budget: int | None) -> int:
    return memory_budget() if budget is None else int(budget)


def knn_radii(X, k: int = 5, metric: str = "euclidean", budget: int | None = None) -> np.ndarray:
    """Each row's distance to its k-th nearest other row of ``X``.

    A duplicate row counts as a neighbour at distance 0; the row itself does not.

    Parameters
    ----------
    X : array-like (n, p)
        Bool or numbers; finite.
    k : int
        1 <= k < n.
    metric : {"euclidean", "hamming"}
        Hamming needs binary data (bool or 0/1) and counts the differing entries.
    budget : int, optional
        Bytes of working memory; default :func:`genval._utils.budget.memory_budget`.

    Returns
    -------
    ndarray (n,)
        float64 for Euclidean, int64 for Hamming.

    Raises
    ------
    ParameterError
        For k out of range, an unknown metric, non-binary data under Hamming, or NaN.

    Examples
    --------
    >>> knn_radii([[0.0], [1.0], [3.0], [3.0]], k=1).tolist()
    [1.0, 1.0, 0.0, 0.0]
    >>> knn_radii(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=bool), k=2, metric="hamming").tolist()
    [2, 2, 2]
    """
    X = _as_matrix(X, "X")
    k = _check_k(k, len(X), "rows")
    space = _space([X], metric)
    A = _prepare(X, space)
    rk, _ = _radii(space, A, k, _budget(budget))
    return _out(space, rk)[A.inverse]


def membership_metrics(real, fake, k: int = 5, metric: str = "euclidean",
                       budget: int | None = None) -> MembershipMetrics:
    """k-NN precision, recall, density, coverage and authenticity of ``fake`` samples against ``real`` items.

    Parameters
    ----------
    real : array-like (N, p)
        The training items; N >= k + 1.
    fake : array-like (M, p)
        The generated samples; M >= k + 1 (recall needs their radii).
    k : int
        Neighbours defining the balls; 5 as in the papers. Rule of thumb: small k is strict (few
        neighbours, tight balls); report it with N and M, since every figure depends on all three.
    metric : {"euclidean", "hamming"}
    budget : int, optional
        Bytes of working memory; default :func:`genval._utils.budget.memory_budget`.

    Returns
    -------
    MembershipMetrics

    Raises
    ------
    ParameterError
        For empty or mismatched sets, k out of range, NaN, or an unusable metric.

    Examples
    --------
    >>> real = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> m = membership_metrics(real, real + 0.1, k=1)
    >>> m.precision, m.recall, m.density, m.coverage, m.authenticity
    (1.0, 1.0, 2.0, 1.0, 0.0)

    Each shifted corner sits in two of the unit balls around the corners (density 2), and it is
    nearer its corner than that corner is to the next one (authenticity 0).
    """
    space, R, F = _setup(real, fake, metric)
    k = _check_k(k, R.n, "real rows")
    _check_k(k, F.n, "fake rows")
    budget = _budget(budget)
    rR, r1 = _radii(space, R, k, budget)
    rF, _ = _radii(space, F, k, budget)
    found = _cross(space, R, F, budget, rR=rR, rF=rF, nearest=True)
    wF, wR = F.weight, R.weight
    authentic = found["distance"] > r1[found["nearest"]]
    return MembershipMetrics(
        precision=float(wF @ found["inside"]) / F.n,
        recall=float(wR @ found["reached"]) / R.n,
        density=float(wF @ found["count"]) / (k * F.n),
        coverage=float(wR @ found["covered"]) / R.n,
        authenticity=float(wF @ authentic) / F.n,
        k=k, n_real=R.n, n_fake=F.n, metric=metric,
    )


def realism(real, fake, k: int = 5, metric: str = "euclidean", prune: bool = False,
            budget: int | None = None) -> np.ndarray:
    """Each fake's realism score: the largest ``r_k(i) / d(j, i)`` over the real items ``i``.

    At least 1 exactly when the fake lies in some real item's k-NN ball (so the share of
    scores >= 1 is the precision); ``inf`` for a fake at distance 0 from a real item.

    Parameters
    ----------
    real : array-like (N, p), N >= k + 1
    fake : array-like (M, p)
    k : int
    metric : {"euclidean", "hamming"}
    prune : bool
        False (default): every real item takes part, which keeps the link with precision. True: as
        in Kynkäänniemi et al. (2019), only the real items whose radius is at most the median radius
        take part, so that a few outliers with huge balls do not make everything look realistic.
    budget : int, optional

    Returns
    -------
    ndarray of float64 (M,)

    Examples
    --------
    >>> real = np.array([[0.0], [2.0], [4.0]])
    >>> realism(real, [[0.0], [1.0], [10.0]], k=1).tolist()
    [inf, 2.0, 0.3333333333333333]
    """
    space, R, F = _setup(real, fake, metric)
    k = _check_k(k, R.n, "real rows")
    budget = _budget(budget)
    rR, _ = _radii(space, R, k, budget)
    weights = rR.copy()
    if prune:
        weights[rR > np.median(rR[R.inverse])] = -1.0
    if F.n == 0:
        return np.zeros(0)
    score = _cross(space, R, F, budget, ratio_of=weights)["realism"]
    if space.root:
        score = np.sqrt(score)
    return score[F.inverse]


def nearest_distance(real, fake, metric: str = "euclidean",
                     budget: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each fake's nearest real row: its distance and its index (the lowest on ties).

    Parameters
    ----------
    real : array-like (N, p), N >= 1
    fake : array-like (M, p)
    metric : {"euclidean", "hamming"}
    budget : int, optional

    Returns
    -------
    distance : ndarray (M,)
        float64 for Euclidean, int64 for Hamming.
    index : ndarray of int (M,)

    Examples
    --------
    >>> d, i = nearest_distance([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]], [[3.0, 4.0], [0.0, 1.0]])
    >>> d.tolist(), i.tolist()
    ([0.0, 1.0], [1, 0])
    """
    space, R, F = _setup(real, fake, metric)
    if R.n == 0:
        raise ParameterError("real must hold at least one row to find nearest rows in")
    if F.n == 0:
        return _out(space, np.zeros(0)), np.zeros(0, dtype=np.intp)
    found = _cross(space, R, F, _budget(budget), nearest=True)
    return _out(space, found["distance"])[F.inverse], R.first[found["nearest"]][F.inverse]
