"""A sweep's per-epoch curves: the training (and validation) loss of every run, in a CSV beside the runs' CSV.

The file ``NAME.curves.csv`` sits beside ``NAME.csv`` in long format, one
line per run and recorded epoch: the settings the sweep varies (as the runs'
CSV writes them, so that the two files join on those columns), then
``epoch`` (from 1), ``loss`` and ``validation_loss`` (empty without
``validation_fraction``)::

    >>> import pandas as pd                                     # doctest: +SKIP
    >>> curves = pd.read_csv("seed004-fashion.curves.csv")      # doctest: +SKIP
    >>> curves.groupby(["optimizer", "n_latent", "epoch"]).loss.mean()  # doctest: +SKIP

A run records every epoch up to :data:`MAX_POINTS` (1,000); a longer run
keeps its first 500 epochs and 500 more evenly spaced up to its last (always
recorded), so a run costs at most 1,000 lines whatever its epochs. Runs
that diverged or failed have no curve. Lines are appended as runs finish;
a resumed sweep keeps the curves of the runs its CSV holds and drops the
rest (a run cut off is redone and recorded again).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from genval._utils.files import atomic_write
from genval.experiments._sweep_settings import SweepConfigError, cell

__all__ = ["MAX_POINTS", "curve_epochs", "curve_layout", "curves_path", "mean_curves"]

MAX_POINTS = 1000
_HEAD = MAX_POINTS // 2
CURVE_COLUMNS = ("epoch", "loss", "validation_loss")


def curve_epochs(n_epochs: int) -> np.ndarray:
    """The epochs (from 1) a run of ``n_epochs`` records: all up to :data:`MAX_POINTS`, else the first 500
    and 500 evenly spaced up to the last.

    >>> curve_epochs(3).tolist()
    [1, 2, 3]
    >>> e = curve_epochs(10_000); len(e), e[:2].tolist(), e[499:502].tolist(), e[-1].item()
    (1000, [1, 2], [500, 519, 538], 10000)
    """
    if n_epochs <= MAX_POINTS:
        return np.arange(1, n_epochs + 1)
    tail = np.rint(np.linspace(_HEAD, n_epochs, MAX_POINTS - _HEAD + 1)).astype(int)[1:]
    return np.concatenate([np.arange(1, _HEAD + 1), tail])


def curves_path(csv_path) -> Path:
    """``runs.csv`` -> ``runs.curves.csv`` (beside it)."""
    path = Path(csv_path)
    stem = path.name[:-4] if path.name.lower().endswith(".csv") else path.name
    return path.with_name(stem + ".curves.csv")


def sample_curve(loss, validation) -> dict:
    """A finished model's curves, as a run returns them: the recorded epochs and their losses."""
    epochs = curve_epochs(len(loss))
    return {"epoch": epochs.tolist(), "loss": [float(loss[e - 1]) for e in epochs],
            "validation_loss": None if validation is None else [float(validation[e - 1]) for e in epochs]}


def curve_lines(keys, settings: dict, curve: dict | None) -> str:
    """The CSV lines of one run's curve (nothing for a run without one)."""
    if curve is None:
        return ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    head = [cell(settings[k]) for k in keys]
    validation = curve["validation_loss"] or [""] * len(curve["epoch"])
    writer.writerows([*head, e, repr(loss), "" if v == "" else repr(v)]
                     for e, loss, v in zip(curve["epoch"], curve["loss"], validation))
    return buffer.getvalue()


def start_curves(path: Path, keys, kept: set[tuple]) -> None:
    """Begin ``path`` for a sweep varying ``keys``: keep the lines of the runs ``kept`` (tuples of their varied
    settings' cells, the runs the CSV holds), drop the others; a new file is just the header. Streamed."""
    header = [*keys, *CURVE_COLUMNS]
    with atomic_write(path, "w") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        if path.exists():
            with open(path, newline="", encoding="utf-8") as fh:
                reader = csv.reader(fh)
                found = next(reader, None)
                if found is not None and found != header:
                    raise SweepConfigError(f"{path}: curves of another sweep (columns {', '.join(found)}; expected "
                                           f"{', '.join(header)}); use another --out, or remove it")
                for line in reader:
                    # a line cut off by an interruption, or a run the CSV does not hold, is dropped (redone)
                    if len(line) == len(header) and tuple(line[:len(keys)]) in kept:
                        writer.writerow(line)


