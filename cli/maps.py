"""Commands over the latent map: som, interpolate, decode, sample, grid."""

from __future__ import annotations

import functools
import re

import click

from ._common import Progress, emit_json, json_option, library_errors, note
from .datasets import wrap_strip
from genval.autoencoder import load_model
from genval.bitmaps import load_dataset
from genval.cache import default_model
from genval.som import NEIGHBORHOODS, TOPOLOGIES, LatentSOM
from genval.walks import SAMPLE_METHODS, LatentSpace, latent_grid, sample_latent, walk

QUOTING = """\b
Item names such as :] ;D :( hold characters shells treat specially: quote
them, e.g. genval interpolate ':]' ';D' (in cmd.exe: ":]" ";D")."""


class GridType(click.ParamType):
    """``ROWSxCOLS``, both at least 1: ``3x3``."""

    name = "ROWSxCOLS"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", str(value))
        if not m:
            self.fail(f"{value!r} is not a grid like 3x3 (rows x columns)", param, ctx)
        rows, cols = int(m.group(1)), int(m.group(2))
        if rows < 1 or cols < 1:
            self.fail(f"{value!r}: a grid needs at least 1 row and 1 column", param, ctx)
        return rows, cols


def space_options(command):
    """The options that choose the data, the model and the map."""
    options = [
        click.option("--dataset", "-d", default="emojis", show_default=True, metavar="NAME|PATH",
                     help="Bundled set (emojis, font, digits), a C header (font.h:Font2) or a .txt bitmap file."),
        click.option("--model", "-m", "model_path", type=click.Path(dir_okay=False), default=None,
                     help="A model saved by `genval train --out`; default: the set's cached default model "
                          "(trained on first use, seed 0)."),
        click.option("--grid", type=GridType(), default=None,
                     help="Map size, e.g. 3x3. Default: about 5*sqrt(n_items) neurons shaped like the codes."),
        click.option("--sigma", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
                     help="Initial neighbourhood radius (grid units)."),
        click.option("--som-lr", type=click.FloatRange(min=0, min_open=True), default=0.5, show_default=True,
                     help="Initial learning rate of the map."),
        click.option("--iterations", type=click.IntRange(min=1), default=None,
                     help="Map training steps; default 500 per neuron."),
        click.option("--topology", type=click.Choice(TOPOLOGIES), default="rectangular", show_default=True),
        click.option("--neighborhood", type=click.Choice(NEIGHBORHOODS), default="gaussian", show_default=True),
        click.option("--seed", default=0, show_default=True, type=int, help="Seed of the map (and of sampling)."),
    ]
    for option in reversed(options):
        command = option(command)

    @functools.wraps(command)
    def wrapper(dataset, model_path, grid, sigma, som_lr, iterations, topology, neighborhood, seed, **kwargs):
        space_args = dict(dataset=dataset, model_path=model_path, grid=grid, sigma=sigma, som_lr=som_lr,
                          iterations=iterations, topology=topology, neighborhood=neighborhood, seed=seed)
        return command(space_args=space_args, seed=seed, **kwargs)

    return wrapper


def build_space(dataset, model_path, grid, sigma, som_lr, iterations, topology, neighborhood, seed,
                prepare=None, kind="autoencoder") -> LatentSpace:
    """Load the set and the model (training the default one if needed), fit the map.

    ``prepare(bitmaps)`` runs right after the set is loaded, so that a typo in
    an item name or a rule file fails before any training. ``kind`` picks the
    default model ("autoencoder" or "vae") when no model file is given.
    """
    bitmaps = load_dataset(dataset)
    if prepare is not None:
        prepare(bitmaps)
    if model_path is not None:
        model = load_model(model_path)
    else:
        what = "model" if kind == "autoencoder" else "variational autoencoder"
        progress = Progress(10_000, f"training the default {bitmaps.title} {what}")

        started = []

        def starting(path):
            note(f"first use of {bitmaps.title}: training its default {what} (cached as {path})")
            progress.__enter__()
            started.append(path)

        try:
            model, _ = default_model(bitmaps, progress=progress, on_train=starting, kind=kind)
        finally:
            if started:  # close the bar on success and on error alike
                progress.__exit__(None, None, None)
    som = LatentSOM(grid=grid, sigma=sigma, learning_rate=som_lr, iterations=iterations, topology=topology,
                    neighborhood=neighborhood, init="pca" if grid is None or min(grid) >= 2 else "random",
                    random_state=seed)
    return LatentSpace.build(bitmaps, model, som)


def map_summary(space: LatentSpace) -> str:
    som = space.som
    rows, cols = som.grid_
    return (f"{rows}x{cols} {som.topology} map of {len(space.bitmaps)} {space.bitmaps.title} codes "
            f"(sigma {som.sigma:g}, learning rate {som.learning_rate:g}, {som.n_iterations_} iterations, "
            f"{som.neighborhood}, seed {som.random_state})")


def neuron_label(space: LatentSpace, k: int) -> str:
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


def print_samples(space: LatentSpace, records: list[dict], show_t: bool) -> None:
    click.echo("\n".join(wrap_strip([r["rows"] for r in records], [str(i) for i in range(len(records))])))
    click.echo("")
    width = max(7, *(len(r["nearest"]) for r in records))
    head = f"{'sample':>6}  " + (f"{'t':>5}  " if show_t else "") + f"{'z1':>8} {'z2':>8}  neuron  {'nearest':<{width}}  hamming"
    click.echo(head)
    for i, r in enumerate(records):
        z = r["z"] + [float("nan")] * (2 - len(r["z"]))
        t = f"{r['t']:5.2f}  " if show_t else ""
        click.echo(f"{i:>6}  {t}{z[0]:8.3f} {z[1]:8.3f}  {r['neuron']['index']:>6}  "
                   f"{r['nearest']:<{width}}  {r['hamming']:>7}")


