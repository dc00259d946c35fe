"""`genval train`, `denoise` and `sweep`: reports, models written, sweep files and their CSV."""

import csv
import json
import os
import re
import sys


from genval import load_model
import test_cli
from test_cli import run

runner = test_cli.runner  # the fixture


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
    assert [line.split()[0] for line in lines[2:34]][:3] == ["`", "a", "b"] and len(lines) == 36
    perfect = sum(line.split()[1] == "0" for line in lines[2:34])
    assert lines[-2].startswith(f"perfect {perfect}/32, within one pixel ")
    assert re.fullmatch(r"grey levels: mean squared error [0-9.e-]+, PSNR [0-9.]+ dB, [0-9.]+% of pixels within 0.1",
                        lines[-1])
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
                                     "bound_within_one", "mse", "psnr", "tolerance", "within_tolerance", "noisy_mse"}
    assert doc["levels"][0]["samples"] == 160
    assert plot.read_bytes()[:4] == b"\x89PNG"
    alias = run(runner, "denoise", "--epochs", "100", "--trials", "5", "--noise", "0.1,0.2", "--json")
    assert json.loads(alias.stdout)["levels"] == doc["levels"]
    text = run(runner, "denoise", "--epochs", "50", "--trials", "2", "--levels", "0.1", "--train-noise", "0,0.3")
    lines = text.stdout.splitlines()
    assert "trained on flip noise 0, 0.3 for 50 epochs" in lines[0]
    assert lines[1].split()[:3] == ["level", "restored", "within"] and len(lines) == 5
    assert lines[3].split() == ["level", "mse", "noisy", "mse", "psnr", "within", "0.1"]


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
    # 40 epochs: one run learns, three stay near the mean model's loss
    assert lines[0].endswith("1 ok, 3 stalled, 0 diverged, 0 failed; mean ± spread over seeds of the ok and "
                             "stalled runs")
    assert lines[1].split()[:4] == ["n_latent", "runs", "ok", "final"]
    assert [line.split()[0] for line in lines[2:4]] == ["2", "3"]
    assert lines[4].split() == ["stalled", "validation", "loss", "mse", "psnr", "dB", "within", "0.1"]
    assert [line.split()[:2] for line in lines[5:]] == [["2", "2"], ["3", "1"]]
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
    assert doc["ran"] == 4 and doc["status"] == {"ok": 1, "diverged": 0, "failed": 0, "stalled": 3}

    def timeless(path):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(path.open())]

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

def test_train_takes_the_kl_sparsity_penalty(runner, tmp_path):
    out = tmp_path / "sparse.npz"
    result = run(runner, "train", "--dataset", "font", "--code-activation", "sigmoid", "--n-latent", "6",
                 "--sparsity-target", "0.05", "--sparsity-weight", "0.1", "--epochs", "40", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["params"]["sparsity_target"], doc["params"]["sparsity_weight"]) == (0.05, 0.1)
    model = load_model(out)  # the file keeps both, and the model trains the same again from them
    assert (model.sparsity_target, model.sparsity_weight, model.code_activation) == (0.05, 0.1, "sigmoid")
    assert doc["params"] == {k: list(v) if isinstance(v, tuple) else v for k, v in model.get_params().items()}
    assert doc["final_loss"] == model.loss_curve_[-1]
    for args, message in [
        (["--sparsity-weight", "0.1"], "Invalid value for --sparsity-weight: needs code activations in (0, 1): add "
                                       "--code-activation sigmoid (got --code-activation identity)"),
        (["--vae", "--sparsity-weight", "0.1"], "Invalid value for --sparsity-weight: a variational autoencoder's "
                                                "code is Gaussian, not in (0, 1); leave out --sparsity-weight"),
        (["--sparsity-target", "1"], "Invalid value for '--sparsity-target': 1.0 is not in the range 0<x<1."),
        (["--sparsity-weight", "-0.5"], "Invalid value for '--sparsity-weight': -0.5 is not in the range x>=0."),
    ]:
        refused = run(runner, "train", *args)
        assert refused.exit_code == 2 and refused.stderr.splitlines()[-1] == "Error: " + message, args
    help_text = run(runner, "train", "--help").stdout
    assert "--sparsity-target 0.05" in help_text and "--sparsity-weight 0.1" in help_text


def test_train_summarises_a_large_set_by_its_worst_items(runner):
    result = run(runner, "train", "--dataset", "digits", "--epochs", "3", "--batch-size", "512")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].startswith("wrong pixels per item: median ") and lines[1].endswith("the 10 worst items:")
    rows = [line.split() for line in lines[3:13]]
    assert len(rows) == 10 and [int(w) for _, w in rows] == sorted((int(w) for _, w in rows), reverse=True)
    assert lines[13].startswith("perfect ") and lines[13].endswith("/1797")
def test_train_draws_its_loss_curve(runner, tmp_path):
    picture = tmp_path / "loss.png"
    result = run(runner, "train", "--dataset", "font", "--epochs", "30", "--validation-fraction", "0.25",
                 "--plot", str(picture))
    assert result.exit_code == 0, result.output
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"wrote {picture}" in result.stderr
def test_train_momentum_goes_to_the_optimizer(runner):
    result = run(runner, "train", "--dataset", "font", "--optimizer", "adaptive", "--learning-rate", "1",
                 "--momentum", "0.7", "--epochs", "20", "--json")
    assert json.loads(result.stdout)["params"]["optimizer_options"] == {"momentum": 0.7}
    result = run(runner, "train", "--momentum", "0.7", "--epochs", "2")
    assert result.exit_code == 2 and "--momentum: takes --optimizer momentum or adaptive" in result.stderr
