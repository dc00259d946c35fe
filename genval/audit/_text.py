"""The audit's reports as text: the tables ``genval audit`` prints, from the JSON documents.

Each ``write_*`` function takes a document (:meth:`AuditReport.to_dict`,
:meth:`ModelComparison.to_dict`, or a part of one) and an ``echo`` that takes
one line at a time (the CLI passes ``click.echo``; a list's ``append`` collects
them), so the library builds the text and the CLI only shows it.
"""

from __future__ import annotations

from collections.abc import Callable

from genval.audit._controls import MIN_DISTINCT, N_BINS
from genval.audit._scores import MAX_SCORED, SCORE_KINDS, SCORES

__all__: list[str] = []

COMPARED = ("copy_rate", "new_validity", "yield", "som_precision", "som_recall", "auroc_som_distance")
HEADS = {"copy_rate": "copy rate", "new_validity": "new validity", "yield": "yield", "som_precision": "map prec",
         "som_recall": "map recall", "auroc_som_distance": "AUROC map dist"}


def map_file_text(doc: dict) -> str:
    """`` from map.npz`` for a map given by --map, else nothing."""
    return "" if doc["file"] is None else f" from {doc['file']}"


def _fmt(value, digits: int = 3) -> str:
    if isinstance(value, dict):
        value = value["value"]
    return "n/a" if value is None else f"{value:.{digits}f}"


def _fraction(ratio: dict) -> str:
    """``0.187 = 560 / 2997``: a ratio with its numerator and denominator."""
    return f"{_fmt(ratio)} = {ratio['numerator']} / {ratio['denominator']}"


def write_report(doc: dict, echo: Callable[[str], None]) -> None:
    new, every = doc["new"], doc["all"]
    r = new["ratios"]
    copies = doc["copies"]
    echo(f"audit '{doc['strategy']}' of {doc['dataset']}: {doc['n']} samples, checks: {doc['checks']['title']}, "
               f"map {doc['grid'][0]}x{doc['grid'][1]}{map_file_text(doc['map'])}, seed {doc['seed']}")
    rate = copies["rate"]
    echo(f"copies: {rate['numerator']} of {rate['denominator']} samples equal a training item: copy rate "
               f"{_fmt(rate)} ({copies['distinct_items']} distinct training items reproduced)")
    echo(f"  {'':<16}{'new samples':<24}all samples, copies included")
    for name, meaning in (("validity", "valid / samples"),
                          ("uniqueness", "distinct valid / valid; new: the yield"),
                          ("novelty", "new distinct valid / distinct valid")):
        echo(f"  {name:<16}{_fraction(r[name]):<24}{_fraction(every['ratios'][name]):<30}{meaning}")
    write_null(doc["null_model"], echo)
    echo("failures per check:       new samples   all samples")
    for name, count in new["failures"].items():
        echo(f"  {name:<22}  {count:>11}   {every['failures'][name]:>11}")
    s, sa = new["som_agreement"], every["som_agreement"]
    t, ta = s["table"], sa["table"]
    echo("the Kohonen map (is the sample's neuron occupied by a training item?):")
    echo(f"  {'':<16}{'new samples':<24}all samples, copies included")
    echo(f"  {'':<16}{'valid':>8}{'invalid':>9}{'':7}{'valid':>8}{'invalid':>9}")
    for where in ("occupied", "empty"):
        echo(f"  {where + ' neuron':<16}{t[where + '_valid']:>8}{t[where + '_invalid']:>9}{'':7}"
                   f"{ta[where + '_valid']:>8}{ta[where + '_invalid']:>9}")
    echo(f"  {'precision':<16}{_fraction(s['precision']):<24}{_fraction(sa['precision']):<30}"
               "valid among occupied")
    echo(f"  {'recall':<16}{_fraction(s['recall']):<24}{_fraction(sa['recall']):<30}occupied among valid")
    write_controls(doc, echo)
    write_novelty(doc["novelty"], echo)
    m = doc["membership"]
    echo(f"rule-free membership, k = {m['k']}, N = {m['n_real']} training items, M = {m['n_fake']} samples"
               + ("" if m["n_fake"] == doc["n"] else f" (a seeded subsample of {MAX_SCORED:,})") + ":")
    if "pixels" in m:
        names = ("precision", "recall", "density", "coverage", "authenticity")
        echo(f"  {'':<20}" + "".join(f"{n:>13}" for n in names))
        for where in ("pixels", "latent"):
            label = f"{where} ({m[where]['metric']})"
            echo(f"  {label:<20}" + "".join(f"{_fmt(m[where][n]):>13}" for n in names))
    else:
        echo(f"  {m['note']}")
    echo(f"crispness {_fmt(doc['crispness'])} (share of decoded pixels below 0.1 or above 0.9; 1 = every "
               "pixel decided)")
    if "bootstrap" in doc:
        write_bootstrap(doc["bootstrap"], echo)


