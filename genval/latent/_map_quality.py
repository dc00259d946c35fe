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
