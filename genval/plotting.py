"""Every picture genval draws. The only module that imports matplotlib.

Each function takes ``ax=None`` (a new figure when None) and returns the axes;
:func:`save_figure` writes a figure as PNG atomically.
"""

from __future__ import annotations

import numpy as np

from genval._estimator import atomic_write

__all__ = ["plot_bitmaps", "plot_latent", "plot_loss_curve", "save_figure"]


def _axes(ax, figsize=(6, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def save_figure(ax_or_fig, path, dpi: int = 150) -> None:
    """Write the figure holding ``ax_or_fig`` to ``path`` as PNG, then close it."""
    import matplotlib.pyplot as plt

    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    if isinstance(fig, np.ndarray):
        fig = fig.flat[0].figure
    with atomic_write(path) as fh:
        fig.savefig(fh, format="png", dpi=dpi)
    plt.close(fig)


def plot_loss_curve(model, ax=None):
    """The training loss per epoch, on a log scale.

    Examples
    --------
    >>> ax = plot_loss_curve(Autoencoder(epochs=50).fit(load_dataset("emojis")))  # doctest: +SKIP
    """
    ax = _axes(ax)
    curve = np.asarray(model.loss_curve_)
    ax.semilogy(np.arange(len(curve)), curve, color="tab:blue")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"loss ({model.loss})")
    ax.set_title(f"training loss, {model.n_epochs_} epochs")
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_latent(Z: np.ndarray, names, ax=None, color="tab:blue"):
    """Latent codes as labelled points.

    Parameters
    ----------
    Z : ndarray of shape (n_items, 2)
    names : sequence of str, length n_items
    """
    ax = _axes(ax, figsize=(6, 6))
    Z = np.asarray(Z)
    ax.scatter(Z[:, 0], Z[:, 1], s=18, color=color, zorder=3)
    for (x, y), name in zip(Z, names):
        ax.annotate(name, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=9, zorder=4)
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.12)
    return ax


def plot_bitmaps(X: np.ndarray, shape: tuple[int, int], labels=None, ax=None, columns: int | None = None,
                 title: str | None = None):
    """Bitmaps tiled in a grid, ink dark, with optional labels under each.

    Parameters
    ----------
    X : ndarray of shape (n, height * width)
        Pixel values in [0, 1] (grey levels are drawn as such).
    shape : (height, width)
    labels : sequence of str, optional
    columns : int, optional
        Tiles per row; default close to a square.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    n = len(X)
    h, w = shape
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    ax = _axes(ax, figsize=(max(3, 0.9 * columns), max(2, 1.25 * rows + 0.4)))
    gap = 1
    canvas = np.full((rows * (h + gap) + gap, columns * (w + gap) + gap), np.nan)
    for k in range(n):
        r, c = divmod(k, columns)
        top, left = gap + r * (h + gap), gap + c * (w + gap)
        canvas[top:top + h, left:left + w] = X[k].reshape(h, w)
    cmap = _ink_cmap()
    ax.imshow(canvas, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    if labels is not None:
        for k, label in enumerate(labels):
            r, c = divmod(k, columns)
            ax.text(gap + c * (w + gap) + (w - 1) / 2, gap + r * (h + gap) + h - 0.3, str(label),
                    ha="center", va="top", fontsize=8)
        ax.set_ylim(canvas.shape[0] + 0.8, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def _ink_cmap():
    import matplotlib

    cmap = matplotlib.colormaps["Greys"].copy()
    cmap.set_bad("#dfe6ee")  # the gaps between tiles
    return cmap
