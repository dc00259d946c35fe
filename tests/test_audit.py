import csv
import json

import numpy as np
import pytest
from scipy import ndimage

from genval import Autoencoder, LatentSOM, LatentSpace, StrategyImpossibleError, load_dataset
from genval.audit import SCORES, audit, audit_points, compare, fit_mixture, judge, sharing_pairs
from genval.errors import ParameterError
from genval.checks._validity import CheckSet, check_emoji


def test_metrics_match_a_brute_force_recount(space):
    report = audit(space, "random", n=3000, random_state=1)
    Z = audit_points(space, "random", 3000, random_state=1)
    np.testing.assert_array_equal(report.Z, Z)
    pixels = space.model.inverse_transform(Z)
    binary = pixels > 0.5
    verdicts = [check_emoji(b) for b in binary]
    valid = np.array([v.valid for v in verdicts])
    training = {tuple(row) for row in space.bitmaps.binary()}
    distinct_valid = {tuple(b) for b, ok in zip(binary, valid) if ok}
    novel = {b for b in distinct_valid if b not in training}
    counts = report.counts()
    assert counts == {"total": 3000, "valid": int(valid.sum()), "unique_valid": len(distinct_valid),
                      "novel_unique_valid": len(novel)}
    ratios = report.ratios()
    assert ratios["validity"]["value"] == valid.sum() / 3000
    assert ratios["uniqueness"]["value"] == len(distinct_valid) / valid.sum()
    assert ratios["novelty"]["value"] == len(novel) / len(distinct_valid)
    assert ratios["novelty"]["definition"] == "novel unique valid / unique valid"
    assert report.failures() == {"eyes": sum("eyes" in v.failed for v in verdicts),
                                 "mouth": sum("mouth" in v.failed for v in verdicts)}
    occupied = np.isin(space.som.winners(Z), space.som.winners(space.codes))
    table = report.som_agreement()["table"]
    assert table == {"occupied_valid": int((occupied & valid).sum()), "occupied_invalid": int((occupied & ~valid).sum()),
                     "empty_valid": int((~occupied & valid).sum()), "empty_invalid": int((~occupied & ~valid).sum())}
    agreement = report.som_agreement()
    assert agreement["precision"]["value"] == table["occupied_valid"] / (table["occupied_valid"] + table["occupied_invalid"])
    assert agreement["recall"]["value"] == table["occupied_valid"] / (table["occupied_valid"] + table["empty_valid"])
    assert report.crispness()["value"] == ((pixels < 0.1) | (pixels > 0.9)).mean()
    np.testing.assert_array_equal(report.valid, valid)
    # Copies apart from new samples: a copy's bitmap equals a training item's.
    items = [tuple(row) for row in space.bitmaps.binary()]
    copy = np.array([tuple(b) in training for b in binary])
    np.testing.assert_array_equal(report.novel, ~copy)
    assert report.copies() == {"rate": {"value": copy.mean(), "numerator": int(copy.sum()), "denominator": 3000,
                                        "definition": "copies / total (a copy equals a training item)"},
                               "distinct_items": len({tuple(b) for b in binary[copy]})}
    new = ~copy
    assert report.counts(new_only=True) == {
        "total": int(new.sum()), "valid": int((valid & new).sum()),
        "unique_valid": len({tuple(b) for b in binary[valid & new]}),
        "novel_unique_valid": len({tuple(b) for b in binary[valid & new]})}
    new_table = report.som_agreement(new_only=True)["table"]
    assert new_table["occupied_valid"] == int((occupied & valid & new).sum())
    assert new_table["empty_invalid"] == int((~occupied & ~valid & new).sum())
    assert report.failures(new_only=True) == {
        "eyes": sum("eyes" in v.failed for v, n in zip(verdicts, new) if n),
        "mouth": sum("mouth" in v.failed for v, n in zip(verdicts, new) if n)}
    for k in np.flatnonzero(copy)[:50]:
        assert items[report.copy_of[report.bitmap_index[k]]] == tuple(binary[k])
    W = space.som.weights_.reshape(space.som.n_neurons, -1)
    np.testing.assert_allclose(report.som_distance, np.linalg.norm(Z - W[space.som.winners(Z)], axis=1))
    np.testing.assert_array_equal(report.hits, np.bincount(space.som.winners(space.codes), minlength=9))


