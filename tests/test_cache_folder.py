"""The cache folder: listing and clearing entries, and the `genval cache` command."""

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from genval import load_dataset
from genval.cli.main import cli
from genval.models._cache import cached_model
from genval.models._cache_folder import cache_entries, clear_cache, entry_path
from test_cache import SMALL, small


def fill_cache(folder: Path) -> dict[str, Path]:
    """Entries of two sets and kinds, a leftover temporary file, and things genval did not write."""
    folder.mkdir(exist_ok=True)
    files = {
        "font model": folder / "model-font-0123456789abcdef.npz",
        "font denoiser": folder / "denoiser-font-fedcba9876543210.npz",
        "emoji vae": folder / "vae-emojis-00000000000000aa.npz",
        "temporary": folder / ".model-font-0123456789abcdef.npz.k2j3h4.tmp",
    }
    for i, path in enumerate(files.values()):
        path.write_bytes(b"x" * (1000 * (i + 1)))
        os.utime(path, (1_700_000_000 + 60 * i, 1_700_000_000 + 60 * i))
    foreign = {
        "notes": folder / "notes.txt",
        "no hash": folder / "model-font.npz",
        "upper-case hash": folder / "model-font-0123456789ABCDEF.npz",
        "another suffix": folder / "model-font-0123456789abcdef.npz.bak",
    }
    for path in foreign.values():
        path.write_text("mine")
    (folder / "model-emojis-1111111111111111.npz").mkdir()  # a folder named like an entry
    (folder / "model-emojis-2222222222222222.npz").symlink_to(foreign["notes"])  # a link named like one
    return {**files, **foreign}


def test_cache_entries_lists_genval_files_only(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    files = fill_cache(tmp_path)
    listed = [(e.path.name, e.kind, e.dataset, e.size, e.modified) for e in cache_entries()]
    assert listed == [
        ("denoiser-font-fedcba9876543210.npz", "denoiser", "font", 2000, 1_700_000_060),
        ("model-font-0123456789abcdef.npz", "autoencoder", "font", 1000, 1_700_000_000),
        ("vae-emojis-00000000000000aa.npz", "vae", "emojis", 3000, 1_700_000_120),
    ]
    assert [e.path.name for e in cache_entries("emojis")] == ["vae-emojis-00000000000000aa.npz"]
    assert cache_entries()[0].to_dict() == {"file": str(files["font denoiser"]), "kind": "denoiser",
                                            "dataset": "font", "bytes": 2000, "modified": "2023-11-14T22:14:20+00:00"}


def test_clear_cache_removes_genval_files_only(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    files = fill_cache(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert clear_cache("emojis") == [files["emoji vae"]]
    assert clear_cache("font") == [files["font denoiser"], files["font model"], files["temporary"]]
    assert clear_cache() == []
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(set(before) - {p.name for k, p in files.items()
                                         if k in ("emoji vae", "font denoiser", "font model", "temporary")})
    assert all(path.read_text() == "mine" for key, path in files.items() if key in (
        "notes", "no hash", "upper-case hash", "another suffix"))
    assert (tmp_path / "model-emojis-1111111111111111.npz").is_dir()
    assert (tmp_path / "model-emojis-2222222222222222.npz").is_symlink()
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path / "never-made"))
    assert clear_cache() == [] and cache_entries() == []


def test_the_cache_folder_of_a_real_entry_lists_and_clears(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    emojis = load_dataset("emojis")
    cached_model(emojis, "denoiser", SMALL, small)
    path = entry_path(emojis, "denoiser", SMALL)
    (entry,) = cache_entries()
    assert (entry.path, entry.kind, entry.dataset, entry.size) == (path, "denoiser", "emojis", path.stat().st_size)
    assert clear_cache() == [path] and not path.exists()


# genval cache, through the CLI.

@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_cache_list_command(tmp_path, monkeypatch, utc):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(cli, ["cache", "list"]).stdout == f"no cached models in {tmp_path}\n"
    fill_cache(tmp_path)
    result = runner.invoke(cli, ["cache", "list"])
    assert result.exit_code == 0 and result.stdout == (
        "file                                kind         set        size  modified\n"
        "denoiser-font-fedcba9876543210.npz  denoiser     font    2.0 KiB  2023-11-14 22:14\n"
        "model-font-0123456789abcdef.npz     autoencoder  font     1000 B  2023-11-14 22:13\n"
        "vae-emojis-00000000000000aa.npz     vae          emojis  2.9 KiB  2023-11-14 22:15\n"
        f"3 cached models, 5.9 KiB, in {tmp_path}\n")
    assert runner.invoke(cli, ["cache", "list", "-d", "digits"]).stdout == (
        f"no cached models of digits in {tmp_path}; cached sets: emojis, font\n")  # a typo shows what there is
    doc = json.loads(runner.invoke(cli, ["cache", "list", "--dataset", "emojis", "--json"]).stdout)
    assert doc == {"folder": str(tmp_path), "entries": [{
        "file": str(tmp_path / "vae-emojis-00000000000000aa.npz"), "kind": "vae", "dataset": "emojis",
        "bytes": 3000, "modified": "2023-11-14T22:15:20+00:00"}]}


def test_cache_clear_and_path_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    fill_cache(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["cache", "clear", "-d", "fnt"]).stdout == (
        f"nothing to remove: no cached models of fnt in {tmp_path}; cached sets: emojis, font\n")
    result = runner.invoke(cli, ["cache", "clear", "--dataset", "font"])
    assert result.exit_code == 0 and result.stdout == (
        "removed denoiser-font-fedcba9876543210.npz\n"
        "removed model-font-0123456789abcdef.npz\n"
        "removed .model-font-0123456789abcdef.npz.k2j3h4.tmp\n"
        f"removed 3 files of font from {tmp_path}\n")
    doc = json.loads(runner.invoke(cli, ["cache", "clear", "--json"]).stdout)
    assert doc == {"folder": str(tmp_path), "removed": [str(tmp_path / "vae-emojis-00000000000000aa.npz")]}
    assert runner.invoke(cli, ["cache", "clear"]).stdout == f"nothing to remove: no cached models in {tmp_path}\n"
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert runner.invoke(cli, ["cache", "path"]).stdout == f"{tmp_path}\n"
    help_text = runner.invoke(cli, ["cache", "--help"]).stdout
    assert "\n  Examples:\n    genval cache list " in help_text
    for sub in ("list", "clear", "path"):
        assert "\n  Examples:\n    genval cache " in runner.invoke(cli, ["cache", sub, "--help"]).stdout, sub


# --- cache folders that cannot be used, entries that are not ours: a warning, never a hang or data loss ---
