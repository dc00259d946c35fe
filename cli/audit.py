"""``genval audit``: scripted membership audits with honest metrics."""

from __future__ import annotations

import click

from ._common import (
    OutputFile, ProgressBar, emit_json, json_option, note, open_space, plot_option, save_plot, space_options,
)
from genval.audit import STRATEGIES, audit as run_audit, compare_models, load_checks
from genval.bitmaps import load_dataset

BELOW_MIN_VALIDITY = 3


def _fmt(ratio: dict) -> str:
    return "n/a" if ratio["value"] is None else f"{ratio['value']:.3f}"


def _print_report(doc: dict) -> None:
    c, r = doc["counts"], doc["ratios"]
    click.echo(f"audit '{doc['strategy']}' of {doc['dataset']}, checks: {doc['checks']['title']}, "
               f"map {doc['grid'][0]}x{doc['grid'][1]}, seed {doc['random_state']}")
    click.echo(f"  total               {c['total']:>9}")
    click.echo(f"  valid               {c['valid']:>9}   validity   {_fmt(r['validity'])} = valid / total")
    click.echo(f"  unique valid        {c['unique_valid']:>9}   uniqueness {_fmt(r['uniqueness'])} "
               "= unique valid / valid")
    click.echo(f"  novel unique valid  {c['novel_unique_valid']:>9}   novelty    {_fmt(r['novelty'])} "
               "= novel unique valid / unique valid")
    click.echo("failures per check (samples):")
    for name, count in doc["failures"].items():
        click.echo(f"  {name:<18}  {count:>9}")
    s = doc["som_agreement"]
    t = s["table"]
    click.echo("SOM agreement (is the sample's neuron occupied by a training item?):")
    click.echo(f"  {'':<16}{'valid':>10}{'invalid':>10}")
    click.echo(f"  {'occupied neuron':<16}{t['occupied_valid']:>10}{t['occupied_invalid']:>10}")
    click.echo(f"  {'empty neuron':<16}{t['empty_valid']:>10}{t['empty_invalid']:>10}")
    click.echo(f"  precision {_fmt(s['precision'])} (valid among occupied), "
               f"recall {_fmt(s['recall'])} (occupied among valid)")
    click.echo(f"ambiguity {doc['ambiguity']['value']:.4f} (mean |pixel - 0.5|; 0.5 = every pixel crisp)")


def _print_comparison(docs: list[dict], skipped: list[str]) -> None:
    head = (f"{'model':<12}{'strategy':<10}{'total':>8}{'valid':>8}{'validity':>10}{'unique':>8}{'uniqueness':>11}"
            f"{'novel':>7}{'novelty':>9}{'SOM prec':>10}{'SOM recall':>11}{'ambiguity':>11}")
    click.echo(head)
    for d in docs:
        c, r, s = d["counts"], d["ratios"], d["som_agreement"]
        click.echo(f"{d['model']:<12}{d['strategy']:<10}{c['total']:>8}{c['valid']:>8}{_fmt(r['validity']):>10}"
                   f"{c['unique_valid']:>8}{_fmt(r['uniqueness']):>11}{c['novel_unique_valid']:>7}"
                   f"{_fmt(r['novelty']):>9}{_fmt(s['precision']):>10}{_fmt(s['recall']):>11}"
                   f"{d['ambiguity']['value']:>11.4f}")
    if skipped:
        click.echo(f"skipped (nothing to sample there: no two items share a neuron, or not a VAE): "
                   f"{', '.join(skipped)}")


@click.command(epilog=f"Exit codes: 0 done; 1 bad input; 2 bad usage; {BELOW_MIN_VALIDITY} validity below "
                      "--min-validity (for --compare: in any strategy).")
@click.option("--strategy", type=click.Choice(STRATEGIES), default="random", show_default=True,
              help="How latent points are chosen.")
