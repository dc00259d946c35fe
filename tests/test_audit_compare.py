"""Repeated audits: strategies, models and seeds side by side, their intervals and their JSON document."""

import json

import numpy as np
import pytest

from genval import Autoencoder, LatentSOM, LatentSpace
from genval.audit import audit, compare, compare_models, interval, reseeded
from genval.errors import ParameterError


def test_interval_is_the_t_interval():
    from scipy import stats

    values = [0.2, 0.25, 0.3, 0.22, 0.28]
    found = interval(values)
    lo, hi = stats.t.interval(0.95, 4, loc=np.mean(values), scale=stats.sem(values))
    assert found["value"] == pytest.approx(np.mean(values))
    assert found["interval"] == pytest.approx([lo, hi])
    assert found["per_seed"] == values and found["n"] == 5
    assert interval([0.9, 1.0, 1.0], bounds=(0, 1))["interval"][1] == 1.0
    assert interval([0.9, 1.0, 1.0])["interval"][1] > 1.0


def test_repeats_retrain_the_map_per_seed(space):
    comparison = compare_models({"autoencoder": space}, ["random", "copycat"], n=600, random_state=4, repeats=3)
    assert comparison.seeds == (4, 5, 6)
    (label, strategy, reports), _ = comparison.runs
    assert [r.random_state for r in reports] == [4, 5, 6]
    alone = audit(reseeded(space, 5), "random", 600, random_state=5)
    assert json.dumps(alone.to_dict()) == json.dumps(reports[1].to_dict())
    row = comparison.rows()[0]["figures"]["new_validity"]
    assert row["per_seed"] == [r.ratios(new_only=True)["validity"]["value"] for r in reports]
    assert row["interval"][0] <= row["value"] <= row["interval"][1]
    assert comparison.rows()[1]["figures"]["copy_rate"] == {"value": 1.0, "interval": [1.0, 1.0],
                                                            "per_seed": [1.0, 1.0, 1.0], "n": 3}
    assert comparison.min_validity() == row["value"]  # copycat has no new samples and is left out


def test_repeats_count_identical_sample_sets_once_and_can_vary_the_model(space):
    found = compare_models({"autoencoder": space}, ["grid", "random"], n=400, repeats=3)
    grid, random = found.rows()
    # the grid draws the same points whatever the seed: one sample set, three maps
    assert grid["independent_runs"] == {"samples": 1, "maps": 3} and grid["identical"] == [[0, 1, 2]]
    assert grid["figures"]["new_validity"]["n"] == 1 and grid["figures"]["som_precision"]["n"] == 3
    assert random["independent_runs"] == {"samples": 3, "maps": 3} and random["identical"] == []
    built = []

    def rebuild(label, seed):
        built.append((label, seed))
        model = Autoencoder(epochs=200, random_state=seed).fit(space.bitmaps.X)
        return LatentSpace.build(space.bitmaps, model, LatentSOM(grid=(3, 3), random_state=0))

    varied = compare_models({"autoencoder": space}, ["random"], n=300, repeats=2, vary=("model",), rebuild=rebuild)
    assert built == [("autoencoder", 0), ("autoencoder", 1)] and varied.vary == ("model",)
    assert varied.rows()[0]["independent_runs"]["samples"] == 2
    with pytest.raises(ParameterError, match="rebuild"):
        compare_models({"autoencoder": space}, ["random"], n=10, repeats=2, vary=("model",))
    with pytest.raises(ParameterError, match="vary takes"):
        compare_models({"autoencoder": space}, ["random"], n=10, vary=("weather",))


def test_only_an_impossible_strategy_is_skipped_a_memory_refusal_propagates(space, monkeypatch):
    from genval._utils.budget import MemoryBudgetError

    lonely = LatentSpace.build(space.bitmaps, space.model, LatentSOM(grid=(8, 8), random_state=0))
    found = compare_models({"ae": lonely}, ["random", "lines", "vae-prior"], n=100)
    assert [(label, strategy) for label, strategy, _ in found.skipped] == [("ae", "lines"), ("ae", "vae-prior")]
    assert found.skipped[0][2] == ("no two items share a neuron on the 8x8 map, so 'lines' has nothing to walk; "
                                   "use a smaller map (--grid)")
    assert found.to_dict()["skipped"][1] == {"label": "ae", "strategy": "vae-prior", "reason": found.skipped[1][2]}
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1M")
    for run_all in (lambda: compare_models({"ae": lonely}, ["random"], n=100_000),
                    lambda: compare(lonely, ["random"], n=100_000)):
        with pytest.raises(MemoryBudgetError, match="an audit of 100,000 points"):
            run_all()


def test_the_report_and_the_comparison_build_the_whole_json_document(space):
    report = audit(space, "copycat", n=100, random_state=0)
    model, map_ = {"file": None, "kind": "autoencoder"}, {"file": None, "grid": [3, 3]}
    doc = report.to_dict(model=model, map=map_)
    assert list(doc)[-2:] == ["model", "map"] and (doc["model"], doc["map"]) == (model, map_)
    assert "model" not in report.to_dict()
    comparison = compare_models({"autoencoder": space}, ["copycat", "vae-prior"], n=100, repeats=2)
    doc = comparison.to_dict(models={"autoencoder": model}, maps={"autoencoder": map_})
    assert list(doc)[:6] == ["dataset", "seed", "n", "repeats", "models", "maps"]
    assert (doc["dataset"], doc["seed"], doc["n"], doc["repeats"]) == (space.bitmaps.title, 0, 100, 2)
    assert all(list(run)[-3:] == ["label", "model", "map"] and run["model"] == model for run in doc["runs"])
    assert list(comparison.to_dict()) == ["seeds", "vary", "rows", "runs", "skipped"]
