"""A sweep's results by grid point: counts, and mean and spread over seeds."""

from __future__ import annotations

import math
import statistics

from genval.experiments._sweep_settings import SETTINGS

__all__ = ["summarize"]

# The figures summarised over seeds (the first four as ever; the held-out loss and grey levels since 0.3; the
# training items' wrong pixels and MSE, with train_size, since 0.4).
METRICS = ("final_loss", "wrong_pixels", "perfect", "within_one", "validation_loss", "mse", "psnr",
           "within_tolerance", "train_wrong_pixels", "train_mse")


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
        stalled = [m for m in members if m["status"] == "stalled"]
        diverged = sum(m["status"].startswith("diverged") for m in members)
        entry = {"settings": dict(zip(varied, key)), "axes": axes, "runs": len(members), "ok": len(ok),
                 "stalled": len(stalled), "diverged": diverged,
                 "failed": len(members) - len(ok) - len(stalled) - diverged, "values": {}}
        finished = [m for m in members if m["status"] in ("ok", "stalled")]
        for col in METRICS:
            values = [float(m[col]) for m in finished if m.get(col, "") != ""]
            entry["values"][col] = values
            entry[col] = _mean_spread(values)
        entry["seconds"] = _mean_spread([float(m["seconds"]) for m in members if m["seconds"] != ""])
        entry["scored"] = int(finished[0]["scored"]) if finished and finished[0]["scored"] else None
        summary.append(entry)
    return summary


def _mean_spread(values: list[float]) -> tuple[float, float] | None:
    if not values:
        return None
    if not all(math.isfinite(v) for v in values):  # an infinite PSNR: a perfect run
        return statistics.fmean(values), math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0
