"""``genval audit``: scripted membership audits that keep copies apart from new samples."""

from __future__ import annotations

import click

from ._common import (
    FiniteFloat, OutputFile, PictureFile, ProgressBar, emit_json, json_option, map_doc, model_doc, note, open_space,
    plot_option, save_plot, space_options,
)
from genval.audit._audit import (
    MAX_SCORED, SCORE_KINDS, SCORES, STRATEGIES, VARY, audit as run_audit, compare_models, load_checks,
)
from genval.data._bitmaps import load_dataset
from genval.audit._controls import MIN_DISTINCT, N_BINS
from genval.models._protocol import model_kind

BELOW_MIN_VALIDITY = 3
COMPARED = ("copy_rate", "new_validity", "yield", "som_precision", "som_recall", "auroc_som_distance")


def _map_file(doc: dict) -> str:
    """`` from map.npz`` for a map given by --map, else nothing."""
    return "" if doc["file"] is None else f" from {doc['file']}"


def _fmt(value, digits: int = 3) -> str:
    if isinstance(value, dict):
        value = value["value"]
    return "n/a" if value is None else f"{value:.{digits}f}"


def _fraction(ratio: dict) -> str:
    """``0.187 = 560 / 2997``: a ratio with its numerator and denominator."""
    return f"{_fmt(ratio)} = {ratio['numerator']} / {ratio['denominator']}"


def _print_report(doc: dict) -> None:
    new, every = doc["new"], doc["all"]
    r = new["ratios"]
    copies = doc["copies"]
    click.echo(f"audit '{doc['strategy']}' of {doc['dataset']}: {doc['n']} samples, checks: {doc['checks']['title']}, "
               f"map {doc['grid'][0]}x{doc['grid'][1]}{_map_file(doc['map'])}, seed {doc['seed']}")
    rate = copies["rate"]
    click.echo(f"copies: {rate['numerator']} of {rate['denominator']} samples equal a training item: copy rate "
               f"{_fmt(rate)} ({copies['distinct_items']} distinct training items reproduced)")
    click.echo(f"  {'':<16}{'new samples':<24}all samples, copies included")
    for name, meaning in (("validity", "valid / samples"),
                          ("uniqueness", "distinct valid / valid; new: the yield"),
                          ("novelty", "new distinct valid / distinct valid")):
        click.echo(f"  {name:<16}{_fraction(r[name]):<24}{_fraction(every['ratios'][name]):<30}{meaning}")
    _print_null(doc["null_model"])
    click.echo("failures per check:       new samples   all samples")
    for name, count in new["failures"].items():
        click.echo(f"  {name:<22}  {count:>11}   {every['failures'][name]:>11}")
    s, sa = new["som_agreement"], every["som_agreement"]
    t, ta = s["table"], sa["table"]
    click.echo("the Kohonen map (is the sample's neuron occupied by a training item?):")
    click.echo(f"  {'':<16}{'new samples':<24}all samples, copies included")
    click.echo(f"  {'':<16}{'valid':>8}{'invalid':>9}{'':7}{'valid':>8}{'invalid':>9}")
    for where in ("occupied", "empty"):
        click.echo(f"  {where + ' neuron':<16}{t[where + '_valid']:>8}{t[where + '_invalid']:>9}{'':7}"
                   f"{ta[where + '_valid']:>8}{ta[where + '_invalid']:>9}")
    click.echo(f"  {'precision':<16}{_fraction(s['precision']):<24}{_fraction(sa['precision']):<30}"
               "valid among occupied")
    click.echo(f"  {'recall':<16}{_fraction(s['recall']):<24}{_fraction(sa['recall']):<30}occupied among valid")
    _print_controls(doc)
    _print_novelty(doc["novelty"])
    m = doc["membership"]
    click.echo(f"rule-free membership, k = {m['k']}, N = {m['n_real']} training items, M = {m['n_fake']} samples"
               + ("" if m["n_fake"] == doc["n"] else f" (a seeded subsample of {MAX_SCORED:,})") + ":")
    if "pixels" in m:
        names = ("precision", "recall", "density", "coverage", "authenticity")
        click.echo(f"  {'':<20}" + "".join(f"{n:>13}" for n in names))
        for where in ("pixels", "latent"):
            label = f"{where} ({m[where]['metric']})"
            click.echo(f"  {label:<20}" + "".join(f"{_fmt(m[where][n]):>13}" for n in names))
    else:
        click.echo(f"  {m['note']}")
    click.echo(f"crispness {_fmt(doc['crispness'])} (share of decoded pixels below 0.1 or above 0.9; 1 = every "
               "pixel decided)")


