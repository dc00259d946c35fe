"""Model and map files are untrusted input: each loads into a working model or map, or is one ModelFileError."""

import io
import json
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from genval import Autoencoder, ModelFileError, VariationalAutoencoder, load_dataset, load_model

BUDGET = 256 * 1024  # GENVAL_MEMORY_BUDGET during these tests: every good file here needs a few kilobytes


@pytest.fixture(scope="module", autouse=True)
def small_budget():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENVAL_MEMORY_BUDGET", str(BUDGET))
        yield


@pytest.fixture(scope="module")
def emojis():
    return load_dataset("emojis")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("model_files")


@pytest.fixture(scope="module")
def goods(emojis, folder):
    """Two small saved models, an autoencoder with a held-out set and a VAE, as {name: members}."""
    models = {"ae": Autoencoder(hidden=(6,), epochs=30, validation_fraction=0.2, activity_l1=0.01),
              "vae": VariationalAutoencoder(hidden=(5,), epochs=20, beta=0.5)}
    out = {}
    for name, model in models.items():
        model.fit(emojis)
        model.save(folder / f"{name}.npz", metadata={"dataset": "emojis"})
        with zipfile.ZipFile(folder / f"{name}.npz") as z:
            out[name] = {info.filename: z.read(info) for info in z.infolist()}
        load_model(folder / f"{name}.npz")  # the first load imports a codec or two: not what is measured
    return out


def npy(array) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(array), allow_pickle=False)
    return buf.getvalue()


def npz(members: dict, compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def config_of(members: dict) -> dict:
    return json.loads(str(np.load(io.BytesIO(members["config.npy"]), allow_pickle=False)))


def with_config(members: dict, config) -> dict:
    return {**members, "config.npy": npy(np.array(json.dumps(config)))}


def measured_load(load, path):
    """``load(path)``, or the ModelFileError's message (one line naming the file).

    Any other exception propagates and fails the test; so does a load that allocates more than the budget.
    What would make a load slow (reading or allocating far more than the file announces) shows in its peak
    memory, which does not depend on how busy the machine is, as a time limit would.
    """
    tracemalloc.start()
    try:
        return load(path)
    except ModelFileError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith(str(path))
        return message
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < BUDGET


def outcome(path):
    """Load the model at ``path``: "loaded" after checking the model works, else the error's message."""
    model = measured_load(load_model, path)
    if isinstance(model, str):
        return model
    X = np.random.default_rng(0).random((4, model.n_features_in_))
    Z = model.transform(X)
    assert Z.shape == (4, model.n_latent)
    assert model.inverse_transform(Z).shape == X.shape
    return "loaded"


def load_bytes(folder, data: bytes, name="mutant.npz"):
    path = folder / name
    path.write_bytes(data)
    return outcome(path)


# ------------------------------------------------------------ the reproducers of issue 12


@pytest.mark.parametrize("key, value, message", [
    ("params", None, "params must be an object of parameters, got null"),
    ("params", 5, "params must be an object of parameters, got 5"),
    ("params", [1], "params must be an object of parameters, got [1]"),
    ("metadata", [1], "metadata must be an object, got [1]"),
    ("n_epochs", "x", 'n_epochs must be an integer in [1, 30] (the epochs), got "x"'),
    ("params", "<missing>", "params is missing"),
    ("layer_sizes", [35, 6, 2, 6, 36], "layer_sizes [35, 6, 2, 6, 36] do not match its parameters, which give "
                                       "[35, 6, 2, 6, 35]"),
    ("kind", "MLP", "kind must be one of Autoencoder, VariationalAutoencoder, got \"MLP\""),
    ("checksum", 1, "key \"checksum\" is not a model setting; expected format, version, kind, params, "
                    "layer_sizes, n_epochs, stopped_early, metadata, training_data"),
])
def test_config_values_of_the_wrong_type_name_the_file_and_the_key(folder, goods, key, value, message):
    config = config_of(goods["ae"])
    if value == "<missing>":
        del config[key]
    else:
        config[key] = value
    path = folder / "bad.npz"
    path.write_bytes(npz(with_config(goods["ae"], config)))
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value) == f"{path}: damaged genval model config ({message})"


