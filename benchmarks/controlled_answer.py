"""The controlled answer: does the Kohonen map know what the checks know, beyond the codes' geometry?

For each set (emojis with their rules, the font and scikit-learn's digits with
their generic checks) and two models (the default 2-D autoencoder and the
same architecture with a 4-D code), trains 5 model seeds (cached in
GENVAL_CACHE, so a second run only audits) and fits 5 map seeds each (the
default grid), audits 10,000 uniform draws from the codes' box per pair
(the sampling seed is the map seed), and reports, over the 25 runs (identical
sample sets counted once):

* new-sample validity, the yield and the yield at 2 pixels from every item;
* the AUROC on new samples of the map-free baselines (hull depth, nearest
  code) and of the map's distance, on all new samples, inside the codes'
  hull (with its distinct invalid bitmaps) and matched by nearest-code
  distance;
* how many runs' bootstrap intervals (over distinct bitmaps) put the map's
  distance above, level with, or below the best baseline in each stratum
  (runs where the stratum has too few distinct bitmaps are not ranked).

Run by hand (not part of the tests); the first run trains 30 models:

    python benchmarks/controlled_answer.py [--seeds 5] [--n 10000] [--jobs 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from genval import Autoencoder, LatentSOM, LatentSpace, load_dataset
from genval.audit import audit, interval
from genval.models._cache import cached_model

MODELS = {"2-D": {}, "4-D": {"n_latent": 4}}
SETS = ("emojis", "font", "digits")


def model_for(bitmaps, extra: dict, seed: int) -> Autoencoder:
    settings = {"random_state": seed, **extra}
    return cached_model(bitmaps, "autoencoder", settings, lambda: Autoencoder(**settings))[0]


def one_run(space: LatentSpace, seed: int, n: int) -> dict:
    report = audit(space, "random", n=n, random_state=seed, min_novelty=2)
    doc = report.to_dict()
    strata = doc["controls"].get("strata", {})
    row = {"fingerprint": report.fingerprint(with_map=True),
           "new_validity": doc["new"]["ratios"]["validity"]["value"], "yield": doc["yield"]["value"],
           "yield_at_2": doc["novelty"]["yield_at_floor"]}
    for stratum in ("all", "inside_hull", "matched"):
        table = strata.get(stratum, {"scores": {}, "ranked": False})
        for name in ("hull_depth", "nearest_code", "som_distance"):
            row[f"{stratum}:{name}"] = table["scores"].get(name, {}).get("auroc")
        row[f"{stratum}:distinct_invalid"] = table.get("distinct_invalid")
        row[f"{stratum}:verdict"] = table["scores"].get("som_distance", {}).get("verdict", "not ranked") \
            if table.get("ranked") else "not ranked"
    return row


def one_model(name: str, label: str, model_seed: int, seeds: int, n: int) -> tuple[list[dict], float]:
    """Every map seed's audit of one model (trained and cached first), and the seconds the audits took."""
    bitmaps = load_dataset(name)
    model = model_for(bitmaps, MODELS[label], model_seed)
    tic = time.perf_counter()
    codes = model.transform(bitmaps.X)
    rows = [one_run(LatentSpace(bitmaps, model, LatentSOM(random_state=map_seed).fit(codes), codes), map_seed, n)
            for map_seed in range(seeds)]
    return rows, time.perf_counter() - tic


def summarise(rows: list[dict]) -> dict:
    seen, kept = set(), []
    for r in rows:
        if r["fingerprint"] not in seen:
            seen.add(r["fingerprint"])
            kept.append(r)
    out = {"runs": len(rows), "independent": len(kept)}
    for key in kept[0]:
        if key == "fingerprint":
            continue
        if key.endswith(":verdict"):
            out[key] = {v: sum(r[key] == v for r in kept) for v in ("beats", "no better than", "worse than",
                                                                     "not ranked")}
        else:
            out[key] = interval([r[key] for r in kept])
    return out


def cell(figure: dict, digits: int = 3) -> str:
    if figure["value"] is None:
        return "n/a"
    text = f"{figure['value']:.{digits}f}"
    if figure["interval"] is not None:
        text += f" ±{(figure['interval'][1] - figure['interval'][0]) / 2:.{digits}f}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="model seeds and map seeds (each)")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (joblib)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    from joblib import Parallel, delayed

    results = {}
    started = time.perf_counter()
    tasks = [(name, label, seed) for name in args.sets.split(",") for label in MODELS for seed in range(args.seeds)]
    done = Parallel(n_jobs=args.jobs)(delayed(one_model)(*task, args.seeds, args.n) for task in tasks)
    audit_seconds = sum(seconds for _, seconds in done)
    for (name, label, _), (rows, _) in zip(tasks, done):
        results.setdefault(f"{name} {label}", []).extend(rows)
    results = {key: summarise(rows) for key, rows in results.items()}
    print(f"\n{args.seeds} model seeds x {args.seeds} map seeds, {args.n:,} uniform draws each; audits "
          f"{audit_seconds:.0f} s in {args.jobs} workers, {time.perf_counter() - started:.0f} s in all (load "
          f"{os.getloadavg()[0]:.1f}); "
          "mean ±95% t half-width over the independent runs")
    heads = ("new_validity", "yield", "yield_at_2", "all:hull_depth", "all:nearest_code", "all:som_distance",
             "inside_hull:hull_depth", "inside_hull:som_distance", "inside_hull:distinct_invalid",
             "matched:hull_depth", "matched:som_distance")
    print("| set, model | runs | " + " | ".join(heads) + " | map dist vs best baseline (all; inside; matched) |")
    print("|" + "---|" * (len(heads) + 3))
    for key, s in results.items():
        counted = {"yield", "yield_at_2", "inside_hull:distinct_invalid"}
        verdicts = "; ".join(
            "/".join(str(s[f"{stratum}:verdict"][v]) for v in ("beats", "no better than", "worse than", "not ranked"))
            for stratum in ("all", "inside_hull", "matched"))
        print(f"| {key} | {s['independent']}/{s['runs']} | "
              + " | ".join(cell(s[h], 1 if h in counted else 3) for h in heads) + f" | {verdicts} |")
    print("(verdict counts: beats / no better than / worse than / not ranked)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
