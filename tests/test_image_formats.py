"""Loading grey image files (IDX, .npy/.npz, CSV): labels, limits, the memory budget, and bad files.

Every file is built here, small; nothing is downloaded. Image folders are tested in
tests/test_image_folders.py; C headers, text files and the fuzzing of every parser in
tests/test_formats.py.
"""

import gzip
import re
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genval import BitmapFormatError, BitmapSet, GenvalError, ParameterError, load_dataset

from _format_fixtures import IMAGES, LABELS


def idx(path, array, gz=False):
    dtype_code = {np.dtype("uint8"): 8}[array.dtype]
    data = struct.pack(f">4B{array.ndim}I", 0, 0, dtype_code, array.ndim, *array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_idx_images_with_labels_found_beside_them(tmp_path, gz):
    suffix = ".gz" if gz else ""
    images = idx(tmp_path / f"train-images-idx3-ubyte{suffix}", IMAGES, gz)
    idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", LABELS, gz)
    s = load_dataset(images)
    assert s.shape == (4, 3) and len(s) == 5 and s.X.dtype == np.float32
    np.testing.assert_allclose(s.X, IMAGES.reshape(5, -1) / 255, rtol=1e-6)
    assert s.names == ("0", "1", "2", "3", "4") and s.labels == ("3", "1", "4", "1", "5")
    assert s.title == str(images)
    first = load_dataset(images, limit=2)
    assert len(first) == 2 and first.labels == ("3", "1")
    np.testing.assert_array_equal(first.X, s.X[:2])


def test_idx_labels_given_and_checked(tmp_path):
    images = idx(tmp_path / "t10k-images-idx3-ubyte", IMAGES)  # no labels beside it
    assert load_dataset(images).labels is None
    labels = idx(tmp_path / "other-labels", LABELS)
    assert load_dataset(images, labels=labels).labels == ("3", "1", "4", "1", "5")
    short = idx(tmp_path / "short-labels", LABELS[:3])
    with pytest.raises(BitmapFormatError, match=r"short-labels: 3 labels for the 5 items of .*expected one label"):
        load_dataset(images, labels=short)
    text = tmp_path / "labels.txt"
    text.write_text("cat\ndog\ncat\nemu\nemu\n")
    assert load_dataset(images, labels=text).labels == ("cat", "dog", "cat", "emu", "emu")


def test_idx_errors_name_the_file_and_record(tmp_path):
    data = idx(tmp_path / "cut-idx3-ubyte", IMAGES).read_bytes()
    (tmp_path / "cut-idx3-ubyte").write_bytes(data[:-5])
    with pytest.raises(BitmapFormatError, match=r"cut-idx3-ubyte: cut short in record 4; expected 5 records of 12"):
        load_dataset(tmp_path / "cut-idx3-ubyte")
    (tmp_path / "head-idx3-ubyte").write_bytes(data[:9])
    with pytest.raises(BitmapFormatError, match="head-idx3-ubyte: IDX header cut short; expected 3 dimensions"):
        load_dataset(tmp_path / "head-idx3-ubyte")
    with pytest.raises(BitmapFormatError, match="rank-1 IDX file holds labels"):
        load_dataset(idx(tmp_path / "labels-idx1-ubyte", LABELS))
    (tmp_path / "bad.gz").write_bytes(gzip.compress(data)[:40])
    with pytest.raises(BitmapFormatError, match=r"bad\.gz: .*(damaged|cut short)"):
        load_dataset(tmp_path / "bad.gz")


def test_a_size_over_the_memory_budget_is_refused_before_allocating(tmp_path, monkeypatch):
    # The header claims 10**9 images of 28x28: refused with the estimate, nothing read or allocated.
    (tmp_path / "huge-idx3-ubyte").write_bytes(struct.pack(">4B3I", 0, 0, 8, 3, 10**9, 28, 28))
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1G")
    with pytest.raises(ParameterError, match=r"huge-idx3-ubyte: 1000000000 items of 784 pixels \(load fewer with "
                                             r"limit, --limit\) would need about 3.0 TiB, more than the memory "
                                             r"budget of 1.0 GiB"):
        load_dataset(tmp_path / "huge-idx3-ubyte")
    with pytest.raises(BitmapFormatError, match="cut short in record 0"):
        load_dataset(tmp_path / "huge-idx3-ubyte", limit=3)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "lots")
    with pytest.raises(ParameterError, match="GENVAL_MEMORY_BUDGET must be a positive size"):
        load_dataset(tmp_path / "huge-idx3-ubyte")


