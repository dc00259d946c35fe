"""Big maps: winners by the matrix-product form, exactly the direct ones; batch training as MiniSom's;
queries chunked under the memory budget; sizes, learning rates and codes past the limits refused;
the neighbour table in linear work.
"""

import numpy as np
import pytest
from minisom import MiniSom

from genval.latent import LatentSOM
from genval.latent import _som_params

import _som_fixtures
from _som_fixtures import minisom_with, planted

codes = _som_fixtures.codes  # the shared fixture: 18 two-dimensional codes in three blobs


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


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
@pytest.mark.parametrize("shape", [(1, 1, 2), (1, 5, 1), (5, 1, 3), (3, 4, 2), (7, 6, 5), (2, 2, 12), (30, 31, 2)])
def test_umatrix_is_minisoms_distance_map(topology, shape):
    rng = np.random.default_rng(sum(shape))
    for scale in (0.01, 1.0, 300.0):
        W = rng.normal(size=shape) * scale
        with np.errstate(invalid="ignore"):
            expected = np.nan_to_num(minisom_with(W, topology).distance_map())
        np.testing.assert_allclose(planted(W, topology=topology).umatrix(), expected, rtol=1e-14, atol=0)


def test_the_batch_gaussian_is_minisoms_to_the_bit():
    from genval.latent._som_batch import rectangular_gaussian

    rng = np.random.default_rng(4)
    for rows, cols in [(1, 1), (4, 3), (1, 9), (7, 1), (20, 33)]:
        oracle, gaussian = MiniSom(rows, cols, 2), rectangular_gaussian(rows, cols)
        for _ in range(20):
            centre, sigma = (int(rng.integers(rows)), int(rng.integers(cols))), float(rng.uniform(0.01, 40))
            np.testing.assert_array_equal(gaussian(centre, sigma), oracle.neighborhood(centre, sigma))


@pytest.mark.parametrize("n_points", [1, 5, 31, 32, 33, 200])  # the product below 32 points, the k-d tree above
def test_winners_of_few_points_on_a_big_map_are_the_direct_ones(n_points):
    rng = np.random.default_rng(n_points)
    W = rng.normal(size=(60, 70, 2))
    Z = np.concatenate([rng.normal(size=(n_points, 2)), W.reshape(-1, 2)[[5, 5]]])  # exact hits on a neuron
    np.testing.assert_array_equal(planted(W).winners(Z), direct_winners(Z, W.reshape(-1, 2)))


def test_batch_training_reports_each_pass(codes):
    passes = []
    som = LatentSOM(grid=(16, 17), iterations=7).fit(codes, progress=lambda done, total: passes.append((done, total)))
    assert passes == [(k, 7) for k in range(1, 8)]
    np.testing.assert_array_equal(som.weights_, LatentSOM(grid=(16, 17), iterations=7).fit(codes).weights_)


def test_a_space_reports_its_maps_passes():
    from sklearn.decomposition import PCA

    from genval import load_dataset
    from genval.latent import LatentSpace

    emojis = load_dataset("emojis")
    passes = []
    LatentSpace.build(emojis, PCA(2).fit(emojis.X), LatentSOM(grid=(16, 17), iterations=3),
                      progress=lambda done, total: passes.append((done, total)))
    assert passes == [(1, 3), (2, 3), (3, 3)]
