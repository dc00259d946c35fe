"""Training and decoding at MNIST's scale: genval against PyTorch on the same cores.

The data is a stand-in for MNIST that nothing has to download: scikit-learn's
1,797 digits upsampled to 28x28 and repeated with fresh pixel jitter to 60,000
grey images (float32 in [0, 1]). Measured, each in the same run:

* one epoch of 784-512-256-2-256-512-784 (ReLU, sigmoid output,
  cross-entropy, Adam 0.001, batches of 256) and of the course's 784-512-784
  (ReLU code, SGD 0.1, batches of 1,000), genval and PyTorch with the same
  thread count (2, then 1); median of ``--repeats``;
* the matrix products of those epochs alone (every product of the forward and
  backward passes, at the same shapes and threads, without the rest), in
  genval's feature-major form and in PyTorch's sample-major one: the floor under
  either epoch, set by BLAS (OpenBLAS for NumPy, MKL for PyTorch);
* early stopping's cost: an epoch with ``stop_wrong_pixels`` set (never met)
  against one without;
* peak memory of ``fit`` above the data (in a fresh process each), for the
  deep network and for a denoiser with 4 noise levels and 8 noisy copies;
* decoding 1,000,000 latent points through the deep decoder as before (float64,
  in one piece), in float64 in chunks, and in float32 in chunks (today's).

Run by hand (minutes; not part of the tests)::

    python benchmarks/scale_speed.py [--repeats 3] [--skip-decode]

PyTorch is installed by hand for it: ``pip install torch==2.13.0``; without
it the PyTorch columns say "skipped".

Tried and measured on 2 cores, and not kept: running the large elementwise
work (the Adam update, the loss, the batch gather) as two halves on a second
Python thread. NumPy's ufuncs release the GIL and the halves ran in 0.55 of the
time on an idle core, but after every product OpenBLAS's idle worker thread
spin-waits on the other core for new work, so the second half queued behind it:
Adam's update of the deep network's 1.07M parameters took 1.86 ms in one piece
and 2.02 ms in halves right after a product, and the epoch got slower. PyTorch
escapes this because its elementwise kernels run on the same OpenMP threads as
its products.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

DEEP = dict(hidden=(512, 256), n_latent=2, activation="relu", optimizer="adam", learning_rate=0.001,
            batch_size=256)
WIDE = dict(hidden=(), n_latent=512, code_activation="relu", activation="relu", optimizer="gd",
            learning_rate=0.1, batch_size=1000)
DENOISER = dict(hidden=(), n_latent=64, activation="relu", noise="image_gaussian",
                noise_levels=(0.0, 0.1, 0.2, 0.3), noise_copies=8, batch_size=1000)


def stand_in(n: int = 60_000, seed: int = 0) -> np.ndarray:
    """Digits upsampled to 28x28, repeated with pixel jitter: (n, 784) float32 in [0, 1]."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    digits = load_digits().images / 16.0
    big = np.clip(zoom(digits, (1, 3.5, 3.5), order=1), 0, 1).reshape(len(digits), 784)
    rng = np.random.default_rng(seed)
    X = np.empty((n, 784), np.float32)
    for start in range(0, n, len(big)):
        part = big[: min(len(big), n - start)]
        X[start:start + len(part)] = np.clip(part + rng.normal(0, 0.05, part.shape), 0, 1)
    return X


def genval_epoch(X, settings: dict, threads: int, **extra) -> float:
    from genval import Autoencoder

    os.environ["GENVAL_BLAS_THREADS"] = str(threads)
    model = Autoencoder(epochs=1, **settings, **extra)
    start = time.perf_counter()
    model.fit(X)
    return time.perf_counter() - start