@click.option("--n", "n_points", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Points to audit (lines/som-path split them over the pairs sharing a neuron).")
@click.option("--compare", "compare_all", is_flag=True, help="Run every strategy and print one table side by side.")
@click.option("--vae", "with_vae", is_flag=True,
              help="With --compare: add the set's default variational autoencoder (trained on first use, cached) "
                   "under every strategy and its prior, beside the autoencoder.")
@click.option("--rules", type=click.Path(dir_okay=False), default=None, metavar="FILE.toml",
              help="Checks from a rule file; default: the emoji rules for emojis, generic checks otherwise.")
@click.option("--csv", "csv_path", type=OutputFile(), default=None, metavar="FILE.csv",
              help="One row per sample: point, neuron, bitmap as 0/1, verdict, failed checks.")
@click.option("--sheet", type=OutputFile(), default=None, metavar="FILE.png",
              help="Contact sheet of the most frequent valid and invalid bitmaps.")
@plot_option
@click.option("--min-validity", type=click.FloatRange(0, 1), default=None,
              help=f"Exit with code {BELOW_MIN_VALIDITY} when validity falls below this.")
@space_options
@json_option
def audit(strategy, n_points, compare_all, with_vae, rules, csv_path, sheet, plot, min_validity, space, as_json):
    """Decode many latent points, check each, and report validity, uniqueness, novelty.

    Ratios come with their denominators: validity = valid / total,
    uniqueness = unique valid / valid, novelty = novel unique valid / unique
    valid (novel: identical to no training item). Also: failures per check,
    whether the Kohonen map's verdict (the sample's neuron holds training
    items) agrees with the structural one, and how undecided the decoded
    pixels are. --plot draws the audited points on the latent plane, coloured
    by verdict, over the map's cells.

    \b
    Examples:
      genval audit --strategy random --n 10000 --random-state 0
      genval audit --compare --grid 3x3
      genval audit --compare --vae --grid 3x3       # plain AE beside a VAE
      genval audit --strategy lines --grid 3x3 --csv samples.csv --sheet sheet.png --plot plane.png
      genval audit --rules my.rules.toml --min-validity 0.8 --json
    """
    if compare_all and (csv_path or sheet or plot):
        raise click.UsageError("--csv, --sheet and --plot describe one audit; leave out --compare")
    if with_vae and not compare_all:
        raise click.UsageError("--vae adds a variational autoencoder to --compare; use both")
    bitmaps = load_dataset(space["dataset"])
    checks = load_checks(bitmaps, rules)  # a bad rule file fails before any model trains
    space = dict(space, dataset=bitmaps)
    random_state = space["random_state"]
    if compare_all:
        spaces = {"autoencoder": open_space(space)}
        if with_vae:
            spaces["vae"] = open_space(dict(space, model=None), kind="vae")
        comparison = compare_models(spaces, STRATEGIES, n_points, checks, random_state)
        doc = {"dataset": bitmaps.title, "random_state": random_state, **comparison.to_dict()}
        if as_json:
            emit_json(doc)
        else:
            grid = spaces["autoencoder"].som.grid_
            click.echo(f"{bitmaps.title}, checks: {checks.title}, map {grid[0]}x{grid[1]}, "
                       f"seed {random_state}, n {n_points}")
            _print_comparison(doc["strategies"], doc["skipped"])
        worst = comparison.min_validity()
    else:
        latent = open_space(space)
        with ProgressBar(f"auditing ({strategy})") as bar:
            report = run_audit(latent, strategy, n_points, checks, random_state=random_state, progress=bar.points)
        doc = report.to_dict()
        if csv_path:
            report.write_csv(csv_path)
            note(f"wrote {csv_path}")
        if sheet:
            from genval.plotting import plot_audit_sheet

            save_plot(plot_audit_sheet(report, bitmaps.shape), sheet)
        if plot:
            from genval.plotting import plot_audit_plane

            save_plot(plot_audit_plane(report, latent), plot)
        if as_json:
            emit_json(doc)
        else:
            _print_report(doc)
        worst = doc["ratios"]["validity"]["value"] or 0.0
    if min_validity is not None and worst < min_validity:
        note(f"validity {worst:.3f} is below --min-validity {min_validity:g}")
        raise SystemExit(BELOW_MIN_VALIDITY)
