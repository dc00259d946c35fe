"""What every map command (som, interpolate, decode, sample, grid, audit) shares: pictures in their
format, sizes refused before any work, every loader option, one map across commands (som --out, --map).

The verdicts the sampling commands print are tested in tests/test_cli_samples.py.
"""

import json
import tracemalloc

import numpy as np
import pytest

from genval import load_dataset

import _cli_fixtures
from _cli_fixtures import run

runner = _cli_fixtures.runner  # the shared fixture

PNG = b"\x89PNG\r\n\x1a\n"


# --- pictures ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["interpolate", ":)", ";D", "--steps", "5"],
    ["sample", "-n", "4"],
    ["grid", "--size", "5"],
    ["som", "--grid", "3x3", "--view", "grid"],
    ["som", "--grid", "2x3", "--topology", "hexagonal", "--view", "grid"],
    ["som", "--grid", "3x3", "--view", "plane"],
], ids=["interpolate", "sample", "grid", "som-grid", "som-grid-hexagonal", "som-plane"])
@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_pictures_are_written_in_their_format(runner, tmp_path, args, suffix):
    path = tmp_path / f"picture.{suffix}"
    result = run(runner, *args, "--plot", str(path))
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert data.startswith(PNG) if suffix == "png" else data.lstrip().startswith(b"<?xml")
    assert result.stderr.splitlines()[-1] == f"wrote {path}"


def test_som_view_is_a_choice(runner):
    result = run(runner, "som", "--view", "hex")
    assert result.exit_code == 2 and "'hex' is not one of 'plane', 'grid'" in result.stderr


# --- sizes ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, what", [
    (["interpolate", ":]", ";D", "--steps", "1000000000"],
     "a walk of 1,000,000,000 samples of 35 pixels and their table of verdicts"),
    (["sample", "--n", "1000000000"], "1,000,000,000 samples of 35 pixels and their table of verdicts"),
    (["sample", "-n", "10000000"], "10,000,000 samples of 35 pixels and their table of verdicts"),
])
def test_sizes_beyond_the_budget_are_refused_at_once(runner, args, what):
    tracemalloc.start()
    try:
        result = run(runner, *args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Refused at once: the smallest of these requests needs gigabytes; the refusal stays far below.
    assert peak < 100 * 2**20
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {what} would need about ")  # before any model trains
    assert "more than the memory budget" in result.stderr and len(result.stderr.splitlines()) == 1


def test_grid_size_is_checked_against_the_budget(runner, monkeypatch):
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1M")
    result = run(runner, "grid", "--size", "100")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: a 100x100 grid of 35 pixels and their table of verdicts would need "
                                    "about 31.9 MiB")
    assert run(runner, "grid", "--size", "10").exit_code == 0


