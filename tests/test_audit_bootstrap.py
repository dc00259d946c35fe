"""Intervals over samples: one audit's figures resampled (genval/audit/_bootstrap.py), and the audit's refusals."""

import csv
import json

import numpy as np
import pytest

from genval.audit import N_RESAMPLES, audit
from genval.audit._bootstrap import bitmap_figures, cell_figures, percentile_intervals, resampled_counts
from genval.audit._text import write_bootstrap
from genval.errors import ParameterError


@pytest.fixture(scope="module")
def report(space):
    return audit(space, "random", n=3000, random_state=1)


def test_every_observed_value_is_the_reports_own_figure(report):
    boot = report.bootstrap()
    assert boot["n_resamples"] == N_RESAMPLES == 1000 and boot["samples"] == 3000 and boot["scored"] == 3000
    f = {name: figure["value"] for name, figure in boot["figures"].items()}
    doc = report.to_dict()
    new, every = doc["new"], doc["all"]
    assert f["copy_rate"] == doc["copies"]["rate"]["value"]
    assert f["distinct_items"] == doc["copies"]["distinct_items"]
    assert f["new_validity"] == new["ratios"]["validity"]["value"]
    assert f["new_uniqueness"] == new["ratios"]["uniqueness"]["value"]
    assert f["yield"] == doc["yield"]["value"] and f["yield_at_floor"] == doc["novelty"]["yield_at_floor"]
    for name in ("validity", "uniqueness", "novelty"):
        assert f[f"all_{name}"] == every["ratios"][name]["value"]
    for name, count in new["failures"].items():
        assert f[f"new_failures_{name}"] == count
    for prefix, part in (("", new), ("all_", every)):
        for name in ("precision", "recall"):
            assert f[f"{prefix}som_{name}"] == part["som_agreement"][name]["value"]
    assert f["crispness"] == doc["crispness"]["value"]
    assert f["pixels_precision"] == doc["membership"]["pixels"]["precision"]["value"]
    assert set(boot["not_resampled"]) >= {"recall", "coverage", "density", "authenticity"}
    for name, figure in boot["figures"].items():
        lo, hi = figure["interval"]
        assert lo <= hi and figure["defined"] == 1000, name


def test_a_resample_never_finds_more_distinct_bitmaps_than_the_audit(report):
    # Every resample draws from the audit's own bitmaps, so its distinct counts are at most the observed ones.
    figures = report.bootstrap()["figures"]
    for name in ("yield", "yield_at_floor", "distinct_items"):
        assert figures[name]["interval"][1] <= figures[name]["value"]
    assert figures["yield"]["interval"][0] < figures["yield"]["value"]  # some resamples miss a rare bitmap


def test_the_json_flags_every_observed_value_outside_its_interval(report):
    figures = report.bootstrap()["figures"]
    for name, figure in figures.items():
        lo, hi = figure["interval"]
        assert figure["observed_outside"] is (not lo <= figure["value"] <= hi), name
    assert figures["yield"]["observed_outside"] is True  # a resample thins the distinct bitmaps
    assert figures["copy_rate"]["observed_outside"] is False


def test_observed_outside_on_small_fixtures():
    doc = percentile_intervals({"below": [np.array([1.0, 2.0, 3.0])], "inside": [np.array([1.0, 2.0, 3.0])],
                                "undefined": [np.array([np.nan])], "none": [np.array([1.0])]},
                               {"below": 4.0, "inside": 2.0, "undefined": 2.0, "none": None})
    assert doc["below"] == {"value": 4.0, "interval": [1.05, 2.95], "defined": 3, "observed_outside": True}
    assert doc["inside"]["observed_outside"] is False
    assert doc["undefined"]["interval"] is None and doc["undefined"]["observed_outside"] is False
    assert doc["none"]["interval"] is None and doc["none"]["observed_outside"] is False


