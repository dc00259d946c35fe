"""Exceptions raised by genval.

Every genval error is a :class:`GenvalError`, and each also derives from the
built-in exception a caller would expect (``ValueError`` for bad input), so
``except ValueError`` keeps working. The CLI prints them as one line.
"""

from __future__ import annotations

__all__ = ["GenvalError", "BitmapFormatError", "ModelFileError", "TrainingDivergedError"]


class GenvalError(Exception):
    """Base class of every error genval raises on purpose."""


class BitmapFormatError(GenvalError, ValueError):
    """A bitmap file (C header or text) that cannot be read.

    The message names the file, the line and what was expected, e.g.
    ``font.h:12: expected a number, found '0xZZ'``.
    """


class ModelFileError(GenvalError, ValueError):
    """A saved model or map that is missing, truncated, foreign or mismatched."""


class TrainingDivergedError(GenvalError, ArithmeticError):
    """The training loss became NaN or infinite."""
