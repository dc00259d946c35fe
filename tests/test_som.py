import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minisom import MiniSom
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from genval import ModelFileError
from genval.latent import LatentSOM, default_grid, load_som, pca_weights
from genval.latent import _som_params


@pytest.fixture(scope="module")
def codes():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(c, 0.3, size=(6, 2)) for c in ([0, 0], [4, 0], [0, 4])])


def minisom_with(weights, topology="rectangular"):
    """MiniSom itself holding given weights: the oracle for winners and errors."""
    rows, cols, n_latent = weights.shape
    som = MiniSom(rows, cols, n_latent, topology=topology)
    som.get_weights()[...] = weights  # MiniSom has no setter: get_weights() gives the array it works on
    return som


def planted(weights, topology="rectangular"):
    """A fitted map whose weights are then set by hand."""
    weights = np.asarray(weights, dtype=float)
    som = LatentSOM(grid=weights.shape[:2], topology=topology, iterations=1, init="random")
    som.fit(weights.reshape(-1, weights.shape[2]))
    som.weights_ = weights
    return som


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


def test_save_load_round_trip(tmp_path, codes):
    som = LatentSOM(grid=(2, 3), topology="hexagonal", sigma=0.8).fit(codes)
    path = tmp_path / "map.npz"
    som.save(path)
    again = load_som(path)
    assert again.get_params() == som.get_params()
    np.testing.assert_array_equal(again.weights_, som.weights_)
    np.testing.assert_array_equal(again.labels_, som.labels_)
    assert (again.grid_, again.seed_, again.n_iterations_, again.n_features_in_) == \
        (som.grid_, som.seed_, som.n_iterations_, 2)
    probe = np.random.default_rng(1).uniform(-2, 6, size=(50, 2))
    np.testing.assert_array_equal(again.winners(probe), som.winners(probe))
    assert again.topographic_error(codes) == som.topographic_error(codes)
    np.testing.assert_array_equal(again.umatrix(), som.umatrix())
    (tmp_path / "bad.npz").write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelFileError, match="bad.npz: not a readable genval map"):
        load_som(tmp_path / "bad.npz")
    with pytest.raises(ModelFileError, match="no such map file"):
        load_som(tmp_path / "missing.npz")


# ---------------------------------------------------------------- the matmul form, batch training, budgets

def direct_winners(Z, W):
    """Today's reference: subtract, square, sum, first minimum."""
    diff = np.asarray(Z, dtype=float)[:, None, :] - W[None, :, :]
    return np.einsum("nkd,nkd->nk", diff, diff).argmin(axis=1)


def lattice_with_ties(n_latent):
    """Weights on a lattice far from the origin and points on the bisectors between them: exact ties."""
    W = np.array([[r, c] + [0] * (n_latent - 2) for r in range(3) for c in range(4)], dtype=float) * 1e3 + 1e8
    Z = np.array([[r / 2, c / 2] + [0] * (n_latent - 2) for r in range(5) for c in range(7)], dtype=float) * 1e3 + 1e8
    return Z, W.reshape(3, 4, n_latent)


@pytest.mark.parametrize("n_latent", [2, 6])  # through the k-d tree, through the matrix-product form
@pytest.mark.parametrize("chunk", [None, 1, 2, 34, 35, 36])
def test_winners_are_exactly_the_direct_ones_even_on_ties(chunk, n_latent):
    Z, W = lattice_with_ties(n_latent)
    som = planted(W)
    expected = direct_winners(Z, W.reshape(12, n_latent))
    # [0.5, 0.5] (x 1e3, shifted) is equally far from four neurons: the first wins
    assert expected[8] == 0 and len(set(np.round(((Z[8] - W.reshape(12, n_latent)) ** 2).sum(axis=1)[:6]))) == 3
    np.testing.assert_array_equal(som.winners(Z, chunk=chunk), expected)


@pytest.mark.parametrize("budget", ["1", "64", "320", "100M"])
def test_winners_under_any_budget_wide_codes_too(monkeypatch, budget):
    rng = np.random.default_rng(3)
    for n_latent in (2, 5, 12):  # a k-d tree, the product elementwise, the product in BLAS
        W = rng.normal(size=(2, 5, n_latent))
        Z = np.concatenate([rng.normal(size=(40, n_latent)), W.reshape(10, n_latent)[[3, 3, 7]]])
        som = planted(W)  # fitting holds the grid at once, and refuses it over a tiny budget; queries chunk
        monkeypatch.setenv("GENVAL_MEMORY_BUDGET", budget)
        np.testing.assert_array_equal(som.winners(Z), direct_winners(Z, W.reshape(10, n_latent)))
        monkeypatch.delenv("GENVAL_MEMORY_BUDGET")


