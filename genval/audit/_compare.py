"""Repeated audits: several strategies, models and seeds, and the table that sets them side by side.

:func:`compare_models` audits every model under every strategy over seeds
(each seed may retrain the model, refit the map and redraw the points);
:class:`ModelComparison` holds the reports and turns them into rows of
figures with their means and intervals over the independent runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from genval.audit._audit import audit
from genval.audit._report import AuditReport
from genval.audit._statistics import headline, interval
from genval.audit._strategies import STRATEGIES
from genval.checks._rules import default_checks
from genval.checks._validity import CheckSet
from genval.errors import ParameterError, StrategyImpossibleError
from genval.latent._space import LatentSpace

__all__ = ["VARY", "ModelComparison", "compare", "compare_models", "reseeded"]


def _distinct(prints: list[str]) -> list[int]:
    """Indices of the first run of each distinct fingerprint, in order."""
    first: dict[str, int] = {}
    for i, p in enumerate(prints):
        first.setdefault(p, i)
    return sorted(first.values())


def _rests_on_map(figure: str) -> bool:
    """Whether a :func:`headline` figure reads the map (its neurons, weights or hits), not only the samples."""
    return any(word in figure for word in ("som_", "occupied", "hit_count", "umatrix", "relative_qe"))


def _bounds(figure: str) -> tuple[float, float] | None:
    """The range of a :func:`headline` figure: shares and AUROCs lie in [0, 1], counts at or above 0."""
    if figure in ("pixels_density", "latent_density"):
        return None
    if figure in ("yield", "yield_at_floor") or figure.endswith("distinct_invalid"):
        return 0.0, math.inf  # counts: never below 0
    return 0.0, 1.0


def reseeded(space: LatentSpace, seed: int) -> LatentSpace:
    """The same items and model with the map retrained from ``seed``."""
    from sklearn.base import clone

    som = clone(space.som).set_params(random_state=seed).fit(space.codes)
    return replace(space, som=som)


def compare(space: LatentSpace, strategies=STRATEGIES, n: int = 10_000, checks: CheckSet | None = None,
            random_state=0, skip_impossible: bool = True) -> list[AuditReport]:
    """Run the same audit under several strategies (each with the same seed).

    A strategy that cannot run here (a :class:`StrategyImpossibleError`:
    ``lines`` or ``som-path`` when no two items share a neuron, ``vae-prior``
    for a plain autoencoder) is left out when ``skip_impossible``; any other
    error, such as a request beyond the memory budget, propagates.
    """
    checks = checks if checks is not None else default_checks(space.bitmaps)
    reports = []
    for strategy in strategies:
        try:
            reports.append(audit(space, strategy, n, checks, random_state))
        except StrategyImpossibleError:
            if not skip_impossible:
                raise
    return reports


VARY = ("model", "map", "sample")  # what the seeds of repeated audits may vary


@dataclass(frozen=True)
class ModelComparison:
    """Models audited under the same strategies, over one or more seeds. :meth:`to_dict` is the JSON document.

    Attributes
    ----------
    runs : tuple of (str, str, tuple of AuditReport)
        ``(model label, strategy, one report per seed)``: models in the
        order given, strategies in the order asked.
    seeds : tuple of int
    skipped : tuple of (str, str, str)
        ``(label, strategy, reason)`` for every strategy that cannot run on
        that model (the :class:`StrategyImpossibleError`'s message: no two
        items share a neuron, no prior to sample, ...).
    vary : tuple of str
        What the seeds varied: some of ``"model"`` (the default model
        retrained from each seed), ``"map"`` and ``"sample"``.
    dataset : str, optional
        The title of the set the models learned.
    n : int, optional
        The points asked of each audit.
    """

    runs: tuple[tuple[str, str, tuple[AuditReport, ...]], ...]
    seeds: tuple
    skipped: tuple[tuple[str, str, str], ...]
    vary: tuple[str, ...] = ("map", "sample")
    dataset: str | None = None
    n: int | None = None

    @property
    def reports(self) -> tuple[tuple[str, AuditReport], ...]:
        """``(label, report)`` for the first seed's reports."""
        return tuple((label, reports[0]) for label, _, reports in self.runs)

    def rows(self) -> list[dict]:
        """Per model and strategy: every :func:`headline` figure as its mean, interval and per-seed values.

        Runs that audited identical samples count once in the mean and the
        interval of every figure that rests on the samples alone (two map
        seeds can give one map, and ``lines`` the same points; ``grid``
        always draws the same points), and runs that also share their map's
        verdicts count once in the map's figures. ``independent_runs`` says
        how many remain of each (``samples``, ``maps``), and ``identical``
        lists the groups of seeds that audited one sample set.
        """
        rows = []
        for label, strategy, reports in self.runs:
            per_seed = [headline(r) for r in reports]
            prints = [r.fingerprint() for r in reports]
            keep = {False: _distinct(prints), True: _distinct([r.fingerprint(with_map=True) for r in reports])}
            groups = [[self.seeds[i] for i, p in enumerate(prints) if p == prints[k]] for k in keep[False]]
            figures = {}
            for name in per_seed[0]:
                chosen = keep[_rests_on_map(name)]
                figures[name] = dict(interval([per_seed[i][name] for i in chosen], bounds=_bounds(name)),
                                     per_seed=[f[name] for f in per_seed])
            rows.append({"label": label, "strategy": strategy,
                         "independent_runs": {"samples": len(keep[False]), "maps": len(keep[True])},
                         "identical": [g for g in groups if len(g) > 1], "figures": figures})
        return rows

    def min_validity(self) -> float:
        """The lowest mean new-sample validity of any row but ``copycat`` (a row without new samples counts 0)."""
        return min(((row["figures"]["new_validity"]["value"] or 0.0) for row in self.rows()
                    if row["strategy"] != "copycat"), default=0.0)

    def to_dict(self, *, models: Mapping[str, dict] | None = None, maps: Mapping[str, dict] | None = None) -> dict:
        """The JSON document: seeds, rows, every run's report and what was skipped.

        ``models`` and ``maps``, when given, describe each label's model and map as the caller knows them
        (the file each came from, its kind, its seed): the document then leads with the set, the seed,
        ``n``, the repeats and those descriptions, and every run reads as a single audit's document, with
        its label's model and map.
        """
        described = models is not None and maps is not None
        doc = {"dataset": self.dataset, "seed": self.seeds[0], "n": self.n, "repeats": len(self.seeds),
               "models": dict(models), "maps": dict(maps)} if described else {}
        doc.update({
            "seeds": list(self.seeds),
            "vary": list(self.vary),
            "rows": self.rows(),
            "runs": [dict(report.to_dict(), label=label,
                          **({"model": models[label], "map": maps[label]} if described else {}))
                     for label, _, reports in self.runs for report in reports],
            "skipped": [{"label": label, "strategy": strategy, "reason": reason}
                        for label, strategy, reason in self.skipped],
        })
        return doc


