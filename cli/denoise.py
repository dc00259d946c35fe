"""``genval denoise``: how well a denoising autoencoder restores noisy bitmaps."""

from __future__ import annotations

import time

import click

from ._common import (
    NOISE_LEVELS, FiniteFloat, OutputFile, PictureFile, ProgressBar, any_data_option, dataset_option, emit_json, json_option,
    note, random_state_option, save_plot,
)
from ._output import warn
from genval.models._autoencoder import VariationalAutoencoder, load_model
from genval.data._bitmaps import load_dataset
from genval.experiments._denoise import DENOISER, cached_denoiser, denoise_report
from genval.data._noise import NOISES
from genval.models._reconstruction import TOLERANCE
from genval.nn._stall import caught_stalls

TRAINING_OPTIONS = ("noise_levels", "epochs")
LONG_RUN = 10_000_000  # noisy copies: some 30 s of scoring on a 2-core machine


def _levels(levels) -> str:
    return ", ".join(f"{p:g}" for p in levels)


def model_kind(model) -> str:
    """The ``kind`` of a model in genval's JSON: "denoiser", "vae" or "autoencoder".

    >>> from genval.experiments._denoise import make_denoiser
    >>> model_kind(make_denoiser())
    'denoiser'
    """
    if isinstance(model, VariationalAutoencoder):
        return "vae"
    return "denoiser" if model.noise_levels else "autoencoder"


@click.command()
@dataset_option(default="font")
@click.option("--levels", "--noise", "levels", type=NOISE_LEVELS, default="0.1,0.15,0.2,0.3", show_default=True,
              help="Noise levels to test: bit-flip probabilities (or Gaussian standard deviations).")
@click.option("--type", "noise", type=click.Choice(list(NOISES)), default="flip", show_default=True,
              help="Bit flips (salt and pepper) or Gaussian noise clipped to [0, 1].")
@click.option("--trials", type=click.IntRange(min=1), default=200, show_default=True,
              help="Noisy copies of every item per level (scored a chunk at a time: any number fits in memory).")
@click.option("--model", "-m", "model_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Load this model (from `genval train --out` or `genval denoise --out`) instead of the "
                   "standard denoiser, which is trained on first use and cached.")
@any_data_option
@click.option("--out", "-o", type=OutputFile(), default=None, metavar="FILE.npz",
              help="Also save the denoiser to FILE (its folder is checked before training).")
@click.option("--noise-levels", "--train-noise", "noise_levels", type=NOISE_LEVELS, default=None,
              help="Levels the denoiser trains on, all at once (default "
                   f"{_levels(DENOISER['noise_levels'])}).")
@click.option("--epochs", type=click.IntRange(min=1), default=DENOISER["epochs"], show_default=True,
              help="Training epochs of the standard denoiser.")
@random_state_option("Seed of the denoiser's training and of the noisy copies.")
@click.option("--tolerance", type=FiniteFloat(min=0), default=TOLERANCE, show_default=True,
              help="A restored pixel within this of the clean one counts as right in the grey-level share, "
                   "e.g. --tolerance 0.05.")
@click.option("--plot", type=PictureFile(), default=None, metavar="FILE.png",
              help="Restored share against noise level beside the bound, over a strip of examples; "
                   ".png, .svg or .pdf by the file's suffix.")
