"""Bitmap sets: the value type every part of genval shares, and its readers.

A :class:`BitmapSet` holds item names, a pixel matrix ``X`` of shape
``(n_items, height * width)`` with floats in ``[0, 1]`` (row-major, top row
first) and the bitmap ``shape``. Sets come from three places:

* the bundled sets, by name: ``font`` (the course's 5x7 Font3, 32 glyphs),
  ``emojis`` (17 5x7 faces) and ``digits`` (scikit-learn's 8x8 digits);
* C headers in the course format, one row of numbers per item
  (``{0x04, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00},   // 0x60, `\\```);
* plain text: a name line, then rows of ``#`` (ink) and ``.`` (blank).

Use :func:`load_dataset` for all three.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from genval.errors import BitmapFormatError

__all__ = [
    "BitmapSet",
    "BUNDLED_DATASETS",
    "bitmap_rows",
    "format_header",
    "format_text",
    "load_dataset",
    "parse_header",
    "parse_text",
]

MAX_ROW_BITS = 16
COURSE_ROW_BITS = 5


@dataclass(frozen=True, eq=False)
class BitmapSet:
    """A named set of equally sized bitmaps.

    Parameters
    ----------
    names : sequence of str, length n_items
        Unique item names (``":)"``, ``"a"``, ``"3-17"``).
    X : array-like of shape (n_items, height * width)
        Pixel intensities in ``[0, 1]``, row-major, top row first.
    shape : (int, int)
        ``(height, width)`` of every bitmap.
    title : str, default ""
        Where the set came from, for messages and plot titles.

    Examples
    --------
    >>> s = BitmapSet(["dot"], [[0, 1, 0, 0]], shape=(2, 2))
    >>> s.render("dot")
    ['.#', '..']
    """

    names: tuple[str, ...]
    X: np.ndarray
    shape: tuple[int, int]
    title: str = ""

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.names)
        X = np.array(self.X, dtype=np.float64)
        shape = tuple(int(s) for s in self.shape)
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"shape must be (height, width) with both >= 1, got {self.shape}")
        if X.ndim != 2 or X.shape != (len(names), shape[0] * shape[1]):
            raise ValueError(
                f"X must have shape (n_items, height*width) = ({len(names)}, {shape[0] * shape[1]}), "
                f"got {X.shape}"
            )
        if X.size and (not np.isfinite(X).all() or X.min() < 0 or X.max() > 1):
            raise ValueError("X must hold finite pixel values in [0, 1]")
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in seen:
                raise ValueError(f"duplicate item name {name!r} (items {seen[name]} and {i})")
            seen[name] = i
        X.setflags(write=False)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "shape", shape)
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

    def index(self, item: str | int) -> int:
        """Position of an item given by name (or by position, checked).

        Raises
        ------
        KeyError
            For an unknown name; the message lists the known ones.
        """
        if isinstance(item, (int, np.integer)):
            if not -len(self) <= item < len(self):
                raise IndexError(f"item {item} out of range for {len(self)} items")
            return int(item) % len(self)
        try:
            return self._index[item]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"unknown item {item!r}; known items: {_names_preview(self.names)}") from None

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
        """A new set holding the given items, in the given order."""
        idx = [self.index(i) for i in items]
        return BitmapSet([self.names[i] for i in idx], self.X[idx], self.shape, self.title)


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


# --------------------------------------------------------------------------- C headers

_TOKEN = re.compile(
    r"(?P<comment>//[^\n]*|/\*.*?\*/)"
    r"|(?P<pre>^[ \t]*#[^\n]*)"
    r"|(?P<word>[A-Za-z_0-9][A-Za-z_0-9]*)"
    r"|(?P<punct>[{}\[\]=,;()*&+-])"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.S | re.M,
)
_NUMBER = re.compile(r"(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)[uUlL]*$")
_CODE_PREFIX = re.compile(r"^(0[xX][0-9a-fA-F]+)\s*[,:;-]?\s*(.*)$", re.S)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    line: int


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    line = 1
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        value = m.group()
        if kind not in ("space", "pre"):
            tokens.append(_Token(kind, value, line))
        line += value.count("\n")
    return tokens


def _comment_name(comment: str) -> str:
    """What a comment names: ``// 0x60, `` -> `` ` ``, ``/* :) */`` -> ``:)``."""
    body = comment[2:-2] if comment.startswith("/*") else comment[2:]
    body = body.strip()
    m = _CODE_PREFIX.match(body)
    if m:
        body = m.group(2).strip() or m.group(1)
    if len(body) >= 3 and body[0] == body[-1] and body[0] in "'\"":
        body = body[1:-1]
    return body


