"""The scikit-learn estimator protocol without importing scikit-learn.

scikit-learn takes most of a second to import, and genval's commands should
start fast, so estimators get ``get_params``/``set_params`` from this mixin:
enough for ``sklearn.base.clone``, grid searches and pipelines.
"""

from __future__ import annotations

import inspect
import json
import os
import zipfile
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from genval.errors import GenvalError, ModelFileError


class ParamsMixin:
    """``get_params``/``set_params``/``repr`` from the ``__init__`` signature."""

    @classmethod
    def _signature_params(cls) -> list[inspect.Parameter]:
        """Constructor parameters; a subclass whose ``__init__`` takes ``**params``
        (passed on to its base) has its own parameters plus its base's."""
        found: list[inspect.Parameter] = []
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None or klass is object:
                continue
            params = list(inspect.signature(init).parameters.values())[1:]
            found += [p for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
            if not any(p.kind == p.VAR_KEYWORD for p in params):
                break
        return found

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p.name for p in cls._signature_params()]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters, as a dict."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set constructor parameters; unknown names raise ``ValueError``."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; valid: {', '.join(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in self._signature_params()}
        changed = [
            f"{k}={v!r}" for k, v in self.get_params().items()
            if not (isinstance(defaults.get(k), type(v)) and defaults.get(k) == v)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"


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
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_npz(path, keys: tuple[str, ...], fmt: str, version: int, what: str) -> tuple[dict, dict]:
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
            arrays = {k: data[k] for k in keys if k in data.files}
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
