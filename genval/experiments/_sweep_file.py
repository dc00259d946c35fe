"""Sweep files: a grid of training settings, read and checked completely before anything trains.

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

Every run becomes a CSV row, in grid order (:mod:`._sweep_run`), and its
loss per epoch lines of a curves file beside it (:mod:`._sweep_curves`); runs
that differ only in how they are scored share one training
(:mod:`._sweep_worker`). Runs go to worker
processes through joblib (``n_jobs``) or to a Dask cluster through joblib's
Dask backend (``scheduler``), each with one BLAS thread; the results do not
depend on either. An interrupted sweep keeps what it finished and a rerun
skips it. The whole file is checked, every combination included, before
anything trains; its number of runs is computed first, and refused above
``max_runs``.
"""

from __future__ import annotations

import itertools
import math
import os
from importlib import resources
from pathlib import Path

from genval._utils.budget import check_allocation
from genval._utils.files import parse_toml, read_small_text
from genval._utils.values import is_int, is_number
from genval.data._bitmaps import load_dataset
from genval.errors import GenvalError
from genval.experiments._sweep_settings import (
    DEFAULTS, MODEL_SETTINGS, SETTINGS, Sweep, SweepConfigError, _VAE_SETTINGS, model_for, new_name,
)
from genval.models._params import PARAMS

__all__ = ["MAX_RUNS", "SWEEP_ALIASES", "bundled_sweeps", "load_sweep", "parse_sweep"]

# Earlier names of shipped sweeps, renamed after the course's seed they reproduce.
SWEEP_ALIASES = {"activations": "seed000-activations"}

MAX_RUNS = 10_000
MAX_SWEEP_FILE_BYTES = 1 << 20  # a sweep file is a few dozen lines; its grid is capped by MAX_RUNS anyway
# TOML has nan and inf: the numbers whose message is the sweep's own are held finite here.
_FINITE = ("noise_level", "momentum", "beta", "activity_l1", "contractive", "learning_rate")


def _check_types(settings: dict, n_items: int) -> None:
    """Raise ValueError naming the first setting whose TOML value is not of its kind (the estimator checks the rest)."""
    hidden = settings["hidden"]
    if not isinstance(hidden, list) or not PARAMS["hidden"].accepts(hidden):
        raise ValueError(f"hidden must be {SETTINGS['hidden']}, got {hidden!r}")
    for key in ("n_latent", "epochs", "random_state", "test_copies"):
        low = int(PARAMS[key].low) if key in PARAMS else 1
        if not is_int(settings[key], low):
            raise ValueError(f"{key} must be an integer >= {low}, got {settings[key]!r}")
    size = settings["train_size"]
    if size is not None and not is_int(size, 1, n_items):
        raise ValueError(f"train_size must be an integer from 1 to {n_items}, got {size!r}")
    for key in _FINITE:
        value = settings[key]
        if value is not None and not is_number(value):
            raise ValueError(f"{key} must be {SETTINGS[key]}, got {value!r}")
    if not 0 <= settings["noise_level"] <= 1:
        raise ValueError(f"noise_level must be {SETTINGS['noise_level']}, got {settings['noise_level']!r}")
    levels = settings["noise_levels"]
    if not isinstance(levels, list) or not PARAMS["noise_levels"].accepts(levels):
        raise ValueError(f"noise_levels must be {SETTINGS['noise_levels']}, got {levels!r}")
    options = settings["optimizer_options"]
    if not PARAMS["optimizer_options"].accepts(options):
        raise ValueError(f"optimizer_options must be {SETTINGS['optimizer_options']}, got {options!r}")


def _check_run(settings: dict, shape: tuple[int, int]) -> None:
    """Raise ValueError naming the first setting of ``settings`` that cannot run on a set of ``shape``
    (items, features), or whose run would not fit the memory budget."""
    n_items, n_features = shape
    _check_types(settings, n_items)
    options = settings["optimizer_options"]
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
    model = model_for(settings)
    # Sizes before any run: the network, its batches and loss curve, the noisy copies scored.
    trained = settings["train_size"] or n_items
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


def _read_toml(text: str, source: str) -> dict:
    """The sweep file's document, its top-level keys and their kinds checked."""
    doc = parse_toml(text, source, MAX_SWEEP_FILE_BYTES, SweepConfigError, "a sweep file")
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
    for section in ("fixed", "grid"):
        if not isinstance(doc.get(section, {}), dict):
            raise SweepConfigError(f"{source}: [{section}] must be a table")
    return doc


def _unknown(keys, where: str) -> None:
    bad = sorted(set(keys) - set(SETTINGS))
    if bad:
        raise SweepConfigError(f"{where} unknown key {bad[0]!r}; expected one of {', '.join(SETTINGS)}")


