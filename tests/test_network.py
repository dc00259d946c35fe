"""The network core: every path's gradient against finite differences, and the loss from logits."""

import numpy as np
import pytest

from genval import Autoencoder, VariationalAutoencoder, load_dataset
from genval.nn._activations import make_activation, make_loss
from genval.nn._code_layers import ActivityL1, Contractive, GaussianCode, KLSparsity, LinearCode
from genval.nn._network import Network, Params


def numeric_gradient(model, X, h=1e-6):
    theta = model.params_.copy()
    grad = np.empty_like(theta)
    for k in range(theta.size):
        values = []
        for sign in (1, -1):
            model.params_ = theta.copy()
            model.params_[k] += sign * h
            values.append(model.loss_gradient(X, random_state=5)[0])
        grad[k] = (values[0] - values[1]) / (2 * h)
    model.params_ = theta
    return grad


def perturbed(model_class, X, **settings):
    rng = np.random.default_rng(3)
    params = dict(hidden=(4, 3), epochs=3, dtype="float64", random_state=1) | settings
    model = model_class(**params).fit(X)
    # Move off the initial point so no unit sits at exactly zero.
    model.params_ = model.params_ + rng.normal(scale=0.1, size=model.params_.shape)
    return model


@pytest.fixture(scope="module")
def X():
    return (np.random.default_rng(3).random((5, 6)) < 0.5).astype(float)


