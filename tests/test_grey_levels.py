"""Grey-level figures (MSE, PSNR, share within a tolerance) and the stalled-training rule."""

import logging
import math
import threading

import numpy as np
import pytest

from genval import Autoencoder, BitmapSet, load_dataset
from genval.errors import ParameterError
from genval.experiments._denoise import denoise_report
from genval.models._reconstruction import GreyLevels, grey_levels, psnr, reconstruction_report
from genval.nn import LinearCode, make_activation, make_loss
from genval.nn._network import Network
from genval.nn._stall import caught_stalls, stall_reason, trivial_loss


class Constant:
    """A stand-in model whose every reconstruction is ``value`` (or the input itself when ``value`` is None)."""

    def __init__(self, n_features, value=None):
        self.n_features_in_, self.layer_sizes_, self.value = n_features, [n_features], value

    def reconstruct(self, X):
        X = np.asarray(X, dtype=float)
        return X.copy() if self.value is None else np.full_like(X, self.value)


ITEMS = BitmapSet(["a", "b"], [[0, 1, 1, 0], [1, 1, 0, 0]], (2, 2))


def test_psnr_is_ten_log10_of_one_over_the_mse():
    assert psnr(0.01) == pytest.approx(20.0) and psnr(0.25) == pytest.approx(10 * math.log10(4))
    assert psnr(0.0) == math.inf
    with pytest.raises(ParameterError, match="mse must be a finite number >= 0, got -1"):
        psnr(-1)


def test_a_grey_reconstruction_has_exact_figures():
    report = reconstruction_report(Constant(4, 0.5), ITEMS)
    assert report.wrong_pixels == (2, 2)  # 0.5 is not above the threshold: every ink pixel is wrong
    assert report.grey == GreyLevels(0.25, 0.0, 0.1)
    assert report.to_dict()["psnr"] == pytest.approx(6.0206, abs=1e-4)
    assert reconstruction_report(Constant(4, 0.5), ITEMS, tolerance=0.5).grey.within_tolerance == 1.0
    near = grey_levels(Constant(4, 0.96), ITEMS.X, tolerance=0.05)[1]
    assert near.within_tolerance == 0.5 and near.mse == pytest.approx((0.96 ** 2 + 0.04 ** 2) / 2)
    with pytest.raises(ParameterError, match="tolerance must be a finite number >= 0, got -0.1"):
        reconstruction_report(Constant(4, 0.5), ITEMS, tolerance=-0.1)


def test_a_perfect_reconstruction_has_an_infinite_psnr_shown_as_null():
    report = reconstruction_report(Constant(4), ITEMS)
    assert report.perfect == 2 and report.grey.mse == 0.0 and report.grey.psnr == math.inf
    assert report.to_dict() | {"items": None} == {"items": None, "perfect": 2, "within_one": 2, "mse": 0.0,
                                                   "psnr": None, "tolerance": 0.1, "within_tolerance": 1.0}


def test_denoising_reports_the_restored_and_the_noisy_copies_mse():
    # A model that returns its input "restores" nothing: its MSE is the noisy copies' own; flipping every
    # pixel makes every pixel wrong by 1.
    report = denoise_report(Constant(4), ITEMS, [1.0, 0.0], trials=3)
    flipped, clean = report
    assert (flipped.mse, flipped.noisy_mse, flipped.within_tolerance, flipped.psnr) == (1.0, 1.0, 0.0, 0.0)
    assert (clean.mse, clean.noisy_mse, clean.within_tolerance, clean.psnr) == (0.0, 0.0, 1.0, math.inf)
    assert clean.to_dict()["psnr"] is None and flipped.to_dict()["tolerance"] == 0.1
    half = denoise_report(Constant(4, 0.5), ITEMS, [0.0], trials=2, tolerance=0.5)[0]
    assert (half.mse, half.noisy_mse, half.within_tolerance, half.tolerance) == (0.25, 0.0, 1.0, 0.5)
    with pytest.raises(ParameterError, match="tolerance must be a finite number >= 0"):
        denoise_report(Constant(4), ITEMS, [0.1], tolerance=math.nan)


def _network(loss):
    output = "sigmoid" if loss == "bce" else "identity"
    return Network(2, (), make_activation("tanh"), LinearCode(1), make_activation(output), make_loss(loss))


def test_the_trivial_model_loss_is_each_pixels_variance_or_entropy():
    X = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.0, 1.0]])
    assert trivial_loss(_network("mse"), X) == (0.125, 0.0)  # variances 0.25 and 0
    assert trivial_loss(_network("bce"), X) == pytest.approx((math.log(2) / 2, 0.0))
    assert trivial_loss(_network("mse"), X, rows=np.array([1, 2])) == (0.0, 0.0)  # the rows it trains on
    grey = np.array([[0.5, 0.25], [0.5, 0.25]])  # constant grey pixels: the mean model is perfect
    h = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert trivial_loss(_network("bce"), grey) == pytest.approx(((math.log(2) + h) / 2,) * 2)


def test_the_stall_rule_at_its_boundaries():
    assert stall_reason([0.7, 0.5, 0.45], trivial=0.5).startswith("training stalled: the final loss 0.45 is no "
                                                                 "better than 0.9 x 0.5")
    assert stall_reason([0.7, 0.5, 0.4499], trivial=0.5) is None
    # Near its first epoch's loss, though well under the trivial model's:
    assert "still 0.9 x the first epoch's 0.2" in stall_reason([0.2, 0.19, 0.181], trivial=0.5)
    assert stall_reason([0.2, 0.19, 0.1799], trivial=0.5) is None
    assert stall_reason([0.2], trivial=0.5) is None  # one epoch: nothing to compare
    # Above the floor of a perfect reconstruction (bce on grey pixels): 0.6 - 0.5 < 0.9 (0.7 - 0.5).
    assert stall_reason([0.9, 0.6], trivial=0.7, floor=0.5) is None
    assert stall_reason([0.9, 0.7], trivial=0.7, floor=0.5).endswith(
        "outputs every pixel's mean above the floor 0.5 of a perfect reconstruction; try a larger learning rate or "
        "more epochs")


def test_a_stalled_run_is_logged_and_a_learning_one_is_not(caplog):
    font = load_dataset("font")
    with caplog.at_level(logging.WARNING, logger="genval.nn._stall"), caught_stalls() as stalled:
        Autoencoder(learning_rate=1e-6, epochs=5).fit(font.X)
    assert len(stalled) == 1 and stalled[0].startswith("training stalled: the final loss 0.69")
    assert [r.getMessage() for r in caplog.records] == stalled  # logged for a script's own handlers too
    with caught_stalls() as stalled:
        Autoencoder(epochs=300, random_state=1).fit(font.X)
        Autoencoder(learning_rate=1e-6, epochs=5, stop_wrong_pixels=35).fit(font.X)  # reached its early stop
    assert stalled == []


def test_caught_stalls_keeps_to_its_own_thread():
    # Runs in other threads (a Dask worker's threads) are theirs to collect, not the caller's.
    font = load_dataset("font")
    with caught_stalls() as stalled:
        other = threading.Thread(target=lambda: Autoencoder(learning_rate=1e-6, epochs=5).fit(font.X))
        other.start()
        other.join()
        assert stalled == []
        Autoencoder(learning_rate=1e-6, epochs=5).fit(font.X)
    assert len(stalled) == 1
