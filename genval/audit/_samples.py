"""Audits of given samples: generated bitmaps or grey images from anywhere, judged against the training set.

:func:`audit` judges what genval's own decoder makes; :func:`audit_samples`
takes samples made elsewhere (a file of a diffusion model's images, a
PyTorch VAE's decodings) and reports, for the set's checks and items:

* copies (the thresholded bitmap equals a training item's) and near-copies
  (within :func:`near_copy_threshold` pixels of one, Hamming distance);
* validity by the checks, for all samples, new ones and those beyond the
  near-copy threshold, with the checks' null model beside it;
* k-NN precision, recall, density, coverage and authenticity
  (:func:`genval.checks.membership_metrics`) in pixel space and, with a
  latent space, between the encoded samples and the training codes;
* with a latent space, the Kohonen map's verdict on each sample: its winning
  neuron, whether that neuron wins a training item, the distance to its weights;
* with held-out items (a set, or a seeded split of the training set), memorisation
  against them (:func:`genval.audit.memorisation`): the near-copy rate at a threshold
  calibrated on held-out items, authenticity, and the train-versus-held-out gap of
  nearest distances, each beside the held-out items' own value, with bootstrap intervals.

Samples are thresholded at 0.5 and every distinct bitmap is judged and
measured once; the k-NN metrics and the realism scores use a seeded
subsample of at most :data:`genval.audit.MAX_SCORED` samples.
"""

from __future__ import annotations

import numpy as np

from genval._utils.budget import check_allocation, chunk_rows, dedupe_rows, nearest_bitmaps
from genval._utils.files import resolve_rng
from genval.audit._audit import NULL_DRAWS
from genval.audit._bootstrap import N_RESAMPLES
from genval.audit._features import call_features
from genval.audit._holdout import HOLDOUT_QUANTILE, holdout_split, memorisation
from genval.audit._judging import judge_distinct
from genval.audit._samples_bootstrap import bootstrap_samples, membership_per_sample
from genval.audit._samples_report import SamplesReport
from genval.audit._scores import K_NEIGHBOURS, MAX_SCORED
from genval.audit._strategies import ItemsOnMap
from genval.checks._membership import knn_radii, nearest_distance, realism
from genval.checks._nullmodel import null_model
from genval.checks._rules import default_checks
from genval.checks._validity import CheckSet
from genval.data._bitmap_set import BitmapSet
from genval.errors import ParameterError, ShapeMismatchError
from genval.latent._space import LatentSpace

__all__ = ["audit_samples", "near_copy_threshold"]

CALIBRATION_ITEMS = 2000  # distinct training items (a seeded subsample beyond) that calibrate the near-copy threshold


