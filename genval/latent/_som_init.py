"""Where a map starts: its size by the rule of thumb and its first weights on the codes' principal plane."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["default_grid", "pca_weights"]


def default_grid(Z: np.ndarray) -> tuple[int, int]:
    """The rule of thumb for a map size when none is given.

    About ``5 * sqrt(n)`` neurons (Vesanto's rule, also MiniSom's advice), at
    least 4, shaped so that ``cols / rows`` follows the ratio of the codes' two
    principal spreads (the square root of the ratio of the two largest
    covariance eigenvalues), clipped to [1, 4]: ``rows <= cols`` always.

    Parameters
    ----------
    Z : array-like of shape (n_points, n_latent)

    Returns
    -------
    (int, int)
        ``(rows, cols)``.

    Examples
    --------
    >>> Z = np.random.default_rng(0).normal(size=(100, 2)) * [1, 3]  # 3 times wider along z2
    >>> default_grid(Z)  # 50 neurons, about 3 times as many columns as rows
    (4, 13)
    >>> default_grid(np.zeros((1, 2)))  # the smallest map
    (2, 3)
    """
    Z = np.asarray(Z, dtype=float)
    n_neurons = max(4, math.ceil(5 * math.sqrt(len(Z))))
    ratio = 1.0
    if len(Z) > 2 and Z.shape[1] >= 2:
        eig = np.sort(np.linalg.eigvalsh(np.cov(Z, rowvar=False)))[::-1]
        if eig[1] > 0:
            ratio = math.sqrt(eig[0] / eig[1])
        elif eig[0] > 0:  # the codes lie on a line
            ratio = 4.0
    ratio = min(max(ratio, 1.0), 4.0)
    rows = max(1, round(math.sqrt(n_neurons / ratio)))
    cols = max(1, math.ceil(n_neurons / rows))
    return rows, cols


def pca_weights(Z: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Initial weights spread over the plane of the codes' first two principal components.

    MiniSom's rule (``MiniSom.pca_weights_init``, reproduced exactly for maps
    at least 2x2 over codes of 2 or more dimensions): neuron ``(i, j)`` sits at
    ``mean + a_i * pc1 + b_j * pc2``, with unit-length components and ``a``,
    ``b`` evenly spaced over [-1, 1] along the rows and the columns. It is
    deterministic, and a map that starts on the codes' plane converges in far
    fewer steps than one started at random codes. Extended to every input
    MiniSom refuses: a map one neuron wide lies along ``pc1``, centred on the
    mean; 1-D codes have no second component; a single code has no spread
    (the components are then coordinate axes).

    Parameters
    ----------
    Z : ndarray of shape (n_points, n_latent)
    grid : (int, int)

    Returns
    -------
    ndarray of shape (rows, cols, n_latent)

    Examples
    --------
    >>> pca_weights(np.array([[0.0, 0.0], [4.0, 0.0], [8.0, 0.0]]), (1, 3))[0].tolist()
    [[3.0, 0.0], [4.0, 0.0], [5.0, 0.0]]
    """
    Z = np.asarray(Z, dtype=float)
    n_latent = Z.shape[1]
    cov = np.cov(Z, rowvar=False).reshape(n_latent, n_latent) if len(Z) > 1 else np.zeros((n_latent, n_latent))
    eigvals, eigvecs = np.linalg.eigh(cov)
    order = np.argsort(eigvals)[::-1]
    pc1 = eigvecs[:, order[0]]
    pc2 = eigvecs[:, order[1]] if n_latent > 1 else np.zeros(n_latent)
    rows, cols = grid
    if rows == 1 < cols:
        pc1, pc2 = pc2, pc1  # a single row lies along the first component
    a = np.linspace(-1, 1, rows) if rows > 1 else np.zeros(1)
    b = np.linspace(-1, 1, cols) if cols > 1 else np.zeros(1)
    # The same operations in the same order as MiniSom, so the weights agree to the bit.
    return Z.mean(axis=0) + a[:, None, None] * pc1 + b[None, :, None] * pc2