# The figures of one audit the text shows with their intervals over samples (all of them: --json), and labels.
RESAMPLED = (("copy_rate", "copy rate"), ("new_validity", "new validity"), ("new_uniqueness", "new uniqueness"),
             ("yield", "yield"), ("yield_at_floor", "yield at floor"), ("all_validity", "validity (all)"),
             ("som_precision", "map precision"), ("som_recall", "map recall"), ("crispness", "crispness"),
             ("pixels_precision", "k-NN precision"))
COUNTS = ("yield", "yield_at_floor", "distinct_items")
# Figures resting on counts of distinct bitmaps, which shrink when a resample repeats samples.
ON_DISTINCT = (*COUNTS, "new_uniqueness", "all_uniqueness", "all_novelty")


def resampled_cell(figure: dict | None, count: bool = False) -> str:
    """``0.201 [0.188,0.217]``: a figure of one audit and its interval over samples; ``38 [29,36]*`` for a count
    of distinct bitmaps (the star: its interval lies below it by construction)."""
    if figure is None or figure["value"] is None:
        return "n/a"
    digits = 0 if count else 3
    text = f"{figure['value']:.{digits}f}"
    if figure["interval"] is not None:
        lo, hi = figure["interval"]
        text += f" [{lo:.{digits}f},{hi:.{digits}f}]"
    return text


def write_bootstrap(boot: dict, echo: Callable[[str], None]) -> None:
    """The headline figures of one audit with their 95% percentile intervals over resamples of its samples."""
    if not boot["n_resamples"]:
        echo("intervals over samples: none (0 resamples)")
        return
    figures = boot["figures"]
    echo(f"intervals over samples: 95% percentile bootstrap, {boot['n_resamples']} resamples of the "
         f"{boot['samples']} samples (k-NN precision: of the {boot['scored']} scored); --json for every figure:")
    pairs = [(label, resampled_cell(figures.get(name), name in COUNTS) + ("*" if name in ON_DISTINCT else ""))
             for name, label in RESAMPLED if name in figures]
    pairs += [("fails " + name[len("new_failures_"):], resampled_cell(f, True))
              for name, f in figures.items() if name.startswith("new_failures_")]
    width = max(16, *(len(label) + 2 for label, _ in pairs))
    cells = [f"{label:<{width}}{cell}" for label, cell in pairs]
    for i in range(0, len(cells), 2):
        echo("  " + "".join(c.ljust(width + 22) + "  " for c in cells[i:i + 2]).rstrip())
    echo("  * rests on a count of distinct bitmaps, which shrinks when a resample repeats samples: its interval "
         "lies below it; fails: new samples failing the check")


def write_clipping(models: dict, echo: Callable[[str], None]) -> None:
    """Say which models were made elsewhere: their decoded pixels are clipped to [0, 1]."""
    foreign = [f"{label} ({m['kind']})" for label, m in models.items() if m["kind"] in ("pca", "onnx", "python")]
    if foreign:
        echo(f"{', '.join(foreign)}: made outside genval; decoded pixels clipped to [0, 1] (a PCA's "
                   "inverse_transform is unbounded)")


_VERDICT_MARK = {"beats": ">", "no better than": "=", "worse than": "<"}
_STRATA = (("all", "all new samples"), ("inside_hull", "inside the codes' hull"),
           ("matched", "matched by nearest code"))


def _control_cell(row: dict | None, best: bool) -> str:
    """``0.995 [-0.005,+0.008] =``: the AUROC, the 95% interval of its difference to the best baseline, a mark."""
    if row is None or row["auroc"] is None:
        return "n/a"
    text = f"{row['auroc']:.3f}"
    if best:
        return text + " (best baseline)"
    if "vs_best_baseline" in row:
        lo, hi = row["vs_best_baseline"]["interval"]
        text += f" [{lo:+.3f},{hi:+.3f}] {_VERDICT_MARK[row['verdict']]}"
    return text


def by_kind(scores) -> list[str]:
    """Score names as the tables list them: the baselines first, then the map's, the decoder's, the rest."""
    order = ("baseline", "map", "decoder", "density", "pixels")
    names = [n for n in (*SCORES, "chance") if n in scores]
    return sorted(names, key=lambda n: order.index(SCORE_KINDS[n]) if SCORE_KINDS.get(n) in order else len(order))


