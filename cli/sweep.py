"""``genval sweep``: the course's experiments as grids of runs, in parallel, resumable."""

from __future__ import annotations

import json
import math
import os
import re
import time
import tomllib
from pathlib import Path

import click

from ._common import OutputFile, PictureFile, emit_json, json_option, note
from genval.experiments._sweep_file import MAX_RUNS, bundled_sweeps, load_sweep
from genval.experiments._sweep_run import read_runs, run_sweep
from genval.experiments._sweep_settings import cell
from genval.experiments._sweep_summary import METRICS, summarize
from genval.models._reconstruction import TOLERANCE


def _pm(pair: tuple[float, float] | None, digits: int) -> str:
    if pair is None:
        return "-"
    mean, spread = pair
    return f"{mean:.{digits}f} ± {spread:.{digits}f}"


def _counts(rows: list[dict]) -> dict:
    ok = sum(r["status"] == "ok" for r in rows)
    stalled = sum(r["status"] == "stalled" for r in rows)
    diverged = sum(r["status"].startswith("diverged") for r in rows)
    return {"ok": ok, "diverged": diverged, "failed": len(rows) - ok - stalled - diverged, "stalled": stalled}


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _settings(ctx, param, values) -> dict:
    """``--set KEY=VALUE`` options as a dict: each VALUE a TOML value (a bare word is a string)."""
    settings = {}
    for item in values:
        key, sep, text = item.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key or not text:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE, e.g. epochs=200", ctx, param)
        try:
            value = tomllib.loads(f"value = {text}")["value"]
        except RecursionError:  # tomllib recurses once per nested array
            raise click.BadParameter(f"{key}: arrays nested too deeply", ctx, param) from None
        except tomllib.TOMLDecodeError:
            if not _WORD.fullmatch(text):
                raise click.BadParameter(f"{item!r}: {text!r} is not a TOML value (a number, true/false, "
                                         '"text" or [a, list])', ctx, param) from None
            value = text  # optimizer=adam: a bare word is the string a person meant
        if isinstance(value, dict):
            raise click.BadParameter(f"{item!r}: give a value, not a table", ctx, param)
        if key in settings:
            raise click.BadParameter(f"{key} is set twice; keep one", ctx, param)
        settings[key] = value
    return settings


def _default_csv(config: str, settings: dict) -> Path:
    """The sweep's name .csv, with the --set settings in it (architectures+epochs=200.csv): its own runs."""
    name = Path(config).stem + "".join(f"+{k}={cell(v)}" for k, v in settings.items())
    return Path(re.sub(r"[^A-Za-z0-9_.=+-]", "_", name) + ".csv")


def _emit(title: str, dataset: str, csv_path: Path, rows: list[dict], counts: dict, status: dict, seconds: float,
          summary: list[dict]) -> None:
    """The --json document: counts by status, and every grid point's figures (mean and spread over seeds)."""
    metrics = (*METRICS, "seconds")
    # The CSV holds settings as text; each run's own JSON key holds them typed, as the sweep file gave them.
    typed = {(k, row[k]): value for row in rows for k, value in json.loads(row["run"]).items() if k in row}
    emit_json({"title": title, "dataset": dataset, "csv": str(csv_path), "runs": len(rows),
               "ran": counts["ran"], "resumed": counts["skipped"], "status": status, "seconds": round(seconds, 3),
               "summary": [{k: v for k, v in e.items() if k not in ("axes", "values", "settings")}
                           | {"settings": {k: typed.get((k, v), v) for k, v in e["settings"].items()}}
                           | {k: _json_metric(e[k]) for k in metrics}
                           for e in summary]})


def _json_metric(pair) -> dict | None:
    """A (mean, spread) pair in JSON; an infinite PSNR (or its spread) is null."""
    if pair is None:
        return None
    return {k: v if math.isfinite(v) else None for k, v in zip(("mean", "spread"), pair)}


# Worker processes per core at most: more only contend for the cores (and each holds its own Python and data).
_JOBS_PER_CORE = 4


