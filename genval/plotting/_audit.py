"""Pictures of an audit: the contact sheet, the audited points on the plane, ROC curves of the membership
scores, and strategies compared.
"""

from __future__ import annotations

import math

import numpy as np

from genval.plotting._base import (COPY_COLOUR, INVALID_COLOUR, NAMED_ITEMS, NEW_COLOUR, TILE_GAP, VALID_COLOUR,
                                   _axes, _axis_names, _cell_raster, _items, _project, _wrap_title)
from genval.plotting._bitmaps import plot_bitmaps

__all__ = ["plot_audit_plane", "plot_audit_sheet", "plot_comparison", "plot_roc", "plot_roc_panels"]


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
        # a row of tiles, and under it a line of label text (some 14 points: 0.2 inch, whatever the tiles' size)
        heights = [0.3 + (math.ceil(len(idx) / columns) * (h + TILE_GAP) + TILE_GAP) * unit
                   + 0.2 * math.ceil(len(idx) / columns) if len(idx) else 0.35 for idx in shown]
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
        # a row of tiles and the room plot_bitmaps left under it for the labels
        step = (ax.images[-1].get_array().shape[0] - TILE_GAP) // math.ceil(len(idx) / columns)
        for i, k in enumerate(idx):
            r, c = divmod(i, columns)
            ax.add_patch(Rectangle((TILE_GAP + c * (w + TILE_GAP) - 0.5, TILE_GAP + r * step - 0.5), w, h,
                                   fill=False, lw=1.8, edgecolor=NEW_COLOUR if new[k] else COPY_COLOUR,
                                   linestyle="-" if new[k] else (0, (2, 1.5)), gid="new" if new[k] else "copy",
                                   zorder=3))
        key = "" if want else "; ✗N: first failed check, " + ", ".join(f"{i + 1} {n}" for i, n in enumerate(names))
        ax.set_title(_wrap_title(f"{title} (most frequent first; label: samples{key})",
                                 ax.figure.get_figwidth() - 0.2, 9), fontsize=9)
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
    _items(ax, _project(space.codes, origin, axes), space.bitmaps.names, color="black", size=18,
           alpha=None if len(space.codes) <= NAMED_ITEMS else 0.3)  # 5,000 items' dots hid the audited points
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


def _comparison_panel(ax, rows, panel, colour) -> None:
    """One measure's bars, a strategy a row (the first on top), each bar's value written past its interval."""
    key, name, meaning = panel
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
    ax.set_yticks(np.arange(len(rows)), [row["label"] for row in rows], fontsize=8)
    if not ax.yaxis_inverted():  # the first strategy on top (shared axes invert once)
        ax.invert_yaxis()
    ax.set_title(name, fontsize=9)
    ax.set_xlabel(meaning, fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(True, axis="x", alpha=0.3)


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
    for ax, panel, colour in zip(axes, panels, OKABE_ITO):
        _comparison_panel(ax, rows, panel, colour)
    axes[0].set_ylabel("strategy", fontsize=8)
    intervals = any(row[key].get("interval") is not None for row in rows for key, _, _ in panels)
    axes[0].figure.suptitle(f"{title}{' (bars: means; error bars: 95% intervals)' if intervals else ''}", fontsize=10)
    return axes
