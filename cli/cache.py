"""``genval cache``: list, clear or locate the models genval trained and cached."""

from __future__ import annotations

import time

import click

from ._common import emit_json, json_option


def human_size(nbytes: int) -> str:
    """Bytes as people read them.

    >>> human_size(812), human_size(123_456), human_size(5 * 2**20)
    ('812 B', '120.6 KiB', '5.0 MiB')
    """
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} B"


dataset_filter = click.option("--dataset", "-d", default=None, metavar="NAME",
                              help="Only the models of this set (its title as `genval cache list` shows it, "
                                   "e.g. font).")


def _others(dataset: str | None) -> str:
    """For a --dataset that matched nothing (a typo?), the sets that do have cached models."""
    from genval.models._cache_folder import cache_entries

    titles = sorted({entry.dataset for entry in cache_entries()}) if dataset else []
    return f"; cached sets: {', '.join(titles)}" if titles else ""


@click.group()
def cache():
    """List, clear or locate the models genval trained and cached.

    The first run of a command on a set trains the set's default model (and
    `genval denoise` its denoiser) and keeps it in the cache folder:
    $GENVAL_CACHE if set, else $XDG_CACHE_HOME/genval, else ~/.cache/genval.
    An entry that is damaged or stale is trained again on its own; clearing
    only makes room. genval lists and removes only the files it named
    (model-SET-HASH.npz, vae-..., denoiser-...): anything else in the
    folder is left alone.

    \b
    Examples:
      genval cache list                  every cached model: file, kind, set, size, date
      genval cache list --json
      genval cache clear --dataset font  remove the font's models
      genval cache clear                 remove every cached model
      genval cache path                  print the cache folder
    """


@cache.command("list")
@dataset_filter
@json_option
def list_entries(dataset, as_json):
    """Every cached model: file, kind, set, size and date.

    \b
    Examples:
      genval cache list
      genval cache list --dataset emojis --json
    """
    from genval.models._cache_folder import cache_dir, cache_entries

    entries = cache_entries(dataset)
    if as_json:
        emit_json({"folder": str(cache_dir()), "entries": [entry.to_dict() for entry in entries]})
        return
    if not entries:
        of = f" of {dataset}" if dataset else ""
        click.echo(f"no cached models{of} in {cache_dir()}{_others(dataset)}")
        return
    rows = [(entry.path.name, entry.kind, entry.dataset, human_size(entry.size),
             time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.modified))) for entry in entries]
    header = ("file", "kind", "set", "size", "modified")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [cell.rjust(w) if i == 3 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        click.echo("  ".join(cells).rstrip())
    total = sum(entry.size for entry in entries)
    click.echo(f"{len(entries)} cached model{'s' if len(entries) != 1 else ''}, {human_size(total)}, "
               f"in {cache_dir()}")


@cache.command("clear")
@dataset_filter
@json_option
def clear(dataset, as_json):
    """Remove the cached models (all, or one set's); they are trained again when next needed.

    \b
    Examples:
      genval cache clear --dataset font
      genval cache clear
    """
    from genval.models._cache_folder import cache_dir, clear_cache

    removed = clear_cache(dataset)
    if as_json:
        emit_json({"folder": str(cache_dir()), "removed": [str(path) for path in removed]})
        return
    of = f" of {dataset}" if dataset else ""
    if not removed:
        click.echo(f"nothing to remove: no cached models{of} in {cache_dir()}{_others(dataset)}")
        return
    for path in removed:
        click.echo(f"removed {path.name}")
    click.echo(f"removed {len(removed)} file{'s' if len(removed) != 1 else ''}{of} from {cache_dir()}")


@cache.command("path")
def path():
    """Print the cache folder (it may not exist yet).

    \b
    Examples:
      genval cache path
      ls "$(genval cache path)"
    """
    from genval.models._cache_folder import cache_dir

    click.echo(str(cache_dir()))
