import numpy as np
import pytest

from genval import ModelFileError
from genval.som import LatentSOM, default_grid, load_som


@pytest.fixture(scope="module")
def codes():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(c, 0.3, size=(6, 2)) for c in ([0, 0], [4, 0], [0, 4])])


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_winners_agree_with_minisom(codes, topology):
    som = LatentSOM(grid=(3, 4), topology=topology, random_state=1).fit(codes)
    probe = np.random.default_rng(5).uniform(-2, 6, size=(200, 2))
    expected = [np.ravel_multi_index(som._som.winner(z), (3, 4)) for z in probe]
    np.testing.assert_array_equal(som.winners(probe), expected)


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
    assert table[0].to_dict().keys() == {"row", "col", "items", "weight"}


def test_same_seed_same_map(codes):
    a = LatentSOM(grid=(3, 3), random_state=4, init="random").fit(codes)
    b = LatentSOM(grid=(3, 3), random_state=4, init="random").fit(codes)
    c = LatentSOM(grid=(3, 3), random_state=5, init="random").fit(codes)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    assert not np.array_equal(a.weights_, c.weights_)
    rng = np.random.default_rng(9)
    d = LatentSOM(grid=(3, 3), random_state=rng).fit(codes)
    assert d.seed_ == np.random.default_rng(9).integers(2**31 - 1)


def test_errors_match_minisom_and_definitions(codes):
    som = LatentSOM(grid=(3, 3)).fit(codes)
    dist = np.linalg.norm(codes[:, None] - som.weights_.reshape(9, 2)[None], axis=-1)
    assert som.quantization_error(codes) == pytest.approx(dist.min(axis=1).mean())
    assert som.quantization_error(codes) == pytest.approx(som._som.quantization_error(codes))
    assert 0 <= som.topographic_error(codes) <= 1
    u = som.umatrix()
    assert u.shape == (3, 3) and u.max() == pytest.approx(1.0)


def test_grid_adjacency_and_paths(codes):
    som = LatentSOM(grid=(3, 4)).fit(codes)
    nb = som.neighbours()
    assert nb[0] == [1, 4] and nb[5] == [1, 4, 6, 9]
    path = som.grid_path(0, 11)
    assert path[0] == 0 and path[-1] == 11 and len(path) == 6  # 2 down + 3 right + start
    assert all(b in nb[a] for a, b in zip(path, path[1:]))
    assert som.grid_path(7, 7) == [7]
    hexa = LatentSOM(grid=(4, 4), topology="hexagonal").fit(codes)
    hex_nb = hexa.neighbours()
    assert max(len(n) for n in hex_nb) == 6
    assert all(a in hex_nb[b] for a in range(16) for b in hex_nb[a])  # symmetric
    p = hexa.grid_path(0, 15)
    assert all(b in hex_nb[a] for a, b in zip(p, p[1:]))
    with pytest.raises(ValueError, match="outside the 3x4 map"):
        som.grid_path(0, 12)


def test_default_grid_rule_of_thumb():
    rng = np.random.default_rng(0)
    round_cloud = rng.normal(size=(100, 2))
    rows, cols = default_grid(round_cloud)
    assert rows * cols >= 50 and abs(rows - cols) <= 2
    long_cloud = round_cloud * [1, 5]
    rows, cols = default_grid(long_cloud)
    assert rows * cols >= 50 and cols > 2 * rows
    assert LatentSOM().fit(round_cloud).grid_ == default_grid(round_cloud)


@pytest.mark.parametrize("params, message", [
    (dict(topology="triangular"), "unknown topology 'triangular'; choose one of rectangular, hexagonal"),
    (dict(neighborhood="flat"), "unknown neighborhood"),
    (dict(grid=(0, 3)), "grid must be"),
    (dict(sigma=-1), "sigma must be a positive number"),
    (dict(grid=(1, 3)), "pca initialisation needs"),
])
def test_bad_parameters(codes, params, message):
    with pytest.raises(ValueError, match=message):
        LatentSOM(**params).fit(codes)


def test_save_load_round_trip(tmp_path, codes):
    som = LatentSOM(grid=(2, 3), topology="hexagonal").fit(codes)
    path = tmp_path / "map.npz"
    som.save(path)
    again = load_som(path)
    np.testing.assert_array_equal(again.weights_, som.weights_)
    probe = np.random.default_rng(1).uniform(-2, 6, size=(50, 2))
    np.testing.assert_array_equal(again.winners(probe), som.winners(probe))
    assert again.topographic_error(codes) == som.topographic_error(codes)
    np.testing.assert_array_equal(again.umatrix(), som.umatrix())
    (tmp_path / "bad.npz").write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelFileError, match="bad.npz: not a readable genval map"):
        load_som(tmp_path / "bad.npz")
