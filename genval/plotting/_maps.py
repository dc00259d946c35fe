"""Pictures of a Kohonen map: its neurons over the latent plane, MiniSom's grid view, and walks between items.
"""

from __future__ import annotations

import numpy as np

from genval.plotting._base import _axes, _axis_names, _cell_raster, _items, _project, _text_width, _wrap_title
from genval.plotting._bitmaps import plot_bitmaps

__all__ = ["plot_som", "plot_som_grid", "plot_walk"]


MAX_NUMBERED = 400  # neurons a map plot numbers; a 20x20 map's numbers still fit beside their neurons


def plot_som(space, ax=None, background: str = "umatrix", resolution: int = 300):
    """The latent plane: item codes, neuron weights joined along the grid, neuron cells.

    Parameters
    ----------
    space : LatentSpace
        With a 2-D latent space.
    background : {"umatrix", "cells"}
        Shade each neuron's cell (the points it wins) by the U-matrix value of
        that neuron (dark = far from its neighbours, a cluster border), or
        give each cell its own light colour. For a labelled set the U-matrix
        is shaded in greys, so that the items' label colours stay apart.
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    if background not in ("umatrix", "cells"):
        raise ValueError(f"unknown background {background!r}; choose umatrix or cells")
    ax = _axes(ax, figsize=(7.5, 6.5))
    som = space.som
    rows, cols = som.grid_
    cells, extent, (origin, axes) = _cell_raster(space, resolution)
    if background == "umatrix":
        values = som.umatrix().ravel()[cells]
        image = ax.imshow(values, extent=extent, origin="upper", cmap=_umatrix_cmap(space.bitmaps.labels),
                          vmin=0, vmax=1, alpha=0.75, interpolation="nearest", aspect="auto")
        plt.colorbar(image, ax=ax, shrink=0.8, label="U-matrix (distance to neighbour weights, scaled)")
    else:
        ax.imshow(cells % 20, extent=extent, origin="upper", cmap="tab20", vmin=0, vmax=19, alpha=0.35,
                  interpolation="nearest", aspect="auto")
    W = _project(som.weights_.reshape(rows * cols, -1), origin, axes)
    # One collection of all the grid's edges and one of all the neurons: an artist per edge or per number
    # made a 316x316 map take minutes to draw, its time going to matplotlib's layout of 100,000 texts.
    edges = [(k, m) for k, neighbours in enumerate(som.neighbours()) for m in neighbours if m > k]
    ax.add_collection(LineCollection([W[[k, m]] for k, m in edges], colors="0.35", linewidths=1, zorder=2))
    ax.scatter(W[:, 0], W[:, 1], marker="s", s=28 if len(W) <= MAX_NUMBERED else 4, color="black", zorder=3,
               label="neuron weights")
    numbered = len(W) <= MAX_NUMBERED  # past that the numbers overlap: nobody could read them
    for k, (x, y) in enumerate(W if numbered else ()):
        ax.annotate(str(k + 1), (x, y), xytext=(-4, -11), textcoords="offset points", fontsize=7, color="0.25")
    Z = space.codes
    _items(ax, _project(Z, origin, axes), space.bitmaps.names, space.bitmaps.labels, color="#D55E00")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    xlabel, ylabel = _axis_names(axes)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    many = space.bitmaps.labels is not None and len(set(space.bitmaps.labels)) > 8
    ax.legend(loc="best", fontsize=8, framealpha=0.9, ncols=2 if many else 1)
    through = "" if axes.shape[1] <= 2 else f", the {axes.shape[1]}-D codes' principal plane"
    ax.set_title(_wrap_title(f"{rows}x{cols} {som.topology} map over {len(Z)} {space.bitmaps.title} codes{through}\n"
                             + ("(neurons numbered from 1, row-major)" if numbered
                                else f"(neurons numbered up to {MAX_NUMBERED} only)"),
                             ax.figure.get_figwidth() - 1.2, 10), fontsize=10)  # 1.2: the colour bar's inch
    return ax


def _umatrix_cmap(labels):
    """The U-matrix shading of the plane: blues, or light to mid greys when the items are coloured by label
    (the digits' ten colours vanished into the blues)."""
    import matplotlib
    from matplotlib.colors import ListedColormap

    if labels is None:
        return matplotlib.colormaps["Blues"]
    return ListedColormap(matplotlib.colormaps["Greys"](np.linspace(0.0, 0.5, 256)), name="greys_to_mid")


def plot_walk(walk, shape: tuple[int, int], names, ax=None, verdicts=None):
    """A walk's decoded samples side by side, each labelled with t, its nearest item and distance.

    Parameters
    ----------
    walk : Walk
    shape : (height, width)
    names : sequence of str
        Training item names (to name the nearest item).
    verdicts : SampleVerdicts, optional
        The verdict on each sample (:func:`genval.audit.judge`), marked as
        :func:`plot_bitmaps` marks them: a frame, ✓ or ✗, the failed checks,
        new or a copy; with a legend.
    """
    loc = walk.located
    labels = [f"t={t:.2f}\n{names[n]} ({h})" for t, n, h in zip(walk.t, loc.nearest, loc.hamming)]
    if verdicts is not None and len(verdicts) != len(loc):
        raise ValueError(f"got {len(verdicts)} verdicts for {len(loc)} samples")
    how = "straight line" if walk.kind == "line" else "SOM weights"
    verdict = "same neuron" if walk.same_neuron else "different neurons"
    # two short lines, each wrapped to the figure's width: a narrow walk figure would cut a long one at both ends
    title = (f"{walk.start} to {walk.stop} along the {how} ({verdict})\n"
             f"under each: t, nearest item (Hamming distance){'' if verdicts is None else ', verdict'}")
    # plot_bitmaps leaves room under the tiles for the labels and verdicts, whatever the tiles' size
    ax = plot_bitmaps(loc.pixels, shape, labels, ax=ax, columns=len(loc), title=title, verdicts=verdicts)
    return ax


def _hex_centres(rows: int, cols: int) -> np.ndarray:
    """Centres of a hexagonal map's neurons (flat order), drawn with columns across and rows down.

    MiniSom's hexagonal layout puts neuron (i, j) at x = i, shifted by -1/2
    on every other j counted from the last, and y = j * sqrt(3) / 2, so that
    its six neighbours lie at distance 1; the picture swaps the two axes
    (columns across, rows down), which keeps those distances.
    """
    i, j = np.divmod(np.arange(rows * cols), cols)
    shifted = (cols - 1 - j) % 2 == 0
    return np.column_stack([j * np.sqrt(3) / 2, -(i - 0.5 * shifted)])


def plot_som_grid(space, ax=None, max_names: int = 4):
    """MiniSom's familiar view of a map: the U-matrix over the neuron grid, with each neuron's hits and items.

    Each neuron is a square (rectangular maps) or a hexagon (hexagonal
    maps) in grid position, row 1 at the top, coloured by its U-matrix value
    (viridis: bright = far from its neighbours, a cluster border), numbered
    from 1 in row-major order as ``genval som`` prints, with its hit count
    (training items it wins) and its items: their names when at most
    ``max_names``, label counts for a labelled set, else ``n items``. A map
    of more than :data:`MAX_NUMBERED` neurons shows the U-matrix only.

    Parameters
    ----------
    space : LatentSpace
    max_names : int
        Most item names written in one neuron.

    Returns
    -------
    Axes

    Examples
    --------
    >>> from genval import Autoencoder, build_space, load_dataset
    >>> emojis = load_dataset("emojis")
    >>> space = build_space(emojis, Autoencoder(epochs=100).fit(emojis.X), grid=(2, 3))
    >>> ax = plot_som_grid(space)
    >>> len(ax.patches), ax.texts[0].get_text().split("\\n")[0]
    (6, '1')
    """
    som = space.som
    rows, cols = som.grid_
    hexagonal = som.topology == "hexagonal"
    u = som.umatrix().ravel()
    winners = som.winners(space.codes)
    hits = np.bincount(winners, minlength=rows * cols)
    names = list(space.bitmaps.names)
    members: list[list[int]] = [[] for _ in range(rows * cols)]
    for item, k in enumerate(winners):
        members[k].append(item)
    # a neuron's cell about an inch across, smaller on a large map; the figure just holds the cells, so its
    # margins stay narrow, and the text is sized to the cell
    across = (cols - 1) * np.sqrt(3) / 2 + 2 / np.sqrt(3) if hexagonal else cols  # the cells' extent in data units
    down = rows + 0.5 if hexagonal else rows
    cell = min(1.25, 11.0 / across, 9.5 / down)  # inches per data unit
    ax = _axes(ax, figsize=(cell * across + 2.1, cell * down + 1.15))
    centres, patches = _grid_cells(rows, cols, hexagonal)
    # A big map is drawn as one collection of cells, without text: an artist and a text per neuron made a
    # 316x316 map take minutes to draw, and its numbers could not be read anyway.
    written = rows * cols <= MAX_NUMBERED
    _paint_cells(ax, patches, u, one_artist_each=written)
    fontsize = float(np.clip(cell * 72 / 9.5, 4.5, 8.0))
    # points a line may take inside a cell (a hexagon's flat sides are as far apart as a square's)
    room = cell * 72 * 0.87
    for k, (x, y) in enumerate(centres if written else ()):
        what = _neuron_items(members[k], names, space.bitmaps.labels, max_names, room, fontsize)
        text = f"{k + 1}\nhits {hits[k]}" + (f"\n{what}" if what else "")
        ink = "black" if u[k] > 0.55 else "white"  # viridis is light above about 0.55
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=ink, linespacing=1.15)
    _grid_frame(ax, centres, rows, cols, hexagonal)
    title = (f"{rows}x{cols} {som.topology} map of {len(names)} {space.bitmaps.title} codes: U-matrix\n"
             "in each neuron: its number (from 1, row-major), hits (items it wins), its items")
    ax.set_title(_wrap_title(title, ax.figure.get_figwidth() - 0.2, 10), fontsize=10)
    return ax


