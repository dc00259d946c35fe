"""``genval show``: print a bitmap set as text."""

from __future__ import annotations

import click

from ._common import emit_json, json_option, loader_options, note, wrap_strip
from genval.data._bitmap_set import bitmap_shades
from genval.data._bitmaps import BUNDLED_DATASETS, load_dataset

TERMINAL_WIDTH = 120  # pictures side by side up to this many characters a line


@click.command()
@click.argument("dataset", default="emojis", metavar="[NAME|PATH]")
@loader_options(limit=False)
@click.option("--limit", type=click.IntRange(min=1), default=64, show_default=True,
              help="Show at most this many items.")
@json_option
def show(dataset, labels, shape, binarize, limit, as_json):
    """Print the items of a bitmap set as rows of '#' and '.'.

    DATASET is a bundled set (emojis, font, digits), a file or a folder: a C
    header in the course format (font.h, or font.h:Font2 to pick an array), a
    .txt file of name lines followed by rows of '#' and '.', MNIST's IDX files
    (gzipped or not), .npy/.npz arrays, a CSV of one image per row, or a
    folder of .png/.pgm images. Grey images print in shades from '.' (blank)
    through ':-=+*%' to '#' (ink); a label, when the set has them, follows
    each name.

    \b
    Examples:
      genval show emojis
      genval show font --limit 8
      genval show path/to/font.h:Font2 --json
      genval show train-images-idx3-ubyte.gz --limit 12
      genval show mnist_train.csv --limit 5 --binarize 0.5
      genval show pixels.npy --shape 20x20
      genval show pictures/
      genval show digits --limit 1797 | head -20    # a closed pipe ends it quietly
    """
    options = {"labels": labels, "shape": shape, "binarize": binarize}
    bitmaps = load_dataset(dataset, **{name: value for name, value in options.items() if value is not None})
    items = range(min(limit, len(bitmaps)))
    draw = _drawing(bitmaps)
    names = [bitmaps.names[i] if bitmaps.labels is None else f"{bitmaps.names[i]} ({bitmaps.labels[i]})"
             for i in items]
    if as_json:
        emit_json({
            "dataset": bitmaps.title,
            "shape": list(bitmaps.shape),
            "n_items": len(bitmaps),
            "grey": not bitmaps.is_binary,
            "items": [{"name": bitmaps.names[i], **({"label": bitmaps.labels[i]} if bitmaps.labels else {}),
                       "rows": draw(i)} for i in items],
        })
        return
    h, w = bitmaps.shape
    kind = "" if bitmaps.is_binary else ", grey"
    click.echo(f"{bitmaps.title}: {len(bitmaps)} items, {h}x{w}{kind}")
    per_line = max(1, min(12, TERMINAL_WIDTH // (max(w, *(len(n) for n in names)) + 2)))
    click.echo("\n".join(wrap_strip([draw(i) for i in items], names, per_line)))
    if len(items) < len(bitmaps):
        click.echo(f"... {len(bitmaps) - len(items)} more (--limit)")
    note(f"(bundled sets: {', '.join(BUNDLED_DATASETS)})")


def _drawing(bitmaps):
    """``item -> rows``: '#' and '.' for a bitmap, shades for a grey image."""
    if bitmaps.is_binary:
        return bitmaps.render
    return lambda i: bitmap_shades(bitmaps.X[i], bitmaps.shape)
