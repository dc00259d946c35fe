"""genval.plotting._decoded_plane draws what it says: the decoded mosaic of the latent plane, each
tile tinted and framed by its verdict.

Each test writes its picture with ``save_figure`` (run with ``--basetemp DIR`` to look at them).
"""

import numpy as np

from genval.latent._plane import latent_grid
from genval.plotting import (
    plot_latent_grid,
    tile_classes,
)

import _plotting_fixtures
from _plotting_fixtures import (
    legend_texts,
    saved,
    scatter_sizes,
    texts,
)

_close_figures = _plotting_fixtures._close_figures  # the shared autouse fixture: closes every figure left open


def test_latent_grid_tiles_every_point_and_names_the_items(space, tmp_path):
    xs, ys, pixels = latent_grid(space, size=6)
    ax = plot_latent_grid(xs, ys, pixels, space.bitmaps.shape, space.codes, space.bitmaps.names)
    canvas = ax.images[0].get_array()
    assert canvas.shape == (6 * 8 + 1, 6 * 6 + 1)
    np.testing.assert_allclose(canvas[1:8, 1:6], pixels[0, 0].reshape(7, 5))  # the top-left point
    np.testing.assert_allclose(canvas[-8:-1, -6:-1], pixels[-1, -1].reshape(7, 5))
    assert np.ma.getmaskarray(canvas)[0].all() and np.ma.getmaskarray(canvas)[:, 6].all()  # gaps
    assert scatter_sizes(ax) == [17] and texts(ax) == list(space.bitmaps.names)
    saved(ax, tmp_path / "latent_grid.png")


def test_latent_grid_tints_each_tile_by_its_verdict(space, tmp_path):
    from matplotlib.colors import to_rgb

    from genval.audit._judging import judge
    from genval.plotting._decoded_plane import TILE_TINTS

    xs, ys, pixels = latent_grid(space, size=6)
    verdicts = judge(pixels.reshape(36, -1), space.bitmaps)
    classes = tile_classes(verdicts)
    assert set(classes) >= {"copy", "invalid"}  # the default box holds both on the emojis
    ax = plot_latent_grid(xs, ys, pixels, space.bitmaps.shape, space.codes, space.bitmaps.names, verdicts=verdicts)
    rgb = ax.images[0].get_array()
    assert rgb.shape == (6 * 8 + 1, 6 * 6 + 1, 3)
    for k in range(36):
        r, c = divmod(k, 6)
        tile = rgb[1 + 8 * r:8 + 8 * r, 1 + 6 * c:6 + 6 * c]
        ink = pixels[r, c].reshape(7, 5)[..., None]
        np.testing.assert_allclose(tile, np.array(to_rgb(TILE_TINTS[classes[k]])) * (1 - ink), atol=1e-12)
    counts = {kind: int((classes == kind).sum()) for kind in TILE_TINTS}
    assert legend_texts(ax) == [f"new and valid: {counts['new valid']}",
                                f"valid copy of a training item: {counts['copy']}",
                                f"invalid (fails a check): {counts['invalid']}"]
    assert ax.get_legend().get_title().get_text() == "36 tiles"
    saved(ax, tmp_path / "latent_grid_verdicts.png")


def test_latent_grid_frames_each_tile_in_its_verdict_colour(space, tmp_path):
    from matplotlib.colors import to_rgba

    from genval.audit._judging import judge
    from genval.plotting._base import INVALID_COLOUR, VALID_COLOUR

    xs, ys, pixels = latent_grid(space, size=6)
    verdicts = judge(pixels.reshape(36, -1), space.bitmaps)
    classes = tile_classes(verdicts)
    ax = plot_latent_grid(xs, ys, pixels, space.bitmaps.shape, verdicts=verdicts)
    (frames,) = [c for c in ax.collections if c.get_gid() == "verdict"]
    colour = {"copy": "white", "new valid": VALID_COLOUR, "invalid": INVALID_COLOUR}
    np.testing.assert_allclose(frames.get_edgecolors(), [to_rgba(colour[kind]) for kind in classes])
    # tile k (row-major from the top left) spans canvas pixels 1 + 6c .. 5 + 6c across and 1 + 8r .. 7 + 8r down;
    # the image maps the 37 x 49 canvas pixels onto its extent, row 0 at the top
    x0, x1, y0, y1 = ax.images[0].get_extent()
    px, py = (x1 - x0) / 37, (y1 - y0) / 49
    for k, path in enumerate(frames.get_paths()):
        r, c = divmod(k, 6)
        (left, bottom), (right, top) = path.vertices.min(axis=0), path.vertices.max(axis=0)
        np.testing.assert_allclose([left, right], [x0 + (1 + 6 * c) * px, x0 + (6 + 6 * c) * px])
        np.testing.assert_allclose([bottom, top], [y1 - (8 + 8 * r) * py, y1 - (1 + 8 * r) * py])
    saved(ax, tmp_path / "latent_grid_frames.png")
