import json

import pytest
from click.testing import CliRunner

from genval import load_model
from genval.cli.main import cli


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_every_command_has_help(runner):
    result = run(runner, "--help")
    assert result.exit_code == 0
    for name, command in cli.commands.items():
        sub = run(runner, name, "--help")
        assert sub.exit_code == 0, name
        assert command.help and command.help.split("\n")[0][:40] in sub.output


def test_train_json_report(runner, tmp_path):
    out = tmp_path / "m.npz"
    result = run(runner, "train", "--stop-wrong", "0", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["dataset"] == "emojis"
    assert doc["perfect"] == 17 and doc["within_one"] == 17
    assert doc["stopped_early"] is True and doc["epochs_run"] < 10_000
    assert doc["final_loss"] > 0 and doc["seconds"] > 0
    assert [i["name"] for i in doc["items"]][:3] == [":)", ":D", ":("]
    assert all(i["wrong_pixels"] == 0 for i in doc["items"])
    model = load_model(out)
    assert model.metadata_["shape"] == [7, 5] and model.metadata_["names"][0] == ":)"


def test_train_text_report(runner):
    result = run(runner, "train", "--dataset", "font", "--epochs", "300", "--seed", "1")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("font: 32 items, network 35-25-15-2-15-25-35, 300 epochs")
    assert lines[1].split() == ["item", "wrong", "pixels"]
    assert lines[2].split()[0] == "`"
    assert lines[-1].startswith("perfect ") and "/32, within one pixel " in lines[-1]


@pytest.mark.parametrize("args, message", [
    (["--hidden", "25,,15"], "Invalid value for '--hidden'"),
    (["--latent", "0"], "Invalid value for '--latent'"),
    (["--lr", "-1"], "Invalid value for '--lr'"),
    (["--optimizer", "sgd"], "Invalid value for '--optimizer'"),
])
def test_train_usage_errors(runner, args, message):
    result = run(runner, "train", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_library_errors_are_one_line(runner, tmp_path):
    result = run(runner, "train", "--dataset", "nope")
    assert result.exit_code == 1
    assert result.stderr == "Error: unknown dataset 'nope'; bundled sets are emojis, font, digits, or give a file path\n"
    bad = tmp_path / "bad.h"
    bad.write_text("int F[1][2] = {{0x1, 0xZZ}};\n")
    result = run(runner, "train", "--dataset", str(bad))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {bad}:1: expected a number, found '0xZZ'"
    result = run(runner, "train", "--epochs", "5", "--out", str(tmp_path / "no" / "m.npz"))
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert not (tmp_path / "no").exists()


def test_show(runner):
    result = run(runner, "show", "emojis", "--json")
    doc = json.loads(result.stdout)
    assert doc["shape"] == [7, 5] and doc["n_items"] == 17
    assert doc["items"][0] == {"name": ":)", "rows": [".....", ".#.#.", ".#.#.", ".....", "#...#", ".###.", "....."]}
    text = run(runner, "show", "font", "--limit", "3").stdout.splitlines()
    assert text[1].split() == ["`", "a", "b"]
    assert text[2].split() == ["..#..", ".....", "#...."]


EMOJIS = [":)", ":D", ":(", "D:", ":|", ":I", ":P", ":O", ";)", ":B", "c:", ":c", ":3", "3:", ":]", ":[", ";D"]


def test_som_text_lists_every_neuron_and_is_reproducible(runner):
    first = run(runner, "som", "--grid", "3x3")
    assert first.exit_code == 0, first.output
    assert "training its default model" in first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("3x3 rectangular map of 17 emojis codes")
    neuron_lines = lines[1:10]
    assert [line.split(":")[0] for line in neuron_lines] == [f"Neuron {k}" for k in range(1, 10)]
    items = [name for line in neuron_lines for name in line.split(": ", 1)[1:] for name in name.split()]
    assert sorted(items) == sorted(EMOJIS)
    assert lines[10].startswith("quantization error ") and lines[11].startswith("topographic error ")
    second = run(runner, "som", "--grid", "3x3")
    assert second.stdout == first.stdout
    assert "training" not in second.stderr


def test_som_json_schema(runner):
    doc = json.loads(run(runner, "som", "--grid", "2x3", "--topology", "hexagonal", "--json").stdout)
    assert doc["grid"] == [2, 3] and doc["topology"] == "hexagonal"
    assert [(n["row"], n["col"]) for n in doc["neurons"]] == [(r, c) for r in range(2) for c in range(3)]
    assert all(set(n) == {"row", "col", "items", "weight"} and len(n["weight"]) == 2 for n in doc["neurons"])
    assert sorted(i for n in doc["neurons"] for i in n["items"]) == sorted(EMOJIS)
    assert doc["quantization_error"] > 0 and 0 <= doc["topographic_error"] <= 1


def test_interpolate_json_schema_and_endpoints(runner):
    result = run(runner, "interpolate", ":]", ";D", "--steps", "10", "--grid", "3x3", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["from"] == ":]" and doc["to"] == ";D" and isinstance(doc["same_neuron"], bool)
    samples = doc["samples"]
    assert len(samples) == 10 and samples[0]["t"] == 0 and samples[-1]["t"] == 1
    assert set(samples[0]) == {"t", "z", "neuron", "rows", "nearest", "hamming"}
    # The default model reconstructs every emoji, so the ends are the items themselves.
    assert samples[0]["nearest"] == ":]" and samples[0]["hamming"] == 0
    assert samples[-1]["rows"] == [".....", ".#...", ".#.##", ".....", "#####", "#...#", ".###."]
    assert doc["path"][0] == samples[0]["neuron"]["index"] and doc["path"][-1] == samples[-1]["neuron"]["index"]


def test_interpolate_text_and_som_path(runner):
    result = run(runner, "interpolate", ":)", ":(", "--path", "som", "--steps", "6", "--grid", "3x3")
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0].startswith(":) -> :( along the SOM weights, 6 samples")
    assert out[1].startswith("same neuron: ")
    assert out[2].startswith("neuron path: ")
    table = out[out.index(next(line for line in out if line.strip().startswith("sample"))) + 1:]
    assert len(table) == 6 and table[0].split()[-2:] == [":)", "0"]


def test_decode_takes_negative_coordinates(runner):
    doc = json.loads(run(runner, "decode", "-1.5", "0.5", "--json").stdout)
    assert doc["z"] == [-1.5, 0.5] and len(doc["rows"]) == 7
    text = run(runner, "decode", "0", "0.5").stdout.splitlines()
    assert text[0].startswith("z = (0, 0.5): Neuron ") and len(text) == 8


def test_sample_json(runner):
    doc = json.loads(run(runner, "sample", "--n", "5", "--method", "gaussian", "--seed", "2", "--json").stdout)
    assert doc["method"] == "gaussian" and len(doc["samples"]) == 5
    again = json.loads(run(runner, "sample", "--n", "5", "--method", "gaussian", "--seed", "2", "--json").stdout)
    assert again == doc
    cell = json.loads(run(runner, "sample", "--grid", "3x3", "--method", "neuron", "--neuron", "2", "--json").stdout)
    assert {s["neuron"]["index"] for s in cell["samples"]} == {2}


@pytest.mark.parametrize("args", [
    ["som", "--grid", "3y3"], ["som", "--grid", "0x3"], ["interpolate", ":)", ":(", "--steps", "1"],
    ["sample", "--method", "neuron"], ["grid"], ["som", "--topology", "round"],
])
def test_map_usage_errors(runner, args):
    result = run(runner, *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_unknown_item_lists_the_known_ones(runner):
    result = run(runner, "interpolate", ":-)", ";D")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unknown item ':-)'; known items: :) :D :(")
    assert len(result.stderr.strip().splitlines()) == 1


def test_pictures_are_written(runner, tmp_path):
    for args in (["som", "--grid", "3x3", "--plot"], ["interpolate", ":)", ";D", "--plot"],
                 ["sample", "--n", "4", "--plot"], ["grid", "--size", "6", "--plot"]):
        path = tmp_path / f"{args[0]}.png"
        result = run(runner, *args, str(path))
        assert result.exit_code == 0, result.output
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = run(runner, "som", "--plot", str(tmp_path / "missing" / "x.png"))
    assert result.exit_code == 1 and "does not exist" in result.stderr


def test_model_option_and_size_mismatch(runner, tmp_path):
    from genval import Autoencoder, load_dataset

    path = tmp_path / "font.npz"
    assert run(runner, "train", "--dataset", "font", "--epochs", "50", "--out", str(path)).exit_code == 0
    doc = json.loads(run(runner, "som", "--model", str(path), "--dataset", "font", "--grid", "2x2", "--json").stdout)
    assert sum(len(n["items"]) for n in doc["neurons"]) == 32
    digits_model = tmp_path / "digits.npz"
    Autoencoder(epochs=2).fit(load_dataset("digits").X[:20]).save(digits_model)
    result = run(runner, "som", "--model", str(digits_model))
    assert result.exit_code == 1
    assert "the model expects 64 pixels per item but emojis has 35" in result.stderr
    result = run(runner, "som", "--model", str(tmp_path / "nope.npz"))
    assert result.exit_code == 1 and "no such model file" in result.stderr


def test_audit_json_is_reproducible_byte_for_byte(runner):
    args = ["audit", "--strategy", "random", "--n", "3000", "--seed", "0", "--grid", "3x3", "--json"]
    first = run(runner, *args)
    assert first.exit_code == 0, first.output
    assert run(runner, *args).stdout == first.stdout
    doc = json.loads(first.stdout)
    assert doc["counts"]["total"] == 3000
    assert set(doc) >= {"strategy", "counts", "ratios", "failures", "som_agreement", "ambiguity", "checks"}
    validity = doc["ratios"]["validity"]
    assert validity["value"] == validity["numerator"] / validity["denominator"]
    assert doc["checks"]["names"] == ["eyes", "mouth"]
    assert run(runner, *args[:-2], "1", "--json").stdout != first.stdout


def test_audit_text_outputs_and_min_validity(runner, tmp_path):
    paths = {k: tmp_path / f"a.{k}" for k in ("csv", "sheet.png", "plot.png")}
    result = run(runner, "audit", "--n", "800", "--grid", "3x3", "--csv", str(paths["csv"]),
                 "--sheet", str(paths["sheet.png"]), "--plot", str(paths["plot.png"]), "--min-validity", "0.01")
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0].startswith("audit 'random' of emojis")
    assert any(line.strip().startswith("valid ") and "= valid / total" in line for line in out)
    assert len(paths["csv"].read_text().splitlines()) == 801
    for key in ("sheet.png", "plot.png"):
        assert paths[key].read_bytes()[:4] == b"\x89PNG"
    below = run(runner, "audit", "--n", "800", "--grid", "3x3", "--min-validity", "0.999")
    assert below.exit_code == 3
    assert "is below --min-validity 0.999" in below.stderr


def test_audit_compare_table(runner):
    result = run(runner, "audit", "--compare", "--n", "1000", "--grid", "3x3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].split()[:5] == ["model", "strategy", "total", "valid", "validity"]
    assert [line.split()[1] for line in lines[2:7]] == ["random", "prior", "lines", "som-path", "grid"]
    assert lines[7].startswith("skipped") and lines[7].endswith("autoencoder vae-prior")
    doc = json.loads(run(runner, "audit", "--compare", "--n", "500", "--grid", "8x8", "--json").stdout)
    assert [d["strategy"] for d in doc["strategies"]] == ["random", "prior", "grid"]
    assert doc["skipped"] == ["autoencoder lines", "autoencoder som-path", "autoencoder vae-prior"]


@pytest.mark.parametrize("args, code, message", [
    (["--n", "0"], 2, "Invalid value for '--n'"),
    (["--strategy", "spiral"], 2, "Invalid value for '--strategy'"),
    (["--min-validity", "1.5"], 2, "Invalid value for '--min-validity'"),
    (["--compare", "--csv", "x.csv"], 2, "leave out --compare"),
])
def test_audit_usage_errors(runner, args, code, message):
    result = run(runner, "audit", *args)
    assert result.exit_code == code
    assert message in result.stderr


def test_audit_bad_input_is_one_line_and_writes_nothing(runner, tmp_path):
    rules = tmp_path / "bad.toml"
    rules.write_text("[[rule]]\nname = 'eyes'\nrows = [1, 9]\n")
    result = run(runner, "audit", "--rules", str(rules), "--n", "10")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {rules}: rule 'eyes': rows 1-9 outside the 7x5 grid (expected 1 <= first <= last <= 7)\n"
    missing = tmp_path / "nowhere" / "out.csv"
    result = run(runner, "audit", "--n", "10", "--csv", str(missing))
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]
    result = run(runner, "audit", "--strategy", "lines", "--grid", "8x8", "--n", "10")
    assert result.exit_code == 1
    assert "no two items share a neuron on the 8x8 map" in result.stderr


def test_audit_with_a_rule_file(runner, tmp_path):
    rules = tmp_path / "ink.toml"
    rules.write_text('title = "some ink"\n[generic]\nchecks = ["not_empty", "ink_range"]\n')
    doc = json.loads(run(runner, "audit", "--rules", str(rules), "--n", "300", "--json").stdout)
    assert doc["checks"] == {"title": "some ink", "names": ["not_empty", "ink_range"]}


def test_train_vae_and_denoiser(runner, tmp_path):
    path = tmp_path / "vae.npz"
    doc = json.loads(run(runner, "train", "--vae", "--beta", "0.1", "--out", str(path), "--json").stdout)
    assert doc["model_kind"] == "VariationalAutoencoder" and doc["perfect"] == 17
    assert json.loads(run(runner, "som", "--model", str(path), "--grid", "2x2", "--json").stdout)["grid"] == [2, 2]
    doc = json.loads(run(runner, "train", "--noise", "0,0.1", "--epochs", "50", "--json").stdout)
    assert doc["epochs_run"] == 50
    bad = run(runner, "train", "--noise", "0.1,x")
    assert bad.exit_code == 2 and "Invalid value for --noise" in bad.stderr


def test_audit_compare_with_a_vae(runner):
    result = run(runner, "audit", "--compare", "--vae", "--n", "500", "--grid", "3x3", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = [(d["model"], d["strategy"]) for d in doc["strategies"]]
    assert ("vae", "vae-prior") in rows and ("autoencoder", "random") in rows
    assert doc["skipped"] == ["autoencoder vae-prior"]
    assert run(runner, "audit", "--vae").exit_code == 2


def test_denoise_command(runner, tmp_path):
    plot = tmp_path / "d.png"
    result = run(runner, "denoise", "--epochs", "100", "--trials", "5", "--noise", "0.1,0.2", "--json",
                 "--plot", str(plot))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["dataset"] == "font" and [lv["level"] for lv in doc["levels"]] == [0.1, 0.2]
    assert set(doc["levels"][0]) == {"level", "samples", "restored", "within_one", "bound_restored",
                                     "bound_within_one"}
    assert doc["levels"][0]["samples"] == 160
    assert plot.read_bytes()[:4] == b"\x89PNG"
    text = run(runner, "denoise", "--epochs", "50", "--trials", "2", "--noise", "0.1").stdout.splitlines()
    assert text[1].split()[:3] == ["level", "restored", "within"]
    assert run(runner, "denoise", "--noise", "2").exit_code == 2


def test_sweep_command(runner, tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text('dataset = "emojis"\n[fixed]\nepochs = 40\n[grid]\nlatent = [2, 3]\nseed = [0, 1]\n')
    out = tmp_path / "tiny.csv"
    result = run(runner, "sweep", str(config), "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("tiny: 4 runs on emojis (4 run now, 0 already in")
    assert lines[1].split()[:3] == ["latent", "runs", "final"]
    assert [line.split()[0] for line in lines[2:]] == ["2", "3"]
    doc = json.loads(run(runner, "sweep", str(config), "--out", str(out), "--json").stdout)
    assert doc["ran"] == 0 and doc["skipped"] == 4 and len(doc["summary"]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid]\nepochs = []\n")
    result = run(runner, "sweep", str(bad))
    assert result.exit_code == 1 and "'epochs' must be a non-empty list" in result.stderr
