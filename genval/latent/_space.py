"""Points in the latent space: where the items are, walks between them, samples.

A :class:`LatentSpace` ties together what every walk needs: the bitmap set,
the fitted model (any :class:`~genval.models.LatentModel`: genval's
autoencoders, a scikit-learn PCA, an ONNX pair), the item codes and a fitted map over them. Its
:meth:`~LatentSpace.locate` decodes any number of latent points and says, for
each, what it looks like (thresholded at 0.5), which neuron wins it and which
training item is nearest in Hamming distance.

Walks:

* :func:`walk` with ``path="line"``: evenly spaced points on the straight
  segment between two items' codes, endpoints included;
* ``path="som"``: through the map's weights, along the shortest grid path of
  neurons from the first item's neuron to the second's:
  ``z_a -> w(n_0) -> ... -> w(n_k) -> z_b``, sampled evenly by arc length.

:func:`genval.pipeline.build_space` makes a space from nothing but a set's
name, as the command line does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from genval._utils.budget import check_allocation, chunk_rows, nearest_bitmaps
from genval._utils.files import resolve_rng
from genval.data._bitmaps import BitmapSet, bitmap_rows
from genval.errors import ModelFileError, ParameterError, ShapeMismatchError, UnknownItemError
from genval.models._protocol import LatentModel, as_latent_model
from genval.latent._som import LatentSOM
from genval.latent._winners import MAX_CODE

__all__ = ["Embedding", "LatentSpace", "Located", "Walk", "grid_axes", "latent_grid", "plane", "sample_latent", "walk"]

SAMPLE_METHODS = ("box", "gaussian", "neuron")


def plane(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plane a picture shows of a latent space: ``(origin, axes)``.

    Two dimensions are shown as they are (origin 0, axes the identity); more
    through the codes' first two principal axes, so that a point ``p`` of the
    plane is the latent point ``origin + p @ axes``. Pictures, ``latent_grid``
    and ``genval decode`` use it for latent spaces wider than two.

    Examples
    --------
    >>> Z = np.array([[2.0, 0, 1], [-2.0, 0, 1], [0, 1.0, 1], [0, -1.0, 1]])
    >>> origin, axes = plane(Z)
    >>> origin.tolist(), np.abs(axes).round(6).tolist()
    ([0.0, 0.0, 1.0], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    """
    Z = np.asarray(Z, dtype=float)
    if Z.shape[1] <= 2:
        return np.zeros(Z.shape[1]), np.eye(Z.shape[1])[:2]
    origin = Z.mean(axis=0)
    _, _, vt = np.linalg.svd(Z - origin, full_matrices=False)
    return origin, vt[:2]


@dataclass(frozen=True)
class Located:
    """Decoded latent points and where they fall.

    Attributes
    ----------
    Z : ndarray (n, n_latent)
        The points.
    pixels : ndarray (n, n_features)
        Decoded pixel values in [0, 1].
    binary : ndarray of bool (n, n_features)
        ``pixels > 0.5``.
    neuron : ndarray of int (n,)
        Flat index of the winning neuron.
    nearest : ndarray of int (n,)
        Index of the nearest training item by Hamming distance (the first on ties).
    hamming : ndarray of int (n,)
        That distance in pixels.
    som_distance : ndarray (n,)
        Distance from each point to its neuron's weights: small where the map
        has learned items, large in the gaps between them.
    occupied : ndarray of bool (n,)
        Whether the point's neuron wins at least one training item's code
        (the course's sign that a point lies where the set is).
    """

    Z: np.ndarray
    pixels: np.ndarray
    binary: np.ndarray
    neuron: np.ndarray
    nearest: np.ndarray
    hamming: np.ndarray
    som_distance: np.ndarray
    occupied: np.ndarray

    def __len__(self) -> int:
        return len(self.Z)


