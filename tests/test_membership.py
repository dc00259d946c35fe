"""Rule-free membership metrics against brute-force transcriptions of their definitions."""

import numpy as np
import pytest

from genval.errors import ParameterError
from genval.checks._membership import (DEFINITIONS, MembershipMetrics, knn_radii, membership_metrics, nearest_distance,
                               realism)


# ----------------------------------------------------------------------------- the definitions, transcribed

def _dist(A, B, metric):
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    out = np.empty((len(A), len(B)))
    for i in range(len(A)):
        for j in range(len(B)):
            diff = A[i] - B[j]
            out[i, j] = np.abs(diff).sum() if metric == "hamming" else np.sqrt((diff * diff).sum())
    return out


def _radius(X, k, metric):
    D = _dist(X, X, metric)
    return np.array([np.sort(np.delete(D[i], i))[k - 1] for i in range(len(X))])


def _brute(real, fake, k, metric):
    rr = _radius(real, k, metric)
    rf = _radius(fake, k, metric)
    r1 = _radius(real, 1, metric)
    D = _dist(fake, real, metric)  # D[j, i] = d(fake j, real i)
    M, N = D.shape
    precision = np.mean([any(D[j, i] <= rr[i] for i in range(N)) for j in range(M)])
    recall = np.mean([any(D[j, i] <= rf[j] for j in range(M)) for i in range(N)])
    density = sum(D[j, i] <= rr[i] for j in range(M) for i in range(N)) / (k * M)
    coverage = np.mean([min(D[:, i]) <= rr[i] for i in range(N)])
    nearest = [int(np.argmin(D[j])) for j in range(M)]  # argmin: the first of ties
    authenticity = np.mean([D[j, nearest[j]] > r1[nearest[j]] for j in range(M)])
    with np.errstate(divide="ignore"):
        score = np.array([max(np.inf if D[j, i] == 0 else rr[i] / D[j, i] for i in range(N)) for j in range(M)])
    return dict(precision=precision, recall=recall, density=density, coverage=coverage,
                authenticity=authenticity, radii=rr, nearest=np.array(nearest),
                distance=D[np.arange(M), nearest], realism=score)


def _binary_fixture(seed):
    """Small binary sets full of ties and duplicates: few pixels, items copied, fakes copying reals."""
    rng = np.random.default_rng(seed)
    real = rng.random((30, 9)) < 0.4
    real[20:25] = real[0:5]
    fake = rng.random((25, 9)) < 0.5
    fake[:6] = real[3:9]
    fake[10:13] = fake[13]
    return real, fake


def _grey_fixture(seed):
    """Grey levels on a coarse grid (exact ties in squared distances) with duplicates."""
    rng = np.random.default_rng(seed)
    real = rng.integers(0, 4, (28, 5)).astype(np.float64) / 4
    real[10:13] = real[0]
    fake = rng.integers(0, 4, (22, 5)).astype(np.float64) / 4
    fake[:4] = real[5:9]
    return real, fake


FIXTURES = [(_binary_fixture, "hamming"), (_binary_fixture, "euclidean"), (_grey_fixture, "euclidean")]


@pytest.mark.parametrize("make,metric", FIXTURES)
@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_every_metric_equals_its_brute_force_definition(make, metric, k, seed):
    real, fake = make(seed)
    want = _brute(real, fake, k, metric)
    got = membership_metrics(real, fake, k=k, metric=metric)
    for name in DEFINITIONS:
        assert getattr(got, name) == pytest.approx(want[name], abs=1e-12), name
    assert (got.k, got.n_real, got.n_fake, got.metric) == (k, len(real), len(fake), metric)
    np.testing.assert_allclose(knn_radii(real, k=k, metric=metric), want["radii"], rtol=1e-12)
    distance, index = nearest_distance(real, fake, metric=metric)
    np.testing.assert_array_equal(index, want["nearest"])
    np.testing.assert_allclose(distance, want["distance"], rtol=1e-12)
    np.testing.assert_allclose(realism(real, fake, k=k, metric=metric), want["realism"], rtol=1e-12)


def test_tie_free_floats_equal_brute_force_and_bounds_hold():
    # Many points in few dimensions: lots of pairs close to a radius, where float32 alone would misjudge.
    rng = np.random.default_rng(3)
    real = rng.normal(size=(150, 3)) * 1e3 + 5e3
    fake = rng.normal(size=(140, 3)) * 1e3 + 5e3
    for k in (1, 4):
        want = _brute(real, fake, k, "euclidean")
        got = membership_metrics(real, fake, k=k)
        for name in DEFINITIONS:
            assert getattr(got, name) == pytest.approx(want[name], abs=1e-12), name
        np.testing.assert_allclose(realism(real, fake, k=k), want["realism"], rtol=1e-12)


