"""Random latent points: uniform in the codes' box, from a Gaussian fitted to them, or inside one neuron's cell."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from genval._utils.budget import check_allocation
from genval._utils.files import resolve_rng
from genval.errors import ParameterError

if TYPE_CHECKING:
    from genval.latent._space import LatentSpace

__all__ = ["sample_latent"]

SAMPLE_METHODS = ("box", "gaussian", "neuron")


def sample_latent(space: LatentSpace, n: int, method: str = "box", neuron: int | None = None,
                  random_state=None) -> np.ndarray:
    """Random latent points, ``(n, n_latent)``.

    Parameters
    ----------
    method : {"box", "gaussian", "neuron"}
        Uniform in the box spanned by the item codes; from a Gaussian fitted
        to the codes (their mean and covariance); or uniform inside one
        neuron's cell (the part of the box that neuron wins).
    neuron : int, optional
        Flat index of the neuron, for ``method="neuron"``: 0-based, while
        ``genval som`` numbers neuron ``k`` as ``k + 1``.
    random_state : int, numpy Generator or None

    Raises
    ------
    ParameterError
        For an unknown method, a missing or out-of-range neuron, or a neuron
        whose cell does not meet the box.
    genval._utils.budget.MemoryBudgetError
        When ``n`` points would exceed the memory budget.
    """
    if method not in SAMPLE_METHODS:
        raise ParameterError(f"unknown sampling method {method!r}; choose one of {', '.join(SAMPLE_METHODS)}")
    if n < 1:
        raise ParameterError(f"n must be at least 1, got {n}")
    n_latent = space.codes.shape[1]
    # "neuron" draws 4 candidates per point at a time and keeps the ones its neuron wins
    check_allocation(8 * n_latent * n * (5 if method == "neuron" else 1), f"{n:,} latent points")
    rng = resolve_rng(random_state)
    lo, hi = space.box()
    if method == "box":
        return rng.uniform(lo, hi, size=(n, len(lo)))
    if method == "gaussian":
        return rng.multivariate_normal(space.codes.mean(axis=0), np.cov(space.codes, rowvar=False), size=n)
    if neuron is None or not 0 <= neuron < space.som.n_neurons:
        # the index is 0-based, the neurons people see are numbered from 1: say both
        got = "none" if neuron is None else f"{neuron} (neuron {neuron + 1})"
        raise ParameterError(f"method 'neuron' needs a neuron index between 0 and {space.som.n_neurons - 1} "
                             f"(neurons 1 to {space.som.n_neurons} as genval som numbers them), got {got}")
    found: list[np.ndarray] = []
    have = 0
    for _ in range(200):  # rejection sampling: keep the points the neuron wins
        batch = rng.uniform(lo, hi, size=(max(1024, 4 * n), len(lo)))
        keep = batch[space.som.winners(batch) == neuron]
        found.append(keep)
        have += len(keep)
        if have >= n:
            return np.concatenate(found)[:n]
    rows, cols = space.som.grid_
    raise ParameterError(f"neuron {neuron + 1} (row {neuron // cols}, col {neuron % cols}, counted from 0) wins "
                         "almost none of the box spanned by the codes; pick another neuron")
