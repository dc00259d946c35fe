"""Every picture genval draws. The only module that imports matplotlib.

Each function draws into the axes it is given as ``ax`` (a new figure when
``ax=None``) and returns them; the two that draw several panels,
:func:`plot_audit_sheet` and :func:`plot_denoising`, take and return an array
of axes as ``axes`` instead. :func:`save_figure` writes a figure as PNG,
atomically, and closes it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from genval._utils.files import atomic_write

__all__ = ["plot_audit_plane", "plot_audit_sheet", "plot_bitmaps", "plot_comparison", "plot_denoising",
           "plot_denoising_curve", "plot_latent", "plot_latent_grid", "plot_loss_curve", "plot_reconstructions",
           "plot_regions", "plot_roc", "plot_roc_panels", "plot_som", "plot_som_grid", "plot_sweep", "plot_walk",
           "save_figure", "tile_classes", "verdict_text"]


def _axes(ax, figsize=(6, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


# Past this many items, points carry no name (labels or colours say what they are).
NAMED_ITEMS = 50


def _project(Z, origin, axes) -> np.ndarray:
    return (np.asarray(Z, dtype=float) - origin) @ axes.T


def plane(Z):
    """The plane the pictures show (see :func:`genval.latent.plane`)."""
    from genval.latent._space import plane as latent_plane  # the walks module brings the estimators with it

    return latent_plane(Z)


def _axis_names(axes: np.ndarray) -> tuple[str, str]:
    return ("z1", "z2") if axes.shape[1] <= 2 else ("principal axis 1 of the codes", "principal axis 2")


def _label_colours(labels):
    """One colour per distinct label, colour-blind safe: Okabe-Ito up to 8, Paul Tol's muted
    scheme up to 10 (the digits), viridis beyond."""
    import matplotlib

    distinct = sorted(set(labels), key=lambda v: (len(v), v))
    okabe_ito = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
    tol_muted = ["#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933",
                 "#AA4499", "#555555"]
    for palette in (okabe_ito, tol_muted):
        if len(distinct) <= len(palette):
            return dict(zip(distinct, palette))
    cmap = matplotlib.colormaps["viridis"]
    return {label: cmap(k / (len(distinct) - 1)) for k, label in enumerate(distinct)}


def _items(ax, P: np.ndarray, names, labels=None, color="tab:red", size=22, boxed=True):
    """Item points: coloured by label with a legend when there are labels; named when few."""
    if labels is not None:
        colours = _label_colours(labels)
        labels = np.asarray(labels)
        for label, colour in colours.items():
            mask = labels == label
            ax.scatter(P[mask, 0], P[mask, 1], s=size if len(P) <= NAMED_ITEMS else 6, color=colour,
                       zorder=4, label=label, lw=0)
    else:
        ax.scatter(P[:, 0], P[:, 1], s=size if len(P) <= NAMED_ITEMS else 6, color=color, zorder=4,
                   label="items", lw=0)
    if len(P) <= NAMED_ITEMS:
        box = dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.7) if boxed else None
        for (x, y), name in zip(P, names):
            ax.annotate(name, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=9, zorder=5, bbox=box)


def save_figure(ax_or_fig, path, dpi: int = 150) -> None:
    """Write the figure holding ``ax_or_fig`` in the format its suffix names (png, svg or pdf), then close it.

    Parameters
    ----------
    ax_or_fig : Axes, array of Axes or Figure
        What a plotting function returned.
    path : path
        Written atomically: a failure leaves no partial file. The figure is
        closed whether or not writing succeeds.

    Raises
    ------
    ParameterError
        For another suffix, before anything is written.
    """
    import matplotlib.pyplot as plt

    from genval.errors import ParameterError

    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    if isinstance(fig, np.ndarray):
        fig = fig.flat[0].figure
    try:
        suffix = str(path).rsplit(".", 1)[-1].lower() if "." in Path(path).name else ""
        if suffix not in FIGURE_FORMATS:
            raise ParameterError(f"{path}: cannot write a figure as {suffix or 'a file without a suffix'!r}; "
                                 f"name it .{', .'.join(FIGURE_FORMATS)}")
        with atomic_write(path) as fh:
            fig.savefig(fh, format=suffix, dpi=dpi)
    finally:
        plt.close(fig)


def plot_loss_curve(model, ax=None):
    """The training loss after each epoch, on a log scale.

    Parameters
    ----------
    model : fitted Autoencoder or VariationalAutoencoder
        Anything with ``loss_curve_``, ``n_epochs_`` and ``loss``.

    Examples
    --------
    >>> from genval import Autoencoder
    >>> model = Autoencoder(hidden=(4,), epochs=20, random_state=0).fit(np.eye(4))
    >>> ax = plot_loss_curve(model)
    >>> ax.get_title(), len(ax.get_lines()[0].get_ydata())
    ('training loss, 20 epochs', 20)
    """
    ax = _axes(ax)
    curve = np.asarray(model.loss_curve_)
    epochs = np.arange(1, len(curve) + 1)
    ax.semilogy(epochs, curve, color="#0072B2", label="training")  # the loss during each epoch
    held_out = getattr(model, "validation_loss_curve_", None)
    if held_out is not None:
        ax.semilogy(epochs, held_out, color="#D55E00", linestyle="--", label="validation (held out)")
        ax.legend(fontsize=8)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"loss ({model.loss}, per pixel)")
    ax.set_title(f"{'training and validation' if held_out is not None else 'training'} loss, "
                 f"{model.n_epochs_} epochs")
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_latent(Z: np.ndarray, names, ax=None, color="tab:blue", labels=None):
    """Latent codes as points: named when there are at most 50, coloured by label when labelled.

    Parameters
    ----------
    Z : ndarray of shape (n_items, n_latent)
        Drawn as they are in 2-D, through their first two principal axes beyond.
    names : sequence of str, length n_items
    labels : sequence of str, length n_items, optional
        One colour per label (colour-blind safe), with a legend.

    Examples
    --------
    >>> ax = plot_latent(np.array([[0.0, 1.0], [2.0, -1.0]]), ["a", "b"])
    >>> [t.get_text() for t in ax.texts]
    ['a', 'b']
    """
    ax = _axes(ax, figsize=(6, 6))
    origin, axes = plane(Z)
    _items(ax, _project(Z, origin, axes), names, labels, color=color, size=18, boxed=False)
    if labels is not None:
        ax.legend(fontsize=8, markerscale=1.5, title="label", ncols=2 if len(set(labels)) > 8 else 1)
    xlabel, ylabel = _axis_names(axes)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.12)
    return ax


def plot_bitmaps(X: np.ndarray, shape: tuple[int, int], labels=None, ax=None, columns: int | None = None,
                 title: str | None = None, verdicts=None):
    """Bitmaps tiled in a grid, ink dark, with optional labels under each and a verdict mark on each.

    Parameters
    ----------
    X : ndarray of shape (n, height * width)
        Pixel values in [0, 1] (grey levels are drawn as such).
    shape : (height, width)
    labels : sequence of str, optional
    columns : int, optional
        Tiles per row; default close to a square.
    title : str, optional
        Wrapped to the figure's width.
    verdicts : SampleVerdicts, optional
        One verdict per bitmap (:func:`genval.audit.judge`): each tile gets a
        frame and a line under it, a solid blue frame and ✓ for a valid
        bitmap, a dashed vermillion one and ✗ with the failed checks for an
        invalid one (Okabe-Ito colours; the glyph and the line style read
        in grey too), then ``new`` or ``= NAME`` for a copy of a training
        item; a legend explains the marks.

    Examples
    --------
    >>> ax = plot_bitmaps(np.eye(4), (2, 2), labels=["a", "b", "c", "d"], columns=4)
    >>> ax.images[0].get_array().shape, len(ax.texts)  # 1 row of 4 tiles of 2x2, 1-pixel gaps
    ((4, 13), 4)
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    n = len(X)
    h, w = shape
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    # a tile with a verdict needs room under it for two lines of text
    extra = 0 if verdicts is None else max(3, round(h * 0.45))
    if verdicts is None:
        figsize = (max(3, 0.9 * columns), max(2, 1.25 * rows + 0.4))
    else:  # wide enough for a verdict such as "✗ eyes+mouth, new" under each tile, and the legend
        # 1.15 inches per column of tiles; a few tiles leave the figure wider than them, not taller
        inch = 1.15 * columns / (columns * (w + TILE_GAP) + TILE_GAP)  # per pixel of the canvas
        figsize = (max(4.6, 1.15 * columns), inch * (rows * (h + TILE_GAP + extra) + TILE_GAP + 1.3) + 1.6)
    ax = _axes(ax, figsize=figsize)
    canvas, corners = _tile_canvas(X, shape, columns, extra)
    ax.imshow(canvas, cmap=_ink_cmap(), vmin=0, vmax=1, interpolation="nearest")
    if labels is not None:
        for (left, top), label in zip(corners, labels):
            ax.text(left + (w - 1) / 2, top + h - 0.3, str(label), ha="center", va="top", fontsize=8)
        ax.set_ylim(canvas.shape[0] + 0.8, -0.5)
    if verdicts is not None:
        if len(verdicts) != n:
            raise ValueError(f"got {len(verdicts)} verdicts for {n} bitmaps")
        below = 1.4 if labels is not None else 0.2  # under the label, when there is one
        _mark_tiles(ax, verdicts, corners, (h, w), below)
        ax.set_ylim(canvas.shape[0] + 0.8, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        import textwrap

        chars = max(24, int(ax.figure.get_figwidth() * 11))
        ax.set_title("\n".join(textwrap.wrap(title, chars)), fontsize=9)
    return ax


TILE_GAP = 1  # pixels between tiles, drawn in the ink colour map's "bad" colour


def _tile_canvas(X: np.ndarray, shape: tuple[int, int], columns: int, extra: int = 0):
    """Tiles laid out row-major, ``columns`` to a row, ``extra`` blank pixel rows under each row of tiles:
    ``canvas, corners``, NaN between tiles and ``corners[k]`` the (column, row) of tile k's top-left pixel."""
    h, w = shape
    rows = math.ceil(len(X) / columns)
    row_step = h + TILE_GAP + extra
    canvas = np.full((rows * row_step + TILE_GAP, columns * (w + TILE_GAP) + TILE_GAP), np.nan)
    corners = []
    for k, pixels in enumerate(X):
        r, c = divmod(k, columns)
        top, left = TILE_GAP + r * row_step, TILE_GAP + c * (w + TILE_GAP)
        canvas[top:top + h, left:left + w] = np.asarray(pixels, dtype=float).reshape(h, w)
        corners.append((left, top))
    return canvas, corners


def _ink_cmap():
    import matplotlib

    return matplotlib.colormaps["Greys"].with_extremes(bad="#dfe6ee")  # bad = the gaps between tiles


# Okabe-Ito: the two verdicts, told apart by hue for most readers and by glyph and line style for all.
VALID_COLOUR, INVALID_COLOUR = "#0072B2", "#D55E00"


def verdict_text(verdicts, i: int) -> str:
    """The short verdict under a tile: ``✓ new``, ``✓ = :)``, ``✗ eyes+mouth, new``.

    >>> from genval import load_dataset
    >>> from genval.audit import judge
    >>> emojis = load_dataset("emojis")
    >>> verdict_text(judge(emojis.X[:1], emojis), 0)
    '✓ = :)'
    """
    k = int(verdicts.copy_of[i])
    what = "new" if k < 0 else f"= {verdicts.item_names[k]}"
    if verdicts.valid[i]:
        return f"✓ {what}"
    return f"✗ {'+'.join(verdicts.failed[i])}, {what}"


def _mark_tiles(ax, verdicts, corners, shape, below: float) -> None:
    """A frame round each tile (its top-left pixel at ``corners[i]``) and its verdict under it, and a legend."""
    from matplotlib.patches import Rectangle

    h, w = shape
    for i, (left, top) in enumerate(corners):
        ok = bool(verdicts.valid[i])
        colour = VALID_COLOUR if ok else INVALID_COLOUR
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor=colour, lw=1.6,
                               linestyle="-" if ok else (0, (2, 1.2)), gid="verdict", zorder=3))
        ax.text(left + (w - 1) / 2, top + h - 0.5 + below, verdict_text(verdicts, i), ha="center", va="top",
                fontsize=7, color=colour, fontweight="bold" if ok else "normal")
    _verdict_legend(ax, verdicts)


