"""``genval show``: print a bitmap set as text."""

from __future__ import annotations

import click

from ._common import emit_json, json_option, note, wrap_strip
from genval.bitmaps import BUNDLED_DATASETS, load_dataset


@click.command()
@click.argument("dataset", default="emojis", metavar="[NAME|PATH]")
@click.option("--limit", type=click.IntRange(min=1), default=64, show_default=True,
              help="Show at most this many items.")
@json_option
def show(dataset, limit, as_json):
    """Print the items of a bitmap set as rows of '#' and '.'.

    DATASET is a bundled set (emojis, font, digits) or a file: a C header in
    the course format (font.h, or font.h:Font2 to pick an array) or a .txt
    file of name lines followed by rows of '#' and '.'.

    \b
    Examples:
      genval show emojis
      genval show font --limit 8
      genval show path/to/font.h:Font2 --json
    """
    bitmaps = load_dataset(dataset)
    items = list(range(min(limit, len(bitmaps))))
    if as_json:
        emit_json({
            "dataset": bitmaps.title,
            "shape": list(bitmaps.shape),
            "n_items": len(bitmaps),
            "items": [{"name": bitmaps.names[i], "rows": bitmaps.render(i)} for i in items],
        })
        return
    h, w = bitmaps.shape
    click.echo(f"{bitmaps.title}: {len(bitmaps)} items, {h}x{w}")
    click.echo("\n".join(wrap_strip([bitmaps.render(i) for i in items], [bitmaps.names[i] for i in items])))
    if len(items) < len(bitmaps):
        click.echo(f"... {len(bitmaps) - len(items)} more (--limit)")
    note(f"(bundled sets: {', '.join(BUNDLED_DATASETS)})")
