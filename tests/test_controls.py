"""The controls against brute-force transcriptions of their definitions."""

import itertools

import numpy as np
import pytest
from scipy.spatial import ConvexHull, Delaunay
from sklearn.metrics import roc_auc_score

from genval.audit import (
    MIN_DISTINCT, audit, auroc, bootstrap_aurocs, box_centre_closeness, controlled_comparison, hull_depth,
)
from genval.errors import ParameterError


def _segment_distance(p, a, b):
    ab = b - a
    t = min(1.0, max(0.0, float((p - a) @ ab) / float(ab @ ab)))
    return float(np.linalg.norm(p - (a + t * ab)))


def test_hull_depth_in_the_plane_matches_a_point_by_point_recount():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(30, 2)) * [3.0, 1.0]
    points = rng.uniform(-8, 8, size=(400, 2))
    found = hull_depth(codes, points)
    hull = ConvexHull(codes)
    inside = Delaunay(codes[hull.vertices]).find_simplex(points) >= 0
    edges = [(codes[i], codes[j]) for i, j in hull.simplices]
    for p, got, is_in in zip(points, found.depth, inside):
        distance = min(_segment_distance(p, a, b) for a, b in edges)
        assert got == pytest.approx(distance if is_in else -distance, abs=1e-9)
    assert found.method == "exact" and found.dims == 2
    np.testing.assert_array_equal(found.inside, inside)


def test_hull_depth_inside_a_cube_is_the_distance_to_the_nearest_face():
    cube = np.array(list(itertools.product([0.0, 2.0], repeat=3)))
    rng = np.random.default_rng(1)
    inside = rng.uniform(0, 2, size=(200, 3))
    np.testing.assert_allclose(hull_depth(cube, inside).depth, np.minimum(inside, 2 - inside).min(axis=1))
    # outside, past one face only, the facet bound is the exact distance
    np.testing.assert_allclose(hull_depth(cube, [[1.0, 1.0, 3.5]]).depth, [-1.5])


def test_hull_depth_projects_flat_or_wide_codes_and_says_so():
    rng = np.random.default_rng(2)
    flat = np.column_stack([rng.normal(size=(40, 2)), np.zeros(40)])  # codes on a plane of 3-D space
    found = hull_depth(flat, np.zeros((1, 3)))
    assert (found.method, found.dims) == ("projected", 2) and found.depth[0] > 0
    wide = rng.normal(size=(200, 9))
    assert (hull_depth(wide, wide[:5]).method, hull_depth(wide, wide[:5]).dims) == ("projected", 4)
    few_wide = rng.normal(size=(20, 9))  # few codes: the exact 9-D hull stays small
    assert hull_depth(few_wide, few_wide[:3]).method == "exact"
    with pytest.raises(ParameterError, match="at least 3 codes"):
        hull_depth(flat[:2], flat[:1])


def test_box_centre_closeness_scales_each_axis():
    np.testing.assert_allclose(box_centre_closeness([0, 0], [2, 10], [[1, 5], [2, 10], [0, 5]]),
                               [0.0, -np.sqrt(2), -1.0])


def test_auroc_matches_scikit_learn_with_ties_weights_and_bins():
    rng = np.random.default_rng(3)
    score = rng.integers(0, 6, 300).astype(float)  # many ties
    truth = rng.random(300) < 0.4
    assert auroc(score, truth) == pytest.approx(roc_auc_score(truth, score))
    weight = rng.integers(0, 4, 300)
    repeated = np.repeat(np.arange(300), weight)  # a weight of k is the sample k times
    assert auroc(score, truth, weight) == pytest.approx(roc_auc_score(truth[repeated], score[repeated]))
    bins = rng.integers(0, 3, 300)
    pairs = [(i, j) for i in np.flatnonzero(truth) for j in np.flatnonzero(~truth) if bins[i] == bins[j]]
    wins = sum((score[i] > score[j]) + 0.5 * (score[i] == score[j]) for i, j in pairs)
    assert auroc(score, truth, bins=bins) == pytest.approx(wins / len(pairs))
    assert auroc(score, np.ones(300, bool)) is None


