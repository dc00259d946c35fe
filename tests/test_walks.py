import tracemalloc

import numpy as np
import pytest

from genval import load_dataset, load_som
from genval.errors import ParameterError
from genval._utils.budget import dedupe_rows, nearest_bitmaps
from genval.latent import Embedding, LatentSpace, latent_grid, sample_latent, walk
from genval.latent._space import point_bytes
from genval.pipeline import build_embedding


def test_items_locate_on_themselves(space):
    loc = space.locate(space.codes)
    assert loc.hamming.tolist() == [0] * 17
    assert loc.nearest.tolist() == list(range(17))
    np.testing.assert_array_equal(loc.neuron, space.som.winners(space.codes))


def test_locate_matches_brute_force(space):
    Z = sample_latent(space, 500, "box", random_state=1)
    loc = space.locate(Z, chunk=64)
    pixels = space.model.inverse_transform(Z)
    np.testing.assert_allclose(loc.pixels, pixels)
    train = space.bitmaps.binary()
    dist = (loc.binary[:, None, :] != train[None, :, :]).sum(axis=2)
    np.testing.assert_array_equal(loc.hamming, dist.min(axis=1))
    np.testing.assert_array_equal(loc.nearest, dist.argmin(axis=1))
    W = space.som.weights_.reshape(space.som.n_neurons, -1)
    brute = np.sqrt(((Z[:, None, :] - W[None, :, :]) ** 2).sum(axis=2))
    np.testing.assert_allclose(loc.som_distance, brute.min(axis=1))
    held = set(space.som.winners(space.codes).tolist())
    assert loc.occupied.tolist() == [int(k) in held for k in loc.neuron]
    assert loc.occupied.any() and not loc.occupied.all()  # the box has empty cells too


def test_line_endpoints_decode_to_the_items_reconstructions(space):
    w = walk(space, ":]", ";D", steps=10)
    assert w.kind == "line" and len(w.located) == 10
    np.testing.assert_allclose(w.t, np.linspace(0, 1, 10))
    recon = space.model.reconstruct(space.bitmaps.subset([":]", ";D"]).X)
    np.testing.assert_allclose(w.located.pixels[[0, -1]], recon)
    np.testing.assert_allclose(w.located.Z[0], space.code(":]"))
    np.testing.assert_allclose(w.located.Z[-1], space.code(";D"))
    # Evenly spaced on the segment.
    steps = np.diff(w.located.Z, axis=0)
    np.testing.assert_allclose(steps, np.repeat(steps[:1], 9, axis=0))
    # path lists the neurons the samples pass through, without repeats in a row.
    assert w.path[0] == space.neuron_of(":]") and w.path[-1] == space.neuron_of(";D")
    assert all(a != b for a, b in zip(w.path, w.path[1:]))


def test_som_path_is_a_connected_grid_path_between_the_right_neurons(space):
    for a, b in [(":)", ":("), (":]", ";D"), (";)", "D:"), (":)", ":]")]:
        w = walk(space, a, b, steps=15, path="som")
        assert w.path[0] == space.neuron_of(a) and w.path[-1] == space.neuron_of(b)
        neighbours = space.som.neighbours()
        assert all(n2 in neighbours[n1] for n1, n2 in zip(w.path, w.path[1:]))
        assert w.same_neuron == (space.neuron_of(a) == space.neuron_of(b))
        np.testing.assert_allclose(w.located.Z[0], space.code(a))
        np.testing.assert_allclose(w.located.Z[-1], space.code(b))
        assert np.all(np.diff(w.t) > 0)


def test_som_walk_passes_through_every_weight_on_its_path(space):
    w = walk(space, ";)", "D:", steps=2000, path="som")
    W = space.som.weights_.reshape(9, 2)
    for k in w.path:
        assert np.linalg.norm(w.located.Z - W[k], axis=1).min() < 0.05


def test_walk_errors(space):
    with pytest.raises(KeyError, match="unknown item ':-'; known items: :\\) :D"):
        walk(space, ":-", ";D")
    with pytest.raises(ValueError, match="steps must be at least 2"):
        walk(space, ":)", ";D", steps=1)


