import numpy as np
import pytest

from genval import Autoencoder, BitmapSet, ParameterError, load_dataset
from genval.denoise import DENOISER, denoise_report, make_denoiser
from genval.noise import make_noise

ITEMS = BitmapSet(["a", "b", "c"], [[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 1, 1]], (2, 2))


@pytest.fixture(scope="module")
def small_model():
    return Autoencoder(hidden=(4,), epochs=300, random_state=0).fit(ITEMS.X)


def oracle(model, bitmaps, levels, noise, trials, seed):
    """denoise_report written out sample by sample: the same noisy copies, brute-force nearest items."""
    rng = np.random.default_rng(seed)
    clean = np.tile(bitmaps.X, (trials, 1))
    truth = [i for _ in range(trials) for i in range(len(bitmaps))]
    training = bitmaps.X > 0.5
    results = []
    for level in levels:
        noisy = make_noise(noise)(clean, level, rng)
        restored = model.reconstruct(noisy) > 0.5
        exact = within = bound_exact = bound_within = 0.0
        for copy, out, item in zip(noisy > 0.5, restored, truth):
            wrong = int((out != training[item]).sum())
            exact += wrong == 0
            within += wrong <= 1
            distances = [int((copy != t).sum()) for t in training]
            tied = [j for j, d in enumerate(distances) if d == min(distances)]
            bound_exact += (item in tied) / len(tied)
            bound_within += sum(int((training[j] != training[item]).sum()) <= 1 for j in tied) / len(tied)
        n = len(truth)
        results.append((level, n, exact / n, within / n, bound_exact / n, bound_within / n))
    return results


@pytest.mark.parametrize("noise, levels", [("flip", [0.0, 0.2, 0.5]), ("gaussian", [0.1, 0.4])])
def test_report_matches_a_sample_by_sample_oracle(small_model, noise, levels):
    report = denoise_report(small_model, ITEMS, levels, noise=noise, trials=50, random_state=7)
    expected = oracle(small_model, ITEMS, levels, noise, trials=50, seed=7)
    assert [(r.level, r.samples) for r in report] == [e[:2] for e in expected]
    for result, (*_, exact, within, bound_exact, bound_within) in zip(report, expected):
        assert (result.restored, result.within_one) == (exact, within)
        assert result.bound_restored == pytest.approx(bound_exact, abs=1e-12)
        assert result.bound_within_one == pytest.approx(bound_within, abs=1e-12)


def test_the_examples_are_the_first_copies_scored(small_model):
    levels = [0.0, 0.3, 1.0]
    report = denoise_report(small_model, ITEMS, levels, trials=4, random_state=3, examples=2)
    shown = report.examples
    assert shown.names == ("a", "b")
    np.testing.assert_array_equal(shown.clean, ITEMS.X[:2])
    assert shown.noisy.shape == shown.restored.shape == (3, 2, 4)
    np.testing.assert_array_equal(shown.noisy[0], ITEMS.X[:2])  # p = 0 changes nothing
    np.testing.assert_array_equal(shown.noisy[2], 1 - ITEMS.X[:2])  # p = 1 flips every pixel
    rng = np.random.default_rng(3)  # the copies the report drew, level after level
    drawn = [make_noise("flip")(np.tile(ITEMS.X, (4, 1)), p, rng) for p in levels]
    np.testing.assert_array_equal(shown.noisy, np.array([d[:2] for d in drawn]))
    np.testing.assert_array_equal(shown.restored, np.array([small_model.reconstruct(d[:2]) for d in drawn]))
    assert len(denoise_report(small_model, ITEMS, [0.1], trials=1, examples=12).examples.names) == 3


def test_bound_on_noise_levels_with_known_outcomes():
    items = BitmapSet(["a", "b"], [[1, 1, 0, 0], [1, 0, 1, 0]], (2, 2))
    model = Autoencoder(hidden=(4,), epochs=3000, stop_wrong_pixels=0, random_state=0).fit(items.X)
    clean, flipped = denoise_report(model, items, [0.0, 1.0], trials=3)
    assert (clean.samples, clean.restored, clean.within_one, clean.bound_restored) == (6, 1.0, 1.0, 1.0)
    # Every pixel flipped: a becomes 0011, 2 pixels from b and 4 from a; b becomes 0101, nearer a;
    # and a and b are 2 pixels apart, so not even within one.
    assert (flipped.bound_restored, flipped.bound_within_one) == (0.0, 0.0)


def test_ties_are_shared_evenly():
    items = BitmapSet(["a", "b"], [[1, 0], [0, 1]], (1, 2))
    model = Autoencoder(hidden=(2,), epochs=2).fit(items.X)
    # At p = 0.5 the copy of a is 10 (right), 01 (wrong), or 00 / 11 (tied: half right),
    # each a quarter of the time: 0.25 + 0.25 * 0.5 * 2 = 0.5.
    result = denoise_report(model, items, [0.5], trials=4000, random_state=1)[0]
    assert result.bound_restored == pytest.approx(0.5, abs=0.02)
    certain = denoise_report(model, items, [1.0], trials=3)[0]  # 10 -> 01: always the other item
    assert certain.bound_restored == 0.0


def test_the_standard_denoiser_comes_within_3_points_of_the_bound_on_the_font():
    font = load_dataset("font")
    model = Autoencoder(**DENOISER, random_state=0).fit(font.X)
    low, mid = denoise_report(model, font, [0.10, 0.15], trials=200, random_state=0)
    assert low.bound_restored == pytest.approx(0.98, abs=0.01) and mid.bound_restored == pytest.approx(0.94, abs=0.01)
    assert low.restored >= low.bound_restored - 0.03
    assert mid.restored >= mid.bound_restored - 0.03
    assert low.within_one >= low.restored


def test_make_denoiser_is_the_standard_one_with_overrides():
    standard = make_denoiser().get_params()
    assert {k: standard[k] for k in DENOISER} == DENOISER
    assert (standard["noise"], standard["random_state"]) == ("flip", 0)
    changed = make_denoiser("gaussian", [0.2], 50, 3).get_params()
    assert {k: v for k, v in changed.items() if standard[k] != v} == {
        "noise": "gaussian", "noise_levels": (0.2,), "epochs": 50, "random_state": 3}


@pytest.mark.parametrize("kwargs, message", [
    ({"levels": [0.1, 1.5]}, r"^noise levels must be in \[0, 1\], got 1.5$"),
    ({"levels": [-0.1]}, r"^noise levels must be in \[0, 1\], got -0.1$"),
    ({"levels": [0.1], "trials": 0}, r"^trials must be at least 1, got 0$"),
])
def test_bad_arguments(small_model, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        denoise_report(small_model, ITEMS, **kwargs)

