"""Bitmap sets as C headers in the course format and as plain text, both ways.

A header holds one row of numbers per item
(``{0x04, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00},   // 0x60, `\\```); text is a
name line, then rows of ``#`` (ink) and ``.`` (blank). The parsing itself is
:mod:`genval.data._headers`; this module turns it into sets and back.
"""

from __future__ import annotations

from genval.errors import ParameterError
from genval.data._headers import MAX_ROW_BITS, read_header, read_text
from genval.data._bitmap_set import BitmapSet, from_decoded

__all__ = ["format_header", "format_text", "parse_header", "parse_text"]


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
    return from_decoded(decoded, f"{source}:{decoded.array}")


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
    return from_decoded(read_text(text, source), source)


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
