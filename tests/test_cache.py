import logging
from pathlib import Path

import numpy as np
import pytest

from genval import Autoencoder, BitmapSet, ShapeMismatchError, UnknownItemError, build_space, load_dataset
from genval.cache import DEFAULT_MODEL, cache_dir, default_model, default_model_path
from genval.errors import ParameterError


def saved_arrays(path: Path) -> dict[str, bytes]:
    """Every array in a model file, as raw bytes (the JSON config included)."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key].tobytes() for key in data.files}


def test_default_model_is_trained_once_then_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path / "c"))
    emojis = load_dataset("emojis")
    calls, epochs = [], []

    def on_train(path, model):
        assert not hasattr(model, "params_")  # called before training, with what is about to train
        calls.append((path, model.get_params()))

    first, cached = default_model(emojis, progress=lambda done, loss: epochs.append(done), on_train=on_train)
    path = default_model_path(emojis)
    assert not cached and calls == [(path, Autoencoder(**DEFAULT_MODEL).get_params())]
    assert path.parent == tmp_path / "c" and path.name.startswith("model-emojis-")
    assert epochs[-1] == first.n_epochs_ == calls[0][1]["epochs"]
    second, cached = default_model(emojis, on_train=on_train)
    assert cached and len(calls) == 1
    np.testing.assert_array_equal(first.params_, second.params_)
    assert second.metadata_["names"] == list(emojis.names)


def test_damaged_cache_entries_are_rebuilt_bitwise(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    emojis = load_dataset("emojis")
    default_model(emojis)
    path = default_model_path(emojis)
    original = saved_arrays(path)
    font_model, _ = default_model(load_dataset("font"))
    damages = {
        "truncated": lambda: path.write_bytes(path.read_bytes()[:200]),
        "not a zip": lambda: path.write_bytes(b"not a zip at all"),
        "another set's model": lambda: font_model.save(path),
    }
    for damage, apply in damages.items():
        apply()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="genval.cache"):
            rebuilt, cached = default_model(emojis)
        assert not cached, damage
        assert [r.levelno for r in caplog.records] == [logging.WARNING], damage
        assert saved_arrays(path) == original, damage  # the same training: the same file, array for array
        assert default_model(emojis)[1], damage  # and trusted next time


def test_the_key_follows_the_set_and_the_kind():
    emojis = load_dataset("emojis")
    X = emojis.X.copy()
    X[0, 0] = 1 - X[0, 0]
    flipped = BitmapSet(emojis.names, X, emojis.shape, emojis.title)
    paths = {default_model_path(emojis), default_model_path(flipped), default_model_path(emojis, "vae")}
    assert len(paths) == 3
    assert default_model_path(emojis, "vae").name.startswith("vae-emojis-")
    with pytest.raises(ParameterError, match="unknown model kind 'gan'; choose one of autoencoder, vae"):
        default_model(emojis, kind="gan")


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv("GENVAL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "genval"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "genval"
    monkeypatch.setenv("GENVAL_CACHE", "~/x")
    assert cache_dir() == Path.home() / "x"


# build_space: a latent space from a set's name, with the cached default model.

def test_build_space_uses_the_default_model_and_the_map_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    trained = []
    space = build_space("emojis", grid=(2, 3), sigma=0.8, som_learning_rate=0.3, iterations=700,
                        topology="hexagonal", neighborhood="bubble", random_state=4,
                        on_train=lambda path, model: trained.append(path))
    assert trained == [default_model_path(load_dataset("emojis"))]
    model, cached = default_model(space.bitmaps)
    assert cached
    np.testing.assert_array_equal(space.codes, model.transform(space.bitmaps.X))
    assert {k: v for k, v in space.som.get_params().items() if k != "init"} == {
        "grid": (2, 3), "sigma": 0.8, "learning_rate": 0.3, "iterations": 700, "topology": "hexagonal",
        "neighborhood": "bubble", "random_state": 4}
    assert space.som.n_iterations_ == 700
    # The same settings and a model given as a file: the same space.
    model.save(tmp_path / "m.npz")
    again = build_space("emojis", tmp_path / "m.npz", grid=(2, 3), sigma=0.8, som_learning_rate=0.3,
                        iterations=700, topology="hexagonal", neighborhood="bubble", random_state=4)
    np.testing.assert_array_equal(again.som.weights_, space.som.weights_)
    assert len(trained) == 1


def test_build_space_checks_item_names_before_training(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    trained = []
    with pytest.raises(UnknownItemError) as caught:
        build_space("emojis", items=(":)", ":-)"), on_train=lambda path, model: trained.append(path))
    assert str(caught.value).startswith("unknown item ':-)'; known items: :) :D :(")
    assert isinstance(caught.value, KeyError) and trained == [] and list(tmp_path.iterdir()) == []


def test_build_space_rejects_a_model_of_another_size():
    digits = Autoencoder(epochs=2).fit(load_dataset("digits").X[:20])
    with pytest.raises(ShapeMismatchError, match=r"^the model expects 64 pixels per item but emojis has 35 \(7x5\)"):
        build_space("emojis", digits)


def test_default_vae_is_trained_once_then_reused(tmp_path, monkeypatch):
    from genval import VariationalAutoencoder

    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    font = load_dataset("font")
    first, cached = default_model(font, kind="vae")
    assert not cached and type(first) is VariationalAutoencoder
    second, cached = default_model(font, kind="vae")
    assert cached and type(second) is VariationalAutoencoder
    np.testing.assert_array_equal(first.params_, second.params_)
