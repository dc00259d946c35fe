"""``genval regions``: the latent plane cut into the regions of its distinct decoded bitmaps."""

from __future__ import annotations

import click

from ._common import (
    ProgressBar, checks_doc, emit_json, json_option, model_doc, plot_option, save_plot, training_callbacks,
)
from ._map_options import model_options, open_checks, rules_option

SHOWN = 5  # the largest regions of each kind the text report lists
KINDS = {"copy": "copies", "new_valid": "new valid", "invalid": "invalid"}


@click.command()
@click.option("--max-side", type=click.IntRange(min=2, max=4096), default=1024, show_default=True,
              help="The finest grid: cells a side (the census doubles from 32 until no new bitmap appears).")
@plot_option
@rules_option
@model_options
@json_option
def regions(max_side, plot, rules, space, as_json):
    """Census the latent plane: every distinct decoded bitmap, its area and its verdict.

    A 2-D decoder cuts its latent plane into regions, each the points that
    decode (thresholded at 0.5) to one bitmap. The census decodes the
    centres of a grid of cells over the codes' box and doubles the grid's
    side, from 32 cells, until a doubling finds no new bitmap or --max-side
    is reached (then it says it did not converge). Each region is judged:
    a copy of a training item, new and valid, or invalid. Prints the counts
    and areas of each kind and the largest regions; --plot draws the plane
    coloured by region, --json lists every region. The `regions` audit
    strategy draws its points region by region from such a census.

    \b
    Examples:
      genval regions --plot regions.png
      genval regions --max-side 256 --json
      genval regions --dataset font --model font.npz --plot font-regions.png
    """
    import numpy as np

    from genval.audit._judging import judge
    from genval.errors import ParameterError
    from genval.latent._regions import region_census
    from genval.pipeline import build_embedding

    space, checks = open_checks(space, rules)
    with ProgressBar() as bar:
        embedding = build_embedding(**space, **training_callbacks(bar, space["dataset"].title))
    if embedding.codes.shape[1] != 2:
        raise ParameterError(f"a census of regions needs a 2-D latent plane; this model's codes have "
                             f"{embedding.codes.shape[1]} dimensions")
    lo, hi = embedding.codes.min(axis=0), embedding.codes.max(axis=0)
    with ProgressBar("census: cells decoded") as bar:
        census = region_census(embedding.model, lo, hi, max_side=max(max_side, 2), start=min(32, max_side),
                               progress=lambda side, done, total: bar.points(done, total))
    verdicts = judge(census.bitmaps, embedding.bitmaps, checks)
    kind = np.where(~verdicts.novel, "copy", np.where(verdicts.valid, "new_valid", "invalid"))
    summary = {k: {"regions": int((kind == k).sum()), "area": float(census.area[kind == k].sum())} for k in KINDS}
    if plot:
        from genval.plotting._decoded_plane import plot_regions

        save_plot(plot_regions(census, training=embedding.bitmaps.binary(), valid=verdicts.valid,
                               codes=embedding.codes, names=embedding.bitmaps.names), plot)
    if as_json:
        doc = census.to_dict()
        for k, region in enumerate(doc["regions"]):
            region.update(verdicts.record(k))
        emit_json({"dataset": embedding.bitmaps.title, "model": model_doc(embedding.model, space["model"] or "default"),
                   "checks": checks_doc(checks), "kinds": summary, **doc})
        return
    history = ", ".join(f"{h['side']}: {h['distinct']}" for h in census.to_dict()["history"])
    click.echo(f"{census.n_regions} distinct bitmaps of {embedding.bitmaps.title} over the codes' box "
               f"(z1 {lo[0]:.3g} to {hi[0]:.3g}, z2 {lo[1]:.3g} to {hi[1]:.3g}) at {census.side}x{census.side} cells; "
               + ("converged" if census.converged else "not converged (a finer grid may find more)"))
    click.echo(f"distinct bitmaps per grid side: {history}")
    click.echo(f"checks: {checks.title}")
    for k, label in KINDS.items():
        click.echo(f"  {label:<10} {summary[k]['regions']:>6} regions {summary[k]['area']:>8.1%} of the box")
    for k, label in KINDS.items():
        largest = np.flatnonzero(kind == k)[:SHOWN]  # regions come largest first
        if len(largest):
            click.echo(f"the largest {label}: " + "; ".join(f"{census.area[r]:.2%} {verdicts.label(r)}"
                                                             for r in largest))
