import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import binom

from genval import (NOISE_WARNING, NULL_SOURCES, BitmapSet, NullModel, ParameterError, ShapeMismatchError, load_dataset,
                    null_model)
from genval._utils.budget import MemoryBudgetError
from genval.checks._rules import default_checks
from genval.checks._rule_regions import Rule
from genval.checks._validity import CheckSet

# What issue 17 measured with 20,000 draws a source: (set, source, pass rate).
ISSUE_RATES = [("emojis", "coin_flip", 0.168), ("emojis", "pixel_frequency", 0.53), ("font", "coin_flip", 0.68)]
N_MEASURED = 20_000


@pytest.fixture(scope="module")
def emojis():
    return load_dataset("emojis")


@pytest.fixture(scope="module")
def font():
    return load_dataset("font")


@pytest.fixture(scope="module")
def grey():
    """Twelve 7x5 grey items in quarter levels, so that pairs often average to exactly 0.5."""
    levels = np.random.default_rng(7).integers(0, 5, size=(12, 35)) / 4
    return BitmapSet([f"g{i}" for i in range(12)], levels, (7, 5), "grey quarters")


@pytest.fixture(scope="module")
def measured(emojis, font):
    """Each bundled set's null model with its default checks, as the issue measured it."""
    return {s.title: null_model(default_checks(s), s, n=N_MEASURED, random_state=0) for s in (emojis, font)}


def never_passing():
    """Checks no 7x5 bitmap passes: at least 6 ink pixels in a row of 5."""
    return CheckSet.from_rules([Rule("six_in_a_row", rows=(1, 1), ink=(6, None))], (7, 5), title="impossible")


def redraw(training, n, seed):
    """The draws null_model documents, rebuilt one pixel at a time: source -> list of bool bitmaps."""
    rng = np.random.default_rng(seed)
    X = training.X
    m, p = X.shape
    frequency = [sum(X[i, k] > 0.5 for i in range(m)) / m for k in range(p)]
    coin = rng.random((n, p))
    uniform = rng.random((n, p))
    first = rng.integers(m, size=n)
    offset = rng.integers(1, m, size=n)
    tie = rng.random((n, p))
    draws = {"coin_flip": [], "pixel_frequency": [], "blend": []}
    for d in range(n):
        draws["coin_flip"].append(np.array([coin[d, k] < 0.5 for k in range(p)]))
        draws["pixel_frequency"].append(np.array([uniform[d, k] < frequency[k] for k in range(p)]))
        i, j = first[d], (first[d] + offset[d]) % m
        assert i != j
        mean = [(X[i, k] + X[j, k]) / 2 for k in range(p)]
        draws["blend"].append(np.array([mean[k] > 0.5 or (mean[k] == 0.5 and tie[d, k] < 0.5) for k in range(p)]))
    return draws


def recount(checks, bitmaps, training):
    """Pass count, per-check counts and copies, judging each bitmap on its own with checks.verdict."""
    items = {tuple(row) for row in training.binary().tolist()}
    per_check = dict.fromkeys(checks.names, 0)
    valid = copies = 0
    for b in bitmaps:
        verdict = checks.verdict(b)
        valid += verdict.valid
        copies += tuple(b.tolist()) in items
        for result in verdict.results:
            per_check[result.name] += result.passed
    return valid, per_check, copies


@pytest.mark.parametrize("name", ["emojis", "font", "grey"])
def test_every_count_equals_a_recount_one_bitmap_at_a_time(name, request):
    training = request.getfixturevalue(name)
    checks = default_checks(training)
    model = null_model(checks, training, n=600, random_state=11)
    for source, bitmaps in redraw(training, 600, 11).items():
        valid, per_check, copies = recount(checks, bitmaps, training)
        rate = model.rates[source]
        assert (rate["numerator"], rate["denominator"]) == (valid, 600), source
        assert rate["per_check"] == per_check, source
        assert rate["copies"] == copies, source
        assert rate["value"] == valid / 600


def test_the_recount_sees_copies_and_ties(emojis, grey):
    # The recount above would hold trivially if there were nothing to count: there are copies to find
    # among the emojis' blends, and grey pairs whose mean is exactly 0.5 for the coin to decide.
    assert null_model(default_checks(emojis), emojis, n=600, random_state=11).rates["blend"]["copies"] > 0
    X = grey.X
    assert ((X[:, None] + X[None]) == 1).any(axis=2)[~np.eye(len(X), dtype=bool)].all()


@pytest.mark.parametrize("title, source, rate", ISSUE_RATES)
def test_the_issue_s_measurements_hold(measured, title, source, rate):
    lo, hi = binom.interval(0.999, N_MEASURED, rate)
    found = measured[title].rates[source]
    assert found["denominator"] == N_MEASURED
    assert lo <= found["numerator"] <= hi, f"{found['value']:.2%} outside {lo / N_MEASURED:.2%}-{hi / N_MEASURED:.2%}"


def test_the_same_seed_gives_the_same_rates_and_another_seed_others(emojis):
    checks = default_checks(emojis)
    first = null_model(checks, emojis, n=500, random_state=3)
    assert null_model(checks, emojis, n=500, random_state=3).to_dict() == first.to_dict()
    assert null_model(checks, emojis, n=500, random_state=4).rates != first.rates
    given = null_model(checks, emojis, n=500, random_state=np.random.default_rng(3))
    assert given.rates == first.rates
    assert (first.seed, given.seed, null_model(checks, emojis, n=5, random_state=None).seed) == (3, "generator", None)


