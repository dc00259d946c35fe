"""`genval train`, `denoise` and `sweep`: grey-level figures, stalled runs, --set, the penalties' options."""

import csv
import json

from genval import Autoencoder, load_dataset
from genval.experiments._sweep_file import parse_sweep
from genval.experiments._sweep_run import run_sweep
from genval.experiments._sweep_settings import model_for
from genval.models._reconstruction import grey_levels
import test_cli
from test_cli import run
from test_schemas import validator

runner = test_cli.runner  # the fixture

SWEEP = 'dataset = "emojis"\n[fixed]\nepochs = 40\n[grid]\nn_latent = [2, 3]\nrandom_state = [0, 1]\n'


def test_train_warns_of_a_stalled_run_and_not_of_one_that_learns(runner):
    stalled = run(runner, "train", "--dataset", "font", "--learning-rate", "1e-6", "--epochs", "5", "--json")
    assert stalled.exit_code == 0
    warning = [line for line in stalled.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warning) == 1 and warning[0].startswith("warning: training stalled: the final loss 0.69")
    assert json.loads(stalled.stdout)["stalled"] == warning[0].removeprefix("warning: ")
    learnt = run(runner, "train", "--dataset", "font", "--epochs", "300", "--random-state", "1", "--json")
    doc = json.loads(learnt.stdout)
    assert "warning" not in learnt.stderr and doc["stalled"] is None
    assert 0 < doc["mse"] < 0.1 and doc["psnr"] > 10 and 0.5 < doc["within_tolerance"] <= 1
    assert "L - F >= 0.9 (L0 - F)" in " ".join(run(runner, "train", "--help").stdout.split())


def test_train_takes_the_penalties_and_the_tolerance(runner):
    args = ("train", "--dataset", "emojis", "--epochs", "50", "--json")
    plain = json.loads(run(runner, *args).stdout)
    penalised = json.loads(run(runner, *args, "--activity-l1", "0.01", "--contractive", "0.1").stdout)
    assert (penalised["params"]["activity_l1"], penalised["params"]["contractive"]) == (0.01, 0.1)
    model = Autoencoder(epochs=50, activity_l1=0.01, contractive=0.1).fit(load_dataset("emojis").X)
    assert penalised["final_loss"] == model.loss_curve_[-1] != plain["final_loss"]
    loose = json.loads(run(runner, *args, "--tolerance", "1").stdout)
    assert (loose["tolerance"], loose["within_tolerance"]) == (1.0, 1.0)
    bad = run(runner, "train", "--contractive", "-1")
    assert bad.exit_code == 2 and "Invalid value for '--contractive': -1.0 is not in the range x>=0" in bad.stderr
    help_text = run(runner, "train", "--help").stdout
    assert "--activity-l1 0.001" in help_text and "--contractive 0.01" in help_text


