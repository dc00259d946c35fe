"""Memorisation against held-out data (genval/audit/_holdout.py): each figure against a transcription of its
definition, the two controls, the split, and the CLI's --holdout, --holdout-fraction and --resamples."""

import csv
import itertools
import json

import numpy as np
import pytest
from click.testing import CliRunner
from test_schemas import validator

from genval import BitmapSet, load_dataset
from genval.audit import audit_samples, count_within, holdout_split, memorisation, nearest_other_distance
from genval.cli.main import cli
from genval.errors import ParameterError, ShapeMismatchError


def _set(X, shape=(4, 4)):
    return BitmapSet([str(i) for i in range(len(X))], X.astype(np.float64), shape)


def _brute(G, T, H, q):
    """The figures by their definitions, from full distance matrices; the share closer to training averaged over
    every subset of the larger set of the smaller's size, enumerated."""
    def D(A, B):
        return (A[:, None, :] != B[None, :, :]).sum(axis=2)

    def lowest_with_share(d, share):  # the smallest distance with at least ``share`` of d at or below it
        return min(v for v in np.unique(d) if np.mean(d <= v) >= share)

    TT = D(T, T).astype(float)
    np.fill_diagonal(TT, np.inf)
    r1 = TT.min(axis=1)
    dGT, dHT = D(G, T), D(H, T)
    g_near, h_near = dGT.argmin(axis=1), dHT.argmin(axis=1)
    dG, dH = dGT.min(axis=1), dHT.min(axis=1)
    tau = lowest_with_share(dH, q)
    dGH = D(G, H).min(axis=1)
    shares = []
    small, large = (T, H) if len(T) < len(H) else (H, T)
    for subset in itertools.combinations(range(len(large)), len(small)):
        cut = large[list(subset)]
        to_t, to_h = (D(G, T).min(axis=1), D(G, cut).min(axis=1)) if large is H else \
            (D(G, cut).min(axis=1), D(G, H).min(axis=1))
        shares.append(np.mean(np.where(to_t < to_h, 1.0, np.where(to_t == to_h, 0.5, 0.0))))
    gap = lowest_with_share(dH, 0.5) - lowest_with_share(dG, 0.5)
    return {"threshold": tau, "near_copy_rate": np.mean(dG <= tau), "holdout_near_copy_rate": np.mean(dH <= tau),
            "authenticity": np.mean(dG > r1[g_near]), "holdout_authenticity": np.mean(dH > r1[h_near]),
            "closer_to_training": np.mean(shares), "median_to_training": lowest_with_share(dG, 0.5),
            "median_to_holdout": lowest_with_share(dGH, 0.5), "holdout_median_to_training": lowest_with_share(dH, 0.5),
            "median_gap": gap}


@pytest.mark.parametrize("seed, sizes", [(0, (14, 6)), (1, (14, 6)), (2, (6, 14)), (3, (9, 9))])
@pytest.mark.parametrize("q", [0.05, 0.3])
def test_every_figure_matches_its_definition_on_small_fixtures(seed, sizes, q):
    rng = np.random.default_rng(seed)
    T = rng.random((sizes[0], 12)) < 0.3
    T[5] = T[4]  # a duplicate: its nearest other item is at distance 0
    H = rng.random((sizes[1], 12)) < 0.3
    G = np.concatenate([rng.random((15, 12)) < 0.3, T[[0, 4, 5]], H[[1]]])
    m = memorisation(G, _set(T, (3, 4)), _set(H, (3, 4)), quantile=q, n_resamples=0, random_state=seed)
    expected = _brute(G, T, H, q)
    for name, value in expected.items():
        assert m.figures[name]["value"] == pytest.approx(value, abs=1e-12), name
        assert m.figures[name]["interval"] is None
    assert m.threshold == expected["threshold"] and m.n_matched == min(sizes)
    assert not m.authentic[15:18].any()  # copies of training items, duplicated or not, are never authentic


def test_counts_within_a_radius_are_exact():
    rng = np.random.default_rng(7)
    Q, R = rng.random((30, 20)) < 0.4, rng.random((50, 20)) < 0.4
    radius = rng.integers(0, 12, size=30)
    for duplicates, budget in ((False, None), (True, None), (True, 4096)):
        if duplicates:
            R[10:13] = R[9]  # each duplicate counts
        D = (Q[:, None] != R[None]).sum(axis=2)
        below, at = count_within(Q, R, radius, budget=budget)
        assert below.tolist() == (D < radius[:, None]).sum(axis=1).tolist()
        assert at.tolist() == (D == radius[:, None]).sum(axis=1).tolist()


def test_nearest_other_distance_counts_duplicates_and_skips_the_row_itself():
    rng = np.random.default_rng(3)
    T = rng.random((40, 20)) < 0.5
    T[7] = T[2]
    D = (T[:, None] != T[None]).sum(axis=2).astype(float)
    np.fill_diagonal(D, np.inf)
    rows = np.array([2, 7, 0, 39, 0])
    assert nearest_other_distance(T, rows).tolist() == D.min(axis=1)[rows].astype(int).tolist()
    assert nearest_other_distance(T, rows, budget=4096).tolist() == D.min(axis=1)[rows].astype(int).tolist()
    with pytest.raises(ParameterError, match="at least 2 rows"):
        nearest_other_distance(T[:1], np.array([0]))


