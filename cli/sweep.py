"""``genval sweep``: the course's experiments as grids of runs, resumable."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ._common import OutputFile, emit_json, json_option, note
from genval.sweep import bundled_sweeps, load_sweep, run_sweep, summarize


def _pm(pair: tuple[float, float], digits: int) -> str:
    mean, spread = pair
    return f"{mean:.{digits}f} ± {spread:.{digits}f}"


@click.command(epilog="Shipped sweeps (the course's experiments on the font): " + ", ".join(bundled_sweeps()) + ".")
@click.argument("config", metavar="FILE.toml|NAME")
@click.option("--out", "-o", type=OutputFile(), default=None, metavar="FILE.csv",
              help="The runs' CSV (default: the sweep's name .csv here). Runs already in it are not redone.")
@json_option
def sweep(config, out, as_json):
    """Train a grid of settings and tabulate the results, mean ± spread over seeds.

    CONFIG is a TOML sweep file or the name of a shipped one; its settings
    carry the names of genval.Autoencoder's parameters (n_latent,
    learning_rate, random_state, ...). Every run appends a row to the CSV
    (every setting, final loss, epochs, perfect and within-one counts over the
    scored glyphs, seconds); an interrupted sweep resumes where it stopped.
    The file is checked in full before any run.

    \b
    Examples:
      genval sweep architectures            # 8 networks x 3 seeds, 10,000 epochs each
      genval sweep my-sweep.toml --out runs.csv
    """
    spec = load_sweep(config)
    out = Path(out) if out else Path(f"{Path(config).stem}.csv")
    start = time.perf_counter()
    counts = {"ran": 0, "skipped": 0}

    def progress(done, total, settings, skipped):
        counts["skipped" if skipped else "ran"] += 1
        varied = ", ".join(f"{k}={settings[k]}" for k in spec.keys)
        note(f"[{done}/{total}] {'already done' if skipped else 'done'}: {varied}")

    rows = run_sweep(spec, out, progress)
    seconds = time.perf_counter() - start
    summary = summarize(spec, rows)
    if as_json:
        emit_json({"title": spec.title, "dataset": spec.dataset, "csv": str(out), "runs": len(rows),
                   "ran": counts["ran"], "skipped": counts["skipped"], "seconds": round(seconds, 3),
                   "summary": [dict(e, **{k: {"mean": e[k][0], "spread": e[k][1]}
                                          for k in ("final_loss", "perfect", "within_one", "seconds")})
                               for e in summary]})
        return
    click.echo(f"{spec.title}: {len(rows)} runs on {spec.dataset} ({counts['ran']} run now, {counts['skipped']} "
               f"already in {out}), {seconds:.1f} s; mean ± spread over seeds")
    varied = [k for k in spec.keys if k != "random_state"]
    width = max([12, *(len(" ".join(str(v) for v in e["settings"].values())) for e in summary)])
    click.echo(f"{' '.join(varied) or 'settings':<{width}}  {'runs':>4}  {'final loss':>17}  {'perfect':>13}  "
               f"{'within one':>13}  {'of':>3}  {'seconds':>13}")
    for e in summary:
        label = " ".join(str(v) for v in e["settings"].values()) or "(fixed)"
        click.echo(f"{label:<{width}}  {e['runs']:>4}  {_pm(e['final_loss'], 5):>17}  {_pm(e['perfect'], 1):>13}  "
                   f"{_pm(e['within_one'], 1):>13}  {e['scored']:>3}  {_pm(e['seconds'], 2):>13}")
