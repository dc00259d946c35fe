"""Time the course's architecture table (8 networks x 3 seeds, 10,000 epochs each, on `font`) in parallel.

In one run: the shipped ``architectures`` sweep with one process (the
baseline), with two worker processes (``--jobs 2``) and on a 2-worker Dask
``LocalCluster`` (one thread and one process per worker; the cluster is
started before the clock and its start-up reported apart). Each is timed
``--repeats`` times, alternating, and the table gives medians and ratios to
the baseline. Targets on 2 cores: --jobs 2 at most 0.6x, the cluster at most
0.8x; the CSVs identical apart from the seconds column; a grid of 10^9 runs
refused in under a second.

Run by hand (not part of the tests):

    python benchmarks/sweep_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from genval.experiments import SweepConfigError, load_sweep, parse_sweep, run_sweep


def timeless(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from distributed import LocalCluster

    sweep = load_sweep("architectures")
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    cluster_start = time.perf_counter() - start
    ways = {"--jobs 1 (baseline)": {"n_jobs": 1}, "--jobs 2": {"n_jobs": 2},
            "2-worker LocalCluster": {"scheduler": cluster.scheduler_address}}
    times: dict[str, list[float]] = {name: [] for name in ways}
    results: dict[str, list[dict]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for repeat in range(args.repeats):
                for name, how in ways.items():
                    out = Path(tmp) / f"{repeat}-{len(times[name])}-{name[:8].strip('- ')}.csv"
                    start = time.perf_counter()
                    rows = run_sweep(sweep, out, **how)
                    times[name].append(time.perf_counter() - start)
                    results.setdefault(name, rows)
                    assert timeless(rows) == timeless(results[name])  # every repeat the same
    finally:
        cluster.close()

    values = "[" + ", ".join(map(str, range(1, 1001))) + "]"
    huge = f"[grid]\nepochs = {values}\nn_latent = {values}\nrandom_state = {values}\n"
    start = time.perf_counter()
    try:
        parse_sweep(huge, "huge.toml")
        refused = "not refused"
    except SweepConfigError as exc:
        refused = str(exc)
    refusal = time.perf_counter() - start

    base = statistics.median(times["--jobs 1 (baseline)"])
    targets = {"--jobs 1 (baseline)": "", "--jobs 2": "<= 0.60x", "2-worker LocalCluster": "<= 0.80x"}
    print(f"architecture table on font: {len(sweep.runs)} runs of 10,000 epochs; {os.cpu_count()} cores; "
          f"medians of {args.repeats}")
    print(f"{'how':<24} {'median s':>9} {'runs':>9} {'vs --jobs 1':>12} {'target':>9}  same CSV")
    for name, found in times.items():
        same = timeless(results[name]) == timeless(results["--jobs 1 (baseline)"])
        print(f"{name:<24} {statistics.median(found):9.2f} {'/'.join(f'{t:.1f}' for t in found):>9} "
              f"{statistics.median(found) / base:11.2f}x {targets[name]:>9}  {'yes' if same else 'NO'}")
    print(f"LocalCluster start-up (not in its time): {cluster_start:.2f} s")
    ok = sum(r["status"] == "ok" for r in results["--jobs 1 (baseline)"])
    print(f"runs ok: {ok}/{len(sweep.runs)}")
    print(f"a 10^9-run grid refused in {refusal * 1000:.0f} ms (target < 1000 ms): {refused}")


if __name__ == "__main__":
    main()