@pytest.mark.parametrize("name, value, expected", [
    ("hidden", [0], "a list of at most 32 layer widths in [1, 16777216]"),
    ("hidden", [2**24 + 1], "a list of at most 32 layer widths in [1, 16777216]"),
    ("hidden", [1.5], "a list of at most 32 layer widths in [1, 16777216]"),
    ("n_latent", True, "an integer in [1, 16777216]"),
    ("activation", "swish", "one of identity, sigmoid, tanh, relu, leaky_relu, elu"),
    ("learning_rate", 10**400, "a positive number"),
    ("learning_rate", float("nan"), "a positive number"),
    ("dropout", 1, "a number in [0, 1)"),
    ("noise_levels", [0.1, 2], "a list of at most 64 numbers in [0, 1]"),
    ("optimizer_options", {"momentum": "x"}, "null or an object of at most 8 numbers or booleans"),
    ("random_state", -1, "null or an integer >= 0"),
    ("dtype", "float16", "one of float32, float64"),
])
def test_every_parameter_has_a_type_and_a_range(folder, goods, name, value, expected):
    config = config_of(goods["ae"])
    config["params"][name] = value
    path = folder / "bad.npz"
    path.write_bytes(npz(with_config(goods["ae"], config)))
    with pytest.raises(ModelFileError, match=r"damaged genval model config \(params\.") as info:
        load_model(path)
    assert f"params.{name} must be {expected}, got " in str(info.value)


def test_rules_between_parameters_are_checked_too(folder, goods):
    config = config_of(goods["ae"])
    config["params"]["output_activation"] = "tanh"  # cross-entropy needs a sigmoid output
    path = folder / "bad.npz"
    path.write_bytes(npz(with_config(goods["ae"], config)))
    with pytest.raises(ModelFileError, match="damaged genval model config .*sigmoid"):
        load_model(path)


def test_a_header_that_claims_a_terabyte_is_refused_before_reading(folder, goods):
    # The 5.9 KB file: params.npy says shape (10**12,) and holds a few kilobytes.
    members = dict(goods["ae"])
    n = len(np.load(io.BytesIO(members["params.npy"])))
    members["params.npy"] = members["params.npy"].replace(f"({n},)".encode(), b"(1000000000000,)")
    assert load_bytes(folder, npz(members)).endswith(
        "damaged genval model (parameters do not match its layer sizes: params.npy has shape (1000000000000,), "
        f"expected ({n},))")


def test_consistent_arrays_beyond_the_budget_are_refused_before_they_are_read(folder, goods, monkeypatch):
    # A compressed file whose config and arrays agree (no hidden layer, one latent unit, 200,000 pixels:
    # 600,001 weights, 4.8 MB of zeros, 5 KB on disk): over the 256 KiB budget, refused with the estimate;
    # under a larger budget, the same file is a working model.
    config = config_of(goods["ae"])
    p = 200_000
    config["params"].update(hidden=[], n_latent=1, activity_l1=0.0, validation_fraction=0.0)
    config["layer_sizes"] = [p, 1, p]
    del config["training_data"]
    members = with_config(goods["ae"], config)
    members["params.npy"] = npy(np.zeros(3 * p + 1))
    del members["validation_loss_curve.npy"]
    data = npz(members, compression=zipfile.ZIP_DEFLATED)
    assert len(data) < 20_000
    assert load_bytes(folder, data).endswith(
        "its arrays would need about 9.2 MiB, more than the memory budget of 256.0 KiB; "
        "raise GENVAL_MEMORY_BUDGET to load it")
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "64M")
    model = load_model(folder / "mutant.npz")
    assert model.layer_sizes_ == [p, 1, p] and model.params_.shape == (3 * p + 1,)