def test_sampling_methods(space):
    lo, hi = space.box()
    box = sample_latent(space, 1000, "box", random_state=3)
    assert box.shape == (1000, 2) and np.all(box >= lo) and np.all(box <= hi)
    # uniform: it reaches every side of the box, and each half holds about half the points
    np.testing.assert_allclose(box.min(axis=0), lo, atol=0.02 * (hi - lo).max())
    np.testing.assert_allclose(box.max(axis=0), hi, atol=0.02 * (hi - lo).max())
    assert np.all(np.abs((box < (lo + hi) / 2).mean(axis=0) - 0.5) < 0.06)
    np.testing.assert_array_equal(box, sample_latent(space, 1000, "box", random_state=3))
    gauss = sample_latent(space, 20000, "gaussian", random_state=3)
    np.testing.assert_allclose(gauss.mean(axis=0), space.codes.mean(axis=0), atol=0.2)
    np.testing.assert_allclose(np.cov(gauss, rowvar=False), np.cov(space.codes, rowvar=False), rtol=0.05, atol=0.5)
    cell = sample_latent(space, 50, "neuron", neuron=4, random_state=3)
    assert len(cell) == 50 and set(space.som.winners(cell)) == {4}
    # the library takes 0-based indices; its messages name the 1-based neurons people see too
    with pytest.raises(ValueError, match=r"needs a neuron index between 0 and 8 \(neurons 1 to 9 as genval som "
                                         r"numbers them\), got none$"):
        sample_latent(space, 5, "neuron")
    with pytest.raises(ValueError, match=r"between 0 and 8 \(neurons 1 to 9 .*\), got 9 \(neuron 10\)$"):
        sample_latent(space, 5, "neuron", neuron=9)
    with pytest.raises(ValueError, match="unknown sampling method 'disc'"):
        sample_latent(space, 5, "disc")


def test_latent_grid_orientation(space):
    xs, ys, pixels = latent_grid(space, size=5)
    assert pixels.shape == (5, 5, 35)
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ys) < 0)
    np.testing.assert_allclose(pixels[1, 3], space.model.inverse_transform([[xs[3], ys[1]]])[0])


def test_model_and_set_of_different_sizes(space):
    with pytest.raises(ValueError, match="the model expects 35 pixels per item but digits has 64"):
        LatentSpace.build(load_dataset("digits"), space.model)


# ---------------------------------------------------------------- deduplicated, budgeted nearest-item search

def brute_nearest(Q, R):
    dist = (Q[:, None, :] != R[None, :, :]).sum(axis=2)
    return dist.argmin(axis=1), dist.min(axis=1)


@pytest.fixture(scope="module")
def repeated_bitmaps():
    """Queries and references with many repeats and many equally near candidates."""
    rng = np.random.default_rng(4)
    R = rng.random((40, 9)) < 0.4
    R = R[rng.integers(0, 40, size=120)]  # every row several times
    Q = np.concatenate([rng.random((60, 9)) < 0.4, R[:20], np.zeros((3, 9), dtype=bool)])
    return Q[rng.permutation(len(Q))], R


def test_dedupe_rows_keeps_first_appearances():
    A = np.array([[1, 0], [0, 1], [1, 0], [1, 1], [0, 1]], dtype=bool)
    first, inverse = dedupe_rows(A)
    assert first.tolist() == [0, 1, 3] and inverse.tolist() == [0, 1, 0, 2, 1]
    grey = np.array([[0.5, 0.25], [0.5, 0.25], [0.25, 0.5]])
    assert dedupe_rows(grey)[1].tolist() == [0, 0, 1]
    assert [len(a) for a in dedupe_rows(np.zeros((0, 3), dtype=bool))] == [0, 0]


