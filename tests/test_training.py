"""The one training loop: its invariants, its stop check, float32, divergence."""

import numpy as np
import pytest

from genval import Autoencoder, TrainingDivergedError, VariationalAutoencoder, load_dataset, wrong_pixels


@pytest.fixture(scope="module")
def font():
    return load_dataset("font")


@pytest.fixture(scope="module")
def emojis():
    return load_dataset("emojis")


@pytest.mark.parametrize("settings", [
    dict(),                                   # full batch, runs every epoch
    dict(stop_wrong_pixels=0),                # full batch, stops early
    dict(batch_size=5, stop_wrong_pixels=1),  # mini-batches, stop early
    dict(batch_size=1, epochs=40),            # online learning
    dict(noise_levels=(0.0, 0.1), noise_copies=2, batch_size=8, epochs=30),
])
def test_one_loss_value_per_finished_epoch(emojis, settings):
    model = Autoencoder(**({"epochs": 3000} | settings)).fit(emojis.X)
    assert len(model.loss_curve_) == model.n_epochs_
    assert model.stopped_early_ == (model.n_epochs_ < model.epochs)
    if "stop_wrong_pixels" in settings:
        assert model.stopped_early_, "these settings reach their tolerance well within the epochs"


def test_full_batch_and_one_batch_of_every_item_give_the_same_model(emojis):
    for extra in ({}, {"noise_levels": (0.1,)}, {"stop_wrong_pixels": 0}):
        a = Autoencoder(epochs=300, random_state=4, **extra).fit(emojis.X)
        b = Autoencoder(epochs=300, batch_size=len(emojis), random_state=4, **extra).fit(emojis.X)
        c = Autoencoder(epochs=300, batch_size=1000, random_state=4, **extra).fit(emojis.X)
        np.testing.assert_array_equal(a.params_, b.params_)
        np.testing.assert_array_equal(a.params_, c.params_)
        assert a.loss_curve_ == b.loss_curve_


def test_stopping_early_with_a_full_batch_returns_the_model_it_checked(font, emojis):
    for bitmaps in (font, emojis):
        for tolerance in (0, 3):
            for seed in range(5):
                model = Autoencoder(stop_wrong_pixels=tolerance, random_state=seed).fit(bitmaps.X)
                assert model.stopped_early_
                assert wrong_pixels(model, bitmaps.X).max() <= tolerance
                # The last epoch's step was not taken: its loss is the returned model's.
                assert model.loss_curve_[-1] == pytest.approx(model.loss_gradient(bitmaps.X)[0], rel=1e-4)
    loose = Autoencoder(stop_wrong_pixels=3).fit(emojis.X)
    strict = Autoencoder(stop_wrong_pixels=0).fit(emojis.X)
    assert loose.n_epochs_ < strict.n_epochs_


def test_stopping_early_with_mini_batches_counts_what_the_batches_computed(emojis):
    # A tolerance no epoch can meet trains every epoch; one the first epoch meets stops at once.
    assert Autoencoder(epochs=30, batch_size=5, stop_wrong_pixels=0).fit(emojis.X).n_epochs_ == 30
    first = Autoencoder(epochs=30, batch_size=5, stop_wrong_pixels=35).fit(emojis.X)
    assert (first.n_epochs_, first.stopped_early_, len(first.loss_curve_)) == (1, True, 1)


