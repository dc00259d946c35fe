"""The latent plane as one self-contained HTML page: point at it and see what the decoder draws there.

:func:`explore_data` decodes a fine ``resolution x resolution`` grid over the
plane that genval's pictures show (the grid of :func:`genval.latent.latent_grid`,
:func:`genval.latent.plane` for codes wider than two) and judges every distinct
bitmap once; :func:`explore_html` puts that data and a small script into one
HTML file that needs no server, no network and no Python.

The page never decodes: the cursor snaps to the nearest grid point and shows
what Python computed there. So the verdict it shows for a grid point ``(x, y)``
is the one ``genval decode x y`` prints (the page shows the command, with
coordinates that read back to the same numbers); between grid points it is
the verdict of the nearest one, ``(hi - lo) / (resolution - 1)`` away at most
along each axis. Many grid points decode to the same bitmap, and each distinct
bitmap is stored once, packed 8 pixels to a byte: a page of 101 x 101 points
is 0.17 MB for the emojis (122 distinct bitmaps), 0.19 MB for the font (962).
Grey sets also keep each grid point's decoded grey levels, 8 bits a pixel, for
the page to show (the verdict stays the thresholded bitmap's, as in ``genval
decode``), within :data:`GREY_BUDGET` bytes: every grid point for the 8x8
digits up to 201 x 201 (1.2 MB at 101 x 101, 4.4 MB at 201 x 201), every
second one along each axis for 28x28 items at 101 x 101 (4.2 MB for 5,000 of
them; ``benchmarks/explore_size.py``).

Walks on the page (click two points or items) sample the straight line, or
the map path through the neurons' weights, and snap each sample to the grid:
the same verdicts as ``genval interpolate`` where its samples fall on grid
points, the nearest grid point's elsewhere. For codes wider than two a walk
between two items leaves the plane: the page shows the walks that
:mod:`genval.pages._explore_walks` decoded in the full space, the verdicts
``genval interpolate`` prints.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from importlib.resources import files

import numpy as np

from genval._utils.budget import check_allocation, chunk_rows, dedupe_rows, nearest_bitmaps
from genval.audit._judging import judge
from genval.errors import ParameterError
from genval.checks._rules import default_checks
from genval.checks._validity import CheckSet
from genval.latent._plane import grid_axes, plane
from genval.latent._space import LatentSpace
from genval.pages._explore_walks import GREY_BUDGET, MAX_WALK_ITEMS, WALK_STEPS, grey_levels, grey_stride, walk_codes, walk_items

__all__ = ["DEFAULT_RESOLUTION", "GREY_BUDGET", "MAX_RESOLUTION", "TILE_TINTS", "explore_data", "explore_html"]

DEFAULT_RESOLUTION = 101  # grid points per side: 10,201 points, a step of 1% of the box
MAX_RESOLUTION = 401
# The verdict tints of genval's pictures (genval.plotting.TILE_TINTS and TILE_FRAMES; a test holds them equal):
# white a copy of a training item, light blue new and valid, vermillion invalid; frames in the full colours.
TILE_TINTS = {"copy": "#FFFFFF", "new valid": "#B9DAF0", "invalid": "#EFA27A"}
TILE_FRAMES = {"copy": "#FFFFFF", "new valid": "#0072B2", "invalid": "#D55E00"}
MAX_LABELLED_ITEMS = 60  # items whose names the plane shows; more are dots, named under the cursor


def _b64(array: np.ndarray, dtype: str) -> str:
    """A little-endian typed array as base64, for the page's ``Uint8Array``/``Float32Array`` views."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).decode()


