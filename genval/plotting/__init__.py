"""Stage 8, pictures: every stage's figures (the only package that imports matplotlib).

Each function takes what it draws (no training, no files read), accepts ``ax=None``
and returns the axes or figure; :func:`save_figure` writes PNG, SVG or PDF.
"""

from genval._utils.lazy import lazy_exports

_EXPORTS = {
    "plot_audit_plane": "._plotting",
    "plot_audit_sheet": "._plotting",
    "plot_bitmaps": "._plotting",
    "plot_comparison": "._plotting",
    "plot_denoising": "._plotting",
    "plot_denoising_curve": "._plotting",
    "plot_latent": "._plotting",
    "plot_latent_grid": "._plotting",
    "plot_loss_curve": "._plotting",
    "plot_reconstructions": "._plotting",
    "plot_regions": "._plotting",
    "plot_roc": "._plotting",
    "plot_roc_panels": "._plotting",
    "plot_som": "._plotting",
    "plot_som_grid": "._plotting",
    "plot_sweep": "._plotting",
    "plot_walk": "._plotting",
    "save_figure": "._plotting",
    "tile_classes": "._plotting",
    "verdict_text": "._plotting",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