def test_each_bootstrap_auroc_is_the_weighted_auroc_of_its_resample():
    rng = np.random.default_rng(4)
    bitmap = rng.integers(0, 40, 500)
    valid = bitmap % 3 == 0  # a verdict belongs to a bitmap
    scores = {"a": rng.normal(size=500) + valid, "b": np.round(rng.normal(size=500), 1)}
    bins = rng.integers(0, 4, 500)
    found, weights = bootstrap_aurocs(scores, valid, bitmap, bins, n_boot=25, random_state=0, return_weights=True)
    for b in range(25):
        w = weights[b]
        # each resample draws as many distinct valid (invalid) bitmaps as there are, each with all its samples
        per_bitmap = {k: set(w[bitmap == k]) for k in np.unique(bitmap)}
        assert all(len(values) == 1 for values in per_bitmap.values())
        assert sum(next(iter(per_bitmap[k])) for k in np.unique(bitmap[valid])) == len(np.unique(bitmap[valid]))
        for name, s in scores.items():
            assert found[name][b] == pytest.approx(auroc(s, valid, w, bins))


def test_controlled_comparison_counts_strata_and_ranks_only_with_enough_bitmaps():
    rng = np.random.default_rng(5)
    n = 600
    bitmap = rng.integers(0, 60, n)
    valid = bitmap < 30
    depth = rng.normal(size=n) + valid
    nearest = np.abs(rng.normal(size=n))
    scores = {"hull_depth": depth, "nearest_code": -nearest, "box_centre": rng.normal(size=n),
              "copy_of_depth": depth + 1e-9 * rng.normal(size=n), "noise": rng.normal(size=n)}
    doc = controlled_comparison(scores, valid, bitmap, depth, nearest, n_boot=200, random_state=0)
    inside = depth >= 0
    table = doc["strata"]["inside_hull"]
    assert (table["n_valid"], table["n_invalid"]) == (int((valid & inside).sum()), int((~valid & inside).sum()))
    assert table["distinct_valid"] == len(np.unique(bitmap[valid & inside]))
    every = doc["strata"]["all"]
    assert every["best_baseline"] == "hull_depth" and every["ranked"]
    assert every["scores"]["noise"]["verdict"] == "worse than"
    assert every["scores"]["copy_of_depth"]["verdict"] == "no better than"
    assert every["scores"]["hull_depth"]["auroc"] == pytest.approx(roc_auc_score(valid, depth))
    # fewer than MIN_DISTINCT distinct invalid bitmaps: reported, not ranked
    few = bitmap < 30 + MIN_DISTINCT - 1
    doc = controlled_comparison({k: v[few] for k, v in scores.items()}, valid[few], bitmap[few], depth[few],
                                nearest[few], n_boot=50, random_state=0)
    assert not doc["strata"]["all"]["ranked"] and "verdict" not in doc["strata"]["all"]["scores"]["noise"]
    assert "not ranked" in doc["summary"][0]


def test_the_emoji_audit_reproduces_the_issue_figures_by_recount(space):
    report = audit(space, "random", n=10_000, random_state=0)
    new = report.novel[report.scored]
    valid = report.valid[report.scored][new]
    Z = report.Z[report.scored][new]
    hull = ConvexHull(space.codes)
    inside = Delaunay(space.codes[hull.vertices]).find_simplex(Z) >= 0
    doc = report.controls()["strata"]
    # the hull's depth as a score, recounted with scikit-learn on a depth computed edge by edge
    edges = [(space.codes[i], space.codes[j]) for i, j in hull.simplices]
    depth = np.array([min(_segment_distance(z, a, b) for a, b in edges) for z in Z]) * np.where(inside, 1, -1)
    assert doc["all"]["scores"]["hull_depth"]["auroc"] == pytest.approx(roc_auc_score(valid, depth))
    W = space.som.weights_.reshape(space.som.n_neurons, -1)
    som = -np.linalg.norm(Z - W[space.som.winners(Z)], axis=1)
    assert doc["inside_hull"]["scores"]["som_distance"]["auroc"] == pytest.approx(
        roc_auc_score(valid[inside], som[inside]))
    bitmaps = report.bitmap_index[report.scored][new]
    assert doc["inside_hull"]["distinct_invalid"] == len(np.unique(bitmaps[inside & ~valid]))
    assert doc["inside_hull"]["n_valid"] == int((inside & valid).sum())


