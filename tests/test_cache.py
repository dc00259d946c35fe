from pathlib import Path

import numpy as np

from genval import load_dataset
from genval.cache import cache_dir, default_model, default_model_path


def test_default_model_is_trained_once_then_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path / "c"))
    emojis = load_dataset("emojis")
    calls = []
    first, cached = default_model(emojis, on_train=calls.append)
    assert not cached and calls == [default_model_path(emojis)]
    assert default_model_path(emojis).parent == tmp_path / "c"
    second, cached = default_model(emojis, on_train=calls.append)
    assert cached and len(calls) == 1
    np.testing.assert_array_equal(first.params_, second.params_)


def test_damaged_cache_entry_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    emojis = load_dataset("emojis")
    good, _ = default_model(emojis)
    path = default_model_path(emojis)
    path.write_bytes(path.read_bytes()[:200])
    again, cached = default_model(emojis)
    assert not cached
    np.testing.assert_array_equal(again.params_, good.params_)
    # A readable model that is not this set's default is not trusted either.
    font = load_dataset("font")
    font_model, _ = default_model(font)
    font_model.save(path)
    third, cached = default_model(emojis)
    assert not cached and third.metadata_["cache_key"] in path.name


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv("GENVAL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "genval"
    monkeypatch.setenv("GENVAL_CACHE", "~/x")
    assert cache_dir() == Path.home() / "x"