@pytest.mark.parametrize("settings", [
    dict(activation="tanh"),  # sigmoid + cross-entropy from the logits
    dict(activation="tanh", activation_param=0.7, loss="mse"),
    dict(activation="sigmoid", output_activation="sigmoid", activation_param=1.5),
    dict(activation="relu", output_activation="tanh", loss="mse"),
    dict(activation="leaky_relu", activation_param=0.1),
    dict(activation="elu", loss="bce", hidden=(6,)),
    dict(activation="tanh", output_activation="identity", loss="mse", n_latent=3, hidden=(5, 4)),
    dict(activation="tanh", code_activation="relu"),
    dict(activation="tanh", code_activation="tanh", hidden=()),
    dict(activation="tanh", activity_l1=0.3),                      # sparse code
    dict(activation="tanh", activation_param=1.3, contractive=0.5),  # contractive first layer
    dict(activation="sigmoid", activation_param=0.8, contractive=0.7, loss="mse"),
    dict(activation="elu", contractive=0.4),                        # any activation carries f''
    dict(activation="leaky_relu", contractive=0.4, activity_l1=0.2),
    dict(activation="tanh", code_activation="sigmoid", sparsity_weight=0.7),               # KL sparsity
    dict(activation="relu", code_activation="sigmoid", sparsity_target=0.3, sparsity_weight=2.0, hidden=()),
    dict(activation="tanh", code_activation="sigmoid", sparsity_weight=0.5, activity_l1=0.2, contractive=0.3),
])
def test_autoencoder_gradient_matches_finite_differences(X, settings):
    model = perturbed(Autoencoder, X, **settings)
    loss, grad = model.loss_gradient(X, random_state=5)
    np.testing.assert_allclose(grad, numeric_gradient(model, X), rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("settings", [
    dict(beta=0.7),
    dict(beta=2.0, activation="relu", loss="mse", output_activation="identity"),
    dict(beta=0.5, contractive=0.3, activity_l1=0.2),  # penalties compose with the Gaussian code
])
def test_vae_gradient_matches_finite_differences(X, settings):
    model = perturbed(VariationalAutoencoder, X, **settings)
    loss, grad = model.loss_gradient(X, random_state=5)
    np.testing.assert_allclose(grad, numeric_gradient(model, X), rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("loss_name, output", [("bce", "sigmoid"), ("mse", "sigmoid"), ("mse", "identity")])
def test_reported_loss_is_the_loss_of_the_reconstruction(X, loss_name, output):
    model = perturbed(Autoencoder, X, loss=loss_name, output_activation=output)
    loss, _ = model.loss_gradient(X)
    Y = model.reconstruct(X)
    if loss_name == "mse":
        expected = np.mean((Y - X) ** 2)
    else:
        expected = -np.mean(X * np.log(Y) + (1 - X) * np.log(1 - Y))
    assert loss == pytest.approx(expected, rel=1e-9)
    assert model.score(X) == pytest.approx(-expected, rel=1e-9)


def test_penalties_are_what_they_say(X):
    emojis = load_dataset("emojis").X[:6]
    base = Autoencoder(hidden=(7, 4), epochs=5, dtype="float64", random_state=2).fit(emojis)
    plain, _ = base.loss_gradient(emojis)
    n, d = emojis.shape
    sparse = Autoencoder(**(base.get_params() | {"activity_l1": 0.4})).fit(emojis)
    sparse.params_ = base.params_
    codes = base.transform(emojis)
    assert sparse.loss_gradient(emojis)[0] - plain == pytest.approx(0.4 * np.abs(codes).sum() / (n * d))
    contract = Autoencoder(**(base.get_params() | {"contractive": 0.6})).fit(emojis)
    contract.params_ = base.params_
    W, b = base.coefs_[0], base.intercepts_[0]
    total, h = 0.0, 1e-6
    for x in emojis:  # the Jacobian of the first layer, by finite differences
        J = np.array([(np.tanh((x + h * e) @ W + b) - np.tanh((x - h * e) @ W + b)) / (2 * h)
                      for e in np.eye(d)])
        total += (J ** 2).sum()
    assert contract.loss_gradient(emojis)[0] - plain == pytest.approx(0.6 * total / (n * d), rel=1e-6)


def test_kl_sparsity_is_beta_times_the_kl_of_the_mean_activations_per_pixel():
    emojis = load_dataset("emojis").X[:6]
    base = Autoencoder(hidden=(7,), n_latent=3, code_activation="sigmoid", epochs=5, dtype="float64",
                       random_state=2).fit(emojis)
    plain, _ = base.loss_gradient(emojis)
    sparse = Autoencoder(**(base.get_params() | {"sparsity_target": 0.1, "sparsity_weight": 0.8})).fit(emojis)
    sparse.params_ = base.params_
    rho = base.transform(emojis).mean(axis=0)  # each code unit's mean activation over the batch
    kl = np.sum(0.1 * np.log(0.1 / rho) + 0.9 * np.log(0.9 / (1 - rho)))
    assert kl > 0.01
    # Per pixel like the loss: beta * sum_j KL over the number of output pixels.
    assert sparse.loss_gradient(emojis)[0] - plain == pytest.approx(0.8 * kl / emojis.shape[1], rel=1e-9)


def test_kl_sparsity_is_finite_in_float32_where_the_code_saturates():
    # float32 rounds sigmoid(-120) to 0 and sigmoid(40) to 1: rho_j is clipped to [1e-6, 1 - 1e-6].
    penalty = KLSparsity(0.05, 1.0)
    code = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.2, 0.01, 0.05]], dtype=np.float32)
    d_code = np.zeros_like(code)
    value = penalty.apply(code, d_code, 1.0 / 3)
    assert np.isfinite(value) and value > 0 and np.isfinite(d_code).all() and d_code.dtype == np.float32
    assert (d_code[0] < 0).all() and (d_code[1] > 0).all()  # pushed up from 0, down from 1
    # At rho_j = target the unit adds nothing.
    d_code = np.zeros((1, 4), dtype=np.float32)
    assert penalty.apply(np.full((1, 4), 0.05, np.float32), d_code, 0.25) == pytest.approx(0, abs=1e-7)
    np.testing.assert_allclose(d_code, 0, atol=1e-5)
    # Trained in float32 with a strong weight, the loss curve stays finite.
    emojis = load_dataset("emojis").X
    model = Autoencoder(hidden=(8,), n_latent=4, code_activation="sigmoid", sparsity_target=0.01,
                        sparsity_weight=50.0, epochs=60, learning_rate=0.05, random_state=0).fit(emojis)
    assert np.isfinite(model.loss_curve_).all() and np.isfinite(model.params_).all()


@pytest.mark.parametrize("settings, found", [
    (dict(), "got code_activation='identity'"),
    (dict(code_activation="tanh"), "got code_activation='tanh'"),
    (dict(code_activation="relu"), "got code_activation='relu'"),
])
def test_kl_sparsity_refuses_a_code_outside_0_1(settings, found):
    emojis = load_dataset("emojis").X
    with pytest.raises(ValueError, match=r"^the KL sparsity penalty \(sparsity_weight\) needs code activations in "
                                         r"\(0, 1\), code_activation='sigmoid'; " + found + "$"):
        Autoencoder(sparsity_weight=0.1, epochs=2, **settings).fit(emojis)
    with pytest.raises(ValueError, match=r"got the GaussianCode of a variational autoencoder \(unbounded\)$"):
        VariationalAutoencoder(sparsity_weight=0.1, epochs=2).fit(emojis)
    # Off (weight 0), any code trains: the target alone changes nothing.
    Autoencoder(sparsity_target=0.2, epochs=2, **settings).fit(emojis)


