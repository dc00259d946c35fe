"""``genval audit --samples FILE``: judge generated samples from a file against the training set."""

from __future__ import annotations

import click

from ._common import MAP_SETTINGS, emit_json, map_doc, model_doc, note, open_space

# The audit's options that describe sampling the latent space: they have no meaning for given samples.
SAMPLING_ONLY = ("strategy", "n_points", "compare_all", "repeats", "vary", "min_novelty", "with_vae", "with_pca",
                 "sheet", "roc", "plot")


def samples_options(command):
    """``--samples FILE`` and ``--near-copy PIXELS``."""
    command = click.option(
        "--near-copy", "near_copy", type=click.IntRange(min=1), default=None, metavar="PIXELS",
        help="With --samples: a sample this many pixels or fewer (Hamming distance, after thresholding at 0.5) "
             "from a training item is a near-copy. Default: half the median distance from a training bitmap to "
             "its nearest other one, at least 1. Example: --samples gen.npy --near-copy 3")(command)
    return click.option(
        "--samples", "samples", type=click.Path(dir_okay=True), default=None, metavar="FILE",
        help="Judge these generated bitmaps or grey images (any format --dataset reads, of the set's shape) "
             "instead of decoding latent points: copies and near-copies of training items, validity with the "
             "checks' null model, k-NN precision/recall/density/coverage in pixel space, and, with --model, in "
             "latent space with each sample's neuron on the map. Example: genval audit --samples gen.npy "
             "--dataset digits --csv per-sample.csv")(command)


def audit_given_samples(samples, near_copy, space: dict, rules, csv_path, min_validity, as_json,
                        below_exit_code: int) -> None:
    """Run the samples audit the options ask for and print or emit it; exit ``below_exit_code`` below
    --min-validity (or when every sample is a copy)."""
    from genval.audit._judging import load_checks
    from genval.audit._samples import audit_samples
    from genval.audit._samples_report import write_samples_text
    from genval.data._bitmaps import load_dataset

    _check_usage(samples, space)
    training = load_dataset(space["dataset"])
    checks = load_checks(training, rules)
    h, w = training.shape
    generated = load_dataset(samples, shape=(h, w), width=w)
    latent = None
    if space["model"] is not None:
        latent = open_space(dict(space, dataset=training))
    report = audit_samples(generated, training, checks, latent, near_copy=near_copy,
                           random_state=space["random_state"], source=str(samples))
    doc = report.to_dict(model=None if latent is None else model_doc(latent.model, space["model"]),
                         map=None if latent is None else map_doc(latent.som, space["som"]))
    if csv_path:
        report.write_csv(csv_path)
        note(f"wrote {csv_path}")
    if as_json:
        emit_json(doc)
    else:
        write_samples_text(doc, click.echo)
    validity = doc["validity"]["new"]["value"]
    if min_validity is None:
        return
    if validity is None:  # only copies: the gate fails rather than passing unseen, as in the latent audit
        note(f"no new samples (all {doc['n']} are copies of training items), so no new-sample validity "
             f"reaches --min-validity {min_validity:g}")
        raise SystemExit(below_exit_code)
    if validity < min_validity:
        note(f"new-sample validity {validity:.3f} is below --min-validity {min_validity:g}")
        raise SystemExit(below_exit_code)


def _check_usage(samples, space: dict) -> None:
    """Usage errors: --near-copy without --samples, sampling options, or a map without a model."""
    ctx = click.get_current_context()
    given = {p.name: p.opts[0] for p in ctx.command.params
             if ctx.get_parameter_source(p.name) is not click.core.ParameterSource.DEFAULT}
    if samples is None:
        raise click.UsageError("--near-copy sets the near-copy threshold of --samples; give --samples FILE")
    for name in SAMPLING_ONLY:
        if name in given:
            raise click.UsageError(f"{given[name]} is about decoding latent points; --samples judges given "
                                   f"samples: leave out {given[name]} or --samples")
    if space["model"] is None:
        for name in ("som", *MAP_SETTINGS):
            if name in given:
                raise click.UsageError(f"{given[name]} sets up the map that locates encoded samples; with "
                                       "--samples it needs --model (the model that encodes them)")

