"""``genval denoise``: how well a denoising autoencoder restores noisy bitmaps."""

from __future__ import annotations

import time

import click

from ._common import (
    NOISE_LEVELS, OutputFile, ProgressBar, dataset_option, emit_json, json_option, note, random_state_option,
    save_plot,
)
from genval.autoencoder import load_model
from genval.bitmaps import load_dataset
from genval.denoise import DENOISER, denoise_report, make_denoiser
from genval.noise import NOISES


@click.command()
@dataset_option(default="font")
@click.option("--levels", "--noise", "levels", type=NOISE_LEVELS, default="0.1,0.15,0.2,0.3", show_default=True,
              help="Noise levels to test: bit-flip probabilities (or Gaussian standard deviations).")
@click.option("--type", "noise", type=click.Choice(list(NOISES)), default="flip", show_default=True,
              help="Bit flips (salt and pepper) or Gaussian noise clipped to [0, 1].")
@click.option("--trials", type=click.IntRange(min=1), default=200, show_default=True,
              help="Noisy copies of every item per level.")
@click.option("--model", "-m", type=click.Path(dir_okay=False), default=None,
              help="A trained model; default: train the standard denoiser now.")
@click.option("--noise-levels", "--train-noise", "noise_levels", type=NOISE_LEVELS, default=None,
              help="Levels the denoiser trains on, all at once (default "
                   f"{','.join(f'{p:g}' for p in DENOISER['noise_levels'])}).")
@click.option("--epochs", type=click.IntRange(min=1), default=DENOISER["epochs"], show_default=True)
@random_state_option()
@click.option("--plot", type=OutputFile(), default=None, metavar="FILE.png",
              help="Clean, noisy and restored rows for each level (the first copies scored).")
@json_option
def denoise(dataset, levels, noise, trials, model, noise_levels, epochs, random_state, plot, as_json):
    """Train (or load) a denoising autoencoder and measure how often it restores noisy items.

    For each level: the fraction of noisy copies restored exactly and within
    one wrong pixel, and beside it the best any denoiser can do on the set:
    decoding each noisy copy to its nearest training item by Hamming distance.

    \b
    Examples:
      genval denoise --dataset font --levels 0.1,0.15,0.2,0.3 --trials 200
      genval denoise --type gaussian --levels 0.2,0.4 --plot denoise.png
      genval denoise --model denoiser.npz --levels 0.1
    """
    bitmaps = load_dataset(dataset)
    start = time.perf_counter()
    if model:
        trained = f"loaded from {model}"
        model = load_model(model)
    else:
        model = make_denoiser(noise, noise_levels, epochs, random_state)
        with ProgressBar(f"training a denoiser on {bitmaps.title}") as bar:
            bar.start(model.epochs)
            model.fit(bitmaps.X, progress=bar.epochs)
        trained = (f"trained on {noise} noise {', '.join(f'{p:g}' for p in model.noise_levels)} for {epochs} epochs "
                   f"in {time.perf_counter() - start:.1f} s")
    report = denoise_report(model, bitmaps, levels, noise=noise, trials=trials, random_state=random_state)
    if plot:
        from genval.plotting import plot_denoising

        shown = report.examples
        save_plot(plot_denoising(shown.clean, shown.noisy, shown.restored, bitmaps.shape, levels, shown.names), plot)
    if as_json:
        emit_json({"dataset": bitmaps.title, "noise": noise, "trials": trials, "model": trained,
                   "layer_sizes": model.layer_sizes_, **report.to_dict()})
        return
    sizes = "-".join(map(str, model.layer_sizes_))
    click.echo(f"{bitmaps.title}: {len(bitmaps)} items; denoiser {sizes} {trained}; "
               f"{trials} noisy copies of every item per level")
    click.echo(f"{'level':>6}  {'restored':>9}  {'within one':>10}  {'bound':>9}  {'bound within one':>16}  {'gap':>8}")
    for r in report:
        gap = 100 * (r.restored - r.bound_restored)
        click.echo(f"{r.level:>6g}  {100 * r.restored:8.1f}%  {100 * r.within_one:9.1f}%  "
                   f"{100 * r.bound_restored:8.1f}%  {100 * r.bound_within_one:15.1f}%  {gap:+6.1f} pp")
    note("bound: the nearest training item by Hamming distance, the best any denoiser can do")