def test_chunking_and_seeds(space):
    whole = audit(space, "prior", n=2000, random_state=3).to_dict()
    chunked = audit(space, "prior", n=2000, random_state=3, chunk=97).to_dict()
    assert json.dumps(whole) == json.dumps(chunked)
    assert audit(space, "prior", n=2000, random_state=4).to_dict() != whole


def test_strategies_point_counts(space):
    pairs = sharing_pairs(space)
    assert pairs and all(space.neuron_of(i) == space.neuron_of(j) for i, j in pairs)
    assert len(audit_points(space, "grid", 1000)) == 32 * 32
    lines = audit_points(space, "lines", 1000)
    per_pair = 1000 // len(pairs)
    assert len(lines) == per_pair * len(pairs)
    i, j = pairs[0]
    np.testing.assert_allclose(lines[0], space.codes[i])
    np.testing.assert_allclose(lines[per_pair - 1], space.codes[j])
    som_path = audit_points(space, "som-path", 1000)
    assert len(som_path) == len(lines)
    np.testing.assert_allclose(som_path[per_pair - 1], space.codes[j])
    # Both ends of every line are training items: they can never be novel.
    report = audit(space, "lines", 1000)
    assert report.counts()["novel_unique_valid"] < report.counts()["unique_valid"]


def test_a_map_with_no_shared_neuron_cannot_walk_lines(space):
    lonely = LatentSpace.build(space.bitmaps, space.model, LatentSOM(grid=(8, 8), random_state=0))
    assert sharing_pairs(lonely) == []
    with pytest.raises(StrategyImpossibleError, match="no two items share a neuron on the 8x8 map"):
        audit(lonely, "lines", 100)
    assert [r.strategy for r in compare(lonely, n=200)] == ["random", "prior", "gmm", "neuron", "grid", "regions",
                                                            "copycat"]


def test_bad_arguments(space):
    with pytest.raises(ValueError, match="unknown strategy 'spiral'; choose one of random, prior"):
        audit(space, "spiral", 10)
    with pytest.raises(ValueError, match="n must be at least 1"):
        audit(space, "random", 0)
    with pytest.raises(ValueError, match="checks are for 8x8"):
        audit(space, "random", 10, checks=CheckSet.generic(load_dataset("digits")))


def test_csv_rows(space, tmp_path):
    report = audit(space, "random", n=500, random_state=0)
    path = tmp_path / "samples.csv"
    report.write_csv(path)
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 500
    assert list(rows[0]) == ["sample", "z1", "z2", "neuron", "som_distance", "hits", "bitmap", "valid", "failed",
                             "novel", "copy_of", "item_distance", *[f"score_{name}" for name in report.scores]]
    assert set(report.scores) == set(SCORES)
    for name, values in report.scores.items():  # every score per sample (all 500 are scored)
        np.testing.assert_allclose([float(row[f"score_{name}"]) for row in rows], values, rtol=1e-5, atol=1e-6)
    training = {"".join("1" if p else "0" for p in row): name
                for name, row in reversed(list(zip(space.bitmaps.names, space.bitmaps.binary())))}
    decoded = space.model.inverse_transform(report.Z) > 0.5
    neurons = space.som.predict(report.Z)
    for k, (row, valid) in enumerate(zip(rows, report.valid)):
        assert int(row["sample"]) == k + 1  # numbered from 1, as people count
        np.testing.assert_allclose([float(row["z1"]), float(row["z2"])], report.Z[k], rtol=1e-5)
        assert row["bitmap"] == "".join("1" if p else "0" for p in decoded[k])
        verdict = check_emoji(decoded[k])
        assert row["valid"] == str(int(valid)) == str(int(verdict.valid))
        assert row["failed"] == ";".join(verdict.failed)
        assert int(row["neuron"]) == neurons[k] + 1
        assert float(row["som_distance"]) == pytest.approx(report.som_distance[k], rel=1e-5)
        assert int(row["hits"]) == report.hits[neurons[k]]
        assert row["copy_of"] == training.get(row["bitmap"], "")
        assert row["novel"] == ("0" if row["bitmap"] in training else "1")
        nearest = min(sum(a != b for a, b in zip(row["bitmap"], item)) for item in training)
        assert int(row["item_distance"]) == nearest


