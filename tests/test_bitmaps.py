import numpy as np
import pytest

from genval import (
    BitmapFormatError,
    BitmapSet,
    bitmap_rows,
    format_header,
    format_text,
    load_dataset,
    parse_header,
    parse_text,
)

FONT_NAMES = list("`abcdefghijklmnopqrstuvwxyz{|}~") + ["DEL"]
EMOJI_NAMES = [":)", ":D", ":(", "D:", ":|", ":I", ":P", ":O", ";)", ":B", "c:", ":c", ":3", "3:", ":]", ":[", ";D"]


def test_font_is_the_course_font3():
    font = load_dataset("font")
    assert font.shape == (7, 5)
    assert list(font.names) == FONT_NAMES
    assert font.X.shape == (32, 35)
    assert font.render("a") == [".....", ".###.", "....#", ".##.#", "#..##", "#..##", ".##.#"]
    assert font.render("`") == ["..#..", "..#..", "...#.", ".....", ".....", ".....", "....."]
    assert font.render("DEL") == ["#####"] * 7
    # Row bytes back from pixels: 0x61 'a' is {0x00, 0x0e, 0x01, 0x0d, 0x13, 0x13, 0x0d}.
    rows = font.image("a").astype(int) @ (1 << np.arange(4, -1, -1))
    assert rows.tolist() == [0x00, 0x0E, 0x01, 0x0D, 0x13, 0x13, 0x0D]


def test_emojis_names_and_pixels():
    emojis = load_dataset("emojis")
    assert list(emojis.names) == EMOJI_NAMES
    assert emojis.render(";D") == [".....", ".#...", ".#.##", ".....", "#####", "#...#", ".###."]
    assert set(np.unique(emojis.X)) == {0.0, 1.0}


def test_digits_are_grayscale_8x8():
    digits = load_dataset("digits")
    assert digits.shape == (8, 8) and len(digits) == 1797
    assert digits.X.min() == 0.0 and digits.X.max() == 1.0
    assert digits.names[0] == "0-0" and len(set(digits.names)) == 1797


def test_bundled_sets_load_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert len(load_dataset("font")) == 32
    assert len(load_dataset("emojis")) == 17


