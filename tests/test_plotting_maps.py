"""genval.plotting._maps draws what it says: the Kohonen map over its plane and as a grid of cells,
walks and their verdicts; a big map with a bounded number of artists.

Each test writes its picture with ``save_figure`` (run with ``--basetemp DIR`` to look at them).
"""

import numpy as np
import pytest
from matplotlib.collections import LineCollection

from genval.latent._walks import walk
from genval.plotting import (
    plot_som,
    plot_som_grid,
    plot_walk,
    verdict_text,
)

import _plotting_fixtures
from _plotting_fixtures import (
    legend_texts,
    saved,
    scatter_sizes,
    texts,
    verdict_frames,
)

_close_figures = _plotting_fixtures._close_figures  # the shared autouse fixture: closes every figure left open


@pytest.mark.parametrize("background", ["umatrix", "cells"])
def test_som_draws_neurons_edges_items_and_cells(space, tmp_path, background):
    ax = plot_som(space, background=background, resolution=60)
    (image,) = ax.images
    assert image.get_array().shape == (60, 60)
    assert sorted(scatter_sizes(ax)) == [9, 17]  # neuron weights, items
    (edges,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(edges.get_segments()) == 12  # the 3x3 grid's edges
    assert texts(ax) == [str(k) for k in range(1, 10)] + list(space.bitmaps.names)
    assert len(ax.figure.axes) == (2 if background == "umatrix" else 1)  # the U-matrix colour bar
    assert ax.get_title().startswith("3x3 rectangular map over 17 emojis codes")
    saved(ax, tmp_path / f"som_{background}.png")
    with pytest.raises(ValueError, match="unknown background 'plain'; choose umatrix or cells"):
        plot_som(space, background="plain")


def test_walk_labels_every_step(space, tmp_path):
    w = walk(space, ":)", ":(", steps=7)
    ax = plot_walk(w, space.bitmaps.shape, space.bitmaps.names)
    labels = texts(ax)
    assert len(labels) == 7 and labels[0] == "t=0.00\n:) (0)" and labels[-1].startswith("t=1.00\n")
    rows, across = ax.images[0].get_array().shape
    assert across == 7 * 6 + 1 and rows > 1 * 8 + 1  # one row of 7 tiles, and the rows its labels take
    assert ax.get_title() == (":) to :( along the straight line (different neurons)\n"
                              "under each: t, nearest item (Hamming distance)")
    saved(ax, tmp_path / "walk.png")


def test_walk_marks_every_sample_with_its_verdict(space, tmp_path):
    from matplotlib.colors import to_hex

    from genval.audit._judging import judge

    w = walk(space, ":)", ":(", steps=7)
    verdicts = judge(w.located.pixels, space.bitmaps)
    ax = plot_walk(w, space.bitmaps.shape, space.bitmaps.names, verdicts=verdicts)
    frames = verdict_frames(ax)
    assert len(frames) == 7
    assert [to_hex(f.get_edgecolor()) for f in frames] == [
        "#0072b2" if ok else "#d55e00" for ok in verdicts.valid]
    marks = texts(ax)[7:]
    assert marks[0] == "✓ = :)" and marks[-1] == "✓ = :("  # the ends are the items themselves
    assert marks == [verdict_text(verdicts, i) for i in range(7)]
    n_valid = int(verdicts.valid.sum())
    assert legend_texts(ax) == [f"✓ valid: {n_valid} of 7 ({int((verdicts.valid & verdicts.novel).sum())} new)",
                                f"✗ invalid: {7 - n_valid} (failed checks named)"]
    assert ax.get_title().endswith("nearest item (Hamming distance), verdict")
    saved(ax, tmp_path / "walk_verdicts.png")


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_som_grid_draws_each_neuron_with_its_number_hits_and_items(space, topology, tmp_path):
    import matplotlib
    from matplotlib.colors import to_rgba

    from genval import LatentSOM, LatentSpace

    spaced = LatentSpace.build(space.bitmaps, space.model, LatentSOM(grid=(3, 4), topology=topology, random_state=0))
    som = spaced.som
    ax = plot_som_grid(spaced)
    assert len(ax.patches) == 12
    viridis = matplotlib.colormaps["viridis"]
    for patch, u in zip(ax.patches, som.umatrix().ravel()):
        assert patch.get_facecolor() == pytest.approx(to_rgba(viridis(u)))
    lines = [t.get_text().split("\n") for t in ax.texts]
    assert [line[0] for line in lines] == [str(k) for k in range(1, 13)]  # numbered from 1, row-major
    hits = np.bincount(som.winners(spaced.codes), minlength=12)
    assert [line[1] for line in lines] == [f"hits {h}" for h in hits]
    table = som.neuron_table(spaced.codes, spaced.bitmaps.names)
    assert [line[2] if len(line) > 2 else "" for line in lines] == [" ".join(n.items) for n in table]
    centres = np.array([t.get_position() for t in ax.texts])
    distance = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    drawn = [np.flatnonzero(np.isclose(row, 1.0)).tolist() for row in distance]
    # the picture's neighbours are the map's: the four edge neighbours, or six on a hexagonal grid
    assert drawn == [sorted(n) for n in som.neighbours()]
    assert len(ax.figure.axes) == 2  # the colour bar
    assert ax.get_title().startswith(f"3x4 {topology} map of 17 emojis codes: U-matrix")
    saved(ax, tmp_path / f"som_grid_{topology}.png")


def test_som_grid_summarises_crowded_and_labelled_neurons(space):
    from genval import BitmapSet, LatentSOM, LatentSpace

    one = LatentSpace.build(space.bitmaps, space.model, LatentSOM(grid=(1, 1), random_state=0))
    assert plot_som_grid(one).texts[0].get_text() == "1\nhits 17\n17 items"
    labelled = BitmapSet(space.bitmaps.names, space.bitmaps.X, space.bitmaps.shape,
                         labels=["happy" if k < 10 else "sad" for k in range(17)])
    ax = plot_som_grid(LatentSpace.build(labelled, space.model, LatentSOM(grid=(1, 1), random_state=0)))
    assert ax.texts[0].get_text() == "1\nhits 17\nhappy×10 sad×7"


@pytest.mark.parametrize("grid", [(1, 2), (2, 2), (12, 12)])
def test_som_grid_fits_each_neurons_labels_inside_its_cell(space, grid):
    from genval import BitmapSet, LatentSOM, LatentSpace

    # every item its own long label: no cell holds all of its labels on one line
    labels = [f"class{k:02d}" for k in range(17)]
    labelled = BitmapSet(space.bitmaps.names, space.bitmaps.X, space.bitmaps.shape, labels=labels)
    mapped = LatentSpace.build(labelled, space.model, LatentSOM(grid=grid, random_state=0))
    ax = plot_som_grid(mapped)
    winners = mapped.som.winners(mapped.codes)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    cell = abs(ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0])  # one cell, in pixels
    for k, text in enumerate(ax.texts):
        assert text.get_window_extent(renderer).width <= cell, text.get_text()
        lines = text.get_text().split("\n")
        members = sorted(labels[i] for i in np.flatnonzero(winners == k))
        if not members:
            assert len(lines) == 2
            continue
        words = lines[2].split(" ")
        if words[-1] == "more":  # the first labels, then how many more
            shown = words[:-2]
            assert int(words[-2][1:]) == len(members) - len(shown)
        elif words[-1] == "…":
            shown = words[:-1]
        else:
            shown = words
        assert shown == [f"{label}×1" for label in members[:len(shown)]] and shown


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_som_grid_figure_is_mostly_map(space, topology):
    from genval import LatentSOM, LatentSpace

    mapped = LatentSpace.build(space.bitmaps, space.model,
                               LatentSOM(grid=(10, 10), topology=topology, iterations=200, random_state=0))
    ax = plot_som_grid(mapped)
    ax.figure.canvas.draw()
    box = ax.get_position(original=False)  # the cells' box once drawn, in figure fractions
    # the rest is the title, the axis labels and the colour bar (a 14 x 12 inch figure left 38% blank round hexagons)
    assert box.width * box.height >= 0.7


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_a_big_map_is_drawn_with_a_bounded_number_of_artists(space, topology):
    # An artist per edge, per neuron number or per cell made a 316x316 map take minutes to draw.
    from genval.plotting._maps import MAX_NUMBERED
    from genval.latent._som import LatentSOM
    from genval.latent._space import LatentSpace

    big = LatentSpace.build(space.bitmaps, space.model, LatentSOM(grid=(25, 30), topology=topology, iterations=2,
                                                                   random_state=0))
    assert big.som.n_neurons > MAX_NUMBERED
    ax = plot_som(big, resolution=30)
    assert len(ax.lines) == 0 and len(ax.texts) <= len(big.bitmaps) + 1 and len(ax.collections) <= 4
    assert "numbered up to 400 only" in ax.get_title()
    grid = plot_som_grid(big)
    assert len(grid.texts) == 0 and len(grid.patches) == 0 and len(grid.collections) == 1