def test_the_map_and_decoder_scores_match_their_definitions(space):
    report = audit(space, "random", n=400, random_state=3)
    Z = report.Z[report.scored]
    W = space.som.weights_.reshape(space.som.n_neurons, -1)
    winner = space.som.winners(Z)
    np.testing.assert_allclose(report.scores["umatrix"], -space.som.umatrix().ravel()[winner])
    owner = space.som.winners(space.codes)
    item_qe = np.linalg.norm(space.codes - W[owner], axis=1)
    for score, z, k in zip(report.scores["relative_qe"], Z, winner):
        mine = item_qe[owner == k]
        scale = mine.max() if len(mine) and mine.max() > 0 else np.percentile(item_qe, 95)
        assert score == pytest.approx(-np.linalg.norm(z - W[k]) / scale)
    pixels = space.model.inverse_transform(Z)
    np.testing.assert_allclose(report.scores["decoder_confidence"], np.abs(2 * pixels - 1).mean(axis=1), rtol=1e-6)
    stability = report.scores["stability"]
    assert set(np.unique(stability * 8)) <= set(range(9)) and 0 < stability.mean() < 1  # a share of 8 moves


class HalfPlanes:
    """A decoder that draws one of two emojis by the sign of z1, in probabilities 0.2 and 0.9."""

    def __init__(self, a, b):
        self.a, self.b = np.where(a, 0.9, 0.2), np.where(b, 0.9, 0.2)

    def inverse_transform(self, Z):
        return np.where(np.asarray(Z)[:, :1] < 0, self.a, self.b)


def test_stability_counts_the_moves_that_keep_the_bitmap(space):
    from genval import LatentSpace

    decoder = HalfPlanes(*space.bitmaps.binary()[:2])
    plane = LatentSpace(space.bitmaps, decoder, space.som, space.codes)
    report = audit(plane, "random", n=300, random_state=0)
    Z = report.Z[report.scored]
    lo, hi = plane.box()
    radius = 0.02 * np.linalg.norm(hi - lo)
    far = np.abs(Z[:, 0]) > radius  # no move of that length crosses z1 = 0
    assert far.sum() > 250 and (report.scores["stability"][far] == 1).all()
    # right on the border about half the moves cross it
    near = np.abs(Z[:, 0]) < radius / 100
    assert all(0 < s < 1 for s in report.scores["stability"][near])
    expected = np.where(Z[:, 0] < 0, np.abs(2 * decoder.a - 1).mean(), np.abs(2 * decoder.b - 1).mean())
    np.testing.assert_allclose(report.scores["decoder_confidence"], expected)


def test_auroc_of_each_score_is_the_brute_force_pair_count(space):
    report = audit(space, "random", n=1500, random_state=3)
    new = report.novel[report.scored]
    truth = report.valid[report.scored][new]
    for name, curve in report.roc().items():
        s = report.scores[name][new]
        pos, neg = s[truth], s[~truth]
        wins = (pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()
        assert curve["auroc"] == pytest.approx(wins / (len(pos) * len(neg)))
        assert (curve["n_valid"], curve["n_invalid"]) == (len(pos), len(neg))
    occupied = report.occupied[report.neuron[report.scored][new]]
    assert set(np.unique(report.scores["occupied"][new])) <= {0.0, 1.0}
    np.testing.assert_array_equal(report.scores["occupied"][new] == 1, occupied)
    doc = report.to_dict()["scores"]
    assert doc["samples"] == {"scored": 1500, "new": int(new.sum()), "definition": doc["samples"]["definition"]}


def test_scores_use_a_seeded_subsample_beyond_max_scored(space):
    report = audit(space, "random", n=3000, random_state=0, max_scored=500)
    assert len(report.scored) == 500 and len(np.unique(report.scored)) == 500
    assert report.membership["n_fake"] == 500 and report.membership["k"] == 5
    again = audit(space, "random", n=3000, random_state=0, max_scored=500)
    np.testing.assert_array_equal(again.scored, report.scored)


def test_roc_curves_count_samples_and_the_distinct_bitmaps_behind_them(space):
    report = audit(space, "random", n=800, random_state=4)
    new = report.novel[report.scored]
    valid = report.valid[report.scored][new]
    bitmap = report.bitmap_index[report.scored][new]
    for curve in report.roc().values():
        assert (curve["n_valid"], curve["n_invalid"]) == (int(valid.sum()), int((~valid).sum()))
        assert curve["distinct_valid"] == len(set(bitmap[valid].tolist()))
        assert curve["distinct_invalid"] == len(set(bitmap[~valid].tolist()))
