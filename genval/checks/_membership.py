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
full sets), and distances are computed in blocks sized by the memory budget
(:mod:`genval._utils.budget`), keeping only per-row reductions, never an ``N x M``
matrix. Blocks are float32 matrix products; where a float32 distance lies
within its proven rounding bound of a radius, that pair is recomputed in
float64 from the data, so each comparison is decided as the float64
distance decides it (exactly for integer data; Hamming counts are exact
integers throughout).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genval._utils.budget import CHUNK_SHARE, check_allocation, chunk_rows, dedupe_rows, memory_budget
from genval.errors import ParameterError

__all__ = ["MembershipMetrics", "knn_radii", "membership_metrics", "nearest_distance", "realism"]

METRICS = {
    "euclidean": "Euclidean distance, for grey levels",
    "hamming": "number of differing pixels, for binary (bool or 0/1) data",
}

DEFINITIONS = {
    "precision": "share of generated samples within the k-NN radius of some real item (d <= r_k)",
    "recall": "share of real items within the k-NN radius (among generated samples) of some generated sample",
    "density": "real k-NN balls holding each generated sample, averaged and divided by k",
    "coverage": "share of real items whose k-NN ball holds at least one generated sample",
    "authenticity": "share of generated samples strictly farther from their nearest real item "
                    "than that item is from its own nearest other real item",
}

# Bytes of working memory per distance entry of a block: the float32 distance, the
# thresholds broadcast against it and the boolean masks derived from it (about 20,
# measured with tracemalloc), with room to spare.
_ENTRY_BYTES = 32
# Columns of the sample that bounds each row's k-th neighbour before the main pass.
_SAMPLE = 1024
_U = 2.0 ** -24  # unit roundoff of float32


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


# ----------------------------------------------------------------------------- preparing the sets

@dataclass(frozen=True)
class _Space:
    """How rows become float32 vectors for the block products, and how far those products can be off."""

    hamming: bool  # counts of differing entries, exact in float32
    root: bool  # report square roots (Euclidean); the comparisons use squares
    center: np.ndarray | None
    scale: float  # a power of two: block values are squared distances times scale**2
    coef: float  # rounding bound of a block entry, per unit of the two rows' squared norms


@dataclass(frozen=True)
class _Set:
    """The distinct rows of one set, with their multiplicities."""

    rows: np.ndarray  # (u, p) as given (bool for Hamming): the float64 recomputations start here
    # float32 rows x, centred and scaled (or 0/1), augmented so that one product gives the squared
    # distance with no pass over the block after it: [-2x, |x|^2, 1] . [y, 1, |y|^2].
    left: np.ndarray  # (u, p + 2)
    right: np.ndarray  # (u, p + 2)
    sq: np.ndarray  # (u,) float32 squared norms (ink for Hamming) of the float32 rows
    weight: np.ndarray  # (u,) int64
    first: np.ndarray  # (u,) original index of each distinct row's first occurrence, increasing
    inverse: np.ndarray  # (n,) distinct row of each original row

    @property
    def n(self) -> int:
        return int(self.weight.sum())


def _as_matrix(X, name: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] == 0:
        raise ParameterError(f"{name} must be a 2-D array (n, p) with p >= 1, got shape {X.shape}")
    if X.dtype != bool and not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise ParameterError(f"{name} must hold real numbers or booleans, got dtype {X.dtype}")
    if X.dtype != bool and not np.isfinite(X).all():
        raise ParameterError(f"{name} holds NaN or infinite values; expected finite numbers")
    return X


def _is_binary(X: np.ndarray) -> bool:
    return X.dtype == bool or bool(((X == 0) | (X == 1)).all())


