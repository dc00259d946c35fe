import csv
import json

import numpy as np
import pytest
from scipy import ndimage

from genval import Autoencoder, GenvalError, LatentSOM, LatentSpace, load_dataset
from genval.audit import audit, audit_points, compare, sharing_pairs
from genval.validity import CheckSet, check_emoji


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
    assert report.ambiguity == pytest.approx(np.abs(pixels - 0.5).mean())
    np.testing.assert_array_equal(report.valid, valid)


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
    with pytest.raises(GenvalError, match="no two items share a neuron on the 8x8 map"):
        audit(lonely, "lines", 100)
    assert [r.strategy for r in compare(lonely, n=200)] == ["random", "prior", "grid"]


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
    assert list(rows[0]) == ["sample", "z1", "z2", "neuron", "bitmap", "valid", "failed"]
    decoded = space.model.inverse_transform(report.Z) > 0.5
    neurons = space.som.predict(report.Z)
    for k, (row, valid) in enumerate(zip(rows, report.valid)):
        assert int(row["sample"]) == k
        np.testing.assert_allclose([float(row["z1"]), float(row["z2"])], report.Z[k], rtol=1e-5)
        assert row["bitmap"] == "".join("1" if p else "0" for p in decoded[k])
        verdict = check_emoji(decoded[k])
        assert row["valid"] == str(int(valid)) == str(int(verdict.valid))
        assert row["failed"] == ";".join(verdict.failed)
        assert int(row["neuron"]) == neurons[k] + 1


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
    with pytest.raises(GenvalError, match="'vae-prior' strategy samples a variational autoencoder's prior"):
        audit(space, "vae-prior", 10)
    assert "vae-prior" not in [r.strategy for r in compare(space, n=200)]


# ---------------------------------------------------------------- bounded memory

@pytest.mark.parametrize("budget, chunk", [("1", None), ("1", 1), ("200K", 7), ("1G", None)])
def test_audit_in_chunks_of_any_size_is_the_same_audit(space, monkeypatch, budget, chunk):
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1G")
    whole = audit(space, "random", n=300, random_state=5)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", budget)
    if budget == "1":  # every chunk one point; only the report's own arrays need room
        monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "60K")
        assert audit(space, "random", n=300, random_state=5, chunk=1).to_dict() == whole.to_dict()
        return
    again = audit(space, "random", n=300, random_state=5, chunk=chunk)
    assert json.dumps(again.to_dict()) == json.dumps(whole.to_dict())
    for name in ("bitmap_index", "bitmaps", "passes", "in_training", "neuron"):
        np.testing.assert_array_equal(getattr(again, name), getattr(whole, name))


def test_distinct_bitmaps_in_order_of_first_appearance(space):
    report = audit(space, "random", n=2000, random_state=2, chunk=50)
    binary = space.model.inverse_transform(report.Z) > 0.5
    order = list(dict.fromkeys(row.tobytes() for row in binary))
    assert [row.tobytes() for row in report.bitmaps] == order
    np.testing.assert_array_equal(report.bitmaps[report.bitmap_index], binary)
    training = {row.tobytes() for row in space.bitmaps.binary()}
    assert report.in_training.tolist() == [row.tobytes() in training for row in report.bitmaps]


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
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1M")
    assert audit(space, "random", n=5000).counts()["total"] == 5000
    with pytest.raises(MemoryError, match=r"an audit of 20,000 points of 35 pixels would need about 1\.5 MiB, "
                                          r"more than the memory budget of 1\.0 MiB"):
        audit(space, "random", n=20_000)
