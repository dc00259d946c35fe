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
from genval.experiments._sweep_curves import curve_layout, curves_path, mean_curves
from genval.experiments._sweep_file import MAX_RUNS, SWEEP_ALIASES, bundled_sweeps, load_sweep
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


def _plot(path, kind: str, summary: list[dict], title: str, curves: Path | None, rows: list[dict]) -> None:
    """Draw the picture ``kind`` (auto: see --plot-kind) of a sweep to ``path``."""
    from genval.plotting._base import save_figure

    axes = summary[0]["axes"] if summary else ()
    if kind == "auto":
        kind = ("generalisation" if any("train_size" in axis for axis in axes) else
                "curves" if curves is not None and _has_lines(curves) else "summary")
    if kind == "curves":
        from genval.plotting._sweep_pictures import plot_sweep_curves

        if curves is None or not _has_lines(curves):
            raise click.UsageError("--plot-kind curves: these runs have no curves file beside their CSV (a sweep "
                                   "run before curves were recorded, or every run failed); use --plot-kind summary")
        # runs scored at several test levels trained once: their curve is drawn once (the first level's lines)
        scoring = {"test_copies"} | ({"noise_level"} if any(row["noise_levels"] for row in rows) else set())
        colour, panel = curve_layout(axes, scoring)
        where = {k: rows[0][k] for k in scoring} if rows else {}
        picture = plot_sweep_curves(_grid_order(mean_curves(curves, colour, panel, where), summary, colour, panel),
                                    colour, panel, title)
    elif kind == "generalisation":
        from genval.plotting._sweep_pictures import plot_generalisation

        if not any("train_size" in axis for axis in axes):
            raise click.UsageError("--plot-kind generalisation draws a sweep over train_size; these runs vary "
                                   + (", ".join(k for axis in axes for k in axis) or "nothing but the seed"))
        picture = plot_generalisation(summary, title=title)
    else:
        from genval.plotting._experiments import plot_sweep

        picture = plot_sweep(summary, title)
    save_figure(picture, path)
    note(f"wrote {path} ({kind})")


def _grid_order(curves: dict, summary: list[dict], colour, panel) -> dict:
    """``curves`` with its panels and colours in the grid's order (the file has them in the order runs finished)."""
    def rank(keys):
        order = list(dict.fromkeys(tuple(e["settings"].get(k, "") for k in keys) for e in summary))
        return lambda values: order.index(values) if values in order else len(order)

    by_panel, by_colour = rank(panel), rank(colour)
    return {p: {c: curves[p][c] for c in sorted(curves[p], key=by_colour)} for p in sorted(curves, key=by_panel)}


def _has_lines(path: Path) -> bool:
    with open(path, encoding="utf-8") as fh:
        return bool(fh.readline()) and bool(fh.readline())