def generic_verdicts(binary, training, max_hamming=None):
    """The generic checks recomputed from their definitions, one bitmap at a time: the oracle."""
    eight = np.ones((3, 3), dtype=int)

    def measure(img):
        ink = int(img.sum())
        components = ndimage.label(img, eight)[1]  # held equal to a flood fill in test_validity
        lonely = bool((img & (ndimage.convolve(img.astype(int), eight, mode="constant") == 1)).any())
        return ink, components, lonely

    seen = [measure(img) for img in training]
    ink_lo, ink_hi = min(m[0] for m in seen), max(m[0] for m in seen)
    comp_lo, comp_hi = min(m[1] for m in seen), max(m[1] for m in seen)
    lonely_allowed = any(m[2] for m in seen)
    rows = []
    for img in binary:
        ink, components, lonely = measure(img)
        row = [ink > 0, ink_lo <= ink <= ink_hi, comp_lo <= components <= comp_hi, lonely_allowed or not lonely]
        if max_hamming is not None:
            row.append(min(int((img != t).sum()) for t in training) <= max_hamming)
        rows.append(row)
    return np.array(rows)


def assert_report_matches(report, model, training, max_hamming=None):
    binary = model.inverse_transform(report.Z).reshape(len(report.Z), *training.shape) > 0.5
    expected = generic_verdicts(binary, training.binary().reshape(-1, *training.shape), max_hamming)
    np.testing.assert_array_equal(report.valid, expected.all(axis=1))
    assert report.counts()["valid"] == int(expected.all(axis=1).sum())
    assert report.failures() == dict(zip(report.check_names, (~expected).sum(axis=0).tolist()))
    assert 0 < report.counts()["valid"] < report.n_total  # the sample mixes valid and invalid bitmaps


def test_the_fonts_default_checks_match_their_definitions():
    font = load_dataset("font")
    model = Autoencoder(stop_wrong_pixels=0, random_state=0).fit(font.X)
    font_space = LatentSpace.build(font, model, LatentSOM(grid=(3, 3)))
    report = audit(font_space, "random", n=2000, random_state=0)
    assert report.check_names == ("not_empty", "ink_range", "component_range", "isolated_pixels")
    assert_report_matches(report, model, font)


def test_generic_checks_and_max_hamming_match_their_definitions(space):
    checks = CheckSet.generic(space.bitmaps, max_hamming=2)
    report = audit(space, "random", n=2000, random_state=0, checks=checks)
    assert report.check_names == ("not_empty", "ink_range", "component_range", "isolated_pixels", "max_hamming")
    assert_report_matches(report, space.model, space.bitmaps, max_hamming=2)
    assert sum(count > 0 for count in report.failures().values()) >= 3  # several checks really fail


def test_the_vae_prior_strategy_decodes_draws_from_the_prior(space):
    from genval import VariationalAutoencoder

    emojis = space.bitmaps
    vae = VariationalAutoencoder(beta=0.1, epochs=3000).fit(emojis.X)
    vae_space = LatentSpace.build(emojis, vae, LatentSOM(grid=(3, 3)))
    report = audit(vae_space, "vae-prior", n=2000, random_state=0)
    assert report.n_total == 2000 and report.check_names == ("eyes", "mouth")
    assert "vae-prior" in [r.strategy for r in compare(vae_space, n=500)]
    with pytest.raises(StrategyImpossibleError, match="'vae-prior' strategy samples a variational autoencoder's"):
        audit(space, "vae-prior", 10)
    assert "vae-prior" not in [r.strategy for r in compare(space, n=200)]


# ---------------------------------------------------------------- bounded memory