def test_the_same_seed_gives_the_same_intervals_and_another_seed_others(space, report):
    again = audit(space, "random", n=3000, random_state=1)
    assert json.dumps(again.bootstrap()) == json.dumps(report.bootstrap())
    other = audit(space, "random", n=3000, random_state=2).bootstrap()
    assert other["seed"] != report.bootstrap()["seed"]
    assert other["figures"]["copy_rate"] != report.bootstrap()["figures"]["copy_rate"]


def test_fewer_resamples_and_none(space):
    few = audit(space, "random", n=500, random_state=0, n_resamples=40).bootstrap()
    assert few["n_resamples"] == 40 and few["figures"]["copy_rate"]["defined"] == 40
    none = audit(space, "random", n=500, random_state=0, n_resamples=0)
    boot = none.bootstrap()
    assert boot["figures"]["copy_rate"] == {"value": none.copies()["rate"]["value"], "interval": None, "defined": 0,
                                            "observed_outside": False}
    lines = []
    write_bootstrap(boot, lines.append)
    assert lines == ["intervals over samples: none (0 resamples)"]


def test_multinomial_resamples_keep_the_total_and_do_not_depend_on_the_chunks():
    weights = np.array([5, 0, 3, 12])
    whole = np.concatenate(list(resampled_counts(weights, 300, np.random.default_rng(3))))
    chunks = list(resampled_counts(weights, 300, np.random.default_rng(3), budget=8 * 8 * 4 * 4 * 7))
    assert len(chunks) > 10 and whole.shape == (300, 4)
    np.testing.assert_array_equal(np.concatenate(chunks), whole)
    assert set(whole.sum(axis=1)) == {20.0} and not whole[:, 1].any()
    # Resampling classes with their multiplicities is resampling the samples: the means and variances of a
    # multinomial (n p, n p (1 - p)).
    many = np.concatenate(list(resampled_counts(weights, 20_000, np.random.default_rng(4))))
    p = weights / 20
    np.testing.assert_allclose(many.mean(axis=0), 20 * p, atol=0.05)
    np.testing.assert_allclose(many.var(axis=0), 20 * p * (1 - p), rtol=0.05, atol=1e-12)


def test_the_percentile_interval_of_a_share_matches_its_binomial_width():
    # 60 copies in 200 samples: the bootstrap's 95% interval is about +-1.96 sqrt(p (1 - p) / n) wide.
    counts = np.concatenate(list(resampled_counts(np.array([60, 140]), 4000, np.random.default_rng(0))))
    doc = percentile_intervals({"share": [counts[:, 0] / 200]}, {"share": 0.3})["share"]
    lo, hi = doc["interval"]
    assert (hi - lo) / 2 == pytest.approx(1.96 * np.sqrt(0.3 * 0.7 / 200), rel=0.08)
    assert lo < 0.3 < hi and doc["defined"] == 4000


def test_bitmap_and_cell_figures_on_counts_by_hand():
    # Three distinct bitmaps: valid and new, invalid and new (fails check b), valid and a copy.
    valid, new = np.array([1.0, 0.0, 1.0]), np.array([1.0, 1.0, 0.0])
    passes = np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    C = np.array([[2.0, 1.0, 1.0], [0.0, 3.0, 1.0], [0.0, 0.0, 4.0]])
    f = bitmap_figures(C, valid, new, passes, far=np.array([0.0, 1.0, 0.0]), check_names=("a", "b"))
    np.testing.assert_array_equal(f["copy_rate"], [0.25, 0.25, 1.0])
    np.testing.assert_array_equal(f["new_validity"], [2 / 3, 0.0, np.nan])
    np.testing.assert_array_equal(f["yield"], [1, 0, 0])
    np.testing.assert_array_equal(f["new_uniqueness"], [0.5, np.nan, np.nan])
    np.testing.assert_array_equal(f["yield_at_floor"], [0, 0, 0])
    np.testing.assert_array_equal(f["distinct_items"], [1, 1, 1])
    np.testing.assert_array_equal(f["all_validity"], [0.75, 0.25, 1.0])
    np.testing.assert_array_equal(f["all_novelty"], [0.5, 0.0, 0.0])
    np.testing.assert_array_equal(f["new_failures_a"], [0, 0, 0])
    np.testing.assert_array_equal(f["new_failures_b"], [1, 3, 0])
    # Cells: bit 4 new, bit 2 valid, bit 1 occupied neuron.
    cells = np.zeros((1, 8))
    cells[0, [7, 6, 5, 4, 3, 2]] = [3, 1, 2, 4, 5, 6]
    c = cell_figures(cells)
    assert c["som_precision"][0] == 3 / 5 and c["som_recall"][0] == 3 / 4
    assert c["all_som_precision"][0] == 8 / 10 and c["all_som_recall"][0] == 8 / 15