def compare_models(spaces: Mapping[str, LatentSpace], strategies: Sequence[str] = STRATEGIES, n: int = 10_000,
                   checks: CheckSet | None = None, random_state=0, repeats: int = 1,
                   progress: Callable[[int, int], None] | None = None, vary: Sequence[str] = ("map", "sample"),
                   rebuild: Callable[[str, int], LatentSpace] | None = None,
                   min_novelty: int = 1) -> ModelComparison:
    """Audit every model (each in its own latent space) under every strategy, over ``repeats`` seeds.

    Parameters
    ----------
    spaces : mapping of str to LatentSpace
        A label for each model (``"autoencoder"``, ``"vae"``) and its space.
    strategies : sequence of str
        See :data:`STRATEGIES`; one that cannot run on a model (a
        :class:`StrategyImpossibleError`) is listed in
        :attr:`ModelComparison.skipped` with the reason. Any other error, such
        as a request beyond the memory budget, propagates.
    n : int
        Points per audit.
    checks : CheckSet, optional
        Default: :func:`genval.checks.default_checks` of each space's set.
    random_state : int
        The first seed. With ``repeats`` K, seeds ``random_state`` to
        ``random_state + K - 1``; every strategy and model sees the same
        seeds, so their draws are comparable.
    repeats : int
        Seeds per strategy; figures get a 95% t interval when there are two or more.
    progress : callable, optional
        ``progress(audits_done, audits_total)``.
    vary : sequence of str
        What each seed varies (see :data:`VARY`): ``"map"`` retrains the map
        from the seed (the first uses the map as given), ``"sample"`` draws
        the points from it (else every repeat draws from ``random_state``),
        ``"model"`` takes each seed's model from ``rebuild``.
    rebuild : callable, optional
        ``rebuild(label, seed)``: the space of model ``label`` retrained from
        ``seed`` (a cached default model), its map fitted like the given one.
        Needed when ``vary`` holds ``"model"``.
    min_novelty : int
        Passed to :func:`audit`.

    Returns
    -------
    ModelComparison

    Examples
    --------
    >>> from genval import Autoencoder, build_space, load_dataset
    >>> emojis = load_dataset("emojis")
    >>> space = build_space(emojis, Autoencoder(stop_wrong_pixels=0).fit(emojis.X), grid=(3, 3))
    >>> found = compare_models({"autoencoder": space}, ["random", "copycat", "vae-prior"], n=200)
    >>> [(label, r.strategy) for label, r in found.reports], [s[:2] for s in found.skipped]
    ([('autoencoder', 'random'), ('autoencoder', 'copycat')], [('autoencoder', 'vae-prior')])
    >>> found.skipped[0][2][:60]
    "the 'vae-prior' strategy samples a variational autoencoder's"
    >>> found.rows()[1]["figures"]["copy_rate"]["value"]
    1.0
    """
    seeds = _seeds(random_state, repeats, vary, rebuild)
    runs: list[tuple[str, str, tuple[AuditReport, ...]]] = []
    skipped: list[tuple[str, str, str]] = []
    counter = _Progress(len(spaces) * len(strategies) * repeats, progress)
    for label, space in spaces.items():
        maps = _seeded_spaces(label, space, seeds, vary, rebuild)
        for strategy in strategies:
            reports = []
            for seed, seeded in zip(seeds, maps):
                try:
                    reports.append(audit(seeded, strategy, n, checks, seed if "sample" in vary else seeds[0],
                                         min_novelty=min_novelty))
                except StrategyImpossibleError as exc:
                    skipped.append((label, strategy, str(exc) if seed == seeds[0] else f"with seed {seed}: {exc}"))
                    break
                finally:
                    counter.step()
            if len(reports) == repeats:
                runs.append((label, strategy, tuple(reports)))
    dataset = next(iter(spaces.values())).bitmaps.title if spaces else None
    return ModelComparison(tuple(runs), seeds, tuple(skipped), tuple(v for v in VARY if v in vary), dataset, n)


