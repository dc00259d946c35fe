"""Stage 1, data: bitmap sets and the files they come from.

A :class:`BitmapSet` (names, pixels, shape) is what every later stage takes. It
comes from the bundled sets (the 5x7 font and emojis, scikit-learn's digits), C
headers, text files, IDX, NumPy and CSV files and image folders, each read within
the memory budget with its size checked before decoding. The noises that corrupt
bitmaps (denoising, test copies) live here too.
"""

from genval._utils.lazy import lazy_exports

_EXPORTS = {
    "bitmap_rows": "._bitmap_set",
    "bitmap_shades": "._bitmap_set",
    "BitmapSet": "._bitmap_set",
    "BUNDLED_DATASETS": "._bitmaps",
    "format_header": "._bitmap_text",
    "format_text": "._bitmap_text",
    "load_dataset": "._bitmaps",
    "parse_header": "._bitmap_text",
    "parse_text": "._bitmap_text",
    "flip_noise": "._noise",
    "gaussian_noise": "._noise",
    "image_gaussian_noise": "._noise",
    "make_noise": "._noise",
    "NOISES": "._noise",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
