"""Paths over a map's grid: each neuron's neighbours at unit distance and the shortest path between two neurons.

Walks along a map (``walk(path="som")``) go from neuron to neighbouring
neuron; these functions give the neighbour table of a grid, from the neurons'
positions on the plane, and the breadth-first shortest path over it.
"""

from __future__ import annotations

import numpy as np

from genval.errors import ParameterError

__all__: list[str] = []


def unit_neighbours(P: np.ndarray, rows: int, cols: int) -> list[tuple[int, ...]]:
    """For each neuron, in increasing order, the neurons at distance 1 on the plane (``P``: positions, flat order).

    In either layout a neuron at unit distance lies at most one row and one
    column away (hexagonal rows are ``sqrt(3)/2`` apart, so two rows are
    already too far), so only the 8 cells around each neuron are measured:
    linear in the neurons, where comparing all pairs took 5 minutes on a
    316 x 316 map.
    """
    n = rows * cols
    r, c = np.divmod(np.arange(n), cols)
    pairs = []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == dc == 0:
                continue
            ok = (r + dr >= 0) & (r + dr < rows) & (c + dc >= 0) & (c + dc < cols)
            a = np.flatnonzero(ok)
            b = a + dr * cols + dc
            near = np.isclose(np.linalg.norm(P[a] - P[b], axis=1), 1.0)
            pairs.append(np.stack([a[near], b[near]], axis=1))
    both = np.concatenate(pairs)
    both = both[np.lexsort((both[:, 1], both[:, 0]))]
    ends = np.searchsorted(both[:, 0], np.arange(n + 1))
    targets = both[:, 1].tolist()
    return [tuple(targets[ends[k]:ends[k + 1]]) for k in range(n)]


def shortest_path(adjacency: list[tuple[int, ...]], start: int, stop: int, grid: tuple[int, int]) -> list[int]:
    """The shortest path of neighbouring neurons from ``start`` to ``stop`` over ``adjacency``, both ends included.

    Breadth-first search; among equally short paths the one visiting lower
    indices first (``adjacency`` lists each neuron's neighbours in increasing
    order), so the path is deterministic.

    Raises
    ------
    ParameterError
        For an end that is not a neuron of the ``(rows, cols)`` grid.
    """
    for k in (start, stop):
        if not 0 <= k < len(adjacency):
            raise ParameterError(f"neuron {k} is outside the {grid[0]}x{grid[1]} map")
    previous = {start: None}
    frontier = [start]
    while frontier and stop not in previous:
        nxt = []
        for k in frontier:
            for m in adjacency[k]:
                if m not in previous:
                    previous[m] = k
                    nxt.append(m)
        frontier = nxt
    path = [stop]
    while path[-1] != start:
        path.append(previous[path[-1]])
    return path[::-1]