def _verdict_legend(ax, verdicts) -> None:
    from matplotlib.patches import Patch

    n_valid = int(np.sum(verdicts.valid))
    n_new_valid = int(np.sum(verdicts.valid & verdicts.novel))
    handles = [Patch(fill=False, edgecolor=VALID_COLOUR, lw=1.6, label=f"✓ valid: {n_valid} of {len(verdicts)} "
                     f"({n_new_valid} new)"),
               Patch(fill=False, edgecolor=INVALID_COLOUR, lw=1.6, linestyle=(0, (2, 1.2)),
                     label=f"✗ invalid: {len(verdicts) - n_valid} (failed checks named)")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=1, fontsize=7,
              frameon=False, title="new: no training item is identical; = NAME: a copy of that item",
              title_fontsize=7)


# Past this many items a reconstruction picture shows the first ones only: 3 rows of 16 pairs stay legible.
RECONSTRUCTED_ITEMS = 48


def plot_reconstructions(X: np.ndarray, reconstructed: np.ndarray, shape: tuple[int, int], names=None, ax=None,
                         max_items: int = RECONSTRUCTED_ITEMS, columns: int | None = None, title: str | None = None):
    """Each item's bitmap over its reconstruction thresholded at 0.5, the wrong pixels framed in vermillion.

    A pixel is wrong where the reconstruction and the original fall on
    different sides of 0.5 (as :func:`genval.models.wrong_pixels`
    counts them). The frame's inside tells which way: white inside, ink the
    item has and the reconstruction lost; black inside, ink it added. The
    title gives the items shown and their wrong pixels (and, when only the
    first ``max_items`` are shown, the wrong pixels of all items).

    Parameters
    ----------
    X : ndarray of shape (n_items, height * width)
        The items, drawn as they are (grey levels as such).
    reconstructed : ndarray of shape (n_items, height * width)
        The model's outputs for ``X`` (``model.reconstruct(X)``).
    shape : (height, width)
    names : sequence of str, length n_items, optional
        Written under each pair.
    max_items : int
        Most pairs drawn: the first ``max_items`` items of a larger set.
    columns : int, optional
        Pairs per row; default at most 16, the rows filled evenly.
    title : str, optional
        What the items are (a set's title), at the head of the title.

    Returns
    -------
    Axes

    Raises
    ------
    ParameterError
        For arrays of different shapes, pixels that do not make ``shape``,
        names of another length, no items or ``max_items`` below 1.

    Examples
    --------
    >>> X = np.array([[1, 0, 0, 1], [0, 1, 1, 0]])
    >>> outputs = np.array([[0.9, 0.2, 0.7, 0.8], [0.1, 0.6, 0.9, 0.3]])
    >>> ax = plot_reconstructions(X, outputs, (2, 2), names=["a", "b"])
    >>> ax.get_title().splitlines()[-1]
    '1 wrong pixel, framed in vermillion'
    >>> [t.get_text() for t in ax.texts], len(ax.collections[0].get_paths())
    (['a', 'b'], 1)
    """
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Patch, Rectangle

    from genval._utils.budget import chunk_rows
    from genval.errors import ParameterError

    # compared in their own dtype: a float64 copy of a large set's outputs would double their memory
    X, reconstructed = np.atleast_2d(np.asarray(X)), np.atleast_2d(np.asarray(reconstructed))
    h, w = shape
    n = len(X)
    if X.ndim != 2 or X.shape != reconstructed.shape:
        raise ParameterError(f"the reconstructions have shape {reconstructed.shape}, the items {X.shape}; "
                             "expected one row of pixels per item for both")
    if X.shape[1] != h * w:
        raise ParameterError(f"the items have {X.shape[1]} pixels, but shape {h}x{w} takes {h * w}")
    if n == 0:
        raise ParameterError("no items to draw; expected at least one")
    if names is not None and len(names) != n:
        raise ParameterError(f"got {len(names)} names for {n} items")
    if max_items < 1:
        raise ParameterError(f"max_items must be at least 1, got {max_items}")
    # the wrong pixels of every item, a chunk of rows at a time (two boolean copies of a chunk at once)
    step = chunk_rows(2 * X.shape[1])
    wrong_in_all = sum(int(((reconstructed[i:i + step] > 0.5) != (X[i:i + step] > 0.5)).sum())
                       for i in range(0, n, step))
    k = min(n, max_items)
    truth, output = X[:k] > 0.5, reconstructed[:k] > 0.5
    wrong = truth != output
    columns = columns or math.ceil(k / math.ceil(k / 16))
    rows = math.ceil(k / columns)
    # a pair is one tall tile: the item, a gap row, its reconstruction
    pairs = np.full((k, 2 * h + TILE_GAP, w), np.nan)
    pairs[:, :h] = X[:k].astype(float).reshape(k, h, w)
    pairs[:, h + TILE_GAP:] = output.reshape(k, h, w)
    width = min(12.0, max(4.5, 0.62 * columns + 0.4))
    unit = width / (columns * (w + TILE_GAP) + TILE_GAP)  # inches per pixel, the figure's width filled
    extra = math.ceil(0.17 / unit) if names is not None else 0  # room for a name under each pair
    canvas, corners = _tile_canvas(pairs.reshape(k, -1), (2 * h + TILE_GAP, w), columns, extra)
    ax = _axes(ax, figsize=(width, canvas.shape[0] * unit + 1.0))
    ax.imshow(canvas, cmap=_ink_cmap(), vmin=0, vmax=1, interpolation="nearest")
    frames = [Rectangle((left + j - 0.5, top + h + TILE_GAP + i - 0.5), 1, 1)
              for (left, top), item_wrong in zip(corners, wrong)
              for i, j in zip(*np.nonzero(item_wrong.reshape(h, w)))]
    # a frame about a fifth of a pixel wide: the pixel's own colour still shows inside it
    line = float(np.clip(unit * 72 * 0.22, 0.5, 2.0))
    ax.add_collection(PatchCollection(frames, facecolor="none", edgecolor=INVALID_COLOUR, linewidth=line,
                                      gid="wrong", zorder=3))
    if names is not None:
        for (left, top), name in zip(corners, names[:k]):
            ax.text(left + (w - 1) / 2, top + 2 * h + TILE_GAP - 0.3, str(name), ha="center", va="top", fontsize=7)
    ax.set_xlim(-0.5, canvas.shape[1] - 0.5)
    ax.set_ylim(canvas.shape[0] - 0.5, -0.5)
    ax.set_xticks([])
    bands = [top for left, top in corners[::columns]]
    ax.set_yticks([top + offset + (h - 1) / 2 for top in bands for offset in (0, h + TILE_GAP)],
                  ["item", "output"] * rows, fontsize=7)
    ax.tick_params(axis="y", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    shown = int(wrong.sum())
    counted = f"{shown:,} wrong pixel{'' if shown == 1 else 's'}"
    if k < n:
        which = f"the first {k} of {n:,} items"
        counted += f" in these {k} ({wrong_in_all:,} in all {n:,} items)"
    else:
        which = f"all {n} item{'' if n == 1 else 's'}"
    head = f"{title}: " if title else ""
    ax.set_title(f"{head}{which}, each original over its reconstruction (output > 0.5 is ink)\n"
                 f"{counted}, framed in vermillion", fontsize=9)
    ax.legend(handles=[Patch(facecolor="white", edgecolor=INVALID_COLOUR, lw=1.6,
                             label="wrong pixel: white inside, ink lost; black inside, ink added")],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=7, frameon=False)
    return ax


def _cell_raster(space, resolution: int, margin: float = 0.08):
    """The winning neuron of every pixel of a raster over the codes' box in the picture's plane
    (row 0 at the top), with the plane: ``cells, extent, (origin, axes)``."""
    origin, axes = plane(space.codes)
    P = _project(space.codes, origin, axes)
    lo, hi = P.min(axis=0), P.max(axis=0)
    pad = (hi - lo) * margin + 1e-9
    x0, x1, y0, y1 = lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y1, y0, resolution))
    points = origin + np.column_stack([gx.ravel(), gy.ravel()]) @ axes
    cells = space.som.winners(points).reshape(resolution, resolution)
    return cells, (x0, x1, y0, y1), (origin, axes)


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
        give each cell its own light colour.
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
        image = ax.imshow(values, extent=extent, origin="upper", cmap="Blues", vmin=0, vmax=1,
                          alpha=0.75, interpolation="nearest", aspect="auto")
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
    ax.set_title(f"{rows}x{cols} {som.topology} map over {len(Z)} {space.bitmaps.title} codes{through}\n"
                 + ("(neurons numbered from 1, row-major)" if numbered else f"(neurons numbered up to {MAX_NUMBERED} "
                                                                            "only)"), fontsize=10)
    return ax


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
    n = len(loc)
    marked = verdicts is not None
    ax = _axes(ax, figsize=(max(5.0 if marked else 4.0, (0.9 if marked else 0.75) * n + 0.5), 3.3 if marked else 2.2))
    plot_bitmaps(loc.pixels, shape, None, ax=ax, columns=n)
    h, w = shape
    for k, label in enumerate(labels):
        ax.text(1 + k * (w + 1) + (w - 1) / 2, h + 1.2, label, ha="center", va="top", fontsize=7)
    ax.set_ylim(h + 4.2, -0.5)
    if marked:
        if len(verdicts) != n:
            raise ValueError(f"got {len(verdicts)} verdicts for {n} samples")
        _mark_tiles(ax, verdicts, [(1 + k * (w + 1), 1) for k in range(n)], shape, below=3.4)
        ax.set_ylim(h + 5.6, -0.5)
    how = "straight line" if walk.kind == "line" else "SOM weights"
    verdict = "same neuron" if walk.same_neuron else "different neurons"
    # two short lines: a narrow walk figure would cut one long title at both ends
    ax.set_title(f"{walk.start} to {walk.stop} along the {how} ({verdict})\n"
                 f"under each: t, nearest item (Hamming distance){', verdict' if marked else ''}", fontsize=9)
    return ax


