"""Stage 6, audits: sample the latent space, judge every sample, report with controls.

:func:`audit` samples points by a strategy, judges each distinct bitmap once and
scores how well the map (and the map-free baselines) tell valid samples from
invalid ones; :func:`compare_models` repeats it over seeds and models.

The modules, in the order an audit runs through them:

* ``_strategies``: the samplers, one per strategy, in a registry (:data:`STRATEGIES`);
* ``_judging``: the verdicts, once per distinct bitmap (:func:`judge`);
* ``_scores``: each sample's membership scores (:data:`SCORES`);
* ``_baselines`` and ``_controls``: the map-free baselines, and the AUROCs set beside them;
* ``_holdout``: memorisation of given samples against held-out items (:func:`memorisation`), with
  ``_neighbours`` (counts and nearest other rows among bitmaps) and ``_features`` (feature functions);
* ``_bootstrap``: one audit's figures resampled over its samples, their percentile intervals (:data:`N_RESAMPLES`);
* ``_audit``: the audit itself (:func:`audit`);
* ``_report``: what it found, as figures, JSON and CSV (:class:`AuditReport`); ``_text``: as tables;
* ``_statistics`` and ``_compare``: repeated audits, their intervals and table (:func:`compare_models`).
"""

from genval._utils.lazy import lazy_exports

_EXPORTS = {
    "audit": "._audit",
    "box_centre_closeness": "._baselines",
    "hull_depth": "._baselines",
    "HullDepth": "._baselines",
    "N_RESAMPLES": "._bootstrap",
    "compare": "._compare",
    "compare_models": "._compare",
    "ModelComparison": "._compare",
    "reseeded": "._compare",
    "VARY": "._compare",
    "auroc": "._controls",
    "BASELINES": "._controls",
    "bootstrap_aurocs": "._controls",
    "controlled_comparison": "._controls",
    "MIN_DISTINCT": "._controls",
    "N_BINS": "._controls",
    "N_BOOTSTRAP": "._controls",
    "HOLDOUT_QUANTILE": "._holdout",
    "holdout_split": "._holdout",
    "memorisation": "._holdout",
    "Memorisation": "._holdout",
    "count_within": "._neighbours",
    "nearest_other_distance": "._neighbours",
    "call_features": "._features",
    "import_features": "._features",
    "judge": "._judging",
    "load_checks": "._judging",
    "SampleVerdicts": "._judging",
    "AuditReport": "._report",
    "audit_samples": "._samples",
    "near_copy_threshold": "._samples",
    "SAMPLE_SCORES": "._samples_report",
    "SamplesReport": "._samples_report",
    "MAX_SCORED": "._scores",
    "SCORE_KINDS": "._scores",
    "SCORES": "._scores",
    "headline": "._statistics",
    "interval": "._statistics",
    "audit_points": "._strategies",
    "fit_mixture": "._strategies",
    "sample_mixture": "._strategies",
    "sharing_pairs": "._strategies",
    "STRATEGIES": "._strategies",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
