"""The map commands (som, interpolate, decode, sample, grid): the verdict on every sample shown,
in text, JSON and pictures; options; sizes refused before any work."""

import json
import tracemalloc

import numpy as np
import pytest
from click.testing import CliRunner

from genval import build_space, load_dataset
from genval.audit._judging import load_checks
from genval.cli.main import cli

EMOJIS = load_dataset("emojis")
PNG = b"\x89PNG\r\n\x1a\n"
VERDICT_KEYS = {"valid": bool, "failed": list, "reasons": list, "novel": bool}
# A rule no emoji with a blank top row passes: the walks' samples then fail "top_ink".
TOP_INK = ('title = "ink in the top row"\nshape = [7, 5]\n\n[[rule]]\nname = "top_ink"\nrows = [1, 1]\n'
           'components = 1\nconnectivity = 8\n')


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def binary(rows):
    return np.array([[c == "#" for c in "".join(rows)]])


def assert_verdict_record(record, checks):
    """The verdict keys with their types, and a verdict the checks give on the record's own bitmap."""
    for key, kind in VERDICT_KEYS.items():
        assert isinstance(record[key], kind), key
    assert record["copy_of"] is None or record["copy_of"] in EMOJIS.names
    bitmap = binary(record["rows"])
    passes = checks.passes(bitmap)[0]
    assert record["valid"] == bool(passes.all())
    assert record["failed"] == [name for name, ok in zip(checks.names, passes) if not ok]
    assert len(record["reasons"]) == len(record["failed"])
    copies = [name for k, name in enumerate(EMOJIS.names) if (EMOJIS.binary()[k] == bitmap[0]).all()]
    assert record["copy_of"] == (copies[0] if copies else None)
    assert record["novel"] == (record["copy_of"] is None)


# --- interpolate -----------------------------------------------------------------------------------

