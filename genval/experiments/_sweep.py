"""Sweeps: a grid of training settings, one CSV row per run, resumable, in parallel.

A sweep file (TOML) names a dataset, the settings every run shares and the
grid to expand::

    title = "architectures"
    dataset = "font"

    [fixed]                      # every run
    epochs = 10000

    [grid]                       # every combination; the first key varies slowest
    optimizer = ["adam", "adaptive"]
    random_state = [0, 1, 2]

    [grid.architecture]          # paired: these keys vary together, value by value
    hidden = [[64, 16], [16]]
    n_latent = [2, 8]

Settings are the :class:`~genval.models.Autoencoder` parameters under
the estimator's names and with its defaults (``hidden``, ``n_latent``,
``optimizer_options``, ``noise_levels``, ``activity_l1``, ``contractive``,
...), ``vae`` (train a :class:`~genval.models.VariationalAutoencoder`)
with its ``beta``, and the sweep's own: ``momentum`` (the optimizer option of
"momentum" and "adaptive"), ``noise_level`` (score restoration of noisy
copies at that bit-flip level; a denoiser trains on it too unless
``noise_levels`` names its training levels), ``test_copies`` (noisy copies
scored per item) and ``train_size`` (train on that many items drawn by the
seed and score the items left out). Files written with the earlier names
``latent``, ``stop_wrong``, ``seed`` and ``noise`` load as the new ones.

Every run becomes a CSV row, in grid order: every setting, a ``status``
(``ok``, ``diverged at epoch E`` or the error: a run that fails never stops
the sweep), the final loss, the epochs run, the wrong pixels summed over the
scored items, perfect and within-one counts, seconds. Runs go to worker
processes through joblib (``n_jobs``) or to a Dask cluster through joblib's
Dask backend (``scheduler``), each with one BLAS thread; the results do not
depend on either. An interrupted sweep keeps what it finished and a rerun
skips it. The whole file is checked, every combination included, before
anything trains; its number of runs is computed first, and refused above
``max_runs``.
"""

from __future__ import annotations

import csv
import inspect
import io
import itertools
import json
import math
import os
import re
import statistics
import time
import tomllib
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np

from genval._utils.budget import check_allocation, memory_budget
from genval._utils.files import atomic_write, read_small_text
from genval.models._autoencoder import Autoencoder, VariationalAutoencoder, wrong_pixels
from genval.data._bitmaps import load_dataset
from genval.errors import GenvalError, ParameterError, TrainingDivergedError
from genval.data._noise import flip_noise

__all__ = ["MAX_RUNS", "OLD_KEYS", "SETTINGS", "Sweep", "SweepConfigError", "bundled_sweeps", "load_sweep",
           "parse_sweep", "read_runs", "run_sweep", "summarize"]

MAX_RUNS = 10_000
MAX_SWEEP_FILE_BYTES = 1 << 20  # a sweep file is a few dozen lines; its grid is capped by MAX_RUNS anyway
# What each setting must be (for messages); every Autoencoder parameter is a setting.
_DESCRIBED = {
    "hidden": "encoder layer widths, a list of integers",
    "n_latent": "latent dimensions, an integer >= 1",
    "activation": "sigmoid, tanh, relu, leaky_relu, elu or identity",
    "activation_param": "tanh/sigmoid beta, leaky slope or ELU alpha, a number > 0",
    "optimizer": "gd, momentum, adaptive or adam",
    "optimizer_options": "a table of optimizer options, e.g. {momentum = 0.7}",
    "learning_rate": "a number > 0",
    "batch_size": "an integer >= 1 (omit for full batch)",
    "epochs": "an integer >= 1",
    "loss": "bce or mse",
    "stop_wrong_pixels": "stop once every item is within this many wrong pixels, an integer >= 0",
    "noise_levels": "a denoiser's training bit-flip levels, a list of numbers in [0, 1]",
    "random_state": "an integer >= 0",
}
MODEL_SETTINGS = tuple(inspect.signature(Autoencoder).parameters)  # the estimator's order
_VAE_SETTINGS = set(inspect.signature(VariationalAutoencoder).parameters)
_OWN = {
    "vae": "true to train a VariationalAutoencoder",
    "beta": "the VAE's KL weight, a number >= 0 (with vae = true)",
    "momentum": "the momentum of optimizer 'momentum' or 'adaptive', in [0, 1)",
    "noise_level": "bit-flip probability in [0, 1] of the scored copies",
    "test_copies": "noisy copies scored per item, an integer >= 1",
    "train_size": "how many items to train on, an integer >= 1",
}
SETTINGS = {k: _DESCRIBED.get(k, "a genval.Autoencoder parameter") for k in MODEL_SETTINGS} | _OWN
# TOML has lists, not tuples.
DEFAULTS = ({k: list(v) if isinstance(v, tuple) else v for k, v in Autoencoder().get_params().items()}
            | {"vae": False, "beta": VariationalAutoencoder().beta, "momentum": None, "noise_level": 0.0,
               "test_copies": 1, "train_size": None})
