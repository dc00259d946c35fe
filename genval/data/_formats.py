"""What genval's file readers share: the decoded record, the memory budget, names, opening files.

Each reader (C headers and text in :mod:`genval.data._headers`, grey images in
:mod:`genval.data._images`) turns one file or folder into a :class:`Decoded`
record, pixels in ``[0, 1]`` plus whatever names and labels the file holds;
building the :class:`genval.data.BitmapSet` from it is
:func:`genval.data.load_dataset`'s job. The rules every reader keeps:

* linear time, and memory bounded by the decoded pixels: the size a file
  claims is checked against the memory budget (:func:`check_budget`) before anything that large
  is allocated;
* every error is a :class:`~genval.errors.BitmapFormatError` naming the file,
  the line (text files) or the record (binary ones) and what was expected;
* item names hold no control characters (:func:`check_name`): shown on a
  terminal they would drive it.
"""

from __future__ import annotations

import codecs
import gzip
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from genval._utils.budget import check_allocation, memory_budget, read_at_most
from genval.errors import BitmapFormatError

_GZIP_MAGIC = b"\x1f\x8b"
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # a zip of no members (np.savez with no arrays)
CHUNK_BYTES = 4 << 20  # binary files are read and converted this much at a time
IDX_TYPES = {  # IDX type codes: NumPy dtypes
    0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True)
class Decoded:
    """What a file holds: pixels, and names and labels when the file has them.

    ``X`` has shape (n_items, height * width) with values in ``[0, 1]``;
    ``names`` is None when the items are named by their position; ``n_total``
    counts every item in the file, also those a ``limit`` left out; ``rows``
    are the record numbers of ``X``'s rows in the file when they were drawn
    at random (``shuffle``), None when they are the first ``len(X)``.
    """

    X: np.ndarray
    shape: tuple[int, int]
    names: list[str] | None = None
    labels: list[str] | None = None
    n_total: int = 0
    array: str | None = None
    rows: np.ndarray | None = None


# --------------------------------------------------------------------------- memory

ITEM_BYTES = 150  # what one item costs beside its pixels: its name (a str, a list and a tuple slot, an index entry)


def check_budget(n_items: int, n_pixels: int, itemsize: int, source: str, per_item: int = ITEM_BYTES) -> None:
    """Refuse, with the estimate, a set whose pixels and names would not fit in the memory budget.

    The budget is :func:`genval._utils.budget.memory_budget` (``GENVAL_MEMORY_BUDGET``).
    Each item costs ``n_pixels * itemsize`` bytes and ``per_item`` more (its
    name, :data:`ITEM_BYTES`): a file of millions of 1x1 images is mostly names.

    >>> check_budget(10**9, 784, 4, "big-idx3-ubyte")
    Traceback (most recent call last):
    ...
    genval._utils.budget.MemoryBudgetError: big-idx3-ubyte: 1000000000 items of 784 pixels (load fewer with limit, --limit) would need about ... TiB, more than the memory budget of ...; ask for fewer or raise GENVAL_MEMORY_BUDGET
    """
    check_allocation(n_items * (n_pixels * itemsize + per_item),
                     f"{source}: {n_items} items of {n_pixels} pixels (load fewer with limit, --limit)")


# --------------------------------------------------------------------------- names

def unicode_name(name: str) -> str:
    """``name`` as valid Unicode (printable and writable as UTF-8), the bytes that were not UTF-8 as ``\\xNN``.

    Python hands over a file name whose bytes are not UTF-8 with each such byte
    as a lone surrogate (``os.fsdecode``), which no UTF-8 output (a JSON
    document, a strict terminal) can hold; like ``ls -b``, genval shows the byte
    escaped instead. Valid names are returned unchanged.

    >>> unicode_name("café"), unicode_name(b"caf\\xe9".decode("utf-8", "surrogateescape"))
    ('café', 'caf\\\\xe9')
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        pass
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte: escaped as itself
        return name.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def check_name(name: str, where: str) -> str:
    """``name`` (as :func:`unicode_name`), or an error at ``where`` if it holds control characters (they would
    drive the terminal).

    >>> check_name(":)", "f.h:3")
    ':)'
    >>> check_name("a\\x1b[31m", "f.h:3")
    Traceback (most recent call last):
    ...
    genval.errors.BitmapFormatError: f.h:3: item name 'a\\x1b[31m' holds control characters; expected printable text
    """
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise BitmapFormatError(f"{where}: item name {name!r} holds control characters; expected printable text")
    return unicode_name(name)


def shorten(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------- opening files

def open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, gunzipped if it is gzipped (detected by its first bytes, not its name)."""
    f = open(path, "rb")
    if f.read(2) == _GZIP_MAGIC:
        f.close()
        return gzip.open(path, "rb")
    f.seek(0)
    return f


def sniff(path: Path) -> str:
    """The format of a file from its first bytes: ``idx``, ``npy``, ``npz``, ``csv``, ``text`` or ``header``."""
    with open_binary(path) as f:
        try:
            head = f.read(1024)
        except (OSError, EOFError, zlib.error) as exc:
            raise BitmapFormatError(f"{path}: damaged gzip data ({exc}); expected a gzipped bitmap file") from None
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
        return "npz"
    if len(head) >= 4 and head[:2] == b"\0\0" and 1 <= head[3] <= 4 and head[2] >= 0x07:
        return "idx"  # an unknown type code too: the IDX reader names it, not the C-header parser
    suffixes = [s.lower() for s in path.suffixes]
    if ".csv" in suffixes:
        return "csv"
    if ".txt" in suffixes:
        return "text"
    return "header"


def read_bitmap_text(path: Path) -> str:
    """The text of a (possibly gzipped) UTF-8 file, a byte-order mark dropped.

    At most :func:`text_limit` bytes (after gunzipping) are read: a larger file,
    ``/dev/zero`` or a gzip bomb is refused with that limit.
    """
    try:
        with open_binary(path) as f:
            data = read_at_most(f, text_limit(), str(path), "a C header or text file",
                                " (a 32nd of the memory budget; raise GENVAL_MEMORY_BUDGET for more)")
        return codecs.decode(data, "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BitmapFormatError(f"{path}: not a text file ({exc.reason} at byte {exc.start})") from None
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise
        raise BitmapFormatError(f"{path}: damaged gzip data ({exc}); expected a gzipped text file") from None


TEXT_BYTES_PER_CHAR = 32  # parsing a C header costs up to about 24 bytes a character (tokens, rows, names)


def text_limit() -> int:
    """The largest text file read, in bytes: a 32nd of the memory budget (32 MiB of the default 1 GiB).

    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", GENVAL_MEMORY_BUDGET="64M"):
    ...     text_limit()
    2097152
    """
    return memory_budget() // TEXT_BYTES_PER_CHAR