def _grid_cells(rows: int, cols: int, hexagonal: bool):
    """``centres, patches``: each neuron's centre (flat order, row 1 at the top) and its cell, a unit square
    or a hexagon whose six neighbours lie at distance 1."""
    from matplotlib.patches import Rectangle, RegularPolygon

    if hexagonal:
        centres = _hex_centres(rows, cols)
        return centres, [RegularPolygon(tuple(c), numVertices=6, radius=1 / np.sqrt(3), orientation=np.pi / 6)
                         for c in centres]
    i, j = np.divmod(np.arange(rows * cols), cols)
    centres = np.column_stack([j, -i]).astype(float)
    return centres, [Rectangle((x - 0.5, y - 0.5), 1, 1) for x, y in centres]


def _paint_cells(ax, patches, u: np.ndarray, one_artist_each: bool) -> None:
    """Fill each cell by its U-matrix value (viridis), white-edged artists each or one collection, and a colour bar."""
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection

    cmap = matplotlib.colormaps["viridis"]
    if one_artist_each:
        for patch, value in zip(patches, u):
            patch.set_facecolor(cmap(value))
            patch.set_edgecolor("white")
            patch.set_linewidth(1.5)
            ax.add_patch(patch)
    else:
        ax.add_collection(PatchCollection(patches, facecolors=cmap(u), edgecolors="none"))
    mappable = matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(0, 1), cmap=cmap)
    plt.colorbar(mappable, ax=ax, shrink=0.8, label="U-matrix (distance to neighbour weights, scaled)")


