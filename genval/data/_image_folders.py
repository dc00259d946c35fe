"""A folder of grey image files (PNG, PGM, PBM, PPM) read with Pillow, labelled by sub-folder.

Each image is opened with Pillow's decompression-bomb guard at
:data:`~genval.data._pixels.MAX_PIXELS`, and the folder's size is checked
against the memory budget from the first image's size.
"""

from __future__ import annotations

import math
import re
import struct
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from genval._utils.budget import check_allocation
from genval.errors import BitmapFormatError, GenvalError
from genval.data._formats import ITEM_BYTES, Decoded, check_name, shorten
from genval.data._pixels import MAX_PIXELS, check_image_size
from genval.data._selection import draw_rows

__all__: list[str] = []

IMAGE_SUFFIXES = (".png", ".pgm", ".pbm", ".ppm")


def read_image_folder(folder: Path, limit: int | None = None, rng: np.random.Generator | None = None) -> Decoded:
    """Decode a folder of PNG or PGM images, one item per file, colour turned to grey.

    Files directly in the folder are named by their stem; with sub-folders
    instead, each sub-folder's name is its images' label and an item is named
    ``sub/stem``. Bright is ink, as in MNIST. All images must have one size.

    A file must be what its suffix promises (``.png`` a PNG, ``.pgm``, ``.pbm``
    and ``.ppm`` a Netpbm image), so no other decoder (nor an external program)
    ever runs on it. Each image's size is read from its header and checked
    against :data:`MAX_PIXELS`, the first image's size and the memory budget
    before its pixels are decoded.
    """
    source = str(folder)
    files, labels = _image_files(folder)
    if not files:
        raise BitmapFormatError(f"{source}: no images; expected .png or .pgm files, or sub-folders of them")
    n_total = len(files)
    rows = None if rng is None else draw_rows(n_total, limit, rng, source)
    if rows is not None:
        files, labels = [files[r] for r in rows], (None if labels is None else [labels[r] for r in rows])
    elif limit is not None:
        files, labels = files[:limit], (labels[:limit] if labels is not None else None)
    X: np.ndarray | None = None
    hw = (0, 0)
    names = []
    with _pillow_guard() as open_image:
        for i, path in enumerate(files):
            with open_image(path) as im:
                size = (im.size[1], im.size[0])  # from the header: nothing decoded yet
                check_image_size(size, str(path))
                if X is None:
                    hw = size
                    # The set, one name per item, and one image's decoding: Pillow's copy (up to 4 bytes
                    # a pixel: RGBA, I, F), the grey one and the float32 copy made of it (scaled in place).
                    check_allocation(len(files) * (4 * hw[0] * hw[1] + ITEM_BYTES) + _DECODE_BYTES * hw[0] * hw[1],
                                     f"{source}: {len(files)} images of {hw[0]}x{hw[1]} pixels "
                                     "(load fewer with limit, --limit)")
                    X = np.empty((len(files), hw[0] * hw[1]), dtype=np.float32)
                elif size != hw:
                    raise BitmapFormatError(f"{path}: {size[0]}x{size[1]} pixels (height x width); "
                                            f"expected {hw[0]}x{hw[1]} like {files[0].name}")
                X[i] = _grey(im, path).reshape(-1)
            stem = path.stem if labels is None else f"{path.parent.name}/{path.stem}"
            names.append(check_name(stem, str(path)))
    return Decoded(X, (int(hw[0]), int(hw[1])), names, labels, n_total, rows=rows)


# What each suffix promises, as Pillow's format names: only that decoder is tried.
_IMAGE_FORMATS = {".png": ("PNG",), ".pgm": ("PPM",), ".pbm": ("PPM",), ".ppm": ("PPM",)}
_DECODE_BYTES = 12  # working bytes a pixel while one image is decoded and turned to grey float32


@contextmanager
def _pillow_guard():
    """A function opening one image file, with Pillow's bomb guard at :data:`MAX_PIXELS` meanwhile.

    Pillow refuses more than twice its ``MAX_IMAGE_PIXELS`` while reading the
    header (and warns above it: genval's own check follows, from the same header).
    """
    from PIL import Image, UnidentifiedImageError  # Pillow only where images are read

    @contextmanager
    def open_image(path: Path):
        formats = _IMAGE_FORMATS[path.suffix.lower()]
        try:
            with Image.open(path, formats=formats) as im:
                yield im
        except GenvalError:
            raise
        except Image.DecompressionBombError as exc:
            found = re.search(r"\((\d+) pixels\)", str(exc))
            pixels = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
            side = math.isqrt(MAX_PIXELS)
            raise BitmapFormatError(f"{path}: an image of {pixels}; expected at most {MAX_PIXELS:,} "
                                    f"pixels ({side}x{side})") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
            if isinstance(exc, OSError) and exc.errno is not None and not isinstance(exc, UnidentifiedImageError):
                if exc.filename is None:  # a read error (a link to /proc/self/mem): say which file
                    raise OSError(exc.errno, exc.strerror, str(path)) from None
                raise
            expected = "a PNG file" if formats == ("PNG",) else "a PGM, PBM or PPM file"
            if isinstance(exc, UnidentifiedImageError):  # another format, or none: no other decoder is tried
                raise BitmapFormatError(f"{path}: not a readable image (its content is not {expected[2:-5]}); "
                                        f"expected {expected}, as its suffix says") from None
            raise BitmapFormatError(f"{path}: not a readable image ({shorten(str(exc), 80)}); "
                                    f"expected {expected}") from None

    before = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS if before is None else min(before, MAX_PIXELS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield open_image
    finally:
        Image.MAX_IMAGE_PIXELS = before


def _grey(im, path: Path) -> np.ndarray:
    """An opened image's pixels as grey float32 in [0, 1] (16- and 32-bit integers and floats kept fine)."""
    im.load()
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        pixels = np.asarray(im, dtype=np.float32)
        pixels /= np.float32(65535 if "16" in im.mode else 2**31 - 1)
    elif im.mode == "F":
        pixels = np.asarray(im, dtype=np.float32)
        if not np.isfinite(pixels).all():
            raise BitmapFormatError(f"{path}: pixels that are not finite numbers; expected grey levels")
    else:
        pixels = np.asarray(im.convert("L"), dtype=np.float32)
        pixels /= np.float32(255)
    return np.clip(pixels, 0, 1, out=pixels)


def _image_files(folder: Path) -> tuple[list[Path], list[str] | None]:
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    images = [p for p in entries if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    subfolders = [p for p in entries if p.is_dir()]
    if images and subfolders:
        raise BitmapFormatError(f"{folder}: holds both images and sub-folders ({subfolders[0].name}); "
                                "expected either images or one sub-folder of images per label")
    if images:
        return images, None
    files, labels = [], []
    for sub in subfolders:
        for p in sorted(sub.iterdir()):
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."):
                files.append(p)
                labels.append(check_name(sub.name, str(sub)))
    return files, labels
