import json
import os
import subprocess
import sys

import click
import numpy as np
import pytest
from click.testing import CliRunner

from genval import build_space, load_dataset
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


def test_decode_and_grid_use_the_principal_plane_of_a_wider_space(runner, tmp_path):
    from genval import Autoencoder, load_dataset
    from genval.latent._plane import plane

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