def npy_header(path, shape, descr="|u1"):
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": descr, "fortran_order": False, "shape": shape})
    return path


def peak_bytes(read, *args, **kwargs):
    """The error ``read`` raises and the most memory Python and NumPy held meanwhile (tracemalloc sees both)."""
    tracemalloc.start()
    try:
        read(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - handed back for the test to check its type and text
        error = exc
    else:
        error = None
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return error, peak


def test_no_items_and_huge_images_are_refused_before_any_buffer(tmp_path):
    # Zero items of 262144x262144 once asked for a 64 GiB read buffer (MemoryError); 20000x20000 took 400 MB.
    huge = tmp_path / "z-images-idx3-ubyte"
    huge.write_bytes(struct.pack(">IIII", 0x803, 0, 262144, 262144))
    for path, side in ((huge, 262144), (npy_header(tmp_path / "z.npy", (0, 262144, 262144)), 262144),
                       (npy_header(tmp_path / "z2.npy", (0, 20000, 20000)), 20000)):
        error, peak = peak_bytes(load_dataset, path)
        assert isinstance(error, BitmapFormatError)
        assert str(error) == f"{path}: images of {side}x{side} pixels; expected at most 16,777,216 pixels (4096x4096)"
        assert peak < 2**20
    # The largest images allowed, but none of them: said before a 128 MiB buffer of float64 records.
    empty = npy_header(tmp_path / "empty.npy", (0, 4096, 4096), "<f8")
    error, peak = peak_bytes(load_dataset, empty)
    assert str(error) == f"{empty}: holds no items; expected at least one image" and peak < 2**20
    (tmp_path / "empty-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, 0, 28, 28))
    with pytest.raises(BitmapFormatError, match="empty-idx3-ubyte: holds no items; expected at least one image"):
        load_dataset(tmp_path / "empty-idx3-ubyte")


def test_the_read_buffer_counts_against_the_memory_budget(tmp_path, monkeypatch):
    # One 1000x1000 record of float64: 4 MB decoded, but read through an 8 MB buffer.
    path = tmp_path / "f8-idx3-ubyte"
    path.write_bytes(struct.pack(">4B3I", 0, 0, 0x0E, 3, 1, 1000, 1000) + np.zeros(10**6, ">f8").tobytes())
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "6M")
    with pytest.raises(ParameterError, match=r"f8-idx3-ubyte: 1 items of 1000000 pixels .* would need about "
                                             r"1\d\.\d MiB, more than the memory budget of 6\.0 MiB"):
        load_dataset(path)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "32M")
    error, peak = peak_bytes(load_dataset, path)
    assert error is None and peak < 32 * 2**20


def test_damaged_gzip_checksums_and_data_past_the_count_are_errors(tmp_path):
    # Files past the 1,024 bytes the format sniffer reads: only reading to the end checks their CRC.
    zeros = np.zeros((50, 28, 28), dtype=np.uint8)
    packed = gzip.compress(struct.pack(">4B3I", 0, 0, 8, 3, *zeros.shape) + zeros.tobytes())
    (tmp_path / "crc-images-idx3-ubyte.gz").write_bytes(packed[:-8] + bytes(8))  # CRC and size zeroed
    with pytest.raises(BitmapFormatError, match=r"crc-images-idx3-ubyte\.gz: damaged gzip data \(CRC check failed "
                                                r".*\) after its 50 records"):
        load_dataset(tmp_path / "crc-images-idx3-ubyte.gz")
    assert len(load_dataset(tmp_path / "crc-images-idx3-ubyte.gz", limit=2)) == 2  # --limit reads no further
    labels = gzip.compress(struct.pack(">4BI", 0, 0, 8, 1, 2000) + bytes(2000))
    (tmp_path / "crc-labels").write_bytes(labels[:-8] + bytes(8))
    images = idx(tmp_path / "ok-idx3-ubyte", np.zeros((2000, 1, 1), dtype=np.uint8))
    with pytest.raises(BitmapFormatError, match=r"crc-labels: damaged gzip data \(CRC check failed .*after its 2000 "):
        load_dataset(images, labels=tmp_path / "crc-labels")
    data = struct.pack(">4B3I", 0, 0, 8, 3, *IMAGES.shape) + IMAGES.tobytes()
    (tmp_path / "long-idx3-ubyte.gz").write_bytes(gzip.compress(data + b"\0"))
    with pytest.raises(BitmapFormatError, match=r"long-idx3-ubyte\.gz: more data after its 5 records; expected the "
                                                r"file to end there"):
        load_dataset(tmp_path / "long-idx3-ubyte.gz")
    np.save(tmp_path / "u8.npy", IMAGES)
    (tmp_path / "long.npy").write_bytes((tmp_path / "u8.npy").read_bytes() + b"\0" * 12)
    with pytest.raises(BitmapFormatError, match=r"long\.npy: more data after its 5 records"):
        load_dataset(tmp_path / "long.npy")


