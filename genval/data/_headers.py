"""C headers in the course format and the plain text format, decoded in one linear pass.

The formats are described with :func:`genval.data.parse_header` and
:func:`genval.data.parse_text`, which build sets from what these readers
decode. Both readers take time linear in the text and keep only compact
arrays of what they read (an unclosed comment is an error at once, not a
search repeated from every later character); values are limited to 64 bits
before Python converts their digits.
"""

from __future__ import annotations

import io
import re
from array import array as _Array
from typing import Iterator

import numpy as np

from genval.errors import BitmapFormatError
from genval.data._formats import CHUNK_BYTES, Decoded, check_budget, check_name, shorten

MAX_ROW_BITS = 64
COURSE_ROW_BITS = 5


# --------------------------------------------------------------------------- C headers

TOKEN_PATTERN = re.compile(  # one C token; tests count its matches to hold the reading linear
    r"(?P<space>[ \t\r\f\v]+)|(?P<newline>\n)|(?P<comment>//[^\n]*)|(?P<block>/\*)"
    r"|(?P<word>[A-Za-z_0-9]+)|(?P<punct>[{}\[\]=,;()*&+#-])|(?P<other>.)",
    re.S,
)
_NUMBER = re.compile(r"(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)[uUlL]*")
_CODE_PREFIX = re.compile(r"^(0[xX][0-9a-fA-F]+)\s*[,:;-]?\s*(.*)$", re.S)
_BASES = {"0x": 16, "0b": 2, "": 10}
_MAX_DIGITS = {"0x": 16, "0b": 64, "": 20}  # significant digits of a 64-bit value in each base


def _tokens(text: str, source: str) -> Iterator[tuple[str, str, int]]:
    """(kind, text, line) of each token, preprocessor lines and spaces dropped, in one pass."""
    pos, line, end, line_start = 0, 1, len(text), True
    match = TOKEN_PATTERN.match
    while pos < end:
        m = match(text, pos)
        kind, value = m.lastgroup, m.group()
        pos = m.end()
        if kind == "newline":
            line += 1
            line_start = True
            continue
        if kind == "space":
            continue
        if kind == "block":
            close = text.find("*/", pos)
            if close < 0:
                raise BitmapFormatError(f"{source}:{line}: comment never closed; expected '*/'")
            value = text[pos - 2:close + 2]
            pos = close + 2
            yield "comment", value, line
            line += value.count("\n")
            continue
        if value == "#" and line_start:  # a preprocessor line: skipped up to its end
            newline = text.find("\n", pos)
            pos = end if newline < 0 else newline
            continue
        line_start = False
        yield kind, value, line


def _comment_name(comment: str) -> str:
    """What a comment names, on one line: ``// 0x60, `` -> `` ` ``, ``/* :) */`` -> ``:)``."""
    body = comment[2:-2] if comment.startswith("/*") else comment[2:]
    body = " ".join(body.split())
    m = _CODE_PREFIX.match(body)
    if m:
        body = m.group(2).strip() or m.group(1)
    if len(body) >= 3 and body[0] == body[-1] and body[0] in "'\"":
        body = body[1:-1]
    return body


