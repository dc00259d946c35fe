"""Sweeps: a grid of training settings, one CSV row per run, resumable.

A sweep file (TOML) names a dataset, the settings every run shares and the
grid to expand::

    title = "architectures"
    dataset = "font"

    [fixed]                      # every run
    epochs = 10000

    [grid]                       # every combination, in this order
    hidden = [[64, 16], [30, 20], [16]]
    random_state = [0, 1, 2]

Settings: the :class:`~genval.autoencoder.Autoencoder` parameters ``hidden``,
``n_latent``, ``activation``, ``activation_param``, ``optimizer``,
``learning_rate``, ``batch_size``, ``epochs``, ``loss``,
``stop_wrong_pixels`` and ``random_state``, under the estimator's names and
with its defaults; and ``momentum`` (the option of optimizer "momentum"),
``noise_level`` (train a denoiser on that bit-flip level and score
restoration of one noisy copy of each item) and ``train_size`` (train on that
many items drawn by the seed and score the items left out). Files written with
the earlier names ``latent``, ``stop_wrong``, ``seed`` and ``noise`` load as
the new ones.

Every run becomes a CSV row (every setting, the final loss, the epochs run,
perfect and within-one counts over the scored items, seconds). The CSV is
rewritten after each run, so an interrupted sweep keeps what it finished and
a rerun skips it. The whole file is checked, every combination included,
before anything trains.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import statistics
import time
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np

from genval._estimator import atomic_write
from genval.autoencoder import Autoencoder, wrong_pixels
from genval.bitmaps import BitmapSet, load_dataset
from genval.errors import GenvalError
from genval.noise import flip_noise

__all__ = ["OLD_KEYS", "SETTINGS", "Sweep", "SweepConfigError", "bundled_sweeps", "load_sweep", "run_sweep",
           "summarize"]

# Every setting a run has, with what it must be (for messages).
SETTINGS = {
    "hidden": "encoder layer widths, a list of integers",
    "n_latent": "latent dimensions, an integer >= 1",
    "activation": "sigmoid, tanh, relu, leaky_relu, elu or identity",
    "activation_param": "tanh/sigmoid beta, leaky slope or ELU alpha, a number > 0",
    "optimizer": "gd, momentum, adaptive or adam",
    "learning_rate": "a number > 0",
    "momentum": "the momentum of optimizer 'momentum', in [0, 1)",
    "batch_size": "an integer >= 1 (omit for full batch)",
    "epochs": "an integer >= 1",
    "loss": "bce or mse",
    "stop_wrong_pixels": "stop once every item is within this many wrong pixels, an integer >= 0",
    "noise_level": "bit-flip probability in [0, 1] for a denoiser",
    "train_size": "how many items to train on, an integer >= 1",
    "random_state": "an integer",
}
# The settings that are Autoencoder parameters; the rest are the sweep's own.
MODEL_SETTINGS = ("hidden", "n_latent", "activation", "activation_param", "optimizer", "learning_rate", "batch_size",
                  "epochs", "loss", "stop_wrong_pixels", "random_state")
# TOML has lists, not tuples.
DEFAULTS = ({k: list(v) if isinstance(v, tuple) else v for k, v in Autoencoder().get_params().items()
             if k in MODEL_SETTINGS} | {"momentum": None, "noise_level": 0.0, "train_size": None})
# Keys of sweep files (and CSV columns) written before the settings took the estimator's names.
OLD_KEYS = {"latent": "n_latent", "stop_wrong": "stop_wrong_pixels", "seed": "random_state", "noise": "noise_level"}
RESULTS = ["final_loss", "epochs_run", "perfect", "within_one", "scored", "seconds"]


class SweepConfigError(GenvalError, ValueError):
    """A sweep file that cannot run; names the file and the key."""


@dataclass(frozen=True)
class Sweep:
    """A checked sweep: its runs' settings, in order."""

    title: str
    dataset: str
    source: str
    keys: tuple[str, ...]      # the grid's keys, in file order
    runs: tuple[dict, ...]     # full settings of every run

    @property
    def columns(self) -> list[str]:
        return ["run", *SETTINGS, *RESULTS]


def run_key(settings: dict) -> str:
    """A stable name for a run's settings (the CSV's ``run`` column)."""
    return json.dumps({k: settings[k] for k in SETTINGS}, sort_keys=True, separators=(",", ":"))


