"""Time 10,000 full-batch Adam epochs of the 35-25-15-2-15-25-35 network on `font`.

Compares genval with a plain vectorized NumPy loop (the baseline, measured in
the same run), scikit-learn's MLPRegressor and, when installed, PyTorch on the
CPU; tanh hidden units, sigmoid output, cross-entropy loss (MLPRegressor only
offers squared error with an identity output: the closest it has). Also
measures the median time to reconstruct every glyph exactly with early
stopping, over seeds 0..9.

Run by hand (not part of the tests):

    python benchmarks/train_speed.py [--repeats 5]

PyTorch, if wanted, is installed by hand: `pip install torch==2.13.0`.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np

from genval import Autoencoder, load_dataset, wrong_pixels

EPOCHS = 10_000
SIZES = [35, 25, 15, 2, 15, 25, 35]


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def genval_run(X):
    Autoencoder(hidden=(25, 15), epochs=EPOCHS, random_state=0).fit(X)


def numpy_baseline(X, sizes=SIZES, epochs=EPOCHS):
    """The straightforward vectorized loop: per-layer arrays, Adam per array.

    tanh hidden units, a linear middle (latent) layer, sigmoid output, cross-entropy.
    """
    rng = np.random.default_rng(0)
    Ws = [rng.uniform(-1, 1, (a, b)) * np.sqrt(6 / (a + b)) for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(b) for b in sizes[1:]]
    params = Ws + bs
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, b1, b2, eps = 0.004, 0.9, 0.999, 1e-8
    latent = len(Ws) // 2 - 1  # index of the layer producing the code
    for t in range(1, epochs + 1):
        acts = [X]
        for i, (W, b) in enumerate(zip(Ws, bs)):
            z = acts[-1] @ W + b
            if i == len(Ws) - 1:
                acts.append(1 / (1 + np.exp(-z)))
            elif i == latent:
                acts.append(z)
            else:
                acts.append(np.tanh(z))
        delta = (acts[-1] - X) / X.size
        gW, gb = [None] * len(Ws), [None] * len(Ws)
        for i in range(len(Ws) - 1, -1, -1):
            gW[i] = acts[i].T @ delta
            gb[i] = delta.sum(axis=0)
            if i:
                delta = delta @ Ws[i].T
                if i - 1 != latent:
                    delta = delta * (1 - acts[i] ** 2)
        for p, g, mi, vi in zip(params, gW + gb, m, v):
            mi *= b1
            mi += (1 - b1) * g
            vi *= b2
            vi += (1 - b2) * g * g
            p -= lr * (mi / (1 - b1 ** t)) / (np.sqrt(vi / (1 - b2 ** t)) + eps)


def sklearn_run(X):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    mlp = MLPRegressor(hidden_layer_sizes=(25, 15, 2, 15, 25), activation="tanh", solver="adam",
                       learning_rate_init=0.004, max_iter=EPOCHS, batch_size=len(X), tol=0,
                       n_iter_no_change=EPOCHS + 1, shuffle=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, X)


def torch_run(X):
    import torch

    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(a, b, dtype=torch.float64))
        if i == len(SIZES) - 2:
            layers.append(torch.nn.Sigmoid())
        elif i != 2:
            layers.append(torch.nn.Tanh())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=0.004)
    Xt = torch.tensor(X)
    loss_fn = torch.nn.BCELoss()
    for _ in range(EPOCHS):
        opt.zero_grad()
        loss = loss_fn(net(Xt), Xt)
        loss.backward()
        opt.step()


def time_to_perfect(X) -> tuple[float, int, int]:
    times, epochs, perfect = [], [], 0
    for seed in range(10):
        start = time.perf_counter()
        ae = Autoencoder(stop_wrong_pixels=0, random_state=seed).fit(X)
        times.append(time.perf_counter() - start)
        epochs.append(ae.n_epochs_)
        perfect += int(wrong_pixels(ae, X).max() == 0)
    return statistics.median(times), int(statistics.median(epochs)), perfect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    X = load_dataset("font").X

    rows = [("numpy baseline (per-array loop)", median_time(lambda: numpy_baseline(X), args.repeats))]
    rows.append(("genval Autoencoder", median_time(lambda: genval_run(X), args.repeats)))
    rows.append(("scikit-learn MLPRegressor", median_time(lambda: sklearn_run(X), args.repeats)))
    try:
        import torch

        torch.set_num_threads(1)
        rows.append((f"PyTorch {torch.__version__} (CPU)", median_time(lambda: torch_run(X), args.repeats)))
    except ImportError:
        rows.append(("PyTorch", None))

    base = rows[0][1]
    ours = rows[1][1]
    print(f"10,000 full-batch Adam epochs, 35-25-15-2-15-25-35 on font (32 glyphs), median of {args.repeats}")
    print(f"{'implementation':<34} {'seconds':>8} {'vs baseline':>12} {'vs genval':>10}")
    for name, secs in rows:
        if secs is None:
            print(f"{name:<34} {'skipped (not installed)':>32}")
            continue
        print(f"{name:<34} {secs:8.3f} {secs / base:11.2f}x {secs / ours:9.1f}x")

    for name in ("font", "emojis"):
        med, epochs, perfect = time_to_perfect(load_dataset(name).X)
        print(f"{name}: seeds 0..9 with stop_wrong_pixels=0: {perfect}/10 perfect, "
              f"median {epochs} epochs, median {med:.3f} s")


if __name__ == "__main__":
    main()
