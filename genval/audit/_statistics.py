"""Statistics over repeated audits: one report's headline figures, and their mean and interval over seeds."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from genval.audit._report import AuditReport
from genval.audit._scores import SCORES

__all__ = ["headline", "interval"]


def interval(values: Sequence[float | None], confidence: float = 0.95,
             bounds: tuple[float, float] | None = None) -> dict:
    """The mean of per-seed values and its two-sided t interval; None values (nothing to divide by) are left out.

    ``bounds`` clips the interval to a figure's range (a share lies in [0, 1]
    however wide the t interval of a few seeds is).

    Examples
    --------
    >>> interval([0.5, 0.7, 0.6])["value"]
    0.6
    >>> [round(v, 3) for v in interval([0.5, 0.7, 0.6])["interval"]]
    [0.352, 0.848]
    >>> interval([0.5, None])
    {'value': 0.5, 'interval': None, 'per_seed': [0.5, None], 'n': 1}
    """
    from scipy.stats import t

    known = np.array([v for v in values if v is not None], dtype=float)
    doc = {"value": float(known.mean()) if len(known) else None, "interval": None, "per_seed": list(values),
           "n": len(known)}
    if len(known) > 1:
        half = float(t.ppf(0.5 + confidence / 2, len(known) - 1) * known.std(ddof=1) / math.sqrt(len(known)))
        lo, hi = doc["value"] - half, doc["value"] + half
        if bounds is not None:
            lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
        doc["interval"] = [lo, hi]
    return doc


def headline(report: AuditReport) -> dict:
    """The figures ``--compare`` puts side by side, from one report (all on new samples but the copy rate)."""
    doc = report.to_dict()
    new = doc["new"]
    figures = {
        "copy_rate": doc["copies"]["rate"]["value"],
        "new_validity": new["ratios"]["validity"]["value"],
        "yield": doc["yield"]["value"],
        "som_precision": new["som_agreement"]["precision"]["value"],
        "som_recall": new["som_agreement"]["recall"]["value"],
        "crispness": doc["crispness"]["value"],
    }
    figures.update({f"auroc_{name}": doc["scores"][name]["auroc"] for name in SCORES if name in doc["scores"]})
    figures["yield_at_floor"] = doc["novelty"]["yield_at_floor"]
    strata = doc["controls"].get("strata", {})
    for stratum in ("all", "inside_hull", "matched"):
        figures[f"{stratum}_ranked"] = float(strata.get(stratum, {}).get("ranked", False))
    for stratum in ("inside_hull", "matched"):
        table = strata.get(stratum, {"scores": {}})
        for name in ("som_distance", "hull_depth", "nearest_code"):
            figures[f"{stratum}_auroc_{name}"] = table["scores"].get(name, {}).get("auroc")
        figures[f"{stratum}_distinct_invalid"] = table.get("distinct_invalid")
    for space_name in ("pixels", "latent"):
        for metric in ("precision", "recall", "density", "coverage", "authenticity"):
            figures[f"{space_name}_{metric}"] = doc["membership"].get(space_name, {}).get(metric, {}).get("value")
    return figures
