"""Stage 6, audits: sample the latent space, judge every sample, report with controls.

:func:`audit` samples points by a strategy, judges each distinct bitmap once and
scores how well the map (and the map-free baselines) tell valid samples from
invalid ones; :func:`compare_models` repeats it over seeds and models.
"""

from genval._utils.lazy import lazy_exports

_EXPORTS = {
    "audit": "._audit",
    "audit_points": "._audit",
    "AuditReport": "._audit",
    "compare": "._audit",
    "compare_models": "._audit",
    "fit_mixture": "._audit",
    "headline": "._audit",
    "interval": "._audit",
    "judge": "._audit",
    "load_checks": "._audit",
    "MAX_SCORED": "._audit",
    "ModelComparison": "._audit",
    "reseeded": "._audit",
    "sample_mixture": "._audit",
    "SampleVerdicts": "._audit",
    "SCORE_KINDS": "._audit",
    "SCORES": "._audit",
    "sharing_pairs": "._audit",
    "STRATEGIES": "._audit",
    "VARY": "._audit",
    "auroc": "._controls",
    "BASELINES": "._controls",
    "bootstrap_aurocs": "._controls",
    "box_centre_closeness": "._controls",
    "controlled_comparison": "._controls",
    "hull_depth": "._controls",
    "HullDepth": "._controls",
    "MIN_DISTINCT": "._controls",
    "N_BINS": "._controls",
    "N_BOOTSTRAP": "._controls",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
