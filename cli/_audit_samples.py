"""``genval audit --samples FILE``: judge generated samples from a file against the training set."""

from __future__ import annotations

import functools

import click

from ._common import MAP_SETTINGS, FiniteFloat, emit_json, map_doc, model_doc, note, open_space

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
                 "latent space with each sample's neuron on the map, each figure with a 95% bootstrap interval "
                 "over the samples (--resamples N, 0: none); --csv: one row per sample with every score. "
                 "Example: genval audit --samples gen.npy --dataset digits --csv per-sample.csv"),
        click.option(
            "--near-copy", "near_copy", type=click.IntRange(min=1), default=None, metavar="PIXELS",
            help="With --samples: a sample this many pixels or fewer (Hamming distance, after thresholding at 0.5) "
                 "from a training item is a near-copy. Default: half the median distance from a training bitmap "
                 "to its nearest other one, at least 1. Example: --samples gen.npy --near-copy 3"),
        click.option(
            "--features", "features", type=click.Path(dir_okay=False), default=None, metavar="FILE.npy|MOD:FUNC",
            help="With --samples: features of your own for the k-NN metrics and a realism score in that space too: "
                 "a .npy of (n_training + n_samples, d) features (the training items' rows first, with "
                 "--holdout-fraction every --dataset item's row, then the "
                 "samples'), or an import path package.module:function (the current folder importable) of a "
                 "function from an (n, height*width) float32 array of pixels in [0, 1] to (n, d) features, called "
                 "on chunks sized by the memory budget. Examples: --features inception.npy, "
                 "--features myfeatures:embed"),
        click.option(
            "--holdout", "holdout", type=click.Path(dir_okay=True), default=None, metavar="FILE",
            help="With --samples: real items the generator never saw (any format --dataset reads, of the set's "
                 "shape), to tell memorisation from generalisation: the near-copy rate at a threshold calibrated on "
                 "them (by default, the 5th percentile of their distances to the nearest training item; "
                 "--holdout-quantile), authenticity (Alaa et al. 2022: a sample is inauthentic when it is no "
                 "farther from its nearest training item than that item is from its own nearest other one), "
                 "and the samples' distances to the nearest training item against the nearest held-out item on "
                 "sets of equal size (the larger cut to the smaller's size, the exact average over every such subset: "
                 "DCR as SDMetrics and FLD report it; share "
                 "closer to training 0.5 = no sign of memorisation), each beside the held-out items' own value, "
                 "with bootstrap intervals (--resamples). Example: --samples gen.npy --dataset train.npy "
                 "--holdout test.npy"),
        click.option(
            "--holdout-fraction", "holdout_fraction", type=FiniteFloat(min=0, max=1, min_open=True, max_open=True), default=None, metavar="F",
            help="With --samples, instead of --holdout: hold out this share of the --dataset items (seeded by "
                 "--seed; the report states the counts and seed) and judge the samples against the rest. Only "
                 "meaningful when the generator was trained on that rest: split first with "
                 "genval.audit.holdout_split(set, F, seed). Example: --samples gen.npy --holdout-fraction 0.2"),
        click.option(
            "--holdout-quantile", "holdout_quantile", type=FiniteFloat(min=0, max=1, min_open=True, max_open=True), default=None, metavar="Q",
            help="With --holdout or --holdout-fraction: the near-copy threshold is this quantile of the held-out "
                 "items' distances to their nearest training item, so about this share of new real items count "
                 "as near-copies [default: 0.05]. Example: --holdout test.npy --holdout-quantile 0.01"),
    ]

    @functools.wraps(command)
    def wrapper(**kwargs):
        given = {name: kwargs.pop(name) for name in ("samples", "near_copy", "features", "holdout",
                                                     "holdout_fraction", "holdout_quantile")}
        return command(given_samples=given if any(v is not None for v in given.values()) else None, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def audit_given_samples(given: dict, space: dict, rules, csv_path, min_validity, as_json,
                        below_exit_code: int, n_resamples: int) -> None:
    """Run the samples audit the options ask for and print or emit it; exit ``below_exit_code`` below
    --min-validity (or when every sample is a copy)."""
    from genval.audit._holdout import HOLDOUT_QUANTILE, holdout_split
    from genval.audit._judging import load_checks
    from genval.audit._samples import audit_samples
    from genval.audit._samples_report import write_samples_text
    from genval.data._bitmaps import load_dataset

    samples = given["samples"]
    _check_usage(given, space)
    training = load_dataset(space["dataset"])
    holdout = given["holdout_fraction"]
    # The checks are fitted on the items the samples are judged against: the training part of a split.
    checks = load_checks(training if holdout is None else holdout_split(training, holdout, space["random_state"])[0],
                         rules)
    h, w = training.shape
    generated = load_dataset(samples, shape=(h, w), width=w)
    if given["holdout"] is not None:
        holdout = load_dataset(given["holdout"], shape=(h, w), width=w)
        if tuple(holdout.shape) != (h, w):
            raise click.ClickException(f"{given['holdout']}: the held-out items are {holdout.shape[0]}x"
                                       f"{holdout.shape[1]} bitmaps, the training set {training.title} is {h}x{w}")
    features = None if given["features"] is None else _load_features(given["features"])
    latent = None
    if space["model"] is not None:
        latent = open_space(dict(space, dataset=training))
    quantile = HOLDOUT_QUANTILE if given["holdout_quantile"] is None else given["holdout_quantile"]
    report = audit_samples(generated, training, checks, latent, near_copy=given["near_copy"],
                           random_state=space["random_state"], source=str(samples), features=features,
                           holdout=holdout, holdout_quantile=quantile, n_resamples=n_resamples,
                           holdout_source=None if given["holdout"] is None else str(given["holdout"]))
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
    """The features file, memory-mapped (only the rows measured are read), or the function an import path names."""
    import os

    import numpy as np

    from genval.audit._features import IMPORT_PATH, import_features

    if IMPORT_PATH.fullmatch(path) and not os.path.exists(path):
        return import_features(path)

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
        option = next(f"--{name.replace('_', '-')}" for name, value in given.items() if value is not None)
        raise click.UsageError(f"{option} belongs to --samples FILE (the samples it describes); give --samples")
    if given["holdout"] is not None and given["holdout_fraction"] is not None:
        raise click.UsageError("--holdout gives held-out items and --holdout-fraction splits them off the set: "
                               "give one of them")
    if given["holdout_quantile"] is not None and given["holdout"] is None and given["holdout_fraction"] is None:
        raise click.UsageError("--holdout-quantile calibrates on held-out items: give --holdout FILE or "
                               "--holdout-fraction F")
    for name in SAMPLING_ONLY:
        if name in set_here:
            raise click.UsageError(f"{set_here[name]} is about decoding latent points; --samples judges given "
                                   f"samples: leave out {set_here[name]} or --samples")
    if space["model"] is None:
        for name in ("som", *MAP_SETTINGS):
            if name in set_here:
                raise click.UsageError(f"{set_here[name]} sets up the map that locates encoded samples; with "
                                       "--samples it needs --model (the model that encodes them)")

