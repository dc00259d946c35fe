"""The latent space of a set: where the items are, and what any latent point decodes to.

A :class:`LatentSpace` ties together what every walk needs: the bitmap set,
the fitted model (any :class:`~genval.models.LatentModel`: genval's
autoencoders, a scikit-learn PCA, an ONNX pair), the item codes and a fitted map over them. Its
:meth:`~LatentSpace.locate` decodes any number of latent points and says, for
each, what it looks like (thresholded at 0.5), which neuron wins it and which
training item is nearest in Hamming distance.

Points to decode come from walks between items (:mod:`._walks`), random
samples (:mod:`._samples`) and the regular grid over the codes' plane
(:mod:`._plane`). :func:`genval.pipeline.build_space` makes a space from nothing but a set's
name, as the command line does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np

from genval._utils.budget import check_allocation, chunk_rows, nearest_bitmaps
from genval.data._bitmap_set import BitmapSet, bitmap_rows
from genval.errors import ModelFileError, ParameterError, ShapeMismatchError, UnknownItemError
from genval.models._protocol import LatentModel, as_latent_model
from genval.latent._som import LatentSOM
from genval.latent._winners import MAX_CODE

__all__ = ["Embedding", "LatentSpace", "Located"]


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
              source: str | None = None, *, any_data: bool = False,
              progress: Callable[[int, int], None] | None = None) -> "LatentSpace":
        """Encode the items and fit ``som`` (default ``LatentSOM()``) to their codes.

        A map that is fitted already (a saved one, :func:`genval.latent.load_som`)
        is used as it is, once it is known to be a map of these codes
        (:meth:`LatentSOM.check_training_data`). ``source`` names the model's file in errors;
        ``progress(passes_done, passes)`` reports a big map's fitting (see :meth:`LatentSOM.fit`).

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
            som.fit(codes, progress=progress)
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