def torch_epoch(X, settings: dict, threads: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    sizes = [784, *settings["hidden"], settings["n_latent"], *settings["hidden"][::-1], 784]
    code = len(settings["hidden"])  # the layer producing the code
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i == len(sizes) - 2:
            break  # the loss applies the sigmoid to the logits
        if i != code or settings.get("code_activation") == "relu":
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    lr = settings["learning_rate"]
    opt = torch.optim.Adam(net.parameters(), lr=lr) if settings["optimizer"] == "adam" \
        else torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    data = torch.from_numpy(X)
    batch = settings["batch_size"]
    start = time.perf_counter()
    order = torch.randperm(len(data))
    for s in range(0, len(data), batch):
        xb = data[order[s:s + batch]]
        opt.zero_grad()
        loss_fn(net(xb), xb).backward()
        opt.step()
    return time.perf_counter() - start


def products_epoch(settings: dict, threads: int) -> tuple[float, float | None]:
    """Seconds of one epoch's matrix products alone: genval's (NumPy, feature-major) and PyTorch's.

    Every product one training step makes (each layer's forward product, and
    backward its weight gradient and, past the first layer, its input
    gradient), on data of the epoch's shapes, timed over one step (the fastest
    of 20) and multiplied by the epoch's steps.
    """
    from threadpoolctl import threadpool_limits

    sizes = [784, *settings["hidden"], settings["n_latent"], *settings["hidden"][::-1], 784]
    m = settings["batch_size"]
    steps = -(-60_000 // m)
    rng = np.random.default_rng(0)
    shapes = list(zip(sizes[:-1], sizes[1:]))
    W = [rng.uniform(-0.05, 0.05, (a + 1, b)).astype(np.float32) for a, b in shapes]
    A = [rng.random((a + 1, m), dtype=np.float32) for a, _ in shapes]
    Z = [np.empty((b, m), np.float32) for _, b in shapes]
    D = [rng.normal(0, 1e-3, (b, m)).astype(np.float32) for _, b in shapes]
    G = [np.empty_like(w) for w in W]
    dA = [np.empty((a, m), np.float32) for a, _ in shapes]

    def ours():  # the products of genval.nn.Network.gradient
        for i in range(len(W)):
            np.dot(W[i].T, A[i], out=Z[i])
        for i in range(len(W) - 1, -1, -1):
            np.dot(A[i], D[i].T, out=G[i])
            if i:
                np.dot(W[i][:-1], D[i], out=dA[i])

    def fastest(fn):
        fn()
        times = []
        for _ in range(20):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times) * steps

    with threadpool_limits(limits=threads, user_api="blas"):
        genval_s = fastest(ours)
    try:
        import torch
    except ImportError:
        return genval_s, None
    torch.set_num_threads(threads)
    weights = [torch.from_numpy(np.ascontiguousarray(w[:-1].T)) for w in W]
    biases = [torch.from_numpy(w[-1].copy()) for w in W]
    inputs = [torch.from_numpy(np.ascontiguousarray(a[:-1].T)) for a in A]
    grads = [torch.from_numpy(np.ascontiguousarray(d.T)) for d in D]

    def theirs():  # what autograd runs for nn.Linear: addmm forward, two mm backward
        with torch.no_grad():
            for i in range(len(weights)):
                torch.addmm(biases[i], inputs[i], weights[i].t())
            for i in range(len(weights) - 1, -1, -1):
                grads[i].t().mm(inputs[i])
                grads[i].sum(0)
                if i:
                    grads[i].mm(weights[i])

    return genval_s, fastest(theirs)


def median(fn, repeats: int):
    times = [fn() for _ in range(repeats)]
    return None if times[0] is None else statistics.median(times)


MEMORY_PROBE = """
import json, resource, sys
import numpy as np
sys.path.insert(0, {here!r})
from scale_speed import stand_in
from genval import Autoencoder
X = stand_in()
def rss():
    with open("/proc/self/status") as fh:
        return {{k: int(v.split()[0]) * 1024 for k, v in (l.split(":", 1) for l in fh) if k in ("VmRSS", "VmHWM")}}
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak to the current size
before = rss()["VmRSS"]
Autoencoder(epochs=1, **json.loads(sys.argv[1])).fit(X)
print(json.dumps({{"data": X.nbytes, "peak_above": rss()["VmHWM"] - before}}))
"""


def fit_memory(settings: dict) -> dict:
    code = MEMORY_PROBE.format(here=os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, GENVAL_BLAS_THREADS="2")
    out = subprocess.run([sys.executable, "-c", code, json.dumps(settings)], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def decode_times(X) -> tuple[float, float, float, int]:
    """Decode 1,000,000 points: as before (float64, in one piece), float64 in chunks, float32 in chunks."""
    from genval import Autoencoder

    os.environ["GENVAL_BLAS_THREADS"] = "2"
    model = Autoencoder(epochs=1, **DEEP).fit(X[:5000])
    Z = np.random.default_rng(1).normal(size=(1_000_000, 2))
    start = time.perf_counter()
    fast = model.inverse_transform(Z) > 0.5
    t32 = time.perf_counter() - start
    model.set_params(dtype="float64")  # inference follows the dtype; the parameters stay the same
    start = time.perf_counter()
    slow = model.inverse_transform(Z) > 0.5
    t64 = time.perf_counter() - start
    start = time.perf_counter()
    decode_as_before(model, Z)
    before = time.perf_counter() - start
    return before, t64, t32, int(np.count_nonzero(fast != slow))


def decode_as_before(model, Z) -> np.ndarray:
    """genval's decoder before inference ran in chunks and in the training dtype: float64, one piece."""
    net = model._net
    views = net.views(model.params_.astype(np.float64))
    H = np.asarray(Z, dtype=np.float64)
    for i in range(net.code_index + 1, len(views)):
        Zi = H @ views[i][:-1]
        Zi += views[i][-1]
        H = Zi if i == len(views) - 1 else net.activations[i].forward(Zi, np.empty_like(Zi))
    return net.output.forward(H, np.empty_like(H))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-decode", action="store_true")
    args = parser.parse_args()
    X = stand_in()
    print(f"stand-in: {X.shape[0]:,} x {X.shape[1]} float32 ({X.nbytes / 2**20:.0f} MiB), "
          f"median of {args.repeats}")
    print(f"{'one epoch':<34} {'threads':>7} {'genval s':>9} {'PyTorch s':>10} {'ratio':>7}"
          f"  {'products alone: genval s':>24} {'PyTorch s':>10} {'products/PyTorch epoch':>21}")
    for name, settings in (("784-512-256-2-256-512-784 Adam", DEEP), ("784-512-784 SGD (ReLU code)", WIDE)):
        for threads in (2, 1):
            ours = median(lambda: genval_epoch(X, settings, threads), args.repeats)
            theirs = median(lambda: torch_epoch(X, settings, threads), args.repeats)
            products, their_products = products_epoch(settings, threads)
            ratio = "" if theirs is None else f"{ours / theirs:6.2f}x"
            shown = "skipped" if theirs is None else f"{theirs:10.2f}"
            shown_products = "skipped" if their_products is None else f"{their_products:10.2f}"
            floor = "" if theirs is None else f"{products / theirs:20.2f}x"
            print(f"{name:<34} {threads:>7} {ours:9.2f} {shown:>10} {ratio:>7}"
                  f"  {products:24.2f} {shown_products:>10} {floor:>21}")

    plain = median(lambda: genval_epoch(X, DEEP, 2), args.repeats)
    stopping = median(lambda: genval_epoch(X, DEEP, 2, stop_wrong_pixels=0), args.repeats)
    print(f"early stopping: epoch {plain:.2f} s without, {stopping:.2f} s with "
          f"({100 * (stopping / plain - 1):+.1f}%)")

    for name, settings in (("deep network", DEEP), ("denoiser, 4 levels x 8 copies", DENOISER)):
        mem = fit_memory(settings)
        limit = 1.5 * mem["data"] + 300 * 2**20
        print(f"fit memory, {name}: peak {mem['peak_above'] / 2**20:.0f} MiB above the process before fit; "
              f"limit 1.5 x data + 300 MiB = {limit / 2**20:.0f} MiB "
              f"({mem['peak_above'] / limit:.2f} of it)")

    if not args.skip_decode:
        before, t64, t32, differ = decode_times(X)
        print(f"decode 1,000,000 points (deep decoder): before (float64, one piece) {before:.2f} s; "
              f"float64 in chunks {t64:.2f} s; float32 in chunks {t32:.2f} s ({t32 / before:.2f}x of before); "
              f"thresholded pixels that differ between float32 and float64: {differ:,} of {784_000_000:,}")


if __name__ == "__main__":
    main()
