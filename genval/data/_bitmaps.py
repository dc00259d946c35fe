"""Loading bitmap sets: the bundled sets by name, and every file kind genval reads.

A :class:`~genval.data.BitmapSet` (:mod:`._bitmap_set`) comes from:

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
from importlib import resources
from pathlib import Path
from zipfile import ZipFile, is_zipfile

import numpy as np

from genval._utils.archive import printable
from genval._utils.files import resolve_rng
from genval.errors import BitmapFormatError, ParameterError
from genval.data._formats import Decoded, read_bitmap_text, sniff, unicode_name
from genval.data._headers import MAX_ROW_BITS, read_header, read_text
from genval.data._csv import read_csv
from genval.data._idx_numpy import npz_labels_key, read_idx, read_numpy, read_numpy_labels
from genval.data._image_folders import IMAGE_SUFFIXES, read_image_folder
from genval.data._images import labels_beside, read_labels
from genval.data._bitmap_set import BitmapSet, from_decoded
from genval.data._selection import draw_rows, take_rows
from genval.data._bitmap_text import parse_header

# Every part of genval imported the set and its text formats from here: they stay importable.
from genval.data._bitmap_set import SHADES as SHADES, bitmap_rows as bitmap_rows, bitmap_shades as bitmap_shades
from genval.data._bitmap_text import format_header as format_header, format_text as format_text
from genval.data._bitmap_text import parse_text as parse_text

__all__ = ["BUNDLED_DATASETS", "load_dataset"]


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


def load_dataset(spec: str | os.PathLike | BitmapSet, width: int | None = None, *,
                 labels: str | os.PathLike | None = None, shape: tuple[int, int] | None = None,
                 binarize: float | None = None, limit: int | None = None, shuffle: bool = False,
                 random_state=0) -> BitmapSet:
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
    * ``.txt``: the plain text format (:func:`parse_text`); anything else: a
      C header (:func:`parse_header`), ``font.h:Font2`` to pick an array.

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
    shuffle : bool, default False
        The items in a random order; with ``limit``, ``limit`` items drawn
        uniformly without replacement (a sorted MNIST file gives every digit).
        IDX, NumPy, CSV and image folders read only the drawn items; C
        headers and text files are parsed whole. Names and labels follow.
    random_state : int, numpy Generator or None, default 0
        Seeds ``shuffle``: the same seed, the same items in the same order.

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
    >>> load_dataset("digits", limit=3, shuffle=True).names
    ('2-113', '3-93', '4-152')
    """
    _check_options(width, shape, binarize, limit, shuffle)
    rng = resolve_rng(random_state) if shuffle else None
    spec = spec if isinstance(spec, BitmapSet) else os.fspath(spec)
    if isinstance(spec, BitmapSet) or spec in BUNDLED_DATASETS:
        bitmaps = _loaded_subset(spec if isinstance(spec, BitmapSet) else BUNDLED_DATASETS[spec][1](),
                                 labels, limit, rng)
    else:  # a file: its reader keeps only the items asked for, and their labels
        bitmaps = _load(spec, width, labels, shape, limit, rng)
    if binarize is not None:
        bitmaps = _binarized(bitmaps, binarize)
    return bitmaps


def _loaded_subset(bitmaps: BitmapSet, labels, limit: int | None, rng) -> BitmapSet:
    """A set already in memory (bundled, or given), labelled from ``labels``, then its first ``limit`` items or,
    with ``rng``, ``limit`` drawn at random."""
    if labels is not None:
        bitmaps = _with_labels(bitmaps, labels)
    if rng is not None:
        return bitmaps.subset(draw_rows(len(bitmaps), limit, rng, bitmaps.title).tolist())
    if limit is not None and limit < len(bitmaps):
        return bitmaps.subset(range(limit))
    return bitmaps


def _with_labels(bitmaps: BitmapSet, labels: str | os.PathLike) -> BitmapSet:
    """``bitmaps`` labelled from the labels file ``labels``: one label per item, or an error."""
    found = read_labels(Path(labels))
    if len(found) != len(bitmaps):
        raise BitmapFormatError(f"{labels}: {len(found)} labels for the {len(bitmaps)} items of "
                                f"{bitmaps.title}; expected one label per item")
    return BitmapSet(bitmaps.names, bitmaps.X, bitmaps.shape, bitmaps.title, found)


