"""What an audit of given samples found (:func:`genval.audit.audit_samples`), as figures, JSON and CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass

import numpy as np

from genval._utils.files import atomic_write
from genval.audit._holdout import Memorisation
from genval.audit._text import _fraction, write_null

__all__ = ["SAMPLE_SCORES", "SamplesReport"]

# Each per-sample score of a samples audit, oriented so that a higher score means closer to the training data.
SAMPLE_SCORES = {
    "realism": "k-NN realism in pixel space (Kynkäänniemi et al. 2019): max over training items of their k-NN "
               "radius / distance to the sample (inf at distance 0)",
    "nearest_code": "minus the distance from the sample's code to the nearest training code (with a model)",
    "latent_realism": "k-NN realism between the sample's code and the training codes (with a model)",
    "feature_realism": "k-NN realism between the sample's features and the training items' (with features)",
}
DEFINITIONS = {
    "copies": "samples whose thresholded bitmap equals a training item's",
    "near_copies": "samples 1 to threshold pixels (Hamming distance) from their nearest training item",
    "threshold": "half the median Hamming distance from a distinct training bitmap to its nearest other one (at "
                 "least 1): a near-copy is closer to one item than typical items are to their nearest neighbours, "
                 "by a factor of two",
    "all": "valid samples / samples",
    "new": "valid new samples / new samples (every sample but the exact copies)",
    "beyond_near_copies": "valid samples / samples farther than the threshold from every training item",
    "failures": "new samples failing the check / new samples",
    "occupied": "samples whose winning neuron wins at least one training item / samples",
    "valid_when_occupied": "valid new samples / new samples on occupied neurons (copies are valid by construction)",
    "valid_when_empty": "valid new samples / new samples on empty neurons (copies are valid by construction)",
}


def _ratio(numerator: int, denominator: int, definition: str) -> dict:
    return {"value": numerator / denominator if denominator else None, "numerator": int(numerator),
            "denominator": int(denominator), "definition": definition}


@dataclass(frozen=True, eq=False)
class SamplesReport:
    """An audit of given samples: per distinct bitmap its verdicts and nearest item, per sample where it falls.

    Attributes
    ----------
    bitmap_index : ndarray of int (n,)
        Each sample's row of ``bitmaps``.
    bitmaps, passes, copy_of, nearest, item_distance : ndarray (u, ...)
        Per distinct bitmap: the bitmap, every check's verdict, the training item it equals
        (-1: none), the nearest training item and the Hamming distance to it.
    near_copy : int
        The near-copy threshold in pixels; ``near_copy_median`` the median it was calibrated
        on (None when it was given).
    scored : ndarray of int (s,)
        The samples that entered the k-NN metrics; ``scores`` maps each score of
        :data:`SAMPLE_SCORES` computed to its values on them.
    membership : dict
        The k-NN metrics in pixel space and, with a model, in latent space, with k, N and M.
    located : dict or None
        With a model: each sample's code ``Z``, winning ``neuron``, ``som_distance``, and the
        map's ``hits`` per neuron and ``grid``.
    null : dict
        The checks' null model (:func:`genval.checks.null_model`) as JSON.
    memorisation : Memorisation or None
        With held-out items: memorisation against them (:func:`genval.audit.memorisation`).
    bootstrap : dict or None
        The figures' intervals over resamples of the samples (:mod:`genval.audit._samples_bootstrap`) as JSON;
        None without resamples.
    """

    dataset: str
    source: str | None
    shape: tuple[int, int]
    sample_names: tuple[str, ...]
    item_names: tuple[str, ...]
    checks_title: str
    check_names: tuple[str, ...]
    bitmap_index: np.ndarray
    bitmaps: np.ndarray
    passes: np.ndarray
    copy_of: np.ndarray
    nearest: np.ndarray
    item_distance: np.ndarray
    near_copy: int
    near_copy_median: float | None
    scored: np.ndarray
    scores: dict
    membership: dict
    located: dict | None
    random_state: int | str | None
    null: dict
    memorisation: Memorisation | None = None
    bootstrap: dict | None = None

    def with_bootstrap(self, bootstrap: dict | None) -> SamplesReport:
        """The same report with these intervals over samples."""
        return dataclasses.replace(self, bootstrap=bootstrap)

    def __len__(self) -> int:
        return len(self.bitmap_index)

    def per_sample(self) -> dict:
        """Per sample: ``valid``, ``copy`` (equals an item), ``near_copy`` and ``distance`` (to the nearest item)."""
        b = self.bitmap_index
        distance = self.item_distance[b]
        return {"valid": self.passes.all(axis=1)[b], "copy": self.copy_of[b] >= 0,
                "near_copy": (distance >= 1) & (distance <= self.near_copy), "distance": distance}

    def to_dict(self, model: dict | None = None, map: dict | None = None) -> dict:
        """The report as JSON: every figure with its numerator, denominator and definition.

        ``model`` and ``map`` describe the model and map of a latent space (the CLI's
        ``model_doc`` and ``map_doc``); None without one.
        """
        s = self.per_sample()
        n, valid, copy, near, distance = len(self), s["valid"], s["copy"], s["near_copy"], s["distance"]
        new, beyond = ~copy, distance > self.near_copy
        n_new = int(new.sum())
        failing = ~self.passes[self.bitmap_index[new]]
        return {
            "dataset": self.dataset, "source": self.source, "shape": [int(v) for v in self.shape], "n": n,
            "distinct": int(len(self.bitmaps)), "seed": self.random_state,
            "checks": {"title": self.checks_title, "names": list(self.check_names)},
            "copies": {"rate": _ratio(copy.sum(), n, DEFINITIONS["copies"]),
                       "distinct_items": int(len(np.unique(self.copy_of[self.copy_of >= 0])))},
            "near_copies": {"threshold": int(self.near_copy),
                            "calibrated": self.near_copy_median is not None,
                            "median_item_distance": self.near_copy_median,
                            "threshold_definition": DEFINITIONS["threshold"] if self.near_copy_median is not None
                            else "given",
                            "rate": _ratio(near.sum(), n, DEFINITIONS["near_copies"]),
                            "distinct_items": int(len(np.unique(self.nearest[self.bitmap_index[near]])))},
            "validity": {"all": _ratio(valid.sum(), n, DEFINITIONS["all"]),
                         "new": _ratio(valid[new].sum(), n_new, DEFINITIONS["new"]),
                         "beyond_near_copies": _ratio(valid[beyond].sum(), int(beyond.sum()),
                                                      DEFINITIONS["beyond_near_copies"])},
            "failures": {name: _ratio(failing[:, j].sum(), n_new, DEFINITIONS["failures"])
                         for j, name in enumerate(self.check_names)},
            "item_distance": {"min": int(distance.min()), "median": float(np.median(distance)),
                              "max": int(distance.max()),
                              "definition": "Hamming distance from each sample's bitmap to its nearest training item"},
            "membership": self.membership,
            "scores": {name: SAMPLE_SCORES[name] for name in self.scores},
            "map_verdict": self._map_verdict(valid, new),
            "model": model, "map": map,
            "null_model": self.null,
            "holdout": None if self.memorisation is None else self.memorisation.to_dict(),
            "bootstrap": self.bootstrap,
        }

    def _map_verdict(self, valid: np.ndarray, new: np.ndarray) -> dict | None:
        """Where the samples fall on the map; validity by neuron on new samples only, as the latent audit does."""
        if self.located is None:
            return None
        on_occupied = self.located["hits"][self.located["neuron"]] > 0
        occupied, valid = on_occupied & new, valid & new
        distance = self.located["som_distance"]
        return {"grid": [int(g) for g in self.located["grid"]],
                "occupied": _ratio(on_occupied.sum(), len(self), DEFINITIONS["occupied"]),
                "valid_when_occupied": _ratio(valid[occupied].sum(), int(occupied.sum()),
                                              DEFINITIONS["valid_when_occupied"]),
                "valid_when_empty": _ratio(valid[new & ~on_occupied].sum(), int((new & ~on_occupied).sum()),
                                           DEFINITIONS["valid_when_empty"]),
                "som_distance_median": float(np.median(distance))}

    def write_csv(self, path) -> None:
        """One row per sample (numbered from 1): its name, bitmap as 0/1 row-major, verdict, failed checks, the
        item it copies, its nearest item and the Hamming distance, near-copy (1/0); with a model its code, neuron
        (1-based), whether the neuron is occupied, its hits and the distance to its weights; then every score of
        :data:`SAMPLE_SCORES` computed, as ``score_NAME`` (empty outside the scored subsample); with held-out
        items, the Hamming distance to the nearest one, authenticity (1/0) and whether the sample is within the
        threshold calibrated on them (1/0)."""
        names = list(self.scores)
        row_of = np.full(len(self), -1, dtype=np.int64)
        row_of[self.scored] = np.arange(len(self.scored))
        strings = ["".join("1" if v else "0" for v in row) for row in self.bitmaps]
        failed = [";".join(n for n, ok in zip(self.check_names, row) if not ok) for row in self.passes]
        located = self.located
        dims = 0 if located is None else located["Z"].shape[1]
        header = ["sample", "name", "bitmap", "valid", "failed", "copy_of", "nearest_item", "item_distance",
                  "near_copy", *[f"z{d + 1}" for d in range(dims)],
                  *(["neuron", "occupied", "hits", "som_distance"] if located is not None else []),
                  *[f"score_{name}" for name in names],
                  *(["holdout_distance", "authentic", "holdout_near_copy"] if self.memorisation is not None else [])]
        memo = self.memorisation
        with atomic_write(path, "w") as fh:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(header)
            for i in range(len(self)):
                b = self.bitmap_index[i]
                d = int(self.item_distance[b])
                row = [i + 1, self.sample_names[i], strings[b], int(self.passes[b].all()), failed[b],
                       "" if self.copy_of[b] < 0 else self.item_names[self.copy_of[b]],
                       self.item_names[self.nearest[b]], d, int(1 <= d <= self.near_copy)]
                if located is not None:
                    k = int(located["neuron"][i])
                    hits = int(located["hits"][k])
                    row += [f"{v:.6g}" for v in located["Z"][i]]
                    row += [k + 1, int(hits > 0), hits, f"{located['som_distance'][i]:.6g}"]
                r = row_of[i]
                row += [f"{self.scores[name][r]:.6g}" if r >= 0 else "" for name in names]
                if memo is not None:
                    row += [int(memo.holdout_distance[i]), int(memo.authentic[i]), int(d <= memo.threshold)]
                writer.writerow(row)
                if buffer.tell() > 1 << 20:
                    fh.write(buffer.getvalue())
                    buffer.seek(0)
                    buffer.truncate()
            fh.write(buffer.getvalue())


def write_samples_text(doc: dict, echo) -> None:
    """The report of :meth:`SamplesReport.to_dict` as text, one line at a time through ``echo``; with
    ``bootstrap``, each figure's 95% interval over resamples of the samples in brackets beside it."""
    boot = doc.get("bootstrap")
    figures = {} if boot is None else boot["figures"]

    def at(ratio: dict, path: str, digits: int = 3) -> str:
        return _fraction(ratio) + _interval(figures.get(path), digits)

    h, w = doc["shape"]
    echo(f"samples audit: {doc['n']} samples ({doc['distinct']} distinct bitmaps) of {doc['source'] or 'an array'} "
         f"against {doc['dataset']} ({h}x{w}), checks: {doc['checks']['title']}")
    echo("intervals: none (--resamples 0)" if boot is None else
         f"[intervals]: 95% bootstrap over {boot['n_resamples']} resamples of the samples (seed {boot['seed']}); "
         "counts of distinct items and coverage shrink in a resample (it misses about a third of the samples), so "
         "their interval lies below the value: read its width")
    copies, near = doc["copies"], doc["near_copies"]
    echo(f"copies: {at(copies['rate'], 'copies.rate')} samples equal a training item ({copies['distinct_items']}"
         f"{_interval(figures.get('copies.distinct_items'), 0)} distinct items reproduced)")
    why = f"half the median nearest-other distance {near['median_item_distance']:g} between training bitmaps" \
        if near["calibrated"] else "given by --near-copy"
    within = "1 pixel" if near["threshold"] == 1 else f"1 to {near['threshold']} pixels"
    echo(f"near-copies: {at(near['rate'], 'near_copies.rate')} samples within {within} of a training item "
         f"(threshold {near['threshold']}: {why}; {near['distinct_items']}"
         f"{_interval(figures.get('near_copies.distinct_items'), 0)} distinct items)")
    d = doc["item_distance"]
    echo(f"pixels to the nearest training item: min {d['min']}, median {d['median']:g}"
         f"{_interval(figures.get('item_distance.median'), 1)}, max {d['max']}")
    echo("validity (every check passes):")
    for name, label in (("all", "all samples"), ("new", "new (not copies)"),
                        ("beyond_near_copies", "beyond the near-copies")):
        echo(f"  {label:<24}{at(doc['validity'][name], f'validity.{name}')}")
    write_null(doc["null_model"], echo)
    echo("failures per check on new samples: " + ", ".join(f"{name} {at(r, f'failures.{name}')}"
                                                         for name, r in doc["failures"].items()))
    _write_membership(doc["membership"], boot, echo)
    if doc["holdout"] is not None:
        write_holdout(doc["holdout"], echo)
    v = doc["map_verdict"]
    if v is not None:
        echo(f"the Kohonen map {v['grid'][0]}x{v['grid'][1]}: {at(v['occupied'], 'map_verdict.occupied')} samples "
             f"on occupied neurons; valid there {at(v['valid_when_occupied'], 'map_verdict.valid_when_occupied')}, "
             f"on empty neurons {at(v['valid_when_empty'], 'map_verdict.valid_when_empty')}; median distance to "
             f"the neuron's weights {v['som_distance_median']:.3g}"
             f"{_interval(figures.get('map_verdict.som_distance_median'), 3, 'g')}")


