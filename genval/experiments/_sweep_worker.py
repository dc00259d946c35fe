"""One training of a sweep, in a worker: fit once, score every run that shares it.

Runs that differ only in how they are scored share one training: the test
noise level ``noise_level`` when ``noise_levels`` names the training levels,
and ``test_copies``. Each run is scored as if it had trained alone: its
random stream (``random_state``) draws the held-out split and then its
noise, so its row is the one a training of its own gives, but for its
``seconds`` (the shared training's time plus its own scoring).
"""

from __future__ import annotations

import json
import re
import time

import numpy as np

from genval.data._noise import flip_noise
from genval.errors import TrainingDivergedError
from genval.experiments._sweep_curves import sample_curve
from genval.experiments._sweep_settings import RESULTS, SETTINGS, model_for
from genval.models._reconstruction import grey_levels
from genval.nn._stall import caught_stalls

__all__: list[str] = []

_DIVERGED = re.compile(r"diverged at epoch (\d+)")


def training_key(settings: dict) -> str:
    """What a run's training depends on: runs with one key share one training."""
    scoring = {"test_copies"} | ({"noise_level"} if settings["noise_levels"] else set())
    return json.dumps({k: settings[k] for k in SETTINGS if k not in scoring}, sort_keys=True, separators=(",", ":"))


def _split(settings: dict, X: np.ndarray) -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
    """The run's random stream after drawing its split, the items it trains on and the items it scores."""
    rng = np.random.default_rng(settings["random_state"])
    if settings["train_size"] is not None and settings["train_size"] < len(X):
        order = rng.permutation(len(X))
        return rng, X[order[:settings["train_size"]]], X[order[settings["train_size"]:]]
    return rng, X, X


def _failed(exc: Exception) -> tuple[str, str]:
    """A run's status and epochs run after a training that raised ``exc``."""
    if isinstance(exc, TrainingDivergedError):
        found = _DIVERGED.search(str(exc))
        return (f"diverged at epoch {found.group(1)}", found.group(1)) if found else (f"diverged: {exc}", "")
    return f"{type(exc).__name__}: {exc}".replace("\n", " "), ""


def run_group(calls: list[tuple[int, dict]], X: np.ndarray) -> list[tuple[int, dict, dict | None]]:
    """Train once for ``calls`` (``(index, settings)`` of runs of one :func:`training_key`), score each.

    Returns ``(index, result, curve)`` per call: the result columns as text
    and a status; the curve of :func:`~._sweep_curves.sample_curve` (None
    when training failed). Every failure becomes the status; a run that fails
    never stops the sweep.
    """
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    model, status, epochs, curve = None, "", "", None
    try:
        # the workers are the parallelism; a stall is the run's status, not a line on the worker's stderr
        with threadpool_limits(limits=1, user_api="blas"), caught_stalls() as stalled:
            model = model_for(calls[0][1]).fit(_split(calls[0][1], X)[1])
        status = "stalled" if stalled else "ok"
        curve = sample_curve(model.loss_curve_, model.validation_loss_curve_)
    except Exception as exc:  # a run that fails is a finding of the sweep, not its end
        model, (status, epochs) = None, _failed(exc)
    trained = time.perf_counter() - start
    out = []
    for index, settings in calls:
        result = dict.fromkeys(RESULTS, "")
        result["epochs_run"], own = epochs, status
        begun = time.perf_counter()
        if model is not None:
            try:
                with threadpool_limits(limits=1, user_api="blas"):
                    result |= _scores(model, settings, X)
            except Exception as exc:
                own = _failed(exc)[0]
        result["seconds"] = round(trained + time.perf_counter() - begun, 4)
        out.append((index, {"status": own, **{k: str(v) for k, v in result.items()}}, curve))
    return out


def _scores(model, settings: dict, X: np.ndarray) -> dict:
    """A fitted model's figures for one run: its final losses and its reconstruction of the scored copies."""
    rng, train, scored = _split(settings, X)
    targets = np.tile(scored, (settings["test_copies"], 1))
    inputs = flip_noise(targets, settings["noise_level"], rng) if settings["noise_level"] else targets
    wrong, grey = grey_levels(model, inputs, targets)
    validation = model.validation_loss_curve_
    held_out = {}
    if len(train) < len(X):  # the items it trained on, clean, beside the held-out ones scored
        train_wrong, train_grey = grey_levels(model, train, train)
        held_out = {"train_wrong_pixels": int(train_wrong.sum()), "train_mse": train_grey.mse}
    return held_out | {"final_loss": model.loss_curve_[-1], "epochs_run": model.n_epochs_,
            "wrong_pixels": int(wrong.sum()), "perfect": int((wrong == 0).sum()),
            "within_one": int((wrong <= 1).sum()), "scored": len(targets),
            "validation_loss": "" if validation is None else validation[-1], "mse": grey.mse,
            "psnr": grey.psnr, "within_tolerance": grey.within_tolerance}