def _emit(title: str, dataset: str, csv_path: Path, rows: list[dict], counts: dict, status: dict, seconds: float,
          summary: list[dict], curves: Path | None) -> None:
    """The --json document: counts by status, and every grid point's figures (mean and spread over seeds)."""
    metrics = (*METRICS, "seconds")
    # The CSV holds settings as text; each run's own JSON key holds them typed, as the sweep file gave them.
    typed = {(k, row[k]): value for row in rows for k, value in json.loads(row["run"]).items() if k in row}
    emit_json({"title": title, "dataset": dataset, "csv": str(csv_path), "curves": curves and str(curves),
               "runs": len(rows),
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


def _run(config: str, out, overrides: dict, dataset: str | None, max_runs: int, jobs: int, scheduler):
    """Load and run the sweep ``config``, a line on stderr per run: its title, dataset, axes, rows, counts (ran,
    skipped) and CSV."""
    spec = load_sweep(config, max_runs=max_runs, override=overrides or None, dataset=dataset)
    named = overrides | ({"dataset": Path(dataset).stem} if dataset else {})
    csv_path = Path(out) if out else _default_csv(config, named)
    counts = {"ran": 0, "skipped": 0}

    def progress(done, total, settings, status):
        counts["skipped" if status is None else "ran"] += 1
        varied = ", ".join(f"{k}={settings[k]}" for k in spec.keys)
        note(f"[{done}/{total}] {status or 'already done'}: {varied}")

    rows = run_sweep(spec, csv_path, progress, n_jobs=jobs, scheduler=scheduler)
    return spec.title, spec.dataset, spec.axes, rows, counts, csv_path


@click.command(epilog="Shipped sweeps (the course's experiments, on the font unless named otherwise): "
               + ", ".join(bundled_sweeps()) + "; earlier names: "
               + ", ".join(f"{old} (now {new})" for old, new in SWEEP_ALIASES.items()) + ".")
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
@click.option("--dataset", "-d", default=None, metavar="NAME|PATH",
              help="Run the sweep on this set instead of the file's (a bundled set or a file, e.g. --dataset "
                   "fashion.npy); --set dataset=PATH does the same. The CSV is then NAME+dataset=STEM.csv.")
@click.option("--max-runs", type=click.IntRange(min=1), default=MAX_RUNS, show_default=True,
              help="Refuse a grid of more runs.")
@click.option("--plot", type=PictureFile(), default=None, metavar="FILE.png",
              help="Also draw a picture as .png, .svg or .pdf (which one: --plot-kind).")
@click.option("--plot-kind", type=click.Choice(["auto", "curves", "summary", "generalisation"]), default="auto",
              show_default=True,
              help="curves: loss per epoch, a colour per value of the first varied setting, a panel per optimizer "
                   "(or per value of the second), mean ± spread over seeds (seed 004's grid-search figure); "
                   "summary: the final figures per setting, a dot per seed; generalisation: error on the "
                   "training and the held-out items against train_size. auto: generalisation for a sweep over "
                   "train_size, else curves when the runs have them, else summary. E.g. --plot f.png "
                   "--plot-kind summary.")
@click.option("--report", type=click.Path(dir_okay=False, exists=True), default=None, metavar="RUNS.csv",
              help="Summarise (and --plot) the runs of this CSV without training; no FILE then.")
@json_option
def sweep(config, out, jobs, scheduler, overrides, dataset, max_runs, plot, plot_kind, report, as_json):
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
    The file is checked in full before any run. Runs that differ only in
    how they are scored (the test noise_level of a denoiser trained on
    noise_levels; test_copies) share one training. With train_size, the
    training items' wrong pixels and MSE come last (train_wrong_pixels,
    train_mse).

    Every run's loss per epoch (and validation loss) goes to NAME.curves.csv
    beside the CSV, one line per run and epoch: the settings the sweep
    varies, epoch, loss, validation_loss (pandas.read_csv reads it; it joins
    the CSV on those columns). A run records every epoch up to 1,000; a
    longer one its first 500 and 500 more evenly spaced up to its last.

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
      genval sweep seed004-fashion --dataset fashion.npy --set epochs=20 --plot grid.png
    """
    if (config is None) == (report is None):
        raise click.UsageError("give a sweep FILE.toml|NAME, or --report RUNS.csv (not both)")
    if plot_kind != "auto" and not plot:
        raise click.UsageError(f"--plot-kind {plot_kind} says which picture --plot draws: add --plot FILE.png")
    overrides = dict(overrides)
    if "dataset" in overrides:  # the file's top-level dataset, not a run setting: --dataset's
        if dataset is not None:
            raise click.UsageError("--dataset and --set dataset=... both given; keep one")
        dataset = str(overrides.pop("dataset"))
    if report is not None and (overrides or dataset):
        raise click.UsageError("--set changes a sweep's settings (and --dataset its set); --report only reads a CSV")
    start = time.perf_counter()
    if report is not None:
        csv_path = Path(report)
        rows = read_runs(csv_path)
        title, dataset, axes = csv_path.stem, rows[0]["dataset"] if rows else "", None
        counts = {"ran": 0, "skipped": len(rows)}
    else:
        title, dataset, axes, rows, counts, csv_path = _run(config, out, overrides, dataset, max_runs, jobs,
                                                            scheduler)
    seconds = time.perf_counter() - start
    summary = summarize(rows, axes)
    curves = curves_path(csv_path) if curves_path(csv_path).is_file() else None
    if plot:
        _plot(plot, plot_kind, summary, title, curves, rows)
    status = _counts(rows)
    if as_json:
        _emit(title, dataset, csv_path, rows, counts, status, seconds, summary, curves)
        return
    where = f"read from {csv_path}" if report else (f"{counts['ran']} run now, {counts['skipped']} already in "
                                                    f"{csv_path}")
    click.echo(f"{title}: {len(rows)} runs on {dataset} ({where}), {seconds:.1f} s; {status['ok']} ok, "
               f"{status['stalled']} stalled, {status['diverged']} diverged, {status['failed']} failed; "
               "mean ± spread over seeds of the ok and stalled runs")
    _echo_table(summary)


def _echo_table(summary: list[dict]) -> None:
    """The summary's two tables: counts, final loss and pixel counts; then held-out and grey-level figures."""
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