# Tile backgrounds of the decoded plane by verdict, told apart by lightness too (they read in grey):
# a copy of a training item stays white, a new valid bitmap light blue, an invalid one a darker vermillion.
TILE_TINTS = {"copy": "#FFFFFF", "new valid": "#B9DAF0", "invalid": "#EFA27A"}
# ... and a frame round each tile in the tint's full colour, which shows on a tile that is all ink too.
TILE_FRAMES = {"copy": "#FFFFFF", "new valid": VALID_COLOUR, "invalid": INVALID_COLOUR}


def tile_classes(verdicts) -> np.ndarray:
    """Per sample: ``"invalid"``, ``"copy"`` (valid, identical to a training item) or ``"new valid"``.

    >>> from genval import load_dataset
    >>> from genval.audit import judge
    >>> emojis = load_dataset("emojis")
    >>> tile_classes(judge(np.vstack([emojis.X[:1], np.zeros((1, 35))]), emojis)).tolist()
    ['copy', 'invalid']
    """
    valid = np.asarray(verdicts.valid)
    return np.where(~valid, "invalid", np.where(verdicts.novel, "new valid", "copy"))


def plot_latent_grid(xs, ys, pixels, shape: tuple[int, int], codes=None, names=None, ax=None,
                     principal_plane: bool = False, verdicts=None):
    """Decoded bitmaps tiled over the latent plane, with the items' codes overlaid.

    Parameters
    ----------
    xs, ys : ndarray (size,)
        Column and row coordinates as returned by :func:`genval.latent.latent_grid`
        (``ys`` decreasing: row 0 is the top).
    pixels : ndarray (size, size, n_features)
    codes : ndarray (n_items, 2), optional
        In the grid's coordinates.
    names : sequence of str, optional
        Shown for at most 50 items.
    principal_plane : bool
        The grid lies on the codes' principal plane of a wider latent space
        (:func:`genval.latent.plane`): the axes say so.
    verdicts : SampleVerdicts, optional
        The verdict on each tile, row-major from the top left
        (``size * size``, :func:`genval.audit.judge` of the pixels): each
        tile's background is tinted by :func:`tile_classes` (white: a copy
        of a training item; light blue: new and valid; vermillion: invalid)
        and framed in the tint's full colour (white, Okabe-Ito blue,
        vermillion), which shows on a tile that is all ink; a legend gives
        the counts.
    """
    size = len(xs)
    h, w = shape
    canvas = np.full((size * (h + 1) + 1, size * (w + 1) + 1), np.nan)  # NaN: the gaps between tiles
    for r in range(size):
        for c in range(size):
            canvas[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + c * (w + 1):1 + c * (w + 1) + w] = \
                pixels[r, c].reshape(h, w)
    dx, dy = (xs[-1] - xs[0]) / (size - 1), (ys[0] - ys[-1]) / (size - 1)
    extent = (xs[0] - dx / 2, xs[-1] + dx / 2, ys[-1] - dy / 2, ys[0] + dy / 2)
    ax = _axes(ax, figsize=(8, 8 * h / w * 0.8))
    if verdicts is None:
        ax.imshow(canvas, extent=extent, cmap=_ink_cmap(), vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    else:
        classes = tile_classes(verdicts).reshape(size, size)
        ax.imshow(_tinted(canvas, classes, shape), extent=extent, interpolation="nearest", aspect="auto")
        _frame_tiles(ax, classes, shape, canvas.shape, extent)
    if codes is not None:
        codes = np.asarray(codes)
        # black on white: readable over every tile tint
        ax.scatter(codes[:, 0], codes[:, 1], s=30, color="black", edgecolor="white", zorder=3)
        for (x, y), name in zip(codes, names if names is not None and len(codes) <= NAMED_ITEMS else []):
            ax.annotate(name, (x, y), xytext=(5, 4), textcoords="offset points", fontsize=10, color="black",
                        fontweight="bold", zorder=4,
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="black", alpha=0.85))
    xlabel, ylabel = ("principal axis 1 of the codes", "principal axis 2") if principal_plane else ("z1", "z2")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    where = "the codes' principal plane" if principal_plane else "the latent plane"
    ax.set_title(f"{where} decoded at {size}x{size} points over the codes' box"
                 + ("\ntile background and frame: the verdict on the decoded bitmap" if verdicts is not None else ""),
                 fontsize=10)
    if verdicts is not None:
        from matplotlib.patches import Patch

        classes = tile_classes(verdicts)
        # a copy's white frame would vanish on the white page: its patch keeps a thin grey outline
        handles = [Patch(facecolor=TILE_TINTS[kind], edgecolor="0.3" if kind == "copy" else TILE_FRAMES[kind],
                         lw=1 if kind == "copy" else 2, label=f"{label}: {int((classes == kind).sum())}")
                   for kind, label in (("new valid", "new and valid"), ("copy", "valid copy of a training item"),
                                       ("invalid", "invalid (fails a check)"))]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=3, fontsize=8,
                  title=f"{size * size} tiles", title_fontsize=8, frameon=False)
    return ax


