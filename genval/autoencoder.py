"""A small dense autoencoder in NumPy, tuned for tiny bitmap sets.

The network is ``n_features -> hidden... -> n_latent -> reversed(hidden)... ->
n_features``; the latent layer is linear. Training is where genval spends its
time, so the training loop is written for NumPy's per-call overhead rather
than for FLOPs (the matrices are a few dozen wide):

* every weight and bias lives in one flat vector (``params_``), so the
  optimizer updates all layers in a handful of calls;
* each layer's bias is the last row of its weight matrix, and activations are
  stored feature-major with a constant row of ones appended, so one matrix
  product gives both the weight and bias gradients;
* every intermediate array is preallocated once per batch size and written
  with ``out=``.

Inference (``transform``, ``inverse_transform``) uses plain sample-major
products.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from genval._estimator import ParamsMixin, atomic_write, read_npz, resolve_rng
from genval.activations import BinaryCrossEntropy, Identity, Sigmoid, Tanh, make_activation, make_loss
from genval.bitmaps import BitmapSet
from genval.errors import ModelFileError, TrainingDivergedError
from genval.noise import make_noise
from genval.optimizers import make_optimizer

__all__ = ["Autoencoder", "ReconstructionReport", "load_model", "reconstruction_report", "wrong_pixels"]

MODEL_FORMAT = "genval-model"
MODEL_VERSION = 1
# How often (in epochs) early stopping looks at the reconstructions.
_CHECK_EVERY = 10


def _check_X(X, n_features: int | None = None, what: str = "X") -> np.ndarray:
    if isinstance(X, BitmapSet):
        X = X.X
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{what} must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{what} holds no samples")
    if not np.isfinite(X).all():
        raise ValueError(f"{what} holds NaN or infinite values")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{what} has {X.shape[1]} features per sample, but the model expects {n_features}")
    return X


class _Workspace:
    """Preallocated feature-major buffers (and their views) for one batch size ``m``.

    ``shapes`` are the layers' ``(n_in + 1, n_out)``; ``alias[i]`` lets a
    linear layer write its output straight into the next layer's input.
    """

    def __init__(self, shapes: list[tuple[int, int]], m: int, alias: list[bool], dtype):
        L = len(shapes)
        # A[i] is layer i's input with a row of ones appended (for the bias).
        self.A = [np.ones((a, m), dtype) for a, _ in shapes]
        self.A_in = [x[:-1] for x in self.A]
        self.Z = [self.A_in[i + 1] if i < L - 1 and alias[i] else np.empty((b, m), dtype)
                  for i, (_, b) in enumerate(shapes)]
        self.D = [np.empty((b, m), dtype) for _, b in shapes]  # dLoss/dZ
        self.dA = [None] + [np.empty((a - 1, m), dtype) for a, _ in shapes[1:]]  # dLoss/dA_in[i]
        self.Y = np.empty((shapes[-1][1], m), dtype)
        self.tmp = np.empty((shapes[-1][1], m), dtype)
        self.size = shapes[-1][1] * m
        self.L = L


class _Params:
    """Views of one flat parameter vector and its gradient, made once per fit."""

    def __init__(self, model: "Autoencoder", theta: np.ndarray, grad: np.ndarray):
        self.W = model._views(theta)
        self.WT = [w.T for w in self.W]
        self.Wx = [w[:-1] for w in self.W]  # weights without the bias row
        self.G = model._views(grad)


class Autoencoder(ParamsMixin):
    """A dense autoencoder with a small latent space, in the scikit-learn style.

    Parameters
    ----------
    hidden : tuple of int, default (25, 15)
        Encoder hidden layer widths; the decoder mirrors them.
    n_latent : int, default 2
        Width of the (linear) latent layer.
    activation : str, default "tanh"
        Hidden activation: "sigmoid", "tanh", "relu", "leaky_relu", "elu",
        "identity".
    activation_param : float, optional
        Its shape parameter: ``beta`` in ``tanh(beta*x)``, the leaky slope,
        ELU's alpha. None keeps the usual default.
    output_activation : str, default "sigmoid"
        Output activation; sigmoid keeps pixels in (0, 1).
    loss : {"bce", "mse"}, default "bce"
        Binary cross-entropy or squared error, averaged over every pixel.
    optimizer : {"adam", "gd", "momentum", "adaptive"}, default "adam"
    learning_rate : float, default 0.004
        The step size. Rule of thumb: 0.004 for Adam on sets of a few dozen
        bitmaps (0.01 is faster but less reliable); plain gradient descent on
        the per-pixel mean loss wants 1 or more.
    optimizer_options : dict, optional
        Extra optimizer settings, e.g. ``{"momentum": 0.8}``; see
        :func:`genval.optimizers.make_optimizer`.
    epochs : int, default 10000
        Passes over the data (the upper bound when stopping early).
    batch_size : int, optional
        None trains on the full batch each epoch; 1 is online learning; any
        other size draws shuffled mini-batches each epoch.
    stop_wrong_pixels : int, optional
        Stop as soon as every item is reconstructed with at most this many
        wrong pixels (output thresholded at 0.5). Checked every 10 epochs.
    noise : {"flip", "gaussian"}, default "flip"
        The noise of a denoising autoencoder (see :mod:`genval.noise`): bit
        flips with probability p, or Gaussian noise of standard deviation p.
    noise_levels : tuple of float, default ()
        Train as a denoising autoencoder on every level at once (the course
        trained on 0, 0.10, 0.15 and 0.20 together): each epoch sees every item
        once per level (times ``noise_copies``), with fresh noise, and learns to
        give back the clean item. Empty: a plain autoencoder.
    noise_copies : int, default 1
        Noisy copies of every item per level and epoch.
    activity_l1 : float, default 0
        Weight of an L1 penalty on the code (the latent layer's activations),
        the sparse autoencoder of the course's lecture.
    contractive : float, default 0
        Weight of the contractive penalty, the squared Frobenius norm of the
        first encoder layer's Jacobian ``dh/dx`` (tanh or sigmoid units).
    dtype : {"float32", "float64"}, default "float32"
        Precision of the training arithmetic (a fifth faster in float32; the
        learned ``params_`` and all inference are float64 either way).
    random_state : int, numpy Generator or None, default 0
        Seeds weight initialisation and shuffling (separate streams).

    Attributes
    ----------
    params_ : ndarray of shape (n_params,)
        Every weight and bias.
    layer_sizes_ : list of int
        ``[n_features, *hidden, n_latent, *reversed(hidden), n_features]``.
    loss_curve_ : list of float
        Loss at the start of each epoch (``loss_curve_[-1]`` is the final one).
    n_epochs_ : int
        Epochs trained (fewer than ``epochs`` when stopped early).
    n_features_in_ : int
    metadata_ : dict
        Facts saved with the model (see :meth:`save`); empty after ``fit``.

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

    def __init__(
        self,
        hidden: tuple[int, ...] = (25, 15),
        n_latent: int = 2,
        activation: str = "tanh",
        activation_param: float | None = None,
        output_activation: str = "sigmoid",
        loss: str = "bce",
        optimizer: str = "adam",
        learning_rate: float = 0.004,
        optimizer_options: dict | None = None,
        epochs: int = 10_000,
        batch_size: int | None = None,
        stop_wrong_pixels: int | None = None,
        noise: str = "flip",
        noise_levels: tuple[float, ...] = (),
        noise_copies: int = 1,
        activity_l1: float = 0.0,
        contractive: float = 0.0,
        dtype: str = "float32",
        random_state=0,
    ):
        self.hidden = hidden
        self.n_latent = n_latent
        self.activation = activation
        self.activation_param = activation_param
        self.output_activation = output_activation
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.optimizer_options = optimizer_options
        self.epochs = epochs
        self.batch_size = batch_size
        self.stop_wrong_pixels = stop_wrong_pixels
        self.noise = noise
        self.noise_levels = noise_levels
        self.noise_copies = noise_copies
        self.activity_l1 = activity_l1
        self.contractive = contractive
        self.dtype = dtype
        self.random_state = random_state

    # ------------------------------------------------------------------ structure

    def _validate_params(self) -> None:
        hidden = tuple(self.hidden)
        if not all(isinstance(h, (int, np.integer)) and h >= 1 for h in hidden):
            raise ValueError(f"hidden must be positive layer widths, got {self.hidden!r}")
        if not isinstance(self.n_latent, (int, np.integer)) or self.n_latent < 1:
            raise ValueError(f"n_latent must be a positive integer, got {self.n_latent!r}")
        if not (isinstance(self.learning_rate, (int, float)) and math.isfinite(self.learning_rate)
                and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if not isinstance(self.epochs, (int, np.integer)) or self.epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {self.epochs!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, (int, np.integer))
                                            or self.batch_size < 1):
            raise ValueError(f"batch_size must be None or a positive integer, got {self.batch_size!r}")
        if self.stop_wrong_pixels is not None and (
                not isinstance(self.stop_wrong_pixels, (int, np.integer)) or self.stop_wrong_pixels < 0):
            raise ValueError(f"stop_wrong_pixels must be None or an integer >= 0, got {self.stop_wrong_pixels!r}")
        make_loss(self.loss)
        make_activation(self.activation, self.activation_param)
        make_activation(self.output_activation)
        make_optimizer(self.optimizer, np.zeros(1), float(self.learning_rate), self.optimizer_options)
        levels = tuple(self.noise_levels)
        if not all(isinstance(p, (int, float)) and 0 <= p <= 1 for p in levels):
            raise ValueError(f"noise_levels must be numbers in [0, 1], got {self.noise_levels!r}")
        if levels:
            make_noise(self.noise)
        if not isinstance(self.noise_copies, (int, np.integer)) or self.noise_copies < 1:
            raise ValueError(f"noise_copies must be a positive integer, got {self.noise_copies!r}")
        for name in ("activity_l1", "contractive"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if self.contractive and self.activation not in ("tanh", "sigmoid"):
            raise ValueError(f"the contractive penalty needs tanh or sigmoid units, got {self.activation!r}")
        if self.contractive and not self.hidden:
            raise ValueError("the contractive penalty needs at least one hidden layer")
        if str(self.dtype) not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")

    def _build(self, n_features: int) -> None:
        """Set the layer sizes and activations (no weights)."""
        self.n_features_in_ = n_features
        hidden = [int(h) for h in self.hidden]
        self.layer_sizes_ = [n_features, *hidden, int(self.n_latent), *hidden[::-1], n_features]
        act = make_activation(self.activation, self.activation_param)
        n_enc = len(hidden) + 1
        self._acts = [act] * len(hidden) + [Identity()] + [act] * len(hidden)
        self._linear = [isinstance(a, Identity) for a in self._acts]
        self._out_act = make_activation(self.output_activation)
        self._loss = make_loss(self.loss)
        # sigmoid + cross-entropy has a cheap exact gradient from the logits.
        self._fused_output = (type(self._out_act) is Sigmoid and self._out_act.beta == 1.0
                              and type(self._loss) is BinaryCrossEntropy)
        self._n_encoder_layers = n_enc
        self._code_layer = n_enc - 1
        self._alias = list(self._linear)
        self._shapes = self._layer_shapes()

    def _layer_shapes(self) -> list[tuple[int, int]]:
        """``(n_in + 1, n_out)`` of every layer, encoder then decoder."""
        return [(a + 1, b) for a, b in zip(self.layer_sizes_[:-1], self.layer_sizes_[1:])]

    def _views(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per-layer ``(n_in + 1, n_out)`` views into ``theta``; the last row is the bias."""
        views, offset = [], 0
        for a, b in self._shapes:
            views.append(theta[offset:offset + a * b].reshape(a, b))
            offset += a * b
        return views

    def _init_params(self, rng: np.random.Generator) -> np.ndarray:
        theta = np.zeros(sum(a * b for a, b in self._shapes))
        relu_like = self.activation in ("relu", "leaky_relu", "elu")
        for W, act in zip(self._views(theta), [*self._acts, self._out_act]):
            fan_in, fan_out = W.shape[0] - 1, W.shape[1]
            # Glorot for saturating units, He for rectifiers; biases start at 0.
            bound = math.sqrt(6.0 / fan_in) if relu_like and not isinstance(act, (Identity, Sigmoid)) \
                else math.sqrt(6.0 / (fan_in + fan_out))
            W[:-1] = rng.uniform(-bound, bound, size=(fan_in, fan_out))
        return theta

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, ``(n_in, n_out)`` each (views into ``params_``)."""
        return [W[:-1] for W in self._views(self.params_)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, ``(n_out,)`` each (views into ``params_``)."""
        return [W[-1] for W in self._views(self.params_)]

    # ------------------------------------------------------------------ training

    def _gradient(self, ws: _Workspace, P: _Params, T: np.ndarray) -> float:
        """Forward and backward pass on ``ws.A[0]`` against targets ``T`` (features, m).

        Fills ``P.G`` (views into the flat gradient) and returns the loss.
        """
        A, A_in, Z, D, dA = ws.A, ws.A_in, ws.Z, ws.D, ws.dA
        WT, Wx, G = P.WT, P.Wx, P.G
        L = ws.L
        acts, alias, code = self._acts, self._alias, self._code_layer
        extra = 0.0
        for i in range(L - 1):
            np.dot(WT[i], A[i], out=Z[i])
            if i == code:
                extra += self._code_forward(ws)
            elif not alias[i]:
                acts[i].forward(Z[i], A_in[i + 1])
        z = Z[L - 1]
        np.dot(WT[L - 1], A[L - 1], out=z)
        delta = D[L - 1]
        if self._fused_output:
            # sigmoid + cross-entropy from the logits: loss = softplus(z) - T z,
            # dLoss/dz = sigmoid(z) - T. exp/log1p is far cheaper than logaddexp.
            E, S = ws.Y, ws.tmp
            np.exp(z, out=E)
            np.log1p(E, out=S)
            loss = (np.add.reduce(S, axis=None) - np.vdot(T, z)) / ws.size
            np.add(E, 1.0, out=S)
            np.divide(E, S, out=E)  # E is now sigmoid(z)
            np.subtract(E, T, out=delta)
            delta *= 1.0 / ws.size
        else:
            Y = self._out_act.forward(z, ws.Y)
            loss = self._loss.value(Y, T)
            self._loss.gradient(Y, T, out=ws.tmp)
            self._out_act.backward(z, Y, ws.tmp, out=delta)
        for i in range(L - 1, 0, -1):
            np.dot(A[i], delta.T, out=G[i])
            np.dot(Wx[i], delta, out=dA[i])
            if i - 1 == code:
                delta = self._code_backward(ws, dA[i])
            else:
                delta = acts[i - 1].backward(Z[i - 1], A_in[i], dA[i], out=D[i - 1])
        if self.contractive:
            extra += self._contractive(ws, P, delta)
        np.dot(A[0], delta.T, out=G[0])
        if self.contractive:
            G[0][:-1] += ws.contractive_w
        return float(loss) + extra

    # The code layer (the encoder's output) and the penalties. A plain
    # autoencoder's code is linear and aliased, so by default nothing happens
    # there unless the L1 activity penalty is on.

    def _code_forward(self, ws: _Workspace) -> float:
        if not self.activity_l1:
            return 0.0
        code = ws.A_in[self._code_layer + 1]
        return self.activity_l1 * float(np.abs(code).sum()) / ws.size

    def _code_backward(self, ws: _Workspace, d_code: np.ndarray) -> np.ndarray:
        if self.activity_l1:
            d_code += np.sign(ws.A_in[self._code_layer + 1]) * (self.activity_l1 / ws.size)
        return d_code

    def _contractive(self, ws: _Workspace, P: _Params, delta0: np.ndarray) -> float:
        """Add the contractive penalty of the first encoder layer; return its value.

        ``||dh/dx||_F^2 = sum_j f'(z_j)^2 ||W_:j||^2`` per sample (Rifai et al., 2011),
        weighted by ``contractive`` and averaged like the loss. ``delta0`` (the
        first layer's dLoss/dz) gets its gradient in place; the weight gradient
        is left in ``ws.contractive_w`` for after the weight product.
        """
        act = self._acts[0]
        h = ws.A_in[1]
        beta = getattr(act, "beta", 1.0)
        if isinstance(act, Tanh):
            fp = beta * (1.0 - h * h)                           # f'(z)
            dfp = -2.0 * beta * beta * h * (1.0 - h * h)        # d f'(z) / dz
        else:  # sigmoid, checked in _validate_params
            fp = beta * h * (1.0 - h)
            dfp = beta * beta * h * (1.0 - h) * (1.0 - 2.0 * h)
        col = (P.Wx[0] * P.Wx[0]).sum(axis=0)[:, None]          # ||W_:j||^2, (n_hidden, 1)
        scale = self.contractive / ws.size
        delta0 += scale * 2.0 * fp * dfp * col
        ws.contractive_w = scale * 2.0 * P.Wx[0] * (fp * fp).sum(axis=1)[None, :]
        return scale * float((fp * fp * col).sum())

    def fit(self, X, y=None, *, progress: Callable[[int, float], None] | None = None) -> "Autoencoder":
        """Train on ``X`` to reconstruct itself.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or BitmapSet
            Pixels in [0, 1].
        y : ignored
        progress : callable, optional
            Called as ``progress(epochs_done, loss)`` about a hundred times
            during training and once at the end (the CLI's progress bar).

        Returns
        -------
        self

        Raises
        ------
        TrainingDivergedError
            When the loss becomes NaN or infinite; lower ``learning_rate``.
        """
        X = _check_X(X)
        corrupt = None
        levels = tuple(float(p) for p in self.noise_levels)
        if levels:
            self._validate_params()
            copies = len(levels) * int(self.noise_copies)
            noise = make_noise(self.noise)
            per_column = np.repeat(levels, len(X) * int(self.noise_copies))[None, :]

            def corrupt(A, idx=None):
                noise(A, per_column if idx is None else per_column[:, idx], self._noise_rng, out=A)

            X = np.tile(X, (copies, 1))
        # A diverging run overflows on its way to NaN; _check_finite reports it.
        with np.errstate(over="ignore", invalid="ignore"):
            return self._fit(X, X, progress, corrupt)

    def _fit(self, X_in: np.ndarray, T: np.ndarray, progress, corrupt=None) -> "Autoencoder":
        """Train on inputs ``X_in`` against targets ``T``.

        ``corrupt(A)``, when given, overwrites a feature-major batch of inputs
        in place with a fresh noisy version every time it is used.
        """
        self._validate_params()
        if T.min() < 0 or T.max() > 1:
            raise ValueError("X must hold pixel values in [0, 1]")
        n, d = X_in.shape
        self._build(d)
        rng = resolve_rng(self.random_state)
        init_rng, shuffle_rng, self._noise_rng = rng.spawn(3)
        dtype = np.dtype(str(self.dtype))
        theta = self._init_params(init_rng).astype(dtype)
        grad = np.empty_like(theta)
        P = _Params(self, theta, grad)
        opt = make_optimizer(self.optimizer, theta, float(self.learning_rate), self.optimizer_options)

        XT, TT = np.ascontiguousarray(X_in.T, dtype), np.ascontiguousarray(T.T, dtype)
        Tb = TT > 0.5
        batch = n if self.batch_size is None else min(int(self.batch_size), n)
        stop = self.stop_wrong_pixels
        report_every = max(1, self.epochs // 100)
        curve: list[float] = []
        self.stopped_early_ = False
        epoch = 0

        if batch == n:
            ws = _Workspace(self._shapes, n, self._alias, dtype)
            ws.A_in[0][...] = XT
            for epoch in range(self.epochs):
                if corrupt is not None:
                    np.copyto(ws.A_in[0], XT)
                    corrupt(ws.A_in[0])
                loss = self._gradient(ws, P, TT)
                self._check_finite(loss, epoch, opt)
                curve.append(loss)
                if stop is not None and epoch % _CHECK_EVERY == 0 and \
                        self._max_wrong(ws.Z[-1] if self._fused_output else ws.Y, Tb, logits=self._fused_output) <= stop:
                    self.stopped_early_ = True
                    break
                opt.step(theta, grad, loss)
                if progress is not None and epoch % report_every == 0:
                    progress(epoch + 1, loss)
            else:
                epoch = self.epochs
        else:
            spaces: dict[int, _Workspace] = {}
            starts = range(0, n, batch)
            for epoch in range(self.epochs):
                if stop is not None and epoch % _CHECK_EVERY == 0:
                    self.params_ = theta.astype(np.float64)
                    if wrong_pixels(self, X_in, T).max() <= stop:
                        self.stopped_early_ = True
                        break
                order = shuffle_rng.permutation(n)
                total = 0.0
                for s in starts:
                    idx = order[s:s + batch]
                    ws = spaces.get(len(idx)) or spaces.setdefault(
                        len(idx), _Workspace(self._shapes, len(idx), self._alias, dtype))
                    np.take(XT, idx, axis=1, out=ws.A_in[0])
                    if corrupt is not None:
                        corrupt(ws.A_in[0], idx)
                    target = np.take(TT, idx, axis=1)
                    loss = self._gradient(ws, P, target)
                    self._check_finite(loss, epoch, opt)
                    total += loss * len(idx)
                    opt.step(theta, grad, loss)
                curve.append(total / n)
                if progress is not None and epoch % report_every == 0:
                    progress(epoch + 1, curve[-1])
            else:
                epoch = self.epochs
        self.params_ = theta.astype(np.float64)
        self.metadata_ = {}
        self.loss_curve_ = curve
        self.n_epochs_ = epoch
        if progress is not None:
            progress(self.n_epochs_, curve[-1])
        return self

    def loss_gradient(self, X, T=None, random_state=0) -> tuple[float, np.ndarray]:
        """The training loss at ``params_`` and its gradient, in float64.

        This is the exact computation a training step runs (the tests check
        it against finite differences).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Network inputs.
        T : array-like of the same shape, optional
            Targets; default ``X``.
        random_state : int
            Seeds the sampling a variational autoencoder does, so that two calls
            see the same noise.

        Returns
        -------
        loss : float
        grad : ndarray of shape (n_params,), aligned with ``params_``
        """
        self._check_fitted()
        X = _check_X(X, self.n_features_in_)
        T = X if T is None else _check_X(T, self.n_features_in_, what="T")
        theta = np.array(self.params_, dtype=np.float64)
        grad = np.empty_like(theta)
        ws = _Workspace(self._shapes, len(X), self._alias, np.float64)
        ws.A_in[0][...] = X.T
        self._noise_rng = resolve_rng(random_state)
        loss = self._gradient(ws, _Params(self, theta, grad), np.ascontiguousarray(T.T))
        return loss, grad

    @staticmethod
    def _max_wrong(out: np.ndarray, Tb: np.ndarray, logits: bool) -> int:
        ink = out > (0.0 if logits else 0.5)
        return int(np.not_equal(ink, Tb).sum(axis=0).max())

    @staticmethod
    def _check_finite(loss: float, epoch: int, opt) -> None:
        if not math.isfinite(loss):
            raise TrainingDivergedError(
                f"training diverged at epoch {epoch}: the loss became {loss}; "
                f"try a learning rate below {opt.learning_rate:g}"
            )

    # ------------------------------------------------------------------ inference

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet; call fit(X) first")

    def _run(self, H: np.ndarray, layers: range) -> np.ndarray:
        views = self._views(self.params_)
        acts = [*self._acts, self._out_act]
        for i in layers:
            Zi = H @ views[i][:-1]
            Zi += views[i][-1]
            H = acts[i].forward(Zi, np.empty_like(Zi))
        return H

    def transform(self, X) -> np.ndarray:
        """Encode: latent codes of shape (n_samples, n_latent)."""
        self._check_fitted()
        X = _check_X(X, self.n_features_in_)
        return self._run(X, range(self._n_encoder_layers))

    def inverse_transform(self, Z) -> np.ndarray:
        """Decode: pixels of shape (n_samples, n_features) from latent codes."""
        self._check_fitted()
        Z = _check_X(Z, int(self.n_latent), what="Z")
        return self._run(Z, range(self._n_encoder_layers, len(self._shapes)))

    def reconstruct(self, X) -> np.ndarray:
        """Encode then decode: ``inverse_transform(transform(X))``."""
        return self.inverse_transform(self.transform(X))

    def fit_transform(self, X, y=None, **fit_params) -> np.ndarray:
        """Fit, then return the latent codes of ``X``."""
        return self.fit(X, **fit_params).transform(X)

    # ------------------------------------------------------------------ files

    def save(self, path, metadata: dict | None = None) -> None:
        """Write the model as ``.npz`` arrays plus a JSON config (no pickle).

        The file is written to a temporary name and renamed, so a failure never
        leaves a half-written model behind.

        Parameters
        ----------
        path : str or path
        metadata : dict, optional
            JSON-serializable facts to keep with the model (the CLI stores the
            dataset name and bitmap shape); read back as ``metadata_``.
        """
        self._check_fitted()
        config = {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "kind": type(self).__name__,
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()
                       if k != "random_state" or isinstance(v, (int, type(None)))},
            "layer_sizes": self.layer_sizes_,
            "n_epochs": self.n_epochs_,
            "metadata": metadata or {},
        }
        with atomic_write(path) as fh:
            np.savez(fh, config=np.array(json.dumps(config)), params=self.params_,
                     loss_curve=np.asarray(self.loss_curve_, dtype=float))
        self.metadata_ = dict(config["metadata"])

    @classmethod
    def load(cls, path) -> "Autoencoder":
        """Read a model written by :meth:`save`.

        Raises
        ------
        ModelFileError
            When the file is missing, truncated, not a genval model, or damaged.
        """
        config, arrays = read_npz(path, ("params", "loss_curve"), MODEL_FORMAT, MODEL_VERSION, "model")
        params = dict(config["params"])
        for name in ("hidden", "noise_levels"):  # JSON has lists; the parameters are tuples
            if isinstance(params.get(name), list):
                params[name] = tuple(params[name])
        kind = _model_classes().get(config.get("kind"))
        if kind is None or not issubclass(kind, cls):
            raise ModelFileError(f"{path}: holds a {config.get('kind')!r}, not a {cls.__name__}")
        try:
            model = kind(**params)
            model._build(int(config["layer_sizes"][0]))
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            raise ModelFileError(f"{path}: damaged genval model config ({exc})") from None
        if model.layer_sizes_ != config["layer_sizes"] or arrays["params"].shape != (
                sum(a * b for a, b in model._shapes),):
            raise ModelFileError(f"{path}: damaged genval model (parameters do not match its layer sizes)")
        model.params_ = arrays["params"].astype(np.float64)
        model.loss_curve_ = arrays["loss_curve"].tolist()
        model.n_epochs_ = int(config.get("n_epochs", len(model.loss_curve_)))
        model.metadata_ = dict(config.get("metadata", {}))
        return model


def _model_classes() -> dict:
    from genval.vae import VariationalAutoencoder  # vae builds on this module

    return {"Autoencoder": Autoencoder, "VariationalAutoencoder": VariationalAutoencoder}


def load_model(path) -> Autoencoder:
    """Load any genval model file, plain or variational (see :meth:`Autoencoder.load`)."""
    return Autoencoder.load(path)


def wrong_pixels(model: Autoencoder, X, T=None) -> np.ndarray:
    """Wrong pixels per item after reconstructing ``X`` and thresholding at 0.5.

    Parameters
    ----------
    model : fitted Autoencoder
    X : array-like of shape (n_samples, n_features) or BitmapSet
    T : array-like, optional
        Targets to compare with (default ``X``; a denoiser compares noisy
        inputs with clean targets).

    Returns
    -------
    ndarray of int, shape (n_samples,)
    """
    X = _check_X(X, getattr(model, "n_features_in_", None))
    T = X if T is None else _check_X(T, X.shape[1], what="T")
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


def reconstruction_report(model: Autoencoder, bitmaps: BitmapSet) -> ReconstructionReport:
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
