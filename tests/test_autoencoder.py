"""The estimators: scikit-learn's conventions, validation, files."""

import inspect
import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.estimator_checks import check_estimator

from genval import (
    Autoencoder,
    GenvalError,
    ModelFileError,
    ShapeMismatchError,
    VariationalAutoencoder,
    load_dataset,
    load_model,
    reconstruction_report,
    wrong_pixels,
)
from genval.errors import DataMismatchError, ParameterError
from genval.nn import make_activation

ESTIMATORS = [Autoencoder, VariationalAutoencoder]
# With cross-entropy (the default) the data must lie in [0, 1]; these checks
# feed values above 1, and the estimator refuses them as it should.
ABOVE_ONE = "scikit-learn feeds values above 1; loss='bce' needs data in [0, 1] and says so"
BCE_EXPECTED_FAILURES = {name: ABOVE_ONE for name in [
    "check_estimators_dtypes", "check_fit_score_takes_y", "check_estimators_fit_returns_self",
    "check_readonly_memmap_input", "check_pipeline_consistency", "check_estimators_overwrite_params",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_transformer_data_not_an_array",
    "check_transformer_general", "check_transformer_preserve_dtypes", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
    "check_dont_overwrite_parameters", "check_fit_idempotent", "check_fit_check_is_fitted",
    "check_n_features_in", "check_fit2d_predict1d", "check_n_features_in_after_fitting",
]}


@pytest.fixture(scope="module")
def emojis():
    return load_dataset("emojis")


@pytest.fixture(scope="module")
def trained(emojis):
    return Autoencoder(stop_wrong_pixels=0).fit(emojis.X)


def run_checks(estimator, expected_failed_checks=None):
    results = check_estimator(estimator, expected_failed_checks=expected_failed_checks, on_fail=None, on_skip=None)
    return {r["check_name"]: r for r in results}


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_real_valued_models_pass_every_scikit_learn_check(cls):
    results = run_checks(cls(epochs=30, loss="mse", output_activation="identity"))
    not_passed = {name: r["status"] for name, r in results.items() if r["status"] != "passed"}
    # The array API check runs only with SCIPY_ARRAY_API set; genval is NumPy-only.
    assert not_passed in ({}, {"check_array_api_input": "skipped"})
    assert len(results) > 40


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_cross_entropy_models_fail_only_the_checks_that_feed_values_above_one(cls):
    results = run_checks(cls(epochs=30), BCE_EXPECTED_FAILURES)
    assert not [name for name, r in results.items() if r["status"] == "failed"]
    xfails = [r for r in results.values() if r["status"] == "xfail"]
    assert xfails and all("Values above 1 in data" in str(r["exception"]) for r in xfails)
    assert results["check_positive_only_tag_during_fit"]["status"] == "passed"


def test_estimator_protocol(emojis, trained):
    assert trained.transform(emojis.X).shape == (17, 2)
    assert trained.inverse_transform(np.zeros((3, 2))).shape == (3, 35)
    copy = clone(Autoencoder(hidden=(8,), learning_rate=0.01))
    assert copy.get_params()["hidden"] == (8,) and not hasattr(copy, "params_")
    assert Autoencoder().set_params(epochs=5).epochs == 5
    with pytest.raises(ValueError, match="Invalid parameter 'epoch' for estimator Autoencoder"):
        Autoencoder().set_params(epoch=5)
    assert repr(Autoencoder(epochs=5)) == "Autoencoder(epochs=5)"
    assert trained.layer_sizes_ == [35, 25, 15, 2, 15, 25, 35]
    assert [w.shape for w in trained.coefs_] == [(35, 25), (25, 15), (15, 2), (2, 15), (15, 25), (25, 35)]
    assert trained.intercepts_[-1].shape == (35,)
    np.testing.assert_array_equal(trained.fit_transform(emojis.X), trained.transform(emojis.X))


