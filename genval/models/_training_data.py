"""The record of the data a model was fitted on, and the check that refuses other data.

``fit`` keeps the number of items and a SHA-256 of the pixels
(:func:`genval._utils.archive.fingerprint`); a set of the same width but other
items would be encoded without complaint, and every map, walk and audit built
on it would be meaningless. :func:`check_data` compares data with that record.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array

from genval._utils.archive import fingerprint, printable
from genval.errors import DataMismatchError, ParameterError, ShapeMismatchError

__all__: list[str] = []


def titled_array(X, title: str | None = None) -> tuple:
    """``(X, title)`` of an array, or of a data set that carries its own (a BitmapSet: its ``X`` and ``title``).

    Duck-typed, so that the models stage reads a set's name without importing
    the data type; an array is untitled ("") unless ``title`` names it.
    """
    if hasattr(X, "X") and hasattr(X, "title"):
        return X.X, X.title if title is None else title
    return X, "" if title is None else title


def describe(record: dict, title: str) -> str:
    """``font (32 items of 35 pixels, sha256 1a2b3c4d5e6f)``; untitled, ``32 items of 35 pixels (sha256 ...)``."""
    sizes, digest = f"{record['n_items']} items of {record['n_features']} pixels", f"sha256 {record['sha256'][:12]}"
    return f"{printable(title)} ({sizes}, {digest})" if title else f"{sizes} ({digest})"


def check_data(record: dict, trained: str, X, title: str) -> None:
    """Raise unless ``X`` is the data of ``record`` (a fingerprint), named ``trained`` in messages.

    Raises
    ------
    ParameterError
        When ``X`` is not an array of numbers.
    ShapeMismatchError
        When ``X`` has another number of pixels per item.
    DataMismatchError
        When ``X`` has the same number of pixels but other items.
    """
    try:
        X = check_array(X, dtype=(np.float64, np.float32))
    except ValueError as exc:
        raise ParameterError(f"X: {exc}") from None
    seen = fingerprint(X, title)
    if seen["n_features"] != record["n_features"]:
        raise ShapeMismatchError(f"this model was trained on {describe(record, trained)}, but "
                                 f"{describe(seen, title)} has {seen['n_features']} pixels per item; "
                                 "train a model on this set")
    if (seen["n_items"], seen["sha256"]) != (record["n_items"], record["sha256"]):
        # The same set loaded another way (a subset, thresholded) is the usual cause: say how to match it.
        same_set = " (the same set loaded another way? load it as the model was trained: the same --limit, --shuffle, " \
            "--binarize, --shape)" if title and title == trained else ""
        raise DataMismatchError(f"this model was trained on {describe(record, trained)}, not on "
                                f"{describe(seen, title)}{same_set}; pass --any-data (any_data=True) to use it "
                                "anyway")
