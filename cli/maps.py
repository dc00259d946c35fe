"""Commands over the latent map: som, interpolate, decode, sample, grid."""

from __future__ import annotations

import click
import numpy as np

from ._common import (
    OutputFile, emit_json, json_option, open_space, plot_option, save_plot, space_options, wrap_strip,
)
from genval.walks import SAMPLE_METHODS, LatentSpace, latent_grid, sample_latent, walk

QUOTING = """\b
Item names such as :] ;D :( hold characters shells treat specially: quote
them, e.g. genval interpolate ':]' ';D' (in cmd.exe: ":]" ";D")."""


def map_summary(space: LatentSpace) -> str:
    som = space.som
    rows, cols = som.grid_
    return (f"{rows}x{cols} {som.topology} map of {len(space.bitmaps)} {space.bitmaps.title} codes "
            f"(sigma {som.sigma:g}, learning rate {som.learning_rate:g}, {som.n_iterations_} iterations, "
            f"{som.neighborhood}, seed {som.random_state})")


def neuron_label(k: int) -> str:
    """1-based like the course's `Neuron 12`."""
    return f"Neuron {k + 1}"


def sample_records(space: LatentSpace, located, t=None) -> list[dict]:
    names = space.bitmaps.names
    cols = space.som.grid_[1]
    records = []
    for i in range(len(located)):
        k = int(located.neuron[i])
        record = {} if t is None else {"t": round(float(t[i]), 6)}
        record.update({
            "z": [round(float(v), 6) for v in located.Z[i]],
            "neuron": {"index": k + 1, "row": k // cols, "col": k % cols},
            "rows": space.rows(located.pixels[i]),
            "nearest": names[located.nearest[i]],
            "hamming": int(located.hamming[i]),
        })
        records.append(record)
    return records


def print_samples(records: list[dict], show_t: bool) -> None:
    click.echo("\n".join(wrap_strip([r["rows"] for r in records], [str(i) for i in range(len(records))])))
    click.echo("")
    width = max(7, *(len(r["nearest"]) for r in records))
    t_head = f"{'t':>5}  " if show_t else ""
    click.echo(f"{'sample':>6}  {t_head}{'z1':>8} {'z2':>8}  neuron  {'nearest':<{width}}  hamming")
    for i, r in enumerate(records):
        z = r["z"] + [float("nan")] * (2 - len(r["z"]))
        t = f"{r['t']:5.2f}  " if show_t else ""
        click.echo(f"{i:>6}  {t}{z[0]:8.3f} {z[1]:8.3f}  {r['neuron']['index']:>6}  "
                   f"{r['nearest']:<{width}}  {r['hamming']:>7}")


LIST_NAMES = 12  # a neuron with more items than this is summarised


def label_counts(items, label_of: dict) -> dict[str, int]:
    """How many of the items carry each label, most frequent first."""
    counts: dict[str, int] = {}
    for name in items:
        counts[label_of[name]] = counts.get(label_of[name], 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def describe_members(items, label_of: dict | None) -> str:
    """A neuron's items for a person: their names, or label counts (`7×312 1×40`) for labelled sets,
    or the count and the first few names for large unlabelled neurons.

    >>> describe_members(("a", "b"), None)
    'a b'
    >>> describe_members(("a", "b", "c"), {"a": "7", "b": "1", "c": "7"})
    '7×2 1×1'
    >>> describe_members(tuple(f"i{k}" for k in range(20)), None)
    '20 items: i0 i1 i2 i3 i4 i5 i6 i7 ...'
    """
    if label_of is not None and items:
        return " ".join(f"{label}×{count}" for label, count in label_counts(items, label_of).items())
    if len(items) > LIST_NAMES:
        return f"{len(items)} items: {' '.join(items[:8])} ..."
    return " ".join(items)


@click.command()
@space_options
@plot_option
@click.option("--background", type=click.Choice(["umatrix", "cells"]), default="umatrix", show_default=True,
              help="What shades the plot: the U-matrix or one colour per neuron cell.")
@json_option
def som(space, plot, background, as_json):
    """Cluster the items' latent codes with a Kohonen map and list each neuron's items.

    Prints one line per neuron in row-major order, numbered from 1 like the
    course (`Neuron 8: :) :c :]`), empty neurons included (a labelled set,
    such as digits, by label counts: `Neuron 2: 7×312 1×40`), then the
    quantization error (mean distance from a code to its neuron's weight) and
    the topographic error (share of codes whose two nearest neurons are not
    grid neighbours). Items that share a neuron are the candidates for
    blending with `genval interpolate`.

    \b
    Examples:
      genval som --grid 3x3
      genval som --grid 4x4 --topology hexagonal --plot map.png
      genval som --grid 3x3 --sigma 1.5 --som-learning-rate 0.3 --random-state 2
      genval som --dataset font --json
    """
    space = open_space(space)
    som_ = space.som
    table = som_.neuron_table(space.codes, space.bitmaps.names)
    labels = space.bitmaps.labels
    label_of = None if labels is None else dict(zip(space.bitmaps.names, labels))
    qe = som_.quantization_error(space.codes)
    te = som_.topographic_error(space.codes)
    if plot:
        from genval.plotting import plot_som

        save_plot(plot_som(space, background=background), plot)
    if as_json:
        emit_json({
            "dataset": space.bitmaps.title,
            "grid": list(som_.grid_),
            "topology": som_.topology,
            "neighborhood": som_.neighborhood,
            "sigma": som_.sigma,
            "som_learning_rate": som_.learning_rate,
            "iterations": som_.n_iterations_,
            "random_state": som_.random_state,
            "neurons": [n.to_dict() | ({} if label_of is None else {"label_counts": label_counts(n.items, label_of)})
                        for n in table],
            "quantization_error": qe,
            "topographic_error": None if te != te else te,
        })
        return
    click.echo(map_summary(space))
    for neuron in table:
        click.echo(f"{neuron_label(neuron.index)}: {describe_members(neuron.items, label_of)}".rstrip())
    click.echo(f"quantization error {qe:.4f}")
    click.echo(f"topographic error {te:.4f}")


@click.command(epilog=QUOTING)
@click.argument("start")
@click.argument("stop")
@click.option("--steps", type=click.IntRange(min=2), default=10, show_default=True,
              help="Samples, both endpoints included.")
@click.option("--path", "path_kind", type=click.Choice(["line", "som"]), default="line", show_default=True,
              help="The straight line between the codes, or the shortest grid path through the map's weights.")
@space_options
@plot_option
@json_option
def interpolate(start, stop, steps, path_kind, space, plot, as_json):
    """Walk from item START to item STOP in the latent space and decode what lies between.

    Prints the decoded samples side by side, then for each its position t,
    latent point, neuron and nearest training item with the Hamming
    distance. It also says whether one neuron wins both items (the course's
    criterion for a blend that may belong to the set); the walk runs either
    way.

    \b
    Examples:
      genval interpolate ':]' ';D' --grid 3x3
      genval interpolate ':)' ':(' --path som --steps 12 --plot walk.png
    """
    space = open_space(space, items=(start, stop))
    result = walk(space, start, stop, steps=steps, path=path_kind)
    records = sample_records(space, result.located, result.t)
    if plot:
        from genval.plotting import plot_walk

        save_plot(plot_walk(result, space.bitmaps.shape, space.bitmaps.names), plot)
    if as_json:
        emit_json({
            "from": result.start,
            "to": result.stop,
            "kind": result.kind,
            "same_neuron": result.same_neuron,
            "path": [k + 1 for k in result.path],
            "grid": list(space.som.grid_),
            "samples": records,
        })
        return
    na, nb = space.neuron_of(start), space.neuron_of(stop)
    how = "a straight line" if path_kind == "line" else "the SOM weights"
    click.echo(f"{result.start} -> {result.stop} along {how}, {steps} samples; {map_summary(space)}")
    if result.same_neuron:
        click.echo(f"same neuron: yes, both in {neuron_label(na)}")
    else:
        click.echo(f"same neuron: no ({result.start} in {neuron_label(na)}, {result.stop} in {neuron_label(nb)})")
    click.echo(f"neuron path: {' -> '.join(str(k + 1) for k in result.path)}")
    click.echo("")
    print_samples(records, show_t=True)


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("x", type=float)
@click.argument("y", type=float)
@space_options
@json_option
def decode(x, y, space, as_json):
    """Decode one latent point (X, Y): what does the model draw there?

    Prints the neuron that wins the point, the nearest training item with
    its Hamming distance, and the decoded bitmap. Negative coordinates work
    as they are. In a latent space wider than two, (X, Y) is a point of the
    codes' principal plane, the plane `genval grid` and `som --plot` show.

    \b
    Examples:
      genval decode 0 0.5
      genval decode -1.5 0.5 --json
    """
    from genval.walks import plane

    space = open_space(space)
    if space.codes.shape[1] < 2:
        raise click.ClickException("decode takes 2 coordinates but this model's latent space has 1 dimension")
    origin, axes = plane(space.codes)
    (record,) = sample_records(space, space.locate([origin + np.array([x, y]) @ axes]))
    if as_json:
        emit_json(record)
        return
    where = f"z = ({x:g}, {y:g})" if space.codes.shape[1] == 2 else \
        f"({x:g}, {y:g}) on the codes' principal plane, z = ({', '.join(f'{v:.3g}' for v in record['z'])})"
    click.echo(f"{where}: {neuron_label(record['neuron']['index'] - 1)}, "
               f"nearest item {record['nearest']} at Hamming distance {record['hamming']}")
    click.echo("\n".join(record["rows"]))


@click.command()
@click.option("--n", "n_samples", type=click.IntRange(min=1), default=16, show_default=True, help="How many points.")
@click.option("--method", type=click.Choice(SAMPLE_METHODS), default="box", show_default=True,
              help="Uniform in the codes' box, a Gaussian fitted to the codes, or inside one neuron's cell.")
@click.option("--neuron", type=click.IntRange(min=1), default=None,
              help="For --method neuron: the neuron, numbered from 1 as `genval som` prints.")
@space_options
@plot_option
@json_option
def sample(n_samples, method, neuron, space, plot, as_json):
    """Decode random latent points and say what each looks like and resembles.

    \b
    Examples:
      genval sample --n 16
      genval sample --method gaussian --n 8 --random-state 3 --json
      genval sample --grid 3x3 --method neuron --neuron 5 --plot samples.png
    """
    if method == "neuron" and neuron is None:
        raise click.UsageError("--method neuron needs --neuron N")
    random_state = space["random_state"]
    space = open_space(space)
    if neuron is not None and neuron > space.som.n_neurons:
        rows, cols = space.som.grid_
        raise click.BadParameter(f"{neuron}: the {rows}x{cols} map has neurons 1 to {space.som.n_neurons}",
                                 param_hint="'--neuron'")
    Z = sample_latent(space, n_samples, method, None if neuron is None else neuron - 1, random_state=random_state)
    located = space.locate(Z)
    records = sample_records(space, located)
    if plot:
        from genval.plotting import plot_bitmaps

        names = space.bitmaps.names
        labels = [f"{i}: {names[k]} ({h})" for i, (k, h) in enumerate(zip(located.nearest, located.hamming))]
        ax = plot_bitmaps(located.pixels, space.bitmaps.shape, labels,
                          title=f"{n_samples} samples ({method}); label: nearest item (Hamming distance)")
        save_plot(ax, plot)
    if as_json:
        emit_json({"method": method, "random_state": random_state, "samples": records})
        return
    click.echo(f"{n_samples} samples by {method}; {map_summary(space)}")
    print_samples(records, show_t=False)


@click.command()
@click.option("--size", type=click.IntRange(min=2, max=200), default=20, show_default=True,
              help="Points per side of the grid.")
@click.option("--plot", type=OutputFile(), required=True, metavar="FILE.png", help="Where to draw the decoded plane.")
@space_options
def grid(size, plot, space):
    """Draw the decoded latent plane: a SIZE x SIZE mosaic over the codes' box, items overlaid.

    A latent space wider than two is shown on its codes' principal plane.

    \b
    Examples:
      genval grid --plot plane.png
      genval grid --dataset font --size 30 --plot font-plane.png
    """
    from genval.plotting import plot_latent_grid

    from genval.walks import plane

    space = open_space(space)
    xs, ys, pixels = latent_grid(space, size)
    origin, axes = plane(space.codes)
    codes = (space.codes - origin) @ axes.T  # the plane's coordinates (the codes themselves in 2-D)
    save_plot(plot_latent_grid(xs, ys, pixels, space.bitmaps.shape, codes, space.bitmaps.names,
                               principal_plane=space.codes.shape[1] > 2), plot)
