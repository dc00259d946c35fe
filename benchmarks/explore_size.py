"""The explorer page's size and build time for the bundled sets and 5,000 MNIST-like 28x28 items.

For each set: build the space as ``genval explore`` does (a map by genval's
rule; for the bundled sets their cached default model, trained first if missing
and not timed), then time :func:`genval.pages.explore_data` and
:func:`explore_html` at the given resolutions, and report the page's bytes and
its distinct bitmaps, and for grey sets which grid points keep their grey
levels (1/1 all, 1/2 every second along each axis: the page's grey budget).
The 28x28 set is ``scale_speed.stand_in``: scikit-learn's digits upsampled and
jittered, grey levels kept (nothing to download); its model
is a 784-256-64-2 ReLU autoencoder trained for 15 epochs (not timed: the
default model's 10,000 full-batch epochs take far too long at this size, and
the page's cost does not depend on the decoder's).

Run by hand (a minute or two; not part of the tests)::

    python benchmarks/explore_size.py [--resolutions 101,201]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from scale_speed import stand_in  # noqa: E402

from genval import Autoencoder, BitmapSet, build_space, load_dataset  # noqa: E402
from genval.pages._explore import explore_data, explore_html  # noqa: E402


def measure(space, resolution: int) -> dict:
    start = time.perf_counter()
    data = explore_data(space, resolution=resolution)
    page = explore_html(data).encode("utf-8")
    grey = "-" if data["greys"] is None else f"1/{data['greys']['stride']}"  # grid points along each axis with grey
    return {"seconds": time.perf_counter() - start, "bytes": len(page), "bitmaps": data["bitmaps"]["count"],
            "grey": grey}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resolutions", default="101,201")
    args = parser.parse_args()
    X = stand_in(5000)
    sets = {name: load_dataset(name) for name in ("emojis", "font", "digits")}
    sets["mnist-like 5,000"] = BitmapSet(tuple(f"i{k}" for k in range(len(X))), X, (28, 28), "mnist-like")
    print(f"{'set':<18} {'items':>6} {'grid':>8} {'distinct':>9} {'grey':>5} {'MB':>6} {'build s':>8} {'space s':>8}")
    models = {"mnist-like 5,000": Autoencoder(hidden=(256, 64), activation="relu", learning_rate=0.001,
                                              batch_size=256, epochs=15, random_state=0).fit(X)}
    for name, bitmaps in sets.items():
        model = models.get(name)
        build_space(bitmaps, model)  # trains and caches a default model on first use: not timed
        start = time.perf_counter()
        space = build_space(bitmaps, model)
        space_seconds = time.perf_counter() - start
        for resolution in map(int, args.resolutions.split(",")):
            m = measure(space, resolution)
            print(f"{name:<18} {len(bitmaps):>6} {resolution:>4}x{resolution:<3} {m['bitmaps']:>9,} {m['grey']:>5} "
                  f"{m['bytes'] / 1e6:>6.2f} {m['seconds']:>8.2f} {space_seconds:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