def _frame_tiles(ax, classes: np.ndarray, shape: tuple[int, int], canvas_shape, extent) -> None:
    """A frame round each tile of a tiled canvas drawn over ``extent``, coloured by :data:`TILE_FRAMES`."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    h, w = shape
    x0, x1, y0, y1 = extent
    px, py = (x1 - x0) / canvas_shape[1], (y1 - y0) / canvas_shape[0]  # one canvas pixel in data units
    frames, colours = [], []
    for r in range(classes.shape[0]):
        for c in range(classes.shape[1]):
            # canvas row 0 is the top, at y1
            left, top = 1 + c * (w + 1), 1 + r * (h + 1)
            frames.append(Rectangle((x0 + left * px, y1 - (top + h) * py), w * px, h * py))
            colours.append(TILE_FRAMES[classes[r, c]])
    # under half a pixel wide, half of it over the gap: the tile's edge pixels still show
    pixel_points = abs(ax.transData.transform((px, 0))[0] - ax.transData.transform((0, 0))[0]) * 72 / ax.figure.dpi
    ax.add_collection(PatchCollection(frames, facecolor="none", edgecolors=colours, gid="verdict", zorder=2,
                                      linewidths=float(np.clip(0.45 * pixel_points, 0.7, 1.8))))


def _tinted(canvas: np.ndarray, classes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """An RGB picture of a tiled canvas: ink black over each tile's tint, the gaps grey."""
    from matplotlib.colors import to_rgb

    h, w = shape
    background = np.full(canvas.shape + (3,), 0.55)  # the gaps: mid grey, apart from every tint
    for r in range(classes.shape[0]):
        for c in range(classes.shape[1]):
            background[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + c * (w + 1):1 + c * (w + 1) + w] = \
                to_rgb(TILE_TINTS[classes[r, c]])
    ink = np.nan_to_num(canvas, nan=0.0)[..., None]
    return background * (1 - ink)  # ink 1 is black, 0 the tint


# The contact sheet's marks: a new bitmap framed solid bluish green, a copy of a training item dashed grey
# (Okabe-Ito; the line style tells them apart in grey too).
NEW_COLOUR, COPY_COLOUR = "#009E73", "0.45"