def test_vae_loss_is_reconstruction_plus_beta_kl():
    X = load_dataset("emojis").X[:4]
    vae = VariationalAutoencoder(hidden=(6,), beta=0.0, epochs=2, dtype="float64", random_state=0).fit(X)
    plain, _ = vae.loss_gradient(X, random_state=1)
    two = VariationalAutoencoder(**(vae.get_params() | {"beta": 2.0})).fit(X)
    two.params_ = vae.params_
    with_kl, _ = two.loss_gradient(X, random_state=1)
    mu, log_var = vae.encode(X)
    kl = -0.5 * np.sum(1 + log_var - mu ** 2 - np.exp(log_var))
    assert with_kl - plain == pytest.approx(2.0 * kl / X.size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_from_logits_is_finite_where_the_sigmoid_saturates(dtype):
    # float32 rounds sigmoid(20) to exactly 1: a loss from probabilities takes log(0) there.
    z = np.array([[-200.0, -30.0, -1.0, 0.0, 2.0, 30.0, 200.0]], dtype=dtype)
    T = np.array([[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]], dtype=dtype)
    Y, delta, tmp = (np.empty_like(z) for _ in range(3))
    loss = make_loss("bce").evaluate(z, T, make_activation("sigmoid"), Y, delta, tmp, 1.0)
    zz, TT = z.astype(np.float64), T.astype(np.float64)
    exact = np.sum(np.logaddexp(0.0, zz) - TT * zz)  # softplus(z) - t z, the definition
    assert np.isfinite(loss) and loss == pytest.approx(exact, rel=1e-6)
    np.testing.assert_allclose(delta, 1 / (1 + np.exp(-zz)) - TT, atol=1e-6)
    assert Y.dtype == dtype


def test_cross_entropy_with_a_sigmoid_beta_matches_finite_differences():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 4))
    T = rng.uniform(size=(3, 4))
    sigmoid = make_activation("sigmoid", 1.7)
    for name in ("bce", "mse"):
        loss = make_loss(name)

        def value(zz):
            return loss.evaluate(zz, T, sigmoid, *(np.empty_like(zz) for _ in range(3)), 0.25)

        delta = np.empty_like(z)
        value_at = loss.evaluate(z, T, sigmoid, np.empty_like(z), delta, np.empty_like(z), 0.25)
        numeric = np.empty_like(z)
        for idx in np.ndindex(z.shape):
            up, down = z.copy(), z.copy()
            up[idx] += 1e-6
            down[idx] -= 1e-6
            numeric[idx] = (value(up) - value(down)) / 2e-6
        np.testing.assert_allclose(delta, numeric, rtol=1e-6, atol=1e-10)
        assert value_at == pytest.approx(value(z))


def test_network_layout():
    net = Network(35, (25, 15), make_activation("tanh"), GaussianCode(2, 1.0), make_activation("sigmoid"),
                  make_loss("bce"), [ActivityL1(0.1), Contractive(0.2)])
    assert net.layer_sizes == [35, 25, 15, 2, 15, 25, 35]
    assert net.shapes == [(36, 25), (26, 15), (16, 4), (3, 15), (16, 25), (26, 35)]
    assert net.n_params == sum(a * b for a, b in net.shapes)
    assert [type(p) for p in net.code_penalties] == [ActivityL1]
    with pytest.raises(ValueError, match="contractive penalty needs at least one hidden layer"):
        Network(35, (), make_activation("tanh"), LinearCode(2), make_activation("sigmoid"),
                make_loss("bce"), [Contractive(0.2)])
    with pytest.raises(ValueError, match="loss='bce' needs output_activation='sigmoid'"):
        Network(35, (4,), make_activation("tanh"), LinearCode(2), make_activation("tanh"), make_loss("bce"))


@pytest.mark.parametrize("settings", [
    dict(dropout=0.3),
    dict(dropout=0.5, activation="relu", code_activation="relu", hidden=()),
    dict(dropout=0.2, contractive=0.3, activity_l1=0.1),
])
def test_dropout_gradient_matches_finite_differences(X, settings):
    # The mask comes from the same seeded stream in every call, so the loss is a smooth function.
    model = perturbed(Autoencoder, X, **settings)
    loss, grad = model.loss_gradient(X, random_state=5)
    np.testing.assert_allclose(grad, numeric_gradient(model, X), rtol=1e-4, atol=1e-8)
    vae = perturbed(VariationalAutoencoder, X, **{k: v for k, v in settings.items() if k != "code_activation"})
    np.testing.assert_allclose(vae.loss_gradient(X, random_state=5)[1], numeric_gradient(vae, X), rtol=1e-4, atol=1e-8)