def test_sweep_set_replaces_settings_without_editing_the_file(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text(SWEEP)
    result = run(runner, "sweep", "tiny.toml", "--set", "epochs=30", "--set", "random_state=0",
                 "--set", "optimizer=adaptive", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["runs"] == 2 and doc["csv"] == "tiny+epochs=30+random_state=0+optimizer=adaptive.csv"
    rows = list(csv.DictReader(open(doc["csv"])))
    assert [(r["epochs"], r["random_state"], r["optimizer"], r["n_latent"]) for r in rows] == [
        ("30", "0", "adaptive", "2"), ("30", "0", "adaptive", "3")]
    listed = run(runner, "sweep", "tiny.toml", "--set", "hidden=[4]", "--set", "epochs=2", "--set", "n_latent=2",
                 "--out", "h.csv", "--json")
    assert json.loads(listed.stdout)["runs"] == 2 and {r["hidden"] for r in csv.DictReader(open("h.csv"))} == {"4"}
    checked = run(runner, "sweep", "tiny.toml", "--set", "epochs=0")
    assert checked.exit_code == 1 and "epochs must be an integer >= 1, got 0" in checked.stderr
    unknown = run(runner, "sweep", "tiny.toml", "--set", "epoch=3")
    assert unknown.exit_code == 1 and "unknown key 'epoch'" in unknown.stderr
    for bad, says in (("epochs", "'epochs' is not KEY=VALUE, e.g. epochs=200"),
                      ("hidden=[4", "'[4' is not a TOML value"), ("epochs=1", "epochs is set twice")):
        usage = run(runner, "sweep", "tiny.toml", "--set", bad, *(["--set", "epochs=2"] if "twice" in says else []))
        assert usage.exit_code == 2 and says in usage.stderr, usage.stderr
    report = run(runner, "sweep", "--report", "h.csv", "--set", "epochs=2")
    assert report.exit_code == 2 and "--set changes a sweep's settings" in report.stderr


def test_sweep_rows_hold_the_validation_loss_and_grey_levels_of_their_model(tmp_path):
    text = 'dataset = "emojis"\n[fixed]\nepochs = 60\nvalidation_fraction = 0.25\n[grid]\nn_latent = [2, 3]\n'
    sweep = parse_sweep(text)
    rows = run_sweep(sweep, tmp_path / "v.csv")
    X = load_dataset("emojis").X
    for row, settings in zip(rows, sweep.runs):
        model = model_for(settings).fit(X)
        grey = grey_levels(model, X)[1]
        assert float(row["validation_loss"]) == model.validation_loss_curve_[-1]
        assert (float(row["mse"]), float(row["psnr"]), float(row["within_tolerance"])) == (
            grey.mse, grey.psnr, grey.within_tolerance)
    plain = run_sweep(parse_sweep(text.replace("validation_fraction = 0.25\n", "")), tmp_path / "p.csv")
    assert {r["validation_loss"] for r in plain} == {""}


def test_a_perfect_run_has_an_infinite_psnr_null_in_json(runner, tmp_path):
    out = tmp_path / "tiny.csv"
    (tmp_path / "tiny.toml").write_text(SWEEP)
    first = json.loads(run(runner, "sweep", str(tmp_path / "tiny.toml"), "--out", str(out), "--json").stdout)
    assert first["status"]["stalled"] + first["status"]["ok"] == 4
    assert sum(e["stalled"] for e in first["summary"]) == first["status"]["stalled"]
    rows = list(csv.DictReader(out.open()))
    rows[0]["psnr"] = "inf"  # as a run with an MSE of 0 writes it
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    doc = json.loads(run(runner, "sweep", "--report", str(out), "--json").stdout)
    assert doc["summary"][0]["psnr"] == {"mean": None, "spread": None}
    assert list(validator("sweep").iter_errors(doc)) == []
    assert doc["summary"][1]["psnr"] == first["summary"][1]["psnr"] and doc["summary"][1]["psnr"]["mean"] > 0
    text = run(runner, "sweep", "--report", str(out)).stdout
    assert "inf ± nan" in text


def test_a_stalled_training_is_warned_of_under_quiet_and_named_in_denoise_json(runner):
    quiet = run(runner, "train", "--dataset", "font", "--learning-rate", "1e-6", "--epochs", "5", "--json", "-q")
    assert [line[:32] for line in quiet.stderr.splitlines()] == ["warning: training stalled: the f"]
    denoised = run(runner, "denoise", "--dataset", "font", "--epochs", "5", "--levels", "0.1", "--trials", "2",
                   "--json", "-q")
    assert denoised.exit_code == 0, denoised.output
    doc = json.loads(denoised.stdout)
    assert doc["stalled"].startswith("training stalled: the final loss")
    assert denoised.stderr.strip() == "warning: " + doc["stalled"]
    assert list(validator("denoise").iter_errors(doc)) == []
    cached = json.loads(run(runner, "denoise", "--dataset", "font", "--epochs", "5", "--levels", "0.1", "--trials",
                            "2", "--json", "-q").stdout)
    assert cached["model"]["cached"] and cached["stalled"] is None
