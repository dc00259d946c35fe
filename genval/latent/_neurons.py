"""A map's neurons as values: each neuron's place on the grid, its weight and the items it wins."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genval.errors import ParameterError

__all__ = ["Neuron"]


@dataclass(frozen=True)
class Neuron:
    """One neuron of a fitted map and the items it wins.

    Attributes
    ----------
    row, col : int
        0-based grid position.
    index : int
        Flat row-major index, ``row * cols + col``.
    items : tuple of str
        Names of the items whose codes it wins (empty for an empty neuron).
    weight : tuple of float
        Its weight vector, a point in the latent space.

    Examples
    --------
    >>> Neuron(0, 1, 1, ("a",), (0.5, 2.0)).to_dict()
    {'row': 0, 'col': 1, 'items': ['a'], 'weight': [0.5, 2.0]}
    """

    row: int
    col: int
    index: int
    items: tuple[str, ...]
    weight: tuple[float, ...]

    def to_dict(self) -> dict:
        """The neuron as JSON-ready values (without the index, which is its position in a list)."""
        return {"row": self.row, "col": self.col, "items": list(self.items), "weight": list(self.weight)}


def neuron_table(weights: np.ndarray, winners: np.ndarray, names) -> list[Neuron]:
    """Every neuron of a map with ``weights`` (rows, cols, d) in row-major order, with the items it wins.

    ``winners[i]`` is the flat index of the neuron that wins item ``names[i]``;
    empty neurons are listed too.
    """
    if len(names) != len(winners):
        raise ParameterError(f"got {len(names)} names for {len(winners)} codes")
    rows, cols = weights.shape[:2]
    members: list[list[str]] = [[] for _ in range(rows * cols)]
    for name, w in zip(names, winners):
        members[w].append(name)
    W = weights.reshape(rows * cols, -1)
    return [Neuron(k // cols, k % cols, k, tuple(members[k]), tuple(float(v) for v in W[k]))
            for k in range(rows * cols)]