class _HeaderReader:
    """One pass over a header's tokens: finds the arrays, reads the chosen one's rows compactly."""

    def __init__(self, text: str, source: str, array: str | None, limit: int | None):
        self.source, self.wanted, self.limit = source, array, limit
        self.tokens = _tokens(text, source)
        self.peeked: tuple[str, str, int] | None = None
        self.line = 1
        self.found: list[str] = []
        self.values = _Array("Q")  # every row value of the chosen array's kept items
        self.height = -1
        self.names: list[str] = []
        self.lines = _Array("q")
        self.n_rows = 0
        self.chosen: tuple[str, list[int]] | None = None

    def error(self, line: int, message: str) -> BitmapFormatError:
        return BitmapFormatError(f"{self.source}:{line}: {message}")

    def next(self) -> tuple[str, str, int] | None:
        if self.peeked is not None:
            tok, self.peeked = self.peeked, None
        else:
            tok = next(self.tokens, None)
        if tok is not None:
            self.line = tok[2]
        return tok

    def peek(self) -> tuple[str, str, int] | None:
        if self.peeked is None:
            self.peeked = next(self.tokens, None)
        return self.peeked

    def need(self, what: str) -> tuple[str, str, int]:
        tok = self.next()
        if tok is None:
            raise self.error(self.line, f"unexpected end of file inside {what}; expected '}}'")
        return tok

    def read(self) -> None:
        recent: list[tuple[str, str, int]] = []  # the statement so far, at most 64 tokens
        while (tok := self.next()) is not None:
            if tok[1] == "=" and (nxt := self.peek()) is not None and nxt[1] == "{":
                declared = self.declaration(recent)
                self.next()
                if declared is None:
                    self.skip()
                else:
                    self.found.append(declared[0])
                    if self.chosen is None and self.wanted in (None, declared[0]):
                        self.chosen = declared
                        self.body()
                    else:
                        self.skip()
                recent = []
            elif tok[1] in (";", "}"):
                recent = []
            else:
                recent = recent[-63:] + [tok]

    @staticmethod
    def declaration(recent: list[tuple[str, str, int]]) -> tuple[str, list[int]] | None:
        """``(name, dims)`` when the tokens before ``= {`` declare an array, e.g. ``F[2][7] PROGMEM``."""
        j = len(recent) - 1
        if j >= 1 and recent[j][0] == "word" and recent[j - 1][1] == "]":
            j -= 1  # an attribute between the dimensions and '=', e.g. PROGMEM
        dims: list[int] = []
        while j >= 0 and recent[j][1] == "]":
            k = j - 1
            while k >= 0 and recent[k][1] != "[":
                k -= 1
            inner = recent[k + 1:j]
            literal = len(inner) == 1 and _NUMBER.fullmatch(inner[0][1]) and len(inner[0][1]) <= 18
            dims.insert(0, int(inner[0][1].rstrip("uUlL"), 0) if literal and inner[0][1].isdigit() else -1)
            j = k - 1
        if dims and j >= 0 and recent[j][0] == "word":
            return recent[j][1], dims
        return None

    def skip(self) -> None:
        depth = 1
        while depth:
            text = self.need("an array")[1]
            depth += (text == "{") - (text == "}")

    def number(self, tok: tuple[str, str, int]) -> int:
        kind, text, line = tok
        if text == "-":
            raise self.error(line, "expected a non-negative number, found '-'")
        if kind != "word" or not _NUMBER.fullmatch(text):
            raise self.error(line, f"expected a number, found {shorten(text)!r}")
        digits = text.rstrip("uUlL")
        prefix = digits[:2].lower() if digits[:2].lower() in ("0x", "0b") else ""
        significant = digits[len(prefix):].lstrip("0")
        # Digits are counted before int() converts them: no huge numbers, no int_max_str_digits error.
        value = int(significant, _BASES[prefix]) if 0 < len(significant) <= _MAX_DIGITS[prefix] else 0
        if len(significant) > _MAX_DIGITS[prefix] or value >> MAX_ROW_BITS:
            raise self.error(line, f"value {shorten(text)} is wider than {MAX_ROW_BITS} bits")
        return value

    def body(self) -> None:
        leading: str | None = None  # the last comment before an item, which may name it
        while True:
            tok = self.need("the array")
            if tok[0] == "comment":
                leading = tok[1]
            elif tok[1] == "}":
                return
            elif tok[1] == "{":
                row, end_line = self.row()
                name = None
                while (nxt := self.peek()) is not None and nxt[1] == ",":
                    self.next()
                if nxt is not None and nxt[0] == "comment" and nxt[2] == end_line:
                    name = _comment_name(nxt[1])
                    self.next()
                elif leading is not None:
                    name = _comment_name(leading)
                self.keep(row, name or None, tok[2])
                leading = None
            elif tok[1] != ",":
                raise self.error(tok[2], f"expected '{{' starting an item, found {shorten(tok[1])!r}")

    def row(self) -> tuple[list[int], int]:
        values: list[int] = []
        expect_value = True
        while True:
            tok = self.need("an item")
            if tok[0] == "comment":
                continue
            if tok[1] == "}":
                return values, tok[2]
            if tok[1] == "," and not expect_value:
                expect_value = True
            elif expect_value:
                values.append(self.number(tok))
                expect_value = False
            else:
                raise self.error(tok[2], f"expected ',' or '}}', found {shorten(tok[1])!r}")

    def keep(self, row: list[int], name: str | None, line: int) -> None:
        index = self.n_rows
        self.n_rows += 1
        label = name if name is not None else str(index)
        if not row:
            raise self.error(line, f"item {label!r} has no rows; expected at least one number between its braces")
        if self.height < 0:
            self.height = len(row)
        elif len(row) != self.height:
            raise self.error(line, f"item {label!r} has {len(row)} rows, expected {self.height} like the first item")
        if self.limit is not None and index >= self.limit:
            return
        self.values.extend(row)
        self.names.append(check_name(label, f"{self.source}:{line}"))
        self.lines.append(line)