def _shape(dataset: str, source: str) -> tuple[int, int]:
    try:
        return load_dataset(dataset).X.shape
    except GenvalError as exc:
        raise SweepConfigError(f"{source}: dataset: {exc}; give another with --dataset PATH") from None
    except OSError as exc:
        raise SweepConfigError(f"{source}: dataset: {exc.filename or dataset}: {exc.strerror or exc}") from None


def _runs(axes: list, fixed: dict, shape: tuple[int, int], source: str) -> list[dict]:
    """Every combination of the grid over ``fixed`` and the defaults, each checked."""
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
    return runs


def parse_sweep(text: str, source: str = "<string>", *, max_runs: int = MAX_RUNS,
                override: dict | None = None, dataset: str | None = None) -> Sweep:
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
    dataset : str, optional
        A bundled set or a path that replaces the file's ``dataset`` (a
        sweep written for a set genval does not ship: Fashion-MNIST).

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
    doc = _read_toml(text, source)
    fixed = _renamed(doc.get("fixed", {}), "[fixed]", source)
    _unknown(fixed, f"{source}: [fixed]")
    axes = _axes(doc.get("grid", {}), source)
    both = sorted(set(fixed) & {k for keys, _ in axes for k in keys})
    if both:
        raise SweepConfigError(f"{source}: key {both[0]!r} is both in [fixed] and [grid]; keep one")
    if override:
        _unknown(override, "--set:")
        for keys, _ in axes:  # a paired axis varies its keys together: setting one alone would drop the others
            if len(keys) > 1 and set(keys) & set(override) and not set(keys) <= set(override):
                raise SweepConfigError(f"{source}: --set {sorted(set(keys) & set(override))[0]} varies together with "
                                       f"{', '.join(k for k in keys if k not in override)} in [grid]; set them all")
        fixed = fixed | override
        axes = [(keys, values) for keys, values in axes if not set(keys) & set(override)]
    n_runs = math.prod(len(values) for _, values in axes)
    if n_runs > max_runs:
        sizes = " x ".join(f"{len(values):,} {'+'.join(keys)}" for keys, values in axes)
        raise SweepConfigError(f"{source}: {n_runs:,} runs ({sizes}), more than max_runs = {max_runs:,}; "
                               "shorten the grid or raise the limit (--max-runs)")
    if dataset is not None and not (isinstance(dataset, str) and dataset and dataset.isprintable()):
        raise SweepConfigError(f"--dataset must be a bundled set or a path, got {dataset!r}")
    dataset = dataset if dataset is not None else doc.get("dataset", "font")
    runs = _runs(axes, fixed, _shape(dataset, source), source)
    axes_keys = tuple(keys for keys, _ in axes)
    return Sweep(str(doc.get("title", Path(source).stem)), dataset, source, axes_keys, tuple(runs))


def _renamed(table: dict, section: str, source: str) -> dict:
    """``table`` with earlier key names (:data:`OLD_KEYS`) under today's, order kept; sub-tables keep their names."""
    renamed: dict = {}
    for key, value in table.items():
        new = key if isinstance(value, dict) else new_name(key, value)
        if new != key and new in table:
            raise SweepConfigError(f"{source}: {section} has both {key!r} and {new!r}, two names of one setting; "
                                   f"keep {new!r}")
        renamed[new] = value
    return renamed


def load_sweep(spec: str | os.PathLike, *, max_runs: int = MAX_RUNS, override: dict | None = None,
               dataset: str | None = None) -> Sweep:
    """A sweep file by path, or a shipped one by name (see :func:`bundled_sweeps`); see :func:`parse_sweep`."""
    spec = os.fspath(spec)
    spec = SWEEP_ALIASES.get(spec, spec) if spec not in bundled_sweeps() else spec
    if spec in bundled_sweeps():
        text = resources.files("genval.datasets").joinpath(f"sweeps/{spec}.toml").read_text(encoding="utf-8")
        return parse_sweep(text, source=f"{spec}.toml", max_runs=max_runs, override=override, dataset=dataset)
    path = Path(spec)
    if not path.is_file():
        raise SweepConfigError(f"{spec}: no such sweep file; shipped sweeps: {', '.join(bundled_sweeps())}")
    text = read_small_text(path, MAX_SWEEP_FILE_BYTES, SweepConfigError, "a sweep file")
    return parse_sweep(text, source=str(path), max_runs=max_runs, override=override, dataset=dataset)


def bundled_sweeps() -> list[str]:
    """Names of the sweeps shipped with genval (the course's experiments on the font)."""
    folder = resources.files("genval.datasets").joinpath("sweeps")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))

