import csv
import inspect
import json
import statistics
import sys

import pytest

from genval import Autoencoder
from genval.errors import ParameterError
from genval.experiments._sweep_file import bundled_sweeps, load_sweep, parse_sweep
from genval.experiments._sweep_run import read_runs, run_sweep
from genval.experiments._sweep_settings import COLUMNS, DEFAULTS, OLD_KEYS, SETTINGS, SweepConfigError
from genval.experiments._sweep_summary import summarize

SMALL = """
title = "small"
dataset = "emojis"
[fixed]
epochs = 60
[grid]
hidden = [[8], [6, 4]]
random_state = [0, 1]
"""
# Two runs diverge (a learning rate of 1000 for plain gradient descent), the others learn (at 1.0 they stall).
DIVERGING = """
dataset = "emojis"
[fixed]
epochs = 40
optimizer = "gd"
[grid]
learning_rate = [5.0, 1000.0]
random_state = [0, 1]
"""


# Shipped sweeps of a set genval does not ship (Fashion-MNIST), tried on a bundled one.
OWN_DATA = {"seed004-fashion": "digits"}
FINISHED = ("ok", "stalled")  # a run that trained to the end (SMALL's short runs: some learn, some stall)


def timeless(rows):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def test_shipped_sweeps_are_valid_and_cover_the_course():
    names = bundled_sweeps()
    assert {"architectures", "optimizers", "minibatch", "seed000-activations", "generalisation", "noise",
            "noise-sets", "slow-rate", "denoiser-rate", "seed004-fashion"} <= set(names)
    arch = load_sweep("architectures")
    assert len(arch.runs) == 24 and {r["epochs"] for r in arch.runs} == {10_000}
    assert [r["hidden"] for r in arch.runs[::3]] == [[64, 16], [30, 20], [16], [64, 32, 16], [32], [32, 8],
                                                     [30, 24], [64]]
    optimizers = {(r["optimizer"], str(r["optimizer_options"])) for r in load_sweep("optimizers").runs}
    assert optimizers == {("gd", "{}"), ("momentum", "{'momentum': 0.7}"), ("adaptive", "{}"),
                          ("adaptive", "{'momentum': 0.7}")}
    # seed 000's values; the earlier name loads the renamed file
    assert {(r["activation"], r["activation_param"]) for r in load_sweep("seed000-activations").runs} == {
        ("tanh", 2.0), ("elu", 0.1), ("leaky_relu", 0.01)}
    assert load_sweep("activations").runs == load_sweep("seed000-activations").runs
    assert {r["train_size"] for r in load_sweep("generalisation").runs} == {4, 8, 16, 32}
    assert {(r["batch_size"], r["optimizer"]) for r in load_sweep("minibatch").runs} >= {(5, "adaptive"),
                                                                                         (10, "adaptive")}
    fashion = load_sweep("seed004-fashion", dataset="digits")
    assert {(r["n_latent"], r["optimizer"], r["learning_rate"]) for r in fashion.runs} == {
        (h, o, lr) for h in (64, 128, 256, 512) for o, lr in (("gd", 0.1), ("adam", 0.001))}
    assert {(str(r["hidden"]), r["code_activation"], r["dropout"], r["batch_size"], r["epochs"])
            for r in fashion.runs} == {("[]", "relu", 0.1, 1000, 100)}
    noise = load_sweep("noise")
    assert {r["noise_level"] for r in noise.runs} == {0.1, 0.15, 0.2}
    assert len({str(r["hidden"]) for r in noise.runs}) == 3
    sets = load_sweep("noise-sets")
    assert {str(r["noise_levels"]) for r in sets.runs} == {"[0.2]", "[0.1, 0.15, 0.2]", "[0.0, 0.1, 0.15, 0.2]"}
    assert {r["noise_level"] for r in sets.runs} == {0.0, 0.1, 0.15, 0.2}
    slow = load_sweep("slow-rate")
    assert {r["learning_rate"] for r in slow.runs} == {0.0005} and len({str(r["hidden"]) for r in slow.runs}) == 3
    rate = load_sweep("denoiser-rate")
    assert len({r["learning_rate"] for r in rate.runs}) == 3 and {r["random_state"] for r in rate.runs} == {0, 1, 2}
    assert all(set(load_sweep(name, dataset=OWN_DATA.get(name)).keys) <= set(SETTINGS) for name in names)


