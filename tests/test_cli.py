import json
import os
import subprocess
import sys

import click
import numpy as np
import pytest
from click.testing import CliRunner

from genval import build_space, load_dataset, load_model
from genval.cli.main import COMMANDS, cli


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def last_line(result) -> str:
    return result.stderr.strip().splitlines()[-1]


# --- help, aliases, start-up ---------------------------------------------------------------------

def test_the_group_and_every_command_have_help_with_examples(runner):
    result = run(runner, "--help")
    assert result.exit_code == 0 and "\n  Examples:\n" in result.stdout
    listed = [line.split()[0] for line in result.stdout.split("Commands:\n", 1)[1].splitlines()]
    assert listed == list(COMMANDS)
    for name, (_, _, short_help) in COMMANDS.items():
        sub = run(runner, name, "--help")
        assert sub.exit_code == 0, name
        assert "\n  Examples:\n    genval " in sub.stdout, name
        # The group lists commands from its table without importing them: the table must say what they say.
        command = cli.get_command(click.Context(cli), name)
        assert command.help.split("\n")[0] == short_help, name


def test_help_shows_the_parameter_names_with_their_aliases(runner):
    train = run(runner, "train", "--help").stdout
    for names in ("--n-latent, --latent", "--learning-rate, --lr", "--stop-wrong-pixels, --stop-wrong",
                  "--random-state, --seed", "--noise-levels, --noise", "--batch-size", "--activation-param"):
        assert names in train, names
    som = run(runner, "som", "--help").stdout
    assert "--som-learning-rate, --som-lr" in som and "--random-state, --seed" in som


HEAVY = ("sklearn", "scipy", "matplotlib", "minisom")
PROBE = """
import sys
from genval.cli.main import cli
try:
    cli({args!r}, prog_name="genval")
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r} or m.startswith("genval")))
"""