def _check_jobs(ctx, param, value):
    if value == 0:
        raise click.BadParameter("0 workers cannot run anything: give a number >= 1, or -1 for one per core",
                                 ctx, param)
    cores = os.cpu_count() or 1
    if value > _JOBS_PER_CORE * cores:
        raise click.BadParameter(f"{value:,} worker processes on {cores} cores would only contend for them; give "
                                 f"at most {_JOBS_PER_CORE * cores} ({_JOBS_PER_CORE} per core), or -1 for one per core",
                                 ctx, param)
    return value


@click.command(epilog="Shipped sweeps (the course's experiments on the font): " + ", ".join(bundled_sweeps()) + ".")
@click.argument("config", metavar="FILE.toml|NAME", required=False)
@click.option("--out", "-o", type=OutputFile(), default=None, metavar="FILE.csv",
              help="The runs' CSV (default: the sweep's name .csv here). Runs already in it are not redone.")
@click.option("--jobs", "-j", type=click.IntRange(min=-1), default=1, show_default=True, callback=_check_jobs,
              help="Worker processes (-1: one per core); each run uses one BLAS thread.")
@click.option("--scheduler", envvar="GENVAL_SCHEDULER", default=None, metavar="ADDRESS",
              help="Run on a Dask cluster: its scheduler's address, e.g. tcp://10.0.0.5:8786 (also "
                   "$GENVAL_SCHEDULER). Every run runs on its workers; if it has none for 10 s or loses them, the "
                   "sweep stops with one line and a rerun resumes. Needs pip install 'genval[dask]'.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", callback=_settings,
              help="Replace a setting of the sweep file, in [fixed] or [grid] (a grid key then takes this one "
                   "value), checked as the file's own; repeatable. VALUE is a TOML value: --set epochs=200 "
                   "--set optimizer=adam --set 'hidden=[64, 16]'. The CSV is then NAME+epochs=200.csv.")
@click.option("--max-runs", type=click.IntRange(min=1), default=MAX_RUNS, show_default=True,
              help="Refuse a grid of more runs.")
@click.option("--plot", type=PictureFile(), default=None, metavar="FILE.png",
              help="Also draw the summary (a panel per setting, the spread over seeds) as .png, .svg or .pdf.")
@click.option("--report", type=click.Path(dir_okay=False, exists=True), default=None, metavar="RUNS.csv",
              help="Summarise (and --plot) the runs of this CSV without training; no FILE then.")
