"""Every command's --json document against the JSON Schema shipped for it (genval/schemas/)."""

import json
from importlib.resources import files

import click
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from genval.cli.main import COMMANDS, cli

SCHEMAS = {p.name[:-5]: json.loads(p.read_text()) for p in files("genval").joinpath("schemas").iterdir()
           if p.name.endswith(".json")}
REGISTRY = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s in SCHEMAS.values()])

# Each schema with the commands that must satisfy it: cheap settings, every branch that changes the document.
CASES = {
    "show": [["show", "emojis"], ["show", "digits", "--limit", "3"]],
    "train": [["train", "--epochs", "5"], ["train", "--vae", "--epochs", "5", "--validation-fraction", "0.2"]],
    "som": [["som", "--grid", "3x3"], ["som", "--dataset", "digits", "--grid", "2x2", "--iterations", "50"]],
    "interpolate": [["interpolate", ":)", ":(", "--grid", "3x3", "--steps", "4"],
                    ["interpolate", ":)", ":(", "--path", "som", "--grid", "3x3"]],
    "decode": [["decode", "0", "0"], ["decode", "5", "5", "--dataset", "font"]],
    "sample": [["sample", "-n", "4"], ["sample", "-n", "3", "--method", "neuron", "--neuron", "1", "--grid", "2x2"]],
    "grid": [["grid", "--size", "3"]],
    "regions": [["regions", "--max-side", "64"]],
    "audit": [["audit", "-n", "200", "--grid", "3x3"], ["audit", "-n", "50", "--strategy", "copycat"]],
    "audit-compare": [["audit", "--compare", "-n", "100", "--grid", "3x3"],
                      ["audit", "--strategy", "prior", "--repeats", "2", "-n", "100", "--grid", "3x3"]],
    "audit-samples": [],  # needs a file: tests/test_audit_samples.py
    "denoise": [["denoise", "--trials", "2", "--epochs", "20", "--levels", "0.1"]],
    "sweep": [],  # needs a file: test_sweep_json_matches_its_schema
    "explore": [],  # writes a page: test_explore_grey_walks.py::test_explore_json_is_one_document_that_matches_its_schema
    "cache-list": [["cache", "list"]],
    "cache-clear": [["cache", "clear"], ["cache", "clear", "--dataset", "font"]],
}


def validator(name):
    return Draft202012Validator(SCHEMAS[name], registry=REGISTRY)


def test_every_schema_is_a_valid_schema_and_every_json_command_has_one():
    for name, schema in SCHEMAS.items():
        Draft202012Validator.check_schema(schema)
        assert schema["$id"].endswith(f"/{name}.json") and schema["description"]
    assert set(SCHEMAS) == set(CASES)
    with_json = set()
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        subcommands = command.commands.items() if isinstance(command, click.Group) else [(None, command)]
        with_json |= {(name, sub) for sub, c in subcommands if any(p.name == "as_json" for p in c.params)}
    covered = {(args[0], args[1] if args[0] == "cache" else None) for cases in CASES.values() for args in cases}
    assert with_json <= covered | {("sweep", None), ("explore", None)}


@pytest.mark.parametrize("name, args", [(name, args) for name, cases in CASES.items() for args in cases])
def test_json_matches_its_schema(name, args):
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(name).iter_errors(json.loads(result.stdout))]
    assert errors == []


def test_sweep_json_matches_its_schema(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text('dataset = "font"\n[fixed]\nepochs = 10\n[grid]\nhidden = [[10], [12, 6]]\n'
                      'learning_rate = [0.004, 1e6]\n')
    result = CliRunner().invoke(cli, ["sweep", str(config), "--out", str(tmp_path / "r.csv"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(validator("sweep").iter_errors(doc)) == []
    assert doc["summary"][0]["settings"] == {"hidden": [10], "learning_rate": 0.004}


def test_the_schemas_catch_a_broken_document():
    doc = json.loads(CliRunner().invoke(cli, ["decode", "0", "0", "--json"]).stdout)
    check = validator("decode")
    assert check.is_valid(doc)
    for broken in ({**doc, "seed": "0"}, {**doc, "neuron": {"index": 1, "row": 0, "col": 0}},
                   {**doc, "model": "default"}, {k: v for k, v in doc.items() if k != "valid"}, {**doc, "extra": 1}):
        assert not check.is_valid(broken)


def test_json_with_a_saved_map_matches_the_schemas(tmp_path):
    runner = CliRunner()
    path = str(tmp_path / "map.npz")
    made = runner.invoke(cli, ["som", "--grid", "3x3", "--out", path, "--json"])
    assert made.exit_code == 0, made.output
    cases = {"som": [["som", "--map", path]], "interpolate": [["interpolate", ":)", ":(", "--steps", "3", "--map", path]],
             "decode": [["decode", "0", "0", "--map", path]], "sample": [["sample", "-n", "3", "--map", path]],
             "audit": [["audit", "-n", "100", "--map", path]],
             "audit-compare": [["audit", "--compare", "--vae", "-n", "100", "--map", path]]}
    for name, runs in cases.items():
        for args in [*runs, *([["som", "--grid", "3x3", "--out", path]] if name == "som" else [])]:
            result = runner.invoke(cli, [*args, "--json"])
            assert result.exit_code == 0, result.output
            doc = json.loads(result.stdout)
            assert list(validator(name).iter_errors(doc)) == [], args
            assert (doc.get("map") or doc["maps"]["autoencoder"])["file"] == path


def test_the_schemas_require_the_map_and_each_samples_neuron_facts():
    doc = json.loads(CliRunner().invoke(cli, ["sample", "-n", "2", "--json"]).stdout)
    check = validator("sample")
    assert check.is_valid(doc)
    sample = doc["samples"][0]
    for broken in ({k: v for k, v in doc.items() if k != "map"}, {**doc, "map": {**doc["map"], "grid": [3]}},
                   {**doc, "samples": [{k: v for k, v in sample.items() if k != "occupied"}]},
                   {**doc, "samples": [{**sample, "som_distance": -1.0}]}):
        assert not check.is_valid(broken)
