"""genval.plotting._bitmaps draws what it says: bitmaps and their verdicts, reconstructions with
their wrong pixels framed, the loss curve, codes as points.

Each test writes its picture with ``save_figure`` (run with ``--basetemp DIR`` to look at them).
"""

import re

import numpy as np
import pytest

from genval.errors import ParameterError
from genval.plotting import (
    plot_bitmaps,
    plot_latent,
    plot_loss_curve,
    plot_reconstructions,
    plot_som,
    tile_classes,
    verdict_text,
)

import _plotting_fixtures
from _plotting_fixtures import (
    saved,
    scatter_sizes,
    texts,
    verdict_frames,
)

_close_figures = _plotting_fixtures._close_figures  # the shared autouse fixture: closes every figure left open


def test_loss_curve(space, tmp_path):
    ax = plot_loss_curve(space.model)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), space.model.loss_curve_)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(space.model.loss_curve_) + 1))
    assert ax.get_yscale() == "log"
    assert ax.get_title() == f"training loss, {space.model.n_epochs_} epochs"
    saved(ax, tmp_path / "loss_curve.png")


def test_latent_labels_every_item(space, tmp_path):
    ax = plot_latent(space.codes, space.bitmaps.names)
    assert scatter_sizes(ax) == [17]
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), space.codes)
    assert texts(ax) == list(space.bitmaps.names)
    saved(ax, tmp_path / "latent.png")


def test_bitmaps_tile_every_item_with_its_label(space, tmp_path):
    emojis = space.bitmaps
    ax = plot_bitmaps(emojis.X, emojis.shape, emojis.names, columns=6, title="the emojis")
    (image,) = ax.images
    canvas = image.get_array()
    # 3 rows of 6 tiles, 7x5 each, 1-pixel gaps, and under each row of tiles the rows its labels take
    step = (canvas.shape[0] - 1) // 3
    assert canvas.shape == (3 * step + 1, 6 * 6 + 1) and step > 8
    for k in range(len(emojis)):
        r, c = divmod(k, 6)
        np.testing.assert_array_equal(canvas[1 + step * r:8 + step * r, 1 + 6 * c:6 + 6 * c], emojis.image(k))
    assert np.ma.getmaskarray(canvas)[1 + 2 * step:8 + 2 * step, 31:36].all()  # the 18th tile is empty (masked NaN)
    assert texts(ax) == list(emojis.names)
    assert ax.get_title() == "the emojis"
    saved(ax, tmp_path / "bitmaps.png")


def test_loss_curve_with_a_held_out_set(tmp_path):
    from genval import Autoencoder, load_dataset

    model = Autoencoder(epochs=40, validation_fraction=0.25).fit(load_dataset("font").X)
    ax = plot_loss_curve(model)
    training, held_out = ax.get_lines()
    np.testing.assert_array_equal(held_out.get_ydata(), model.validation_loss_curve_)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation (held out)"]
    assert ax.get_title() == "training and validation loss, 40 epochs"
    saved(ax, tmp_path / "loss_validation.png")


def test_many_labelled_items_are_coloured_by_label_and_not_named(tmp_path):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(120, 2))
    labels = [str(k % 3) for k in range(120)]
    ax = plot_latent(Z, [f"item {k}" for k in range(120)], labels=labels)
    assert texts(ax) == [] and scatter_sizes(ax) == [40, 40, 40]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2"]
    np.testing.assert_array_equal(ax.collections[1].get_offsets(), Z[1::3])
    saved(ax, tmp_path / "labelled.png")


def test_codes_wider_than_two_are_drawn_on_their_principal_plane(tmp_path):
    from genval import Autoencoder, LatentSOM, LatentSpace, load_dataset
    from genval.latent import plane

    rng = np.random.default_rng(1)
    Z = rng.normal(size=(30, 4)) * [3.0, 1.0, 0.1, 0.1]
    origin, axes = plane(Z)
    np.testing.assert_allclose(axes @ axes.T, np.eye(2), atol=1e-12)
    ax = plot_latent(Z, [str(k) for k in range(30)])
    P = ax.collections[0].get_offsets()
    np.testing.assert_allclose(P, (Z - Z.mean(axis=0)) @ axes.T)
    assert np.var(P[:, 0]) > np.var(P[:, 1]) > 0.5  # the two widest directions
    assert ax.get_xlabel() == "principal axis 1 of the codes"
    emojis = load_dataset("emojis")
    space = LatentSpace.build(emojis, Autoencoder(n_latent=3, epochs=500).fit(emojis.X), LatentSOM(grid=(2, 2)))
    ax = plot_som(space, resolution=30)
    assert "3-D codes' principal plane" in ax.get_title() and len(texts(ax)) == 4 + 17
    saved(ax, tmp_path / "som_3d.png")