@dataclass(frozen=True, eq=False)
class Embedding:
    """A bitmap set and its codes under a fitted model, without a map.

    What :func:`latent_grid` needs; a :class:`LatentSpace` is one with a
    fitted map besides. Build it with :meth:`build` or :func:`build_embedding`.

    Attributes
    ----------
    bitmaps : BitmapSet
    model : LatentModel
        Genval's own model, or another held to the protocol by
        :func:`genval.models.as_latent_model`.
    codes : ndarray (n_items, n_latent)
        ``model.transform(bitmaps.X)``.
    """

    bitmaps: BitmapSet
    model: LatentModel
    codes: np.ndarray

    @classmethod
    def build(cls, bitmaps: BitmapSet, model: LatentModel, source: str | None = None) -> "Embedding":
        """Encode the items (``source``: the model's file, for errors).

        Raises
        ------
        ShapeMismatchError
            When the model was trained on bitmaps of another size.
        ModelFileError, ParameterError
            When the codes are not finite in the model's dtype (see :func:`encode_items`).
        NotAModelError
            For an object that lacks the model protocol.
        """
        model = as_latent_model(model)
        return cls(bitmaps, model, encode_items(bitmaps, model, source))


def encode_items(bitmaps: BitmapSet, model: LatentModel, source: str | None = None) -> np.ndarray:
    """The items' codes, checked finite in the dtype the model runs in and within a map's range.

    Weights that are finite but huge (a damaged file, a training that
    diverged) give codes whose squared distances overflow: every map, plot
    and metric built on them would be noise. The bound is the smaller of
    :data:`genval.latent.MAX_CODE` and ``sqrt(max / (4 n_latent))`` of the
    model's dtype (3.4e38 for float32), so that squared distances between
    codes stay finite in that dtype.

    Raises
    ------
    ModelFileError
        Naming ``source`` (the model's file), when given.
    ParameterError
        Otherwise.
    """
    _check_sizes(bitmaps, model)
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, once
        codes = model.transform(bitmaps.X)
    dtype = np.dtype(getattr(model, "dtype", codes.dtype))
    limit = min(MAX_CODE, math.sqrt(float(np.finfo(dtype).max) / (4 * max(1, codes.shape[1]))))
    finite = bool(np.isfinite(codes).all())
    largest = float(np.abs(codes).max(initial=0.0)) if finite else math.inf
    if largest > limit:
        found = f"reach {largest:.3g}" if finite else "are not finite"
        message = (f"the codes of {bitmaps.title or 'the set'} {found}; expected {dtype} codes of magnitude at most "
                   f"{limit:.3g} (squared distances past it overflow): its weights are damaged or its training "
                   "diverged")
        if source is not None:
            raise ModelFileError(f"{source}: {message}")
        raise ParameterError(f"the model: {message}")
    return codes


def _check_sizes(bitmaps: BitmapSet, model: LatentModel) -> None:
    n = getattr(model, "n_features_in_", None)
    if n != bitmaps.n_features:
        h, w = bitmaps.shape
        raise ShapeMismatchError(f"the model expects {n} pixels per item but {bitmaps.title or 'the set'} has "
                                 f"{bitmaps.n_features} ({h}x{w}); train a model on this set")