# 4 bytes a pixel of 9, CHUNK_SHARE 8: 288 bytes hold one float32 row; 1 byte holds nothing
@pytest.mark.parametrize("budget", [1, 287, 288, 289, 2 * 288, 3 * 288 + 5, 50 * 288, 2**30])
def test_nearest_bitmaps_is_brute_force_under_any_budget(repeated_bitmaps, budget):
    Q, R = repeated_bitmaps
    index, distance = nearest_bitmaps(Q, R, budget=budget)
    expected_index, expected_distance = brute_nearest(Q, R)
    np.testing.assert_array_equal(index, expected_index)  # the first of equally near items
    np.testing.assert_array_equal(distance, expected_distance)
    assert distance.dtype == np.int64


@pytest.mark.parametrize("budget", ["1", "300", "4K"])
def test_locate_under_tiny_budgets_matches_brute_force(space, monkeypatch, budget):
    Z = sample_latent(space, 200, "box", random_state=3)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1G")
    expected = space.locate(Z)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "64K")  # the result fits; the chunks shrink below
    for chunk in (1, 7, 200):
        loc = space.locate(Z, chunk=chunk)
        for name in ("pixels", "binary", "neuron", "nearest", "hamming"):
            np.testing.assert_array_equal(getattr(loc, name), getattr(expected, name))
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", budget)
    if budget != "4K":
        with pytest.raises(MemoryError, match=r"decoding 200 points of 35 pixels would need about 61\.5 KiB"):
            space.locate(Z)
        return
    loc = space.locate(Z[:10])
    index, distance = brute_nearest(loc.binary, space.bitmaps.binary())
    np.testing.assert_array_equal(loc.nearest, index)
    np.testing.assert_array_equal(loc.hamming, distance)
    np.testing.assert_array_equal(loc.neuron, expected.neuron[:10])


def test_latent_grid_refuses_a_grid_beyond_the_budget(space, monkeypatch):
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1M")
    assert latent_grid(space, 20)[2].shape == (20, 20, 35)
    with pytest.raises(MemoryError, match=r"a 200x200 grid of 35-pixel bitmaps would need about 10\.7 MiB"):
        latent_grid(space, 200)


def test_sampling_refuses_more_points_than_the_budget_holds(space, monkeypatch):
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1K")
    assert sample_latent(space, 64, "box", random_state=0).shape == (64, 2)  # 1,024 bytes
    with pytest.raises(MemoryError, match=r"65 latent points would need about 1\.0 KiB"):
        sample_latent(space, 65, "gaussian", random_state=0)
    with pytest.raises(MemoryError, match=r"13 latent points"):  # 5 x 13 x 16 bytes, with the candidates
        sample_latent(space, 13, "neuron", neuron=0, random_state=0)


def test_a_wider_latent_space_is_gridded_and_decoded_on_its_principal_plane():
    from genval import Autoencoder, LatentSOM, load_dataset
    from genval.latent import plane

    emojis = load_dataset("emojis")
    model = Autoencoder(n_latent=3, epochs=400).fit(emojis.X)
    space = LatentSpace.build(emojis, model, LatentSOM(grid=(2, 2)))
    origin, axes = plane(space.codes)
    np.testing.assert_allclose(origin, space.codes.mean(axis=0))
    P = (space.codes - origin) @ axes.T
    xs, ys, pixels = latent_grid(space, size=5, margin=0)
    assert (xs[0], xs[-1], ys[0], ys[-1]) == pytest.approx((P[:, 0].min(), P[:, 0].max(), P[:, 1].max(),
                                                            P[:, 1].min()))
    corner = origin + np.array([xs[4], ys[0]]) @ axes  # top right
    np.testing.assert_allclose(pixels[0, 4], model.inverse_transform(corner[None])[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="a latent grid needs at least 2 latent dimensions"):
        one = LatentSpace.build(emojis, Autoencoder(n_latent=1, epochs=50).fit(emojis.X), LatentSOM(grid=(2, 1)))
        latent_grid(one)


def test_a_walk_beyond_the_budget_is_refused_before_anything_is_allocated(space):
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError, match=r"^a walk of 1,000,000,000 samples of 35 pixels would need about 320\.4 GiB"):
            walk(space, ":]", ";D", steps=10**9)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Refused before anything is allocated: the walk's positions alone would take 8 GB, the refusal not 1 MB.
    assert peak < 2**20
    assert point_bytes(35, 2) * 10**9 == pytest.approx(320.4 * 2**30, rel=1e-3)


