"""The winning neuron of many codes at once: exact, fast, and in chunks within the memory budget.

A map's winner of a code is the neuron whose weight vector is nearest, the
lower index on ties (MiniSom's ``argmin``). For a million codes the direct
subtraction is slow and large; these functions give the same winners through a
k-d tree (codes of up to four dimensions) or the matrix-product form
``|w|^2 - 2 z.w`` (wider codes), and compare again by subtraction every point
whose two best candidates are within the forms' rounding bound of each other.
"""

from __future__ import annotations

import math

import numpy as np

from genval._utils.budget import chunk_rows
from genval.errors import ParameterError

__all__ = ["KD_TREE_MAX_DIMENSIONS", "nearest_weights"]

KD_TREE_MAX_DIMENSIONS = 4  # beyond, a k-d tree prunes too little to beat one matrix product per chunk
# Fewer points than this pay more for building the tree (about 80 ms over 1e5 neurons, whatever the points) than
# for the product (about 30 ms for 17 points): a big map's batch passes over a small set's codes.
TREE_MIN_POINTS = 32


def nearest_weights(Z: np.ndarray, W: np.ndarray, chunk: int | None = None) -> np.ndarray:
    """Index of the nearest row of ``W`` for each row of ``Z``, exactly as the direct ``argmin |z - w|^2``.

    Codes of up to 4 dimensions, 32 points or more, go through a k-d tree (the two nearest
    neurons of each point, in logarithmic time), wider or fewer ones through
    the matrix-product form; either way, points whose best two squared distances
    are within the forms' rounding bound of each other are compared again by
    subtraction (ties to the lower index).
    """
    n, d = Z.shape
    k = len(W)
    out = np.empty(n, dtype=np.int64)
    if k == 1:
        out[:] = 0
        return out
    if d <= KD_TREE_MAX_DIMENSIONS and n >= TREE_MIN_POINTS:
        return _nearest_by_tree(Z, W, chunk, out)
    # Centring on the weights' mean keeps the terms small, so near ties are rare. |z - c|^2 is the
    # same for every neuron of a point, so the argmin needs only -2 (z - c).(w - c) + |w - c|^2.
    centre = W.mean(axis=0)
    Wc = W - centre
    w_sq = np.einsum("kd,kd->k", Wc, Wc)
    minus_2w = -2.0 * Wc.T
    w_max = math.sqrt(w_sq.max())
    slack = _slack(d)
    # Chunks of about 2 MB of distances stay in cache, which matters more here than fewer, bigger products.
    chunk = chunk or min(chunk_rows(8 * (2 * k + d)), max(1, 2**18 // k))
    for s in range(0, n, chunk):
        Zc = Z[s:s + chunk] - centre
        if d <= 8:  # a product with so short an inner dimension is faster, and steadier, elementwise than in BLAS
            D = Zc[:, :1] * minus_2w[0]
            for j in range(1, d):
                D += Zc[:, j:j + 1] * minus_2w[j]
        else:
            D = Zc @ minus_2w
        D += w_sq
        best = D.argmin(axis=1)
        low = D[np.arange(len(D)), best]
        out[s:s + chunk] = best
        z_sq = np.einsum("nd,nd->n", Zc, Zc)
        tie = (low + 2 * slack * (np.sqrt(z_sq) + w_max) ** 2)[:, None]
        _compare_directly(Z, W, np.flatnonzero(np.count_nonzero(D <= tie, axis=1) > 1) + s, out)
    return out


def _slack(d: int) -> float:
    """Relative rounding bound of a squared distance in ``d`` dimensions, by any of the forms, generously.

    Each form errs by at most a few ``(d + 1)`` ulps of ``(|z - c| + |w - c|)^2``
    for any centre ``c``; two candidates closer than twice this are compared again.
    """
    return 4 * (2 * d + 10) * np.finfo(float).eps


def _compare_directly(Z: np.ndarray, W: np.ndarray, at: np.ndarray, out: np.ndarray) -> None:
    """``out[at]``: the winners of the points ``Z[at]`` by subtraction, the lower index on ties."""
    step = chunk_rows(8 * len(W) * (Z.shape[1] + 1))
    for e in range(0, len(at), step):
        rows = at[e:e + step]
        diff = Z[rows, None, :] - W[None, :, :]
        out[rows] = np.einsum("nkd,nkd->nk", diff, diff).argmin(axis=1)


def _nearest_by_tree(Z: np.ndarray, W: np.ndarray, chunk: int | None, out: np.ndarray) -> np.ndarray:
    """:func:`nearest_weights` for low-dimensional codes: the two nearest neurons from a k-d tree."""
    from scipy.spatial import cKDTree

    d = Z.shape[1]
    centre = W.mean(axis=0)
    tree = cKDTree(W)
    w_max = float(np.sqrt(((W - centre) ** 2).sum(axis=1).max()))
    chunk = chunk or chunk_rows(8 * (6 + 2 * d))
    for s in range(0, len(Z), chunk):
        Zs = Z[s:s + chunk]
        dist, index = tree.query(Zs, k=2)
        out[s:s + chunk] = index[:, 0]
        reach = np.sqrt(((Zs - centre) ** 2).sum(axis=1)) + w_max
        close = dist[:, 1] ** 2 - dist[:, 0] ** 2 <= 2 * _slack(d) * reach ** 2
        _compare_directly(Z, W, np.flatnonzero(close) + s, out)
    return out


# A weight beyond this lies far past any code (codes are a network's activations) and its squared distances
# overflow float64: the map has diverged. Codes are held to the same bound, so that a map of them never does.
MAX_CODE = 1e100


def check_range(Z: np.ndarray) -> np.ndarray:
    """``Z``, or an error for codes past :data:`MAX_CODE`: their squared distances would overflow float64."""
    largest = float(np.abs(Z).max(initial=0.0))
    if largest > MAX_CODE:
        raise ParameterError(f"codes reach {largest:.3g}; expected codes of magnitude at most {MAX_CODE:.0e} "
                             "(squared distances past it overflow float64)")
    return Z


def diverged(W: np.ndarray) -> bool:
    """Weights infinite, NaN or so large that squared distances to them overflow: a map that blew up."""
    return not np.isfinite(W).all() or float(np.abs(W).max(initial=0.0)) > MAX_CODE
