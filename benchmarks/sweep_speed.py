"""Time the course's architecture table: 8 networks x 3 seeds, 10,000 epochs each, on `font`.

Runs the shipped ``architectures`` sweep (into a temporary CSV) and, as the
baseline measured in the same run, the straightforward per-array NumPy loop
of ``train_speed.py`` on the same 8 networks (one seed each, to keep the
wait short; compared per run). Target: the 24 runs in under 60 s.

Run by hand (not part of the tests):

    python benchmarks/sweep_speed.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from train_speed import numpy_baseline

from genval import load_dataset
from genval.sweep import load_sweep, run_sweep


def main() -> None:
    sweep = load_sweep("architectures")
    X = load_dataset("font").X
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        rows = run_sweep(sweep, Path(tmp) / "runs.csv")
        ours = time.perf_counter() - start
    architectures = [r["hidden"] for r in sweep.runs if r["seed"] == 0]
    base_times = []
    for hidden in architectures:
        sizes = [35, *hidden, 2, *hidden[::-1], 35]
        start = time.perf_counter()
        numpy_baseline(X, sizes, 10_000)
        base_times.append(time.perf_counter() - start)
    per_run_ours = ours / len(rows)
    per_run_base = statistics.fmean(base_times)
    perfect = sum(int(r["perfect"]) == 32 for r in rows)
    print("architecture table on font: 8 networks x 3 seeds, 10,000 full-batch epochs each")
    print(f"{'implementation':<36} {'runs':>5} {'seconds':>8} {'s/run':>7} {'vs baseline':>12}")
    print(f"{'baseline: per-array NumPy loop':<36} {len(base_times):>5} {sum(base_times):8.2f} "
          f"{per_run_base:7.3f} {1.0:11.2f}x")
    print(f"{'genval sweep architectures':<36} {len(rows):>5} {ours:8.2f} {per_run_ours:7.3f} "
          f"{per_run_ours / per_run_base:11.3f}x")
    print(f"runs reconstructing all 32 glyphs: {perfect}/{len(rows)}")


if __name__ == "__main__":
    main()
