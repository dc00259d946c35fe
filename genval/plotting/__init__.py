"""Stage 8, pictures: every stage's figures (the only package that imports matplotlib).

Each function takes what it draws (no training, no files read), accepts ``ax=None``
and returns the axes or figure; :func:`save_figure` writes PNG, SVG or PDF.

The modules follow the stages they draw: ``_bitmaps`` (bitmaps, reconstructions, the loss
curve, codes as points), ``_maps`` (the Kohonen map, walks), ``_decoded_plane`` (the decoded
mosaic, regions), ``_audit`` (contact sheet, audited points, ROC, comparison) and
``_experiments`` (denoising, sweeps' summaries), ``_sweep_pictures`` (sweeps' loss per epoch,
generalisation); ``_base`` holds what they share.
"""

from genval._utils.lazy import lazy_exports

_EXPORTS = {
    "plot_audit_plane": "._audit",
    "plot_audit_sheet": "._audit",
    "plot_bitmaps": "._bitmaps",
    "plot_comparison": "._audit",
    "plot_denoising": "._experiments",
    "plot_denoising_curve": "._experiments",
    "plot_generalisation": "._sweep_pictures",
    "plot_latent": "._bitmaps",
    "plot_latent_grid": "._decoded_plane",
    "plot_loss_curve": "._bitmaps",
    "plot_reconstructions": "._bitmaps",
    "plot_regions": "._decoded_plane",
    "plot_roc": "._audit",
    "plot_roc_panels": "._audit",
    "plot_som": "._maps",
    "plot_som_grid": "._maps",
    "plot_sweep": "._experiments",
    "plot_sweep_curves": "._sweep_pictures",
    "plot_walk": "._maps",
    "save_figure": "._base",
    "tile_classes": "._decoded_plane",
    "verdict_text": "._bitmaps",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
