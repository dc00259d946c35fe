"""``genval audit``: scripted membership audits that keep copies apart from new samples."""

from __future__ import annotations

import click

from ._audit_samples import audit_given_samples, samples_options
from ._common import (
    FiniteFloat, OutputFile, PictureFile, ProgressBar, emit_json, json_option, map_doc, model_doc, note, open_space,
    plot_option, save_plot, space_options,
)
from genval.audit._audit import audit as run_audit
from genval.audit._bootstrap import N_RESAMPLES
from genval.audit._compare import VARY, compare_models
from genval.audit._judging import load_checks
from genval.audit._scores import SCORE_KINDS
from genval.audit._strategies import STRATEGIES
from genval.audit._text import by_kind, map_file_text, write_clipping, write_comparison, write_null, write_report
from genval.data._bitmaps import load_dataset
from genval.models._protocol import model_kind

BELOW_MIN_VALIDITY = 3
MAX_RESAMPLES = 100_000  # the bootstrap's cost grows with it; 1,000 resamples pin a 95% interval well


@click.command(epilog=f"Exit codes: 0 done; 1 bad input; 2 bad usage; {BELOW_MIN_VALIDITY} new-sample validity "
                      "below --min-validity (for --compare: in any strategy but copycat).")
@click.option("--strategy", type=click.Choice(STRATEGIES), default="random", show_default=True,
              help="How latent points are chosen (copycat returns training items: the memorisation reference).")