# What `genval --help` imports: the package's lazy exports and the 0.2.0 aliases, the CLI's group, the errors.
STARTUP = ["genval", "genval._compat", "genval._utils", "genval._utils.lazy", "genval.cli", "genval.cli.main",
           "genval.errors"]


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_imports_no_command_and_no_heavy_library(args):
    code = PROBE.format(args=args, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported = eval(result.stdout.strip().splitlines()[-1])
    assert imported == STARTUP


def test_shell_completion_of_command_names_imports_no_command():
    code = ("import os, sys\nfrom genval.cli.main import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('genval')))")
    env = dict(os.environ, _GENVAL_COMPLETE="bash_complete", COMP_WORDS="genval s", COMP_CWORD="1")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    *completions, modules = result.stdout.strip().splitlines()
    assert completions == ["plain,som", "plain,sample", "plain,sweep", "plain,show"]
    assert eval(modules) == STARTUP


def test_train_aliases_give_the_same_model(runner):
    short = run(runner, "train", "--epochs", "40", "--latent", "3", "--lr", "0.01", "--seed", "2",
                "--stop-wrong", "0", "--noise", "0,0.1", "--json")
    long = run(runner, "train", "--epochs", "40", "--n-latent", "3", "--learning-rate", "0.01", "--random-state",
               "2", "--stop-wrong-pixels", "0", "--noise-levels", "0,0.1", "--json")
    first, second = json.loads(short.stdout), json.loads(long.stdout)
    del first["seconds"], second["seconds"]
    assert first == second
    assert {k: first["params"][k] for k in ("n_latent", "learning_rate", "random_state", "stop_wrong_pixels",
                                            "noise_levels")} == {
        "n_latent": 3, "learning_rate": 0.01, "random_state": 2, "stop_wrong_pixels": 0, "noise_levels": [0.0, 0.1]}
    assert first["model"]["layer_sizes"] == [35, 25, 15, 3, 15, 25, 35]


def test_map_aliases_give_the_same_map(runner):
    long = run(runner, "som", "--grid", "3x3", "--som-learning-rate", "0.3", "--random-state", "2", "--json")
    short = run(runner, "som", "--grid", "3x3", "--som-lr", "0.3", "--seed", "2", "--json")
    assert long.stdout == short.stdout
    doc = json.loads(long.stdout)
    assert (doc["som_learning_rate"], doc["seed"], doc["sigma"]) == (0.3, 2, 1.0)


# --- errors ---------------------------------------------------------------------------------------

def test_library_errors_are_one_line(runner, tmp_path):
    result = run(runner, "train", "--dataset", "nope")
    assert result.exit_code == 1
    assert result.stderr == ("Error: unknown dataset 'nope'; bundled sets are emojis, font, digits, "
                             "or give a file path\n")
    bad = tmp_path / "bad.h"
    bad.write_text("int F[1][2] = {{0x1, 0xZZ}};\n")
    result = run(runner, "train", "--dataset", str(bad))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {bad}:1: expected a number, found '0xZZ'\n"
    result = run(runner, "som", "--model", str(tmp_path / "nope.npz"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"Error: {tmp_path / 'nope.npz'}: no such model file"


def test_unknown_item_is_one_line_before_anything_trains(runner):
    result = run(runner, "interpolate", ":-)", ";D")
    assert result.exit_code == 1
    assert result.stderr == ("Error: unknown item ':-)'; known items: :) :D :( D: :| :I :P :O ;) :B c: :c :3 3: :] "
                             ":[ ;D\n")  # no "training its default model" note: the name is checked first


def test_file_system_errors_are_one_line(runner, monkeypatch):
    def denied(spec):
        raise PermissionError(13, "Permission denied", "locked.h")

    monkeypatch.setattr("genval.cli.datasets.load_dataset", denied)
    result = run(runner, "show", "locked.h")
    assert result.exit_code == 1
    assert result.stderr == "Error: locked.h: Permission denied\n"


@pytest.mark.parametrize("bug", [RuntimeError("a bug"), ValueError("a bug"), KeyError("a bug"), TypeError("a bug")])
def test_other_errors_are_bugs_and_keep_their_traceback(runner, monkeypatch, bug):
    def broken(*args, **kwargs):
        raise bug

    monkeypatch.setattr("genval.cli.maps.walk", broken)
    with pytest.raises(type(bug), match="a bug"):
        run(runner, "interpolate", ":)", ";D")
    result = runner.invoke(cli, ["interpolate", ":)", ";D"])  # as a user would see it: not an "Error:" line
    assert result.exception is bug and result.exit_code == 1
    assert "Error:" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["train", "--hidden", "25,,15"],
     "Invalid value for '--hidden': '25,,15' is not a comma-separated list of positive integers (e.g. 25,15)"),
    (["train", "--latent", "0"], "Invalid value for '--n-latent' / '--latent': 0 is not in the range x>=1."),
    (["train", "--lr", "-1"], "Invalid value for '--learning-rate' / '--lr': -1.0 is not in the range x>0."),
    (["train", "--optimizer", "sgd"],
     "Invalid value for '--optimizer': 'sgd' is not one of 'gd', 'momentum', 'adaptive', 'adam'."),
    (["train", "--noise", "0.1,x"],
     "Invalid value for '--noise-levels' / '--noise': '0.1,x' is not a comma-separated list of numbers"),
    (["train", "--epochs", "5", "--out", "no/m.npz"],
     "Invalid value for '--out' / '-o': cannot write no/m.npz: the folder no does not exist"),
    (["som", "--grid", "3y3"], "Invalid value for '--grid': '3y3' is not a grid like 3x3 (rows x columns)"),
    (["som", "--grid", "0x3"], "Invalid value for '--grid': '0x3': a grid needs at least 1 row and 1 column"),
    (["som", "--topology", "round"], "Invalid value for '--topology': 'round' is not one of 'rectangular', "
                                     "'hexagonal'."),
    (["som", "--plot", "missing/x.png"],
     "Invalid value for '--plot': cannot write missing/x.png: the folder missing does not exist"),
    (["interpolate", ":)", ":(", "--steps", "1"], "Invalid value for '--steps': 1 is not in the range x>=2."),
    (["sample", "--method", "neuron"], "--method neuron needs --neuron N"),
    (["sample", "--grid", "3x3", "--method", "neuron", "--neuron", "12"],
     "Invalid value for '--neuron': 12: the 3x3 map has neurons 1 to 9"),
    (["denoise", "--noise", "2"], "Invalid value for '--levels' / '--noise': '2': every level must be in [0, 1]"),
    (["audit", "--n", "0"], "Invalid value for '--n' / '-n': 0 is not in the range x>=1."),
    (["audit", "--compare", "--csv", "x.csv"], "--csv, --sheet and --roc describe one audit; leave out --compare"),
    (["audit", "--vae"], "--vae adds a variational autoencoder to --compare; use both"),
    (["audit", "--min-validity", "nan"], "Invalid value for '--min-validity': 'nan' is not a finite number"),
    (["decode", "inf", "0"], "Invalid value for 'X': 'inf' is not a finite number"),
])
def test_usage_errors_exit_2_with_one_message(runner, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(runner, *args)
    assert result.exit_code == 2, result.output
    assert last_line(result) == f"Error: {message}"
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


# --- train, show ----------------------------------------------------------------------------------

def test_train_json_report(runner, tmp_path):
    out = tmp_path / "m.npz"
    result = run(runner, "train", "--stop-wrong-pixels", "0", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["dataset"] == "emojis" and doc["seed"] == 0
    assert doc["model"] == {"file": str(out), "kind": "autoencoder", "layer_sizes": [35, 25, 15, 2, 15, 25, 35]}
    assert doc["perfect"] == 17 and doc["within_one"] == 17
    assert doc["stopped_early"] is True and doc["epochs_run"] < 10_000
    assert doc["final_loss"] > 0 and doc["seconds"] > 0
    assert [i["name"] for i in doc["items"]][:3] == [":)", ":D", ":("]
    assert all(i["wrong_pixels"] == 0 for i in doc["items"])
    model = load_model(out)
    assert model.metadata_ == {"dataset": "emojis", "shape": [7, 5], "names": [i["name"] for i in doc["items"]]}
    assert doc["params"] == {k: list(v) if isinstance(v, tuple) else v for k, v in model.get_params().items()}
    assert result.stderr == "training on emojis: epochs\n"  # the bar's label: stderr is no terminal here


def test_train_text_report(runner):
    result = run(runner, "train", "--dataset", "font", "--epochs", "300", "--random-state", "1")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("font: 32 items, network 35-25-15-2-15-25-35, 300 epochs")
    assert lines[1].split() == ["item", "wrong", "pixels"]
    assert [line.split()[0] for line in lines[2:34]][:3] == ["`", "a", "b"] and len(lines) == 35
    perfect = sum(line.split()[1] == "0" for line in lines[2:34])
    assert lines[-1].startswith(f"perfect {perfect}/32, within one pixel ")


def test_show(runner):
    result = run(runner, "show", "emojis", "--json")
    doc = json.loads(result.stdout)
    assert doc["shape"] == [7, 5] and doc["n_items"] == 17
    assert doc["items"][0] == {"name": ":)", "rows": [".....", ".#.#.", ".#.#.", ".....", "#...#", ".###.", "....."]}
    text = run(runner, "show", "font", "--limit", "3")
    lines = text.stdout.splitlines()
    assert lines[0] == "font: 32 items, 7x5"
    assert lines[1].split() == ["`", "a", "b"]
    assert lines[2].split() == ["..#..", ".....", "#...."]
    assert lines[-1] == "... 29 more (--limit)"
    assert text.stderr == "(bundled sets: emojis, font, digits)\n"


# --- the map commands -----------------------------------------------------------------------------

EMOJIS = [":)", ":D", ":(", "D:", ":|", ":I", ":P", ":O", ";)", ":B", "c:", ":c", ":3", "3:", ":]", ":[", ";D"]


def test_som_text_lists_every_neuron_and_is_reproducible(runner):
    first = run(runner, "som", "--grid", "3x3")
    assert first.exit_code == 0, first.output
    assert first.stderr.startswith("first use of emojis: training its default Autoencoder (cached as ")
    lines = first.stdout.splitlines()
    assert lines[0] == ("3x3 rectangular map of 17 emojis codes (sigma 1, learning rate 0.5, 4500 iterations, "
                        "gaussian, seed 0)")
    neuron_lines = lines[1:10]
    assert [line.split(":")[0] for line in neuron_lines] == [f"Neuron {k}" for k in range(1, 10)]
    items = [name for line in neuron_lines for name in line.split(": ", 1)[1:] for name in name.split()]
    assert sorted(items) == sorted(EMOJIS)
    assert lines[10].startswith("quantization error ") and lines[11].startswith("topographic error ")
    second = run(runner, "som", "--grid", "3x3")
    assert second.stdout == first.stdout
    assert second.stderr == ""  # the default model came from the cache


def test_som_json_schema(runner):
    doc = json.loads(run(runner, "som", "--grid", "2x3", "--topology", "hexagonal", "--json").stdout)
    assert doc["grid"] == [2, 3] and doc["topology"] == "hexagonal"
    assert [(n["row"], n["col"]) for n in doc["neurons"]] == [(r, c) for r in range(2) for c in range(3)]
    assert all(set(n) == {"number", "row", "col", "items", "weight"} and len(n["weight"]) == 2 for n in doc["neurons"])
    assert [n["number"] for n in doc["neurons"]] == [1, 2, 3, 4, 5, 6]
    assert sorted(i for n in doc["neurons"] for i in n["items"]) == sorted(EMOJIS)
    te = doc["topographic_error"]  # a share of the 17 codes
    assert doc["quantization_error"] > 0 and 0 <= te <= 1 and te * 17 == pytest.approx(round(te * 17))
    space = build_space("emojis", grid=(2, 3), topology="hexagonal")  # the library, same settings: same map
    assert doc["neurons"] == [{"number": k + 1, **n.to_dict()}
                              for k, n in enumerate(space.som.neuron_table(space.codes, space.bitmaps.names))]
    assert (doc["quantization_error"], te) == (space.som.quantization_error(space.codes),
                                               space.som.topographic_error(space.codes))


def test_interpolate_json_schema_and_endpoints(runner):
    result = run(runner, "interpolate", ":]", ";D", "--steps", "10", "--grid", "3x3", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["from"], doc["to"], doc["walk"]) == (":]", ";D", "line") and isinstance(doc["same_neuron"], bool)
    samples = doc["samples"]
    assert len(samples) == 10 and samples[0]["t"] == 0 and samples[-1]["t"] == 1
    assert [s["t"] for s in samples] == [round(i / 9, 6) for i in range(10)]
    assert set(samples[0]) == {"t", "z", "neuron", "occupied", "som_distance", "rows", "nearest", "hamming", "valid",
                               "failed", "reasons", "novel", "copy_of"}
    # The default model reconstructs every emoji, so the ends are the items themselves: valid copies.
    assert samples[0]["nearest"] == ":]" and samples[0]["hamming"] == 0
    assert (samples[0]["valid"], samples[0]["novel"], samples[0]["copy_of"]) == (True, False, ":]")
    assert samples[-1]["copy_of"] == ";D" and samples[-1]["failed"] == []
    assert samples[-1]["rows"] == [".....", ".#...", ".#.##", ".....", "#####", "#...#", ".###."]
    assert doc["path"][0] == samples[0]["neuron"] and doc["path"][-1] == samples[-1]["neuron"]


def test_interpolate_text_and_som_path(runner):
    result = run(runner, "interpolate", ":)", ":(", "--path", "som", "--steps", "6", "--grid", "3x3")
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0].startswith(":) -> :( along the SOM weights, 6 samples")
    assert out[1].startswith("same neuron: ")
    assert out[2].startswith("neuron path: ")
    table = out[out.index(next(line for line in out if line.strip().startswith("sample"))) + 1:]
    table = table[:6]  # then the summary line
    assert table[0].split()[-2:] == [":)", "0"] and table[-1].split()[-2:] == [":(", "0"]


def test_sample_json(runner):
    args = ["sample", "--n", "5", "--method", "gaussian", "--json", "--random-state"]
    doc = json.loads(run(runner, *args, "2").stdout)
    assert doc["method"] == "gaussian" and doc["seed"] == 2 and len(doc["samples"]) == 5
    assert json.loads(run(runner, *args, "2").stdout) == doc
    assert json.loads(run(runner, *args, "3").stdout) != doc
    cell = json.loads(run(runner, "sample", "--grid", "3x3", "--method", "neuron", "--neuron", "2", "--json").stdout)
    assert {s["neuron"]["number"] for s in cell["samples"]} == {2}


def test_pictures_are_written(runner, tmp_path):
    for args in (["som", "--grid", "3x3", "--plot"], ["interpolate", ":)", ";D", "--plot"],
                 ["sample", "--n", "4", "--plot"], ["grid", "--size", "6", "--plot"]):
        path = tmp_path / f"{args[0]}.png"
        result = run(runner, *args, str(path))
        assert result.exit_code == 0, result.output
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert result.stderr.splitlines()[-1] == f"wrote {path}"


def test_model_option_and_size_mismatch(runner, tmp_path):
    from genval import Autoencoder, load_dataset

    path = tmp_path / "font.npz"
    assert run(runner, "train", "--dataset", "font", "--epochs", "50", "--out", str(path)).exit_code == 0
    result = run(runner, "som", "--model", str(path), "--dataset", "font", "--grid", "2x2", "--json")
    assert sum(len(n["items"]) for n in json.loads(result.stdout)["neurons"]) == 32
    assert result.stderr == ""  # nothing trained
    digits_model = tmp_path / "digits.npz"
    Autoencoder(epochs=2).fit(load_dataset("digits").X[:20]).save(digits_model)
    result = run(runner, "som", "--model", str(digits_model))
    assert result.exit_code == 1
    assert result.stderr == ("Error: the model expects 64 pixels per item but emojis has 35 (7x5); "
                             "train a model on this set\n")


# --- audit ----------------------------------------------------------------------------------------

def test_audit_json_is_reproducible_byte_for_byte(runner):
    args = ["audit", "--strategy", "random", "--n", "3000", "--random-state", "0", "--grid", "3x3", "--json"]
    first = run(runner, *args)
    assert first.exit_code == 0, first.output
    assert run(runner, *args).stdout == first.stdout
    doc = json.loads(first.stdout)
    assert doc["n"] == 3000 and doc["seed"] == 0 and doc["all"]["counts"]["total"] == 3000
    assert set(doc) == {"strategy", "dataset", "checks", "grid", "seed", "n", "copies", "yield", "new", "all",
                        "scores", "membership", "crispness", "model", "novelty", "hull", "controls", "null_model",
                        "map"}
    assert doc["map"] == {"file": None, "grid": doc["grid"], "seed": 0}
    assert doc["model"] == {"file": "default", "kind": "autoencoder", "layer_sizes": [35, 25, 15, 2, 15, 25, 35]}
    new = doc["new"]
    assert new["counts"]["total"] == 3000 - doc["copies"]["rate"]["numerator"]
    validity = new["ratios"]["validity"]
    assert validity["value"] == validity["numerator"] / validity["denominator"]
    assert doc["yield"]["value"] == new["counts"]["novel_unique_valid"]
    assert doc["checks"]["names"] == ["eyes", "mouth"]
    assert doc["membership"]["k"] == 5 and doc["membership"]["n_real"] == 17
    assert set(doc["scores"]) == {"samples", "som_distance", "occupied", "hit_count", "nearest_code",
                                  "gmm_log_density", "realism", "hull_depth", "box_centre", "umatrix", "relative_qe",
                                  "decoder_confidence", "stability"}
    assert run(runner, *args[:-4], "--seed", "1", "--grid", "3x3", "--json").stdout != first.stdout


def test_audit_text_outputs_and_min_validity(runner, tmp_path):
    paths = {k: tmp_path / f"a.{k}" for k in ("csv", "sheet.png", "plot.png", "roc.png")}
    result = run(runner, "audit", "-n", "800", "--grid", "3x3", "--csv", str(paths["csv"]),
                 "--sheet", str(paths["sheet.png"]), "--plot", str(paths["plot.png"]), "--roc", str(paths["roc.png"]),
                 "--min-validity", "0.01")
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0] == "audit 'random' of emojis: 800 samples, checks: emojis: two eyes and a mouth, map 3x3, seed 0"
    assert any(line.startswith("rule-free membership, k = 5, N = 17 training items, M = 800 samples")
               for line in out)
    assert len(paths["csv"].read_text().splitlines()) == 801
    for key in ("sheet.png", "plot.png", "roc.png"):
        assert paths[key].read_bytes()[:4] == b"\x89PNG"
    doc = json.loads(run(runner, "audit", "--n", "800", "--grid", "3x3", "--json").stdout)
    # Every figure beside its numerator and denominator, for new samples and for all of them.
    rate = doc["copies"]["rate"]
    assert out[1].startswith(f"copies: {rate['numerator']} of 800 samples equal a training item: copy rate "
                             f"{rate['value']:.3f} (")

    def fraction(ratio):
        return f"{ratio['value']:.3f} = {ratio['numerator']} / {ratio['denominator']}"

    for name in ("validity", "uniqueness", "novelty"):
        (line,) = [line for line in out if line.startswith(f"  {name} ")]
        assert line.split()[1:11] == [*fraction(doc["new"]["ratios"][name]).split(),
                                     *fraction(doc["all"]["ratios"][name]).split()]
    for name in ("precision", "recall"):
        (line,) = [line for line in out if line.startswith(f"  {name} ")]
        assert line.split()[1:11] == [*fraction(doc["new"]["som_agreement"][name]).split(),
                                     *fraction(doc["all"]["som_agreement"][name]).split()]
    tables = [doc[part]["som_agreement"]["table"] for part in ("new", "all")]
    for where in ("occupied", "empty"):
        (line,) = [line for line in out if line.startswith(f"  {where} neuron ")]
        assert line.split()[2:] == [str(t[f"{where}_{v}"]) for t in tables for v in ("valid", "invalid")]
    validity = doc["new"]["ratios"]["validity"]["value"]
    below = run(runner, "audit", "--n", "800", "--grid", "3x3", "--min-validity", "0.999")
    assert below.exit_code == 3
    assert last_line(below) == f"new-sample validity {validity:.3f} is below --min-validity 0.999"
    copies = run(runner, "audit", "--strategy", "copycat", "-n", "50", "--grid", "3x3", "--min-validity", "0.5")
    assert copies.exit_code == 3 and "validity   n/a" not in copies.stdout
    assert last_line(copies) == ("no new samples (all 50 are copies of training items), so no new-sample validity "
                                 "reaches --min-validity 0.5")