@dataclass(frozen=True, eq=False)
class LatentSpace:
    """A bitmap set embedded by a model and mapped by a SOM.

    Build it with :meth:`build`.

    Attributes
    ----------
    bitmaps : BitmapSet
    model : LatentModel
        Fitted on sets of the same bitmap size: genval's own model, or
        another held to the protocol by :func:`genval.models.as_latent_model`
        (its decoded pixels clipped to [0, 1]).
    som : LatentSOM
        Fitted on ``codes``.
    codes : ndarray (n_items, n_latent)
        ``model.transform(bitmaps.X)``.
    """

    bitmaps: BitmapSet
    model: LatentModel
    som: LatentSOM
    codes: np.ndarray

    @classmethod
    def build(cls, bitmaps: BitmapSet, model: LatentModel, som: LatentSOM | None = None,
              source: str | None = None, *, any_data: bool = False) -> "LatentSpace":
        """Encode the items and fit ``som`` (default ``LatentSOM()``) to their codes.

        A map that is fitted already (a saved one, :func:`genval.latent.load_som`)
        is used as it is, once it is known to be a map of these codes
        (:meth:`LatentSOM.check_training_data`). ``source`` names the model's file in errors.

        Raises
        ------
        ShapeMismatchError
            When the model was trained on bitmaps of another size, or a fitted
            map on codes of another width.
        DataMismatchError
            When a fitted map was fitted on other codes, unless ``any_data``.
        ModelFileError, ParameterError
            When the codes are not finite in the model's dtype (see :func:`encode_items`).
        NotAModelError
            For an object that lacks the model protocol.

        Examples
        --------
        >>> from sklearn.decomposition import PCA
        >>> from genval import load_dataset
        >>> emojis = load_dataset("emojis")
        >>> space = LatentSpace.build(emojis, PCA(2).fit(emojis.X), LatentSOM(grid=(3, 3)))
        >>> space.model.kind, space.codes.shape
        ('pca', (17, 2))
        """
        model = as_latent_model(model)
        codes = encode_items(bitmaps, model, source)
        som = som if som is not None else LatentSOM()
        if not hasattr(som, "weights_"):
            som.fit(codes)
        elif not any_data or som.n_features_in_ != codes.shape[1]:  # any_data: any codes of its width
            som.check_training_data(codes)
        return cls(bitmaps, model, som, codes)

    @cached_property
    def hits(self) -> np.ndarray:
        """How many item codes each neuron wins, ``(n_neurons,)`` in flat order; 0 for an empty neuron."""
        return np.bincount(self.som.winners(self.codes), minlength=self.som.n_neurons)

    def code(self, item: str | int) -> np.ndarray:
        """The latent code of one item (by name or index).

        Raises
        ------
        UnknownItemError
            For a name the set does not hold (the message lists the known ones).
        """
        return self.codes[item_index(self.bitmaps, item)]

    def neuron_of(self, item: str | int) -> int:
        """Flat index of the neuron that wins an item's code."""
        return int(self.som.winners(self.code(item)[None, :])[0])

    def locate(self, Z, chunk: int | None = None) -> Located:
        """Decode latent points and find their neurons and nearest training items.

        Decoding goes a chunk at a time; the nearest items come from a
        Hamming search over the distinct decoded bitmaps against the
        distinct training bitmaps (:func:`genval._utils.budget.nearest_bitmaps`),
        chunked by the memory budget, so it runs on sets of any size.

        Parameters
        ----------
        Z : array-like of shape (n, n_latent)
        chunk : int, optional
            Points decoded at once; default from the memory budget.

        Raises
        ------
        genval._utils.budget.MemoryBudgetError
            When the decoded pixels (``9 * n * n_features`` bytes: the values
            and their thresholded copy) would exceed the memory budget.

        Examples
        --------
        >>> from genval import Autoencoder, build_space, load_dataset
        >>> emojis = load_dataset("emojis")
        >>> model = Autoencoder(stop_wrong_pixels=0).fit(emojis.X)
        >>> space = build_space(emojis, model, grid=(3, 3))
        >>> located = space.locate(space.codes)
        >>> int(located.hamming.max())  # a perfect model puts every item on itself
        0
        """
        Z = np.asarray(Z, dtype=float)
        if Z.ndim == 1:
            Z = Z[None, :]
        n, p = len(Z), self.bitmaps.n_features
        check_allocation(9 * n * p, f"decoding {n:,} points of {p} pixels")
        pixels = _decode(self.model, Z, p, chunk)
        binary = pixels > 0.5
        nearest, hamming = nearest_bitmaps(binary, self.bitmaps.binary())
        neuron = self.som.winners(Z)
        W = self.som.weights_.reshape(self.som.n_neurons, -1)
        som_distance = np.sqrt(((Z - W[neuron]) ** 2).sum(axis=1))
        return Located(Z, pixels, binary, neuron, nearest, hamming, som_distance, self.hits[neuron] > 0)

    def rows(self, pixels: np.ndarray) -> list[str]:
        """One decoded bitmap as rows of ``#`` and ``.``."""
        return bitmap_rows(pixels, self.bitmaps.shape)

    def box(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners of the box spanned by the item codes."""
        return self.codes.min(axis=0), self.codes.max(axis=0)


def point_bytes(n_features: int, n_latent: int) -> int:
    """Bytes one decoded latent point costs: the point, its position on a path, its pixels and their
    thresholded copy (:meth:`LatentSpace.locate`), its packed bitmap. What a caller checks before
    drawing ``n`` points to decode, so that a request beyond the memory budget fails at once.

    >>> point_bytes(35, 2)  # 8 * (2 + 1) + 9 * 35 + 5
    344
    """
    return 8 * (n_latent + 1) + 9 * n_features + (n_features + 7) // 8


def _decode(model: LatentModel, Z: np.ndarray, n_features: int, chunk: int | None = None) -> np.ndarray:
    """``model.inverse_transform(Z)`` a chunk at a time, into one (n, n_features) float64 array."""
    chunk = chunk or chunk_rows(32 * n_features)  # the decoder's layers take a few times the pixels of a row
    pixels = np.empty((len(Z), n_features))
    for s in range(0, len(Z), chunk):
        pixels[s:s + chunk] = model.inverse_transform(Z[s:s + chunk])
    return pixels


def item_index(bitmaps: BitmapSet, item: str | int) -> int:
    """``bitmaps.index(item)``, an unknown name raising :class:`UnknownItemError`.

    >>> from genval import load_dataset
    >>> item_index(load_dataset("emojis"), ":(")
    2
    """
    try:
        return bitmaps.index(item)
    except UnknownItemError:
        raise
    except KeyError as exc:  # BitmapSet.index raises a plain KeyError; the CLI reports only genval's errors
        raise UnknownItemError(*exc.args) from None


@dataclass(frozen=True)
class Walk:
    """Samples decoded along a path between two items.

    Attributes
    ----------
    start, stop : str
        Item names.
    kind : {"line", "som"}
    same_neuron : bool
        Whether one neuron wins both items (the course's criterion for
        "these two may be blended").
    path : list of int
        For ``som`` the grid path of neurons (flat indices); for ``line`` the
        neurons the samples pass through, in order.
    t : ndarray (n,)
        Position along the path, 0 at ``start`` and 1 at ``stop``.
    located : Located
    """

    start: str
    stop: str
    kind: str
    same_neuron: bool
    path: list[int]
    t: np.ndarray
    located: Located


def points_along(vertices: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` points evenly spaced by arc length on a polyline, both ends included."""
    seg = np.linalg.norm(np.diff(vertices, axis=0), axis=1)
    total = seg.sum()
    t = np.linspace(0.0, 1.0, steps)
    if total == 0:
        return t, np.repeat(vertices[:1], steps, axis=0)
    cum = np.concatenate([[0.0], np.cumsum(seg)]) / total
    points = np.column_stack([np.interp(t, cum, vertices[:, d]) for d in range(vertices.shape[1])])
    return t, points


def walk(space: LatentSpace, start: str, stop: str, steps: int = 10, path: str = "line") -> Walk:
    """Decode ``steps`` points on a path from item ``start`` to item ``stop``.

    Parameters
    ----------
    space : LatentSpace
    start, stop : str
        Item names (``":]"``, ``";D"``).
    steps : int, default 10
        Samples, both endpoints included (at least 2).
    path : {"line", "som"}
        The straight segment between the codes, or the route through the
        map's weights along the shortest grid path of neurons.

    Returns
    -------
    Walk

    Raises
    ------
    UnknownItemError
        For an unknown item name (the message lists the known ones).
    ParameterError
        For ``steps < 2`` or an unknown ``path``.

    Examples
    --------
    >>> from genval import Autoencoder, build_space, load_dataset
    >>> emojis = load_dataset("emojis")
    >>> space = build_space(emojis, Autoencoder(stop_wrong_pixels=0).fit(emojis.X), grid=(3, 3))
    >>> w = walk(space, ":]", ";D", steps=5)
    >>> w.t.tolist(), emojis.names[w.located.nearest[-1]], int(w.located.hamming[-1])
    ([0.0, 0.25, 0.5, 0.75, 1.0], ';D', 0)
    """
    if steps < 2:
        raise ParameterError(f"steps must be at least 2 (both endpoints), got {steps}")
    if path not in ("line", "som"):
        raise ParameterError(f"unknown path {path!r}; choose line or som")
    p = space.bitmaps.n_features
    check_allocation(steps * point_bytes(p, space.codes.shape[1]), f"a walk of {steps:,} samples of {p} pixels")
    za, zb = space.code(start), space.code(stop)
    na, nb = space.neuron_of(start), space.neuron_of(stop)
    if path == "line":
        t = np.linspace(0.0, 1.0, steps)
        Z = za[None, :] + t[:, None] * (zb - za)[None, :]
        located = space.locate(Z)
        neurons = [int(k) for i, k in enumerate(located.neuron) if i == 0 or k != located.neuron[i - 1]]
    else:
        neurons = space.som.grid_path(na, nb)
        W = space.som.weights_.reshape(space.som.n_neurons, -1)
        t, Z = points_along(np.vstack([za, W[neurons], zb]), steps)
        located = space.locate(Z)
    names = space.bitmaps.names
    return Walk(names[item_index(space.bitmaps, start)], names[item_index(space.bitmaps, stop)],
                path, na == nb, neurons, t, located)


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


MAX_MARGIN = 100.0  # a grid a hundred boxes wide on each side shows the box as a dot already


def grid_axes(codes: np.ndarray, size: int = 20, margin: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """The coordinates of a ``size x size`` grid over the codes' box in their plane (:func:`plane`).

    The grid :func:`latent_grid` decodes, and ``genval explore``'s page snaps to:
    the box the codes span, widened by ``margin`` of its sides at each end.

    Returns
    -------
    xs : ndarray (size,)
        First coordinate of each column, increasing.
    ys : ndarray (size,)
        Second coordinate of each row, decreasing (row 0 is the top).

    Raises
    ------
    ParameterError
        For ``size < 2``, or codes of one dimension.

    Examples
    --------
    >>> xs, ys = grid_axes(np.array([[0.0, 0.0], [1.0, 2.0]]), size=3, margin=0)
    >>> xs.tolist(), ys.tolist()
    ([0.0, 0.5, 1.0], [2.0, 1.0, 0.0])
    """
    if size < 2:
        raise ParameterError(f"size must be at least 2, got {size}")
    if not (isinstance(margin, (int, float, np.integer, np.floating)) and 0 <= margin <= MAX_MARGIN):
        raise ParameterError(f"margin must be a share of the codes' box from 0 to {MAX_MARGIN:g}, got {margin!r}")
    if codes.shape[1] < 2:
        raise ParameterError("a latent grid needs at least 2 latent dimensions, and this model has 1")
    origin, axes = plane(codes)
    P = (codes - origin) @ axes.T
    lo, hi = P.min(axis=0), P.max(axis=0)
    pad = (hi - lo) * margin
    return np.linspace(lo[0] - pad[0], hi[0] + pad[0], size), np.linspace(hi[1] + pad[1], lo[1] - pad[1], size)


def latent_grid(space: LatentSpace | Embedding, size: int = 20,
                margin: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode a regular ``size x size`` grid over the codes' bounding box.

    Only the set, the model and the codes are used: an :class:`Embedding`
    (no map) will do.

    In a latent space wider than two the grid lies on the codes' principal
    plane (:func:`plane`), and ``xs``, ``ys`` are coordinates in that plane.

    Returns
    -------
    xs, ys : ndarray (size,)
        The columns' and rows' coordinates (:func:`grid_axes`; row 0 is the top).
    pixels : ndarray (size, size, n_features)

    Raises
    ------
    ParameterError
        For ``size < 2``, or a ``margin`` not in ``[0, MAX_MARGIN]`` (NaN, infinite, negative).
    genval._utils.budget.MemoryBudgetError
        When the decoded grid would exceed the memory budget.
    """
    xs, ys = grid_axes(space.codes, size, margin)
    origin, axes = plane(space.codes)
    n_features = space.bitmaps.n_features
    check_allocation(8 * size * size * n_features, f"a {size}x{size} grid of {n_features}-pixel bitmaps")
    gx, gy = np.meshgrid(xs, ys)
    Z = origin + np.column_stack([gx.ravel(), gy.ravel()]) @ axes
    return xs, ys, _decode(space.model, Z, n_features).reshape(size, size, -1)