@pytest.fixture(scope="module")
def thirds():
    digits = load_dataset("digits")
    return digits.subset(range(800)), digits.subset(range(800, 1600)), digits.subset(range(1600, 1797))


def test_control_fresh_real_items_look_like_held_out_items(thirds):
    training, holdout, fresh = thirds
    f = memorisation(fresh.binary(), training, holdout, random_state=0).figures
    for name in ("near_copy_excess", "authenticity_gap", "median_gap"):
        lo, hi = f[name]["interval"]
        assert lo <= 0 <= hi, name
    lo, hi = f["closer_to_training"]["interval"]
    assert lo <= 0.5 <= hi and abs(f["closer_to_training"]["value"] - 0.5) < 0.05
    assert f["near_copy_rate"]["value"] == pytest.approx(f["holdout_near_copy_rate"]["value"], abs=0.05)


def test_control_training_items_are_never_authentic_and_always_closer_to_training(thirds):
    training, holdout, _ = thirds
    m = memorisation(training.binary()[::3], training, holdout, random_state=0)
    f = m.figures
    assert f["authenticity"]["value"] == 0 and f["authenticity"]["interval"] == [0, 0]
    assert f["near_copy_rate"]["value"] == 1 and f["median_to_training"]["value"] == 0
    # Never farther from the training items; tied only where a held-out digit has the same bitmap.
    assert set(m.closer.tolist()) == {1.0, 0.5} and int((m.holdout_distance == 0).sum()) == 6
    assert f["closer_to_training"]["value"] == 1 - 3 / 267
    # 200 held-out items: a copy is surely closer only in the subsets of 200 training items that hold its item.
    f = memorisation(training.binary()[::3], training, holdout.subset(range(200)), random_state=0).figures
    assert 200 / 800 < f["closer_to_training"]["value"] < 1


def test_the_same_seed_gives_the_same_figures(thirds):
    training, holdout, fresh = thirds
    first = memorisation(fresh.binary(), training, holdout.subset(range(300)), n_resamples=200, random_state=4)
    again = memorisation(fresh.binary(), training, holdout.subset(range(300)), n_resamples=200, random_state=4)
    assert json.dumps(first.to_dict()) == json.dumps(again.to_dict())
    other = memorisation(fresh.binary(), training, holdout.subset(range(300)), n_resamples=200, random_state=5)
    assert other.figures["closer_to_training"]["value"] == first.figures["closer_to_training"]["value"]  # no draw
    assert other.figures["closer_to_training"]["interval"] != first.figures["closer_to_training"]["interval"]


def test_the_split_is_seeded_disjoint_and_counted():
    digits = load_dataset("digits")
    training, holdout = holdout_split(digits, 0.2, random_state=0)
    assert (len(training), len(holdout)) == (1438, 359)
    assert set(training.names).isdisjoint(holdout.names) and len(set(training.names) | set(holdout.names)) == 1797
    assert holdout_split(digits, 0.2, random_state=0)[1].names == holdout.names
    assert holdout_split(digits, 0.2, random_state=1)[1].names != holdout.names
    for fraction in (0, 1, 1.5, True):
        with pytest.raises(ParameterError, match="between 0 and 1"):
            holdout_split(digits, fraction)
    with pytest.raises(ParameterError, match="no held-out item"):
        holdout_split(digits.subset(range(3)), 0.1)


def test_audit_samples_with_a_fraction_judges_against_the_rest(thirds):
    digits = load_dataset("digits")
    report = audit_samples(digits.X[1600:], digits.subset(range(1600)), holdout=0.5, n_resamples=50)
    doc = report.to_dict()
    assert doc["holdout"]["split"]["n_holdout"] == 800 and doc["holdout"]["split"]["seed"] == 0
    assert doc["holdout"]["n_training"] == 800 == doc["membership"]["n_training"]
    assert doc["holdout"]["n_resamples"] == 50 and doc["holdout"]["matched"]["subsampled"] is None
    validator("audit-samples").validate(doc)
    with pytest.raises(ShapeMismatchError, match="held-out items are an array of shape"):
        audit_samples(digits.X[:5], digits, holdout=np.zeros((3, 10)))
    with pytest.raises(ShapeMismatchError, match="held-out items are 2x2 bitmaps"):
        audit_samples(digits.X[:5], digits, holdout=BitmapSet(["a"], [[0, 1, 0, 1]], (2, 2)))
    with pytest.raises(ParameterError, match="quantile"):
        audit_samples(digits.X[:5], digits, holdout=0.2, holdout_quantile=1.0)