def _space(arrays: list[np.ndarray], metric: str) -> _Space:
    if metric not in METRICS:
        raise ParameterError(f"unknown metric {metric!r}; choose one of: " +
                             ", ".join(f"{name} ({text})" for name, text in METRICS.items()))
    binary = all(_is_binary(X) for X in arrays if len(X))
    if metric == "hamming" and not binary:
        raise ParameterError("metric 'hamming' needs binary data (bool or only 0 and 1); "
                             "use metric='euclidean' for grey levels")
    if binary:
        return _Space(hamming=True, root=metric == "euclidean", center=None, scale=1.0, coef=0.0)
    p = arrays[0].shape[1]
    first = next(X for X in arrays if len(X))
    # Centring shrinks the norms, hence the rounding bound; a power-of-two scale is exact and keeps
    # float32 away from overflow and underflow whatever the data's units.
    center = first.mean(axis=0, dtype=np.float64)
    spread = max(float(np.maximum(X.max(axis=0) - center, center - X.min(axis=0)).max()) for X in arrays if len(X))
    scale = 2.0 ** -np.frexp(spread)[1] if spread > 0 else 1.0
    # A product of p + 2 terms errs by at most gamma_(p+2) times the sum of their magnitudes, which is
    # at most 2 (|a|^2 + |b|^2), whatever the summation order; with the casts to float32 (2 units per
    # term) and the rounded norms (1 unit), 2 (p + 64) units of |a|^2 + |b|^2 bound it with room to spare.
    return _Space(hamming=False, root=True, center=center, scale=scale, coef=(p + 64) * 2 * _U)


def _prepare(X: np.ndarray, space: _Space) -> _Set:
    if space.hamming:
        X = X.astype(bool, copy=False)
    first, inverse = dedupe_rows(X)
    rows = X if len(first) == len(X) else X[first]  # all distinct: first is 0..n-1, no copy needed
    weight = np.bincount(inverse, minlength=len(first)).astype(np.int64)
    u, p = rows.shape
    right = np.empty((u, p + 2), dtype=np.float32)
    if space.hamming:
        right[:, :p] = rows
        sq = right[:, :p].sum(axis=1, dtype=np.float64)
    else:
        step = chunk_rows(8 * 2 * p)  # float64 temporaries, a chunk at a time
        for s in range(0, u, step):
            right[s:s + step, :p] = (rows[s:s + step] - space.center) * space.scale
        sq = np.einsum("ij,ij->i", right[:, :p], right[:, :p], dtype=np.float64)
    sq = sq.astype(np.float32)
    right[:, p] = 1.0
    right[:, p + 1] = sq
    left = np.empty_like(right)
    np.multiply(right[:, :p], np.float32(-2.0), out=left[:, :p])  # exact: a power of two
    left[:, p] = sq
    left[:, p + 1] = 1.0
    return _Set(rows=rows, left=left, right=right, sq=sq, weight=weight, first=first, inverse=inverse)


def _check_k(k, n: int, what: str) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"k must be a positive integer, got {k!r}")
    if k >= n:
        raise ParameterError(f"k={k} needs at least k + 1 = {k + 1} {what} (each needs k other rows), got {n}")
    return int(k)


def _setup(real, fake, metric):
    real = _as_matrix(real, "real")
    fake = _as_matrix(fake, "fake")
    if real.shape[1] != fake.shape[1]:
        raise ParameterError(f"real and fake rows must have the same width, got {real.shape[1]} and {fake.shape[1]}")
    space = _space([real, fake], metric)
    return space, _prepare(real, space), _prepare(fake, space)


# ----------------------------------------------------------------------------- distances

def _block(A: _Set, a, B: _Set, b) -> np.ndarray:
    """Float32 squared distances (times scale**2), or exact Hamming counts, of rows ``a`` of A and ``b`` of B."""
    return A.left[a] @ B.right[b].T


