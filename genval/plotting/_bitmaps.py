"""Pictures of bitmaps and of a model's training: tiled bitmaps with their verdicts, items over their
reconstructions, the loss curve, and the latent codes as points.
"""

from __future__ import annotations

import math

import numpy as np

from genval.plotting._base import (INVALID_COLOUR, TILE_GAP, VALID_COLOUR, _axes, _axis_names, _ink_cmap, _items,
                                   _inches_per_pixel, _listed_labels, _project, _tile_canvas,
                                   _wrap_pieces, _wrap_title)

__all__ = ["plot_bitmaps", "plot_latent", "plot_loss_curve", "plot_reconstructions", "verdict_text"]


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


def plot_latent(Z: np.ndarray, names, ax=None, color="tab:blue", labels=None, title: str | None = None):
    """Latent codes as points: named when there are at most 50, coloured by label when labelled.

    Parameters
    ----------
    Z : ndarray of shape (n_items, n_latent)
        Drawn as they are in 2-D, through their first two principal axes beyond
        (the axes say which).
    names : sequence of str, length n_items
    labels : sequence of str, length n_items, optional
        One colour per label (colour-blind safe), with a legend of at most
        10 entries: past 10 labels the 9 most frequent keep their colours and
        the rest are drawn as ``other``.
    title : str, optional
        Wrapped to the figure's width.

    Examples
    --------
    >>> ax = plot_latent(np.array([[0.0, 1.0], [2.0, -1.0]]), ["a", "b"])
    >>> [t.get_text() for t in ax.texts]
    ['a', 'b']
    >>> ax = plot_latent(np.arange(24.0).reshape(12, 2), list("abcdefghijkl"), labels=list("abcdefghijkk"))
    >>> [t.get_text() for t in ax.get_legend().get_texts()][-2:]
    ['k', 'other']
    """
    from genval.latent._plane import plane  # on first use: the latent stage brings the estimators with it

    ax = _axes(ax, figsize=(6, 6))
    origin, axes = plane(Z)
    if labels is not None:
        labels = _listed_labels([str(label) for label in labels])
    _items(ax, _project(Z, origin, axes), names, labels, color=color, size=18, boxed=False)
    if labels is not None:
        ax.legend(fontsize=8, markerscale=1.5, title="label", ncols=2 if len(set(labels)) > 8 else 1)
    xlabel, ylabel = _axis_names(axes)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.12)
    if title:
        ax.set_title(_wrap_title(title, ax.figure.get_figwidth() - 0.2, 10), fontsize=10)
    return ax


# A tile's width with its gap, in inches, when plot_bitmaps makes the figure (wider with a verdict under it),
# and the sizes of the text under it.
TILE_INCHES, MARKED_TILE_INCHES = 0.9, 1.15
LABEL_SIZE, VERDICT_SIZE = 8, 7
_LINE = 1.25  # a text line's height in ems, with a little slack over matplotlib's 1.2


