"""The model protocol: any fitted model with transform, inverse_transform and n_features_in_ is mapped and audited."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

import genval
from genval import Autoencoder, LatentSOM, VariationalAutoencoder, build_space, load_dataset
from genval.audit._audit import audit
from genval.audit._strategies import audit_points
from genval.errors import GenvalError, NotAModelError, ParameterError, ShapeMismatchError
from genval.models._external import pca_model
from genval.models._protocol import (
    ForeignModel, LatentModel, PriorModel, as_latent_model, check_model, has_prior, latent_width, model_kind,
)
from genval.latent import LatentSpace, latent_grid, walk
from genval.pipeline import build_embedding


@pytest.fixture(scope="module")
def emojis():
    return load_dataset("emojis")


class Linear:
    """The smallest model under the protocol: a fixed linear code, a sigmoid decoder, in plain NumPy."""

    def __init__(self, n_features, n_latent=2, seed=0):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(size=(n_features, n_latent))
        self.n_features_in_ = n_features

    def transform(self, X):
        return (np.asarray(X) - 0.5) @ self.W

    def inverse_transform(self, Z):
        return 1 / (1 + np.exp(-(np.asarray(Z) @ self.W.T)))


class WithPrior(Linear):
    def sample_prior(self, n, random_state=None):
        return np.random.default_rng(random_state).normal(size=(n, self.W.shape[1]))


def test_build_space_takes_a_fitted_pca_and_decodes_it_clipped(emojis):
    pca = PCA(2).fit(emojis.X)
    space = build_space(emojis, pca, grid=(3, 3))
    assert space.model.kind == "pca" and space.model.estimator is pca
    np.testing.assert_array_equal(space.codes, pca.transform(emojis.X))
    Z = np.array([[0.0, 0.0], [40.0, -40.0]])  # the second far outside the codes: PCA's pixels leave [0, 1]
    raw = pca.inverse_transform(Z)
    assert raw.min() < 0 and raw.max() > 1
    np.testing.assert_array_equal(space.locate(Z).pixels, np.clip(raw, 0, 1))


def test_lacking_the_protocol_is_one_clear_error_naming_what_is_missing(emojis):
    with pytest.raises(NotAModelError, match=r"the model \(an object\) lacks transform, inverse_transform, "
                                             r"n_features_in_"):
        build_space(emojis, object())
    with pytest.raises(NotAModelError, match=r"lacks inverse_transform: "):
        check_model(type("EncoderOnly", (), {"transform": lambda self, X: X, "n_features_in_": 35})())
    with pytest.raises(ParameterError, match=r"\(a PCA\) has no n_features_in_: it is not fitted"):
        build_space(emojis, PCA(2))
    assert issubclass(NotAModelError, TypeError) and issubclass(NotAModelError, GenvalError)


def test_genval_models_pass_as_they_are_and_others_are_wrapped(emojis):
    model = Autoencoder(epochs=5).fit(emojis.X)
    assert as_latent_model(model) is model and model_kind(model) == "autoencoder"
    assert isinstance(model, LatentModel) and not isinstance(model, PriorModel)
    vae = VariationalAutoencoder(epochs=5).fit(emojis.X)
    assert isinstance(vae, PriorModel) and has_prior(vae) and model_kind(vae) == "vae"
    wrapped = as_latent_model(Linear(35))
    assert isinstance(wrapped, ForeignModel) and model_kind(wrapped) == "python" and not has_prior(wrapped)
    assert as_latent_model(wrapped) is wrapped
    assert has_prior(as_latent_model(WithPrior(35)))
    assert latent_width(model) == 2 and latent_width(PCA(3).fit(emojis.X)) == 3 and latent_width(Linear(35)) is None


def test_a_plain_numpy_model_walks_and_audits_like_genval_s_own(emojis):
    own = Linear(35)
    space = build_space(emojis, own, grid=(3, 3))
    np.testing.assert_allclose(space.codes, own.transform(emojis.X))
    w = walk(space, ":)", ":(", steps=4)
    np.testing.assert_allclose(w.located.pixels, own.inverse_transform(w.located.Z))
    first, again = (audit(build_space(emojis, Linear(35), grid=(3, 3)), "random", 300, random_state=3).to_dict()
                    for _ in range(2))
    assert first == again  # same seed, same report
    reference = audit(build_space(emojis, Autoencoder(epochs=5).fit(emojis.X), grid=(3, 3)), "random", 300).to_dict()
    assert set(first) == set(reference)
    xs, ys, pixels = latent_grid(build_embedding(emojis, own), size=3)
    assert pixels.shape == (3, 3, 35)


def test_vae_prior_needs_sample_prior_and_uses_a_foreign_one(emojis):
    with pytest.raises(GenvalError, match=r"this model \(python\) has no sample_prior"):
        audit_points(build_space(emojis, Linear(35), grid=(3, 3)), "vae-prior", 10, random_state=0)
    space = build_space(emojis, WithPrior(35), grid=(3, 3))
    np.testing.assert_array_equal(audit_points(space, "vae-prior", 5, random_state=1),
                                  WithPrior(35).sample_prior(5, random_state=np.random.default_rng(1)))


def test_a_foreign_model_s_wrong_shapes_and_sizes_are_named(emojis):
    class Wrong(Linear):
        def inverse_transform(self, Z):
            return super().inverse_transform(Z)[:, :30]

    with pytest.raises(ParameterError, match=r"inverse_transform returned shape \(2, 30\) for 2 points; "
                                             r"expected \(2, 35\)"):
        as_latent_model(Wrong(35)).inverse_transform(np.zeros((2, 2)))
    with pytest.raises(ShapeMismatchError, match="the model expects 64 pixels per item but emojis has 35"):
        build_space(emojis, Linear(64))
    som = LatentSOM(grid=(2, 2)).fit(np.random.default_rng(0).normal(size=(10, 3)))
    with pytest.raises(ShapeMismatchError, match="this map was fitted on codes of 3 dimensions, and these have 2"):
        LatentSpace.build(emojis, Linear(35), som)


def test_a_foreign_model_s_own_failures_are_one_genval_error(emojis):
    model = as_latent_model(PCA(3).fit(emojis.X))
    with pytest.raises(ShapeMismatchError, match=r"the pca model decodes 3-D codes, got an array of shape \(4, 2\)"):
        model.inverse_transform(np.zeros((4, 2)))

    class Failing(Linear):
        def inverse_transform(self, Z):
            raise RuntimeError("out of\nmemory")

    with pytest.raises(ParameterError, match=r"the python model's inverse_transform failed on 4 points of shape "
                                             r"\(4, 2\): RuntimeError: out of memory$"):
        as_latent_model(Failing(35)).inverse_transform(np.zeros((4, 2)))


def test_an_image_shaped_decoder_is_flattened(emojis):
    class Images(Linear):
        def inverse_transform(self, Z):
            return super().inverse_transform(Z).reshape(len(Z), 1, 7, 5)

    own = Linear(35)
    np.testing.assert_array_equal(as_latent_model(Images(35)).inverse_transform(np.ones((3, 2))),
                                  own.inverse_transform(np.ones((3, 2))))


def test_the_pca_baseline_is_a_deterministic_linear_autoencoder(emojis):
    model = pca_model(emojis, 2)
    np.testing.assert_array_equal(model.transform(emojis.X), pca_model(emojis.X, 2).transform(emojis.X))
    assert model.layer_sizes_ == (35, 2, 35) and model.kind == "pca"
    with pytest.raises(ParameterError, match="takes 1 to 17 components, got 18"):
        pca_model(emojis, 18)


def test_the_protocol_is_public():
    assert {"LatentModel", "ForeignModel", "as_latent_model", "NotAModelError"} <= set(genval.__all__)
