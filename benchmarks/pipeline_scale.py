"""Time the pipeline after training on a 60,000-item 28x28 set, old way against new, with peak memory.

The set is a stand-in for MNIST built here (nothing is downloaded):
scikit-learn's 1,797 digits, upsampled from 8x8 to 28x28 (``scipy.ndimage.zoom``),
tiled to 60,000 items, each shifted by up to a pixel and given a little grey
noise, as float32 grey levels. A small autoencoder (784-256-2 ReLU, two
epochs) gives the codes; the network is not what is measured.

Each step runs the new code and, where it can still run, the way genval did it
before (transcribed below), in the same run, on the same inputs, and checks
that both give identical results:

* map fit on a 30x30 grid (old: MiniSom's online training, 500 steps per
  neuron, timed on a slice of the steps and extrapolated);
* winners of 1,000,000 points on that map, by the k-d tree 2-D codes take and
  by the matrix-product form wider codes take (old: subtract-then-square,
  65,536 points at a time);
* ``LatentSpace.locate`` and the nearest-item Hamming search for 20,000 points
  (old: one float32 distance matrix per 65,536 points, which needs 4.8 GB at
  this size, so it is timed on 1,000 points and scaled);
* fitting the generic checks on the 60,000 items (old: ``ndimage.minimum`` and
  ``maximum`` per label);
* then what the commands ``som``, ``interpolate``, ``sample``, ``grid`` and
  ``audit`` call, end to end, new code only.

Times are medians of ``--repeats`` runs (1 for steps over 10 s); peak memory is
tracemalloc's peak over one more run of the step (what NumPy allocates above
the inputs), and the process's peak resident set at the end.

Run by hand (not part of the tests):

    python benchmarks/pipeline_scale.py [--items 60000] [--points 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc

import numpy as np
from scipy import ndimage

from genval import Autoencoder, BitmapSet, LatentSOM, LatentSpace
from genval.latent import _winners as winners_module
from genval.latent import _som_params as som_params
from genval._utils.budget import memory_budget, nearest_bitmaps
from genval.audit._audit import audit
from genval.checks._validity import CheckSet
from genval.latent import latent_grid, sample_latent, walk


def stand_in(n_items: int, seed: int = 0) -> BitmapSet:
    """The digits at 28x28, tiled to ``n_items`` with a random shift and grey noise each."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = digits.images / 16.0
    big = np.clip(np.stack([ndimage.zoom(img, 3.5, order=1) for img in small]), 0, 1)
    rng = np.random.default_rng(seed)
    X = np.empty((n_items, 28 * 28), dtype=np.float32)
    for s in range(0, n_items, 10_000):
        idx = np.arange(s, min(s + 10_000, n_items)) % len(big)
        block = big[idx]
        shifts = rng.integers(-1, 2, size=(len(idx), 2))
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                at = (shifts[:, 0] == dr) & (shifts[:, 1] == dc)
                block[at] = np.roll(block[at], (dr, dc), axis=(1, 2))
        block = block + rng.normal(0, 0.05, size=block.shape)
        X[s:s + len(idx)] = np.clip(block, 0, 1).reshape(len(idx), -1)
    names = [f"{i}" for i in range(n_items)]
    labels = [str(digits.target[i % len(big)]) for i in range(n_items)]
    return BitmapSet(names, X, (28, 28), title="digits-28x28-stand-in", labels=labels)


