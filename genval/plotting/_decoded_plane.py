"""The latent plane decoded: a mosaic of decoded tiles tinted by verdict, and the regions of a census.
"""

from __future__ import annotations

import numpy as np

from genval.plotting._base import INVALID_COLOUR, NAMED_ITEMS, NEW_COLOUR, VALID_COLOUR, _axes, _ink_cmap

__all__ = ["plot_latent_grid", "plot_regions", "tile_classes"]


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
        _scatter_codes(ax, codes)
        for (x, y), name in zip(codes, names if names is not None and len(codes) <= NAMED_ITEMS else []):
            ax.annotate(name, (x, y), xytext=(5, 4), textcoords="offset points", fontsize=10, color="black",
                        fontweight="bold", zorder=4,
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="black", alpha=0.85))
    xlabel, ylabel = ("principal axis 1 of the codes", "principal axis 2") if principal_plane else ("z1", "z2")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    where = "the codes' principal plane" if principal_plane else "the latent plane"
    ax.set_title(f"{where} decoded at {size}x{size} points over the codes' box"
                 + ("\ntile background and frame: the verdict on the decoded bitmap" if verdicts is not None else "")
                 + (f"\ndots: the {len(codes):,} items' codes, small and translucent: the tiles show through"
                    if codes is not None and len(codes) > NAMED_ITEMS else ""), fontsize=10)
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


# Past NAMED_ITEMS codes, a dot's size (points squared) and opacity: 5,000 MNIST codes drawn as 30-point dots
# hid the mosaic; 2-point dots at 0.3 still show where the items crowd and leave the decoded tiles readable.
MANY_CODES_SIZE, MANY_CODES_ALPHA = 4, 0.3


def _scatter_codes(ax, codes: np.ndarray) -> None:
    """The items' codes over the mosaic: black dots ringed in white (readable over every tile tint) when few,
    small translucent ones when many."""
    if len(codes) <= NAMED_ITEMS:
        ax.scatter(codes[:, 0], codes[:, 1], s=30, color="black", edgecolor="white", zorder=3)
    else:
        ax.scatter(codes[:, 0], codes[:, 1], s=MANY_CODES_SIZE, color="black", alpha=MANY_CODES_ALPHA, lw=0,
                   zorder=3, rasterized=True)


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
    from matplotlib.patches import Rectangle

    kinds = _region_kinds(census, training, valid)
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
        _mark_codes(ax, np.asarray(codes, dtype=float), names, (census.lo + census.hi) / 2)
    pad = 0.02 * (census.hi - census.lo)
    ax.set_xlim(x0 - pad[0], x1 + pad[0])
    ax.set_ylim(y0 - pad[1], y1 + pad[1])
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    _region_legend(ax, kinds, census.area)
    ax.set_title(_census_title(census), fontsize=10)
    return ax


def _region_kinds(census, training, valid) -> np.ndarray:
    """Per region, its kind in :data:`REGION_TONES`: a copy of a training item, else new (valid or invalid
    when judged)."""
    from genval._utils.budget import dedupe_rows

    n = census.n_regions
    copy = np.zeros(n, dtype=bool)
    if training is not None:
        training = np.asarray(training, dtype=bool).reshape(-1, census.bitmaps.shape[1])
        _, inverse = dedupe_rows(np.concatenate([census.bitmaps, training]))
        copy = np.isin(inverse[:n], inverse[n:])
    if valid is None:
        return np.where(copy, "copy", "new")
    return np.where(copy, "copy", np.where(np.asarray(valid, dtype=bool), "new valid", "new invalid"))


def _mark_codes(ax, codes: np.ndarray, names, middle: np.ndarray) -> None:
    """The items' codes as black dots, named (when at most :data:`NAMED_ITEMS`) towards the box's middle."""
    if len(codes) <= NAMED_ITEMS:
        ax.scatter(codes[:, 0], codes[:, 1], s=24, color="black", edgecolor="white", lw=0.8, zorder=3)
    else:  # thousands of ringed dots hid the regions
        ax.scatter(codes[:, 0], codes[:, 1], s=MANY_CODES_SIZE, color="black", alpha=MANY_CODES_ALPHA, lw=0,
                   zorder=3, rasterized=True)
    for (x, y), name in zip(codes, names if names is not None and len(codes) <= NAMED_ITEMS else []):
        right, up = x <= middle[0], y <= middle[1]  # each name towards the middle, inside the box
        ax.annotate(name, (x, y), xytext=(4 if right else -4, 3 if up else -3), textcoords="offset points",
                    ha="left" if right else "right", va="bottom" if up else "top", fontsize=9, zorder=4,
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))


def _region_legend(ax, kinds: np.ndarray, area: np.ndarray) -> None:
    """A legend under the plane: per kind present, its regions and their share of the box."""
    from matplotlib.patches import Patch

    handles = []
    for kind in ("copy", "new", "new valid", "new invalid"):
        mask = kinds == kind
        if mask.any():
            count = int(mask.sum())
            handles.append(Patch(facecolor=REGION_TONES[kind][0], edgecolor="0.3", lw=0.6,
                                 label=f"{_REGION_LABELS[kind]}: {count} region{'' if count == 1 else 's'}, "
                                       f"{100 * area[mask].sum():.1f}% of the box"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncols=1, fontsize=8,
              frameon=False, title="regions by the bitmap they decode to (tones tell neighbours apart)",
              title_fontsize=8)


def _census_title(census) -> str:
    """The regions, the grid, and whether doubling it stopped finding new bitmaps."""
    side, n = census.side, census.n_regions
    first = census.history[0][0]
    if census.converged:
        how = f"converged: doubling to {side} found nothing new"
    elif len(census.history) > 1:
        how = f"not converged: {census.history[-2][1]} to {n} at the last doubling"
    else:
        how = "not converged: no doubling tried"
    return (f"{n} distinct decoded bitmaps over the box, {side}x{side} cells\n"
            f"(grid refined from {first} cells a side; {how})")