def write_controls(doc: dict, echo: Callable[[str], None]) -> None:
    """Every score's AUROC in three strata beside the best map-free baseline, with counts and verdicts."""
    controls, scores = doc["controls"], doc["scores"]
    echo(f"scores as predictors of validity on {scores['samples']['new']} new samples (AUROC: 1 perfect, "
               "0.5 chance), hull " + (f"{doc['hull']['method']} in {doc['hull']['dims']}-D" if "dims" in doc["hull"]
                                       else "n/a") + ":")
    if "strata" not in controls:
        echo(f"  {controls['note']}")
        return
    strata = controls["strata"]
    width = 27
    echo(f"  {'':<29}" + "".join(f"{label:<{width}}" for _, label in _STRATA))
    echo(f"  {'samples valid / invalid':<29}" + "".join(
        f"{strata[k]['n_valid']} / {strata[k]['n_invalid']}".ljust(width) for k, _ in _STRATA))
    echo(f"  {'distinct bitmaps':<29}" + "".join(
        (f"{strata[k]['distinct_valid']} / {strata[k]['distinct_invalid']}"
          + ("" if strata[k]["ranked"] else " (not ranked)")).ljust(width) for k, _ in _STRATA))
    for name in by_kind(strata["all"]["scores"]):
        kind = SCORE_KINDS.get(name, "")
        echo(f"  {kind:<9}{name:<20}" + "".join(
            _control_cell(strata[k]["scores"].get(name), strata[k]["best_baseline"] == name).ljust(width)
            for k, _ in _STRATA).rstrip())
    echo("  [lo,hi]: 95% interval of the AUROC's difference to the stratum's best baseline "
               f"({controls['n_bootstrap']} resamples of distinct bitmaps);\n  > beats it, = no better, < worse; "
               f"not ranked: fewer than {controls['min_distinct']} distinct valid or invalid bitmaps; matched: valid "
               f"and invalid\n  samples paired only within {N_BINS} equal-count bins of their distance to the nearest "
               "training code")
    for line in controls["summary"]:
        echo(f"  {line}")


_NULL_SOURCES = (("coin_flip", "coin flips"), ("pixel_frequency", "pixel-frequency draws"),
                 ("blend", "blends of two items"), ("held_out", "held-out items"))


def write_null(null: dict, echo: Callable[[str], None]) -> None:
    """How often the checks pass bitmaps nobody designed: the floor a validity figure stands on."""
    shown = [f"{label} {null['sources'][key]['value']:.1%}" for key, label in _NULL_SOURCES
             if null["sources"].get(key) is not None]
    echo(f"  null model: the checks pass {', '.join(shown)} ({null['n']} draws each; --json for copies and "
               "per check)")
    if null["warning"]:
        echo(f"  warning: {null['warning']}")


def write_novelty(novelty: dict, echo: Callable[[str], None]) -> None:
    """The distances of the new valid bitmaps to the training items, and the yield at the novelty floor."""
    shown = ", ".join(f"{d} px: {c}" for d, c in novelty["histogram"].items()) or "none"
    median = "n/a" if novelty["median"] is None else f"{novelty['median']:g}"
    echo(f"novelty of the distinct new valid bitmaps (pixels to the nearest training item: count): {shown}; "
               f"median {median}; yield at --min-novelty {novelty['min_novelty']}: {novelty['yield_at_floor']}")


def _cell(figure: dict, digits: int = 3) -> str:
    """``0.994 ±0.002``; an interval clipped to a figure's range is not symmetric: ``0.987 [0.958,1.000]``."""
    text = _fmt(figure["value"], digits) if figure["value"] is not None else "n/a"
    if figure["interval"] is not None:
        lo, hi = figure["interval"]
        if abs((figure["value"] - lo) - (hi - figure["value"])) > 0.5 * 10 ** -digits:
            text += f" [{lo:.{digits}f},{hi:.{digits}f}]"
        else:
            text += f" ±{(hi - lo) / 2:.{digits}f}"
    return text


_CONTROLLED = (("auroc_hull_depth", "hull depth"), ("auroc_som_distance", "map dist"),
               ("auroc_nearest_code", "nearest code"), ("inside_hull_auroc_hull_depth", "in: hull"),
               ("inside_hull_auroc_som_distance", "in: map"), ("inside_hull_distinct_invalid", "in: inv."),
               ("matched_auroc_hull_depth", "matched: hull"), ("matched_auroc_som_distance", "matched: map"),
               ("yield_at_floor", "yield@floor"))


