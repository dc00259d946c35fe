"""genval: is what an autoencoder generates a valid member of the set it learned?

The public API, upstream to downstream::

    bitmaps -> Autoencoder (fit, transform, inverse_transform) -> latent codes
      -> LatentSOM (neurons over the codes) -> walks (points in the latent space) -> decode
"""

from genval.autoencoder import (
    Autoencoder,
    ReconstructionReport,
    load_model,
    reconstruction_report,
    wrong_pixels,
)
from genval.bitmaps import (
    BUNDLED_DATASETS,
    BitmapSet,
    bitmap_rows,
    format_header,
    format_text,
    load_dataset,
    parse_header,
    parse_text,
)
from genval.errors import BitmapFormatError, GenvalError, ModelFileError, TrainingDivergedError
from genval.som import LatentSOM, Neuron, load_som
from genval.vae import VariationalAutoencoder
from genval.walks import LatentSpace, Located, Walk, latent_grid, sample_latent, walk

__version__ = "0.1.0"

__all__ = [
    "Autoencoder",
    "BUNDLED_DATASETS",
    "BitmapFormatError",
    "BitmapSet",
    "LatentSOM",
    "LatentSpace",
    "Located",
    "Neuron",
    "Walk",
    "GenvalError",
    "ModelFileError",
    "ReconstructionReport",
    "TrainingDivergedError",
    "VariationalAutoencoder",
    "bitmap_rows",
    "format_header",
    "format_text",
    "latent_grid",
    "load_dataset",
    "load_model",
    "load_som",
    "parse_header",
    "parse_text",
    "reconstruction_report",
    "sample_latent",
    "walk",
    "wrong_pixels",
]
