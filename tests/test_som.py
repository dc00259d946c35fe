"""The Kohonen map over latent codes (LatentSOM): a scikit-learn estimator that trains, finds winners
and measures errors exactly as MiniSom does; its grid, neighbours and paths; parameters checked.

Map files are tested in tests/test_som_files.py, big maps and the memory budget in
tests/test_som_scale.py.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minisom import MiniSom
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from genval.latent import LatentSOM, default_grid, pca_weights

import _som_fixtures
from _som_fixtures import minisom_with, planted

codes = _som_fixtures.codes  # the shared fixture: 18 two-dimensional codes in three blobs


@parametrize_with_checks([LatentSOM(iterations=100)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_winners_agree_with_minisom(codes, topology):
    som = LatentSOM(grid=(3, 4), topology=topology, random_state=1).fit(codes)
    oracle = minisom_with(som.weights_, topology)
    probe = np.random.default_rng(5).uniform(-2, 6, size=(200, 2))
    expected = [np.ravel_multi_index(oracle.winner(z), (3, 4)) for z in probe]
    np.testing.assert_array_equal(som.winners(probe), expected)
    np.testing.assert_array_equal(som.predict(probe), expected)
    np.testing.assert_array_equal(som.winners(probe, chunk=7), expected)


@pytest.mark.parametrize("init", ["pca", "random"])
def test_fit_is_minisom_training(codes, init):
    """The adapter trains exactly as MiniSom does with the seed it drew."""
    som = LatentSOM(grid=(3, 3), sigma=1.2, learning_rate=0.4, iterations=700, init=init, random_state=3).fit(codes)
    oracle = MiniSom(3, 3, 2, sigma=1.2, learning_rate=0.4, random_seed=som.seed_)
    if init == "pca":
        oracle.pca_weights_init(codes)
    else:
        oracle.random_weights_init(codes)
    oracle.train(codes, 700, random_order=True)
    np.testing.assert_array_equal(som.weights_, oracle.get_weights())
    assert som.n_iterations_ == 700 and som.grid_ == (3, 3)


def test_pca_weights_reproduce_minisom_and_extend_it():
    Z = np.random.default_rng(2).normal(size=(40, 5)) * [3, 2, 1, 1, 0.5]
    oracle = MiniSom(3, 4, 5)
    oracle.pca_weights_init(Z)
    np.testing.assert_array_equal(pca_weights(Z, (3, 4)), oracle.get_weights())
    # What MiniSom refuses: a single row lies along the first component, centred on the mean.
    line = np.column_stack([np.arange(9.0), np.zeros(9)])
    np.testing.assert_allclose(sorted(pca_weights(line, (1, 3))[0].tolist()), [[3, 0], [4, 0], [5, 0]], atol=1e-12)
    np.testing.assert_allclose(np.abs(pca_weights(line, (3, 1))[:, 0, 0] - 4), [1, 0, 1], atol=1e-12)
    np.testing.assert_allclose(pca_weights(np.array([[1.0], [3.0]]), (2, 2))[:, :, 0], [[1, 1], [3, 3]])
    np.testing.assert_array_equal(pca_weights(np.array([[2.0, 5.0]]), (1, 1)), [[[2.0, 5.0]]])


def test_maps_minisom_refused_now_fit():
    line = np.column_stack([np.linspace(0, 8, 9), np.zeros(9)])
    row = LatentSOM(grid=(1, 4), iterations=200).fit(line)
    # a one-row map orders its neurons along the line: winners increase left to right
    assert row.labels_.tolist() == sorted(row.labels_.tolist()) and set(row.labels_) == {0, 1, 2, 3}
    flat = LatentSOM(iterations=50).fit(np.arange(6.0)[:, None])
    assert flat.n_features_in_ == 1 and flat.grid_ == default_grid(np.zeros((6, 1)))
    single = LatentSOM(iterations=50).fit([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(single.transform([[1.0, 2.0, 3.0]]).min(), 0.0, atol=1e-6)


def test_labels_predict_and_fit_predict(codes):
    som = LatentSOM(grid=(3, 3), random_state=0).fit(codes)
    np.testing.assert_array_equal(som.labels_, som.predict(codes))
    assert som.labels_.dtype == np.int64
    again = LatentSOM(grid=(3, 3), random_state=0).fit_predict(codes)
    np.testing.assert_array_equal(again, som.labels_)
    # no neuron wins codes of two of the three blobs
    blobs = [set(som.labels_[k:k + 6]) for k in (0, 6, 12)]
    assert sum(len(b) for b in blobs) == len(set.union(*blobs))
    distances = som.transform(codes)
    assert distances.shape == (18, 9)
    np.testing.assert_array_equal(distances.argmin(axis=1), som.labels_)
    assert list(som.get_feature_names_out()) == [f"latentsom{k}" for k in range(9)]


def test_neuron_table_lists_every_neuron_and_every_item_once(codes):
    names = [f"p{i}" for i in range(len(codes))]
    som = LatentSOM(grid=(3, 3), random_state=0).fit(codes)
    table = som.neuron_table(codes, names)
    assert [(n.row, n.col, n.index) for n in table] == [(r, c, r * 3 + c) for r in range(3) for c in range(3)]
    assert sorted(name for n in table for name in n.items) == sorted(names)
    winners = som.winners(codes)
    for n in table:
        assert list(n.items) == [names[i] for i in np.flatnonzero(winners == n.index)]
        np.testing.assert_array_equal(n.weight, som.weights_[n.row, n.col])
    assert table[0].to_dict() == {"row": 0, "col": 0, "items": list(table[0].items),
                                  "weight": som.weights_[0, 0].tolist()}
    with pytest.raises(ValueError, match="got 2 names for 18 codes"):
        som.neuron_table(codes, names[:2])


def test_same_seed_same_map(codes):
    a = LatentSOM(grid=(3, 3), random_state=4, init="random").fit(codes)
    b = LatentSOM(grid=(3, 3), random_state=4, init="random").fit(codes)
    c = LatentSOM(grid=(3, 3), random_state=5, init="random").fit(codes)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    assert not np.array_equal(a.weights_, c.weights_)
    rng = np.random.default_rng(9)
    d = LatentSOM(grid=(3, 3), random_state=rng).fit(codes)
    assert d.seed_ == np.random.default_rng(9).integers(2**31 - 1)


def test_quantization_error_against_brute_force(codes):
    som = LatentSOM(grid=(3, 3)).fit(codes)
    W = som.weights_.reshape(9, 2)
    brute = np.mean([min(np.sqrt(((z - w) ** 2).sum()) for w in W) for z in codes])
    assert som.quantization_error(codes) == pytest.approx(brute, rel=1e-12)
    assert som.quantization_error(codes) == pytest.approx(minisom_with(som.weights_).quantization_error(codes))
    line = planted([[[0.0], [10.0]]])
    assert line.quantization_error([[1.0], [7.0], [10.0]]) == pytest.approx((1 + 3 + 0) / 3)


def test_topographic_error_is_exactly_zero_or_one_on_planted_weights():
    far = np.array([[[100.0 + 10 * (3 * r + c), 100.0] for c in range(3)] for r in range(3)])
    far[0, 0] = [0, 0]
    point = [[0.1, 0.0]]
    beside, diagonal, corner = far.copy(), far.copy(), far.copy()
    beside[0, 1] = [1, 0]    # second best next to the best
    diagonal[1, 1] = [1, 0]  # diagonals are neighbours on a rectangular grid
    corner[2, 2] = [1, 0]    # second best at the far corner
    assert planted(beside).topographic_error(point) == 0.0
    assert planted(diagonal).topographic_error(point) == 0.0
    assert planted(corner).topographic_error(point) == 1.0
    both = corner.copy()
    both[1, 0] = [-1, 0.05]  # a second point, at [-0.9, 0], has (0, 0) and (1, 0) as its best two
    assert planted(both).topographic_error([[0.1, 0.0], [-0.9, 0.0]]) == 0.5
    assert np.isnan(planted([[[1.0, 2.0]]]).topographic_error(point))


def test_umatrix_on_planted_weights():
    # 1x3 line at 0, 1, 3: summed distances to the neighbours are 1, 1 + 2, 2.
    np.testing.assert_allclose(planted([[[0.0], [1.0], [3.0]]]).umatrix(), [[1 / 3, 1, 2 / 3]])
    # on a 2x2 rectangular grid every neuron touches the three others (diagonals count)
    np.testing.assert_allclose(planted([[[0.0], [1.0]], [[3.0], [7.0]]]).umatrix(),
                               np.array([[11, 9], [9, 17]]) / 17)
    np.testing.assert_array_equal(planted([[[1.0, 2.0]]]).umatrix(), [[0.0]])


def test_grid_adjacency_and_paths(codes):
    som = LatentSOM(grid=(3, 4)).fit(codes)
    nb = som.neighbours()
    assert nb[0] == [1, 4] and nb[5] == [1, 4, 6, 9]
    path = som.grid_path(0, 11)
    assert path == [0, 1, 2, 3, 7, 11]  # lowest indices first among the shortest paths
    assert som.grid_path(7, 7) == [7]
    hexa = LatentSOM(grid=(4, 4), topology="hexagonal").fit(codes)
    hex_nb = hexa.neighbours()
    assert max(len(n) for n in hex_nb) == 6 and sum(len(n) for n in hex_nb) == 2 * 33  # 33 edges
    assert all(a in hex_nb[b] for a in range(16) for b in hex_nb[a])  # symmetric
    p = hexa.grid_path(0, 15)
    assert p[0] == 0 and p[-1] == 15 and all(b in hex_nb[a] for a, b in zip(p, p[1:]))
    with pytest.raises(ValueError, match="outside the 3x4 map"):
        som.grid_path(0, 12)


@pytest.mark.parametrize("Z, grid", [
    (np.array([[x, 2 * y] for x in range(10) for y in range(10)], dtype=float), (5, 10)),  # spreads 1:2
    (np.array([[x, y] for x in range(10) for y in range(10)], dtype=float), (7, 8)),       # round: 50 neurons
    (np.column_stack([np.arange(100.0), np.zeros(100)]), (4, 13)),                          # a line: ratio capped at 4
    (np.zeros((100, 2)), (7, 8)),                                                           # no spread at all
    (np.arange(100.0)[:, None], (7, 8)),                                                    # 1-D codes
    (np.zeros((1, 3)), (2, 3)),                                                             # at least 4 neurons
])
def test_default_grid_rule_of_thumb(Z, grid):
    assert default_grid(Z) == grid


def test_default_grid_is_used_when_no_grid_is_given():
    round_cloud = np.random.default_rng(0).normal(size=(100, 2))
    assert LatentSOM(iterations=10).fit(round_cloud).grid_ == default_grid(round_cloud)


@pytest.mark.parametrize("params, message", [
    (dict(topology="triangular"), "unknown topology 'triangular'; choose one of rectangular, hexagonal"),
    (dict(neighborhood="flat"), "unknown neighborhood 'flat'; choose one of gaussian, mexican_hat, bubble, triangle"),
    (dict(init="zeros"), "unknown init 'zeros'; choose one of pca, random"),
    (dict(grid=(0, 3)), r"grid must be \(rows, cols\) with both >= 1, got \(0, 3\)"),
    (dict(grid=5), r"grid must be \(rows, cols\) with both >= 1, got 5"),
    (dict(sigma=-1), "sigma must be a positive number, got -1"),
    (dict(learning_rate=float("nan")), "learning_rate must be a positive number, got nan"),
    (dict(iterations=0), "iterations must be a positive integer, got 0"),
])
def test_bad_parameters(codes, params, message):
    with pytest.raises(ValueError, match=message):
        LatentSOM(**params).fit(codes)


@pytest.mark.parametrize("method", ["predict", "winners", "transform", "quantization_error", "topographic_error"])
def test_unfitted_and_wrong_dimension(codes, method):
    with pytest.raises(NotFittedError):
        getattr(LatentSOM(), method)(codes)
    som = LatentSOM(grid=(2, 2), iterations=10).fit(codes)
    with pytest.raises(ValueError, match="X has 3 features, but LatentSOM is expecting 2 features"):
        getattr(som, method)(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        getattr(som, method)(np.full((1, 2), np.nan))


def test_unfitted_map_queries_raise_not_fitted():
    som = LatentSOM()
    for query in (som.umatrix, som.neighbours, lambda: som.n_neurons, lambda: som.save("never.npz")):
        with pytest.raises(NotFittedError):
            query()


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 14), cols=st.integers(1, 14), topology=st.sampled_from(["rectangular", "hexagonal"]))
def test_neighbours_are_the_neurons_at_unit_distance(rows, cols, topology):
    som = LatentSOM(grid=(rows, cols), topology=topology, iterations=2, random_state=0).fit(
        np.random.default_rng(0).normal(size=(5, 2)))
    xx, yy = MiniSom(rows, cols, 2, topology=topology).get_euclidean_coordinates()  # the oracle's layout
    P = np.stack([np.ravel(xx), np.ravel(yy)], axis=1)
    d = np.linalg.norm(P[:, None] - P[None], axis=-1)
    assert som.neighbours() == [np.flatnonzero(np.isclose(row, 1.0)).tolist() for row in d]