def test_an_embedding_is_a_space_without_a_map(space):
    embedding = Embedding.build(space.bitmaps, space.model)
    assert not hasattr(embedding, "som")
    np.testing.assert_array_equal(embedding.codes, space.codes)
    for got, expected in zip(latent_grid(embedding, 4), latent_grid(space, 4)):
        np.testing.assert_array_equal(got, expected)
    again = build_embedding(space.bitmaps, space.model)
    np.testing.assert_array_equal(again.codes, space.codes)
    with pytest.raises(KeyError, match="unknown item ':-'"):
        build_embedding(space.bitmaps, space.model, items=(":-",))


def test_an_embedding_refuses_a_model_of_another_size(space):
    from genval import ShapeMismatchError, load_dataset

    with pytest.raises(ShapeMismatchError, match=r"the model expects 35 pixels per item but digits has 64 \(8x8\)"):
        Embedding.build(load_dataset("digits"), space.model)


def test_a_model_is_used_only_with_the_data_it_learned(tmp_path):
    from genval import Autoencoder, DataMismatchError, build_space, load_dataset
    from genval.pipeline import build_embedding

    font, emojis = load_dataset("font"), load_dataset("emojis")
    path = tmp_path / "font.npz"
    Autoencoder(epochs=30).fit(font).save(path)
    with pytest.raises(DataMismatchError, match=r"this model was trained on font \(32 items of 35 pixels"):
        build_space(emojis, path, grid=(2, 2))
    with pytest.raises(DataMismatchError, match="pass --any-data"):
        build_embedding(emojis, path)
    assert build_space(emojis, path, grid=(2, 2), any_data=True).codes.shape == (17, 2)
    assert build_space(font, path, grid=(2, 2)).codes.shape == (32, 2)


def test_a_saved_map_is_used_as_it_is_and_only_with_its_codes(space, tmp_path, monkeypatch):
    from genval import Autoencoder, DataMismatchError, LatentSOM, ShapeMismatchError, build_space, load_dataset

    path = tmp_path / "map.npz"
    space.som.save(path)
    monkeypatch.setattr(LatentSOM, "fit", lambda *args: pytest.fail("a saved map must not be refitted"))
    again = build_space(space.bitmaps, space.model, som=path)
    np.testing.assert_array_equal(again.som.weights_, space.som.weights_)
    assert again.neuron_of(":]") == space.neuron_of(":]")
    monkeypatch.undo()
    font = load_dataset("font")
    font_model = Autoencoder(epochs=30, random_state=0).fit(font)
    with pytest.raises(DataMismatchError, match=rf"^{path}: this map was fitted on other codes \(17 codes of 2 "):
        build_space(font, font_model, som=path)
    assert build_space(font, font_model, som=path, any_data=True).som is not None  # on purpose: allowed
    wide = Autoencoder(n_latent=3, epochs=30, random_state=0).fit(font)
    with pytest.raises(ShapeMismatchError, match="this map was fitted on codes of 2 dimensions, and these have 3"):
        build_space(font, wide, som=path, any_data=True)  # never, whatever any_data says
    with pytest.raises(ShapeMismatchError, match="these have 3"):
        LatentSpace.build(font, wide, load_som(path))  # a fitted map given as an object is checked too


@pytest.mark.parametrize("margin", [float("inf"), float("nan"), -0.1, 1e300, "0.1"])
def test_a_margin_that_is_not_a_share_of_the_box_is_refused_naming_it(space, margin):
    from genval.latent import latent_grid

    with pytest.raises(ParameterError, match=r"margin must be a share of the codes' box from 0 to 100, got"):
        latent_grid(space, size=3, margin=margin)
