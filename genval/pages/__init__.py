"""Stage 8, pages: the latent plane as one self-contained HTML page.
"""

from genval._utils.lazy import lazy_exports

_EXPORTS = {
    "DEFAULT_RESOLUTION": "._explore",
    "explore_data": "._explore",
    "GREY_BUDGET": "._explore",
    "explore_html": "._explore",
    "MAX_RESOLUTION": "._explore",
    "TILE_TINTS": "._explore",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