def test_with_a_model_and_a_fraction_the_latent_figures_rest_on_the_kept_items_only():
    """The map and codes cover the whole set; a held-out item must not count as a training item in latent space."""
    from genval import Autoencoder, LatentSOM, LatentSpace

    digits = load_dataset("digits").subset(range(300))
    space = LatentSpace.build(digits, Autoencoder(epochs=30, random_state=0).fit(digits.X),
                              LatentSOM(grid=(4, 4), random_state=0))
    report = audit_samples(load_dataset("digits").X[1700:], digits, space=space, holdout=0.2, n_resamples=0)
    kept, _ = holdout_split(digits, 0.2, random_state=0)
    rows = [digits.names.index(name) for name in kept.names]
    codes = space.codes[rows]
    assert report.to_dict()["membership"]["latent"]["n_real"] == len(kept)
    assert report.located["hits"].tolist() == np.bincount(space.som.winners(codes), minlength=16).tolist()
    Zs = report.located["Z"][report.scored]
    nearest = np.sqrt(((Zs[:, None, :] - codes[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    assert np.allclose(-report.scores["nearest_code"], nearest)


def test_features_of_the_whole_set_follow_a_fractional_split():
    digits, gen = load_dataset("digits").subset(range(300)), load_dataset("digits").X[1700:]
    F = np.random.default_rng(0).normal(size=(300 + len(gen), 4))
    kept, held = holdout_split(digits, 0.2, random_state=0)
    rows = [digits.names.index(name) for name in kept.names]
    split = audit_samples(gen, digits, features=F, holdout=0.2, n_resamples=0).to_dict()["membership"]["features"]
    given = audit_samples(gen, kept, features=np.concatenate([F[rows], F[300:]]), holdout=held,
                          n_resamples=0).to_dict()["membership"]["features"]
    assert split == given and split["n_real"] == len(kept)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("holdout")
    digits = load_dataset("digits")
    paths = {}
    for name, X in (("train", digits.X[:800]), ("held", digits.X[800:1600]), ("fresh", digits.X[1600:]),
                    ("copies", digits.X[:100]), ("wrong", np.zeros((4, 10, 10)))):
        paths[name] = str(folder / f"{name}.npy")
        np.save(paths[name], np.asarray(X, dtype=np.float32))
    return paths


def test_cli_holdout_json_csv_and_text(files, tmp_path):
    runner = CliRunner()
    base = ["audit", "--samples", files["copies"], "--dataset", files["train"], "--shape", "8x8",
            "--holdout", files["held"], "--resamples", "100"]
    result = runner.invoke(cli, [*base, "--json", "--csv", str(tmp_path / "s.csv")])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    validator("audit-samples").validate(doc)
    h = doc["holdout"]
    assert h["source"] == files["held"] and h["n_resamples"] == 100 and h["split"] is None
    assert h["figures"]["authenticity"]["value"] == 0 and h["figures"]["closer_to_training"]["value"] > 0.99
    with open(tmp_path / "s.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 100 and {row["authentic"] for row in rows} == {"0"}
    assert all(row["holdout_near_copy"] == "1" for row in rows)
    assert [int(row["holdout_distance"]) for row in rows] == memorisation(
        load_dataset(files["copies"], shape=(8, 8)).binary(), load_dataset(files["train"], shape=(8, 8)),
        load_dataset(files["held"], shape=(8, 8)), n_resamples=0).holdout_distance.tolist()
    text = runner.invoke(cli, base).output
    assert "memorisation against 800 held-out items (from" in text
    assert "authentic, farther from their nearest training item" in text and "closer to training than" in text


def test_cli_holdout_refusals(files):
    runner = CliRunner()
    base = ["audit", "--samples", files["fresh"], "--dataset", files["train"], "--shape", "8x8"]
    result = runner.invoke(cli, [*base, "--holdout", files["wrong"]])
    assert result.exit_code == 1 and "10x10" in result.output and "8x8" in result.output
    assert len(result.output.strip().splitlines()) == 1
    for extra, message in ((["--holdout", files["held"], "--holdout-fraction", "0.2"], "give one of them"),
                           (["--holdout-quantile", "0.1"], "give --holdout FILE or --holdout-fraction F"),
                           (["--holdout-fraction", "1"], "0<x<1"), (["--resamples", "100001"], "0<=x<=100000")):
        result = runner.invoke(cli, [*base, *extra])
        assert result.exit_code == 2 and message in result.output, extra
    result = runner.invoke(cli, ["audit", "--holdout-fraction", "0.2"])
    assert result.exit_code == 2 and "--holdout-fraction belongs to --samples" in result.output


def test_cli_holdout_fraction_states_the_split(files):
    result = CliRunner().invoke(cli, ["audit", "--samples", files["fresh"], "--dataset", "digits",
                                      "--holdout-fraction", "0.2", "--holdout-quantile", "0.1", "--resamples", "0",
                                      "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    h = json.loads(result.stdout)["holdout"]
    assert h["split"]["n_holdout"] == 359 and h["split"]["seed"] == 3 and h["quantile"] == 0.1
    assert h["figures"]["near_copy_rate"]["interval"] is None and h["n_resamples"] == 0
    digits = load_dataset("digits")
    assert h["n_training"] == len(holdout_split(digits, 0.2, 3)[0]) == 1438
