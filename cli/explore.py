"""The explore command: the latent plane as one HTML page to point at."""

from __future__ import annotations

import shlex
import time

import click

from ._common import OutputFile, ProgressBar, emit_json, json_option, map_doc, model_doc, note, open_space, space_options
from .maps import open_checks, rules_option

# The options `genval decode` shares with explore, in the order the page's command line gives them: what
# decides the bitmap and its verdict (the set, the model, the checks) and the neuron (the map's settings).
DECODE_OPTIONS = ("dataset", "labels", "shape", "binarize", "limit", "model", "som", "any_data", "rules", "grid",
                  "sigma", "som_learning_rate", "iterations", "topology", "neighborhood", "random_state")


def decode_command(ctx: click.Context) -> str:
    """``genval decode`` with the options given to this command that decode takes too, quoted for a shell."""
    words = ["genval", "decode"]
    by_name = {param.name: param for param in ctx.command.params}
    for name in DECODE_OPTIONS:
        if ctx.get_parameter_source(name) in (None, click.core.ParameterSource.DEFAULT):
            continue
        value, option = ctx.params[name], by_name[name].opts[0]
        if value is True:
            words.append(option)
        elif isinstance(value, tuple):  # --grid 3x3, --shape 28x28
            words += [option, "x".join(map(str, value))]
        else:
            words += [option, str(value)]
    return shlex.join(words)


@click.command()
@click.option("--out", "-o", type=OutputFile(), required=True, metavar="FILE.html",
              help="The page to write: one HTML file with everything inside.")
@click.option("--resolution", type=click.IntRange(min=2, max=401), default=101, show_default=True,
              help="Grid points per side that Python decodes and judges; the cursor snaps to the nearest.")
@rules_option
@space_options
@json_option
def explore(out, resolution, rules, space, as_json):
    """Write the latent plane as one HTML page: point at it to see what the decoder draws and the verdict.

    Decodes a RESOLUTION x RESOLUTION grid over the plane `genval grid`
    shows, judges every distinct bitmap once, and writes a page that needs
    no server, no network and no Python: the plane tinted by verdict (white
    a copy of a training item, blue new and valid, vermillion invalid), the
    training items, the map's neurons and their cells. Under the cursor it
    shows the decoded bitmap, its coordinates, the verdict with the failing
    checks, new or a copy of which item, the nearest training item and its
    Hamming distance, the neuron, whether it is occupied and the distance to
    its weights. The cursor snaps to the nearest grid point, where the
    verdict is the one `genval decode X Y` prints (the page shows that
    command). Click two points or items for a walk along the line or the
    map path, its samples snapped to the grid. The arrow keys move the
    cursor, Enter picks a point, Escape clears the walk; open the page at a
    point with FILE.html#point=X,Y. On grey sets the panel shows the
    decoded grey levels (the verdict is the bitmap thresholded at 0.5). In a
    latent space wider than two, walks between items are decoded in the full
    space as `genval interpolate` does (10 samples), and walks between plane
    points stay on the plane. With --json, prints one document: the
    page's path and bytes, the grid, the distinct bitmaps, the set, model,
    map and the seconds it took.

    \b
    Examples:
      genval explore --out explore.html
      genval explore --dataset font --grid 6x6 --out font.html
      genval explore --dataset digits --resolution 151 --out digits.html
      genval explore --model my.npz --map my-map.npz --rules my.rules.toml --out mine.html
      genval explore --dataset font --out font.html --json
    """
    from genval._utils.files import atomic_write
    from genval.pages._explore import explore_data, explore_html

    ctx = click.get_current_context()  # --map (space_options) refuses the map settings beside it
    start = time.perf_counter()
    space, checks = open_checks(space, rules)
    model_file, map_file = space["model"] or "default", space["som"]
    space = open_space(space)
    with ProgressBar(f"decoding a {resolution}x{resolution} grid") as bar:
        data = explore_data(space, checks, resolution=resolution, progress=bar.points)
    page = explore_html(data, command=decode_command(ctx)).encode("utf-8")
    with atomic_write(out) as fh:
        fh.write(page)
    size = len(page)
    note(f"wrote {out} ({size / 1e6:.2f} MB)")
    if as_json:
        emit_json({"path": str(out), "bytes": size, "resolution": resolution,
                   "distinct_bitmaps": data["bitmaps"]["count"], "dataset": space.bitmaps.title,
                   "model": model_doc(space.model, model_file), "map": map_doc(space.som, map_file),
                   "seconds": round(time.perf_counter() - start, 3)})
        return
    click.echo(f"{resolution}x{resolution} grid points of {space.bitmaps.title}, {data['bitmaps']['count']:,} distinct "
               f"bitmaps; {size:,} bytes in {out}")
