"""Every command with --json, given paths and names whose bytes are not UTF-8: valid UTF-8 out, no traceback.

Python holds such a name's bytes as lone surrogates; a JSON document or a strict UTF-8 stream cannot hold
them. Each command below reads a set, a model, a map or a sweep from a folder named with such bytes, or
writes its output there, and its JSON must show each byte as ``\\xNN`` (as ``show --json`` does).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from genval.cli.main import cli

GENVAL = [sys.executable, "-c", "from genval.cli.main import main; main()"]


def _png(path: bytes, k: int) -> None:
    from PIL import Image

    pixels = np.zeros((5, 5), np.uint8)
    pixels[k % 5, (k // 5) % 5] = 255
    pixels[(k + 2) % 5] = 255
    Image.fromarray(pixels).save(os.fsdecode(path))


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """Byte-named inputs: a folder of PNGs (one named b'\\xff.png'), a .npy, a model, a map and a sweep file."""
    if sys.platform == "darwin":
        pytest.skip("macOS file systems refuse file names that are not UTF-8")
    root = os.fsencode(tmp_path_factory.mktemp("names"))
    pics, data, out = root + b"/pics\xfe", root + b"/x\xfe", root + b"/out\xfd"
    for folder in (pics, data, out):
        os.mkdir(folder)
    for k, name in enumerate([b"\xff", b"caf\xe9", b"ok", b"b", b"c", b"d"]):
        _png(pics + b"/" + name + b".png", k)
    np.save(os.fsdecode(data + b"/a.npy"), np.eye(5, dtype=np.uint8)[None].repeat(3, axis=0))
    # The model and the map are made at plain names, then renamed: the fixture does not rest on what is tested.
    plain = os.fsdecode(root)
    runner = CliRunner()
    for args in (["train", "-d", os.fsdecode(pics), "--epochs", "30", "--out", f"{plain}/m.npz", "-q"],
                 ["som", "-d", os.fsdecode(pics), "--model", f"{plain}/m.npz", "--grid", "2x2",
                  "--iterations", "200", "--out", f"{plain}/map.npz", "-q"]):
        made = runner.invoke(cli, args, catch_exceptions=False)
        assert made.exit_code == 0, made.output
    os.rename(root + b"/m.npz", data + b"/m\xfe.npz")
    os.rename(root + b"/map.npz", data + b"/map\xfe.npz")
    with open(data + b"/s\xfe.toml", "w") as f:
        f.write('title = "t"\ndataset = "emojis"\n[fixed]\nepochs = 2\n[grid]\nn_latent = [2]\n')
    names = {"PICS": pics, "NPY": data + b"/a.npy", "MODEL": data + b"/m\xfe.npz", "MAP": data + b"/map\xfe.npz",
             "SWEEP": data + b"/s\xfe.toml", "OUT": out, "ITEM": b"\xff"}
    return {key: os.fsdecode(value) for key, value in names.items()}


SPACE = ["-d", "PICS", "--model", "MODEL", "--map", "MAP"]
COMMANDS = {
    "show": ["show", "PICS"],
    "train": ["train", "-d", "PICS", "--epochs", "2", "--out", "OUT/m.npz", "--plot", "OUT/t.png"],
    "som": ["som", "-d", "PICS", "--model", "MODEL", "--grid", "2x2", "--iterations", "50", "--out", "OUT/map.npz"],
    "som-npy": ["som", "-d", "NPY", "--grid", "2x2", "--iterations", "50"],
    "interpolate": ["interpolate", "ITEM", "ok", "--path", "som", *SPACE],
    "decode": ["decode", "0", "0", *SPACE],
    "sample": ["sample", "-n", "3", *SPACE],
    "grid": ["grid", "--size", "3", "-d", "PICS", "--model", "MODEL"],
    "audit": ["audit", "-n", "20", "--csv", "OUT/a.csv", *SPACE],
    "audit-samples": ["audit", "--samples", "NPY", "-d", "PICS", "--model", "MODEL"],
    "regions": ["regions", "--max-side", "4", "-d", "PICS", "--model", "MODEL"],
    "explore": ["explore", "--resolution", "4", "-o", "OUT/e.html", *SPACE],
    "denoise": ["denoise", "-d", "PICS", "--epochs", "2", "--trials", "1", "--out", "OUT/d.npz"],
    "sweep": ["sweep", "SWEEP", "-o", "OUT/s.csv"],
    "cache-list": ["cache", "list"],
}


def _fill(args: list[str], places: dict) -> list[str]:
    filled = []
    for arg in args:
        head, _, tail = arg.partition("/")
        filled.append(places[head] + ("/" + tail if tail else "") if head in places else arg)
    return filled


def _escaped(document) -> bool:
    return "\\x" in json.dumps(document, ensure_ascii=False)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_json_of_every_command_is_valid_utf8_with_names_escaped(command, places, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", os.fsdecode(os.fsencode(places["OUT"]) + b"/cache-" + command.encode() + b"\xfc"))
    result = CliRunner().invoke(cli, [*_fill(COMMANDS[command], places), "--json", "-q"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout_bytes.decode("utf-8"))  # strict: no surrogate reached stdout
    assert _escaped(document), document  # the byte-named path or item is in the document, escaped
    result.stderr_bytes.decode("utf-8")


def test_an_item_named_by_the_bytes_of_its_file_is_found(places):
    """The shell passes a file's name as its bytes: the item listed as '\\xff' is found by them."""
    result = CliRunner().invoke(cli, _fill(COMMANDS["interpolate"], places) + ["--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["from"] == "\\xff"


@pytest.mark.parametrize("command", ["som-npy", "audit-samples", "cache-list", "missing"])
def test_text_and_errors_under_a_strict_utf8_locale(command, places):
    args = _fill(["show", "OUT/missing.png"] if command == "missing" else COMMANDS[command], places)
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:strict",
           "GENVAL_CACHE": os.fsdecode(os.fsencode(places["OUT"]) + b"/strict-cache\xfc")}
    run = subprocess.run(GENVAL + args, env=env, capture_output=True, timeout=300)
    out, err = run.stdout.decode("utf-8"), run.stderr.decode("utf-8")  # strict
    assert "Traceback" not in err, err
    if command == "missing":
        assert run.returncode == 1 and err.count("\n") == 1, err
        assert "out\\xfd/missing.png" in err
    else:
        assert run.returncode == 0, err
        assert "\\x" in out + err


@pytest.mark.parametrize("member", ["a\x1b]0;t\x07\nx", "x\n", "/\u202ex", "\r\n..\n"])  # found by fuzz_inputs.py
def test_an_error_naming_a_spec_with_control_characters_is_one_printable_line(tmp_path, member):
    np.savez(tmp_path / "set.npz", a=np.zeros((2, 4, 4), np.uint8))
    result = CliRunner().invoke(cli, ["show", f"{tmp_path / 'set.npz'}:{member}"])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and lines[0].isprintable(), lines
    assert member.encode("unicode_escape").decode("ascii") in lines[0]
