"""``genval denoise``: how well a denoising autoencoder restores noisy bitmaps."""

from __future__ import annotations

import time

import click
import numpy as np

from ._common import Progress, dataset_option, emit_json, json_option, library_errors, note, seed_option
from .maps import save_plot
from .train import parse_levels
from genval.autoencoder import Autoencoder, load_model
from genval.bitmaps import load_dataset
from genval.denoise import DENOISER, denoise_report
from genval.noise import NOISES, make_noise


@click.command()
@dataset_option(default="font")
@click.option("--noise", "levels_text", default="0.1,0.15,0.2,0.3", show_default=True, metavar="P,P,...",
              help="Noise levels to test: bit-flip probabilities (or Gaussian standard deviations).")
@click.option("--type", "noise", type=click.Choice(list(NOISES)), default="flip", show_default=True,
              help="Bit flips (salt and pepper) or Gaussian noise clipped to [0, 1].")
@click.option("--trials", type=click.IntRange(min=1), default=200, show_default=True,
              help="Noisy copies of every item per level.")
@click.option("--model", "-m", "model_path", type=click.Path(dir_okay=False), default=None,
              help="A trained model; default: train the standard denoiser now.")
@click.option("--train-noise", default=None, metavar="P,P,...",
              help="Levels the denoiser trains on, all at once (default 0,0.1,0.15,0.2).")
@click.option("--epochs", type=click.IntRange(min=1), default=DENOISER["epochs"], show_default=True)
@seed_option()
@click.option("--plot", type=click.Path(dir_okay=False), default=None, metavar="FILE.png",
              help="Clean, noisy and restored rows for each level.")
@json_option
@library_errors
def denoise(dataset, levels_text, noise, trials, model_path, train_noise, epochs, seed, plot, as_json):
    """Train (or load) a denoising autoencoder and measure how often it restores noisy items.

    For each level: the fraction of noisy copies restored exactly and within
    one wrong pixel, and beside it the best any denoiser can do on the set:
    decoding each noisy copy to its nearest training item by Hamming distance.

    \b
    Examples:
      genval denoise --dataset font --noise 0.1,0.15,0.2,0.3 --trials 200
      genval denoise --type gaussian --noise 0.2,0.4 --plot denoise.png
    """
    levels = parse_levels(levels_text)
    bitmaps = load_dataset(dataset)
    start = time.perf_counter()
    if model_path:
        model = load_model(model_path)
        trained = f"loaded from {model_path}"
    else:
        train_levels = parse_levels(train_noise) if train_noise else DENOISER["noise_levels"]
        model = Autoencoder(**(DENOISER | {"noise_levels": train_levels, "epochs": epochs}), noise=noise,
                            random_state=seed)
        with Progress(epochs, f"training a denoiser on {bitmaps.title}") as progress:
            model.fit(bitmaps.X, progress=progress)
        trained = (f"trained on {noise} noise {', '.join(f'{p:g}' for p in train_levels)} for {epochs} epochs "
                   f"in {time.perf_counter() - start:.1f} s")
    results = denoise_report(model, bitmaps, levels, noise=noise, trials=trials, random_state=seed)
    if plot:
        from genval.plotting import plot_denoising

        rng = np.random.default_rng(seed)
        shown = list(range(min(12, len(bitmaps))))
        clean = bitmaps.X[shown]
        noisy = [make_noise(noise)(clean, p, rng) for p in levels]
        restored = [model.reconstruct(x) for x in noisy]
        save_plot(plot_denoising(clean, noisy, restored, bitmaps.shape, levels, [bitmaps.names[i] for i in shown]),
                  plot)
    if as_json:
        emit_json({"dataset": bitmaps.title, "noise": noise, "trials": trials, "model": trained,
                   "layer_sizes": model.layer_sizes_, "levels": [r.to_dict() for r in results]})
        return
    sizes = "-".join(map(str, model.layer_sizes_))
    click.echo(f"{bitmaps.title}: {len(bitmaps)} items; denoiser {sizes} {trained}; "
               f"{trials} noisy copies of every item per level")
    click.echo(f"{'level':>6}  {'restored':>9}  {'within one':>10}  {'bound':>9}  {'bound within one':>16}  {'gap':>8}")
    for r in results:
        gap = 100 * (r.restored - r.bound_restored)
        click.echo(f"{r.level:>6g}  {100 * r.restored:8.1f}%  {100 * r.within_one:9.1f}%  "
                   f"{100 * r.bound_restored:8.1f}%  {100 * r.bound_within_one:15.1f}%  {gap:+6.1f} pp")
    note("bound: the nearest training item by Hamming distance, the best any denoiser can do")
