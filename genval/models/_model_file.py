"""The model file: a ``.npz`` of arrays plus a JSON config, written and read without pickle.

A model file is untrusted input. The zip's directory is checked first (a
model has at most four members), then the JSON config (its size against the
budget, then every key's type and range, from :data:`genval.models._params.PARAMS`),
then each array's header: its dtype, its shape against the config's layer
sizes, its size against the member's real size and the memory budget. Only
then are bytes read, exactly as many as the header announced, so no file can
make genval allocate more than the budget or read forever.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from genval._utils.archive import brief, is_fingerprint, open_archive
from genval._utils.files import atomic_write
from genval.errors import GenvalError, ModelFileError, ParameterError
from genval._utils.values import is_int
from genval.models._params import MAX_LAYERS, MAX_WIDTH, WIDTHS, file_rule

__all__: list[str] = []

MODEL_FORMAT = "genval-model"
MODEL_VERSION = 1
_MEMBERS = ("config", "params", "loss_curve", "validation_loss_curve")
_REQUIRED = ("config", "params", "loss_curve")
_KEYS = ("format", "version", "kind", "params", "layer_sizes", "n_epochs", "stopped_early", "metadata",
         "training_data")
_LISTS = ("hidden", "noise_levels")  # JSON lists that are tuples in the estimator


def write_model(model, path, metadata: dict | None, follow_links: bool) -> dict:
    """Write fitted ``model`` at ``path`` (see ``Autoencoder.save``); returns the metadata written."""
    params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in model.get_params().items()
              if k != "random_state" or isinstance(v, (int, type(None)))}
    if metadata is not None and not isinstance(metadata, dict):
        raise ParameterError(f"metadata must be a dict, got {type(metadata).__name__}")
    config = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "kind": type(model).__name__,
              "params": params, "layer_sizes": model.layer_sizes_, "n_epochs": model.n_epochs_,
              "stopped_early": bool(model.stopped_early_),
              "metadata": metadata or {}}
    if getattr(model, "training_data_", None) is not None:
        config["training_data"] = model.training_data_
    try:
        text = json.dumps(config)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"metadata must be JSON-serializable: {exc}") from None
    with atomic_write(path, follow_links=follow_links) as fh:
        extra = ({} if model.validation_loss_curve_ is None else
                 {"validation_loss_curve": np.asarray(model.validation_loss_curve_, dtype=float)})
        np.savez(fh, config=np.array(text), params=model.params_,
                 loss_curve=np.asarray(model.loss_curve_, dtype=float), **extra)
    return dict(config["metadata"])


def read_model(path: Path, kinds: dict[str, type]):
    """The fitted model in the file at ``path``, one of ``kinds`` (class name -> class); see ``Autoencoder.load``."""
    with open_archive(path, _MEMBERS, "model") as archive:
        config = archive.config(MODEL_FORMAT, MODEL_VERSION)
        archive.require(_REQUIRED)
        model, net, n_epochs = _model_from_config(path, config, kinds)
        # The weights are read, then copied to float64.
        params = archive.array("params", (net.n_params,), "parameters do not match its layer sizes",
                               extra=8 * net.n_params)
        curve = archive.array("loss_curve", (n_epochs,), "loss_curve does not have one value per epoch")
        n_epochs = len(curve)
        validation = (archive.array("validation_loss_curve", (n_epochs,),
                                    "validation_loss_curve does not have one value per epoch")
                      if archive.has("validation_loss_curve") else None)
    _check_arrays(path, model.dtype, params, curve, validation)
    record = config.get("training_data")
    model._restore(net, params.astype(np.float64), curve.astype(float).tolist(),
                   None if validation is None else validation.astype(float).tolist(),
                   stopped_early=bool(config.get("stopped_early", n_epochs < model.epochs)),
                   metadata=dict(config.get("metadata", {})), training_data=None if record is None else dict(record))
    return model


def _check_arrays(path: Path, dtype: str, params, curve, validation) -> None:
    if not np.isfinite(params).all():
        raise ModelFileError(f"{path}: damaged genval model (its weights contain NaN or infinity)")
    with np.errstate(over="ignore"):  # the model runs in its dtype: a weight must be finite there too
        overflows = not np.isfinite(params.astype(dtype)).all()
    if overflows:
        raise ModelFileError(f"{path}: damaged genval model (a weight of {np.abs(params).max():.3g} is past "
                             f"the {dtype} range it runs in; expected finite {dtype} weights)")
    for name, values in (("loss_curve", curve), ("validation_loss_curve", validation)):
        if values is not None and not np.isfinite(values).all():
            raise ModelFileError(f"{path}: damaged genval model ({name} contains NaN or infinity)")


def _check_key(path: Path, where: str, value, rule: tuple[Callable, str]) -> None:
    check, expected = rule
    if not check(value):
        raise ModelFileError(f"{path}: damaged genval model config ({where} must be {expected}, got {brief(value)})")


def _damaged(path: Path, where: str, expected: str) -> ModelFileError:
    return ModelFileError(f"{path}: damaged genval model config ({where} {expected})")


def _check_params(path: Path, config: dict, kinds: dict[str, type]) -> tuple[type, dict]:
    """The model's class and parameters, every key and value checked against the parameter specification."""
    unknown = [k for k in config if k not in _KEYS]
    if unknown:
        raise _damaged(path, f"key {brief(unknown[0], 40)}", f"is not a model setting; expected {', '.join(_KEYS)}")
    for key in ("kind", "params", "layer_sizes"):
        if key not in config:
            raise _damaged(path, key, "is missing")
    _check_key(path, "kind", config["kind"],
               (lambda v: isinstance(v, str) and v in kinds, "one of " + ", ".join(kinds)))
    kind = kinds[config["kind"]]
    params = config["params"]
    _check_key(path, "params", params, (lambda v: isinstance(v, dict), "an object of parameters"))
    names = kind._get_param_names()
    for name, value in params.items():
        if name not in names:
            raise _damaged(path, f"params.{brief(name, 40)}", f"is not a parameter of {kind.__name__}")
        _check_key(path, f"params.{name}", value, file_rule(name))
    return kind, params


