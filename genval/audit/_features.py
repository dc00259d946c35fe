"""Features of one's own, from a function: ``--features package.module:function``.

The function takes an ``(m, height * width)`` float32 array of pixels in
[0, 1] (bright is ink, row-major) and returns ``(m, d)`` features, say a
CLIP or Inception embedding of the images. genval calls it on chunks of rows
sized by the memory budget and checks every answer: a 2-D array of real,
finite numbers with one row per input row and the same ``d`` throughout.
The import path follows ``--model``'s convention (uvicorn's): the folder
genval runs from is importable.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable

import numpy as np

from genval._utils.budget import chunk_rows
from genval.errors import ParameterError

__all__ = ["call_features", "import_features"]

IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
WORK_PER_PIXEL = 64  # bytes a feature function may use per input pixel (its input in float32, its own layers)


def import_features(spec: str) -> Callable:
    """The function an import path ``package.module:function`` names, importing from the current folder too.

    Raises
    ------
    ParameterError
        When the path is malformed, the module cannot be imported (or raises while it is), the name is missing
        or not callable.

    Examples
    --------
    >>> import_features("numpy:sqrt")(np.array([[4.0]]))
    array([[2.]])
    """
    if not IMPORT_PATH.fullmatch(spec):
        raise ParameterError(f"--features {spec!r}: expected a .npy file or an import path like package.module:name")
    module_name, _, attribute = spec.partition(":")
    here = os.getcwd()
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        found = importlib.import_module(module_name)
    except Exception as exc:  # the user's module: whatever it raises is reported in one line
        raise ParameterError(f"--features {spec}: importing {module_name} failed: {_one_line(exc)}") from None
    finally:
        if added:
            sys.path.remove(here)
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise ParameterError(f"--features {spec}: {module_name} has no {attribute!r}")
        found = getattr(found, part)
    if not callable(found):
        raise ParameterError(f"--features {spec}: {attribute} is a {type(found).__name__}, not a function")
    return found


def call_features(function: Callable, X: np.ndarray, budget: int | None = None) -> np.ndarray:
    """``function``'s features of the rows of ``X``, computed a chunk of rows at a time and checked.

    Parameters
    ----------
    function : callable
        From an (m, p) float32 array of pixels in [0, 1] to (m, d) features.
    X : ndarray (n, p)
    budget : int, optional
        Bytes; the chunks hold ``budget / 8 / (64 p)`` rows (default :func:`genval._utils.budget.memory_budget`).

    Returns
    -------
    ndarray of float64 (n, d)

    Raises
    ------
    ParameterError
        When the function raises, or returns something other than a finite real (m, d) array with d the same
        for every chunk; the message names the function.

    Examples
    --------
    >>> call_features(lambda P: P.sum(axis=1, keepdims=True), np.ones((3, 4))).tolist()
    [[4.0], [4.0], [4.0]]
    """
    name = getattr(function, "__qualname__", None) or repr(function)
    X = np.asarray(X)
    rows = chunk_rows(WORK_PER_PIXEL * X.shape[1], budget)
    out, d = [], None
    for start in range(0, len(X), rows):
        chunk = np.ascontiguousarray(X[start:start + rows], dtype=np.float32)
        try:
            F = function(chunk)
        except Exception as exc:
            raise ParameterError(f"the feature function {name} failed on {len(chunk)} rows: {_one_line(exc)}") from None
        F = np.asarray(F)
        if F.ndim != 2 or len(F) != len(chunk) or (d is not None and F.shape[1] != d) or F.shape[1] < 1:
            raise ParameterError(f"the feature function {name} returned an array of shape {F.shape} for "
                                 f"{len(chunk)} rows; expected ({len(chunk)}, {d if d is not None else 'd'})")
        if F.dtype == bool or not np.issubdtype(F.dtype, np.number) or np.issubdtype(F.dtype, np.complexfloating):
            raise ParameterError(f"the feature function {name} returned {F.dtype} values; expected real numbers")
        F = F.astype(np.float64)
        if not np.isfinite(F).all():
            raise ParameterError(f"the feature function {name} returned NaN or infinite values")
        d = F.shape[1]
        out.append(F)
    return np.concatenate(out) if out else np.zeros((0, 0))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
