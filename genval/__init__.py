"""genval: is what an autoencoder generates a valid member of the set it learned?

The public API, upstream to downstream::

    bitmaps -> Autoencoder (fit, transform, inverse_transform) -> latent codes
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

__version__ = "0.1.0"

__all__ = [
    "Autoencoder",
    "BUNDLED_DATASETS",
    "BitmapFormatError",
    "BitmapSet",
    "GenvalError",
    "ModelFileError",
    "ReconstructionReport",
    "TrainingDivergedError",
    "bitmap_rows",
    "format_header",
    "format_text",
    "load_dataset",
    "load_model",
    "parse_header",
    "parse_text",
    "reconstruction_report",
    "wrong_pixels",
]