def explore_data(space: LatentSpace, checks: CheckSet | None = None, resolution: int = DEFAULT_RESOLUTION,
                 margin: float = 0.05, progress: Callable[[int, int], None] | None = None) -> dict:
    """Everything the explorer page shows, as one JSON-able document.

    Parameters
    ----------
    space : LatentSpace
        The set, the model and a fitted map.
    checks : CheckSet, optional
        Default :func:`genval.checks.default_checks` of the set.
    resolution : int
        Grid points per side, 2 to :data:`MAX_RESOLUTION`. Rule of thumb: 101
        gives a step of 1% of the box, finer than a cursor moves on a 600-pixel
        plane; the file grows with the distinct bitmaps, up to
        ``resolution**2 * n_features / 8`` bytes (a third more as base64).
    margin : float
        The grid's box is the codes' widened by this share of each side, as in
        :func:`genval.latent.latent_grid`.
    progress : callable, optional
        ``progress(points_done, points_total)`` after each decoded chunk.

    Returns
    -------
    dict
        ``xs``, ``ys`` (the grid's columns and rows, row 0 at the top),
        ``points`` (per grid point, row-major from the top left: the index of
        its distinct bitmap, its neuron and the distance to that neuron's
        weights, base64 arrays), ``bitmaps`` (the distinct bitmaps packed, and
        per bitmap the failed checks, reasons, the training item it copies and
        the nearest one with the Hamming distance), ``items``, ``neurons`` and
        the set's, model's and map's descriptions.

    Raises
    ------
    ParameterError
        For a resolution out of range.
    genval._utils.budget.MemoryBudgetError
        When the grid's bitmaps would exceed the memory budget.

    Examples
    --------
    >>> from genval import Autoencoder, build_space, load_dataset
    >>> emojis = load_dataset("emojis")
    >>> space = build_space(emojis, Autoencoder(stop_wrong_pixels=0).fit(emojis.X), grid=(3, 3))
    >>> data = explore_data(space, resolution=11)
    >>> len(data["xs"]), data["bitmaps"]["count"] <= 121, data["checks"]["names"]
    (11, True, ['eyes', 'mouth'])
    """
    if not 2 <= resolution <= MAX_RESOLUTION:
        raise ParameterError(f"resolution must be 2 to {MAX_RESOLUTION} grid points per side, got {resolution}")
    checks = checks if checks is not None else default_checks(space.bitmaps)
    bitmaps, som, codes = space.bitmaps, space.som, space.codes
    p, n = bitmaps.n_features, resolution * resolution
    _check_memory(space, resolution)
    origin, axes = plane(codes)
    xs, ys = grid_axes(codes, resolution, margin)
    gx, gy = np.meshgrid(xs, ys)
    Z = origin + np.column_stack([gx.ravel(), gy.ravel()]) @ axes  # as genval decode computes each point
    items = walk_items(space) if codes.shape[1] > 2 else None
    stride = grey_stride(resolution, p) if not bitmaps.is_binary else None
    packed, index, greys = _decode_grid_and_walks(space, Z, resolution, items, stride, progress)
    return {
        "format": "genval-explore", "version": 2,
        "dataset": bitmaps.title, "shape": list(bitmaps.shape), "binary": bool(bitmaps.is_binary),
        "n_latent": int(codes.shape[1]), "plane": "principal" if codes.shape[1] > 2 else "latent",
        "origin": origin.tolist(), "axes": axes.tolist(),
        "model": {"kind": "vae" if hasattr(space.model, "sample_prior") else "autoencoder",
                  "layer_sizes": [int(v) for v in getattr(space.model, "layer_sizes_", ())]},
        "checks": {"title": checks.title, "names": list(checks.names)},
        "resolution": resolution, "xs": xs.tolist(), "ys": ys.tolist(),
        "points": _points_doc(som, Z, index[:n]),
        "bitmaps": _bitmaps_doc(packed, bitmaps, checks),
        "greys": None if greys is None else _greys_doc(*greys, stride),
        "walks": None if items is None else _walks_doc(space, items, index[n:]),
        "items": {"names": list(bitmaps.names), "labels": None if bitmaps.labels is None else list(bitmaps.labels),
                  "xy": np.round((codes - origin) @ axes.T, 6).tolist(), "neuron": som.winners(codes).tolist(),
                  "labelled": len(bitmaps) <= MAX_LABELLED_ITEMS},
        "neurons": _neurons_doc(som, codes, origin, axes),
        "tints": TILE_TINTS, "frames": TILE_FRAMES,
    }


