"""Neighbours among bitmaps that the held-out audit needs beyond the nearest one (:mod:`genval.audit._holdout`).

Both compare distinct rows in float32 blocks within the memory budget, as
:func:`genval._utils.budget.nearest_bitmaps` does; Hamming distances between
bitmaps are integers, which float32 holds exactly up to 2**24 pixels.
"""

from __future__ import annotations

import numpy as np

from genval._utils.budget import chunk_rows, dedupe_rows, memory_budget
from genval.errors import ParameterError

__all__ = ["count_within", "nearest_other_distance"]


def nearest_other_distance(T: np.ndarray, rows: np.ndarray, budget: int | None = None) -> np.ndarray:
    """Hamming distance from each of the bitmaps ``T[rows]`` to its nearest *other* row of ``T``.

    A duplicate counts at distance 0; the row itself does not. The distinct
    rows of ``T`` are compared in float32 blocks within the memory budget.

    Parameters
    ----------
    T : ndarray of bool (n, p), n >= 2
    rows : ndarray of int (r,)
    budget : int, optional

    Returns
    -------
    ndarray of int64 (r,)

    Examples
    --------
    >>> T = np.array([[1, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 0]], dtype=bool)
    >>> nearest_other_distance(T, np.array([0, 1, 3])).tolist()
    [0, 2, 1]
    """
    T = np.asarray(T, dtype=bool)
    if len(T) < 2:
        raise ParameterError(f"a nearest other row needs at least 2 rows, got {len(T)}")
    budget = memory_budget() if budget is None else budget
    first, inverse = dedupe_rows(T)
    U = T[first]
    wanted = np.unique(inverse[rows])
    best = np.where(np.bincount(inverse, minlength=len(U))[wanted] > 1, 0.0, np.inf).astype(np.float32)
    need = np.flatnonzero(best > 0)
    ink = U.sum(axis=1, dtype=np.float32)
    p = U.shape[1]
    r_rows = max(1, min(len(U), chunk_rows(4 * p, budget) // 2))
    for r0 in range(0, len(U), r_rows):
        block = U[r0:r0 + r_rows].astype(np.float32)
        q_rows = chunk_rows(4 * (p + 2 * len(block)), budget)
        for q0 in range(0, len(need), q_rows):
            at = need[q0:q0 + q_rows]
            dist = _hamming(U[wanted[at]], ink[wanted[at]], block, ink[r0:r0 + r_rows])
            self_ = wanted[at] - r0
            inside = (self_ >= 0) & (self_ < len(block))
            dist[np.flatnonzero(inside), self_[inside]] = np.inf  # the row itself is not its own neighbour
            best[at] = np.minimum(best[at], dist.min(axis=1))
    distance = np.rint(best).astype(np.int64)
    return distance[np.searchsorted(wanted, inverse[rows])]


def count_within(Q: np.ndarray, R: np.ndarray, radius: np.ndarray, budget: int | None = None) -> tuple:
    """For each bitmap of ``Q``, how many rows of ``R`` lie strictly within ``radius`` of it, and how many at it.

    Hamming distances, exact, in float32 blocks within the memory budget; duplicate rows of ``R`` count each.

    Examples
    --------
    >>> R = np.array([[1, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 0]], dtype=bool)
    >>> below, at = count_within(np.array([[1, 1, 0]], dtype=bool), R, np.array([1]))
    >>> below.tolist(), at.tolist()
    ([2], [1])
    """
    budget = memory_budget() if budget is None else budget
    q_first, q_inverse = dedupe_rows(np.asarray(Q, dtype=bool))
    r_first, r_inverse = dedupe_rows(np.asarray(R, dtype=bool))
    Qu, Ru = Q[q_first], R[r_first]
    weight = np.bincount(r_inverse, minlength=len(Ru)).astype(np.float32)
    single = bool((weight == 1).all())
    limit = np.asarray(radius)[q_first].astype(np.float32)[:, None]
    q_ink, r_ink = Qu.sum(axis=1, dtype=np.float32), Ru.sum(axis=1, dtype=np.float32)
    below, at = np.zeros(len(Qu)), np.zeros(len(Qu))
    p = Qu.shape[1]
    r_rows = max(1, min(len(Ru), chunk_rows(4 * p, budget) // 2))
    for r0 in range(0, len(Ru), r_rows):
        block = Ru[r0:r0 + r_rows].astype(np.float32)
        q_rows = chunk_rows(4 * (p + 3 * len(block)), budget)
        for q0 in range(0, len(Qu), q_rows):
            dist = _hamming(Qu[q0:q0 + q_rows], q_ink[q0:q0 + q_rows], block, r_ink[r0:r0 + r_rows])
            lower, upper = dist < limit[q0:q0 + q_rows] - 0.5, dist < limit[q0:q0 + q_rows] + 0.5
            if single:  # every row of R once: count, rather than weigh, the rows within
                inside, within = np.count_nonzero(lower, axis=1), np.count_nonzero(upper, axis=1)
            else:
                inside, within = lower @ weight[r0:r0 + r_rows], upper @ weight[r0:r0 + r_rows]
            below[q0:q0 + q_rows] += inside
            at[q0:q0 + q_rows] += within - inside
    return below.astype(np.int64)[q_inverse], at.astype(np.int64)[q_inverse]


def _hamming(Q: np.ndarray, q_ink: np.ndarray, block: np.ndarray, b_ink: np.ndarray) -> np.ndarray:
    """Hamming distances from the bitmaps ``Q`` to the float32 rows ``block``, given both sides' ink counts:
    ``|q| + |b| - 2 q.b``, exact in float32 below 2**24 pixels."""
    dist = Q.astype(np.float32) @ block.T
    dist *= -2.0
    dist += q_ink[:, None]
    dist += b_ink[None, :]
    return dist
