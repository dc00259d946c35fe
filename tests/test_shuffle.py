"""`load_dataset(..., limit=N, shuffle=True)` (--limit N --shuffle): N items drawn at random, seeded, on every
format the loader reads; only the drawn records are decoded where the format allows.

Every file is built here, small; nothing is downloaded.
"""

import gzip
import struct
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from genval import BitmapFormatError, BitmapSet, ParameterError, load_dataset

from _format_fixtures import IMAGES, LABELS


def _idx(path, array, gz=False):
    data = struct.pack(f">4B{array.ndim}I", 0, 0, 8, array.ndim, *array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _folder(path, labelled):
    for k, image in enumerate(IMAGES):
        where = path / f"c{LABELS[k]}" if labelled else path
        where.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(where / f"{k}.png")
    return path


def _text(path):
    items = [f"i{k}\n" + "\n".join("".join("#" if v > 127 else "." for v in row) for row in image)
             for k, image in enumerate(IMAGES)]
    path.write_text("\n\n".join(items) + "\n")
    return path


def _header(path):
    rows = [", ".join(hex(int("".join("1" if v > 127 else "0" for v in row), 2)) for row in image)
            for image in IMAGES]
    body = ",\n".join(f"  {{{r}}}   // 0x{k:02x}, i{k}" for k, r in enumerate(rows))
    path.write_text(f"int const Set[5][4] = {{\n{body}\n}};\n")
    return path


def _csv(path):
    path.write_text("\n".join(",".join(map(str, [t, *row])) for t, row in zip(LABELS, IMAGES.reshape(5, -1))))
    return path


# Each format the loader reads, as (file maker, whether its items have labels).
FORMATS = {
    "idx": (lambda d: (_idx(d / "train-labels-idx1-ubyte", LABELS), _idx(d / "train-images-idx3-ubyte", IMAGES))[1],
            True),
    "idx.gz": (lambda d: (_idx(d / "train-labels-idx1-ubyte.gz", LABELS, True),
                          _idx(d / "train-images-idx3-ubyte.gz", IMAGES, True))[1], True),
    "npy": (lambda d: (np.save(d / "x.npy", IMAGES), d / "x.npy")[1], False),
    "npz": (lambda d: (np.savez(d / "m.npz", x_train=IMAGES, y_train=LABELS), f"{d / 'm.npz'}:x_train")[1], True),
    "npz-compressed": (lambda d: (np.savez_compressed(d / "c.npz", x_train=IMAGES, y_train=LABELS),
                                  f"{d / 'c.npz'}:x_train")[1], True),
    "csv": (lambda d: _csv(d / "x.csv"), True),  # read with shape=(4, 3)
    "folder": (lambda d: _folder(d / "flat", False), False),
    "folder-labelled": (lambda d: _folder(d / "classes", True), True),
    "text": (lambda d: _text(d / "x.txt"), False),
    "header": (lambda d: _header(d / "x.h"), False),
    "bundled": (lambda d: "font", False),
    "bundled-labelled": (lambda d: "digits", True),
}


@pytest.mark.parametrize("kind", FORMATS)
def test_a_shuffled_limit_is_a_seeded_uniform_draw_with_labels_following(tmp_path, kind):
    make, labelled = FORMATS[kind]
    spec = make(tmp_path)
    shape = {"shape": (4, 3)} if kind == "csv" else {}
    full = load_dataset(spec, **shape)
    n = len(full)
    drawn = load_dataset(spec, limit=3, shuffle=True, **shape)
    rows = np.random.default_rng(0).choice(n, size=3, replace=False).tolist()  # the documented draw: seed 0
    assert drawn.names == tuple(full.names[r] for r in rows)
    np.testing.assert_array_equal(drawn.X, full.X[rows])
    assert (drawn.labels is not None) == labelled
    if labelled:
        assert drawn.labels == tuple(full.labels[r] for r in rows)
    assert drawn.title == full.title and drawn.shape == full.shape
    again = load_dataset(spec, limit=3, shuffle=True, **shape)  # the same seed, the same items in the same order
    assert again.names == drawn.names and np.array_equal(again.X, drawn.X)
    other = load_dataset(spec, limit=3, shuffle=True, random_state=7, **shape)
    assert other.names == tuple(full.names[r] for r in np.random.default_rng(7).choice(n, 3, replace=False))
    everything = load_dataset(spec, shuffle=True, **shape)  # no limit (or one past the end): every item, reordered
    assert sorted(everything.names) == sorted(full.names) and everything.names != full.names
    assert load_dataset(spec, limit=n + 10, shuffle=True, **shape).names == everything.names
    for name, x in zip(everything.names, everything.X):
        np.testing.assert_array_equal(x, full.X[full.index(name)])


def test_a_loaded_set_and_given_labels_are_drawn_from_too(tmp_path):
    labels = _idx(tmp_path / "labels-idx1-ubyte", LABELS)
    images = _idx(tmp_path / "t10k-images-idx3-ubyte", IMAGES)  # no labels beside it: given
    full = load_dataset(images, labels=labels)
    drawn = load_dataset(images, labels=labels, limit=2, shuffle=True)
    rows = np.random.default_rng(0).choice(5, size=2, replace=False).tolist()
    assert drawn.names == tuple(str(r) for r in rows) and drawn.labels == tuple(full.labels[r] for r in rows)
    loaded = BitmapSet(full.names, full.X, full.shape, "mine", full.labels)
    assert load_dataset(loaded, limit=2, shuffle=True).names == drawn.names
    assert load_dataset("font", limit=4, shuffle=True, binarize=0.5).is_binary
    with pytest.raises(ParameterError, match="^shuffle must be True or False, got 'yes'$"):
        load_dataset("font", shuffle="yes")


@pytest.mark.parametrize("kind", ["npy", "idx-float"])
def test_only_the_drawn_records_are_decoded(tmp_path, kind):
    # Record 3 holds a pixel no image may hold: loading it fails, a draw that leaves it out does not read it.
    images = (IMAGES / 255.0).astype(">f4" if kind == "idx-float" else "<f4")
    images[3, 0, 0] = np.nan
    if kind == "npy":
        path = tmp_path / "x.npy"
        np.save(path, images)
    else:
        path = tmp_path / "f-idx3-ubyte"
        path.write_bytes(struct.pack(">4B3I", 0, 0, 0x0D, 3, *images.shape) + images.tobytes())
    with pytest.raises(BitmapFormatError, match=f"{path}: record 3 holds .*nan.* at pixel 0"):
        load_dataset(path)
    for seed in range(20):
        rows = np.random.default_rng(seed).choice(5, size=2, replace=False)
        if 3 in rows:
            with pytest.raises(BitmapFormatError, match=f"{path}: record 3 holds .*nan.* at pixel 0"):
                load_dataset(path, limit=2, shuffle=True, random_state=seed)
        else:
            assert sorted(load_dataset(path, limit=2, shuffle=True, random_state=seed).names) == \
                sorted(map(str, rows))


def test_csv_rows_and_images_that_are_not_drawn_are_not_parsed(tmp_path):
    rows = np.random.default_rng(0).choice(5, size=2, replace=False).tolist()
    bad = max(set(range(1, 5)) - set(rows))  # a row the draw leaves out (not the first: it sets the layout)
    path = _csv(tmp_path / "x.csv")
    lines = path.read_text().splitlines()
    lines[bad] = lines[bad].replace(",", ",oops,", 1).rpartition(",")[0]  # as many columns, one not a number
    path.write_text("\n".join(lines))
    with pytest.raises(BitmapFormatError, match=f"x.csv:{bad + 1}: 'oops' is not a pixel value"):
        load_dataset(path, shape=(4, 3))
    assert load_dataset(path, shape=(4, 3), limit=2, shuffle=True).names == tuple(map(str, rows))
    folder = _folder(tmp_path / "flat", False)
    (folder / f"{bad}.png").write_bytes(b"not a png")
    with pytest.raises(BitmapFormatError, match=f"{bad}.png: not a readable image"):
        load_dataset(folder)
    assert load_dataset(folder, limit=2, shuffle=True).names == tuple(map(str, rows))


def test_a_few_drawn_records_of_a_large_file_cost_a_few_records(tmp_path):
    # 20,000 records of 28x28 (15 MB): ten drawn records are read through one small buffer.
    path = tmp_path / "big-idx3-ubyte"
    big = np.random.default_rng(1).integers(0, 256, size=(20_000, 28, 28), dtype=np.uint8)
    _idx(path, big)
    tracemalloc.start()
    drawn = load_dataset(path, limit=10, shuffle=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows = np.random.default_rng(0).choice(20_000, size=10, replace=False)
    np.testing.assert_allclose(drawn.X, big[rows].reshape(10, -1) / 255, rtol=1e-6)
    assert peak < 2**20
    # A header that claims 2**31 records is drawn from without a 16 GiB index, and read to where it ends.
    fake = tmp_path / "fake-idx3-ubyte"
    fake.write_bytes(struct.pack(">4B3I", 0, 0, 8, 3, 2**31, 28, 28) + big[:5].tobytes())
    tracemalloc.start()
    with pytest.raises(BitmapFormatError, match=r"fake-idx3-ubyte: cut short in record \d+"):
        load_dataset(fake, limit=10, shuffle=True)
    assert tracemalloc.get_traced_memory()[1] < 2**20
    tracemalloc.stop()
