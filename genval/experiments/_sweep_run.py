"""Running a sweep: every run in a worker process (or on a Dask cluster), one CSV row each, resumable.

Every run becomes a CSV row, in grid order: every setting, a ``status``
(``ok``, ``stalled``, ``diverged at epoch E`` or the error: a run that fails
never stops the sweep), the final loss, the epochs run, the wrong pixels
summed over the scored items, perfect and within-one counts, seconds, the
final validation loss (with ``validation_fraction``), and the grey-level
figures over every scored pixel: mean squared error, PSNR (peak 1.0, ``inf``
for an MSE of 0) and the share of pixels within
:data:`~genval.models._reconstruction.TOLERANCE` (0.1). A run is ``stalled``
when training ended near where it started (the rule of
:func:`genval.nn._stall.stall_reason`: its final loss is no better than
0.9 x the trivial model's or its first epoch's); its figures are kept. With
``train_size`` below the set's size, the training items' wrong pixels and MSE
come last (``train_wrong_pixels``, ``train_mse``; empty otherwise). Every
run's loss per epoch goes to the curves file beside the CSV
(:mod:`._sweep_curves`), and runs that differ only in how they are scored
share one training (:mod:`._sweep_worker`). Runs go to worker
processes through joblib (``n_jobs``) or to a Dask cluster through joblib's
Dask backend (``scheduler``), each with one BLAS thread; the results do not
depend on either. An interrupted sweep keeps what it finished and a rerun
skips it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable


from genval._utils.budget import memory_budget
from genval._utils.files import atomic_write, read_small_text
from genval.data._bitmaps import load_dataset
from genval.errors import ParameterError
from genval.experiments._sweep_curves import append_curves, curve_lines, curves_path, start_curves
from genval.experiments._sweep_dask import dask_client, dask_results
from genval.experiments._sweep_settings import (
    COLUMNS, DEFAULTS, OLD_KEYS, SETTINGS, Sweep, SweepConfigError, cell, new_name, run_key,
)
from genval.experiments._sweep_worker import run_group, training_key

__all__ = ["read_runs", "run_sweep"]

def _work(settings: dict, shape: tuple[int, int]) -> float:
    """About how many multiply-adds a run costs (to hand out the longest runs first)."""
    n_items, n_features = shape
    widths = [n_features, *settings["hidden"], settings["n_latent"]]
    weights = 2 * sum(a * b for a, b in zip(widths, widths[1:]))
    levels = settings["noise_levels"] or ([settings["noise_level"]] if settings["noise_level"] else [0])
    rows = (settings["train_size"] or n_items) * len(levels) * settings["noise_copies"]
    steps = math.ceil(rows / min(settings["batch_size"] or rows, rows))
    # a step of these small networks costs about 60,000 multiply-adds of NumPy call overhead
    return float(settings["epochs"]) * (weights * rows + 60_000 * steps)


def _row(sweep: Sweep, settings: dict, result: dict) -> dict:
    return {"run": run_key(settings), "dataset": sweep.dataset, **{k: cell(settings[k]) for k in SETTINGS},
            **result}


def read_runs(path) -> list[dict]:
    """The rows of a sweep's CSV, under today's column names.

    A last row cut off in the middle (the file does not end with a newline,
    or fields are missing) is left out, so that a resumed sweep redoes it.
    Files written before the ``status`` column read their rows as ``ok``.

    Raises
    ------
    SweepConfigError
        For a file that is not a sweep CSV or a damaged row other than the last.
    """
    path = Path(path)
    if not path.is_file():
        raise SweepConfigError(f"{path}: no such sweep CSV")
    # A CSV row costs a dict of strings, some 64 bytes a character: the text may take a 256th of the budget.
    text = read_small_text(path, memory_budget() // 256, SweepConfigError, "a sweep CSV")
    reader = csv.DictReader(io.StringIO(text))
    try:
        fields = reader.fieldnames or []
        raw = list(reader)
    except csv.Error as exc:
        raise SweepConfigError(f"{path}: not a readable CSV ({exc})") from None
    # Before noise_level, a "noise" column held the level; today it holds the noise kind.
    names = {c: c if c == "noise" and "noise_level" in fields else OLD_KEYS.get(c, c) for c in fields}
    columns = list(names.values())
    if not {"run", "final_loss", "seconds"} <= set(columns) or not set(columns) <= set(COLUMNS):
        raise SweepConfigError(f"{path}: not a genval sweep CSV (columns differ); expected {', '.join(COLUMNS)}")
    rows = [{names.get(k, k): v for k, v in row.items()} for row in raw]
    cut = bool(rows) and (not text.endswith("\n") or None in rows[-1].values() or None in rows[-1])
    if cut:
        rows.pop()
    for line, row in enumerate(rows, start=2):
        if None in row.values() or None in row:
            got = sum(v is not None for k, v in row.items() if k is not None) + len(row.get(None) or [])
            raise SweepConfigError(f"{path}: line {line}: expected {len(columns)} fields, got {got}")
        try:
            stored = {new_name(k, v): v for k, v in json.loads(row["run"]).items()}
        except (json.JSONDecodeError, AttributeError):
            raise SweepConfigError(f"{path}: line {line}: the run column is not a run's settings") from None
        row["run"] = run_key(DEFAULTS | stored)  # settings added since the file was written take their defaults
        row.setdefault("status", "ok")
        for key in COLUMNS:
            row.setdefault(key, cell(DEFAULTS[key]) if key in DEFAULTS else "")
    return rows


def _check_same_sweep(sweep: Sweep, rows: list[dict], out: Path) -> None:
    """Refuse a CSV written by another sweep, naming a setting that differs."""
    other = next((row["dataset"] for row in rows if row["dataset"] not in ("", sweep.dataset)), None)
    if other is not None:
        raise SweepConfigError(f"{out}: written for dataset {other!r}, but {sweep.source} has {sweep.dataset!r}; "
                               "the sweep file changed since the CSV was written: use another --out")
    wanted = {run_key(s) for s in sweep.runs}
    foreign = [row for row in rows if row["run"] not in wanted]
    if not foreign:
        return
    row = foreign[0]
    for key in SETTINGS:
        ours = sorted({cell(s[key]) for s in sweep.runs})
        if row[key] not in ours:
            raise SweepConfigError(f"{out}: has runs with {key} = {row[key] or 'none'!r}, but {sweep.source} has "
                                   f"{' or '.join(repr(v or 'none') for v in ours)}; the sweep file changed since "
                                   "the CSV was written: use another --out, or restore the file")
    where = ", ".join(f"{k} = {row[k]}" for k in sweep.keys)
    raise SweepConfigError(f"{out}: has a run ({where}) that {sweep.source} no longer has; the sweep file changed "
                           "since the CSV was written: use another --out, or restore the file")



@contextmanager
def _parallel(n_jobs: int, scheduler: str | None):
    """``run(groups, X)``: :func:`run_group` of every group of calls, yielded as they finish, in local processes or
    every one on a Dask cluster's workers (:mod:`._sweep_dask`: never in this process, every failure one line)."""
    if scheduler is None:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered", batch_size=1)
        yield lambda groups, X: parallel(delayed(_run)(group, X) for group in groups)
        return
    with dask_client(scheduler) as client:
        yield lambda groups, X: dask_results(client, scheduler, _run, [(g,) for g in groups], X)