def plot_audit_sheet(report, shape: tuple[int, int], per_panel: int = 24, axes=None):
    """A contact sheet: the most frequent valid and invalid bitmaps of an audit, new ones told from copies.

    Each tile is labelled with how many samples decoded to it (and, for
    invalid ones, the first failed check) and framed by whether it is new
    (solid bluish green: no training item is identical) or a copy of a
    training item (dashed grey); a legend under the sheet explains the
    frames and each panel's title counts its new bitmaps.

    Parameters
    ----------
    report : AuditReport
    per_panel : int
        Most tiles in a panel.
    axes : pair of Axes, optional
        Where to draw the valid and the invalid panel; a new figure when
        None, as tall as its tiles need.

    Returns
    -------
    ndarray of two Axes

    Examples
    --------
    >>> from genval import build_space
    >>> from genval.audit import audit
    >>> report = audit(build_space("emojis", grid=(2, 2)), "copycat", n=50, random_state=0)
    >>> valid, invalid = plot_audit_sheet(report, (7, 5))
    >>> valid.get_title().split(" (")[0], invalid.get_title()
    ('valid: 50 of 50 samples, 17 distinct, 0 new', 'invalid: 0 of 50 samples, 0 distinct (none)')
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    counts = np.bincount(report.bitmap_index, minlength=len(report.bitmaps))
    valid = report.passes.all(axis=1)
    new = np.asarray(report.copy_of) < 0
    h, w = shape
    columns = 12
    shown = [np.flatnonzero((valid == want) & (counts > 0)) for want in (True, False)]
    shown = [idx[np.argsort(-counts[idx], kind="stable")][:per_panel] for idx in shown]
    if axes is None:
        # each panel as tall as its rows of tiles and their labels at the sheet's width: no empty band between
        width = 11.0
        unit = (width - 0.3) / (columns * (w + TILE_GAP) + TILE_GAP)
        heights = [0.3 + (math.ceil(len(idx) / columns) * (h + TILE_GAP) + TILE_GAP + 1.3) * unit if len(idx)
                   else 0.35 for idx in shown]
        _, axes = plt.subplots(2, 1, figsize=(width, sum(heights) + 0.45), layout="constrained",
                               gridspec_kw={"height_ratios": heights})
    names = report.check_names
    for ax, want, label, idx in zip(axes, (True, False), ("valid", "invalid"), shown):
        total = int(counts[valid == want].sum())
        distinct = (valid == want) & (counts > 0)
        title = (f"{label}: {total} of {report.n_total} samples, {int(distinct.sum())} distinct"
                 + (f", {int((distinct & new).sum())} new" if distinct.any() else ""))
        if len(idx) == 0:
            ax.set_axis_off()
            ax.set_title(f"{title} (none)", fontsize=9)
            continue
        # A check by its number under a tile (names do not fit under a 5-pixel-wide bitmap), the names in the title.
        labels = [f"x{counts[k]}" + ("" if want else f" ✗{int(np.argmin(report.passes[k])) + 1}") for k in idx]
        plot_bitmaps(report.bitmaps[idx].astype(float), shape, labels, ax=ax, columns=columns)
        for i, k in enumerate(idx):
            r, c = divmod(i, columns)
            ax.add_patch(Rectangle((TILE_GAP + c * (w + TILE_GAP) - 0.5, TILE_GAP + r * (h + TILE_GAP) - 0.5), w, h,
                                   fill=False, lw=1.8, edgecolor=NEW_COLOUR if new[k] else COPY_COLOUR,
                                   linestyle="-" if new[k] else (0, (2, 1.5)), gid="new" if new[k] else "copy",
                                   zorder=3))
        key = "" if want else "; ✗N: first failed check, " + ", ".join(f"{i + 1} {n}" for i, n in enumerate(names))
        ax.set_title(f"{title} (most frequent first; label: samples{key})", fontsize=9)
    handles = [Patch(fill=False, edgecolor=NEW_COLOUR, lw=1.8, label="new: no training item is identical"),
               Patch(fill=False, edgecolor=COPY_COLOUR, lw=1.8, linestyle=(0, (2, 1.5)),
                     label="copy of a training item")]
    axes[-1].figure.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return np.asarray(axes)


def plot_audit_plane(report, space, ax=None, max_points: int = 20_000, resolution: int = 300):
    """The audited points on the latent plane, coloured by verdict, over the map's neuron cells.

    Occupied neurons' cells (those winning a training item) are shaded
    darker than empty ones.
    """
    ax = _axes(ax, figsize=(7.5, 6.5))
    cells, extent, (origin, axes) = _cell_raster(space, resolution)
    occupied = report.occupied[cells]
    ax.imshow(np.where(occupied, 0.82, 0.95), extent=extent, origin="upper", cmap="gray", vmin=0, vmax=1,
              interpolation="nearest", aspect="auto")
    step = max(1, report.n_total // max_points)
    Z = _project(report.Z[::step], origin, axes)
    valid, novel = report.valid[::step], report.novel[::step]
    # Three kinds told apart by shape as well as colour: copies pass by construction, so they are not the news.
    ax.scatter(Z[~novel, 0], Z[~novel, 1], s=5, color="#999999", alpha=0.5, lw=0, marker="o",
               label="copy of a training item")
    ax.scatter(Z[novel & valid, 0], Z[novel & valid, 1], s=9, color=VALID_COLOUR, alpha=0.8, lw=0, marker="o",
               label="new, valid")
    ax.scatter(Z[novel & ~valid, 0], Z[novel & ~valid, 1], s=9, color=INVALID_COLOUR, alpha=0.7, lw=0, marker="^",
               label="new, invalid")
    W = _project(space.som.weights_.reshape(space.som.n_neurons, -1), origin, axes)
    ax.scatter(W[:, 0], W[:, 1], marker="s", s=24, color="black", label="neuron weights", zorder=3)
    _items(ax, _project(space.codes, origin, axes), space.bitmaps.names, color="black", size=18)
    ax.set_xlim(min(extent[0], Z[:, 0].min()), max(extent[1], Z[:, 0].max()))
    ax.set_ylim(min(extent[2], Z[:, 1].min()), max(extent[3], Z[:, 1].max()))
    xlabel, ylabel = _axis_names(axes)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best", fontsize=8, markerscale=2, framealpha=0.9)
    copies = report.copies()["rate"]["value"]
    validity = report.ratios(new_only=True)["validity"]["value"]
    new_text = "no new samples" if validity is None else f"new-sample validity {validity:.3f}"
    ax.set_title(f"audit '{report.strategy}': {report.n_total} points, copy rate {copies:.3f}, {new_text}\n"
                 "(darker cells: neurons holding training items)", fontsize=9)
    return ax


def plot_denoising(clean, noisy, restored, shape: tuple[int, int], levels, names=None, axes=None):
    """Clean, noisy and restored rows of bitmaps for each noise level.

    Parameters
    ----------
    clean : ndarray (k, n_pixels)
    noisy, restored : sequence (one per level) of ndarray (k, n_pixels)
    levels : sequence of float
    names : sequence of str, optional
        Labels under the clean row.
    axes : sequence of ``3 * len(levels)`` Axes, optional
        Where to draw the rows; a new figure when None.

    Returns
    -------
    ndarray of Axes, three per level
    """
    import matplotlib.pyplot as plt

    k = len(clean)
    if axes is None:
        # about an inch per row: tiles wide enough for the labels under them ("10 off", "wrong")
        _, axes = plt.subplots(3 * len(levels), 1, figsize=(max(5.0, 0.8 * k + 0.6), 3.4 * len(levels) + 0.3),
                               layout="constrained")
    axes = np.atleast_1d(axes)
    truth = np.asarray(clean) > 0.5
    for j, level in enumerate(levels):
        right = ((np.asarray(restored[j]) > 0.5) == truth).all(axis=1)
        flips = ((np.asarray(noisy[j]) > 0.5) != truth).sum(axis=1)
        rows = ((clean, names, "clean"),
                (noisy[j], [f"{f} off" for f in flips], f"noisy, p = {level:g} (label: pixels off)"),
                (restored[j], ["ok" if r else "wrong" for r in right], "restored"))
        for i, (pixels, labels, label) in enumerate(rows):
            ax = axes[3 * j + i]
            plot_bitmaps(pixels, shape, labels, ax=ax, columns=k)
            ax.set_title(label, loc="left", fontsize=8)
    return axes


FIGURE_FORMATS = ("png", "svg", "pdf")


def _sweep_label(entry: dict, keys) -> str:
    return " ".join(entry["settings"][k] for k in keys if entry["settings"][k]) or "(default)"


_SWEEP_METRICS = {"wrong_pixels": "wrong pixels (sum over items)", "final_loss": "final loss"}


def plot_sweep(summary, title: str = "", metrics=("wrong_pixels", "final_loss"), axes=None):
    """A sweep's summary: a panel per varied setting and metric, with the spread over seeds.

    Parameters
    ----------
    summary : list of dict
        What :func:`genval.experiments.summarize` returned.
    title : str
    metrics : sequence of str
        Result columns, one row of panels each.
    axes : array of Axes, optional
        ``len(metrics)`` rows by one column per varied setting.

    Returns
    -------
    ndarray of Axes, shape (len(metrics), n_settings)

    Notes
    -----
    In the panel of a setting, the x axis holds its values; every other
    varied setting draws its own series. A dot is a seed's run, the bar the
    mean ± sample standard deviation; runs that diverged or failed are
    counted in red above their value.

    Examples
    --------
    >>> from genval.experiments._sweep import parse_sweep, run_sweep, summarize
    >>> import tempfile, os
    >>> sweep = parse_sweep('dataset = "emojis"\\n[fixed]\\nepochs = 20\\n[grid]\\nn_latent = [2, 3]\\n'
    ...                     'random_state = [0, 1]\\n')
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     rows = run_sweep(sweep, os.path.join(tmp, "runs.csv"))
    >>> plot_sweep(summarize(rows, sweep.axes)).shape
    (2, 1)
    """
    import matplotlib.pyplot as plt

    settings = list(summary[0]["axes"]) if summary and summary[0]["axes"] else [()]
    if axes is None:
        _, axes = plt.subplots(len(metrics), len(settings), figsize=(4.2 * len(settings) + 0.6, 2.8 * len(metrics)),
                               layout="constrained", squeeze=False)
    axes = np.asarray(axes).reshape(len(metrics), len(settings))
    for col, axis in enumerate(settings):
        others = [k for other in settings if other != axis for k in other]
        xs = list(dict.fromkeys(_sweep_label(e, axis) for e in summary))
        series = list(dict.fromkeys(_sweep_label(e, others) for e in summary)) if others else [""]
        width = 0.6 / len(series)
        for row, metric in enumerate(metrics):
            ax = axes[row, col]
            for s, name in enumerate(series):
                offset = (s - (len(series) - 1) / 2) * width
                members = [e for e in summary if not others or _sweep_label(e, others) == name]
                color = f"C{s % 10}"
                for e in members:
                    x = xs.index(_sweep_label(e, axis)) + offset
                    values = e["values"][metric]
                    ax.plot([x] * len(values), values, "o", color=color, alpha=0.45, ms=3.5)
                    if e[metric] is not None:
                        mean, spread = e[metric]
                        # on the loss's log scale a bar may not reach zero
                        low = min(spread, 0.95 * mean) if metric == "final_loss" and mean > 0 else spread
                        ax.errorbar(x, mean, yerr=[[low], [spread]], fmt="_", color=color, ms=12, capsize=3,
                                    label=name if e is members[0] and others else None)
                    bad = e["diverged"] + e["failed"]
                    if bad:
                        ax.annotate(f"{bad}✗", (x, 1.0), xycoords=("data", "axes fraction"), color="tab:red",
                                    ha="center", va="top", fontsize=7)
            tilted = sum(map(len, xs)) > 40
            ax.set_xticks(range(len(xs)), xs, rotation=25 if tilted else 0, ha="right" if tilted else "center",
                          rotation_mode="anchor", fontsize=7)
            ax.set_xlim(-0.6, len(xs) - 0.4)
            if metric == "final_loss" and all(v > 0 for e in summary for v in e["values"][metric]):
                ax.set_yscale("log")
            ax.set_ylabel(_SWEEP_METRICS.get(metric, metric.replace("_", " ")), fontsize=8)
            ax.set_xlabel(" + ".join(axis) or "", fontsize=8)
            ax.tick_params(axis="y", which="both", labelsize=7)
        if others:
            axes[0, col].legend(title=" ".join(others), fontsize=6, title_fontsize=6, framealpha=0.6)
    if title:
        axes.flat[0].figure.suptitle(f"{title}: mean ± spread over seeds (dots: runs; ✗: diverged or failed)",
                                     fontsize=9)
    return axes


OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)), (0, (3, 1, 1, 1)))


def plot_roc(curves, ax=None, title: str = "each score as a predictor of validity (new samples)"):
    """ROC curves of membership scores, one line each, beside the chance diagonal.

    Parameters
    ----------
    curves : mapping of str to dict
        Score name to ``{"fpr": array, "tpr": array, "auroc": float or None,
        "n_valid": int, "n_invalid": int}`` (and optionally ``"distinct_valid"``,
        ``"distinct_invalid"``: the distinct bitmaps behind the samples): the false and true positive
        rates of the score as a predictor of validity, in threshold order.
        A score without an AUROC (one class absent) is listed in the legend
        as ``n/a`` and draws no line.
    title : str

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = plot_roc({"map distance": {"fpr": [0, 0.5, 1], "tpr": [0, 0.9, 1], "auroc": 0.7,
    ...                                 "n_valid": 312, "n_invalid": 1204}})
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['map distance: AUROC 0.700 (312 valid / 1,204 invalid)', 'chance']
    """
    ax = _axes(ax, figsize=(5.6, 5.2))
    for k, (name, curve) in enumerate(curves.items()):
        counts = f"({curve['n_valid']:,} valid / {curve['n_invalid']:,} invalid"
        if "distinct_valid" in curve:  # samples of one bitmap are not independent: say how many bitmaps
            counts += f"; {curve['distinct_valid']:,} / {curve['distinct_invalid']:,} distinct"
        counts += ")"
        if curve.get("auroc") is None or len(curve.get("fpr", ())) == 0:
            ax.plot([], [], color=OKABE_ITO[k % 8], label=f"{name}: AUROC n/a {counts}")
            continue
        ax.plot(curve["fpr"], curve["tpr"], color=OKABE_ITO[k % 8], linestyle=LINE_STYLES[k % 8], lw=1.8,
                label=f"{name}: AUROC {curve['auroc']:.3f} {counts}")
    ax.plot([0, 1], [0, 1], color="0.55", lw=1, linestyle=(0, (1, 2)), label="chance")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate (invalid samples the score calls members)")
    ax.set_ylabel("true positive rate (valid samples it calls members)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=7, framealpha=0.9)
    return ax


def plot_roc_panels(curves, groups, title: str = "each score as a predictor of validity (new samples)"):
    """ROC curves in one panel per group of scores (the map-free baselines, the map's, the decoder's...).

    Twelve curves in one panel hide each other; grouped by what they draw on, each panel stays
    readable and the baselines' panel is the reference the others are read against.

    Parameters
    ----------
    curves : mapping of str to dict
        As :func:`plot_roc` takes them.
    groups : mapping of str to sequence of str
        A panel title for each group of score names; names without a curve are left out, and so
        are groups left empty.
    title : str

    Returns
    -------
    ndarray of Axes

    Examples
    --------
    >>> curve = {"fpr": [0, 0.5, 1], "tpr": [0, 0.9, 1], "auroc": 0.7, "n_valid": 3, "n_invalid": 4}
    >>> axes = plot_roc_panels({"a": curve, "b": curve}, {"baselines": ["a"], "the map": ["b", "c"], "none": ["d"]})
    >>> [ax.get_title() for ax in axes]
    ['baselines', 'the map']
    """
    import matplotlib.pyplot as plt

    panels = [(name, {k: curves[k] for k in names if k in curves}) for name, names in groups.items()]
    panels = [(name, chosen) for name, chosen in panels if chosen]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 5.6), layout="constrained", squeeze=False)
    for ax, (name, chosen) in zip(axes[0], panels):
        plot_roc(chosen, ax=ax, title=name)
    fig.suptitle(title, fontsize=11)
    return axes[0]


_COMPARISON_PANELS = (("copy_rate", "copy rate", "share of samples identical to a training item"),
                      ("new_validity", "new-sample validity", "share of new samples that are valid"),
                      ("yield", "yield", "distinct new valid bitmaps"))


def plot_comparison(rows, axes=None, title: str = "sampling strategies compared", min_novelty: int | None = None):
    """Strategies side by side: copy rate, validity of the new samples and yield, one bar each.

    With ``min_novelty``, a fourth panel: the yield at the novelty floor (the rows' ``yield_at_floor``:
    distinct new valid bitmaps at least ``min_novelty`` pixels from every training item).

    Parameters
    ----------
    rows : list of dict
        One per strategy: ``{"label": str, "copy_rate": m, "new_validity": m,
        "yield": m}``, each ``m`` a ``{"value": float or None, "interval":
        [lo, hi] or None}``. Copy rate and new-sample validity are shares in
        [0, 1], the yield a count of distinct new valid bitmaps. An interval
        draws an error bar; a value of None is written ``n/a``.
    axes : three (four with ``min_novelty``) Axes, optional
    title : str
    min_novelty : int, optional

    Returns
    -------
    ndarray of three or four Axes

    Examples
    --------
    >>> rows = [{"label": "random", "copy_rate": {"value": 0.7, "interval": [0.68, 0.72]},
    ...          "new_validity": {"value": 0.18, "interval": None}, "yield": {"value": 40, "interval": None}},
    ...         {"label": "copycat", "copy_rate": {"value": 1.0, "interval": None},
    ...          "new_validity": {"value": None, "interval": None}, "yield": {"value": 0, "interval": None}}]
    >>> axes = plot_comparison(rows)
    >>> [t.get_text() for t in axes[1].texts]
    ['0.18', 'n/a']
    """
    import matplotlib.pyplot as plt

    n = len(rows)
    panels = _COMPARISON_PANELS
    if min_novelty is not None:
        panels += (("yield_at_floor", f"yield at >= {min_novelty} px",
                    f"distinct new valid bitmaps >= {min_novelty} px from every item"),)
    if axes is None:
        _, axes = plt.subplots(1, len(panels), figsize=(3.7 * len(panels), 1.2 + 0.42 * max(n, 2)),
                               layout="constrained", sharey=True)
    axes = np.asarray(axes).ravel()
    y = np.arange(n)
    labels = [row["label"] for row in rows]
    for ax, (key, name, meaning), colour in zip(axes, panels, OKABE_ITO):
        # shares run to 1, the yield to its largest value; either further when an interval reaches beyond
        # (a t interval over few seeds may pass 1)
        reach = [max([row[key]["value"], *(row[key].get("interval") or ())]) for row in rows
                 if row[key]["value"] is not None]
        top = max([1.0, *reach])
        for i, row in enumerate(rows):
            value, interval = row[key]["value"], row[key].get("interval")
            if value is None:
                ax.text(0.01 * top, i, "n/a", va="center", ha="left", fontsize=8, color="0.35")
                continue
            ax.barh(i, value, color=colour, height=0.6, alpha=0.85)
            if interval is not None:
                lo, hi = interval
                ax.errorbar(value, i, xerr=[[value - lo], [hi - value]], fmt="none", ecolor="black", capsize=3,
                            lw=1)
            end = max(value, interval[1] if interval is not None else value)
            text = f"{value:,.0f}" if key.startswith("yield") else f"{value:.2f}"
            ax.text(end + 0.015 * top, i, text, va="center", ha="left", fontsize=8)
        ax.set_xlim(0, top * 1.18)
        ax.set_yticks(y, labels, fontsize=8)
        if not ax.yaxis_inverted():  # the first strategy on top (shared axes invert once)
            ax.invert_yaxis()
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(meaning, fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(True, axis="x", alpha=0.3)
    axes[0].set_ylabel("strategy", fontsize=8)
    intervals = any(row[key].get("interval") is not None for row in rows for key, _, _ in panels)
    axes[0].figure.suptitle(f"{title}{' (bars: means; error bars: 95% intervals)' if intervals else ''}", fontsize=10)
    return axes


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
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle, RegularPolygon

    som = space.som
    rows, cols = som.grid_
    hexagonal = som.topology == "hexagonal"
    u = som.umatrix().ravel()
    winners = som.winners(space.codes)
    hits = np.bincount(winners, minlength=rows * cols)
    names = list(space.bitmaps.names)
    labels = space.bitmaps.labels
    members: list[list[int]] = [[] for _ in range(rows * cols)]
    for item, k in enumerate(winners):
        members[k].append(item)
    # a neuron's cell about an inch across, smaller on a large map; the figure just holds the cells, so its
    # margins stay narrow, and the text is sized to the cell
    across = (cols - 1) * np.sqrt(3) / 2 + 2 / np.sqrt(3) if hexagonal else cols  # the cells' extent in data units
    down = rows + 0.5 if hexagonal else rows
    cell = min(1.25, 11.0 / across, 9.5 / down)  # inches per data unit
    ax = _axes(ax, figsize=(cell * across + 2.1, cell * down + 1.15))
    cmap = matplotlib.colormaps["viridis"]
    if hexagonal:
        centres = _hex_centres(rows, cols)
        patches = [RegularPolygon(tuple(c), numVertices=6, radius=1 / np.sqrt(3), orientation=np.pi / 6)
                   for c in centres]
    else:
        i, j = np.divmod(np.arange(rows * cols), cols)
        centres = np.column_stack([j, -i]).astype(float)
        patches = [Rectangle((x - 0.5, y - 0.5), 1, 1) for x, y in centres]
    # A big map is drawn as one collection of cells, without text: an artist and a text per neuron made a
    # 316x316 map take minutes to draw, and its numbers could not be read anyway.
    written = rows * cols <= MAX_NUMBERED
    if written:
        for patch, value in zip(patches, u):
            patch.set_facecolor(cmap(value))
            patch.set_edgecolor("white")
            patch.set_linewidth(1.5)
            ax.add_patch(patch)
    else:
        ax.add_collection(PatchCollection(patches, facecolors=cmap(u), edgecolors="none"))
    mappable = matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(0, 1), cmap=cmap)
    plt.colorbar(mappable, ax=ax, shrink=0.8, label="U-matrix (distance to neighbour weights, scaled)")
    fontsize = float(np.clip(cell * 72 / 9.5, 4.5, 8.0))
    # points a line may take inside a cell (a hexagon's flat sides are as far apart as a square's)
    room = cell * 72 * 0.87
    for k, (x, y) in enumerate(centres if written else ()):
        items = members[k]
        if not items:
            what = ""
        elif labels is not None:
            counts: dict[str, int] = {}
            for item in items:
                counts[labels[item]] = counts.get(labels[item], 0) + 1
            top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            what = _fit_words([f"{label}×{count}" for label, count in top], room, fontsize)
        elif len(items) <= max_names:
            what = _fit_words([names[item] for item in items], room, fontsize)
        else:
            what = f"{len(items)} items"
        text = f"{k + 1}\nhits {hits[k]}" + (f"\n{what}" if what else "")
        ink = "black" if u[k] > 0.55 else "white"  # viridis is light above about 0.55
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=ink, linespacing=1.15)
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
    ax.set_title(f"{rows}x{cols} {som.topology} map of {len(names)} {space.bitmaps.title} codes: U-matrix\n"
                 "in each neuron: its number (from 1, row-major), hits (items it wins), its items", fontsize=10)
    return ax


def _text_width(text: str, fontsize: float) -> float:
    """The width in points of ``text`` drawn at ``fontsize`` in matplotlib's default font."""
    from matplotlib.textpath import TextPath

    return TextPath((0, 0), text, size=fontsize).get_extents().width if text else 0.0


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


