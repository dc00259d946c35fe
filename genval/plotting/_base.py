"""What every picture shares: new axes, codes on the picture's plane, item points, bitmap tiles, colours,
and :func:`save_figure`.

Colours are Okabe-Ito's (colour-blind safe), and every pair that carries meaning is told apart by glyph or
line style too, so the pictures read in grey.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from genval._utils.files import atomic_write

__all__ = ["save_figure"]


def _text_width(text: str, fontsize: float) -> float:
    """The width in points of ``text`` drawn at ``fontsize`` in matplotlib's default font (its widest line)."""
    from matplotlib.textpath import TextPath

    return max((TextPath((0, 0), line, size=fontsize).get_extents().width for line in text.split("\n") if line),
               default=0.0)


def _wrap_pieces(pieces: list[str], room: float, fontsize: float) -> str:
    """``pieces`` joined as they are, a line broken before a piece that would take a line past ``room`` points:
    removing the line breaks gives back ``"".join(pieces)``.

    >>> _wrap_pieces(["✗ eyes", "+mouth", ", new"], 200, 7), _wrap_pieces(["✗ eyes", "+mouth", ", new"], 30, 7)
    ('✗ eyes+mouth, new', '✗ eyes\\n+mouth\\n, new')
    """
    lines = [pieces[0]] if pieces else [""]
    for piece in pieces[1:]:
        if _text_width(lines[-1] + piece, fontsize) <= room:
            lines[-1] += piece
        else:
            lines.append(piece)
    return "\n".join(lines)


def _wrap_title(title: str, width: float, fontsize: float) -> str:
    """Each line of ``title`` broken after a space or a ``/`` where it would run past ``width`` inches
    (measured in matplotlib's default font): a title wider than its figure is otherwise cut at both ends.

    >>> _wrap_title("the first 48 items, each over its reconstruction\\n3 wrong pixels", 2, 10)
    'the first 48 items, each\\nover its reconstruction\\n3 wrong pixels'
    """
    import re

    # 0.92: the drawn text comes out a few per cent wider than its path's measure
    lines = [_wrap_pieces(re.split(r"(?<=[ /])", line), 0.92 * width * 72, fontsize) for line in title.split("\n")]
    return "\n".join(part.rstrip() for part in "\n".join(lines).split("\n"))


def _axes(ax, figsize=(6, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


# Past this many items, points carry no name (labels or colours say what they are).
NAMED_ITEMS = 50


def _project(Z, origin, axes) -> np.ndarray:
    return (np.asarray(Z, dtype=float) - origin) @ axes.T


def _axis_names(axes: np.ndarray) -> tuple[str, str]:
    return ("z1", "z2") if axes.shape[1] <= 2 else ("principal axis 1 of the codes", "principal axis 2")


def _label_colours(labels):
    """One colour per distinct label, colour-blind safe: Okabe-Ito up to 8, Paul Tol's muted
    scheme up to 10 (the digits), viridis beyond."""
    import matplotlib

    distinct = sorted(set(labels), key=lambda v: (v == "other", len(v), v))  # plot_latent's "other" last
    okabe_ito = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
    tol_muted = ["#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933",
                 "#AA4499", "#555555"]
    for palette in (okabe_ito, tol_muted):
        if len(distinct) <= len(palette):
            return dict(zip(distinct, palette))
    cmap = matplotlib.colormaps["viridis"]
    return {label: cmap(k / (len(distinct) - 1)) for k, label in enumerate(distinct)}


# The most labels a scatter's legend lists; past it the rarest are drawn together as "other".
LISTED_LABELS = 10


def _listed_labels(labels: list[str]) -> list[str]:
    """``labels`` with all but the :data:`LISTED_LABELS` - 1 most frequent named ``other`` when there are more
    than :data:`LISTED_LABELS` (ties by name)."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    if len(counts) <= LISTED_LABELS:
        return labels
    kept = set(sorted(counts, key=lambda label: (-counts[label], label))[:LISTED_LABELS - 1])
    return [label if label in kept else "other" for label in labels]


def _inches_per_pixel(ax, across: int, down: int) -> float:
    """How many inches a canvas pixel takes in ``ax`` (an image of ``across`` x ``down`` pixels, equal aspect)."""
    width, height = ax.get_position().size * ax.figure.get_size_inches()
    return float(min(width / across, height / down))


def _items(ax, P: np.ndarray, names, labels=None, color="tab:red", size=22, boxed=True, alpha=None):
    """Item points: coloured by label with a legend when there are labels; named when few."""
    if labels is not None:
        colours = _label_colours(labels)
        labels = np.asarray(labels)
        for label, colour in colours.items():
            mask = labels == label
            ax.scatter(P[mask, 0], P[mask, 1], s=size if len(P) <= NAMED_ITEMS else 6, color=colour,
                       zorder=4, label=label, lw=0, alpha=alpha)
    else:
        ax.scatter(P[:, 0], P[:, 1], s=size if len(P) <= NAMED_ITEMS else 6, color=color, zorder=4,
                   label="items", lw=0, alpha=alpha)
    if len(P) <= NAMED_ITEMS:
        box = dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.7) if boxed else None
        for (x, y), name in zip(P, names):
            ax.annotate(name, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=9, zorder=5, bbox=box)


FIGURE_FORMATS = ("png", "svg", "pdf")


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


# The contact sheet's marks: a new bitmap framed solid bluish green, a copy of a training item dashed grey
# (Okabe-Ito; the line style tells them apart in grey too).
NEW_COLOUR, COPY_COLOUR = "#009E73", "0.45"


def _cell_raster(space, resolution: int, margin: float = 0.08):
    """The winning neuron of every pixel of a raster over the codes' box in the picture's plane
    (row 0 at the top), with the plane: ``cells, extent, (origin, axes)``."""
    from genval.latent._plane import plane  # on first use: the latent stage brings the estimators with it

    origin, axes = plane(space.codes)
    P = _project(space.codes, origin, axes)
    lo, hi = P.min(axis=0), P.max(axis=0)
    pad = (hi - lo) * margin + 1e-9
    x0, x1, y0, y1 = lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y1, y0, resolution))
    points = origin + np.column_stack([gx.ravel(), gy.ravel()]) @ axes
    cells = space.som.winners(points).reshape(resolution, resolution)
    return cells, (x0, x1, y0, y1), (origin, axes)
