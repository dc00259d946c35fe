"""What the tests of the Kohonen map share: a few codes, MiniSom as the oracle, maps with planted weights.

A test file binds the fixture ``codes`` to a name of its own.
"""

import numpy as np
import pytest
from minisom import MiniSom

from genval.latent import LatentSOM


@pytest.fixture(scope="module")
def codes():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(c, 0.3, size=(6, 2)) for c in ([0, 0], [4, 0], [0, 4])])


def minisom_with(weights, topology="rectangular"):
    """MiniSom itself holding given weights: the oracle for winners and errors."""
    rows, cols, n_latent = weights.shape
    som = MiniSom(rows, cols, n_latent, topology=topology)
    som.get_weights()[...] = weights  # MiniSom has no setter: get_weights() gives the array it works on
    return som


def planted(weights, topology="rectangular"):
    """A fitted map whose weights are then set by hand."""
    weights = np.asarray(weights, dtype=float)
    som = LatentSOM(grid=weights.shape[:2], topology=topology, iterations=1, init="random")
    som.fit(weights.reshape(-1, weights.shape[2]))
    som.weights_ = weights
    return som