def test_verdict_text_says_valid_or_the_failed_checks_and_new_or_which_copy(space):
    from genval.audit._judging import judge

    blank = np.zeros((1, 35))
    verdicts = judge(np.vstack([space.bitmaps.X[[2]], blank]), space.bitmaps)
    assert [verdict_text(verdicts, i) for i in range(2)] == ["✓ = :(", "✗ eyes+mouth, new"]
    assert tile_classes(verdicts).tolist() == ["copy", "invalid"]


def test_sample_tiles_carry_a_frame_and_a_verdict_each(space, tmp_path):
    from genval.audit._judging import judge

    rng = np.random.default_rng(0)
    X = np.vstack([space.bitmaps.X[:3], rng.random((3, 35))])
    verdicts = judge(X, space.bitmaps)
    ax = plot_bitmaps(X, space.bitmaps.shape, [f"s{i}" for i in range(6)], columns=3, verdicts=verdicts)
    assert len(verdict_frames(ax)) == 6
    # a verdict wider than its tile is broken into lines at a "+" or before ", new"
    assert [t.replace("\n", "") for t in texts(ax)] == [f"s{i}" for i in range(6)] + [verdict_text(verdicts, i)
                                                                                     for i in range(6)]
    canvas = ax.images[0].get_array()
    row_step = canvas.shape[0] // 2
    np.testing.assert_array_equal(canvas[1 + row_step:8 + row_step, 1:6], X[3].reshape(7, 5))  # second row
    with pytest.raises(ValueError, match="got 6 verdicts for 2 bitmaps"):
        plot_bitmaps(X[:2], space.bitmaps.shape, verdicts=verdicts)
    saved(ax, tmp_path / "sample_verdicts.png")


# Three 2x3 items and outputs whose wrong pixels are known: item 0 gains ink at pixel 1 and loses it at
# pixel 4, item 1 is right (0.49 and 0.51 on the right sides of 0.5), item 2 loses pixel 5.
SMALL_X = np.array([[1, 0, 1, 0, 1, 0], [0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]], dtype=float)
SMALL_OUT = np.array([[0.9, 0.8, 0.7, 0.1, 0.2, 0.0], [0.49, 0.1, 0.0, 0.51, 0.9, 1.0],
                      [0.6, 0.9, 0.9, 0.8, 0.7, 0.3]])
SMALL_WRONG = {(0, 0, 1), (0, 1, 1), (2, 1, 2)}  # (item, row, column)


def frame_pixels(ax):
    """The (column, row) canvas pixel inside each wrong-pixel frame."""
    (frames,) = [c for c in ax.collections if c.get_gid() == "wrong"]
    corners = [path.vertices.min(axis=0) for path in frames.get_paths()]
    for path in frames.get_paths():  # a 1x1 square round a pixel centre
        np.testing.assert_allclose(np.ptp(path.vertices, axis=0), [1, 1])
    return sorted((int(x + 0.5), int(y + 0.5)) for x, y in corners)