@json_option
def sweep(config, out, jobs, scheduler, overrides, max_runs, plot, report, as_json):
    """Train a grid of settings and tabulate the results, mean ± spread over seeds.

    FILE is a TOML sweep file or the name of a shipped one; its settings
    carry the names of genval.Autoencoder's parameters (n_latent,
    learning_rate, optimizer_options, random_state, ...). Every run writes a
    row to the CSV, in grid order (every setting, a status: ok, stalled,
    diverged at epoch E or the error; final loss, epochs, wrong pixels,
    perfect and within-one counts over the scored glyphs, seconds, the final
    validation loss with validation_fraction, and the grey-level figures:
    mean squared error, PSNR = 10 log10(1 / MSE) dB with peak 1.0 (inf for an
    MSE of 0, null in JSON), the share of pixels within 0.1); a run that fails
    never stops the sweep, and an interrupted sweep resumes where it stopped.
    The file is checked in full before any run.

    A run is "stalled" when it did not stop early and its final loss L,
    above the floor F of a perfect reconstruction, is still 0.9 x or more of
    the trivial model's (a decoder that outputs every pixel's mean:
    L - F >= 0.9 (L0 - F)) or of its first epoch's. Its figures count in the
    means beside the ok runs'.

    \b
    Examples:
      genval sweep architectures --jobs 2     # 8 networks x 3 seeds, 10,000 epochs each
      genval sweep architectures --set epochs=200 --set random_state=0   # a quick first look
      genval sweep my-sweep.toml --out runs.csv --plot runs.png
      genval sweep architectures --scheduler tcp://scheduler:8786
      genval sweep --report runs.csv --plot runs.svg
    """
    if (config is None) == (report is None):
        raise click.UsageError("give a sweep FILE.toml|NAME, or --report RUNS.csv (not both)")
    if report is not None and overrides:
        raise click.UsageError("--set changes a sweep's settings; --report only reads a CSV")
    start = time.perf_counter()
    if report is not None:
        csv_path = Path(report)
        rows = read_runs(csv_path)
        title, dataset, axes = csv_path.stem, rows[0]["dataset"] if rows else "", None
        counts = {"ran": 0, "skipped": len(rows)}
    else:
        spec = load_sweep(config, max_runs=max_runs, override=overrides or None)
        csv_path = Path(out) if out else _default_csv(config, overrides)
        counts = {"ran": 0, "skipped": 0}

        def progress(done, total, settings, status):
            counts["skipped" if status is None else "ran"] += 1
            varied = ", ".join(f"{k}={settings[k]}" for k in spec.keys)
            note(f"[{done}/{total}] {status or 'already done'}: {varied}")

        rows = run_sweep(spec, csv_path, progress, n_jobs=jobs, scheduler=scheduler)
        title, dataset, axes = spec.title, spec.dataset, spec.axes
    seconds = time.perf_counter() - start
    summary = summarize(rows, axes)
    if plot:
        from genval.plotting._base import save_figure
        from genval.plotting._experiments import plot_sweep

        save_figure(plot_sweep(summary, title), plot)
        note(f"wrote {plot}")
    status = _counts(rows)
    if as_json:
        _emit(title, dataset, csv_path, rows, counts, status, seconds, summary)
        return
    where = f"read from {csv_path}" if report else (f"{counts['ran']} run now, {counts['skipped']} already in "
                                                    f"{csv_path}")
    click.echo(f"{title}: {len(rows)} runs on {dataset} ({where}), {seconds:.1f} s; {status['ok']} ok, "
               f"{status['stalled']} stalled, {status['diverged']} diverged, {status['failed']} failed; "
               "mean ± spread over seeds of the ok and stalled runs")
    labels = [" ".join(v or "-" for v in e["settings"].values()) or "(fixed)" for e in summary]
    header = " ".join(k for e in summary[:1] for k in e["settings"]) or "settings"
    width = max([12, len(header), *map(len, labels)])
    click.echo(f"{header:<{width}}  {'runs':>4}  {'ok':>3}  {'final loss':>17}  {'wrong pixels':>15}  "
               f"{'perfect':>11}  {'within one':>11}  {'of':>4}  {'seconds':>13}")
    for label, e in zip(labels, summary):
        click.echo(f"{label:<{width}}  {e['runs']:>4}  {e['ok']:>3}  {_pm(e['final_loss'], 5):>17}  "
                   f"{_pm(e['wrong_pixels'], 1):>15}  {_pm(e['perfect'], 1):>11}  {_pm(e['within_one'], 1):>11}  "
                   f"{e['scored'] if e['scored'] is not None else '-':>4}  {_pm(e['seconds'], 2):>13}")
    _echo_grey(labels, summary, width)


def _echo_grey(labels: list[str], summary: list[dict], width: int) -> None:
    """The second table: stalled runs, held-out loss and grey-level figures (PSNR peak 1.0; within TOLERANCE)."""
    click.echo(f"{'':<{width}}  {'stalled':>7}  {'validation loss':>17}  {'mse':>19}  {'psnr dB':>13}  "
               f"{f'within {TOLERANCE:g}':>13}")
    for label, e in zip(labels, summary):
        click.echo(f"{label:<{width}}  {e['stalled']:>7}  {_pm(e['validation_loss'], 5):>17}  "
                   f"{_pm_g(e['mse']):>19}  {_pm(e['psnr'], 1):>13}  {_pm_percent(e['within_tolerance']):>13}")


def _pm_g(pair) -> str:
    return "-" if pair is None else f"{pair[0]:.3g} ± {pair[1]:.2g}"


def _pm_percent(pair) -> str:
    return "-" if pair is None else f"{100 * pair[0]:.1f} ± {100 * pair[1]:.1f}%"
