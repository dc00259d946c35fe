import json
import zipfile

import numpy as np
import pytest

from genval import (
    Autoencoder,
    GenvalError,
    ModelFileError,
    TrainingDivergedError,
    load_dataset,
    load_model,
    reconstruction_report,
    wrong_pixels,
)


@pytest.fixture(scope="module")
def emojis():
    return load_dataset("emojis")


@pytest.fixture(scope="module")
def trained(emojis):
    return Autoencoder(stop_wrong_pixels=0, random_state=0).fit(emojis.X)


def numeric_gradient(model, X, h=1e-6):
    theta = model.params_.copy()
    grad = np.empty_like(theta)
    for k in range(theta.size):
        for sign in (1, -1):
            model.params_ = theta.copy()
            model.params_[k] += sign * h
            loss, _ = model.loss_gradient(X)
            grad[k] = loss if sign == 1 else (grad[k] - loss) / (2 * h)
    model.params_ = theta
    return grad


@pytest.mark.parametrize("settings", [
    dict(activation="tanh"),  # sigmoid + cross-entropy from the logits
    dict(activation="tanh", activation_param=0.7, loss="mse"),
    dict(activation="sigmoid", output_activation="sigmoid", loss="mse"),
    dict(activation="relu", output_activation="tanh", loss="mse"),
    dict(activation="leaky_relu", activation_param=0.1),
    dict(activation="elu", output_activation="sigmoid", loss="bce", hidden=(6,)),
    dict(activation="tanh", output_activation="identity", loss="mse", n_latent=3, hidden=(5, 4)),
    dict(activation="tanh", activity_l1=0.3),                      # sparse code
    dict(activation="tanh", activation_param=1.3, contractive=0.5),  # contractive first layer
    dict(activation="sigmoid", activation_param=0.8, contractive=0.7, loss="mse"),
])
def test_network_gradient_matches_finite_differences(settings):
    rng = np.random.default_rng(3)
    X = (rng.random((5, 6)) < 0.5).astype(float)
    params = dict(hidden=(4, 3), epochs=3, dtype="float64", random_state=1) | settings
    model = Autoencoder(**params).fit(X)
    # Move off the initial point so no unit sits at exactly zero.
    model.params_ = model.params_ + rng.normal(scale=0.1, size=model.params_.shape)
    loss, grad = model.loss_gradient(X)
    np.testing.assert_allclose(grad, numeric_gradient(model, X), rtol=1e-4, atol=1e-8)
    if settings.get("activity_l1") or settings.get("contractive"):
        return  # the loss holds a penalty too; its gradient is checked above
    # The reported loss is the loss of what inverse_transform(transform(X)) produces.
    Y = model.reconstruct(X)
    if params.get("loss", "bce") == "mse":
        assert loss == pytest.approx(np.mean((Y - X) ** 2), rel=1e-9)
    else:
        assert loss == pytest.approx(-np.mean(X * np.log(Y) + (1 - X) * np.log(1 - Y)), rel=1e-9)


def test_estimator_protocol(emojis, trained):
    from sklearn.base import clone

    assert trained.transform(emojis.X).shape == (17, 2)
    assert trained.inverse_transform(np.zeros((3, 2))).shape == (3, 35)
    copy = clone(Autoencoder(hidden=(8,), learning_rate=0.01))
    assert copy.get_params()["hidden"] == (8,) and not hasattr(copy, "params_")
    assert Autoencoder().set_params(epochs=5).epochs == 5
    with pytest.raises(ValueError, match="invalid parameter 'epoch'"):
        Autoencoder().set_params(epoch=5)
    assert repr(Autoencoder(epochs=5)) == "Autoencoder(epochs=5)"
    assert trained.layer_sizes_ == [35, 25, 15, 2, 15, 25, 35]
    assert len(trained.coefs_) == 6 and trained.coefs_[0].shape == (35, 25)
    assert trained.intercepts_[-1].shape == (35,)


def test_same_seed_same_model(emojis):
    a = Autoencoder(epochs=200, random_state=7).fit(emojis.X)
    b = Autoencoder(epochs=200, random_state=7).fit(emojis.X)
    c = Autoencoder(epochs=200, random_state=8).fit(emojis.X)
    np.testing.assert_array_equal(a.params_, b.params_)
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.params_, c.params_)
    d = Autoencoder(epochs=50, batch_size=4, random_state=7).fit(emojis.X)
    e = Autoencoder(epochs=50, batch_size=4, random_state=7).fit(emojis.X)
    np.testing.assert_array_equal(d.params_, e.params_)


@pytest.mark.parametrize("name", ["font", "emojis"])
def test_default_settings_reconstruct_every_item_for_seeds_0_to_9(name):
    bitmaps = load_dataset(name)
    for seed in range(10):
        model = Autoencoder(random_state=seed).fit(bitmaps.X)
        assert wrong_pixels(model, bitmaps.X).max() == 0, f"seed {seed}"
        assert model.n_epochs_ == 10_000 and len(model.loss_curve_) == 10_000


def test_early_stop_at_zero_wrong_pixels(emojis, trained):
    assert trained.stopped_early_
    assert trained.n_epochs_ < 10_000 and trained.n_epochs_ % 10 == 0
    report = reconstruction_report(trained, emojis)
    assert report.perfect == 17 and report.within_one == 17
    assert report.to_dict()["items"][0] == {"name": ":)", "wrong_pixels": 0}