@pytest.mark.parametrize("kwargs, message", [
    (dict(chunk=-1), "chunk must be a whole number of at least 1, got -1"),
    (dict(chunk=0), "chunk must be a whole number of at least 1, got 0"),
    (dict(chunk=2.5), "chunk must be a whole number of at least 1, got 2.5"),
    (dict(max_scored=0), "max_scored must be a whole number of at least 1, got 0"),
    (dict(max_scored=-3), "max_scored must be a whole number of at least 1, got -3"),
    (dict(k=0), "k must be a whole number of at least 1, got 0"),
    (dict(n_resamples=-1), "n_resamples must be a whole number of at least 0, got -1"),
])
def test_values_out_of_range_are_refused_in_one_line(space, kwargs, message):
    with pytest.raises(ParameterError, match=f"^{message}$"):
        audit(space, "random", 50, **kwargs)


def test_one_scored_sample_is_enough(space):
    report = audit(space, "random", 50, max_scored=1, random_state=0)
    doc = report.to_dict()
    assert doc["scores"]["samples"]["scored"] == 1 and "note" in doc["membership"]
    assert "pixels_precision" in doc["bootstrap"]["not_resampled"]


def test_the_csv_is_written_in_chunks_with_progress_and_the_same_rows(space, tmp_path, monkeypatch):
    report = audit(space, "random", n=700, random_state=0, max_scored=300)
    whole, small = tmp_path / "whole.csv", tmp_path / "small.csv"
    report.write_csv(whole)
    calls = []
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "100K")  # a few dozen rows per chunk
    report.write_csv(small, progress=lambda done, total: calls.append((done, total)))
    assert small.read_bytes() == whole.read_bytes()
    assert len(calls) > 10 and calls[-1] == (700, 700) and all(t == 700 for _, t in calls)
    assert [d for d, _ in calls] == sorted({d for d, _ in calls})
    rows = list(csv.DictReader(small.open()))
    assert len(rows) == 700 and sum(row["score_realism"] != "" for row in rows) == 300


def test_the_cli_resamples_option_sets_the_bootstrap_of_one_audit():
    from click.testing import CliRunner

    from genval.cli.main import cli

    runner = CliRunner()
    base = ["audit", "--dataset", "emojis", "-n", "300", "--grid", "3x3", "--json"]
    for n, expected in (("0", 0), ("25", 25)):
        result = runner.invoke(cli, [*base, "--resamples", n])
        assert result.exit_code == 0, result.output
        boot = json.loads(result.stdout)["bootstrap"]
        assert boot["n_resamples"] == expected
        assert (boot["figures"]["copy_rate"]["interval"] is None) == (expected == 0)
    for bad in ("-1", "100001", "many"):
        result = runner.invoke(cli, [*base, "--resamples", bad])
        assert result.exit_code == 2 and "--resamples" in result.output
    result = runner.invoke(cli, ["audit", "--compare", "--resamples", "10"])
    assert result.exit_code == 2 and "leave out --resamples" in result.output
