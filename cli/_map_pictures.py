"""What ``genval som --plot`` draws for each ``--view`` (kept apart so that maps.py stays one screenful per command)."""

from __future__ import annotations


def som_picture(space, view: str, background: str):
    """What ``som --plot`` draws for ``--view``: the plane, the grid of neurons, or the codes by label."""
    from genval.plotting._bitmaps import plot_latent
    from genval.plotting._maps import plot_som, plot_som_grid

    if view == "codes":
        labels = space.bitmaps.labels
        by = ", coloured by label" if labels is not None else " (the set has no labels)"
        return plot_latent(space.codes, space.bitmaps.names, labels=labels,
                           title=f"the {len(space.codes):,} {space.bitmaps.title} codes{by}")
    return plot_som(space, background=background) if view == "plane" else plot_som_grid(space)