def test_early_stop_with_a_tolerance_stops_sooner(emojis):
    loose = Autoencoder(stop_wrong_pixels=3, random_state=0).fit(emojis.X)
    assert loose.stopped_early_ and wrong_pixels(loose, emojis.X).max() <= 3
    strict = Autoencoder(stop_wrong_pixels=0, random_state=0).fit(emojis.X)
    assert loose.n_epochs_ <= strict.n_epochs_


@pytest.mark.parametrize("batch_size", [1, 5, 16])
def test_mini_batches_and_online_learning(emojis, batch_size):
    model = Autoencoder(epochs=400, batch_size=batch_size, stop_wrong_pixels=1, random_state=0).fit(emojis.X)
    curve = model.loss_curve_
    assert curve[-1] < 0.5 * curve[0]
    if model.stopped_early_:
        assert wrong_pixels(model, emojis.X).max() <= 1


@pytest.mark.parametrize("optimizer, lr, options", [
    ("gd", 5.0, None),
    ("momentum", 1.0, {"momentum": 0.9}),
    ("adaptive", 5.0, {"decrease": 0.5, "patience": 3}),
    ("adam", 0.005, {"amsgrad": False}),
])
def test_every_optimizer_learns(emojis, optimizer, lr, options):
    model = Autoencoder(optimizer=optimizer, learning_rate=lr, optimizer_options=options,
                        epochs=600, random_state=0).fit(emojis.X)
    assert model.loss_curve_[-1] < 0.6 * model.loss_curve_[0]


def test_divergence_is_reported_with_the_learning_rate(emojis):
    with pytest.raises(TrainingDivergedError, match=r"diverged at epoch \d+.*learning rate below 1e\+06"):
        Autoencoder(optimizer="gd", learning_rate=1e6, activation="relu", epochs=200).fit(emojis.X)


@pytest.mark.parametrize("params, message", [
    (dict(hidden=(25, 0)), "hidden must be positive"),
    (dict(n_latent=0), "n_latent must be a positive integer"),
    (dict(learning_rate=-1), "learning_rate must be a positive number"),
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(batch_size=0), "batch_size must be None or a positive integer"),
    (dict(optimizer="sgd"), "unknown optimizer 'sgd'; choose one of gd, momentum, adaptive, adam"),
    (dict(optimizer_options={"beta": 1}), "unknown option.*beta.*adam.*beta_1"),
    (dict(loss="hinge"), "unknown loss 'hinge'"),
    (dict(dtype="float16"), "dtype must be"),
    (dict(contractive=0.1, activation="relu"), "contractive penalty needs tanh or sigmoid"),
    (dict(activity_l1=-1), "activity_l1 must be a number >= 0"),
])
def test_bad_parameters_are_clear_errors(emojis, params, message):
    with pytest.raises(ValueError, match=message):
        Autoencoder(epochs=params.pop("epochs", 5), **params).fit(emojis.X)


def test_inputs_are_validated(trained):
    with pytest.raises(ValueError, match="X has 64 features per sample, but the model expects 35"):
        trained.transform(np.zeros((2, 64)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Autoencoder(epochs=2).fit(np.full((2, 4), 3.0))
    with pytest.raises(ValueError, match="not fitted yet"):
        Autoencoder().transform(np.zeros((1, 35)))


def test_save_load_round_trip(tmp_path, emojis, trained):
    path = tmp_path / "model.npz"
    trained.save(path, metadata={"dataset": "emojis"})
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.transform(emojis.X), trained.transform(emojis.X))
    assert loaded.get_params() == trained.get_params()
    assert loaded.metadata_ == {"dataset": "emojis"}
    assert loaded.loss_curve_ == pytest.approx(trained.loss_curve_)
    # No pickle anywhere: every member of the archive loads with allow_pickle=False.
    with np.load(path, allow_pickle=False) as data:
        assert json.loads(str(data["config"]))["format"] == "genval-model"


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
    # Parameters that do not fit the recorded layer sizes.
    broken = tmp_path / "broken.npz"
    with np.load(good) as data:
        np.savez(broken, config=data["config"], params=data["params"][:-1], loss_curve=data["loss_curve"])
    with pytest.raises(ModelFileError, match="do not match its layer sizes"):
        load_model(broken)
    assert zipfile.is_zipfile(good)


def test_save_is_atomic(tmp_path, trained, monkeypatch):
    with pytest.raises(GenvalError, match="folder .*missing.* does not exist"):
        trained.save(tmp_path / "missing" / "model.npz")
    path = tmp_path / "model.npz"
    trained.save(path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(OSError, match="disk full"):
        trained.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_penalties_are_what_they_say(emojis):
    X = emojis.X[:6]
    base = Autoencoder(hidden=(7, 4), epochs=5, dtype="float64", random_state=2).fit(X)
    plain, _ = base.loss_gradient(X)
    n, d = X.shape
    sparse = Autoencoder(**(base.get_params() | {"activity_l1": 0.4}))
    sparse.fit(X).params_ = base.params_
    codes = base.transform(X)
    assert sparse.loss_gradient(X)[0] - plain == pytest.approx(0.4 * np.abs(codes).sum() / (n * d))
    contract = Autoencoder(**(base.get_params() | {"contractive": 0.6}))
    contract.fit(X).params_ = base.params_
    W, b = base.coefs_[0], base.intercepts_[0]
    total, h = 0.0, 1e-6
    for x in X:  # the Jacobian of the first layer, by finite differences
        J = np.array([(np.tanh((x + h * e) @ W + b) - np.tanh((x - h * e) @ W + b)) / (2 * h) for e in np.eye(d)])
        total += (J ** 2).sum()
    assert contract.loss_gradient(X)[0] - plain == pytest.approx(0.6 * total / (n * d), rel=1e-6)
