"""``genval train``: fit an autoencoder to a bitmap set and report its reconstructions."""

from __future__ import annotations

import time

import click

from ._common import (
    FiniteFloat, OutputFile, PictureFile, ProgressBar, dataset_option, emit_json, json_option, model_doc, note,
    param_type, plot_option, random_state_option, save_plot,
)
from ._output import warn
from genval.data._bitmaps import load_dataset
from genval.models._autoencoder import Autoencoder, VariationalAutoencoder
from genval.models._reconstruction import TOLERANCE, reconstruction_report
from genval.nn._stall import caught_stalls

DEFAULTS = Autoencoder().get_params()  # the options' defaults are the estimator's
LIST_ITEMS = 50  # sets up to this size get a line per item
LONG_RUN = 50_000_000  # items x epochs past which a note suggests --epochs (the digits: 18 million)


def json_params(model) -> dict:
    """The model's parameters as JSON values (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in model.get_params().items()}


@click.command()
@dataset_option()
@click.option("--hidden", type=param_type("hidden"), default=",".join(map(str, DEFAULTS["hidden"])), show_default=True,
              help="Encoder layer widths; the decoder mirrors them.")
@click.option("--n-latent", "--latent", "n_latent", type=param_type("n_latent"), default=DEFAULTS["n_latent"],
              show_default=True, help="Latent dimensions.")
@click.option("--activation", type=param_type("activation"), default=DEFAULTS["activation"], show_default=True)
@click.option("--activation-param", type=param_type("activation_param"), default=None,
              help="tanh/sigmoid beta, leaky ReLU slope or ELU alpha.")
@click.option("--loss", type=param_type("loss"), default=DEFAULTS["loss"], show_default=True)
@click.option("--optimizer", type=param_type("optimizer"), default=DEFAULTS["optimizer"], show_default=True)
@click.option("--learning-rate", "--lr", "learning_rate", type=param_type("learning_rate"),
              default=DEFAULTS["learning_rate"], show_default=True, help="The optimizer's step size.")
@click.option("--momentum", type=FiniteFloat(min=0, max=1, max_open=True), default=None,
              help="The momentum of --optimizer momentum or adaptive (an optimizer option; the course used 0.7).")
@click.option("--epochs", type=param_type("epochs"), default=DEFAULTS["epochs"], show_default=True,
              help="The most epochs to train. A long run shows its progress and Ctrl-C stops it (exit 130); "
                   "a count whose loss curve would not fit the memory budget is refused before training.")
@click.option("--batch-size", type=param_type("batch_size"), default=None,
              help="Mini-batch size (1 = online); default: the full set each epoch.")
@click.option("--stop-wrong-pixels", "--stop-wrong", "stop_wrong_pixels", type=param_type("stop_wrong_pixels"), default=None,
              metavar="N", help="Stop once every item is reconstructed with at most N wrong pixels.")
@click.option("--vae", is_flag=True, help="Train a variational autoencoder instead.")
@click.option("--beta", type=param_type("beta"), default=1.0, show_default=True,
              help="With --vae: the weight of the KL term.")
@click.option("--noise-levels", "--noise", "noise_levels", type=param_type("noise_levels"), default=(),
              help="Train a denoising autoencoder on these noise levels at once, e.g. 0,0.1,0.15,0.2.")
@click.option("--noise-type", "noise", type=param_type("noise"), default=DEFAULTS["noise"], show_default=True,
              help="The `noise` parameter: bit flips (level = probability), gaussian (level = standard "
                   "deviation) or image_gaussian (each image's own mean and spread, times the level).")
@click.option("--code-activation", type=param_type("code_activation"), default=DEFAULTS["code_activation"],
              show_default=True, help="Activation of the latent code (relu for a rectified code).")
@click.option("--dropout", type=param_type("dropout"), default=DEFAULTS["dropout"],
              show_default=True, help="Probability of dropping each hidden unit in training.")
@click.option("--validation-fraction", type=param_type("validation_fraction"),
              default=DEFAULTS["validation_fraction"], show_default=True,
              help="Share of the items held out to report a validation loss.")
@click.option("--activity-l1", type=param_type("activity_l1"), default=DEFAULTS["activity_l1"], show_default=True,
              help="Weight of an L1 penalty on the code's activity (a sparse code), e.g. --activity-l1 0.001.")
@click.option("--contractive", type=param_type("contractive"), default=DEFAULTS["contractive"], show_default=True,
              help="Weight of the contractive penalty (the squared Frobenius norm of the encoder's Jacobian), "
                   "e.g. --contractive 0.01.")
@click.option("--sparsity-target", type=param_type("sparsity_target"), default=DEFAULTS["sparsity_target"],
              show_default=True, help="The target rho in (0, 1) of --sparsity-weight, e.g. --sparsity-target 0.05.")
@click.option("--sparsity-weight", type=param_type("sparsity_weight"), default=DEFAULTS["sparsity_weight"],
              show_default=True,
              help="Weight beta of the lecture's KL sparsity penalty, beta * sum_j KL(rho || mean activation of "
                   "code unit j); needs --code-activation sigmoid, e.g. --code-activation sigmoid "
                   "--sparsity-target 0.05 --sparsity-weight 0.1.")
@click.option("--dtype", type=param_type("dtype"), default=DEFAULTS["dtype"], show_default=True,
              help="Precision of the training arithmetic.")
@random_state_option()
@click.option("--out", "-o", type=OutputFile(), default=None,
              help="Save the trained model here (.npz arrays + JSON config, no pickle).")
@click.option("--tolerance", type=FiniteFloat(min=0), default=TOLERANCE, show_default=True,
              help="A pixel within this of its target counts as right in the grey-level share, e.g. --tolerance 0.05.")
@plot_option
@click.option("--recon", type=PictureFile(), default=None, metavar="FILE.png",
              help="Also draw each item over its reconstruction, wrong pixels framed (the first 48 items of a "
                   "larger set); .png, .svg or .pdf by the file's suffix.")
@json_option
def train(dataset, vae, beta, code_activation, momentum, out, tolerance, plot, recon, as_json, **params):
    """Train an autoencoder on a bitmap set and report its reconstructions.

    For each item it prints the wrong pixels of its reconstruction (output
    thresholded at 0.5; for sets of more than 50 items, the 10 worst), then
    how many items are perfect and within one pixel, and the grey-level
    figures over every pixel: mean squared error, PSNR = 10 log10(1 / MSE) dB
    (peak 1.0; inf for an MSE of 0, null in JSON) and the share of pixels
    within --tolerance of their targets.
    The options are the parameters of genval.Autoencoder.

    A run that stalled gets a warning on stderr: one that did not stop early
    and whose final loss L, above the floor F of a perfect reconstruction, is
    still 0.9 x or more of the trivial model's (a decoder that outputs every
    pixel's mean: L - F >= 0.9 (L0 - F)) or of its first epoch's.

    \b
    Examples:
      genval train                                  # the emoji set, defaults
      genval train --dataset font --stop-wrong-pixels 0 --out font.npz
      genval train --dataset path/to/font.h:Font2 --hidden 30,20 --json
      genval train --vae --beta 0.1 --out vae.npz
      genval train --validation-fraction 0.2 --plot loss.png   # training and held-out loss
      genval train --dataset font --epochs 300 --recon font.png  # items over reconstructions
      genval train --dataset font --optimizer adaptive --learning-rate 1 --momentum 0.7
      genval train --dataset font --noise-levels 0,0.1,0.15,0.2 --hidden 64,32 --n-latent 8
      genval train --dataset font --activity-l1 0.001 --contractive 0.01   # sparse, contractive code
      genval train --dataset font --code-activation sigmoid --sparsity-target 0.05 --sparsity-weight 0.1
      genval train --dataset digits --epochs 200 --tolerance 0.05           # grey levels
      genval train --dataset font --hidden '' --n-latent 64 --code-activation relu \\
                   --activation relu --dropout 0.1 --validation-fraction 0.2
    """
    model = _make_model(params, vae, beta, code_activation, momentum)
    bitmaps = load_dataset(dataset)
    # A network too large for the memory budget is refused before the progress bar opens.
    model._validate_params()
    model._network(bitmaps.X.shape[1]).check_training_memory(0, model.dtype)
    if len(bitmaps) * model.epochs > LONG_RUN:
        note(f"{len(bitmaps):,} items x {model.epochs:,} epochs is a long run; "
             "pass --epochs (e.g. --epochs 20) for a first look, and Ctrl-C stops it")
    start = time.perf_counter()
    with ProgressBar(f"training on {bitmaps.title}: epochs") as bar, caught_stalls() as stalled:
        bar.start(model.epochs)
        model.fit(bitmaps.X, progress=bar.epochs)
    seconds = time.perf_counter() - start
    for message in stalled:
        warn(message)
    report = reconstruction_report(model, bitmaps, tolerance)
    if out is not None:
        model.save(out, metadata={"dataset": bitmaps.title, "shape": list(bitmaps.shape),
                                  "names": list(bitmaps.names)})
    _draw(model, bitmaps, plot, recon)
    if as_json:
        emit_json({
            "dataset": bitmaps.title,
            "seed": model.random_state,
            "model": model_doc(model, out),
            "params": json_params(model),
            "epochs_run": model.n_epochs_,
            "stopped_early": model.stopped_early_,
            "final_loss": model.loss_curve_[-1],
            "final_validation_loss": (None if model.validation_loss_curve_ is None
                                      else model.validation_loss_curve_[-1]),
            "seconds": round(seconds, 4),
            "stalled": stalled[0] if stalled else None,
            **report.to_dict(),
        })
        return
    _echo(model, bitmaps, report, seconds)
    if out is not None:
        note(f"saved {out}")


def _make_model(params: dict, vae: bool, beta: float, code_activation: str, momentum: float | None):
    """The unfitted estimator the options describe; ``--momentum`` is an optimizer option."""
    if momentum is not None:
        if params["optimizer"] not in ("momentum", "adaptive"):
            raise click.BadParameter("takes --optimizer momentum or adaptive", param_hint="--momentum")
        params["optimizer_options"] = {"momentum": momentum}
    if params["sparsity_weight"]:  # said with the options' names, before the library says it with its own
        if vae:
            raise click.BadParameter("a variational autoencoder's code is Gaussian, not in (0, 1); leave out "
                                     "--sparsity-weight", param_hint="--sparsity-weight")
        if code_activation != "sigmoid":
            raise click.BadParameter(f"needs code activations in (0, 1): add --code-activation sigmoid "
                                     f"(got --code-activation {code_activation})", param_hint="--sparsity-weight")
    if vae:
        if code_activation != DEFAULTS["code_activation"]:
            raise click.BadParameter("a variational autoencoder's code is Gaussian; leave out --code-activation",
                                     param_hint="--code-activation")
        return VariationalAutoencoder(beta=beta, **params)
    return Autoencoder(code_activation=code_activation, **params)


def _draw(model, bitmaps, plot, recon) -> None:
    """``--plot`` (the loss curves) and ``--recon`` (items over their reconstructions)."""
    if plot is not None:
        from genval.plotting._bitmaps import plot_loss_curve

        save_plot(plot_loss_curve(model), plot)
    if recon is not None:
        from genval.plotting._bitmaps import plot_reconstructions

        save_plot(plot_reconstructions(bitmaps.X, model.reconstruct(bitmaps.X), bitmaps.shape, bitmaps.names,
                                       title=bitmaps.title), recon)


def _echo(model, bitmaps, report, seconds: float) -> None:
    """The text report: the network and its training, then wrong pixels per item (the worst of a large set)."""
    sizes = "-".join(map(str, model.layer_sizes_))
    stopped = f", stopped early at <= {model.stop_wrong_pixels} wrong pixels" if model.stopped_early_ else ""
    click.echo(f"{bitmaps.title}: {len(bitmaps)} items, network {sizes}, "
               f"{model.n_epochs_} epochs in {seconds:.2f} s{stopped}, final loss {model.loss_curve_[-1]:.4g}"
               + ("" if model.validation_loss_curve_ is None
                  else f", validation loss {model.validation_loss_curve_[-1]:.4g}"))
    n = len(bitmaps)
    shown = list(zip(report.names, report.wrong_pixels))
    if n > LIST_ITEMS:  # a large set: its worst items, not a screenful per item
        shown = sorted(shown, key=lambda item: -item[1])[:10]
        counts = sorted(report.wrong_pixels)
        click.echo(f"wrong pixels per item: median {counts[n // 2]}, max {counts[-1]}; the 10 worst items:")
    width = max(4, *(len(name) for name, _ in shown))
    click.echo(f"{'item':<{width}}  wrong pixels")
    for name, wrong in shown:
        click.echo(f"{name:<{width}}  {wrong}")
    click.echo(f"perfect {report.perfect}/{n}, within one pixel {report.within_one}/{n}")
    grey = report.grey
    click.echo(f"grey levels: mean squared error {grey.mse:.4g}, PSNR {grey.psnr:.1f} dB, "
               f"{100 * grey.within_tolerance:.1f}% of pixels within {grey.tolerance:g}")