def _neuron_items(items: list[int], names, labels, max_names: int, room: float, fontsize: float) -> str:
    """The line naming a neuron's items in ``room`` points: label counts for a labelled set, else the names
    when at most ``max_names``, else ``n items``; empty for an empty neuron."""
    if not items:
        return ""
    if labels is not None:
        counts: dict[str, int] = {}
        for item in items:
            counts[labels[item]] = counts.get(labels[item], 0) + 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return _fit_words([f"{label}×{count}" for label, count in top], room, fontsize)
    if len(items) <= max_names:
        return _fit_words([names[item] for item in items], room, fontsize)
    return f"{len(items)} items"


def _grid_frame(ax, centres: np.ndarray, rows: int, cols: int, hexagonal: bool) -> None:
    """The axes just round the cells, equal in scale, with map rows and columns numbered from 1."""
    pad = 1 / np.sqrt(3) + 0.02 if hexagonal else 0.52  # half a cell and a hair
    ax.set_xlim(centres[:, 0].min() - pad, centres[:, 0].max() + pad)
    ax.set_ylim(centres[:, 1].min() - pad, centres[:, 1].max() + pad)
    ax.set_aspect("equal")
    ax.set_xticks(np.unique(np.round(centres[:, 0], 6)), [str(c + 1) for c in range(cols)], fontsize=7)
    if hexagonal:
        ax.set_yticks([])
    else:
        ax.set_yticks(-np.arange(rows), [str(r + 1) for r in range(rows)], fontsize=7)
    ax.set_xlabel("map column")
    ax.set_ylabel("map row")
    for spine in ax.spines.values():
        spine.set_visible(False)


def _fit_words(words: list[str], room: float, fontsize: float) -> str:
    """As many of ``words`` as fit in ``room`` points on one line, then ``+k more`` for the rest
    (the first word and ``…`` when not even that fits).

    >>> words = ["7×12", "2×1", "4×1"]
    >>> _fit_words(words, 100, 6), _fit_words(words, 44, 6), _fit_words(words, 30, 6)
    ('7×12 2×1 4×1', '7×12 +2 more', '7×12 …')
    """
    for shown in range(len(words), 0, -1):
        line = " ".join(words[:shown]) + (f" +{len(words) - shown} more" if shown < len(words) else "")
        if _text_width(line, fontsize) <= room:
            return line
    return words[0] + (" …" if len(words) > 1 else "")  # the largest, however narrow the cell
