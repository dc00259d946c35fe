"""Intervals over samples of an audit of given samples: the ``bootstrap`` of genval.audit.audit_samples."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from test_schemas import validator

from genval import load_dataset
from genval.audit import audit_samples
from genval.audit._samples_bootstrap import membership_per_sample, resampled_coverage
from genval.checks import membership_metrics
from genval.cli.main import cli


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def _mixed(digits, n_copies: int, n_new: int, seed: int = 0) -> np.ndarray:
    """``n_copies`` training items as they are, then ``n_new`` of them with grey noise (new bitmaps)."""
    rng = np.random.default_rng(seed)
    copies = digits.X[rng.integers(0, len(digits), n_copies)]
    noisy = np.clip(digits.X[rng.integers(0, len(digits), n_new)] + rng.normal(0, 0.3, (n_new, 64)), 0, 1)
    return np.vstack([copies, noisy]).astype(np.float32)


def _figure(doc: dict, path: str):
    """The report's own figure at a bootstrap figure's name (a JSON path: ``validity.new``)."""
    value = doc
    for key in path.split("."):
        value = value[key]
    return value["value"] if isinstance(value, dict) else value


def test_every_figure_observed_equals_the_reports_own(space):
    X = space.model.inverse_transform(space.codes + 0.2)
    X = np.vstack([X, space.bitmaps.X[:6], X[:4]])
    F = np.random.default_rng(0).normal(size=(len(space.bitmaps) + len(X), 3))
    doc = audit_samples(X, space.bitmaps, space=space, k=2, features=F, n_resamples=50).to_dict()
    boot = doc["bootstrap"]
    assert boot["n_resamples"] == 50 and boot["samples"] == len(X) and boot["scored"] == len(X)
    figures = boot["figures"]
    expected = {"copies.rate", "copies.distinct_items", "near_copies.rate", "near_copies.distinct_items",
                "validity.all", "validity.new", "validity.beyond_near_copies", "item_distance.median",
                "map_verdict.occupied", "map_verdict.valid_when_occupied", "map_verdict.valid_when_empty",
                "map_verdict.som_distance_median",
                *(f"failures.{name}" for name in doc["checks"]["names"]),
                *(f"membership.{space}.{name}" for space in ("pixels", "latent", "features")
                  for name in ("precision", "density", "authenticity", "coverage"))}
    assert set(figures) == expected
    for name, figure in figures.items():
        assert figure["value"] == _figure(doc, name), name
        assert figure["defined"] <= 50
    assert {f"membership.{s}.recall" for s in ("pixels", "latent", "features")} <= set(boot["not_resampled"])
    # A resample draws some of the samples: it never covers more real items, nor copies more distinct ones.
    for name in ("membership.pixels.coverage", "membership.latent.coverage", "membership.features.coverage",
                 "copies.distinct_items", "near_copies.distinct_items"):
        assert figures[name]["interval"][1] <= figures[name]["value"], name
    assert list(validator("audit-samples").iter_errors(json.loads(json.dumps(doc)))) == []


def test_a_proportions_interval_is_as_wide_as_the_binomial_one(digits):
    n, p = 2000, 0.3
    rng = np.random.default_rng(0)
    coin_flips = (rng.random((n - int(p * n), 64)) < 0.5).astype(np.float32)  # never a training item's bitmap
    X = np.vstack([digits.X[rng.integers(0, len(digits), int(p * n))], coin_flips])
    doc = audit_samples(X, digits, n_resamples=1000).to_dict()
    assert doc["copies"]["rate"]["value"] == p
    low, high = doc["bootstrap"]["figures"]["copies.rate"]["interval"]
    binomial = 2 * 1.96 * np.sqrt(p * (1 - p) / n)
    assert abs((high - low) - binomial) <= 0.1 * binomial
    assert low < p < high
    # Distinct items copied: a resample repeats some and misses others, so it copies fewer of them.
    distinct = doc["bootstrap"]["figures"]["copies.distinct_items"]
    assert distinct["observed_outside"] and distinct["interval"][1] < distinct["value"]


def test_the_same_seed_gives_the_same_intervals_and_chunks_do_not_change_them(digits, monkeypatch):
    X = _mixed(digits, 60, 240)
    first = audit_samples(X, digits, random_state=3, n_resamples=200).to_dict()["bootstrap"]
    assert audit_samples(X, digits, random_state=3, n_resamples=200).to_dict()["bootstrap"] == first
    assert audit_samples(X, digits, random_state=4, n_resamples=200).to_dict()["bootstrap"]["figures"] \
        != first["figures"]
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "2M")  # a few resamples per chunk
    assert audit_samples(X, digits, random_state=3, n_resamples=200).to_dict()["bootstrap"] == first


def test_no_resamples_no_bootstrap_and_the_other_figures_unchanged(digits):
    X = _mixed(digits, 30, 70)
    with_intervals = audit_samples(X, digits, n_resamples=100).to_dict()
    without = audit_samples(X, digits, n_resamples=0).to_dict()
    assert without["bootstrap"] is None
    assert {k: v for k, v in with_intervals.items() if k != "bootstrap"} == {k: v for k, v in without.items()
                                                                           if k != "bootstrap"}
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="n_resamples must be a whole number"):
            audit_samples(X, digits, n_resamples=bad)


@pytest.mark.parametrize("metric", ["euclidean", "hamming"])
def test_a_resamples_figures_equal_the_metrics_of_the_resampled_samples(digits, metric):
    real = digits.X[:300] if metric == "euclidean" else digits.binary()[:300]
    fake = _mixed(digits, 20, 100, seed=1)
    fake = fake if metric == "euclidean" else fake > 0.5
    metrics, own = membership_per_sample(real, fake, 3, metric)
    assert metrics == membership_metrics(real, fake, k=3, metric=metric)
    rng = np.random.default_rng(5)
    for _ in range(5):  # resamples drawn by hand, measured from scratch
        drawn = rng.integers(0, len(fake), len(fake))
        again = membership_metrics(real, fake[drawn], k=3, metric=metric)
        rows = own["inverse"][drawn]
        assert again.precision == pytest.approx(own["inside"][rows].mean(), abs=1e-12)
        assert again.density == pytest.approx(own["count"][rows].mean() / 3, abs=1e-12)
        assert again.authenticity == pytest.approx(own["authentic"][rows].mean(), abs=1e-12)
        counts = np.bincount(rows, minlength=len(own["weight"])).astype(np.float64)[None, :]
        assert resampled_coverage(own, counts)[0] == pytest.approx(again.coverage, abs=1e-12)
        assert again.coverage < metrics.coverage or again.coverage == metrics.coverage


def test_beyond_their_budget_the_pairs_are_dropped_and_coverage_says_why(digits):
    real, fake = digits.X[:300], digits.X[:150]  # copies: each in at least k + 1 balls, 570 pairs in all
    metrics, own = membership_per_sample(real, fake, 3, "euclidean", budget=2**14)  # room for 120 pairs
    assert own["pairs"] is None and metrics == membership_metrics(real, fake, k=3, metric="euclidean")
    assert membership_per_sample(real, fake, 3, "euclidean", budget=2**24)[1]["pairs"] is not None


def test_an_audit_whose_pairs_pass_their_budget_says_why_coverage_has_no_interval(digits, monkeypatch):
    X = digits.X[:1600]  # copies, each in at least k + 1 = 21 balls: some 34,000 pairs, 0.5 MiB
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "2.5M")
    boot = audit_samples(X, digits, k=20, n_resamples=20).to_dict()["bootstrap"]
    assert "membership.pixels.coverage" not in boot["figures"] and "membership.pixels.precision" in boot["figures"]
    assert "memory budget" in boot["not_resampled"]["membership.pixels.coverage"]
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "64M")
    boot = audit_samples(X, digits, k=20, n_resamples=20).to_dict()["bootstrap"]
    assert "membership.pixels.coverage" in boot["figures"] and "membership.pixels.coverage" not in \
        boot["not_resampled"]


def test_the_command_states_the_resamples_and_shows_intervals(tmp_path, digits):
    path = tmp_path / "gen.npy"
    np.save(path, _mixed(digits, 30, 70).reshape(-1, 8, 8))
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "--samples", str(path), "--dataset", "digits", "--resamples", "300",
                                 "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["bootstrap"]["n_resamples"] == 300
    assert list(validator("audit-samples").iter_errors(doc)) == []
    text = runner.invoke(cli, ["audit", "--samples", str(path), "--dataset", "digits", "--resamples", "300"])
    assert text.exit_code == 0 and "95% bootstrap over 300 resamples" in text.stdout
    low, high = doc["bootstrap"]["figures"]["copies.rate"]["interval"]
    assert f"copies: 0.300 = 30 / 100 [{low:.3f}, {high:.3f}]" in text.stdout
    off = runner.invoke(cli, ["audit", "--samples", str(path), "--dataset", "digits", "--resamples", "0", "--json"])
    assert off.exit_code == 0 and json.loads(off.stdout)["bootstrap"] is None