def save_plot(ax, path) -> None:
    from genval.plotting import save_figure

    save_figure(ax, path)
    note(f"wrote {path}")


plot_option = click.option("--plot", type=click.Path(dir_okay=False), default=None, metavar="FILE.png",
                           help="Also draw the result as a PNG.")


@click.command()
@space_options
@plot_option
@click.option("--background", type=click.Choice(["umatrix", "cells"]), default="umatrix", show_default=True,
              help="What shades the plot: the U-matrix or one colour per neuron cell.")
@json_option
@library_errors
def som(space_args, seed, plot, background, as_json):
    """Cluster the items' latent codes with a Kohonen map and list each neuron's items.

    Prints one line per neuron in row-major order, numbered from 1 like the
    course (`Neuron 8: :) :c :]`), empty neurons included, then the
    quantization error (mean distance from a code to its neuron's weight) and
    the topographic error (share of codes whose two nearest neurons are not
    grid neighbours). Items that share a neuron are the candidates for
    blending with `genval interpolate`.

    \b
    Examples:
      genval som --grid 3x3
      genval som --grid 4x4 --topology hexagonal --plot map.png
      genval som --dataset font --json
    """
    space = build_space(**space_args)
    table = space.som.neuron_table(space.codes, space.bitmaps.names)
    qe = space.som.quantization_error(space.codes)
    te = space.som.topographic_error(space.codes)
    if plot:
        from genval.plotting import plot_som

        save_plot(plot_som(space, background=background), plot)
    if as_json:
        som_ = space.som
        emit_json({
            "dataset": space.bitmaps.title,
            "grid": list(som_.grid_),
            "topology": som_.topology,
            "neighborhood": som_.neighborhood,
            "sigma": som_.sigma,
            "learning_rate": som_.learning_rate,
            "iterations": som_.n_iterations_,
            "seed": seed,
            "neurons": [n.to_dict() for n in table],
            "quantization_error": qe,
            "topographic_error": None if te != te else te,
        })
        return
    click.echo(map_summary(space))
    for neuron in table:
        click.echo(f"{neuron_label(space, neuron.index)}: {' '.join(neuron.items)}".rstrip())
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
@library_errors
def interpolate(start, stop, steps, path_kind, space_args, seed, plot, as_json):
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
    space = build_space(**space_args, prepare=lambda bitmaps: [bitmaps.index(i) for i in (start, stop)])
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
        click.echo(f"same neuron: yes, both in {neuron_label(space, na)}")
    else:
        click.echo(f"same neuron: no ({result.start} in {neuron_label(space, na)}, "
                   f"{result.stop} in {neuron_label(space, nb)})")
    click.echo(f"neuron path: {' -> '.join(str(k + 1) for k in result.path)}")
    click.echo("")
    print_samples(space, records, show_t=True)


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("x", type=float)
@click.argument("y", type=float)
@space_options
@json_option
@library_errors
def decode(x, y, space_args, seed, as_json):
    """Decode one latent point (X, Y): what does the model draw there?

    Negative coordinates work as they are: genval decode -1.5 0.5.
    """
    space = build_space(**space_args)
    if space.codes.shape[1] != 2:
        raise click.ClickException(f"decode takes 2 coordinates but this model's latent space has "
                                   f"{space.codes.shape[1]} dimensions")
    (record,) = sample_records(space, space.locate([[x, y]]))
    if as_json:
        emit_json(record)
        return
    click.echo(f"z = ({x:g}, {y:g}): {neuron_label(space, record['neuron']['index'] - 1)}, "
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
@library_errors
def sample(n_samples, method, neuron, space_args, seed, plot, as_json):
    """Decode random latent points and say what each looks like and resembles.

    \b
    Examples:
      genval sample --n 16
      genval sample --method gaussian --n 8 --seed 3 --json
      genval sample --grid 3x3 --method neuron --neuron 5 --plot samples.png
    """
    if method == "neuron" and neuron is None:
        raise click.UsageError("--method neuron needs --neuron N")
    space = build_space(**space_args)
    Z = sample_latent(space, n_samples, method, None if neuron is None else neuron - 1, random_state=seed)
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
        emit_json({"method": method, "seed": seed, "samples": records})
        return
    click.echo(f"{n_samples} samples by {method}; {map_summary(space)}")
    print_samples(space, records, show_t=False)


@click.command()
@click.option("--size", type=click.IntRange(min=2, max=200), default=20, show_default=True,
              help="Points per side of the grid.")
@click.option("--plot", type=click.Path(dir_okay=False), required=True, metavar="FILE.png",
              help="Where to draw the decoded plane.")
@space_options
@library_errors
def grid(size, plot, space_args, seed):
    """Draw the decoded latent plane: a SIZE x SIZE mosaic over the codes' box, items overlaid."""
    from genval.plotting import plot_latent_grid

    space = build_space(**space_args)
    xs, ys, pixels = latent_grid(space, size)
    save_plot(plot_latent_grid(xs, ys, pixels, space.bitmaps.shape, space.codes, space.bitmaps.names), plot)
