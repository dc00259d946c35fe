"""Time k-NN precision, recall, density and coverage: genval against the ``prdc`` package.

10,000 generated against 10,000 real 784-pixel vectors (seeded uniform [0, 1)
values, like MNIST pixels), k = 5. Each implementation runs in its own child
process, one timing per process, the two alternating, so both see the same
load and each peak resident set (``ru_maxrss`` of the child: the data, the
interpreter and the work) is its own. Reports medians over the repeats, the
ratio genval / prdc, and whether the four values agree. Targets: at most half
of prdc's time, under 1 GiB peak.

``prdc`` is not a genval dependency (``pip install prdc`` to compare); without
it only genval's columns are filled. It compares with a strict ``<`` where
genval uses ``<=``; on these tie-free floats the counts must agree exactly.

Run by hand (not part of the tests):

    python benchmarks/membership_speed.py [--n 10000] [--p 784] [--repeats 3] [--dtype float64]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

FIGURES = ("precision", "recall", "density", "coverage")


def data(n: int, p: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((n, p)).astype(dtype), rng.random((n, p)).astype(dtype)


def child(which: str, n: int, p: int, k: int, dtype: str) -> None:
    """Time one run of ``which`` and print a JSON line: seconds, values, peak resident set."""
    real, fake = data(n, p, dtype)
    start = time.perf_counter()
    if which == "genval":
        from genval.checks._membership import membership_metrics
        m = membership_metrics(real, fake, k=k)
        values = {name: getattr(m, name) for name in FIGURES}
    else:
        from prdc import compute_prdc
        with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the set sizes
            values = {name: float(v) for name, v in compute_prdc(real, fake, nearest_k=k).items()}
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "values": values, "peak_mib": peak}))


def run(which: str, args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", which, "--n", str(args.n), "--p", str(args.p),
                          "--k", str(args.k), "--dtype", args.dtype], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="real rows, and as many generated ones")
    parser.add_argument("--p", type=int, default=784)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    parser.add_argument("--child", choices=("genval", "prdc"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.n, args.p, args.k, args.dtype)
        return
    try:
        import prdc  # noqa: F401
        names = ("genval", "prdc")
    except ImportError:
        names = ("genval",)
    runs = {name: [] for name in names}
    for _ in range(args.repeats):  # alternate, so that both meet the same load on a shared machine
        for name in names:
            runs[name].append(run(name, args))

    print(f"precision, recall, density, coverage: {args.n:,} generated vs {args.n:,} real {args.p}-dim "
          f"{args.dtype} vectors, k={args.k}; medians of {args.repeats} runs, one per child process")
    print(f"{'implementation':<16} {'seconds':>8} {'runs (s)':>26} {'vs prdc':>8} {'peak RSS':>10}")
    base = statistics.median(r["seconds"] for r in runs["prdc"]) if "prdc" in runs else None
    for name in names:
        times = [r["seconds"] for r in runs[name]]
        med = statistics.median(times)
        ratio = f"{med / base:7.2f}x" if base else "       -"
        peak = max(r["peak_mib"] for r in runs[name])
        print(f"{name:<16} {med:8.2f} {' '.join(f'{t:.2f}' for t in times):>26} {ratio:>8} {peak:7.0f} MiB")
    ours = runs["genval"][0]["values"]
    print("genval: " + ", ".join(f"{k} {v:.5f}" for k, v in ours.items()))
    if "prdc" in runs:
        theirs = runs["prdc"][0]["values"]
        print("prdc:   " + ", ".join(f"{k} {v:.5f}" for k, v in theirs.items()))
        # Equal counts; only the order of the final sums and divisions differs (density: 1e-16).
        gap = max(abs(ours[f] - theirs[f]) for f in FIGURES)
        print(f"values agree: {gap < 1e-12} (largest difference {gap:.1e}; one sample or ball "
              f"counts {1 / (args.k * args.n):.0e} of density, {1 / args.n:.0e} of the others)")
    print("peak RSS: ru_maxrss of each child process, so it includes the interpreter, numpy and both data sets")


if __name__ == "__main__":
    main()
