"""Stage 3, models: the estimators and what a latent model must offer.

:class:`Autoencoder` and :class:`VariationalAutoencoder` are scikit-learn
estimators over plain arrays (``fit``, ``transform`` = encode,
``inverse_transform`` = decode) with a pickle-free model file. :class:`LatentModel`
is the protocol every later stage is typed against; :func:`open_model` finds one
in a genval file, an import path or an ONNX pair; the cache stores fitted models
by the data and parameters they were fitted with.
"""

from genval._utils.lazy import lazy_exports

_EXPORTS = {
    "Autoencoder": "._autoencoder",
    "load_model": "._autoencoder",
    "reconstruction_report": "._reconstruction",
    "GreyLevels": "._reconstruction",
    "grey_levels": "._reconstruction",
    "PEAK": "._reconstruction",
    "psnr": "._reconstruction",
    "ReconstructionReport": "._reconstruction",
    "TOLERANCE": "._reconstruction",
    "VariationalAutoencoder": "._autoencoder",
    "wrong_pixels": "._reconstruction",
    "cache_dir": "._cache_folder",
    "cache_entries": "._cache_folder",
    "cache_key": "._cache_folder",
    "cached_model": "._cache",
    "CacheEntry": "._cache_folder",
    "clear_cache": "._cache_folder",
    "DEFAULT_MODEL": "._cache_folder",
    "default_model": "._cache",
    "default_model_path": "._cache_folder",
    "entry_path": "._cache_folder",
    "KINDS": "._cache_folder",
    "import_model": "._external",
    "ONNX_EXTRA": "._external",
    "OnnxModel": "._external",
    "open_model": "._external",
    "pca_model": "._external",
    "spec_kind": "._external",
    "as_latent_model": "._protocol",
    "check_model": "._protocol",
    "ForeignModel": "._protocol",
    "has_prior": "._protocol",
    "latent_width": "._protocol",
    "LatentModel": "._protocol",
    "model_kind": "._protocol",
    "PriorModel": "._protocol",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