def test_every_shipped_sweep_runs_to_the_end_in_a_tiny_version(tmp_path):
    # Three epochs and one seed: what the full tables do, minus the time (run by hand, they finish too).
    for name in bundled_sweeps():
        sweep = load_sweep(name, override={"epochs": 3, "random_state": 0}, dataset=OWN_DATA.get(name))
        rows = run_sweep(sweep, tmp_path / f"{name}.csv", n_jobs=1)
        assert len(rows) == len(sweep.runs) > 1, name
        assert all(r["status"] in ("ok", "stalled") or r["status"].startswith("diverged at epoch ") for r in rows), name


def test_settings_carry_the_estimators_names_and_defaults():
    params = inspect.signature(Autoencoder).parameters
    assert set(params) <= set(SETTINGS)  # every estimator parameter can be swept
    own = {"vae", "beta", "momentum", "noise_level", "test_copies", "train_size"}
    assert set(SETTINGS) - own == set(params)
    assert {k: DEFAULTS[k] for k in params} == {
        k: list(params[k].default) if isinstance(params[k].default, tuple) else params[k].default for k in params}
    # "noise" was the level's old name and is the estimator's noise kind: a kind is a string, a level a number.
    assert set(OLD_KEYS.values()) <= set(SETTINGS) and set(OLD_KEYS) & set(SETTINGS) == {"noise"}
    assert parse_sweep("[fixed]\nnoise = 0.1\nnoise_levels = [0.2]\n").runs[0]["noise_level"] == 0.1
    assert [r["noise"] for r in parse_sweep("[grid]\nnoise = ['flip', 'gaussian']\n").runs] == ["flip", "gaussian"]


def test_files_with_the_old_keys_load_as_the_new_ones():
    new = parse_sweep("[fixed]\nn_latent = 3\nstop_wrong_pixels = 0\nnoise_level = 0.1\n[grid]\n"
                      "random_state = [0, 1]\n", "new.toml")
    old = parse_sweep("[fixed]\nlatent = 3\nstop_wrong = 0\nnoise = 0.1\n[grid]\nseed = [0, 1]\n", "old.toml")
    assert old.runs == new.runs and old.keys == new.keys == ("random_state",)
    assert old.runs[1]["n_latent"] == 3 and old.runs[1]["random_state"] == 1 and old.runs[1]["noise_level"] == 0.1
    with pytest.raises(SweepConfigError, match=r"\[fixed\] has both 'seed' and 'random_state', two names of one "
                                               r"setting; keep 'random_state'"):
        parse_sweep("[fixed]\nseed = 1\nrandom_state = 2\n", "both.toml")


def test_a_csv_of_an_earlier_genval_resumes(tmp_path):
    sweep = parse_sweep(SMALL, "small.toml")
    out = tmp_path / "small.csv"
    rows = run_sweep(sweep, out)
    # The CSV as the earlier genval wrote it: its columns only, old names, old names inside the run keys.
    earlier = ["hidden", "latent", "activation", "activation_param", "optimizer", "learning_rate", "momentum",
               "batch_size", "epochs", "loss", "stop_wrong", "noise", "train_size", "seed"]
    results = ["final_loss", "epochs_run", "perfect", "within_one", "scored", "seconds"]
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["run", *earlier, *results])
        old_name = {new: old for old, new in OLD_KEYS.items()}
        for row, run in zip(rows[:2], sweep.runs):  # interrupted after two runs
            settings = {old_name.get(k, k): v for k, v in run.items()}
            key = json.dumps({k: settings[k] for k in earlier}, sort_keys=True, separators=(",", ":"))
            writer.writerow([key, *(row[OLD_KEYS.get(k, k)] for k in earlier), *(row[k] for k in results)])
    seen = []
    again = run_sweep(sweep, out, lambda done, total, settings, status: seen.append(status))
    assert seen == [None, None, rows[2]["status"], rows[3]["status"]] and set(seen[2:]) <= set(FINISHED)
    assert timeless(again)[2:] == timeless(rows)[2:] and [r["final_loss"] for r in again] == [
        r["final_loss"] for r in rows]
    assert again[0]["status"] == "ok" and again[0]["wrong_pixels"] == ""  # not measured then
    assert out.read_text().splitlines()[0] == ",".join(COLUMNS)  # rewritten under today's names


