"""Grey image files: IDX (MNIST, Fashion-MNIST), NumPy ``.npy``/``.npz``, CSV and image folders.

Each reader decodes to float32 in ``[0, 1]`` (bytes 0..255 divided by 255,
floats kept if they already lie in ``[0, 1]``) and reads binary files in
chunks of :data:`~genval.data.CHUNK_BYTES`, so ``limit`` stops after the
first items and a file never costs more than its decoded pixels. Labels come
from the file itself (a CSV label column, sub-folders), from a labels file
beside it (MNIST's ``train-labels-idx1-ubyte.gz``, a ``.npz``'s ``y_train``)
or from one given.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
import struct
import tokenize
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

import numpy as np

from genval._utils.archive import printable
from genval._utils.budget import CHUNK_SHARE, check_allocation, memory_budget
from genval.errors import BitmapFormatError, GenvalError
from genval.data._formats import (
    IDX_TYPES, CHUNK_BYTES, ITEM_BYTES, Decoded, check_budget, check_name, open_binary, read_bitmap_text, shorten, sniff,
)

IMAGE_SUFFIXES = (".png", ".pgm", ".pbm", ".ppm")
# Pixels in one image: a 4096 x 4096 bitmap, as wide as the widest layer a genval model accepts
# (autoencoder._MAX_WIDTH); a header claiming more is damaged or not meant for genval.
MAX_PIXELS = 2**24


# --------------------------------------------------------------------------- IDX (MNIST)

def _idx_header(f: IO[bytes], source: str) -> tuple[np.dtype, tuple[int, ...]]:
    head = f.read(4)
    if len(head) < 4 or head[:2] != b"\0\0" or not 1 <= head[3] <= 4:
        raise BitmapFormatError(f"{source}: not an IDX file; expected the bytes 0 0, a type code and a rank")
    if head[2] not in IDX_TYPES:
        codes = ", ".join(f"{code:#04x}" for code in IDX_TYPES)
        raise BitmapFormatError(f"{source}: IDX type code {head[2]:#04x}; expected one of {codes}")
    dims_bytes = f.read(4 * head[3])
    if len(dims_bytes) < 4 * head[3]:
        raise BitmapFormatError(f"{source}: IDX header cut short; expected {head[3]} dimensions")
    return np.dtype(IDX_TYPES[head[2]]), struct.unpack(f">{head[3]}I", dims_bytes)


def read_idx(path: Path, shape: tuple[int, int] | None = None, limit: int | None = None) -> Decoded:
    """Decode an IDX image file (MNIST's ``train-images-idx3-ubyte``, gzipped or not).

    Records of ``(height, width)`` bytes become grey levels ``byte / 255``;
    a rank-2 file ``(n, height*width)`` needs ``shape``. Items are named by
    their record number, from 0.
    """
    source = str(path)
    with open_binary(path) as f:
        dtype, dims = _idx_header(f, source)
        if len(dims) == 1:
            raise BitmapFormatError(f"{source}: a rank-1 IDX file holds labels, not images; "
                                    "expected images of rank 3 (n, height, width)")
        hw = _image_shape(dims[1:], shape, source)
        n = dims[0] if limit is None else min(limit, dims[0])
        X = read_records(f, dtype, n, hw[0] * hw[1], source, "record")
        if n == dims[0]:
            check_end(f, source, f"its {n} records")
    return Decoded(X, hw, None, None, dims[0])


def read_idx_labels(path: Path) -> list[str]:
    """The labels of a rank-1 IDX file (MNIST's ``train-labels-idx1-ubyte``), as strings."""
    source = str(path)
    with open_binary(path) as f:
        dtype, dims = _idx_header(f, source)
        if len(dims) != 1 or dtype.kind not in "iu":
            raise BitmapFormatError(f"{source}: expected an IDX file of integer labels (rank 1), "
                                    f"found rank {len(dims)} of {dtype}")
        check_budget(dims[0], 1, 64, source, per_item=0)
        data = _read_labels_data(f, dims[0], dtype, source)
    return [str(v) for v in np.frombuffer(data, dtype=dtype).tolist()]


def _read_labels_data(f: IO[bytes], n: int, dtype: np.dtype, source: str) -> bytes:
    """The bytes of ``n`` labels, and the file read to its end."""
    try:
        data = f.read(n * dtype.itemsize)
    except (EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise
        raise BitmapFormatError(f"{source}: damaged compressed data ({shorten(str(exc), 80)})") from None
    if len(data) < n * dtype.itemsize:
        raise BitmapFormatError(f"{source}: cut short after {len(data) // dtype.itemsize} of {n} labels")
    check_end(f, source, f"its {n} labels")
    return data


def _image_shape(dims: tuple[int, ...], shape: tuple[int, int] | None, source: str) -> tuple[int, int]:
    """(height, width) from a record's dimensions: (h, w), or (h*w,) with ``shape`` or a square."""
    if len(dims) == 2:
        if shape is not None and tuple(shape) != tuple(dims):
            raise BitmapFormatError(f"{source}: holds {dims[0]}x{dims[1]} images, not {shape[0]}x{shape[1]}")
        hw = (int(dims[0]), int(dims[1]))
    elif len(dims) == 1:
        hw = _square_or_shape(int(dims[0]), shape, f"{source}: records of {dims[0]} pixels")
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


def _square_or_shape(n_pixels: int, shape: tuple[int, int] | None, what: str) -> tuple[int, int]:
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


def scale_pixels(chunk: np.ndarray, source: str, unit: str, first: int) -> np.ndarray:
    """Records as float32 in [0, 1]: bytes and other integers 0..255 divided by 255, floats kept."""
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
        raise BitmapFormatError(f"{source}: {unit} {first + r} holds {chunk[r, c]!r} at pixel {c}; expected {lowest}")
    return _divided(chunk) if chunk.dtype.kind in "iu" else chunk


def _divided(chunk: np.ndarray) -> np.ndarray:
    """``chunk / 255`` as float32, in place in one copy (memory is budgeted per chunk)."""
    out = chunk.astype(np.float32)
    out /= np.float32(255)
    return out


# --------------------------------------------------------------------------- NumPy

def read_numpy(path: Path, key: str | None = None, shape: tuple[int, int] | None = None,
               limit: int | None = None) -> Decoded:
    """Decode a ``.npy`` array, or one array of a ``.npz`` (``key``; needed when it holds several).

    The array is (n, height, width), or (n, height*width) with ``shape`` (or
    square); uint8 0..255 or floats in [0, 1]. Only the header and the first
    ``limit`` records are read; nothing is unpickled.
    """
    with _open_array(path, key) as (f, source, member):
        dtype, dims, fortran = _npy_header(f, source)
        if len(dims) < 2:
            raise BitmapFormatError(f"{source}: an array of shape {dims}; expected (n, height, width) "
                                    "or (n, height*width) images")
        if fortran and math.prod(dims[1:]) > 1:
            raise BitmapFormatError(f"{source}: stored in Fortran order; expected C order (np.save of a C array)")
        if dtype.kind not in "biuf":
            raise BitmapFormatError(f"{source}: pixels of type {dtype}; expected uint8 0..255 or floats in [0, 1]")
        hw = _image_shape(dims[1:], shape, source)
        n = dims[0] if limit is None else min(limit, dims[0])
        X = read_records(f, dtype, n, hw[0] * hw[1], source, "record")
        if n == dims[0]:
            check_end(f, source, f"its {n} records")
    return Decoded(X, hw, None, None, dims[0], member)


def read_numpy_labels(path: Path, key: str | None = None) -> list[str]:
    """The labels in a 1-D ``.npy`` array, or in one array of a ``.npz``, as strings."""
    with _open_array(path, key) as (f, source, _):
        dtype, dims, _ = _npy_header(f, source)
        if len(dims) != 1 or dtype.kind not in "biuU":
            raise BitmapFormatError(f"{source}: expected a 1-D array of labels, found shape {dims} of {dtype}")
        check_budget(dims[0], 1, 64 + dtype.itemsize, source, per_item=0)
        data = _read_labels_data(f, dims[0], dtype, source)
    return [str(v) for v in np.frombuffer(data, dtype=dtype).tolist()]


def npz_labels_key(key: str) -> str | None:
    """The labels array that goes with an images array by the usual names: ``x_train`` -> ``y_train``.

    >>> npz_labels_key("x_train"), npz_labels_key("images"), npz_labels_key("pixels")
    ('y_train', 'labels', None)
    """
    if key in ("images", "X", "x"):
        return {"images": "labels", "X": "y", "x": "y"}[key]
    if key[:2] in ("x_", "X_"):
        return "y_" + key[2:]
    return None


@contextmanager
def _open_array(path: Path, key: str | None) -> Iterator[tuple[IO[bytes], str, str | None]]:
    """``(stream, source, member)``: a ``.npy`` file, or array ``key`` of a ``.npz`` (its only one by default)."""
    if key is None and not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            yield f, str(path), None
        return
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, NotImplementedError) as exc:
        raise BitmapFormatError(f"{path}: not a .npz file ({exc})") from None
    with zf:
        members = [m[:-4] for m in zf.namelist() if m.endswith(".npy")]
        if key is None:
            known = set(members)
            paired = [m for m in members if npz_labels_key(m) in known]  # images beside their labels
            if len(members) > 1 and (len(paired) == 1 or "x_train" in paired):
                key = paired[0] if len(paired) == 1 else "x_train"
            elif len(members) != 1:
                example = f"; pick one, e.g. {path}:{_printable(members[0])}" if members else "; expected NumPy arrays"
                raise BitmapFormatError(f"{path} holds {len(members)} arrays ({some_names(members)}){example}")
            else:
                key = members[0]
        if key not in members:
            raise BitmapFormatError(f"{path}: no array {key!r}; it holds {some_names(members) or 'none'}")
        if zf.getinfo(key + ".npy").flag_bits & 0x1:  # zipfile would raise RuntimeError, asking for a password
            raise BitmapFormatError(f"{path}:{key}: encrypted; expected a .npz as np.savez writes it")
        try:
            with zf.open(key + ".npy") as f:
                yield f, f"{path}:{key}", key
        except GenvalError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            # A damaged archive fails in zipfile's seeks, CRC checks and decompressors alike.
            raise BitmapFormatError(f"{path}:{key}: damaged .npz data ({shorten(str(exc), 80)})") from None


def some_names(names: list[str], shown: int = 10) -> str:
    """The first ``shown`` names, comma-separated and each shortened, then how many more: one short line.

    >>> some_names(["a", "b"]), some_names([f"a{i}" for i in range(20000)], 3)
    ('a, b', 'a0, a1, a2 ... and 19,997 more')
    """
    text = ", ".join(_printable(n) for n in names[:shown])
    return text + (f" ... and {len(names) - shown:,} more" if len(names) > shown else "")


def _printable(name: str) -> str:
    """A name from a file as one short line: escapes for control characters (a newline would split a message),
    40 characters and then "..."."""
    return printable(name, 43)


_NPY_HEADER_BYTES = 10_000  # a header of a few dimensions takes a hundred


def _npy_header(f: IO[bytes], source: str) -> tuple[np.dtype, tuple[int, ...], bool]:
    try:
        with warnings.catch_warnings():
            # numpy warns that a header written by Python 2 needed more parsing; it loads the same.
            warnings.simplefilter("ignore", UserWarning)
            version = np.lib.format.read_magic(f)
            # numpy reads all the bytes a header claims (up to 4 GiB) before its size limit applies.
            length = f.read(2 if version == (1, 0) else 4)
            size = int.from_bytes(length, "little")
            if size > _NPY_HEADER_BYTES:
                raise BitmapFormatError(f"{source}: a NumPy header of {size:,} bytes; expected at most "
                                        f"{_NPY_HEADER_BYTES:,}")
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            dims, fortran, dtype = read(io.BytesIO(length + f.read(size)), max_header_size=_NPY_HEADER_BYTES)
    except GenvalError:
        raise
    # numpy evaluates the header's Python literal: a damaged one fails in the tokenizer or the parser.
    except (ValueError, TypeError, OSError, EOFError, SyntaxError, RecursionError, tokenize.TokenError, zlib.error,
            zipfile.BadZipFile) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise
        raise BitmapFormatError(f"{source}: not a NumPy array file ({shorten(str(exc), 80)})") from None
    if dtype.hasobject:
        raise BitmapFormatError(f"{source}: holds Python objects; expected numbers (nothing is unpickled)")
    return dtype, tuple(int(d) for d in dims), fortran


# --------------------------------------------------------------------------- CSV

_LABEL_COLUMNS = ("label", "labels", "class", "target", "y", "digit")


def read_csv(path: Path, shape: tuple[int, int] | None = None, limit: int | None = None) -> Decoded:
    """Decode a CSV file of one image per row (gzipped or not).

    An optional header row (any field that is not a number) names the columns;
    a column named ``label`` (or class, target, y, digit) holds labels. Without a
    header, a first column beside a square number of pixels (``label,pixel0,...``
    as in ``mnist_train.csv``) or beside ``shape`` pixels is the label. Values
    are integers 0..255 (or only 0 and 1) or floats in [0, 1]. The file is read
    twice, a line at a time: once to count the rows, once to fill the array.
    A line may be at most :func:`csv_line_limit` characters long.
    """
    source = str(path)
    label_col, n_columns, header_line, n_rows = _csv_layout(path, source, shape)
    n_pixels = n_columns - (label_col is not None)
    hw = _square_or_shape(n_pixels, shape, f"{source}: rows of {n_pixels} pixels")
    check_image_size(hw, source)
    n = n_rows if limit is None else min(limit, n_rows)
    check_budget(n, n_pixels, 4, source)
    X = np.empty((n, n_pixels), dtype=np.float32)
    labels: list[str] | None = [] if label_col is not None else None
    whole = True  # every value an integer so far
    with _csv_lines(path, source) as lines, warnings.catch_warnings():
        # np.fromstring parses a row in C, and warns (here: raises) where it meets something else.
        warnings.simplefilter("error", DeprecationWarning)
        row = 0
        for lineno, line in lines:
            if row >= n:
                break
            if lineno == header_line or not line.strip():
                continue
            line = line.rstrip("\r\n")
            if label_col is not None:
                found = line.count(",") + 1  # counted in C: a wide row is never split into Python strings
                if found != n_columns:
                    raise BitmapFormatError(f"{source}:{lineno}: {found} columns; expected {n_columns} "
                                            "like the first row")
                label, line = _split_column(line, label_col, n_columns)
                labels.append(check_name(label.strip().strip('"'), f"{source}:{lineno}"))
            try:
                values = np.fromstring(line, dtype=np.float32, sep=",")
            except (DeprecationWarning, ValueError):
                values = np.array([])
            if len(values) != n_pixels or not np.isfinite(values).all():
                raise _csv_row_error(line, n_pixels, n_columns, source, lineno)
            in_range = (values >= 0) & (values <= 255)
            if not in_range.all():
                raise BitmapFormatError(f"{source}:{lineno}: pixel value {values[~in_range][0]:g}; "
                                        "expected integers 0..255 or floats in [0, 1]")
            whole = whole and bool((values == np.round(values)).all())
            X[row] = values
            row += 1
    if not whole and X.max(initial=0) > 1:
        raise BitmapFormatError(f"{source}: fractional values above 1; expected integers 0..255 or floats in [0, 1]")
    if whole and X.max(initial=0) > 1:
        X /= np.float32(255)
    return Decoded(X, hw, None, labels, n_rows)


def _split_column(line: str, k: int, n_columns: int) -> tuple[str, str]:
    """Field ``k`` of a line of ``n_columns`` comma-separated fields, and the line without it."""
    if k == n_columns - 1:
        rest, _, field = line.rpartition(",")
        return field, rest
    *before, field, after = line.split(",", k + 1)
    return field, ",".join([*before, after])


def _fields(line: str) -> Iterator[str]:
    """The comma-separated fields of a line, one at a time (a wide row as a list would cost ~50 bytes a field)."""
    start = 0
    while (end := line.find(",", start)) >= 0:
        yield line[start:end]
        start = end + 1
    yield line[start:]


def _csv_row_error(line: str, n_pixels: int, n_columns: int, source: str, lineno: int) -> BitmapFormatError:
    """What is wrong with a row that did not parse as ``n_pixels`` numbers."""
    for field in _fields(line):
        # A number's digits are bounded first: float() of megabytes of them takes a while, to say "not a pixel".
        if len(field) > 64 or not _is_number(field) or not math.isfinite(float(field)):
            return BitmapFormatError(f"{source}:{lineno}: {shorten(field.strip())!r} is not a pixel value; "
                                     "expected numbers 0..255 or in [0, 1]")
    return BitmapFormatError(f"{source}:{lineno}: {line.count(',') + 1 + n_columns - n_pixels} columns; expected "
                             f"{n_columns} like the first row")


def csv_line_limit() -> int:
    """The longest CSV line read, in characters: a sixteenth of the memory budget.

    A line costs up to about 16 bytes a character while it is read and parsed
    (its text, a copy, and up to one float32 for every two characters), so a
    file without line breaks is refused by the budget instead of read whole.
    With the default budget of 1 GiB that is 64 Mi characters, a row of
    4096 x 4096 pixels of up to three digits.

    >>> import os
    >>> os.environ["GENVAL_MEMORY_BUDGET"] = "16M"
    >>> csv_line_limit()
    1048576
    >>> del os.environ["GENVAL_MEMORY_BUDGET"]
    """
    return memory_budget() // _CSV_BYTES_PER_CHAR


_CSV_BYTES_PER_CHAR = 16


class _csv_lines:
    """``(line number, line)`` of a (possibly gzipped) text file, a byte-order mark dropped.

    Lines longer than :func:`csv_line_limit` are refused before they are read whole.
    """

    def __init__(self, path: Path, source: str):
        self.path, self.source = path, source

    def __enter__(self) -> Iterator[tuple[int, str]]:
        self.limit = csv_line_limit()
        self.f = io.TextIOWrapper(open_binary(self.path), encoding="utf-8-sig", newline="")
        return self._lines()

    def _lines(self) -> Iterator[tuple[int, str]]:
        lineno = 0
        try:
            while line := self.f.readline(self.limit + 1):
                lineno += 1
                if len(line) > self.limit:
                    check_allocation(_CSV_BYTES_PER_CHAR * len(line),
                                     f"{self.source}:{lineno}: a line of more than {self.limit:,} characters")
                if "\0" in line:  # NumPy's number parser would stop there and take the rest of the row as read
                    raise BitmapFormatError(f"{self.source}:{lineno}: a NUL character at column "
                                            f"{line.index(chr(0)) + 1}; expected text")
                yield lineno, line
        except UnicodeDecodeError as exc:
            raise BitmapFormatError(f"{self.source}:{lineno + 1}: not a text file ({exc.reason})") from None
        except (EOFError, zlib.error, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise
            raise BitmapFormatError(f"{self.source}: damaged gzip data ({shorten(str(exc), 80)})") from None

    def __exit__(self, *exc) -> None:
        self.f.close()


def _csv_layout(path: Path, source: str, shape: tuple[int, int] | None) -> tuple[int | None, int, int, int]:
    """(label column or None, columns, line number of the header or 0, data rows), from one pass over the file."""
    n_columns = 0
    names: list[str] | None = None
    header_line = 0
    n_rows = 0
    with _csv_lines(path, source) as lines:
        for lineno, line in lines:
            if not line.strip():
                continue
            if not n_columns:
                n_columns, names = _csv_first_row(line, source, lineno)
                header_line = lineno if names is not None else 0
            n_rows += 1
    n_rows -= bool(header_line)
    if not n_rows:
        raise BitmapFormatError(f"{source}: no rows; expected one image per row of comma-separated pixel values")
    if names is not None:
        found = [i for i, v in enumerate(names) if v.strip().lower() in _LABEL_COLUMNS]
        return (found[0] if found else None), n_columns, header_line, n_rows
    square = math.isqrt(n_columns) ** 2 == n_columns
    if shape is not None:
        label = n_columns == shape[0] * shape[1] + 1
    else:
        label = not square and math.isqrt(n_columns - 1) ** 2 == n_columns - 1
    return (0 if label else None), n_columns, 0, n_rows


def _csv_first_row(line: str, source: str, lineno: int) -> tuple[int, list[str] | None]:
    """(columns, the column names if the row is a header): any field that is not a number makes it one."""
    n_columns = line.count(",") + 1
    if n_columns > MAX_PIXELS + 1:
        raise BitmapFormatError(f"{source}:{lineno}: {n_columns:,} columns; expected at most {MAX_PIXELS + 1:,} "
                                f"(images of at most {MAX_PIXELS:,} pixels, and a label)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        try:  # a row of numbers, the usual case, parses in C without a Python string per field
            if len(np.fromstring(line, dtype=np.float32, sep=",")) == n_columns:
                return n_columns, None
        except (DeprecationWarning, ValueError):
            pass
    check_allocation(100 * n_columns, f"{source}:{lineno}: a header row of {n_columns:,} names")
    try:
        fields = next(csv.reader([line]))
    except csv.Error as exc:
        raise BitmapFormatError(f"{source}:{lineno}: {exc}; expected a header row of column names "
                                "or one image of comma-separated pixel values") from None
    return len(fields), (None if all(_is_number(v) for v in fields) else fields)


def _is_number(text: str) -> bool:
    if "_" in text:  # Python's float() reads 1_0 as 10; a CSV reader does not
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- image folders

def read_image_folder(folder: Path, limit: int | None = None) -> Decoded:
    """Decode a folder of PNG or PGM images, one item per file, colour turned to grey.

    Files directly in the folder are named by their stem; with sub-folders
    instead, each sub-folder's name is its images' label and an item is named
    ``sub/stem``. Bright is ink, as in MNIST. All images must have one size.

    A file must be what its suffix promises (``.png`` a PNG, ``.pgm``, ``.pbm``
    and ``.ppm`` a Netpbm image), so no other decoder (nor an external program)
    ever runs on it. Each image's size is read from its header and checked
    against :data:`MAX_PIXELS`, the first image's size and the memory budget
    before its pixels are decoded.
    """
    source = str(folder)
    files, labels = _image_files(folder)
    if not files:
        raise BitmapFormatError(f"{source}: no images; expected .png or .pgm files, or sub-folders of them")
    n_total = len(files)
    if limit is not None:
        files, labels = files[:limit], (labels[:limit] if labels is not None else None)
    X: np.ndarray | None = None
    hw = (0, 0)
    names = []
    with _pillow_guard() as open_image:
        for i, path in enumerate(files):
            with open_image(path) as im:
                size = (im.size[1], im.size[0])  # from the header: nothing decoded yet
                check_image_size(size, str(path))
                if X is None:
                    hw = size
                    # The set, one name per item, and one image's decoding: Pillow's copy (up to 4 bytes
                    # a pixel: RGBA, I, F), the grey one and the float32 copy made of it (scaled in place).
                    check_allocation(len(files) * (4 * hw[0] * hw[1] + ITEM_BYTES) + _DECODE_BYTES * hw[0] * hw[1],
                                     f"{source}: {len(files)} images of {hw[0]}x{hw[1]} pixels "
                                     "(load fewer with limit, --limit)")
                    X = np.empty((len(files), hw[0] * hw[1]), dtype=np.float32)
                elif size != hw:
                    raise BitmapFormatError(f"{path}: {size[0]}x{size[1]} pixels (height x width); "
                                            f"expected {hw[0]}x{hw[1]} like {files[0].name}")
                X[i] = _grey(im, path).reshape(-1)
            stem = path.stem if labels is None else f"{path.parent.name}/{path.stem}"
            names.append(check_name(stem, str(path)))
    return Decoded(X, (int(hw[0]), int(hw[1])), names, labels, n_total)


# What each suffix promises, as Pillow's format names: only that decoder is tried.
_IMAGE_FORMATS = {".png": ("PNG",), ".pgm": ("PPM",), ".pbm": ("PPM",), ".ppm": ("PPM",)}
_DECODE_BYTES = 12  # working bytes a pixel while one image is decoded and turned to grey float32


@contextmanager
def _pillow_guard():
    """A function opening one image file, with Pillow's bomb guard at :data:`MAX_PIXELS` meanwhile.

    Pillow refuses more than twice its ``MAX_IMAGE_PIXELS`` while reading the
    header (and warns above it: genval's own check follows, from the same header).
    """
    from PIL import Image, UnidentifiedImageError  # Pillow only where images are read

    @contextmanager
    def open_image(path: Path):
        formats = _IMAGE_FORMATS[path.suffix.lower()]
        try:
            with Image.open(path, formats=formats) as im:
                yield im
        except GenvalError:
            raise
        except Image.DecompressionBombError as exc:
            found = re.search(r"\((\d+) pixels\)", str(exc))
            pixels = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
            side = math.isqrt(MAX_PIXELS)
            raise BitmapFormatError(f"{path}: an image of {pixels}; expected at most {MAX_PIXELS:,} "
                                    f"pixels ({side}x{side})") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
            if isinstance(exc, OSError) and exc.errno is not None and not isinstance(exc, UnidentifiedImageError):
                if exc.filename is None:  # a read error (a link to /proc/self/mem): say which file
                    raise OSError(exc.errno, exc.strerror, str(path)) from None
                raise
            expected = "a PNG file" if formats == ("PNG",) else "a PGM, PBM or PPM file"
            if isinstance(exc, UnidentifiedImageError):  # another format, or none: no other decoder is tried
                raise BitmapFormatError(f"{path}: not a readable image (its content is not {expected[2:-5]}); "
                                        f"expected {expected}, as its suffix says") from None
            raise BitmapFormatError(f"{path}: not a readable image ({shorten(str(exc), 80)}); "
                                    f"expected {expected}") from None

    before = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS if before is None else min(before, MAX_PIXELS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield open_image
    finally:
        Image.MAX_IMAGE_PIXELS = before


def _grey(im, path: Path) -> np.ndarray:
    """An opened image's pixels as grey float32 in [0, 1] (16- and 32-bit integers and floats kept fine)."""
    im.load()
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        pixels = np.asarray(im, dtype=np.float32)
        pixels /= np.float32(65535 if "16" in im.mode else 2**31 - 1)
    elif im.mode == "F":
        pixels = np.asarray(im, dtype=np.float32)
        if not np.isfinite(pixels).all():
            raise BitmapFormatError(f"{path}: pixels that are not finite numbers; expected grey levels")
    else:
        pixels = np.asarray(im.convert("L"), dtype=np.float32)
        pixels /= np.float32(255)
    return np.clip(pixels, 0, 1, out=pixels)


def _image_files(folder: Path) -> tuple[list[Path], list[str] | None]:
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    images = [p for p in entries if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    subfolders = [p for p in entries if p.is_dir()]
    if images and subfolders:
        raise BitmapFormatError(f"{folder}: holds both images and sub-folders ({subfolders[0].name}); "
                                "expected either images or one sub-folder of images per label")
    if images:
        return images, None
    files, labels = [], []
    for sub in subfolders:
        for p in sorted(sub.iterdir()):
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."):
                files.append(p)
                labels.append(check_name(sub.name, str(sub)))
    return files, labels


# --------------------------------------------------------------------------- labels files

def labels_beside(path: Path) -> Path | None:
    """The labels file MNIST ships beside an images file, if it is there.

    >>> labels_beside(Path("/nowhere/train-images-idx3-ubyte.gz")) is None
    True
    """
    renamed = re.sub(r"images([.-])idx3", r"labels\1idx1", path.name)
    if renamed == path.name:
        return None
    stem = renamed[:-3] if renamed.endswith(".gz") else renamed
    for name in (renamed, stem, stem + ".gz"):
        candidate = path.with_name(name)
        if candidate.is_file():
            return candidate
    return None


def read_labels(path: Path) -> list[str]:
    """Labels from an IDX labels file, a 1-D ``.npy``/``.npz`` array or a text file of one label a line."""
    key = None
    if not path.exists():
        head, sep, tail = str(path).rpartition(":")
        if sep and Path(head).is_file():
            path, key = Path(head), tail
    if not path.is_file():
        raise BitmapFormatError(f"{path}: no such labels file")
    kind = sniff(path)
    if kind == "idx":
        return read_idx_labels(path)
    if kind in ("npy", "npz"):
        return read_numpy_labels(path, key)
    text = read_bitmap_text(path)
    labels = []
    for lineno, line in enumerate(io.StringIO(text), start=1):
        if line.strip():
            labels.append(check_name(line.strip(), f"{path}:{lineno}"))
    return labels
