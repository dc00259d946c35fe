import csv
import inspect
import statistics

import pytest

from genval import Autoencoder
from genval.sweep import (
    DEFAULTS, OLD_KEYS, SETTINGS, SweepConfigError, bundled_sweeps, load_sweep, parse_sweep, run_sweep, summarize,
)

SMALL = """
title = "small"
dataset = "emojis"
[fixed]
epochs = 60
[grid]
hidden = [[8], [6, 4]]
random_state = [0, 1]
"""


def test_shipped_sweeps_are_valid_and_cover_the_course():
    names = bundled_sweeps()
    assert {"architectures", "optimizers", "minibatch", "activations", "generalisation", "noise"} <= set(names)
    arch = load_sweep("architectures")
    assert len(arch.runs) == 24 and {r["epochs"] for r in arch.runs} == {10_000}
    assert [r["hidden"] for r in arch.runs[::3]] == [[64, 16], [30, 20], [16], [64, 32, 16], [32], [32, 8],
                                                     [30, 24], [64]]
    assert {r["train_size"] for r in load_sweep("generalisation").runs} == {4, 8, 16, 32}
    assert {r["batch_size"] for r in load_sweep("minibatch").runs} >= {5, 10}
    assert {r["noise_level"] for r in load_sweep("noise").runs} == {0.1, 0.15, 0.2, 0.3}
    assert all(set(load_sweep(name).keys) <= set(SETTINGS) for name in names)


def test_settings_carry_the_estimators_names_and_defaults():
    params = inspect.signature(Autoencoder).parameters
    own = {"momentum", "noise_level", "train_size"}  # the sweep's own settings, not Autoencoder parameters
    assert set(SETTINGS) - own <= set(params)
    assert {k: DEFAULTS[k] for k in set(SETTINGS) - own} == {
        k: list(params[k].default) if isinstance(params[k].default, tuple) else params[k].default
        for k in set(SETTINGS) - own}
    assert set(OLD_KEYS.values()) <= set(SETTINGS) and not set(OLD_KEYS) & set(SETTINGS)


def test_files_with_the_old_keys_load_as_the_new_ones():
    new = parse_sweep("[fixed]\nn_latent = 3\nstop_wrong_pixels = 0\nnoise_level = 0.1\n[grid]\n"
                      "random_state = [0, 1]\n", "new.toml")
    old = parse_sweep("[fixed]\nlatent = 3\nstop_wrong = 0\nnoise = 0.1\n[grid]\nseed = [0, 1]\n", "old.toml")
    assert old.runs == new.runs and old.keys == new.keys == ("random_state",)
    assert old.runs[1]["n_latent"] == 3 and old.runs[1]["random_state"] == 1 and old.runs[1]["noise_level"] == 0.1
    with pytest.raises(SweepConfigError, match=r"\[fixed\] has both 'seed' and 'random_state', two names of one "
                                               r"setting; keep 'random_state'"):
        parse_sweep("[fixed]\nseed = 1\nrandom_state = 2\n", "both.toml")


def test_a_csv_with_the_old_columns_resumes(tmp_path):
    sweep = parse_sweep(SMALL, "small.toml")
    out = tmp_path / "small.csv"
    rows = run_sweep(sweep, out)
    # The CSV as the earlier genval wrote it: old column names, and old names inside the run keys.
    text = out.read_text()
    for old, new in OLD_KEYS.items():
        text = text.replace(f",{new},", f",{old},").replace(f'""{new}""', f'""{old}""')
    assert text.splitlines()[0].startswith("run,hidden,latent,") and '""seed"":0' in text
    out.write_text("\n".join(text.splitlines()[:3]) + "\n")  # interrupted after two runs
    seen = []
    again = run_sweep(sweep, out, lambda done, total, settings, skipped: seen.append(skipped))
    assert seen == [True, True, False, False]
    timeless = [[{k: v for k, v in row.items() if k != "seconds"} for row in found] for found in (again, rows)]
    assert timeless[0] == timeless[1]  # same keys, same seeds, same results
    assert out.read_text().splitlines()[0] == ",".join(sweep.columns)  # rewritten under today's names


def test_runs_rows_and_resume(tmp_path):
    sweep = parse_sweep(SMALL, "small.toml")
    out = tmp_path / "small.csv"
    seen = []
    rows = run_sweep(sweep, out, lambda done, total, settings, skipped: seen.append(skipped))
    assert seen == [False] * 4 and len(rows) == 4
    with out.open() as fh:
        written = list(csv.DictReader(fh))
    assert [r["hidden"] for r in written] == ["8", "8", "6-4", "6-4"]
    assert [r["random_state"] for r in written] == ["0", "1", "0", "1"]
    assert all(r["epochs_run"] == "60" and r["scored"] == "17" and 0 <= int(r["perfect"]) <= 17 for r in written)
    # Interrupted after two runs: the rerun does only the other two.
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=sweep.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(written[:2])
    seen.clear()
    again = run_sweep(sweep, out, lambda done, total, settings, skipped: seen.append(skipped))
    assert seen == [True, True, False, False]
    assert [r["final_loss"] for r in again] == [r["final_loss"] for r in rows]  # same seeds, same results


def test_summary_is_mean_and_spread_over_seeds(tmp_path):
    sweep = parse_sweep(SMALL, "small.toml")
    rows = run_sweep(sweep, tmp_path / "s.csv")
    summary = summarize(sweep, rows)
    assert [e["settings"] for e in summary] == [{"hidden": "8"}, {"hidden": "6-4"}]
    losses = [float(r["final_loss"]) for r in rows[:2]]
    assert summary[0]["final_loss"] == pytest.approx((statistics.fmean(losses), statistics.stdev(losses)))
    assert summary[0]["runs"] == 2


def test_generalisation_scores_the_items_left_out(tmp_path):
    text = 'dataset = "font"\n[fixed]\nepochs = 30\ntrain_size = 20\n[grid]\nrandom_state = [3]\n'
    (row,) = run_sweep(parse_sweep(text), tmp_path / "g.csv")
    assert row["scored"] == "12" and row["train_size"] == "20"


@pytest.mark.parametrize("text, message", [
    ("[grid]\nhiden = [[8]]\n", r"\[grid\] unknown key 'hiden'; expected one of hidden, n_latent"),
    ("colour = 1\n", r"unknown key 'colour'"),
    ("[grid]\nrandom_state = []\n", r"\[grid\] 'random_state' must be a non-empty list"),
    ("[grid]\nhidden = [8, 4]\n", r"'hidden' must be a list of layer lists"),
    ("[grid]\nlearning_rate = [0.01, -1]\n", r"run learning_rate=-1: learning_rate must be a positive number"),
    ("[grid]\noptimizer = ['adam', 'sgd']\n", r"run optimizer='sgd': unknown optimizer 'sgd'"),
    ("[fixed]\ntrain_size = 40\n", r"train_size must be an integer from 1 to 32"),
    ("[fixed]\nseed = 1\n[grid]\nrandom_state = [1, 2]\n", r"'random_state' is both in \[fixed\] and \[grid\]"),
    ("[fixed]\nnoise_level = 2\n", r"noise_level must be bit-flip probability in \[0, 1\]"),
    ("dataset = 'nope'\n", r"dataset: unknown dataset 'nope'"),
    ("[grid\n", r"not valid TOML"),
])
def test_bad_sweep_files_are_rejected_before_training(text, message):
    with pytest.raises(SweepConfigError, match=message):
        parse_sweep(text, "bad.toml")