def test_runs_rows_and_resume(tmp_path):
    sweep = parse_sweep(SMALL, "small.toml")
    out = tmp_path / "small.csv"
    seen = []
    rows = run_sweep(sweep, out, lambda done, total, settings, status: seen.append(status))
    assert seen == [r["status"] for r in rows] and set(seen) <= set(FINISHED) and len(rows) == 4
    with out.open() as fh:
        written = list(csv.DictReader(fh))
    assert written == rows
    assert [r["hidden"] for r in written] == ["8", "8", "6-4", "6-4"]
    assert [r["random_state"] for r in written] == ["0", "1", "0", "1"]
    assert all(r["epochs_run"] == "60" and r["scored"] == "17" and 0 <= int(r["perfect"]) <= 17 for r in written)
    assert all(int(r["perfect"]) <= int(r["within_one"]) and int(r["wrong_pixels"]) >= 17 - int(r["perfect"])
               for r in written)
    # Interrupted after two runs: the rerun does only the other two.
    text = out.read_text().splitlines()
    out.write_text("\n".join(text[:3]) + "\n")
    seen.clear()
    again = run_sweep(sweep, out, lambda done, total, settings, status: seen.append(status))
    assert seen == [None, None, rows[2]["status"], rows[3]["status"]]
    assert timeless(again) == timeless(rows)  # same seeds, same results


def test_a_cut_off_last_row_is_redone(tmp_path):
    sweep = parse_sweep(SMALL, "small.toml")
    out = tmp_path / "small.csv"
    rows = run_sweep(sweep, out)
    text = out.read_text()
    out.write_text(text[:-7])  # the last row lost its end (seconds, and the newline)
    assert len(read_runs(out)) == 3
    seen = []
    again = run_sweep(sweep, out, lambda done, total, settings, status: seen.append(status))
    assert seen == [None, None, None, rows[3]["status"]] and timeless(again) == timeless(rows)
    lines = text.splitlines()
    out.write_text("\n".join([*lines[:2], "damaged,row", *lines[3:]]) + "\n")  # a damaged row inside
    with pytest.raises(SweepConfigError, match=rf"{out.name}: line 3: expected {len(COLUMNS)} fields, got 2$"):
        read_runs(out)


def test_a_sweep_file_changed_since_the_csv_is_named(tmp_path):
    out = tmp_path / "small.csv"
    run_sweep(parse_sweep(SMALL, "small.toml"), out)
    changed = parse_sweep(SMALL.replace("epochs = 60", "epochs = 80"), "small.toml")
    with pytest.raises(SweepConfigError, match=rf"{out.name}: has runs with epochs = '60', but small.toml has "
                                               r"'80'; the sweep file changed since the CSV was written"):
        run_sweep(changed, out)
    other = parse_sweep(SMALL.replace('"emojis"', '"font"'), "small.toml")
    with pytest.raises(SweepConfigError, match=r"written for dataset 'emojis', but small.toml has 'font'"):
        run_sweep(other, out)
    grown = parse_sweep(SMALL.replace("[0, 1]", "[0, 1, 2]"), "small.toml")  # more seeds: resumes
    assert len(run_sweep(grown, out)) == 6


def test_a_diverging_run_is_a_row_and_the_sweep_goes_on(tmp_path):
    sweep = parse_sweep(DIVERGING, "d.toml")
    rows = run_sweep(sweep, tmp_path / "d.csv")
    assert [r["status"] for r in rows[:2]] == ["ok", "ok"]
    assert all(r["status"].startswith("diverged at epoch ") for r in rows[2:])
    epoch = int(rows[2]["status"].rsplit(" ", 1)[1])
    assert rows[2]["status"] == f"diverged at epoch {epoch}" and rows[2]["epochs_run"] == str(epoch)
    assert rows[2]["final_loss"] == rows[2]["perfect"] == ""
    summary = summarize(rows, sweep.axes)
    assert [(e["runs"], e["ok"], e["diverged"], e["failed"]) for e in summary] == [(2, 2, 0, 0), (2, 0, 2, 0)]
    assert summary[1]["final_loss"] is None and summary[1]["values"]["final_loss"] == []