def test_same_seed_same_model(emojis):
    for settings in (dict(), dict(batch_size=4), dict(noise_levels=(0.1, 0.2), batch_size=6)):
        a = Autoencoder(epochs=100, random_state=7, **settings).fit(emojis.X)
        b = Autoencoder(epochs=100, random_state=7, **settings).fit(emojis.X)
        c = Autoencoder(epochs=100, random_state=8, **settings).fit(emojis.X)
        np.testing.assert_array_equal(a.params_, b.params_)
        assert a.loss_curve_ == b.loss_curve_
        assert not np.array_equal(a.params_, c.params_)
    v = [VariationalAutoencoder(epochs=50, random_state=rs).fit(emojis.X).params_ for rs in (1, 1, 2)]
    np.testing.assert_array_equal(v[0], v[1])
    assert not np.array_equal(v[0], v[2])


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "elu"])
def test_rectifiers_train_the_font_in_float32(font, activation):
    # Their logits grow past 88, where exp overflows in float32: the loss is
    # computed from the logits so that nothing overflows.
    for seed in (0, 1, 2):
        model = Autoencoder(activation=activation, random_state=seed).fit(font.X)
        assert wrong_pixels(model, font.X).max() == 0, f"seed {seed}"
        # Summed per pixel, the float32 loss stays positive and accurate near zero.
        assert min(model.loss_curve_) > 0
        assert model.loss_curve_[-1] == pytest.approx(model.loss_gradient(font.X)[0], rel=0.05)


@pytest.mark.parametrize("name", ["font", "emojis"])
def test_default_settings_reconstruct_every_item_for_seeds_0_to_9(name):
    bitmaps = load_dataset(name)
    for seed in range(10):
        model = Autoencoder(random_state=seed).fit(bitmaps.X)
        assert wrong_pixels(model, bitmaps.X).max() == 0, f"seed {seed}"
        assert model.n_epochs_ == 10_000 and len(model.loss_curve_) == 10_000


def test_a_real_divergence_is_reported_with_the_learning_rate(font):
    for activation in ("relu", "tanh"):
        with pytest.raises(TrainingDivergedError, match=r"diverged at epoch \d+: the loss rose from 0\.\d+ to "
                                                        r"[\d.e+]+; try a learning rate below 10$"):
            Autoencoder(activation=activation, learning_rate=10.0).fit(font.X)
    with pytest.raises(TrainingDivergedError, match=r"diverged at epoch \d+: the loss became nan"):
        Autoencoder(activation="relu", optimizer="gd", learning_rate=1e12).fit(font.X)


@pytest.mark.parametrize("optimizer, lr, options", [
    ("gd", 5.0, None),
    ("momentum", 1.0, {"momentum": 0.9}),
    ("adaptive", 5.0, {"decrease": 0.5, "patience": 3}),
    ("adam", 0.005, {"amsgrad": False}),
])
def test_every_optimizer_learns(emojis, optimizer, lr, options):
    model = Autoencoder(optimizer=optimizer, learning_rate=lr, optimizer_options=options,
                        epochs=600).fit(emojis.X)
    assert model.loss_curve_[-1] < 0.6 * model.loss_curve_[0]


def test_progress_is_reported_about_a_hundred_times(emojis):
    calls = []
    Autoencoder(epochs=1000).fit(emojis.X, progress=lambda done, loss: calls.append((done, loss)))
    assert [done for done, _ in calls] == [*range(1, 1000, 10), 1000]
    assert all(np.isfinite(loss) for _, loss in calls)


def test_blas_threads_setting_is_checked(emojis, monkeypatch):
    monkeypatch.setenv("GENVAL_BLAS_THREADS", "two")
    with pytest.raises(ValueError, match="GENVAL_BLAS_THREADS must be a whole number, got 'two'"):
        Autoencoder(epochs=2).fit(emojis.X)
    monkeypatch.setenv("GENVAL_BLAS_THREADS", "0")
    a = Autoencoder(epochs=20).fit(emojis.X)
    monkeypatch.delenv("GENVAL_BLAS_THREADS")
    np.testing.assert_array_equal(a.params_, Autoencoder(epochs=20).fit(emojis.X).params_)


