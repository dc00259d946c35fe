"""Walks between two items: decoded points on a path from one item's code to another's.

* ``path="line"``: evenly spaced points on the straight segment between the
  two codes, endpoints included;
* ``path="som"``: through the map's weights, along the shortest grid path of
  neurons from the first item's neuron to the second's:
  ``z_a -> w(n_0) -> ... -> w(n_k) -> z_b``, sampled evenly by arc length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genval._utils.budget import check_allocation
from genval.errors import ParameterError
from genval.latent._space import LatentSpace, Located, item_index, point_bytes

__all__ = ["Walk", "walk"]


@dataclass(frozen=True)
class Walk:
    """Samples decoded along a path between two items.

    Attributes
    ----------
    start, stop : str
        Item names.
    kind : {"line", "som"}
    same_neuron : bool
        Whether one neuron wins both items (the course's criterion for
        "these two may be blended").
    path : list of int
        For ``som`` the grid path of neurons (flat indices); for ``line`` the
        neurons the samples pass through, in order.
    t : ndarray (n,)
        Position along the path, 0 at ``start`` and 1 at ``stop``.
    located : Located
    """

    start: str
    stop: str
    kind: str
    same_neuron: bool
    path: list[int]
    t: np.ndarray
    located: Located


def points_along(vertices: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` points evenly spaced by arc length on a polyline, both ends included."""
    seg = np.linalg.norm(np.diff(vertices, axis=0), axis=1)
    total = seg.sum()
    t = np.linspace(0.0, 1.0, steps)
    if total == 0:
        return t, np.repeat(vertices[:1], steps, axis=0)
    cum = np.concatenate([[0.0], np.cumsum(seg)]) / total
    points = np.column_stack([np.interp(t, cum, vertices[:, d]) for d in range(vertices.shape[1])])
    return t, points


def walk(space: LatentSpace, start: str, stop: str, steps: int = 10, path: str = "line") -> Walk:
    """Decode ``steps`` points on a path from item ``start`` to item ``stop``.

    Parameters
    ----------
    space : LatentSpace
    start, stop : str
        Item names (``":]"``, ``";D"``).
    steps : int, default 10
        Samples, both endpoints included (at least 2).
    path : {"line", "som"}
        The straight segment between the codes, or the route through the
        map's weights along the shortest grid path of neurons.

    Returns
    -------
    Walk

    Raises
    ------
    UnknownItemError
        For an unknown item name (the message lists the known ones).
    ParameterError
        For ``steps < 2`` or an unknown ``path``.

    Examples
    --------
    >>> from genval import Autoencoder, build_space, load_dataset
    >>> emojis = load_dataset("emojis")
    >>> space = build_space(emojis, Autoencoder(stop_wrong_pixels=0).fit(emojis.X), grid=(3, 3))
    >>> w = walk(space, ":]", ";D", steps=5)
    >>> w.t.tolist(), emojis.names[w.located.nearest[-1]], int(w.located.hamming[-1])
    ([0.0, 0.25, 0.5, 0.75, 1.0], ';D', 0)
    """
    if steps < 2:
        raise ParameterError(f"steps must be at least 2 (both endpoints), got {steps}")
    if path not in ("line", "som"):
        raise ParameterError(f"unknown path {path!r}; choose line or som")
    p = space.bitmaps.n_features
    check_allocation(steps * point_bytes(p, space.codes.shape[1]), f"a walk of {steps:,} samples of {p} pixels")
    za, zb = space.code(start), space.code(stop)
    na, nb = space.neuron_of(start), space.neuron_of(stop)
    if path == "line":
        t = np.linspace(0.0, 1.0, steps)
        Z = za[None, :] + t[:, None] * (zb - za)[None, :]
        located = space.locate(Z)
        neurons = [int(k) for i, k in enumerate(located.neuron) if i == 0 or k != located.neuron[i - 1]]
    else:
        neurons = space.som.grid_path(na, nb)
        W = space.som.weights_.reshape(space.som.n_neurons, -1)
        t, Z = points_along(np.vstack([za, W[neurons], zb]), steps)
        located = space.locate(Z)
    names = space.bitmaps.names
    return Walk(names[item_index(space.bitmaps, start)], names[item_index(space.bitmaps, stop)],
                path, na == nb, neurons, t, located)