def _print_clipping(models: dict) -> None:
    """Say which models were made elsewhere: their decoded pixels are clipped to [0, 1]."""
    foreign = [f"{label} ({m['kind']})" for label, m in models.items() if m["kind"] in ("pca", "onnx", "python")]
    if foreign:
        click.echo(f"{', '.join(foreign)}: made outside genval; decoded pixels clipped to [0, 1] (a PCA's "
                   "inverse_transform is unbounded)")


_VERDICT_MARK = {"beats": ">", "no better than": "=", "worse than": "<"}
_STRATA = (("all", "all new samples"), ("inside_hull", "inside the codes' hull"),
           ("matched", "matched by nearest code"))


def _control_cell(row: dict | None, best: bool) -> str:
    """``0.995 [-0.005,+0.008] =``: the AUROC, the 95% interval of its difference to the best baseline, a mark."""
    if row is None or row["auroc"] is None:
        return "n/a"
    text = f"{row['auroc']:.3f}"
    if best:
        return text + " (best baseline)"
    if "vs_best_baseline" in row:
        lo, hi = row["vs_best_baseline"]["interval"]
        text += f" [{lo:+.3f},{hi:+.3f}] {_VERDICT_MARK[row['verdict']]}"
    return text


def _by_kind(scores) -> list[str]:
    """Score names as the tables list them: the baselines first, then the map's, the decoder's, the rest."""
    order = ("baseline", "map", "decoder", "density", "pixels")
    names = [n for n in (*SCORES, "chance") if n in scores]
    return sorted(names, key=lambda n: order.index(SCORE_KINDS[n]) if SCORE_KINDS.get(n) in order else len(order))


def _print_controls(doc: dict) -> None:
    """Every score's AUROC in three strata beside the best map-free baseline, with counts and verdicts."""
    controls, scores = doc["controls"], doc["scores"]
    click.echo(f"scores as predictors of validity on {scores['samples']['new']} new samples (AUROC: 1 perfect, "
               "0.5 chance), hull " + (f"{doc['hull']['method']} in {doc['hull']['dims']}-D" if "dims" in doc["hull"]
                                       else "n/a") + ":")
    if "strata" not in controls:
        click.echo(f"  {controls['note']}")
        return
    strata = controls["strata"]
    width = 27
    click.echo(f"  {'':<29}" + "".join(f"{label:<{width}}" for _, label in _STRATA))
    click.echo(f"  {'samples valid / invalid':<29}" + "".join(
        f"{strata[k]['n_valid']} / {strata[k]['n_invalid']}".ljust(width) for k, _ in _STRATA))
    click.echo(f"  {'distinct bitmaps':<29}" + "".join(
        (f"{strata[k]['distinct_valid']} / {strata[k]['distinct_invalid']}"
          + ("" if strata[k]["ranked"] else " (not ranked)")).ljust(width) for k, _ in _STRATA))
    for name in _by_kind(strata["all"]["scores"]):
        kind = SCORE_KINDS.get(name, "")
        click.echo(f"  {kind:<9}{name:<20}" + "".join(
            _control_cell(strata[k]["scores"].get(name), strata[k]["best_baseline"] == name).ljust(width)
            for k, _ in _STRATA).rstrip())
    click.echo("  [lo,hi]: 95% interval of the AUROC's difference to the stratum's best baseline "
               f"({controls['n_bootstrap']} resamples of distinct bitmaps);\n  > beats it, = no better, < worse; "
               f"not ranked: fewer than {controls['min_distinct']} distinct valid or invalid bitmaps; matched: valid "
               f"and invalid\n  samples paired only within {N_BINS} equal-count bins of their distance to the nearest "
               "training code")
    for line in controls["summary"]:
        click.echo(f"  {line}")


_NULL_SOURCES = (("coin_flip", "coin flips"), ("pixel_frequency", "pixel-frequency draws"),
                 ("blend", "blends of two items"), ("held_out", "held-out items"))


def _print_null(null: dict) -> None:
    """How often the checks pass bitmaps nobody designed: the floor a validity figure stands on."""
    shown = [f"{label} {null['sources'][key]['value']:.1%}" for key, label in _NULL_SOURCES
             if null["sources"].get(key) is not None]
    click.echo(f"  null model: the checks pass {', '.join(shown)} ({null['n']} draws each; --json for copies and "
               "per check)")
    if null["warning"]:
        click.echo(f"  warning: {null['warning']}")