@pytest.mark.parametrize("budget, chunk", [("1", None), ("1", 1), ("200K", 7), ("1G", None)])
def test_audit_in_chunks_of_any_size_is_the_same_audit(space, monkeypatch, budget, chunk):
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1G")
    whole = audit(space, "random", n=300, random_state=5)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", budget)
    if budget == "1":  # every chunk one point; only the report's own arrays need room
        monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "200K")
        assert audit(space, "random", n=300, random_state=5, chunk=1).to_dict() == whole.to_dict()
        return
    again = audit(space, "random", n=300, random_state=5, chunk=chunk)
    assert json.dumps(again.to_dict()) == json.dumps(whole.to_dict())
    for name in ("bitmap_index", "bitmaps", "passes", "copy_of", "neuron", "som_distance", "scored"):
        np.testing.assert_array_equal(getattr(again, name), getattr(whole, name))


def test_distinct_bitmaps_in_order_of_first_appearance(space):
    report = audit(space, "random", n=2000, random_state=2, chunk=50)
    binary = space.model.inverse_transform(report.Z) > 0.5
    order = list(dict.fromkeys(row.tobytes() for row in binary))
    assert [row.tobytes() for row in report.bitmaps] == order
    np.testing.assert_array_equal(report.bitmaps[report.bitmap_index], binary)
    training = {row.tobytes() for row in space.bitmaps.binary()}
    assert (report.copy_of >= 0).tolist() == [row.tobytes() in training for row in report.bitmaps]


def test_sharing_pairs_and_their_sample_on_a_crowded_map(space):
    crowded = LatentSpace.build(space.bitmaps, space.model, LatentSOM(grid=(1, 2), random_state=0))
    winners = crowded.som.winners(crowded.codes)
    brute = [(i, j) for i in range(17) for j in range(i + 1, 17) if winners[i] == winners[j]]
    assert sharing_pairs(crowded) == brute and len(brute) > 20
    few = audit_points(crowded, "lines", 20, random_state=1)  # more pairs than n / 2: 10 of them, 2 points each
    assert few.shape == (20, 2)
    starts = {tuple(map(float, z)) for z in few[::2]}
    assert len(starts) <= 10 and starts <= {tuple(map(float, crowded.codes[i])) for i, _ in brute}
    np.testing.assert_array_equal(few, audit_points(crowded, "lines", 20, random_state=1))
    assert len(audit_points(crowded, "som-path", 1000)) == (1000 // len(brute)) * len(brute)


def test_an_audit_beyond_the_budget_is_refused_with_the_estimate(space, monkeypatch):
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "8M")
    assert audit(space, "random", n=20_000).counts()["total"] == 20_000
    # 100,000 x 88 bytes for the points, 10,000 x 512 for the scored subsample (12 scores)
    with pytest.raises(MemoryError, match=r"an audit of 100,000 points of 35 pixels would need about 13\.3 MiB, "
                                          r"more than the memory budget of 8\.0 MiB"):
        audit(space, "random", n=100_000)


# ---------------------------------------------------------------- membership: copies, scores, strategies, repeats

def test_copycat_is_pure_memorisation(space):
    report = audit(space, "copycat", n=400, random_state=0)
    assert report.copies()["rate"]["value"] == 1.0 and report.counts(new_only=True)["total"] == 0
    assert report.ratios()["validity"]["value"] == 1.0 and report.ratios()["novelty"]["value"] == 0.0
    pixels = report.membership["pixels"]
    assert pixels["precision"]["value"] == 1.0 and pixels["authenticity"]["value"] == 0.0
    assert report.to_dict()["new"]["ratios"]["validity"]["value"] is None  # nothing to divide by, said so
    assert all(c["auroc"] is None for c in report.roc().values())


def test_every_new_sample_strategy_draws_where_it_says(space):
    occupied = np.bincount(space.som.winners(space.codes), minlength=space.som.n_neurons) > 0
    inside = audit_points(space, "neuron", 3000, random_state=0)
    assert len(inside) == 3000 and occupied[space.som.winners(inside)].all()
    lo, hi = space.box()
    assert ((inside >= lo) & (inside <= hi)).all()
    mixture = fit_mixture(space.codes, random_state=0)
    drawn = audit_points(space, "gmm", 5000, random_state=0)
    assert drawn.shape == (5000, 2)
    # the draws follow the fitted mixture: their mean log-density is its expected value, not the box's
    assert mixture.score_samples(drawn).mean() == pytest.approx(mixture.score(mixture.sample(20_000)[0]), abs=0.1)
    np.testing.assert_array_equal(drawn, audit_points(space, "gmm", 5000, random_state=0))