def test_reconstructions_frame_exactly_the_wrong_pixels(tmp_path):
    h, w = 2, 3
    ax = plot_reconstructions(SMALL_X, SMALL_OUT, (h, w), columns=2, title="tiny")
    # wrapped to the figure's width
    assert " ".join(ax.get_title().split()) == ("tiny: all 3 items, each original over its reconstruction "
                                                "(output > 0.5 is ink) 3 wrong pixels, framed in vermillion")
    # without names no room under a pair: pair k's item at row 1 + (k // 2) * (2h + 2), its output h + 1 below
    expected = sorted((1 + (k % 2) * (w + 1) + j, 1 + (k // 2) * (2 * h + 2) + h + 1 + i) for k, i, j in SMALL_WRONG)
    assert frame_pixels(ax) == expected
    canvas = np.ma.filled(ax.images[0].get_array(), np.nan)
    assert canvas.shape == (2 * (2 * h + 2) + 1, 2 * (w + 1) + 1)
    for k in range(3):  # the item as it is, over its output thresholded at 0.5
        left, top = 1 + (k % 2) * (w + 1), 1 + (k // 2) * (2 * h + 2)
        np.testing.assert_array_equal(canvas[top:top + h, left:left + w], SMALL_X[k].reshape(h, w))
        np.testing.assert_array_equal(canvas[top + h + 1:top + 2 * h + 1, left:left + w],
                                      (SMALL_OUT[k] > 0.5).reshape(h, w))
        assert np.isnan(canvas[top + h, left:left + w]).all()  # the gap between them
    # each frame holds a pixel whose output falls on the other side of 0.5 from the item above it
    for x, y in frame_pixels(ax):
        assert (canvas[y, x] > 0.5) != (canvas[y - h - 1, x] > 0.5)
    assert texts(ax) == []
    saved(ax, tmp_path / "reconstructions.png")


def test_reconstructions_of_a_large_set_show_its_first_items_and_count_all(tmp_path):
    rng = np.random.default_rng(0)
    X = (rng.random((60, 12)) < 0.5).astype(np.float32)
    outputs = np.where(rng.random((60, 12)) < 0.1, 1 - X, X).astype(np.float32)  # about one pixel in ten wrong
    names = [f"n{k}" for k in range(60)]
    ax = plot_reconstructions(X, outputs, (3, 4), names=names, max_items=7)
    wrong = (outputs > 0.5) != (X > 0.5)
    assert 0 < wrong[:7].sum() < wrong.sum()
    assert " ".join(ax.get_title().split()) == (
        "the first 7 of 60 items, each original over its reconstruction (output > 0.5 is ink) "
        f"{wrong[:7].sum()} wrong pixels in these 7 ({wrong.sum()} in all 60 items), framed in vermillion")
    assert texts(ax) == names[:7]
    assert len(frame_pixels(ax)) == wrong[:7].sum()
    # 7 pairs: 14 tiles, each a block whose top-left pixel has a gap above it and to its left
    canvas = np.ma.filled(ax.images[0].get_array(), np.nan)
    ink = ~np.isnan(canvas)
    corners = ink[1:, 1:] & ~ink[:-1, 1:] & ~ink[1:, :-1]
    assert corners.sum() == 14
    assert [t.get_text() for t in ax.get_yticklabels()] == ["item", "output"]
    saved(ax, tmp_path / "reconstructions-large.png")


def test_reconstructions_of_a_fitted_model(space, tmp_path):
    emojis = space.bitmaps  # the fixture's model reconstructs every emoji
    ax = plot_reconstructions(emojis.X, space.model.reconstruct(emojis.X), emojis.shape, emojis.names,
                              title=emojis.title)
    assert ax.get_title().endswith("all 17 items, each original over its reconstruction (output > 0.5 is ink)\n"
                                   "0 wrong pixels, framed in vermillion")
    assert frame_pixels(ax) == [] and texts(ax) == list(emojis.names)
    saved(ax, tmp_path / "reconstructions-emojis.png")


@pytest.mark.parametrize("args, message", [
    ((SMALL_X, SMALL_OUT[:2], (2, 3)), "the reconstructions have shape (2, 6), the items (3, 6)"),
    ((SMALL_X, SMALL_OUT, (2, 2)), "the items have 6 pixels, but shape 2x2 takes 4"),
    ((SMALL_X[:0], SMALL_OUT[:0], (2, 3)), "no items to draw"),
])
def test_reconstructions_refuse_mismatched_input(args, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        plot_reconstructions(*args)
    with pytest.raises(ParameterError, match="got 2 names for 3 items"):
        plot_reconstructions(SMALL_X, SMALL_OUT, (2, 3), names=["a", "b"])
    with pytest.raises(ParameterError, match="max_items must be at least 1, got 0"):
        plot_reconstructions(SMALL_X, SMALL_OUT, (2, 3), max_items=0)
