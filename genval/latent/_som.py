"""A Kohonen self-organizing map over latent codes: a thin estimator around MiniSom.

This is the only module that imports minisom. MiniSom trains the map; genval
adds what the rest of the toolkit needs from it: the scikit-learn estimator
protocol, vectorized winners for many points at once, the neuron table of a
labelled set, the grid's adjacency (for walks between neurons) and saving
without pickle.

Neurons are addressed as ``(row, col)`` on a ``rows x cols`` grid, or by their
flat row-major index ``row * cols + col`` (the CLI prints it 1-based, like the
course: ``Neuron 1`` is the top-left neuron).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from genval._utils.archive import brief, fingerprint, is_fingerprint, is_int, open_archive
from genval._utils.budget import check_allocation, chunk_rows
from genval._utils.files import atomic_write, resolve_rng
from genval.latent._winners import nearest_weights
from genval.errors import DataMismatchError, ParameterError, ShapeMismatchError

__all__ = ["MAX_NEURONS", "LatentSOM", "Neuron", "default_grid", "load_som", "pca_weights"]

SOM_FORMAT = "genval-som"
SOM_VERSION = 2  # 2: the training codes' winners (labels) are saved too
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
# A weight beyond this lies far past any code (codes are a network's activations) and its squared distances
# overflow float64: the map has diverged. Codes are held to the same bound, so that a map of them never does.
MAX_CODE = 1e100
_HUGE_WEIGHT = MAX_CODE


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


def _train_batch(som, Z: np.ndarray, iterations: int) -> None:
    """Kohonen's batch map on a MiniSom's weights, in place: MiniSom's ``train_batch_offline``, vectorised.

    Each pass: every code's winner, then for each neuron the mean of the
    codes weighted by the neighbourhood of their winners (MiniSom's own
    neighbourhood function at that pass's sigma), blended into the weight
    by that pass's learning rate. Codes that share a winner enter as one sum,
    so a pass costs the winners plus ``occupied x n_neurons`` products.
    """
    rows, cols, d = som._weights.shape
    k = rows * cols
    W = som._weights.reshape(k, d)
    block = chunk_rows(8 * (k + d))
    for t in range(iterations):
        learning_rate = som._learning_rate_decay_function(som._learning_rate, t, iterations)
        sigma = som._sigma_decay_function(som._sigma, t, iterations)
        win = nearest_weights(Z, W)
        counts = np.bincount(win, minlength=k).astype(float)
        sums = np.column_stack([np.bincount(win, weights=Z[:, j], minlength=k) for j in range(d)])
        occupied = np.flatnonzero(counts)
        numerator = np.zeros((k, d))
        denominator = np.zeros(k)
        for b in range(0, len(occupied), block):
            winners = occupied[b:b + block]
            H = np.stack([som.neighborhood((int(c) // cols, int(c) % cols), sigma).ravel() for c in winners])
            numerator += H.T @ sums[winners]
            denominator += H.T @ counts[winners]
        moved = denominator > 0
        W[moved] = (1 - learning_rate) * W[moved] + learning_rate * (numerator[moved] / denominator[moved, None])
        if _diverged(W):  # no winner is meaningful any more (fit says so)
            return


def _unit_neighbours(P: np.ndarray, rows: int, cols: int) -> list[tuple[int, ...]]:
    """For each neuron, in increasing order, the neurons at distance 1 on the plane (``P``: positions, flat order).

    In either layout a neuron at unit distance lies at most one row and one
    column away (hexagonal rows are ``sqrt(3)/2`` apart, so two rows are
    already too far), so only the 8 cells around each neuron are measured:
    linear in the neurons, where comparing all pairs took 5 minutes on a
    316 x 316 map.
    """
    n = rows * cols
    r, c = np.divmod(np.arange(n), cols)
    pairs = []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == dc == 0:
                continue
            ok = (r + dr >= 0) & (r + dr < rows) & (c + dc >= 0) & (c + dc < cols)
            a = np.flatnonzero(ok)
            b = a + dr * cols + dc
            near = np.isclose(np.linalg.norm(P[a] - P[b], axis=1), 1.0)
            pairs.append(np.stack([a[near], b[near]], axis=1))
    both = np.concatenate(pairs)
    both = both[np.lexsort((both[:, 1], both[:, 0]))]
    ends = np.searchsorted(both[:, 0], np.arange(n + 1))
    targets = both[:, 1].tolist()
    return [tuple(targets[ends[k]:ends[k + 1]]) for k in range(n)]


def _check_range(Z: np.ndarray) -> np.ndarray:
    """``Z``, or an error for codes past :data:`MAX_CODE`: their squared distances would overflow float64."""
    largest = float(np.abs(Z).max(initial=0.0))
    if largest > MAX_CODE:
        raise ParameterError(f"codes reach {largest:.3g}; expected codes of magnitude at most {MAX_CODE:.0e} "
                             "(squared distances past it overflow float64)")
    return Z


def _diverged(W: np.ndarray) -> bool:
    """Weights infinite, NaN or so large that squared distances to them overflow: a map that blew up."""
    return not np.isfinite(W).all() or float(np.abs(W).max(initial=0.0)) > _HUGE_WEIGHT


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

    Examples
    --------
    >>> Neuron(0, 1, 1, ("a",), (0.5, 2.0)).to_dict()
    {'row': 0, 'col': 1, 'items': ['a'], 'weight': [0.5, 2.0]}
    """

    row: int
    col: int
    index: int
    items: tuple[str, ...]
    weight: tuple[float, ...]

    def to_dict(self) -> dict:
        """The neuron as JSON-ready values (without the index, which is its position in a list)."""
        return {"row": self.row, "col": self.col, "items": list(self.items), "weight": list(self.weight)}


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

    Notes
    -----
    Maps of up to 256 neurons (16x16) train online, with MiniSom's
    ``train``: one randomly chosen code per step, every neuron moved towards
    it. Bigger maps train in batch, Kohonen's batch map (what MiniSom's
    ``train_batch_offline`` computes, vectorised): each pass finds every
    code's winner at once and moves each neuron towards the
    neighbourhood-weighted mean of the codes, blended by that pass's
    learning rate. A pass costs a few matrix products, so a 30x30 map over
    60,000 codes trains in seconds, where 500 online steps per neuron would
    take minutes.
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

    def _check_params(self, Z: np.ndarray) -> tuple[tuple[int, int], int, str]:
        """The grid, the number of iterations and the algorithm, once every parameter is known to be valid.

        Raises
        ------
        ParameterError
            Naming the parameter; for a map of more than :data:`MAX_NEURONS`
            neurons, more than :data:`MAX_BATCH_ITERATIONS` batch passes, or
            an online training order larger than the memory budget
            (:class:`~genval._utils.budget.MemoryBudgetError`).
        """
        self._check_settings()
        try:
            grid = default_grid(Z) if self.grid is None else tuple(int(g) for g in self.grid)
        except (TypeError, ValueError, OverflowError):
            grid = ()
        if len(grid) != 2 or min(grid) < 1:
            raise ParameterError(f"grid must be (rows, cols) with both >= 1, got {self.grid!r}")
        if grid[0] * grid[1] > MAX_NEURONS:
            raise ParameterError(f"grid {grid[0]}x{grid[1]} has {grid[0] * grid[1]:,} neurons, more than the limit "
                                 f"of {MAX_NEURONS:,}; a map that size gives every code a neuron of its own many "
                                 "times over")
        check_allocation(_BYTES_PER_NEURON * grid[0] * grid[1] * max(1, Z.shape[1]),
                         f"a {grid[0]}x{grid[1]} map of {Z.shape[1]}-D codes")
        algorithm = "online" if grid[0] * grid[1] <= ONLINE_MAX_NEURONS else "batch"
        if self.iterations is None:
            return grid, (500 * grid[0] * grid[1] if algorithm == "online" else BATCH_ITERATIONS), algorithm
        iterations = int(self.iterations)
        if algorithm == "batch" and iterations > MAX_BATCH_ITERATIONS:
            raise ParameterError(f"iterations={iterations:,} batch passes, more than the limit of "
                                 f"{MAX_BATCH_ITERATIONS:,}; a {grid[0]}x{grid[1]} map trains in batch, which "
                                 f"settles in tens of passes (default {BATCH_ITERATIONS})")
        if algorithm == "online":
            check_allocation(_BYTES_PER_ONLINE_STEP * iterations, f"the training order of {iterations:,} map steps")
        return grid, iterations, algorithm

    def _check_settings(self) -> None:
        """Check the settings that need no data: the names, sigma, the learning rate, the iterations' type."""
        for name, value, valid in (("topology", self.topology, TOPOLOGIES),
                                   ("neighborhood", self.neighborhood, NEIGHBORHOODS),
                                   ("init", self.init, INITS)):
            if not isinstance(value, str) or value not in valid:
                raise ParameterError(f"unknown {name} {value!r}; choose one of {', '.join(valid)}")
        for name, value in (("sigma", self.sigma), ("learning_rate", self.learning_rate)):
            if not (isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
                    and math.isfinite(value) and value > 0):
                raise ParameterError(f"{name} must be a positive number, got {value!r}")
        if self.iterations is not None and (isinstance(self.iterations, bool)
                                            or not isinstance(self.iterations, (int, np.integer))
                                            or self.iterations < 1):
            raise ParameterError(f"iterations must be a positive integer, got {self.iterations!r}")

    def _minisom(self, weights: np.ndarray, seed: int = 0):
        """A MiniSom holding ``weights``: it trains them, and its topology code answers the grid questions."""
        from minisom import MiniSom

        rows, cols, n_latent = weights.shape
        with warnings.catch_warnings():
            # MiniSom warns when sigma exceeds the grid's diagonal; that is the user's call.
            warnings.simplefilter("ignore", UserWarning)
            som = MiniSom(rows, cols, n_latent, sigma=float(self.sigma), learning_rate=float(self.learning_rate),
                          neighborhood_function=self.neighborhood, topology=self.topology, random_seed=seed)
        som._weights = weights.copy()  # MiniSom has no setter for its weights
        return som

    def fit(self, Z, y=None) -> "LatentSOM":
        """Train the map on latent codes.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_latent)
            Finite real values of magnitude at most :data:`MAX_CODE`.
        y : ignored

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
        Z = _check_range(validate_data(self, Z, dtype=np.float64))
        grid, iterations, algorithm = self._check_params(Z)
        seed = int(resolve_rng(self.random_state).integers(2**31 - 1))
        if self.init == "pca":
            som = self._minisom(pca_weights(Z, grid), seed)
        else:
            som = self._minisom(np.zeros((*grid, Z.shape[1])), seed)
            som.random_weights_init(Z)
        with np.errstate(over="ignore", invalid="ignore"):  # a divergent map is reported below, once
            if algorithm == "online":
                som.train(Z, iterations, random_order=True)
            else:
                _train_batch(som, Z, iterations)
        if _diverged(som.get_weights()):
            # Each online step moves a weight by learning_rate times its distance to the code: past 2 it
            # overshoots further every step, and a large enough rate overflows.
            raise ParameterError(f"the map diverged (weights infinite, NaN or past 1e100) with learning_rate="
                                 f"{self.learning_rate:g}; use a learning rate of at most 1")
        self.weights_ = np.array(som.get_weights(), dtype=float)
        self.grid_ = grid
        self.seed_ = seed
        self.n_iterations_ = iterations
        self.algorithm_ = algorithm
        self.labels_ = self.winners(Z)
        self.training_data_ = fingerprint(Z)
        return self

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
        Z = np.asarray(Z, dtype=float)
        if Z.ndim != 2 or Z.shape[1] != self.n_features_in_:
            width = Z.shape[1] if Z.ndim == 2 else "?"
            raise ShapeMismatchError(f"this map was fitted on codes of {self.n_features_in_} dimensions, and these "
                                     f"have {width}: a map of another model; make one for this model (genval som "
                                     "--out FILE)")
        record = getattr(self, "training_data_", None)
        if record is None:
            return False
        seen = fingerprint(Z)
        if (seen["n_items"], seen["sha256"]) != (record["n_items"], record["sha256"]):
            def describe(r):
                return f"{r['n_items']} codes of {r['n_features']} dimensions, sha256 {r['sha256'][:12]}"

            raise DataMismatchError(f"this map was fitted on other codes ({describe(record)}), not on these "
                                    f"({describe(seen)}): a map of another model or set; make one for these (genval "
                                    "som --out FILE), or pass --any-data (any_data=True) to use it anyway")
        return True

    # ------------------------------------------------------------------ queries

    def _check_codes(self, Z) -> np.ndarray:
        """Fitted, and ``Z`` finite (n, n_features_in_) codes: the boundary of every query."""
        check_is_fitted(self)
        return _check_range(validate_data(self, Z, dtype=np.float64, reset=False))

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

        Codes of up to 4 dimensions find their two nearest neurons in a k-d
        tree over the weights; wider codes get their squared distances from
        the matrix-product form ``|z - c|^2 - 2 (z - c).(w - c) + |w - c|^2``
        (``c`` the weights' mean). Both go a chunk of points at a time, and
        both round differently from subtracting first, so a point whose two
        best neurons are closer than its rounding bound is compared again by
        subtraction: the winners are exactly those of the direct computation,
        ties going to the lower index.

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
            When the result would exceed the memory budget (``n_points *
            n_neurons * 8`` bytes); the message gives the estimate.
        """
        Z = self._check_codes(Z)
        W = self.weights_.reshape(-1, self.weights_.shape[-1])
        check_allocation(8 * len(Z) * len(W), f"distances from {len(Z):,} points to {len(W):,} neurons")
        out = np.empty((len(Z), len(W)))
        chunk = chunk_rows(8 * len(W) * (Z.shape[1] + 1))
        for s in range(0, len(Z), chunk):
            out[s:s + chunk] = np.linalg.norm(Z[s:s + chunk, None, :] - W[None, :, :], axis=-1)
        return out

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
        win = self.winners(Z)
        if len(names) != len(win):
            raise ParameterError(f"got {len(names)} names for {len(win)} codes")
        rows, cols = self.grid_
        members: list[list[str]] = [[] for _ in range(rows * cols)]
        for name, w in zip(names, win):
            members[w].append(name)
        W = self.weights_.reshape(rows * cols, -1)
        return [Neuron(k // cols, k % cols, k, tuple(members[k]), tuple(float(v) for v in W[k]))
                for k in range(rows * cols)]

    def quantization_error(self, Z) -> float:
        """Mean distance from each code to its winning neuron's weight."""
        Z = self._check_codes(Z)
        W = self.weights_.reshape(-1, self.weights_.shape[-1])
        return float(np.linalg.norm(Z - W[self.winners(Z)], axis=1).mean())

    def topographic_error(self, Z) -> float:
        """Fraction of codes whose best and second-best neurons are not grid neighbours.

        MiniSom's definition, computed a chunk of codes at a time: on a
        rectangular grid the 8 neighbours around a neuron (diagonals too)
        count, on a hexagonal grid the 6 at unit distance. Best and second
        best come from MiniSom's distance formula; on an exact tie the lower
        index ranks first. NaN for a 1x1 map, which has no second-best neuron.
        """
        Z = self._check_codes(Z)
        if self.n_neurons == 1:
            return float("nan")
        W = self.weights_.reshape(-1, self.weights_.shape[-1])
        w_sq = np.power(W, 2).sum(axis=1)
        P = self._coordinates()
        adjacent = np.empty(len(Z), dtype=bool)
        chunk = chunk_rows(8 * 2 * len(W))
        for s in range(0, len(Z), chunk):
            Zs = Z[s:s + chunk]
            D = np.sqrt(np.maximum(0, -2 * (Zs @ W.T) + np.power(Zs, 2).sum(axis=1, keepdims=True) + w_sq[None, :]))
            rows = np.arange(len(D))
            first = D.argmin(axis=1)
            D[rows, first] = np.inf
            second = D.argmin(axis=1)
            if self.topology == "hexagonal":
                adjacent[s:s + chunk] = np.isclose(1, np.linalg.norm(P[first] - P[second], axis=1))
            else:
                steps = np.column_stack(np.unravel_index(first, self.grid_)) \
                    - np.column_stack(np.unravel_index(second, self.grid_))
                adjacent[s:s + chunk] = np.linalg.norm(steps, axis=1) <= 1.42
        # MiniSom's own last step for each topology, so the figure agrees to the bit
        return float(1 - np.mean(adjacent)) if self.topology == "hexagonal" else float((~adjacent).mean())

    def _coordinates(self) -> np.ndarray:
        """Each neuron's position on the plane of the grid (MiniSom's, hexagonal rows shifted), flat order."""
        xx, yy = self._minisom(self.weights_).get_euclidean_coordinates()
        return np.stack([np.ravel(xx), np.ravel(yy)], axis=1).astype(float)

    def umatrix(self) -> np.ndarray:
        """The U-matrix: each neuron's summed distance to the weights around it, scaled to max 1.

        Computed by MiniSom: on a rectangular grid the 8 neurons around a
        neuron count (diagonals too), on a hexagonal grid the 6 at unit
        distance. High values mark cluster borders.

        Returns
        -------
        ndarray of shape (rows, cols)
            Zeros when every weight is the same (a 1x1 map, for one).
        """
        check_is_fitted(self)
        with np.errstate(invalid="ignore"):  # MiniSom divides by the largest sum, 0 when all weights agree
            u = np.asarray(self._minisom(self.weights_).distance_map(), dtype=float)
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
            cached = self._adjacency = (key, _unit_neighbours(self._coordinates(), *self.grid_))
        return cached[1]

    def grid_path(self, start: int, stop: int) -> list[int]:
        """The shortest path of neighbouring neurons from ``start`` to ``stop`` (flat indices).

        Breadth-first search; among equally short paths the one visiting lower
        indices first, so the path is deterministic. Both ends included.
        """
        adjacency = self._adjacency_of_grid()
        for k in (start, stop):
            if not 0 <= k < len(adjacency):
                raise ParameterError(f"neuron {k} is outside the {self.grid_[0]}x{self.grid_[1]} map")
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
        """Write the fitted map as ``.npz`` (weights, labels + JSON config, no pickle), atomically."""
        check_is_fitted(self)
        config = {"format": SOM_FORMAT, "version": SOM_VERSION,
                  "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()
                             if k != "random_state" or isinstance(v, (int, type(None)))},
                  "grid": list(self.grid_), "seed": self.seed_, "n_iterations": self.n_iterations_,
                  "algorithm": self.algorithm_}
        if getattr(self, "training_data_", None) is not None:
            config["training_data"] = self.training_data_
        with atomic_write(path) as fh:
            np.savez(fh, config=np.array(json.dumps(config)), weights=self.weights_, labels=self.labels_)

    @classmethod
    def load(cls, path) -> "LatentSOM":
        """Read a map written by :meth:`save`.

        A map file is untrusted input, read like a model file (see
        :mod:`genval._utils.archive`): its config's every key is checked, and the
        weights' and labels' headers against the grid and the memory budget,
        before any array is read.

        Raises
        ------
        ModelFileError
            One line naming the file and what was wrong.
        """
        path = Path(path)
        with open_archive(path, _MAP_MEMBERS, "map") as archive:
            config = archive.config(SOM_FORMAT, SOM_VERSION)
            archive.require(_MAP_MEMBERS)
            som = cls._from_config(config, archive.damaged)
            grid = som.grid_
            # float32 weights and int32 labels are copied to float64 and int64
            weights = archive.array("weights", (*grid, None), "weights do not match the grid",
                                    extra=2 * archive.size("weights") + 2 * archive.size("labels"))
            labels = archive.array("labels", (None,), "labels are not one list of neurons", kind="i")
        if weights.shape[2] < 1 or _diverged(weights):
            raise archive.damaged("weights.npy holds no weights per neuron" if weights.shape[2] < 1 else
                                  "its weights contain NaN, infinity or values past 1e100")
        if not np.all((labels >= 0) & (labels < grid[0] * grid[1])):
            raise archive.damaged(f"labels are not neurons of the {grid[0]}x{grid[1]} grid")
        record = config.get("training_data")
        if record is not None and not (is_fingerprint(record, weights.shape[2]) and record["n_items"] == len(labels)):
            raise archive.damaged(f"training_data must be an object of n_items ({len(labels)}, one per label), "
                                  f"n_features ({weights.shape[2]}), a printable title and a sha256 (64 hex digits), "
                                  f"got {brief(record, 60)}")
        som.weights_ = weights.astype(float)
        som.labels_ = labels.astype(np.int64)
        som.n_features_in_ = weights.shape[2]
        som.training_data_ = None if record is None else dict(record)
        return som

    @classmethod
    def _from_config(cls, config: dict, damaged) -> "LatentSOM":
        """The map of a file's config, its training facts (``grid_``, ``seed_``, ...) set but no weights yet;
        ``damaged(why)``: the error to raise."""
        for key in config:
            if key not in _MAP_KEYS:
                raise damaged(f"key {brief(key, 40)} is not a map setting; expected {', '.join(_MAP_KEYS)}")
        params = config.get("params")
        names = cls().get_params()
        if not isinstance(params, dict):
            raise damaged(f"params must be an object of parameters, got {brief(params, 40)}")
        unknown = [k for k in params if k not in names]
        if unknown:
            raise damaged(f"params has {brief(unknown[0], 40)}; a map's are {', '.join(names)}")
        params = dict(params)
        grid = params.get("grid")
        if grid is not None:
            if not (isinstance(grid, list) and len(grid) == 2 and all(_is_count(g) for g in grid)):
                raise damaged(f"params.grid must be null or [rows, cols], got {brief(grid, 40)}")
            params["grid"] = tuple(grid)
        if not (params.get("random_state") is None or _is_count(params["random_state"], 0)):
            raise damaged(f"params.random_state must be null or a seed, got {brief(params['random_state'], 40)}")
        som = cls(**params)
        try:
            som._check_settings()
        except ParameterError as exc:
            raise damaged(f"params: {exc}") from None
        grid = config.get("grid")
        if not (isinstance(grid, list) and len(grid) == 2 and all(_is_count(g) for g in grid)
                and grid[0] * grid[1] <= MAX_NEURONS):
            raise damaged(f"grid must be [rows, cols] of at most {MAX_NEURONS:,} neurons, got {brief(grid, 40)}")
        if som.grid is not None and tuple(som.grid) != tuple(grid):
            raise damaged(f"params.grid {list(som.grid)} does not match its grid {grid}")
        for key, low in (("seed", 0), ("n_iterations", 1)):
            if not _is_count(config.get(key), low):
                raise damaged(f"{key} must be an integer of at least {low}, got {brief(config.get(key), 40)}")
        algorithm = config.get("algorithm", "online")  # maps saved before batch training have none
        if algorithm not in ("online", "batch"):
            raise damaged(f'algorithm must be "online" or "batch", got {brief(algorithm, 40)}')
        som.grid_, som.seed_, som.n_iterations_, som.algorithm_ = tuple(grid), config["seed"], \
            config["n_iterations"], algorithm
        return som


_MAP_MEMBERS = ("config", "weights", "labels")
_MAP_KEYS = ("format", "version", "params", "grid", "seed", "n_iterations", "algorithm", "training_data")


def _is_count(value, low: int = 1) -> bool:
    """Whether ``value`` (from JSON) is an integer of at least ``low`` that fits in 63 bits."""
    return is_int(value, low, 2**63 - 1)


def load_som(path) -> LatentSOM:
    """Load a map saved by :meth:`LatentSOM.save`."""
    return LatentSOM.load(path)