def test_inverted_dropout_keeps_the_expected_activation():
    # Read through the Workspace's documented arrays: M[0] is the batch's mask, scaled by 1 / (1 - p),
    # and the next layer's input is the hidden output times it.
    net = Network(6, (400,), make_activation("relu"), LinearCode(2), make_activation("sigmoid"),
                  make_loss("bce"), dropout=0.25)
    rng = np.random.default_rng(0)
    theta = net.init_params(rng)
    ws = net.workspace(50, np.float64)
    ws.X[:] = rng.random(ws.X.shape) < 0.5
    net.gradient(Params(net, theta, np.empty_like(theta)), ws, ws.X.copy(), rng)
    mask = ws.M[0]
    assert set(np.unique(mask)) == {0.0, 4 / 3}
    assert (mask > 0).mean() == pytest.approx(0.75, abs=0.01) and mask.mean() == pytest.approx(1.0, abs=0.02)
    np.testing.assert_array_equal(ws.A_in[1], ws.H[0] * mask)


def test_mean_loss_is_the_reconstruction_loss_in_chunks(X):
    net = Network(6, (4, 3), make_activation("tanh"), LinearCode(2), make_activation("sigmoid"), make_loss("bce"),
                  dropout=0.4)
    theta = net.init_params(np.random.default_rng(3))
    Y = net.decode(theta, net.encode(theta, X))  # inference uses every unit
    expected = -np.mean(X * np.log(Y) + (1 - X) * np.log(1 - Y))
    for rows in (1, 2, 5, 100):
        assert net.mean_loss(theta, X, rows=rows) == pytest.approx(expected, rel=1e-12)


def test_inference_in_chunks_equals_inference_in_one_piece(X, monkeypatch):
    import genval.nn._network as network

    model = perturbed(Autoencoder, X)
    vae = perturbed(VariationalAutoencoder, X)
    Z = np.random.default_rng(0).normal(size=(7, 2))
    whole = (model.transform(X), model.inverse_transform(Z), vae.encode(X), model.score(X))
    for rows in (1, 2, 3, 5):  # the same numbers, up to BLAS's rounding for other matrix sizes
        monkeypatch.setattr(network, "ROWS", rows)
        np.testing.assert_allclose(model.transform(X), whole[0], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(model.inverse_transform(Z), whole[1], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(vae.encode(X)[0], whole[2][0], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(vae.encode(X)[1], whole[2][1], rtol=1e-13, atol=1e-15)
        assert model.score(X) == pytest.approx(whole[3], rel=1e-12)


def test_training_memory_is_estimated_from_the_sizes_and_refused_over_the_budget(monkeypatch):
    from genval._utils.budget import MemoryBudgetError

    net = Network(35, (25, 15), make_activation("tanh"), LinearCode(2), make_activation("sigmoid"), make_loss("bce"))
    per_row = sum(a + 3 * b for a, b in net.shapes) + 4 * 35
    assert net.training_bytes(0, "float64") == net.n_params * (2 * 8 + 5 * 8)
    assert net.training_bytes(17, "float32") - net.training_bytes(0, "float32") == 17 * per_row * 4
    # The workspace the estimate counts holds at least the arrays a real one allocates.
    ws = net.workspace(17, np.float32)
    allocated = sum(x.nbytes for x in [*ws.A, *ws.D, *[z for z in ws.Z if z is not None], ws.Y, ws.tmp,
                                       *[d for d in ws.dA if d is not None]])
    assert allocated <= net.training_bytes(17, "float32") - net.training_bytes(0, "float32")
    huge = Network(35, (10**9,), make_activation("tanh"), LinearCode(2), make_activation("sigmoid"), make_loss("bce"))
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1G")
    with pytest.raises(MemoryBudgetError, match=r"^training a 35-1000000000-2-1000000000-35 network \(76,000,000,037 "
                                                r"parameters\) would need about 3\.9 TiB, more than the memory budget "
                                                r"of 1\.0 GiB"):
        huge.init_params(np.random.default_rng(0))  # refused before the parameter vector is allocated
    with pytest.raises(MemoryBudgetError, match=r"network \(2,677 parameters\) on batches of 1,000,000 would need"):
        net.check_training_memory(1_000_000, "float64")


def test_an_autoencoder_too_large_for_the_budget_is_refused_by_fit(monkeypatch):
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "256M")
    X = load_dataset("emojis").X
    with pytest.raises(MemoryError, match=r"35-25-15-1000000000-15-25-35 network"):
        Autoencoder(n_latent=10**9).fit(X)
    with pytest.raises(ValueError, match=r"network .* would need about 10\^\d+ bytes"):
        Autoencoder(hidden=(10**40,)).fit(X)