def _model(settings: dict) -> Autoencoder:
    params = {k: settings[k] for k in MODEL_SETTINGS} | {"hidden": tuple(settings["hidden"])}
    options = {"momentum": settings["momentum"]} if settings["momentum"] is not None else None
    levels = (settings["noise_level"],) if settings["noise_level"] else ()
    return Autoencoder(**params, optimizer_options=options, noise_levels=levels)


def _check_run(settings: dict, bitmaps: BitmapSet) -> None:
    hidden = settings["hidden"]
    if not isinstance(hidden, list) or not all(isinstance(h, int) and h >= 1 for h in hidden):
        raise ValueError(f"hidden must be {SETTINGS['hidden']}, got {hidden!r}")
    for key in ("n_latent", "epochs", "random_state"):
        if not isinstance(settings[key], int) or isinstance(settings[key], bool):
            raise ValueError(f"{key} must be an integer, got {settings[key]!r}")
    size = settings["train_size"]
    if size is not None and (not isinstance(size, int) or not 1 <= size <= len(bitmaps)):
        raise ValueError(f"train_size must be an integer from 1 to {len(bitmaps)}, got {size!r}")
    noise = settings["noise_level"]
    if not isinstance(noise, (int, float)) or not 0 <= noise <= 1:
        raise ValueError(f"noise_level must be {SETTINGS['noise_level']}, got {noise!r}")
    if settings["momentum"] is not None and settings["optimizer"] != "momentum":
        raise ValueError("momentum is a setting of optimizer 'momentum' only")
    _model(settings)._validate_params()


def parse_sweep(text: str, source: str = "<string>") -> Sweep:
    """Check a sweep file completely (every combination) and list its runs.

    Raises
    ------
    SweepConfigError
        For bad TOML, an unknown key, an empty grid list or a bad value,
        naming the key; nothing has trained yet.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SweepConfigError(f"{source}: not valid TOML ({exc})") from None
    unknown = sorted(set(doc) - {"title", "dataset", "fixed", "grid"})
    if unknown:
        raise SweepConfigError(f"{source}: unknown key {', '.join(map(repr, unknown))}; "
                               "expected title, dataset, [fixed], [grid]")
    fixed, grid = doc.get("fixed", {}), doc.get("grid", {})
    for section, table in (("fixed", fixed), ("grid", grid)):
        if not isinstance(table, dict):
            raise SweepConfigError(f"{source}: [{section}] must be a table")
    fixed, grid = _renamed(fixed, "fixed", source), _renamed(grid, "grid", source)
    for section, table in (("fixed", fixed), ("grid", grid)):
        bad = sorted(set(table) - set(SETTINGS))
        if bad:
            raise SweepConfigError(f"{source}: [{section}] unknown key {bad[0]!r}; expected one of "
                                   f"{', '.join(SETTINGS)}")
    both = sorted(set(fixed) & set(grid))
    if both:
        raise SweepConfigError(f"{source}: key {both[0]!r} is both in [fixed] and [grid]; keep one")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SweepConfigError(f"{source}: [grid] {key!r} must be a non-empty list of values "
                                   f"({SETTINGS[key]} each)")
        if key == "hidden" and not all(isinstance(v, list) for v in values):
            raise SweepConfigError(f"{source}: [grid] 'hidden' must be a list of layer lists, e.g. [[25, 15], [16]]")
    dataset = doc.get("dataset", "font")
    try:
        bitmaps = load_dataset(dataset)
    except GenvalError as exc:
        raise SweepConfigError(f"{source}: dataset: {exc}") from None
    keys = tuple(grid)
    runs = []
    for combo in itertools.product(*(grid[k] for k in keys)) if keys else [()]:
        settings = DEFAULTS | fixed | dict(zip(keys, combo))
        try:
            _check_run(settings, bitmaps)
        except ValueError as exc:
            where = ", ".join(f"{k}={v!r}" for k, v in zip(keys, combo)) or "[fixed]"
            raise SweepConfigError(f"{source}: run {where}: {exc}") from None
        runs.append(settings)
    return Sweep(str(doc.get("title", Path(source).stem)), dataset, source, keys, tuple(runs))


def _renamed(table: dict, section: str, source: str) -> dict:
    """``table`` with earlier key names (:data:`OLD_KEYS`) under today's, order kept."""
    for old, new in OLD_KEYS.items():
        if old in table and new in table:
            raise SweepConfigError(f"{source}: [{section}] has both {old!r} and {new!r}, two names of one setting; "
                                   f"keep {new!r}")
    return {OLD_KEYS.get(key, key): value for key, value in table.items()}