def plot_denoising_curve(report, shape: tuple[int, int], names=None, axes=None, items: int = 6):
    """Denoising at a glance: restored and within-one shares against the noise level beside the bound,
    over a strip of examples.

    The top panel draws the model's share of noisy copies restored exactly
    and within one wrong pixel (solid, filled marks) against the
    nearest-training-item bound's two shares (dashed, open marks), the best
    any denoiser can do on the set. The strip below shows the first
    ``items`` items once, clean, then for each level a noisy copy and its
    restoration, framed as :func:`plot_bitmaps` frames verdicts (blue and
    solid: restored exactly; vermillion and dashed: wrong pixels left).

    Parameters
    ----------
    report : DenoiseReport
        From :func:`genval.experiments.denoise_report`.
    shape : (height, width)
    names : sequence of str, optional
        Item names under the clean row; default the report's.
    axes : pair of Axes, optional
        The curve's and the strip's.
    items : int
        Most items in the strip.

    Returns
    -------
    ndarray of two Axes

    Examples
    --------
    >>> from genval import Autoencoder, BitmapSet
    >>> from genval.experiments._denoise import denoise_report
    >>> bits = BitmapSet(["a", "b"], [[1, 1, 0, 0], [1, 0, 1, 0]], (2, 2))
    >>> report = denoise_report(Autoencoder(hidden=(4,), epochs=20).fit(bits.X), bits, [0.0, 0.25], trials=4)
    >>> curve, strip = plot_denoising_curve(report, (2, 2))
    >>> [line.get_label() for line in curve.get_lines()]
    ['restored exactly', 'within one pixel', 'bound: restored exactly', 'bound: within one pixel']
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    levels = [r.level for r in report]
    examples = report.examples
    k = min(items, len(examples.clean))
    names = list(names if names is not None else examples.names)[:k]
    h, w = shape
    n_rows = 1 + 2 * len(levels)
    if axes is None:
        strip_height = max(1.6, 0.42 * n_rows * h / 7 + 0.6)
        fig, axes = plt.subplots(2, 1, figsize=(7.2, 3.6 + strip_height), layout="constrained",
                                 gridspec_kw={"height_ratios": [3.2, strip_height]})
    curve, strip = np.asarray(axes).ravel()
    series = (("restored", "restored exactly", VALID_COLOUR, "-", "o"),
              ("within_one", "within one pixel", INVALID_COLOUR, "-", "s"),
              ("bound_restored", "bound: restored exactly", VALID_COLOUR, "--", "o"),
              ("bound_within_one", "bound: within one pixel", INVALID_COLOUR, "--", "s"))
    for z, (key, label, colour, style, marker) in enumerate(series):
        bound = key.startswith("bound")
        # the exact shares on top, with smaller marks: where a curve equals its within-one twin both still show
        exact = "restored" in key
        curve.plot(levels, [getattr(r, key) for r in report], color=colour, linestyle=style, marker=marker,
                   mfc="white" if bound else colour, ms=4 if exact else 7, lw=1.4 if exact else 2.2, label=label,
                   zorder=3 + exact)
    curve.set_ylim(-0.03, 1.03)
    curve.set_xlabel("noise level (bit-flip probability or Gaussian standard deviation)")
    curve.set_ylabel(f"share of noisy copies ({report[0].samples:,} per level)" if len(report) else "share")
    curve.set_title("denoising: the model (solid) beside the nearest-training-item bound (dashed)", fontsize=10)
    curve.grid(True, alpha=0.3)
    curve.legend(fontsize=8, loc="lower left", framealpha=0.9)

    gap = 1
    canvas = np.full((n_rows * (h + gap) + gap, k * (w + gap) + gap), np.nan)

    def put(row, col, pixels):
        top, left = gap + row * (h + gap), gap + col * (w + gap)
        canvas[top:top + h, left:left + w] = np.asarray(pixels, dtype=float).reshape(h, w)
        return left, top

    truth = np.asarray(examples.clean[:k]) > 0.5
    for c in range(k):
        put(0, c, examples.clean[c])
    for j in range(len(levels)):
        right = ((np.asarray(examples.restored[j][:k]) > 0.5) == truth).all(axis=1)
        for c in range(k):
            put(1 + 2 * j, c, examples.noisy[j][c])
            left, top = put(2 + 2 * j, c, examples.restored[j][c])
            ok = bool(right[c])
            strip.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, lw=1.4, gid="verdict",
                                      edgecolor=VALID_COLOUR if ok else INVALID_COLOUR,
                                      linestyle="-" if ok else (0, (2, 1.2))))
    strip.imshow(canvas, cmap=_ink_cmap(), vmin=0, vmax=1, interpolation="nearest")
    centres = [gap + r * (h + gap) + (h - 1) / 2 for r in range(n_rows)]
    row_names = ["clean"] + [f"{what}, {level:g}" for level in levels for what in ("noisy", "restored")]
    strip.set_yticks(centres, row_names, fontsize=7)
    strip.set_xticks([gap + c * (w + gap) + (w - 1) / 2 for c in range(k)], names, fontsize=7)
    strip.tick_params(length=0)
    for spine in strip.spines.values():
        spine.set_visible(False)
    strip.set_title("examples: each item once, then per level a noisy copy and its restoration", fontsize=9)
    strip.legend(handles=[Patch(fill=False, edgecolor=VALID_COLOUR, label="restored exactly"),
                          Patch(fill=False, edgecolor=INVALID_COLOUR, linestyle=(0, (2, 1.2)),
                                label="pixels still wrong")],
                 loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    return np.asarray([curve, strip])


# The plane's regions by kind: copies of training items in light greys (they are not the news), new bitmaps
# in Okabe-Ito colours (bluish green first when unjudged, as the contact sheet frames new ones; blues when
# valid; vermillion and orange when invalid). Within a kind the tones only tell neighbouring regions apart.
REGION_TONES = {"copy": ("#E4E4E4", "#C4C4C4", "#D4D4D4", "#B2B2B2"),
                "new": (NEW_COLOUR, "#56B4E9", "#CC79A7", "#E69F00", "#0072B2"),
                "new valid": ("#0072B2", "#56B4E9", "#009E73", "#88CCEE"),
                "new invalid": ("#D55E00", "#E69F00", "#CC79A7", "#F0B08A")}
_REGION_LABELS = {"copy": "copy of a training item", "new": "new", "new valid": "new, valid",
                  "new invalid": "new, invalid"}


def _region_tones(cells: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Per region, the index of its tone in :data:`REGION_TONES` of its kind: greedy, largest region first,
    each taking the first tone no neighbour of its kind has (the rarest among them when all are taken).
    Neighbours share a cell edge."""
    n = len(kinds)
    pairs = np.concatenate([np.column_stack([cells[:, :-1].ravel(), cells[:, 1:].ravel()]),
                            np.column_stack([cells[:-1].ravel(), cells[1:].ravel()])]).astype(np.int64)
    pairs = np.sort(pairs[pairs[:, 0] != pairs[:, 1]], axis=1)
    keys = np.unique(pairs[:, 0] * n + pairs[:, 1])
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for a, b in zip(*np.divmod(keys, n)):
        neighbours[a].append(int(b))
        neighbours[b].append(int(a))
    tone = np.full(n, -1)
    for k in range(n):
        palette = REGION_TONES[kinds[k]]
        taken = [tone[m] for m in neighbours[k] if tone[m] >= 0 and kinds[m] == kinds[k]]
        tone[k] = int(np.argmin(np.bincount(taken, minlength=len(palette))))
    return tone