def test_the_warning_names_the_checks_and_the_noise_they_pass(measured):
    model = measured["emojis"]
    coin, frequency = (model.rates[s]["value"] for s in ("coin_flip", "pixel_frequency"))
    assert model.warning() == (f"the checks 'emojis: two eyes and a mouth' pass {coin:.1%} of coin-flip bitmaps "
                               f"and {frequency:.1%} of pixel-frequency bitmaps (more than 5%): "
                               "a valid verdict says little on its own")
    assert model.to_dict()["warning"] == model.warning()


def test_checks_that_pass_nothing_get_no_warning(emojis):
    model = null_model(never_passing(), emojis, n=300, random_state=0, held_out=emojis)
    assert model.warning() is None
    assert [model.rates[s]["numerator"] for s in NULL_SOURCES] == [0, 0, 0, 0]
    assert model.rates["held_out"]["per_check"] == {"six_in_a_row": 0}


def _rates(coin, frequency):
    ratio = {"numerator": 0, "denominator": 1, "definition": "", "copies": 0, "per_check": {}}
    return {"coin_flip": {**ratio, "value": coin}, "pixel_frequency": {**ratio, "value": frequency},
            "blend": None, "held_out": None}


@pytest.mark.parametrize("coin, frequency, warned", [
    (NOISE_WARNING, NOISE_WARNING, None),  # more than the threshold, not as much
    (0.0, 0.0501, "pass 5.0% of pixel-frequency bitmaps (more than 5%)"),
    (0.25, 0.0, "pass 25.0% of coin-flip bitmaps (more than 5%)"),
])
def test_the_warning_starts_above_the_threshold(coin, frequency, warned):
    model = NullModel("", ("a", "b"), 1, 0, _rates(coin, frequency))
    assert model.warning() is None if warned is None else f"the checks 'a, b' {warned}" in model.warning()


def test_held_out_items_are_all_judged_exactly(emojis):
    train = emojis.subset(range(12))
    checks = default_checks(train)
    blank, copy = np.zeros(35), emojis.X[0]
    grey_copy = np.where(copy > 0.5, 0.9, 0.5)  # 0.5 is no ink: thresholded, a copy of the first emoji
    held = BitmapSet([*emojis.names[12:], "blank", "copy"], np.vstack([emojis.X[12:], blank, grey_copy]),
                     (7, 5), "held out")
    rate = null_model(checks, train, n=50, random_state=0, held_out=held).rates["held_out"]
    valid, per_check, copies = recount(checks, held.binary(), train)
    assert (rate["numerator"], rate["denominator"], rate["per_check"], rate["copies"]) == (valid, 7, per_check, copies)
    assert (valid, copies) == (6, 1)  # the five unseen emojis and the copy pass; the blank does not


def test_items_of_another_shape_are_refused(emojis):
    turned = BitmapSet(["x"], np.ones((1, 35)), (5, 7))  # as many pixels, another grid
    checks = default_checks(emojis)
    with pytest.raises(ShapeMismatchError, match="held_out items are 5x7, the checks are for 7x5"):
        null_model(checks, emojis, n=10, held_out=turned)
    with pytest.raises(ShapeMismatchError, match="training items are 5x7"):
        null_model(checks, turned, n=10)


@pytest.mark.parametrize("n", [0, -3, 2.5, True, "10"])
def test_n_must_be_a_positive_whole_number(emojis, n):
    with pytest.raises(ParameterError, match=f"at least 1, got {n!r}"):
        null_model(default_checks(emojis), emojis, n=n)


def test_draws_go_a_chunk_at_a_time_and_beyond_the_budget_are_refused(emojis, monkeypatch):
    whole = null_model(default_checks(emojis), emojis, n=5000, random_state=2).to_dict()
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "200K")  # chunks of a few dozen draws: the same stream, the same counts
    assert null_model(default_checks(emojis), emojis, n=5000, random_state=2).to_dict() == whole
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1M")
    with pytest.raises(MemoryBudgetError, match="100,000 null draws of 35 pixels per source .drawn a chunk at a "
                                                "time. would need about"):
        null_model(default_checks(emojis), emojis, n=100_000)


def test_a_random_state_must_be_a_seed_or_a_generator(emojis):
    with pytest.raises(TypeError, match="random_state must be an int, a numpy Generator or None, got str"):
        null_model(default_checks(emojis), emojis, n=10, random_state="3")


def test_a_single_training_item_has_no_blend_and_says_why(emojis):
    one = emojis.subset([":)"])
    document = json.loads(json.dumps(null_model(never_passing(), one, n=20).to_dict()))
    assert document["sources"]["blend"] is None and document["sources"]["held_out"] is None
    assert document["skipped"] == {"blend": "a blend needs two different training items; the training set has 1",
                                   "held_out": "no held-out items given"}
    assert document["sources"]["pixel_frequency"]["copies"] == 20  # one item: its frequencies are 0 or 1


def test_the_document_is_json_with_every_source(measured):
    model = measured["font"]
    document = json.loads(json.dumps(model.to_dict()))
    assert list(document["sources"]) == list(NULL_SOURCES)
    assert document["checks"] == {"title": "generic checks fitted on font", "names": list(model.check_names)}
    assert (document["n"], document["seed"], document["threshold"]) == (N_MEASURED, 0, NOISE_WARNING)
    coin = document["sources"]["coin_flip"]
    assert set(coin) == {"value", "numerator", "denominator", "definition", "copies", "per_check"}
    assert "probability 1/2" in coin["definition"]


def test_nullmodel_stays_upstream_of_audits_walks_plots_and_the_cli():
    code = "import sys, genval.checks._nullmodel; print(sorted(m for m in sys.modules if m.startswith('genval.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for downstream in ("genval.audit", "genval.latent._space", "genval.plotting", "genval.models._cache", "genval.cli", "genval.latent._som"):
        assert f"'{downstream}'" not in loaded and f"'{downstream}." not in loaded
