"""A Kohonen self-organizing map over latent codes: a thin estimator around MiniSom.

This is the only module that imports minisom. MiniSom trains the map; genval
adds what the rest of the toolkit needs from it: vectorized winners for many
points at once, the neuron table of a labelled set, the grid's adjacency (for
walks between neurons) and saving without pickle.

Neurons are addressed as ``(row, col)`` on a ``rows x cols`` grid, or by their
flat row-major index ``row * cols + col`` (the CLI prints it 1-based, like the
course: ``Neuron 1`` is the top-left neuron).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass

import numpy as np

from genval._estimator import ParamsMixin, atomic_write, read_npz, resolve_rng
from genval.errors import ModelFileError

__all__ = ["LatentSOM", "Neuron", "default_grid", "load_som"]

SOM_FORMAT = "genval-som"
SOM_VERSION = 1
TOPOLOGIES = ("rectangular", "hexagonal")
NEIGHBORHOODS = ("gaussian", "mexican_hat", "bubble", "triangle")


def default_grid(Z: np.ndarray) -> tuple[int, int]:
    """The rule of thumb for a map size when none is given.

    About ``5 * sqrt(n)`` neurons (Vesanto's rule, also MiniSom's advice),
    shaped so that rows / cols follows the ratio of the codes' two principal
    spreads (the square root of the ratio of the covariance eigenvalues).

    Examples
    --------
    >>> default_grid(np.random.default_rng(0).normal(size=(17, 2)) * [3, 1])
    (3, 7)
    """
    Z = np.asarray(Z, dtype=float)
    n_neurons = max(4, math.ceil(5 * math.sqrt(len(Z))))
    if len(Z) > 2 and Z.shape[1] >= 2:
        eig = np.sort(np.linalg.eigvalsh(np.cov(Z, rowvar=False)))[::-1]
        ratio = math.sqrt(eig[0] / eig[1]) if eig[1] > 0 else 4.0
    else:
        ratio = 1.0
    ratio = min(max(ratio, 1.0), 4.0)
    rows = max(1, round(math.sqrt(n_neurons / ratio)))
    cols = max(1, math.ceil(n_neurons / rows))
    return rows, cols


@dataclass(frozen=True)
class Neuron:
    """One neuron of a fitted map and the items it wins.

    Attributes
    ----------
    row, col : int
        0-based grid position.
    index : int
        Flat row-major index, ``row * cols + col``.
    items : tuple of str
        Names of the items whose codes it wins (empty for an empty neuron).
    weight : tuple of float
        Its weight vector, a point in the latent space.
    """

    row: int
    col: int
    index: int
    items: tuple[str, ...]
    weight: tuple[float, ...]

    def to_dict(self) -> dict:
        return {"row": self.row, "col": self.col, "items": list(self.items), "weight": list(self.weight)}


class LatentSOM(ParamsMixin):
    """A self-organizing map fitted to latent codes.

    Parameters
    ----------
    grid : (int, int), optional
        ``(rows, cols)``; by default :func:`default_grid` of the codes.
    sigma : float, default 1.0
        Initial neighbourhood radius in grid units; it shrinks during training
        (MiniSom's asymptotic decay). Keep it below the grid's diagonal.
    learning_rate : float, default 0.5
        Initial learning rate, decaying likewise.
    iterations : int, optional
        Training steps (one code each). Default: 500 per neuron, Kohonen's
        rule of thumb for a map that has settled.
    topology : {"rectangular", "hexagonal"}, default "rectangular"
    neighborhood : {"gaussian", "mexican_hat", "bubble", "triangle"}, default "gaussian"
    init : {"pca", "random"}, default "pca"
        Initial weights on the plane of the codes' principal components
        (deterministic, converges faster) or at randomly chosen codes.
    random_state : int, numpy Generator or None, default 0
        MiniSom gets an int seed drawn from this generator.

    Attributes
    ----------
    weights_ : ndarray of shape (rows, cols, n_latent)
    grid_ : (int, int)
    n_iterations_ : int

    Examples
    --------
    >>> Z = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0]])
    >>> som = LatentSOM(grid=(1, 2)).fit(Z)
    >>> som.winners(Z).tolist()
    [0, 0, 1]
    """

    def __init__(self, grid: tuple[int, int] | None = None, sigma: float = 1.0, learning_rate: float = 0.5,
                 iterations: int | None = None, topology: str = "rectangular", neighborhood: str = "gaussian",
                 init: str = "pca", random_state=0):
        self.grid = grid
        self.sigma = sigma
        self.learning_rate = learning_rate
        self.iterations = iterations
        self.topology = topology
        self.neighborhood = neighborhood
        self.init = init
        self.random_state = random_state

    def _validate(self, Z: np.ndarray) -> tuple[int, int]:
        for name, value, valid in (("topology", self.topology, TOPOLOGIES),
                                   ("neighborhood", self.neighborhood, NEIGHBORHOODS),
                                   ("init", self.init, ("pca", "random"))):
            if value not in valid:
                raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(valid)}")
        grid = default_grid(Z) if self.grid is None else tuple(int(g) for g in self.grid)
        if len(grid) != 2 or min(grid) < 1:
            raise ValueError(f"grid must be (rows, cols) with both >= 1, got {self.grid!r}")
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma must be a positive number, got {self.sigma!r}")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if self.iterations is not None and int(self.iterations) < 1:
            raise ValueError(f"iterations must be a positive integer, got {self.iterations!r}")
        if self.init == "pca" and (Z.shape[1] < 2 or min(grid) < 2):
            raise ValueError("pca initialisation needs 2-D codes and a grid at least 2x2; use init='random'")
        return grid

    def _minisom(self, grid: tuple[int, int], n_latent: int, seed: int):
        from minisom import MiniSom

        with warnings.catch_warnings():
            # MiniSom warns when sigma exceeds the grid's diagonal; that is the user's call.
            warnings.simplefilter("ignore", UserWarning)
            return MiniSom(grid[0], grid[1], n_latent, sigma=float(self.sigma),
                           learning_rate=float(self.learning_rate), neighborhood_function=self.neighborhood,
                           topology=self.topology, random_seed=seed)

    def fit(self, Z, y=None) -> "LatentSOM":
        """Train the map on latent codes ``Z`` of shape (n_items, n_latent)."""
        Z = _check_codes(Z)
        grid = self._validate(Z)
        seed = int(resolve_rng(self.random_state).integers(2**31 - 1))
        som = self._minisom(grid, Z.shape[1], seed)
        if self.init == "pca":
            som.pca_weights_init(Z)
        else:
            som.random_weights_init(Z)
        iterations = int(self.iterations) if self.iterations is not None else 500 * grid[0] * grid[1]
        som.train(Z, iterations, random_order=True)
        self._som = som
        self.seed_ = seed
        self.grid_ = grid
        self.n_iterations_ = iterations
        self.weights_ = np.array(som.get_weights(), dtype=float)
        return self

    # ------------------------------------------------------------------ queries

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise ValueError("this LatentSOM is not fitted yet; call fit(Z) first")

    @property
    def n_neurons(self) -> int:
        self._check_fitted()
        return self.grid_[0] * self.grid_[1]

    def winners(self, Z, chunk: int = 65536) -> np.ndarray:
        """Flat index of the winning (nearest-weight) neuron of each point.

        Parameters
        ----------
        Z : array-like of shape (n_points, n_latent)

        Returns
        -------
        ndarray of int, shape (n_points,)
            ``row * cols + col``; ``np.unravel_index(w, grid_)`` gives rows
            and columns. Agrees with MiniSom's ``winner`` point by point.
        """
        self._check_fitted()
        Z = _check_codes(Z, self.weights_.shape[-1])
        W = self.weights_.reshape(-1, self.weights_.shape[-1])
        out = np.empty(len(Z), dtype=np.intp)
        for s in range(0, len(Z), chunk):
            diff = Z[s:s + chunk, None, :] - W[None, :, :]
            out[s:s + chunk] = np.einsum("nkd,nkd->nk", diff, diff).argmin(axis=1)
        return out

    def transform(self, Z) -> np.ndarray:
        """Distance from each point to every neuron weight, (n_points, n_neurons)."""
        self._check_fitted()
        Z = _check_codes(Z, self.weights_.shape[-1])
        W = self.weights_.reshape(-1, self.weights_.shape[-1])
        return np.linalg.norm(Z[:, None, :] - W[None, :, :], axis=-1)

    def neuron_table(self, Z, names) -> list[Neuron]:
        """Every neuron in row-major order with the items it wins (empty ones too).

        Parameters
        ----------
        Z : array-like of shape (n_items, n_latent)
        names : sequence of str, length n_items
        """
        win = self.winners(Z)
        rows, cols = self.grid_
        members: list[list[str]] = [[] for _ in range(rows * cols)]
        for name, w in zip(names, win):
            members[w].append(name)
        W = self.weights_.reshape(rows * cols, -1)
        return [Neuron(k // cols, k % cols, k, tuple(members[k]), tuple(float(v) for v in W[k]))
                for k in range(rows * cols)]

    def quantization_error(self, Z) -> float:
        """Mean distance from each code to its winning neuron's weight."""
        return float(self.transform(Z).min(axis=1).mean())

    def topographic_error(self, Z) -> float:
        """Fraction of codes whose best and second-best neurons are not grid neighbours.

        Computed by MiniSom (neighbours include diagonals on a rectangular grid).
        NaN for a 1x1 map.
        """
        self._check_fitted()
        if self.n_neurons == 1:
            return float("nan")
        return float(self._som.topographic_error(_check_codes(Z, self.weights_.shape[-1])))

    def umatrix(self) -> np.ndarray:
        """The U-matrix, (rows, cols): each neuron's summed distance to its neighbours, scaled to max 1."""
        self._check_fitted()
        return np.asarray(self._som.distance_map(), dtype=float)

    def neighbours(self) -> list[list[int]]:
        """For each neuron (flat index), the flat indices of its grid neighbours.

        Rectangular grids connect the 4 edge neighbours, hexagonal grids the
        6 neighbours at unit distance in MiniSom's hexagonal layout.
        """
        self._check_fitted()
        xx, yy = self._som.get_euclidean_coordinates()
        P = np.stack([np.ravel(xx), np.ravel(yy)], axis=1)
        d = np.linalg.norm(P[:, None, :] - P[None, :, :], axis=-1)
        return [np.flatnonzero(np.isclose(row, 1.0)).tolist() for row in d]

    def grid_path(self, start: int, stop: int) -> list[int]:
        """The shortest path of neighbouring neurons from ``start`` to ``stop`` (flat indices).

        Breadth-first search; among equally short paths the one visiting lower
        indices first, so the path is deterministic. Both ends included.
        """
        adjacency = self.neighbours()
        for k in (start, stop):
            if not 0 <= k < len(adjacency):
                raise ValueError(f"neuron {k} is outside the {self.grid_[0]}x{self.grid_[1]} map")
        previous = {start: None}
        frontier = [start]
        while frontier and stop not in previous:
            nxt = []
            for k in frontier:
                for m in adjacency[k]:
                    if m not in previous:
                        previous[m] = k
                        nxt.append(m)
            frontier = nxt
        path = [stop]
        while path[-1] != start:
            path.append(previous[path[-1]])
        return path[::-1]

    # ------------------------------------------------------------------ files

    def save(self, path) -> None:
        """Write the fitted map as ``.npz`` (weights + JSON config, no pickle), atomically."""
        self._check_fitted()
        config = {"format": SOM_FORMAT, "version": SOM_VERSION,
                  "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()
                             if k != "random_state" or isinstance(v, (int, type(None)))},
                  "grid": list(self.grid_), "seed": self.seed_, "n_iterations": self.n_iterations_}
        with atomic_write(path) as fh:
            np.savez(fh, config=np.array(json.dumps(config)), weights=self.weights_)

    @classmethod
    def load(cls, path) -> "LatentSOM":
        """Read a map written by :meth:`save`; raises :class:`ModelFileError` when unreadable."""
        config, arrays = read_npz(path, ("weights",), SOM_FORMAT, SOM_VERSION, "map")
        try:
            params = dict(config["params"])
            if params.get("grid") is not None:
                params["grid"] = tuple(params["grid"])
            som = cls(**params)
            grid = tuple(int(g) for g in config["grid"])
            weights = np.asarray(arrays["weights"], dtype=float)
            if weights.ndim != 3 or weights.shape[:2] != grid:
                raise ValueError("weights do not match the grid")
            som._som = som._minisom(grid, weights.shape[2], int(config["seed"]))
            som._som._weights = weights.copy()
            som.grid_, som.seed_ = grid, int(config["seed"])
            som.n_iterations_ = int(config["n_iterations"])
            som.weights_ = weights
        except (TypeError, ValueError, KeyError) as exc:
            raise ModelFileError(f"{path}: damaged genval map ({exc})") from None
        return som


def load_som(path) -> LatentSOM:
    """Load a map saved by :meth:`LatentSOM.save`."""
    return LatentSOM.load(path)


def _check_codes(Z, n_latent: int | None = None) -> np.ndarray:
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2 or Z.shape[0] == 0:
        raise ValueError(f"latent codes must be a non-empty 2-D array (n_points, n_latent), got shape {Z.shape}")
    if not np.isfinite(Z).all():
        raise ValueError("latent codes hold NaN or infinite values")
    if n_latent is not None and Z.shape[1] != n_latent:
        raise ValueError(f"latent codes have {Z.shape[1]} dimensions, the map expects {n_latent}")
    return Z