@pytest.mark.parametrize("name", ["tiny", "offset", "huge", "uint8", "float32"])
def test_any_units_and_dtypes_equal_brute_force(name):
    # Scaled by a power of two and centred before float32: no overflow, underflow or lost digits.
    rng = np.random.default_rng(0)
    real, fake = rng.random((40, 6)), rng.random((35, 6))
    real, fake = {"tiny": (real * 1e-30, fake * 1e-30), "offset": (real + 1e6, fake + 1e6),
                  "huge": (real * 1e30, fake * 1e30),
                  "uint8": (rng.integers(0, 256, (40, 784)).astype(np.uint8),
                            rng.integers(0, 256, (35, 784)).astype(np.uint8)),
                  "float32": (real.astype(np.float32), fake.astype(np.float32))}[name]
    for k in (1, 3):
        want = _brute(real, fake, k, "euclidean")
        got = membership_metrics(real, fake, k=k, budget=8192)
        for metric in DEFINITIONS:
            assert getattr(got, metric) == pytest.approx(want[metric], abs=1e-12), metric
        np.testing.assert_allclose(realism(real, fake, k=k), want["realism"], rtol=1e-12)
        distance, index = nearest_distance(real, fake)
        np.testing.assert_array_equal(index, want["nearest"])
        np.testing.assert_allclose(distance, want["distance"], rtol=1e-12)


def test_hamming_distances_are_exact_integers():
    rng = np.random.default_rng(0)
    real = rng.random((40, 300)) < 0.5
    fake = rng.random((17, 300)) < 0.5
    distance, index = nearest_distance(real, fake, metric="hamming")
    assert distance.dtype == np.int64
    want = (fake[:, None, :] != real[None, :, :]).sum(axis=2)
    np.testing.assert_array_equal(distance, want.min(axis=1))
    np.testing.assert_array_equal(index, want.argmin(axis=1))
    radii = knn_radii(real, k=3, metric="hamming")
    R = (real[:, None, :] != real[None, :, :]).sum(axis=2) + np.diag(np.full(len(real), 10**6))
    np.testing.assert_array_equal(radii, np.sort(R, axis=1)[:, 2])


def test_identical_sets_score_one_not_zero():
    # Each bitmap three times: with k=2 every radius is 0, and a strict < would put nothing in any ball.
    real = np.repeat(np.eye(4, dtype=bool), 3, axis=0)
    m = membership_metrics(real, real[::-1], k=2, metric="hamming")
    assert (m.precision, m.recall, m.density, m.coverage, m.authenticity) == (1.0, 1.0, 1.5, 1.0, 0.0)
    np.testing.assert_array_equal(knn_radii(real, k=2, metric="hamming"), 0)
    # All radii tie with a distance: one-hot rows are all 2 apart.
    real = np.eye(6, dtype=bool)
    m = membership_metrics(real, real.copy(), k=2, metric="hamming")
    assert (m.precision, m.recall, m.coverage, m.authenticity) == (1.0, 1.0, 1.0, 0.0)
    assert m.density == 6 / 2  # each one-hot row lies in all six balls of radius 2


def test_a_generator_of_training_items_has_authenticity_zero_and_precision_one():
    rng = np.random.default_rng(1)
    real = rng.random((200, 10))
    fake = real[rng.integers(0, 200, 150)]
    m = membership_metrics(real, fake, k=5)
    assert m.precision == 1.0 and m.authenticity == 0.0
    assert np.isinf(realism(real, fake)).all()
    same = membership_metrics(real, real, k=5)
    assert (same.precision, same.recall, same.coverage, same.authenticity) == (1.0, 1.0, 1.0, 0.0)


def test_coverage_of_two_samples_of_one_distribution_is_near_its_expectation():
    rng = np.random.default_rng(7)
    N = M = 3000
    k = 5
    real = rng.normal(size=(N, 4))
    fake = rng.normal(size=(M, 4))
    expected = 1 - np.prod([(N - i) / (N + M - i) for i in range(1, k + 1)])  # 0.969
    # Coverage is a mean of N indicators with variance at most p(1-p); 6 standard errors cannot flake.
    assert abs(membership_metrics(real, fake, k=k).coverage - expected) < 6 * np.sqrt(expected * (1 - expected) / N)


