"""What every grey-image reader shares: the size checks, records read in chunks, pixels scaled to [0, 1].

Binary files are read in chunks of :data:`~genval.data._formats.CHUNK_BYTES`
into one preallocated float32 array, so a file never costs more than its
decoded pixels; bytes 0..255 are divided by 255 and floats are kept if they
already lie in ``[0, 1]``.
"""

from __future__ import annotations

import gzip
import math
import zlib
from typing import IO

import numpy as np

from genval._utils.archive import printable
from genval._utils.budget import CHUNK_SHARE, check_allocation, memory_budget
from genval.errors import BitmapFormatError
from genval.data._formats import CHUNK_BYTES, ITEM_BYTES, shorten

__all__: list[str] = []

# Pixels in one image: a 4096 x 4096 bitmap, as wide as the widest layer a genval model accepts
# (autoencoder._MAX_WIDTH); a header claiming more is damaged or not meant for genval.
MAX_PIXELS = 2**24



def image_shape(dims: tuple[int, ...], shape: tuple[int, int] | None, source: str) -> tuple[int, int]:
    """(height, width) from a record's dimensions: (h, w), or (h*w,) with ``shape`` or a square."""
    if len(dims) == 2:
        if shape is not None and tuple(shape) != tuple(dims):
            raise BitmapFormatError(f"{source}: holds {dims[0]}x{dims[1]} images, not {shape[0]}x{shape[1]}")
        hw = (int(dims[0]), int(dims[1]))
    elif len(dims) == 1:
        hw = square_or_shape(int(dims[0]), shape, f"{source}: records of {dims[0]} pixels")
    else:
        raise BitmapFormatError(f"{source}: records of shape {tuple(dims)}; expected (height, width) "
                                "or (height*width,) grey images")
    if min(hw) < 1:
        raise BitmapFormatError(f"{source}: images of {hw[0]}x{hw[1]} pixels; expected at least 1x1")
    check_image_size(hw, source)
    return hw


def check_image_size(hw: tuple[int, int], source: str) -> None:
    """Refuse images of more than :data:`MAX_PIXELS` pixels, before anything of their size is allocated.

    >>> check_image_size((4096, 4096), "x.npy")
    >>> check_image_size((262144, 262144), "x.npy")
    Traceback (most recent call last):
    ...
    genval.errors.BitmapFormatError: x.npy: images of 262144x262144 pixels; expected at most 16,777,216 pixels (4096x4096)
    """
    if hw[0] * hw[1] > MAX_PIXELS:
        raise BitmapFormatError(f"{source}: images of {hw[0]}x{hw[1]} pixels; expected at most {MAX_PIXELS:,} "
                                f"pixels ({math.isqrt(MAX_PIXELS)}x{math.isqrt(MAX_PIXELS)})")


def square_or_shape(n_pixels: int, shape: tuple[int, int] | None, what: str) -> tuple[int, int]:
    if shape is not None:
        if shape[0] * shape[1] != n_pixels:
            raise BitmapFormatError(f"{what} do not make {shape[0]}x{shape[1]} images "
                                    f"({shape[0] * shape[1]} pixels)")
        return int(shape[0]), int(shape[1])
    side = math.isqrt(n_pixels)
    if side * side != n_pixels or side < 1:
        raise BitmapFormatError(f"{what} are not square; expected the image shape, e.g. shape=(h, w) (--shape HxW)")
    return side, side