def test_interpolate_json_judges_every_sample(runner):
    result = run(runner, "interpolate", ":]", ";D", "--steps", "10", "--grid", "3x3", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["checks"] == {"title": "emojis: two eyes and a mouth", "names": ["eyes", "mouth"]}
    samples = doc["samples"]
    # The default model reconstructs every emoji: the ends are copies of the two items, valid.
    assert {k: samples[0][k] for k in ("valid", "failed", "reasons", "novel", "copy_of")} == {
        "valid": True, "failed": [], "reasons": [], "novel": False, "copy_of": ":]"}
    assert {k: samples[-1][k] for k in ("valid", "failed", "reasons", "novel", "copy_of")} == {
        "valid": True, "failed": [], "reasons": [], "novel": False, "copy_of": ";D"}
    checks = load_checks(EMOJIS)
    for record in samples:
        assert_verdict_record(record, checks)


def test_interpolate_text_has_a_verdict_column_and_a_summary(runner):
    result = run(runner, "interpolate", ":]", ";D", "--steps", "10", "--grid", "3x3")
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    head = next(i for i, line in enumerate(out) if line.strip().startswith("sample"))
    assert out[head].split() == ["sample", "t", "z1", "z2", "neuron", "occupied", "som_distance", "verdict", "nearest",
                                 "hamming"]
    table = out[head + 1:head + 11]
    assert "valid, copy of :]" in table[0] and table[0].split()[-2:] == [":]", "0"]
    assert "valid, copy of ;D" in table[-1]
    doc = json.loads(run(runner, "interpolate", ":]", ";D", "--steps", "10", "--grid", "3x3", "--json").stdout)
    valid = sum(s["valid"] for s in doc["samples"])
    new_valid = sum(s["valid"] and s["novel"] for s in doc["samples"])
    copies = sum(not s["novel"] for s in doc["samples"])
    assert out[head + 11].startswith("occupied: the sample's neuron holds training items")
    assert out[head + 12] == (f"{valid} of 10 samples valid, {new_valid} of them new; {copies} "
                              f"{'is a copy' if copies == 1 else 'are copies'} of training items")


def test_a_rule_file_changes_the_verdicts(runner, tmp_path):
    rules = tmp_path / "top.toml"
    rules.write_text(TOP_INK)
    doc = json.loads(run(runner, "interpolate", ":]", ";D", "--steps", "4", "--rules", str(rules), "--json").stdout)
    assert doc["checks"]["title"] == "ink in the top row"
    first = doc["samples"][0]
    assert first["rows"][0] == "....." and first["copy_of"] == ":]"  # a copy, and still invalid by this rule
    assert (first["valid"], first["failed"], len(first["reasons"])) == (False, ["top_ink"], 1)
    from genval.checks._rules import load_rules

    for record in doc["samples"]:
        assert_verdict_record(record, load_rules(rules, EMOJIS))
    for args in (["sample", "-n", "3"], ["decode", "0", "0"], ["grid", "--size", "3"]):
        found = json.loads(run(runner, *args, "--rules", str(rules), "--json").stdout)
        records = found.get("samples", found.get("tiles", [found]))
        assert all(r["failed"] == ([] if r["valid"] else ["top_ink"]) for r in records), args


def test_a_bad_rule_file_fails_before_any_model_trains(runner, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\n[[rule]]\nname = 3\n')
    for args in (["interpolate", ":]", ";D"], ["sample"], ["decode", "0", "0"], ["grid"]):
        result = run(runner, *args, "--rules", str(bad))
        assert result.exit_code == 1, args
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("Error: "), args
        assert "first use" not in result.stderr  # nothing trained


# --- decode, sample ---------------------------------------------------------------------------------

def test_decode_json_and_text_say_what_the_library_says(runner):
    doc = json.loads(run(runner, "decode", "-1.5", "0.5", "--json").stdout)
    space = build_space("emojis")  # the default model the command trained and cached, the same map
    from genval.audit._judging import judge

    located = space.locate([[-1.5, 0.5]])
    verdicts = judge(located.pixels, EMOJIS)
    k, cols = int(located.neuron[0]), space.som.grid_[1]
    assert {key: doc.pop(key) for key in ("dataset", "seed", "model", "map", "grid", "checks")} == {
        "dataset": "emojis", "seed": 0, "grid": list(space.som.grid_),
        "model": {"file": "default", "kind": "autoencoder", "layer_sizes": list(space.model.layer_sizes_)},
        "map": {"file": None, "grid": list(space.som.grid_), "seed": 0},
        "checks": {"title": "emojis: two eyes and a mouth", "names": ["eyes", "mouth"]}}
    W = space.som.weights_.reshape(-1, 2)
    assert doc == {"z": [-1.5, 0.5], "neuron": {"number": k + 1, "row": k // cols, "col": k % cols},
                   "occupied": k in space.som.winners(space.codes),
                   "som_distance": round(float(np.linalg.norm(np.array([-1.5, 0.5]) - W[k])), 6),
                   "rows": space.rows(located.pixels[0]), "nearest": EMOJIS.names[located.nearest[0]],
                   "hamming": int(located.hamming[0]), **verdicts.record(0)}
    assert_verdict_record(doc, load_checks(EMOJIS))
    text = run(runner, "decode", "-1.5", "0.5").stdout.splitlines()
    rows, cols = space.som.grid_
    assert text[0].startswith(f"map: {rows}x{cols} rectangular map of 17 emojis codes (") and "from" not in text[0]
    assert text[1] == (f"z = (-1.5, 0.5): Neuron {k + 1}, "
                       f"{'occupied by training items' if doc['occupied'] else 'empty (no training item)'}, "
                       f"{doc['som_distance']:.3f} from its weights; nearest item {doc['nearest']} at Hamming "
                       f"distance {doc['hamming']}")
    assert text[2:9] == doc["rows"]
    assert text[9] == f"verdict: {verdicts.label(0)}"
    assert [line.strip() for line in text[10:]] == doc["reasons"]


def test_decode_reasons_of_an_invalid_sample(runner):
    # the default model draws blots at one side of the codes' box: decode the first invalid tile of a grid
    doc = json.loads(run(runner, "grid", "--size", "4", "--json").stdout)
    corner = next(t for t in doc["tiles"] if not t["valid"])
    text = run(runner, "decode", str(corner["x"]), str(corner["y"])).stdout.splitlines()
    assert text[9].startswith("verdict: invalid (" + ", ".join(corner["failed"]))
    assert [line.strip() for line in text[10:]] == corner["reasons"] and corner["reasons"]


def test_decode_takes_negative_numbers_names_a_mistyped_option_and_draws(runner, tmp_path):
    assert run(runner, "decode", "-1.5", "-0.5").exit_code == 0
    huge = run(runner, "decode", "1e308", "-1e308")  # overflowed the float32 model: a traceback before
    assert huge.exit_code == 2 and huge.stderr.splitlines()[-1] == (
        "Error: Invalid value for 'X': 1e+308 is not in the range -1e+30<=x<=1e+30.")
    typo = run(runner, "decode", "0", "0.5", "--jsn")
    assert typo.exit_code == 2 and typo.stderr.splitlines()[-1] == "Error: No such option '--jsn'. Did you mean '--json'?"
    picture = tmp_path / "point.svg"
    result = run(runner, "decode", "-1.5", "-0.5", "--plot", str(picture))
    assert result.exit_code == 0 and picture.read_bytes().lstrip().startswith(b"<?xml")
    assert result.stderr == f"wrote {picture}\n"


def test_sample_json_has_a_verdict_per_sample_and_n_has_a_short_form(runner):
    long = run(runner, "sample", "--n", "6", "--method", "gaussian", "--random-state", "1", "--json")
    short = run(runner, "sample", "-n", "6", "--method", "gaussian", "--random-state", "1", "--json")
    assert long.exit_code == 0 and long.stdout == short.stdout
    doc = json.loads(long.stdout)
    assert doc["checks"] == {"title": "emojis: two eyes and a mouth", "names": ["eyes", "mouth"]} and len(doc["samples"]) == 6
    checks = load_checks(EMOJIS)
    for record in doc["samples"]:
        assert_verdict_record(record, checks)
    text = run(runner, "sample", "-n", "6", "--method", "gaussian", "--random-state", "1").stdout.splitlines()
    valid = sum(s["valid"] for s in doc["samples"])
    assert text[-1].startswith(f"{valid} of 6 samples valid, ")


def test_neuron_numbers_are_one_based_in_errors(runner):
    result = run(runner, "sample", "--method", "neuron", "--neuron", "99", "--grid", "3x3")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "Error: Invalid value for '--neuron': 99: the 3x3 map has neurons 1 to 9"
    doc = json.loads(run(runner, "sample", "-n", "5", "--grid", "3x3", "--method", "neuron", "--neuron", "9",
                         "--json").stdout)
    assert {s["neuron"]["number"] for s in doc["samples"]} == {9}
    assert {(s["neuron"]["row"], s["neuron"]["col"]) for s in doc["samples"]} == {(2, 2)}
    assert doc["method"] == "neuron" and doc["neuron"] == {"number": 9, "row": 2, "col": 2}


def test_no_option_is_silently_ignored(runner, tmp_path):
    # --neuron alone says --method neuron; beside another method it is a usage error.
    alone = json.loads(run(runner, "sample", "-n", "3", "--grid", "3x3", "--neuron", "4", "--json").stdout)
    assert alone["method"] == "neuron" and {s["neuron"]["number"] for s in alone["samples"]} == {4}
    for args, message in [
        (["sample", "--method", "box", "--neuron", "4"], "--neuron picks the neuron of --method neuron, not of "
                                                         "--method box"),
        (["som", "--view", "grid"], "--view chooses what --plot draws; add --plot FILE.png"),
        (["som", "--background", "cells"], "--background chooses what --plot draws; add --plot FILE.png"),
        (["som", "--view", "grid", "--background", "cells", "--plot", str(tmp_path / "g.png")],
         "--background shades --view plane; the grid view is shaded by the U-matrix"),
    ]:
        result = run(runner, *args, "--grid", "3x3")
        assert result.exit_code == 2 and result.stderr.splitlines()[-1] == f"Error: {message}", args
    assert not (tmp_path / "g.png").exists()


# --- grid ---------------------------------------------------------------------------------------------

def test_grid_shows_only_the_options_it_uses(runner):
    text = run(runner, "grid", "--help").stdout
    for unused in ("--grid", "--sigma", "--som-learning-rate", "--iterations", "--topology", "--neighborhood",
                   "--random-state"):
        assert unused not in text.replace("genval grid", ""), unused
    for used in ("--size", "--plot", "--rules", "--dataset", "--model", "--json", "--limit", "\n  Examples:\n"):
        assert used in text, used


def test_grid_text_and_json_judge_every_tile(runner):
    doc = json.loads(run(runner, "grid", "--size", "6", "--json").stdout)
    assert (doc["dataset"], doc["size"], doc["plane"]) == ("emojis", 6, "latent")
    tiles = doc["tiles"]
    assert [(t["row"], t["col"]) for t in tiles] == [(r, c) for r in range(6) for c in range(6)]
    xs = sorted({t["x"] for t in tiles})
    ys = sorted({t["y"] for t in tiles}, reverse=True)
    assert [t["x"] for t in tiles[:6]] == xs and [t["y"] for t in tiles[::6]] == ys  # row 0 at the top
    for t in tiles:
        assert set(t) == {"row", "col", "x", "y", "z", "valid", "failed", "reasons", "novel", "copy_of"}
        assert t["z"] == [t["x"], t["y"]]  # a 2-D latent space is its own plane
    counts = doc["counts"]
    assert counts == {"tiles": 36, "valid": sum(t["valid"] for t in tiles),
                      "new_valid": sum(t["valid"] and t["novel"] for t in tiles),
                      "copies": sum(not t["novel"] for t in tiles), "invalid": sum(not t["valid"] for t in tiles)}
    assert doc["failures"] == {name: sum(name in t["failed"] for t in tiles) for name in ("eyes", "mouth")}
    out = run(runner, "grid", "--size", "6").stdout.splitlines()
    marks = [line.split() for line in out[1:7]]
    expected = [["x" if not t["valid"] else "o" if t["novel"] else "=" for t in tiles[6 * r:6 * r + 6]]
                for r in range(6)]
    assert marks == expected
    assert out[7] == "o new and valid, = valid copy of a training item, x invalid"
    assert out[8].startswith(f"{counts['valid']} of 36 tiles valid, {counts['new_valid']} of them new; ")


def test_grid_decodes_what_walks_latent_grid_decodes(runner):
    from genval.audit._judging import judge
    from genval.latent import latent_grid
    from genval.pipeline import build_embedding

    doc = json.loads(run(runner, "grid", "--size", "5", "--json").stdout)
    embedding = build_embedding("emojis")  # cached by the command: the same model
    xs, ys, pixels = latent_grid(embedding, 5)
    verdicts = judge(pixels.reshape(25, -1), EMOJIS)
    assert [{k: t[k] for k in ("valid", "failed", "reasons", "novel", "copy_of")} for t in doc["tiles"]] == \
        [verdicts.record(i) for i in range(25)]


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
}


def loaded_as(option, folder):
    """The set a command loads with the option: what every map command must work on."""
    args = LOADER_CASES[option](folder)
    spec, option_value = args[1], args[3]
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
        assert "load it as the model was trained: the same --limit, --binarize, --shape" in refused.stderr


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
