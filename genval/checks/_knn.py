"""Each distinct row's squared distance to its k-th and to its nearest other row of the same set.

The radii of the k-NN balls that precision, recall, density and coverage rest
on (:mod:`genval.checks._membership`), computed over the blocks of
:mod:`genval.checks._blocks` without ever sorting a whole row.
"""

from __future__ import annotations

import numpy as np

from genval.checks._blocks import (_block, _entries, _exact, _joined, _pairs, _Set, _Space, _sparse_nonzero, _spans,
                                   _tolerance)

# Columns of the sample that bounds each row's k-th neighbour before the main pass.
_SAMPLE = 1024


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
    bound = _sampled_bound(A, K, entries)
    if space.hamming:
        keep = bound  # kept strictly below the bound; when too few are, the bound is the value
    else:
        # The true K-th value is at most bound + tol, and any entry at most that reads at most bound + 2 tol.
        keep = np.nextafter((bound + 2 * tol).astype(np.float32), np.float32(np.inf))
    row, col, val = _entries_below(space, A, keep, entries, budget)
    order = np.lexsort((val, row))
    row, col, val = row[order], col[order], val[order]
    if space.hamming:  # exact counts: read the values off
        return _read_counts(row, val, A.weight[col], bound, need_k, need_1)
    return _refine(space, A, budget, tol, row, col, val, need_k, need_1)


def _sampled_bound(A: _Set, K: int, entries: int) -> np.ndarray:
    """An upper bound on each row's K-th smallest entry, from a sample of columns.

    The main pass then keeps only the few entries below it instead of sorting whole rows (a
    partition costs 40 times more than a comparison).
    """
    u = len(A.weight)
    sample = np.unique(np.linspace(0, u - 1, min(u, max(_SAMPLE, K + 1))).astype(np.intp))
    bound = np.empty(u, dtype=np.float32)
    for a in _spans(u, max(1, entries // len(sample))):
        D = _block(A, a, A, sample)
        rows = np.arange(a.start, a.stop)
        pos = np.minimum(np.searchsorted(sample, rows), len(sample) - 1)
        hit = np.flatnonzero(sample[pos] == rows)
        D[hit, pos[hit]] = np.inf  # a row is not its own neighbour
        bound[a] = np.partition(D, K - 1, axis=1)[:, K - 1]
    return bound


def _entries_below(space: _Space, A: _Set, keep: np.ndarray, entries: int,
                   budget: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``(row, col)`` of distinct rows whose block entry is below ``keep[row]``, with the entry.

    Below means ``<`` for exact Hamming counts and ``<=`` for float32 distances. Strips of rows
    run against the columns from the strip's first row on: each pair of rows is computed once
    (half the products), and serves both rows.
    """
    u = len(A.weight)
    found = []
    values = []
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
    return row, col, val


def _read_counts(row: np.ndarray, val: np.ndarray, weight: np.ndarray, bound: np.ndarray, need_k: np.ndarray,
                 need_1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The k-th and nearest values from exact counts sorted by row, then value, with the columns' weights."""
    u = len(bound)
    cum = _cum_within(row, weight)
    out = []
    for need in (need_k, need_1):
        at = _first_reaching(row, cum, need, u)
        # Fewer than needed strictly below the bound: the bound itself is the value.
        value = np.where(at >= 0, val[np.maximum(at, 0)] if len(val) else 0.0, bound.astype(np.float64))
        out.append(np.where(need > 0, value, 0.0))
    return out[0], out[1]


def _refine(space: _Space, A: _Set, budget: int, tol: np.ndarray, row: np.ndarray, col: np.ndarray, val: np.ndarray,
            need_k: np.ndarray, need_1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The k-th and nearest values from float32 entries sorted by row, then value, settled in float64.

    The float32 k-th value t is within tol of the true one: entries below t - 2 tol are surely
    nearer than the k-th neighbour and only count; those within 2 tol of t decide it and are
    recomputed in float64. Likewise for the nearest one, around the float32 minimum.
    """
    u = len(A.weight)
    weight = A.weight[col]
    at = _first_reaching(row, _cum_within(row, weight), need_k, u)
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