def test_zip_level_damage(folder, goods):
    members = goods["ae"]
    good = npz(members)
    cases = {
        "not a zip": (b"not a zip at all", "not a readable genval model (not a zip archive, or truncated)"),
        "truncated": (good[:len(good) // 2], "not a readable genval model (not a zip archive, or truncated)"),
        "no params": (npz({k: v for k, v in members.items() if k != "params.npy"}),
                      "damaged genval model (missing params)"),
        "extra member": (npz({**members, "extra.npy": npy(np.zeros(2))}),
                         'damaged genval model (unexpected member "extra.npy"; a model holds config.npy, '
                         "params.npy, loss_curve.npy, validation_loss_curve.npy)"),
        "many members": (npz({**members, **{f"m{i}": b"" for i in range(100)}}),
                         "damaged genval model (its zip directory lists 104 members in "),
        "bzip2": (npz(members, compression=zipfile.ZIP_BZIP2),
                  "damaged genval model (config.npy uses zip compression method 12; expected stored or deflated)"),
        "no config": (npz({"weights.npy": npy(np.zeros(3))}), "not a genval model (no config inside)"),
    }
    for case, (data, message) in cases.items():
        assert load_bytes(folder, data).startswith(f"{folder / 'mutant.npz'}: {message}"), case


def central_entry(data: bytes, member: str, offset: int, patch: bytes) -> bytes:
    """``data`` with ``patch`` written ``offset`` bytes into ``member``'s entry of the zip directory."""
    at = next(i for i in range(len(data)) if data.startswith(b"PK\x01\x02", i)
              and data[i + 46:i + 46 + len(member)] == member.encode())
    return data[:at + offset] + patch + data[at + offset + len(patch):]


def test_zip_features_a_model_never_uses_are_one_clean_error(folder, goods):
    # Found by the fuzzing test in CI: zipfile raises NotImplementedError or UnicodeDecodeError for these.
    good = npz(goods["ae"])
    expected = f"{folder / 'mutant.npz'}: damaged genval model (its zip structure is not one genval writes: "
    cases = {
        "a newer zip version": (central_entry(good, "params.npy", 6, b"\xff\x00"), "zip file version 25.5)"),
        "compressed patched data": (central_entry(good, "params.npy", 8, b"\x20\x00"),
                                    "compressed patched data (flag bit 5))"),
        "a UTF-8 name that is not": (central_entry(central_entry(good, "loss_curve.npy", 8, b"\x00\x08"),
                                                   "loss_curve.npy", 46, b"\xff"), "'utf-8' codec can't decode"),
    }
    for case, (data, message) in cases.items():
        assert load_bytes(folder, data).startswith(expected + message), case


def test_a_long_header_is_read_in_linear_time_and_memory(folder, goods):
    # numpy's header parser evaluates the literal as Python: about 5 MB for this 10 KB header of a
    # 2,000-dimensional shape, twenty times the budget; the CI fuzzing run caught a smaller case of it.
    params = np.load(io.BytesIO(goods["ae"]["params.npy"]))
    header = ("{'descr': '<f8', 'fortran_order': False, 'shape': (" + ", ".join(["1"] * 3300) + "), }").encode()
    header += b" " * (9_999 - len(header)) + b"\n"
    member = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + params.tobytes()
    message = load_bytes(folder, npz({**goods["ae"], "params.npy": member}))
    assert message.endswith("damaged genval model (parameters do not match its layer sizes: params.npy has shape "
                            "(" + "1, " * 18 + "1,..., expected "
                            f"({len(params)},))")


def test_array_and_text_damage(folder, goods):
    members = goods["ae"]
    params = np.load(io.BytesIO(members["params.npy"]))
    for bad, message in [(np.nan, "its weights contain NaN or infinity"),
                         (np.inf, "its weights contain NaN or infinity")]:
        damaged = params.copy()
        damaged[3] = bad
        assert load_bytes(folder, npz({**members, "params.npy": npy(damaged)})).endswith(f"({message})")
    cases = {
        "int weights": ({"params.npy": npy(params.astype(np.int64))},
                        "params.npy holds int64, expected float32 or float64"),
        "NaN loss": ({"loss_curve.npy": npy(np.full(30, np.nan))}, "loss_curve contains NaN or infinity"),
        "short curve": ({"loss_curve.npy": npy(np.ones(29))},
                        "loss_curve does not have one value per epoch: loss_curve.npy has shape (29,), expected (30,)"),
        "numeric config": ({"config.npy": npy(np.zeros(3))}, "config.npy holds float64, expected text"),
        "not JSON": ({"config.npy": npy(np.array("{format: genval"))}, "its config is not valid JSON: "),
        "bad code point": ({"config.npy": npy(np.array("{}"))[:-8] + struct.pack("<2I", 0x110000, 0xD800)},
                           "its config is not valid Unicode text"),
        "lone surrogate": ({"config.npy": npy(np.array(json.dumps(config_of(members))[:-1] + ', "metadata": '
                                                       '{"x": "\\ud800"}}'))}, "its config is not valid Unicode text"),
        "object header": ({"params.npy": npy(params).replace(b"'<f8'", b"'|O8'")},
                          "params.npy holds object, expected float32 or float64"),
        "bad header": ({"params.npy": npy(params).replace(b"'descr'", b"'dscr' ")},
                       "params.npy has no valid array header"),
        "huge header": ({"params.npy": b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**32 - 1) + b"{" * 100},
                        "params.npy has no valid array header: its header announces 4294967295 bytes, more than 10000"),
        "short data": ({"params.npy": npy(params)[:-8]},
                       f"params.npy holds {params.nbytes - 8} bytes of data, its header announces {params.nbytes}"),
    }
    for case, (replace, message) in cases.items():
        assert message in load_bytes(folder, npz({**members, **replace})), case


def test_a_folder_and_a_missing_file(folder):
    assert outcome(folder) == f"{folder}: not a file; expected a genval model (.npz)"
    assert outcome(folder / "absent.npz") == f"{folder / 'absent.npz'}: no such model file"


def test_a_file_without_the_training_record_still_loads(folder, goods, emojis):
    config = config_of(goods["ae"])
    del config["training_data"]
    path = folder / "old.npz"
    path.write_bytes(npz(with_config(goods["ae"], config)))
    model = load_model(path)
    assert model.training_data_ is None and model.check_training_data(emojis) is False


# ------------------------------------------------------------ round trips


@pytest.mark.parametrize("model", [
    Autoencoder(hidden=(8, 4), epochs=40, activity_l1=0.01, contractive=0.01, dropout=0.1, noise_levels=(0, 0.1),
                noise_copies=2, validation_fraction=0.2, batch_size=5, activation="leaky_relu", activation_param=0.2,
                code_activation="relu", optimizer="momentum", optimizer_options={"momentum": 0.8},
                learning_rate=0.5, random_state=3),
    Autoencoder(hidden=(), n_latent=3, epochs=25, loss="mse", output_activation="identity", dtype="float64",
                optimizer="adaptive", learning_rate=1.0, noise="gaussian", noise_levels=(0.05,)),
    Autoencoder(hidden=(10,), epochs=500, stop_wrong_pixels=3, activation="elu", optimizer="gd", learning_rate=2.0),
    VariationalAutoencoder(hidden=(8,), epochs=40, beta=0.3, dropout=0.05, validation_fraction=0.25,
                           noise="image_gaussian", noise_levels=(0.1,), activation="sigmoid", activation_param=2.0),
    VariationalAutoencoder(hidden=(6, 5), n_latent=4, epochs=30, loss="mse", output_activation="identity",
                           dtype="float64", contractive=0.05, optimizer_options={"amsgrad": False}),
], ids=["ae-every-penalty", "ae-mse-float64", "ae-stopped-early", "vae-dropout-noise", "vae-mse-contractive"])
def test_save_then_load_predicts_bit_for_bit(tmp_path, emojis, model):
    model = model.fit(emojis)
    path = tmp_path / "model.npz"
    model.save(path, metadata={"dataset": "emojis", "names": list(emojis.names)})
    loaded = load_model(path)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.params_, model.params_)
    Z = model.transform(emojis.X)
    assert loaded.transform(emojis.X).tobytes() == Z.tobytes()
    assert loaded.inverse_transform(Z).tobytes() == model.inverse_transform(Z).tobytes()
    if isinstance(model, VariationalAutoencoder):
        assert loaded.encode(emojis.X)[1].tobytes() == model.encode(emojis.X)[1].tobytes()
    assert loaded.loss_curve_ == model.loss_curve_ and loaded.validation_loss_curve_ == model.validation_loss_curve_
    assert (loaded.n_epochs_, loaded.stopped_early_) == (model.n_epochs_, model.stopped_early_)
    assert loaded.training_data_ == model.training_data_ and loaded.training_data_["title"] == "emojis"
    assert loaded.check_training_data(emojis) is True
    assert loaded.metadata_["names"] == list(emojis.names)
    loaded.save(tmp_path / "again.npz", metadata=loaded.metadata_)
    assert (tmp_path / "again.npz").read_bytes() == path.read_bytes()
