"""How well a map fits codes: distances to the neurons, the quantization and the topographic error.

Both go a chunk of points at a time within the memory budget, and both compute
exactly what MiniSom computes, so the figures agree with it to the bit.
"""

from __future__ import annotations

import numpy as np

from genval._utils.budget import check_allocation, chunk_rows

__all__: list[str] = []


def distances(Z: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Distance from each point of ``Z`` (n, d) to every neuron weight of ``W`` (n_neurons, d): (n, n_neurons).

    Raises
    ------
    genval._utils.budget.MemoryBudgetError
        When the result would exceed the memory budget (``n * n_neurons * 8`` bytes).
    """
    check_allocation(8 * len(Z) * len(W), f"distances from {len(Z):,} points to {len(W):,} neurons")
    out = np.empty((len(Z), len(W)))
    chunk = chunk_rows(8 * len(W) * (Z.shape[1] + 1))
    for s in range(0, len(Z), chunk):
        out[s:s + chunk] = np.linalg.norm(Z[s:s + chunk, None, :] - W[None, :, :], axis=-1)
    return out


def quantization_error(Z: np.ndarray, W: np.ndarray, winners: np.ndarray) -> float:
    """Mean distance from each point of ``Z`` to its winning neuron's weight (``W[winners]``)."""
    return float(np.linalg.norm(Z - W[winners], axis=1).mean())


def topographic_error(Z: np.ndarray, weights: np.ndarray, P: np.ndarray, topology: str) -> float:
    """Fraction of codes whose best and second-best neurons are not grid neighbours (MiniSom's definition).

    Parameters
    ----------
    Z : ndarray of shape (n, d)
    weights : ndarray of shape (rows, cols, d)
        At least two neurons.
    P : ndarray of shape (rows * cols, 2)
        The neurons' positions on the plane (hexagonal rows shifted), flat order.
    topology : {"rectangular", "hexagonal"}
        On a rectangular grid the 8 neighbours around a neuron (diagonals
        too) count, on a hexagonal grid the 6 at unit distance.

    Best and second best come from MiniSom's distance formula; on an exact
    tie the lower index ranks first.
    """
    grid = weights.shape[:2]
    W = weights.reshape(-1, weights.shape[-1])
    w_sq = np.power(W, 2).sum(axis=1)
    adjacent = np.empty(len(Z), dtype=bool)
    chunk = chunk_rows(8 * 2 * len(W))
    for s in range(0, len(Z), chunk):
        Zs = Z[s:s + chunk]
        D = np.sqrt(np.maximum(0, -2 * (Zs @ W.T) + np.power(Zs, 2).sum(axis=1, keepdims=True) + w_sq[None, :]))
        rows = np.arange(len(D))
        first = D.argmin(axis=1)
        D[rows, first] = np.inf
        second = D.argmin(axis=1)
        if topology == "hexagonal":
            adjacent[s:s + chunk] = np.isclose(1, np.linalg.norm(P[first] - P[second], axis=1))
        else:
            steps = np.column_stack(np.unravel_index(first, grid)) \
                - np.column_stack(np.unravel_index(second, grid))
            adjacent[s:s + chunk] = np.linalg.norm(steps, axis=1) <= 1.42
    # MiniSom's own last step for each topology, so the figure agrees to the bit
    return float(1 - np.mean(adjacent)) if topology == "hexagonal" else float((~adjacent).mean())


# MiniSom's distance_map: the (row, col) offsets of the neighbours it measures, for odd and for even columns.
_AROUND = {"rectangular": ([(0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1)],) * 2,
           "hexagonal": ([(1, 1), (1, 0), (1, -1), (0, -1), (-1, 0), (0, 1)],
                         [(0, 1), (1, 0), (0, -1), (-1, -1), (-1, 0), (-1, 1)])}


def umatrix(W: np.ndarray, topology: str) -> np.ndarray:
    """MiniSom's ``distance_map()`` of the weights ``W`` (rows, cols, d), a shifted array at a time.

    Each neuron's summed distance to the neighbours MiniSom measures (8 on a
    rectangular grid; 6 on a hexagonal one, by column parity), divided by the
    largest sum: MiniSom's array of 8 distances per neuron (NaN off the grid)
    summed as it sums them, within a few units in the last place of its
    figures (BLAS's ``dot`` may fuse a multiply and an add), in a hundredth of
    its neuron-by-neuron time on a 316x316 map. NaN where every sum is 0.

    Examples
    --------
    >>> umatrix(np.array([[[0.0], [1.0], [3.0]]]), "rectangular")
    array([[0.33333333, 1.        , 0.66666667]])
    """
    rows, cols, _ = W.shape
    odd_offsets, even_offsets = _AROUND[topology]
    around = np.full((rows, cols, 8), np.nan)  # 8 on either grid, as MiniSom's: the sum's order is the same
    even = np.arange(cols) % 2 == 0  # MiniSom's `e = y % 2 == 0`, y the column
    for k, offsets in enumerate(zip(odd_offsets, even_offsets)):
        for (i, j), use in zip(offsets, (~even, even)):
            r0, r1 = max(0, -i), min(rows, rows - i)  # the neurons whose neighbour (r + i, c + j) is on the grid
            c0, c1 = max(0, -j), min(cols, cols - j)
            if r0 >= r1 or c0 >= c1:
                continue
            diff = W[r0:r1, c0:c1] - W[r0 + i:r1 + i, c0 + j:c1 + j]
            norm = np.sqrt(np.einsum("rcd,rcd->rc", diff, diff))
            columns = np.flatnonzero(use[c0:c1])
            around[r0:r1, c0 + columns, k] = norm[:, columns]
    total = np.nansum(around, axis=2)
    with np.errstate(invalid="ignore"):  # all sums 0: MiniSom's 0/0
        return total / total.max()
