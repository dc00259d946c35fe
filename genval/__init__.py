"""genval: is what an autoencoder generates a valid member of the set it learned?

The public API, upstream to downstream::

    bitmaps -> Autoencoder (fit, transform, inverse_transform) -> latent codes
      (or any LatentModel: a scikit-learn PCA, an ONNX encoder/decoder pair, a model of your own)
      -> LatentSOM (neurons over the codes) -> walks (points in the latent space) -> decode
      (or, for a 2-D model: region_census, the plane's distinct decodings -> sample_regions -> decode)
      -> judge / audit (checks, copies, membership metrics) -> explore (the plane as an HTML page)

Every name below is imported on first use (PEP 562), so ``import genval`` and
the command line start fast: scikit-learn, scipy, matplotlib and MiniSom load
only when something needs them.

>>> import genval
>>> genval.load_dataset("font").shape
(7, 5)
"""

from __future__ import annotations

from genval._compat import install_moved_modules
from genval._utils.lazy import lazy_exports

__version__ = "0.2.0"

# Public name -> the stage that defines it (see the README's "How the code is organised").
_EXPORTS = {
    "Autoencoder": "genval.models",
    "ReconstructionReport": "genval.models",
    "load_model": "genval.models",
    "reconstruction_report": "genval.models",
    "wrong_pixels": "genval.models",
    "AuditReport": "genval.audit",
    "SampleVerdicts": "genval.audit",
    "judge": "genval.audit",
    "ClassifierCheck": "genval.checks",
    "NOISE_WARNING": "genval.checks",
    "NULL_SOURCES": "genval.checks",
    "NullModel": "genval.checks",
    "null_model": "genval.checks",
    "MembershipMetrics": "genval.checks",
    "membership_metrics": "genval.checks",
    "realism": "genval.checks",
    "BUNDLED_DATASETS": "genval.data",
    "BitmapSet": "genval.data",
    "bitmap_rows": "genval.data",
    "format_header": "genval.data",
    "format_text": "genval.data",
    "load_dataset": "genval.data",
    "parse_header": "genval.data",
    "parse_text": "genval.data",
    "explore_data": "genval.pages",
    "explore_html": "genval.pages",
    "BitmapFormatError": "genval.errors",
    "DataMismatchError": "genval.errors",
    "GenvalError": "genval.errors",
    "ModelFileError": "genval.errors",
    "NotAModelError": "genval.errors",
    "ParameterError": "genval.errors",
    "ShapeMismatchError": "genval.errors",
    "StrategyImpossibleError": "genval.errors",
    "TrainingDivergedError": "genval.errors",
    "UnknownItemError": "genval.errors",
    "LatentModel": "genval.models",
    "ForeignModel": "genval.models",
    "as_latent_model": "genval.models",
    "LatentSOM": "genval.latent",
    "Neuron": "genval.latent",
    "load_som": "genval.latent",
    "RegionCensus": "genval.latent",
    "region_census": "genval.latent",
    "sample_regions": "genval.latent",
    "VariationalAutoencoder": "genval.models",
    "LatentSpace": "genval.latent",
    "Located": "genval.latent",
    "Walk": "genval.latent",
    "build_space": "genval.pipeline",
    "build_embedding": "genval.pipeline",
    "latent_grid": "genval.latent",
    "sample_latent": "genval.latent",
    "walk": "genval.latent",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
install_moved_modules()  # genval.walks, genval.bitmaps, ... of 0.2.0 keep working, with a DeprecationWarning