@pytest.mark.filterwarnings("ignore:sigma should be an integer", "ignore:triangle neighborhood")
@pytest.mark.parametrize("topology, neighborhood, sigma", [
    ("rectangular", "gaussian", 1.5), ("rectangular", "mexican_hat", 1.2),
    ("hexagonal", "bubble", 2), ("rectangular", "triangle", 2), ("hexagonal", "gaussian", 1.0),
])
def test_batch_training_is_minisoms_offline_batch(monkeypatch, codes, topology, neighborhood, sigma):
    monkeypatch.setattr(_som_params, "ONLINE_MAX_NEURONS", 11)  # a 3x4 map trains in batch
    som = LatentSOM(grid=(3, 4), sigma=sigma, learning_rate=0.6, iterations=6, topology=topology,
                    neighborhood=neighborhood).fit(codes)
    oracle = MiniSom(3, 4, 2, sigma=sigma, learning_rate=0.6, neighborhood_function=neighborhood, topology=topology)
    oracle.pca_weights_init(codes)
    oracle.train_batch_offline(codes, 6)
    np.testing.assert_allclose(som.weights_, oracle.get_weights(), rtol=0, atol=1e-12)
    assert som.algorithm_ == "batch" and som.n_iterations_ == 6


def test_maps_over_256_neurons_train_in_batch_and_same_seed_same_map(codes):
    assert LatentSOM(grid=(16, 16), iterations=10).fit(codes).algorithm_ == "online"
    big = LatentSOM(grid=(16, 17)).fit(codes)
    assert big.algorithm_ == "batch" and big.n_iterations_ == 30
    np.testing.assert_array_equal(big.weights_, LatentSOM(grid=(16, 17)).fit(codes).weights_)


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
@pytest.mark.parametrize("budget", ["1", "100M"])
def test_chunked_errors_are_minisoms(monkeypatch, codes, topology, budget):
    som = LatentSOM(grid=(3, 4), topology=topology, iterations=30, random_state=2).fit(codes)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", budget)
    oracle = minisom_with(som.weights_, topology)
    probe = np.random.default_rng(8).uniform(-2, 6, size=(300, 2))
    assert som.topographic_error(probe) == oracle.topographic_error(probe)
    assert som.quantization_error(probe) == pytest.approx(oracle.quantization_error(probe), rel=1e-12)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "40K")  # chunks of a few rows, the result within budget
    W = oracle.get_weights().reshape(-1, 2)
    np.testing.assert_allclose(som.transform(probe), np.linalg.norm(probe[:, None] - W[None], axis=-1), rtol=1e-9)


def test_transform_refuses_more_than_the_budget_with_the_estimate(monkeypatch, codes):
    som = LatentSOM(grid=(3, 3), iterations=10).fit(codes)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "64K")
    assert som.transform(np.zeros((910, 2))).shape == (910, 9)  # 65,520 bytes
    with pytest.raises(MemoryError, match=r"distances from 1,000 points to 9 neurons would need about 70\.3 KiB, "
                                          r"more than the memory budget of 64\.0 KiB"):
        som.transform(np.zeros((1000, 2)))
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "lots")
    with pytest.raises(ValueError, match="GENVAL_MEMORY_BUDGET must be a positive size such as"):
        som.transform(np.zeros((1, 2)))


def test_saved_map_keeps_how_it_was_trained(tmp_path, codes):
    som = LatentSOM(grid=(16, 17), iterations=4).fit(codes)
    som.save(tmp_path / "map.npz")
    again = load_som(tmp_path / "map.npz")
    assert again.algorithm_ == "batch"
    np.testing.assert_array_equal(again.weights_, som.weights_)


def test_sizes_past_the_limits_are_refused_before_training(monkeypatch):
    from genval.errors import ParameterError
    from genval.latent._som_params import MAX_BATCH_ITERATIONS, MAX_NEURONS

    Z = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ParameterError, match=r"grid 1000x1000 has 1,000,000 neurons, more than the limit of 100,000"):
        LatentSOM(grid=(1000, 1000)).fit(Z)
    with pytest.raises(ParameterError, match=rf"grid 10{'0' * 29}x2 has 2,000,.*,000 neurons, more than the limit "
                                             rf"of {MAX_NEURONS:,}"):
        LatentSOM(grid=(10**30, 2)).fit(Z)
    with pytest.raises(ParameterError, match=r"grid must be \(rows, cols\) with both >= 1, got \(0, 2\)"):
        LatentSOM(grid=(0, 2)).fit(Z)
    with pytest.raises(ParameterError, match=rf"iterations=10,001 batch passes, more than the limit of "
                                             rf"{MAX_BATCH_ITERATIONS:,}"):
        LatentSOM(grid=(20, 20), iterations=MAX_BATCH_ITERATIONS + 1).fit(Z)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1M")
    with pytest.raises(MemoryError, match=r"the training order of 100,000 map steps would need about 1\.5 MiB, more "
                                          r"than the memory budget of 1\.0 MiB"):
        LatentSOM(grid=(2, 2), iterations=100_000).fit(Z)
    assert LatentSOM(grid=(2, 2), iterations=50_000).fit(Z).n_iterations_ == 50_000
    for bad in (float("nan"), float("inf"), True):
        with pytest.raises(ParameterError, match="sigma must be a positive number"):
            LatentSOM(sigma=bad).fit(Z)


