"""The cache folder and its entries' names: where a model is cached, listing and clearing entries.

An entry's name holds its kind, the set's title and a hash of the set's names
and pixels, the settings, the kind, the model format and the training
revision (:func:`cache_key`), so a changed set, other settings or a new genval
never pick up a stale model.

The folder is ``$GENVAL_CACHE`` if set, else ``$XDG_CACHE_HOME/genval``, else
``~/.cache/genval``. genval only ever lists or removes files named as it names
its entries (:func:`cache_entries`, :func:`clear_cache`); anything else in the
folder is left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from genval.data._bitmap_set import BitmapSet
from genval.errors import GenvalError, ParameterError
from genval.models._model_file import MODEL_VERSION
from genval.nn._training import TRAINING_REVISION

__all__ = ["DEFAULT_MODEL", "KINDS", "CacheEntry", "cache_dir", "cache_entries", "cache_key", "clear_cache",
           "default_model_path", "entry_path"]

# The settings of every cached default model: genval's defaults, seed 0.
DEFAULT_MODEL = {"random_state": 0}
# Kind of cached model: the prefix of its file names. "model" for the default
# autoencoder keeps the names caches already hold.
KINDS = {"autoencoder": "model", "vae": "vae", "denoiser": "denoiser"}
_PREFIX_KIND = {prefix: kind for kind, prefix in KINDS.items()}
_ENTRY = re.compile(r"(model|vae|denoiser)-(.+)-([0-9a-f]{16})\.npz")
# atomic_write's temporary files beside an entry; a killed run can leave one.
_TEMPORARY = re.compile(r"\.(model|vae|denoiser)-.+-[0-9a-f]{16}\.npz\..+\.tmp")


def cache_dir() -> Path:
    """The cache folder (not created here).

    Raises
    ------
    GenvalError
        When there is none: no ``GENVAL_CACHE``, ``XDG_CACHE_HOME`` nor home folder.

    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, GENVAL_CACHE="~/models"):
    ...     cache_dir() == Path.home() / "models"
    True
    """
    try:
        if os.environ.get("GENVAL_CACHE"):
            return Path(os.environ["GENVAL_CACHE"]).expanduser()
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    except RuntimeError:  # "~" with no HOME and no home directory in the user database
        raise GenvalError("no cache folder: HOME is not set and this user has no home directory; "
                          "set GENVAL_CACHE to a folder") from None
    return Path(base) / "genval"


def _slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", Path(title or "set").name).strip("-") or "set"


def _check_kind(kind: str, kinds=KINDS) -> None:
    if kind not in kinds:
        raise ParameterError(f"unknown model kind {kind!r}; choose one of {', '.join(kinds)}")


def cache_key(bitmaps: BitmapSet, kind: str, settings: dict) -> str:
    """The hash that names a cache entry: 16 hex digits.

    It covers the set's names, shape and pixels, ``settings`` (JSON), the
    kind, the model file format and the training revision.

    Raises
    ------
    ParameterError
        For an unknown ``kind`` or settings that are not JSON (a numpy
        Generator as ``random_state``, say: it cannot name an entry).

    Examples
    --------
    >>> from genval import load_dataset
    >>> emojis = load_dataset("emojis")
    >>> len(cache_key(emojis, "denoiser", {"epochs": 100}))
    16
    >>> cache_key(emojis, "denoiser", {"epochs": 100}) == cache_key(emojis, "denoiser", {"epochs": 200})
    False
    """
    _check_kind(kind)
    try:
        settings = json.loads(json.dumps(dict(sorted(settings.items())), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"cache settings must be plain JSON values (ints, floats, strings, lists), "
                             f"got {settings!r} ({exc})") from None
    h = hashlib.sha256()
    # The field order is the one the first caches were named with: keep it, or every entry retrains.
    h.update(json.dumps({"names": bitmaps.names, "shape": bitmaps.shape, "model": settings,
                         "kind": kind, "format": MODEL_VERSION, "training": TRAINING_REVISION}).encode())
    h.update(bitmaps.X.tobytes())
    return h.hexdigest()[:16]


def entry_path(bitmaps: BitmapSet, kind: str, settings: dict) -> Path:
    """Where :func:`cached_model` keeps the model of ``kind`` and ``settings`` trained on ``bitmaps``.

    >>> from genval import load_dataset
    >>> entry_path(load_dataset("font"), "denoiser", {"epochs": 100}).name  # doctest: +ELLIPSIS
    'denoiser-font-....npz'
    """
    return cache_dir() / f"{KINDS[kind] if kind in KINDS else kind}-{_slug(bitmaps.title)}-" \
                         f"{cache_key(bitmaps, kind, settings)}.npz"


def default_model_path(bitmaps: BitmapSet, kind: str = "autoencoder") -> Path:
    """Where the default model (``kind`` "autoencoder" or "vae") of ``bitmaps`` is cached.

    The name holds the set's title and a hash of its names, pixels, the
    default settings, the model format and the training revision:

    >>> from genval import load_dataset
    >>> default_model_path(load_dataset("emojis"), "vae").name  # doctest: +ELLIPSIS
    'vae-emojis-....npz'
    """
    return entry_path(bitmaps, kind, DEFAULT_MODEL)



# --------------------------------------------------------------------------- listing and clearing

@dataclass(frozen=True)
class CacheEntry:
    """One file of the cache, as its name describes it (the file is not opened).

    Attributes
    ----------
    path : Path
    kind : str
        "autoencoder", "vae" or "denoiser".
    dataset : str
        The set's title as it appears in the name (``font``, ``mnist-npz``).
    size : int
        Bytes.
    modified : float
        Seconds since the epoch (the file's modification time).
    """

    path: Path
    kind: str
    dataset: str
    size: int
    modified: float

    def to_dict(self) -> dict:
        """JSON-ready: ``file``, ``kind``, ``dataset``, ``bytes`` and ``modified`` (ISO 8601, UTC)."""
        return {"file": str(self.path), "kind": self.kind, "dataset": self.dataset, "bytes": self.size,
                "modified": datetime.fromtimestamp(self.modified, timezone.utc).isoformat(timespec="seconds")}


def _genval_files(folder: Path, pattern: re.Pattern) -> list[Path]:
    """Regular files of ``folder`` (not links, not folders) whose names match ``pattern``, sorted."""
    try:
        children = sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [p for p in children if pattern.fullmatch(p.name) and p.is_file() and not p.is_symlink()]


def cache_entries(dataset: str | None = None) -> list[CacheEntry]:
    """The cached models in :func:`cache_dir`, sorted by file name; those of ``dataset`` only if given.

    Only files named as genval names its entries count (``model-font-<hash>.npz``,
    ``vae-...``, ``denoiser-...``); nothing is opened.

    Parameters
    ----------
    dataset : str, optional
        A set's title (``font``) or the path it was loaded from; compared as
        it appears in entry names.

    Examples
    --------
    >>> [entry.kind for entry in cache_entries("no-such-set")]
    []
    """
    wanted = None if dataset is None else _slug(dataset)
    entries = []
    for path in _genval_files(cache_dir(), _ENTRY):
        prefix, slug, _ = _ENTRY.fullmatch(path.name).groups()
        if wanted is not None and slug != wanted:
            continue
        try:
            info = path.stat()
        except FileNotFoundError:  # removed since the folder was read (another genval clearing it)
            continue
        entries.append(CacheEntry(path, _PREFIX_KIND[prefix], slug, info.st_size, info.st_mtime))
    return entries


def clear_cache(dataset: str | None = None) -> list[Path]:
    """Remove the cached models (of ``dataset`` only, if given); returns the files removed.

    Only files genval named (:func:`cache_entries`, and the temporary files
    an interrupted save left beside them) are removed: whatever else a
    user-chosen ``GENVAL_CACHE`` folder holds stays.

    Examples
    --------
    >>> clear_cache("no-such-set")
    []
    """
    removed = [entry.path for entry in cache_entries(dataset)]
    if dataset is None:
        removed += _genval_files(cache_dir(), _TEMPORARY)
    else:
        wanted = _slug(dataset)
        removed += [p for p in _genval_files(cache_dir(), _TEMPORARY)
                    if re.fullmatch(rf"\.(model|vae|denoiser)-{re.escape(wanted)}-[0-9a-f]{{16}}\.npz\..+\.tmp",
                                    p.name)]
    for path in removed:
        path.unlink(missing_ok=True)  # another genval may have removed it first
    return removed
