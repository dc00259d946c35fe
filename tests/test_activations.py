import numpy as np
import pytest

from genval.activations import ACTIVATIONS, LOSSES, make_activation, make_loss


def numeric_derivative(f, z, h=1e-6):
    return (f(z + h) - f(z - h)) / (2 * h)


@pytest.mark.parametrize("name, param", [(n, None) for n in ACTIVATIONS] + [
    ("tanh", 0.5), ("sigmoid", 2.0), ("leaky_relu", 0.2), ("elu", 0.7)])
def test_activation_backward_matches_finite_differences(name, param):
    act = make_activation(name, param)
    rng = np.random.default_rng(1)
    z = rng.normal(scale=2.0, size=(6, 5))
    z[np.abs(z) < 1e-3] = 0.5  # stay clear of the kink at 0
    a = act.forward(z, np.empty_like(z))
    grad = rng.normal(size=z.shape)
    got = act.backward(z, a, grad, np.empty_like(z))

    def f(x):
        return act.forward(x, np.empty_like(x))

    np.testing.assert_allclose(got, grad * numeric_derivative(f, z), rtol=1e-6, atol=1e-8)


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


@pytest.mark.parametrize("name", LOSSES)
def test_loss_gradient_matches_finite_differences(name):
    loss = make_loss(name)
    rng = np.random.default_rng(2)
    Y = rng.uniform(0.05, 0.95, size=(4, 6))
    T = rng.uniform(0, 1, size=(4, 6))
    got = loss.gradient(Y, T, np.empty_like(Y))
    expected = np.empty_like(Y)
    h = 1e-6
    for idx in np.ndindex(Y.shape):
        up, down = Y.copy(), Y.copy()
        up[idx] += h
        down[idx] -= h
        expected[idx] = (loss.value(up, T) - loss.value(down, T)) / (2 * h)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-9)


def test_loss_values():
    Y = np.array([[0.9, 0.2]])
    T = np.array([[1.0, 0.0]])
    assert make_loss("bce").value(Y, T) == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2)
    assert make_loss("mse").value(Y, T) == pytest.approx((0.01 + 0.04) / 2)