def _binarized(bitmaps: BitmapSet, threshold: float) -> BitmapSet:
    """``bitmaps`` with every pixel above ``threshold`` ink (1) and the others blank (0), read-only."""
    X = (bitmaps.X > threshold).astype(bitmaps.X.dtype)
    X.setflags(write=False)
    return BitmapSet(bitmaps.names, X, bitmaps.shape, bitmaps.title, bitmaps.labels)


def _check_options(width, shape, binarize, limit, shuffle) -> None:
    if width is not None and not (isinstance(width, (int, np.integer)) and 1 <= width <= MAX_ROW_BITS):
        raise ParameterError(f"width must be a whole number of pixels 1..{MAX_ROW_BITS}, got {width!r}")
    if shape is not None and not (len(shape) == 2 and all(isinstance(s, (int, np.integer)) and s >= 1
                                                          for s in shape)):
        raise ParameterError(f"shape must be (height, width), two whole numbers >= 1, got {shape!r}")
    if binarize is not None and not 0 <= binarize < 1:
        raise ParameterError(f"binarize must be a threshold in [0, 1), got {binarize!r}")
    if limit is not None and not (isinstance(limit, (int, np.integer)) and limit >= 1):
        raise ParameterError(f"limit must be a whole number >= 1, got {limit!r}")
    if not (shuffle is None or isinstance(shuffle, (bool, np.bool_))):  # None: the CLI's flag, not given
        raise ParameterError(f"shuffle must be True or False, got {shuffle!r}")


def _load(spec: str, width, labels, shape, limit, rng) -> BitmapSet:
    """A file, with its labels (given, found beside it, or its own), the first ``limit`` items or, with
    ``rng``, ``limit`` items drawn at random."""
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
    decoded = _read_file(path, array, width, shape, limit, rng)
    if not len(decoded.X):
        raise BitmapFormatError(f"{path}: holds no items; expected at least one image")
    # The set's title is printed and written to JSON: the path's bytes that are not UTF-8 and the control
    # characters of a .npz member's name escaped.
    title = unicode_name(str(path)) + (f":{printable(decoded.array)}" if decoded.array is not None else "")
    found: list[str] | None = None
    if labels is not None:
        found, where = read_labels(Path(labels)), str(labels)
    elif decoded.labels is None and (beside := _find_labels(path, decoded)) is not None:
        found, where = beside
    if found is not None:
        if len(found) != decoded.n_total:
            raise BitmapFormatError(f"{where}: {len(found)} labels for the {decoded.n_total} items of {path}; "
                                    "expected one label per item")
        found = found[:len(decoded.X)] if decoded.rows is None else [found[r] for r in decoded.rows.tolist()]
    return from_decoded(decoded, title, found)


def _read_file(path: Path, array: str | None = None, width: int | None = None,
               shape: tuple[int, int] | None = None, limit: int | None = None, rng=None) -> Decoded:
    """Decode a bitmap file or image folder, its format told by its first bytes (or its suffix)."""
    if path.is_dir():
        return read_image_folder(path, limit, rng)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise BitmapFormatError(f"{path}: a single image; expected a folder of images (one item per file)")
    kind = sniff(path)
    if array is not None and kind not in ("header", "npz"):
        raise BitmapFormatError(f"{path}:{array}: ':{array}' picks an array in a C header or a .npz, "
                                f"not in a {kind} file")
    if kind == "idx":
        return read_idx(path, shape, limit, rng)
    if kind in ("npy", "npz"):
        return read_numpy(path, array, shape, limit, rng)
    if kind == "csv":
        return read_csv(path, shape, limit, rng)
    text = read_bitmap_text(path)
    if not text.strip():
        raise BitmapFormatError(f"{path}: the file is empty; expected a C header or a text bitmap set")
    # Text is at most a 32nd of the memory budget: a draw parses it whole and takes its items.
    read_limit = None if rng is not None else limit
    decoded = (read_text(text, str(path), read_limit) if kind == "text" else
               read_header(text, str(path), array, width, read_limit))
    if rng is None:
        return decoded
    return take_rows(decoded, draw_rows(len(decoded.X), limit, rng, str(path)))


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
