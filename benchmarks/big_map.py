"""Time a 316x316 map (about the largest genval fits, 100,000 neurons) over the emoji codes, step by step.

Each step genval takes on a big map, beside MiniSom's own way where MiniSom has
one, measured in the same run (median of ``--repeats``): fitting the map
(30 batch passes; MiniSom's ``train_batch_offline`` from the same start), the
U-matrix (MiniSom's ``distance_map``), the neighbour table and the shortest
grid path of a walk; then the two commands of issue 22 end to end, through the
console script: ``genval interpolate --path som`` and ``genval som --plot``.
Target: the walk under 10 s on this busy 2-core machine. The load average is
printed before and after: timings on a loaded machine are slower in proportion.

Run by hand (not part of the tests):

    python benchmarks/big_map.py [--grid 316] [--repeats 3] [--no-cli]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from minisom import MiniSom

from genval import Autoencoder, load_dataset
from genval.latent import LatentSOM, load_som


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def library_rows(Z: np.ndarray, side: int, repeats: int) -> list[tuple[str, float, float | None]]:
    """(step, genval seconds, MiniSom seconds or None) for each step on a side x side map."""
    som = LatentSOM(grid=(side, side)).fit(Z)
    rows = []

    def minisom_batch():
        oracle = MiniSom(side, side, Z.shape[1], sigma=1.0, learning_rate=0.5)
        oracle.pca_weights_init(Z)
        oracle.train_batch_offline(Z, som.n_iterations_)

    rows.append((f"fit the map ({som.n_iterations_} batch passes)",
                 median_seconds(lambda: LatentSOM(grid=(side, side)).fit(Z), repeats),
                 median_seconds(minisom_batch, 1)))
    oracle = MiniSom(side, side, Z.shape[1])
    oracle.get_weights()[...] = som.weights_
    with np.errstate(invalid="ignore"):
        rows.append(("U-matrix", median_seconds(som.umatrix, repeats), median_seconds(oracle.distance_map, 1)))
    path = os.path.join(tempfile.mkdtemp(prefix="genval-big-map-"), "map.npz")
    som.save(path)  # a map read back has no neighbour table yet: each run below builds it
    rows.append(("read the map", median_seconds(lambda: load_som(path), repeats), None))
    rows.append(("read + neighbour table", median_seconds(lambda: load_som(path).neighbours(), repeats), None))
    start, stop = int(som.labels_[0]), int(som.labels_[-1])
    rows.append(("read + table + shortest grid path",
                 median_seconds(lambda: load_som(path).grid_path(start, stop), repeats), None))
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    return rows


def cli_rows(side: int, repeats: int) -> list[tuple[str, float]]:
    """Median wall-clock seconds of the two commands, run through the console script (a warm model cache)."""
    genval = shutil.which("genval", path=os.path.dirname(sys.executable)) or "genval"
    folder = tempfile.mkdtemp(prefix="genval-big-map-")
    env = {**os.environ, "GENVAL_CACHE": os.path.join(folder, "cache")}
    grid = f"{side}x{side}"
    commands = {
        f"genval interpolate ':)' ':(' --path som --grid {grid}":
            [genval, "interpolate", ":)", ":(", "--path", "som", "--grid", grid, "-q"],
        f"genval som --grid {grid} --plot map.png":
            [genval, "som", "--grid", grid, "--plot", os.path.join(folder, "map.png"), "-q"],
    }
    subprocess.run([genval, "som", "--grid", "3x3", "-q"], env=env, check=True, capture_output=True)  # trains
    rows = []
    for name, command in commands.items():
        rows.append((name, median_seconds(
            lambda: subprocess.run(command, env=env, check=True, capture_output=True), repeats)))
    shutil.rmtree(folder, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=316, help="map side (default 316: 99,856 neurons)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true", help="only the library steps")
    args = parser.parse_args()

    emojis = load_dataset("emojis")
    Z = Autoencoder(random_state=0).fit(emojis.X).transform(emojis.X)
    print(f"{args.grid}x{args.grid} map over the {len(Z)} emoji codes; median of {args.repeats} runs "
          f"(MiniSom: 1 run); load average {os.getloadavg()[0]:.1f} before")
    print(f"{'step':<34} {'genval s':>9} {'MiniSom s':>10} {'ratio':>7}")
    for step, ours, theirs in library_rows(Z, args.grid, args.repeats):
        other = f"{theirs:10.2f} {theirs / ours:6.0f}x" if theirs is not None else f"{'-':>10} {'':>7}"
        print(f"{step:<34} {ours:9.3f} {other}")
    if not args.no_cli:
        print(f"\n{'command (end to end)':<60} {'median s':>9}")
        for name, seconds in cli_rows(args.grid, args.repeats):
            print(f"{name:<60} {seconds:9.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