def read_header(text: str, source: str = "<string>", array: str | None = None, width: int | None = None,
                limit: int | None = None) -> Decoded:
    """Decode C-header text (see :func:`genval.data.parse_header` for the format).

    >>> d = read_header("int F[2][1] = {{0x1f}, {0x11}};")
    >>> d.X.tolist(), d.names, d.shape
    ([[1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0, 1.0]], ['0', '1'], (1, 5))
    """
    if width is not None and not 1 <= width <= MAX_ROW_BITS:
        raise BitmapFormatError(f"{source}: row width must be 1..{MAX_ROW_BITS}, got {width}")
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = _HeaderReader(text, source, array, limit)
    reader.read()
    if not reader.found:
        raise BitmapFormatError(
            f"{source}: no bitmap array found; expected e.g. 'int const Font[32][7] = {{{{0x04, 0x04, ...}}, ...}};'"
        )
    if array is None and len(reader.found) > 1:
        raise BitmapFormatError(
            f"{source} holds {len(reader.found)} arrays ({', '.join(reader.found)}); "
            f"pick one, e.g. {source}:{reader.found[0]}"
        )
    if reader.chosen is None:
        raise BitmapFormatError(f"{source}: no array {array!r}; it holds {', '.join(reader.found)}")
    name, dims = reader.chosen
    n, height = reader.n_rows, reader.height
    if not n:
        raise BitmapFormatError(f"{source}: array {name} holds no items")
    lines = reader.lines
    if len(dims) == 2 and dims[0] > 0 and dims[0] != n:
        raise reader.error(reader.line, f"array {name} declares {dims[0]} items, found {n}")
    if len(dims) == 2 and dims[1] > 0 and dims[1] != height:
        raise reader.error(lines[0], f"array {name} declares {dims[1]} rows per item, found {height}")
    values = np.frombuffer(reader.values, dtype=np.uint64).reshape(len(reader.names), height)
    largest = int(values.max())
    if width is None:
        width = max(COURSE_ROW_BITS, largest.bit_length())
    elif largest >> width:
        bad = int(np.argmax((values >> np.uint64(width)).any(axis=1)))
        wide = int(values[bad][values[bad] >> np.uint64(width) > 0][0])
        raise reader.error(lines[bad], f"value {wide:#x} is wider than the {width}-pixel rows")
    seen: dict[str, int] = {}
    for label, line in zip(reader.names, lines):
        if label in seen:
            raise reader.error(line, f"duplicate item name {label!r} (first on line {seen[label]})")
        seen[label] = line
    check_budget(len(values), height * width, 8, source)
    X = np.empty((len(values), height * width), dtype=np.float64)
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64)
    step = max(1, CHUNK_BYTES // (8 * height * width))
    for s in range(0, len(values), step):  # bit planes a chunk at a time: no (n, h, w) int64 temporary
        X[s:s + step] = ((values[s:s + step, :, None] >> shifts) & np.uint64(1)).reshape(-1, height * width)
    return Decoded(X, (height, width), reader.names, None, n, name)


# --------------------------------------------------------------------------- plain text

def read_text(text: str, source: str = "<string>", limit: int | None = None) -> Decoded:
    """Decode the plain text format (see :func:`genval.data.parse_text`).

    >>> read_text("bar\\n.#.\\n").X.tolist()
    [[0.0, 1.0, 0.0]]
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    names: list[str] = []
    lines: list[int] = []
    seen: dict[str, int] = {}
    pixels = bytearray()  # the kept rows' characters, one byte a pixel
    height = width = -1
    rows = 0  # rows of the current item so far
    current = False  # inside an item: a row line continues it

    def close() -> None:
        """Check the rows of the item that just ended."""
        nonlocal height
        if not names:
            return
        if rows == 0:
            raise BitmapFormatError(f"{source}:{lines[-1]}: item {names[-1]!r} has no rows of '#' and '.'")
        if height < 0:
            height = rows
        elif rows != height:
            raise BitmapFormatError(
                f"{source}:{lines[-1]}: item {names[-1]!r} has {rows} rows, expected {height} like the first item"
            )

    n_total = 0
    for lineno, raw in enumerate(io.StringIO(text), start=1):
        line = raw.strip()
        if not line:
            current = False
            continue
        if current and line.strip("#.") == "":
            if width < 0:
                width = len(line)
            elif len(line) != width:
                raise BitmapFormatError(
                    f"{source}:{lineno}: row {shorten(line)!r} has {len(line)} pixels, expected {width}"
                )
            pixels += line.encode("ascii")
            rows += 1
            continue
        close()
        n_total += 1
        if limit is not None and n_total > limit:
            break
        name = check_name(line, f"{source}:{lineno}")
        if name in seen:
            raise BitmapFormatError(f"{source}:{lineno}: duplicate item name {name!r} (first on line {seen[name]})")
        seen[name] = lineno
        names.append(name)
        lines.append(lineno)
        rows, current = 0, True
    else:
        close()
    if not names:
        raise BitmapFormatError(f"{source}: no items; expected a name line followed by rows of '#' and '.'")
    check_budget(len(names), height * width, 8, source)
    X = (np.frombuffer(bytes(pixels), dtype=np.uint8) == ord("#")).astype(np.float64).reshape(len(names), -1)
    return Decoded(X, (height, width), names, None, n_total)