@click.option("--n", "-n", "n_points", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Points to audit (lines/som-path split them over the pairs sharing a neuron).")
@click.option("--compare", "compare_all", is_flag=True, help="Run every strategy and print one table side by side.")
@click.option("--repeats", type=click.IntRange(min=1, max=100), default=1, show_default=True,
              help="Seeds, from --seed on (what they vary: --vary); figures get a mean and a 95% interval over "
                   "the independent runs (identical sample sets count once).")
@click.option("--vary", type=click.Choice(VARY), multiple=True, default=("map", "sample"), show_default=True,
              help="What each repeat's seed varies (repeatable): 'model' retrains the default model from it "
                   "(cached), 'map' refits the map, 'sample' redraws the points.")
@click.option("--min-novelty", type=click.IntRange(min=1), default=1, show_default=True, metavar="PIXELS",
              help="The novelty floor: the yield at the floor counts new valid bitmaps at least this many pixels "
                   "from every training item (1: every new one).")
@click.option("--vae", "with_vae", is_flag=True,
              help="With --compare: add the set's default variational autoencoder (trained on first use, cached) "
                   "under every strategy and its prior, beside the autoencoder.")
@click.option("--pca", "with_pca", is_flag=True,
              help="With --compare: add scikit-learn's PCA with as many components as the autoencoder's latent "
                   "width (a linear autoencoder baseline; its decoded pixels clipped to [0, 1]) under every "
                   "strategy, beside the autoencoder.")
@click.option("--rules", type=click.Path(dir_okay=False), default=None, metavar="FILE.toml",
              help="Checks from a rule file; default: the emoji rules for emojis, generic checks otherwise.")
@click.option("--csv", "csv_path", type=OutputFile(), default=None, metavar="FILE.csv",
              help="One row per sample: point, neuron, map distance, hits, bitmap as 0/1, verdict, failed checks, "
                   "novel, copy_of, item_distance, every score (score_NAME).")
@click.option("--sheet", type=PictureFile(), default=None, metavar="FILE.png",
              help="Contact sheet of the most frequent valid and invalid bitmaps.")
@click.option("--roc", type=PictureFile(), default=None, metavar="FILE.png",
              help="ROC curves of every membership score as a predictor of validity on new samples.")
@plot_option
@click.option("--min-validity", type=FiniteFloat(0, 1), default=None,
              help=f"Exit with code {BELOW_MIN_VALIDITY} when new-sample validity falls below this.")
@click.option("--resamples", "n_resamples", type=click.IntRange(0, MAX_RESAMPLES), default=N_RESAMPLES,
              show_default=True, metavar="N",
              help=f"Bootstrap resamples of the samples for the intervals over samples of one audit (and of the "
                   f"held-out items with --samples --holdout); 0 turns the bootstrap off; at most {MAX_RESAMPLES:,}. "
                   "Example: genval audit --resamples 200")
@samples_options
@space_options(sampling=True)
@json_option
def audit(strategy, n_points, compare_all, repeats, vary, min_novelty, rules, with_vae, with_pca, csv_path, sheet, roc,
          plot, min_validity, n_resamples, given_samples, space, as_json):
    """Decode many latent points, judge each, and report what is new apart from what is copied.

    Every sample is a copy (its bitmap equals a training item's) or new.
    Copies pass by construction, so the report leads with the copy rate and
    the figures on new samples: validity = valid new / new, the yield =
    distinct new valid bitmaps, failures per check, and whether the Kohonen
    map's verdict (the sample's neuron holds training items) agrees with the
    checks, beside the checks' null model (how often they pass coin flips,
    pixel-frequency draws and blends of two items) and how far the new valid
    bitmaps lie from the training items. Then the AUROC of every membership
    score (the map's distance, occupied flag, hit count, U-matrix height and
    relative quantization error; the decoder's confidence and stability; a
    Gaussian mixture's density; k-NN realism) as a predictor of validity,
    beside map-free baselines (the depth inside the codes' convex hull, the
    nearest code, the box's centre) on all new samples, inside the hull and
    matched by nearest-code distance, each with a bootstrap interval over
    distinct bitmaps and a verdict; rule-free k-NN precision, recall,
    density, coverage and authenticity (k = 5), and crispness. --plot draws
    the points on the latent plane (with --compare: a chart of the
    strategies).

    \b
    Examples:
      genval audit --strategy random -n 10000 --seed 0 --grid 3x3
      genval audit --compare --repeats 5 --grid 3x3 --plot strategies.png
      genval audit --compare --repeats 5 --vary model --vary map --vary sample
      genval audit --strategy regions --min-novelty 2 --grid 3x3
      genval audit --compare --vae --grid 3x3       # plain AE beside a VAE
      genval audit --compare --pca --grid 3x3       # beside a PCA of the same width
      genval audit --model mymodels:vae --grid 3x3  # a model of your own (import path)
      genval audit --model enc.onnx,dec.onnx        # or exported to ONNX
      genval audit --strategy gmm --grid 3x3 --csv samples.csv --sheet sheet.png --roc roc.png
      genval audit --rules my.rules.toml --min-validity 0.2 --json
      genval audit --compare --map map.npz          # the map of genval som --out map.npz
      genval audit --samples gen.npy --model model.npz --csv per-sample.csv   # samples made elsewhere
      genval audit --samples gen.npy --dataset train.npy --holdout test.npy  # memorisation, held-out items
      genval audit --samples gen.npy --dataset digits --holdout-fraction 0.2 --resamples 200
    """
    if given_samples:
        return audit_given_samples(given_samples, space, rules, csv_path, min_validity, as_json, BELOW_MIN_VALIDITY,
                                   n_resamples)
    strategy_given = click.get_current_context().get_parameter_source("strategy") is not \
        click.core.ParameterSource.DEFAULT
    _check_options(compare_all, strategy_given, repeats, vary, with_vae, with_pca, bool(csv_path or sheet or roc),
                   space)
    if (compare_all or repeats > 1) and click.get_current_context().get_parameter_source("n_resamples") is not \
            click.core.ParameterSource.DEFAULT:
        raise click.UsageError("--resamples sets the bootstrap of one audit; --compare and --repeats give intervals "
                               "over seeds: leave out --resamples")
    bitmaps = load_dataset(space["dataset"])
    checks = load_checks(bitmaps, rules)  # a bad rule file fails before any model trains
    space = dict(space, dataset=bitmaps)
    if compare_all or repeats > 1:
        strategies = STRATEGIES if compare_all else (strategy,)
        worst = _run_comparison(space, checks, strategies, n_points, repeats, vary, min_novelty, with_vae, with_pca,
                                plot, as_json)
    else:
        doc = _run_single(space, checks, strategy, n_points, min_novelty, csv_path, sheet, roc, plot, as_json,
                          n_resamples)
        worst = doc["new"]["ratios"]["validity"]["value"]
        if worst is None and min_validity is not None:
            # Nothing new to judge: a model that only copies fails the gate rather than passing it unseen.
            note(f"no new samples (all {doc['n']} are copies of training items), so no new-sample validity "
                 f"reaches --min-validity {min_validity:g}")
            raise SystemExit(BELOW_MIN_VALIDITY)
    if min_validity is not None and worst < min_validity:
        note(f"new-sample validity {worst:.3f} is below --min-validity {min_validity:g}")
        raise SystemExit(BELOW_MIN_VALIDITY)


def _check_options(compare_all: bool, strategy_given: bool, repeats: int, vary, with_vae: bool, with_pca: bool,
                   one_audit_files: bool, space: dict) -> None:
    """Usage errors: options that do not go together."""
    if compare_all and strategy_given:
        raise click.UsageError("--compare runs every strategy; leave out --strategy (or --compare, for one)")
    if compare_all and one_audit_files:
        raise click.UsageError("--csv, --sheet and --roc describe one audit; leave out --compare")
    if with_vae and not compare_all:
        raise click.UsageError("--vae adds a variational autoencoder to --compare; use both")
    if with_pca and not compare_all:
        raise click.UsageError("--pca adds a PCA baseline to --compare; use both")
    if "model" in vary and space["model"]:
        raise click.UsageError("--vary model retrains the set's default model from each seed; leave out --model")
    if "model" in vary and repeats == 1:
        raise click.UsageError("--vary model needs --repeats 2 or more (one seed is one model)")
    if repeats > 1 and one_audit_files and not compare_all:
        raise click.UsageError("--csv, --sheet and --roc describe one audit; leave out --repeats")
    if repeats > 1 and space["som"] is not None:
        raise click.UsageError(f"--repeats fits a new map for each seed, and --map {space['som']} is one fitted map; "
                               "leave out --repeats or --map")


def _open_spaces(space: dict, with_vae: bool, with_pca: bool) -> tuple[str, dict]:
    """The main model's label and every model's space: the main one, and the VAE and PCA beside it when asked."""
    from sklearn.base import clone

    main = open_space(space)
    # A model made elsewhere is labelled by its kind (onnx, python, pca), genval's own "autoencoder" as before.
    kind = model_kind(main.model)
    label = "autoencoder" if kind in ("autoencoder", "vae") else "model" if kind == "pca" and with_pca else kind
    spaces = {label: main}
    if with_vae:  # the VAE's codes need a map of their own: one with the main map's settings
        spaces["vae"] = open_space(dict(space, model=None, som=clone(main.som)), kind="vae")
    if with_pca:  # a PCA is the same from every seed: --vary model keeps it
        from genval.models._external import pca_model

        spaces["pca"] = open_space(dict(space, model=pca_model(space["dataset"], main.codes.shape[1]),
                                        som=clone(main.som)))
    return label, spaces


def _run_comparison(space: dict, checks, strategies, n_points: int, repeats: int, vary, min_novelty: int,
                    with_vae: bool, with_pca: bool, plot, as_json: bool) -> float:
    """Audit every model under the strategies over the seeds; print or plot the table; the lowest new validity."""
    bitmaps, random_state, model_file, map_file = space["dataset"], space["random_state"], space["model"], space["som"]
    label, spaces = _open_spaces(space, with_vae, with_pca)
    # Each seed's model trains (or comes from the cache) before the audits start, with its own progress bar.
    retrained = {(name, seed): spaces[name] if name == "pca" else
                 open_space(dict(space, model=None, model_seed=seed), kind=name)
                 for name in spaces for seed in range(random_state, random_state + repeats)} \
        if "model" in vary else {}
    with ProgressBar() as bar:
        bar.start(len(spaces) * len(strategies) * repeats, "audits done (strategies x seeds)")
        comparison = compare_models(spaces, strategies, n_points, checks, random_state, repeats,
                                    progress=bar.points, vary=vary,
                                    rebuild=lambda name, seed: retrained[name, seed], min_novelty=min_novelty)
    if len(strategies) == 1 and comparison.skipped:  # the one strategy asked for cannot run: say why, as one audit
        raise click.ClickException(comparison.skipped[0][2])
    doc = comparison.to_dict(
        models={name: model_doc(s.model, None if name == "pca" else model_file if name == label and model_file
                                else "default") for name, s in spaces.items()},
        maps={name: map_doc(s.som, map_file if name == label else None) for name, s in spaces.items()})
    if plot:
        _plot_comparison(doc, bitmaps.title, len(spaces), n_points, repeats, min_novelty, plot)
    if as_json:
        emit_json(doc)
    else:
        grid = spaces[label].som.grid_
        seeds = f"seed {random_state}" if repeats == 1 else \
            (f"seeds {random_state}-{random_state + repeats - 1} varying the {' and the '.join(vary)} "
             "(mean ±95% interval half-width over the independent runs)")
        click.echo(f"{bitmaps.title}, checks: {checks.title}, map {grid[0]}x{grid[1]}"
                   f"{map_file_text(doc['maps'][label])}, {seeds}, n {n_points}")
        write_null(doc["runs"][0]["null_model"], click.echo)
        write_comparison(doc, click.echo)
        write_clipping(doc["models"], click.echo)
    return comparison.min_validity()


def _plot_comparison(doc: dict, title: str, n_models: int, n_points: int, repeats: int, min_novelty: int,
                     path) -> None:
    from genval.plotting._audit import plot_comparison

    rows = [{"label": f"{row['strategy']}" if n_models == 1 else f"{row['label']} {row['strategy']}",
             **{name: row["figures"][name] for name in ("copy_rate", "new_validity", "yield", "yield_at_floor")}}
            for row in doc["rows"]]
    seeds = "" if repeats == 1 else f", {repeats} seeds"
    title = f"{title}: strategies compared ({n_points} samples each{seeds})"
    save_plot(plot_comparison(rows, title=title, min_novelty=min_novelty if min_novelty > 1 else None), path)


def _run_single(space: dict, checks, strategy: str, n_points: int, min_novelty: int, csv_path, sheet, roc, plot,
                as_json: bool, n_resamples: int) -> dict:
    """One audit: its files and pictures, then the report; its JSON document."""
    bitmaps = space["dataset"]
    latent = open_space(space)
    with ProgressBar(f"auditing ({strategy}): points decoded") as bar:
        report = run_audit(latent, strategy, n_points, checks, random_state=space["random_state"],
                           progress=bar.points, min_novelty=min_novelty, n_resamples=n_resamples)
    doc = report.to_dict(model=model_doc(latent.model, space["model"] or "default"),
                         map=map_doc(latent.som, space["som"]))
    if csv_path:
        with ProgressBar(f"writing {csv_path}: rows") as bar:  # a million rows take seconds
            report.write_csv(csv_path, progress=bar.points)
        note(f"wrote {csv_path} ({report.n_total:,} rows)")
    if sheet:
        from genval.plotting._audit import plot_audit_sheet

        save_plot(plot_audit_sheet(report, bitmaps.shape), sheet)
    if roc:
        _plot_roc(report, f"{bitmaps.title}, '{strategy}' audit: which score tells valid new samples? (all new "
                          "samples; the strata and intervals: the text report)", roc)
    if plot:
        from genval.plotting._audit import plot_audit_plane

        save_plot(plot_audit_plane(report, latent), plot)
    if as_json:
        emit_json(doc)
    else:
        write_report(doc, click.echo)
        write_clipping({"model": doc["model"]}, click.echo)
    return doc


def _plot_roc(report, title: str, path) -> None:
    """Every score's ROC curve, in panels: the map-free baselines, the map's, the rest."""
    from genval.plotting._audit import plot_roc_panels

    groups = {"map-free baselines": [], "the Kohonen map": [], "decoder, density, pixels": []}
    for name in by_kind(report.scores):
        kind = SCORE_KINDS[name]
        groups["map-free baselines" if kind == "baseline" else "the Kohonen map" if kind == "map"
               else "decoder, density, pixels"].append(name)
    save_plot(plot_roc_panels(report.roc(), groups, title=title), path)