def test_a_held_out_set_gets_a_loss_after_every_epoch(emojis):
    model = Autoencoder(epochs=200, validation_fraction=0.25).fit(emojis.X)
    assert len(model.validation_loss_curve_) == len(model.loss_curve_) == 200
    assert model.validation_loss_curve_[-1] < model.validation_loss_curve_[0]
    # The held-out items are 4 of the 17, chosen by the seed; training saw the other 13.
    order = np.random.default_rng(0).spawn(4)[3].permutation(17)
    held, kept = emojis.X[np.sort(order[:4])], emojis.X[np.sort(order[4:])]
    same = Autoencoder(epochs=200).fit(kept, validation_data=held)
    np.testing.assert_array_equal(model.params_, same.params_)
    assert model.validation_loss_curve_ == pytest.approx(same.validation_loss_curve_)
    assert model.validation_loss_curve_[-1] == pytest.approx(-same.score(held), rel=1e-4)
    assert Autoencoder(epochs=5).fit(emojis.X).validation_loss_curve_ is None
    with pytest.raises(ValueError, match="validation_fraction=0.01 of 17 items holds out 0"):
        Autoencoder(epochs=5, validation_fraction=0.01).fit(emojis.X)
    with pytest.raises(ValueError, match="X has 4 features, but Autoencoder is expecting 35"):
        Autoencoder(epochs=5).fit(emojis.X, validation_data=np.zeros((2, 4)))


def test_dropout_trains_and_is_off_at_inference(font):
    model = Autoencoder(hidden=(64,), n_latent=8, dropout=0.1, epochs=3000).fit(font.X)
    assert wrong_pixels(model, font.X).max() <= 1
    np.testing.assert_array_equal(model.transform(font.X), model.transform(font.X))
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\), got 1"):
        Autoencoder(dropout=1, epochs=2).fit(font.X)


def test_the_course_fashion_network_builds_and_learns(font):
    # 784-512-784 in the course; here n_features-64-n_features with a rectified code.
    model = Autoencoder(hidden=(), n_latent=64, code_activation="relu", activation="relu", dropout=0.1,
                        optimizer="gd", learning_rate=5.0, batch_size=8, epochs=100).fit(font.X)
    assert model.layer_sizes_ == [35, 64, 35]
    assert model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]
    assert (model.transform(font.X) >= 0).all()


def test_image_gaussian_noise_trains_a_denoiser(font):
    model = Autoencoder(noise="image_gaussian", noise_levels=(0.0, 0.5), epochs=300).fit(font.X)
    assert len(model.loss_curve_) == 300 and model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]


def test_no_batch_size_means_the_full_batch_for_small_sets_and_256_for_large_ones():
    rng = np.random.default_rng(0)
    X = (rng.random((5000, 6)) < 0.3).astype(np.float32)
    auto = Autoencoder(hidden=(4,), epochs=2).fit(X)
    np.testing.assert_array_equal(auto.params_, Autoencoder(hidden=(4,), epochs=2, batch_size=256).fit(X).params_)
    small = X[:4096]
    np.testing.assert_array_equal(Autoencoder(hidden=(4,), epochs=2).fit(small).params_,
                                  Autoencoder(hidden=(4,), epochs=2, batch_size=4096).fit(small).params_)


def test_runs_too_long_to_record_are_refused_before_training(monkeypatch):
    from genval._utils.budget import MemoryBudgetError
    from genval.nn import LinearCode, Network, make_activation, make_loss
    from genval.nn._training import batch_rows, check_memory

    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1G")
    X = load_dataset("emojis").X
    with pytest.raises(MemoryBudgetError, match=r"^the loss curve of 1,000,000,000,000 epochs would need about "
                                                r"29\.1 TiB, more than the memory budget of 1\.0 GiB"):
        Autoencoder(epochs=10**12).fit(X)
    with pytest.raises(MemoryBudgetError, match=r"the loss curve of 20,000,000 epochs would need about 1\.2 GiB"):
        Autoencoder(epochs=20_000_000, validation_fraction=0.2).fit(X)  # two curves, 32 bytes an entry each
    net = Network(35, (25, 15), make_activation("tanh"), LinearCode(2), make_activation("sigmoid"), make_loss("bce"))
    with pytest.raises(MemoryBudgetError, match=r"the order of 100,000,000 training rows"):
        check_memory(net, 10**8, batch_size=1, epochs=1)
    assert check_memory(net, 17, batch_size=None, epochs=10_000) is None
    assert (batch_rows(17, None), batch_rows(5000, None), batch_rows(17, 5), batch_rows(17, 100)) == (17, 256, 5, 17)