@json_option
@click.pass_context
def denoise(ctx, dataset, levels, noise, trials, model_file, any_data, out, noise_levels, epochs, random_state,
            tolerance, plot, as_json):
    """Train (or load) a denoising autoencoder and measure how often it restores noisy items.

    For each level: the fraction of noisy copies restored exactly and within
    one wrong pixel, and beside it the best any denoiser can do on the set:
    decoding each noisy copy to its nearest training item by Hamming distance.
    Then the grey-level figures of the restored copies against the clean
    items, over every pixel: mean squared error (beside the noisy copies'
    own), PSNR = 10 log10(1 / MSE) dB (peak 1.0; inf for an MSE of 0, null in
    JSON) and the share of pixels within --tolerance.

    The standard denoiser is trained on first use and cached, keyed by the
    set, --type, --noise-levels, --epochs and --seed: the next run with the
    same ones loads it in a moment (`genval cache list` shows it).

    \b
    Examples:
      genval denoise --dataset font --levels 0.1,0.15,0.2,0.3 --trials 200
      genval denoise --type gaussian --levels 0.2,0.4 --plot denoise.png
      genval denoise --noise-levels 0,0.2 --epochs 2000 --out denoiser.npz
      genval denoise --model denoiser.npz --levels 0.1
    """
    if any_data and model_file is None:
        raise click.UsageError("--any-data goes with --model: the standard denoiser is trained on the set itself")
    if model_file is not None:
        given = [name for name in TRAINING_OPTIONS
                 if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
        if given:
            raise click.UsageError(f"--{given[0].replace('_', '-')} sets how the standard denoiser trains; "
                                   "leave it out with --model, which loads a trained one")
    bitmaps = load_dataset(dataset)
    with ProgressBar() as bar, caught_stalls() as stalled:
        start = time.perf_counter()
        if model_file is not None:
            model, cached = load_model(model_file), False
            if not any_data and model.n_features_in_ == bitmaps.n_features:
                model.check_training_data(bitmaps)  # another size is denoise_report's to explain
            trained = f"loaded from {model_file}"
        else:
            def on_train(path, fresh) -> None:
                note(f"training the standard denoiser on {bitmaps.title} "
                     + (f"(cached as {path} for the next run)" if path is not None else "(not cached)"))
                bar.start(fresh.epochs, f"training the {bitmaps.title} denoiser: epochs")

            model, cached = cached_denoiser(bitmaps, noise, noise_levels, epochs, random_state,
                                            progress=bar.epochs, on_train=on_train)
            trained = f"trained on {noise} noise {_levels(model.noise_levels)} for {model.n_epochs_} epochs " + (
                "(cached)" if cached else f"in {time.perf_counter() - start:.1f} s")
        bar.close()
        for message in stalled:
            warn(message)
        copies = len(levels) * trials * len(bitmaps)
        if copies > LONG_RUN:
            note(f"{copies:,} noisy copies to score, a chunk at a time in bounded memory: a long run "
                 "(fewer --trials for a first look); Ctrl-C stops it")
        bar.label = "noisy copies scored"  # opened by the first chunk: a bad model fails before any bar
        report = denoise_report(model, bitmaps, levels, noise=noise, trials=trials, random_state=random_state,
                                progress=bar.points, tolerance=tolerance)
    if out is not None:
        model.save(out, metadata={"dataset": bitmaps.title, "shape": list(bitmaps.shape),
                                  "names": list(bitmaps.names)})
        note(f"saved {out}")
    if plot:
        from genval.plotting._experiments import plot_denoising_curve

        save_plot(plot_denoising_curve(report, bitmaps.shape), plot)
    if as_json:
        emit_json({"dataset": bitmaps.title, "noise": noise, "trials": trials, "seed": random_state,
                   "model": {"file": model_file or "default", "kind": model_kind(model),
                             "layer_sizes": model.layer_sizes_, "cached": cached,
                             "noise_levels": list(model.noise_levels), "epochs": model.n_epochs_},
                   "stalled": stalled[0] if stalled else None, **report.to_dict()})
        return
    _echo(bitmaps, model, trained, trials, tolerance, report)


def _echo(bitmaps, model, trained: str, trials: int, tolerance: float, report) -> None:
    """The text report: restoration beside the bound, then the grey-level figures, per level."""
    sizes = "-".join(map(str, model.layer_sizes_))
    click.echo(f"{bitmaps.title}: {len(bitmaps)} items; {model_kind(model)} {sizes} {trained}; "
               f"{trials} noisy copies of every item per level")
    click.echo(f"{'level':>6}  {'restored':>9}  {'within one':>10}  {'bound':>9}  {'bound within one':>16}  {'gap':>8}")
    for r in report:
        gap = 100 * (r.restored - r.bound_restored)
        click.echo(f"{r.level:>6g}  {100 * r.restored:8.1f}%  {100 * r.within_one:9.1f}%  "
                   f"{100 * r.bound_restored:8.1f}%  {100 * r.bound_within_one:15.1f}%  {gap:+6.1f} pp")
    click.echo(f"{'level':>6}  {'mse':>9}  {'noisy mse':>9}  {'psnr':>8}  {f'within {tolerance:g}':>11}")
    for r in report:
        click.echo(f"{r.level:>6g}  {r.mse:9.4g}  {r.noisy_mse:9.4g}  {r.psnr:5.1f} dB  "
                   f"{100 * r.within_tolerance:10.1f}%")
    note("bound: the nearest training item by Hamming distance, the best any denoiser can do")
