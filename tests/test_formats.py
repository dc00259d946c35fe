"""Loading C headers and text files (linear time, 64-bit rows, clean errors, reads bounded by the
memory budget), and every parser fuzzed with hypothesis: any input gives a set or a genval error,
quickly.

Image files (IDX, NumPy, CSV) are tested in tests/test_image_formats.py, image folders in
tests/test_image_folders.py.
"""

import gzip
import os
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from genval import BitmapFormatError, BitmapSet, GenvalError, load_dataset, parse_header, parse_text



# --- C headers and text: linear time, 64-bit rows, clean errors ----------------------------------

@pytest.mark.parametrize("text, message", [
    ("int F[1][1]={{" + "1" * 4301 + "}};", r"f\.h:1: value 1{24}\.\.\. is wider than 64 bits"),
    ("int F[1][0]={{}};", r"f\.h:1: item '0' has no rows; expected at least one number"),
    ("int F[2][1]={\n{1}, // a\n{2}  // \x1b[31mred\n};", r"f\.h:3: item name '\\x1b\[31mred' holds control"),
    ("int F[1][1]={{1}}; /* never closed", r"f\.h:1: comment never closed; expected '\*/'"),
])
def test_header_errors_from_the_fuzzing_report(text, message):
    with pytest.raises(BitmapFormatError, match=message):
        parse_header(text, source="f.h")


def test_header_comment_names_are_one_line_and_a_bom_is_skipped():
    s = parse_header("\ufeffint F[2][1] = {\n{1}, /* two\n lines */\n{2} // b\n};")
    assert s.names == ("two lines", "b")
    assert parse_text("\ufeffdot\n#\n").names == ("dot",)


def test_unclosed_comments_take_linear_time(monkeypatch):
    from genval.data import _headers

    matched = []

    class CountingTokens:
        """The tokenizer's pattern, counting the tokens it is asked to match."""

        def match(self, text, pos):
            matched.append(pos)
            return tokens.match(text, pos)

    tokens = _headers.TOKEN_PATTERN
    monkeypatch.setattr(_headers, "TOKEN_PATTERN", CountingTokens())
    with pytest.raises(BitmapFormatError, match="comment never closed"):
        parse_header("/*x" * 200_000)
    # One token, then one search for "*/": the text is read once. Trying each of the 200,000 "/*" in turn
    # (quadratic: minutes at this size) would match a token at every one of them.
    assert matched == [0]


# --- properties: any input gives a value or a genval error, never another exception -------------

HEADER_PIECES = st.sampled_from(["int", " ", "F", "[", "]", "1", "2", "0x", "ff", "=", "{", "}", ",", ";", "//",
                                 "/*", "*/", "\n", "#", "-", "a", "0b", "1" * 30, "\ufeff", "\x1b", "PROGMEM"])
# GENVAL_FUZZ_EXAMPLES=5000 runs a long fuzzing session with the same properties.
FUZZ = settings(max_examples=int(os.environ.get("GENVAL_FUZZ_EXAMPLES", 150)), deadline=1000, suppress_health_check=[HealthCheck.too_slow])


def genval_value_or_error(read, *args, **kwargs):
    try:
        value = read(*args, **kwargs)
    except GenvalError as exc:
        assert "\n" not in str(exc)
        return None
    assert isinstance(value, BitmapSet)
    return value


@FUZZ
@given(st.lists(HEADER_PIECES, max_size=60).map("".join), st.none() | st.integers(1, 64))
def test_header_parser_gives_a_set_or_a_genval_error(text, width):
    genval_value_or_error(parse_header, "int F[2][1] = {{1},{2}};" + text, "f.h", width=width)
    genval_value_or_error(parse_header, text, "f.h", width=width)


@FUZZ
@given(st.text(alphabet="#.ab \n\ufeff\x00", max_size=80))
def test_text_parser_gives_a_set_or_a_genval_error(text):
    genval_value_or_error(parse_text, text, "t.txt")