def test_a_model_of_another_set_of_the_same_size_needs_any_data(runner, tmp_path):
    path = tmp_path / "font.npz"
    assert run(runner, "train", "--dataset", "font", "--epochs", "30", "--out", str(path)).exit_code == 0
    refused = run(runner, "som", "--grid", "3x3", "--model", str(path))
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: this model was trained on font (32 items of 35 pixels, sha256 ")
    assert refused.stderr.endswith("pass --any-data (any_data=True) to use it anyway\n")
    assert run(runner, "som", "--grid", "3x3", "--model", str(path), "--any-data").exit_code == 0
    assert run(runner, "grid", "--size", "3", "--model", str(path)).exit_code == 1
    assert run(runner, "grid", "--size", "3", "--model", str(path), "--any-data").exit_code == 0


# --- the loader options on every map command ------------------------------------------------------------

MAP_COMMANDS = {
    "som": lambda names: ["som", "--grid", "2x2"],
    "interpolate": lambda names: ["interpolate", names[0], names[1], "--steps", "3", "--grid", "2x2"],
    "decode": lambda names: ["decode", "0", "0", "--grid", "2x2"],
    "sample": lambda names: ["sample", "-n", "3", "--grid", "2x2"],
    "audit": lambda names: ["audit", "-n", "50", "--grid", "2x2"],
}


@pytest.fixture(scope="module")
def loader_files(tmp_path_factory):
    """The font as files that need each loader option: grey (n, 7, 5), flat (n, 35), and a labels file; and one
    genval cache for the module, so that each loaded set's default model trains once."""
    folder = tmp_path_factory.mktemp("loader")
    font = load_dataset("font")
    np.save(folder / "grey.npy", (0.2 + 0.6 * font.X).reshape(-1, 7, 5))
    np.save(folder / "flat.npy", font.X)
    (folder / "labels.txt").write_text("".join(("vowel" if n in "aeiou" else "other") + "\n" for n in font.names))
    (folder / "cache").mkdir()
    return folder


LOADER_CASES = {
    "limit": lambda f: ["--dataset", "font", "--limit", "12"],
    "binarize": lambda f: ["--dataset", str(f / "grey.npy"), "--binarize", "0.5"],
    "labels": lambda f: ["--dataset", "font", "--labels", str(f / "labels.txt")],
    "shape": lambda f: ["--dataset", str(f / "flat.npy"), "--shape", "7x5"],
    "shuffle": lambda f: ["--dataset", "font", "--limit", "12", "--shuffle"],
}


def loaded_as(option, folder):
    """The set a command loads with the option: what every map command must work on."""
    args = LOADER_CASES[option](folder)
    spec, option_value = args[1], args[3]
    if option == "shuffle":  # --limit N --shuffle: N drawn with the seed its --help states
        return load_dataset(spec, limit=int(option_value), shuffle=True, random_state=0)
    value = {"limit": int, "binarize": float, "labels": str, "shape": lambda v: tuple(map(int, v.split("x")))}
    return load_dataset(spec, **{option: value[option](option_value)})


@pytest.mark.parametrize("option", LOADER_CASES)
@pytest.mark.parametrize("command", MAP_COMMANDS)
def test_every_map_command_takes_every_loader_option(runner, loader_files, monkeypatch, command, option):
    # Each used to fail with KeyError: 'dataset' and a traceback.
    monkeypatch.setenv("GENVAL_CACHE", str(loader_files / "cache"))
    bitmaps = loaded_as(option, loader_files)
    result = run(runner, *MAP_COMMANDS[command](bitmaps.names), *LOADER_CASES[option](loader_files), "--json", "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["dataset"] == bitmaps.title
    if command == "som":  # the map holds exactly the set as loaded: its items, and its labels when given
        items = [name for neuron in doc["neurons"] for name in neuron["items"]]
        assert sorted(items) == sorted(bitmaps.names)
        counts = {}
        for neuron in doc["neurons"]:
            for label, count in neuron.get("label_counts", {}).items():
                counts[label] = counts.get(label, 0) + count
        assert counts == ({} if bitmaps.labels is None else
                          {label: bitmaps.labels.count(label) for label in set(bitmaps.labels)})
    for record in doc.get("samples", [doc] if command == "decode" else []):
        assert record["nearest"] in bitmaps.names
        assert len(record["rows"]) == 7 and all(len(row) == 5 for row in record["rows"])


def test_a_model_trained_on_a_thresholded_set_is_mapped_with_the_same_options(runner, tmp_path, loader_files):
    grey = str(loader_files / "grey.npy")
    model = tmp_path / "binary.npz"
    assert run(runner, "train", "--dataset", grey, "--binarize", "0.5", "--epochs", "50", "--out", str(model),
               "-q").exit_code == 0
    for command, args in MAP_COMMANDS.items():
        mapped = run(runner, *args(["0", "1"]), "--dataset", grey, "--binarize", "0.5", "--model", str(model), "-q")
        assert mapped.exit_code == 0, (command, mapped.output)
        refused = run(runner, *args(["0", "1"]), "--dataset", grey, "--model", str(model))
        assert refused.exit_code == 1 and len(refused.stderr.splitlines()) == 1, command
        assert "load it as the model was trained: the same --limit, --shuffle, --binarize, --shape" in refused.stderr


# --- one map across commands: som --out, --map ----------------------------------------------------------

@pytest.fixture
def saved_map(runner, tmp_path):
    """`genval som --grid 3x3 --out map.npz` with the emojis' default model: the file and som's JSON."""
    path = tmp_path / "map.npz"
    result = run(runner, "som", "--grid", "3x3", "--out", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == f"wrote {path}"
    return path, json.loads(result.stdout)


def test_som_out_saves_the_map_every_command_then_uses(runner, saved_map, monkeypatch):
    path, made = saved_map
    stated = {"file": str(path), "grid": [3, 3], "seed": 0}
    assert made["map"] == stated
    from genval.latent._som import LatentSOM

    monkeypatch.setattr(LatentSOM, "fit", lambda *args: pytest.fail("--map must not fit a map"))
    again = json.loads(run(runner, "som", "--map", str(path), "--json").stdout)
    assert again["map"] == stated and again["neurons"] == made["neurons"]
    neuron_of = {name: n["number"] for n in made["neurons"] for name in n["items"]}
    walked = json.loads(run(runner, "interpolate", ":]", ";D", "--steps", "4", "--map", str(path), "--json").stdout)
    assert walked["map"] == stated and walked["grid"] == [3, 3]
    assert (walked["samples"][0]["neuron"]["number"], walked["samples"][-1]["neuron"]["number"]) == \
        (neuron_of[":]"], neuron_of[";D"])  # the neurons som printed
    for args in (["decode", "0", "0"], ["sample", "-n", "3"], ["audit", "-n", "200"]):
        doc = json.loads(run(runner, *args, "--map", str(path), "--json").stdout)
        assert doc["map"] == stated and doc["grid"] == [3, 3], args
    compared = json.loads(run(runner, "audit", "--compare", "-n", "100", "--map", str(path), "--json").stdout)
    assert compared["maps"] == {"autoencoder": stated} and {r["map"]["file"] for r in compared["runs"]} == {str(path)}
    texts = {"som": run(runner, "som", "--map", str(path)).stdout.splitlines()[0],
             "interpolate": run(runner, "interpolate", ":]", ";D", "--map", str(path)).stdout.splitlines()[0],
             "decode": run(runner, "decode", "0", "0", "--map", str(path)).stdout.splitlines()[0],
             "sample": run(runner, "sample", "-n", "2", "--map", str(path)).stdout.splitlines()[0],
             "audit": run(runner, "audit", "-n", "100", "--map", str(path)).stdout.splitlines()[0],
             "audit --compare": run(runner, "audit", "--compare", "-n", "100", "--map", str(path)).stdout.splitlines()[0]}
    for command, header in texts.items():
        assert ("3x3 rectangular map of 17 emojis codes" in header or "map 3x3" in header) and \
            f" from {path}" in header, command


def test_without_a_map_file_each_command_states_the_map_it_fitted(runner):
    # The reproducer: som --grid 3x3, then interpolate without --grid fits a map of its own (the default
    # grid); now each says which map it used, and --map makes them the same.
    mapped = json.loads(run(runner, "som", "--grid", "3x3", "--json").stdout)
    walked = json.loads(run(runner, "interpolate", ":]", ";D", "--json").stdout)
    assert mapped["map"] == {"file": None, "grid": [3, 3], "seed": 0}
    assert walked["map"] == {"file": None, "grid": walked["grid"], "seed": 0} and walked["grid"] != [3, 3]


def test_a_map_of_another_model_or_set_is_one_clean_error(runner, tmp_path, saved_map):
    from genval import Autoencoder, LatentSOM

    path, _ = saved_map
    font = load_dataset("font")
    wide = Autoencoder(n_latent=3, epochs=30, random_state=0).fit(font)
    wide_model, wide_map = tmp_path / "wide.npz", tmp_path / "wide-map.npz"
    wide.save(wide_model)
    LatentSOM(grid=(2, 2)).fit(wide.transform(font.X)).save(wide_map)
    (tmp_path / "broken.npz").write_bytes(path.read_bytes()[:200])
    cases = [
        (["--dataset", "font", "--map", str(path)],
         f"Error: {path}: this map was fitted on other codes (17 codes of 2 dimensions, sha256 "),
        (["--map", str(wide_map)], f"Error: {wide_map}: this map was fitted on codes of 3 dimensions, and these "
                                   "have 2: a map of another model; make one for this model (genval som --out FILE)"),
        (["--dataset", "font", "--model", str(wide_model), "--map", str(path)],
         f"Error: {path}: this map was fitted on codes of 2 dimensions, and these have 3"),
        (["--map", str(tmp_path / "broken.npz")], f"Error: {tmp_path / 'broken.npz'}: not a readable genval map"),
        (["--map", str(tmp_path / "missing.npz")], f"Error: {tmp_path / 'missing.npz'}: no such map file"),
    ]
    for command in (["som"], ["interpolate"], ["decode", "0", "0"], ["sample", "-n", "2"], ["audit", "-n", "50"]):
        for args, message in cases:
            items = (("a", "b") if "font" in args else (":)", ":(")) if command == ["interpolate"] else ()
            result = run(runner, *command, *items, *args, "-q")
            assert result.exit_code == 1 and result.stdout == "", (command, args)
            assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1, (command, args)
    # --any-data takes a map of other codes of the same width on purpose, never one of another width
    assert run(runner, "decode", "0", "0", "--dataset", "font", "--map", str(path), "--any-data").exit_code == 0


@pytest.mark.parametrize("command", [["som"], ["interpolate", ":)", ":("], ["decode", "0", "0"], ["sample"],
                                     ["audit", "-n", "50"]])
def test_map_settings_beside_a_map_file_are_usage_errors(runner, saved_map, command):
    path, _ = saved_map
    for option, value in (("--grid", "4x4"), ("--sigma", "2"), ("--som-learning-rate", "0.1"),
                          ("--iterations", "10"), ("--topology", "hexagonal"), ("--neighborhood", "bubble")):
        result = run(runner, *command, "--map", str(path), option, value)
        assert result.exit_code == 2, (command, option)
        assert result.stderr.splitlines()[-1] == (f"Error: {option} sets up a new map, and --map {path} is a fitted "
                                                  f"one (with its own settings); leave out {option} or --map")
    seeded = run(runner, *command, "--map", str(path), "--random-state", "3", "-q")
    if command[0] in ("sample", "audit"):  # the seed of the sampling
        assert seeded.exit_code == 0, seeded.output
    else:
        assert seeded.exit_code == 2 and "Error: --random-state sets up a new map" in seeded.stderr
    if command[0] == "audit":
        repeated = run(runner, *command, "--map", str(path), "--repeats", "2")
        assert repeated.exit_code == 2 and repeated.stderr.splitlines()[-1] == (
            f"Error: --repeats fits a new map for each seed, and --map {path} is one fitted map; leave out "
            "--repeats or --map")


def test_each_sample_says_whether_its_neuron_is_occupied_and_how_far_its_weights_are(runner, saved_map):
    path, made = saved_map
    occupied = {n["number"] for n in made["neurons"] if n["items"]}
    weights = {n["number"]: np.array(n["weight"]) for n in made["neurons"]}
    for args in (["sample", "-n", "12", "--random-state", "1"], ["interpolate", ":)", ";D", "--steps", "6"],
                 ["decode", "-3", "2"]):
        doc = json.loads(run(runner, *args, "--map", str(path), "--json").stdout)
        records = doc.get("samples", [doc])
        for r in records:
            k = r["neuron"]["number"]
            assert r["occupied"] == (k in occupied), args
            assert r["som_distance"] == pytest.approx(np.linalg.norm(np.array(r["z"]) - weights[k]), abs=1e-5)
        if args[0] == "decode":
            continue
        out = run(runner, *args, "--map", str(path)).stdout.splitlines()
        head = next(i for i, line in enumerate(out) if line.strip().startswith("sample"))
        rows = [line.split() for line in out[head + 1:head + 1 + len(records)]]
        at = out[head].split().index("occupied")
        assert [(row[at], float(row[at + 1])) for row in rows] == \
            [("yes" if r["occupied"] else "no", pytest.approx(r["som_distance"], abs=1e-3)) for r in records]


def test_every_map_command_shows_a_map_example_in_its_help(runner):
    for command in ("som", "interpolate", "decode", "sample", "audit"):
        text = run(runner, command, "--help").stdout
        assert "--map FILE.npz" in text, command
        assert "--map map.npz" in text.split("Examples:")[1], command
    assert "--out FILE.npz" in run(runner, "som", "--help").stdout


def test_a_big_map_shows_its_fitting_passes_and_nothing_under_quiet(runner):
    """Over 256 neurons a map fits in batch passes: the bar counts them (the default model is trained first)."""
    args = ("som", "--grid", "17x17", "--iterations", "200")
    shown = run(runner, *args)
    assert shown.exit_code == 0, shown.output
    assert "fitting the map: batch passes" in shown.stderr
    assert "fitting the map" not in run(runner, *args, "-q").stderr
    small = run(runner, "som", "--grid", "3x3")
    assert small.exit_code == 0 and "fitting the map" not in small.stderr
