"""Kohonen's batch map: what MiniSom's ``train_batch_offline`` computes, vectorised.

Online training (MiniSom's ``train``) moves every neuron towards one code per
step, so a big map needs hundreds of thousands of steps. The batch map moves
every neuron at once, towards the neighbourhood-weighted mean of all the codes,
and settles in tens of passes: a 30x30 map over 60,000 codes trains in seconds.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from genval._utils.budget import chunk_rows
from genval.latent._winners import diverged, nearest_weights

__all__: list[str] = []


def asymptotic_decay(start: float, t: int, iterations: int) -> float:
    """MiniSom's default decay of sigma and the learning rate: to a third of ``start`` over ``iterations`` steps.

    The same expression as MiniSom's, so the values agree to the bit.

    Examples
    --------
    >>> asymptotic_decay(0.6, 0, 10), asymptotic_decay(0.6, 10, 10)
    (0.6, 0.19999999999999998)
    """
    return start / (1 + t / (iterations / 2))


def train_batch(W: np.ndarray, Z: np.ndarray, iterations: int, sigma: float, learning_rate: float,
                neighborhood: Callable[[tuple[int, int], float], np.ndarray]) -> None:
    """Train the weights ``W`` (rows, cols, n_latent) on the codes ``Z`` in place, ``iterations`` batch passes.

    Each pass: every code's winner, then for each neuron the mean of the
    codes weighted by the neighbourhood of their winners (``neighborhood(c,
    sigma)``: the map's function, a (rows, cols) array around neuron ``c``,
    at that pass's sigma), blended into the weight by that pass's learning
    rate. Sigma and the learning rate decay as MiniSom's do
    (:func:`asymptotic_decay`). Codes that share a winner enter as one sum,
    so a pass costs the winners plus ``occupied x n_neurons`` products.
    Stops early when the weights diverge (no winner is meaningful any more).
    """
    rows, cols, d = W.shape
    k = rows * cols
    W = W.reshape(k, d)
    block = chunk_rows(8 * (k + d))
    for t in range(iterations):
        rate = asymptotic_decay(learning_rate, t, iterations)
        radius = asymptotic_decay(sigma, t, iterations)
        win = nearest_weights(Z, W)
        counts = np.bincount(win, minlength=k).astype(float)
        sums = np.column_stack([np.bincount(win, weights=Z[:, j], minlength=k) for j in range(d)])
        occupied = np.flatnonzero(counts)
        numerator = np.zeros((k, d))
        denominator = np.zeros(k)
        for b in range(0, len(occupied), block):
            winners = occupied[b:b + block]
            H = np.stack([neighborhood((int(c) // cols, int(c) % cols), radius).ravel() for c in winners])
            numerator += H.T @ sums[winners]
            denominator += H.T @ counts[winners]
        moved = denominator > 0
        W[moved] = (1 - rate) * W[moved] + rate * (numerator[moved] / denominator[moved, None])
        if diverged(W):  # the caller says so
            return