def plot_bitmaps(X: np.ndarray, shape: tuple[int, int], labels=None, ax=None, columns: int | None = None,
                 title: str | None = None, verdicts=None):
    """Bitmaps tiled in a grid, ink dark, with optional labels under each and a verdict mark on each.

    The room under each row of tiles is measured in points, not pixels: the
    labels and verdicts of 20x20 or 28x28 tiles take as much room as those
    of 5x7 ones, and no two of them overlap.

    Parameters
    ----------
    X : ndarray of shape (n, height * width)
        Pixel values in [0, 1] (grey levels are drawn as such).
    shape : (height, width)
    labels : sequence of str, optional
        One per bitmap, of one or more lines.
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
        item, broken into lines as narrow as the tile; a legend explains the marks.

    Examples
    --------
    >>> ax = plot_bitmaps(np.eye(4), (2, 2), labels=["a", "b", "c", "d"], columns=4)
    >>> ax.images[0].get_array().shape, len(ax.texts)  # 1 row of 4 tiles of 2x2, 1-pixel gaps, room for a label
    ((5, 13), 4)
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    n = len(X)
    h, w = shape
    if verdicts is not None and len(verdicts) != n:
        raise ValueError(f"got {len(verdicts)} verdicts for {n} bitmaps")
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    across = columns * (w + TILE_GAP) + TILE_GAP  # the canvas's width in pixels
    if ax is None:
        unit = (TILE_INCHES if verdicts is None else MARKED_TILE_INCHES) / (w + TILE_GAP)  # inches per pixel
    else:
        unit = _inches_per_pixel(ax, across, rows * (h + TILE_GAP) + TILE_GAP)
    marks = None if verdicts is None else [_wrap_verdict(verdicts, i, w * unit * 72) for i in range(n)]
    label_lines = max((str(label).count("\n") + 1 for label in labels), default=0) if labels is not None else 0
    mark_lines = max((m.count("\n") + 1 for m in marks), default=0) if marks is not None else 0
    points = (label_lines * LABEL_SIZE + mark_lines * VERDICT_SIZE) * _LINE + 4 * bool(label_lines or mark_lines)
    extra = math.ceil(points / (unit * 72))  # pixel rows under each row of tiles that hold its text
    canvas, corners = _tile_canvas(X, shape, columns, extra)
    if ax is None:
        width = max(3.0 if verdicts is None else 4.6, unit * across + 0.3)  # 4.6: as wide as the verdict legend
        title_lines = _wrap_title(title, width - 0.2, 9).count("\n") + 1 if title else 0
        ax = _axes(None, figsize=(width, unit * canvas.shape[0] + 0.25 + 0.2 * title_lines
                                  + (1.0 if verdicts is not None else 0.0)))
    ax.imshow(canvas, cmap=_ink_cmap(), vmin=0, vmax=1, interpolation="nearest")
    below = 2 / (unit * 72)  # 2 points under the tile
    if labels is not None:
        for (left, top), label in zip(corners, labels):
            ax.text(left + (w - 1) / 2, top + h - 0.5 + below, str(label), ha="center", va="top", fontsize=LABEL_SIZE)
    if verdicts is not None:
        below += label_lines * LABEL_SIZE * _LINE / (unit * 72)  # under the label, when there is one
        _mark_tiles(ax, verdicts, corners, (h, w), below, marks)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(_wrap_title(title, ax.figure.get_figwidth() - 0.2, 9), fontsize=9)
    return ax


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


def _wrap_verdict(verdicts, i: int, room: float) -> str:
    """:func:`verdict_text` broken into lines of at most ``room`` points, at a ``+`` or before ``, new``."""
    text = verdict_text(verdicts, i)
    head, _, what = text.rpartition(", ")
    pieces = [text] if not head else [*head.replace("+", "\0+").split("\0"), ", " + what]
    return _wrap_pieces(pieces, room, VERDICT_SIZE)


def _mark_tiles(ax, verdicts, corners, shape, below: float, marks=None) -> None:
    """A frame round each tile (its top-left pixel at ``corners[i]``) and its verdict ``below`` pixels under it
    (``marks[i]``, default :func:`verdict_text`), and a legend."""
    from matplotlib.patches import Rectangle

    h, w = shape
    for i, (left, top) in enumerate(corners):
        ok = bool(verdicts.valid[i])
        colour = VALID_COLOUR if ok else INVALID_COLOUR
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor=colour, lw=1.6,
                               linestyle="-" if ok else (0, (2, 1.2)), gid="verdict", zorder=3))
        ax.text(left + (w - 1) / 2, top + h - 0.5 + below, verdict_text(verdicts, i) if marks is None else marks[i],
                ha="center", va="top", fontsize=VERDICT_SIZE, color=colour, fontweight="bold" if ok else "normal")
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
    from matplotlib.patches import Patch

    # compared in their own dtype: a float64 copy of a large set's outputs would double their memory
    X, reconstructed = np.atleast_2d(np.asarray(X)), np.atleast_2d(np.asarray(reconstructed))
    _check_reconstructions(X, reconstructed, shape, names, max_items)
    h, w = shape
    n = len(X)
    wrong_in_all = _wrong_pixels(X, reconstructed)
    k = min(n, max_items)
    output = reconstructed[:k] > 0.5
    wrong = (X[:k] > 0.5) != output
    columns = columns or math.ceil(k / math.ceil(k / 16))
    # a pair is one tall tile: the item, a gap row, its reconstruction
    pairs = np.full((k, 2 * h + TILE_GAP, w), np.nan)
    pairs[:, :h] = X[:k].astype(float).reshape(k, h, w)
    pairs[:, h + TILE_GAP:] = output.reshape(k, h, w)
    width = min(12.0, max(4.5, 0.62 * columns + 0.4))
    unit = width / (columns * (w + TILE_GAP) + TILE_GAP)  # inches per pixel, the figure's width filled
    extra = math.ceil(0.17 / unit) if names is not None else 0  # room for a name under each pair
    canvas, corners = _tile_canvas(pairs.reshape(k, -1), (2 * h + TILE_GAP, w), columns, extra)
    heading = _reconstructions_title(title, k, n, int(wrong.sum()), wrong_in_all)
    lines = _wrap_title(heading, width - 0.2, 9).count("\n") + 1
    ax = _axes(ax, figsize=(width, canvas.shape[0] * unit + 0.6 + 0.17 * lines))
    ax.imshow(canvas, cmap=_ink_cmap(), vmin=0, vmax=1, interpolation="nearest")
    _frame_wrong_pixels(ax, wrong, corners, shape, unit)
    _label_pairs(ax, corners, None if names is None else names[:k], shape, columns, canvas.shape)
    # wrapped to the figure's width: a set's long title (a file's path) would otherwise be cut at both ends
    ax.set_title(_wrap_title(heading, ax.figure.get_figwidth() - 0.2, 9), fontsize=9)
    ax.legend(handles=[Patch(facecolor="white", edgecolor=INVALID_COLOUR, lw=1.6,
                             label="wrong pixel: white inside, ink lost; black inside, ink added")],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=7, frameon=False)
    return ax


def _label_pairs(ax, corners, names, shape: tuple[int, int], columns: int, canvas_shape) -> None:
    """Each pair's name under it, ``item`` and ``output`` beside each row of pairs, and no frame round the axes."""
    h, w = shape
    if names is not None:
        for (left, top), name in zip(corners, names):
            ax.text(left + (w - 1) / 2, top + 2 * h + TILE_GAP - 0.3, str(name), ha="center", va="top", fontsize=7)
    ax.set_xlim(-0.5, canvas_shape[1] - 0.5)
    ax.set_ylim(canvas_shape[0] - 0.5, -0.5)
    ax.set_xticks([])
    bands = [top for left, top in corners[::columns]]
    ax.set_yticks([top + offset + (h - 1) / 2 for top in bands for offset in (0, h + TILE_GAP)],
                  ["item", "output"] * len(bands), fontsize=7)
    ax.tick_params(axis="y", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _check_reconstructions(X: np.ndarray, reconstructed: np.ndarray, shape: tuple[int, int], names,
                           max_items: int) -> None:
    """Raise :class:`ParameterError` unless :func:`plot_reconstructions` can draw these arrays."""
    from genval.errors import ParameterError

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


def _wrong_pixels(X: np.ndarray, reconstructed: np.ndarray) -> int:
    """The wrong pixels of every item, a chunk of rows at a time (two boolean copies of a chunk at once)."""
    from genval._utils.budget import chunk_rows

    step = chunk_rows(2 * X.shape[1])
    return sum(int(((reconstructed[i:i + step] > 0.5) != (X[i:i + step] > 0.5)).sum())
               for i in range(0, len(X), step))


def _frame_wrong_pixels(ax, wrong: np.ndarray, corners, shape: tuple[int, int], unit: float) -> None:
    """A vermillion frame round each wrong pixel of each pair's reconstruction (``unit``: inches per pixel)."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    h, w = shape
    frames = [Rectangle((left + j - 0.5, top + h + TILE_GAP + i - 0.5), 1, 1)
              for (left, top), item_wrong in zip(corners, wrong)
              for i, j in zip(*np.nonzero(item_wrong.reshape(h, w)))]
    # a frame about a fifth of a pixel wide: the pixel's own colour still shows inside it
    line = float(np.clip(unit * 72 * 0.22, 0.5, 2.0))
    ax.add_collection(PatchCollection(frames, facecolor="none", edgecolor=INVALID_COLOUR, linewidth=line,
                                      gid="wrong", zorder=3))


def _reconstructions_title(title: str | None, k: int, n: int, shown: int, wrong_in_all: int) -> str:
    """What the pairs are and how many wrong pixels they hold (and all ``n`` items, when only ``k`` are shown)."""
    counted = f"{shown:,} wrong pixel{'' if shown == 1 else 's'}"
    if k < n:
        which = f"the first {k} of {n:,} items"
        counted += f" in these {k} ({wrong_in_all:,} in all {n:,} items)"
    else:
        which = f"all {n} item{'' if n == 1 else 's'}"
    head = f"{title}: " if title else ""
    return (f"{head}{which}, each original over its reconstruction (output > 0.5 is ink)\n"
            f"{counted}, framed in vermillion")