def _interval(figure: dict | None, digits: int = 3, kind: str = "f") -> str:
    """`` [low, high]``: a figure's interval over resamples, or nothing without one."""
    if figure is None or figure["interval"] is None:
        return ""
    low, high = figure["interval"]
    return f" [{low:.{digits}{kind}}, {high:.{digits}{kind}}]"


def _write_membership(m: dict, boot: dict | None, echo) -> None:
    """The k-NN metrics of a samples audit, with intervals beside those resampled."""
    figures = {} if boot is None else boot["figures"]
    of = "" if m["n_real"] == m["n_training"] else f" (a seeded subsample of {m['n_training']})"
    echo(f"k-NN membership (k = {m['k']}, N = {m['n_real']} training items{of}, M = {m['n_fake']} samples):")
    for space, label in (("pixels", "pixels"), ("latent", "latent codes"), ("features", "given features")):
        if space in m:
            shown = ", ".join(f"{name} {m[space][name]['value']:.3f}"
                              f"{_interval(figures.get(f'membership.{space}.{name}'))}"
                              for name in ("precision", "recall", "density", "coverage", "authenticity"))
            echo(f"  {label} ({m[space]['metric']}): {shown}")
    skipped = {} if boot is None else boot["not_resampled"]
    if any(key.endswith(".recall") for key in skipped):
        echo("  (recall without an interval: a resample changes the samples' own k-NN balls)")
    if any(key.endswith(".coverage") for key in skipped):
        echo("  (coverage without an interval: its sample-item pairs pass their share of the memory budget)")
    if "note" in m:
        echo(f"  {m['note']}")


