"""The model protocol: what genval needs of a model to map, walk and audit it.

genval judges any generator that encodes bitmaps to latent codes and decodes
latent points back to pixels. A model is anything with

* ``transform(X)``: ``X`` of shape ``(n, n_features)``, pixel values in
  [0, 1], to codes ``Z`` of shape ``(n, n_latent)``;
* ``inverse_transform(Z)``: codes to pixels, ``(n, n_features)``;
* ``n_features_in_``: the pixels per item it was fitted on.

That is scikit-learn's transformer vocabulary, so a fitted
:class:`sklearn.decomposition.PCA` is a model (a linear autoencoder), and so
are genval's :class:`~genval.models.Autoencoder` and
:class:`~genval.models.VariationalAutoencoder`. Two methods are optional:

* ``sample_prior(n, random_state=None)``: ``(n, n_latent)`` draws from the
  model's prior (a VAE's), for the ``vae-prior`` audit strategy;
* ``check_training_data(X)``: raises when ``X`` is not what the model was
  trained on (genval's models record a hash of their training pixels).

This module imports nothing of genval but its errors: every stage may use it.
A model made elsewhere is held to the protocol by
:class:`ForeignModel` (:func:`as_latent_model` wraps it): its codes and pixels
become float64 arrays of the right shapes, and its decoded pixels are clipped
to [0, 1], because nothing bounds a PCA's ``inverse_transform`` (a pixel of
1.3 is ink, of -0.2 blank) and genval's checks and distances read pixel values
as ink levels.
"""

from __future__ import annotations

from numbers import Integral
from typing import Protocol, runtime_checkable

import numpy as np

from genval.errors import NotAModelError, ParameterError, ShapeMismatchError

__all__ = ["ForeignModel", "LatentModel", "PriorModel", "as_latent_model", "check_model", "has_prior",
           "latent_width", "model_kind"]

REQUIRED = ("transform", "inverse_transform", "n_features_in_")


@runtime_checkable
class LatentModel(Protocol):
    """A fitted model that encodes bitmaps and decodes latent points: what genval maps and audits.

    Attributes
    ----------
    n_features_in_ : int
        Pixels per item, as fitted.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from genval import load_dataset
    >>> emojis = load_dataset("emojis")
    >>> isinstance(PCA(2).fit(emojis.X), LatentModel), isinstance(PCA(2), LatentModel)  # fitted, not fitted
    (True, False)
    """

    n_features_in_: int

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Encode ``X`` ``(n, n_features)`` to codes ``(n, n_latent)``."""

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Decode codes ``(n, n_latent)`` to pixels ``(n, n_features)``, ideally in [0, 1]."""


@runtime_checkable
class PriorModel(LatentModel, Protocol):
    """A :class:`LatentModel` with a prior to sample (a VAE): what the ``vae-prior`` strategy needs."""

    def sample_prior(self, n: int, random_state=None) -> np.ndarray:
        """``n`` latent points ``(n, n_latent)`` drawn from the prior."""


def missing(model) -> list[str]:
    """The protocol's required members that ``model`` lacks (an unfitted estimator lacks ``n_features_in_``).

    >>> missing(object())
    ['transform', 'inverse_transform', 'n_features_in_']
    """
    return [name for name in REQUIRED if not hasattr(model, name)
            or (name != "n_features_in_" and not callable(getattr(model, name)))]


def check_model(model, what: str = "the model") -> LatentModel:
    """Return ``model`` if it follows the protocol; else raise naming what it lacks.

    Raises
    ------
    NotAModelError
        For an object without ``transform``, ``inverse_transform`` or
        ``n_features_in_`` (a ``TypeError``).
    ParameterError
        When only ``n_features_in_`` is missing: an estimator never fitted.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> check_model(PCA(2))
    Traceback (most recent call last):
    ...
    genval.errors.ParameterError: the model (a PCA) has no n_features_in_: it is not fitted; fit it on the bitmaps first
    >>> check_model("pca.pkl")
    Traceback (most recent call last):
    ...
    genval.errors.NotAModelError: the model (a str) lacks transform, inverse_transform, n_features_in_: ...
    """
    lacks = missing(model)
    name = type(model).__name__
    name = ("an " if name[:1].lower() in "aeiou" else "a ") + name
    if lacks == ["n_features_in_"]:
        raise ParameterError(f"{what} ({name}) has no n_features_in_: it is not fitted; fit it on the bitmaps first")
    if lacks:
        raise NotAModelError(f"{what} ({name}) lacks {', '.join(lacks)}: a model needs transform(X) -> codes, "
                             "inverse_transform(codes) -> pixels and n_features_in_ (scikit-learn's vocabulary)")
    n = model.n_features_in_
    if not isinstance(n, Integral) or n < 1:
        raise NotAModelError(f"{what} ({name}) has n_features_in_ = {n!r}; expected a positive integer")
    return model


def has_prior(model) -> bool:
    """Whether the model has a prior to sample (``sample_prior``): a VAE.

    >>> from genval import Autoencoder, VariationalAutoencoder
    >>> has_prior(Autoencoder()), has_prior(VariationalAutoencoder())
    (False, True)
    """
    return callable(getattr(model, "sample_prior", None))


def latent_width(model) -> int | None:
    """The model's code width when it says (genval's ``n_latent``, a PCA's ``n_components_``), else None."""
    for name in ("n_latent", "n_components_"):
        width = getattr(model, name, None)
        if isinstance(width, Integral):
            return int(width)
    return None


