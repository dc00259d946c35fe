"""Bitmap sets: the value type every part of genval shares, the bundled sets, and loading.

A :class:`BitmapSet` holds item names, a pixel matrix ``X`` of shape
``(n_items, height * width)`` with floats in ``[0, 1]`` (row-major, top row
first), the bitmap ``shape`` and optional labels. Sets come from:

* the bundled sets, by name: ``font`` (the course's 5x7 Font3, 32 glyphs),
  ``emojis`` (17 5x7 faces) and ``digits`` (scikit-learn's 8x8 digits);
* C headers in the course format, one row of numbers per item
  (``{0x04, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00},   // 0x60, `\\```);
* plain text: a name line, then rows of ``#`` (ink) and ``.`` (blank);
* grey image files: IDX (MNIST, Fashion-MNIST), ``.npy``/``.npz``, CSV and
  folders of PNG or PGM images (decoded in :mod:`genval.data._formats`).

Use :func:`load_dataset` for all of them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence
from zipfile import ZipFile, is_zipfile

import numpy as np

from genval.errors import BitmapFormatError, ParameterError, UnknownItemError
from genval.data._formats import Decoded, read_bitmap_text, sniff
from genval.data._headers import MAX_ROW_BITS, read_header, read_text
from genval.data._images import (
    IMAGE_SUFFIXES, labels_beside, npz_labels_key, read_csv, read_idx, read_image_folder, read_labels, read_numpy,
    read_numpy_labels,
)

__all__ = [
    "BitmapSet",
    "BUNDLED_DATASETS",
    "bitmap_rows",
    "bitmap_shades",
    "format_header",
    "format_text",
    "load_dataset",
    "parse_header",
    "parse_text",
]

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


# --------------------------------------------------------------------------- C headers and text

def parse_header(
    text: str,
    source: str = "<string>",
    array: str | None = None,
    width: int | None = None,
) -> BitmapSet:
    """Read a bitmap set from C-header text in the course format.

    Each item is one brace-enclosed row of integers (hex, decimal or ``0b``
    binary), one per bitmap row, top row first; bit ``width - 1`` is the
    leftmost pixel. A comment on the item's line (or just above it) names it:
    ``// 0x61, a`` names ``a``, ``/* :) */`` names ``:)``; an item whose comment
    names nothing is named by its index. Reading takes time and memory linear
    in the text; a leading byte-order mark is skipped.

    Parameters
    ----------
    text : str
        The header's contents.
    source : str
        File name used in error messages.
    array : str, optional
        Which array to read when the header holds several.
    width : int, optional
        Pixels per row (1..64). By default the bit length of the largest
        value, and at least 5 (the course's 5x7 format): pass it when no item
        reaches the leftmost column.

    Returns
    -------
    BitmapSet

    Raises
    ------
    BitmapFormatError
        Naming the file, the line and what was expected; also for an item name
        holding control characters and values wider than 64 bits.

    Examples
    --------
    >>> s = parse_header("int const F[1][2] = {{0x11, 0x0e}}; // x")
    >>> s.names, s.render(0)
    (('0',), ['#...#', '.###.'])
    """
    decoded = read_header(text, source, array, width)
    return _assemble(decoded, f"{source}:{decoded.array}")


def format_header(bitmaps: BitmapSet, array: str = "Bitmaps") -> str:
    """Write a set as a C header in the course format (the inverse of :func:`parse_header`).

    Pixels are thresholded at 0.5. Rows wider than 64 pixels cannot be written.

    Examples
    --------
    >>> print(format_header(BitmapSet(["x"], [[1, 0, 0, 1, 1, 0]], (2, 3)), "X"), end="")
    int const X[1][2] = {
       {0x04, 0x06}    // x
    };
    """
    h, w = bitmaps.shape
    if w > MAX_ROW_BITS:
        raise ParameterError(f"rows of {w} pixels cannot be written as a header (at most {MAX_ROW_BITS})")
    digits = 2 if w <= 8 else 4 if w <= 16 else -(-w // 4)
    lines = [f"int const {array}[{len(bitmaps)}][{h}] = {{"]
    for i, name in enumerate(bitmaps.names):
        bits = bitmaps.binary()[i].reshape(h, w)
        row = [int("".join("1" if b else "0" for b in r), 2) for r in bits]  # exact beyond 53 bits
        sep = "," if i + 1 < len(bitmaps) else " "
        hexes = ", ".join(f"0x{v:0{digits}x}" for v in row)
        lines.append(f"   {{{hexes}}}{sep}   // {name}")
    lines.append("};")
    return "\n".join(lines) + "\n"


def parse_text(text: str, source: str = "<string>") -> BitmapSet:
    """Read a bitmap set from plain text.

    Each item is a name line followed by its rows of ``#`` (ink) and ``.``
    (blank). An item starts at the top of the file, after a blank line, or at
    any line that is not made only of ``#`` and ``.``.

    Raises
    ------
    BitmapFormatError
        Naming the file, the line and what was expected.

    Examples
    --------
    >>> s = parse_text("bar\\n.#.\\n.#.\\n\\ndash\\n...\\n###\\n")
    >>> s.names, s.shape
    (('bar', 'dash'), (2, 3))
    """
    return _assemble(read_text(text, source), source)


def format_text(bitmaps: BitmapSet) -> str:
    """Write a set in the plain text format (the inverse of :func:`parse_text`).

    Examples
    --------
    >>> print(format_text(BitmapSet(["x"], [[1, 0, 0, 1, 1, 0]], (2, 3))), end="")
    x
    #..
    ##.
    """
    blocks = [
        "\n".join([name, *bitmaps.render(i)]) for i, name in enumerate(bitmaps.names)
    ]
    return "\n\n".join(blocks) + "\n"


def _assemble(decoded: Decoded, title: str, labels: Sequence[str] | None = None) -> BitmapSet:
    """The set a decoded file holds, with ``labels`` if given, else the file's own."""
    n = len(decoded.X)
    names = decoded.names if decoded.names is not None else [str(i) for i in range(n)]
    X = decoded.X
    X.setflags(write=False)
    labels = labels if labels is not None else decoded.labels
    return BitmapSet(names, X, decoded.shape, title, labels)


# --------------------------------------------------------------------------- loading

def _bundled_header(filename: str, title: str) -> BitmapSet:
    text = resources.files("genval.datasets").joinpath(filename).read_text(encoding="utf-8")
    s = parse_header(text, source=filename)
    return BitmapSet(s.names, s.X, s.shape, title)


def _load_digits() -> BitmapSet:
    from sklearn.datasets import load_digits  # scikit-learn is slow to import; only here

    digits = load_digits()
    counts: dict[int, int] = {}
    names = []
    for t in digits.target:
        counts[t] = counts.get(t, -1) + 1
        names.append(f"{t}-{counts[t]}")
    return BitmapSet(names, digits.data / 16.0, (8, 8), "digits", [str(t) for t in digits.target])


BUNDLED_DATASETS = {
    "emojis": ("17 faces, 5x7 (the set the map and validity checks are about)",
               lambda: _bundled_header("emojis.h", "emojis")),
    "font": ("the course's Font3, 32 glyphs 0x60..0x7f, 5x7",
             lambda: _bundled_header("font.h", "font")),
    "digits": ("scikit-learn's 1797 handwritten digits, 8x8 grayscale, labelled",
               _load_digits),
}


def load_dataset(
    spec: str | os.PathLike | BitmapSet,
    width: int | None = None,
    *,
    labels: str | os.PathLike | None = None,
    shape: tuple[int, int] | None = None,
    binarize: float | None = None,
    limit: int | None = None,
) -> BitmapSet:
    """Load a bundled set by name, or a bitmap file or image folder by path.

    The format is told by the file's first bytes (gzipped or not), else by
    its suffix:

    * IDX, as MNIST and Fashion-MNIST ship (``train-images-idx3-ubyte.gz``);
      the labels file beside it (``train-labels-idx1-ubyte.gz``) is read too;
    * ``.npy``, or ``.npz`` (``mnist.npz:x_train`` picks an array; ``y_train``
      beside it gives the labels): (n, h, w), or (n, h*w) with ``shape``;
    * ``.csv``: one image per row, an optional header row, an optional label
      column (``label,pixel0,...`` as in ``mnist_train.csv``);
    * a folder of ``.png`` or ``.pgm`` images, one item per file named by the
      file, colour turned to grey; sub-folders of images become labels;
    * ``.txt``: the plain text format (:func:`parse_text`);
    * anything else: a C header (:func:`parse_header`), ``font.h:Font2`` to
      pick an array.

    Grey files keep their grey levels in ``[0, 1]`` (bytes are divided by
    255; bright is ink, as in MNIST), as float32.

    Parameters
    ----------
    spec : str, path or BitmapSet
        ``"font"``, ``"emojis"``, ``"digits"``, a path as above, or a loaded
        set (returned as it is when no other argument is given).
    width : int, optional
        Row width for C headers, see :func:`parse_header`.
    labels : str or path, optional
        A labels file: IDX (``t10k-labels-idx1-ubyte``), a 1-D ``.npy`` (or
        ``file.npz:key``) or text with one label a line; one label per item
        of the file.
    shape : (int, int), optional
        ``(height, width)`` of images stored as flat rows (``.npy`` of
        (n, h*w), CSV); by default they must be square.
    binarize : float, optional
        Turn grey levels into 0 and 1: a pixel above this threshold is ink.
    limit : int, optional
        Load only the first ``limit`` items (IDX, ``.npy``, CSV, folders and
        text stop reading there).

    Raises
    ------
    BitmapFormatError
        For an unknown name (listing the bundled ones), a missing file or a
        malformed one: the file, the line or record, and what was expected.
    ParameterError
        For bad arguments, or a set too big for the memory budget
        (:func:`genval.data.memory_budget`, ``GENVAL_MEMORY_BUDGET``).

    Examples
    --------
    >>> load_dataset("emojis").render(":)")[4:6]
    ['#...#', '.###.']
    >>> digits = load_dataset("digits", limit=3, binarize=0.5)
    >>> len(digits), digits.labels, digits.is_binary
    (3, ('0', '1', '2'), True)
    """
    _check_options(width, shape, binarize, limit)
    if isinstance(spec, BitmapSet):
        bitmaps = spec
    else:
        bitmaps = _load(os.fspath(spec), width, labels, shape, limit)
        labels = None
    if labels is not None:
        found = read_labels(Path(labels))
        if len(found) != len(bitmaps):
            raise BitmapFormatError(f"{labels}: {len(found)} labels for the {len(bitmaps)} items of "
                                    f"{bitmaps.title}; expected one label per item")
        bitmaps = BitmapSet(bitmaps.names, bitmaps.X, bitmaps.shape, bitmaps.title, found)
    if limit is not None and limit < len(bitmaps):
        bitmaps = bitmaps.subset(range(limit))
    if binarize is not None:
        X = (bitmaps.X > binarize).astype(bitmaps.X.dtype)
        X.setflags(write=False)
        bitmaps = BitmapSet(bitmaps.names, X, bitmaps.shape, bitmaps.title, bitmaps.labels)
    return bitmaps


def _check_options(width, shape, binarize, limit) -> None:
    if width is not None and not (isinstance(width, (int, np.integer)) and 1 <= width <= MAX_ROW_BITS):
        raise ParameterError(f"width must be a whole number of pixels 1..{MAX_ROW_BITS}, got {width!r}")
    if shape is not None and not (len(shape) == 2 and all(isinstance(s, (int, np.integer)) and s >= 1
                                                          for s in shape)):
        raise ParameterError(f"shape must be (height, width), two whole numbers >= 1, got {shape!r}")
    if binarize is not None and not 0 <= binarize < 1:
        raise ParameterError(f"binarize must be a threshold in [0, 1), got {binarize!r}")
    if limit is not None and not (isinstance(limit, (int, np.integer)) and limit >= 1):
        raise ParameterError(f"limit must be a whole number >= 1, got {limit!r}")


def _load(spec: str, width, labels, shape, limit) -> BitmapSet:
    """A bundled set or a file, with its labels (given, found beside it, or its own)."""
    if spec in BUNDLED_DATASETS:
        return BUNDLED_DATASETS[spec][1]()
    path, array = Path(spec), None
    if not path.exists():
        head, sep, tail = spec.rpartition(":")
        if sep and re.fullmatch(r"[A-Za-z_]\w*", tail) and Path(head).exists():
            path, array = Path(head), tail
    if not path.exists():
        looks_like_name = os.sep not in spec and "." not in spec
        known = ", ".join(BUNDLED_DATASETS)
        if looks_like_name:
            raise BitmapFormatError(f"unknown dataset {spec!r}; bundled sets are {known}, or give a file path")
        raise BitmapFormatError(f"{spec}: no such file (bundled sets are {known})")
    decoded = _read_file(path, array, width, shape, limit)
    if not len(decoded.X):
        raise BitmapFormatError(f"{path}: holds no items; expected at least one image")
    title = f"{path}:{decoded.array}" if decoded.array is not None else str(path)
    found: list[str] | None = None
    if labels is not None:
        found, where = read_labels(Path(labels)), str(labels)
    elif decoded.labels is None and (beside := _find_labels(path, decoded)) is not None:
        found, where = beside
    if found is not None:
        if len(found) != decoded.n_total:
            raise BitmapFormatError(f"{where}: {len(found)} labels for the {decoded.n_total} items of {path}; "
                                    "expected one label per item")
        found = found[:len(decoded.X)]
    return _assemble(decoded, title, found)


def _read_file(path: Path, array: str | None = None, width: int | None = None,
              shape: tuple[int, int] | None = None, limit: int | None = None) -> Decoded:
    """Decode a bitmap file or image folder, its format told by its first bytes (or its suffix)."""
    if path.is_dir():
        return read_image_folder(path, limit)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise BitmapFormatError(f"{path}: a single image; expected a folder of images (one item per file)")
    kind = sniff(path)
    if array is not None and kind not in ("header", "npz"):
        raise BitmapFormatError(f"{path}:{array}: ':{array}' picks an array in a C header or a .npz, "
                                f"not in a {kind} file")
    if kind == "idx":
        return read_idx(path, shape, limit)
    if kind in ("npy", "npz"):
        return read_numpy(path, array, shape, limit)
    if kind == "csv":
        return read_csv(path, shape, limit)
    text = read_bitmap_text(path)
    if not text.strip():
        raise BitmapFormatError(f"{path}: the file is empty; expected a C header or a text bitmap set")
    if kind == "text":
        return read_text(text, str(path), limit)
    return read_header(text, str(path), array, width, limit)


def _find_labels(path: Path, decoded: Decoded) -> tuple[list[str], str] | None:
    """``(labels, their file)`` found beside ``path`` by the usual names, or None.

    MNIST's ``train-images-idx3-ubyte.gz`` goes with ``train-labels-idx1-ubyte.gz``;
    a ``.npz`` array ``x_train`` with ``y_train``.
    """
    if decoded.array is not None and path.is_file() and is_zipfile(path):
        key = npz_labels_key(decoded.array)
        with ZipFile(path) as zf:
            present = key is not None and f"{key}.npy" in zf.namelist()
        return (read_numpy_labels(path, key), f"{path}:{key}") if present else None
    beside = labels_beside(path)
    return (read_labels(beside), str(beside)) if beside is not None else None


def _names_preview(names: Sequence[str], limit: int = 40) -> str:
    return " ".join(names[:limit]) + (" ..." if len(names) > limit else "")
