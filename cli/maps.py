"""Commands over the latent map: som, interpolate, decode, sample, grid."""

from __future__ import annotations

import click
import numpy as np

from ._common import (
    FiniteFloat, OutputFile, ProgressBar, checks_doc, complete_item, emit_json, json_option, map_doc, model_doc,
    neuron_doc, note, open_space, plot_option, save_plot, space_options, training_callbacks,
)
from ._map_options import (
    QUOTING, TILE_BYTES, NegativeNumbersCommand, model_options, open_checks, refuse_oversize, rules_option,
)
from ._map_pictures import som_picture
from ._map_text import (
    describe_members, label_counts, map_summary, neuron_label, print_samples, sample_records, verdict_summary,
)
from genval.data._formats import unicode_name
from genval.latent._plane import latent_grid
from genval.latent._samples import SAMPLE_METHODS, sample_latent
from genval.latent._walks import walk

BIG_PICTURE = 10_000  # neurons; a picture of more takes seconds to draw, more than a few without saying so


@click.command()
@space_options
@plot_option
@click.option("--view", type=click.Choice(["plane", "grid", "codes"]), default="plane", show_default=True,
              help="What --plot draws: the latent plane (codes, neuron weights, cells), MiniSom's grid view "
                   "(the U-matrix over the neuron grid, each neuron's hits and items) or the items' codes alone, "
                   "coloured by label with a legend (z1, z2, or the codes' principal plane when wider), e.g. "
                   "genval som --dataset digits --plot codes.png --view codes.")
@click.option("--background", type=click.Choice(["umatrix", "cells"]), default="umatrix", show_default=True,
              help="With --view plane, what shades the plot: the U-matrix or one colour per neuron cell.")
@click.option("--out", type=OutputFile(), default=None, metavar="FILE.npz",
              help="Save the map, for --map FILE.npz on interpolate, decode, sample and audit (no pickle).")
