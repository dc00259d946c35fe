"""A null model for a check set: how often do its checks pass bitmaps nobody designed?

A valid verdict means something only when the checks reject what a generator
gets for free. :func:`null_model` measures the checks' pass rate on bitmaps
drawn from four sources that know less and less about the set, in this order
(:data:`NULL_SOURCES`):

``coin_flip``
    each pixel ink with probability 1/2, independently;
``pixel_frequency``
    each pixel ink with the training items' ink frequency at that pixel
    (``training.binary().mean(axis=0)``), independently;
``blend``
    a random pair of two different training items (``i != j``, uniformly),
    their pixel values averaged (``(x_i + x_j) / 2`` on ``training.X``, so grey
    sets blend grey levels) and thresholded at 0.5, a pixel at exactly 0.5
    decided by a fair coin; for bitmaps this is a uniform crossover of the
    two items;
``held_out``
    items the checks were not fitted on, thresholded at 0.5: all of them,
    not ``n`` draws.

Beside each rate stand its ``copies``: how many of the draws equal a training
item exactly (thresholded), so a rate carried by copies shows as such.

Rule of thumb: checks that pass more than :data:`NOISE_WARNING` (5%) of the
coin flips or the pixel-frequency draws say little on their own; compare a
generator's validity with these rates, not with zero. Measured with
``n=20000, random_state=0``: the emojis' two eyes and a mouth pass 16.8% of
coin flips (16.87% exactly, counted region by region), 52.6% of
pixel-frequency draws (52.88% exactly) and 72.4% of blends; the font's
generic checks pass 68.1% of coin flips, the digits' 8.2%.

Every draw comes from one numpy Generator, the sources in the order above,
so the same seed gives the same draws. Within a source the random numbers are
drawn as whole arrays, row by row: ``rng.random((n, n_pixels))`` for the
coin flips (ink where below 1/2) and for the pixel-frequency draws (ink where
below the frequency); for the blends ``rng.integers(m, size=n)`` (the first
item), ``rng.integers(1, m, size=n)`` (the second item's offset after it,
modulo the ``m`` training items), then ``rng.random((n, n_pixels))`` (a tie
is ink where below 1/2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genval._utils.budget import check_allocation, chunk_rows, dedupe_rows
from genval._utils.files import resolve_rng
from genval.data._bitmap_set import BitmapSet
from genval.errors import ParameterError, ShapeMismatchError

__all__ = ["NOISE_WARNING", "NULL_SOURCES", "NullModel", "null_model"]

NULL_SOURCES = ("coin_flip", "pixel_frequency", "blend", "held_out")
# Checks passing more than this share of coin flips or pixel-frequency draws get a warning.
NOISE_WARNING = 0.05

DEFINITIONS = {
    "coin_flip": "draws passing every check / coin-flip draws (each pixel ink with probability 1/2, independently)",
    "pixel_frequency": "draws passing every check / pixel-frequency draws (each pixel ink with the training items' "
                       "ink frequency at that pixel, independently)",
    "blend": "draws passing every check / blends (a uniformly random pair of two different training items, their "
             "pixel values averaged and thresholded at 0.5, a pixel at exactly 0.5 decided by a fair coin)",
    "held_out": "held-out items passing every check / held-out items (thresholded at 0.5)",
}
# The sources a warning speaks of, as the warning names their draws.
_NOISE = {"coin_flip": "coin-flip bitmaps", "pixel_frequency": "pixel-frequency bitmaps"}
# Working memory per drawn pixel: float64 uniforms, a blend's two gathered rows, the boolean draws of every
# source and their concatenation.
_BYTES_PER_PIXEL = 32


@dataclass(frozen=True)
class NullModel:
    """A check set's pass rates on bitmaps drawn without a generator. Made by :func:`null_model`.

    Attributes
    ----------
    checks_title : str
    check_names : tuple of str
    n : int
        Draws per source (the held-out items are all judged, whatever ``n``).
    seed : int, "generator" or None
        The ``random_state`` given: the int seed, ``"generator"`` for a
        Generator, or None.
    rates : dict
        Source (:data:`NULL_SOURCES`) -> a ratio ``{"value", "numerator",
        "denominator", "definition"}`` of draws passing every check, with
        ``"copies"`` (draws equal to a training item) and ``"per_check"``
        (check name -> draws passing it); None for ``"blend"`` with a single
        training item and for ``"held_out"`` without held-out items.

    Examples
    --------
    >>> from genval import load_dataset
    >>> from genval.checks._rules import default_checks
    >>> emojis = load_dataset("emojis")
    >>> model = null_model(default_checks(emojis), emojis, n=1000, random_state=0)
    >>> model.rates["coin_flip"]["denominator"], model.rates["held_out"]
    (1000, None)
    >>> model.warning()
    "the checks 'emojis: two eyes and a mouth' pass ...% of coin-flip bitmaps and ...% of pixel-frequency bitmaps (more than 5%): a valid verdict says little on its own"
    """

    checks_title: str
    check_names: tuple[str, ...]
    n: int
    seed: object
    rates: dict

    def warning(self) -> str | None:
        """One sentence when the checks pass more than :data:`NOISE_WARNING` of the noise; else None."""
        loud = [f"{self.rates[s]['value']:.1%} of {words}" for s, words in _NOISE.items()
                if self.rates[s]["value"] > NOISE_WARNING]
        if not loud:
            return None
        label = self.checks_title or ", ".join(self.check_names)
        return (f"the checks {label!r} pass {' and '.join(loud)} (more than {NOISE_WARNING:.0%}): "
                "a valid verdict says little on its own")

    def to_dict(self) -> dict:
        """The JSON document: the checks, ``n``, ``seed``, every source's ratio, the warning and its threshold.

        A source that could not be drawn is null, and ``"skipped"`` says why.
        """
        skipped = {}
        if self.rates["blend"] is None:
            skipped["blend"] = "a blend needs two different training items; the training set has 1"
        if self.rates["held_out"] is None:
            skipped["held_out"] = "no held-out items given"
        return {
            "checks": {"title": self.checks_title, "names": list(self.check_names)},
            "n": self.n,
            "seed": self.seed,
            "sources": {s: None if r is None else {**r, "per_check": dict(r["per_check"])}
                        for s, r in self.rates.items()},
            "skipped": skipped,
            "warning": self.warning(),
            "threshold": NOISE_WARNING,
        }


def _blend(rng: np.random.Generator, X: np.ndarray, first: np.ndarray, second: np.ndarray, start: int,
           rows: int) -> np.ndarray:
    """Rows ``start:start + rows`` of the blends (drawn a chunk at a time: the tie-breaking coins stream in order)."""
    total = X[first[start:start + rows]]  # a copy: summed in place, twice the average (halving is exact)
    total += X[second[start:start + rows]]
    tie = rng.random(total.shape) < 0.5
    return (total > 1) | ((total == 1) & tie)


def _judged(checks, T: np.ndarray, draw, n: int, source: str, whole: bool = False) -> dict:
    """Draw ``n`` bitmaps a chunk at a time (all at once when ``whole``), judge each distinct one, and count."""
    p = T.shape[1]
    step = n if whole else max(1, chunk_rows(p * _BYTES_PER_PIXEL))
    valid, copies, per_check = 0, 0, np.zeros(len(checks.names), dtype=np.int64)
    for start in range(0, n, step):
        D = draw(start, min(step, n - start))
        first, inverse = dedupe_rows(D)
        judged = checks.passes(D[first])[inverse]
        valid += int(judged.all(axis=1).sum())
        copies += int(_copies(D[first], T)[inverse].sum())
        per_check += judged.sum(axis=0)
    return {"value": valid / n if n else None, "numerator": valid, "denominator": n,
            "definition": DEFINITIONS[source], "copies": copies,
            "per_check": {name: int(k) for name, k in zip(checks.names, per_check)}}


def _copies(D: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per row of ``D``: does it equal a row of ``T``? Both (·, p) bool."""
    first, inverse = dedupe_rows(np.concatenate([T, D]))
    return first[inverse[len(T):]] < len(T)  # a row's first occurrence lies in T exactly when T holds it