def near_copy_threshold(training: BitmapSet, random_state=0, n_items: int = CALIBRATION_ITEMS) -> tuple[int, float]:
    """The near-copy threshold in pixels: half the median distance from a training bitmap to its nearest other one.

    A sample within this many pixels of a training item (and not equal to it)
    is closer to that item than typical training items are to their nearest
    neighbours, by a factor of two: it reproduces that item with a few pixels
    changed rather than lying between items. The distances are Hamming
    distances between the distinct thresholded training bitmaps; beyond
    ``n_items`` distinct bitmaps, a seeded subsample of ``n_items`` is measured
    against all the others.

    Parameters
    ----------
    training : BitmapSet
    random_state : int, numpy Generator or None
        Draws the subsample (only for sets of more than ``n_items`` distinct bitmaps).
    n_items : int

    Returns
    -------
    threshold : int
        At least 1 pixel.
    median : float
        The median nearest-other distance it halves (0.0 for a set of one distinct bitmap).

    Examples
    --------
    >>> from genval import load_dataset
    >>> near_copy_threshold(load_dataset("emojis"))
    (1, 2.0)
    """
    T = training.binary()
    U = T[dedupe_rows(T)[0]]
    if len(U) < 2:
        return 1, 0.0
    if len(U) <= n_items:
        distances = knn_radii(U, k=1, metric="hamming")
    else:
        picked = np.zeros(len(U), dtype=bool)
        picked[resolve_rng(random_state).choice(len(U), n_items, replace=False)] = True
        distances = nearest_bitmaps(U[picked], U[~picked])[1]
    median = float(np.median(distances))
    return max(1, int(median // 2)), median


def audit_samples(samples, training: BitmapSet, checks: CheckSet | None = None, space: LatentSpace | None = None, *,
                  near_copy: int | None = None, k: int = K_NEIGHBOURS, max_scored: int = MAX_SCORED,
                  random_state=0, source: str | None = None, features=None, holdout=None,
                  holdout_quantile: float = HOLDOUT_QUANTILE, n_resamples: int = N_RESAMPLES,
                  holdout_source: str | None = None) -> SamplesReport:
    """Judge given samples against the training set: copies, near-copies, validity, k-NN metrics, the map.

    Parameters
    ----------
    samples : BitmapSet or array-like (n, height * width) or (n, height, width)
        Generated bitmaps or grey images with pixel values in [0, 1] (bright is ink), thresholded at 0.5.
    training : BitmapSet
        The set the generator learned.
    checks : CheckSet, optional
        Default :func:`genval.checks.default_checks` of the set.
    space : LatentSpace, optional
        A model and map over ``training``: its model encodes the samples (latent k-NN metrics), its map locates them.
    near_copy : int, optional
        Pixels within which a sample is a near-copy of an item; default :func:`near_copy_threshold`.
    k : int
        Neighbours of the k-NN metrics and the realism scores (5, as in the papers).
    max_scored : int
        At most this many samples and training items (seeded subsamples; 10,000 as Naeem et al.) enter the k-NN metrics.
    random_state : int, numpy Generator or None
        Draws the subsamples of scored samples and items, the held-out split and the resamples.
    source, holdout_source : str, optional
        The samples' and the held-out items' files, for the report.
    features : array-like (n_training + n, d) or callable, optional
        Features of your own (a CLIP embedding): the training items' rows then the samples', or a function of
        pixels (:func:`genval.audit.call_features`); the k-NN metrics in that space too (of the subsampled rows).
    holdout : BitmapSet, array-like or float, optional
        Real items the generator never saw, of the set's shape, or a fraction in (0, 1) of ``training`` to hold
        out (:func:`genval.audit.holdout_split`; the rest is the training set of the whole audit): adds
        :func:`genval.audit.memorisation` against them, at ``holdout_quantile``, with ``n_resamples`` resamples.
    n_resamples : int
        Resamples of the samples behind the ``bootstrap`` intervals (and the held-out section's); 0: none.

    Returns
    -------
    SamplesReport

    Raises
    ------
    ShapeMismatchError, ParameterError, genval._utils.budget.MemoryBudgetError
        For shapes that disagree (samples, set, checks, space, features, held-out items); pixel values outside
        [0, 1], no samples, bad settings or features; work beyond the memory budget.

    Examples
    --------
    >>> from genval import load_dataset
    >>> emojis = load_dataset("emojis")
    >>> X = emojis.X[:8].copy()
    >>> X[0, 0] = 1 - X[0, 0]  # one pixel changed: a near-copy of the first item
    >>> report = audit_samples(X, emojis, k=2)
    >>> report.to_dict()["copies"]["rate"]["numerator"], report.to_dict()["near_copies"]["rate"]["numerator"]
    (7, 1)
    """
    samples, training, held, split, checks, features = _prepared(samples, training, checks, space, near_copy, k,
                                                                 max_scored, features, holdout, random_state,
                                                                 n_resamples)
    rng, n = resolve_rng(random_state), len(samples)
    verdicts = judge_distinct(np.packbits(samples.binary(), axis=1), training.n_features, training, checks)
    nearest, distance = nearest_bitmaps(verdicts.bitmaps, training.binary())
    memo = None if held is None else memorisation(verdicts.bitmaps[verdicts.inverse], training, held, quantile=(
        holdout_quantile), n_resamples=n_resamples, random_state=random_state, source=holdout_source, split=split,
        nearest=(nearest[verdicts.inverse], distance[verdicts.inverse]))
    threshold, median = (near_copy, None) if near_copy is not None else near_copy_threshold(training, 0)  # of the set
    scored, reference = (_subsample(rng, m, max_scored) for m in (n, len(training)))
    membership, scores, own, located = _measured(samples, training, verdicts, space, features, scored, reference, k)
    report = SamplesReport(
        dataset=training.title, source=source, shape=tuple(training.shape), sample_names=tuple(samples.names),
        item_names=tuple(training.names), checks_title=checks.title, check_names=tuple(checks.names),
        bitmap_index=verdicts.inverse, bitmaps=verdicts.bitmaps, passes=verdicts.passes, copy_of=verdicts.copy_of,
        nearest=nearest, item_distance=distance, near_copy=int(threshold), near_copy_median=median,
        scored=scored, scores=scores, membership=membership, located=located,
        random_state=random_state if isinstance(random_state, (int, type(None))) else "generator",
        # seeded apart from the samples: a property of the checks and the set, as in every audit
        null=null_model(checks, training, n=NULL_DRAWS, random_state=0).to_dict(), memorisation=memo,
    )
    return _with_intervals(report, own, n_resamples, rng)


def _with_intervals(report: SamplesReport, per_sample: dict, n_resamples: int, rng: np.random.Generator
                    ) -> SamplesReport:
    """The report with its bootstrap over samples (none for 0 resamples), seeded by a draw from ``rng`` made after
    the subsamples, so that they do not depend on the bootstrap."""
    if not n_resamples:
        return report
    return report.with_bootstrap(bootstrap_samples(report, per_sample, n_resamples, int(rng.integers(2**31 - 1))))


def _measured(samples: BitmapSet, training: BitmapSet, verdicts, space, features, scored: np.ndarray,
              reference: np.ndarray, k: int) -> tuple[dict, dict, dict, dict | None]:
    """The k-NN metrics, the scores and each space's per-sample membership values (for the bootstrap) of the
    scored samples; with a space, where every sample falls on the map."""
    found = _pixel_membership(training, reference, verdicts.bitmaps[verdicts.inverse[scored]]
                              if training.is_binary else samples.X[scored], k)
    located = None if space is None else _locate(space, training, samples, scored, reference, k, *found)
    if features is not None:
        _feature_membership(features, training, samples, scored, reference, k, *found)
    return (*found, located)


def _prepared(samples, training: BitmapSet, checks: CheckSet | None, space, near_copy, k: int, max_scored: int,
              features, holdout, random_state, n_resamples) -> tuple:
    """The samples and the training set (without the held-out items), the held-out items and their split, the
    checks and the features, once they agree with one another."""
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 0:
        raise ParameterError(f"n_resamples must be a whole number of at least 0, got {n_resamples!r}")
    samples = _as_samples(samples, training)
    whole, (training, held, split) = training, _held_out(holdout, training, random_state)
    checks = checks if checks is not None else default_checks(training)
    _check_inputs(samples, training, checks, space, near_copy, k, max_scored)
    if split is not None and features is not None and not callable(features) and \
            len(features) == len(whole) + len(samples):  # the whole set's rows, then the samples': keep the split's
        kept = np.concatenate([_rows_in(whole.names, training), np.arange(len(whole), len(whole) + len(samples))])
        features = np.asarray(features)[kept]
    return samples, training, held, split, checks, _checked_features(features, len(training), len(samples))


def _subsample(rng: np.random.Generator, m: int, at_most: int) -> np.ndarray:
    """All of ``m`` rows, or a seeded sorted subsample of ``at_most`` of them."""
    return np.arange(m) if m <= at_most else np.sort(rng.choice(m, at_most, replace=False))


def _held_out(holdout, training: BitmapSet, random_state) -> tuple[BitmapSet, BitmapSet | None, dict | None]:
    """The training set, the held-out items (None without) and the split that made them (None when given)."""
    if holdout is None:
        return training, None, None
    if isinstance(holdout, (float, np.floating)):
        kept, held = holdout_split(training, float(holdout), random_state)
        return kept, held, {"fraction": float(holdout), "seed": random_state if isinstance(random_state, int)
                            else None, "n_training": len(kept), "n_holdout": len(held), "of": len(training),
                            "definition": "the first round(fraction * n) of numpy.random.default_rng(seed)"
                                          ".permutation(n) held out; the rest, the training set of this audit"}
    held = holdout if isinstance(holdout, BitmapSet) else _as_samples(holdout, training, "held-out items")
    if tuple(held.shape) != tuple(training.shape):
        raise ShapeMismatchError(f"the held-out items are {held.shape[0]}x{held.shape[1]} bitmaps, the training "
                                 f"set {training.title!r} is {training.shape[0]}x{training.shape[1]}")
    return training, held, None


def _as_samples(samples, training: BitmapSet, what: str = "samples") -> BitmapSet:
    """The samples as a set of the training set's shape (an array's rows named 1, 2, ...)."""
    if isinstance(samples, BitmapSet):
        return samples
    X = np.asarray(samples)
    if X.dtype == bool:
        X = X.astype(np.float32)
    if X.ndim == 3:
        shape, X = X.shape[1:], X.reshape(len(X), -1)
    elif X.ndim == 2 and X.shape[1] == training.n_features:
        shape = training.shape
    else:
        h, w = training.shape
        raise ShapeMismatchError(f"the {what} are an array of shape {X.shape}, the training set {training.title!r} "
                                 f"needs (n, {h}, {w}) or (n, {h * w})")
    return BitmapSet([str(i) for i in range(1, len(X) + 1)], X, shape, title=what)


def _check_inputs(samples: BitmapSet, training: BitmapSet, checks: CheckSet, space: LatentSpace | None,
                  near_copy: int | None, k: int, max_scored: int) -> None:
    """Refuse mismatched shapes and bad settings; check that the audit fits the memory budget."""
    for what, shape in (("the samples", samples.shape), ("the checks", tuple(checks.shape)),
                        ("the model's set", None if space is None else space.bitmaps.shape)):
        if shape is not None and tuple(shape) != tuple(training.shape):
            raise ShapeMismatchError(f"{what} are {shape[0]}x{shape[1]} bitmaps, the training set "
                                     f"{training.title!r} is {training.shape[0]}x{training.shape[1]}")
    if len(samples) == 0:
        raise ParameterError("no samples to audit: the sample set is empty")
    if len(training) == 0:
        raise ParameterError("the training set is empty: nothing to judge the samples against")
    p = training.n_features
    if near_copy is not None and not (isinstance(near_copy, (int, np.integer)) and 1 <= near_copy <= p):
        raise ParameterError(f"near_copy must be a number of pixels from 1 to {p}, got {near_copy!r}")
    if k < 1 or max_scored < 1:
        raise ParameterError(f"k and max_scored must be at least 1, got k={k}, max_scored={max_scored}")
    n, scored = len(samples), min(len(samples), max_scored)
    latent = 0 if space is None else 8 * (space.codes.shape[1] + 4)
    # Per sample: its bitmap (bool, then packed), distinct index, nearest item and distance, verdicts; its code.
    # Per scored sample: its pixels for the k-NN metrics and the near neighbours the radii keep (about k + 8).
    check_allocation(n * (p + p // 8 + 48 + latent) + scored * (4 * p + 32 * (k + 8)),
                     f"an audit of {n:,} samples of {p} pixels")


def _pixel_membership(training: BitmapSet, reference: np.ndarray, fake: np.ndarray, k: int
                      ) -> tuple[dict, dict, dict]:
    """The k-NN metrics, realism and per-sample membership values (for the bootstrap) of the scored samples
    against the ``reference`` items in pixel space: thresholded bitmaps by exact Hamming distance for a binary
    set, grey levels by Euclidean distance for a grey one."""
    X = training.X[reference]
    real, metric = (X > 0.5, "hamming") if training.is_binary else (X, "euclidean")
    membership = {"k": k, "n_real": len(reference), "n_fake": len(fake), "n_training": len(training)}
    scores, per_sample = {}, {}
    if len(real) > k and len(fake) > k:
        metrics, per_sample["pixels"] = membership_per_sample(real, fake, k, metric)
        membership["pixels"] = metrics.to_dict()
        scores["realism"] = realism(real, fake, k=k, metric=metric)
    else:
        membership["note"] = f"the k-NN metrics need more than k = {k} training items and scored samples"
    return membership, scores, per_sample


def _checked_features(features, n_training: int, n: int):
    """The features array, once it holds one row per training item and sample; a function as it is; or None."""
    if features is None or callable(features):
        return features
    F = features if isinstance(features, np.ndarray) else np.asarray(features)
    if F.ndim != 2 or len(F) != n_training + n or F.shape[1] < 1:
        raise ShapeMismatchError(f"the features are an array of shape {F.shape}, expected ({n_training + n}, d): "
                                 f"{n_training} training items, then {n} samples")
    if not (np.issubdtype(F.dtype, np.number) or F.dtype == bool) or np.issubdtype(F.dtype, np.complexfloating):
        raise ParameterError(f"the features must be real numbers, got an array of {F.dtype}")
    return F


def _feature_membership(F, training: BitmapSet, samples: BitmapSet, scored: np.ndarray, reference: np.ndarray,
                        k: int, membership: dict, scores: dict, per_sample: dict) -> None:
    """The k-NN metrics and realism of the scored samples' features against the reference items' (Euclidean):
    rows of a given array, or what a feature function makes of their pixels."""
    if callable(F):
        real, fake = call_features(F, training.X[reference]), call_features(F, samples.X[scored])
        if real.shape[1] != fake.shape[1]:
            raise ParameterError(f"the feature function gave {real.shape[1]} features for training items and "
                                 f"{fake.shape[1]} for samples; expected the same number")
    else:
        real = np.asarray(F[reference], dtype=np.float64)
        fake = np.asarray(F[len(training) + scored], dtype=np.float64)
    if not (np.isfinite(real).all() and np.isfinite(fake).all()):
        raise ParameterError("the features hold NaN or infinite values; expected finite numbers")
    if len(real) > k and len(fake) > k:
        metrics, per_sample["features"] = membership_per_sample(real, fake, k, "euclidean")
        membership["features"] = metrics.to_dict()
        scores["feature_realism"] = realism(real, fake, k=k, metric="euclidean")


def _locate(space: LatentSpace, training: BitmapSet, samples: BitmapSet, scored: np.ndarray, reference: np.ndarray,
            k: int, membership: dict, scores: dict, per_sample: dict) -> dict:
    """Encode the samples; their winning neurons and map distances; the latent k-NN metrics and scores.

    ``training`` is the audit's training set: the space's whole set, or what a held-out split left of it, whose
    codes alone are the reference (the map was fitted on every code; the occupied neurons are the training part's).
    """
    first, inverse = dedupe_rows(samples.X)  # identical samples are encoded once
    chunk = chunk_rows(32 * samples.n_features)
    Zu = np.concatenate([np.asarray(space.model.transform(samples.X[first[s:s + chunk]]), dtype=np.float64)
                         for s in range(0, len(first), chunk)])
    if not np.isfinite(Zu).all():
        raise ParameterError("the model encoded some samples to non-finite codes (NaN or inf)")
    Z = Zu[inverse]
    items = ItemsOnMap(space)
    neuron = space.som.winners(Z)
    som_distance = np.sqrt(((Z - items.weights[neuron]) ** 2).sum(axis=1))
    Zs = Z[scored]
    trained = space.codes[_rows_in(space.bitmaps.names, training)]
    hits = items.hits if len(trained) == len(space.codes) else \
        np.bincount(space.som.winners(trained), minlength=space.som.n_neurons)
    scores["nearest_code"] = 0.0 - nearest_distance(trained, Zs)[0]  # 0.0, not -0.0, at a code
    codes = trained[reference]
    if len(codes) > k and len(scored) > k:
        metrics, per_sample["latent"] = membership_per_sample(codes, Zs, k, "euclidean")
        membership["latent"] = metrics.to_dict()
        scores["latent_realism"] = realism(codes, Zs, k=k, metric="euclidean")
    return {"Z": Z, "neuron": neuron, "som_distance": som_distance, "hits": hits,
            "grid": tuple(int(g) for g in space.som.grid_)}


def _rows_in(names, training: BitmapSet) -> np.ndarray:
    """The rows of the set named ``names`` that ``training`` holds: all of them, or those a held-out split kept."""
    if len(training) == len(names):
        return np.arange(len(names))
    row = {name: i for i, name in enumerate(names)}
    return np.array([row[name] for name in training.names], dtype=np.intp)
