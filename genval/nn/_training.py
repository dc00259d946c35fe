"""The training loop: one loop for full batches, mini-batches and denoising.

:func:`train` runs an optimizer over a :class:`~genval.nn.Network`. The
full batch is simply one batch. Each epoch visits every training row once,
in shuffled mini-batches (in a fixed order when one batch holds them all, so
``batch_size=None`` and ``batch_size=n_rows`` give the same model), and adds
one entry to the loss curve, so the curve has exactly one value per epoch.

Early stopping needs no second pass over the data: it counts the wrong pixels
of the outputs each forward pass produced anyway. When the epoch's counts are
within the tolerance, training ends before the epoch's last step, so with a
full batch the model returned is exactly the model checked (and its loss is
``loss_curve[-1]``); with mini-batches the other batches were checked a few
steps earlier.

A denoising autoencoder trains on ``len(levels) * copies`` rows per item: row
``r`` is item ``r % n`` at noise level ``levels[r // (n * copies)]``, drawn
afresh every time the row is used. Rows are indices into the clean data, which
is never tiled.

A run that ends where it started has failed quietly: :func:`stall_reason`
holds its final loss to the trivial model's (a decoder that outputs every
pixel's mean over the training rows) and to its first epoch's
(:mod:`genval.nn._stall`), and :func:`train` logs a warning (logger
``genval.nn._stall``) for a run that stalled.

Small networks run with one BLAS thread: on a busy 2-core machine, two
OpenBLAS threads fighting over products a few dozen wide made a course network
15x slower. Set ``GENVAL_BLAS_THREADS`` to a number to override the choice
(or to ``0`` to leave BLAS alone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from genval._utils.budget import blas_limit, check_allocation
from genval.errors import ParameterError, TrainingDivergedError
from genval.nn._network import Network, Params
from genval.nn._stall import log, stall_reason, trivial_loss

__all__ = ["TRAINING_REVISION", "Corruption", "TrainingResult", "batch_rows", "check_memory", "train"]

# Raised whenever the same settings and seed train a different model, so that
# cached default models trained by an older loop are trained again.
TRAINING_REVISION = 2

# Steps below this many multiply-adds (parameters x batch rows) run on one BLAS
# thread. The standard denoiser (27M per step) trains 20% slower on one thread
# of a quiet 2-core machine, but 10x slower on two threads of a busy one; an
# MNIST network with batches of 256 (270M) gains from every core.
# batch_size=None: the full batch up to this many rows per epoch (the course's
# sets, their noisy copies, the digits), mini-batches of AUTO_BATCH beyond (an
# MNIST-sized set would need gigabytes of workspace for one batch).
FULL_BATCH_ROWS = 4096
AUTO_BATCH = 256
# An epoch whose loss is this many times the first epoch's has diverged: healthy
# runs on the course's sets stay below 3x, a learning rate of 10 reaches 80x to 1e10x.
_BLOWUP = 10.0
# A loss curve's entry: a float object (24 bytes) and the list's pointer to it.
_CURVE_BYTES_PER_EPOCH = 32


@dataclass(frozen=True)
class Corruption:
    """The noise of a denoising autoencoder.

    Attributes
    ----------
    noise : callable
        ``noise(X, p, rng, out)`` from :mod:`genval.data._noise`.
    levels : tuple of float
        Every level trains at once.
    copies : int
        Noisy rows per item and level in each epoch.
    """

    noise: Callable
    levels: tuple[float, ...]
    copies: int = 1


@dataclass(frozen=True)
class TrainingResult:
    """What :func:`train` learned.

    Attributes
    ----------
    params : ndarray of shape (n_params,), float64
    loss_curve : list of float
        The mean loss of each finished epoch; ``len(loss_curve) == n_epochs``.
    n_epochs : int
    stopped_early : bool
    validation_loss_curve : list of float or None
        The held-out loss after each epoch, when there is a held-out set.
    stalled : str or None
        Why the run stalled (:func:`stall_reason`), or None.
    """

    params: np.ndarray
    loss_curve: list[float]
    n_epochs: int
    stopped_early: bool
    validation_loss_curve: list[float] | None = None
    stalled: str | None = None


def batch_rows(n_rows: int, batch_size: int | None) -> int:
    """Rows per step for ``n_rows`` training rows: ``batch_size`` (at most every row), or by default
    the full batch up to ``FULL_BATCH_ROWS`` rows and ``AUTO_BATCH`` beyond.

    Examples
    --------
    >>> batch_rows(32, None), batch_rows(60_000, None), batch_rows(32, 1000)
    (32, 256, 32)
    """
    if batch_size is None:
        return n_rows if n_rows <= FULL_BATCH_ROWS else AUTO_BATCH
    return min(int(batch_size), n_rows)


def check_memory(network: Network, n_rows: int, *, batch_size: int | None, epochs: int, dtype="float32",
                 validation: bool = False) -> None:
    """Refuse, before anything is allocated, a run that would exceed the memory budget.

    What a run holds at once is the network's parameters with their
    gradient and optimizer state, a workspace for one batch, the order of
    the rows (denoising copies included), and the loss
    curves, one Python float per epoch (twice with a validation curve).
    Past that a long run holds nothing more: it shows its progress and stops
    on Ctrl-C like any other.

    Raises
    ------
    genval._utils.budget.MemoryBudgetError
        With the estimate and the budget (``GENVAL_MEMORY_BUDGET``).

    Examples
    --------
    >>> from genval.nn import LinearCode, make_activation, make_loss
    >>> net = Network(35, (25, 15), make_activation("tanh"), LinearCode(2),
    ...               make_activation("sigmoid"), make_loss("bce"))
    >>> check_memory(net, 17, batch_size=None, epochs=10_000)
    >>> check_memory(net, 17, batch_size=None, epochs=10**12)
    Traceback (most recent call last):
      ...
    genval._utils.budget.MemoryBudgetError: the loss curve of 1,000,000,000,000 epochs would need about 29.1 TiB, ...
    """
    network.check_training_memory(batch_rows(n_rows, batch_size), dtype)
    # The epoch's order of rows (denoising copies included) and its shuffled copy, as int64.
    check_allocation(16 * int(n_rows), f"the order of {int(n_rows):,} training rows")
    check_allocation(_CURVE_BYTES_PER_EPOCH * (2 if validation else 1) * int(epochs),
                     f"the loss curve of {int(epochs):,} epochs")


def train(network: Network, X: np.ndarray, theta: np.ndarray, optimizer, *, epochs: int,
          rows: np.ndarray | None = None,
          batch_size: int | None = None, stop_wrong_pixels: int | None = None,
          corruption: Corruption | None = None, validation: np.ndarray | None = None,
          shuffle_rng: np.random.Generator,
          noise_rng: np.random.Generator, dtype="float32",
          progress: Callable[[int, float], None] | None = None) -> TrainingResult:
    """Train ``network`` to reconstruct the rows of ``X``.

    Parameters
    ----------
    network : Network
    X : ndarray of shape (n_samples, n_features)
        Clean training data (also the targets), used in place when it is
        already of ``dtype``.
    rows : ndarray of int, optional
        The rows of ``X`` to train on (default all): a held-out split costs
        no copy of the data.
    theta : ndarray of shape (n_params,)
        Starting parameters; not modified.
    optimizer : callable
        ``optimizer(theta)`` returns an object with ``step(theta, grad, loss)``
        and a ``learning_rate`` (see :func:`genval.nn.make_optimizer`).
    epochs : int
        The most epochs to train.
    batch_size : int, optional
        Rows per step; at least the number of rows is the full batch. None is
        the full batch up to ``FULL_BATCH_ROWS`` (4,096) rows per epoch and
        mini-batches of ``AUTO_BATCH`` (256) beyond.
    stop_wrong_pixels : int, optional
        Stop after the first epoch in which every row's output, thresholded at
        0.5, differs from its target in at most this many pixels (that
        epoch's last step is not taken).
    corruption : Corruption, optional
        Train a denoising autoencoder.
    validation : ndarray of shape (n_held_out, n_features), optional
        Held-out items whose loss (:meth:`Network.mean_loss`) is measured
        after every epoch.
    shuffle_rng, noise_rng : numpy Generator
        The streams for batch order and for noise (and a VAE's sampling).
    dtype : {"float32", "float64"}
        Precision of the arithmetic.
    progress : callable, optional
        Called as ``progress(epochs_done, loss)`` about a hundred times.

    Returns
    -------
    TrainingResult

    Raises
    ------
    TrainingDivergedError
        When the loss becomes NaN or infinite, or an epoch's loss is more than
        ten times the first epoch's.

    A run that did not stop early and stalled (:func:`genval.nn._stall.stall_reason`)
    logs a warning and says why in ``TrainingResult.stalled``.
    """
    dtype = np.dtype(dtype)
    feed = _Feed(network, X, rows, corruption, dtype)
    n_rows = feed.n_rows
    batch = batch_rows(n_rows, batch_size)
    fixed = batch == n_rows  # one batch: no shuffling, and the clean rows never change
    if int(epochs) < 1:
        raise ParameterError(f"epochs must be a positive integer, got {epochs!r}")
    check_memory(network, n_rows, batch_size=batch_size, epochs=epochs, dtype=dtype,
                 validation=validation is not None)
    steps = _Steps(network, feed, theta.astype(dtype), optimizer, batch, stop_wrong_pixels, noise_rng)
    held_out = None if validation is None else np.asarray(validation, dtype=dtype)
    with blas_limit(network.n_params * batch), np.errstate(over="ignore", invalid="ignore"):
        curve, validation_curve, stopped = steps.run(epochs, fixed, shuffle_rng, held_out, progress)
    if progress is not None:
        progress(len(curve), curve[-1])
    stalled = None if stopped else stall_reason(curve, *trivial_loss(network, X, rows))
    if stalled is not None:
        log.warning(stalled)
    return TrainingResult(steps.theta.astype(np.float64), curve, len(curve), stopped, validation_curve, stalled)


class _Feed:
    """The training rows as batches: gathered into one workspace per batch size, noisy when denoising.

    Batches are gathered from sample-major rows (a contiguous copy per row,
    then one transpose into the feature-major workspace): gathering columns
    of a feature-major copy was 9x slower at MNIST's size, and needed the copy.
    """

    def __init__(self, network: Network, X: np.ndarray, rows: np.ndarray | None, corruption: Corruption | None,
                 dtype: np.dtype):
        self.network, self.corruption, self.dtype = network, corruption, dtype
        self.rows = np.arange(len(X)) if rows is None else np.asarray(rows)
        self.n = len(self.rows)
        self.copies = 1 if corruption is None else len(corruption.levels) * corruption.copies
        self.n_rows = self.n * self.copies
        self.data = np.asarray(X, dtype=dtype)
        self.level_of_block = None if corruption is None else np.repeat(
            np.asarray(corruption.levels, dtype=dtype), corruption.copies)
        self.spaces: dict[int, tuple] = {}

    def space(self, m: int) -> tuple:
        """A workspace for ``m`` rows, where its clean targets live, and a buffer to gather rows into.

        The targets are the inputs themselves, unless noise is written over the inputs.
        """
        if m not in self.spaces:
            ws = self.network.workspace(m, self.dtype)
            T = ws.X if self.corruption is None else np.empty_like(ws.X)
            self.spaces[m] = (ws, T, np.empty((m, self.data.shape[1]), self.dtype))
        return self.spaces[m]

    def load(self, idx: np.ndarray, refresh: bool, noise_rng: np.random.Generator) -> tuple:
        """The workspace and targets of the training rows ``idx``; the clean rows are gathered when ``refresh``."""
        ws, T, gathered = self.space(len(idx))
        if refresh:
            np.take(self.data, self.rows[idx % self.n if self.copies > 1 else idx], axis=0, out=gathered)
            np.copyto(T, gathered.T)
        if self.corruption is not None:
            levels = self.level_of_block[idx // self.n][None, :]
            self.corruption.noise(T, levels, noise_rng, out=ws.X, axis=0)
        return ws, T


class _Steps:
    """The optimizer's steps over one epoch's batches, with the divergence and early-stopping checks."""

    def __init__(self, network: Network, feed: _Feed, theta: np.ndarray, optimizer, batch: int,
                 stop_wrong_pixels: int | None, noise_rng: np.random.Generator):
        self.network, self.feed, self.theta, self.batch = network, feed, theta, batch
        self.stop_wrong_pixels, self.noise_rng = stop_wrong_pixels, noise_rng
        self.grad = np.empty_like(theta)
        self.params = Params(network, theta, self.grad)
        self.opt = optimizer(theta)
        self.rate = self.opt.learning_rate  # the hint names the rate the user set, not one an optimizer adapted
        self.starts = range(0, feed.n_rows, batch)

    def run(self, epochs: int, fixed: bool, shuffle_rng: np.random.Generator, held_out: np.ndarray | None,
            progress: Callable[[int, float], None] | None) -> tuple[list[float], list[float] | None, bool]:
        """Up to ``epochs`` epochs: the loss curve, the held-out loss curve and whether the early stop was reached."""
        n_rows = self.feed.n_rows
        report_every = max(1, epochs // 100)
        curve: list[float] = []
        validation_curve: list[float] | None = None if held_out is None else []
        in_order = np.arange(n_rows)
        for epoch in range(epochs):
            order = in_order if fixed else shuffle_rng.permutation(n_rows)
            total, stopped = self.epoch(order, epoch, refresh=not fixed or epoch == 0)
            curve.append(total / n_rows)
            if held_out is not None:
                validation_curve.append(self.network.mean_loss(self.theta, held_out))
            if curve[-1] > _BLOWUP * curve[0]:
                raise TrainingDivergedError(
                    f"training diverged at epoch {epoch + 1}: the loss rose from {curve[0]:.4g} to "
                    f"{curve[-1]:.4g}; try a learning rate below {self.rate:g}")
            if progress is not None and epoch % report_every == 0:
                progress(epoch + 1, curve[-1])
            if stopped:
                break
        return curve, validation_curve, stopped

    def epoch(self, order: np.ndarray, epoch: int, refresh: bool) -> tuple[float, bool]:
        """One pass over ``order``: the summed loss of its rows, and whether the early stop was reached."""
        total, worst, stopped = 0.0, 0, False
        for s in self.starts:
            idx = order[s:s + self.batch]
            ws, T = self.feed.load(idx, refresh, self.noise_rng)
            loss = self.network.gradient(self.params, ws, T, self.noise_rng)
            if not math.isfinite(loss):
                raise TrainingDivergedError(
                    f"training diverged at epoch {epoch + 1}: the loss became {loss}; "
                    f"try a learning rate below {self.rate:g}")
            total += loss * len(idx)
            if self.stop_wrong_pixels is not None:
                wrong = np.not_equal(ws.Y > 0.5, T > 0.5).sum(axis=0).max()
                worst = max(worst, int(wrong))
                # The epoch's last step is not taken when the check passes, so
                # a full batch returns exactly the model that was checked.
                stopped = s == self.starts[-1] and worst <= self.stop_wrong_pixels
                if stopped:
                    break
            self.opt.step(self.theta, self.grad, loss)
        return total, stopped
