"""Training that fails quietly: a run whose loss ends near the trivial model's or its first epoch's.

:func:`~genval.nn._training.train` asks :func:`stall_reason` after every run
that did not stop early and logs its answer as a warning (logger
``genval.nn._stall``); a command collects those with :func:`caught_stalls`
and words them itself.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

import numpy as np

from genval._utils.budget import chunk_rows
from genval.nn._activations import BinaryCrossEntropy
from genval.nn._network import Network

__all__ = ["STALL_RATIO", "caught_stalls", "stall_reason", "trivial_loss"]

log = logging.getLogger(__name__)

# A run whose final loss keeps this share of the trivial model's (or its first epoch's) loss has stalled.
STALL_RATIO = 0.9


def trivial_loss(network: Network, X: np.ndarray, rows: np.ndarray | None = None) -> tuple[float, float]:
    """The loss per pixel of the trivial model, and of a perfect reconstruction, on the rows ``rows`` of ``X``.

    The trivial model's decoder outputs every pixel's mean ``m`` over the
    rows, whatever the input: its squared error is each pixel's variance, its
    cross-entropy each pixel's binary entropy ``-m log m - (1 - m) log(1 - m)``
    (exact for grey pixels too, the loss being linear in the target). A
    perfect reconstruction costs 0, except cross-entropy on grey pixels ``t``:
    their mean entropy, a floor no model goes below. Computed a chunk of
    rows at a time.

    Examples
    --------
    >>> from genval.nn import LinearCode, make_activation, make_loss
    >>> net = Network(2, (), make_activation("tanh"), LinearCode(1), make_activation("sigmoid"), make_loss("mse"))
    >>> trivial_loss(net, np.array([[0.0, 1.0], [1.0, 1.0]]))
    (0.125, 0.0)
    """
    idx = np.arange(len(X)) if rows is None else np.asarray(rows)
    p = X.shape[1]
    total, squares, floor = np.zeros(p), np.zeros(p), 0.0
    bce = isinstance(network.loss, BinaryCrossEntropy)
    step = chunk_rows(8 * 3 * p)
    for start in range(0, len(idx), step):
        block = np.asarray(X[idx[start:start + step]], dtype=np.float64)
        total += block.sum(axis=0)
        squares += np.einsum("ij,ij->j", block, block)
        if bce:
            floor += float(_entropy(block).sum())
    n = max(1, len(idx))
    mean = total / n
    if bce:
        return float(_entropy(mean).mean()), floor / (n * p)
    return float(np.maximum(squares / n - mean ** 2, 0.0).mean()), 0.0


def _entropy(m: np.ndarray) -> np.ndarray:
    """Binary entropy in nats, 0 at 0 and 1."""
    m = np.clip(m, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(m * np.log(m) + (1 - m) * np.log1p(-m))
    return np.nan_to_num(h, nan=0.0)


def stall_reason(loss_curve: list[float], trivial: float, floor: float = 0.0) -> str | None:
    """Why a run's loss curve shows it stalled, or None when it learnt.

    The rule: with ``L`` the final loss, ``L1`` the first epoch's, ``L0``
    the trivial model's and ``F`` the perfect reconstruction's
    (:func:`trivial_loss`), a run stalled when ``L - F >= 0.9 (L0 - F)``
    (it does no better than 10% under outputting every pixel's mean), or,
    after two epochs or more, ``L - F >= 0.9 (L1 - F)`` (training took off
    less than 10% of its first epoch's loss). A run that reached its early
    stop (``stop_wrong_pixels``) never stalled: :func:`train` does not ask.

    Examples
    --------
    >>> stall_reason([0.69, 0.40, 0.05], trivial=0.5) is None
    True
    >>> print(stall_reason([0.693, 0.70, 0.704], trivial=0.5))
    training stalled: the final loss 0.704 is no better than 0.9 x 0.5, the loss of a model that outputs every pixel's mean; try a larger learning rate or more epochs
    """
    final, first = loss_curve[-1], loss_curve[0]
    above = "" if floor == 0 else f" above the floor {floor:.4g} of a perfect reconstruction"
    if trivial > floor and final - floor >= STALL_RATIO * (trivial - floor):
        return (f"training stalled: the final loss {final:.4g} is no better than {STALL_RATIO:g} x {trivial:.4g}, "
                f"the loss of a model that outputs every pixel's mean{above}; try a larger learning rate or "
                "more epochs")
    if len(loss_curve) >= 2 and first > floor and final - floor >= STALL_RATIO * (first - floor):
        return (f"training stalled: the final loss {final:.4g} is still {STALL_RATIO:g} x the first epoch's "
                f"{first:.4g} or more{above}; try a larger learning rate or more epochs")
    return None


@contextmanager
def caught_stalls():
    """Collect the stall warnings :func:`train` logs inside the block, in this thread: yields the list their
    messages join.

    The warnings still reach any other handler (a script's logging set-up); with none, this one keeps them off
    stderr, so that a command can word them itself.
    """
    messages: list[str] = []
    thread = threading.get_ident()  # runs in other threads (a Dask worker's) are theirs to collect

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread == thread:
                messages.append(record.getMessage())

    handler = _Collect(logging.WARNING)
    log.addHandler(handler)
    try:
        yield messages
    finally:
        log.removeHandler(handler)