def _print_novelty(novelty: dict) -> None:
    """The distances of the new valid bitmaps to the training items, and the yield at the novelty floor."""
    shown = ", ".join(f"{d} px: {c}" for d, c in novelty["histogram"].items()) or "none"
    median = "n/a" if novelty["median"] is None else f"{novelty['median']:g}"
    click.echo(f"novelty of the distinct new valid bitmaps (pixels to the nearest training item: count): {shown}; "
               f"median {median}; yield at --min-novelty {novelty['min_novelty']}: {novelty['yield_at_floor']}")


def _cell(figure: dict, digits: int = 3) -> str:
    """``0.994 ±0.002``; an interval clipped to a figure's range is not symmetric: ``0.987 [0.958,1.000]``."""
    text = _fmt(figure["value"], digits) if figure["value"] is not None else "n/a"
    if figure["interval"] is not None:
        lo, hi = figure["interval"]
        if abs((figure["value"] - lo) - (hi - figure["value"])) > 0.5 * 10 ** -digits:
            text += f" [{lo:.{digits}f},{hi:.{digits}f}]"
        else:
            text += f" ±{(hi - lo) / 2:.{digits}f}"
    return text


_CONTROLLED = (("auroc_hull_depth", "hull depth"), ("auroc_som_distance", "map dist"),
               ("auroc_nearest_code", "nearest code"), ("inside_hull_auroc_hull_depth", "in: hull"),
               ("inside_hull_auroc_som_distance", "in: map"), ("inside_hull_distinct_invalid", "in: inv."),
               ("matched_auroc_hull_depth", "matched: hull"), ("matched_auroc_som_distance", "matched: map"),
               ("yield_at_floor", "yield@floor"))


def _print_controlled_rows(doc: dict, width: int) -> None:
    """The map's distance beside the map-free baselines, on all new samples, inside the hull and matched."""
    click.echo("")
    click.echo("controlled: AUROC on new samples of the map's distance beside the map-free baselines, on all of "
               "them, inside the codes' hull\n(in:, with its distinct invalid bitmaps) and matched by nearest-code "
               "distance; runs = independent sample sets / maps (identical ones count once);\nevery score, each "
               "stratum's verdict and bootstrap intervals: --json, or one audit's text report:")
    width = max(width, 22)
    click.echo(f"{'model':<12}{'strategy':<10}{'runs':>6}" + "".join(f"{h:>{width}}" for _, h in _CONTROLLED))
    marked = False
    for row in doc["rows"]:
        f = row["figures"]
        cells = []
        for key, _ in _CONTROLLED:
            figure = f.get(key)
            counted = key.endswith("distinct_invalid") or key == "yield_at_floor"
            text = "n/a" if figure is None else _cell(figure, (1 if figure["interval"] else 0) if counted else 3)
            stratum = next((s for s in ("inside_hull", "matched") if key.startswith(s)), "all")
            ranked = f.get(f"{stratum}_ranked", {}).get("per_seed") or [1.0]
            if "auroc" in key and figure is not None and figure["value"] is not None and min(ranked) < 1:
                text, marked = text + "*", True
            cells.append(text)
        runs = row["independent_runs"]
        click.echo(f"{row['label']:<12}{row['strategy']:<10}{str(runs['samples']) + '/' + str(runs['maps']):>6}"
                   + "".join(f"{c:>{width}}" for c in cells))
    if marked:
        click.echo(f"* in at least one run this stratum held fewer than {MIN_DISTINCT} distinct valid or invalid "
                   "bitmaps: printed, not ranked (see --json)")


