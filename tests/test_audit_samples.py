"""Audits of given samples: genval.audit.audit_samples and `genval audit --samples FILE`."""

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner
from test_schemas import validator

from genval import BitmapSet, load_dataset
from genval.audit import audit_samples, near_copy_threshold
from genval.cli.main import cli
from genval.data._bitmap_text import format_header
from genval.errors import ShapeMismatchError


@pytest.fixture(scope="module")
def emojis():
    return load_dataset("emojis")


def _samples(emojis):
    """Eight copies of the first items, one of them with a pixel flipped, and a blank bitmap."""
    X = np.vstack([emojis.X[:8], np.zeros((1, 35))])
    X[0, 0] = 1 - X[0, 0]
    return X


# --- the library ----------------------------------------------------------------------------------

def test_the_near_copy_threshold_halves_the_median_distance_between_distinct_items():
    rows = [[0] * 8, [1] * 4 + [0] * 4, [1] * 8, [0] * 8]  # nearest-other distances 4, 4, 4 (the duplicate merged)
    assert near_copy_threshold(BitmapSet("abcd", rows, (2, 4))) == (2, 4.0)
    assert near_copy_threshold(BitmapSet("ab", [[0] * 4, [0] * 3 + [1]], (2, 2))) == (1, 1.0)  # at least 1 pixel
    assert near_copy_threshold(BitmapSet("a", [[0] * 4], (2, 2))) == (1, 0.0)
    pairs = np.kron(np.eye(4), [1, 1])  # every two rows 4 pixels apart: any subsample measures 4
    assert near_copy_threshold(BitmapSet("abcd", pairs, (2, 4)), n_items=2) == (2, 4.0)


def test_copies_near_copies_and_distances_are_exact(emojis):
    report = audit_samples(_samples(emojis), emojis, k=2)
    doc = report.to_dict()
    blank = int(emojis.binary().sum(axis=1).min())  # the blank bitmap's distance: the least ink of any item
    assert doc["n"] == 9 and doc["distinct"] == 9
    assert doc["copies"]["rate"]["numerator"] == 7 and doc["copies"]["distinct_items"] == 7
    assert doc["near_copies"]["threshold"] == 1 and doc["near_copies"]["median_item_distance"] == 2.0
    assert doc["near_copies"]["rate"]["numerator"] == 1
    assert report.per_sample()["distance"].tolist() == [1, 0, 0, 0, 0, 0, 0, 0, blank]
    assert doc["item_distance"] == {**doc["item_distance"], "min": 0, "max": blank}
    # The flipped sample is valid; a blank bitmap has no eyes: new samples 1 valid of 2.
    assert doc["validity"]["new"]["numerator"] == 1 and doc["validity"]["new"]["denominator"] == 2
    assert doc["validity"]["beyond_near_copies"]["denominator"] == 1
    assert doc["failures"]["eyes"]["numerator"] == 1 and doc["map_verdict"] is None and doc["model"] is None
    assert doc["membership"]["pixels"]["metric"] == "hamming" and doc["membership"]["n_fake"] == 9
    assert list(validator("audit-samples").iter_errors(json.loads(json.dumps(doc)))) == []


def test_a_given_threshold_and_duplicates(emojis):
    X = _samples(emojis)
    once = audit_samples(X, emojis, k=2, near_copy=35).to_dict()
    assert once["near_copies"]["rate"]["numerator"] == 2 and once["near_copies"]["calibrated"] is False
    twice = audit_samples(np.vstack([X, X]), emojis, k=2, near_copy=35).to_dict()
    assert twice["distinct"] == 9 and twice["n"] == 18
    for part in ("copies", "near_copies"):
        assert twice[part]["rate"]["value"] == once[part]["rate"]["value"]
    assert twice["validity"]["all"]["value"] == once["validity"]["all"]["value"]


def test_the_same_seed_gives_the_same_report_and_the_subsample_is_bounded(emojis):
    rng = np.random.default_rng(0)
    X = (rng.random((300, 35)) < 0.3).astype(float)
    first = audit_samples(X, emojis, max_scored=50, random_state=3)
    assert first.to_dict() == audit_samples(X, emojis, max_scored=50, random_state=3).to_dict()
    assert first.to_dict()["membership"]["n_fake"] == 50 and len(first.scored) == 50
    assert first.to_dict()["copies"]["rate"]["denominator"] == 300
    few = audit_samples(X, emojis, max_scored=10).to_dict()["membership"]  # the training side is subsampled too
    assert (few["n_real"], few["n_training"], few["pixels"]["n_real"], few["pixels"]["n_fake"]) == (10, 17, 10, 10)


def test_shape_mismatches_name_both_shapes(emojis):
    with pytest.raises(ShapeMismatchError, match=r"8x8 .*7x5"):
        audit_samples(np.zeros((3, 8, 8)), emojis)
    with pytest.raises(ShapeMismatchError, match=r"\(3, 64\).*\(n, 7, 5\)"):
        audit_samples(np.zeros((3, 64)), emojis)


