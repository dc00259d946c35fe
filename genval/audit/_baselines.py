"""Map-free baselines: where a sample's code lies against the training codes, knowing nothing of the map.

* :func:`hull_depth`: the signed distance of a point to the boundary of the
  codes' convex hull (positive inside). It knows nothing of the map or the
  decoder: only where the training codes are.
* :func:`box_centre_closeness`: minus the distance to the centre of the
  sampling box, each axis scaled by the box's half-width: a sanity row that
  scores well only when validity is a matter of "not near the box's edge".

:func:`genval.audit.controlled_comparison` sets every membership score beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genval._utils.budget import chunk_rows
from genval.errors import ParameterError

__all__ = ["HullDepth", "box_centre_closeness", "hull_depth"]

MAX_EXACT_DIMS = 4  # beyond, Qhull's facets grow too fast (1,797 codes: 465 facets in 4-D, 20,155 in 6-D,
# 926,766 in 8-D; 3,000 codes in 6-D took 37 s of a 47 s audit)
MAX_EXACT_CODES = 64  # ...unless there are this few codes, whose hull stays small in any dimension



@dataclass(frozen=True)
class HullDepth:
    """The signed depth of points in the codes' convex hull, and how it was computed.

    Attributes
    ----------
    depth : ndarray (n,)
        Inside the hull, the distance to its boundary (exact); outside, minus
        the distance to the hull (exact in two dimensions; beyond, minus the
        largest distance past a facet's plane, a lower bound of it).
    dims : int
        Dimensions the hull was built in.
    method : str
        ``"exact"`` (the codes' own hull) or ``"projected"`` (the hull of the
        codes' projection on their leading ``dims`` principal axes, the
        samples projected alike: the exact hull is out of reach).
    """

    depth: np.ndarray
    dims: int
    method: str

    @property
    def inside(self) -> np.ndarray:
        """Per point: inside the hull or on its boundary."""
        return self.depth >= 0

    def to_dict(self) -> dict:
        return {"dims": self.dims, "method": self.method,
                "definition": "signed distance to the boundary of the training codes' convex hull, positive inside"
                              + ("" if self.method == "exact" else
                                 f"; computed in the codes' leading {self.dims} principal axes")}


def _principal(codes: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    origin = codes.mean(axis=0)
    _, _, vt = np.linalg.svd(codes - origin, full_matrices=False)
    return origin, vt[:dims]


def hull_depth(codes, Z, max_dims: int = MAX_EXACT_DIMS) -> HullDepth:
    """Signed depth of each point ``Z`` in the convex hull of ``codes``: positive inside, negative outside.

    The hull is exact when the codes have at most ``max_dims`` dimensions or
    at most :data:`MAX_EXACT_CODES` items; otherwise (and when the codes lie
    in a flat subspace) it is built on their leading principal axes, as
    many as the codes span up to ``max_dims``, and the samples are projected
    on the same axes.

    Parameters
    ----------
    codes : array (n_items, n_latent)
        The training codes.
    Z : array (n, n_latent)
        The points to place.
    max_dims : int

    Returns
    -------
    HullDepth

    Raises
    ------
    ParameterError
        With fewer than 3 codes (no hull with an inside) or codes and points of different widths.

    Examples
    --------
    >>> square = np.array([[0.0, 0], [2, 0], [2, 2], [0, 2]])
    >>> found = hull_depth(square, [[1.0, 1.0], [1.5, 1.0], [3.0, 1.0], [3.0, 3.0]])
    >>> found.depth.round(4).tolist(), found.method
    ([1.0, 0.5, -1.0, -1.4142], 'exact')
    """
    from scipy.spatial import ConvexHull, QhullError

    codes = np.asarray(codes, dtype=float)
    Z = np.asarray(Z, dtype=float)
    if codes.ndim != 2 or Z.ndim != 2 or codes.shape[1] != Z.shape[1]:
        raise ParameterError(f"codes and points must be 2-D arrays of one width, got {codes.shape} and {Z.shape}")
    if len(codes) < 3:
        raise ParameterError(f"a convex hull with an inside needs at least 3 codes, got {len(codes)}")
    width = codes.shape[1]
    rank = int(np.linalg.matrix_rank(codes - codes.mean(axis=0)))
    exact = rank == width and (width <= max_dims or len(codes) <= MAX_EXACT_CODES)
    dims = width if exact else max(1, min(rank, max_dims, len(codes) - 2))
    method = "exact" if exact else "projected"
    if not exact:
        origin, axes = _principal(codes, dims)
        codes, Z = (codes - origin) @ axes.T, (Z - origin) @ axes.T
    if dims == 1:
        lo, hi = codes.min(), codes.max()
        return HullDepth(np.minimum(Z[:, 0] - lo, hi - Z[:, 0]), 1, method)
    try:
        hull = ConvexHull(codes)
    except QhullError:  # nearly flat codes: Qhull's joggle finds a hull all the same
        hull = ConvexHull(codes, qhull_options="QJ")
    normals, offsets = hull.equations[:, :-1], hull.equations[:, -1]
    depth = np.empty(len(Z))
    chunk = chunk_rows(8 * (len(offsets) + 4))
    for s in range(0, len(Z), chunk):
        # Qhull's equations are unit outward normals: n.x + b <= 0 inside, its value minus the distance to
        # that facet's plane. Inside a convex polytope the nearest plane is the nearest boundary.
        depth[s:s + chunk] = -(Z[s:s + chunk] @ normals.T + offsets).max(axis=1)
    if dims == 2:  # outside, the exact distance to the polygon: its nearest edge
        out = np.flatnonzero(depth < 0)
        if len(out):
            depth[out] = -_distance_to_polygon(codes[hull.vertices], Z[out])
    return HullDepth(depth, dims, method)


def _distance_to_polygon(vertices: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest edge of a closed polygon (its vertices in order)."""
    A, B = vertices, np.roll(vertices, -1, axis=0)
    AB = B - A
    best = np.full(len(P), np.inf)
    for a, ab in zip(A, AB):
        t = np.clip(((P - a) @ ab) / max(float(ab @ ab), 1e-300), 0.0, 1.0)
        best = np.minimum(best, np.linalg.norm(P - (a + t[:, None] * ab), axis=1))
    return best


def box_centre_closeness(lo, hi, Z) -> np.ndarray:
    """Minus the distance of each point to the centre of the box ``[lo, hi]``, each axis in half-widths.

    A sanity baseline: 0 at the centre, -1 on a face's middle, lower outside.

    >>> box_centre_closeness([0, 0], [2, 4], [[1, 2], [2, 2], [1, 4]]).tolist()
    [-0.0, -1.0, -1.0]
    """
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    half = np.where(hi > lo, (hi - lo) / 2, 1.0)
    return -np.linalg.norm((np.asarray(Z, dtype=float) - (lo + hi) / 2) / half, axis=1)
