"""The network core: dense layers over one flat parameter vector.

A :class:`Network` is ``n_features -> hidden... -> code -> reversed(hidden)...
-> n_features``. Everything that varies between autoencoders is an object the
network holds, never a subclass (:mod:`genval.nn._code_layers`):

* the **code layer** sits between encoder and decoder: :class:`LinearCode`
  (a plain or sparse autoencoder, with an optional code activation) or
  :class:`GaussianCode` (a variational autoencoder: mean and log-variance,
  a reparameterised sample, a KL term);
* **penalties** are small objects applied where they act: :class:`ActivityL1`
  and :class:`KLSparsity` on the code, :class:`Contractive` on the first
  encoder layer;
* the **loss** is computed from the output layer's logits
  (:mod:`genval.nn._activations`).

The arithmetic is written for NumPy's per-call overhead rather than for FLOPs,
since the course's matrices are a few dozen wide:

* every weight and bias lives in one flat vector, so an optimizer updates all
  layers in a handful of calls;
* each layer's bias is the last row of its ``(n_in + 1, n_out)`` weight
  matrix, and a batch is stored feature-major with a constant row of ones
  appended, so one matrix product gives both weight and bias gradients;
* every intermediate array of a batch size is allocated once, in a
  :class:`Workspace`, and written with ``out=``.

Inference (:meth:`Network.encode`, :meth:`Network.decode`) uses plain
sample-major products.
"""

from __future__ import annotations

import numpy as np

from genval._utils.budget import check_allocation
from genval.errors import ParameterError
from genval.nn._activations import Identity

__all__ = ["Network", "Workspace"]

# Rows per chunk of inference (encode, decode, mean_loss).
ROWS = 4096
# Copies of the parameter vector training holds: the float64 start and result, and in the training dtype
# the parameters, their gradient and up to three optimizer buffers (Adam's two moments and a scratch).
_PARAM_COPIES_64, _PARAM_COPIES = 2, 5


class Workspace:
    """Preallocated feature-major arrays for one batch size ``m``.

    ``A[i]`` is layer ``i``'s input with a row of ones appended (for the bias)
    and ``X`` (= ``A[0]`` without it) the batch's inputs; ``Z[i]`` layer ``i``'s
    pre-activations, ``H[i]`` its outputs and ``D[i]`` the gradient of the
    loss with respect to ``Z[i]``; ``Y`` the network's outputs; ``code`` is
    what the code layer keeps between its forward and backward pass.

    Without dropout a hidden layer's output is the next layer's input
    (``H[i]`` is ``A_in[i + 1]``); with dropout ``M[i]`` holds the batch's
    mask, already scaled by ``1 / (1 - dropout)``, and ``A_in[i + 1] = H[i] *
    M[i]``.
    """

    def __init__(self, network: "Network", m: int, dtype):
        shapes, c = network.shapes, network.code_index
        dropout = network.dropout > 0
        self.m = m
        self.A = [np.ones((a, m), dtype) for a, _ in shapes]
        self.A_in = [x[:-1] for x in self.A]
        self.X = self.A_in[0]
        # A hidden output is as wide as the next layer's input (a Gaussian code
        # has half its encoder layer's units).
        self.H = [np.empty_like(x) if dropout else x for x in self.A_in[1:]]
        self.M = [np.empty_like(x) for x in self.A_in[1:]] if dropout else None
        self.Z = [self.H[i] if i == c and network.code.aliased else np.empty((b, m), dtype)
                  for i, (_, b) in enumerate(shapes)]
        self.D = [np.empty((b, m), dtype) for _, b in shapes]
        self.dA = [None] + [np.empty((a - 1, m), dtype) for a, _ in shapes[1:]]
        self.Y = np.empty((shapes[-1][1], m), dtype)
        self.tmp = np.empty((shapes[-1][1], m), dtype)
        self.code = network.code.workspace(m, dtype)
        # One over the number of output values: losses are per-pixel means.
        self.scale = 1.0 / (shapes[-1][1] * m)


