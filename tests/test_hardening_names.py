"""Names that come from the file system or from archives: valid UTF-8 in JSON, and no control characters on a terminal."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from genval.cli.main import cli
from genval.data._bitmaps import load_dataset
from genval.data._formats import unicode_name
from genval.errors import BitmapFormatError

GENVAL = [sys.executable, "-c", "from genval.cli.main import main; main()"]


def _png(path, k: int = 0) -> None:
    from PIL import Image

    pixels = np.zeros((4, 4), np.uint8)
    pixels[k % 4] = 255
    Image.fromarray(pixels).save(path)


@pytest.fixture
def byte_named_folder(tmp_path):
    """A folder whose name, and one of whose images' names, are bytes that are not UTF-8 (Latin-1 é, a lone 0xff)."""
    if sys.platform == "darwin":
        pytest.skip("macOS file systems refuse file names that are not UTF-8")
    folder = os.fsencode(tmp_path) + b"/pictures-\xff"
    os.mkdir(folder)
    _png(folder + b"/caf\xe9.png", 1)
    _png(folder + b"/ok.png", 2)
    return Path(os.fsdecode(folder))


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=20))
def test_unicode_name_is_always_valid_utf8_and_keeps_valid_names(raw):
    name = os.fsdecode(raw)  # as Python hands over a file name: bytes that are not UTF-8 become surrogates
    made = unicode_name(name)
    made.encode("utf-8")  # strict: raises on any surrogate left
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        assert "\\x" in made
    else:
        assert made == text


def test_unicode_name_escapes_each_byte_that_is_not_utf8():
    assert unicode_name(os.fsdecode(b"caf\xe9")) == "caf\\xe9"
    assert unicode_name(os.fsdecode(b"\xff\xfe-\xc3\xa9")) == "\\xff\\xfe-é"
    assert unicode_name("\ud800x") == "\\ud800x"  # a lone surrogate that is no escaped byte


def test_names_and_title_from_file_names_that_are_not_utf8_are_escaped(byte_named_folder):
    bitmaps = load_dataset(str(byte_named_folder))
    assert list(bitmaps.names) == ["caf\\xe9", "ok"]
    assert bitmaps.title.endswith("/pictures-\\xff")
    bitmaps.title.encode("utf-8")


def test_labels_from_sub_folder_names_that_are_not_utf8_are_escaped(tmp_path):
    root = os.fsencode(tmp_path)
    for label, k in ((b"\xe9t\xe9", 0), (b"hiver", 1)):
        os.mkdir(root + b"/" + label)
        _png(root + b"/" + label + b"/a.png", k)
    bitmaps = load_dataset(str(tmp_path))
    assert sorted(bitmaps.labels) == ["\\xe9t\\xe9", "hiver"]
    assert sorted(bitmaps.names) == ["\\xe9t\\xe9/a", "hiver/a"]


def test_show_json_of_names_that_are_not_utf8_is_valid_utf8(byte_named_folder):
    result = CliRunner().invoke(cli, ["show", str(byte_named_folder), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout_bytes.decode("utf-8"))  # strict
    assert [item["name"] for item in document["items"]] == ["caf\\xe9", "ok"]
    assert document["dataset"].endswith("pictures-\\xff")


def test_show_under_a_strict_utf8_locale_prints_names_that_are_not_utf8(byte_named_folder):
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:strict"}
    for options in (["--json"], []):
        run = subprocess.run(GENVAL + ["show", str(byte_named_folder), *options], env=env, capture_output=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr.decode("utf-8", "replace")
        out = run.stdout.decode("utf-8")  # strict: the bytes on stdout are UTF-8
        names = [item["name"] for item in json.loads(out)["items"]] if options else out
        assert "caf\\xe9" in names
        assert b"Traceback" not in run.stderr


# An OSC sequence (sets the terminal's title): click strips CSI colours from output that is not a terminal, not this.
CONTROL = "x\x1b]0;owned\x07"


def _npz(path, members: dict) -> Path:
    np.savez(path, **members)
    return Path(path)


def test_a_npz_member_named_with_control_characters_is_shown_escaped(tmp_path):
    path = _npz(tmp_path / "a.npz", {CONTROL: np.zeros((2, 4, 4), np.uint8)})
    bitmaps = load_dataset(str(path))
    assert bitmaps.title == f"{path}:x\\x1b]0;owned\\x07"
    result = CliRunner().invoke(cli, ["show", str(path)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert f"{path}:x\\x1b]0;owned\\x07: 2 items, 4x4" in result.output
    result = CliRunner().invoke(cli, ["show", str(path), "--json"])
    assert json.loads(result.stdout)["dataset"] == f"{path}:x\\x1b]0;owned\\x07"


@pytest.mark.parametrize("damage", ["header", "shape", "encrypted"])
def test_errors_about_a_npz_member_named_with_control_characters_are_printable(tmp_path, damage):
    path = tmp_path / "a.npz"
    if damage == "shape":
        _npz(path, {CONTROL: np.zeros(3, np.uint8)})
    else:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(CONTROL + ".npy", b"not a numpy file")
        if damage == "encrypted":
            data = bytearray(path.read_bytes())
            for at in (6, data.rindex(b"PK\x01\x02") + 8):  # the local and the central header's flag bits
                data[at] |= 1
            path.write_bytes(bytes(data))
    with pytest.raises(BitmapFormatError) as caught:
        load_dataset(str(path))
    message = str(caught.value)
    assert message.isprintable() and "x\\x1b]0;owned\\x07" in message, message
    result = CliRunner().invoke(cli, ["show", str(path)])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
