"""Loading image files on the command line: --dataset with --labels, --shape, --binarize, --limit."""

import json

import test_cli
from test_cli import run

runner = test_cli.runner  # the fixture


# --- loading image files: --dataset with --labels, --shape, --binarize, --limit --------------------

def mnist_files(folder, n=6):
    """A tiny MNIST-style pair: gzipped IDX images of 4x4 grey levels and their labels beside them."""
    import gzip
    import struct

    import numpy as np

    images = np.random.default_rng(0).integers(0, 256, size=(n, 4, 4), dtype=np.uint8)
    images[:, 0, 0] = 0  # one blank pixel, so every item's picture starts with '.'
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">4B3I", 0, 0, 8, 3, n, 4, 4) + images.tobytes())
    with gzip.open(folder / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">4B1I", 0, 0, 8, 1, n) + bytes(range(n)))
    return folder / "train-images-idx3-ubyte.gz", images


def test_show_grey_images_with_their_labels(runner, tmp_path):
    path, images = mnist_files(tmp_path)
    result = run(runner, "show", str(path), "--limit", "2", "--json")
    doc = json.loads(result.stdout)
    assert (doc["n_items"], doc["shape"], doc["grey"]) == (6, [4, 4], True)
    assert [(item["name"], item["label"]) for item in doc["items"]] == [("0", "0"), ("1", "1")]
    shades = ".:-=+*%#"
    assert doc["items"][0]["rows"] == ["".join(shades[round(v / 255 * 7)] for v in row) for row in images[0]]
    text = run(runner, "show", str(path), "--limit", "2").stdout.splitlines()
    assert text[0] == f"{path}: 6 items, 4x4, grey"
    assert text[1].split() == ["0", "(0)", "1", "(1)"] and text[-1] == "... 4 more (--limit)"
    binary = json.loads(run(runner, "show", str(path), "--binarize", "0.5", "--json").stdout)
    assert not binary["grey"] and binary["items"][5]["rows"][1] == "".join(
        "#" if v > 127.5 else "." for v in images[5][1])


def test_every_dataset_command_takes_the_loader_options(runner, tmp_path):
    path, _ = mnist_files(tmp_path)
    for command in ("train", "denoise", "som", "interpolate", "decode", "sample", "grid", "audit"):
        help_text = run(runner, command, "--help").stdout
        assert all(option in help_text for option in ("--labels", "--shape HxW", "--binarize T", "--limit N",
                                                      "--shuffle")), command
    result = run(runner, "train", "--dataset", str(path), "--limit", "3", "--epochs", "2", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [item["name"] for item in doc["items"]] == ["0", "1", "2"] and doc["dataset"] == str(path)


def test_limit_shuffle_draws_a_seeded_subset_with_its_labels(runner, tmp_path):
    import numpy as np

    path, _ = mnist_files(tmp_path, n=40)  # labels 0..39, one per record: sorted, as MNIST's are not
    docs = [json.loads(run(runner, "train", "--dataset", str(path), "--limit", "5", "--shuffle", "--epochs", "2",
                           "--json", "-q").stdout) for _ in range(2)]
    drawn = [str(r) for r in np.random.default_rng(0).choice(40, size=5, replace=False)]  # seed 0, said in --help
    assert [item["name"] for item in docs[0]["items"]] == drawn == [item["name"] for item in docs[1]["items"]]
    first = json.loads(run(runner, "train", "--dataset", str(path), "--limit", "5", "--epochs", "2", "--json",
                           "-q").stdout)
    assert [item["name"] for item in first["items"]] == ["0", "1", "2", "3", "4"]
    som = json.loads(run(runner, "som", "--dataset", str(path), "--limit", "5", "--shuffle", "--grid", "2x2",
                         "--json", "-q").stdout)
    counts = {label: n for neuron in som["neurons"] for label, n in neuron.get("label_counts", {}).items()}
    assert counts == {name: 1 for name in drawn}  # record r holds label r: the labels follow their items
    help_text = run(runner, "som", "--help").stdout
    assert "seed 0, whatever --seed says" in " ".join(help_text.split()) and "--limit 1000 --shuffle" in help_text


def test_a_shuffled_subset_does_not_reuse_the_cached_model_of_the_first_n(runner, tmp_path, monkeypatch):
    from genval.models import cache_entries

    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path / "cache"))
    trained = []
    for args in (["--limit", "60"], ["--limit", "60", "--shuffle"], ["--limit", "60", "--shuffle"]):
        result = run(runner, "som", "--dataset", "digits", *args, "--grid", "2x2")
        assert result.exit_code == 0, result.output
        trained.append("first use of digits: training its default Autoencoder" in result.stderr)
    # The first 60 and the drawn 60 each train a model of their own; the same draw again reuses its model.
    assert trained == [True, True, False] and len(cache_entries()) == 2


def test_bad_image_files_are_one_line_errors(runner, tmp_path):
    path, _ = mnist_files(tmp_path)
    cut = tmp_path / "cut-images-idx3-ubyte"
    import gzip

    cut.write_bytes(gzip.decompress(path.read_bytes())[:-3])
    result = run(runner, "train", "--dataset", str(cut))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {cut}: cut short in record 5; expected 6 records of 16 values\n"
    result = run(runner, "show", str(path), "--labels", str(cut))
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {cut}: expected an IDX file of integer labels")
    result = run(runner, "som", "--dataset", str(path), "--shape", "4by4")
    assert result.exit_code == 2 and "'4by4' is not an image shape like 28x28" in result.stderr


def test_som_summarises_a_labelled_set_by_label_counts(runner, tmp_path):
    from genval import Autoencoder, load_dataset

    digits = load_dataset("digits")
    path = tmp_path / "digits.npz"
    Autoencoder(epochs=20, batch_size=512).fit(digits.X).save(path)
    result = run(runner, "som", "--dataset", "digits", "--model", str(path), "--grid", "2x2", "--json")
    doc = json.loads(result.stdout)
    labels = dict(zip(digits.names, digits.labels))
    for neuron in doc["neurons"]:
        expected = {}
        for name in neuron["items"]:
            expected[labels[name]] = expected.get(labels[name], 0) + 1
        assert neuron["label_counts"] == expected
        assert list(neuron["label_counts"].values()) == sorted(neuron["label_counts"].values(), reverse=True)
    text = run(runner, "som", "--dataset", "digits", "--model", str(path), "--grid", "2x2").stdout.splitlines()
    for line, neuron in zip(text[1:5], doc["neurons"]):
        counts = " ".join(f"{label}×{count}" for label, count in neuron["label_counts"].items())
        assert line == f"Neuron {neuron['row'] * 2 + neuron['col'] + 1}: {counts}".rstrip()

def test_the_map_commands_take_the_loader_options(runner, tmp_path):
    """--limit, --shape, ... load the set before the map commands build their space (they used to fail)."""
    result = run(runner, "decode", "0", "0", "--dataset", "digits", "--limit", "40", "--any-data", "-q", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["dataset"] == "digits"