def _model_from_config(path: Path, config: dict, kinds: dict[str, type]):
    """An unfitted model and its network from a checked config, and the epochs it trained (None: not said)."""
    kind, params = _check_params(path, config, kinds)
    sizes = config["layer_sizes"]
    _check_key(path, "layer_sizes", sizes,
               (lambda v: isinstance(v, list) and 3 <= len(v) <= 2 * MAX_LAYERS + 3
                and all(is_int(n, 1, MAX_WIDTH) for n in v),
                f"a list of 3 to {2 * MAX_LAYERS + 3} widths in {WIDTHS}"))
    try:
        model = kind(**{k: tuple(v) if k in _LISTS else v for k, v in params.items()})
        model._validate_params()
        net = model._network(sizes[0])
    except (GenvalError, TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"{path}: damaged genval model config ({brief(exc, 200)})") from None
    if net.layer_sizes != sizes:
        raise _damaged(path, "layer_sizes", f"{brief(sizes, 60)} do not match its parameters, which give "
                                            f"{net.layer_sizes}")
    n_epochs = config.get("n_epochs")
    if "n_epochs" in config:
        _check_key(path, "n_epochs", n_epochs,
                   (lambda v: is_int(v, 1, model.epochs), f"an integer in [1, {model.epochs}] (the epochs)"))
    if "stopped_early" in config:
        _check_key(path, "stopped_early", config["stopped_early"], (lambda v: isinstance(v, bool), "true or false"))
    if "metadata" in config:
        _check_key(path, "metadata", config["metadata"], (lambda v: isinstance(v, dict), "an object"))
    record = config.get("training_data")
    if record is not None:
        _check_key(path, "training_data", record, (
            lambda v: is_fingerprint(v, sizes[0]),
            f"an object of n_items (>= 1), n_features ({sizes[0]}), a printable title and a sha256 (64 hex digits)"))
    return model, net, n_epochs