def test_npy_header_sizes_and_encrypted_npz_members_found_by_fuzzing(tmp_path):
    # A version-2 header claiming 4 GB: numpy reads all of it before its own size limit applies.
    (tmp_path / "head.npy").write_bytes(b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xF0000000) + b"{}")
    error, peak = peak_bytes(load_dataset, tmp_path / "head.npy")
    assert str(error) == f"{tmp_path / 'head.npy'}: a NumPy header of 4,026,531,840 bytes; expected at most 10,000"
    assert peak < 2**20
    np.savez(tmp_path / "plain.npz", images=IMAGES)
    raw = bytearray((tmp_path / "plain.npz").read_bytes())
    raw[raw.index(b"PK\x01\x02") + 8] |= 1  # the central directory marks the member encrypted
    (tmp_path / "locked.npz").write_bytes(bytes(raw))
    with pytest.raises(BitmapFormatError, match=r"locked\.npz:images: encrypted; expected a \.npz as np\.savez"):
        load_dataset(tmp_path / "locked.npz")
    np.savez(tmp_path / "names.npz", **{"\n_train": IMAGES, "y_train": LABELS})  # no x_train: pick one
    with pytest.raises(BitmapFormatError) as caught:
        load_dataset(tmp_path / "names.npz")
    assert str(caught.value) == (f"{tmp_path / 'names.npz'} holds 2 arrays (\\n_train, y_train); "
                                 f"pick one, e.g. {tmp_path / 'names.npz'}:\\n_train")


def test_an_npz_of_many_arrays_lists_the_first_ten(tmp_path):
    np.savez(tmp_path / "many.npz", **{f"a{i}": np.zeros(1) for i in range(2000)})
    with pytest.raises(BitmapFormatError) as caught:
        load_dataset(tmp_path / "many.npz")
    assert str(caught.value) == (f"{tmp_path / 'many.npz'} holds 2000 arrays (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9 "
                                 f"... and 1,990 more); pick one, e.g. {tmp_path / 'many.npz'}:a0")
    with pytest.raises(BitmapFormatError, match=r"no array 'nope'; it holds a0, .*, a9 \.\.\. and 1,990 more$"):
        load_dataset(f"{tmp_path / 'many.npz'}:nope")


def test_npy_and_npz_grey_levels_shapes_and_labels(tmp_path):
    np.save(tmp_path / "u8.npy", IMAGES)
    np.testing.assert_allclose(load_dataset(tmp_path / "u8.npy").X, IMAGES.reshape(5, -1) / 255, rtol=1e-6)
    floats = IMAGES.reshape(5, 12) / 255.0
    np.save(tmp_path / "flat.npy", floats)
    s = load_dataset(tmp_path / "flat.npy", shape=(4, 3), limit=4)
    assert s.shape == (4, 3) and len(s) == 4
    np.testing.assert_allclose(s.X, floats[:4], rtol=1e-6)
    with pytest.raises(BitmapFormatError, match="records of 12 pixels are not square; expected the image shape"):
        load_dataset(tmp_path / "flat.npy")
    with pytest.raises(BitmapFormatError, match=r"records of 12 pixels do not make 5x5 images"):
        load_dataset(tmp_path / "flat.npy", shape=(5, 5))
    np.save(tmp_path / "big.npy", floats * 2)
    with pytest.raises(BitmapFormatError, match=r"big\.npy: record 0 holds .* at pixel \d+; expected floats in"):
        load_dataset(tmp_path / "big.npy", shape=(4, 3))
    np.savez(tmp_path / "mnist.npz", x_train=IMAGES, y_train=LABELS, x_test=IMAGES[:2], y_test=LABELS[:2])
    train = load_dataset(tmp_path / "mnist.npz")  # x_train by default, its labels y_train
    assert len(train) == 5 and train.labels == ("3", "1", "4", "1", "5") and train.title.endswith("mnist.npz:x_train")
    test = load_dataset(f"{tmp_path / 'mnist.npz'}:x_test")
    assert len(test) == 2 and test.labels == ("3", "1")
    with pytest.raises(BitmapFormatError, match="no array 'nope'; it holds x_train, y_train, x_test, y_test"):
        load_dataset(f"{tmp_path / 'mnist.npz'}:nope")
    np.save(tmp_path / "objects.npy", np.array([None, 1], dtype=object))
    with pytest.raises(BitmapFormatError, match="holds Python objects; expected numbers"):
        load_dataset(tmp_path / "objects.npy")


