"""The pictures the CLI draws, end to end through CliRunner: what is written, and what is refused before any work."""

import json

import pytest
from click.testing import CliRunner

from genval.cli.main import cli

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_train_recon_writes_the_reconstructions_and_keeps_the_json_document(runner, tmp_path):
    recon, loss = tmp_path / "font.png", tmp_path / "loss.png"
    result = run(runner, "train", "--dataset", "font", "--epochs", "5", "--recon", str(recon), "--plot", str(loss),
                 "--json")
    assert result.exit_code == 0, result.output
    assert recon.read_bytes()[:8] == PNG and loss.read_bytes()[:8] == PNG
    # the picture is recorded as --plot's is: a note on stderr, the JSON document on stdout unchanged
    assert f"wrote {recon}" in result.stderr.splitlines() and f"wrote {loss}" in result.stderr.splitlines()
    document = json.loads(result.stdout)
    assert len(document["items"]) == 32 and str(recon) not in result.stdout


def test_train_recon_writes_svg_by_its_suffix(runner, tmp_path):
    recon = tmp_path / "emojis.svg"
    result = run(runner, "train", "--epochs", "5", "--recon", str(recon), "--quiet")
    # 5 epochs stall: under --quiet that warning is all stderr holds
    assert result.exit_code == 0 and [line[:25] for line in result.stderr.splitlines()] == ["warning: training stalled"]
    text = recon.read_text()
    assert text.startswith("<?xml") and "<svg" in text
    assert "emojis: all 17 items, each original over its reconstruction" in text  # the title (a comment by its glyphs)


@pytest.mark.parametrize("name, message", [
    ("recon.gif", "'--recon': '{path}': name the picture .png, .svg or .pdf (its suffix is its format)"),
    ("recon", "'--recon': '{path}': name the picture .png, .svg or .pdf (its suffix is its format)"),
    ("missing/recon.png", "'--recon': cannot write {path}: the folder {folder} does not exist"),
])
def test_train_refuses_a_recon_file_before_training(runner, tmp_path, name, message):
    path, model = tmp_path / name, tmp_path / "model.npz"
    result = run(runner, "train", "--dataset", "font", "--out", str(model), "--recon", str(path))
    assert result.exit_code == 2
    assert message.format(path=path, folder=path.parent) in " ".join(result.stderr.split())
    assert "training on" not in result.stderr and not model.exists() and not path.exists()


def test_train_help_shows_recon_with_an_example(runner):
    help_text = run(runner, "train", "--help").stdout
    assert "--recon FILE.png" in help_text
    assert "genval train --dataset font --epochs 300 --recon font.png" in help_text


def test_som_view_codes_draws_the_codes_coloured_by_label(runner, tmp_path):
    picture, model = tmp_path / "codes.png", tmp_path / "digits.npz"
    digits = ("--dataset", "digits", "--limit", "200")
    assert run(runner, "train", *digits, "--epochs", "20", "--out", str(model), "--quiet").exit_code == 0
    result = run(runner, "som", *digits, "--model", str(model), "--grid", "2x2", "--plot", str(picture),
                 "--view", "codes")
    assert result.exit_code == 0, result.output
    assert picture.read_bytes()[:8] == PNG and f"wrote {picture}" in result.stderr.splitlines()
    assert "Neuron 4:" in result.stdout  # som's own report, as without --plot


def test_som_view_codes_refuses_a_background(runner, tmp_path):
    picture = tmp_path / "codes.png"
    result = run(runner, "som", "--plot", str(picture), "--view", "codes", "--background", "cells")
    assert result.exit_code == 2 and not picture.exists()
    assert "--background shades --view plane; the codes view has no background" in result.stderr


def test_som_help_shows_the_codes_view_with_an_example(runner):
    help_text = " ".join(run(runner, "som", "--help").stdout.split())
    assert "[plane|grid|codes]" in help_text
    assert "genval som --dataset digits --plot codes.png --view codes" in help_text