def test_grey_samples_are_measured_by_euclidean_distance():
    digits = load_dataset("digits", limit=300)
    doc = audit_samples(digits.X[:40] * 0.9, digits, k=3).to_dict()
    assert doc["membership"]["pixels"]["metric"] == "euclidean"
    assert doc["membership"]["pixels"]["precision"]["value"] > 0.5


def test_with_a_space_each_sample_is_located_on_the_map(space):
    X = space.model.inverse_transform(space.codes[:6] + 0.05)
    report = audit_samples(X, space.bitmaps, space=space, k=2)
    doc = report.to_dict()
    Z = space.model.transform(X)
    neuron = space.som.winners(Z)
    hits = np.bincount(space.som.winners(space.codes), minlength=space.som.n_neurons)
    assert doc["map_verdict"]["occupied"]["numerator"] == int((hits[neuron] > 0).sum())
    assert doc["membership"]["latent"]["n_real"] == 17 and set(doc["scores"]) == {"realism", "nearest_code",
                                                                                  "latent_realism"}


# --- the command ----------------------------------------------------------------------------------

def _files(tmp_path, emojis):
    X = _samples(emojis)
    npy, header = tmp_path / "gen.npy", tmp_path / "gen.h"
    np.save(npy, X.reshape(-1, 7, 5).astype(np.float32))
    header.write_text(format_header(BitmapSet([f"s{i}" for i in range(len(X))], X, (7, 5)), "Generated"))
    return npy, header


def test_samples_json_from_npy_and_header_agree_and_match_the_schema(tmp_path, emojis):
    npy, header = _files(tmp_path, emojis)
    runner = CliRunner()
    docs = []
    for path in (npy, header):
        result = runner.invoke(cli, ["audit", "--samples", str(path), "--json"])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert list(validator("audit-samples").iter_errors(doc)) == []
        docs.append({k: v for k, v in doc.items() if k != "source"})
    assert docs[0] == docs[1] and docs[0]["copies"]["rate"]["numerator"] == 7


