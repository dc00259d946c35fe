import numpy as np
import pytest

from genval import Autoencoder, load_dataset
from genval.data._noise import flip_noise, gaussian_noise, make_noise


def test_flip_noise_flips_at_the_given_rate_and_is_seeded():
    X = np.zeros((2000, 35))
    noisy = flip_noise(X, 0.1, np.random.default_rng(0))
    assert set(np.unique(noisy)) == {0.0, 1.0}
    assert noisy.mean() == pytest.approx(0.1, abs=0.005)
    np.testing.assert_array_equal(noisy, flip_noise(X, 0.1, np.random.default_rng(0)))
    assert X.sum() == 0  # a new array; the input is untouched
    ones = flip_noise(np.ones((1, 5)), 1.0, np.random.default_rng(1))
    np.testing.assert_array_equal(ones, np.zeros((1, 5)))
    per_row = flip_noise(np.zeros((2, 4000)), np.array([[0.0], [0.5]]), np.random.default_rng(2))
    assert per_row[0].sum() == 0 and per_row[1].mean() == pytest.approx(0.5, abs=0.03)


def test_gaussian_noise_is_clipped():
    noisy = gaussian_noise(np.full((1000, 35), 0.5), 0.2, np.random.default_rng(0))
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert noisy.std() == pytest.approx(0.2, abs=0.01)
    with pytest.raises(ValueError, match="unknown noise 'pink'; choose one of flip, gaussian"):
        make_noise("pink")


def test_denoising_training_restores_noisy_glyphs_better_than_plain_training():
    font = load_dataset("font")
    rng = np.random.default_rng(5)
    clean = np.tile(font.X, (30, 1))
    noisy = flip_noise(clean, 0.1, rng)

    def restored(model):
        return ((model.reconstruct(noisy) > 0.5) == (clean > 0.5)).all(axis=1).mean()

    plain = Autoencoder(hidden=(64, 32), n_latent=8, epochs=600, random_state=0).fit(font.X)
    denoiser = Autoencoder(hidden=(64, 32), n_latent=8, epochs=600, noise_levels=(0.0, 0.1, 0.15),
                           noise_copies=4, random_state=0).fit(font.X)
    assert restored(denoiser) > restored(plain) + 0.2
    assert restored(denoiser) > 0.8
    again = Autoencoder(hidden=(64, 32), n_latent=8, epochs=20, noise_levels=(0.1,), random_state=0).fit(font.X)
    same = Autoencoder(hidden=(64, 32), n_latent=8, epochs=20, noise_levels=(0.1,), random_state=0).fit(font.X)
    np.testing.assert_array_equal(again.params_, same.params_)
    batched = Autoencoder(epochs=5, noise_levels=(0.1, 0.2), batch_size=16, random_state=0).fit(font.X)
    assert len(batched.loss_curve_) == 5


def test_bad_noise_settings():
    X = load_dataset("emojis").X
    with pytest.raises(ValueError, match=r"noise_levels must be a tuple of numbers in \[0, 1\]"):
        Autoencoder(epochs=2, noise_levels=(1.5,)).fit(X)
    with pytest.raises(ValueError, match="unknown noise 'pink'"):
        Autoencoder(epochs=2, noise="pink", noise_levels=(0.1,)).fit(X)


def test_image_gaussian_noise_uses_each_images_own_mean_and_spread():
    from genval.data._noise import image_gaussian_noise

    rng = np.random.default_rng(0)
    X = np.vstack([np.full(20000, 0.2), np.where(np.arange(20000) % 2, 0.3, 0.5)])
    noisy = image_gaussian_noise(X, 0.5, rng)
    delta = noisy - X  # no clipping at these levels: 0.2 + 0.5 * N(0.2, 0) and 0.3/0.5 + 0.5 * N(0.4, 0.1)
    np.testing.assert_allclose(delta[0], 0.1)
    assert delta[1].mean() == pytest.approx(0.2, abs=0.002) and delta[1].std() == pytest.approx(0.05, abs=0.002)
    feature_major = image_gaussian_noise(X.T, 0.5, np.random.default_rng(0), axis=0)
    assert feature_major.T[0] == pytest.approx(noisy[0])