def read_records(f: IO[bytes], dtype: np.dtype, n: int, n_pixels: int, source: str, unit: str) -> np.ndarray:
    """``n`` records of ``n_pixels`` values of ``dtype`` from ``f``, as float32 in [0, 1], read in chunks.

    Integers must lie in 0..255 (divided by 255), floats in [0, 1], booleans
    are 0 and 1. ``unit`` names a record in errors ("record", "row"). The
    result, the items' names (:data:`~genval.data.ITEM_BYTES` each) and the
    read buffer together are checked against the memory budget before any is
    allocated.
    """
    if n < 1:
        raise BitmapFormatError(f"{source}: holds no items; expected at least one image")
    record_bytes = n_pixels * dtype.itemsize
    # A chunk's read buffer plus what scale_pixels makes of it: the float32 copy and the range masks.
    working = record_bytes + 6 * n_pixels
    budget = memory_budget()
    step = max(1, min(n, CHUNK_BYTES // max(1, record_bytes), budget // CHUNK_SHARE // max(1, working)))
    check_allocation(n * (4 * n_pixels + ITEM_BYTES) + step * working,
                     f"{source}: {n} items of {n_pixels} pixels (load fewer with limit, --limit)", budget)
    X = np.empty((n, n_pixels), dtype=np.float32)
    buffer = bytearray(step * record_bytes)
    for start in range(0, n, step):
        count = min(step, n - start)
        view = memoryview(buffer)[:count * record_bytes]
        try:
            got = _read_into(f, view)
        except (EOFError, zlib.error, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise
            raise BitmapFormatError(f"{source}: damaged compressed data near {unit} {start} ({exc})") from None
        if got < len(view):
            raise BitmapFormatError(f"{source}: cut short in {unit} {start + got // record_bytes}; "
                                    f"expected {n} {unit}s of {n_pixels} values")
        chunk = np.frombuffer(buffer, dtype=dtype, count=count * n_pixels).reshape(count, n_pixels)
        X[start:start + count] = scale_pixels(chunk, source, unit, start)
    return X


def read_rows(f: IO[bytes], dtype: np.dtype, rows: np.ndarray, n_pixels: int, source: str, unit: str) -> np.ndarray:
    """Records ``rows`` (distinct record numbers, in any order) of ``n_pixels`` values each, in that order.

    The records start at ``f``'s position. They are read in file order,
    seeking past the others: a plain file reads only them; a gzipped file or
    a compressed ``.npz`` member decompresses what lies before the last one
    and keeps none of it. Memory as :func:`read_records`: the result and one
    chunk's buffer, checked against the budget first.
    """
    n = len(rows)
    record_bytes = n_pixels * dtype.itemsize
    working = record_bytes + 6 * n_pixels
    budget = memory_budget()
    step = max(1, min(n, CHUNK_BYTES // max(1, record_bytes), budget // CHUNK_SHARE // max(1, working)))
    check_allocation(n * (4 * n_pixels + ITEM_BYTES + 16) + step * working,
                     f"{source}: {n} items of {n_pixels} pixels (load fewer with limit, --limit)", budget)
    X = np.empty((n, n_pixels), dtype=np.float32)
    order = np.argsort(rows, kind="stable")  # positions in X, in file order
    start = f.tell()
    buffer = bytearray(step * record_bytes)
    for first in range(0, n, step):
        where = order[first:first + step]
        numbers = rows[where]
        for j, number in enumerate(numbers.tolist()):
            view = memoryview(buffer)[j * record_bytes:(j + 1) * record_bytes]
            try:
                f.seek(start + number * record_bytes)
                got = _read_into(f, view)
            except (EOFError, zlib.error, OSError) as exc:
                if isinstance(exc, OSError) and exc.errno is not None:
                    raise
                raise BitmapFormatError(f"{source}: damaged compressed data near {unit} {number} ({exc})") from None
            if got < record_bytes:
                raise BitmapFormatError(f"{source}: cut short in {unit} {number}; expected {unit}s of "
                                        f"{n_pixels} values up to {unit} {int(numbers[-1])}")
        chunk = np.frombuffer(buffer, dtype=dtype, count=len(where) * n_pixels).reshape(len(where), n_pixels)
        X[where] = scale_pixels(chunk, source, unit, 0, numbers)
    return X


def check_end(f: IO[bytes], source: str, what: str) -> None:
    """Read on to the end of a file whose data has all been read.

    Only there does gzip (or a ``.npz`` member) compare its checksum, so a
    damaged one shows; and data beyond what the header counts means the
    header is wrong. At most one byte more is read.
    """
    try:
        extra = f.read(1)
    except (EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise
        kind = "gzip" if isinstance(f, gzip.GzipFile) else "compressed"
        raise BitmapFormatError(f"{source}: damaged {kind} data ({shorten(str(exc), 80)}) after {what}") from None
    if extra:
        raise BitmapFormatError(f"{source}: more data after {what}; expected the file to end there "
                                "(does the header count them right?)")


def _read_into(f: IO[bytes], view: memoryview) -> int:
    got = 0
    while got < len(view):
        k = f.readinto(view[got:])
        if not k:
            break
        got += k
    return got


def scale_pixels(chunk: np.ndarray, source: str, unit: str, first: int, numbers: np.ndarray | None = None) -> np.ndarray:
    """Records as float32 in [0, 1]: bytes and other integers 0..255 divided by 255, floats kept.

    A bad value is reported at record ``first + r``, or ``numbers[r]`` when the records are not consecutive.
    """
    if chunk.dtype == np.bool_:
        return chunk
    if chunk.dtype == np.uint8:
        return _divided(chunk)
    if chunk.dtype.kind in "iu":
        low, high, lowest = 0, 255, "integers 0..255"
    elif chunk.dtype.kind == "f":
        low, high, lowest = 0.0, 1.0, "floats in [0, 1]"
    else:
        raise BitmapFormatError(f"{source}: pixels of type {chunk.dtype}; expected uint8 0..255 or floats in [0, 1]")
    bad = ~((chunk >= low) & (chunk <= high))  # NaN fails both comparisons
    if bad.any():
        r, c = np.argwhere(bad)[0]
        number = first + r if numbers is None else int(numbers[r])
        raise BitmapFormatError(f"{source}: {unit} {number} holds {chunk[r, c]!r} at pixel {c}; expected {lowest}")
    return _divided(chunk) if chunk.dtype.kind in "iu" else chunk


def _divided(chunk: np.ndarray) -> np.ndarray:
    """``chunk / 255`` as float32, in place in one copy (memory is budgeted per chunk)."""
    out = chunk.astype(np.float32)
    out /= np.float32(255)
    return out


def some_names(names: list[str], shown: int = 10) -> str:
    """The first ``shown`` names, comma-separated and each shortened, then how many more: one short line.

    >>> some_names(["a", "b"]), some_names([f"a{i}" for i in range(20000)], 3)
    ('a, b', 'a0, a1, a2 ... and 19,997 more')
    """
    text = ", ".join(printable_name(n) for n in names[:shown])
    return text + (f" ... and {len(names) - shown:,} more" if len(names) > shown else "")


def printable_name(name: str) -> str:
    """A name from a file as one short line: escapes for control characters (a newline would split a message),
    40 characters and then "..."."""
    return printable(name, 43)
