import numpy as np
import pytest

from genval.nn._activations import ACTIVATIONS, make_activation, make_loss


def numeric_derivative(f, z, h=1e-6):
    return (f(z + h) - f(z - h)) / (2 * h)


PARAMETRIZED = [(n, None) for n in ACTIVATIONS] + [("tanh", 0.5), ("sigmoid", 2.0), ("leaky_relu", 0.2),
                                                   ("elu", 0.7)]


def sample(seed=1):
    z = np.random.default_rng(seed).normal(scale=2.0, size=(6, 5))
    z[np.abs(z) < 1e-3] = 0.5  # stay clear of the kink at 0
    return z


@pytest.mark.parametrize("name, param", PARAMETRIZED)
def test_activation_backward_matches_finite_differences(name, param):
    act = make_activation(name, param)
    z = sample()
    a = act.forward(z, np.empty_like(z))
    grad = np.random.default_rng(2).normal(size=z.shape)
    got = act.backward(z, a, grad, np.empty_like(z))

    def f(x):
        return act.forward(x, np.empty_like(x))

    np.testing.assert_allclose(got, grad * numeric_derivative(f, z), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name, param", PARAMETRIZED)
def test_derivatives_for_the_contractive_penalty_match_finite_differences(name, param):
    act = make_activation(name, param)
    z = sample()
    fp, fpp = act.derivatives(z, act.forward(z, np.empty_like(z)))

    def first(x):
        return act.derivatives(x, act.forward(x, np.empty_like(x)))[0]

    np.testing.assert_allclose(fp, numeric_derivative(lambda x: act.forward(x, np.empty_like(x)), z),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fpp, numeric_derivative(first, z), rtol=1e-5, atol=1e-7)


def test_initialisation_bounds():
    assert make_activation("tanh").init_bound(10, 6) == pytest.approx(np.sqrt(6 / 16))  # Glorot
    assert make_activation("relu").init_bound(10, 6) == pytest.approx(np.sqrt(6 / 10))  # He
    assert make_activation("elu").init_bound(24, 1) == pytest.approx(0.5)


def test_activation_shape_parameters_follow_the_course():
    z = np.array([[-2.0, 0.5]])
    out = np.empty_like(z)
    np.testing.assert_allclose(make_activation("tanh", 0.5).forward(z, out), np.tanh(0.5 * z))
    np.testing.assert_allclose(make_activation("leaky_relu", 0.1).forward(z, out), [[-0.2, 0.5]])
    np.testing.assert_allclose(make_activation("elu", 2.0).forward(z, out), [[2 * np.expm1(-2.0), 0.5]])
    np.testing.assert_allclose(make_activation("sigmoid").forward(z, out), 1 / (1 + np.exp(-z)))


def test_unknown_activation_lists_choices():
    with pytest.raises(ValueError, match="unknown activation 'swish'; choose one of identity, sigmoid, tanh"):
        make_activation("swish")
    with pytest.raises(ValueError, match="takes no parameter"):
        make_activation("relu", 0.3)
    with pytest.raises(ValueError, match="the beta of tanh must be a positive number, got nan"):
        make_activation("tanh", float("nan"))


def test_loss_values():
    z = np.log(np.array([[9.0, 0.25]]))  # sigmoid: 0.9 and 0.2
    T = np.array([[1.0, 0.0]])
    Y, delta, tmp = (np.empty_like(z) for _ in range(3))
    sigmoid = make_activation("sigmoid")
    bce = make_loss("bce").evaluate(z, T, sigmoid, Y, delta, tmp, 0.5)
    assert bce == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2)
    np.testing.assert_allclose(Y, [[0.9, 0.2]])
    np.testing.assert_allclose(delta, [[-0.05, 0.1]])
    mse = make_loss("mse").evaluate(z, T, sigmoid, Y, delta, tmp, 0.5)
    assert mse == pytest.approx((0.01 + 0.04) / 2)
    with pytest.raises(ValueError, match="unknown loss 'hinge'; choose one of bce, mse"):
        make_loss("hinge")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", [1.0, 2.5])
def test_cross_entropy_outputs_are_the_documented_formula_to_the_last_bit(dtype, beta):
    # sigmoid(u) = 1 / (1 + e) for u >= 0 and e / (1 + e) below, e = exp(-|u|), u = beta z;
    # the gradient beta * scale * (sigmoid(u) - t). The logits hit 0, both infinities and
    # saturation, and the random signs give the branchless form a mask with no pattern.
    rng = np.random.default_rng(3)
    z = (rng.normal(scale=6.0, size=(40, 30))).astype(dtype)
    z[0, :6] = [0.0, -0.0, np.inf, -np.inf, 120.0, -120.0]
    T = (rng.uniform(size=z.shape) > 0.5).astype(dtype)
    T[1] = rng.uniform(size=30)
    Y, delta, tmp = (np.empty_like(z) for _ in range(3))
    with np.errstate(invalid="ignore"):  # inf * 0 in the loss of the infinite logits
        make_loss("bce").evaluate(z, T, make_activation("sigmoid", beta), Y, delta, tmp, 0.01)
    u = z * dtype(beta) if beta != 1.0 else z
    e = np.exp(-np.abs(u))
    expected_Y = np.where(u >= 0, dtype(1.0), e) / (e + dtype(1.0))
    expected_delta = (expected_Y - T) * (beta * 0.01)
    assert Y.dtype == delta.dtype == dtype
    np.testing.assert_array_equal(Y, expected_Y)
    np.testing.assert_array_equal(delta, expected_delta)