# Keys of sweep files (and CSV columns) written before the settings took the estimator's names.
OLD_KEYS = {"latent": "n_latent", "stop_wrong": "stop_wrong_pixels", "seed": "random_state", "noise": "noise_level"}
RESULTS = ["final_loss", "epochs_run", "wrong_pixels", "perfect", "within_one", "scored", "seconds"]
COLUMNS = ["run", "dataset", *SETTINGS, "status", *RESULTS]
_DIVERGED = re.compile(r"diverged at epoch (\d+)")


class SweepConfigError(GenvalError, ValueError):
    """A sweep file (or its CSV) that cannot run; names the file and the key."""


@dataclass(frozen=True)
class Sweep:
    """A checked sweep: its runs' settings, in grid order.

    Attributes
    ----------
    title, dataset, source : str
    axes : tuple of tuple of str
        The grid's settings in file order; a paired group is one axis of
        several keys.
    runs : tuple of dict
        Every run's full settings.
    """

    title: str
    dataset: str
    source: str
    axes: tuple[tuple[str, ...], ...]
    runs: tuple[dict, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """Every setting the grid varies, in file order."""
        return tuple(k for axis in self.axes for k in axis)

    @property
    def columns(self) -> list[str]:
        return list(COLUMNS)


def run_key(settings: dict) -> str:
    """A stable name for a run's settings (the CSV's ``run`` column)."""
    return json.dumps({k: settings[k] for k in SETTINGS}, sort_keys=True, separators=(",", ":"))


def _model(settings: dict):
    params = {k: settings[k] for k in MODEL_SETTINGS}
    params["hidden"] = tuple(params["hidden"])
    levels = settings["noise_levels"] or ([settings["noise_level"]] if settings["noise_level"] else [])
    params["noise_levels"] = tuple(levels)
    if settings["momentum"] is not None:
        params["optimizer_options"] = dict(params["optimizer_options"] or {}, momentum=settings["momentum"])
    if settings["vae"]:
        return VariationalAutoencoder(**{k: v for k, v in params.items() if k in _VAE_SETTINGS}, beta=settings["beta"])
    return Autoencoder(**params)


def _is_int(value, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _is_finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_run(settings: dict, shape: tuple[int, int]) -> None:
    """Raise ValueError naming the first setting of ``settings`` that cannot run on a set of ``shape``
    (items, features), or whose run would not fit the memory budget."""
    n_items, n_features = shape
    hidden = settings["hidden"]
    if not isinstance(hidden, list) or not all(_is_int(h, 1) for h in hidden):
        raise ValueError(f"hidden must be {SETTINGS['hidden']}, got {hidden!r}")
    for key, low in (("n_latent", 1), ("epochs", 1), ("random_state", 0), ("test_copies", 1)):
        if not _is_int(settings[key], low):
            raise ValueError(f"{key} must be an integer >= {low}, got {settings[key]!r}")
    size = settings["train_size"]
    if size is not None and not (_is_int(size, 1) and size <= n_items):
        raise ValueError(f"train_size must be an integer from 1 to {n_items}, got {size!r}")
    for key in ("noise_level", "momentum", "beta", "activity_l1", "contractive", "learning_rate"):
        value = settings[key]
        if value is not None and not _is_finite(value):  # TOML has nan and inf
            raise ValueError(f"{key} must be {SETTINGS[key]}, got {value!r}")
    if not 0 <= settings["noise_level"] <= 1:
        raise ValueError(f"noise_level must be {SETTINGS['noise_level']}, got {settings['noise_level']!r}")
    levels = settings["noise_levels"]
    if not isinstance(levels, list) or not all(_is_finite(p) and 0 <= p <= 1 for p in levels):
        raise ValueError(f"noise_levels must be {SETTINGS['noise_levels']}, got {levels!r}")
    options = settings["optimizer_options"]
    if options is not None and not isinstance(options, dict):
        raise ValueError(f"optimizer_options must be {SETTINGS['optimizer_options']}, got {options!r}")
    if settings["momentum"] is not None:
        if settings["optimizer"] not in ("momentum", "adaptive"):
            raise ValueError(f"momentum is a setting of optimizer 'momentum' or 'adaptive', not "
                             f"{settings['optimizer']!r}")
        if "momentum" in (options or {}):
            raise ValueError("momentum is given twice, as a setting and in optimizer_options; keep one")
    if not isinstance(settings["vae"], bool):
        raise ValueError(f"vae must be true or false, got {settings['vae']!r}")
    if not settings["vae"] and settings["beta"] != DEFAULTS["beta"]:
        raise ValueError("beta is a setting of the VAE: add vae = true")
    plain_only = [k for k in MODEL_SETTINGS if k not in _VAE_SETTINGS and settings[k] != DEFAULTS[k]]
    if settings["vae"] and plain_only:
        raise ValueError(f"{plain_only[0]} is a setting of the plain autoencoder, not of the VAE")
    model = _model(settings)
    # Sizes before any run: the network, its batches and loss curve, the noisy copies scored.
    trained = size or n_items
    model.check_memory(trained, n_features)
    scored = n_items - trained if trained < n_items else n_items
    check_allocation(2 * 8 * settings["test_copies"] * scored * n_features,
                     f"{settings['test_copies']:,} scored copies of {scored:,} items")


def _axes(grid: dict, source: str) -> list[tuple[tuple[str, ...], list[tuple]]]:
    """The grid as axes: (keys, values) with one value tuple per step; a paired group is one axis."""
    axes = []
    for name, entry in grid.items():
        group = entry if isinstance(entry, dict) else {name: entry}
        where = f"[grid.{name}]" if isinstance(entry, dict) else "[grid]"
        group = _renamed(group, where, source)
        lengths = set()
        for key, values in group.items():
            if key not in SETTINGS:
                raise SweepConfigError(f"{source}: {where} unknown key {key!r}; expected one of {', '.join(SETTINGS)}"
                                       + ("" if isinstance(entry, dict) else
                                          ", or a table of keys that vary together"))
            if not isinstance(values, list) or not values:
                raise SweepConfigError(f"{source}: {where} {key!r} must be a non-empty list of values "
                                       f"({SETTINGS[key]} each)")
            if key in ("hidden", "noise_levels") and not all(isinstance(v, list) for v in values):
                example = "[[25, 15], [16]]" if key == "hidden" else "[[0.2], [0, 0.1, 0.2]]"
                raise SweepConfigError(f"{source}: {where} {key!r} must be a list of lists, e.g. {example}")
            lengths.add(len(values))
        if len(lengths) > 1:
            sizes = ", ".join(f"{k} has {len(v)}" for k, v in group.items())
            raise SweepConfigError(f"{source}: {where} keys vary together, so their lists need one length; {sizes}")
        if not group:
            raise SweepConfigError(f"{source}: {where} is empty; list the keys that vary together")
        axes.append((tuple(group), list(zip(*group.values()))))
    seen: set[str] = set()
    for keys, _ in axes:
        repeated = seen & set(keys)
        if repeated:
            raise SweepConfigError(f"{source}: [grid] key {sorted(repeated)[0]!r} varies twice; keep one")
        seen |= set(keys)
    return axes


def parse_sweep(text: str, source: str = "<string>", *, max_runs: int = MAX_RUNS,
                override: dict | None = None) -> Sweep:
    """Check a sweep file completely (every combination) and list its runs.

    Parameters
    ----------
    text : str
        The TOML.
    source : str
        Its name, for messages.
    max_runs : int
        Refuse a grid of more runs (counted before any combination is made).
    override : dict, optional
        Settings that replace the file's, in ``[fixed]`` or ``[grid]`` (a
        quick trial of a long sweep: ``{"epochs": 20}``).

    Raises
    ------
    SweepConfigError
        For bad TOML, an unknown key, an empty grid list, too many runs or a
        bad value, naming the key; nothing has trained yet.

    Examples
    --------
    >>> sweep = parse_sweep('dataset = "emojis"\\n[grid]\\nn_latent = [2, 3]\\nrandom_state = [0, 1]\\n')
    >>> len(sweep.runs), sweep.keys, sweep.runs[1]["random_state"]
    (4, ('n_latent', 'random_state'), 1)
    """
    if len(text) > MAX_SWEEP_FILE_BYTES:
        raise SweepConfigError(f"{source}: {len(text):,} characters, more than the limit of "
                               f"{MAX_SWEEP_FILE_BYTES:,} for a sweep file")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SweepConfigError(f"{source}: not valid TOML ({exc})") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise SweepConfigError(f"{source}: not valid TOML (arrays or tables nested too deeply)") from None
    if not doc:  # an empty file (or only comments) would silently run one default run
        raise SweepConfigError(f"{source}: no settings; expected a [grid] of values to sweep (and optionally "
                               "dataset, title, [fixed]), e.g. [grid] n_latent = [2, 3]")
    unknown = sorted(set(doc) - {"title", "dataset", "fixed", "grid"})
    if unknown:
        raise SweepConfigError(f"{source}: unknown key {', '.join(map(repr, unknown))}; "
                               "expected title, dataset, [fixed], [grid]")
    for key in ("title", "dataset"):
        if key in doc and not (isinstance(doc[key], str) and doc[key] and doc[key].isprintable()):
            raise SweepConfigError(f"{source}: {key} must be a non-empty string of printable text"
                                   f"{' (a bundled set or a path)' if key == 'dataset' else ''}, got {doc[key]!r}")
    fixed, grid = doc.get("fixed", {}), doc.get("grid", {})
    for section, table in (("fixed", fixed), ("grid", grid)):
        if not isinstance(table, dict):
            raise SweepConfigError(f"{source}: [{section}] must be a table")
    fixed = _renamed(fixed, "[fixed]", source)
    bad = sorted(set(fixed) - set(SETTINGS))
    if bad:
        raise SweepConfigError(f"{source}: [fixed] unknown key {bad[0]!r}; expected one of {', '.join(SETTINGS)}")
    grid = {name: entry for name, entry in grid.items()}
    axes = _axes(grid, source)
    both = sorted(set(fixed) & {k for keys, _ in axes for k in keys})
    if both:
        raise SweepConfigError(f"{source}: key {both[0]!r} is both in [fixed] and [grid]; keep one")
    if override:
        bad = sorted(set(override) - set(SETTINGS))
        if bad:
            raise SweepConfigError(f"override: unknown key {bad[0]!r}; expected one of {', '.join(SETTINGS)}")
        fixed = fixed | override
        axes = [(keys, values) for keys, values in axes if not set(keys) & set(override)]
    n_runs = math.prod(len(values) for _, values in axes)
    if n_runs > max_runs:
        sizes = " x ".join(f"{len(values):,} {'+'.join(keys)}" for keys, values in axes)
        raise SweepConfigError(f"{source}: {n_runs:,} runs ({sizes}), more than max_runs = {max_runs:,}; "
                               "shorten the grid or raise the limit (--max-runs)")
    dataset = doc.get("dataset", "font")
    try:
        shape = load_dataset(dataset).X.shape
    except GenvalError as exc:
        raise SweepConfigError(f"{source}: dataset: {exc}") from None
    except OSError as exc:
        raise SweepConfigError(f"{source}: dataset: {exc.filename or dataset}: {exc.strerror or exc}") from None
    runs = []
    base = DEFAULTS | fixed
    for combo in itertools.product(*(values for _, values in axes)):
        settings = dict(base)
        for (keys, _), values in zip(axes, combo):
            settings.update(zip(keys, values))
        try:
            _check_run(settings, shape)
        except (ValueError, TypeError, KeyError) as exc:
            where = ", ".join(f"{k}={settings[k]!r}" for keys, _ in axes for k in keys) or "[fixed]"
            raise SweepConfigError(f"{source}: run {where}: {exc}") from None
        runs.append(settings)
    axes_keys = tuple(keys for keys, _ in axes)
    return Sweep(str(doc.get("title", Path(source).stem)), dataset, source, axes_keys, tuple(runs))


def _new_name(key: str, value) -> str:
    """Today's name of a key; ``noise`` is the estimator's noise kind when it names one, else the old level."""
    values = value if isinstance(value, list) else [value]
    if key == "noise" and all(isinstance(v, str) for v in values):
        return key
    return OLD_KEYS.get(key, key)


def _renamed(table: dict, section: str, source: str) -> dict:
    """``table`` with earlier key names (:data:`OLD_KEYS`) under today's, order kept; sub-tables keep their names."""
    renamed: dict = {}
    for key, value in table.items():
        new = key if isinstance(value, dict) else _new_name(key, value)
        if new != key and new in table:
            raise SweepConfigError(f"{source}: {section} has both {key!r} and {new!r}, two names of one setting; "
                                   f"keep {new!r}")
        renamed[new] = value
    return renamed


def load_sweep(spec: str | os.PathLike, *, max_runs: int = MAX_RUNS, override: dict | None = None) -> Sweep:
    """A sweep file by path, or a shipped one by name (see :func:`bundled_sweeps`); see :func:`parse_sweep`."""
    spec = os.fspath(spec)
    if spec in bundled_sweeps():
        text = resources.files("genval.datasets").joinpath(f"sweeps/{spec}.toml").read_text(encoding="utf-8")
        return parse_sweep(text, source=f"{spec}.toml", max_runs=max_runs, override=override)
    path = Path(spec)
    if not path.is_file():
        raise SweepConfigError(f"{spec}: no such sweep file; shipped sweeps: {', '.join(bundled_sweeps())}")
    text = read_small_text(path, MAX_SWEEP_FILE_BYTES, SweepConfigError, "a sweep file")
    return parse_sweep(text, source=str(path), max_runs=max_runs, override=override)


def bundled_sweeps() -> list[str]:
    """Names of the sweeps shipped with genval (the course's experiments on the font)."""
    folder = resources.files("genval.datasets").joinpath("sweeps")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _run(index: int, settings: dict, X: np.ndarray) -> tuple[int, dict]:
    """Train and score one run (in a worker); every failure becomes its status."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(settings["random_state"])
    train, scored = X, X
    if settings["train_size"] is not None and settings["train_size"] < len(X):
        order = rng.permutation(len(X))
        train, scored = X[order[:settings["train_size"]]], X[order[settings["train_size"]:]]
    result = dict.fromkeys(RESULTS, "")
    start = time.perf_counter()
    try:
        with threadpool_limits(limits=1, user_api="blas"):  # the workers are the parallelism
            model = _model(settings).fit(train)
            targets = np.tile(scored, (settings["test_copies"], 1))
            inputs = flip_noise(targets, settings["noise_level"], rng) if settings["noise_level"] else targets
            wrong = wrong_pixels(model, inputs, targets)
        result |= {"final_loss": model.loss_curve_[-1], "epochs_run": model.n_epochs_,
                   "wrong_pixels": int(wrong.sum()), "perfect": int((wrong == 0).sum()),
                   "within_one": int((wrong <= 1).sum()), "scored": len(targets)}
        status = "ok"
    except TrainingDivergedError as exc:
        found = _DIVERGED.search(str(exc))
        status = f"diverged at epoch {found.group(1)}" if found else f"diverged: {exc}"
        result["epochs_run"] = found.group(1) if found else ""
    except Exception as exc:  # a run that fails is a finding of the sweep, not its end
        status = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    result["seconds"] = round(time.perf_counter() - start, 4)
    return index, {"status": status, **{k: str(v) for k, v in result.items()}}


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


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "-".join(map(str, value))
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return str(value).lower() if isinstance(value, bool) else str(value)


def _row(sweep: Sweep, settings: dict, result: dict) -> dict:
    return {"run": run_key(settings), "dataset": sweep.dataset, **{k: _cell(settings[k]) for k in SETTINGS},
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
            stored = {_new_name(k, v): v for k, v in json.loads(row["run"]).items()}
        except (json.JSONDecodeError, AttributeError):
            raise SweepConfigError(f"{path}: line {line}: the run column is not a run's settings") from None
        row["run"] = run_key(DEFAULTS | stored)  # settings added since the file was written take their defaults
        row.setdefault("status", "ok")
        for key in COLUMNS:
            row.setdefault(key, _cell(DEFAULTS[key]) if key in DEFAULTS else "")
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
        ours = sorted({_cell(s[key]) for s in sweep.runs})
        if row[key] not in ours:
            raise SweepConfigError(f"{out}: has runs with {key} = {row[key] or 'none'!r}, but {sweep.source} has "
                                   f"{' or '.join(repr(v or 'none') for v in ours)}; the sweep file changed since "
                                   "the CSV was written: use another --out, or restore the file")
    where = ", ".join(f"{k} = {row[k]}" for k in sweep.keys)
    raise SweepConfigError(f"{out}: has a run ({where}) that {sweep.source} no longer has; the sweep file changed "
                           "since the CSV was written: use another --out, or restore the file")


@contextmanager
def _parallel(n_jobs: int, scheduler: str | None):
    """A joblib ``Parallel`` yielding results as they finish: local processes, or a Dask cluster."""
    from joblib import Parallel, parallel_config

    if scheduler is None:
        yield Parallel(n_jobs=n_jobs, return_as="generator_unordered", batch_size=1)
        return
    try:
        from distributed import Client
    except ImportError:
        raise ParameterError("running on a Dask cluster needs the distributed package: "
                             "pip install 'genval[dask]'") from None
    try:
        client = Client(scheduler, set_as_default=False, timeout=10)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ParameterError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None
    try:
        with parallel_config(backend="dask", client=client):
            yield Parallel(n_jobs=-1, return_as="generator_unordered", batch_size=1)
    finally:
        client.close()


def run_sweep(sweep: Sweep, out, progress: Callable[[int, int, dict, str | None], None] | None = None, *,
              n_jobs: int = 1, scheduler: str | None = None) -> list[dict]:
    """Run every run of ``sweep`` not already in the CSV ``out``; return all its rows in grid order.

    Parameters
    ----------
    sweep : Sweep
    out : path
        The CSV; rewritten (atomically) as runs finish, at most every second,
        and when the sweep ends or is interrupted.
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
        package or out of reach.

    Examples
    --------
    >>> import os, tempfile
    >>> sweep = parse_sweep('dataset = "emojis"\\n[fixed]\\nepochs = 20\\n[grid]\\nlearning_rate = [0.004, 1e6]\\n')
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     rows = run_sweep(sweep, os.path.join(tmp, "runs.csv"))
    >>> [row["status"] for row in rows]
    ['ok', 'diverged at epoch 2']
    >>> [(e["settings"], e["ok"], e["diverged"]) for e in summarize(rows, sweep.axes)]
    [({'learning_rate': '0.004'}, 1, 0), ({'learning_rate': '1000000.0'}, 0, 1)]
    """
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ParameterError(f"n_jobs must be a number of processes >= 1, or -1 for one per core; got {n_jobs!r}")
    out = Path(out)
    done = {row["run"]: row for row in read_runs(out)} if out.exists() else {}
    _check_same_sweep(sweep, list(done.values()), out)
    keys = [run_key(s) for s in sweep.runs]
    total = len(keys)
    count = 0
    todo = []
    for i, (key, settings) in enumerate(zip(keys, sweep.runs)):
        if key in done:
            count += 1
            if progress is not None:
                progress(count, total, settings, None)
        else:
            todo.append(i)

    def ordered() -> list[dict]:
        return [done[k] for k in keys if k in done]

    written, pending = time.monotonic(), False
    try:
        if todo:
            X = load_dataset(sweep.dataset).X
            with _parallel(n_jobs, scheduler) as parallel, warnings.catch_warnings():
                from joblib import delayed

                # on an interruption joblib cancels the runs still going, and says so: they are redone on resume
                warnings.filterwarnings("ignore", message=r".*tasks which were still being processed")

                # the longest runs first, so that no worker is left with one at the end (rows stay in grid order)
                todo.sort(key=lambda i: -_work(sweep.runs[i], X.shape))
                for i, result in parallel(delayed(_run)(i, sweep.runs[i], X) for i in todo):
                    done[keys[i]] = _row(sweep, sweep.runs[i], result)
                    count, pending = count + 1, True
                    if time.monotonic() - written >= 1.0:
                        _write(out, ordered())
                        written, pending = time.monotonic(), False
                    if progress is not None:
                        progress(count, total, sweep.runs[i], result["status"])
    finally:
        if pending:  # interrupted: keep what finished
            _write(out, ordered())
    _write(out, ordered())  # grid order, today's columns
    return ordered()


def _write(path: Path, rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_write(path, "w") as fh:
        fh.write(buffer.getvalue())


def _paired_columns(rows: list[dict]) -> list[tuple[str, ...]]:
    """The settings a CSV's runs vary, columns that vary together as one axis (for a CSV without its sweep)."""
    varied = [k for k in SETTINGS if len({row[k] for row in rows}) > 1]
    axes: list[tuple[str, ...]] = []
    for key in varied:
        for j, axis in enumerate(axes):
            n = len({row[axis[0]] for row in rows})
            if len({row[key] for row in rows}) == n == len({(row[axis[0]], row[key]) for row in rows}):
                axes[j] = (*axis, key)
                break
        else:
            axes.append((key,))
    return axes


def summarize(rows: list[dict], axes: tuple[tuple[str, ...], ...] | None = None) -> list[dict]:
    """Count and average the runs of each grid point (over seeds).

    Parameters
    ----------
    rows : list of dict
        What :func:`run_sweep` or :func:`read_runs` returned.
    axes : tuple of tuple of str, optional
        The sweep's axes (:attr:`Sweep.axes`); by default the settings that
        differ between rows, columns that vary together as one axis.

    Returns
    -------
    list of dict
        One entry per grid point, in the rows' order: ``settings`` (the
        varied settings but the seed), ``axes``, ``runs``, the counts ``ok``,
        ``diverged`` and ``failed``, and for ``final_loss``, ``wrong_pixels``,
        ``perfect``, ``within_one``: ``(mean, sample standard deviation)``
        over the ``ok`` runs (None when there is none) and ``values``, the
        ``ok`` runs' values; ``seconds`` over every run; ``scored``.
    """
    if axes is None:
        axes = _paired_columns(rows) if rows else ()
    axes = tuple(axis for axis in axes if "random_state" not in axis)
    varied = [k for axis in axes for k in axis]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in varied), []).append(row)
    summary = []
    for key, members in groups.items():
        ok = [m for m in members if m["status"] == "ok"]
        diverged = sum(m["status"].startswith("diverged") for m in members)
        entry = {"settings": dict(zip(varied, key)), "axes": axes, "runs": len(members), "ok": len(ok),
                 "diverged": diverged, "failed": len(members) - len(ok) - diverged, "values": {}}
        for col in ("final_loss", "wrong_pixels", "perfect", "within_one"):
            values = [float(m[col]) for m in ok if m[col] != ""]
            entry["values"][col] = values
            entry[col] = _mean_spread(values)
        entry["seconds"] = _mean_spread([float(m["seconds"]) for m in members if m["seconds"] != ""])
        entry["scored"] = int(ok[0]["scored"]) if ok and ok[0]["scored"] else None
        summary.append(entry)
    return summary


def _mean_spread(values: list[float]) -> tuple[float, float] | None:
    if not values:
        return None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0
