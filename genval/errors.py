"""Exceptions raised by genval.

Every genval error is a :class:`GenvalError`, and each also derives from the
built-in exception a caller would expect (``ValueError`` for bad input,
``KeyError`` for an unknown name), so ``except ValueError`` keeps working.
The CLI prints them as one line; any other exception is a bug and keeps its
traceback.
"""

from __future__ import annotations

__all__ = [
    "GenvalError", "BitmapFormatError", "DataMismatchError", "ModelFileError", "NotAModelError", "ParameterError",
    "ShapeMismatchError", "StrategyImpossibleError", "TrainingDivergedError", "UnknownItemError",
]


class GenvalError(Exception):
    """Base class of every error genval raises on purpose."""


class BitmapFormatError(GenvalError, ValueError):
    """A bitmap file (C header or text) that cannot be read.

    The message names the file, the line and what was expected, e.g.
    ``font.h:12: expected a number, found '0xZZ'``.
    """


class ModelFileError(GenvalError, ValueError):
    """A saved model or map that is missing, truncated, foreign or mismatched."""


class NotAModelError(GenvalError, TypeError):
    """An object given as a model that lacks the model protocol (:class:`genval.models.LatentModel`).

    The message names what it lacks: ``transform``, ``inverse_transform`` or ``n_features_in_``.
    """


class ParameterError(GenvalError, ValueError):
    """An argument a genval function cannot use: says what it got and what it accepts.

    >>> error = ParameterError("steps must be at least 2 (both endpoints), got 1")
    >>> isinstance(error, GenvalError), isinstance(error, ValueError)
    (True, True)
    """


class ShapeMismatchError(GenvalError, ValueError):
    """A model, map or check set used with bitmaps of another size."""


class DataMismatchError(GenvalError, ValueError):
    """A model used with bitmaps of its size that are not the ones it was trained on.

    >>> issubclass(DataMismatchError, ValueError)
    True
    """


class StrategyImpossibleError(GenvalError, ValueError):
    """An audit strategy that has nothing to sample in this latent space; the message says why.

    ``lines`` and ``som-path`` when no two items share a neuron, ``vae-prior``
    for a model without a prior, ``neuron`` when the occupied neurons win
    almost none of the codes' box, ``grid`` in a 1-D latent space. A comparison
    of strategies lists such a strategy as skipped, with the reason; any other
    error (a request beyond the memory budget, for one) stops it.

    >>> issubclass(StrategyImpossibleError, ValueError), issubclass(StrategyImpossibleError, MemoryError)
    (True, False)
    """


class TrainingDivergedError(GenvalError, ArithmeticError):
    """The training loss became NaN or infinite."""


class UnknownItemError(GenvalError, KeyError):
    """An item name that the bitmap set does not hold; the message lists the known ones.

    Unlike a plain ``KeyError`` it prints its message as written, not quoted:

    >>> str(UnknownItemError("unknown item ':-)'; known items: :) :D"))
    "unknown item ':-)'; known items: :) :D"
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