def load_sweep(spec: str | os.PathLike) -> Sweep:
    """A sweep file by path, or a shipped one by name (see :func:`bundled_sweeps`)."""
    spec = os.fspath(spec)
    if spec in bundled_sweeps():
        text = resources.files("genval.datasets").joinpath(f"sweeps/{spec}.toml").read_text(encoding="utf-8")
        return parse_sweep(text, source=f"{spec}.toml")
    path = Path(spec)
    if not path.is_file():
        raise SweepConfigError(f"{spec}: no such sweep file; shipped sweeps: {', '.join(bundled_sweeps())}")
    return parse_sweep(path.read_text(encoding="utf-8"), source=str(path))


def bundled_sweeps() -> list[str]:
    """Names of the sweeps shipped with genval (the course's experiments on the font)."""
    folder = resources.files("genval.datasets").joinpath("sweeps")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _run(settings: dict, bitmaps: BitmapSet) -> dict:
    rng = np.random.default_rng(settings["random_state"])
    train, scored = bitmaps.X, bitmaps.X
    if settings["train_size"] is not None and settings["train_size"] < len(bitmaps):
        order = rng.permutation(len(bitmaps))
        train = bitmaps.X[order[:settings["train_size"]]]
        scored = bitmaps.X[order[settings["train_size"]:]]
    start = time.perf_counter()
    model = _model(settings).fit(train)
    seconds = time.perf_counter() - start
    inputs = flip_noise(scored, settings["noise_level"], rng) if settings["noise_level"] else scored
    wrong = wrong_pixels(model, inputs, scored)
    return {"final_loss": model.loss_curve_[-1], "epochs_run": model.n_epochs_, "perfect": int((wrong == 0).sum()),
            "within_one": int((wrong <= 1).sum()), "scored": len(scored), "seconds": round(seconds, 4)}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "-".join(map(str, value))
    return str(value)


def _read_done(path: Path, columns: list[str]) -> list[dict]:
    """The rows of an earlier run of a sweep; a CSV with the earlier column names is read as today's."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    if [OLD_KEYS.get(c, c) for c in reader.fieldnames or []] != columns:
        raise SweepConfigError(f"{path}: exists but is not this kind of sweep CSV (columns differ); "
                               "choose another --out")
    renamed = [{OLD_KEYS.get(k, k): v for k, v in row.items()} for row in rows]
    for row in renamed:  # the run key is the settings' JSON: rename inside it too
        row["run"] = run_key({OLD_KEYS.get(k, k): v for k, v in json.loads(row["run"]).items()})
    return renamed


def run_sweep(sweep: Sweep, out, progress: Callable[[int, int, dict, bool], None] | None = None) -> list[dict]:
    """Run every run of ``sweep`` not already in the CSV ``out``; return all rows.

    ``progress(done, total, settings, skipped)`` is called after each run.
    """
    out = Path(out)
    columns = sweep.columns
    done = _read_done(out, columns)
    finished = {row["run"] for row in done}
    rows = list(done)
    bitmaps = load_dataset(sweep.dataset)
    for i, settings in enumerate(sweep.runs):
        key = run_key(settings)
        if key in finished:
            if progress is not None:
                progress(i + 1, len(sweep.runs), settings, True)
            continue
        result = _run(settings, bitmaps)
        rows.append({"run": key, **{k: _cell(settings[k]) for k in SETTINGS}, **{k: str(v) for k, v in result.items()}})
        finished.add(key)
        _write(out, columns, rows)
        if progress is not None:
            progress(i + 1, len(sweep.runs), settings, False)
    if not out.exists():
        _write(out, columns, rows)
    wanted = {run_key(s) for s in sweep.runs}
    return [row for row in rows if row["run"] in wanted]


def _write(path: Path, columns: list[str], rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_write(path, "w") as fh:
        fh.write(buffer.getvalue())


def summarize(sweep: Sweep, rows: list[dict]) -> list[dict]:
    """Mean and spread (sample standard deviation) over seeds of each grid point's results."""
    varied = [k for k in sweep.keys if k != "random_state"]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in varied), []).append(row)
    summary = []
    for key, members in groups.items():
        entry = {"settings": dict(zip(varied, key)), "runs": len(members)}
        for col in ("final_loss", "perfect", "within_one", "seconds"):
            values = [float(m[col]) for m in members]
            entry[col] = (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0)
        entry["scored"] = int(members[0]["scored"])
        summary.append(entry)
    return summary