def test_samples_with_a_model_csv_and_text(tmp_path, emojis, space):
    npy, _ = _files(tmp_path, emojis)
    model = tmp_path / "model.npz"
    space.model.save(model)
    out = tmp_path / "s.csv"
    result = CliRunner().invoke(cli, ["audit", "--samples", str(npy), "--model", str(model), "--grid", "3x3",
                                      "--csv", str(out), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(validator("audit-samples").iter_errors(doc)) == []
    assert doc["map"]["grid"] == [3, 3] and doc["model"]["file"] == str(model) and "latent" in doc["membership"]
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 9 and [r["copy_of"] for r in rows[1:8]] == list(emojis.names[1:8])
    assert rows[0]["item_distance"] == "1" and rows[0]["near_copy"] == "1" and rows[0]["nearest_item"] == ":)"
    assert {"neuron", "occupied", "som_distance", "score_realism", "score_latent_realism"} <= set(rows[0])
    text = CliRunner().invoke(cli, ["audit", "--samples", str(npy)])
    assert text.exit_code == 0 and "near-copies: 0.111 = 1 / 9" in text.stdout and "null model" in text.stdout


def test_samples_refusals(tmp_path, emojis):
    npy, _ = _files(tmp_path, emojis)
    runner = CliRunner()
    np.save(tmp_path / "digits.npy", np.zeros((3, 8, 8), dtype=np.float32))
    bad = runner.invoke(cli, ["audit", "--samples", str(tmp_path / "digits.npy")])
    assert bad.exit_code == 1 and "8x8" in bad.stderr and "7x5" in bad.stderr and "Traceback" not in bad.output
    assert len(bad.stderr.strip().splitlines()) == 1
    for args in (["--strategy", "gmm"], ["-n", "5"], ["--grid", "3x3"], ["--compare"]):
        result = runner.invoke(cli, ["audit", "--samples", str(npy), *args])
        assert result.exit_code == 2 and args[0] in result.stderr, args
    assert runner.invoke(cli, ["audit", "--near-copy", "2"]).exit_code == 2
    low = runner.invoke(cli, ["audit", "--samples", str(npy), "--min-validity", "0.9"])
    assert low.exit_code == 3 and "below --min-validity" in low.stderr
    assert runner.invoke(cli, ["audit", "--samples", str(npy), "--min-validity", "0.5"]).exit_code == 0


def test_features_of_ones_own_give_the_k_nn_metrics_in_that_space(tmp_path, emojis):
    X = _samples(emojis)
    doc = audit_samples(X, emojis, k=2, features=np.vstack([emojis.X, X])).to_dict()
    # 0/1 features: Euclidean balls hold what the Hamming balls of the pixels hold, so the figures agree.
    figures = ("precision", "recall", "density", "coverage", "authenticity")
    assert [doc["membership"]["features"][f]["value"] for f in figures] == \
        [doc["membership"]["pixels"][f]["value"] for f in figures]
    assert doc["membership"]["features"]["metric"] == "euclidean" and "feature_realism" in doc["scores"]
    with pytest.raises(ShapeMismatchError, match=r"\(25, 35\).*\(26, d\)"):
        audit_samples(X, emojis, features=np.vstack([emojis.X, X[:8]]))
    npy, _ = _files(tmp_path, emojis)
    good, short = tmp_path / "f.npy", tmp_path / "short.npy"
    np.save(good, np.vstack([emojis.X, X]))
    np.save(short, emojis.X)
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "--samples", str(npy), "--features", str(good), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["membership"]["features"]["n_fake"] == 9
    bad = runner.invoke(cli, ["audit", "--samples", str(npy), "--features", str(short)])
    assert bad.exit_code == 1 and len(bad.stderr.strip().splitlines()) == 1 and "(17, 35)" in bad.stderr
    assert runner.invoke(cli, ["audit", "--features", str(good)]).exit_code == 2


def test_a_feature_function_gives_what_the_same_features_as_an_array_give(emojis):
    X = _samples(emojis)

    def halves(P):  # ink in the left and the right halves of each row band: a small embedding
        assert P.dtype == np.float32 and P.ndim == 2
        img = P.reshape(len(P), 7, 5)
        return np.concatenate([img[:, :, :2].sum(axis=2), img[:, :, 3:].sum(axis=2)], axis=1)

    from_function = audit_samples(X, emojis, k=2, features=halves).to_dict()["membership"]["features"]
    as_array = audit_samples(X, emojis, k=2, features=np.vstack([halves(emojis.X.astype(np.float32)),
                                                                 halves(X.astype(np.float32))]))
    assert from_function == as_array.to_dict()["membership"]["features"]


@pytest.mark.parametrize("body, message", [
    ("return P[:-1]",
     r"the feature function bad returned an array of shape \(16, 35\) for 17 rows; expected \(17, d\)"),
    ("return P.sum(axis=1)", r"returned an array of shape \(17,\) for 17 rows"),
    ("return np.full((len(P), 2), np.nan)", "the feature function bad returned NaN or infinite values"),
    ("return np.zeros((len(P), 2), dtype=complex)", "returned complex128 values; expected real numbers"),
    ("raise RuntimeError('no GPU')", "the feature function bad failed on 17 rows: RuntimeError: no GPU"),
])
def test_a_bad_feature_function_is_refused_in_one_line_naming_it(emojis, tmp_path, monkeypatch, body, message):
    from genval.errors import ParameterError

    module = f"featmod_{tmp_path.name}"  # a module of its own for each case: Python caches imported modules
    (tmp_path / f"{module}.py").write_text(f"import numpy as np\n\n\ndef bad(P):\n    {body}\n")
    monkeypatch.chdir(tmp_path)
    from genval.audit import import_features

    with pytest.raises(ParameterError, match=message):
        audit_samples(_samples(emojis), emojis, k=2, features=import_features(f"{module}:bad"))
    np.save(tmp_path / "s.npy", _samples(emojis).reshape(-1, 7, 5))
    result = CliRunner().invoke(cli, ["audit", "--samples", "s.npy", "--features", f"{module}:bad"])
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "the feature function bad" in result.stderr


def test_a_feature_function_from_the_current_folder_through_the_cli(emojis, tmp_path, monkeypatch):
    (tmp_path / "myfeatures.py").write_text("def embed(P):\n    return P[:, :10] * 2\n")
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "s.npy", _samples(emojis).reshape(-1, 7, 5))
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "--samples", "s.npy", "--features", "myfeatures:embed", "--json"])
    assert result.exit_code == 0, result.output
    features = json.loads(result.stdout)["membership"]["features"]
    assert features["n_fake"] == 9 and features["n_real"] == 17
    for spec, message in (("myfeatures:nothing", "myfeatures has no 'nothing'"),
                          ("nomodule:embed", "importing nomodule failed: ModuleNotFoundError")):
        result = runner.invoke(cli, ["audit", "--samples", "s.npy", "--features", spec])
        assert result.exit_code == 1 and message in result.stderr, spec


def test_feature_functions_are_called_in_chunks_of_the_budget():
    from genval.audit import call_features

    sizes = []

    def record(P):
        sizes.append(len(P))
        return P[:, :2]

    X = np.random.default_rng(0).random((100, 16))
    F = call_features(record, X, budget=8 * 64 * 16 * 10)  # ten rows a chunk
    assert sizes == [10] * 10 and np.array_equal(F, X[:, :2].astype(np.float32).astype(np.float64))