@pytest.mark.parametrize("make,metric", FIXTURES)
def test_chunked_equals_unchunked(make, metric, monkeypatch):
    real, fake = make(4)
    whole = membership_metrics(real, fake, k=3, metric=metric, budget=2**30)
    tiny = membership_metrics(real, fake, k=3, metric=metric, budget=2048)
    assert whole == tiny
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "3K")
    assert membership_metrics(real, fake, k=3, metric=metric) == whole
    np.testing.assert_array_equal(realism(real, fake, k=3, metric=metric),
                                  realism(real, fake, k=3, metric=metric, budget=2**30))
    for a, b in zip(nearest_distance(real, fake, metric=metric), nearest_distance(real, fake, metric=metric,
                                                                                    budget=2**30)):
        np.testing.assert_array_equal(a, b)


def test_realism_at_least_one_exactly_inside_a_ball_and_pruning_leaves_out_large_balls():
    real, fake = _grey_fixture(2)
    score = realism(real, fake, k=3)
    assert np.mean(score >= 1) == membership_metrics(real, fake, k=3).precision
    real = np.array([[0.0], [1.0], [2.0], [3.0], [100.0]])
    # The far item's ball (radius 97) makes 50 realistic unless pruned away.
    assert realism(real, [[50.0]], k=1)[0] == pytest.approx(97 / 50)
    assert realism(real, [[50.0]], k=1, prune=True)[0] == pytest.approx(1 / 47)


def test_to_dict_is_json_ready():
    import json
    m = membership_metrics(np.eye(4), np.eye(4)[::-1], k=2)
    doc = json.loads(json.dumps(m.to_dict()))
    assert doc["k"] == 2 and doc["n_real"] == 4 and doc["n_fake"] == 4 and doc["metric"] == "euclidean"
    assert doc["precision"] == {"value": 1.0, "definition": DEFINITIONS["precision"]}
    assert isinstance(m, MembershipMetrics)


@pytest.mark.parametrize("call,match", [
    (lambda: membership_metrics(np.zeros((5, 2)), np.zeros((5, 3))), "same width"),
    (lambda: membership_metrics(np.zeros((0, 2)), np.zeros((5, 2)), k=1), "at least k \\+ 1"),
    (lambda: membership_metrics(np.zeros((5, 2)), np.zeros((5, 2)), k=5), "k=5 needs at least"),
    (lambda: membership_metrics(np.zeros((9, 2)), np.zeros((3, 2)), k=3), "fake rows"),
    (lambda: membership_metrics(np.full((9, 2), np.nan), np.zeros((9, 2)), k=3), "NaN"),
    (lambda: membership_metrics(np.zeros((9, 2)), np.zeros((9, 2)), k=0), "positive integer"),
    (lambda: membership_metrics(np.zeros((9, 2)), np.zeros((9, 2)), metric="cosine"), "euclidean"),
    (lambda: knn_radii(np.full((9, 2), 0.5), k=2, metric="hamming"), "binary"),
    (lambda: knn_radii(np.zeros(9), k=2), "2-D"),
    (lambda: nearest_distance(np.zeros((0, 2)), np.zeros((3, 2))), "at least one row"),
])
def test_bad_input_is_refused_with_a_parameter_error(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_values_equal_prdc_on_tie_free_floats():
    prdc = pytest.importorskip("prdc")
    rng = np.random.default_rng(5)
    real = rng.random((400, 20))
    fake = rng.random((380, 20)) * 1.1
    want = prdc.compute_prdc(real, fake, nearest_k=5)
    got = membership_metrics(real, fake, k=5)
    for name in ("precision", "recall", "density", "coverage"):
        assert getattr(got, name) == pytest.approx(float(want[name]), abs=1e-12), name


def test_any_small_set_matches_the_definitions():
    hypothesis = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")
    extra = pytest.importorskip("hypothesis.extra.numpy")

    @hypothesis.settings(max_examples=60, deadline=None, derandomize=True)
    @hypothesis.given(real=extra.arrays(np.int8, st.tuples(st.integers(4, 12), st.just(4)), elements=st.integers(0, 2)),
                      fake=extra.arrays(np.int8, st.tuples(st.integers(4, 12), st.just(4)), elements=st.integers(0, 2)),
                      k=st.integers(1, 3))
    def check(real, fake, k):
        # Values 0..2 on 4 pixels: ties and duplicates everywhere, squared distances exact.
        want = _brute(real, fake, k, "euclidean")
        got = membership_metrics(real, fake, k=k, budget=4096)
        for name in DEFINITIONS:
            assert getattr(got, name) == pytest.approx(want[name], abs=1e-12), name
        np.testing.assert_allclose(realism(real, fake, k=k, budget=4096), want["realism"], rtol=1e-12)

    check()