def _run(group: list[tuple[int, dict]], X) -> list[tuple[int, dict, dict | None]]:
    """One task of a sweep (Dask names its tasks after this function): a group of runs that share a training."""
    return run_group(group, X)


def run_sweep(sweep: Sweep, out, progress: Callable[[int, int, dict, str | None], None] | None = None, *,
              n_jobs: int = 1, scheduler: str | None = None) -> list[dict]:
    """Run every run of ``sweep`` not already in the CSV ``out``; return all its rows in grid order.

    Parameters
    ----------
    sweep : Sweep
    out : path
        The CSV; rewritten (atomically) as runs finish, at most every second,
        and when the sweep ends or is interrupted. The runs' curves go to
        :func:`curves_path` of it (``runs.curves.csv``), appended as runs
        finish; a resumed sweep keeps those of the runs the CSV holds.
    progress : callable, optional
        ``progress(done, total, settings, status)`` after each run; ``status``
        is None for a run already in the CSV.
    n_jobs : int
        Worker processes (joblib; -1 for one per core). The rows do not depend
        on it, only their ``seconds``.
    scheduler : str, optional
        The address of a Dask distributed scheduler (``tcp://host:8786``):
        run on its workers instead (needs ``pip install 'genval[dask]'``).

    Raises
    ------
    SweepConfigError
        When ``out`` holds runs of another sweep (naming what changed).
    ParameterError
        For a bad ``n_jobs``, or a ``scheduler`` without dask's distributed
        package, not an address or out of reach.
    genval.experiments._sweep_dask.DaskClusterError
        When the cluster cannot run the runs (no worker for 10 s, a worker
        killed, the scheduler lost): the finished runs stay in ``out``. Runs
        never fall back to this process.

    Examples
    --------
    >>> import os, tempfile
    >>> from genval.experiments import parse_sweep, summarize
    >>> grid = 'learning_rate = [0.05, 0.0001, 1e6]'
    >>> sweep = parse_sweep('dataset = "emojis"\\n[fixed]\\nepochs = 20\\n[grid]\\n' + grid)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     rows = run_sweep(sweep, os.path.join(tmp, "runs.csv"))
    >>> [row["status"] for row in rows]
    ['ok', 'stalled', 'diverged at epoch 2']
    >>> [(e["ok"], e["stalled"], e["diverged"]) for e in summarize(rows, sweep.axes)]
    [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    """
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ParameterError(f"n_jobs must be a number of processes >= 1, or -1 for one per core; got {n_jobs!r}")
    out = Path(out)
    done = {row["run"]: row for row in read_runs(out)} if out.exists() else {}
    _check_same_sweep(sweep, list(done.values()), out)
    keys = [run_key(s) for s in sweep.runs]
    todo = _todo(sweep, keys, done, progress)
    curves = curves_path(out)
    if todo or not curves.exists():
        # the curves of the runs the CSV holds are kept; any other line (a run cut off) is dropped, to be redone
        start_curves(curves, sweep.keys, {tuple(row[k] for k in sweep.keys) for row in done.values()})
    if todo:
        _run_todo(sweep, keys, todo, done, out, progress, n_jobs, scheduler)
    _write(out, _ordered(keys, done))  # grid order, today's columns
    return _ordered(keys, done)


