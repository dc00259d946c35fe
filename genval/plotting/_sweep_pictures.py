"""Pictures of a sweep beside its summary: loss per epoch (seed 004's grid-search figure) and training size
against the error on the training and the held-out items (the generalisation sweep).

The summary's bars are :func:`genval.plotting._experiments.plot_sweep`.
"""

from __future__ import annotations

import numpy as np

from genval.plotting._base import _wrap_title

__all__ = ["plot_generalisation", "plot_sweep_curves"]


def wrapped_title(fig, text: str, fontsize: float = 9) -> None:
    """``fig``'s title, wrapped to the figure's width (the rule of every other title) so that no line is clipped."""
    fig.suptitle(_wrap_title(text, fig.get_figwidth() - 0.2, fontsize), fontsize=fontsize)


def _joined(keys, values) -> str:
    return ", ".join(f"{k} {v or '-'}" for k, v in zip(keys, values))


def plot_sweep_curves(curves: dict, colour: tuple[str, ...], panel: tuple[str, ...], title: str = "", axes=None):
    """Loss per epoch: a curve per value of ``colour``, a panel per value of ``panel``, mean ± spread over seeds.

    Parameters
    ----------
    curves : dict
        What :func:`genval.experiments.mean_curves` returned for ``colour`` and ``panel``.
    colour, panel : tuple of str
        The settings that make a curve and a panel (see :func:`genval.experiments.curve_layout`).
    title : str
    axes : sequence of Axes, optional
        One per panel.

    Returns
    -------
    ndarray of Axes, one per panel

    Notes
    -----
    The training loss is solid, the validation loss (with
    ``validation_fraction``) dashed in the same colour; the band is mean ±
    sample standard deviation over the seeds, clipped above 0 on the log
    scale. Panels share their y axis, so that they compare.

    Examples
    --------
    >>> import numpy as np
    >>> stats = (np.array([0.5, 0.3]), np.array([0.0, 0.1]), np.array([1, 2]))
    >>> one = {"epoch": np.array([1, 2]), "loss": stats, "validation_loss": None}
    >>> plot_sweep_curves({("adam",): {("64",): one, ("128",): one}}, ("n_latent",), ("optimizer",)).shape
    (1,)
    """
    import matplotlib.pyplot as plt

    panels = list(curves)
    if axes is None:
        n_cols = min(len(panels), 3)
        n_rows = -(-len(panels) // n_cols)
        _, axes = plt.subplots(n_rows, n_cols, figsize=(4.4 * n_cols + 0.8, 3.4 * n_rows + 0.5), sharey=True,
                               layout="constrained", squeeze=False)
        for ax in np.asarray(axes).ravel()[len(panels):]:
            ax.set_visible(False)
    axes = np.asarray(axes).ravel()[:len(panels)]
    colours = list(dict.fromkeys(c for p in panels for c in curves[p]))
    positive = all(s["loss"][0].min() > 0 for p in panels for s in curves[p].values())
    for ax, p in zip(axes, panels):
        for c, stats in curves[p].items():
            colour_i = f"C{colours.index(c) % 10}"
            label = " ".join(v or "-" for v in c) or "mean over seeds"
            _draw_curve(ax, stats["epoch"], stats["loss"], colour_i, "-", label, positive)
            if stats["validation_loss"] is not None:
                _draw_curve(ax, stats["epoch"], stats["validation_loss"], colour_i, "--", None, positive)
        if positive:
            ax.set_yscale("log")
        ax.set_title(_joined(panel, p), fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=7)
    validated = any(s["validation_loss"] is not None for p in panels for s in curves[p].values())
    axes[0].set_ylabel("loss (solid: training, dashed: validation)" if validated else "training loss", fontsize=8)
    axes[0].legend(title=" + ".join(colour) or None, fontsize=7, title_fontsize=7, framealpha=0.8)
    if title:
        runs = max(int(s["loss"][2].max()) for p in panels for s in curves[p].values())
        wrapped_title(axes[0].figure, f"{title}: loss per epoch, mean ± spread over seeds (up to {runs} runs a curve)")
    return axes


def _draw_curve(ax, epochs, stats, colour: str, style: str, label, positive: bool) -> None:
    mean, spread, _ = stats
    low = mean - spread
    if positive:  # on the log scale the band stops above 0
        low = np.maximum(low, mean * 0.05)
    ax.fill_between(epochs, low, mean + spread, color=colour, alpha=0.18, lw=0)
    ax.plot(epochs, mean, style, color=colour, lw=1.4, label=label)


def plot_generalisation(summary, axes=None, title: str = ""):
    """The error on the training items and on the held-out ones against the training size.

    Parameters
    ----------
    summary : list of dict
        :func:`genval.experiments.summarize` of a sweep over ``train_size``.
    axes : pair of Axes, optional
        Wrong pixels per item, and the mean squared error per pixel.
    title : str

    Returns
    -------
    ndarray of two Axes

    Notes
    -----
    A point is the mean over seeds, its bar the sample standard deviation,
    clipped at 0 (an error is never negative). Held-out items are the ones
    each run left out; a run on every item has none: its figures are the
    training items'.
    """
    import matplotlib.pyplot as plt

    entries = [e for e in summary if e["settings"].get("train_size")]
    if not entries:
        raise ValueError("the generalisation picture needs a sweep over train_size; this summary varies "
                         + (", ".join(summary[0]["settings"]) if summary and summary[0]["settings"] else "nothing"))
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), layout="constrained")
    axes = np.asarray(axes).ravel()
    sizes = [int(e["settings"]["train_size"]) for e in entries]
    for ax, (train_key, held_key, what) in zip(axes, (("train_wrong_pixels", "wrong_pixels", "wrong pixels per item"),
                                                      ("train_mse", "mse", "mean squared error per pixel"))):
        per_item = held_key == "wrong_pixels"
        for train, label, colour, marker in ((True, "training items", "C0", "o"),
                                             (False, "held-out items", "C1", "s")):
            points = [_point(e, size, train, train_key, held_key, per_item) for size, e in zip(sizes, entries)]
            points = [p for p in points if p is not None]
            xs, means, spreads = (np.array(v, dtype=float) for v in zip(*points)) if points else ([], [], [])
            ax.errorbar(xs, means, yerr=[np.minimum(spreads, means), spreads], color=colour, marker=marker,
                        capsize=3, label=label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.set_xlabel("training items (train_size)", fontsize=8)
        ax.set_ylabel(what, fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    if title:
        wrapped_title(axes[0].figure, f"{title}: error on the training items and on the held-out ones, mean ± "
                                      "spread over seeds (bars clipped at 0)")
    return axes


def _point(entry: dict, size: int, train: bool, train_key: str, held_key: str, per_item: bool):
    """(size, mean, spread) of the training or held-out items' error at one training size (None: none)."""
    everything = entry[train_key] is None  # trained on every item: what it scored were its training items
    if train and everything:
        pair, n = entry[held_key], entry["scored"]
    elif train:
        pair, n = entry[train_key], size
    else:
        pair, n = (None, 1) if everything else (entry[held_key], entry["scored"])
    if pair is None:
        return None
    n = (n or 1) if per_item else 1
    return size, pair[0] / n, pair[1] / n
