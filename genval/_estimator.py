"""What genval's estimators share besides scikit-learn's base classes.

One random Generator from a ``random_state``, and the files: writing
atomically, and reading a genval ``.npz`` (a JSON config plus arrays) without
pickle.
"""

from __future__ import annotations

import json
import os
import zipfile
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from genval.errors import GenvalError, ModelFileError


def resolve_rng(random_state) -> np.random.Generator:
    """One Generator from an int seed, a Generator (used as is) or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise TypeError(f"random_state must be an int, a numpy Generator or None, got {type(random_state).__name__}")


@contextmanager
def atomic_write(path, mode: str = "wb"):
    """Open a temporary file beside ``path``; rename it over ``path`` on success.

    A crash or an exception leaves ``path`` untouched and no temporary behind.
    The file gets the permissions any new file would (``0o666`` less the
    umask), not the owner-only ones of a temporary file.

    Raises
    ------
    GenvalError
        When the folder of ``path`` does not exist.
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise GenvalError(f"cannot write {path}: the folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_npz(path, keys: tuple[str, ...], fmt: str, version: int, what: str,
             optional: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """Read a genval ``.npz`` (a JSON ``config`` plus arrays) without pickle.

    Raises
    ------
    ModelFileError
        Naming the file, for a missing, truncated, foreign or damaged one.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such {what} file")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "config" not in data.files:
                raise ModelFileError(f"{path}: not a genval {what} (no config inside)")
            config = json.loads(str(data["config"]))
            arrays = {k: data[k] for k in (*keys, *optional) if k in data.files}
    except ModelFileError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{path}: not a readable genval {what} ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(config, dict) or config.get("format") != fmt:
        raise ModelFileError(f"{path}: not a genval {what} file")
    if config.get("version") != version:
        raise ModelFileError(f"{path}: genval {what} version {config.get('version')}, this genval reads {version}")
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise ModelFileError(f"{path}: damaged genval {what} (missing {', '.join(missing)})")
    return config, arrays