def write_controlled_rows(doc: dict, width: int, echo: Callable[[str], None]) -> None:
    """The map's distance beside the map-free baselines, on all new samples, inside the hull and matched."""
    echo("")
    echo("controlled: AUROC on new samples of the map's distance beside the map-free baselines, on all of "
               "them, inside the codes' hull\n(in:, with its distinct invalid bitmaps) and matched by nearest-code "
               "distance; runs = independent sample sets / maps (identical ones count once);\nevery score, each "
               "stratum's verdict and bootstrap intervals: --json, or one audit's text report:")
    width = max(width, 22)
    echo(f"{'model':<12}{'strategy':<10}{'runs':>6}" + "".join(f"{h:>{width}}" for _, h in _CONTROLLED))
    marked = False
    for row in doc["rows"]:
        f = row["figures"]
        cells = []
        for key, _ in _CONTROLLED:
            figure = f.get(key)
            counted = key.endswith("distinct_invalid") or key == "yield_at_floor"
            text = "n/a" if figure is None else _cell(figure, (1 if figure["interval"] else 0) if counted else 3)
            stratum = next((s for s in ("inside_hull", "matched") if key.startswith(s)), "all")
            ranked = f.get(f"{stratum}_ranked", {}).get("per_seed") or [1.0]
            if "auroc" in key and figure is not None and figure["value"] is not None and min(ranked) < 1:
                text, marked = text + "*", True
            cells.append(text)
        runs = row["independent_runs"]
        echo(f"{row['label']:<12}{row['strategy']:<10}{str(runs['samples']) + '/' + str(runs['maps']):>6}"
                   + "".join(f"{c:>{width}}" for c in cells))
    if marked:
        echo(f"* in at least one run this stratum held fewer than {MIN_DISTINCT} distinct valid or invalid "
                   "bitmaps: printed, not ranked (see --json)")


def write_resampled_rows(doc: dict, width: int, echo: Callable[[str], None]) -> None:
    """Beside the intervals over seeds: the same figures with their intervals over samples, from each row's
    first-seed audit (its bootstrap)."""
    first = {}
    for run in doc["runs"]:
        first.setdefault((run.get("label"), run["strategy"]), run.get("bootstrap"))
    boots = [first.get((row["label"], row["strategy"])) for row in doc["rows"]]
    if not any(b and b["n_resamples"] for b in boots):
        return
    n_resamples = max(b["n_resamples"] for b in boots if b)
    shown = [h for h in COMPARED if not h.startswith("auroc")]  # the AUROCs' intervals: the controls
    echo("")
    echo(f"the same figures over samples: the seed-{doc['seeds'][0]} audit of each row with its 95% percentile "
         f"bootstrap interval\n({n_resamples} resamples of its samples; * rests on distinct bitmaps, which a "
         "resample thins; every figure: --json, runs[].bootstrap):")
    width = max(width, 21)
    echo(f"{'model':<12}{'strategy':<10}" + "".join(f"{HEADS[h]:>{width}}" for h in shown))
    for row, boot in zip(doc["rows"], boots):
        figures = boot["figures"] if boot else {}
        echo(f"{row['label']:<12}{row['strategy']:<10}" + "".join(
            f"{resampled_cell(figures.get(h), h in COUNTS) + ('*' if h in ON_DISTINCT else ''):>{width}}"
            for h in shown))


def write_comparison(doc: dict, echo: Callable[[str], None]) -> None:
    rows = doc["rows"]
    width = 17 if len(doc["seeds"]) > 1 else 15
    echo(f"{'model':<12}{'strategy':<10}" + "".join(f"{HEADS[h]:>{width}}" for h in COMPARED))
    for row in rows:
        f = row["figures"]
        echo(f"{row['label']:<12}{row['strategy']:<10}"
                   + "".join(f"{_cell(f[h], (1 if f[h]['interval'] else 0) if h == 'yield' else 3):>{width}}"
                             for h in COMPARED))
    write_resampled_rows(doc, width, echo)
    echo("")
    write_controlled_rows(doc, width, echo)
    runs = [run["membership"] for run in doc["runs"] if "pixels" in run["membership"]]
    if runs:
        ms = sorted({m["n_fake"] for m in runs})
        echo("")
        echo(f"rule-free membership in pixel space, k = {runs[0]['k']}, N = {runs[0]['n_real']} training "
                   f"items, M = {ms[0] if len(ms) == 1 else f'{ms[0]} to {ms[-1]}'} samples per run "
                   "(latent space: --json):")
        names = ("precision", "recall", "density", "coverage", "authenticity")
        width = 17 if len(doc["seeds"]) > 1 else 14
        echo(f"{'model':<12}{'strategy':<10}" + "".join(f"{n:>{width}}" for n in names))
        for row in rows:
            f = row["figures"]
            echo(f"{row['label']:<12}{row['strategy']:<10}" + "".join(
                f"{_cell(f[f'pixels_{n}']) if f'pixels_{n}' in f else 'n/a':>{width}}" for n in names))
    if doc["skipped"]:
        echo("")
        echo("skipped (nothing to sample there):")
        for s in doc["skipped"]:
            echo(f"  {s['label']} {s['strategy']}: {s['reason']}")
