"""The composition root: a bitmap set, its model and a fitted map, assembled from names.

Every stage below this module takes what it works on as arguments; this is the
one place that reaches into all of them at once, as the command line does: it
loads a set (:mod:`genval.data`), finds its model (the cached default model,
trained on first use, or a model file, import path or ONNX pair:
:mod:`genval.models`) and fits or loads a map over the codes
(:mod:`genval.latent`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from genval.data._bitmap_set import BitmapSet
from genval.data._bitmaps import load_dataset
from genval.errors import DataMismatchError, ParameterError, ShapeMismatchError
from genval.latent._som import LatentSOM, load_som
from genval.latent._space import Embedding, LatentSpace, _check_sizes, item_index
from genval.models._cache import default_model
from genval.models._protocol import LatentModel, as_latent_model

__all__ = ["build_embedding", "build_space"]

# The parameters and errors build_space and build_embedding share, written once (numpydoc, 4 spaces in).
_SHARED_DOCS = {
    "dataset_and_model": """dataset : str, path or BitmapSet
        A bundled set (``"emojis"``), a bitmap file (see
        :func:`genval.data.load_dataset`) or a loaded set.
    model : str, path or LatentModel, optional
        A fitted model (anything under :class:`genval.models.LatentModel`:
        genval's autoencoders, a scikit-learn ``PCA``, ...) or where to find
        one (see :func:`genval.models.open_model`): a genval model file, an
        import path ``package.module:name``, or ``encoder.onnx,decoder.onnx``;
        default: the set's cached default model of ``kind``. A model made
        elsewhere has its decoded pixels clipped to [0, 1].""",
    "kind_and_items": """kind : {"autoencoder", "vae"}
        Which default model, when ``model`` is None.
    items : sequence of str
        Item names the caller will use: checked before anything trains.""",
    "training": """on_train : callable, optional
        ``on_train(path, model)``, called with the unfitted default model just
        before it trains (never when it comes from the cache).
    progress : callable, optional
        ``progress(epochs_done, loss)`` while the default model trains.
    any_data : bool
        Use a model with bitmaps of its size other than those it was trained
        on (a model records a hash of its training pixels; see
        :meth:`Autoencoder.check_training_data`).""",
    "map_progress": """map_progress : callable, optional
        ``map_progress(passes_done, passes)`` while a big map fits (see
        :meth:`LatentSOM.fit`); not called for a map given fitted.""",
    "set_errors": """BitmapFormatError
        For an unknown set or an unreadable bitmap file.
    UnknownItemError
        For a name in ``items`` the set does not hold.""",
    "model_errors": """NotAModelError
        For an object that lacks the model protocol (the message names what it lacks).""",
}


def _shared_docs(function):
    """``function`` with each ``{name}`` line of its docstring replaced by ``_SHARED_DOCS[name]``."""
    for name, text in _SHARED_DOCS.items():
        function.__doc__ = function.__doc__.replace("{" + name + "}", text)
    return function


@_shared_docs
def build_space(dataset: str | os.PathLike | BitmapSet, model: str | os.PathLike | LatentModel | None = None, *,
                som: str | os.PathLike | LatentSOM | None = None,
                kind: str = "autoencoder", items: Sequence[str] = (), grid: tuple[int, int] | None = None,
                sigma: float = 1.0, som_learning_rate: float = 0.5, iterations: int | None = None,
                topology: str = "rectangular", neighborhood: str = "gaussian", random_state=0,
                on_train: Callable[[Path, LatentModel], None] | None = None,
                progress: Callable[[int, float], None] | None = None, any_data: bool = False,
                model_seed: int = 0, map_progress: Callable[[int, int], None] | None = None) -> LatentSpace:
    """A bitmap set, its model and a fitted map, from a set's name and the map's settings.

    Without ``model`` the set's default model is used: trained on first use
    (``on_train`` and ``progress`` report it) and cached, see
    :func:`genval.models.default_model`. The map is ``som``, or else a
    :class:`LatentSOM` with the given settings, initialised on the codes'
    principal components.

    Parameters
    ----------
    {dataset_and_model}
    som : path or LatentSOM, optional
        A map file (see :meth:`LatentSOM.save`, ``genval som --out``), used
        as it is, or a :class:`LatentSOM` (fitted: used as it is; not: fitted
        to the codes). A fitted map must be one of these codes. Given, the
        map's settings below are not used.
    {kind_and_items}
    grid : (rows, cols), optional
        Map size; default :func:`genval.latent.default_grid` of the codes.
    sigma, som_learning_rate, iterations, topology, neighborhood, random_state
        The map's settings: :class:`LatentSOM`'s ``sigma``, ``learning_rate``,
        ``iterations``, ``topology``, ``neighborhood`` and ``random_state``.
    {training}
    {map_progress}
    model_seed : int
        The default model's seed (0: the default model itself; another seed
        trains and caches the same architecture from another start). Only
        without ``model``.

    Returns
    -------
    LatentSpace

    Raises
    ------
    {set_errors}
    ModelFileError
        For a missing or damaged model or map file, or a model that cannot be imported or run.
    {model_errors}
    ShapeMismatchError
        When the model was trained on bitmaps of another size, or the map
        fitted on codes of another width.
    DataMismatchError
        When it was trained on other bitmaps of this size, or the map fitted
        on other codes, unless ``any_data`` (only models that record their
        training data, as genval's do, can tell).

    Examples
    --------
    >>> from genval import Autoencoder, load_dataset
    >>> emojis = load_dataset("emojis")
    >>> space = build_space(emojis, Autoencoder(stop_wrong_pixels=0).fit(emojis.X), grid=(3, 3))
    >>> space.som.grid_, space.codes.shape
    ((3, 3), (17, 2))
    >>> space.neuron_of(":)") == int(space.som.labels_[0])
    True
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "map.npz"
    >>> space.som.save(path)  # as genval som --out does; --map reads it back
    >>> again = build_space(emojis, space.model, som=path)
    >>> again.som.grid_, bool((again.som.weights_ == space.som.weights_).all())
    ((3, 3), True)
    """
    if model is not None and model_seed != 0:
        raise ParameterError("model_seed picks the seed of the set's default model; it cannot reseed a given model")
    som, path = _read_map(som)  # a damaged map file fails before any model trains
    bitmaps, model, source = _open_model(dataset, model, kind, items, on_train, progress, any_data, model_seed)
    if som is None:
        som = LatentSOM(grid=grid, sigma=sigma, learning_rate=som_learning_rate, iterations=iterations,
                        topology=topology, neighborhood=neighborhood, random_state=random_state)
    _check_sizes(bitmaps, model)  # the model's refusal first: a mismatch after it is the map's
    return _build(bitmaps, model, som, source, any_data, path, map_progress)


def _read_map(som: str | os.PathLike | LatentSOM | None) -> tuple[LatentSOM | None, str | os.PathLike | None]:
    """``(map, its file)``: the map read from ``som`` when it names a file (else ``som`` itself, no file)."""
    if isinstance(som, (str, os.PathLike)):
        return load_som(som), som
    return som, None


def _build(bitmaps: BitmapSet, model: LatentModel, som: LatentSOM, source: str | None, any_data: bool,
           path: str | os.PathLike | None, map_progress=None) -> LatentSpace:
    """The space of a set, its model and a map; a map file's mismatch with the codes names the file."""
    try:
        return LatentSpace.build(bitmaps, model, som, source, any_data=any_data, progress=map_progress)
    except (ShapeMismatchError, DataMismatchError) as exc:
        if path is None:
            raise
        raise type(exc)(f"{os.fspath(path)}: {exc}") from None


def _open_model(dataset, model, kind, items, on_train, progress, any_data=False,
                model_seed: int = 0) -> tuple[BitmapSet, LatentModel, str | None]:
    """The set, the model and the model's file (None unless given as a path)."""
    from genval.models._external import open_model  # here: onnxruntime and import paths only when a model names them

    bitmaps = dataset if isinstance(dataset, BitmapSet) else load_dataset(dataset)
    for item in items:
        item_index(bitmaps, item)
    source = None
    if model is None:
        model, _ = default_model(bitmaps, progress=progress, on_train=on_train, kind=kind, random_state=model_seed)
    elif isinstance(model, (str, os.PathLike)):
        model, source = open_model(model), os.fspath(model)
    model = as_latent_model(model)
    check = getattr(model, "check_training_data", None)  # optional in the protocol: genval's models have it
    if not any_data and callable(check) and model.n_features_in_ == bitmaps.n_features:
        check(bitmaps)  # a size mismatch is LatentSpace.build's to explain
    return bitmaps, model, source


@_shared_docs
def build_embedding(dataset: str | os.PathLike | BitmapSet, model: str | os.PathLike | LatentModel | None = None,
                    *, kind: str = "autoencoder", items: Sequence[str] = (),
                    on_train: Callable[[Path, LatentModel], None] | None = None,
                    progress: Callable[[int, float], None] | None = None, any_data: bool = False) -> Embedding:
    """A bitmap set and its codes, as :func:`build_space` makes them, without fitting a map.

    For what needs only the codes and the decoder (:func:`latent_grid`):
    a map over a large set takes far longer to fit than the codes to compute.

    Parameters
    ----------
    {dataset_and_model}
    {kind_and_items}
    {training}

    Returns
    -------
    Embedding

    Raises
    ------
    {set_errors}
    ModelFileError
        For a missing or damaged model file, or a model that cannot be imported or run.
    {model_errors}
    ShapeMismatchError, DataMismatchError
        As for :func:`build_space`'s model.

    Examples
    --------
    >>> from genval import Autoencoder, load_dataset
    >>> emojis = load_dataset("emojis")
    >>> embedding = build_embedding(emojis, Autoencoder(epochs=50).fit(emojis.X))
    >>> embedding.codes.shape, hasattr(embedding, "som")
    ((17, 2), False)

    Any fitted model under the protocol will do, a PCA for one (in :func:`build_space` too):

    >>> from sklearn.decomposition import PCA
    >>> build_embedding(emojis, PCA(2).fit(emojis.X)).model
    ForeignModel(PCA(n_components=2), kind='pca')
    """
    return Embedding.build(*_open_model(dataset, model, kind, items, on_train, progress, any_data))
