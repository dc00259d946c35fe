"""Per-epoch curves of a sweep, shared trainings, --dataset and the sweep pictures."""

import csv
import json

import matplotlib
import numpy as np
import pytest
from click.testing import CliRunner

from genval import Autoencoder
from genval.data import load_dataset
from genval.experiments import (
    MAX_POINTS, curve_epochs, curve_layout, curves_path, mean_curves, parse_sweep, read_runs, run_sweep, summarize,
)
from genval.experiments._sweep_settings import SweepConfigError
from test_cli import run
from test_schemas import validator

matplotlib.use("Agg")

VALIDATED = """
dataset = "emojis"
[fixed]
epochs = 12
hidden = [6]
validation_fraction = 0.25
[grid]
n_latent = [2, 3]
random_state = [0, 1]
"""
# A denoiser trained on one set of levels, scored at three: one training per seed.
SCORED_AT = """
dataset = "emojis"
[fixed]
epochs = 15
hidden = [8]
noise_levels = [0.1]
test_copies = 3
[grid]
noise_level = [0.0, 0.1, 0.2]
random_state = [0, 1]
"""


def lines(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def timeless(rows):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


@pytest.mark.parametrize("n", [1, 999, 1000, 1001, 2500, 10_000, 123_457])
def test_a_curve_keeps_every_epoch_up_to_the_cap_then_a_subsample_ending_at_the_last(n):
    epochs = curve_epochs(n)
    assert len(epochs) == min(n, MAX_POINTS) and epochs[0] == 1 and epochs[-1] == n
    assert (np.diff(epochs) > 0).all()
    if n > MAX_POINTS:
        assert epochs[:500].tolist() == list(range(1, 501))


def test_every_run_records_its_loss_and_validation_loss_per_epoch(tmp_path):
    sweep = parse_sweep(VALIDATED)
    rows = run_sweep(sweep, tmp_path / "v.csv")
    table = lines(tmp_path / "v.curves.csv")
    assert table[0] == ["n_latent", "random_state", "epoch", "loss", "validation_loss"]
    X = load_dataset("emojis").X
    for row, settings in zip(rows, sweep.runs):
        mine = [line for line in table[1:] if line[:2] == [row["n_latent"], row["random_state"]]]
        alone = Autoencoder(hidden=(6,), n_latent=settings["n_latent"], epochs=12, validation_fraction=0.25,
                            random_state=settings["random_state"]).fit(X)
        assert [int(line[2]) for line in mine] == list(range(1, 13))
        assert [float(line[3]) for line in mine] == alone.loss_curve_
        assert [float(line[4]) for line in mine] == alone.validation_loss_curve_
        assert float(mine[-1][3]) == float(row["final_loss"]) and float(mine[-1][4]) == float(row["validation_loss"])


def test_a_resumed_sweep_keeps_finished_curves_and_redoes_the_cut_ones(tmp_path):
    sweep = parse_sweep(VALIDATED)
    out = tmp_path / "v.csv"
    run_sweep(sweep, out)
    whole = lines(curves_path(out))
    # Interrupted: the CSV holds two runs, the curves file a third run's lines and a line cut off.
    text = out.read_text().splitlines(keepends=True)
    out.write_text("".join(text[:3]))
    with open(curves_path(out), "a") as fh:
        fh.write("3,1,1,0.7")
    rows = run_sweep(sweep, out)
    again = lines(curves_path(out))
    assert len(rows) == 4 and again[0] == whole[0]
    assert sorted(map(tuple, again[1:])) == sorted(map(tuple, whole[1:]))  # every run once, none twice


def test_curves_of_another_sweep_are_refused(tmp_path):
    out = tmp_path / "v.csv"
    curves_path(out).write_text("hidden,epoch,loss,validation_loss\n8,1,0.5,\n")
    with pytest.raises(SweepConfigError, match=r"v\.curves\.csv: curves of another sweep"):
        run_sweep(parse_sweep(VALIDATED), out)
    assert not out.exists()


def test_runs_scored_at_several_levels_share_one_training_and_keep_their_rows(tmp_path, monkeypatch):
    import genval.experiments._sweep_worker as worker

    fits = []
    real = worker.model_for
    monkeypatch.setattr(worker, "model_for", lambda settings: fits.append(settings["random_state"]) or real(settings))
    sweep = parse_sweep(SCORED_AT)
    rows = run_sweep(sweep, tmp_path / "s.csv")
    assert sorted(fits) == [0, 1]  # two trainings for six runs
    # each row is the row of a sweep of that one run
    for level in (0.0, 0.1, 0.2):
        alone = run_sweep(parse_sweep(SCORED_AT, override={"noise_level": level}), tmp_path / f"{level}.csv")
        assert timeless(alone) == timeless([r for r in rows if float(r["noise_level"]) == level])
    assert len({r["final_loss"] for r in rows}) == 2 and len({r["wrong_pixels"] for r in rows}) > 2


def test_the_training_items_are_scored_beside_the_held_out_ones(tmp_path):
    sweep = parse_sweep('dataset = "font"\n[fixed]\nepochs = 30\n[grid]\ntrain_size = [8, 32]\n')
    rows = run_sweep(sweep, tmp_path / "g.csv")
    assert rows[1]["train_wrong_pixels"] == rows[1]["train_mse"] == ""  # every item trained on: none held out
    assert int(rows[0]["scored"]) == 24 and rows[0]["train_wrong_pixels"].isdigit()
    assert 0 <= float(rows[0]["train_mse"]) < float(rows[0]["mse"])  # it knows its training items better
    assert read_runs(tmp_path / "g.csv") == rows


def test_mean_curves_average_over_the_seeds(tmp_path):
    path = tmp_path / "c.curves.csv"
    path.write_text("n_latent,random_state,epoch,loss,validation_loss\n"
                    "2,0,1,1.0,\n2,1,1,3.0,\n2,0,2,0.5,\n2,1,2,0.5,\n3,0,1,4.0,2.0\n3,0,2,")
    curves = mean_curves(path, ("n_latent",), ())
    two, three = curves[()][("2",)], curves[()][("3",)]
    assert two["epoch"].tolist() == [1, 2] and two["loss"][0].tolist() == [2.0, 0.5]
    assert two["loss"][1].tolist() == pytest.approx([2 ** 0.5, 0.0]) and two["validation_loss"] is None
    assert three["epoch"].tolist() == [1] and three["validation_loss"][0].tolist() == [2.0]  # the cut line left out
    seed0 = mean_curves(path, ("n_latent",), (), {"random_state": 0})[()][("2",)]
    assert seed0["loss"][0].tolist() == [1.0, 0.5] and seed0["loss"][2].tolist() == [1, 1]


def test_the_layout_colours_the_first_axis_and_panels_the_optimizer():
    assert curve_layout([("n_latent",), ("optimizer", "learning_rate"), ("random_state",)]) == (
        ("n_latent",), ("optimizer", "learning_rate"))
    assert curve_layout([("optimizer",), ("hidden",)]) == (("hidden",), ("optimizer",))
    assert curve_layout([("optimizer",)]) == (("optimizer",), ())
    # test levels of a denoiser trained once draw no curves of their own
    assert curve_layout([("noise_levels",), ("noise_level",), ("random_state",)], {"noise_level"}) == (
        ("noise_levels",), ())


def test_sweep_dataset_option_replaces_the_files_set(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    toml = tmp_path / "s.toml"
    toml.write_text('dataset = "missing.npy"\n[fixed]\nepochs = 3\n[grid]\nn_latent = [2, 3]\n')
    bad = run(runner, *["sweep", str(toml), "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 1 and "give another with --dataset PATH" in bad.output and "Traceback" not in bad.output
    result = run(runner, *["sweep", str(toml), "--dataset", "emojis", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["dataset"] == "emojis" and doc["csv"] == "s+dataset=emojis.csv"
    assert doc["curves"] == "s+dataset=emojis.curves.csv" and list(validator("sweep").iter_errors(doc)) == []
    same = run(runner, *["sweep", str(toml), "--set", "dataset=emojis", "--json"])
    assert json.loads(same.stdout)["resumed"] == 2
    both = run(runner, *["sweep", str(toml), "--set", "dataset=emojis", "--dataset", "font"])
    assert both.exit_code == 2 and "keep one" in both.output


@pytest.mark.parametrize("kind", ["auto", "curves", "summary"])
def test_sweep_plot_draws_the_curves_or_the_summary(tmp_path, kind):
    runner = CliRunner()
    toml = tmp_path / "s.toml"
    toml.write_text(VALIDATED)
    picture = tmp_path / "p.png"
    result = run(runner, *["sweep", str(toml), "--out", str(tmp_path / "s.csv"), "--plot", str(picture),
                                  "--plot-kind", kind])
    assert result.exit_code == 0, result.output
    assert picture.stat().st_size > 0
    assert f"({'curves' if kind == 'auto' else kind})" in result.stderr


def test_curves_of_a_csv_without_them_are_refused_in_one_line(tmp_path):
    runner = CliRunner()
    out = tmp_path / "s.csv"
    run_sweep(parse_sweep(VALIDATED), out)
    curves_path(out).unlink()
    result = run(runner, *["sweep", "--report", str(out), "--plot", str(tmp_path / "p.png"),
                                  "--plot-kind", "curves"])
    assert result.exit_code == 2 and "no curves file" in result.output
    assert run(runner, *["sweep", "--report", str(out), "--plot", str(tmp_path / "p.png")]).exit_code == 0


def test_the_curves_picture_has_a_panel_per_optimizer_and_a_curve_per_size():
    from genval.plotting._sweep_pictures import plot_sweep_curves

    stats = (np.array([0.5, 0.3]), np.array([0.1, 0.1]), np.array([2, 2]))
    one = {"epoch": np.array([1, 2]), "loss": stats, "validation_loss": stats}
    curves = {("gd",): {("64",): one, ("128",): one}, ("adam",): {("64",): one, ("128",): one}}
    axes = plot_sweep_curves(curves, ("n_latent",), ("optimizer",), "grid")
    assert [ax.get_title() for ax in axes] == ["optimizer gd", "optimizer adam"]
    assert [line.get_label() for line in axes[0].get_legend().get_lines()] == ["64", "128"]
    assert len(axes[1].get_lines()) == 4  # training and validation per size


def test_bars_of_counts_stop_at_zero_and_long_titles_wrap():
    from genval.plotting import plot_sweep

    entry = {"settings": {"n_latent": "2"}, "axes": (("n_latent",),), "diverged": 0, "failed": 0,
             "values": {"wrong_pixels": [0.0, 0.0, 9.0], "final_loss": [0.1, 0.1, 0.1]},
             "wrong_pixels": (3.0, 5.196), "final_loss": (0.1, 0.0)}
    title = "a sweep with a long title " * 4
    axes = plot_sweep([entry], title)
    segments = [seg for coll in axes[0, 0].collections for seg in getattr(coll, "get_segments", list)()]
    assert segments and min(y for seg in segments for _, y in seg) == 0.0
    assert "\n" in axes[0, 0].figure.get_suptitle()


def test_the_generalisation_picture_draws_training_and_held_out_error(tmp_path):
    from genval.plotting._sweep_pictures import plot_generalisation

    sweep = parse_sweep('dataset = "font"\n[fixed]\nepochs = 20\n[grid]\ntrain_size = [8, 16, 32]\n'
                        'random_state = [0, 1]\n')
    summary = summarize(run_sweep(sweep, tmp_path / "g.csv"), sweep.axes)
    pixels, mse = plot_generalisation(summary, title="generalisation")
    train, held = pixels.containers
    assert [train.get_label(), held.get_label()] == ["training items", "held-out items"]
    assert train.lines[0].get_xdata().tolist() == [8, 16, 32] and held.lines[0].get_xdata().tolist() == [8, 16]
    assert pixels.get_ylim()[0] == 0 and mse.get_ylim()[0] == 0
    with pytest.raises(ValueError, match="needs a sweep over train_size"):
        plot_generalisation(summarize(run_sweep(parse_sweep(VALIDATED), tmp_path / "v.csv")))


def test_plot_kind_mistakes_are_usage_errors(tmp_path):
    runner = CliRunner()
    out = tmp_path / "s.csv"
    run_sweep(parse_sweep(VALIDATED), out)
    alone = run(runner, "sweep", "--report", str(out), "--plot-kind", "summary")
    assert alone.exit_code == 2 and "add --plot FILE.png" in alone.stderr
    wrong = run(runner, "sweep", "--report", str(out), "--plot", str(tmp_path / "p.png"), "--plot-kind",
                "generalisation")
    assert wrong.exit_code == 2 and "draws a sweep over train_size; these runs vary n_latent" in wrong.stderr
    assert not (tmp_path / "p.png").exists()
