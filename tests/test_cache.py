import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest

from genval import Autoencoder, BitmapSet, ShapeMismatchError, UnknownItemError, build_space, load_dataset
from genval.models._cache import cached_model, default_model
from genval.models._cache_folder import DEFAULT_MODEL, cache_dir, cache_key, default_model_path, entry_path
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
        with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
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


# Every way an entry can fail its checks: rebuilt, with one warning, and trusted again next time.

SMALL = {"epochs": 30, "random_state": 2}


def small():
    return Autoencoder(**SMALL)


def rewrite(path: Path, **changes) -> None:
    """Write the model file again with some of its arrays replaced (``config`` as a dict is JSON-encoded)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    for key, value in changes.items():
        arrays[key] = np.array(json.dumps(value)) if key == "config" else value
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def config_of(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["config"]))


def one_warning(caplog) -> str:
    records = [r for r in caplog.records if r.name == "genval.models._cache"]
    assert [r.levelno for r in records] == [logging.WARNING], [r.getMessage() for r in records]
    message = records[0].getMessage()
    assert "\n" not in message
    return message


def with_params(path: Path, change) -> dict:
    with np.load(path, allow_pickle=False) as data:
        params = data["params"].copy()
    change(params)
    return {"params": params}


def bad_config(path):
    config = config_of(path)
    config["params"]["hidden"] = "wide"
    rewrite(path, config=config)


def nan_weights_with_their_checksum(path):
    """NaN saved as the weights, with a checksum that matches them: only the finiteness check can tell."""
    import hashlib

    arrays = with_params(path, lambda p: p.__setitem__(0, np.nan))
    config = config_of(path)
    config["metadata"]["params_sha256"] = hashlib.sha256(arrays["params"].astype(np.float64).tobytes()).hexdigest()
    rewrite(path, config=config, **arrays)


def no_checksum(path):
    config = config_of(path)
    del config["metadata"]["params_sha256"]
    rewrite(path, config=config)


DAMAGES = {
    # load_model's own words for the files it refuses; the cache adds what it does about them.
    "a valid zip with a bad config": (bad_config, ""),
    "NaN weights": (nan_weights_with_their_checksum, "NaN"),
    "weights changed after saving": (
        lambda path: rewrite(path, **with_params(path, lambda p: p.__setitem__(0, p[0] + 1e-3))),
        "its weights changed after it was saved (checksum mismatch)"),
    "an entry of an older genval, without a checksum": (no_checksum, "has no checksum (written by an older genval)"),
    "truncated": (lambda path: path.write_bytes(path.read_bytes()[:300]), ""),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_an_entry_that_fails_a_check_is_rebuilt_with_one_warning(damage, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    emojis = load_dataset("emojis")
    first, cached = cached_model(emojis, "autoencoder", SMALL, small)
    path = entry_path(emojis, "autoencoder", SMALL)
    assert not cached and path.is_file()
    original = saved_arrays(path)
    apply, reason = DAMAGES[damage]
    apply(path)
    trained = []
    with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
        rebuilt, cached = cached_model(emojis, "autoencoder", SMALL, small,
                                       on_train=lambda p, model: trained.append(p))
    assert not cached and trained == [path]
    message = one_warning(caplog)
    assert reason in message and message.endswith("; training it again") and str(path) in message
    assert saved_arrays(path) == original  # the same training: the same file, array for array
    np.testing.assert_array_equal(rebuilt.params_, first.params_)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
        assert cached_model(emojis, "autoencoder", SMALL, small)[1]  # and trusted next time
    assert caplog.records == []


def test_an_entry_of_another_kind_set_or_settings_is_rebuilt(tmp_path, monkeypatch, caplog):
    from genval import VariationalAutoencoder

    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    emojis = load_dataset("emojis")
    cached_model(emojis, "autoencoder", SMALL, small)
    path = entry_path(emojis, "autoencoder", SMALL)
    original = saved_arrays(path)
    vae, _ = cached_model(emojis, "vae", SMALL, lambda: VariationalAutoencoder(**SMALL))
    denoiser, _ = cached_model(emojis, "denoiser", SMALL, small)  # an Autoencoder too, cached as a denoiser
    other_set, _ = cached_model(load_dataset("font"), "autoencoder", SMALL, small)
    other_settings, _ = cached_model(emojis, "autoencoder", {**SMALL, "epochs": 31},
                                     lambda: Autoencoder(**{**SMALL, "epochs": 31}))
    wrong = {
        "a VAE": (vae, "holds a vae, not an autoencoder"),
        "a VAE saved without metadata": (vae, "holds a vae, not an autoencoder"),
        "a denoiser": (denoiser, "holds a denoiser, not an autoencoder"),
        "another set's": (other_set, "holds a model of another set or other settings"),
        "other settings'": (other_settings, "holds a model of another set or other settings"),
        "a model saved by hand": (small().fit(emojis.X), "holds a model of another set or other settings"),
    }
    for case, (model, reason) in wrong.items():
        model.save(path, metadata={} if "without" in case else model.metadata_)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
            rebuilt, cached = cached_model(emojis, "autoencoder", SMALL, small)
        assert not cached and type(rebuilt) is Autoencoder, case
        assert one_warning(caplog) == f"{path} {reason}; training it again", case
        assert saved_arrays(path) == original, case


def test_a_folder_at_the_entry_path_trains_without_caching(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    emojis = load_dataset("emojis")
    path = entry_path(emojis, "autoencoder", SMALL)
    (path / "inside").mkdir(parents=True)
    for _ in range(2):  # never cached, never removed: it is not genval's to remove
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
            model, cached = cached_model(emojis, "autoencoder", SMALL, small)
        assert not cached and model.n_epochs_ == 30
        assert one_warning(caplog) == (f"{path} is a folder, not a model file; training the autoencoder without "
                                       "caching it (remove it to cache the model)")
        assert (path / "inside").is_dir() and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_cache_folder_that_is_a_file_warns_and_goes_on(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("mine")
    monkeypatch.setenv("GENVAL_CACHE", str(blocker))
    told = []
    with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
        model, cached = cached_model(load_dataset("emojis"), "autoencoder", SMALL, small,
                                     on_train=lambda path, fresh: told.append(path))
    assert not cached and model.n_epochs_ == 30
    assert told == [None]  # no path to announce: the command says "(not cached)", not "cached as"
    assert one_warning(caplog) == (f"cannot use the genval cache ({blocker} is a file, not a folder); "
                                   "training the autoencoder without caching it")
    assert blocker.read_text() == "mine"
    monkeypatch.setenv("GENVAL_CACHE", str(blocker / "deeper" / "still"))  # a file higher up
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
        assert not cached_model(load_dataset("emojis"), "autoencoder", SMALL, small)[1]
    assert f"({blocker} is a file, not a folder)" in one_warning(caplog)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_folder_warns_and_goes_on(tmp_path, monkeypatch, caplog):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    monkeypatch.setenv("GENVAL_CACHE", str(folder))
    try:
        with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
            assert not cached_model(load_dataset("emojis"), "autoencoder", SMALL, small)[1]
        assert one_warning(caplog) == (f"cannot use the genval cache ({folder} is not writable); "
                                       "training the autoencoder without caching it")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_a_save_that_fails_after_training_warns_and_goes_on(tmp_path, monkeypatch, caplog):
    # What a read-only folder does when the check before training could not see it (root, a full disk).
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))

    def refuse(self, path, metadata=None, follow_links=True):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Autoencoder, "save", refuse)
    emojis = load_dataset("emojis")
    with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
        model, cached = cached_model(emojis, "autoencoder", SMALL, small)
    path = entry_path(emojis, "autoencoder", SMALL)
    assert not cached and model.n_epochs_ == 30 and model.metadata_["kind"] == "autoencoder"
    assert one_warning(caplog) == (f"cannot write the genval cache entry {path} (Permission denied); "
                                   "going on without caching")
    assert list(tmp_path.iterdir()) == []


def test_the_entry_records_what_it_holds(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    emojis = load_dataset("emojis")
    model, _ = cached_model(emojis, "autoencoder", SMALL, small)
    metadata = config_of(entry_path(emojis, "autoencoder", SMALL))["metadata"]
    assert metadata == {"dataset": "emojis", "shape": [7, 5], "names": list(emojis.names), "kind": "autoencoder",
                        "cache_key": cache_key(emojis, "autoencoder", SMALL),
                        "params_sha256": hashlib.sha256(model.params_.astype(np.float64).tobytes()).hexdigest()}


def test_settings_and_kind_name_the_entry():
    emojis = load_dataset("emojis")
    names = {entry_path(emojis, "autoencoder", SMALL).name, entry_path(emojis, "autoencoder", {**SMALL, "epochs": 31}),
             entry_path(emojis, "denoiser", SMALL).name}
    assert len(names) == 3
    # The order settings are given in does not matter; values that are not JSON cannot name an entry.
    assert cache_key(emojis, "vae", {"a": 1, "b": 2}) == cache_key(emojis, "vae", {"b": 2, "a": 1})
    with pytest.raises(ParameterError, match="^cache settings must be plain JSON values"):
        cache_key(emojis, "vae", {"random_state": np.random.default_rng(0)})
    with pytest.raises(ParameterError, match="^unknown model kind 'gan'; choose one of autoencoder, vae, denoiser$"):
        entry_path(emojis, "gan", SMALL)