def _check_memory(space: LatentSpace, resolution: int) -> None:
    """Refuse a grid (with its walks and grey levels) whose decoding would exceed the memory budget."""
    bitmaps, d, n = space.bitmaps, space.codes.shape[1], resolution * resolution
    p = bitmaps.n_features
    n_walk = 2 * min(len(bitmaps), MAX_WALK_ITEMS) ** 2 * WALK_STEPS if d > 2 else 0
    grey_bytes = 0 if bitmaps.is_binary else 2 * GREY_BUDGET + 8 * n  # the levels, their distinct copy, the index
    check_allocation((n + n_walk) * (p // 8 + 1 + 24 + 8 * d) + grey_bytes,
                     f"a {resolution}x{resolution} grid of {p}-pixel bitmaps")


def _greys_doc(levels: np.ndarray, index: np.ndarray, stride: int) -> dict:
    """The distinct 8-bit grey images and per grid point the index of its image (-1 where none is kept)."""
    return {"stride": stride, "budget": GREY_BUDGET, "count": len(levels), "levels": _b64(levels, "u1"),
            "index": _b64(index, "i4")}


def _decode_grid_and_walks(space: LatentSpace, Z: np.ndarray, resolution: int, items: np.ndarray | None,
                           stride: int | None, progress):
    """:func:`_decode_distinct` of the grid's points ``Z`` followed by the walks' between ``items`` (none for
    ``None``), keeping the grey levels of every ``stride``-th grid point along each axis (none for ``None``)."""
    walk_Z = None if items is None else walk_codes(space, items).reshape(-1, Z.shape[1])
    on = None if stride is None else np.arange(resolution) % stride == 0
    grey = None if on is None else (on[:, None] & on[None, :]).ravel()
    return _decode_distinct(space.model, Z if walk_Z is None else np.vstack([Z, walk_Z]), space.bitmaps.n_features,
                            progress, grey)


def _decode_distinct(model, Z: np.ndarray, p: int, progress, grey: np.ndarray | None = None):
    """``packed, index, greys``: the distinct bitmaps that ``Z`` decodes to (thresholded at 0.5, packed 8 pixels
    to a byte), per point the index of its bitmap among them, and for the first ``len(grey)`` points where
    ``grey`` is true their 8-bit grey levels (``None`` without ``grey``): the distinct images and per point the
    index of its image, -1 where none is kept.

    Decoded in chunks, each chunk's distinct bitmaps kept packed (as an audit does): never n x p floats.
    """
    n = len(Z)
    chunk = chunk_rows(32 * p)
    found, index, n_found = [], np.empty(n, dtype=np.int64), 0
    levels = []
    for start in range(0, n, chunk):
        pixels = model.inverse_transform(Z[start:start + chunk])
        packed = np.packbits(pixels > 0.5, axis=1)
        first, inverse = dedupe_rows(packed)
        found.append(packed[first])
        index[start:start + chunk] = inverse + n_found
        n_found += len(first)
        if grey is not None:
            levels.append(grey_levels(pixels[grey[start:start + chunk]]))
        if progress is not None:
            progress(min(start + chunk, n), n)
    first, inverse = dedupe_rows(np.concatenate(found))
    greys = None
    if grey is not None:
        distinct, grey_inverse = dedupe_rows(np.concatenate(levels))
        grey_index = np.full(len(grey), -1, dtype=np.int64)
        grey_index[grey] = grey_inverse
        greys = (np.concatenate(levels)[distinct], grey_index)
    return np.concatenate(found)[first], inverse[index], greys


def _walks_doc(space: LatentSpace, items: np.ndarray, index: np.ndarray) -> dict:
    """The walks between ``items`` decoded in the full space: their bitmaps (``index``, per walk point), the items'
    codes and the map's weights (for the page to draw each sample where it projects)."""
    m = len(items)
    line, som_path = index.reshape(2, m * m * WALK_STEPS)
    return {"steps": WALK_STEPS, "items": items.tolist(), "line": _b64(line, "u4"), "som": _b64(som_path, "u4"),
            "codes": np.round(space.codes[items], 6).tolist(),
            "weights": np.round(space.som.weights_.reshape(space.som.n_neurons, -1), 6).tolist()}


def _points_doc(som, Z: np.ndarray, index: np.ndarray) -> dict:
    """Per grid point, as base64 arrays: the index of its distinct bitmap, its neuron and the distance to that
    neuron's weights."""
    neuron = som.winners(Z)
    W = som.weights_.reshape(som.n_neurons, -1)
    distance = np.sqrt(((Z - W[neuron]) ** 2).sum(axis=1))
    return {"bitmap": _b64(index, "u4"), "neuron": _b64(neuron, "u2" if som.n_neurons < 65536 else "u4"),
            "distance": _b64(distance, "f4")}


def _bitmaps_doc(packed: np.ndarray, bitmaps, checks: CheckSet) -> dict:
    """The distinct bitmaps, packed, and per bitmap its verdict: failed checks and reasons (indices into a
    table), the training item it copies, the nearest one and the Hamming distance to it."""
    distinct = np.unpackbits(packed, axis=1, count=bitmaps.n_features).astype(bool)
    verdicts = judge(distinct, bitmaps, checks)
    nearest, hamming = nearest_bitmaps(distinct, bitmaps.binary())
    # Reasons repeat across bitmaps ("eyes: no eye found in rows 1-2"): a table of them, and indices.
    reason_table: dict[str, int] = {}
    reasons = [[reason_table.setdefault(r, len(reason_table)) for r in rs] for rs in verdicts.reasons]
    check_index = {name: k for k, name in enumerate(checks.names)}
    return {"count": len(packed), "packed": _b64(packed, "u1"),
            "failed": [[check_index[name] for name in names] for names in verdicts.failed],
            "reasons": reasons, "reason_table": list(reason_table),
            "copy_of": verdicts.copy_of.tolist(), "nearest": nearest.tolist(), "hamming": hamming.tolist()}


def _neurons_doc(som, codes: np.ndarray, origin: np.ndarray, axes: np.ndarray) -> dict:
    """The map: its grid and topology, each neuron's weights on the plane, hits, U-matrix value and neighbours."""
    W = som.weights_.reshape(som.n_neurons, -1)
    rows, cols = som.grid_
    return {"grid": [rows, cols], "topology": som.topology,
            "xy": np.round((W - origin) @ axes.T, 6).tolist(),
            "hits": np.bincount(som.winners(codes), minlength=som.n_neurons).tolist(),
            "umatrix": np.round(som.umatrix().ravel(), 4).tolist(), "neighbours": som.neighbours()}


def explore_html(data: dict, title: str | None = None, command: str = "genval decode") -> str:
    """The explorer page of :func:`explore_data`'s document: one HTML string, no external files.

    Parameters
    ----------
    data : dict
        From :func:`explore_data`.
    title : str, optional
        The page's title; default names the set.
    command : str
        The command the page offers to reproduce a point, the coordinates
        appended (``genval decode --dataset font``).

    Returns
    -------
    str
        UTF-8 HTML: the data as JSON in a ``<script type="application/json">``
        element (``<`` escaped, so no item name can end it), the script and the
        style inline.

    Examples
    --------
    >>> page = explore_html({"dataset": "emojis</script>"}, command="genval decode")
    >>> page.startswith("<!DOCTYPE html>"), "emojis</script>" in page
    (True, False)
    """
    template = files("genval").joinpath("pages", "explore.html").read_text(encoding="utf-8")
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    title = title if title is not None else f"genval explore: {data.get('dataset') or 'latent plane'}"
    escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    command_blob = json.dumps(command).replace("<", "\\u003c")
    return (template.replace("{{TITLE}}", escaped).replace("{{COMMAND}}", command_blob)
            .replace("{{DATA}}", blob))