def _print_comparison(doc: dict) -> None:
    rows = doc["rows"]
    heads = {"copy_rate": "copy rate", "new_validity": "new validity", "yield": "yield", "som_precision": "map prec",
             "som_recall": "map recall", "auroc_som_distance": "AUROC map dist"}
    width = 17 if len(doc["seeds"]) > 1 else 15
    click.echo(f"{'model':<12}{'strategy':<10}" + "".join(f"{heads[h]:>{width}}" for h in COMPARED))
    for row in rows:
        f = row["figures"]
        click.echo(f"{row['label']:<12}{row['strategy']:<10}"
                   + "".join(f"{_cell(f[h], (1 if f[h]['interval'] else 0) if h == 'yield' else 3):>{width}}"
                             for h in COMPARED))
    click.echo("")
    _print_controlled_rows(doc, width)
    runs = [run["membership"] for run in doc["runs"] if "pixels" in run["membership"]]
    if runs:
        ms = sorted({m["n_fake"] for m in runs})
        click.echo("")
        click.echo(f"rule-free membership in pixel space, k = {runs[0]['k']}, N = {runs[0]['n_real']} training "
                   f"items, M = {ms[0] if len(ms) == 1 else f'{ms[0]} to {ms[-1]}'} samples per run "
                   "(latent space: --json):")
        names = ("precision", "recall", "density", "coverage", "authenticity")
        width = 17 if len(doc["seeds"]) > 1 else 14
        click.echo(f"{'model':<12}{'strategy':<10}" + "".join(f"{n:>{width}}" for n in names))
        for row in rows:
            f = row["figures"]
            click.echo(f"{row['label']:<12}{row['strategy']:<10}" + "".join(
                f"{_cell(f[f'pixels_{n}']) if f'pixels_{n}' in f else 'n/a':>{width}}" for n in names))
    if doc["skipped"]:
        click.echo("")
        click.echo("skipped (nothing to sample there):")
        for s in doc["skipped"]:
            click.echo(f"  {s['label']} {s['strategy']}: {s['reason']}")


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
@space_options(sampling=True)
@json_option
def audit(strategy, n_points, compare_all, repeats, vary, min_novelty, rules, with_vae, with_pca, csv_path, sheet, roc,
          plot, min_validity, space, as_json):
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
    """
    if compare_all and click.get_current_context().get_parameter_source("strategy") is not \
            click.core.ParameterSource.DEFAULT:
        raise click.UsageError("--compare runs every strategy; leave out --strategy (or --compare, for one)")
    if compare_all and (csv_path or sheet or roc):
        raise click.UsageError("--csv, --sheet and --roc describe one audit; leave out --compare")
    if with_vae and not compare_all:
        raise click.UsageError("--vae adds a variational autoencoder to --compare; use both")
    if with_pca and not compare_all:
        raise click.UsageError("--pca adds a PCA baseline to --compare; use both")
    if "model" in vary and space["model"]:
        raise click.UsageError("--vary model retrains the set's default model from each seed; leave out --model")
    if "model" in vary and repeats == 1:
        raise click.UsageError("--vary model needs --repeats 2 or more (one seed is one model)")
    if repeats > 1 and (csv_path or sheet or roc) and not compare_all:
        raise click.UsageError("--csv, --sheet and --roc describe one audit; leave out --repeats")
    if repeats > 1 and space["som"] is not None:
        raise click.UsageError(f"--repeats fits a new map for each seed, and --map {space['som']} is one fitted map; "
                               "leave out --repeats or --map")
    bitmaps = load_dataset(space["dataset"])
    checks = load_checks(bitmaps, rules)  # a bad rule file fails before any model trains
    model_file, map_file = space["model"], space["som"]
    space = dict(space, dataset=bitmaps)
    random_state = space["random_state"]
    if compare_all or repeats > 1:
        main = open_space(space)
        # A model made elsewhere is labelled by its kind (onnx, python, pca), genval's own "autoencoder" as before.
        kind = model_kind(main.model)
        label = "autoencoder" if kind in ("autoencoder", "vae") else "model" if kind == "pca" and with_pca else kind
        spaces = {label: main}
        from sklearn.base import clone

        if with_vae:  # the VAE's codes need a map of their own: one with the main map's settings
            spaces["vae"] = open_space(dict(space, model=None, som=clone(main.som)), kind="vae")
        if with_pca:  # a PCA is the same from every seed: --vary model keeps it
            from genval.models._external import pca_model

            spaces["pca"] = open_space(dict(space, model=pca_model(bitmaps, main.codes.shape[1]), som=clone(main.som)))
        strategies = STRATEGIES if compare_all else (strategy,)
        # Each seed's model trains (or comes from the cache) before the audits start, with its own progress bar.
        retrained = {(name, seed): spaces[name] if name == "pca" else
                     open_space(dict(space, model=None, model_seed=seed), kind=name)
                     for name in spaces for seed in range(random_state, random_state + repeats)} \
            if "model" in vary else {}
        with ProgressBar() as bar:
            bar.start(len(spaces) * len(strategies) * repeats, "audits done (strategies x seeds)")
            comparison = compare_models(spaces, strategies, n_points, checks, random_state, repeats,
                                        progress=bar.points, vary=vary,
                                        rebuild=lambda label, seed: retrained[label, seed], min_novelty=min_novelty)
        if not compare_all and comparison.skipped:  # the one strategy asked for cannot run: say why, as one audit does
            raise click.ClickException(comparison.skipped[0][2])
        doc = {"dataset": bitmaps.title, "seed": random_state, "n": n_points, "repeats": repeats,
               "models": {name: model_doc(s.model, None if name == "pca" else model_file
                                          if name == label and model_file else "default")
                          for name, s in spaces.items()},
               "maps": {name: map_doc(s.som, map_file if name == label else None) for name, s in spaces.items()},
               **comparison.to_dict()}
        for run in doc["runs"]:  # each run reads as a single audit's document, with its model's label and map
            run["model"] = doc["models"][run["label"]]
            run["map"] = doc["maps"][run["label"]]
        if plot:
            from genval.plotting._plotting import plot_comparison

            rows = [{"label": f"{row['strategy']}" if len(spaces) == 1 else f"{row['label']} {row['strategy']}",
                     **{name: row["figures"][name] for name in ("copy_rate", "new_validity", "yield",
                                                                "yield_at_floor")}}
                    for row in doc["rows"]]
            seeds = "" if repeats == 1 else f", {repeats} seeds"
            title = f"{bitmaps.title}: strategies compared ({n_points} samples each{seeds})"
            save_plot(plot_comparison(rows, title=title, min_novelty=min_novelty if min_novelty > 1 else None), plot)
        if as_json:
            emit_json(doc)
        else:
            grid = main.som.grid_
            seeds = f"seed {random_state}" if repeats == 1 else \
                (f"seeds {random_state}-{random_state + repeats - 1} varying the {' and the '.join(vary)} "
                 "(mean ±95% interval half-width over the independent runs)")
            click.echo(f"{bitmaps.title}, checks: {checks.title}, map {grid[0]}x{grid[1]}"
                       f"{_map_file(doc['maps']['autoencoder'])}, {seeds}, n {n_points}")
            _print_null(doc["runs"][0]["null_model"])
            _print_comparison(doc)
            _print_clipping(doc["models"])
        worst = comparison.min_validity()
    else:
        latent = open_space(space)
        with ProgressBar(f"auditing ({strategy}): points decoded") as bar:
            report = run_audit(latent, strategy, n_points, checks, random_state=random_state, progress=bar.points,
                               min_novelty=min_novelty)
        doc = dict(report.to_dict(), model=model_doc(latent.model, model_file or "default"),
                   map=map_doc(latent.som, map_file))
        if csv_path:
            report.write_csv(csv_path)
            note(f"wrote {csv_path}")
        if sheet:
            from genval.plotting._plotting import plot_audit_sheet

            save_plot(plot_audit_sheet(report, bitmaps.shape), sheet)
        if roc:
            from genval.plotting._plotting import plot_roc_panels

            groups = {"map-free baselines": [], "the Kohonen map": [], "decoder, density, pixels": []}
            for name in _by_kind(report.scores):
                kind = SCORE_KINDS[name]
                groups["map-free baselines" if kind == "baseline" else "the Kohonen map" if kind == "map"
                       else "decoder, density, pixels"].append(name)
            save_plot(plot_roc_panels(report.roc(), groups, title=f"{bitmaps.title}, '{strategy}' audit: which "
                                                                  "score tells valid new samples? (all new samples; "
                                                                  "the strata and intervals: the text report)"), roc)
        if plot:
            from genval.plotting._plotting import plot_audit_plane

            save_plot(plot_audit_plane(report, latent), plot)
        if as_json:
            emit_json(doc)
        else:
            _print_report(doc)
            _print_clipping({"model": doc["model"]})
        worst = doc["new"]["ratios"]["validity"]["value"]
        if worst is None and min_validity is not None:
            # Nothing new to judge: a model that only copies fails the gate rather than passing it unseen.
            note(f"no new samples (all {doc['n']} are copies of training items), so no new-sample validity "
                 f"reaches --min-validity {min_validity:g}")
            raise SystemExit(BELOW_MIN_VALIDITY)
    if min_validity is not None and worst < min_validity:
        note(f"new-sample validity {worst:.3f} is below --min-validity {min_validity:g}")
        raise SystemExit(BELOW_MIN_VALIDITY)