def test_csv_with_and_without_header_and_label_column(tmp_path):
    flat = IMAGES.reshape(5, 12)
    rows = [",".join(map(str, [t, *row])) for t, row in zip(LABELS, flat)]
    (tmp_path / "mnist_train.csv").write_text("\n".join(rows) + "\n")  # label,pixel0,... and no header
    s = load_dataset(tmp_path / "mnist_train.csv", shape=(4, 3))
    assert s.labels == ("3", "1", "4", "1", "5") and s.shape == (4, 3)
    np.testing.assert_allclose(s.X, flat / 255, rtol=1e-6)
    header = "pixel" + ",pixel".join(map(str, range(12))) + ",label\n"
    body = "\n".join(",".join(map(str, [*row / 255, t])) for t, row in zip(LABELS, flat))
    (tmp_path / "floats.csv").write_text(header + body)
    s = load_dataset(tmp_path / "floats.csv", shape=(3, 4), limit=2)
    assert s.labels == ("3", "1") and s.shape == (3, 4)
    np.testing.assert_allclose(s.X, flat[:2] / 255, rtol=1e-5)
    (tmp_path / "square.csv").write_text("0,1,1,0\n1,1,0,0\n")  # 0/1 integers stay 0 and 1; 4 = 2x2
    assert load_dataset(tmp_path / "square.csv").X.tolist() == [[0, 1, 1, 0], [1, 1, 0, 0]]
    (tmp_path / "bad.csv").write_text("0,1,1,0\n1,x,0,0\n")
    with pytest.raises(BitmapFormatError, match=r"bad\.csv:2: 'x' is not a pixel value"):
        load_dataset(tmp_path / "bad.csv")
    (tmp_path / "ragged.csv").write_text("0,1,1,0\n1,1,0\n")
    with pytest.raises(BitmapFormatError, match=r"ragged\.csv:2: 3 columns; expected 4 like the first row"):
        load_dataset(tmp_path / "ragged.csv")
    (tmp_path / "range.csv").write_text("0,1,1,0\n1,300,0,0\n")
    with pytest.raises(BitmapFormatError, match=r"range\.csv:2: pixel value 300; expected integers 0\.\.255"):
        load_dataset(tmp_path / "range.csv")


def test_csv_long_fields_nul_bytes_and_long_lines_are_clean_errors(tmp_path, monkeypatch):
    (tmp_path / "long.csv").write_text("1" * 200_000 + "\n")  # once: _csv.Error, field larger than field limit
    with pytest.raises(BitmapFormatError, match=r"long\.csv:1: '1{24}\.\.\.' is not a pixel value"):
        load_dataset(tmp_path / "long.csv")
    (tmp_path / "name.csv").write_text("label," + "p" * 200_000 + "\n1,0\n")
    with pytest.raises(BitmapFormatError, match=r"name\.csv:1: field larger than field limit \(131072\); expected "
                                                r"a header row of column names"):
        load_dataset(tmp_path / "name.csv")
    (tmp_path / "commas.csv").write_text("," * 100_000 + "\n")
    with pytest.raises(BitmapFormatError, match=r"commas\.csv: no rows; expected one image per row"):
        load_dataset(tmp_path / "commas.csv")
    (tmp_path / "nul.csv").write_text("0,1,\x001,0\n1,1,0,0\n")  # was taken for a header row and dropped
    with pytest.raises(BitmapFormatError, match=r"nul\.csv:1: a NUL character at column 5; expected text"):
        load_dataset(tmp_path / "nul.csv")
    (tmp_path / "blank.csv").write_text("\n\np0,p1,p2,p3\n0,1,1,0\n")  # a header after blank lines is still one
    assert load_dataset(tmp_path / "blank.csv").X.tolist() == [[0, 1, 1, 0]]
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1M")  # lines of at most 65,536 characters
    (tmp_path / "wide.csv").write_text(",".join(["0"] * 40_000) + "\n")
    with pytest.raises(ParameterError, match=r"wide\.csv:1: a line of more than 65,536 characters would need "
                                             r"about 1\.0 MiB, more than the memory budget of 1\.0 MiB"):
        load_dataset(tmp_path / "wide.csv")