def measure(fn, repeats: int):
    """(median seconds, tracemalloc peak MiB, result) of ``fn()``."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak, result


# ---------------------------------------------------------------------------- the old ways, transcribed

def old_winners(Z: np.ndarray, W: np.ndarray, chunk: int = 65536) -> np.ndarray:
    out = np.empty(len(Z), dtype=np.int64)
    for s in range(0, len(Z), chunk):
        diff = Z[s:s + chunk, None, :] - W[None, :, :]
        out[s:s + chunk] = np.einsum("nkd,nkd->nk", diff, diff).argmin(axis=1)
    return out


def old_nearest(binary: np.ndarray, training: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    train = training.astype(np.float32)
    ink = binary.astype(np.float32)
    dist = ink.sum(axis=1, keepdims=True) + train.sum(axis=1)[None, :] - 2.0 * (ink @ train.T)
    nearest = dist.argmin(axis=1)
    return nearest, np.rint(dist[np.arange(len(dist)), nearest]).astype(np.int64)


def old_components(B: np.ndarray) -> np.ndarray:
    """Components per bitmap as genval counted them before: per-label minima and maxima."""
    n, rh, cw = B.shape
    canvas = np.zeros((n, rh + 1, cw), dtype=bool)
    canvas[:, :rh] = B
    labels, count = ndimage.label(canvas.reshape(n * (rh + 1), cw), np.ones((3, 3), dtype=bool))
    index = np.arange(1, count + 1)
    rows_img = np.broadcast_to(np.arange(n * (rh + 1))[:, None], labels.shape)
    cols_img = np.broadcast_to(np.arange(cw)[None, :], labels.shape)
    owner = (np.asarray(ndimage.minimum(rows_img, labels, index)) // (rh + 1)).astype(np.int64)
    ndimage.minimum(cols_img, labels, index)
    ndimage.maximum(cols_img, labels, index)
    return np.bincount(owner, minlength=n)


def old_generic_fit(training: BitmapSet) -> tuple[tuple[int, int], tuple[int, int]]:
    T = training.binary().reshape(len(training), *training.shape)
    ink = T.reshape(len(T), -1).sum(axis=1)
    comps = old_components(T)
    return (int(ink.min()), int(ink.max())), (int(comps.min()), int(comps.max()))


# ---------------------------------------------------------------------------- the run

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=60_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--locate-points", type=int, default=20_000)
    parser.add_argument("--old-locate-points", type=int, default=1_000)
    parser.add_argument("--old-som-steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, str, float, float | None, float, str]] = []

    def row(step, work, new, new_mib, old=None, note=""):
        rows.append((step, work, new, old, new_mib, note))

    start = time.perf_counter()
    data = stand_in(args.items)
    built = time.perf_counter() - start
    start = time.perf_counter()
    model = Autoencoder(hidden=(256,), n_latent=2, activation="relu", epochs=2, batch_size=256,
                        random_state=0).fit(data.X)
    trained = time.perf_counter() - start
    codes = model.transform(data.X)
    print(f"stand-in {data.X.shape} float32 built in {built:.1f} s; model trained in {trained:.1f} s; "
          f"memory budget {memory_budget() / 2**20:.0f} MiB")
    som = bench_map(codes, args, row)
    bench_winners(codes, som, args, row)
    bench_locate(data, model, som, codes, args, row)
    bench_commands(data, model, codes, args, row)
    print_table(rows)


def bench_map(codes, args, row) -> LatentSOM:
    """A 30x30 map fitted in batch, against the online training every map had before."""
    fit = lambda: LatentSOM(grid=(30, 30), random_state=0).fit(codes)  # noqa: E731
    t_new, m_new, som = measure(fit, 1)
    steps = args.old_som_steps
    old = LatentSOM(grid=(30, 30), iterations=steps, random_state=0)
    som_params.ONLINE_MAX_NEURONS = 900  # the online training every map had before
    t0 = time.perf_counter()
    old.fit(codes)
    t_old = (time.perf_counter() - t0) * (500 * 900 / steps)
    som_params.ONLINE_MAX_NEURONS = 256
    row("map fit 30x30 (batch vs online)", f"{len(codes):,} codes", t_new, m_new, t_old,
        f"old extrapolated from {steps:,} of 450,000 steps; qe {som.quantization_error(codes):.4f} "
        f"(online slice {old.quantization_error(codes):.4f})")
    return som


def bench_winners(codes, som, args, row) -> None:
    """The winners of a million points, by k-d tree and by the matrix-product form, against the direct way."""
    Z = np.random.default_rng(1).uniform(codes.min(axis=0), codes.max(axis=0), size=(args.points, 2))
    W = som.weights_.reshape(-1, 2)
    t_new, m_new, new = measure(lambda: som.winners(Z), args.repeats)
    t_old, m_old, ref = measure(lambda: old_winners(Z, W), 1)
    assert np.array_equal(new, ref), "winners differ"
    winners_module.KD_TREE_MAX_DIMENSIONS = 0  # the matrix-product form, which wider codes take
    t_mm, m_mm, product = measure(lambda: som.winners(Z), args.repeats)
    winners_module.KD_TREE_MAX_DIMENSIONS = 4
    assert np.array_equal(product, ref), "winners differ"
    row("winners 30x30 (k-d tree)", f"{args.points:,} points", t_new, m_new, t_old,
        f"identical; old peak {m_old:.0f} MiB")
    row("winners 30x30 (matmul form)", f"{args.points:,} points", t_mm, m_mm, t_old, "identical")


def bench_locate(data, model, som, codes, args, row) -> None:
    """Locating points and their nearest items, and fitting the generic checks, against the old ways."""
    space = LatentSpace(data, model, som, codes)
    Zl = sample_latent(space, args.locate_points, "box", random_state=2)
    t_new, m_new, located = measure(lambda: space.locate(Zl), 1)
    training = data.binary()
    k = args.old_locate_points
    t_old_k, m_old, (near, ham) = measure(lambda: old_nearest(located.binary[:k], training), 1)
    assert np.array_equal(near, located.nearest[:k]) and np.array_equal(ham, located.hamming[:k])
    scale = args.locate_points / k
    row("locate", f"{args.locate_points:,} points", t_new, m_new, None,
        f"old: MemoryError at this size ({args.locate_points * len(data) * 4 * 2 / 2**30:.1f} GB of distances)")
    t_new, m_new, _ = measure(lambda: nearest_bitmaps(located.binary, training), 1)
    n_distinct = len(np.unique(np.packbits(located.binary, axis=1), axis=0))
    row("nearest item (Hamming)", f"{args.locate_points:,} vs {len(data):,}", t_new, m_new, t_old_k * scale,
        f"identical on {k:,}; old scaled from them (peak {m_old * scale:.0f} MiB); {n_distinct:,} distinct queries")
    t_new, m_new, checks = measure(lambda: CheckSet.generic(data), args.repeats)
    t_old, m_old, (ink, comps) = measure(lambda: old_generic_fit(data), 1)
    assert (checks.generic_checks.ink, checks.generic_checks.components) == (ink, comps)
    row("generic checks fit", f"{len(data):,} items", t_new, m_new, t_old, f"identical ranges; old peak {m_old:.0f} MiB")


def bench_commands(data, model, codes, args, row) -> None:
    """The commands' library calls over the set's default map (batch, by its size)."""
    t_new, m_new, default = measure(lambda: LatentSOM(random_state=0).fit(codes), 1)
    row(f"som: default map {default.grid_[0]}x{default.grid_[1]} fit", f"{len(codes):,} codes", t_new, m_new,
        note=default.algorithm_)
    space = LatentSpace(data, model, default, codes)
    t_new, m_new, _ = measure(lambda: (default.neuron_table(codes, data.names), default.quantization_error(codes),
                                       default.topographic_error(codes)), 1)
    row("som: neuron table + errors", f"{len(codes):,} codes", t_new, m_new)
    t_new, m_new, _ = measure(lambda: walk(space, data.names[0], data.names[1], steps=10), args.repeats)
    row("interpolate (10 steps)", "2 items", t_new, m_new)
    t_new, m_new, _ = measure(lambda: space.locate(sample_latent(space, 10, "box", random_state=0)), args.repeats)
    row("sample (10 points)", "10 points", t_new, m_new)
    t_new, m_new, _ = measure(lambda: latent_grid(space, 20), args.repeats)
    row("grid (20x20)", "400 points", t_new, m_new)
    checks_default = CheckSet.generic(data)
    t_new, m_new, report = measure(lambda: audit(space, "random", 10_000, checks_default, random_state=0), 1)
    row("audit random", "10,000 points", t_new, m_new, note=f"{len(report.bitmaps):,} distinct bitmaps")


def print_table(rows) -> None:
    """The measurements, one row a step, and the run's peak resident memory."""
    print(f"{'step':<36} {'work':<20} {'new s':>8} {'old s':>9} {'old/new':>8} {'new peak MiB':>13}  note")
    for step, work, new, old, mib, note in rows:
        old_text = f"{old:9.2f}" if old is not None else f"{'-':>9}"
        ratio = f"{old / new:7.1f}x" if old is not None else f"{'-':>8}"
        print(f"{step:<36} {work:<20} {new:8.2f} {old_text} {ratio} {mib:13.0f}  {note}")
    print(f"peak resident set of the whole run {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

if __name__ == "__main__":
    main()
