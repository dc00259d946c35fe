"""Stage 4, the latent space: the Kohonen map over the codes, walks, samples, the plane's regions.

:class:`LatentSOM` clusters codes (MiniSom is imported here and nowhere else);
:class:`LatentSpace` ties a set, its model, its codes and a fitted map together
and decodes points; :func:`walk`, :func:`sample_latent` and :func:`latent_grid`
make points; :func:`region_census` finds a 2-D plane's distinct decodings.
"""

from genval._utils.lazy import lazy_exports

_EXPORTS = {
    "cell_centres": "._regions",
    "DEFINITION": "._regions",
    "region_census": "._regions",
    "RegionCensus": "._regions",
    "sample_regions": "._regions",
    "default_grid": "._som_init",
    "LatentSOM": "._som",
    "load_som": "._som",
    "MAX_NEURONS": "._som_params",
    "Neuron": "._neurons",
    "pca_weights": "._som_init",
    "Embedding": "._space",
    "grid_axes": "._plane",
    "latent_grid": "._plane",
    "LatentSpace": "._space",
    "Located": "._space",
    "plane": "._plane",
    "sample_latent": "._samples",
    "Walk": "._walks",
    "walk": "._walks",
    "KD_TREE_MAX_DIMENSIONS": "._winners",
    "nearest_weights": "._winners",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