@pytest.mark.parametrize("grid", [(2, 3), (20, 20)])  # trained online, and in batch
def test_a_diverging_map_is_a_parameter_error_not_a_crash(grid):
    from genval.errors import ParameterError

    Z = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ParameterError, match=r"^the map diverged \(weights infinite, NaN or past 1e100\) with "
                                             r"learning_rate=1e\+300; use a learning rate of at most 1$"):
        LatentSOM(grid=grid, learning_rate=1e300).fit(Z)
    assert np.isfinite(LatentSOM(grid=grid, learning_rate=1.0).fit(Z).weights_).all()


def test_a_map_records_its_codes_and_refuses_others(tmp_path, codes):
    from genval import DataMismatchError, ShapeMismatchError

    som = LatentSOM(grid=(2, 3), random_state=0).fit(codes)
    assert som.training_data_["n_items"] == 18 and som.training_data_["n_features"] == 2
    assert som.check_training_data(codes) is True
    path = tmp_path / "map.npz"
    som.save(path)
    again = load_som(path)
    assert again.training_data_ == som.training_data_ and again.check_training_data(codes) is True
    with pytest.raises(DataMismatchError, match=r"this map was fitted on other codes \(18 codes of 2 dimensions, "
                                                r"sha256 [0-9a-f]{12}\), not on these \(17 codes of 2 dimensions"):
        again.check_training_data(codes[:-1])
    with pytest.raises(DataMismatchError):
        again.check_training_data(codes + 1e-3)
    with pytest.raises(ShapeMismatchError, match="fitted on codes of 2 dimensions, and these have 3"):
        again.check_training_data(np.column_stack([codes, codes[:, 0]]))
    again.training_data_ = None  # a file saved before maps kept a record: only the width can be checked
    assert again.check_training_data(codes + 1) is False


@pytest.mark.parametrize("scale", [1e101, 1e160, 1e300, -1e200])
def test_codes_past_the_maps_range_are_refused_not_given_a_neuron_out_of_range(scale):
    from genval import ParameterError

    som = LatentSOM(grid=(3, 3), random_state=0).fit(np.random.default_rng(0).normal(size=(20, 2)))
    with pytest.raises(ParameterError, match=r"codes reach [\d.e+]+; expected codes of magnitude at most 1e\+100"):
        som.predict(np.array([[scale, 0.0]]))
    with pytest.raises(ParameterError, match=r"codes reach"):
        LatentSOM(grid=(3, 3), random_state=0).fit(np.array([[0.0, 0.0], [scale, 1.0]]))
    within = np.random.default_rng(1).uniform(-1e99, 1e99, size=(50, 2))
    assert ((0 <= som.predict(within)) & (som.predict(within) < 9)).all()


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 14), cols=st.integers(1, 14), topology=st.sampled_from(["rectangular", "hexagonal"]))
def test_neighbours_are_the_neurons_at_unit_distance(rows, cols, topology):
    som = LatentSOM(grid=(rows, cols), topology=topology, iterations=2, random_state=0).fit(
        np.random.default_rng(0).normal(size=(5, 2)))
    xx, yy = MiniSom(rows, cols, 2, topology=topology).get_euclidean_coordinates()  # the oracle's layout
    P = np.stack([np.ravel(xx), np.ravel(yy)], axis=1)
    d = np.linalg.norm(P[:, None] - P[None], axis=-1)
    assert som.neighbours() == [np.flatnonzero(np.isclose(row, 1.0)).tolist() for row in d]


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_the_neighbour_table_takes_work_linear_in_the_neurons(monkeypatch, topology):
    som = LatentSOM(grid=(120, 150), topology=topology, iterations=2, random_state=0).fit(
        np.random.default_rng(0).normal(size=(5, 2)))
    measured = []
    norm = np.linalg.norm

    def counting(x, *args, **kwargs):
        measured.append(np.size(x))
        return norm(x, *args, **kwargs)
    monkeypatch.setattr(np.linalg, "norm", counting)
    neighbours = som.neighbours()
    assert sum(measured) <= 20 * som.n_neurons  # 8 cells around each neuron, 2 coordinates (and a few more): not n^2
    assert max(map(len, neighbours)) == (6 if topology == "hexagonal" else 4)
    assert som.grid_path(0, som.n_neurons - 1)[-1] == som.n_neurons - 1