def _seeds(random_state, repeats: int, vary: Sequence[str], rebuild) -> tuple[int, ...]:
    """The seeds of :func:`compare_models`, once its arguments are known to fit together."""
    if repeats < 1:
        raise ParameterError(f"repeats must be at least 1, got {repeats}")
    if not isinstance(random_state, (int, np.integer)):
        raise ParameterError(f"repeated audits need an integer seed, got {random_state!r}")
    unknown = [v for v in vary if v not in VARY]
    if unknown or not vary:
        raise ParameterError(f"vary takes some of {', '.join(VARY)}, got {', '.join(map(str, vary)) or 'nothing'}")
    if "model" in vary and rebuild is None:
        raise ParameterError("varying the model needs rebuild(label, seed) to retrain it")
    return tuple(int(random_state) + r for r in range(repeats))


def _seeded_spaces(label: str, space: LatentSpace, seeds: Sequence[int], vary: Sequence[str],
                   rebuild: Callable[[str, int], LatentSpace] | None) -> list[LatentSpace]:
    """One space per seed: the model rebuilt from it (``"model"``), the map refitted from it after the first (``"map"``)."""
    spaces = []
    for r, seed in enumerate(seeds):
        seeded = rebuild(label, seed) if "model" in vary else space
        if "map" in vary and r > 0:
            seeded = reseeded(seeded, seed)
        spaces.append(seeded)
    return spaces


class _Progress:
    """Counts the audits done and reports each step to ``progress(done, total)``, when given."""

    def __init__(self, total: int, progress: Callable[[int, int], None] | None):
        self.total, self.done, self.progress = total, 0, progress

    def step(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)