def _seed(random_state):
    if isinstance(random_state, np.random.Generator):
        return "generator"
    return None if random_state is None else int(random_state)


def null_model(checks, training: BitmapSet, n: int = 2000, random_state=0,
               held_out: BitmapSet | None = None) -> NullModel:
    """The pass rates of ``checks`` on coin flips, pixel-frequency draws, blends and held-out items.

    See the module's docstring for each source's definition and how it is
    drawn. Every draw is judged by ``checks.passes`` once per distinct
    bitmap, so classifier checks stay cheap.

    Parameters
    ----------
    checks : CheckSet
        The checks, for bitmaps of ``training.shape``.
    training : BitmapSet
        At least one item: gives the pixel frequencies, the blended pairs and
        what counts as a copy.
    n : int, default 2000
        Draws per source. The standard error of a rate is at most
        ``0.5 / sqrt(n)``: about 1.1 points at 2000.
    random_state : int, numpy Generator or None, default 0
    held_out : BitmapSet, optional
        Items of the same shape the checks were not fitted on.

    Returns
    -------
    NullModel

    Raises
    ------
    ParameterError
        For ``n < 1`` or an empty training set.
    ShapeMismatchError
        When ``training`` or ``held_out`` is not of the checks' shape.
    MemoryBudgetError
        When ``n`` draws per source would exceed the memory budget.

    Examples
    --------
    >>> from genval import BitmapSet, load_dataset
    >>> from genval.checks._rules import default_checks
    >>> emojis = load_dataset("emojis")
    >>> train, test = emojis.subset(range(12)), emojis.subset(range(12, 17))
    >>> model = null_model(default_checks(train), train, n=100, random_state=0, held_out=test)
    >>> ratio = model.rates["held_out"]
    >>> ratio["numerator"], ratio["denominator"], ratio["copies"], ratio["per_check"]
    (5, 5, 0, {'eyes': 5, 'mouth': 5})
    """
    n = _checked_inputs(checks, training, n, held_out)
    rng = resolve_rng(random_state)
    seed = _seed(random_state)
    p = training.n_features
    check_allocation(min(n, chunk_rows(p * _BYTES_PER_PIXEL)) * p * _BYTES_PER_PIXEL + 16 * n,
                     f"{n:,} null draws of {p:,} pixels per source (drawn a chunk at a time)")
    T = training.binary()
    rates = dict.fromkeys(NULL_SOURCES)
    for source, draw in _draws(rng, training, T, n).items():
        rates[source] = _judged(checks, T, draw, n, source)
    if held_out is not None:
        rates["held_out"] = _judged(checks, T, lambda start, rows: held_out.binary(), len(held_out), "held_out",
                                    whole=True)
    return NullModel(checks.title, tuple(checks.names), n, seed, rates)


