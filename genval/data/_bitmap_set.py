"""The bitmap set: the value type every part of genval shares, and its pictures as text.

A :class:`BitmapSet` holds item names, a pixel matrix ``X`` of shape
``(n_items, height * width)`` with floats in ``[0, 1]`` (row-major, top row
first), the bitmap ``shape`` and optional labels. :func:`bitmap_rows` and
:func:`bitmap_shades` draw one bitmap as lines of text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from genval.errors import ParameterError, UnknownItemError
from genval.data._formats import Decoded

__all__ = ["BitmapSet", "bitmap_rows", "bitmap_shades"]

SHADES = ".:-=+*%#"  # grey levels from blank to ink, for text pictures of grey images


@dataclass(frozen=True, eq=False)
class BitmapSet:
    """A named set of equally sized bitmaps, each with an optional label.

    Parameters
    ----------
    names : sequence of str, length n_items
        Unique item names (``":)"``, ``"a"``, ``"3-17"``), without control characters.
    X : array-like of shape (n_items, height * width)
        Pixel intensities in ``[0, 1]``, row-major, top row first. Kept as
        float32 when given as float32 (image sets: half the memory), else float64.
    shape : (int, int)
        ``(height, width)`` of every bitmap.
    title : str, default ""
        Where the set came from, for messages and plot titles.
    labels : sequence of str, length n_items, optional
        A class per item (the digit, the sub-folder), or None.

    Raises
    ------
    ParameterError
        For pixels outside [0, 1], a wrong shape, duplicate names or labels of the wrong length.

    Examples
    --------
    >>> s = BitmapSet(["dot", "bar"], [[0, 1, 0, 0], [1, 1, 0, 0]], shape=(2, 2), labels=["a", "b"])
    >>> s.render("dot"), s.labels
    (['.#', '..'], ('a', 'b'))
    """

    names: tuple[str, ...]
    X: np.ndarray
    shape: tuple[int, int]
    title: str = ""
    labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.names)
        X = self.X
        dtype = np.float32 if isinstance(X, np.ndarray) and X.dtype == np.float32 else np.float64
        # A loader's fresh read-only array is used as it is: no second copy of a big set.
        owned = isinstance(X, np.ndarray) and X.dtype == dtype and X.base is None and not X.flags.writeable
        X = X if owned and X.flags.c_contiguous else np.array(X, dtype=dtype)
        shape = tuple(int(s) for s in self.shape)
        if len(shape) != 2 or min(shape) < 1:
            raise ParameterError(f"shape must be (height, width) with both >= 1, got {self.shape}")
        if X.ndim != 2 or X.shape != (len(names), shape[0] * shape[1]):
            raise ParameterError(
                f"X must have shape (n_items, height*width) = ({len(names)}, {shape[0] * shape[1]}), "
                f"got {X.shape}"
            )
        if X.size and not (np.isfinite(X.min()) and X.min() >= 0 and X.max() <= 1):
            raise ParameterError("X must hold finite pixel values in [0, 1]")
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in seen:
                raise ParameterError(f"duplicate item name {name!r} (items {seen[name]} and {i})")
            seen[name] = i
        bad = next((n for n in names if not n.isprintable() and any(ord(c) < 32 or 127 <= ord(c) < 160 for c in n)),
                   None)
        if bad is not None:
            raise ParameterError(f"item name {bad!r} holds control characters; expected printable text")
        labels = None if self.labels is None else tuple(str(label) for label in self.labels)
        if labels is not None and len(labels) != len(names):
            raise ParameterError(f"labels must hold one label per item ({len(names)}), got {len(labels)}")
        X.setflags(write=False)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "_index", seen)

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        h, w = self.shape
        return f"BitmapSet({self.title or 'unnamed'!r}, {len(self)} items, {h}x{w})"

    @property
    def n_features(self) -> int:
        """Pixels per item, ``height * width``."""
        return self.X.shape[1]

    @property
    def is_binary(self) -> bool:
        """Whether every pixel is 0 or 1 (a bitmap, not a grey image)."""
        X = self.X
        return bool(((X == 0) | (X == 1)).all())

    def index(self, item: str | int) -> int:
        """Position of an item given by name (or by position, checked).

        Raises
        ------
        UnknownItemError
            For an unknown name (a ``KeyError``); the message lists the known ones.
        """
        if isinstance(item, (int, np.integer)):
            if not -len(self) <= item < len(self):
                raise IndexError(f"item {item} out of range for {len(self)} items")
            return int(item) % len(self)
        try:
            return self._index[item]  # type: ignore[attr-defined]
        except KeyError:
            raise UnknownItemError(f"unknown item {item!r}; known items: {_names_preview(self.names)}") from None

    def image(self, item: str | int) -> np.ndarray:
        """The item as a ``(height, width)`` array."""
        return self.X[self.index(item)].reshape(self.shape)

    def render(self, item: str | int, threshold: float = 0.5) -> list[str]:
        """The item as text rows of ``#`` (pixel > threshold) and ``.``."""
        return bitmap_rows(self.X[self.index(item)], self.shape, threshold)

    def binary(self, threshold: float = 0.5) -> np.ndarray:
        """``X > threshold`` as a boolean array of shape (n_items, height*width)."""
        return self.X > threshold

    def subset(self, items: Iterable[str | int]) -> "BitmapSet":
        """A new set holding the given items (and their labels), in the given order."""
        idx = [self.index(i) for i in items]
        labels = None if self.labels is None else [self.labels[i] for i in idx]
        return BitmapSet([self.names[i] for i in idx], self.X[idx], self.shape, self.title, labels)


def bitmap_rows(x: np.ndarray, shape: tuple[int, int], threshold: float = 0.5) -> list[str]:
    """Render one flat bitmap as rows of ``#`` and ``.``.

    Parameters
    ----------
    x : array-like of shape (height * width,)
    shape : (height, width)
    threshold : float
        A pixel strictly above it is ink.

    Examples
    --------
    >>> bitmap_rows([1, 0, 0.2, 0.9], (2, 2))
    ['#.', '.#']
    """
    img = np.asarray(x, dtype=float).reshape(shape) > threshold
    return ["".join("#" if p else "." for p in row) for row in img]


def bitmap_shades(x: np.ndarray, shape: tuple[int, int]) -> list[str]:
    """Render one flat grey image as rows of 8 shades, ``.`` (0) through ``:-=+*%`` to ``#`` (1).

    A bitmap of zeros and ones renders as :func:`bitmap_rows` does.

    Examples
    --------
    >>> bitmap_shades([0, 0.2, 0.5, 1], (2, 2))
    ['.:', '+#']
    """
    levels = np.rint(np.asarray(x, dtype=float).reshape(shape) * (len(SHADES) - 1)).astype(int)
    return ["".join(SHADES[v] for v in row) for row in levels]


def from_decoded(decoded: Decoded, title: str, labels: Sequence[str] | None = None) -> BitmapSet:
    """The set a decoded file holds, with ``labels`` if given, else the file's own."""
    n = len(decoded.X)
    numbers = range(n) if decoded.rows is None else decoded.rows.tolist()  # named by record number
    names = decoded.names if decoded.names is not None else [str(i) for i in numbers]
    X = decoded.X
    X.setflags(write=False)
    labels = labels if labels is not None else decoded.labels
    return BitmapSet(names, X, decoded.shape, title, labels)


def _names_preview(names: Sequence[str], limit: int = 40) -> str:
    return " ".join(names[:limit]) + (" ..." if len(names) > limit else "")