def append_curves(path: Path, text: str) -> None:
    if text:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)


def read_curves_header(path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), None)
    if not header or tuple(header[-3:]) != CURVE_COLUMNS:
        raise SweepConfigError(f"{path}: not a sweep's curves file; expected columns ending with "
                               f"{', '.join(CURVE_COLUMNS)}")
    return header[:-3]


def mean_curves(path, colour: tuple[str, ...], panel: tuple[str, ...], where: dict | None = None) -> dict:
    """Mean and spread over the other settings (the seeds) of every curve in ``path``, by panel and colour.

    Parameters
    ----------
    path : path
        A curves file.
    colour, panel : tuple of str
        The settings whose values make a curve and a panel (columns of the file).
    where : dict, optional
        Only the lines whose column ``k`` holds ``v`` (as text), for each
        item: one test level of runs that shared their training (their
        curves are one curve, repeated).

    Returns
    -------
    dict
        ``{panel values: {colour values: {"epoch": ndarray, "loss": (mean, spread, runs),
        "validation_loss": (mean, spread, runs) or None}}}``, the spread the sample standard deviation
        (0 with one run); values in the file's order. Streamed: memory grows with the curves, not the lines.
    """
    keys = read_curves_header(path)
    missing = [k for k in (*colour, *panel) if k not in keys]
    if missing:
        raise SweepConfigError(f"{path}: no column {missing[0]!r}; it has {', '.join(keys)}")
    at = {k: i for i, k in enumerate(keys)}
    picked = [(at[k], str(v)) for k, v in (where or {}).items() if k in at]
    sums: dict = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for line in reader:
            if len(line) != len(keys) + 3 or any(line[i] != v for i, v in picked):
                continue  # a last line cut off, or another test level
            where = (tuple(line[at[k]] for k in panel), tuple(line[at[k]] for k in colour))
            by_epoch = sums.setdefault(where[0], {}).setdefault(where[1], {})
            epoch, loss, validation = int(line[-3]), float(line[-2]), line[-1]
            acc = by_epoch.setdefault(epoch, [0, 0.0, 0.0, 0, 0.0, 0.0])
            acc[0:3] = acc[0] + 1, acc[1] + loss, acc[2] + loss * loss
            if validation:
                v = float(validation)
                acc[3:6] = acc[3] + 1, acc[4] + v, acc[5] + v * v
    return {p: {c: _summarised(by_epoch) for c, by_epoch in colours.items()} for p, colours in sums.items()}


def _summarised(by_epoch: dict) -> dict:
    epochs = np.array(sorted(by_epoch))
    acc = np.array([by_epoch[e] for e in epochs], dtype=float)

    def stats(n, total, squares):
        mean = total / n
        spread = np.sqrt(np.maximum(squares - n * mean * mean, 0) / np.maximum(n - 1, 1))
        return mean, np.where(n > 1, spread, 0.0), n

    validation = None
    if acc[:, 3].min() > 0:
        validation = stats(acc[:, 3], acc[:, 4], acc[:, 5])
    return {"epoch": epochs, "loss": stats(acc[:, 0], acc[:, 1], acc[:, 2]), "validation_loss": validation}



def curve_layout(axes, scoring=()) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Which settings colour the curves and which make the panels, from a sweep's axes (the seed's aside).

    The first varied axis colours the curves; the panels are one per value of
    the axis holding ``optimizer`` when it varies (else the second axis), and
    of every further axis. The seeds are averaged; axes holding a key of
    ``scoring`` (settings that change how a run is scored, not how it
    trains) draw nothing of their own.

    >>> curve_layout([("n_latent",), ("optimizer", "learning_rate"), ("random_state",)])
    (('n_latent',), ('optimizer', 'learning_rate'))
    >>> curve_layout([("noise_levels",), ("noise_level",)]), curve_layout([("random_state",)])
    ((('noise_levels',), ('noise_level',)), ((), ()))
    """
    varied = [tuple(axis) for axis in axes if "random_state" not in axis and not set(axis) & set(scoring)]
    panel = [axis for axis in varied if "optimizer" in axis][:1] if len(varied) > 1 else []
    rest = [axis for axis in varied if axis not in panel]
    colour, rest = (rest[0], rest[1:]) if rest else ((), [])
    return colour, tuple(k for axis in (*panel, *rest) for k in axis)
