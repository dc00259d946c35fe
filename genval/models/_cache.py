"""Models trained on first use and cached: the default model of a set, the standard denoiser.

``genval som`` and friends work with nothing but a dataset: the first time a
set is used, genval trains ``Autoencoder(**DEFAULT_MODEL)`` on it (fixed seed)
and saves it in the cache folder (:mod:`genval.models._cache_folder` names
its entries); later runs load it. ``genval denoise`` does the same with its
denoiser. :func:`cached_model` is the one mechanism behind both.

An entry is checked, not trusted: one that cannot be read, was written for
another set, settings or kind, holds NaN weights, or whose weights no longer
match the checksum saved with them is trained again, with a one-line warning
(``logging``, logger ``genval.models._cache``). A cache folder that cannot be
written costs a warning, not the command: the model is trained and used
without being cached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from pathlib import Path
from typing import Callable

import numpy as np

from genval.data._bitmap_set import BitmapSet
from genval.data._formats import shorten
from genval.errors import GenvalError, ModelFileError, ParameterError
from genval.models._autoencoder import Autoencoder, VariationalAutoencoder, load_model
from genval.models._cache_folder import DEFAULT_MODEL, _check_kind, cache_key, entry_path

__all__ = ["cached_model", "default_model"]

log = logging.getLogger(__name__)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _checksum(model: Autoencoder) -> str:
    return hashlib.sha256(np.ascontiguousarray(model.params_, dtype=np.float64).tobytes()).hexdigest()


def _plain(params: dict) -> dict:
    """Estimator parameters as JSON sees them (tuples are lists), to compare a loaded model with a new one."""
    return json.loads(json.dumps(params, default=str))


def _read_entry(path: Path, key: str, kind: str, fresh: Autoencoder,
                bitmaps: BitmapSet) -> tuple[Autoencoder | None, str | None, bool]:
    """``(model, None, False)`` if every check passes, else None, what was wrong (None: no entry) and
    whether what stands at ``path`` must be left alone (not a regular file of this user's).

    The entry is looked at without following links: in a folder others can
    write, a link planted at an entry's name must never lead genval to read or
    overwrite the file it points to.
    """
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return None, None, False
    except OSError as exc:
        return None, f"{path} cannot be read ({exc.strerror or exc})", True
    if stat.S_ISLNK(found.st_mode):
        return None, f"{path} is a symbolic link, not a model genval wrote", True
    if stat.S_ISDIR(found.st_mode):
        return None, f"{path} is a folder, not a model file", True
    if not stat.S_ISREG(found.st_mode):
        return None, f"{path} is not a regular file (a pipe, a socket or a device)", True
    if found.st_uid != os.geteuid():
        return None, f"{path} belongs to another user (uid {found.st_uid})", True
    try:
        model = load_model(path)
    except ModelFileError as exc:
        return None, str(exc), False
    meta = model.metadata_
    saved_kind = meta.get("kind")
    if type(model) is not type(fresh) or (saved_kind is not None and saved_kind != kind):
        found_kind = saved_kind or ("vae" if isinstance(model, VariationalAutoencoder) else "autoencoder")
        return None, f"{path} holds {_a(found_kind)}, not {_a(kind)}", False
    if (meta.get("cache_key") != key or model.n_features_in_ != bitmaps.n_features
            or _plain(model.get_params()) != _plain(fresh.get_params())):
        return None, f"{path} holds a model of another set or other settings", False
    if not np.all(np.isfinite(model.params_)):
        return None, f"{path} holds NaN or infinite weights", False
    if "params_sha256" not in meta:
        return None, f"{path} has no checksum (written by an older genval)", False
    if meta["params_sha256"] != _checksum(model):
        return None, f"{path}: its weights changed after it was saved (checksum mismatch)", False
    return model, None, False


def _unusable(folder: Path) -> str | None:
    """Why the cache ``folder`` cannot be used, or None. Creates nothing: it runs before training.

    A folder of another user is not used (as ``git`` refuses a repository
    another user owns): whoever owns it decides what genval would load.
    """
    try:
        try:
            found = os.stat(folder)
        except (FileNotFoundError, NotADirectoryError):
            if os.path.islink(folder):
                return f"{folder} is a link to {os.readlink(folder)}, which does not exist"
            existing = folder.parent
            while not os.path.lexists(existing) and existing != existing.parent:
                existing = existing.parent
            if not existing.is_dir():
                return f"{existing} is a file, not a folder"
            if not os.access(existing, os.W_OK | os.X_OK):
                return f"{existing} is not writable"
            return None
        if not stat.S_ISDIR(found.st_mode):
            return f"{folder} is a file, not a folder"
        if found.st_uid != os.geteuid():
            return f"{folder} belongs to another user (uid {found.st_uid})"
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"{folder} is not writable"
    except OSError as exc:
        return f"{shorten(str(folder), 200)}: {exc.strerror or exc}"
    return None


def cached_model(bitmaps: BitmapSet, kind: str, settings: dict, make: Callable[[], Autoencoder],
                 progress: Callable[[int, float], None] | None = None,
                 on_train: Callable[[Path | None, Autoencoder], None] | None = None) -> tuple[Autoencoder, bool]:
    """The cached model ``make()`` trained on ``bitmaps``, training and caching it if needed.

    The entry (:func:`entry_path`) is used only if it reads as a genval
    model, was saved for this set, ``kind`` and ``settings``, holds finite
    weights, and its weights match the checksum saved with them. Otherwise
    the model is trained again (the same seed: the same model) with a
    one-line warning saying why. When there is no usable cache folder (none
    at all, a name too long, a dangling link, a folder of another user or
    one that cannot be written), or something other than a regular file of
    this user's stands at the entry's path (a folder, a FIFO, a link another
    user planted), the model is trained and returned without being cached,
    after a one-line warning: links are never followed into another file.

    Parameters
    ----------
    bitmaps : BitmapSet
        The training set.
    kind : {"autoencoder", "vae", "denoiser"}
        What the entry holds; part of its name and key.
    settings : dict
        JSON values that determine the model (with its seed); part of the key.
        ``make`` must build the same model for the same settings.
    make : callable
        ``make()`` returns the unfitted model; its parameters are also
        compared with the loaded entry's.
    progress : callable, optional
        Passed to ``fit`` when training: ``progress(epochs_done, loss)``.
    on_train : callable, optional
        Called as ``on_train(path, model)`` just before training starts, with
        the entry's path (None when the cache cannot be written: the model
        will not be cached) and the unfitted model (``model.epochs`` sizes a
        progress bar). Not called when the cache holds the model.

    Returns
    -------
    model : Autoencoder
    cached : bool
        True when it came from the cache.

    Raises
    ------
    ParameterError
        For an unknown ``kind`` or settings that are not JSON.

    Examples
    --------
    >>> import os, tempfile
    >>> from unittest import mock
    >>> from genval import Autoencoder, load_dataset
    >>> from genval.models import cache_entries, clear_cache
    >>> emojis, settings = load_dataset("emojis"), {"epochs": 5, "random_state": 1}
    >>> make = lambda: Autoencoder(epochs=5, random_state=1)
    >>> with mock.patch.dict(os.environ, GENVAL_CACHE=tempfile.mkdtemp()):  # a fresh cache folder
    ...     first = cached_model(emojis, "autoencoder", settings, make)[1]
    ...     second = cached_model(emojis, "autoencoder", settings, make)[1]
    ...     kinds = [entry.kind for entry in cache_entries()]
    ...     removed = len(clear_cache())
    >>> first, second, kinds, removed
    (False, True, ['autoencoder'], 1)
    """
    _check_kind(kind)
    key = cache_key(bitmaps, kind, settings)
    model = make()
    path, unusable = _cache_path(bitmaps, kind, settings)
    found, problem, in_the_way = (None, None, False) if unusable else _read_entry(path, key, kind, model, bitmaps)
    if found is not None:
        return found, True
    _say_why_it_trains(kind, unusable, problem, in_the_way)
    if on_train is not None:
        on_train(None if unusable or in_the_way else path, model)
    model.fit(bitmaps.X, progress=progress)
    if not (unusable or in_the_way):
        _write_entry(model, path, {"dataset": bitmaps.title, "shape": list(bitmaps.shape),
                                   "names": list(bitmaps.names), "kind": kind, "cache_key": key,
                                   "params_sha256": _checksum(model)})
    return model, False


def _say_why_it_trains(kind: str, unusable: str | None, problem: str | None, in_the_way: bool) -> None:
    """The one-line warning before a model trains: no usable cache, something in the entry's way, or a bad entry."""
    if unusable:
        log.warning("cannot use the genval cache (%s); training the %s without caching it", unusable, kind)
    elif in_the_way:
        log.warning("%s; training the %s without caching it (remove it to cache the model)", problem, kind)
    elif problem:
        log.warning("%s; training it again", problem)


