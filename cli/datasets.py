"""``genval show``: print a bitmap set as text."""

from __future__ import annotations

import click

from ._common import emit_json, json_option, library_errors
from genval.bitmaps import BUNDLED_DATASETS, load_dataset


def strip(blocks: list[list[str]], labels: list[str], gap: str = "  ") -> list[str]:
    """Bitmaps side by side, each under its label, as text lines."""
    widths = [max(len(b[0]), len(lab)) for b, lab in zip(blocks, labels)]
    lines = [gap.join(lab.ljust(w) for lab, w in zip(labels, widths)).rstrip()]
    for r in range(len(blocks[0])):
        lines.append(gap.join(b[r].ljust(w) for b, w in zip(blocks, widths)).rstrip())
    return lines


def wrap_strip(blocks, labels, per_line: int = 12) -> list[str]:
    out: list[str] = []
    for s in range(0, len(blocks), per_line):
        if out:
            out.append("")
        out.extend(strip(blocks[s:s + per_line], labels[s:s + per_line]))
    return out


@click.command()
@click.argument("dataset", default="emojis", metavar="[NAME|PATH]")
@click.option("--limit", type=click.IntRange(min=1), default=64, show_default=True,
              help="Show at most this many items.")
@json_option
@library_errors
def show(dataset, limit, as_json):
    """Print the items of a bitmap set as rows of '#' and '.'.

    DATASET is a bundled set (emojis, font, digits) or a file: a C header in
    the course format (font.h, or font.h:Font2 to pick an array) or a .txt
    file of name lines followed by rows of '#' and '.'.
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
    bundled = ", ".join(BUNDLED_DATASETS)
    click.echo(f"(bundled sets: {bundled})", err=True)
