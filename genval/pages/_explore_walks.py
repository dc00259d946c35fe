"""What the explorer page holds beyond the grid: grey levels under a byte budget, and walks between items decoded
in the full latent space when the codes are wider than the plane.

The page never decodes, so both are computed here. Grey sets keep 8-bit
levels per grid point, every ``stride``-th grid point along each axis when all
of them would exceed :data:`GREY_BUDGET`. For codes wider than two, a straight
line between two plane points stays in the plane, but a walk between two
items' codes does not: :func:`walk_codes` lays out, for every ordered pair of
up to :data:`MAX_WALK_ITEMS` items, the :data:`WALK_STEPS` points of
:func:`genval.latent.walk` along the line and along the map path, computed as it
computes them, so that the page shows what ``genval interpolate`` prints.
"""

from __future__ import annotations

import math

import numpy as np

from genval.latent._space import LatentSpace
from genval.latent._walks import points_along

__all__: list[str] = []

GREY_BUDGET = 3_000_000  # bytes of 8-bit grey levels a page may hold (4 MB as base64), counted before de-duplication
WALK_STEPS = 10  # samples of each precomputed walk, both ends included: genval interpolate's default
MAX_WALK_ITEMS = 40  # items with walks between every ordered pair: 40 x 40 pairs x 2 paths x 10 samples = 32,000 points


def grey_stride(resolution: int, n_features: int, budget: int = GREY_BUDGET) -> int:
    """The smallest step ``s`` such that the grid points ``(r, c)`` with ``r % s == c % s == 0`` hold at most
    ``budget`` bytes of 8-bit levels (``resolution`` when not even one image fits: only the corner).

    >>> grey_stride(101, 64), grey_stride(101, 784), grey_stride(401, 64)
    (1, 2, 2)
    """
    for s in range(1, resolution + 1):
        if math.ceil(resolution / s) ** 2 * n_features <= budget:
            return s
    return resolution


def grey_levels(pixels: np.ndarray) -> np.ndarray:
    """Decoded values in [0, 1] as 8-bit levels (0 white, 255 full ink), rounded to the nearest."""
    return np.rint(np.clip(pixels, 0.0, 1.0) * 255).astype(np.uint8)


def walk_items(space: LatentSpace) -> np.ndarray:
    """The items the page holds walks between: all of them up to :data:`MAX_WALK_ITEMS`, else for each occupied
    neuron (in index order) the item nearest its weights, the first :data:`MAX_WALK_ITEMS` of those."""
    n = len(space.bitmaps)
    if n <= MAX_WALK_ITEMS:
        return np.arange(n)
    winners = space.som.winners(space.codes)
    W = space.som.weights_.reshape(space.som.n_neurons, -1)
    distance = ((space.codes - W[winners]) ** 2).sum(axis=1)
    chosen = [int(np.flatnonzero(winners == k)[np.argmin(distance[winners == k])]) for k in np.unique(winners)]
    return np.array(chosen[:MAX_WALK_ITEMS], dtype=np.int64)


def walk_codes(space: LatentSpace, items: np.ndarray, steps: int = WALK_STEPS) -> np.ndarray:
    """Latent points of the walks between every ordered pair of ``items``, shape ``(2, m, m, steps, n_latent)``:
    index 0 the straight line, 1 the map path, as :func:`genval.latent.walk` computes each."""
    m, d = len(items), space.codes.shape[1]
    W = space.som.weights_.reshape(space.som.n_neurons, -1)
    neurons = space.som.winners(space.codes[items])
    t = np.linspace(0.0, 1.0, steps)
    Z = np.empty((2, m, m, steps, d))
    for i, a in enumerate(items):
        za = space.code(int(a))
        for j, b in enumerate(items):
            zb = space.code(int(b))
            Z[0, i, j] = za[None, :] + t[:, None] * (zb - za)[None, :]
            path = space.som.grid_path(int(neurons[i]), int(neurons[j]))
            Z[1, i, j] = points_along(np.vstack([za, W[path], zb]), steps)[1]
    return Z