def test_a_run_that_fails_otherwise_is_a_row_with_its_error(tmp_path, monkeypatch):
    import genval.experiments._sweep_worker as sweep

    real = sweep.grey_levels

    def broken(model, X, T=None):
        if model.n_latent == 3:
            raise MemoryError("out of memory")
        return real(model, X, T)

    monkeypatch.setattr(sweep, "grey_levels", broken)
    text = 'dataset = "emojis"\n[fixed]\nepochs = 5\n[grid]\nn_latent = [2, 3]\n'
    rows = run_sweep(parse_sweep(text), tmp_path / "f.csv")
    # five epochs leave the loss where it started: the run that finishes has stalled
    assert [r["status"] for r in rows] == ["stalled", "MemoryError: out of memory"]
    assert [(e["ok"], e["stalled"], e["failed"]) for e in summarize(rows)] == [(0, 1, 0), (0, 0, 1)]


def test_summary_is_mean_and_spread_over_seeds(tmp_path):
    sweep = parse_sweep(SMALL, "small.toml")
    rows = run_sweep(sweep, tmp_path / "s.csv")
    summary = summarize(rows, sweep.axes)
    assert [e["settings"] for e in summary] == [{"hidden": "8"}, {"hidden": "6-4"}]
    losses = [float(r["final_loss"]) for r in rows[:2]]
    assert summary[0]["final_loss"] == pytest.approx((statistics.fmean(losses), statistics.stdev(losses)))
    assert summary[0]["runs"] == summary[0]["ok"] + summary[0]["stalled"] == 2
    assert summary[0]["values"]["final_loss"] == losses
    # From the CSV alone (genval sweep --report): the same summary.
    assert summarize(read_runs(tmp_path / "s.csv")) == summary


def test_paired_keys_vary_together_and_a_list_of_levels_is_one_value(tmp_path):
    text = """
dataset = "emojis"
[fixed]
epochs = 20
[grid]
noise_levels = [[0.1], [0.0, 0.1, 0.2]]
[grid.architecture]
hidden = [[8], [6, 4]]
n_latent = [2, 3]
[grid.optimizer]
optimizer = ["adam", "adaptive"]
optimizer_options = [{}, {momentum = 0.5, patience = 3}]
"""
    sweep = parse_sweep(text, "p.toml")
    assert sweep.axes == (("noise_levels",), ("hidden", "n_latent"), ("optimizer", "optimizer_options"))
    assert [(r["noise_levels"], r["hidden"], r["n_latent"], r["optimizer"]) for r in sweep.runs[:4]] == [
        ([0.1], [8], 2, "adam"), ([0.1], [8], 2, "adaptive"), ([0.1], [6, 4], 3, "adam"),
        ([0.1], [6, 4], 3, "adaptive")]
    assert len(sweep.runs) == 8
    rows = run_sweep(sweep, tmp_path / "p.csv")
    assert [r["noise_levels"] for r in rows[::4]] == ["0.1", "0.0-0.1-0.2"]
    assert rows[1]["optimizer_options"] == "momentum=0.5 patience=3" and rows[0]["optimizer_options"] == ""
    assert all(r["status"] in FINISHED for r in rows)
    summary = summarize(read_runs(tmp_path / "p.csv"))  # the CSV alone finds the pairs again
    assert summary[0]["axes"] == (("hidden", "n_latent"), ("optimizer", "optimizer_options"), ("noise_levels",))


