"""The distance engine under the membership metrics: distinct rows, float32 blocks, float64 where it matters.

Since ``N`` and ``M`` may be large, identical rows are merged first and carried
as multiplicities (a :class:`_Set`), and distances are computed in blocks sized
by the memory budget (:mod:`genval._utils.budget`), keeping only per-row
reductions, never an ``N x M`` matrix. Blocks are float32 matrix products
(:func:`_block`); where a float32 distance lies within its proven rounding
bound (:func:`_tolerance`) of a threshold, the pair is recomputed in float64
from the data (:func:`_exact`), so each comparison is decided as the float64
distance decides it (exactly for integer data; Hamming counts are exact
integers throughout). The metrics themselves are in
:mod:`genval.checks._membership`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genval._utils.budget import CHUNK_SHARE, check_allocation, chunk_rows, dedupe_rows
from genval.errors import ParameterError

METRICS = {
    "euclidean": "Euclidean distance, for grey levels",
    "hamming": "number of differing pixels, for binary (bool or 0/1) data",
}

# Bytes of working memory per distance entry of a block: the float32 distance, the
# thresholds broadcast against it and the boolean masks derived from it (about 20,
# measured with tracemalloc), with room to spare.
_ENTRY_BYTES = 32
_U = 2.0 ** -24  # unit roundoff of float32


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
