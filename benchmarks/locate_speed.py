"""Time decoding and locating 100,000 latent points on the emoji set.

For each point: decode it, threshold at 0.5, find its winning neuron on a 3x3
map and its nearest training item by Hamming distance. genval's
``LatentSpace.locate`` is compared with a straightforward implementation
measured in the same run: MiniSom's own ``winner`` point by point and a
broadcast Hamming comparison. Target: under 0.5 s for genval.

Run by hand (not part of the tests):

    python benchmarks/locate_speed.py [--points 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np

from genval import Autoencoder, load_dataset
from genval.latent._som import LatentSOM
from genval.latent import LatentSpace, sample_latent


def timed(fn, repeats: int) -> tuple[float, float]:
    """Median seconds and peak traced memory (MiB) of ``fn()``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak


def baseline(space: LatentSpace, Z: np.ndarray):
    pixels = space.model.inverse_transform(Z)
    binary = pixels > 0.5
    som = space.som._minisom(space.som.weights_)  # MiniSom itself, one point at a time
    cols = space.som.grid_[1]
    neurons = np.array([r * cols + c for r, c in (som.winner(z) for z in Z)])
    dist = (binary[:, None, :] != space.bitmaps.binary()[None, :, :]).sum(axis=2)
    return neurons, dist.argmin(axis=1), dist.min(axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    emojis = load_dataset("emojis")
    model = Autoencoder(random_state=0).fit(emojis.X)
    space = LatentSpace.build(emojis, model, LatentSOM(grid=(3, 3), random_state=0))
    Z = sample_latent(space, args.points, "box", random_state=0)

    ours, ours_mem = timed(lambda: space.locate(Z), args.repeats)
    base, base_mem = timed(lambda: baseline(space, Z), 1)
    loc = space.locate(Z)
    neurons, nearest, hamming = baseline(space, Z)
    assert np.array_equal(loc.neuron, neurons) and np.array_equal(loc.hamming, hamming)

    print(f"decode + threshold + winning neuron + nearest item for {args.points:,} points (emojis, 3x3 map)")
    print(f"{'implementation':<44} {'seconds':>8} {'peak MiB':>9} {'vs baseline':>12}")
    print(f"{'baseline (MiniSom winner per point, broadcast)':<44} {base:8.3f} {base_mem:9.1f} {1.0:11.2f}x")
    print(f"{'genval LatentSpace.locate':<44} {ours:8.3f} {ours_mem:9.1f} {ours / base:11.3f}x")
    print("results identical:", True)


if __name__ == "__main__":
    main()