@FUZZ
@given(st.binary(max_size=80), st.sampled_from(["x.npy", "x.npz", "train-images-idx3-ubyte", "x.csv", "x.h"]),
       st.none() | st.integers(1, 3))
def test_loaders_give_a_set_or_a_genval_error_on_any_bytes(tmp_path_factory, data, name, limit):
    path = tmp_path_factory.mktemp("fuzz") / name
    heads = {"x.npy": b"\x93NUMPY\x01\x00", "train-images-idx3-ubyte": b"\0\0\x08\x03", "x.npz": b"PK\x03\x04"}
    path.write_bytes(heads.get(name, b"") + data)
    genval_value_or_error(load_dataset, path, limit=limit)


def valid_file(kind: str, images: np.ndarray) -> bytes:
    """A small valid file of each binary or text format, for the fuzzer to damage."""
    import io

    if kind == "idx":
        return struct.pack(">4B3I", 0, 0, 8, 3, *images.shape) + images.tobytes()
    if kind == "csv":
        return "\n".join(",".join(map(str, row)) for row in images.reshape(len(images), -1)).encode()
    buffer = io.BytesIO()
    (np.save if kind == "npy" else np.savez)(buffer, images)
    return buffer.getvalue()


@FUZZ
@given(st.sampled_from(["idx", "npy", "npz", "csv"]), st.integers(1, 4), st.integers(1, 5), st.data())
def test_damaged_files_give_a_set_or_a_genval_error(tmp_path_factory, kind, n, side, data):
    images = np.random.default_rng(n * side).integers(0, 256, size=(n, side, side), dtype=np.uint8)
    raw = bytearray(valid_file(kind, images))
    cut = data.draw(st.integers(0, len(raw)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)), max_size=3))
    for at, value in flips:
        raw[at] = value
    if data.draw(st.booleans()):
        raw = gzip.compress(bytes(raw[:cut]))
    path = tmp_path_factory.mktemp("damaged") / f"x.{kind}"
    path.write_bytes(bytes(raw))
    value = genval_value_or_error(load_dataset, path, limit=data.draw(st.none() | st.integers(1, 5)))
    if value is not None:
        assert value.X.min() >= 0 and value.X.max() <= 1


# --- text reads bounded by the budget: devices, sparse files, gzip bombs --------------------------

def _one_item(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("a\n#.\n")
    return path


def _endless_text(tmp_path, kind, size):
    """A text file far larger than the limit, built cheaply: sparse, gzipped, or a device."""
    if kind == "device":
        return Path("/dev/zero")
    if kind == "sparse":
        path = tmp_path / f"sparse-{size}.h"
        with open(path, "wb") as f:
            f.truncate(size)
        return path
    path = tmp_path / f"bomb-{size}.txt.gz"
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        for _ in range(size >> 16):
            f.write(c.compress(b"#" * (1 << 16)))
        f.write(c.flush())
    return path


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["device", "sparse", "gzip"]), size=st.integers(1 << 18, 1 << 22),
       labels=st.booleans())
def test_a_text_file_larger_than_the_budget_allows_is_refused_after_at_most_the_limit(tmp_path, monkeypatch, kind,
                                                                                      size, labels):
    assume(not (labels and kind == "device"))  # a labels file must be a regular file
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "4M")  # text files of up to 128 KiB
    path = _endless_text(tmp_path, kind, size)
    tracemalloc.start()
    try:
        with pytest.raises(GenvalError, match=rf"^{path}: more than 128\.0 KiB; expected a C header or text file "
                                              r"of at most 128\.0 KiB \(a 32nd of the memory budget"):
            load_dataset(_one_item(tmp_path), labels=path) if labels else load_dataset(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20


def test_a_text_file_within_the_limit_still_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "4M")
    path = tmp_path / "big.txt"
    path.write_text("".join(f"i{k}\n#.\n.#\n" for k in range(10000)))  # 98 KiB
    assert len(load_dataset(path)) == 10000