def test_csv_rows_of_a_million_pixels_load_without_a_string_per_field(tmp_path):
    # label,pixel0..pixel999999 as in mnist_train.csv: splitting such a row into Python strings took 80 MB.
    rows = [",".join(["7"] + ["255"] * 10**6), ",".join(["3"] + ["0"] * 10**6)]
    (tmp_path / "wide.csv").write_text("\n".join(rows) + "\n")
    s, peak = None, None
    tracemalloc.start()
    try:
        s = load_dataset(tmp_path / "wide.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert s.shape == (1000, 1000) and s.labels == ("7", "3")
    assert s.X[0].min() == 1 and s.X[1].max() == 0
    assert peak < 40 * 2**20  # the 8 MB set, a 4 MB line, its float32 values and copies


def test_binarize_and_the_set_keeps_its_labels_through_subsets(tmp_path):
    np.save(tmp_path / "u8.npy", IMAGES)
    s = load_dataset(tmp_path / "u8.npy", binarize=0.5, labels=idx(tmp_path / "l-idx1", LABELS))
    assert s.is_binary and s.X.tolist() == (IMAGES.reshape(5, -1) / 255 > 0.5).astype(float).tolist()
    assert s.subset(["4", "0"]).labels == ("5", "3")
    assert load_dataset("digits", limit=2).labels == ("0", "1")
    with pytest.raises(ParameterError, match=r"binarize must be a threshold in \[0, 1\), got 2"):
        load_dataset("font", binarize=2)
    with pytest.raises(ParameterError, match="limit must be a whole number >= 1, got 0"):
        load_dataset("font", limit=0)
    with pytest.raises(ParameterError, match="labels must hold one label per item"):
        BitmapSet(["a"], [[0.0]], (1, 1), labels=["x", "y"])


# --- per-item cost: names are budgeted with the pixels --------------------------------------------

@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 200_000), side=st.sampled_from([(1, 1), (1, 2), (2, 2), (3, 5)]), gz=st.booleans())
def test_a_set_loads_within_the_budget_or_is_refused_before_allocating(tmp_path, monkeypatch, n, side, gz):
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "8M")
    data = struct.pack(">4B3I", 0, 0, 8, 3, n, *side) + bytes(n * side[0] * side[1])
    path = tmp_path / "tiny-images-idx3-ubyte"
    path.write_bytes(gzip.compress(data, 1) if gz else data)
    tracemalloc.start()
    try:
        s = load_dataset(path)
        loaded = True
    except GenvalError as exc:
        assert re.fullmatch(rf"{path}: {n} items of {side[0] * side[1]} pixels \(load fewer with limit, --limit\) "
                            r"would need about [\d.]+ MiB, more than the memory budget of 8\.0 MiB; .*", str(exc))
        loaded = False
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= 8 * 2**20  # what loads stays within the budget, names and all
    if loaded:
        assert len(s) == n and s.names[-1] == str(n - 1)


# --- smaller things a user met: each file told by its own reader, each error naming its file -------

@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.integers(0x07, 0xFF).filter(lambda c: c not in (0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E)))
def test_an_idx_file_of_an_unknown_type_code_is_named_as_such(tmp_path, code):
    path = tmp_path / "odd-idx3-ubyte"
    path.write_bytes(struct.pack(">4B3I", 0, 0, code, 3, 1, 2, 2) + bytes(16))
    with pytest.raises(BitmapFormatError, match=rf"odd-idx3-ubyte: IDX type code {code:#04x}; expected one of 0x08"):
        load_dataset(path)


def test_an_empty_npz_and_an_underscored_number_get_their_own_messages(tmp_path):
    np.savez(tmp_path / "empty.npz")
    with pytest.raises(BitmapFormatError, match=r"empty\.npz holds 0 arrays \(\); expected NumPy arrays"):
        load_dataset(tmp_path / "empty.npz")
    (tmp_path / "u.csv").write_text("1,2,3,4\n1_0,2,3,4\n")
    with pytest.raises(BitmapFormatError, match=r"u\.csv:2: '1_0' is not a pixel value"):
        load_dataset(tmp_path / "u.csv")
