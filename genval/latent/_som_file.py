"""The map file: a fitted map as ``.npz`` arrays (weights, labels) and a JSON config, read without pickle.

A map file is untrusted input, read like a model file (see
:mod:`genval._utils.archive`): its config's every key is checked, and the
weights' and labels' headers against the grid and the memory budget, before
any array is read.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from genval._utils.archive import brief, fingerprint, is_fingerprint, open_archive
from genval._utils.values import is_int
from genval._utils.files import atomic_write
from genval.errors import DataMismatchError, ParameterError, ShapeMismatchError
from genval.latent._som_params import MAX_NEURONS, check_settings
from genval.latent._winners import diverged

__all__: list[str] = []

SOM_FORMAT = "genval-som"
SOM_VERSION = 2  # 2: the training codes' winners (labels) are saved too
_MAP_MEMBERS = ("config", "weights", "labels")
_MAP_KEYS = ("format", "version", "params", "grid", "seed", "n_iterations", "algorithm", "training_data")


def save_map(som, path) -> None:
    """Write the fitted map ``som`` as ``.npz`` (weights, labels + JSON config, no pickle), atomically."""
    check_is_fitted(som)
    config = {"format": SOM_FORMAT, "version": SOM_VERSION,
              "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in som.get_params().items()
                         if k != "random_state" or isinstance(v, (int, type(None)))},
              "grid": list(som.grid_), "seed": som.seed_, "n_iterations": som.n_iterations_,
              "algorithm": som.algorithm_}
    if getattr(som, "training_data_", None) is not None:
        config["training_data"] = som.training_data_
    with atomic_write(path) as fh:
        np.savez(fh, config=np.array(json.dumps(config)), weights=som.weights_, labels=som.labels_)


def read_map(cls, path):
    """Read a map written by :func:`save_map` as an instance of ``cls`` (:class:`~genval.latent.LatentSOM`).

    A map file is untrusted input, read like a model file (see
    :mod:`genval._utils.archive`): its config's every key is checked, and the
    weights' and labels' headers against the grid and the memory budget,
    before any array is read.

    Raises
    ------
    ModelFileError
        One line naming the file and what was wrong.
    """
    path = Path(path)
    with open_archive(path, _MAP_MEMBERS, "map") as archive:
        config = archive.config(SOM_FORMAT, SOM_VERSION)
        archive.require(_MAP_MEMBERS)
        som = _from_config(cls, config, archive.damaged)
        grid = som.grid_
        # float32 weights and int32 labels are copied to float64 and int64
        weights = archive.array("weights", (*grid, None), "weights do not match the grid",
                                extra=2 * archive.size("weights") + 2 * archive.size("labels"))
        labels = archive.array("labels", (None,), "labels are not one list of neurons", kind="i")
    if weights.shape[2] < 1 or diverged(weights):
        raise archive.damaged("weights.npy holds no weights per neuron" if weights.shape[2] < 1 else
                              "its weights contain NaN, infinity or values past 1e100")
    if not np.all((labels >= 0) & (labels < grid[0] * grid[1])):
        raise archive.damaged(f"labels are not neurons of the {grid[0]}x{grid[1]} grid")
    record = config.get("training_data")
    if record is not None and not (is_fingerprint(record, weights.shape[2]) and record["n_items"] == len(labels)):
        raise archive.damaged(f"training_data must be an object of n_items ({len(labels)}, one per label), "
                              f"n_features ({weights.shape[2]}), a printable title and a sha256 (64 hex digits), "
                              f"got {brief(record, 60)}")
    som.weights_ = weights.astype(float)
    som.labels_ = labels.astype(np.int64)
    som.n_features_in_ = weights.shape[2]
    som.training_data_ = None if record is None else dict(record)
    return som


def _from_config(cls, config: dict, damaged):
    """The map of a file's config, its training facts (``grid_``, ``seed_``, ...) set but no weights yet;
    ``damaged(why)``: the error to raise."""
    for key in config:
        if key not in _MAP_KEYS:
            raise damaged(f"key {brief(key, 40)} is not a map setting; expected {', '.join(_MAP_KEYS)}")
    params = config.get("params")
    names = cls().get_params()
    if not isinstance(params, dict):
        raise damaged(f"params must be an object of parameters, got {brief(params, 40)}")
    unknown = [k for k in params if k not in names]
    if unknown:
        raise damaged(f"params has {brief(unknown[0], 40)}; a map's are {', '.join(names)}")
    params = dict(params)
    grid = params.get("grid")
    if grid is not None:
        if not (isinstance(grid, list) and len(grid) == 2 and all(_is_count(g) for g in grid)):
            raise damaged(f"params.grid must be null or [rows, cols], got {brief(grid, 40)}")
        params["grid"] = tuple(grid)
    if not (params.get("random_state") is None or _is_count(params["random_state"], 0)):
        raise damaged(f"params.random_state must be null or a seed, got {brief(params['random_state'], 40)}")
    som = cls(**params)
    try:
        check_settings(som)
    except ParameterError as exc:
        raise damaged(f"params: {exc}") from None
    grid = config.get("grid")
    if not (isinstance(grid, list) and len(grid) == 2 and all(_is_count(g) for g in grid)
            and grid[0] * grid[1] <= MAX_NEURONS):
        raise damaged(f"grid must be [rows, cols] of at most {MAX_NEURONS:,} neurons, got {brief(grid, 40)}")
    if som.grid is not None and tuple(som.grid) != tuple(grid):
        raise damaged(f"params.grid {list(som.grid)} does not match its grid {grid}")
    for key, low in (("seed", 0), ("n_iterations", 1)):
        if not _is_count(config.get(key), low):
            raise damaged(f"{key} must be an integer of at least {low}, got {brief(config.get(key), 40)}")
    algorithm = config.get("algorithm", "online")  # maps saved before batch training have none
    if algorithm not in ("online", "batch"):
        raise damaged(f'algorithm must be "online" or "batch", got {brief(algorithm, 40)}')
    som.grid_, som.seed_, som.n_iterations_, som.algorithm_ = tuple(grid), config["seed"], \
        config["n_iterations"], algorithm
    return som


def _is_count(value, low: int = 1) -> bool:
    """Whether ``value`` (from JSON) is an integer of at least ``low`` that fits in 63 bits."""
    return is_int(value, low, 2**63 - 1)


def check_training_codes(record: dict | None, n_features: int, Z) -> bool:
    """Whether ``Z`` are the codes of a map's training record (False: no record); raise for other codes.

    Raises
    ------
    ShapeMismatchError
        For codes of another width than the map's ``n_features``.
    DataMismatchError
        When ``Z``'s count or sha256 differ from the record's.
    """
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2 or Z.shape[1] != n_features:
        width = Z.shape[1] if Z.ndim == 2 else "?"
        raise ShapeMismatchError(f"this map was fitted on codes of {n_features} dimensions, and these "
                                 f"have {width}: a map of another model; make one for this model (genval som "
                                 "--out FILE)")
    if record is None:
        return False
    seen = fingerprint(Z)
    if (seen["n_items"], seen["sha256"]) != (record["n_items"], record["sha256"]):
        raise DataMismatchError(f"this map was fitted on other codes ({_describe(record)}), not on these "
                                f"({_describe(seen)}): a map of another model or set; make one for these (genval "
                                "som --out FILE), or pass --any-data (any_data=True) to use it anyway")
    return True


def _describe(record: dict) -> str:
    """A training record in a few words, for an error message."""
    return f"{record['n_items']} codes of {record['n_features']} dimensions, sha256 {record['sha256'][:12]}"
