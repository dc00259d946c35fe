import numpy as np
import pytest

from genval.nn._optimizers import make_optimizer


def test_gradient_descent_and_momentum_steps():
    theta = np.array([1.0, -2.0])
    make_optimizer("gd", theta, 0.5).step(theta, np.array([2.0, 2.0]), 0.0)
    np.testing.assert_allclose(theta, [0.0, -3.0])
    theta = np.zeros(1)
    opt = make_optimizer("momentum", theta, 1.0, {"momentum": 0.5})
    for _ in range(3):
        opt.step(theta, np.ones(1), 0.0)
    np.testing.assert_allclose(theta, [-(1 + 1.5 + 1.75)])


def test_adaptive_rate_grows_after_patience_and_shrinks_on_increase():
    theta = np.zeros(1)
    opt = make_optimizer("adaptive", theta, 1.0, {"increase": 0.5, "decrease": 0.2, "patience": 2})
    for loss in (5.0, 4.0):
        opt.step(theta, np.zeros(1), loss)
    assert opt.learning_rate == pytest.approx(1.5)
    opt.step(theta, np.zeros(1), 4.5)
    assert opt.learning_rate == pytest.approx(1.2)


def test_adam_first_step_is_the_learning_rate_times_the_sign():
    for amsgrad in (True, False):
        theta = np.zeros(3)
        make_optimizer("adam", theta, 0.1, {"amsgrad": amsgrad}).step(theta, np.array([3.0, -0.5, 2e-3]), 0.0)
        np.testing.assert_allclose(theta, [-0.1, 0.1, -0.1], rtol=1e-5)


def test_adam_matches_the_textbook_update():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=4)
    ref = theta.copy()
    m = v = np.zeros(4)
    opt = make_optimizer("adam", theta, 0.01, {"amsgrad": False})
    for t in range(1, 6):
        g = rng.normal(size=4)
        opt.step(theta, g, 0.0)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        ref -= 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(theta, ref, rtol=1e-10)


def test_optimizer_state_follows_the_parameter_dtype():
    # The state's dtype is seen through the memory it takes, with no reading of private buffers: Adam
    # with AMSGrad keeps four arrays the size of theta (two moments, the largest second moment and a
    # scratch), 16 bytes an entry in float32 and 32 in float64, and a step allocates none.
    import tracemalloc

    n = 200_000
    theta = np.zeros(n, dtype=np.float32)
    grad = np.ones(n, dtype=np.float32)
    tracemalloc.start()
    try:
        opt = make_optimizer("adam", theta, 0.1)
        opt.step(theta, grad, 0.0)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert theta.dtype == np.float32
    assert 4 * 4 * n <= held and peak < 4 * 8 * n


def test_adaptive_rate_with_momentum_keeps_a_velocity_of_the_adapted_steps():
    theta = np.zeros(1)
    opt = make_optimizer("adaptive", theta, 1.0, {"increase": 0.5, "patience": 2, "momentum": 0.5})
    for loss in (5.0, 4.0, 3.0):  # the rate is 1, then 1.5 from the second step on
        opt.step(theta, np.ones(1), loss)
    # v: -1, then 0.5 * -1 - 1.5 = -2, then 0.5 * -2 - 1.5 = -2.5
    np.testing.assert_allclose(theta, [-(1 + 2 + 2.5)])
    plain = np.zeros(1)
    opt = make_optimizer("adaptive", plain, 1.0, {"increase": 0.5, "patience": 2, "momentum": 0.0})
    for loss in (5.0, 4.0, 3.0):
        opt.step(plain, np.ones(1), loss)
    np.testing.assert_allclose(plain, [-(1 + 1.5 + 1.5)])
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\), got 1.2"):
        make_optimizer("adaptive", theta, 1.0, {"momentum": 1.2})
