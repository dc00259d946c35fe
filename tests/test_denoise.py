import numpy as np
import pytest

from genval import Autoencoder, BitmapSet, load_dataset
from genval.denoise import DENOISER, denoise_report


def test_bound_on_noise_levels_with_known_outcomes():
    items = BitmapSet(["a", "b"], [[1, 1, 0, 0], [1, 0, 1, 0]], (2, 2))
    model = Autoencoder(hidden=(4,), epochs=3000, stop_wrong_pixels=0, random_state=0).fit(items.X)
    clean, flipped = denoise_report(model, items, [0.0, 1.0], trials=3)
    assert clean.samples == 6 and clean.restored == 1.0 and clean.bound_restored == 1.0
    # Every pixel flipped: a becomes 0011, 2 pixels from b and 4 from a; b becomes 0101, nearer a.
    assert flipped.bound_restored == 0.0


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


def test_bad_levels():
    font = load_dataset("font")
    model = Autoencoder(epochs=2).fit(font.X)
    with pytest.raises(ValueError, match=r"noise levels must be in \[0, 1\]"):
        denoise_report(model, font, [1.5])
    with pytest.raises(ValueError, match="trials must be at least 1"):
        denoise_report(model, font, [0.1], trials=0)
    assert np.isfinite(denoise_report(model, font, [0.1], noise="gaussian", trials=2)[0].restored)
