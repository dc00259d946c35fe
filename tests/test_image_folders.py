"""Loading image folders (PNG, PGM): grey and colour levels, labels from sub-folders; image bombs and
files disguised as another format refused from their header, before anything is decoded.

Every file is built here, small; nothing is downloaded.
"""

import os
import struct
import tempfile
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from genval import BitmapFormatError, GenvalError, load_dataset

from _format_fixtures import IMAGES


def test_image_folders_grey_colour_and_labels_from_sub_folders(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    Image.fromarray(IMAGES[0]).save(flat / "b.png")
    Image.fromarray(np.stack([IMAGES[1]] * 3, axis=-1)).save(flat / "a.png")  # RGB grey: the same levels
    Image.fromarray(IMAGES[2]).save(flat / "c.pgm")
    s = load_dataset(flat)
    assert s.names == ("a", "b", "c") and s.labels is None and s.shape == (4, 3)
    np.testing.assert_allclose(s.X, IMAGES[[1, 0, 2]].reshape(3, -1) / 255, atol=1e-6)
    classes = tmp_path / "classes"
    for label, k in (("cat", 0), ("cat", 1), ("dog", 2)):
        (classes / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(IMAGES[k]).save(classes / label / f"{k}.png")
    s = load_dataset(classes, limit=2)
    assert s.names == ("cat/0", "cat/1") and s.labels == ("cat", "cat")
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(flat / "d.png")
    with pytest.raises(BitmapFormatError, match=r"d\.png: 5x5 pixels \(height x width\); expected 4x3 like a\.png"):
        load_dataset(flat)
    (flat / "d.png").write_bytes(b"not a png")
    with pytest.raises(BitmapFormatError, match=r"d\.png: not a readable image"):
        load_dataset(flat)


# --- image folders: bombs and disguised files, refused from the header ----------------------------

def forged_png(path, width, height, mode=(8, 0)):
    """A PNG whose header claims ``width`` x ``height`` over a few bytes of data: never decodable whole."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, *mode, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


_PNG_MODES = st.sampled_from([(1, 0), (8, 0), (16, 0), (8, 2), (8, 4), (8, 6), (16, 6)])  # 1-bit .. RGBA 16


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(side=st.tuples(st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1)).filter(lambda s: s[0] * s[1] > 2**24),
       mode=_PNG_MODES, pgm=st.booleans())
def test_an_image_bomb_is_refused_from_its_header_before_decoding(tmp_path, side, mode, pgm):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    if pgm:
        (folder / "a.pgm").write_bytes(b"P5\n%d %d\n255\n" % side + b"\0" * 64)
    else:
        forged_png(folder / "a.png", *side, mode=mode)
    tracemalloc.start()
    try:
        with pytest.raises(BitmapFormatError, match=r"a\.(png|pgm): (an image of [\d,]+ pixels; expected at most "
                                                    r"16,777,216 pixels \(4096x4096\)|images of \d+x\d+ pixels; expected at most)"):
            load_dataset(folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20
    assert Image.MAX_IMAGE_PIXELS == 89478485  # Pillow's own guard put back as it was


def test_the_budget_and_a_second_size_are_checked_from_the_header_before_decoding(tmp_path, monkeypatch):
    big = tmp_path / "big"
    big.mkdir()
    forged_png(big / "a.png", 4000, 4000)  # under the cap; its data would not decode
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "16M")
    with pytest.raises(GenvalError,
                       match=r"big: 1 images of 4000x4000 pixels \(load fewer.*would need about .* MiB, more than "
                             r"the memory budget of 16\.0 MiB"):
        load_dataset(big)
    monkeypatch.delenv("GENVAL_MEMORY_BUDGET")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.fromarray(IMAGES[0]).save(mixed / "a.png")
    forged_png(mixed / "b.png", 4000, 4000)
    with pytest.raises(BitmapFormatError, match=r"b\.png: 4000x4000 pixels \(height x width\); expected 4x3 like a\.png"):
        load_dataset(mixed)


def _disguises():
    """Files of other formats, each saved under a name promising a PNG or a PGM."""
    grey = Image.fromarray(IMAGES[0])
    return {
        "eps": lambda p: p.write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 3 4\nshowpage\n"),
        "tiff-F": lambda p: Image.new("F", (3, 4)).save(p, format="TIFF"),
        "tiff-I": lambda p: Image.new("I", (3, 4)).save(p, format="TIFF"),
        "bmp": lambda p: grey.save(p, format="BMP"),
        "gif": lambda p: grey.save(p, format="GIF"),
        "ico": lambda p: grey.save(p, format="ICO"),
        "jpeg-cmyk": lambda p: Image.new("CMYK", (3, 4)).save(p, format="JPEG"),
        "png-as-pgm": lambda p: grey.save(p, format="PNG"),
        "pgm-as-png": lambda p: grey.save(p, format="PPM"),
    }


@pytest.mark.parametrize("kind", list(_disguises()))
def test_a_file_must_be_the_format_its_suffix_promises_and_no_program_runs(tmp_path, kind, monkeypatch):
    import subprocess

    def no_program(*args, **kwargs):
        raise AssertionError(f"an external program was started: {args}")
    monkeypatch.setattr(subprocess, "Popen", no_program)
    suffix = ".pgm" if kind == "png-as-pgm" else ".png"
    _disguises()[kind](tmp_path / f"a{suffix}")
    expected = "a PGM, PBM or PPM file" if suffix == ".pgm" else "a PNG file"
    with pytest.raises(BitmapFormatError, match=rf"a\{suffix}: not a readable image \(its content is not "
                                                rf"{expected[2:-5]}\); expected {expected}, as its suffix says"):
        load_dataset(tmp_path)


# --- smaller things a user met: each error naming its file ----------------------------------------

@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux's /proc")
def test_an_image_that_cannot_be_read_is_named(tmp_path):
    (tmp_path / "a.png").symlink_to("/proc/self/mem")
    with pytest.raises(OSError) as caught:
        load_dataset(tmp_path)
    assert caught.value.filename == str(tmp_path / "a.png")
