"""How the map commands print: the map in a phrase, each sample as a record and a table row, a neuron's items."""

from __future__ import annotations

import click

from ._common import neuron_doc, wrap_strip
from genval.latent._space import LatentSpace



def map_summary(space: LatentSpace, loaded_from=None) -> str:
    """The map in one phrase: its grid and settings, and the file it came from (``--map``)."""
    som = space.som
    rows, cols = som.grid_
    return (f"{rows}x{cols} {som.topology} map of {len(space.bitmaps)} {space.bitmaps.title} codes "
            f"(sigma {som.sigma:g}, learning rate {som.learning_rate:g}, {som.n_iterations_} iterations, "
            f"{som.neighborhood}, seed {som.random_state})" + ("" if loaded_from is None else f" from {loaded_from}"))


def neuron_label(k: int) -> str:
    """1-based like the course's `Neuron 12`."""
    return f"Neuron {k + 1}"


def sample_records(space: LatentSpace, located, verdicts, t=None) -> list[dict]:
    """One JSON record per sample: its point, neuron, bitmap, nearest item and the verdict on it
    (``valid``, ``failed``, ``reasons``, ``novel``, ``copy_of``: :meth:`SampleVerdicts.record`)."""
    names = space.bitmaps.names
    cols = space.som.grid_[1]
    records = []
    for i in range(len(located)):
        k = int(located.neuron[i])
        record = {} if t is None else {"t": round(float(t[i]), 6)}
        record.update({
            "z": [round(float(v), 6) for v in located.Z[i]],
            "neuron": neuron_doc(k, cols),
            "occupied": bool(located.occupied[i]),
            "som_distance": round(float(located.som_distance[i]), 6),
            "rows": space.rows(located.pixels[i]),
            "nearest": names[located.nearest[i]],
            "hamming": int(located.hamming[i]),
            **verdicts.record(i),
        })
        records.append(record)
    return records


def verdict_summary(verdicts, what: str = "samples") -> str:
    """``3 of 10 samples valid, 2 of them new; 7 copies of training items``."""
    n, valid = len(verdicts), int(verdicts.valid.sum())
    new_valid = int((verdicts.valid & verdicts.novel).sum())
    copies = int((~verdicts.novel).sum())
    return (f"{valid} of {n} {what} valid, {new_valid} of them new; "
            f"{copies} {'is a copy of a training item' if copies == 1 else 'are copies of training items'}")


def print_samples(records: list[dict], verdicts, show_t: bool) -> None:
    click.echo("\n".join(wrap_strip([r["rows"] for r in records], [str(i + 1) for i in range(len(records))])))
    click.echo("")
    labels = [verdicts.label(i) for i in range(len(records))]
    width = max(7, *(len(r["nearest"]) for r in records))
    v_width = max(len("verdict"), *map(len, labels))
    t_head = f"{'t':>5}  " if show_t else ""
    click.echo(f"{'sample':>6}  {t_head}{'z1':>8} {'z2':>8}  neuron  occupied  som_distance  "
               f"{'verdict':<{v_width}}  {'nearest':<{width}}  hamming")
    for i, r in enumerate(records):
        z = r["z"] + [float("nan")] * (2 - len(r["z"]))
        t = f"{r['t']:5.2f}  " if show_t else ""
        click.echo(f"{i + 1:>6}  {t}{z[0]:8.3f} {z[1]:8.3f}  {r['neuron']['number']:>6}  "
                   f"{'yes' if r['occupied'] else 'no':>8}  {r['som_distance']:>12.3f}  {labels[i]:<{v_width}}  "
                   f"{r['nearest']:<{width}}  {r['hamming']:>7}")
    click.echo("occupied: the sample's neuron holds training items; som_distance: from the sample's code to that "
               "neuron's weights")
    click.echo(verdict_summary(verdicts))


LIST_NAMES = 12  # a neuron with more items than this is summarised


def label_counts(items, label_of: dict) -> dict[str, int]:
    """How many of the items carry each label, most frequent first."""
    counts: dict[str, int] = {}
    for name in items:
        counts[label_of[name]] = counts.get(label_of[name], 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def describe_members(items, label_of: dict | None) -> str:
    """A neuron's items for a person: their names, or label counts (`7×312 1×40`) for labelled sets,
    or the count and the first few names for large unlabelled neurons.

    >>> describe_members(("a", "b"), None)
    'a b'
    >>> describe_members(("a", "b", "c"), {"a": "7", "b": "1", "c": "7"})
    '7×2 1×1'
    >>> describe_members(tuple(f"i{k}" for k in range(20)), None)
    '20 items: i0 i1 i2 i3 i4 i5 i6 i7 ...'
    """
    if label_of is not None and items:
        return " ".join(f"{label}×{count}" for label, count in label_counts(items, label_of).items())
    if len(items) > LIST_NAMES:
        return f"{len(items)} items: {' '.join(items[:8])} ..."
    return " ".join(items)