def _exact(space: _Space, A: _Set, ia: np.ndarray, B: _Set, ib: np.ndarray, budget: int) -> np.ndarray:
    """Float64 squared distances (Hamming counts) of the pairs ``(A[ia], B[ib])``, recomputed from the data."""
    out = np.empty(len(ia), dtype=np.float64)
    step = chunk_rows(8 * 3 * A.rows.shape[1], budget)  # two gathered rows and their float64 difference
    for s in range(0, len(ia), step):
        x, y = A.rows[ia[s:s + step]], B.rows[ib[s:s + step]]
        if space.hamming:
            out[s:s + step] = np.count_nonzero(x != y, axis=1)
        else:
            diff = np.subtract(x, y, dtype=np.float64)
            out[s:s + step] = np.einsum("ij,ij->i", diff, diff)
            del diff  # before the next chunk's rows are gathered
        del x, y
    return out


def _tolerance(space: _Space, A: _Set, B: _Set) -> np.ndarray:
    """Per row of A: a bound on the error of any block entry against B (0 for Hamming)."""
    if space.hamming:
        return np.zeros(len(A.sq))
    return space.coef * (A.sq.astype(np.float64) + float(B.sq.max())) + 1e-30


def _to_block_units(space: _Space, values: np.ndarray, tol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float32 thresholds below which a block entry is surely <= ``values``, and above which surely not."""
    scaled = values * space.scale ** 2
    if space.hamming:
        exact = scaled.astype(np.float32)
        return exact, exact
    lo = np.nextafter((scaled - tol).astype(np.float32), np.float32(-np.inf))
    hi = np.nextafter((scaled + tol).astype(np.float32), np.float32(np.inf))
    return lo, hi


def _spans(n: int, size: int) -> list[slice]:
    parts = max(1, -(-n // max(1, size)))
    step = -(-n // parts)
    return [slice(s, min(n, s + step)) for s in range(0, n, step)]


def _out(space: _Space, values: np.ndarray) -> np.ndarray:
    """Distances as reported: square roots for Euclidean, integer counts for Hamming."""
    if space.root:
        return np.sqrt(values)
    return np.rint(values).astype(np.int64)


def _entries(budget: int) -> int:
    """Distance entries one block may hold."""
    return max(1, budget // CHUNK_SHARE // _ENTRY_BYTES)


def _pairs(store: list, r: np.ndarray, c: np.ndarray, budget: int, what: str) -> None:
    store.append((r, c))
    check_allocation(16 * sum(len(x) for x, _ in store), what, budget)


def _joined(store: list) -> tuple[np.ndarray, np.ndarray]:
    if not store:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    return np.concatenate([r for r, _ in store]), np.concatenate([c for _, c in store])


# ----------------------------------------------------------------------------- k-th neighbours

def _cum_within(group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Running sum of ``weight`` restarting at each new value of the sorted ``group``."""
    cum = np.cumsum(weight)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else np.zeros(0, dtype=np.intp)
    offset = np.zeros(len(group), dtype=cum.dtype)
    if len(group):
        before = np.r_[0, cum[starts[1:] - 1]]
        offset = np.repeat(before, np.diff(np.r_[starts, len(group)]))
    return cum - offset


def _first_reaching(group: np.ndarray, cum: np.ndarray, need: np.ndarray, n: int) -> np.ndarray:
    """Per group id 0..n-1: the first position (in the sorted ``group``) where ``cum`` reaches ``need``; -1 if none."""
    where = np.full(n, -1, dtype=np.intp)
    at = np.flatnonzero(cum >= need[group])
    ids, first = np.unique(group[at], return_index=True)
    where[ids] = at[first]
    return where


def _radii(space: _Space, A: _Set, k: int, budget: int) -> tuple[np.ndarray, np.ndarray]:
    """Squared distances (counts) to the k-th and to the first nearest other row, per distinct row of A.

    Duplicates count: a row with ``w`` copies has ``w - 1`` neighbours at 0.
    """
    u = len(A.weight)
    own = A.weight - 1
    need_k = np.maximum(k - own, 0)
    need_1 = np.maximum(1 - own, 0)
    if u == 1:
        return np.zeros(1), np.zeros(1)
    K = min(k, u - 1)  # weights are >= 1, so the K smallest distinct entries reach the k-th value
    tol = _tolerance(space, A, A)
    entries = _entries(budget)

    # An upper bound on each row's K-th smallest entry, from a sample of columns: the main pass then
    # keeps only the few entries below it instead of sorting whole rows (a partition costs 40 times
    # more than a comparison).
    sample = np.unique(np.linspace(0, u - 1, min(u, max(_SAMPLE, K + 1))).astype(np.intp))
    bound = np.empty(u, dtype=np.float32)
    for a in _spans(u, max(1, entries // len(sample))):
        D = _block(A, a, A, sample)
        rows = np.arange(a.start, a.stop)
        pos = np.minimum(np.searchsorted(sample, rows), len(sample) - 1)
        hit = np.flatnonzero(sample[pos] == rows)
        D[hit, pos[hit]] = np.inf  # a row is not its own neighbour
        bound[a] = np.partition(D, K - 1, axis=1)[:, K - 1]
    if space.hamming:
        keep = bound  # kept strictly below the bound; when too few are, the bound is the value
    else:
        # The true K-th value is at most bound + tol, and any entry at most that reads at most bound + 2 tol.
        keep = np.nextafter((bound + 2 * tol).astype(np.float32), np.float32(np.inf))

    found = []
    values = []
    # Strips of rows against the columns from the strip's first row on: each pair of rows is
    # computed once (half the products), and serves both rows.
    height = max(1, min(u, entries // u))
    width = max(height, entries // height)
    for a in _spans(u, height):
        for start in range(a.start, u, width):
            b = slice(start, min(u, start + width))
            D = _block(A, a, A, b)
            if b.start == a.start:
                np.fill_diagonal(D[:, :len(D)], np.inf)  # a row is not its own neighbour
            # One scan for both readings: entries below the row's bound or the column's.
            skip = max(0, a.stop - b.start)  # the strip's own square is read by rows only
            col_keep = keep[b].copy()
            col_keep[:skip] = -np.inf
            limit = np.maximum(keep[a, None], col_keep[None, :])
            mask = D < limit if space.hamming else D <= limit
            r, c = _sparse_nonzero(mask)
            v = D[r, c]
            by_row = v < keep[a][r] if space.hamming else v <= keep[a][r]
            by_col = v < col_keep[c] if space.hamming else v <= col_keep[c]
            values += [v[by_row], v[by_col]]
            _pairs(found, r[by_row] + a.start, c[by_row] + b.start, budget, "the near neighbours kept for the radii")
            _pairs(found, c[by_col] + b.start, r[by_col] + a.start, budget, "the near neighbours kept for the radii")
    row, col = _joined(found)
    val = np.concatenate(values).astype(np.float64) if values else np.zeros(0)

    order = np.lexsort((val, row))
    row, col, val = row[order], col[order], val[order]
    weight = A.weight[col]
    cum = _cum_within(row, weight)
    if space.hamming:  # exact counts: read the values off
        out = []
        for need in (need_k, need_1):
            at = _first_reaching(row, cum, need, u)
            # Fewer than needed strictly below the bound: the bound itself is the value.
            value = np.where(at >= 0, val[np.maximum(at, 0)] if len(val) else 0.0, bound.astype(np.float64))
            out.append(np.where(need > 0, value, 0.0))
        return out[0], out[1]

    # The float32 k-th value t is within tol of the true one: entries below t - 2 tol are surely
    # nearer than the k-th neighbour and only count; those within 2 tol of t decide it and are
    # recomputed in float64. Likewise for the nearest one, around the float32 minimum.
    at = _first_reaching(row, cum, need_k, u)
    t = val[np.maximum(at, 0)] if len(val) else np.zeros(u)
    lowest = np.full(u, np.inf)
    np.minimum.at(lowest, row, val)
    below = val < t[row] - 2 * tol[row]
    band_k = ~below & (val <= t[row] + 2 * tol[row])
    band_1 = val <= lowest[row] + 2 * tol[row]
    pick = band_k | band_1
    exact = np.full(len(val), np.inf)
    exact[pick] = _exact(space, A, row[pick], A, col[pick], budget)
    counted = np.bincount(row[below], weights=weight[below], minlength=u)
    rk = _weighted_kth(row[band_k], exact[band_k], weight[band_k], need_k - counted, u)
    r1 = np.full(u, np.inf)
    np.minimum.at(r1, row[band_1], exact[band_1])
    if (np.isinf(rk) & (need_k > 0)).any() or (np.isinf(r1) & (need_1 > 0)).any():
        raise AssertionError("a nearest neighbour fell outside the float32 rounding bound")
    return np.where(need_k > 0, rk, 0.0), np.where(need_1 > 0, r1, 0.0)


def _weighted_kth(row: np.ndarray, val: np.ndarray, weight: np.ndarray, need: np.ndarray, n: int) -> np.ndarray:
    """Per row id: the smallest value at which the weights of the values up to it reach ``need``; inf if never."""
    order = np.lexsort((val, row))
    row, val, weight = row[order], val[order], weight[order]
    at = _first_reaching(row, _cum_within(row, weight), need, n)
    return np.where(at >= 0, val[np.maximum(at, 0)] if len(val) else np.inf, np.inf)


def _sparse_nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a mostly-False 2-D mask, in the same order, several times faster.

    The mask is read eight booleans at a time as one 64-bit word; only words that hold a hit
    are unpacked.
    """
    flat = np.ascontiguousarray(mask).reshape(-1)
    whole = flat.size - flat.size % 8
    words = np.flatnonzero(flat[:whole].view(np.uint64))
    at, bit = np.nonzero(flat[:whole].reshape(-1, 8)[words])
    pos = np.concatenate([words[at] * 8 + bit, np.flatnonzero(flat[whole:]) + whole])
    return np.divmod(pos, mask.shape[1])


# ----------------------------------------------------------------------------- fakes against real items

def _cross(space: _Space, R: _Set, F: _Set, budget: int, *, rR=None, rF=None, nearest: bool = False,
           ratio_of=None) -> dict:
    """One pass over fake-by-real blocks, keeping only per-row reductions.

    ``rR``/``rF`` (squared radii of the distinct real items / fakes) ask for the ball memberships;
    ``nearest`` for each fake's nearest real item; ``ratio_of`` (squared radii, -1 for items left
    out) for the realism score.
    """
    nF, nR = len(F.weight), len(R.weight)
    # The realism bounds take float64 temporaries: three times the memory per entry.
    entries = _entries(budget) // (3 if ratio_of is not None else 1)
    col_spans = _spans(nR, max(1, entries // 64))
    row_size = max(1, entries // (col_spans[0].stop - col_spans[0].start))
    tolF = _tolerance(space, F, R)
    tolR = _tolerance(space, R, F)
    out = {}
    unit = bool((R.weight == 1).all())
    if rR is not None:
        loR, hiR = _to_block_units(space, rR, tolR)
        loF, hiF = _to_block_units(space, rF, tolF)
        inside = np.zeros(nF, dtype=bool)  # precision, per fake
        count = np.zeros(nF)  # density: real balls holding each fake, with multiplicity
        covered = np.zeros(nR, dtype=bool)  # coverage, per real item
        reached = np.zeros(nR, dtype=bool)  # recall, per real item
        unsure_real, unsure_fake = [], []
    if nearest:
        best = np.full(nF, np.inf, dtype=np.float32)
        where = np.zeros(nF, dtype=np.intp)
        near = []
    if ratio_of is not None:
        scaled = ratio_of * space.scale ** 2
        top = np.full(nF, -np.inf)
        cand = []
    for a in _spans(nF, row_size):
        for b in col_spans:
            D = _block(F, a, R, b)
            if rR is not None:
                m = D <= loR[None, b]
                inside[a] |= m.any(axis=1)
                count[a] += np.count_nonzero(m, axis=1) if unit else m.astype(np.float64) @ R.weight[b]
                covered[b] |= m.any(axis=0)
                m2 = D <= loF[a, None]
                reached[b] |= m2.any(axis=0)
                if not space.hamming:  # pairs too close to a radius for float32 to decide
                    r, c = _sparse_nonzero((D <= hiR[None, b]) & ~m)
                    _pairs(unsure_real, r + a.start, c + b.start, budget, "the undecided pairs")
                    r, c = _sparse_nonzero((D <= hiF[a, None]) & ~m2)
                    _pairs(unsure_fake, r + a.start, c + b.start, budget, "the undecided pairs")
            if nearest:
                at = D.argmin(axis=1)
                d = D[np.arange(len(D)), at]
                if space.hamming:
                    better = d < best[a]  # exact counts; blocks come in column order, so ties keep the first
                    best[a] = np.where(better, d, best[a])
                    where[a] = np.where(better, at + b.start, where[a])
                else:
                    best[a] = np.minimum(best[a], d)
                    r, c = _sparse_nonzero(D <= (best[a] + 2 * tolF[a])[:, None])
                    _pairs(near, r + a.start, c + b.start, budget, "the candidates for the nearest real items")
            if ratio_of is not None:
                if space.hamming:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        q = ratio_of[None, b] / D.astype(np.float64)
                    q[(D == 0) & (ratio_of[None, b] >= 0)] = np.inf
                    q[np.broadcast_to(ratio_of[None, b] < 0, q.shape)] = -np.inf
                    # Exact counts: the float64 ratios of small integers are told apart exactly.
                    top[a] = np.maximum(top[a], q.max(axis=1))
                else:
                    # Each ratio lies between t / (D + tol) and t / (D - tol): keep the pairs whose
                    # upper end reaches the best lower end so far; float64 settles them below.
                    t = scaled[None, b]
                    # A zero denominator means a distance of 0 is possible: a ratio of infinity.
                    with np.errstate(divide="ignore", invalid="ignore"):
                        wide = D + tolF[a, None]
                        low = np.where(wide > 0, t / wide, np.inf)
                        low[np.broadcast_to(t < 0, low.shape)] = -np.inf
                        top[a] = np.maximum(top[a], low.max(axis=1))
                        narrow = D - tolF[a, None]
                        high = np.where(narrow > 0, t / narrow, np.inf)
                    r, c = _sparse_nonzero((high * (1 + 1e-9) >= top[a, None]) & (t >= 0))
                    _pairs(cand, r + a.start, c + b.start, budget, "the candidates for the realism score")
    if rR is not None:
        r, c = _joined(unsure_real)
        ok = _exact(space, F, r, R, c, budget) <= rR[c]
        inside[r[ok]] = True
        np.add.at(count, r[ok], R.weight[c[ok]])
        covered[c[ok]] = True
        r, c = _joined(unsure_fake)
        reached[c[_exact(space, F, r, R, c, budget) <= rF[r]]] = True
        out.update(inside=inside, count=count, covered=covered, reached=reached)
    if nearest:
        if space.hamming:
            out["nearest"], out["distance"] = where, best.astype(np.float64)
        else:
            r, c = _joined(near)
            d = _exact(space, F, r, R, c, budget)
            order = np.lexsort((c, d, r))  # nearest first, then the lowest index
            r, c, d = r[order], c[order], d[order]
            first = np.unique(r, return_index=True)[1]
            out["nearest"], out["distance"] = c[first], d[first]
    if ratio_of is not None:
        if space.hamming:
            out["realism"] = top
        else:
            r, c = _joined(cand)
            d = _exact(space, F, r, R, c, budget)
            with np.errstate(divide="ignore", invalid="ignore"):
                q = np.where(d > 0, ratio_of[c] / d, np.inf)
            value = np.full(nF, -np.inf)
            np.maximum.at(value, r, q)
            out["realism"] = value
    return out


# ----------------------------------------------------------------------------- public functions

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
