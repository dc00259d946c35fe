"""Library parameters out of range: one ParameterError naming the value and the valid range, never numpy's error."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from genval.errors import ParameterError
from genval.latent import grid_axes

CODES = np.array([[0.0, 0.0], [1.0, 2.0], [0.5, -1.0]])


@pytest.mark.parametrize("size", [2.5, "3", True, None, 1, -4, 10**12, np.float64(3)])
def test_a_grid_size_that_is_not_a_whole_number_of_points_is_refused_naming_it(size):
    with pytest.raises(ParameterError) as caught:
        grid_axes(CODES, size=size)
    assert str(caught.value) == f"size must be a whole number of grid points from 2 to 100,000, got {size!r}"


@pytest.mark.parametrize("margin", [True, float("inf"), -float("inf"), np.float32("nan"), 10**400, None])
def test_a_margin_that_is_not_a_finite_share_is_refused_naming_it(margin):
    with pytest.raises(ParameterError) as caught:
        grid_axes(CODES, size=3, margin=margin)
    assert str(caught.value) == f"margin must be a share of the codes' box from 0 to 100, got {margin!r}"


@settings(max_examples=100, deadline=None)
@given(size=st.integers(2, 50), margin=st.floats(0, 100))
def test_a_valid_grid_is_finite_ordered_and_covers_the_box(size, margin):
    xs, ys = grid_axes(CODES, size=size, margin=margin)
    assert xs.shape == ys.shape == (size,)
    assert np.isfinite(xs).all() and np.isfinite(ys).all()
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ys) < 0)
    assert xs[0] <= 0 and xs[-1] >= 1 and ys[0] >= 2 and ys[-1] <= -1


def test_a_seed_a_model_file_cannot_hold_is_refused_at_fit_and_the_largest_round_trips(tmp_path):
    from genval import Autoencoder, load_dataset, load_model

    X = load_dataset("font").X
    with pytest.raises(ParameterError) as caught:
        Autoencoder(epochs=1, random_state=2**128 + 1).fit(X)
    assert str(caught.value) == ("random_state must be at most 2**128 (the largest seed a model file holds), "
                                 f"got {2**128 + 1}")
    Autoencoder(epochs=1, random_state=2**128).fit(X).save(tmp_path / "m.npz")
    assert load_model(tmp_path / "m.npz").random_state == 2**128
