"""The commands that make samples on the map (interpolate, decode, sample, grid): the verdict on every
sample, in text and JSON; rule files; options that would be ignored are usage errors.

What every map command shares (pictures, sizes, loader options, map files) is tested in
tests/test_cli_maps.py.
"""

import json

import numpy as np

from genval import build_space, load_dataset
from genval.audit._judging import load_checks

import _cli_fixtures
from _cli_fixtures import run

runner = _cli_fixtures.runner  # the shared fixture

EMOJIS = load_dataset("emojis")
VERDICT_KEYS = {"valid": bool, "failed": list, "reasons": list, "novel": bool}
# A rule no emoji with a blank top row passes: the walks' samples then fail "top_ink".
TOP_INK = ('title = "ink in the top row"\nshape = [7, 5]\n\n[[rule]]\nname = "top_ink"\nrows = [1, 1]\n'
           'components = 1\nconnectivity = 8\n')


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
