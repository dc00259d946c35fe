import numpy as np
import pytest

from genval import LatentSOM, LatentSpace, VariationalAutoencoder, load_dataset, load_model, wrong_pixels
from genval.audit import audit, compare


def test_vae_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    X = (rng.random((5, 6)) < 0.5).astype(float)
    model = VariationalAutoencoder(hidden=(4, 3), beta=0.7, epochs=3, dtype="float64", random_state=1).fit(X)
    model.params_ = model.params_ + rng.normal(scale=0.1, size=model.params_.shape)
    loss, grad = model.loss_gradient(X, random_state=5)
    theta, numeric, h = model.params_.copy(), np.empty_like(model.params_), 1e-6
    for k in range(theta.size):
        values = []
        for sign in (1, -1):
            model.params_ = theta.copy()
            model.params_[k] += sign * h
            values.append(model.loss_gradient(X, random_state=5)[0])
        numeric[k] = (values[0] - values[1]) / (2 * h)
    model.params_ = theta
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-8)


def test_vae_loss_is_reconstruction_plus_beta_kl():
    X = load_dataset("emojis").X[:4]
    vae = VariationalAutoencoder(hidden=(6,), beta=0.0, epochs=2, dtype="float64", random_state=0).fit(X)
    plain, _ = vae.loss_gradient(X, random_state=1)
    vae.beta = 2.0
    with_kl, _ = vae.loss_gradient(X, random_state=1)
    mu, log_var = vae.encode(X)
    kl = -0.5 * np.sum(1 + log_var - mu ** 2 - np.exp(log_var))
    assert with_kl - plain == pytest.approx(2.0 * kl / X.size)


def test_vae_works_like_an_autoencoder(tmp_path):
    emojis = load_dataset("emojis")
    vae = VariationalAutoencoder(beta=0.1, random_state=0).fit(emojis.X)
    assert wrong_pixels(vae, emojis.X).max() == 0
    assert vae.get_params()["beta"] == 0.1 and vae.get_params()["hidden"] == (25, 15)
    assert vae.transform(emojis.X).shape == (17, 2)
    np.testing.assert_array_equal(vae.transform(emojis.X), vae.encode(emojis.X)[0])
    prior = vae.sample_prior(1000, random_state=0)
    assert prior.shape == (1000, 2) and abs(prior.mean()) < 0.1
    path = tmp_path / "vae.npz"
    vae.save(path)
    again = load_model(path)
    assert isinstance(again, VariationalAutoencoder) and again.beta == 0.1
    np.testing.assert_array_equal(again.transform(emojis.X), vae.transform(emojis.X))
    space = LatentSpace.build(emojis, vae, LatentSOM(grid=(3, 3)))
    report = audit(space, "vae-prior", n=2000, random_state=0)
    assert report.n_total == 2000 and report.check_names == ("eyes", "mouth")
    assert "vae-prior" in [r.strategy for r in compare(space, n=500)]


def test_vae_prior_needs_a_vae(space):
    from genval import GenvalError

    with pytest.raises(GenvalError, match="'vae-prior' strategy samples a variational autoencoder's prior"):
        audit(space, "vae-prior", 10)
    assert "vae-prior" not in [r.strategy for r in compare(space, n=200)]


def test_bad_beta():
    with pytest.raises(ValueError, match="beta must be a number >= 0"):
        VariationalAutoencoder(beta=-1, epochs=2).fit(load_dataset("emojis").X)