def test_every_parameter_is_in_the_signature():
    for cls in ESTIMATORS:
        params = inspect.signature(cls.__init__).parameters
        assert not [p for p in params.values() if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        assert sorted(cls().get_params()) == sorted(set(params) - {"self"})
    vae = VariationalAutoencoder(beta=0.2, hidden=(9,))
    assert vae.get_params()["beta"] == 0.2 and vae.get_params()["hidden"] == (9,)
    assert set(Autoencoder().get_params()) ^ set(vae.get_params()) == {"beta", "code_activation"}


def test_grid_search_ranks_models_by_score_without_a_scoring(emojis):
    search = GridSearchCV(Autoencoder(epochs=300), {"n_latent": [1, 4]}, cv=3).fit(emojis.X)
    assert search.best_params_ == {"n_latent": 4}
    scores = search.cv_results_["mean_test_score"]
    assert (scores < 0).all() and scores[1] > scores[0]
    pipe = make_pipeline(MinMaxScaler(), Autoencoder(epochs=50)).fit(emojis.X)
    assert pipe.transform(emojis.X).shape == (17, 2)


def test_score_is_the_negative_mean_reconstruction_loss(emojis, trained):
    X = emojis.X
    exact = Autoencoder(epochs=300, dtype="float64").fit(X)
    for model, rel in ((exact, 1e-12), (trained, 1e-4)):  # float32 inference is accurate to 1e-4 here
        Y = model.reconstruct(X).astype(np.float64)
        assert model.score(X) == pytest.approx(np.mean(X * np.log(Y) + (1 - X) * np.log(1 - Y)), rel=rel)


def test_inference_runs_in_the_training_dtype(emojis, trained):
    exact = Autoencoder(**(trained.get_params() | {"dtype": "float64"}))
    exact.fit(emojis.X)
    assert trained.transform(emojis.X).dtype == np.float32 and exact.transform(emojis.X).dtype == np.float64
    assert trained.inverse_transform(np.zeros((2, 2))).dtype == np.float32
    # The same parameters in float64 give the same pixels after thresholding.
    exact.params_ = trained.params_
    Z = np.random.default_rng(0).uniform(-3, 3, size=(5000, 2))
    np.testing.assert_array_equal(trained.inverse_transform(Z) > 0.5, exact.inverse_transform(Z) > 0.5)


def test_unfitted_models_raise_not_fitted_error():
    for cls in ESTIMATORS:
        for method in ("transform", "inverse_transform", "score", "reconstruct"):
            with pytest.raises(NotFittedError, match="not fitted yet"):
                getattr(cls(), method)(np.zeros((1, 2)))


def test_inputs_are_validated(emojis, trained):
    with pytest.raises(ValueError, match="X has 64 features, but Autoencoder is expecting 35 features"):
        trained.transform(np.zeros((2, 64)))
    with pytest.raises(ValueError, match="Z has 3 features, but Autoencoder is expecting 2 latent dimensions"):
        trained.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Values above 1 in data: X must hold values in \[0, 1\] for loss='bce'"):
        Autoencoder(epochs=2).fit(np.full((2, 4), 3.0))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        Autoencoder(epochs=2).fit(np.full((2, 4), np.nan))
    model = Autoencoder(epochs=5, loss="mse", output_activation="identity").fit(np.full((3, 4), 3.0))
    assert model.reconstruct(np.full((1, 4), 3.0)).shape == (1, 4)


@pytest.mark.parametrize("params, message", [
    (dict(hidden=(25, 0)), "hidden must be a tuple of positive layer widths"),
    (dict(n_latent=0), "n_latent must be a positive integer, got 0"),
    (dict(n_latent=True), "n_latent must be a positive integer, got True"),
    (dict(learning_rate=-1), "learning_rate must be a positive number"),
    (dict(learning_rate=float("nan")), "learning_rate must be a positive number, got nan"),
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(batch_size=0), "batch_size must be None or a positive integer"),
    (dict(stop_wrong_pixels=-1), "stop_wrong_pixels must be None or an integer >= 0"),
    (dict(optimizer="sgd"), "unknown optimizer 'sgd'; choose one of gd, momentum, adaptive, adam"),
    (dict(optimizer_options={"beta": 1}), "unknown option.*beta.*adam.*beta_1"),
    (dict(loss="hinge"), "unknown loss 'hinge'; choose one of bce, mse"),
    (dict(loss="bce", output_activation="tanh"), "loss='bce' needs output_activation='sigmoid'"),
    (dict(activation="swish"), "unknown activation 'swish'"),
    (dict(code_activation="swish"), "unknown activation 'swish'"),
    (dict(dtype="float16"), "dtype must be one of float32, float64, got 'float16'"),
    (dict(contractive=0.1, hidden=()), "contractive penalty needs at least one hidden layer"),
    (dict(activity_l1=-1), "activity_l1 must be a number >= 0"),
    (dict(sparsity_target=0), r"sparsity_target must be a number in \(0, 1\), got 0"),
    (dict(sparsity_target=1.0), r"sparsity_target must be a number in \(0, 1\), got 1.0"),
    (dict(sparsity_weight=float("inf")), "sparsity_weight must be a number >= 0, got inf"),
    (dict(sparsity_weight=0.1), r"KL sparsity penalty \(sparsity_weight\) needs code activations in \(0, 1\)"),
    (dict(noise_levels=(1.5,)), r"noise_levels must be a tuple of numbers in \[0, 1\]"),
    (dict(noise="pink", noise_levels=(0.1,)), "unknown noise 'pink'; choose one of flip, gaussian"),
    (dict(random_state="seven"), "random_state must be an int, a numpy Generator or None"),
])
def test_bad_parameters_are_clear_errors(emojis, params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Autoencoder(epochs=params.pop("epochs", 5), **params).fit(emojis.X)


def test_bad_beta(emojis):
    with pytest.raises(ValueError, match="beta must be a number >= 0, got -1"):
        VariationalAutoencoder(beta=-1, epochs=2).fit(emojis.X)


def test_reconstruction_report(emojis, trained):
    report = reconstruction_report(trained, emojis)
    assert report.perfect == 17 and report.within_one == 17
    assert report.to_dict()["items"][0] == {"name": ":)", "wrong_pixels": 0}
    flipped = emojis.X.copy()
    flipped[0, :3] = 1 - flipped[0, :3]
    assert wrong_pixels(trained, emojis.X, flipped).tolist() == [3] + [0] * 16


def test_vae_works_like_an_autoencoder(tmp_path, emojis):
    vae = VariationalAutoencoder(beta=0.1).fit(emojis.X)
    assert wrong_pixels(vae, emojis.X).max() == 0
    np.testing.assert_array_equal(vae.transform(emojis.X), vae.encode(emojis.X)[0])
    prior = vae.sample_prior(1000, random_state=0)
    assert prior.shape == (1000, 2) and abs(prior.mean()) < 0.1
    path = tmp_path / "vae.npz"
    vae.save(path)
    again = load_model(path)
    assert isinstance(again, VariationalAutoencoder) and again.beta == 0.1
    np.testing.assert_array_equal(again.transform(emojis.X), vae.transform(emojis.X))
    np.testing.assert_array_equal(again.encode(emojis.X)[1], vae.encode(emojis.X)[1])
    with pytest.raises(ModelFileError, match="holds a 'VariationalAutoencoder', not a Autoencoder"):
        Autoencoder.load(path)


def test_save_load_round_trip(tmp_path, emojis, trained):
    path = tmp_path / "model.npz"
    trained.save(path, metadata={"dataset": "emojis"})
    loaded = load_model(path)
    assert type(loaded) is Autoencoder and loaded.get_params() == trained.get_params()
    np.testing.assert_array_equal(loaded.params_, trained.params_)
    np.testing.assert_array_equal(loaded.reconstruct(emojis.X), trained.reconstruct(emojis.X))
    assert loaded.metadata_ == {"dataset": "emojis"}
    assert loaded.loss_curve_ == trained.loss_curve_
    assert (loaded.n_epochs_, loaded.stopped_early_) == (trained.n_epochs_, True)
    # No pickle anywhere: every member of the archive loads with allow_pickle=False.
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == ["config", "loss_curve", "params"]
        assert json.loads(str(data["config"]))["format"] == "genval-model"


def test_kl_sparsity_moves_the_mean_code_activation_towards_its_target(tmp_path):
    # Seeded and a fixed number of epochs: the mean activation of the sigmoid code units over the set
    # comes closer to rho = 0.05 as beta grows, and the model saved with the penalty loads the same.
    font = load_dataset("font")
    params = dict(hidden=(20,), n_latent=6, code_activation="sigmoid", sparsity_target=0.05, epochs=800,
                  learning_rate=0.02, random_state=0)
    models = {beta: Autoencoder(**params, sparsity_weight=beta).fit(font.X) for beta in (0.0, 0.1, 1.0)}
    rho = {beta: float(model.transform(font.X).mean()) for beta, model in models.items()}
    assert rho[0.0] > 0.4 and rho[0.0] - 0.1 > rho[0.1] > rho[1.0] + 0.1 > 0.15  # measured 0.49, 0.33, 0.17
    path = tmp_path / "sparse.npz"
    models[1.0].save(path)
    loaded = load_model(path)
    assert loaded.get_params() == models[1.0].get_params() and loaded.sparsity_weight == 1.0
    np.testing.assert_array_equal(loaded.transform(font.X), models[1.0].transform(font.X))
    assert loaded.loss_gradient(font.X)[0] == models[1.0].loss_gradient(font.X)[0]


def test_bad_model_files(tmp_path, trained):
    good = tmp_path / "good.npz"
    trained.save(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(ModelFileError, match="truncated.npz: not a readable genval model"):
        load_model(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.zeros(3))
    with pytest.raises(ModelFileError, match="foreign.npz: not a genval model"):
        load_model(foreign)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(ModelFileError, match="garbage.npz: not a readable genval model"):
        load_model(garbage)
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "absent.npz")
    with np.load(good) as data:
        config, params, curve = json.loads(str(data["config"])), data["params"], data["loss_curve"]
    broken = tmp_path / "broken.npz"
    np.savez(broken, config=np.array(json.dumps(config)), params=params[:-1], loss_curve=curve)
    with pytest.raises(ModelFileError, match="broken.npz: damaged genval model .parameters do not match"):
        load_model(broken)
    config["params"]["activation"] = "swish"
    np.savez(broken, config=np.array(json.dumps(config)), params=params, loss_curve=curve)
    with pytest.raises(ModelFileError, match="broken.npz: damaged genval model config .params.activation must be "
                                             "one of identity, sigmoid, tanh, relu, leaky_relu, elu, got \"swish\""):
        load_model(broken)


def test_save_is_atomic(tmp_path, trained, monkeypatch):
    with pytest.raises(GenvalError, match="folder .*missing.* does not exist"):
        trained.save(tmp_path / "missing" / "model.npz")
    path = tmp_path / "model.npz"
    trained.save(path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises((OSError, GenvalError), match="disk full"):  # atomic_write may name the target
        trained.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_saved_files_honour_the_umask_and_remember_early_stopping(tmp_path, trained):
    import os

    old = os.umask(0o022)
    try:
        trained.save(tmp_path / "shared.npz")
        os.umask(0o077)
        trained.save(tmp_path / "private.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "shared.npz").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "private.npz").stat().st_mode & 0o777 == 0o600
    assert load_model(tmp_path / "shared.npz").stopped_early_ is True


def test_decoding_with_an_output_activation_that_reads_its_input_twice():
    # ELU and leaky ReLU read z again after writing: decoding must not pass them the same array twice.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 5))
    for output in ("elu", "leaky_relu"):
        model = Autoencoder(hidden=(4,), epochs=20, output_activation=output, loss="mse").fit(X)
        Z = rng.normal(size=(6, 2))
        # The oracle: the decoder's two layers from the public weights, in float64, and the output activation
        # given separate input and output arrays. Sharing one array would garble whole rows, not the last bits.
        (W2, W3), (b2, b3) = model.coefs_[2:], model.intercepts_[2:]
        logits = np.tanh(Z @ W2 + b2) @ W3 + b3
        expected = make_activation(output).forward(logits, np.empty_like(logits))
        np.testing.assert_allclose(model.inverse_transform(Z), expected, rtol=1e-4, atol=1e-5)


def test_fit_records_which_data_it_was_trained_on(emojis, trained, monkeypatch):
    import hashlib

    from genval._utils.archive import fingerprint as _fingerprint

    # The definition: SHA-256 of the pixels as little-endian float32, row after row.
    expected = hashlib.sha256(emojis.X.astype("<f4").tobytes()).hexdigest()
    assert trained.training_data_ == {"n_items": 17, "n_features": 35, "title": "", "sha256": expected}
    assert Autoencoder(epochs=2).fit(emojis).training_data_["title"] == "emojis"
    assert Autoencoder(epochs=2).fit(emojis.X.astype(np.float32)).training_data_["sha256"] == expected
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "64")  # one row per chunk: the same hash
    assert _fingerprint(emojis.X)["sha256"] == expected
    assert _fingerprint(emojis.X, "a\x1b[2Jb")["title"] == "a\\x1b[2Jb"  # no terminal escapes in messages


def test_check_training_data_refuses_other_bitmaps_of_the_same_size(tmp_path, emojis, trained):
    font = load_dataset("font")
    assert trained.check_training_data(emojis) is True
    assert trained.check_training_data(emojis.X.astype(np.float32)) is True
    short = trained.training_data_["sha256"][:12]
    font_hash = Autoencoder(epochs=1).fit(font).training_data_["sha256"][:12]
    with pytest.raises(DataMismatchError) as info:
        trained.check_training_data(font)
    assert str(info.value) == (f"this model was trained on 17 items of 35 pixels (sha256 {short}), not on font "
                               f"(32 items of 35 pixels, sha256 {font_hash}); pass --any-data (any_data=True) to use "
                               "it anyway")
    flipped = emojis.X.copy()
    flipped[5, 7] = 1 - flipped[5, 7]
    with pytest.raises(DataMismatchError, match=r"not on 17 items of 35 pixels \(sha256 "):
        trained.check_training_data(flipped)
    with pytest.raises(DataMismatchError):
        trained.check_training_data(emojis.X[::-1])  # the order of the items is part of the record
    with pytest.raises(ShapeMismatchError, match=r"but 2 items of 36 pixels \(sha256 .*\) has 36 pixels per item"):
        trained.check_training_data(np.zeros((2, 36)))
    # A model saved by `genval train` keeps the set's title in its metadata; the message uses it.
    trained.save(tmp_path / "m.npz", metadata={"dataset": "emojis"})
    with pytest.raises(DataMismatchError, match=r"^this model was trained on emojis \(17 items"):
        load_model(tmp_path / "m.npz").check_training_data(font)


def test_save_refuses_metadata_that_json_cannot_hold(tmp_path, trained):
    with pytest.raises(ParameterError, match="metadata must be a dict, got list"):
        trained.save(tmp_path / "m.npz", metadata=[1])
    with pytest.raises(ParameterError, match="metadata must be JSON-serializable"):
        trained.save(tmp_path / "m.npz", metadata={"x": object()})
    assert not (tmp_path / "m.npz").exists()
