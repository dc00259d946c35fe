"""Grey images in a CSV file: one image a row, an optional label column, an optional header row.

The layout (header, label column, pixels per row) is read from the first
rows; rows are then parsed one line at a time within the memory budget.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
import zlib
from pathlib import Path
from typing import Iterator

import numpy as np

from genval._utils.budget import check_allocation, memory_budget
from genval.errors import BitmapFormatError
from genval.data._formats import Decoded, check_budget, check_name, open_binary, shorten
from genval.data._pixels import MAX_PIXELS, check_image_size, square_or_shape
from genval.data._selection import draw_rows

__all__: list[str] = []


_LABEL_COLUMNS = ("label", "labels", "class", "target", "y", "digit")


def read_csv(path: Path, shape: tuple[int, int] | None = None, limit: int | None = None,
             rng: np.random.Generator | None = None) -> Decoded:
    """Decode a CSV file of one image per row (gzipped or not).

    An optional header row (any field that is not a number) names the columns;
    a column named ``label`` (or class, target, y, digit) holds labels. Without a
    header, a first column beside a square number of pixels (``label,pixel0,...``
    as in ``mnist_train.csv``) or beside ``shape`` pixels is the label. Values
    are integers 0..255 (or only 0 and 1) or floats in [0, 1]. The file is read
    twice, a line at a time: once to count the rows, once to fill the array.
    With ``rng``, ``limit`` rows (default: all) are drawn at random from the
    count and only they are parsed, in the drawn order. A line may be at most
    :func:`csv_line_limit` characters long.
    """
    source = str(path)
    label_col, n_columns, header_line, n_rows = _csv_layout(path, source, shape)
    n_pixels = n_columns - (label_col is not None)
    hw = square_or_shape(n_pixels, shape, f"{source}: rows of {n_pixels} pixels")
    check_image_size(hw, source)
    rows = None if rng is None else draw_rows(n_rows, limit, rng, source)
    n = len(rows) if rows is not None else n_rows if limit is None else min(limit, n_rows)
    check_budget(n, n_pixels, 4 + (0 if rows is None else 40), source)
    # Where each drawn data row goes in X (the drawn order); without a draw, the first n rows in order.
    slot = None if rows is None else {r: k for k, r in enumerate(rows.tolist())}
    last = n - 1 if rows is None else int(rows.max(initial=-1))
    X = np.empty((n, n_pixels), dtype=np.float32)
    labels: list | None = [None] * n if label_col is not None else None
    whole = True  # every value an integer so far
    with _csv_lines(path, source) as lines, warnings.catch_warnings():
        # np.fromstring parses a row in C, and warns (here: raises) where it meets something else.
        warnings.simplefilter("error", DeprecationWarning)
        data_row = -1
        for lineno, line in lines:
            if lineno == header_line or not line.strip():
                continue
            data_row += 1
            if data_row > last:
                break
            row = data_row if slot is None else slot.get(data_row)
            if row is None:
                continue
            line = line.rstrip("\r\n")
            if label_col is not None:
                found = line.count(",") + 1  # counted in C: a wide row is never split into Python strings
                if found != n_columns:
                    raise BitmapFormatError(f"{source}:{lineno}: {found} columns; expected {n_columns} "
                                            "like the first row")
                label, line = _split_column(line, label_col, n_columns)
                labels[row] = check_name(label.strip().strip('"'), f"{source}:{lineno}")
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
    if not whole and X.max(initial=0) > 1:
        raise BitmapFormatError(f"{source}: fractional values above 1; expected integers 0..255 or floats in [0, 1]")
    if whole and X.max(initial=0) > 1:
        X /= np.float32(255)
    return Decoded(X, hw, None, labels, n_rows, rows=rows)


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