def model_kind(model) -> str:
    """A model's kind as genval's JSON names it: ``autoencoder``, ``vae``, or a :class:`ForeignModel`'s kind."""
    if isinstance(model, ForeignModel):
        return model.kind
    return "vae" if has_prior(model) else "autoencoder"


class ForeignModel:
    """A model made elsewhere, held to the protocol: float64 arrays of checked shapes, pixels clipped to [0, 1].

    Parameters
    ----------
    estimator : LatentModel
        A fitted model (a scikit-learn PCA, an ONNX pair, a PyTorch module
        behind the three members).
    kind : str
        What it is, as the JSON documents say: ``"pca"``, ``"onnx"`` or ``"python"``.

    Attributes
    ----------
    estimator : LatentModel
    kind : str
    n_features_in_ : int
    n_latent : int or None
        The code width when the estimator says it (``n_components_``).
    layer_sizes_ : tuple of int
        ``(n_features, n_latent, n_features)`` for a PCA (a linear
        autoencoder); empty when the inner layers are unknown.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from genval import load_dataset
    >>> emojis = load_dataset("emojis")
    >>> model = ForeignModel(PCA(2).fit(emojis.X), "pca")
    >>> pixels = model.inverse_transform(model.transform(emojis.X))
    >>> pixels.shape, float(pixels.min()) >= 0, float(pixels.max()) <= 1, model.layer_sizes_
    ((17, 35), True, True, (35, 2, 35))
    """

    def __init__(self, estimator: LatentModel, kind: str = "python"):
        self.estimator = check_model(estimator)
        self.kind = kind
        self.n_features_in_ = int(estimator.n_features_in_)
        self.n_latent = latent_width(estimator)
        self.layer_sizes_ = (self.n_features_in_, self.n_latent, self.n_features_in_) \
            if kind == "pca" and self.n_latent else ()

    def transform(self, X) -> np.ndarray:
        """Codes ``(n, n_latent)`` as float64."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ShapeMismatchError(f"the {self.kind} model encodes items of {self.n_features_in_} pixels, got an "
                                     f"array of shape {X.shape}")
        Z = np.asarray(self._call("transform", X, f"{len(X)} items"), dtype=float)
        if Z.ndim != 2 or len(Z) != len(X):
            raise ParameterError(f"the {self.kind} model's transform returned shape {Z.shape} for {len(X)} items; "
                                 f"expected ({len(X)}, n_latent)")
        if not np.isfinite(Z).all():
            raise ParameterError(f"the {self.kind} model's transform returned NaN or infinite codes")
        return Z

    def inverse_transform(self, Z) -> np.ndarray:
        """Pixels ``(n, n_features)`` as float64, clipped to [0, 1]."""
        Z = np.asarray(Z, dtype=float)
        if Z.ndim != 2 or (self.n_latent is not None and Z.shape[1] != self.n_latent):
            raise ShapeMismatchError(f"the {self.kind} model decodes {self.n_latent or 'n_latent'}-D codes, got an array "
                                     f"of shape {Z.shape}")
        pixels = np.asarray(self._call("inverse_transform", Z, f"{len(Z)} points"), dtype=float)
        if pixels.ndim != 2:  # an image-shaped decoder (n, 1, 28, 28): flattened row by row
            pixels = pixels.reshape(len(pixels), -1)
        if pixels.shape != (len(Z), self.n_features_in_):
            raise ParameterError(f"the {self.kind} model's inverse_transform returned shape {pixels.shape} for "
                                 f"{len(Z)} points; expected ({len(Z)}, {self.n_features_in_})")
        if not np.isfinite(pixels).all():
            raise ParameterError(f"the {self.kind} model's inverse_transform returned NaN or infinite pixels")
        return np.clip(pixels, 0.0, 1.0)

    def _call(self, method: str, array: np.ndarray, what: str):
        """The estimator's method on ``array``; whatever it raises is reported in one line, as a genval error."""
        try:
            return getattr(self.estimator, method)(array)
        except Exception as exc:  # code made elsewhere (onnxruntime, the user's module): one line, not a traceback
            text = " ".join(str(exc).split())
            raise ParameterError(f"the {self.kind} model's {method} failed on {what} of shape {array.shape}: "
                                 f"{type(exc).__name__}: {text}") from exc

    @property
    def sample_prior(self):
        """The estimator's ``sample_prior`` (an AttributeError when it has none, so :func:`has_prior` is False)."""
        return self.estimator.sample_prior

    @property
    def check_training_data(self):
        """The estimator's ``check_training_data``, when it has one."""
        return self.estimator.check_training_data

    def __repr__(self) -> str:
        return f"ForeignModel({self.estimator!r}, kind={self.kind!r})"


def as_latent_model(model, kind: str | None = None) -> LatentModel:
    """A model genval can use: genval's own as it is, any other held to the protocol by :class:`ForeignModel`.

    Parameters
    ----------
    model : LatentModel
    kind : str, optional
        The :class:`ForeignModel`'s kind; default ``"pca"`` for a scikit-learn
        PCA, ``"python"`` for anything else.

    Raises
    ------
    NotAModelError
        For an object that lacks the protocol (the message names what it lacks).
    ParameterError
        For an estimator that is not fitted.
    """
    if isinstance(model, ForeignModel):
        return model
    if getattr(type(model), "_genval_native", False):  # genval's own keep their checks and their file
        return check_model(model)
    check_model(model)
    if kind is None:
        kind = "pca" if type(model).__name__ == "PCA" and type(model).__module__.startswith("sklearn.") else "python"
    return ForeignModel(model, kind)
