"""What both autoencoders share: checks, the training run, inference, and their file and data record.

A subclass (:mod:`genval.models._autoencoder`) only says which code layer it
has. ``fit`` builds a network from the parameters (held to
:data:`genval.models._params.PARAMS`) and runs the one training loop
(:mod:`genval.nn._training`); the model file is :mod:`genval.models._model_file`'s
job, the record of the training data :mod:`genval.models._training_data`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from genval._utils.archive import fingerprint
from genval._utils.files import resolve_rng
from genval.data._noise import make_noise
from genval.errors import ModelFileError, ParameterError
from genval.models._model_file import read_model, write_model
from genval.models._params import check_params
from genval.models._training_data import check_data, titled_array
from genval.nn._activations import make_activation, make_loss
from genval.nn._code_layers import ActivityL1, Contractive, KLSparsity
from genval.nn._network import Network, Params
from genval.nn._optimizers import make_optimizer
from genval.nn._training import Corruption, check_memory, train

__all__: list[str] = []


def store_params(estimator, params: dict) -> None:
    """What a scikit-learn ``__init__`` does: keep every parameter as given, unchecked."""
    for name, value in params.items():
        if name != "self":
            setattr(estimator, name, value)


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
        check_params(self)
        if self.noise_levels:
            make_noise(self.noise)
        make_optimizer(self.optimizer, np.zeros(1), float(self.learning_rate), self.optimizer_options)
        resolve_rng(self.random_state)

    def _network(self, n_features: int) -> Network:
        penalties = [p for p in (ActivityL1(float(self.activity_l1)) if self.activity_l1 else None,
                                 KLSparsity(float(self.sparsity_target), float(self.sparsity_weight))
                                 if self.sparsity_weight else None,
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
        >>> from genval import Autoencoder
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
        return validate_data(self, titled_array(X)[0], reset=reset, dtype=dtype)

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
        X : array-like of shape (n_samples, n_features)
            With ``loss="bce"`` (the default), values in [0, 1]. (A BitmapSet
            is taken for its pixels, and its title recorded.)
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
        X, title = titled_array(X)
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
        self.training_data_ = fingerprint(X, title)
        return self

    def _restore(self, net: Network, params: np.ndarray, loss_curve: list, validation_loss_curve: list | None, *,
                 stopped_early: bool, metadata: dict, training_data: dict | None) -> None:
        """Become the fitted model a file describes (:func:`genval.models._model_file.read_model`)."""
        self._net = net
        self.n_features_in_ = net.layer_sizes[0]
        self.layer_sizes_ = list(net.layer_sizes)
        self.params_ = params
        self.loss_curve_ = loss_curve
        self.validation_loss_curve_ = validation_loss_curve
        self.n_epochs_ = len(loss_curve)
        self.stopped_early_ = stopped_early
        self.metadata_ = metadata
        self.training_data_ = training_data

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
        X : array-like of shape (n_samples, n_features), or a BitmapSet
        title : str, optional
            Names ``X`` in the message; default: a BitmapSet's title, else none.

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
        >>> from genval import Autoencoder, load_dataset
        >>> emojis = load_dataset("emojis")
        >>> model = Autoencoder(epochs=5).fit(emojis.X)
        >>> model.check_training_data(emojis)
        True
        >>> model.check_training_data(1 - emojis.X, title="inverted emojis")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        genval.errors.DataMismatchError: this model was trained on 17 items of 35 pixels (sha256 ...),
        not on inverted emojis (17 items of 35 pixels, sha256 ...); pass --any-data (any_data=True) to use it anyway
        """
        check_is_fitted(self)
        record = getattr(self, "training_data_", None)
        if record is None:
            return False
        X, title = titled_array(X, title)
        dataset = getattr(self, "metadata_", {}).get("dataset")
        check_data(record, record.get("title") or (dataset if isinstance(dataset, str) else ""), X, title)
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
        >>> from genval import Autoencoder, load_dataset, load_model
        >>> emojis = load_dataset("emojis")
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.npz"
        >>> Autoencoder(epochs=5).fit(emojis.X).save(path, metadata={"dataset": "emojis"})
        >>> load_model(path).training_data_["n_items"]
        17
        """
        check_is_fitted(self)
        self.metadata_ = write_model(self, path, metadata, follow_links)

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
        model = read_model(Path(path), _BaseAutoencoder._kinds)
        if not isinstance(model, cls):
            raise ModelFileError(f"{path}: holds a {type(model).__name__!r}, not a {cls.__name__}")
        return model
