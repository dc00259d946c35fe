"""Arrays of grey images in binary files: IDX (MNIST, Fashion-MNIST) and NumPy ``.npy``/``.npz``.

Both hold a header (element type and dimensions) and then the pixels, read in
chunks after the header is checked against the memory budget. Their labels
come from a companion IDX file or a ``.npz`` member (``y_train`` beside
``x_train``).
"""

from __future__ import annotations

import io
import math
import struct
import tokenize
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

import numpy as np

from genval.errors import BitmapFormatError, GenvalError
from genval.data._formats import IDX_TYPES, Decoded, check_budget, open_binary, shorten
from genval.data._pixels import check_end, image_shape, printable_name, read_records, read_rows, some_names
from genval.data._selection import draw_rows

__all__: list[str] = []


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


def read_idx(path: Path, shape: tuple[int, int] | None = None, limit: int | None = None,
             rng: np.random.Generator | None = None) -> Decoded:
    """Decode an IDX image file (MNIST's ``train-images-idx3-ubyte``, gzipped or not).

    Records of ``(height, width)`` bytes become grey levels ``byte / 255``;
    a rank-2 file ``(n, height*width)`` needs ``shape``. Items are named by
    their record number, from 0. With ``rng``, ``limit`` records (default:
    all) drawn at random with it, in the drawn order; only they are read.
    """
    source = str(path)
    with open_binary(path) as f:
        dtype, dims = _idx_header(f, source)
        if len(dims) == 1:
            raise BitmapFormatError(f"{source}: a rank-1 IDX file holds labels, not images; "
                                    "expected images of rank 3 (n, height, width)")
        hw = image_shape(dims[1:], shape, source)
        X, rows = _records(f, dtype, dims[0], hw, limit, rng, source)
    return Decoded(X, hw, None, None, dims[0], rows=rows)


def _records(f: IO[bytes], dtype: np.dtype, n_total: int, hw: tuple[int, int], limit: int | None,
             rng: np.random.Generator | None, source: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The first ``limit`` records (all by default), or with ``rng`` that many drawn at random; and which."""
    rows = None if rng is None else draw_rows(n_total, limit, rng, source)
    if rows is None:
        n = n_total if limit is None else min(limit, n_total)
        X = read_records(f, dtype, n, hw[0] * hw[1], source, "record")
    else:
        n = len(rows)
        if not n:
            raise BitmapFormatError(f"{source}: holds no items; expected at least one image")
        X = read_rows(f, dtype, rows, hw[0] * hw[1], source, "record")
    if n == n_total:
        check_end(f, source, f"its {n} records")
    return X, rows


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


# --------------------------------------------------------------------------- NumPy

def read_numpy(path: Path, key: str | None = None, shape: tuple[int, int] | None = None,
               limit: int | None = None, rng: np.random.Generator | None = None) -> Decoded:
    """Decode a ``.npy`` array, or one array of a ``.npz`` (``key``; needed when it holds several).

    The array is (n, height, width), or (n, height*width) with ``shape`` (or
    square); uint8 0..255 or floats in [0, 1]. Only the header and the first
    ``limit`` records (with ``rng``: ``limit`` drawn at random) are read;
    nothing is unpickled.
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
        hw = image_shape(dims[1:], shape, source)
        X, rows = _records(f, dtype, dims[0], hw, limit, rng, source)
    return Decoded(X, hw, None, None, dims[0], member, rows)


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
                example = (f"; pick one, e.g. {path}:{printable_name(members[0])}" if members
                           else "; expected NumPy arrays")
                raise BitmapFormatError(f"{path} holds {len(members)} arrays ({some_names(members)}){example}")
            else:
                key = members[0]
        if key not in members:
            raise BitmapFormatError(f"{path}: no array {key!r}; it holds {some_names(members) or 'none'}")
        source = f"{path}:{printable_name(key)}"  # a member's name is the archive's text: escaped, shortened
        if zf.getinfo(key + ".npy").flag_bits & 0x1:  # zipfile would raise RuntimeError, asking for a password
            raise BitmapFormatError(f"{source}: encrypted; expected a .npz as np.savez writes it")
        try:
            with zf.open(key + ".npy") as f:
                yield f, source, key
        except GenvalError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            # A damaged archive fails in zipfile's seeks, CRC checks and decompressors alike.
            raise BitmapFormatError(f"{source}: damaged .npz data ({shorten(str(exc), 80)})") from None


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
