"""A map's parameters: the valid choices, the limits on its size and training, and their checks.

Checked when a map is fitted and when a map file is read, so that both refuse
the same settings with the same messages.
"""

from __future__ import annotations

import math

import numpy as np

from genval._utils.budget import check_allocation
from genval.errors import ParameterError
from genval.latent._som_init import default_grid

__all__ = ["MAX_NEURONS"]

TOPOLOGIES = ("rectangular", "hexagonal")
NEIGHBORHOODS = ("gaussian", "mexican_hat", "bubble", "triangle")
INITS = ("pca", "random")
ONLINE_MAX_NEURONS = 256  # bigger maps train in batch: 500 online steps per neuron take minutes there
BATCH_ITERATIONS = 30
# Refused above these: a 1000x1000 map of the emojis' 17 codes trained for 45 s before saying anything, and
# 100,000 neurons (about 5 s there) is already 80 times the rule of thumb for MNIST's 60,000 codes. The batch
# map settles in tens of passes; thousands only cost time.
MAX_NEURONS = 100_000
MAX_BATCH_ITERATIONS = 10_000
# MiniSom builds the whole online training order at once: an int64 index and its shuffled copy per step.
_BYTES_PER_ONLINE_STEP = 16
# A neuron's weights plus MiniSom's per-neuron arrays (coordinates, activation, neighbourhood) in float64.
_BYTES_PER_NEURON = 8 * 8


def resolve_params(som, Z: np.ndarray) -> tuple[tuple[int, int], int, str]:
    """The grid, the number of iterations and the algorithm of a map ``som`` over ``Z``, every parameter checked.

    Raises
    ------
    ParameterError
        Naming the parameter; for a map of more than :data:`MAX_NEURONS`
        neurons, more than :data:`MAX_BATCH_ITERATIONS` batch passes, or
        an online training order larger than the memory budget
        (:class:`~genval._utils.budget.MemoryBudgetError`).
    """
    check_settings(som)
    try:
        grid = default_grid(Z) if som.grid is None else tuple(int(g) for g in som.grid)
    except (TypeError, ValueError, OverflowError):
        grid = ()
    if len(grid) != 2 or min(grid) < 1:
        raise ParameterError(f"grid must be (rows, cols) with both >= 1, got {som.grid!r}")
    if grid[0] * grid[1] > MAX_NEURONS:
        raise ParameterError(f"grid {grid[0]}x{grid[1]} has {grid[0] * grid[1]:,} neurons, more than the limit "
                             f"of {MAX_NEURONS:,}; a map that size gives every code a neuron of its own many "
                             "times over")
    check_allocation(_BYTES_PER_NEURON * grid[0] * grid[1] * max(1, Z.shape[1]),
                     f"a {grid[0]}x{grid[1]} map of {Z.shape[1]}-D codes")
    algorithm = "online" if grid[0] * grid[1] <= ONLINE_MAX_NEURONS else "batch"
    if som.iterations is None:
        return grid, (500 * grid[0] * grid[1] if algorithm == "online" else BATCH_ITERATIONS), algorithm
    iterations = int(som.iterations)
    if algorithm == "batch" and iterations > MAX_BATCH_ITERATIONS:
        raise ParameterError(f"iterations={iterations:,} batch passes, more than the limit of "
                             f"{MAX_BATCH_ITERATIONS:,}; a {grid[0]}x{grid[1]} map trains in batch, which "
                             f"settles in tens of passes (default {BATCH_ITERATIONS})")
    if algorithm == "online":
        check_allocation(_BYTES_PER_ONLINE_STEP * iterations, f"the training order of {iterations:,} map steps")
    return grid, iterations, algorithm


def check_settings(som) -> None:
    """Check the settings of a map ``som`` that need no data: names, sigma, learning rate, iterations' type."""
    for name, value, valid in (("topology", som.topology, TOPOLOGIES),
                               ("neighborhood", som.neighborhood, NEIGHBORHOODS),
                               ("init", som.init, INITS)):
        if not isinstance(value, str) or value not in valid:
            raise ParameterError(f"unknown {name} {value!r}; choose one of {', '.join(valid)}")
    for name, value in (("sigma", som.sigma), ("learning_rate", som.learning_rate)):
        if not (isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
                and math.isfinite(value) and value > 0):
            raise ParameterError(f"{name} must be a positive number, got {value!r}")
    if som.iterations is not None and (isinstance(som.iterations, bool)
                                       or not isinstance(som.iterations, (int, np.integer))
                                       or som.iterations < 1):
        raise ParameterError(f"iterations must be a positive integer, got {som.iterations!r}")
