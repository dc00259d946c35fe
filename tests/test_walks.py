import numpy as np
import pytest

from genval import load_dataset
from genval.walks import LatentSpace, latent_grid, sample_latent, walk


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
    with pytest.raises(ValueError, match="needs a neuron between 0 and 8"):
        sample_latent(space, 5, "neuron")
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