def test_audit_compare_table(runner, tmp_path):
    chart = tmp_path / "strategies.png"
    result = run(runner, "audit", "--compare", "--n", "1000", "--grid", "3x3", "--plot", str(chart))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "emojis, checks: emojis: two eyes and a mouth, map 3x3, seed 0, n 1000"
    assert lines[1].startswith("  null model: the checks pass coin flips ") and lines[2].startswith("  warning: ")
    lines = lines[2:]
    assert lines[1].split()[:4] == ["model", "strategy", "copy", "rate"]
    strategies = ("random", "prior", "gmm", "neuron", "lines", "som-path", "grid", "regions", "copycat")
    assert [line.split()[:2] for line in lines[2:11]] == [["autoencoder", s] for s in strategies]
    assert lines[10].split()[2:5] == ["1.000", "n/a", "0"]  # copycat: every sample a copy, nothing new
    assert lines[-2:] == ["skipped (nothing to sample there):",
                          "  autoencoder vae-prior: the 'vae-prior' strategy samples a variational autoencoder's "
                          "prior, and this model (autoencoder) has no sample_prior (train one with genval train --vae)"]
    assert chart.read_bytes()[:4] == b"\x89PNG"
    doc = json.loads(run(runner, "audit", "--compare", "--n", "500", "--grid", "8x8", "--json").stdout)
    assert [d["strategy"] for d in doc["rows"]] == ["random", "prior", "gmm", "neuron", "grid", "regions", "copycat"]
    assert [(d["label"], d["strategy"]) for d in doc["skipped"]] == [
        ("autoencoder", s) for s in ("lines", "som-path", "vae-prior")]
    assert [d["reason"] for d in doc["skipped"][:2]] == [
        f"no two items share a neuron on the 8x8 map, so '{s}' has nothing to walk; use a smaller map (--grid)"
        for s in ("lines", "som-path")]
    assert doc["seed"] == 0 and doc["dataset"] == "emojis" and doc["seeds"] == [0]


