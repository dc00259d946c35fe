"""Mutated model files, property-based: each loads a working model or is one clean error naming the file."""

import struct
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import test_model_files
from test_model_files import config_of, load_bytes, npz, with_config

# The model files' fixtures, the same files and memory budget here.
emojis, folder, goods = test_model_files.emojis, test_model_files.folder, test_model_files.goods
small_budget = test_model_files.small_budget


# ------------------------------------------------------------ property-based: mutated files

JSON_LEAVES = (st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.integers(-3, 40)
               | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8)
               | st.sampled_from(["relu", "sigmoid", "identity", "mse", "bce", "gd", "adam", "float64", "flip",
                                  "Autoencoder", "VariationalAutoencoder", "genval-model", 0.5, 1e-3]))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=10)
# No deadline: a load is bounded by its memory peak (measured_load), not by a busy machine's clock.
SETTINGS = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _key_paths(config: dict) -> list[tuple]:
    paths = [(k,) for k in config] + [("extra",), ("params", "extra")]
    paths += [("params", k) for k in config["params"]] + [("training_data", k) for k in config["training_data"]]
    paths += [("layer_sizes", i) for i in range(len(config["layer_sizes"]))] + [("params", "hidden", 0)]
    return paths


def mutate_config(config: dict, paths: list[tuple], data) -> None:
    """Set one to three of ``config``'s keys at ``paths`` to random JSON values, or delete them, in place."""
    for _ in range(data.draw(st.integers(1, 3))):
        *parents, last = data.draw(st.sampled_from(paths))
        node = config
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) or isinstance(node, list) and isinstance(last, int) and last < len(node):
            if isinstance(node, dict) and data.draw(st.booleans()):
                node.pop(last, None)
            else:
                node[last] = data.draw(JSON_VALUES)


def mutate_bytes(raw: bytearray, data, how: str) -> bytearray:
    """``raw`` cut short ("truncate") or with one to eight short runs overwritten ("overwrite")."""
    if how == "truncate":
        return raw[:data.draw(st.integers(0, len(raw) - 1))]
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw) - 1))
        patch = data.draw(st.binary(min_size=1, max_size=4))
        raw[at:at + len(patch)] = patch
    return raw


@SETTINGS
@given(st.data())
def test_any_config_value_loads_a_working_model_or_is_one_clean_error(folder, goods, data):
    kind = data.draw(st.sampled_from(sorted(goods)))
    config = config_of(goods[kind])
    paths = _key_paths(config)
    mutate_config(config, paths, data)
    load_bytes(folder, npz(with_config(goods[kind], config)))


DESCRS = st.sampled_from(["<f8", "<f4", ">f8", "<f2", "<f16", "<i8", "|b1", "|O", "<c16", "<U5", "|V8", "|S3",
                          "[('a', '<f8')]", "('<f8', (2,))", "'<f8'", "<f8'", "zz"])


@st.composite
def npy_headers(draw) -> bytes:
    """A .npy member with a random header (shape, dtype, order, version) and random data."""
    shape = draw(st.lists(st.integers(-2, 10**15) | st.integers(0, 400), max_size=3))
    descr = draw(DESCRS)
    descr = descr if descr.startswith(("[", "(", "'")) or descr.endswith("'") else repr(descr)
    header = f"{{'descr': {descr}, 'fortran_order': {draw(st.booleans())}, 'shape': {tuple(shape)!r}, }}"
    header = draw(st.sampled_from([header, header.replace("shape", "shapes"), header[:-3]]))
    version = draw(st.sampled_from([(1, 0), (2, 0), (3, 0), (9, 9)]))
    raw = header.encode("latin1") + b"\n"
    length = struct.pack("<H" if version == (1, 0) else "<I", len(raw))
    body = draw(st.binary(max_size=64)) if draw(st.booleans()) else bytes(8 * max(0, min(max(shape, default=1), 3000)))
    return b"\x93NUMPY" + bytes(version) + length + raw + body


@SETTINGS
@given(st.data())
def test_any_array_header_loads_a_working_model_or_is_one_clean_error(folder, goods, data):
    kind = data.draw(st.sampled_from(sorted(goods)))
    member = data.draw(st.sampled_from(sorted(goods[kind])))
    members = {**goods[kind], member: data.draw(npy_headers())}
    compression = data.draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    load_bytes(folder, npz(members, compression))


@SETTINGS
@given(st.data())
def test_truncated_or_overwritten_bytes_load_or_are_one_clean_error(folder, goods, data):
    kind = data.draw(st.sampled_from(sorted(goods)))
    compression = data.draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    raw = bytearray(npz(goods[kind], compression))
    how = data.draw(st.sampled_from(["truncate", "overwrite", "random"]))
    if how == "random":
        raw = bytearray(data.draw(st.binary(max_size=2000)))
    else:
        raw = mutate_bytes(raw, data, how)
    load_bytes(folder, bytes(raw))