def test_fit_mixture_chooses_components_by_bic():
    rng = np.random.default_rng(1)
    blobs = np.vstack([rng.normal(c, 0.1, (50, 2)) for c in ([0, 0], [5, 0], [0, 5])])
    assert fit_mixture(blobs, random_state=0).n_components == 3
    assert fit_mixture(rng.normal(size=(12, 2)), random_state=0).n_components <= 4  # at most a third of the items


def test_novelty_counts_the_pixels_to_the_nearest_item_and_the_floor(space):
    report = audit(space, "random", n=3000, random_state=2, min_novelty=2)
    items = space.bitmaps.binary()
    seen = np.unique(report.bitmap_index)
    new_valid = [b for b in seen if report.copy_of[b] < 0 and report.passes[b].all()]
    distances = [int((report.bitmaps[b] != items).sum(axis=1).min()) for b in new_valid]
    novelty = report.novelty()
    assert novelty["histogram"] == {str(d): distances.count(d) for d in sorted(set(distances))}
    assert novelty["yield_at_floor"] == sum(d >= 2 for d in distances)
    assert sum(novelty["histogram"].values()) == report.to_dict()["yield"]["value"]
    with pytest.raises(ParameterError, match="min_novelty"):
        audit(space, "random", n=10, min_novelty=0)


def test_the_regions_strategy_draws_region_by_region(space):
    from genval.latent._regions import region_census

    Z = audit_points(space, "regions", 600, random_state=0)
    census = region_census(space.model, *space.box(), max_side=512)
    decoded = np.packbits(space.model.inverse_transform(Z) > 0.5, axis=1)
    regions = {row.tobytes(): k for k, row in enumerate(np.packbits(census.bitmaps, axis=1))}
    hit = np.bincount([regions[row.tobytes()] for row in decoded], minlength=census.n_regions)
    per_region = 600 // census.n_regions
    assert len(Z) == 600 and set(np.unique(hit)) <= {per_region, per_region + 1}
    wide = LatentSpace.build(space.bitmaps, Autoencoder(n_latent=3, epochs=50, random_state=0).fit(space.bitmaps.X),
                             LatentSOM(grid=(2, 2), random_state=0))
    with pytest.raises(StrategyImpossibleError, match="2-D latent plane"):
        audit_points(wide, "regions", 10)


def test_grid_points_lie_on_the_codes_principal_plane(space):
    from genval import build_space
    from genval.latent._plane import plane

    flat = audit_points(space, "grid", 9)  # 2-D: the codes' own box, corners included
    lo, hi = space.box()
    np.testing.assert_allclose(flat[[0, -1]], [lo, hi])
    font = load_dataset("font")
    wide = build_space(font, Autoencoder(n_latent=3, epochs=50, random_state=0).fit(font.X), grid=(2, 2))
    points = audit_points(wide, "grid", 16)
    origin, axes = plane(wide.codes)
    assert points.shape == (16, 3)
    np.testing.assert_allclose((points - origin) @ axes.T @ axes + origin, points)  # in the plane
    line = build_space(font, Autoencoder(n_latent=1, epochs=20, random_state=0).fit(font.X), grid=(2, 2))
    with pytest.raises(StrategyImpossibleError, match="the 'grid' strategy spans a plane"):
        audit_points(line, "grid", 16)


def test_audit_and_judge_share_one_verdict_per_distinct_bitmap(space):
    report = audit(space, "random", n=800, random_state=2)
    found = judge(report.bitmaps, space.bitmaps)
    np.testing.assert_array_equal(found.valid, report.passes.all(axis=1))
    np.testing.assert_array_equal(found.copy_of, report.copy_of)
