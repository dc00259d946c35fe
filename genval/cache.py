"""The default model of a bitmap set, trained on first use and cached.

``genval som`` and friends work with nothing but a dataset: the first time a
set is used, genval trains ``Autoencoder(**DEFAULT_MODEL)`` on it (fixed seed)
and saves it in the cache folder; later runs load it. The cache entry's name
holds a hash of the set's pixels and names, the training settings and the model
format, so a changed set or a new genval never picks up a stale model, and an
entry that cannot be read or does not match is trained again, not trusted.

The folder is ``$GENVAL_CACHE`` if set, else ``$XDG_CACHE_HOME/genval``, else
``~/.cache/genval``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Callable

from genval.autoencoder import MODEL_VERSION, Autoencoder, VariationalAutoencoder, load_model
from genval.bitmaps import BitmapSet
from genval.errors import ModelFileError, ParameterError
from genval.training import TRAINING_REVISION

__all__ = ["DEFAULT_MODEL", "cache_dir", "default_model", "default_model_path"]

log = logging.getLogger(__name__)

# The settings of every cached default model: genval's defaults, seed 0.
DEFAULT_MODEL = {"random_state": 0}
KINDS = ("autoencoder", "vae")


def cache_dir() -> Path:
    """The cache folder (not created here)."""
    if os.environ.get("GENVAL_CACHE"):
        return Path(os.environ["GENVAL_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "genval"


def _key(bitmaps: BitmapSet, kind: str = "autoencoder") -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"names": bitmaps.names, "shape": bitmaps.shape, "model": DEFAULT_MODEL,
                         "kind": kind, "format": MODEL_VERSION, "training": TRAINING_REVISION}).encode())
    h.update(bitmaps.X.tobytes())
    return h.hexdigest()[:16]


def default_model_path(bitmaps: BitmapSet, kind: str = "autoencoder") -> Path:
    """Where the default model (``kind`` "autoencoder" or "vae") of ``bitmaps`` is cached.

    The name holds the set's title and a hash of its names, pixels, the
    default settings, the model format and the training revision:

    >>> from genval import load_dataset
    >>> default_model_path(load_dataset("emojis"), "vae").name  # doctest: +ELLIPSIS
    'vae-emojis-....npz'
    """
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(bitmaps.title or "set").name).strip("-") or "set"
    prefix = "model" if kind == "autoencoder" else kind
    return cache_dir() / f"{prefix}-{slug}-{_key(bitmaps, kind)}.npz"


def default_model(bitmaps: BitmapSet, progress: Callable[[int, float], None] | None = None,
                  on_train: Callable[[Path, Autoencoder], None] | None = None,
                  kind: str = "autoencoder") -> tuple[Autoencoder, bool]:
    """The cached default model of a set, training and caching it if needed.

    Parameters
    ----------
    bitmaps : BitmapSet
    progress : callable, optional
        Passed to :meth:`Autoencoder.fit` when training: ``progress(epochs_done, loss)``.
    on_train : callable, optional
        Called as ``on_train(path, model)`` just before training starts, with
        the cache path and the unfitted model (``model.epochs`` sizes a
        progress bar). Not called when the cache holds the model.
    kind : {"autoencoder", "vae"}
        ``Autoencoder(**DEFAULT_MODEL)`` or ``VariationalAutoencoder(**DEFAULT_MODEL)``.

    Returns
    -------
    model : Autoencoder
    cached : bool
        True when it came from the cache.

    Raises
    ------
    ParameterError
        For an unknown ``kind``.
    """
    if kind not in KINDS:
        raise ParameterError(f"unknown model kind {kind!r}; choose one of {', '.join(KINDS)}")
    path = default_model_path(bitmaps, kind)
    key = _key(bitmaps, kind)
    klass = Autoencoder if kind == "autoencoder" else VariationalAutoencoder
    if path.exists():
        try:
            model = load_model(path)
            if (model.metadata_.get("cache_key") == key and type(model) is klass
                    and model.n_features_in_ == bitmaps.n_features):
                return model, True
            log.warning("cached model %s does not match its set; training it again", path)
        except ModelFileError as exc:
            log.warning("cached model unreadable (%s); training it again", exc)
    model = klass(**DEFAULT_MODEL)
    if on_train is not None:
        on_train(path, model)
    model.fit(bitmaps.X, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path, metadata={"dataset": bitmaps.title, "shape": list(bitmaps.shape),
                               "names": list(bitmaps.names), "cache_key": key})
    return model, False