def test_audit_compare_repeats_give_intervals(runner):
    result = run(runner, "audit", "--compare", "--repeats", "3", "--n", "400", "--grid", "3x3", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["seeds"] == [0, 1, 2] and len(doc["runs"]) == 3 * len(doc["rows"])
    figure = doc["rows"][0]["figures"]["new_validity"]
    assert len(figure["per_seed"]) == 3 and figure["interval"][0] <= figure["value"] <= figure["interval"][1]
    text = run(runner, "audit", "--strategy", "random", "--repeats", "2", "--n", "400", "--grid", "3x3").stdout
    assert text.splitlines()[0].endswith("seeds 0-1 varying the map and the sample (mean ±95% interval half-width "
                                         "over the independent runs), n 400")


def test_audit_compare_with_a_vae(runner):
    result = run(runner, "audit", "--compare", "--vae", "--n", "500", "--grid", "3x3", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = [(d["label"], d["strategy"]) for d in doc["rows"]]
    assert rows == [("autoencoder", s) for s in ("random", "prior", "gmm", "neuron", "lines", "som-path", "grid",
                                                 "regions", "copycat")] + [
        ("vae", s) for s in ("random", "prior", "gmm", "neuron", "lines", "som-path", "grid", "regions", "vae-prior",
                             "copycat")]
    assert [(d["label"], d["strategy"]) for d in doc["skipped"]] == [("autoencoder", "vae-prior")]
    assert doc["skipped"][0]["reason"].startswith("the 'vae-prior' strategy samples a variational autoencoder's")
    assert doc["models"]["vae"]["kind"] == "vae"
    notes = [line for line in result.stderr.splitlines() if line.startswith("first use")]
    assert [line.split(" (cached")[0] for line in notes] == [
        "first use of emojis: training its default Autoencoder",
        "first use of emojis: training its default VariationalAutoencoder"]


def test_audit_bad_input_is_one_line_and_writes_nothing(runner, tmp_path):
    rules = tmp_path / "bad.toml"
    rules.write_text("[[rule]]\nname = 'eyes'\nrows = [1, 9]\n")
    result = run(runner, "audit", "--rules", str(rules), "--n", "10")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {rules}: rule 'eyes': rows 1-9 outside the 7x5 grid "
                             "(expected 1 <= first <= last <= 7)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]
    result = run(runner, "audit", "--strategy", "lines", "--grid", "8x8", "--n", "10")
    assert result.exit_code == 1
    assert last_line(result) == ("Error: no two items share a neuron on the 8x8 map, so 'lines' has nothing to walk; "
                                 "use a smaller map (--grid)")


def test_audit_with_a_rule_file(runner, tmp_path):
    rules = tmp_path / "ink.toml"
    rules.write_text('title = "some ink"\n[generic]\nchecks = ["not_empty", "ink_range"]\n')
    doc = json.loads(run(runner, "audit", "--rules", str(rules), "--n", "300", "--json").stdout)
    assert doc["checks"] == {"title": "some ink", "names": ["not_empty", "ink_range"]}


# --- variational autoencoder, denoising, sweeps ---------------------------------------------------

def test_train_vae_and_denoiser(runner, tmp_path):
    path = tmp_path / "vae.npz"
    doc = json.loads(run(runner, "train", "--vae", "--beta", "0.1", "--out", str(path), "--json").stdout)
    assert doc["model"]["kind"] == "vae" and doc["perfect"] == 17 and doc["params"]["beta"] == 0.1
    assert json.loads(run(runner, "som", "--model", str(path), "--grid", "2x2", "--json").stdout)["grid"] == [2, 2]
    doc = json.loads(run(runner, "train", "--noise-levels", "0,0.1", "--epochs", "50", "--json").stdout)
    assert doc["epochs_run"] == 50 and doc["params"]["noise_levels"] == [0.0, 0.1]


def test_denoise_command(runner, tmp_path):
    plot = tmp_path / "d.png"
    result = run(runner, "denoise", "--epochs", "100", "--trials", "5", "--levels", "0.1,0.2", "--json",
                 "--plot", str(plot))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["dataset"] == "font" and [lv["level"] for lv in doc["levels"]] == [0.1, 0.2]
    assert doc["model"]["kind"] == "denoiser" and doc["model"]["noise_levels"] == [0, 0.1, 0.15, 0.2]
    assert doc["model"]["epochs"] == 100 and doc["model"]["file"] == "default"
    assert set(doc["levels"][0]) == {"level", "samples", "restored", "within_one", "bound_restored",
                                     "bound_within_one"}
    assert doc["levels"][0]["samples"] == 160
    assert plot.read_bytes()[:4] == b"\x89PNG"
    alias = run(runner, "denoise", "--epochs", "100", "--trials", "5", "--noise", "0.1,0.2", "--json")
    assert json.loads(alias.stdout)["levels"] == doc["levels"]
    text = run(runner, "denoise", "--epochs", "50", "--trials", "2", "--levels", "0.1", "--train-noise", "0,0.3")
    lines = text.stdout.splitlines()
    assert "trained on flip noise 0, 0.3 for 50 epochs" in lines[0]
    assert lines[1].split()[:3] == ["level", "restored", "within"] and len(lines) == 3


SWEEP_NEW = 'dataset = "emojis"\n[fixed]\nepochs = 40\n[grid]\nn_latent = [2, 3]\nrandom_state = [0, 1]\n'
SWEEP_OLD = 'dataset = "emojis"\n[fixed]\nepochs = 40\n[grid]\nlatent = [2, 3]\nseed = [0, 1]\n'


def test_sweep_command(runner, tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(SWEEP_NEW)
    out = tmp_path / "tiny.csv"
    result = run(runner, "sweep", str(config), "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("tiny: 4 runs on emojis (4 run now, 0 already in")
    assert lines[0].endswith("4 ok, 0 diverged, 0 failed; mean ± spread over seeds of the ok runs")
    assert lines[1].split()[:4] == ["n_latent", "runs", "ok", "final"]
    assert [line.split()[0] for line in lines[2:]] == ["2", "3"]
    assert out.read_text().splitlines()[0].startswith("run,dataset,hidden,n_latent,")
    doc = json.loads(run(runner, "sweep", str(config), "--out", str(out), "--json").stdout)
    assert doc["ran"] == 0 and doc["resumed"] == 4 and len(doc["summary"]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid]\nepochs = []\n")
    result = run(runner, "sweep", str(bad))
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {bad}: [grid] 'epochs' must be a non-empty list of values "
                             "(an integer >= 1 each)\n")


def test_sweep_files_with_the_old_keys_give_the_same_runs(runner, tmp_path):
    new, old = tmp_path / "new.toml", tmp_path / "old.toml"
    new.write_text(SWEEP_NEW)
    old.write_text(SWEEP_OLD)
    first = json.loads(run(runner, "sweep", str(new), "--out", str(tmp_path / "new.csv"), "--json").stdout)
    # The old file is the same sweep: resumed from the new one's CSV, it has nothing left to run.
    again = json.loads(run(runner, "sweep", str(old), "--out", str(tmp_path / "new.csv"), "--json").stdout)
    assert (again["ran"], again["resumed"]) == (0, 4)
    assert [e["settings"] for e in again["summary"]] == [{"n_latent": 2}, {"n_latent": 3}]  # numbers as numbers
    assert [e["final_loss"] for e in again["summary"]] == [e["final_loss"] for e in first["summary"]]


def test_sweep_in_parallel_plotted_and_reported_again(runner, tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(SWEEP_NEW)
    serial, parallel = tmp_path / "serial.csv", tmp_path / "parallel.csv"
    run(runner, "sweep", str(config), "--out", str(serial))
    result = run(runner, "sweep", str(config), "--out", str(parallel), "--jobs", "2", "--plot",
                 str(tmp_path / "s.png"), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ran"] == 4 and doc["status"] == {"ok": 4, "diverged": 0, "failed": 0}

    def timeless(path):
        return [line.rsplit(",", 1)[0] for line in path.read_text().splitlines()]

    assert timeless(parallel) == timeless(serial)
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    again = json.loads(run(runner, "sweep", "--report", str(parallel), "--plot", str(tmp_path / "r.svg"),
                           "--json").stdout)
    assert again["runs"] == 4 and again["ran"] == 0 and again["title"] == "parallel"
    assert [e["settings"] for e in again["summary"]] == [{"n_latent": 2}, {"n_latent": 3}]  # numbers as numbers
    assert again["summary"] == doc["summary"] or [e["final_loss"] for e in again["summary"]] == [
        e["final_loss"] for e in doc["summary"]]
    assert (tmp_path / "r.svg").read_text().lstrip().startswith("<?xml")


def test_sweep_usage_and_refusals(runner, tmp_path, monkeypatch):
    config = tmp_path / "tiny.toml"
    config.write_text(SWEEP_NEW)
    bad_plot = run(runner, "sweep", str(config), "--plot", str(tmp_path / "s.gif"))
    assert bad_plot.exit_code == 2 and "name the picture .png, .svg or .pdf" in bad_plot.stderr
    assert not (tmp_path / "tiny.csv").exists()
    no_workers = run(runner, "sweep", str(config), "--jobs", "0")
    assert no_workers.exit_code == 2 and "0 workers cannot run anything" in no_workers.stderr
    crowd = run(runner, "sweep", str(config), "--jobs", "1000000")  # joblib's own limit was a traceback
    cores = os.cpu_count() or 1
    assert crowd.exit_code == 2 and crowd.stderr.splitlines()[-1].endswith(
        f"1,000,000 worker processes on {cores} cores would only contend for them; give at most {4 * cores} "
        "(4 per core), or -1 for one per core")
    neither = run(runner, "sweep")
    assert neither.exit_code == 2 and "give a sweep FILE.toml|NAME, or --report RUNS.csv" in neither.stderr
    too_many = run(runner, "sweep", str(config), "--max-runs", "3", "--out", str(tmp_path / "x.csv"))
    assert too_many.exit_code == 1
    assert too_many.stderr == (f"Error: {config}: 4 runs (2 n_latent x 2 random_state), more than max_runs = 3; "
                               "shorten the grid or raise the limit (--max-runs)\n")
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.setenv("GENVAL_SCHEDULER", "tcp://127.0.0.1:8786")
    no_dask = run(runner, "sweep", str(config), "--out", str(tmp_path / "d.csv"))
    assert no_dask.exit_code == 1
    assert no_dask.stderr.endswith("Error: running on a Dask cluster needs the distributed package: "
                                   "pip install 'genval[dask]'\n")


def test_train_takes_every_new_network_setting(runner, tmp_path):
    out = tmp_path / "m.npz"
    result = run(runner, "train", "--dataset", "font", "--hidden", "", "--n-latent", "16", "--code-activation",
                 "relu", "--activation", "relu", "--dropout", "0.1", "--validation-fraction", "0.25",
                 "--dtype", "float64", "--noise-type", "image_gaussian", "--noise-levels", "0,0.2",
                 "--epochs", "50", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["model"]["layer_sizes"] == [35, 16, 35]
    assert {k: doc["params"][k] for k in ("code_activation", "dropout", "validation_fraction", "dtype", "noise")} == {
        "code_activation": "relu", "dropout": 0.1, "validation_fraction": 0.25, "dtype": "float64",
        "noise": "image_gaussian"}
    model = load_model(out)
    assert doc["final_validation_loss"] == model.validation_loss_curve_[-1]
    assert len(model.validation_loss_curve_) == 50
    result = run(runner, "train", "--vae", "--code-activation", "relu")
    assert result.exit_code == 2 and "a variational autoencoder's code is Gaussian" in result.stderr


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
        assert all(option in help_text for option in ("--labels", "--shape HxW", "--binarize T", "--limit N")), command
    result = run(runner, "train", "--dataset", str(path), "--limit", "3", "--epochs", "2", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [item["name"] for item in doc["items"]] == ["0", "1", "2"] and doc["dataset"] == str(path)


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


def test_train_summarises_a_large_set_by_its_worst_items(runner):
    result = run(runner, "train", "--dataset", "digits", "--epochs", "3", "--batch-size", "512")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].startswith("wrong pixels per item: median ") and lines[1].endswith("the 10 worst items:")
    rows = [line.split() for line in lines[3:13]]
    assert len(rows) == 10 and [int(w) for _, w in rows] == sorted((int(w) for _, w in rows), reverse=True)
    assert lines[13].startswith("perfect ") and lines[13].endswith("/1797")


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


def test_train_draws_its_loss_curve(runner, tmp_path):
    picture = tmp_path / "loss.png"
    result = run(runner, "train", "--dataset", "font", "--epochs", "30", "--validation-fraction", "0.25",
                 "--plot", str(picture))
    assert result.exit_code == 0, result.output
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"wrote {picture}" in result.stderr


def test_decode_and_grid_use_the_principal_plane_of_a_wider_space(runner, tmp_path):
    from genval import Autoencoder, load_dataset
    from genval.latent._space import plane

    emojis = load_dataset("emojis")
    path = tmp_path / "e3.npz"
    model = Autoencoder(n_latent=3, epochs=300).fit(emojis.X)
    model.save(path)
    result = run(runner, "decode", "1", "-0.5", "--model", str(path), "--grid", "2x2", "--json")
    origin, axes = plane(model.transform(emojis.X))
    np.testing.assert_allclose(json.loads(result.stdout)["z"], origin + np.array([1, -0.5]) @ axes, atol=1e-5)
    text = run(runner, "decode", "1", "-0.5", "--model", str(path), "--grid", "2x2").stdout
    assert text.splitlines()[1].startswith("(1, -0.5) on the codes' principal plane, z = (")
    picture = tmp_path / "plane.png"
    assert run(runner, "grid", "--model", str(path), "--size", "4", "--plot",
               str(picture)).exit_code == 0 and picture.exists()


def test_train_momentum_goes_to_the_optimizer(runner):
    result = run(runner, "train", "--dataset", "font", "--optimizer", "adaptive", "--learning-rate", "1",
                 "--momentum", "0.7", "--epochs", "20", "--json")
    assert json.loads(result.stdout)["params"]["optimizer_options"] == {"momentum": 0.7}
    result = run(runner, "train", "--momentum", "0.7", "--epochs", "2")
    assert result.exit_code == 2 and "--momentum: takes --optimizer momentum or adaptive" in result.stderr


def test_a_picture_is_written_in_the_format_its_suffix_names(runner, tmp_path):
    result = run(runner, "train", "--epochs", "5", "--plot", str(tmp_path / "loss.gif"))
    assert result.exit_code == 2 and "name the picture .png, .svg or .pdf" in result.stderr
    assert not (tmp_path / "loss.gif").exists()
    result = run(runner, "train", "--dataset", "font", "--epochs", "5", "--plot", str(tmp_path / "loss.svg"))
    assert result.exit_code == 0 and (tmp_path / "loss.svg").read_text().lstrip().startswith("<?xml")


# --- quiet, completion ----------------------------------------------------------------------------

def test_quiet_leaves_stderr_to_errors(runner, tmp_path):
    picture = tmp_path / "plane.png"
    loud = run(runner, "audit", "-n", "300", "--grid", "3x3", "--plot", str(picture))
    assert f"wrote {picture}" in loud.stderr
    quiet = run(runner, "audit", "-n", "300", "--grid", "3x3", "--plot", str(picture), "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == loud.stdout
    assert run(runner, "som", "--grid", "3x3", "-q", "--json").stderr == ""
    bad = run(runner, "interpolate", ":)", "nope", "-q")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: unknown item 'nope'")


def complete(runner, words: str) -> list[str]:
    result = runner.invoke(cli, [], env={"_GENVAL_COMPLETE": "bash_complete", "COMP_WORDS": words,
                                         "COMP_CWORD": str(len(words.split(" ")) - 1)}, prog_name="genval")
    return result.stdout.split()


def test_tab_completes_commands_datasets_and_item_names(runner):
    assert complete(runner, "genval au") == ["plain,audit"]
    assert complete(runner, "genval som --dataset f") == ["plain,font", "file,f"]
    assert complete(runner, "genval interpolate :") == [f"plain,{n}" for n in EMOJIS if n.startswith(":")]
    font = load_dataset("font")
    assert complete(runner, "genval interpolate --dataset font ") == [f"plain,{n}" for n in font.names]


# --- regions --------------------------------------------------------------------------------------

def test_regions_census_text_json_and_picture(runner, tmp_path):
    picture = tmp_path / "regions.png"
    result = run(runner, "regions", "--max-side", "64", "--plot", str(picture))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "distinct bitmaps of emojis over the codes' box" in lines[0] and "at 64x64 cells" in lines[0]
    assert lines[1] == "distinct bitmaps per grid side: 32: 64, 64: 95"
    assert picture.stat().st_size > 10_000
    doc = json.loads(run(runner, "regions", "--max-side", "64", "--json").stdout)
    assert doc["n_regions"] == len(doc["regions"]) == 95 and not doc["converged"]
    assert sum(r["area"] for r in doc["regions"]) == pytest.approx(1.0)
    copies = [r for r in doc["regions"] if not r["novel"]]
    assert len(copies) == doc["kinds"]["copy"]["regions"] and {r["copy_of"] for r in copies} <= set(
        load_dataset("emojis").names)
    wide = run(runner, "regions", "--dataset", "font", "--model", str(tmp_path / "missing.npz"))
    assert wide.exit_code == 1 and "missing.npz" in wide.stderr


def test_regions_refuse_a_model_wider_than_two(runner, tmp_path):
    model = tmp_path / "wide.npz"
    assert run(runner, "train", "--n-latent", "3", "--epochs", "20", "--out", str(model)).exit_code == 0
    result = run(runner, "regions", "--model", str(model))
    assert result.exit_code == 1 and "needs a 2-D latent plane; this model's codes have 3 dimensions" in result.stderr


def test_audit_repeats_can_vary_the_model(runner, tmp_path):
    result = run(runner, "audit", "--strategy", "random", "--repeats", "2", "--vary", "model", "-n", "300",
                 "--grid", "3x3", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["vary"] == ["model"] and doc["seeds"] == [0, 1]
    first, second = doc["runs"]
    assert first["seed"] == second["seed"] == 0  # the samples are drawn from seed 0 each time...
    assert first["copies"] != second["copies"] or first["yield"] != second["yield"]  # ...by two models
    assert doc["rows"][0]["independent_runs"] == {"samples": 2, "maps": 2}
    for args, message in ((["--vary", "model", "--model", str(tmp_path / "m.npz")], "leave out --model"),
                          (["--vary", "model"], "needs --repeats 2 or more")):
        bad = run(runner, "audit", "-n", "10", *args)
        assert bad.exit_code == 2 and message in bad.stderr


def test_the_map_commands_take_the_loader_options(runner, tmp_path):
    """--limit, --shape, ... load the set before the map commands build their space (they used to fail)."""
    result = run(runner, "decode", "0", "0", "--dataset", "digits", "--limit", "40", "--any-data", "-q", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["dataset"] == "digits"


def test_audit_compare_under_a_small_memory_budget_is_one_error_not_an_empty_table(runner, monkeypatch):
    # Was: an empty table, then TypeError: 'int' object is not iterable; every strategy silently "impossible".
    run(runner, "som", "--grid", "3x3", "-q")  # the default model trains within the default budget
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "2M")
    for args in (["--compare"], ["--compare", "--json"], ["--strategy", "random", "--repeats", "2"]):
        result = run(runner, "audit", *args, "-n", "100000", "--grid", "3x3", "-q")
        assert result.exit_code == 1, args
        assert result.stdout == ""
        assert result.stderr == ("Error: an audit of 100,000 points of 35 pixels would need about 13.3 MiB, more "
                                 "than the memory budget of 2.0 MiB; ask for fewer or raise GENVAL_MEMORY_BUDGET\n")


def test_one_strategy_that_cannot_run_over_repeats_says_why(runner):
    result = run(runner, "audit", "--strategy", "lines", "--repeats", "2", "-n", "200", "--grid", "8x8", "-q")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == ("Error: no two items share a neuron on the 8x8 map, so 'lines' has nothing to walk; "
                             "use a smaller map (--grid)\n")


def test_the_grid_strategy_runs_on_the_principal_plane_of_wide_codes(runner, tmp_path):
    model = tmp_path / "wide.npz"
    assert run(runner, "train", "--dataset", "font", "--n-latent", "4", "--epochs", "100", "--out", str(model),
               "-q").exit_code == 0
    one = run(runner, "audit", "--strategy", "grid", "-n", "100", "--dataset", "font", "--model", str(model),
              "--grid", "3x3", "--json", "-q")
    assert one.exit_code == 0, one.output  # was: Error: Z has 2 features, but Autoencoder is expecting 4
    assert json.loads(one.stdout)["n"] == 100
    doc = json.loads(run(runner, "audit", "--compare", "-n", "100", "--dataset", "font", "--model", str(model),
                         "--grid", "3x3", "--json", "-q").stdout)
    assert "grid" in [row["strategy"] for row in doc["rows"]]
    assert [(d["strategy"]) for d in doc["skipped"]] == ["regions", "vae-prior"]  # regions: 2-D planes only
    assert doc["skipped"][0]["reason"] == ("the 'regions' strategy cuts a 2-D latent plane into regions; this "
                                           "model's codes have 4 dimensions")


def test_audit_help_shows_percent_signs_once(runner):
    text = run(runner, "audit", "--help").stdout
    assert "95% interval" in " ".join(text.split()) and "%%" not in text


def test_compare_with_a_strategy_is_a_usage_error(runner):
    result = run(runner, "audit", "--compare", "--strategy", "gmm", "-n", "10")
    assert result.exit_code == 2 and "--compare runs every strategy; leave out --strategy" in result.stderr