def test_bitmap_set_is_read_only_and_validated():
    s = BitmapSet(["a", "b"], [[0, 1, 1, 0], [1, 0, 0, 1]], (2, 2))
    with pytest.raises(ValueError, match="read-only"):
        s.X[0, 0] = 1
    assert s.X.tolist() == [[0, 1, 1, 0], [1, 0, 0, 1]]
    with pytest.raises(ValueError, match="duplicate item name 'a'"):
        BitmapSet(["a", "a"], np.zeros((2, 4)), (2, 2))
    with pytest.raises(ValueError, match=r"shape \(n_items, height\*width\)"):
        BitmapSet(["a"], np.zeros((1, 5)), (2, 2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        BitmapSet(["a"], [[0, 2, 0, 0]], (2, 2))
    with pytest.raises(KeyError, match="known items: a b"):
        s.index("z")
    assert s.subset(["b"]).render(0) == ["#.", ".#"]


def test_bitmap_rows_threshold():
    assert bitmap_rows([0.5, 0.51, 0, 1], (2, 2)) == [".#", ".#"]


HEADER = """
#include <stdint.h>
/* two arrays, mixed styles */
const uint8_t Small[3][2] = {
   {0x1F, 0x00},   // 0x41, A
   /* bee */
   {17, 0b01110},
   {0x04, 0x04}    //
};
static int const Wide[2][2] PROGMEM = {
   {0xFF, 0x81},  /* box */
   {0x18, 0x18}   // 'i'
};
"""


def test_header_with_several_arrays_needs_a_choice():
    with pytest.raises(BitmapFormatError, match=r"holds 2 arrays \(Small, Wide\); pick one"):
        parse_header(HEADER, source="two.h")
    small = parse_header(HEADER, source="two.h", array="Small")
    assert small.names == ("A", "bee", "2")  # a comment naming nothing falls back to the index
    assert small.shape == (2, 5)
    assert small.render("bee") == ["#...#", ".###."]
    wide = parse_header(HEADER, array="Wide")
    assert wide.shape == (2, 8) and wide.names == ("box", "i")
    assert wide.render("box") == ["########", "#......#"]


def test_header_width_option():
    narrow = parse_header("int F[1][2] = {{0x3, 0x1}};", width=3)
    assert narrow.render(0) == [".##", "..#"]
    with pytest.raises(BitmapFormatError, match=r"<string>:1: value 0x3f is wider than the 5-pixel rows"):
        parse_header("int F[1][1] = {{0x3f}};", width=5)
    sixteen = parse_header("int F[1][1] = {{0x8001}};")
    assert sixteen.shape == (1, 16)
    wide = parse_header("int F[1][1] = {{0x8000000000000001}};")  # rows up to 64 bits
    assert wide.shape == (1, 64) and wide.render(0)[0] == "#" + "." * 62 + "#"
    with pytest.raises(BitmapFormatError, match="<string>:1: value 0x18000000000000001 is wider than 64 bits"):
        parse_header("int F[1][1] = {{0x18000000000000001}};")


@pytest.mark.parametrize(
    "text, message",
    [
        ("int F[1][2] = {{0x1, 0xZZ}};", r"f\.h:1: expected a number, found '0xZZ'"),
        ("int F[2][2] = {\n{0x1, 0x2},\n{0x1}\n};", r"f\.h:3: item '1' has 1 rows, expected 2"),
        ("int F[2][1] = {\n{1}, // a\n{2}  // a\n};", r"f\.h:3: duplicate item name 'a' \(first on line 2\)"),
        ("int F[3][1] = {\n{1},\n{2}\n};", r"declares 3 items, found 2"),
        ("", r"f\.h: no bitmap array found"),
        ("int F[1][1] = {{1}", r"unexpected end of file"),
        ("int F[1][1] = {{-1}};", r"expected a non-negative number"),
    ],
)
def test_header_errors_name_file_line_and_expectation(text, message):
    with pytest.raises(BitmapFormatError, match=message):
        parse_header(text, source="f.h")


def test_header_round_trip():
    font = load_dataset("font")
    again = parse_header(format_header(font, "Font3"), source="again.h")
    assert again.names == font.names
    np.testing.assert_array_equal(again.X, font.X)


def test_text_format_round_trip_and_errors():
    emojis = load_dataset("emojis")
    again = parse_text(format_text(emojis))
    assert again.names == emojis.names and again.shape == (7, 5)
    np.testing.assert_array_equal(again.X, emojis.X)
    # Items need no blank line between them when the name is not made of '#' and '.'.
    tight = parse_text("one\n#.\n.#\ntwo\n##\n..\n")
    assert tight.names == ("one", "two")
    with pytest.raises(BitmapFormatError, match=r"t\.txt:4: row '###' has 3 pixels, expected 2"):
        parse_text("one\n#.\n.#\n###\n", source="t.txt")
    with pytest.raises(BitmapFormatError, match=r"t\.txt:4: item 'b' has 1 rows, expected 2"):
        parse_text("a\n#.\n.#\nb\n##\n", source="t.txt")
    with pytest.raises(BitmapFormatError, match=r"t\.txt:1: item 'lonely' has no rows"):
        parse_text("lonely\n", source="t.txt")


def test_load_dataset_files_and_errors(tmp_path):
    header = tmp_path / "two.h"
    header.write_text(HEADER)
    assert load_dataset(f"{header}:Wide").names == ("box", "i")
    with pytest.raises(BitmapFormatError, match=r"no array 'Nope'; it holds Small, Wide"):
        load_dataset(f"{header}:Nope")
    text = tmp_path / "set.txt"
    text.write_text("x\n#.\n.#\n")
    assert load_dataset(text).render("x") == ["#.", ".#"]
    empty = tmp_path / "empty.h"
    empty.write_text("\n")
    with pytest.raises(BitmapFormatError, match="empty.h: the file is empty"):
        load_dataset(empty)
    with pytest.raises(BitmapFormatError, match="unknown dataset 'fnot'; bundled sets are emojis, font, digits"):
        load_dataset("fnot")
    with pytest.raises(BitmapFormatError, match="no such file"):
        load_dataset(tmp_path / "missing.h")