def _checked_inputs(checks, training: BitmapSet, n, held_out: BitmapSet | None) -> int:
    """``n`` as an int, once the sets are of the checks' shape and ``n`` is a positive whole number."""
    if not isinstance(training, BitmapSet):
        raise TypeError(f"training must be a BitmapSet, got {type(training).__name__}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"n must be a whole number of draws per source, at least 1, got {n!r}")
    shape = tuple(checks.shape)
    for name, items in (("training", training), ("held_out", held_out)):
        if items is not None and not isinstance(items, BitmapSet):
            raise TypeError(f"{name} must be a BitmapSet, got {type(items).__name__}")
        if items is not None and tuple(items.shape) != shape:
            raise ShapeMismatchError(f"{name} items are {items.shape[0]}x{items.shape[1]}, "
                                     f"the checks are for {shape[0]}x{shape[1]}")
    if len(training) == 0:
        raise ParameterError("the null model needs at least 1 training item, got an empty set")
    return int(n)


def _draws(rng: np.random.Generator, training: BitmapSet, T: np.ndarray, n: int) -> dict:
    """Source -> ``draw(start, rows)``, the rows ``start:start + rows`` of its ``n`` draws, in drawing order.

    Blends need two different training items, so a single item has none.
    """
    p = T.shape[1]
    frequency = T.mean(axis=0)
    sources = {"coin_flip": lambda start, rows: rng.random((rows, p)) < 0.5,
               "pixel_frequency": lambda start, rows: rng.random((rows, p)) < frequency}
    if len(training) >= 2:
        pairs = []  # drawn when the blends' turn comes, after the other sources' draws

        def blend(start: int, rows: int) -> np.ndarray:
            if not pairs:
                m = len(training)
                first = rng.integers(m, size=n)
                pairs.extend([first, (first + rng.integers(1, m, size=n)) % m])  # any item but the first
            return _blend(rng, training.X, *pairs, start, rows)

        sources["blend"] = blend
    return sources