@json_option
def som(space, plot, view, background, out, as_json):
    """Cluster the items' latent codes with a Kohonen map and list each neuron's items.

    Prints one line per neuron in row-major order, numbered from 1 like the
    course (`Neuron 8: :) :c :]`), empty neurons included (a labelled set,
    such as digits, by label counts: `Neuron 2: 7×312 1×40`), then the
    quantization error (mean distance from a code to its neuron's weight) and
    the topographic error (share of codes whose two nearest neurons are not
    grid neighbours). Items that share a neuron are the candidates for
    blending with `genval interpolate`.

    --out saves the map; --map FILE.npz on som, interpolate, decode, sample
    and audit then uses that map instead of fitting one, so that the neuron
    numbers agree from one command to the next. A map file belongs to the
    model and the set it was fitted on: it is refused with any other.

    \b
    Examples:
      genval som --grid 3x3
      genval som --grid 3x3 --out map.npz     # then: genval interpolate ':]' ';D' --map map.npz
      genval som --map map.npz --json
      genval som --grid 4x4 --topology hexagonal --plot map.png
      genval som --grid 4x4 --plot grid.png --view grid
      genval som --dataset digits --plot codes.png --view codes   # codes coloured by label
      genval som --grid 3x3 --sigma 1.5 --som-learning-rate 0.3 --random-state 2
      genval som --dataset font --json
    """
    ctx = click.get_current_context()
    given = [name for name in ("view", "background")
             if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
    if given and not plot:
        raise click.UsageError(f"--{given[0]} chooses what --plot draws; add --plot FILE.png")
    if "background" in given and view == "grid":
        raise click.UsageError("--background shades --view plane; the grid view is shaded by the U-matrix")
    if "background" in given and view == "codes":
        raise click.UsageError("--background shades --view plane; the codes view has no background")
    model_file, map_file = space["model"] or "default", space["som"]
    space = open_space(space)
    som_ = space.som
    if out:
        som_.save(out)
        note(f"wrote {out}")
    table = som_.neuron_table(space.codes, space.bitmaps.names)
    labels = space.bitmaps.labels
    label_of = None if labels is None else dict(zip(space.bitmaps.names, labels))
    qe = som_.quantization_error(space.codes)
    te = som_.topographic_error(space.codes)
    if plot:
        if som_.n_neurons > BIG_PICTURE:
            note(f"drawing {som_.n_neurons:,} neurons to {plot} (tens of seconds)")
        save_plot(som_picture(space, view, background), plot)
    if as_json:
        emit_json({
            "dataset": space.bitmaps.title,
            "grid": list(som_.grid_),
            "topology": som_.topology,
            "neighborhood": som_.neighborhood,
            "sigma": som_.sigma,
            "som_learning_rate": som_.learning_rate,
            "iterations": som_.n_iterations_,
            "seed": som_.random_state,
            "model": model_doc(space.model, model_file),
            "map": map_doc(som_, map_file or out),
            "neurons": [neuron_doc(k, som_.grid_[1]) | n.to_dict()
                        | ({} if label_of is None else {"label_counts": label_counts(n.items, label_of)})
                        for k, n in enumerate(table)],
            "quantization_error": qe,
            "topographic_error": None if te != te else te,
        })
        return
    click.echo(map_summary(space, map_file))
    # One write: a 316x316 map's 100,000 lines took 2 s as one echo each.
    click.echo("\n".join(f"{neuron_label(neuron.index)}: {describe_members(neuron.items, label_of)}".rstrip()
                         for neuron in table))
    click.echo(f"quantization error {qe:.4f}")
    click.echo(f"topographic error {te:.4f}")


@click.command(epilog=QUOTING)
@click.argument("start", shell_complete=complete_item)
@click.argument("stop", shell_complete=complete_item)
@click.option("--steps", type=click.IntRange(min=2), default=10, show_default=True,
              help="Samples, both endpoints included.")
@click.option("--path", "path_kind", type=click.Choice(["line", "som"]), default="line", show_default=True,
              help="The straight line between the codes, or the shortest grid path through the map's weights.")
@rules_option
@space_options
@plot_option
@json_option
def interpolate(start, stop, steps, path_kind, rules, space, plot, as_json):
    """Walk from item START to item STOP in the latent space and decode what lies between.

    Prints the decoded samples side by side, then for each its position t,
    latent point, neuron, verdict (valid, or the checks it fails; new, or a
    copy of which training item) and nearest training item with the Hamming
    distance, and how many samples are valid and new. It also says whether
    one neuron wins both items (the course's criterion for a blend that may
    belong to the set); the walk runs either way.

    \b
    Examples:
      genval interpolate ':]' ';D' --grid 3x3
      genval interpolate ':]' ';D' --map map.npz   # the map of genval som --out map.npz
      genval interpolate ':)' ':(' --path som --steps 12 --plot walk.png
      genval interpolate ':)' ':(' --rules my.rules.toml --json
    """
    from genval.audit._judging import judge

    start, stop = unicode_name(start), unicode_name(stop)  # a file's name as the shell passed its bytes: as listed
    space, checks = open_checks(space, rules)
    refuse_oversize(steps, space["dataset"], f"a walk of {steps:,} samples")
    model_file, map_file = space["model"] or "default", space["som"]
    space = open_space(space, items=(start, stop))
    result = walk(space, start, stop, steps=steps, path=path_kind)
    verdicts = judge(result.located.pixels, space.bitmaps, checks)
    records = sample_records(space, result.located, verdicts, result.t)
    if plot:
        from genval.plotting._maps import plot_walk

        save_plot(plot_walk(result, space.bitmaps.shape, space.bitmaps.names, verdicts=verdicts), plot)
    if as_json:
        emit_json({
            "dataset": space.bitmaps.title,
            "seed": space.som.random_state,
            "model": model_doc(space.model, model_file),
            "map": map_doc(space.som, map_file),
            "from": result.start,
            "to": result.stop,
            "walk": result.kind,
            "same_neuron": result.same_neuron,
            "path": [neuron_doc(k, space.som.grid_[1]) for k in result.path],
            "grid": list(space.som.grid_),
            "checks": checks_doc(checks),
            "n": len(records),
            "samples": records,
        })
        return
    na, nb = space.neuron_of(start), space.neuron_of(stop)
    how = "a straight line" if path_kind == "line" else "the SOM weights"
    click.echo(f"{result.start} -> {result.stop} along {how}, {steps} samples; {map_summary(space, map_file)}")
    if result.same_neuron:
        click.echo(f"same neuron: yes, both in {neuron_label(na)}")
    else:
        click.echo(f"same neuron: no ({result.start} in {neuron_label(na)}, {result.stop} in {neuron_label(nb)})")
    click.echo(f"neuron path: {' -> '.join(str(k + 1) for k in result.path)}")
    click.echo("")
    print_samples(records, verdicts, show_t=True)


@click.command(cls=NegativeNumbersCommand, context_settings={"ignore_unknown_options": True})
# A latent point beyond +-1e30 overflows a float32 model's first product: refused as a usage error.
@click.argument("x", type=FiniteFloat(min=-1e30, max=1e30))
@click.argument("y", type=FiniteFloat(min=-1e30, max=1e30))
@rules_option
@space_options
@plot_option
@json_option
def decode(x, y, rules, space, plot, as_json):
    """Decode one latent point (X, Y): what does the model draw there?

    Prints the map, the neuron that wins the point (whether it holds training
    items, and the point's distance to its weights), the nearest training
    item with its Hamming distance, the decoded bitmap and the verdict on it (valid,
    or each failing check with its reason; new, or a copy of which training
    item). Negative coordinates work as they are. In a latent space wider
    than two, (X, Y) is a point of the codes' principal plane, the plane
    `genval grid` and `som --plot` show.

    \b
    Examples:
      genval decode 0 0.5
      genval decode -1.5 0.5 --json
      genval decode 1 -2 --rules my.rules.toml --grid 3x3
      genval decode -1.5 -0.5 --plot point.png
      genval decode 0 0.5 --map map.npz       # the map of genval som --out map.npz
    """
    from genval.audit._judging import judge
    from genval.latent._plane import plane

    space, checks = open_checks(space, rules)
    model_file, map_file = space["model"] or "default", space["som"]
    space = open_space(space)
    if space.codes.shape[1] < 2:
        raise click.ClickException("decode takes 2 coordinates but this model's latent space has 1 dimension")
    origin, axes = plane(space.codes)
    located = space.locate([origin + np.array([x, y]) @ axes])
    verdicts = judge(located.pixels, space.bitmaps, checks)
    (record,) = sample_records(space, located, verdicts)
    if plot:
        from genval.plotting._bitmaps import plot_bitmaps

        label = f"({x:g}, {y:g}): {record['nearest']} ({record['hamming']})"
        save_plot(plot_bitmaps(located.pixels, space.bitmaps.shape, [label], verdicts=verdicts,
                               title=f"decoded at ({x:g}, {y:g}); label: nearest item (Hamming distance), verdict"),
                  plot)
    if as_json:
        emit_json({"dataset": space.bitmaps.title, "seed": space.som.random_state,
                   "model": model_doc(space.model, model_file), "map": map_doc(space.som, map_file),
                   "grid": list(space.som.grid_), "checks": checks_doc(checks), **record})
        return
    where = f"z = ({x:g}, {y:g})" if space.codes.shape[1] == 2 else \
        f"({x:g}, {y:g}) on the codes' principal plane, z = ({', '.join(f'{v:.3g}' for v in record['z'])})"
    occupied = "occupied by training items" if record["occupied"] else "empty (no training item)"
    click.echo(f"map: {map_summary(space, map_file)}")
    click.echo(f"{where}: {neuron_label(record['neuron']['number'] - 1)}, {occupied}, "
               f"{record['som_distance']:.3f} from its weights; "
               f"nearest item {record['nearest']} at Hamming distance {record['hamming']}")
    click.echo("\n".join(record["rows"]))
    click.echo(f"verdict: {verdicts.label(0)}")
    for reason in record["reasons"]:
        click.echo(f"  {reason}")


@click.command()
@click.option("--n", "-n", "n_samples", type=click.IntRange(min=1), default=16, show_default=True,
              help="How many points.")
@click.option("--method", type=click.Choice(SAMPLE_METHODS), default="box", show_default=True,
              help="Uniform in the codes' box, a Gaussian fitted to the codes, or inside one neuron's cell.")
@click.option("--neuron", type=click.IntRange(min=1), default=None,
              help="For --method neuron: the neuron, numbered from 1 as `genval som` prints.")
@rules_option
@space_options(sampling=True)
@plot_option
@json_option
def sample(n_samples, method, neuron, rules, space, plot, as_json):
    """Decode random latent points and say what each looks like and resembles.

    For each sample: its latent point, neuron (whether it holds training
    items, and the distance from the point to its weights), verdict (valid,
    or the checks it fails; new, or a copy of which training item), nearest
    training item and Hamming distance; then how many are valid and new.

    \b
    Examples:
      genval sample -n 16
      genval sample --method gaussian --n 8 --random-state 3 --json
      genval sample --grid 3x3 --method neuron --neuron 5 --plot samples.png
      genval sample -n 100 --rules my.rules.toml
      genval sample --map map.npz --method neuron --neuron 5   # a neuron of genval som --out map.npz
    """
    from genval.audit._judging import judge

    if method == "neuron" and neuron is None:
        raise click.UsageError("--method neuron needs --neuron N")
    if neuron is not None and method != "neuron":
        if click.get_current_context().get_parameter_source("method") is not click.core.ParameterSource.DEFAULT:
            raise click.UsageError(f"--neuron picks the neuron of --method neuron, not of --method {method}")
        method = "neuron"  # --neuron alone says which method
    random_state = space["random_state"]
    space, checks = open_checks(space, rules)
    refuse_oversize(n_samples, space["dataset"], f"{n_samples:,} samples")
    model_file, map_file = space["model"] or "default", space["som"]
    space = open_space(space)
    if neuron is not None and neuron > space.som.n_neurons:
        rows, cols = space.som.grid_
        raise click.BadParameter(f"{neuron}: the {rows}x{cols} map has neurons 1 to {space.som.n_neurons}",
                                 param_hint="'--neuron'")
    Z = sample_latent(space, n_samples, method, None if neuron is None else neuron - 1, random_state=random_state)
    located = space.locate(Z)
    verdicts = judge(located.pixels, space.bitmaps, checks)
    records = sample_records(space, located, verdicts)
    if plot:
        from genval.plotting._bitmaps import plot_bitmaps

        names = space.bitmaps.names
        labels = [f"{i}: {names[k]} ({h})" for i, (k, h) in enumerate(zip(located.nearest, located.hamming), 1)]
        ax = plot_bitmaps(located.pixels, space.bitmaps.shape, labels, verdicts=verdicts,
                          title=f"{n_samples} samples ({method}); label: nearest item (Hamming distance), verdict")
        save_plot(ax, plot)
    if as_json:
        emit_json({"dataset": space.bitmaps.title, "seed": random_state, "model": model_doc(space.model, model_file),
                   "map": map_doc(space.som, map_file), "grid": list(space.som.grid_), "method": method,
                   **({} if neuron is None else {"neuron": neuron_doc(neuron - 1, space.som.grid_[1])}),
                   "checks": checks_doc(checks), "n": len(records), "samples": records})
        return
    click.echo(f"{n_samples} samples by {method}; {map_summary(space, map_file)}")
    print_samples(records, verdicts, show_t=False)


TILE_MARKS = {"new valid": "o", "copy": "=", "invalid": "x"}


@click.command()
@click.option("--size", type=click.IntRange(min=2, max=200), default=20, show_default=True,
              help="Points per side of the grid.")
@plot_option
@rules_option
@model_options
@json_option
def grid(size, plot, rules, space, as_json):
    """Draw the decoded latent plane: a SIZE x SIZE mosaic over the codes' box, items overlaid.

    Each decoded tile is judged: valid or not (the checks it fails), new or a
    copy of a training item. Prints a map of the verdicts (o new and valid,
    = a valid copy of a training item, x invalid; row 1 at the top, as in
    the picture), how many tiles of each kind and the failures per check;
    --plot draws the mosaic with each tile's background tinted by its
    verdict; --json lists every tile. A latent space wider than two is shown
    on its codes' principal plane.

    \b
    Examples:
      genval grid --plot plane.png
      genval grid --size 10
      genval grid --dataset font --size 30 --plot font-plane.png
      genval grid --rules my.rules.toml --json
    """
    from genval.audit._judging import judge
    from genval.plotting._decoded_plane import tile_classes
    from genval.latent._plane import plane
    from genval.pipeline import build_embedding

    space, checks = open_checks(space, rules)
    refuse_oversize(size * size, space["dataset"], f"a {size}x{size} grid", record_bytes=TILE_BYTES)
    with ProgressBar() as bar:
        embedding = build_embedding(**space, **training_callbacks(bar, space["dataset"].title))
    xs, ys, pixels = latent_grid(embedding, size)
    verdicts = judge(pixels.reshape(size * size, -1), embedding.bitmaps, checks)
    classes = tile_classes(verdicts).reshape(size, size)
    wide = embedding.codes.shape[1] > 2
    origin, axes = plane(embedding.codes)  # the plane latent_grid decoded
    if plot:
        from genval.plotting._decoded_plane import plot_latent_grid

        codes = (embedding.codes - origin) @ axes.T  # the plane's coordinates (the codes themselves in 2-D)
        save_plot(plot_latent_grid(xs, ys, pixels, embedding.bitmaps.shape, codes, embedding.bitmaps.names,
                                   principal_plane=wide, verdicts=verdicts), plot)
    failures = {name: int(sum(name in failed for failed in verdicts.failed)) for name in checks.names}
    counts = {"tiles": size * size, "valid": int(verdicts.valid.sum()),
              "new_valid": int((classes == "new valid").sum()), "copies": int((~verdicts.novel).sum()),
              "invalid": int((~verdicts.valid).sum())}
    if as_json:
        Z = origin + np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2) @ axes  # each tile's latent point
        emit_json({
            "dataset": embedding.bitmaps.title,
            "model": model_doc(embedding.model, space["model"] or "default"),
            "size": size,
            "plane": "principal" if wide else "latent",
            "checks": checks_doc(checks),
            "counts": counts,
            "failures": failures,
            "tiles": [{"row": r, "col": c, "x": round(float(xs[c]), 6), "y": round(float(ys[r]), 6),
                       "z": [round(float(v), 6) for v in Z[r * size + c]], **verdicts.record(r * size + c)}
                      for r in range(size) for c in range(size)],
        })
        return
    axis = ("principal axis 1", "principal axis 2") if wide else ("z1", "z2")
    click.echo(f"{size}x{size} decoded tiles of {embedding.bitmaps.title}, checks: {checks.title}; "
               f"{axis[0]} {xs[0]:.3g} to {xs[-1]:.3g} left to right, {axis[1]} {ys[0]:.3g} to {ys[-1]:.3g} "
               "top to bottom")
    for row in classes:
        click.echo(" ".join(TILE_MARKS[kind] for kind in row))
    click.echo("o new and valid, = valid copy of a training item, x invalid")
    click.echo(verdict_summary(verdicts, "tiles"))
    if counts["invalid"]:
        click.echo("failures per check (tiles): " + ", ".join(f"{name} {count}" for name, count in failures.items()))
