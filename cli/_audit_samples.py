"""``genval audit --samples FILE``: judge generated samples from a file against the training set."""

from __future__ import annotations

import functools

import click

from ._common import MAP_SETTINGS, emit_json, map_doc, model_doc, note, open_space

# The audit's options that describe sampling the latent space: they have no meaning for given samples.
SAMPLING_ONLY = ("strategy", "n_points", "compare_all", "repeats", "vary", "min_novelty", "with_vae", "with_pca",
                 "sheet", "roc", "plot")


def samples_options(command):
    """``--samples FILE``, ``--near-copy PIXELS`` and ``--features FILE.npy``, given to the command as one
    ``given_samples`` dict (None when none of them is given)."""
    options = [
        click.option(
            "--samples", "samples", type=click.Path(dir_okay=True), default=None, metavar="FILE",
            help="Judge these generated bitmaps or grey images (any format --dataset reads, of the set's shape) "
                 "instead of decoding latent points: copies and near-copies of training items, validity with the "
                 "checks' null model, k-NN precision/recall/density/coverage in pixel space, and, with --model, in "
                 "latent space with each sample's neuron on the map; --csv: one row per sample with every score. "
                 "Example: genval audit --samples gen.npy --dataset digits --csv per-sample.csv"),
        click.option(
            "--near-copy", "near_copy", type=click.IntRange(min=1), default=None, metavar="PIXELS",
            help="With --samples: a sample this many pixels or fewer (Hamming distance, after thresholding at 0.5) "
                 "from a training item is a near-copy. Default: half the median distance from a training bitmap "
                 "to its nearest other one, at least 1. Example: --samples gen.npy --near-copy 3"),
        click.option(
            "--features", "features", type=click.Path(dir_okay=False), default=None, metavar="FILE.npy",
            help="With --samples: a .npy of (n_training + n_samples, d) features of your own (the training items' "
                 "rows first, then the samples'), for the k-NN metrics and a realism score in that space too. "
                 "Example: --samples gen.npy --features inception.npy"),
    ]

    @functools.wraps(command)
    def wrapper(**kwargs):
        given = {name: kwargs.pop(name) for name in ("samples", "near_copy", "features")}
        return command(given_samples=given if any(v is not None for v in given.values()) else None, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def audit_given_samples(given: dict, space: dict, rules, csv_path, min_validity, as_json,
                        below_exit_code: int) -> None:
    """Run the samples audit the options ask for and print or emit it; exit ``below_exit_code`` below
    --min-validity (or when every sample is a copy)."""
    from genval.audit._judging import load_checks
    from genval.audit._samples import audit_samples
    from genval.audit._samples_report import write_samples_text
    from genval.data._bitmaps import load_dataset

    samples = given["samples"]
    _check_usage(given, space)
    training = load_dataset(space["dataset"])
    checks = load_checks(training, rules)
    h, w = training.shape
    generated = load_dataset(samples, shape=(h, w), width=w)
    features = None if given["features"] is None else _load_features(given["features"])
    latent = None
    if space["model"] is not None:
        latent = open_space(dict(space, dataset=training))
    report = audit_samples(generated, training, checks, latent, near_copy=given["near_copy"],
                           random_state=space["random_state"], source=str(samples), features=features)
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


def _load_features(path):
    """The features file, memory-mapped (only the rows measured are read)."""
    import numpy as np

    try:
        features = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{path}: not a readable .npy array of features ({exc})") from None
    if not isinstance(features, np.ndarray):  # a .npz archive
        raise click.ClickException(f"{path}: an archive of arrays; expected one .npy array of features")
    return features


def _check_usage(given: dict, space: dict) -> None:
    """Usage errors: --near-copy or --features without --samples, sampling options, or a map without a model."""
    samples = given["samples"]
    ctx = click.get_current_context()
    set_here = {p.name: p.opts[0] for p in ctx.command.params
                if ctx.get_parameter_source(p.name) is not click.core.ParameterSource.DEFAULT}
    if samples is None:
        option = "--near-copy" if given["near_copy"] is not None else "--features"
        raise click.UsageError(f"{option} belongs to --samples FILE (the samples it describes); give --samples")
    for name in SAMPLING_ONLY:
        if name in set_here:
            raise click.UsageError(f"{set_here[name]} is about decoding latent points; --samples judges given "
                                   f"samples: leave out {set_here[name]} or --samples")
    if space["model"] is None:
        for name in ("som", *MAP_SETTINGS):
            if name in set_here:
                raise click.UsageError(f"{set_here[name]} sets up the map that locates encoded samples; with "
                                       "--samples it needs --model (the model that encodes them)")