def test_the_vae_its_beta_and_the_penalties_are_settings(tmp_path):
    text = ('dataset = "emojis"\n[fixed]\nepochs = 20\n[grid]\nvae = [false, true]\n'
            'contractive = [0.0, 0.01]\n')
    sweep = parse_sweep(text)
    rows = run_sweep(sweep, tmp_path / "v.csv")
    assert [(r["vae"], r["contractive"]) for r in rows] == [
        ("false", "0.0"), ("false", "0.01"), ("true", "0.0"), ("true", "0.01")]
    assert all(r["status"] in FINISHED for r in rows)
    assert rows[0]["final_loss"] != rows[2]["final_loss"]
    with pytest.raises(SweepConfigError, match=r"code_activation is a setting of the plain autoencoder, not of "
                                               r"the VAE"):
        parse_sweep("[fixed]\nvae = true\ncode_activation = 'relu'\n")
    beta = parse_sweep('dataset = "emojis"\n[fixed]\nvae = true\n[grid]\nbeta = [0.1, 2.0]\nactivity_l1 = [0.001]\n')
    assert [r["beta"] for r in beta.runs] == [0.1, 2.0] and beta.runs[0]["activity_l1"] == 0.001


def test_parallel_runs_give_the_serial_csv(tmp_path):
    sweep = parse_sweep(SMALL + "\n", "small.toml")
    serial = run_sweep(sweep, tmp_path / "serial.csv", n_jobs=1)
    parallel = run_sweep(sweep, tmp_path / "parallel.csv", n_jobs=2)
    assert timeless(parallel) == timeless(serial)  # grid order, same results
    assert timeless(read_runs(tmp_path / "parallel.csv")) == timeless(serial)


def test_a_dask_cluster_gives_the_serial_csv(tmp_path):
    distributed = pytest.importorskip("distributed")
    sweep = parse_sweep(SMALL, "small.toml")
    serial = run_sweep(sweep, tmp_path / "serial.csv")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl:
        on_cluster = run_sweep(sweep, tmp_path / "cluster.csv", scheduler=cl.scheduler_address)
    assert timeless(on_cluster) == timeless(serial)
    # the runs' curves come back from the workers too (in the order the runs finished)
    curves = [sorted((tmp_path / f"{name}.curves.csv").read_text().splitlines()) for name in ("serial", "cluster")]
    assert curves[0] == curves[1] and len(curves[0]) == 1 + 4 * 60


def test_without_distributed_the_scheduler_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
    with pytest.raises(ParameterError, match=r"needs the distributed package: pip install 'genval\[dask\]'"):
        run_sweep(parse_sweep(SMALL), tmp_path / "x.csv", scheduler="tcp://127.0.0.1:8786")


def test_dropout_is_a_setting_when_the_estimator_has_it(tmp_path):
    if "dropout" not in Autoencoder().get_params():
        pytest.skip("this Autoencoder has no dropout")
    sweep = parse_sweep('dataset = "emojis"\n[fixed]\nepochs = 30\n[grid]\ndropout = [0.0, 0.2]\n')
    rows = run_sweep(sweep, tmp_path / "drop.csv")
    assert [r["dropout"] for r in rows] == ["0.0", "0.2"] and all(r["status"] in FINISHED for r in rows)
    assert rows[0]["final_loss"] != rows[1]["final_loss"]
    with pytest.raises(SweepConfigError, match=r"run dropout=1.5: dropout must be"):
        parse_sweep("[grid]\ndropout = [1.5]\n")


def test_an_interrupted_parallel_sweep_keeps_its_finished_runs_and_resumes(tmp_path):
    sweep = parse_sweep(SMALL, "small.toml")
    serial = run_sweep(sweep, tmp_path / "serial.csv")
    out = tmp_path / "parallel.csv"

    def stop_after_two(done, total, settings, status):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, out, stop_after_two, n_jobs=2)
    kept = read_runs(out)
    assert len(kept) >= 2 and all(row in timeless(serial) for row in timeless(kept))  # finished runs, grid order
    assert timeless(kept) == [row for row in timeless(serial) if row in timeless(kept)]
    seen = []
    again = run_sweep(sweep, out, lambda done, total, settings, status: seen.append(status))
    assert seen.count(None) == len(kept) and timeless(again) == timeless(serial)
    curves = [sorted((tmp_path / f"{name}.curves.csv").read_text().splitlines()) for name in ("serial", "parallel")]
    assert curves[0] == curves[1]  # every run's curve once
