"""Map files (genval som --out) are read as model files are: every header checked before any array is read."""

import io
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genval import Autoencoder, LatentSOM, ModelFileError, load_som
from genval._utils.archive import brief
import test_model_files
from test_model_files import config_of, measured_load, npy, npz, with_config
from test_model_files_fuzz import SETTINGS, mutate_bytes, mutate_config

# The model files' fixtures: the same scratch folder and memory budget here.
emojis, folder, small_budget = test_model_files.emojis, test_model_files.folder, test_model_files.small_budget


# ------------------------------------------------------------ map files: read the same way


@pytest.fixture(scope="module")
def good_map(folder):
    """A small saved map's members: a 2x3 grid over 20 two-dimensional codes."""
    codes = np.random.default_rng(0).normal(size=(20, 2))
    LatentSOM(grid=(2, 3), random_state=0).fit(codes).save(folder / "map.npz")
    with zipfile.ZipFile(folder / "map.npz") as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def map_outcome(path):
    """Load the map at ``path``: "loaded" after checking it answers, else the error's message."""
    som = measured_load(load_som, path)
    if isinstance(som, str):
        return som
    winners = som.winners(np.zeros((3, som.n_features_in_)))
    assert winners.shape == (3,) and winners.max() < som.n_neurons
    return "loaded"


def load_map_bytes(folder, data: bytes):
    path = folder / "mutant-map.npz"
    path.write_bytes(data)
    return map_outcome(path)


def test_map_files_are_checked_before_their_arrays_are_read(folder, good_map):
    assert load_map_bytes(folder, npz(good_map)) == "loaded"
    config = config_of(good_map)
    weights = np.load(io.BytesIO(good_map["weights.npy"]))
    prefix = f"{folder / 'mutant-map.npz'}: "
    seven = {**config["training_data"], "n_items": 7}  # a record of other codes than the 20 labels
    cases = {
        # The weights' header claims a terabyte: np.load allocated it before this reader.
        "terabyte": ({"weights.npy": good_map["weights.npy"].replace(b"(2, 3, 2)", b"(2, 3, 100000000000)")},
                     "damaged genval map (weights.npy holds 107 bytes of data, its header announces 4800000000000)"),
        "wrong grid": ({"weights.npy": npy(np.zeros((3, 2, 2)))},
                       "damaged genval map (weights do not match the grid: weights.npy has shape (3, 2, 2), "
                       "expected (2, 3, n))"),
        "NaN weights": ({"weights.npy": npy(np.where(weights == weights.max(), np.nan, weights))},
                        "damaged genval map (its weights contain NaN, infinity or values past 1e100)"),
        "float labels": ({"labels.npy": npy(np.zeros(20))}, "damaged genval map (labels.npy holds float64, "
                                                            "expected int32 or int64)"),
        "labels off the grid": ({"labels.npy": npy(np.full(20, 6))},
                                "damaged genval map (labels are not neurons of the 2x3 grid)"),
        "no labels": ({"labels.npy": None}, "damaged genval map (missing labels)"),
        "bad sigma": ({"config.npy": with_config({}, {**config, "params": {**config["params"], "sigma": "x"}})[
            "config.npy"]}, "damaged genval map (params: sigma must be a positive number, got 'x')"),
        "huge grid": ({"config.npy": with_config({}, {**config, "grid": [1000, 1000]})["config.npy"]},
                      "damaged genval map (grid must be [rows, cols] of at most 100,000 neurons, got [1000, 1000])"),
        "two grids": ({"config.npy": with_config({}, {**config, "params": {**config["params"], "grid": [3, 2]}})[
            "config.npy"]}, "damaged genval map (params.grid [3, 2] does not match its grid [2, 3])"),
        "a model": ({"config.npy": with_config({}, {**config, "format": "genval-model"})["config.npy"]},
                    "not a genval map file"),
        "codes of another count": (
            {"config.npy": with_config({}, {**config, "training_data": seven})["config.npy"]},
            "damaged genval map (training_data must be an object of n_items (20, one per label), n_features (2), a "
            f"printable title and a sha256 (64 hex digits), got {brief(seven, 60)})"),
        "no record": ({"config.npy": with_config({}, {k: v for k, v in config.items() if k != "training_data"})[
            "config.npy"]}, None),
    }
    for case, (replace, message) in cases.items():
        members = {k: v for k, v in {**good_map, **replace}.items() if v is not None}
        assert load_map_bytes(folder, npz(members)) == ("loaded" if message is None else prefix + message), case


@SETTINGS
@given(st.data())
def test_truncated_or_overwritten_map_files_load_or_are_one_clean_error(folder, good_map, data):
    compression = data.draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    raw = bytearray(npz(good_map, compression))
    raw = mutate_bytes(raw, data, data.draw(st.sampled_from(["truncate", "overwrite"])))
    load_map_bytes(folder, bytes(raw))


@SETTINGS
@given(st.data())
def test_any_map_config_value_loads_or_is_one_clean_error(folder, good_map, data):
    config = config_of(good_map)
    paths = [(k,) for k in config] + [("extra",)] + [("params", k) for k in config["params"]] + [("grid", 0)]
    mutate_config(config, paths, data)
    load_map_bytes(folder, npz(with_config(good_map, config)))


# --- weights and codes finite in the dtype the model runs in ---------------------------------------

@pytest.fixture(scope="module")
def trained(emojis):
    return {dtype: Autoencoder(epochs=40, dtype=dtype, random_state=0).fit(emojis.X) for dtype in ("float32", "float64")}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dtype=st.sampled_from(["float32", "float64"]), exponent=st.integers(0, 308),
       one_weight=st.booleans(), index=st.integers(0, 10**6))
def test_a_scaled_model_gives_a_map_of_finite_codes_or_one_error_naming_its_file(
        trained, emojis, folder, dtype, exponent, one_weight, index):
    from genval.pipeline import build_space

    model = trained[dtype]
    params = model.params_.copy()
    if one_weight:
        params[index % len(params)] = 1.7976931348623157e308 if exponent == 308 else 10.0 ** exponent
    else:
        params = params * 10.0 ** exponent
    path = folder / f"scaled-{dtype}-{exponent}-{one_weight}.npz"
    with np.load(_save(model, folder), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["params"] = params
    np.savez(path, **arrays)
    try:
        space = build_space(emojis, path, grid=(3, 3), random_state=0)
    except ModelFileError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        return
    assert np.isfinite(space.codes).all() and np.isfinite(space.som.weights_).all()
    assert np.isfinite(space.som.quantization_error(space.codes))
    assert ((0 <= space.som.labels_) & (space.som.labels_ < 9)).all()


def _save(model, folder):
    path = folder / f"base-{model.dtype}.npz"
    if not path.exists():
        model.save(path)
    return path
