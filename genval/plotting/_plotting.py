"""The names the CLI and tests/test_regions.py import from here, where plotting lived before it was split by
stage; new code imports them from :mod:`genval.plotting`.
"""

from genval.plotting._base import save_figure as save_figure
from genval.plotting._bitmaps import plot_bitmaps as plot_bitmaps
from genval.plotting._bitmaps import plot_latent as plot_latent
from genval.plotting._bitmaps import plot_loss_curve as plot_loss_curve
from genval.plotting._bitmaps import plot_reconstructions as plot_reconstructions
from genval.plotting._bitmaps import verdict_text as verdict_text
from genval.plotting._maps import plot_som as plot_som
from genval.plotting._maps import plot_som_grid as plot_som_grid
from genval.plotting._maps import plot_walk as plot_walk
from genval.plotting._decoded_plane import plot_latent_grid as plot_latent_grid
from genval.plotting._decoded_plane import plot_regions as plot_regions
from genval.plotting._decoded_plane import tile_classes as tile_classes
from genval.plotting._audit import plot_audit_plane as plot_audit_plane
from genval.plotting._audit import plot_audit_sheet as plot_audit_sheet
from genval.plotting._audit import plot_comparison as plot_comparison
from genval.plotting._audit import plot_roc as plot_roc
from genval.plotting._audit import plot_roc_panels as plot_roc_panels
from genval.plotting._experiments import plot_denoising as plot_denoising
from genval.plotting._experiments import plot_denoising_curve as plot_denoising_curve
from genval.plotting._experiments import plot_sweep as plot_sweep
