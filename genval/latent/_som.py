"""A Kohonen self-organizing map over latent codes: a thin estimator around MiniSom's public API.

The only module that imports minisom: it trains small maps online and lays out the grid. The
rest is one job per module beside it: the start (``_som_init``), the parameters (``_som_params``),
the batch trainer (``_som_batch``), grid paths (``_grid_paths``), the map file (``_som_file``).

Neurons are addressed as ``(row, col)`` on a ``rows x cols`` grid, or by their
flat row-major index ``row * cols + col`` (the CLI prints it 1-based, like the
course: ``Neuron 1`` is the top-left neuron).
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from genval._utils.archive import fingerprint
from genval._utils.files import resolve_rng
from genval.errors import ParameterError
from genval.latent._grid_paths import shortest_path, unit_neighbours
from genval.latent._map_quality import distances, quantization_error, topographic_error, umatrix
from genval.latent._neurons import Neuron, neuron_table
from genval.latent._som_batch import rectangular_gaussian, train_batch
from genval.latent._som_file import check_training_codes, read_map, save_map
from genval.latent._som_init import pca_weights
from genval.latent._som_params import resolve_params
from genval.latent._winners import check_range, diverged, nearest_weights


__all__ = ["LatentSOM", "load_som"]


class LatentSOM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """A self-organizing map fitted to latent codes.

    A scikit-learn estimator: ``fit(Z)`` trains the map, ``predict(Z)`` gives
    each point's winning neuron, ``transform(Z)`` its distance to every
    neuron (as k-means does). The neurons are not clusters in scikit-learn's
    sense: their number is the grid's size and empty neurons are normal (they
    are where a map interpolates between items), so the class does not claim
    to be a clusterer, though it has ``fit_predict`` and ``labels_``.

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
        Training steps: one code each when online, one pass over every code
        each in batch (see Notes). Default: 500 per neuron online (Kohonen's
        rule of thumb for a map that has settled), 30 passes in batch.
    topology : {"rectangular", "hexagonal"}, default "rectangular"
    neighborhood : {"gaussian", "mexican_hat", "bubble", "triangle"}, default "gaussian"
    init : {"pca", "random"}, default "pca"
        Initial weights on the plane of the codes' principal components
        (deterministic, converges faster; see :func:`pca_weights`) or at
        randomly chosen codes.
    random_state : int, numpy Generator or None, default 0
        MiniSom gets an int seed drawn from this generator (it picks the
        training order, and the codes of a random initialisation).

    Attributes
    ----------
    weights_ : ndarray of shape (rows, cols, n_features_in_)
        Each neuron's weight, a point in the latent space.
    labels_ : ndarray of int, shape (n_samples,)
        The winning neuron (flat index) of each training code.
    grid_ : (int, int)
    n_iterations_ : int
    algorithm_ : {"online", "batch"}
        How the map was trained (see Notes).
    seed_ : int
        The seed MiniSom got.
    n_features_in_ : int
        The latent dimension.
    training_data_ : dict or None
        The record of the codes the map was fitted on: ``n_items``,
        ``n_features``, ``title`` ("") and ``sha256`` of the codes as float32;
        saved with the map, so that a map file used with another model's or
        set's codes is refused (:meth:`check_training_data`). None for a map
        file saved before genval kept one.

    Notes
    -----
    Maps of up to 256 neurons (16x16) train online (MiniSom's ``train``: a
    random code per step moves every neuron); bigger ones with Kohonen's
    batch map (:mod:`._som_batch`): a 30x30 map over 60,000 codes trains in
    seconds, where 500 online steps per neuron would take minutes.

    Examples
    --------
    >>> Z = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0]])
    >>> som = LatentSOM(grid=(1, 2), iterations=100).fit(Z)
    >>> som.labels_.tolist()
    [0, 0, 1]
    >>> som.predict([[4.0, 4.5], [-1.0, 0.0]]).tolist()
    [1, 0]
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


    def _minisom(self, weights: np.ndarray, seed: int = 0):
        """A MiniSom holding ``weights``: it trains them online, and its topology code answers the grid questions."""
        from minisom import MiniSom

        rows, cols, n_latent = weights.shape
        with warnings.catch_warnings():
            # MiniSom warns when sigma exceeds the grid's diagonal; that is the user's call.
            warnings.simplefilter("ignore", UserWarning)
            som = MiniSom(rows, cols, n_latent, sigma=float(self.sigma), learning_rate=float(self.learning_rate),
                          neighborhood_function=self.neighborhood, topology=self.topology, random_seed=seed)
        # No setter: get_weights() hands out the array train() and distance_map() use, so it is filled.
        som.get_weights()[...] = weights
        return som

    def fit(self, Z, y=None, *, progress: Callable[[int, int], None] | None = None) -> "LatentSOM":
        """Train the map on latent codes.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_latent)
            Finite real values of magnitude at most :data:`MAX_CODE`.
        y : ignored
        progress : callable, optional
            Called as ``progress(passes_done, passes)`` after each batch pass
            (maps over 256 neurons; the CLI's progress bar).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For an invalid parameter (the message lists the valid choices),
            or codes that are empty, not 2-D, not finite or past :data:`MAX_CODE`.
        ParameterError
            When the map diverges (a learning rate far above 1).
        """
        Z = check_range(validate_data(self, Z, dtype=np.float64))
        grid, iterations, algorithm = resolve_params(self, Z)
        seed = int(resolve_rng(self.random_state).integers(2**31 - 1))
        weights = self._train(Z, grid, iterations, algorithm, seed, progress)
        if diverged(weights):
            # Each online step moves a weight by learning_rate times its distance to the code: past 2 it
            # overshoots further every step, and a large enough rate overflows.
            raise ParameterError(f"the map diverged (weights infinite, NaN or past 1e100) with learning_rate="
                                 f"{self.learning_rate:g}; use a learning rate of at most 1")
        self.weights_ = np.array(weights, dtype=float)
        self.grid_, self.seed_, self.n_iterations_, self.algorithm_ = grid, seed, iterations, algorithm
        self.labels_ = self.winners(Z)
        self.training_data_ = fingerprint(Z)
        return self

    def _train(self, Z: np.ndarray, grid: tuple, iterations: int, algorithm: str, seed: int, progress) -> np.ndarray:
        """The trained weights (rows, cols, n_latent), from MiniSom's online ``train`` or the batch map."""
        if self.init == "pca":
            som = self._minisom(pca_weights(Z, grid), seed)
        else:
            som = self._minisom(np.zeros((*grid, Z.shape[1])), seed)
            som.random_weights_init(Z)
        with np.errstate(over="ignore", invalid="ignore"):  # a divergent map is reported by fit, once
            if algorithm == "online":
                som.train(Z, iterations, random_order=True)
                return som.get_weights()
            weights = np.array(som.get_weights(), dtype=float)
            fast = self.topology == "rectangular" and self.neighborhood == "gaussian"  # the defaults
            neighborhood = rectangular_gaussian(*grid) if fast else som.neighborhood
            train_batch(weights, Z, iterations, float(self.sigma), float(self.learning_rate), neighborhood, progress)
        return weights


    def check_training_data(self, Z) -> bool:
        """Refuse codes other than the ones this map was fitted on.

        A map is a set of points in one model's latent space: over the codes of
        another model, or of another set, its neurons mean nothing, though
        every query would answer.

        Parameters
        ----------
        Z : array-like of shape (n_items, n_latent)

        Returns
        -------
        bool
            True when ``Z`` are the codes the map was fitted on; False when the
            map keeps no record of them (a file saved before genval kept one),
            so only their width could be checked.

        Raises
        ------
        ShapeMismatchError
            For codes of another width than the map's weights.
        DataMismatchError
            For other codes of that width.

        Examples
        --------
        >>> Z = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0]])
        >>> som = LatentSOM(grid=(1, 2), iterations=100).fit(Z)
        >>> som.check_training_data(Z)
        True
        >>> som.check_training_data(Z + 1)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        genval.errors.DataMismatchError: this map was fitted on other codes (3 codes of 2 dimensions, sha256 ...),
        not on these (3 codes of 2 dimensions, sha256 ...): a map of another model or set; make one for these ...
        """
        check_is_fitted(self)
        return check_training_codes(getattr(self, "training_data_", None), self.n_features_in_, Z)

    def _check_codes(self, Z) -> np.ndarray:
        """Fitted, and ``Z`` finite (n, n_features_in_) codes: the boundary of every query."""
        check_is_fitted(self)
        return check_range(validate_data(self, Z, dtype=np.float64, reset=False))

    @property
    def n_neurons(self) -> int:
        """``rows * cols`` of the fitted map."""
        check_is_fitted(self)
        return self.grid_[0] * self.grid_[1]

    @property
    def _n_features_out(self) -> int:
        # transform gives one distance per neuron; get_feature_names_out names them.
        return self.n_neurons

    def winners(self, Z, chunk: int | None = None) -> np.ndarray:
        """Flat index of the winning (nearest-weight) neuron of each point.

        Exactly the winners of the direct ``argmin |z - w|^2``, ties going to
        the lower index, found fast a chunk of points at a time (a k-d tree
        or the matrix-product form: :func:`~genval.latent.nearest_weights`).

        Parameters
        ----------
        Z : array-like of shape (n_points, n_latent)
        chunk : int, optional
            Points per chunk; default from the memory budget
            (:func:`genval._utils.budget.chunk_rows`).

        Returns
        -------
        ndarray of int, shape (n_points,)
            ``row * cols + col``; ``np.unravel_index(w, grid_)`` gives rows
            and columns. Agrees with MiniSom's ``winner`` point by point.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        ValueError
            For codes of another dimension than the map's, not finite, or past :data:`MAX_CODE`.

        Examples
        --------
        >>> som = LatentSOM(grid=(1, 2), iterations=10).fit([[0.0], [1.0]])
        >>> som.weights_ = np.array([[[0.0], [1.0]]])
        >>> som.winners([[0.2], [0.5], [0.9]]).tolist()  # 0.5 is a tie: the lower index wins
        [0, 0, 1]
        """
        Z = self._check_codes(Z)
        return nearest_weights(Z, self.weights_.reshape(-1, self.weights_.shape[-1]), chunk)

    def predict(self, Z) -> np.ndarray:
        """The winning neuron's flat 0-based index for each point (see :meth:`winners`)."""
        return self.winners(Z)

    def fit_predict(self, Z, y=None) -> np.ndarray:
        """Fit the map and return :attr:`labels_`, the training codes' winning neurons."""
        return self.fit(Z).labels_

    def transform(self, Z) -> np.ndarray:
        """Distance from each point to every neuron weight.

        Returns
        -------
        ndarray of shape (n_points, n_neurons)
            Columns in flat (row-major) neuron order.

        Raises
        ------
        genval._utils.budget.MemoryBudgetError
            When the result would exceed the memory budget (``n_points * n_neurons * 8`` bytes).
        """
        Z = self._check_codes(Z)
        return distances(Z, self.weights_.reshape(-1, self.weights_.shape[-1]))

    def neuron_table(self, Z, names) -> list[Neuron]:
        """Every neuron in row-major order with the items it wins (empty ones too).

        Parameters
        ----------
        Z : array-like of shape (n_items, n_latent)
        names : sequence of str, length n_items

        Returns
        -------
        list of Neuron, length n_neurons
        """
        return neuron_table(self.weights_, self.winners(Z), names)

    def quantization_error(self, Z) -> float:
        """Mean distance from each code to its winning neuron's weight."""
        Z = self._check_codes(Z)
        return quantization_error(Z, self.weights_.reshape(-1, self.weights_.shape[-1]), self.winners(Z))

    def topographic_error(self, Z) -> float:
        """Fraction of codes whose best and second-best neurons are not grid neighbours (MiniSom's definition).

        NaN for a 1x1 map, which has no second-best neuron; see :func:`._map_quality.topographic_error`.
        """
        Z = self._check_codes(Z)
        if self.n_neurons == 1:
            return float("nan")
        return topographic_error(Z, self.weights_, self._coordinates(), self.topology)

    def _coordinates(self) -> np.ndarray:
        """Each neuron's position on the plane of the grid (MiniSom's, hexagonal rows shifted), flat order."""
        xx, yy = self._minisom(self.weights_).get_euclidean_coordinates()
        return np.stack([np.ravel(xx), np.ravel(yy)], axis=1).astype(float)

    def umatrix(self) -> np.ndarray:
        """The U-matrix: each neuron's summed distance to the weights around it, scaled to max 1.

        MiniSom's ``distance_map``, vectorised: on a rectangular grid the 8 neurons
        around a neuron count (diagonals too), on a hexagonal grid the 6 at unit
        distance. High values mark cluster borders.

        Returns
        -------
        ndarray of shape (rows, cols)
            Zeros when every weight is the same (a 1x1 map, for one).
        """
        check_is_fitted(self)
        with np.errstate(invalid="ignore"):  # MiniSom divides by the largest sum, 0 when all weights agree
            u = umatrix(self.weights_, self.topology)
        return np.nan_to_num(u, nan=0.0)

    def neighbours(self) -> list[list[int]]:
        """For each neuron (flat index), the flat indices of its grid neighbours.

        Rectangular grids connect the 4 edge neighbours, hexagonal grids the
        6 neighbours at unit distance in MiniSom's hexagonal layout.
        """
        return [list(row) for row in self._adjacency_of_grid()]

    def _adjacency_of_grid(self) -> list[tuple[int, ...]]:
        """:meth:`neighbours`, computed once per grid and topology (walks ask for it once per pair)."""
        check_is_fitted(self)
        key = (tuple(self.grid_), self.topology)
        cached = getattr(self, "_adjacency", None)
        if cached is None or cached[0] != key:
            cached = self._adjacency = (key, unit_neighbours(self._coordinates(), *self.grid_))
        return cached[1]

    def grid_path(self, start: int, stop: int) -> list[int]:
        """The shortest path of neighbouring neurons from ``start`` to ``stop`` (flat indices).

        Breadth-first search; among equally short paths the one visiting lower
        indices first, so the path is deterministic. Both ends included.
        """
        return shortest_path(self._adjacency_of_grid(), start, stop, self.grid_)

    def save(self, path) -> None:
        """Write the fitted map as ``.npz`` (weights, labels + JSON config, no pickle), atomically."""
        save_map(self, path)

    @classmethod
    def load(cls, path) -> "LatentSOM":
        """Read a map written by :meth:`save`: untrusted input, checked before any array is read.

        Raises :class:`~genval.errors.ModelFileError`, one line naming the file and what was wrong.
        """
        return read_map(cls, path)


def load_som(path) -> LatentSOM:
    """Load a map saved by :meth:`LatentSOM.save`."""
    return LatentSOM.load(path)