def plot_regions(census, ax=None, training=None, valid=None, codes=None, names=None):
    """The latent plane cut into the regions of a census, copies of training items told from new bitmaps.

    Each region (the cells decoding to one bitmap) is filled by its kind:
    light greys for a copy of a training item, Okabe-Ito colours for a new
    bitmap (bluish green first when not judged, blues when valid, vermillion
    and orange when invalid); within a kind, neighbouring regions take
    different tones.
    The legend counts each kind's regions and their share of the box; the
    title the regions, the grid and whether the census converged.

    Parameters
    ----------
    census : RegionCensus
        From :func:`genval.latent.region_census`.
    training : array-like of bool (n_items, n_pixels), optional
        The training bitmaps (``space.bitmaps.binary()``): a region whose
        bitmap equals one is a copy. Without it every region counts as new.
    valid : array-like of bool (n_regions,), optional
        The verdict on each region's bitmap (``checks.passes(census.bitmaps).all(axis=1)``).
    codes : ndarray (n_items, 2), optional
        Points to mark (the items' codes), named by ``names`` when there are at most 50.

    Returns
    -------
    Axes

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from genval.latent._regions import region_census
    >>> sign = SimpleNamespace(inverse_transform=lambda Z: (Z[:, :1] > 0.5).astype(float))
    >>> census = region_census(sign, [-1, -1], [1, 1], start=4)
    >>> ax = plot_regions(census, training=[[False]])
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['copy of a training item: 1 region, 75.0% of the box', 'new: 1 region, 25.0% of the box']
    """
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Patch, Rectangle

    from genval._utils.budget import dedupe_rows

    n = census.n_regions
    copy = np.zeros(n, dtype=bool)
    if training is not None:
        training = np.asarray(training, dtype=bool).reshape(-1, census.bitmaps.shape[1])
        _, inverse = dedupe_rows(np.concatenate([census.bitmaps, training]))
        copy = np.isin(inverse[:n], inverse[n:])
    if valid is None:
        kinds = np.where(copy, "copy", "new")
    else:
        kinds = np.where(copy, "copy", np.where(np.asarray(valid, dtype=bool), "new valid", "new invalid"))
    side = census.side
    cells = census.cells.reshape(side, side)
    tone = _region_tones(cells, kinds)
    colours = np.array([to_rgb(REGION_TONES[kind][t]) for kind, t in zip(kinds, tone)]).reshape(-1, 3)
    ax = _axes(ax, figsize=(7.5, 7.2))
    (x0, y0), (x1, y1) = census.lo, census.hi
    ax.imshow(colours[cells], extent=(x0, x1, y0, y1), origin="lower", interpolation="nearest", aspect="auto")
    # The box's frame, and a margin round it: a box spanned by the codes has items on its edges.
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="0.25", lw=0.8, zorder=2))
    if codes is not None:
        codes = np.asarray(codes, dtype=float)
        ax.scatter(codes[:, 0], codes[:, 1], s=24, color="black", edgecolor="white", lw=0.8, zorder=3)
        middle = (census.lo + census.hi) / 2
        for (x, y), name in zip(codes, names if names is not None and len(codes) <= NAMED_ITEMS else []):
            right, up = x <= middle[0], y <= middle[1]  # each name towards the middle, inside the box
            ax.annotate(name, (x, y), xytext=(4 if right else -4, 3 if up else -3), textcoords="offset points",
                        ha="left" if right else "right", va="bottom" if up else "top", fontsize=9, zorder=4,
                        bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
    pad = 0.02 * (census.hi - census.lo)
    ax.set_xlim(x0 - pad[0], x1 + pad[0])
    ax.set_ylim(y0 - pad[1], y1 + pad[1])
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    handles = []
    for kind in ("copy", "new", "new valid", "new invalid"):
        mask = kinds == kind
        if mask.any():
            count = int(mask.sum())
            handles.append(Patch(facecolor=REGION_TONES[kind][0], edgecolor="0.3", lw=0.6,
                                 label=f"{_REGION_LABELS[kind]}: {count} region{'' if count == 1 else 's'}, "
                                       f"{100 * census.area[mask].sum():.1f}% of the box"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncols=1, fontsize=8,
              frameon=False, title="regions by the bitmap they decode to (tones tell neighbours apart)",
              title_fontsize=8)
    first = census.history[0][0]
    if census.converged:
        how = f"converged: doubling to {side} found nothing new"
    elif len(census.history) > 1:
        how = f"not converged: {census.history[-2][1]} to {n} at the last doubling"
    else:
        how = "not converged: no doubling tried"
    ax.set_title(f"{n} distinct decoded bitmaps over the box, {side}x{side} cells\n"
                 f"(grid refined from {first} cells a side; {how})", fontsize=10)
    return ax
