"""Time an audit of 1,000,000 random latent points on the emoji set, with peak memory.

Decode, threshold, every check, all metrics, in chunks. genval's ``audit``
(each distinct bitmap checked once, one component labelling per batch) is
compared with a baseline measured in the same run: the same decoding, with
the hand-written ``check_emoji`` called on every sample (timed on a slice and
reported per point, since a million calls take minutes). Targets: under 5 s
and under 1 GiB peak for the million points.

Run by hand (not part of the tests):

    python benchmarks/audit_speed.py [--points 1000000] [--baseline-points 20000]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from genval import Autoencoder, LatentSOM, LatentSpace, load_dataset
from genval.audit import audit, audit_points
from genval.checks._validity import check_emoji


def baseline(space: LatentSpace, Z: np.ndarray) -> int:
    binary = space.model.inverse_transform(Z) > 0.5
    space.som.winners(Z)
    return sum(check_emoji(b).valid for b in binary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--baseline-points", type=int, default=20_000)
    args = parser.parse_args()

    emojis = load_dataset("emojis")
    model = Autoencoder(random_state=0).fit(emojis.X)
    space = LatentSpace.build(emojis, model, LatentSOM(grid=(3, 3), random_state=0))
    audit(space, "random", 1000)  # warm up imports

    tracemalloc.start()
    report = audit(space, "random", args.points, random_state=0)
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    start = time.perf_counter()
    report.to_dict()
    metrics = time.perf_counter() - start
    # tracemalloc slows NumPy's allocations a little; time once more without it.
    start = time.perf_counter()
    audit(space, "random", args.points, random_state=0).to_dict()
    plain = time.perf_counter() - start
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    Zb = audit_points(space, "random", args.baseline_points, random_state=0)
    start = time.perf_counter()
    valid_b = baseline(space, Zb)
    base = time.perf_counter() - start
    small = audit(space, "random", args.baseline_points, random_state=0)
    assert valid_b == small.counts()["valid"]

    per_point_ours = plain / args.points * 1e6
    per_point_base = base / args.baseline_points * 1e6
    print(f"audit of {args.points:,} random latent points, emojis, 3x3 map "
          f"({len(report.bitmaps)} distinct bitmaps)")
    print(f"{'implementation':<46} {'points':>10} {'seconds':>8} {'us/point':>9} {'vs baseline':>12}")
    print(f"{'baseline: check_emoji on every sample':<46} {args.baseline_points:>10,} {base:8.3f} "
          f"{per_point_base:9.2f} {1.0:11.2f}x")
    print(f"{'genval audit (incl. metrics)':<46} {args.points:>10,} {plain:8.3f} {per_point_ours:9.2f} "
          f"{per_point_ours / per_point_base:11.4f}x")
    print(f"peak traced allocations {traced_peak:.0f} MiB; peak resident set {rss_peak:.0f} MiB; "
          f"metrics from the report {metrics * 1000:.1f} ms; validity {report.ratios()['validity']['value']:.4f}")


if __name__ == "__main__":
    main()
