"""Autoencoders as scikit-learn estimators: fit, encode, decode, save.

:class:`Autoencoder` and :class:`VariationalAutoencoder` share everything
but their code layer (:mod:`genval.nn._network`): ``fit`` builds a network from
the parameters and runs the one training loop (:mod:`genval.nn._training`),
``transform`` encodes, ``inverse_transform`` decodes, ``score`` is the
negative mean reconstruction loss, so grid searches and pipelines work
unchanged. A saved model is a ``.npz`` of arrays plus a JSON config, read
back without pickle.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from genval._utils.archive import brief as _brief
from genval._utils.archive import fingerprint as _fingerprint
from genval._utils.archive import is_fingerprint as _is_fingerprint
from genval._utils.archive import is_int as _is_int
from genval._utils.archive import open_archive
from genval._utils.archive import printable as _printable
from genval._utils.files import atomic_write, resolve_rng
from genval.nn._activations import ACTIVATIONS, LOSSES, make_activation, make_loss
from genval.data._bitmaps import BitmapSet
from genval.errors import DataMismatchError, GenvalError, ModelFileError, ParameterError, ShapeMismatchError
from genval.nn._network import ActivityL1, Contractive, GaussianCode, LinearCode, Network, Params
from genval.data._noise import NOISES, make_noise
from genval.nn._optimizers import OPTIMIZERS, make_optimizer
from genval.nn._training import Corruption, check_memory, train

__all__ = ["Autoencoder", "ReconstructionReport", "VariationalAutoencoder", "load_model",
           "reconstruction_report", "wrong_pixels"]

MODEL_FORMAT = "genval-model"
MODEL_VERSION = 1
_DTYPES = ("float32", "float64")



def _is_number(value, low: float, *, strict: bool = False) -> bool:
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        return False
    try:
        value = float(value)
    except OverflowError:  # an integer of hundreds of digits, from a file
        return False
    return math.isfinite(value) and (value > low if strict else value >= low)


def _store_params(estimator, params: dict) -> None:
    """What a scikit-learn ``__init__`` does: keep every parameter as given, unchecked."""
    for name, value in params.items():
        if name != "self":
            setattr(estimator, name, value)


def _as_array(X):
    return X.X if isinstance(X, BitmapSet) else X


class _BaseAutoencoder(TransformerMixin, BaseEstimator):
    """What both autoencoders share; a subclass only says which code layer it has."""

    _kinds: dict[str, type] = {}
    _genval_native = True  # genval.models.as_latent_model uses it as it is, with its checks and its file

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _BaseAutoencoder._kinds[cls.__name__] = cls

    def _code(self):
        raise NotImplementedError

    # ------------------------------------------------------------ checks

    def _validate_params(self) -> None:
        hidden = self.hidden
        if not isinstance(hidden, (tuple, list)) or not all(_is_int(h, 1) for h in hidden):
            raise ParameterError(f"hidden must be a tuple of positive layer widths, got {hidden!r}")
        checks = [
            ("n_latent", _is_int(self.n_latent, 1), "a positive integer"),
            ("learning_rate", _is_number(self.learning_rate, 0, strict=True), "a positive number"),
            ("epochs", _is_int(self.epochs, 1), "a positive integer"),
            ("batch_size", self.batch_size is None or _is_int(self.batch_size, 1), "None or a positive integer"),
            ("stop_wrong_pixels", self.stop_wrong_pixels is None or _is_int(self.stop_wrong_pixels, 0),
             "None or an integer >= 0"),
            ("noise_copies", _is_int(self.noise_copies, 1), "a positive integer"),
            ("activity_l1", _is_number(self.activity_l1, 0), "a number >= 0"),
            ("contractive", _is_number(self.contractive, 0), "a number >= 0"),
            ("dropout", _is_number(self.dropout, 0) and self.dropout < 1, "a number in [0, 1)"),
            ("validation_fraction", _is_number(self.validation_fraction, 0) and self.validation_fraction < 1,
             "a number in [0, 1)"),
            ("dtype", self.dtype in _DTYPES, f"one of {', '.join(_DTYPES)}"),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise ParameterError(f"{name} must be {expected}, got {getattr(self, name)!r}")
        levels = self.noise_levels
        if not isinstance(levels, (tuple, list)) or not all(_is_number(p, 0) and p <= 1 for p in levels):
            raise ParameterError(f"noise_levels must be a tuple of numbers in [0, 1], got {levels!r}")
        if levels:
            make_noise(self.noise)
        make_optimizer(self.optimizer, np.zeros(1), float(self.learning_rate), self.optimizer_options)
        resolve_rng(self.random_state)

    def _network(self, n_features: int) -> Network:
        penalties = [p for p in (ActivityL1(float(self.activity_l1)) if self.activity_l1 else None,
                                 Contractive(float(self.contractive)) if self.contractive else None) if p]
        return Network(n_features, tuple(int(h) for h in self.hidden),
                       make_activation(self.activation, self.activation_param), self._code(),
                       make_activation(self.output_activation), make_loss(self.loss), penalties,
                       dropout=float(self.dropout))

    def check_memory(self, n_samples: int, n_features: int) -> None:
        """Refuse, with the estimate and the budget, a fit of ``n_samples`` x ``n_features`` beyond the memory
        budget, before anything is allocated: the network, a batch, the rows' order (noisy copies included)
        and the loss curves. ``fit`` checks the same; this lets a caller refuse before it starts anything.

        Raises
        ------
        ParameterError
            For a bad parameter.
        genval._utils.budget.MemoryBudgetError
            With the estimate.

        Examples
        --------
        >>> Autoencoder(epochs=10**12).check_memory(17, 35)
        Traceback (most recent call last):
          ...
        genval._utils.budget.MemoryBudgetError: the loss curve of 1,000,000,000,000 epochs would need about 29.1 TiB, ...
        """
        self._validate_params()
        copies = len(self.noise_levels) * int(self.noise_copies) if len(self.noise_levels) else 1
        check_memory(self._network(int(n_features)), int(n_samples) * copies, batch_size=self.batch_size,
                     epochs=int(self.epochs), dtype=self.dtype, validation=bool(self.validation_fraction))

    def _check_X(self, X, *, reset: bool, dtype=np.float64) -> np.ndarray:
        return validate_data(self, _as_array(X), reset=reset, dtype=dtype)

    def _check_Z(self, Z) -> np.ndarray:
        Z = check_array(Z, dtype=self.dtype)
        if Z.shape[1] != self._net.code.n_latent:
            raise ParameterError(f"Z has {Z.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self._net.code.n_latent} latent dimensions as input.")
        return Z

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = self.loss == "bce"
        # Inference runs in the training dtype, whatever the input's.
        tags.transformer_tags.preserves_dtype = [str(self.dtype)]
        return tags

    def _theta(self) -> np.ndarray:
        """The parameters in the training dtype, for inference."""
        return self.params_.astype(self.dtype, copy=False)

    # ------------------------------------------------------------ training

    def fit(self, X, y=None, *, validation_data=None, progress: Callable[[int, float], None] | None = None):
        """Train on ``X`` to reconstruct itself.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or BitmapSet
            With ``loss="bce"`` (the default), values in [0, 1].
        y : ignored
        validation_data : array-like of shape (n_held_out, n_features), optional
            Held-out items whose loss is reported after every epoch
            (``validation_loss_curve_``); default: ``validation_fraction`` of
            ``X``, chosen at random, or none.
        progress : callable, optional
            Called as ``progress(epochs_done, loss)`` about a hundred times
            during training and once at the end (the CLI's progress bar).

        Returns
        -------
        self
            With ``training_data_``, the record of ``X`` that
            :meth:`check_training_data` compares other data with.

        Raises
        ------
        ParameterError
            For a bad parameter (naming it) or bad data (a ``ValueError``).
        TrainingDivergedError
            When the loss becomes NaN or infinite, or rises to ten times its
            first epoch's value; lower ``learning_rate``.
        """
        title = X.title if isinstance(X, BitmapSet) else ""
        # float32 data is trained on in place, not copied to float64 first.
        X = self._check_X(X, reset=True, dtype=(np.float64, np.float32))
        self._validate_params()
        net = self._network(X.shape[1])
        init_rng, shuffle_rng, noise_rng, split_rng = resolve_rng(self.random_state).spawn(4)
        held_out, rows = None, None
        if validation_data is not None:
            held_out = self._check_X(validation_data, reset=False)
        elif self.validation_fraction:
            n_held = int(round(self.validation_fraction * len(X)))
            if not 1 <= n_held < len(X):
                raise ParameterError(f"validation_fraction={self.validation_fraction} of {len(X)} items holds out "
                                     f"{n_held}; it must leave at least one item on each side")
            order = split_rng.permutation(len(X))
            rows, held_out = np.sort(order[n_held:]), X[np.sort(order[:n_held])]
        for data, name in ((X, "X"), (held_out, "validation_data")):
            if data is not None and self.loss == "bce" and (data.min() < 0 or data.max() > 1):
                # "Negative values in data" is the phrase scikit-learn's checks expect.
                found = "Negative values in data" if data.min() < 0 else "Values above 1 in data"
                raise ParameterError(f"{found}: {name} must hold values in [0, 1] for loss='bce'; for other data "
                                     "use loss='mse' with output_activation='identity'")
        levels = tuple(float(p) for p in self.noise_levels)
        corruption = Corruption(make_noise(self.noise), levels, int(self.noise_copies)) if levels else None
        result = train(
            net, X, net.init_params(init_rng),
            lambda theta: make_optimizer(self.optimizer, theta, float(self.learning_rate), self.optimizer_options),
            epochs=int(self.epochs), rows=rows, batch_size=self.batch_size, stop_wrong_pixels=self.stop_wrong_pixels,
            corruption=corruption, validation=held_out, shuffle_rng=shuffle_rng, noise_rng=noise_rng,
            dtype=self.dtype, progress=progress)
        self._net = net
        self.params_ = result.params
        self.loss_curve_ = result.loss_curve
        self.validation_loss_curve_ = result.validation_loss_curve
        self.n_epochs_ = result.n_epochs
        self.stopped_early_ = result.stopped_early
        self.layer_sizes_ = list(net.layer_sizes)
        self.metadata_ = {}
        self.training_data_ = _fingerprint(X, title)
        return self

    def loss_gradient(self, X, T=None, random_state=0) -> tuple[float, np.ndarray]:
        """The training loss at ``params_`` and its gradient, in float64.

        This is the exact computation a training step runs (the tests check it
        against finite differences).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Network inputs.
        T : array-like of the same shape, optional
            Targets; default ``X``.
        random_state : int or Generator
            Seeds a variational autoencoder's sampling, so that two calls see
            the same noise.

        Returns
        -------
        loss : float
        grad : ndarray of shape (n_params,), aligned with ``params_``
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        T = X if T is None else self._check_X(T, reset=False)
        theta = np.array(self.params_, dtype=np.float64)
        grad = np.empty_like(theta)
        ws = self._net.workspace(len(X), np.float64)
        ws.X[...] = X.T
        loss = self._net.gradient(Params(self._net, theta, grad), ws, np.ascontiguousarray(T.T),
                                  resolve_rng(random_state))
        return loss, grad

    # ------------------------------------------------------------ inference

    def transform(self, X) -> np.ndarray:
        """Encode: latent codes of shape (n_samples, n_latent), in the training ``dtype``."""
        check_is_fitted(self)
        return self._net.encode(self._theta(), self._check_X(X, reset=False, dtype=self.dtype))

    def inverse_transform(self, Z) -> np.ndarray:
        """Decode: outputs of shape (n_samples, n_features) from codes (n_samples, n_latent).

        Computed in the training ``dtype`` (float32 by default: two and a half
        times faster than float64 on a large decoder, with the same
        thresholded pixels).
        """
        check_is_fitted(self)
        return self._net.decode(self._theta(), self._check_Z(Z))

    def reconstruct(self, X) -> np.ndarray:
        """Encode then decode: ``inverse_transform(transform(X))``."""
        return self.inverse_transform(self.transform(X))

    def score(self, X, y=None) -> float:
        """Negative mean reconstruction loss per pixel (higher is better).

        The loss of decoding the codes ``transform(X)`` (a VAE's means, with no
        KL term), so ``GridSearchCV`` can rank models without a ``scoring``.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False, dtype=self.dtype)
        return -float(self._net.mean_loss(self._theta(), X))

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, ``(n_in, n_out)`` each (views into ``params_``)."""
        check_is_fitted(self)
        return [W[:-1] for W in self._net.views(self.params_)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, ``(n_out,)`` each (views into ``params_``)."""
        check_is_fitted(self)
        return [W[-1] for W in self._net.views(self.params_)]

    # ------------------------------------------------------------ files

    def check_training_data(self, X, title: str | None = None) -> bool:
        """Refuse bitmaps other than the ones this model was trained on.

        :meth:`fit` records the number of items and a SHA-256 of the pixels
        (``training_data_``); a set with the same number of pixels per item but
        other items would be encoded without complaint, and every map, walk and
        audit built on it would be meaningless.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or BitmapSet
        title : str, optional
            Names ``X`` in the message; default: the set's title.

        Returns
        -------
        bool
            True when ``X`` is the training data; False when the model keeps no
            record of its data (a file saved before genval kept one), so
            nothing could be checked.

        Raises
        ------
        ShapeMismatchError
            When ``X`` has another number of pixels per item.
        DataMismatchError
            When ``X`` has the same number of pixels but other items.

        Examples
        --------
        >>> from genval import load_dataset
        >>> emojis = load_dataset("emojis")
        >>> model = Autoencoder(epochs=5).fit(emojis)
        >>> model.check_training_data(emojis)
        True
        >>> model.check_training_data(1 - emojis.X, title="inverted emojis")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        genval.errors.DataMismatchError: this model was trained on emojis (17 items of 35 pixels, sha256 ...),
        not on inverted emojis (17 items of 35 pixels, sha256 ...); pass --any-data (any_data=True) to use it anyway
        """
        check_is_fitted(self)
        record = getattr(self, "training_data_", None)
        if record is None:
            return False
        if title is None:
            title = X.title if isinstance(X, BitmapSet) else ""
        try:
            X = check_array(_as_array(X), dtype=(np.float64, np.float32))
        except ValueError as exc:
            raise ParameterError(f"X: {exc}") from None
        seen = _fingerprint(X, title)
        dataset = getattr(self, "metadata_", {}).get("dataset")
        trained = record.get("title") or (dataset if isinstance(dataset, str) else "")
        if seen["n_features"] != record["n_features"]:
            raise ShapeMismatchError(f"this model was trained on {_describe(record, trained)}, but "
                                     f"{_describe(seen, title)} has {seen['n_features']} pixels per item; "
                                     "train a model on this set")
        if (seen["n_items"], seen["sha256"]) != (record["n_items"], record["sha256"]):
            # The same set loaded another way (a subset, thresholded) is the usual cause: say how to match it.
            same_set = " (the same set loaded another way? load it as the model was trained: the same --limit, " \
                "--binarize, --shape)" if title and title == trained else ""
            raise DataMismatchError(f"this model was trained on {_describe(record, trained)}, not on "
                                    f"{_describe(seen, title)}{same_set}; pass --any-data (any_data=True) to use it "
                                    "anyway")
        return True

    def save(self, path, metadata: dict | None = None, *, follow_links: bool = True) -> None:
        """Write the model as ``.npz`` arrays plus a JSON config (no pickle).

        The file is written to a temporary name and renamed, so a failure never
        leaves a half-written model behind; a new file gets the permissions of
        any new file (the umask decides), a read-only one is refused.

        Parameters
        ----------
        path : str or path
        metadata : dict, optional
            JSON-serializable facts to keep with the model (the CLI stores the
            dataset name and bitmap shape); read back as ``metadata_``.
        follow_links : bool, default True
            False in a folder others may write (the cache): a link at ``path``
            is replaced, never followed into a file genval did not create.

        Raises
        ------
        ParameterError
            For metadata that is not a JSON object.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from genval import load_dataset
        >>> emojis = load_dataset("emojis")
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.npz"
        >>> Autoencoder(epochs=5).fit(emojis).save(path, metadata={"dataset": "emojis"})
        >>> load_model(path).training_data_["n_items"]
        17
        """
        check_is_fitted(self)
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()
                  if k != "random_state" or isinstance(v, (int, type(None)))}
        if metadata is not None and not isinstance(metadata, dict):
            raise ParameterError(f"metadata must be a dict, got {type(metadata).__name__}")
        config = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "kind": type(self).__name__,
                  "params": params, "layer_sizes": self.layer_sizes_, "n_epochs": self.n_epochs_,
                  "stopped_early": bool(self.stopped_early_),
                  "metadata": metadata or {}}
        if getattr(self, "training_data_", None) is not None:
            config["training_data"] = self.training_data_
        try:
            text = json.dumps(config)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"metadata must be JSON-serializable: {exc}") from None
        with atomic_write(path, follow_links=follow_links) as fh:
            extra = ({} if self.validation_loss_curve_ is None else
                     {"validation_loss_curve": np.asarray(self.validation_loss_curve_, dtype=float)})
            np.savez(fh, config=np.array(text), params=self.params_,
                     loss_curve=np.asarray(self.loss_curve_, dtype=float), **extra)
        self.metadata_ = dict(config["metadata"])

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save` (of this class or a subclass).

        A model file is untrusted input: the zip's directory, the JSON config
        (every key's type and range) and every array's header (dtype, shape
        against the config's layer sizes, size against the file's real size
        and the memory budget, see :mod:`genval._utils.budget`) are checked before
        any array is read. Files saved before genval recorded the training
        data load with ``training_data_ = None``.

        Raises
        ------
        ModelFileError
            One line naming the file and what was wrong: missing, not a zip,
            truncated, not a genval model, a config key of the wrong type or
            range, an array of the wrong dtype or shape, NaN weights, more
            memory than the budget, or another kind of model.
        """
        path = Path(path)
        with open_archive(path, _MEMBERS, "model") as archive:
            config = archive.config(MODEL_FORMAT, MODEL_VERSION)
            archive.require(_REQUIRED)
            model, net, n_epochs = _model_from_config(path, config)
            if not isinstance(model, cls):
                raise ModelFileError(f"{path}: holds a {type(model).__name__!r}, not a {cls.__name__}")
            # The weights are read, then copied to float64.
            params = archive.array("params", (net.n_params,), "parameters do not match its layer sizes",
                                   extra=8 * net.n_params)
            curve = archive.array("loss_curve", (n_epochs,), "loss_curve does not have one value per epoch")
            n_epochs = len(curve)
            validation = (archive.array("validation_loss_curve", (n_epochs,),
                                        "validation_loss_curve does not have one value per epoch")
                          if archive.has("validation_loss_curve") else None)
        if not np.isfinite(params).all():
            raise ModelFileError(f"{path}: damaged genval model (its weights contain NaN or infinity)")
        with np.errstate(over="ignore"):  # the model runs in its dtype: a weight must be finite there too
            overflows = not np.isfinite(params.astype(model.dtype)).all()
        if overflows:
            raise ModelFileError(f"{path}: damaged genval model (a weight of {np.abs(params).max():.3g} is past "
                                 f"the {model.dtype} range it runs in; expected finite {model.dtype} weights)")
        for name, values in (("loss_curve", curve), ("validation_loss_curve", validation)):
            if values is not None and not np.isfinite(values).all():
                raise ModelFileError(f"{path}: damaged genval model ({name} contains NaN or infinity)")
        model._net = net
        model.n_features_in_ = net.layer_sizes[0]
        model.layer_sizes_ = list(net.layer_sizes)
        model.params_ = params.astype(np.float64)
        model.loss_curve_ = curve.astype(float).tolist()
        model.validation_loss_curve_ = None if validation is None else validation.astype(float).tolist()
        model.n_epochs_ = n_epochs
        model.stopped_early_ = bool(config.get("stopped_early", n_epochs < model.epochs))
        model.metadata_ = dict(config.get("metadata", {}))
        record = config.get("training_data")
        model.training_data_ = None if record is None else dict(record)
        return model


_PARAMETERS_DOC = """
    hidden : tuple of int, default (25, 15)
        Encoder hidden layer widths; the decoder mirrors them.
    n_latent : int, default 2
        Width of the latent space.
    activation : str, default "tanh"
        Hidden activation: "sigmoid", "tanh", "relu", "leaky_relu", "elu",
        "identity".
    activation_param : float, optional
        Its shape parameter: ``beta`` in ``tanh(beta*x)``, the leaky slope,
        ELU's alpha. None keeps the usual default.
    output_activation : str, default "sigmoid"
        Output activation; sigmoid keeps pixels in (0, 1).
    loss : {"bce", "mse"}, default "bce"
        Binary cross-entropy (computed from the logits; needs a sigmoid
        output and data in [0, 1]) or squared error, averaged over every
        pixel. For real-valued data use ``loss="mse"`` with
        ``output_activation="identity"``.
    optimizer : {"adam", "gd", "momentum", "adaptive"}, default "adam"
    learning_rate : float, default 0.004
        The step size. Rule of thumb: 0.004 for Adam on sets of a few dozen
        bitmaps (0.01 is faster but less reliable); plain gradient descent on
        the per-pixel mean loss wants 1 or more.
    optimizer_options : dict, optional
        Extra optimizer settings, e.g. ``{"momentum": 0.8}``; see
        :func:`genval.nn.make_optimizer`.
    epochs : int, default 10000
        Passes over the data (the upper bound when stopping early).
    batch_size : int, optional
        None trains on the full batch each epoch when an epoch has at most
        4,096 rows (noisy copies included), and on mini-batches of 256 beyond
        (an MNIST-sized set); 1 is online learning; any other size draws
        shuffled mini-batches each epoch.
    stop_wrong_pixels : int, optional
        Stop after the first epoch in which every item was reconstructed with
        at most this many wrong pixels (output thresholded at 0.5).
    noise : {"flip", "gaussian", "image_gaussian"}, default "flip"
        The noise of a denoising autoencoder (see :mod:`genval.data._noise`): bit
        flips with probability p, Gaussian noise of standard deviation p, or
        Gaussian noise with each image's own mean and spread, times p.
    noise_levels : tuple of float, default ()
        Train as a denoising autoencoder on every level at once (the course
        trained on 0, 0.10, 0.15 and 0.20 together): each epoch sees every item
        once per level (times ``noise_copies``), with fresh noise, and learns to
        give back the clean item. Empty: a plain autoencoder.
    noise_copies : int, default 1
        Noisy copies of every item per level and epoch.
    activity_l1 : float, default 0
        Weight of an L1 penalty on the code (the sparse autoencoder).
    contractive : float, default 0
        Weight of the contractive penalty, the squared Frobenius norm of the
        first encoder layer's Jacobian ``dh/dx``.
    dropout : float, default 0
        Probability of dropping each hidden unit (the code's too) during
        training (inverted dropout: inference uses every unit).
    validation_fraction : float, default 0
        Share of the items held out (chosen at random) to report
        ``validation_loss_curve_``; ``fit(X, validation_data=V)`` gives the
        held-out set explicitly instead.
    dtype : {"float32", "float64"}, default "float32"
        Precision of the arithmetic, in training and in inference
        (``transform``, ``inverse_transform``, ``score``); ``params_`` is kept
        in float64.
    random_state : int, numpy Generator or None, default 0
        Seeds weight initialisation, shuffling and noise (separate streams)."""

_ATTRIBUTES_DOC = """
    params_ : ndarray of shape (n_params,)
        Every weight and bias.
    layer_sizes_ : list of int
        ``[n_features, *hidden, n_latent, *reversed(hidden), n_features]``.
    loss_curve_ : list of float
        The mean loss of each finished epoch (``len(loss_curve_) == n_epochs_``).
    validation_loss_curve_ : list of float or None
        The held-out reconstruction loss after each epoch (no dropout, a VAE's
        means), or None without a held-out set.
    n_epochs_ : int
        Epochs trained (fewer than ``epochs`` when stopped early).
    stopped_early_ : bool
    n_features_in_ : int
    metadata_ : dict
        Facts saved with the model (see :meth:`save`); empty after ``fit``.
    training_data_ : dict or None
        What ``fit`` was given: ``n_items``, ``n_features``, ``title`` (of a
        BitmapSet, else "") and ``sha256``, the SHA-256 of the pixels as
        little-endian float32, row after row (so float32 and float64 copies of
        a set hash alike); see :meth:`check_training_data`. None for a model
        loaded from a file saved before genval kept this record."""


class Autoencoder(_BaseAutoencoder):
    __doc__ = f"""A dense autoencoder with a small latent space, in the scikit-learn style.

    Parameters
    ----------{_PARAMETERS_DOC}
    code_activation : str, default "identity"
        Activation of the latent code (e.g. "relu" for a rectified code).

    Attributes
    ----------{_ATTRIBUTES_DOC}

    Examples
    --------
    >>> from genval import load_dataset
    >>> emojis = load_dataset("emojis")
    >>> ae = Autoencoder(stop_wrong_pixels=0).fit(emojis.X)
    >>> ae.transform(emojis.X).shape
    (17, 2)
    >>> int(wrong_pixels(ae, emojis.X).max())
    0
    """

    def __init__(self, hidden: tuple[int, ...] = (25, 15), n_latent: int = 2, activation: str = "tanh",
                 activation_param: float | None = None, output_activation: str = "sigmoid", loss: str = "bce",
                 optimizer: str = "adam", learning_rate: float = 0.004, optimizer_options: dict | None = None,
                 epochs: int = 10_000, batch_size: int | None = None, stop_wrong_pixels: int | None = None,
                 noise: str = "flip", noise_levels: tuple[float, ...] = (), noise_copies: int = 1,
                 activity_l1: float = 0.0, contractive: float = 0.0, dropout: float = 0.0,
                 validation_fraction: float = 0.0, dtype: str = "float32", random_state=0,
                 code_activation: str = "identity"):
        _store_params(self, locals())

    def _code(self) -> LinearCode:
        return LinearCode(int(self.n_latent), make_activation(self.code_activation))


class VariationalAutoencoder(_BaseAutoencoder):
    __doc__ = f"""A variational autoencoder in the scikit-learn style.

    The same network as :class:`Autoencoder` with a Gaussian code
    (:class:`genval.nn.GaussianCode`): the encoder gives a mean and a
    log-variance, training decodes a sample of them and adds ``beta`` times the
    KL divergence from N(0, I), per pixel like the loss. ``transform`` gives
    the means, so a VAE works everywhere an autoencoder does: maps, walks,
    audits; :meth:`sample_prior` draws from the prior.

    Parameters
    ----------{_PARAMETERS_DOC}
    beta : float, default 1.0
        Weight of the KL term (beta-VAE); 0 trains a noisy plain autoencoder.

    Attributes
    ----------{_ATTRIBUTES_DOC}

    Examples
    --------
    >>> from genval import load_dataset
    >>> emojis = load_dataset("emojis")
    >>> vae = VariationalAutoencoder(beta=0.5, epochs=2000).fit(emojis.X)
    >>> vae.transform(emojis.X).shape, vae.sample_prior(4, random_state=0).shape
    ((17, 2), (4, 2))
    """

    def __init__(self, hidden: tuple[int, ...] = (25, 15), n_latent: int = 2, activation: str = "tanh",
                 activation_param: float | None = None, output_activation: str = "sigmoid", loss: str = "bce",
                 optimizer: str = "adam", learning_rate: float = 0.004, optimizer_options: dict | None = None,
                 epochs: int = 10_000, batch_size: int | None = None, stop_wrong_pixels: int | None = None,
                 noise: str = "flip", noise_levels: tuple[float, ...] = (), noise_copies: int = 1,
                 activity_l1: float = 0.0, contractive: float = 0.0, dropout: float = 0.0,
                 validation_fraction: float = 0.0, dtype: str = "float32", random_state=0,
                 beta: float = 1.0):
        _store_params(self, locals())

    def _code(self) -> GaussianCode:
        if not _is_number(self.beta, 0):
            raise ParameterError(f"beta must be a number >= 0, got {self.beta!r}")
        return GaussianCode(int(self.n_latent), float(self.beta))

    def encode(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and log-variances, each (n_samples, n_latent)."""
        check_is_fitted(self)
        out = self._net.encoder_output(self._theta(), self._check_X(X, reset=False, dtype=self.dtype))
        k = self._net.code.n_latent
        return out[:, :k], out[:, k:]

    def sample_prior(self, n: int, random_state=None) -> np.ndarray:
        """``n`` latent points from the prior N(0, I), shape (n, n_latent)."""
        return resolve_rng(random_state).standard_normal((n, int(self.n_latent)))


def load_model(path) -> _BaseAutoencoder:
    """Load any genval model file, plain or variational (see :meth:`Autoencoder.load`)."""
    return _BaseAutoencoder.load(path)


# ------------------------------------------------------------ the training data's record


def _describe(record: dict, title: str) -> str:
    """``font (32 items of 35 pixels, sha256 1a2b3c4d5e6f)``; untitled, ``32 items of 35 pixels (sha256 ...)``."""
    sizes, digest = f"{record['n_items']} items of {record['n_features']} pixels", f"sha256 {record['sha256'][:12]}"
    return f"{_printable(title)} ({sizes}, {digest})" if title else f"{sizes} ({digest})"


# ------------------------------------------------------------ model files
#
# A model file is untrusted input. The zip's directory is checked first (a
# model has at most four members), then the JSON config (its size against the
# budget, then every key's type and range), then each array's header: its
# dtype, its shape against the config's layer sizes, its size against the
# member's real size and the memory budget. Only then are bytes read, exactly
# as many as the header announced, so no file can make genval allocate more
# than the budget or read forever.

_MEMBERS = ("config", "params", "loss_curve", "validation_loss_curve")
_REQUIRED = ("config", "params", "loss_curve")
_MAX_WIDTH = 2**24  # units in one layer: a 4096 x 4096 bitmap
_MAX_LAYERS = 32  # hidden layers of the encoder
_MAX_INT = 2**63 - 1
_KEYS = ("format", "version", "kind", "params", "layer_sizes", "n_epochs", "stopped_early", "metadata",
         "training_data")
def _name_in(names) -> tuple[Callable, str]:
    return (lambda v: isinstance(v, str) and v in names), "one of " + ", ".join(names)


def _number(low: float, high: float = math.inf, *, strict: bool = False, below: bool = False) -> Callable:
    return lambda v: _is_number(v, low, strict=strict) and (float(v) < high if below else float(v) <= high)


def _none_or(rule: tuple[Callable, str]) -> tuple[Callable, str]:
    return (lambda v: v is None or rule[0](v)), "null or " + rule[1]


def _option_value(v) -> bool:
    return v is None or isinstance(v, bool) or _is_number(v, -math.inf)


_WIDTHS = f"[1, {_MAX_WIDTH}]"
# The type and range of every parameter a model file may hold; _validate_params and the network then apply
# the rules between them (a loss and its output activation, the contractive penalty and hidden layers).
_PARAM_RULES: dict[str, tuple[Callable, str]] = {
    "hidden": (lambda v: isinstance(v, list) and len(v) <= _MAX_LAYERS and all(_is_int(h, 1, _MAX_WIDTH) for h in v),
               f"a list of at most {_MAX_LAYERS} layer widths in {_WIDTHS}"),
    "n_latent": (lambda v: _is_int(v, 1, _MAX_WIDTH), f"an integer in {_WIDTHS}"),
    "activation": _name_in(ACTIVATIONS),
    "activation_param": _none_or((_number(0, strict=True), "a positive number")),
    "output_activation": _name_in(ACTIVATIONS),
    "code_activation": _name_in(ACTIVATIONS),
    "loss": _name_in(LOSSES),
    "optimizer": _name_in(OPTIMIZERS),
    "learning_rate": (_number(0, strict=True), "a positive number"),
    "optimizer_options": _none_or((lambda v: isinstance(v, dict) and len(v) <= 8
                                   and all(_option_value(x) for x in v.values()),
                                   "an object of at most 8 numbers or booleans")),
    "epochs": (lambda v: _is_int(v, 1, _MAX_INT), "a positive integer"),
    "batch_size": _none_or((lambda v: _is_int(v, 1, _MAX_INT), "a positive integer")),
    "stop_wrong_pixels": _none_or((lambda v: _is_int(v, 0, _MAX_INT), "an integer >= 0")),
    "noise": _name_in(NOISES),
    "noise_levels": (lambda v: isinstance(v, list) and len(v) <= 64 and all(_number(0, 1)(p) for p in v),
                     "a list of at most 64 numbers in [0, 1]"),
    "noise_copies": (lambda v: _is_int(v, 1, 2**31 - 1), "a positive integer"),
    "activity_l1": (_number(0), "a number >= 0"),
    "contractive": (_number(0), "a number >= 0"),
    "dropout": (_number(0, 1, below=True), "a number in [0, 1)"),
    "validation_fraction": (_number(0, 1, below=True), "a number in [0, 1)"),
    "dtype": _name_in(_DTYPES),
    "random_state": _none_or((lambda v: _is_int(v, 0, 2**128), "an integer >= 0")),
    "beta": (_number(0), "a number >= 0"),
}


def _check_key(path: Path, where: str, value, rule: tuple[Callable, str]) -> None:
    check, expected = rule
    if not check(value):
        raise ModelFileError(f"{path}: damaged genval model config ({where} must be {expected}, got {_brief(value)})")


def _model_from_config(path: Path, config: dict) -> tuple[_BaseAutoencoder, Network, int | None]:
    """An unfitted model and its network from a checked config, and the epochs it trained (None: not said)."""
    def bad(where, expected):
        return ModelFileError(f"{path}: damaged genval model config ({where} {expected})")

    unknown = [k for k in config if k not in _KEYS]
    if unknown:
        raise bad(f"key {_brief(unknown[0], 40)}", f"is not a model setting; expected {', '.join(_KEYS)}")
    for key in ("kind", "params", "layer_sizes"):
        if key not in config:
            raise bad(key, "is missing")
    _check_key(path, "kind", config["kind"], _name_in(tuple(_BaseAutoencoder._kinds)))
    kind = _BaseAutoencoder._kinds[config["kind"]]
    params = config["params"]
    _check_key(path, "params", params, (lambda v: isinstance(v, dict), "an object of parameters"))
    names = kind._get_param_names()
    for name, value in params.items():
        if name not in names:
            raise bad(f"params.{_brief(name, 40)}", f"is not a parameter of {kind.__name__}")
        _check_key(path, f"params.{name}", value, _PARAM_RULES[name])
    sizes = config["layer_sizes"]
    _check_key(path, "layer_sizes", sizes,
               (lambda v: isinstance(v, list) and 3 <= len(v) <= 2 * _MAX_LAYERS + 3
                and all(_is_int(n, 1, _MAX_WIDTH) for n in v),
                f"a list of 3 to {2 * _MAX_LAYERS + 3} widths in {_WIDTHS}"))
    try:
        model = kind(**{k: tuple(v) if k in ("hidden", "noise_levels") else v for k, v in params.items()})
        model._validate_params()
        net = model._network(sizes[0])
    except (GenvalError, TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"{path}: damaged genval model config ({_brief(exc, 200)})") from None
    if net.layer_sizes != sizes:
        raise bad("layer_sizes", f"{_brief(sizes, 60)} do not match its parameters, which give {net.layer_sizes}")
    n_epochs = config.get("n_epochs")
    if "n_epochs" in config:
        _check_key(path, "n_epochs", n_epochs,
                   (lambda v: _is_int(v, 1, model.epochs), f"an integer in [1, {model.epochs}] (the epochs)"))
    if "stopped_early" in config:
        _check_key(path, "stopped_early", config["stopped_early"], (lambda v: isinstance(v, bool), "true or false"))
    if "metadata" in config:
        _check_key(path, "metadata", config["metadata"], (lambda v: isinstance(v, dict), "an object"))
    record = config.get("training_data")
    if record is not None:
        _check_key(path, "training_data", record, (
            lambda v: _is_fingerprint(v, sizes[0]),
            f"an object of n_items (>= 1), n_features ({sizes[0]}), a printable title and a sha256 (64 hex digits)"))
    return model, net, n_epochs


def wrong_pixels(model: _BaseAutoencoder, X, T=None) -> np.ndarray:
    """Wrong pixels per item after reconstructing ``X`` and thresholding at 0.5.

    Parameters
    ----------
    model : fitted Autoencoder or VariationalAutoencoder
    X : array-like of shape (n_samples, n_features) or BitmapSet
    T : array-like, optional
        Targets to compare with (default ``X``; a denoiser compares noisy
        inputs with clean targets).

    Returns
    -------
    ndarray of int, shape (n_samples,)
    """
    X = np.asarray(_as_array(X), dtype=float)
    T = X if T is None else np.asarray(_as_array(T), dtype=float)
    if T.shape != X.shape:
        raise ParameterError(f"T has shape {T.shape}, but X has shape {X.shape}")
    return ((model.reconstruct(X) > 0.5) != (T > 0.5)).sum(axis=1)


@dataclass(frozen=True)
class ReconstructionReport:
    """How well a model reconstructs a bitmap set.

    Attributes
    ----------
    names : tuple of str
    wrong_pixels : tuple of int
        Per item, pixels that differ after thresholding at 0.5.
    perfect : int
        Items with no wrong pixel.
    within_one : int
        Items with at most one wrong pixel.
    """

    names: tuple[str, ...]
    wrong_pixels: tuple[int, ...]

    @property
    def perfect(self) -> int:
        return sum(w == 0 for w in self.wrong_pixels)

    @property
    def within_one(self) -> int:
        return sum(w <= 1 for w in self.wrong_pixels)

    def to_dict(self) -> dict:
        return {
            "items": [{"name": n, "wrong_pixels": w} for n, w in zip(self.names, self.wrong_pixels)],
            "perfect": self.perfect,
            "within_one": self.within_one,
        }


def reconstruction_report(model: _BaseAutoencoder, bitmaps: BitmapSet) -> ReconstructionReport:
    """Wrong pixels of every item of ``bitmaps`` (see :func:`wrong_pixels`).

    Examples
    --------
    >>> from genval import load_dataset
    >>> font = load_dataset("font")
    >>> report = reconstruction_report(Autoencoder(stop_wrong_pixels=0).fit(font), font)
    >>> report.perfect
    32
    """
    return ReconstructionReport(bitmaps.names, tuple(int(w) for w in wrong_pixels(model, bitmaps.X)))