class _HeaderParser:
    def __init__(self, text: str, source: str):
        self.tokens = _tokenize(text)
        self.source = source
        self.pos = 0

    def error(self, line: int, message: str) -> BitmapFormatError:
        return BitmapFormatError(f"{self.source}:{line}: {message}")

    def arrays(self) -> list[tuple[str, list[int], int]]:
        """(name, declared dims, token index of the opening brace) of each array."""
        found = []
        toks = self.tokens
        for i, tok in enumerate(toks):
            if tok.text != "=" or i + 1 >= len(toks) or toks[i + 1].text != "{":
                continue
            j = i - 1
            if j >= 1 and toks[j].kind == "word" and toks[j - 1].text == "]":
                j -= 1  # an attribute between the dimensions and '=', e.g. PROGMEM
            dims: list[int] = []
            while j >= 0 and toks[j].text == "]":
                k = j - 1
                while k >= 0 and toks[k].text != "[":
                    k -= 1
                inner = toks[k + 1 : j]
                literal = len(inner) == 1 and _NUMBER.match(inner[0].text)
                dims.insert(0, self.number(inner[0]) if literal else -1)
                j = k - 1
            if dims and j >= 0 and toks[j].kind == "word":
                found.append((toks[j].text, dims, i + 1))
        return found

    def number(self, tok: _Token) -> int:
        if tok.kind != "word" or not _NUMBER.match(tok.text):
            raise self.error(tok.line, f"expected a number, found {tok.text!r}")
        digits = tok.text.rstrip("uUlL")
        prefix = digits[:2].lower()
        return int(digits[2:], 16) if prefix == "0x" else int(digits[2:], 2) if prefix == "0b" else int(digits)

    def body(self, start: int) -> list[tuple[list[int], str | None, int]]:
        """Rows of one array: (values, name or None, line) each."""
        toks = self.tokens
        i = start + 1
        rows: list[tuple[list[int], str | None, int]] = []
        leading: list[_Token] = []
        while True:
            if i >= len(toks):
                raise self.error(toks[-1].line, "unexpected end of file inside the array; expected '}'")
            tok = toks[i]
            if tok.kind == "comment":
                leading.append(tok)
                i += 1
            elif tok.text == ",":
                i += 1
            elif tok.text == "}":
                return rows
            elif tok.text == "{":
                values, i, end_line = self.row(i)
                # A comment on the line where the row ends names it; else one just before it.
                name = None
                j = i
                while j < len(toks) and toks[j].text == ",":
                    j += 1
                if j < len(toks) and toks[j].kind == "comment" and toks[j].line == end_line:
                    name = _comment_name(toks[j].text)
                    i = j + 1
                elif leading:
                    name = _comment_name(leading[-1].text)
                rows.append((values, name or None, tok.line))
                leading = []
            else:
                raise self.error(tok.line, f"expected '{{' starting an item, found {tok.text!r}")

    def row(self, i: int) -> tuple[list[int], int, int]:
        toks = self.tokens
        values = []
        i += 1
        expect_value = True
        while i < len(toks):
            tok = toks[i]
            if tok.kind == "comment":
                pass
            elif tok.text == "}":
                return values, i + 1, tok.line
            elif tok.text == "," and not expect_value:
                expect_value = True
            elif expect_value:
                if tok.text == "-":
                    raise self.error(tok.line, "expected a non-negative number, found '-'")
                values.append(self.number(tok))
                expect_value = False
            else:
                raise self.error(tok.line, f"expected ',' or '}}', found {tok.text!r}")
            i += 1
        raise self.error(toks[-1].line, "unexpected end of file inside an item; expected '}'")


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
    names nothing is named by its index.

    Parameters
    ----------
    text : str
        The header's contents.
    source : str
        File name used in error messages.
    array : str, optional
        Which array to read when the header holds several.
    width : int, optional
        Pixels per row (1..16). By default the bit length of the largest
        value, and at least 5 (the course's 5x7 format): pass it when no item
        reaches the leftmost column.

    Returns
    -------
    BitmapSet

    Raises
    ------
    BitmapFormatError
        Naming the file, the line and what was expected.

    Examples
    --------
    >>> s = parse_header("int const F[1][2] = {{0x11, 0x0e}}; // x")
    >>> s.names, s.render(0)
    (('0',), ['#...#', '.###.'])
    """
    if width is not None and not 1 <= width <= MAX_ROW_BITS:
        raise BitmapFormatError(f"{source}: row width must be 1..{MAX_ROW_BITS}, got {width}")
    parser = _HeaderParser(text, source)
    arrays = parser.arrays()
    if not arrays:
        raise BitmapFormatError(
            f"{source}: no bitmap array found; expected e.g. "
            "'int const Font[32][7] = {{0x04, 0x04, ...}, ...};'"
        )
    names = [a[0] for a in arrays]
    if array is None:
        if len(arrays) > 1:
            raise BitmapFormatError(
                f"{source} holds {len(arrays)} arrays ({', '.join(names)}); "
                f"pick one, e.g. {source}:{names[0]}"
            )
        chosen = arrays[0]
    else:
        matches = [a for a in arrays if a[0] == array]
        if not matches:
            raise BitmapFormatError(f"{source}: no array {array!r}; it holds {', '.join(names)}")
        chosen = matches[0]
    name, dims, start = chosen
    rows = parser.body(start)
    if not rows:
        raise BitmapFormatError(f"{source}: array {name} holds no items")
    height = len(rows[0][0])
    for i, (values, label, line) in enumerate(rows):
        if len(values) != height:
            raise parser.error(
                line, f"item {label or str(i)!r} has {len(values)} rows, expected {height} like the first item"
            )
    if len(dims) == 2 and dims[0] > 0 and dims[0] != len(rows):
        raise parser.error(rows[-1][2], f"array {name} declares {dims[0]} items, found {len(rows)}")
    if len(dims) == 2 and dims[1] > 0 and dims[1] != height:
        raise parser.error(rows[0][2], f"array {name} declares {dims[1]} rows per item, found {height}")

    largest = max(max(v) for v, _, _ in rows)
    if width is None:
        width = max(COURSE_ROW_BITS, largest.bit_length())
        if width > MAX_ROW_BITS:
            line = next(ln for v, _, ln in rows if largest in v)
            raise parser.error(line, f"value {largest:#x} is wider than {MAX_ROW_BITS} bits")
    for values, _, line in rows:
        for v in values:
            if v >> width:
                raise parser.error(line, f"value {v:#x} is wider than the {width}-pixel rows")

    labels = []
    seen: dict[str, int] = {}
    for i, (_, label, line) in enumerate(rows):
        label = label if label is not None else str(i)
        if label in seen:
            raise parser.error(line, f"duplicate item name {label!r} (first on line {seen[label]})")
        seen[label] = line
        labels.append(label)

    values = np.array([v for v, _, _ in rows], dtype=np.int64)  # (n, height)
    shifts = np.arange(width - 1, -1, -1)
    pixels = (values[:, :, None] >> shifts) & 1  # (n, height, width)
    return BitmapSet(labels, pixels.reshape(len(rows), -1).astype(float), (height, width), f"{source}:{name}")


def format_header(bitmaps: BitmapSet, array: str = "Bitmaps") -> str:
    """Write a set as a C header in the course format (the inverse of :func:`parse_header`).

    Pixels are thresholded at 0.5. Rows wider than 16 pixels cannot be written.

    Examples
    --------
    >>> print(format_header(BitmapSet(["x"], [[1, 0, 0, 1, 1, 0]], (2, 3)), "X"), end="")
    int const X[1][2] = {
       {0x04, 0x06}    // x
    };
    """
    h, w = bitmaps.shape
    if w > MAX_ROW_BITS:
        raise ValueError(f"rows of {w} pixels cannot be written as a header (at most {MAX_ROW_BITS})")
    weights = 1 << np.arange(w - 1, -1, -1)
    values = (bitmaps.binary().reshape(len(bitmaps), h, w) * weights).sum(axis=2)
    digits = 2 if w <= 8 else 4
    lines = [f"int const {array}[{len(bitmaps)}][{h}] = {{"]
    for i, (name, row) in enumerate(zip(bitmaps.names, values)):
        sep = "," if i + 1 < len(bitmaps) else " "
        hexes = ", ".join(f"0x{int(v):0{digits}x}" for v in row)
        lines.append(f"   {{{hexes}}}{sep}   // {name}")
    lines.append("};")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- plain text

_ROW = re.compile(r"^[#.]+$")


def parse_text(text: str, source: str = "<string>") -> BitmapSet:
    """Read a bitmap set from plain text.

    Each item is a name line followed by its rows of ``#`` (ink) and ``.``
    (blank). An item starts at the top of the file, after a blank line, or at
    any line that is not made only of ``#`` and ``.``.

    Examples
    --------
    >>> s = parse_text("bar\\n.#.\\n.#.\\n\\ndash\\n...\\n###\\n")
    >>> s.names, s.shape
    (('bar', 'dash'), (2, 3))
    """
    items: list[tuple[str, int, list[str]]] = []
    current: list | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            current = None
            continue
        if current is None or not _ROW.match(line):
            current = [line, lineno, []]
            items.append(current)  # type: ignore[arg-type]
        else:
            current[2].append((line, lineno))
    if not items:
        raise BitmapFormatError(f"{source}: no items; expected a name line followed by rows of '#' and '.'")
    first_name, first_line, first_rows = items[0]
    if not first_rows:
        raise BitmapFormatError(f"{source}:{first_line}: item {first_name!r} has no rows of '#' and '.'")
    height, width = len(first_rows), len(first_rows[0][0])
    seen: dict[str, int] = {}
    pixels = []
    for name, line, rows in items:
        if not rows:
            raise BitmapFormatError(f"{source}:{line}: item {name!r} has no rows of '#' and '.'")
        if len(rows) != height:
            raise BitmapFormatError(
                f"{source}:{line}: item {name!r} has {len(rows)} rows, expected {height} like the first item"
            )
        for row, row_line in rows:
            if len(row) != width:
                raise BitmapFormatError(
                    f"{source}:{row_line}: row {row!r} has {len(row)} pixels, expected {width}"
                )
        if name in seen:
            raise BitmapFormatError(f"{source}:{line}: duplicate item name {name!r} (first on line {seen[name]})")
        seen[name] = line
        pixels.append([c == "#" for row, _ in rows for c in row])
    return BitmapSet([i[0] for i in items], np.array(pixels, dtype=float), (height, width), source)


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
    return BitmapSet(names, digits.data / 16.0, (8, 8), "digits")


BUNDLED_DATASETS = {
    "emojis": ("17 faces, 5x7 (the set the map and validity checks are about)",
               lambda: _bundled_header("emojis.h", "emojis")),
    "font": ("the course's Font3, 32 glyphs 0x60..0x7f, 5x7",
             lambda: _bundled_header("font.h", "font")),
    "digits": ("scikit-learn's 1797 handwritten digits, 8x8 grayscale",
               _load_digits),
}


def load_dataset(spec: str | os.PathLike, width: int | None = None) -> BitmapSet:
    """Load a bundled set by name, or a bitmap file by path.

    Parameters
    ----------
    spec : str or path
        ``"font"``, ``"emojis"``, ``"digits"``; a C header path, optionally
        with ``:ArrayName`` to pick one of several arrays
        (``"path/to/font.h:Font2"``); or a ``.txt`` file in the plain text
        format.
    width : int, optional
        Row width for C headers, see :func:`parse_header`.

    Raises
    ------
    BitmapFormatError
        For an unknown name (listing the bundled ones), a missing file or a
        malformed one.

    Examples
    --------
    >>> load_dataset("emojis").render(":)")[4:6]
    ['#...#', '.###.']
    """
    spec = os.fspath(spec)
    if spec in BUNDLED_DATASETS:
        return BUNDLED_DATASETS[spec][1]()
    path, array = Path(spec), None
    if not path.exists():
        head, sep, tail = spec.rpartition(":")
        if sep and re.fullmatch(r"[A-Za-z_]\w*", tail) and Path(head).exists():
            path, array = Path(head), tail
    if not path.is_file():
        looks_like_name = os.sep not in spec and "." not in spec
        known = ", ".join(BUNDLED_DATASETS)
        if looks_like_name:
            raise BitmapFormatError(f"unknown dataset {spec!r}; bundled sets are {known}, or give a file path")
        raise BitmapFormatError(f"{spec}: no such file (bundled sets are {known})")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BitmapFormatError(f"{path}: not a text file ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise BitmapFormatError(f"{path}: the file is empty; expected a C header or a text bitmap set")
    if path.suffix.lower() == ".txt":
        if array is not None:
            raise BitmapFormatError(f"{spec}: ':{array}' picks an array in a C header, not in a text file")
        return parse_text(text, source=str(path))
    return parse_header(text, source=str(path), array=array, width=width)


def _names_preview(names: Sequence[str], limit: int = 40) -> str:
    return " ".join(names[:limit]) + (" ..." if len(names) > limit else "")
