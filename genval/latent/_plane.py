"""The plane a picture shows of a latent space, and the regular grid decoded over the codes' box in it.

Two latent dimensions are shown as they are; more through the codes' first
two principal axes. :func:`grid_axes` lays a ``size x size`` grid over the
codes' box in that plane, and :func:`latent_grid` decodes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from genval._utils.budget import check_allocation
from genval._utils.values import is_int, is_number
from genval.errors import ParameterError
from genval.latent._space import _decode

if TYPE_CHECKING:
    from genval.latent._space import Embedding, LatentSpace

__all__ = ["grid_axes", "latent_grid", "plane"]


def plane(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plane a picture shows of a latent space: ``(origin, axes)``.

    Two dimensions are shown as they are (origin 0, axes the identity); more
    through the codes' first two principal axes, so that a point ``p`` of the
    plane is the latent point ``origin + p @ axes``. Pictures, ``latent_grid``
    and ``genval decode`` use it for latent spaces wider than two.

    Examples
    --------
    >>> Z = np.array([[2.0, 0, 1], [-2.0, 0, 1], [0, 1.0, 1], [0, -1.0, 1]])
    >>> origin, axes = plane(Z)
    >>> origin.tolist(), np.abs(axes).round(6).tolist()
    ([0.0, 0.0, 1.0], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    """
    Z = np.asarray(Z, dtype=float)
    if Z.shape[1] <= 2:
        return np.zeros(Z.shape[1]), np.eye(Z.shape[1])[:2]
    origin = Z.mean(axis=0)
    _, _, vt = np.linalg.svd(Z - origin, full_matrices=False)
    return origin, vt[:2]


MAX_MARGIN = 100.0  # a grid a hundred boxes wide on each side shows the box as a dot already
MAX_GRID_SIZE = 100_000  # points a side: 10^10 decoded bitmaps, far past any memory budget


def grid_axes(codes: np.ndarray, size: int = 20, margin: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """The coordinates of a ``size x size`` grid over the codes' box in their plane (:func:`plane`).

    The grid :func:`latent_grid` decodes, and ``genval explore``'s page snaps to:
    the box the codes span, widened by ``margin`` of its sides at each end.

    Returns
    -------
    xs : ndarray (size,)
        First coordinate of each column, increasing.
    ys : ndarray (size,)
        Second coordinate of each row, decreasing (row 0 is the top).

    Raises
    ------
    ParameterError
        For a ``size`` that is not a whole number from 2 to :data:`MAX_GRID_SIZE`, a ``margin`` not in
        ``[0, MAX_MARGIN]`` (NaN, infinite, negative, not a number), or codes of one dimension.

    Examples
    --------
    >>> xs, ys = grid_axes(np.array([[0.0, 0.0], [1.0, 2.0]]), size=3, margin=0)
    >>> xs.tolist(), ys.tolist()
    ([0.0, 0.5, 1.0], [2.0, 1.0, 0.0])
    """
    if not is_int(size, 2, MAX_GRID_SIZE):
        raise ParameterError(f"size must be a whole number of grid points from 2 to {MAX_GRID_SIZE:,}, got {size!r}")
    if not (is_number(margin, 0) and margin <= MAX_MARGIN):
        raise ParameterError(f"margin must be a share of the codes' box from 0 to {MAX_MARGIN:g}, got {margin!r}")
    if codes.shape[1] < 2:
        raise ParameterError("a latent grid needs at least 2 latent dimensions, and this model has 1")
    origin, axes = plane(codes)
    P = (codes - origin) @ axes.T
    lo, hi = P.min(axis=0), P.max(axis=0)
    pad = (hi - lo) * margin
    return np.linspace(lo[0] - pad[0], hi[0] + pad[0], size), np.linspace(hi[1] + pad[1], lo[1] - pad[1], size)


def latent_grid(space: LatentSpace | Embedding, size: int = 20,
                margin: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode a regular ``size x size`` grid over the codes' bounding box.

    Only the set, the model and the codes are used: an :class:`Embedding`
    (no map) will do.

    In a latent space wider than two the grid lies on the codes' principal
    plane (:func:`plane`), and ``xs``, ``ys`` are coordinates in that plane.

    Returns
    -------
    xs, ys : ndarray (size,)
        The columns' and rows' coordinates (:func:`grid_axes`; row 0 is the top).
    pixels : ndarray (size, size, n_features)

    Raises
    ------
    ParameterError
        For a ``size`` that is not a whole number from 2 to :data:`MAX_GRID_SIZE`, or a ``margin`` not in
        ``[0, MAX_MARGIN]`` (NaN, infinite, negative, not a number).
    genval._utils.budget.MemoryBudgetError
        When the decoded grid would exceed the memory budget.
    """
    xs, ys = grid_axes(space.codes, size, margin)
    origin, axes = plane(space.codes)
    n_features = space.bitmaps.n_features
    check_allocation(8 * size * size * n_features, f"a {size}x{size} grid of {n_features}-pixel bitmaps")
    gx, gy = np.meshgrid(xs, ys)
    Z = origin + np.column_stack([gx.ravel(), gy.ravel()]) @ axes
    return xs, ys, _decode(space.model, Z, n_features).reshape(size, size, -1)