def write_holdout(doc: dict, echo) -> None:
    """The memorisation section of a samples audit's text report (:meth:`Memorisation.to_dict`), through ``echo``."""
    f = doc["figures"]

    def cell(name: str, digits: int = 3) -> str:
        figure = f[name]
        text = f"{figure['value']:.{digits}f}"
        return text + (f" [{figure['interval'][0]:.{digits}f}, {figure['interval'][1]:.{digits}f}]"
                       if figure["interval"] else "")

    split = doc["split"]
    where = f"from {doc['source'] or 'an array'}" if split is None else \
        (f"a seeded split of the set: {split['n_holdout']} of {split['of']} items held out, fraction "
         f"{split['fraction']:g}, seed {split['seed']}; {split['n_training']} left for training")
    intervals = f"95% bootstrap intervals, {doc['n_resamples']} resamples of the samples and of the held-out items" \
        if doc["n_resamples"] else "no intervals (0 resamples)"
    echo(f"memorisation against {doc['n_holdout']} held-out items ({where}); Hamming distances between bitmaps "
         f"thresholded at 0.5; {intervals}:")
    pixels = "1 pixel" if doc["threshold"] == 1 else f"{doc['threshold']} pixels"
    echo(f"  near-copies, within {pixels} of a training item (the {100 * doc['quantile']:g}% "
         "quantile of the held-out items' distances to their nearest training item):")
    echo(f"    samples {cell('near_copy_rate')}, held-out items {cell('holdout_near_copy_rate')}; excess "
         f"{cell('near_copy_excess')} (about 0 for a generator as novel as new real data)")
    echo("  authentic, farther from their nearest training item than it is from its nearest other (Alaa et al. 2022):")
    echo(f"    samples {cell('authenticity')}, held-out items {cell('holdout_authenticity')}; gap "
         f"{cell('authenticity_gap')} (a copy is never authentic)")
    matched, d = doc["matched"], doc["distances"]
    echo(f"  distances to the nearest of the {doc['n_training']} training or {doc['n_holdout']} held-out items "
         "(median [interval], 5%-95%):")
    for label, name, key in (("samples to training", "median_to_training", "samples_to_training"),
                             ("held-out to training", "holdout_median_to_training", "holdout_to_training"),
                             ("samples to held-out", "median_to_holdout", "samples_to_holdout")):
        q = d[key]
        echo(f"    {label:<22}{cell(name, 0)} ({q['q05']}-{q['q95']})")
    echo(f"    gap, held-out minus samples: {cell('median_gap', 0)} (positive: the samples sit closer to the "
         "training items than new real items do)")
    cut = "" if matched["subsampled"] is None else \
        f", over every subset of {matched['n']} {matched['subsampled']} items"
    ceiling = "" if matched["subsampled"] != "training" else \
        f"; copies of training items score at least {matched['n'] / doc['n_training']:.2f} here, 1 at equal sizes"
    echo(f"  closer to training than to held-out, on {matched['n']} items a side{cut} (a tie counts one half): "
         f"{cell('closer_to_training')} (0.5: no sign of memorisation{ceiling})")
