"""A sweep's settings: their names, meanings and defaults, the CSV's columns, a run's model.

Settings are the :class:`~genval.models.Autoencoder` parameters under the
estimator's names, with its defaults and with the meanings of the parameter
specification (:data:`genval.models._params.PARAMS`), plus the sweep's own
(``vae``, ``beta``, ``momentum``, ``noise_level``, ``test_copies``,
``train_size``). Every run is a CSV row of every setting and its results.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass

from genval.errors import GenvalError
from genval.models._autoencoder import Autoencoder, VariationalAutoencoder
from genval.models._params import PARAMS

__all__ = ["OLD_KEYS", "SETTINGS", "Sweep", "SweepConfigError"]

MODEL_SETTINGS = tuple(inspect.signature(Autoencoder).parameters)  # the estimator's order
_VAE_SETTINGS = set(inspect.signature(VariationalAutoencoder).parameters)
_OWN = {
    "vae": "true to train a VariationalAutoencoder",
    "beta": "the VAE's KL weight, a number >= 0 (with vae = true)",
    "momentum": "the momentum of optimizer 'momentum' or 'adaptive', in [0, 1)",
    "noise_level": "bit-flip probability in [0, 1] of the scored copies",
    "test_copies": "noisy copies scored per item, an integer >= 1",
    "train_size": "how many items to train on, an integer >= 1",
}
# What each setting must be (for messages); every Autoencoder parameter is a setting.
SETTINGS = {k: PARAMS[k].setting or "a genval.Autoencoder parameter" for k in MODEL_SETTINGS} | _OWN
# TOML has lists, not tuples.
DEFAULTS = ({k: list(v) if isinstance(v, tuple) else v for k, v in Autoencoder().get_params().items()}
            | {"vae": False, "beta": VariationalAutoencoder().beta, "momentum": None, "noise_level": 0.0,
               "test_copies": 1, "train_size": None})
# Keys of sweep files (and CSV columns) written before the settings took the estimator's names.
OLD_KEYS = {"latent": "n_latent", "stop_wrong": "stop_wrong_pixels", "seed": "random_state", "noise": "noise_level"}
# Results, in the CSV's order; the grey-level figures and the held-out loss came last, after seconds, then the
# figures of the training items (with train_size below the set's size; empty otherwise).
RESULTS = ["final_loss", "epochs_run", "wrong_pixels", "perfect", "within_one", "scored", "seconds",
           "validation_loss", "mse", "psnr", "within_tolerance", "train_wrong_pixels", "train_mse"]
COLUMNS = ["run", "dataset", *SETTINGS, "status", *RESULTS]


class SweepConfigError(GenvalError, ValueError):
    """A sweep file (or its CSV) that cannot run; names the file and the key."""


@dataclass(frozen=True)
class Sweep:
    """A checked sweep: its runs' settings, in grid order.

    Attributes
    ----------
    title, dataset, source : str
    axes : tuple of tuple of str
        The grid's settings in file order; a paired group is one axis of
        several keys.
    runs : tuple of dict
        Every run's full settings.
    """

    title: str
    dataset: str
    source: str
    axes: tuple[tuple[str, ...], ...]
    runs: tuple[dict, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """Every setting the grid varies, in file order."""
        return tuple(k for axis in self.axes for k in axis)

    @property
    def columns(self) -> list[str]:
        return list(COLUMNS)


def run_key(settings: dict) -> str:
    """A stable name for a run's settings (the CSV's ``run`` column)."""
    return json.dumps({k: settings[k] for k in SETTINGS}, sort_keys=True, separators=(",", ":"))


def model_for(settings: dict):
    """The unfitted estimator of a run's settings."""
    params = {k: settings[k] for k in MODEL_SETTINGS}
    params["hidden"] = tuple(params["hidden"])
    levels = settings["noise_levels"] or ([settings["noise_level"]] if settings["noise_level"] else [])
    params["noise_levels"] = tuple(levels)
    if settings["momentum"] is not None:
        params["optimizer_options"] = dict(params["optimizer_options"] or {}, momentum=settings["momentum"])
    if settings["vae"]:
        return VariationalAutoencoder(**{k: v for k, v in params.items() if k in _VAE_SETTINGS}, beta=settings["beta"])
    return Autoencoder(**params)


def new_name(key: str, value) -> str:
    """Today's name of a key; ``noise`` is the estimator's noise kind when it names one, else the old level."""
    values = value if isinstance(value, list) else [value]
    if key == "noise" and all(isinstance(v, str) for v in values):
        return key
    return OLD_KEYS.get(key, key)


def cell(value) -> str:
    """A setting as a CSV cell: lists joined by "-", tables as ``k=v``, booleans lowercase, None empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "-".join(map(str, value))
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return str(value).lower() if isinstance(value, bool) else str(value)