def _todo(sweep: Sweep, keys: list[str], done: dict, progress) -> list[int]:
    """The runs still to do (their indices); ``progress`` hears of each run the CSV already has."""
    todo, count = [], 0
    for i, (key, settings) in enumerate(zip(keys, sweep.runs)):
        if key in done:
            count += 1
            if progress is not None:
                progress(count, len(keys), settings, None)
        else:
            todo.append(i)
    return todo


def _ordered(keys: list[str], done: dict) -> list[dict]:
    return [done[k] for k in keys if k in done]


def _groups(sweep: Sweep, todo: list[int], shape: tuple[int, int]) -> list[list[tuple[int, dict]]]:
    """The runs ``todo`` as groups that share one training (:func:`training_key`), the costliest first, so
    that no worker is left with a long one at the end (rows stay in grid order)."""
    groups: dict[str, list[tuple[int, dict]]] = {}
    for i in todo:
        groups.setdefault(training_key(sweep.runs[i]), []).append((i, sweep.runs[i]))
    return sorted(groups.values(), key=lambda group: -_work(group[0][1], shape))


def _run_todo(sweep: Sweep, keys: list[str], todo: list[int], done: dict, out: Path, progress,
              n_jobs: int, scheduler: str | None) -> None:
    """Run the runs ``todo``, adding their rows to ``done`` and their curves to the curves file; the CSV is
    rewritten at most every second, and when the sweep is interrupted, so that it keeps what finished."""
    count, total = len(keys) - len(todo), len(keys)
    written, pending = time.monotonic(), False
    curves = curves_path(out)
    try:
        X = load_dataset(sweep.dataset).X
        with _parallel(n_jobs, scheduler) as run, warnings.catch_warnings():
            # on an interruption joblib cancels the runs still going, and says so: they are redone on resume
            warnings.filterwarnings("ignore", message=r".*tasks which were still being processed")
            for results in run(_groups(sweep, todo, X.shape), X):
                # a run's curve before its row: a row in the CSV always has its whole curve
                append_curves(curves, "".join(curve_lines(sweep.keys, sweep.runs[i], c) for i, _, c in results))
                for i, result, _ in results:
                    done[keys[i]] = _row(sweep, sweep.runs[i], result)
                    count, pending = count + 1, True
                    if progress is not None:
                        progress(count, total, sweep.runs[i], result["status"])
                if time.monotonic() - written >= 1.0:
                    _write(out, _ordered(keys, done))
                    written, pending = time.monotonic(), False
    finally:
        if pending:  # interrupted: keep what finished
            _write(out, _ordered(keys, done))


def _write(path: Path, rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_write(path, "w") as fh:
        fh.write(buffer.getvalue())

