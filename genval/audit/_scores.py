"""Membership scores: per audited sample, the signals that might predict its validity.

Each score of :data:`SCORES` is oriented so that a higher score predicts a
valid sample: the Kohonen map's (distance to the winning neuron, its hits,
the U-matrix, the relative quantization error), the map-free baselines
(nearest code, depth in the codes' hull, closeness to the box's centre), the
decoder's own (confidence, stability), a mixture's density and k-NN realism.
:data:`SCORE_KINDS` says what each draws on.
"""

from __future__ import annotations

import numpy as np

from genval._utils.budget import chunk_rows
from genval.audit._baselines import box_centre_closeness, hull_depth
from genval.audit._strategies import ItemsOnMap, fit_mixture
from genval.checks._membership import membership_metrics, nearest_distance, realism
from genval.latent._space import LatentSpace

__all__ = ["MAX_SCORED", "SCORES", "SCORE_KINDS"]

K_NEIGHBOURS = 5  # the k of the k-NN metrics and the realism score, as in the papers
MAX_SCORED = 10_000  # samples (a seeded subsample beyond) that enter the k-NN metrics and the scores
STABILITY_MOVES = 8  # latent moves per sample of the stability score
STABILITY_RADIUS = 0.02  # their length, as a share of the sampling box's diagonal

# Each membership score, oriented so that a higher score predicts a valid sample, with what it measures.
SCORES = {
    "som_distance": "minus the distance from the sample's code to its winning neuron's weights",
    "occupied": "1 when the sample's winning neuron wins a training item, else 0 (the seed hypothesis)",
    "hit_count": "how many training items the sample's winning neuron wins",
    "nearest_code": "minus the distance from the sample's code to the nearest training code",
    "gmm_log_density": "log-density of the sample's code under a Gaussian mixture fitted to the codes (BIC)",
    "realism": "k-NN realism in pixel space (Kynkäänniemi et al. 2019): max over training items of "
               "their k-NN radius / distance to the sample",
    "hull_depth": "signed distance of the sample's code to the boundary of the training codes' convex hull, "
                  "positive inside (map-free baseline)",
    "box_centre": "minus the distance to the sampling box's centre, each axis in half-widths (sanity baseline)",
    "umatrix": "minus the U-matrix height at the winning neuron (high between the map's clusters)",
    "relative_qe": "minus the sample's quantization error over the largest of its neuron's training items' "
                   "(an empty neuron: over the 95th percentile of all training items', MiniSom's outlier rule)",
    "decoder_confidence": "mean over the decoded pixels of |2p - 1| (1: every pixel decided)",
    "stability": f"share of {STABILITY_MOVES} latent moves of {STABILITY_RADIUS:.0%} of the box's diagonal "
                 "that decode to the same bitmap",
}
# What each score draws on, for the tables: map-free baselines, the Kohonen map, the decoder, the rest.
SCORE_KINDS = {"hull_depth": "baseline", "nearest_code": "baseline", "box_centre": "baseline", "chance": "baseline",
               "som_distance": "map", "occupied": "map", "hit_count": "map", "umatrix": "map", "relative_qe": "map",
               "decoder_confidence": "decoder", "stability": "decoder", "gmm_log_density": "density",
               "realism": "pixels"}


def score_samples(items: ItemsOnMap, Z: np.ndarray, neuron: np.ndarray, som_distance: np.ndarray,
                  fake_pixels: np.ndarray, metric: str, k: int, rng: np.random.Generator, copied: np.ndarray | None
                  ) -> tuple[dict, dict, dict]:
    """Every membership score of the scored samples, the k-NN metrics in pixel and latent space, and the hull.

    ``copied`` names the training items the samples are (the ``copycat`` strategy), None for decoded samples.
    """
    space, hits = items.space, items.hits
    training = space.bitmaps
    real_pixels = training.binary() if metric == "hamming" else training.X
    nearest = nearest_distance(space.codes, Z)[0]
    scores = {
        "som_distance": -som_distance,
        "occupied": (hits[neuron] > 0).astype(float),
        "hit_count": hits[neuron].astype(float),
        "nearest_code": -nearest,
        "gmm_log_density": fit_mixture(space.codes, rng).score_samples(Z),
    }
    membership = {"k": k, "n_real": len(training), "n_fake": len(Z)}
    if len(training) > k and len(Z) > k:
        scores["realism"] = realism(real_pixels, fake_pixels, k=k, metric=metric)
        membership["pixels"] = membership_metrics(real_pixels, fake_pixels, k=k, metric=metric).to_dict()
        membership["latent"] = membership_metrics(space.codes, Z, k=k, metric="euclidean").to_dict()
    else:
        membership["note"] = f"the k-NN metrics need more than k = {k} training items and samples"
    hull = {"note": "no hull: fewer than 3 training codes"}
    if len(space.codes) >= 3:
        depth = hull_depth(space.codes, Z)
        scores["hull_depth"], hull = depth.depth, depth.to_dict()
    lo, hi = space.box()
    scores["box_centre"] = box_centre_closeness(lo, hi, Z)
    scores.update(_map_scores(items, neuron, som_distance))
    scores.update(_decoder_scores(space, Z, rng, copied))
    return scores, membership, hull


def _map_scores(items: ItemsOnMap, neuron: np.ndarray, som_distance: np.ndarray) -> dict:
    """The map's own signals at each sample's winning neuron: the U-matrix height and the relative quantization error."""
    space, W, owner = items.space, items.weights, items.winners
    item_qe = np.sqrt(((space.codes - W[owner]) ** 2).sum(axis=1))
    scale = np.zeros(space.som.n_neurons)
    np.maximum.at(scale, owner, item_qe)
    fallback = float(np.percentile(item_qe, 95)) if len(item_qe) else 0.0
    scale = np.where(scale > 0, scale, fallback)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(scale[neuron] > 0, som_distance / scale[neuron], np.where(som_distance > 0, np.inf, 0.0))
    return {"umatrix": -space.som.umatrix().ravel()[neuron], "relative_qe": -relative}


def _decoder_scores(space: LatentSpace, Z: np.ndarray, rng: np.random.Generator, copied: np.ndarray | None) -> dict:
    """The decoder's own signals: how firmly it decides the pixels, and whether small moves keep the bitmap."""
    chunk = chunk_rows(8 * (STABILITY_MOVES + 2) * 4 * space.bitmaps.n_features)
    lo, hi = space.box()
    radius = STABILITY_RADIUS * float(np.linalg.norm(hi - lo))
    confidence, stability = np.empty(len(Z)), np.empty(len(Z))
    for s in range(0, len(Z), chunk):
        Zc = Z[s:s + chunk]
        directions = rng.standard_normal((len(Zc), STABILITY_MOVES, Z.shape[1]))  # one stream, whatever the chunk
        directions *= radius / np.maximum(np.linalg.norm(directions, axis=2, keepdims=True), 1e-300)
        pixels = space.bitmaps.X[copied[s:s + chunk]] if copied is not None else space.model.inverse_transform(Zc)
        confidence[s:s + chunk] = np.abs(2 * pixels - 1).mean(axis=1)
        moved = space.model.inverse_transform((Zc[:, None, :] + directions).reshape(-1, Z.shape[1]))
        same = ((moved > 0.5).reshape(len(Zc), STABILITY_MOVES, -1) == (pixels > 0.5)[:, None, :]).all(axis=2)
        stability[s:s + chunk] = same.mean(axis=1)
    return {"decoder_confidence": confidence, "stability": stability}
