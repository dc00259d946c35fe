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
        assert command.help and command.help.split("\n")[0] in sub.output


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