class Network:
    """Layer sizes, activations, a code layer, penalties and a loss.

    Parameters
    ----------
    n_features : int
        Input and output width.
    hidden : sequence of int
        Encoder hidden widths; the decoder mirrors them.
    activation : activation object
        Of every hidden layer (see :func:`genval.nn.make_activation`).
    code : LinearCode or GaussianCode
    output : activation object
        Of the output layer.
    loss : loss object
        (see :func:`genval.nn.make_loss`).
    penalties : sequence of ActivityL1, KLSparsity or Contractive
        Each checks that it can act on ``code`` (KLSparsity needs a sigmoid
        code) and raises ParameterError otherwise.
    dropout : float, default 0
        The probability of dropping each hidden unit (code units included) in
        training; inverted dropout, so inference uses every unit unscaled.

    Examples
    --------
    >>> from genval.nn import LinearCode, make_activation, make_loss
    >>> net = Network(35, (25, 15), make_activation("tanh"), LinearCode(2),
    ...               make_activation("sigmoid"), make_loss("bce"))
    >>> net.layer_sizes, net.n_params
    ([35, 25, 15, 2, 15, 25, 35], 2677)
    """

    def __init__(self, n_features: int, hidden, activation, code, output, loss, penalties=(), dropout=0.0):
        hidden = [int(h) for h in hidden]
        encoder = [n_features, *hidden, code.width]
        decoder = [code.n_latent, *hidden[::-1], n_features]
        self.shapes = [(a + 1, b) for a, b in zip(encoder[:-1], encoder[1:])] + \
                      [(a + 1, b) for a, b in zip(decoder[:-1], decoder[1:])]
        self.layer_sizes = [n_features, *hidden, code.n_latent, *hidden[::-1], n_features]
        self.code_index = len(hidden)          # the layer whose output feeds the code
        self.activations = [activation] * len(hidden) + [code] + [activation] * len(hidden)
        self.activation, self.code, self.output, self.loss = activation, code, output, loss
        loss.check_output(output)
        self.code_penalties = [p for p in penalties if p.site == "code"]
        for penalty in self.code_penalties:
            penalty.check_code(code)
        self.first_layer_penalties = [p for p in penalties if p.site == "first_layer"]
        if self.first_layer_penalties and not hidden:
            raise ParameterError("the contractive penalty needs at least one hidden layer")
        self.n_params = sum(a * b for a, b in self.shapes)
        self.dropout = float(dropout)

    def training_bytes(self, batch_rows: int, dtype="float64") -> int:
        """Bytes training holds at once: the parameters' copies and a workspace for ``batch_rows``.

        An estimate from the layer sizes alone, made before anything is
        allocated (see :meth:`check_training_memory`).

        Examples
        --------
        >>> from genval.nn import LinearCode, make_activation, make_loss
        >>> net = Network(35, (25, 15), make_activation("tanh"), LinearCode(2),
        ...               make_activation("sigmoid"), make_loss("bce"))
        >>> net.training_bytes(0, "float32") == 2677 * (2 * 8 + 5 * 4)
        True
        """
        size = np.dtype(dtype).itemsize
        params = self.n_params * (_PARAM_COPIES_64 * 8 + _PARAM_COPIES * size)
        # Per batch row: each layer's input (A), pre-activation, gradient and input gradient (Z, D, dA),
        # dropout's output and mask, the outputs and a scratch row, the gathered rows and the targets.
        per_row = sum(a + 3 * b + (2 * b if self.dropout else 0) for a, b in self.shapes) + 4 * self.layer_sizes[0]
        return params + int(batch_rows) * per_row * size

    def check_training_memory(self, batch_rows: int, dtype="float64") -> None:
        """Refuse a network (or a batch) whose training would exceed the memory budget.

        Raises
        ------
        genval._utils.budget.MemoryBudgetError
            With the network's sizes, the estimate and the budget
            (``GENVAL_MEMORY_BUDGET``).

        Examples
        --------
        >>> from genval.nn import LinearCode, make_activation, make_loss
        >>> net = Network(35, (10**9,), make_activation("tanh"), LinearCode(2),
        ...               make_activation("sigmoid"), make_loss("bce"))
        >>> net.check_training_memory(17, "float32")
        Traceback (most recent call last):
          ...
        genval._utils.budget.MemoryBudgetError: training a 35-1000000000-2-1000000000-35 network (76,000,000,037 parameters) on batches of 17 would need about 3.0 TiB, more than the memory budget of ...; ask for fewer or raise GENVAL_MEMORY_BUDGET
        """
        sizes = "-".join(map(str, self.layer_sizes))
        batches = f" on batches of {int(batch_rows):,}" if batch_rows else ""
        check_allocation(self.training_bytes(batch_rows, dtype),
                         f"training a {sizes} network ({self.n_params:,} parameters){batches}")

    def views(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per-layer ``(n_in + 1, n_out)`` views into ``theta``; the last row is the bias."""
        views, offset = [], 0
        for a, b in self.shapes:
            views.append(theta[offset:offset + a * b].reshape(a, b))
            offset += a * b
        return views

    def init_params(self, rng: np.random.Generator) -> np.ndarray:
        """Weights uniform in +-bound of each layer's activation, biases 0 (float64).

        Raises
        ------
        genval._utils.budget.MemoryBudgetError
            When the parameters alone would not fit the memory budget.
        """
        self.check_training_memory(0)
        theta = np.zeros(self.n_params)
        units = [self.activation] * self.code_index + [Identity()] + \
                [self.activation] * self.code_index + [self.output]
        for W, unit in zip(self.views(theta), units):
            fan_in, fan_out = W.shape[0] - 1, W.shape[1]
            bound = unit.init_bound(fan_in, fan_out)
            W[:-1] = rng.uniform(-bound, bound, size=(fan_in, fan_out))
        return theta

    def workspace(self, m: int, dtype) -> Workspace:
        return Workspace(self, m, dtype)

    def gradient(self, P: "Params", ws: Workspace, T: np.ndarray, rng) -> float:
        """Forward and backward pass on ``ws.X`` against targets ``T`` (features, m).

        Fills ``P.G`` (views into the flat gradient), leaves the outputs in
        ``ws.Y`` and returns the loss (a per-pixel mean, penalties included).
        ``rng`` feeds the code layer's sampling, if it samples.
        """
        A, A_in, Z, H, D, dA, M = ws.A, ws.A_in, ws.Z, ws.H, ws.D, ws.dA, ws.M
        WT, Wx, G = P.WT, P.Wx, P.G
        acts, c, scale = self.activations, self.code_index, ws.scale
        L = len(A)
        extra = 0.0
        for i in range(L - 1):
            np.dot(WT[i], A[i], out=Z[i])
            if i == c:
                extra += self.code.forward(Z[i], H[i], ws.code, rng) * scale
            else:
                acts[i].forward(Z[i], H[i])
            if M is not None:
                self._drop(H[i], M[i], A_in[i + 1], rng)
        np.dot(WT[L - 1], A[L - 1], out=Z[L - 1])
        loss = self.loss.evaluate(Z[L - 1], T, self.output, ws.Y, D[L - 1], ws.tmp, scale)
        delta = D[L - 1]
        for i in range(L - 1, 0, -1):
            np.dot(A[i], delta.T, out=G[i])
            np.dot(Wx[i], delta, out=dA[i])
            if M is not None:
                dA[i] *= M[i - 1]
            if i - 1 == c:
                for penalty in self.code_penalties:
                    extra += penalty.apply(H[i - 1], dA[i], scale)
                delta = self.code.backward(Z[i - 1], H[i - 1], dA[i], D[i - 1], ws.code, scale)
            else:
                delta = acts[i - 1].backward(Z[i - 1], H[i - 1], dA[i], out=D[i - 1])
        dW = []
        for penalty in self.first_layer_penalties:
            value, grad = penalty.apply(acts[0], Z[0], H[0], Wx[0], delta, scale)
            extra += value
            dW.append(grad)
        np.dot(A[0], delta.T, out=G[0])
        for grad in dW:
            G[0][:-1] += grad
        return loss + extra

    def _drop(self, H, M, out, rng) -> None:
        """Inverted dropout: a fresh mask of kept units, scaled by 1 / (1 - p), into ``M``."""
        rng.random(out=M, dtype=M.dtype)
        np.greater_equal(M, self.dropout, out=M)
        M *= 1.0 / (1.0 - self.dropout)
        np.multiply(H, M, out=out)

    # ------------------------------------------------------------ inference

    def _run(self, theta: np.ndarray, X: np.ndarray, layers: range, raw_last: bool = False,
             activate_output: bool = False) -> np.ndarray:
        """Layers ``layers`` on sample-major rows, ``ROWS`` at a time.

        The output layer gives its logits (its activation's outputs when
        ``activate_output``), and the last of ``layers`` its pre-activations
        when ``raw_last``. Working a few thousand rows at a time keeps the
        intermediate arrays in cache: a million points decode twice as fast as
        in one piece, in a fraction of the memory.
        """
        views = self.views(theta)
        width = views[layers[-1]].shape[1] if raw_last or layers[-1] != self.code_index else self.code.n_latent
        dtype = np.result_type(X, theta)
        out = np.empty((len(X), width), dtype)
        # Two buffers a layer, reused by every chunk: fresh arrays of this size
        # are fresh pages, and faulting them in cost more than the products.
        if len(X) == 0:
            return out
        rows = min(ROWS, len(X))
        pre = {i: np.empty((rows, views[i].shape[1]), dtype) for i in layers}
        post = {i: np.empty((rows, views[i].shape[1]), dtype) for i in layers}
        for start in range(0, len(X), rows):
            H = X[start:start + rows]
            m = len(H)
            for i in layers:
                Zi = np.matmul(H, views[i][:-1], out=pre[i][:m])
                Zi += views[i][-1]
                if i == len(views) - 1 and activate_output:
                    H = self.output.forward(Zi, post[i][:m])
                elif (raw_last and i == layers[-1]) or i == len(views) - 1:
                    H = Zi
                elif i == self.code_index:
                    H = self.code.encode(Zi)
                else:
                    H = self.activations[i].forward(Zi, post[i][:m])
            out[start:start + m] = H
        return out

    def encode(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Codes of sample-major ``X``: (n_samples, n_latent)."""
        return self._run(theta, X, range(self.code_index + 1))

    def encoder_output(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """The encoder's last layer before the code (a VAE's mean and log-variance)."""
        return self._run(theta, X, range(self.code_index + 1), raw_last=True)

    def decode_logits(self, theta: np.ndarray, Z: np.ndarray) -> np.ndarray:
        """Output pre-activations from sample-major codes: (n_samples, n_features)."""
        return self._run(theta, Z, range(self.code_index + 1, len(self.shapes)))

    def mean_loss(self, theta: np.ndarray, X: np.ndarray, rows: int = ROWS) -> float:
        """The loss of reconstructing sample-major ``X`` through the codes, per pixel.

        No dropout, no sampling (a VAE decodes its means) and no penalty: the
        loss a held-out set or ``score`` reports. Works ``rows`` at a time.
        """
        if X.size == 0:
            raise ParameterError("the mean loss of no samples is undefined")
        total = 0.0
        for start in range(0, len(X), rows):
            chunk = X[start:start + rows]
            logits = self.decode_logits(theta, self.encode(theta, chunk))
            Y, delta, tmp = np.empty_like(logits), np.empty_like(logits), np.empty_like(logits)
            total += self.loss.evaluate(logits, chunk, self.output, Y, delta, tmp, 1.0)
        return total / X.size

    def decode(self, theta: np.ndarray, Z: np.ndarray) -> np.ndarray:
        """Outputs from sample-major codes: (n_samples, n_features)."""
        return self._run(theta, Z, range(self.code_index + 1, len(self.shapes)), activate_output=True)


class Params:
    """Views of one flat parameter vector and its gradient, made once per fit."""

    def __init__(self, network: Network, theta: np.ndarray, grad: np.ndarray):
        self.W = network.views(theta)
        self.WT = [w.T for w in self.W]
        self.Wx = [w[:-1] for w in self.W]  # weights without the bias row
        self.G = network.views(grad)
