"""The audit's report: every figure, counted from the per-sample arrays, as JSON, CSV or a table.

:class:`AuditReport` holds what an audit found per sample (its point, neuron,
distinct bitmap, scores) and per distinct bitmap (its checks, the item it
copies); its methods count the figures, each with its numerator, denominator
and definition, and :meth:`AuditReport.to_dict` is the JSON document.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from genval._utils.budget import chunk_rows
from genval._utils.files import atomic_write
from genval.audit._bootstrap import N_RESAMPLES, bootstrap_audit
from genval.audit._controls import controlled_comparison
from genval.audit._scores import MAX_SCORED, SCORE_KINDS, SCORES

__all__ = ["AuditReport"]


def _ratio(numerator: int, denominator: int, definition: str) -> dict:
    value = numerator / denominator if denominator else None
    return {"value": value, "numerator": numerator, "denominator": denominator, "definition": definition}


@dataclass(frozen=True, eq=False)
class AuditReport:
    """What an audit found. :meth:`to_dict` is the JSON document.

    Attributes
    ----------
    strategy : str
    check_names : tuple of str
    Z : ndarray (n, n_latent)
        The audited points.
    neuron : ndarray of int (n,)
        Winning neuron of each point (flat index).
    som_distance : ndarray (n,)
        Distance from each point to its winning neuron's weight vector.
    bitmap_index : ndarray of int (n,)
        Row of :attr:`bitmaps` each point decodes to.
    bitmaps : ndarray of bool (k, n_pixels)
        The distinct thresholded bitmaps, in order of first appearance.
    passes : ndarray of bool (k, n_checks)
        Every check on every distinct bitmap.
    copy_of : ndarray of int (k,)
        The training item a distinct bitmap equals, -1 for a new one.
    hits : ndarray of int (n_neurons,)
        Training items each neuron wins (a neuron is *occupied* when it wins one).
    crisp_pixels : int
        Decoded pixels below 0.1 or above 0.9, of ``n * n_pixels``.
    scored : ndarray of int
        The samples the scores and the k-NN metrics use (all, or a seeded
        subsample of :data:`MAX_SCORED`).
    scores : dict of str to ndarray
        Each of :data:`SCORES` on the scored samples.
    membership : dict
        :func:`genval.checks.membership_metrics` in pixel and latent space, as JSON.
    hull : dict
        How :func:`genval.audit.hull_depth` was computed (exact or projected, dimensions).
    item_distance : ndarray of int (k,)
        Pixels between each distinct bitmap and the nearest training item (0 for a copy).
    min_novelty : int
        The novelty floor of :meth:`novelty`'s ``yield_at_floor``.
    control_seed : int
        Seeds the bootstrap of :meth:`controls`.
    crisp_histogram : ndarray of int (n_pixels + 1,), optional
        Samples deciding firmly 0, 1, ... of their pixels (the crispness, resampled).
    bootstrap_seed : int
        Seeds the bootstrap over samples of :meth:`bootstrap`.
    n_resamples : int
        Its resamples (0: none).
    null : dict
        The checks' null model (:func:`genval.checks.null_model`, :data:`NULL_DRAWS` draws per
        source) as JSON: how often they pass bitmaps nobody designed.
    """

    strategy: str
    dataset: str
    checks_title: str
    check_names: tuple[str, ...]
    item_names: tuple[str, ...]
    grid: tuple[int, int]
    random_state: object
    Z: np.ndarray
    neuron: np.ndarray
    som_distance: np.ndarray
    bitmap_index: np.ndarray
    bitmaps: np.ndarray
    passes: np.ndarray
    copy_of: np.ndarray
    hits: np.ndarray
    crisp_pixels: int
    scored: np.ndarray
    scores: dict
    membership: dict
    hull: dict = field(default_factory=dict)
    item_distance: np.ndarray | None = None
    min_novelty: int = 1
    control_seed: int = 0
    null: dict | None = None
    crisp_histogram: np.ndarray | None = None
    bootstrap_seed: int = 0
    n_resamples: int = N_RESAMPLES
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def valid(self) -> np.ndarray:
        """Per sample: every check passes."""
        if "valid" not in self._cache:
            self._cache["valid"] = self.passes.all(axis=1)[self.bitmap_index]
        return self._cache["valid"]

    @property
    def novel(self) -> np.ndarray:
        """Per sample: its bitmap equals no training item."""
        if "novel" not in self._cache:
            self._cache["novel"] = (self.copy_of < 0)[self.bitmap_index]
        return self._cache["novel"]

    @property
    def occupied(self) -> np.ndarray:
        """Per neuron: it wins at least one training item."""
        return self.hits > 0

    @property
    def n_total(self) -> int:
        return len(self.Z)

    def counts(self, new_only: bool = False) -> dict:
        """Samples, valid ones, distinct valid bitmaps and distinct new valid ones (of new samples only)."""
        select = self.novel if new_only else np.ones(self.n_total, dtype=bool)
        valid_u = self.passes.all(axis=1)
        seen = np.bincount(self.bitmap_index[select], minlength=len(self.bitmaps)) > 0
        return {
            "total": int(select.sum()),
            "valid": int((self.valid & select).sum()),
            "unique_valid": int((valid_u & seen).sum()),
            "novel_unique_valid": int((valid_u & seen & (self.copy_of < 0)).sum()),
        }

    def ratios(self, new_only: bool = False) -> dict:
        c = self.counts(new_only)
        if new_only:
            return {
                "validity": _ratio(c["valid"], c["total"], "valid new / new"),
                "uniqueness": _ratio(c["unique_valid"], c["valid"], "distinct valid new / valid new"),
                "novelty": _ratio(c["novel_unique_valid"], c["unique_valid"], "1 by definition: every one is new"),
            }
        return {
            "validity": _ratio(c["valid"], c["total"], "valid / total"),
            "uniqueness": _ratio(c["unique_valid"], c["valid"], "unique valid / valid"),
            "novelty": _ratio(c["novel_unique_valid"], c["unique_valid"], "novel unique valid / unique valid"),
        }

    def copies(self) -> dict:
        """How often the model copies: the copy rate and how many training items it reproduced."""
        n_copies = int((~self.novel).sum())
        copied = self.copy_of[np.unique(self.bitmap_index[~self.novel])]
        return {"rate": _ratio(n_copies, self.n_total, "copies / total (a copy equals a training item)"),
                "distinct_items": int(len(np.unique(copied)))}

    def failures(self, new_only: bool = False) -> dict:
        """Samples failing each check."""
        select = self.novel if new_only else slice(None)
        per_bitmap = np.bincount(self.bitmap_index[select], minlength=len(self.bitmaps))
        fails = ((~self.passes) * per_bitmap[:, None]).sum(axis=0)
        return {name: int(f) for name, f in zip(self.check_names, fails)}

    def som_agreement(self, new_only: bool = False) -> dict:
        """The 2x2 table of occupied neuron against structural validity."""
        select = self.novel if new_only else np.ones(self.n_total, dtype=bool)
        occupied = self.occupied[self.neuron] & select
        empty = ~self.occupied[self.neuron] & select
        valid = self.valid
        table = {
            "occupied_valid": int((occupied & valid).sum()),
            "occupied_invalid": int((occupied & ~valid).sum()),
            "empty_valid": int((empty & valid).sum()),
            "empty_invalid": int((empty & ~valid).sum()),
        }
        tp, fp, fn = table["occupied_valid"], table["occupied_invalid"], table["empty_valid"]
        return {
            "table": table,
            "precision": _ratio(tp, tp + fp, "valid among samples in occupied neurons"),
            "recall": _ratio(tp, tp + fn, "samples in occupied neurons among valid ones"),
        }

    def roc(self) -> dict:
        """Each score's ROC curve on the scored new samples as a predictor of validity.

        Returns
        -------
        dict
            Score name to ``{"fpr", "tpr", "auroc", "n_valid", "n_invalid", "distinct_valid",
            "distinct_invalid"}`` (samples, and the distinct bitmaps they decode to);
            ``auroc`` is None (and the curve empty) unless both classes occur.
        """
        if "roc" not in self._cache:
            from sklearn.metrics import roc_auc_score, roc_curve

            new = self.novel[self.scored]
            truth = self.valid[self.scored][new]
            n_valid = int(truth.sum())
            n_invalid = int(len(truth) - n_valid)
            bitmap = self.bitmap_index[self.scored][new]
            distinct = {"distinct_valid": len(np.unique(bitmap[truth])),
                        "distinct_invalid": len(np.unique(bitmap[~truth]))}
            curves = {}
            for name, score in self.scores.items():
                s = np.nan_to_num(score[new].astype(float), posinf=np.finfo(float).max)
                if n_valid and n_invalid:
                    fpr, tpr, _ = roc_curve(truth, s)
                    auroc = float(roc_auc_score(truth, s))
                else:
                    fpr, tpr, auroc = np.zeros(0), np.zeros(0), None
                curves[name] = {"fpr": fpr, "tpr": tpr, "auroc": auroc, "n_valid": n_valid, "n_invalid": n_invalid,
                                **distinct}
            self._cache["roc"] = curves
        return self._cache["roc"]

    def fingerprint(self, with_map: bool = False) -> str:
        """A hash of the audited points and what they decoded to (``with_map``: and their neurons and the
        map's distances): two runs with equal fingerprints are one run of the figures that rest on them."""
        h = hashlib.sha256()
        arrays = [self.Z, self.bitmap_index, np.packbits(self.bitmaps, axis=1), self.passes]
        if with_map:
            arrays += [self.neuron, self.som_distance, self.hits]
        for array in arrays:
            h.update(np.ascontiguousarray(array).tobytes())
        return h.hexdigest()

    def controls(self) -> dict:
        """Every score against the map-free baselines, in strata, with bootstrap intervals.

        See :func:`genval.audit.controlled_comparison`: on the scored new
        samples, the AUROC of each score on all of them, inside the codes'
        hull and matched by nearest-code distance, each beside the best
        baseline (``hull_depth``, ``nearest_code``, ``box_centre``) with the
        difference's 95% interval from resampling distinct bitmaps.
        """
        if "controls" not in self._cache:
            new = self.novel[self.scored]
            if "hull_depth" not in self.scores or not new.any():
                self._cache["controls"] = {"note": "no controls: no new samples, or no hull of the codes"}
            else:
                scores = {name: s[new] for name, s in self.scores.items()}
                self._cache["controls"] = controlled_comparison(
                    scores, self.valid[self.scored][new], self.bitmap_index[self.scored][new],
                    scores["hull_depth"], -scores["nearest_code"], kinds=SCORE_KINDS, random_state=self.control_seed)
        return self._cache["controls"]

    def novelty(self) -> dict:
        """How far the new valid bitmaps lie from the training items: their distribution and the yield at a floor.

        A one-pixel edit of a training item counts as new; the distances say
        how new. ``histogram`` maps a distance in pixels to the number of
        distinct new valid bitmaps at it; ``yield_at_floor`` counts those at
        least :attr:`min_novelty` pixels away.
        """
        valid_u = self.passes.all(axis=1)
        seen = np.bincount(self.bitmap_index, minlength=len(self.bitmaps)) > 0
        d = self.item_distance[valid_u & seen & (self.copy_of < 0)] if self.item_distance is not None else \
            np.zeros(0, dtype=np.int64)
        values, counts = np.unique(d, return_counts=True)
        return {
            "histogram": {str(int(v)): int(c) for v, c in zip(values, counts)},
            "median": float(np.median(d)) if len(d) else None,
            "min_novelty": self.min_novelty,
            "yield_at_floor": int((d >= self.min_novelty).sum()),
            "definition": "pixels between each distinct new valid bitmap and its nearest training item "
                          "(thresholded at 0.5); yield_at_floor counts those at least min_novelty away",
        }

    def bootstrap(self) -> dict:
        """Every figure's 95% percentile interval from :attr:`n_resamples` resamples of the samples.

        See :mod:`genval.audit._bootstrap`: copies, validity, uniqueness and
        novelty (new and all samples), the yield and the yield at the floor,
        failures per check on new samples, the map's precision and recall,
        crispness and the k-NN precision in pixel space, each as ``{"value",
        "interval", "defined"}`` (the resamples where it has a denominator)
        under ``figures``, with ``n_resamples``, ``seed`` and what is not
        resampled and why.
        """
        if "bootstrap" not in self._cache:
            self._cache["bootstrap"] = bootstrap_audit(self, self.n_resamples, self.bootstrap_seed)
        return self._cache["bootstrap"]

    def crispness(self) -> dict:
        return _ratio(self.crisp_pixels, self.n_total * self.bitmaps.shape[1],
                      "decoded pixels below 0.1 or above 0.9 / all decoded pixels (1 = every pixel decided)")

    def to_dict(self, *, model: dict | None = None, map: dict | None = None) -> dict:
        """The JSON document of every figure; ``model`` and ``map``, when given, describe them as the caller knows
        them (the file each came from, its kind, its seed) under those keys, last."""
        new = self.counts(new_only=True)
        doc = {
            "strategy": self.strategy,
            "dataset": self.dataset,
            "checks": {"title": self.checks_title, "names": list(self.check_names)},
            "grid": list(self.grid),
            "seed": self.random_state,
            "n": self.n_total,
            "copies": self.copies(),
            "yield": {"value": new["novel_unique_valid"], "definition": "distinct new valid bitmaps"},
            "new": {"counts": new, "ratios": self.ratios(True), "failures": self.failures(True),
                    "som_agreement": self.som_agreement(True)},
            "all": {"counts": self.counts(), "ratios": self.ratios(), "failures": self.failures(),
                    "som_agreement": self.som_agreement()},
            "scores": {
                "samples": {"scored": len(self.scored), "new": int(self.novel[self.scored].sum()),
                            "definition": f"AUROC of each score as a predictor of validity, on the new samples "
                                          f"among the scored ones (all samples, or a seeded subsample of "
                                          f"{MAX_SCORED:,})"},
                **{name: {"auroc": c["auroc"], "n_valid": c["n_valid"], "n_invalid": c["n_invalid"],
                          "definition": SCORES[name]} for name, c in self.roc().items()},
            },
            "membership": self.membership,
            "crispness": self.crispness(),
            "novelty": self.novelty(),
            "null_model": self.null,
            "hull": self.hull,
            "controls": self.controls(),
            "bootstrap": self.bootstrap(),
        }
        described = {"model": model, "map": map}
        return dict(doc, **{key: value for key, value in described.items() if value is not None})

    def write_csv(self, path, progress: Callable[[int, int], None] | None = None) -> None:
        """One row per sample (numbered from 1): point, neuron (1-based), the map's distance and the neuron's
        hits, bitmap as 0/1 row-major, verdict, failed checks, new (1) or a copy (0) and of which item, the
        pixels to the nearest training item, then every score of :data:`SCORES` as ``score_NAME`` (oriented:
        higher predicts valid; empty for a sample outside the scored subsample).

        Written a chunk of rows at a time (each chunk's bitmaps spelled out only for it, so the memory stays
        within the budget whatever the number of samples), calling ``progress(rows_done, rows_total)`` after
        each chunk."""
        p, dims, names = self.bitmaps.shape[1], self.Z.shape[1], list(self.scores)
        valid_u = self.passes.all(axis=1)
        copy_name = ["" if k < 0 else self.item_names[k] for k in self.copy_of]
        distance = self.item_distance if self.item_distance is not None else np.zeros(len(self.bitmaps), int)
        row_of = np.full(self.n_total, -1, dtype=np.int64)
        row_of[self.scored] = np.arange(len(self.scored))
        table = np.column_stack([self.scores[name] for name in names]) if names else np.zeros((len(self.scored), 0))
        blank = [""] * len(names)
        # A row spells its bitmap (p characters), its point and scores (a dozen characters each) a few times over.
        chunk = min(50_000, chunk_rows(4 * (p + 16 * (dims + len(names) + 8))))
        with atomic_write(path, "w") as fh:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["sample", *[f"z{d + 1}" for d in range(dims)], "neuron", "som_distance", "hits",
                             "bitmap", "valid", "failed", "novel", "copy_of", "item_distance",
                             *[f"score_{name}" for name in names]])
            for start in range(0, self.n_total, chunk):
                fh.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
                stop = min(start + chunk, self.n_total)
                distinct, local = np.unique(self.bitmap_index[start:stop], return_inverse=True)
                chars = (self.bitmaps[distinct].astype(np.uint8) + ord("0")).view(f"S{p}").ravel()
                strings = [c.decode() for c in chars]
                failed = [";".join(n for n, ok in zip(self.check_names, row) if not ok) for row in self.passes[distinct]]
                for i, j in zip(range(start, stop), local.ravel()):
                    b = self.bitmap_index[i]
                    k = self.neuron[i]
                    r = row_of[i]
                    writer.writerow([i + 1, *(f"{v:.6g}" for v in self.Z[i]), int(k) + 1, f"{self.som_distance[i]:.6g}",
                                     int(self.hits[k]), strings[j], int(valid_u[b]), failed[j],
                                     int(self.copy_of[b] < 0), copy_name[b], int(distance[b]),
                                     *(blank if r < 0 else (f"{v:.6g}" for v in table[r]))])
                if progress is not None:
                    progress(stop, self.n_total)
            fh.write(buffer.getvalue())
