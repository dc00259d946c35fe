"""Grey image files: IDX (MNIST, Fashion-MNIST), NumPy ``.npy``/``.npz``, CSV and image folders.

Each reader decodes to float32 in ``[0, 1]`` (bytes 0..255 divided by 255,
floats kept if they already lie in ``[0, 1]``) and reads binary files in
chunks of :data:`~genval.data.CHUNK_BYTES`, so ``limit`` stops after the
first items and a file never costs more than its decoded pixels. Labels come
from the file itself (a CSV label column, sub-folders), from a labels file
beside it (MNIST's ``train-labels-idx1-ubyte.gz``, a ``.npz``'s ``y_train``)
or from one given.

Each file kind has its reader's module: IDX and NumPy (:mod:`._idx_numpy`),
CSV (:mod:`._csv`), image folders (:mod:`._image_folders`), with what they
share in :mod:`._pixels`. This module reads labels files.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from genval.errors import BitmapFormatError
from genval.data._formats import check_name, read_bitmap_text, sniff
from genval.data._idx_numpy import read_idx_labels, read_numpy_labels


__all__: list[str] = []


def labels_beside(path: Path) -> Path | None:
    """The labels file MNIST ships beside an images file, if it is there.

    >>> labels_beside(Path("/nowhere/train-images-idx3-ubyte.gz")) is None
    True
    """
    renamed = re.sub(r"images([.-])idx3", r"labels\1idx1", path.name)
    if renamed == path.name:
        return None
    stem = renamed[:-3] if renamed.endswith(".gz") else renamed
    for name in (renamed, stem, stem + ".gz"):
        candidate = path.with_name(name)
        if candidate.is_file():
            return candidate
    return None


def read_labels(path: Path) -> list[str]:
    """Labels from an IDX labels file, a 1-D ``.npy``/``.npz`` array or a text file of one label a line."""
    key = None
    if not path.exists():
        head, sep, tail = str(path).rpartition(":")
        if sep and Path(head).is_file():
            path, key = Path(head), tail
    if not path.is_file():
        raise BitmapFormatError(f"{path}: no such labels file")
    kind = sniff(path)
    if kind == "idx":
        return read_idx_labels(path)
    if kind in ("npy", "npz"):
        return read_numpy_labels(path, key)
    text = read_bitmap_text(path)
    labels = []
    for lineno, line in enumerate(io.StringIO(text), start=1):
        if line.strip():
            labels.append(check_name(line.strip(), f"{path}:{lineno}"))
    return labels