def _cache_path(bitmaps: BitmapSet, kind: str, settings: dict) -> tuple[Path | None, str | None]:
    """The entry's path and why its folder cannot be used (None: it can); no path when there is no cache folder."""
    try:
        path = entry_path(bitmaps, kind, settings)
        return path, _unusable(path.parent)
    except GenvalError as exc:  # no cache folder at all
        return None, str(exc)


def _write_entry(model: Autoencoder, path: Path, metadata: dict) -> None:
    """Save ``model`` as the cache entry ``path``; a folder that changed under us costs a warning, not the model."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path, metadata=metadata, follow_links=False)  # whatever was planted there meanwhile
    except (OSError, GenvalError) as exc:  # the folder changed under us: the model is still good
        log.warning("cannot write the genval cache entry %s (%s); going on without caching", path,
                    getattr(exc, "strerror", None) or exc)
        model.metadata_ = metadata


def default_model(bitmaps: BitmapSet, progress: Callable[[int, float], None] | None = None,
                  on_train: Callable[[Path | None, Autoencoder], None] | None = None,
                  kind: str = "autoencoder", random_state: int = 0) -> tuple[Autoencoder, bool]:
    """The cached default model of a set, training and caching it if needed (see :func:`cached_model`).

    Parameters
    ----------
    bitmaps : BitmapSet
    progress, on_train : callable, optional
        As :func:`cached_model` takes them.
    kind : {"autoencoder", "vae"}
        ``Autoencoder(**DEFAULT_MODEL)`` or ``VariationalAutoencoder(**DEFAULT_MODEL)``.
    random_state : int
        The model's seed: 0 is the default model; another seed trains (and
        caches) the same architecture from another start, so that a
        comparison can vary the model as well as the map.

    Returns
    -------
    model, cached
        As :func:`cached_model` returns them.

    Raises
    ------
    ParameterError
        For an unknown ``kind``.
    """
    _check_kind(kind, ("autoencoder", "vae"))
    if not isinstance(random_state, (int, np.integer)) or isinstance(random_state, bool) or random_state < 0:
        raise ParameterError(f"a default model's seed must be a non-negative integer, got {random_state!r}")
    klass = Autoencoder if kind == "autoencoder" else VariationalAutoencoder
    settings = dict(DEFAULT_MODEL, random_state=int(random_state))
    return cached_model(bitmaps, kind, settings, lambda: klass(**settings), progress, on_train)
