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

import importlib
import importlib.util

__version__ = "0.2.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "Autoencoder": "genval.autoencoder",
    "ReconstructionReport": "genval.autoencoder",
    "load_model": "genval.autoencoder",
    "reconstruction_report": "genval.autoencoder",
    "wrong_pixels": "genval.autoencoder",
    "AuditReport": "genval.audit",
    "SampleVerdicts": "genval.audit",
    "judge": "genval.audit",
    "ClassifierCheck": "genval.classifier",
    "NOISE_WARNING": "genval.nullmodel",
    "NULL_SOURCES": "genval.nullmodel",
    "NullModel": "genval.nullmodel",
    "null_model": "genval.nullmodel",
    "MembershipMetrics": "genval.membership",
    "membership_metrics": "genval.membership",
    "realism": "genval.membership",
    "BUNDLED_DATASETS": "genval.bitmaps",
    "BitmapSet": "genval.bitmaps",
    "bitmap_rows": "genval.bitmaps",
    "format_header": "genval.bitmaps",
    "format_text": "genval.bitmaps",
    "load_dataset": "genval.bitmaps",
    "parse_header": "genval.bitmaps",
    "parse_text": "genval.bitmaps",
    "explore_data": "genval.explore",
    "explore_html": "genval.explore",
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
    "LatentModel": "genval.protocol",
    "ForeignModel": "genval.protocol",
    "as_latent_model": "genval.protocol",
    "LatentSOM": "genval.som",
    "Neuron": "genval.som",
    "load_som": "genval.som",
    "RegionCensus": "genval.regions",
    "region_census": "genval.regions",
    "sample_regions": "genval.regions",
    "VariationalAutoencoder": "genval.autoencoder",
    "LatentSpace": "genval.walks",
    "Located": "genval.walks",
    "Walk": "genval.walks",
    "build_space": "genval.walks",
    "latent_grid": "genval.walks",
    "sample_latent": "genval.walks",
    "walk": "genval.walks",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import a public name's module on first access, then keep the name here."""
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif importlib.util.find_spec(f"{__name__}.{name}") is not None:  # a submodule: genval.audit
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
