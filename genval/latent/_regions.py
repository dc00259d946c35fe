"""The plane's regions: which bitmaps a 2-D latent model decodes to, and how much of the plane each takes.

A decoder with a two-dimensional latent space cuts its plane into *regions*,
each the points that decode (thresholded at 0.5) to one bitmap.
:func:`region_census` lays a grid of ``side x side`` cells over a box,
decodes every cell's centre and lists the distinct bitmaps with the share of
the cells each takes; it doubles the side while a doubling finds a bitmap
the coarser grid did not, because thin regions slip between the centres of
coarse cells. :func:`sample_regions` then draws points region by region,
so a sliver a few cells wide is drawn as often as a region covering half the
box.

Why: on the emojis' default model, new valid bitmaps live in thin slivers
(5.2% of the box) between large regions that copy training items (70%), so
uniform draws over the box rarely reach them; drawn region by region, every
distinct bitmap the census found is reached as soon as there are as many
points as regions.

Rule of thumb: the census decodes about ``4/3 * side**2`` points in all
(every level anew, since the centres of a finer grid are not those of the
coarser one): a few seconds per million points on a small decoder.
Convergence is a heuristic: a region narrower than half a cell at every level
tried can still be missed, so read :attr:`RegionCensus.history` with the
count. Where many region boundaries meet in one point (the emojis' default
model has such a hub near the origin), every doubling finds more, ever
smaller regions there and the census stops at ``max_side`` unconverged.

Only :mod:`genval._utils.budget`, :mod:`genval._utils.files` and
:mod:`genval.errors` are used: any object with ``inverse_transform(Z)``
returning pixel values in [0, 1] will do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from genval._utils.budget import check_allocation, chunk_rows, dedupe_rows
from genval._utils.files import resolve_rng
from genval.errors import ParameterError
from genval.models._protocol import LatentModel, latent_width

__all__ = ["DEFINITION", "RegionCensus", "cell_centres", "region_census", "sample_regions"]

DEFINITION = ("the distinct bitmaps (decoded, thresholded at 0.5) at the centres of a side x side grid of cells "
              "over the box, each with its area: the share of the cells whose centre decodes to it; the side "
              "doubles from the start while a doubling finds a bitmap the coarser grid did not")
# Working bytes per pixel of a decoded row: the decoder's layers take a few times the pixels (as genval.latent._space).
DECODE_BYTES = 32


def cell_centres(lo: np.ndarray, hi: np.ndarray, side: int, index: np.ndarray) -> np.ndarray:
    """The centres of cells of a ``side x side`` grid over the box, by their row-major index.

    Cell ``index = row * side + col`` spans the ``col``-th step of the first
    coordinate and the ``row``-th step of the second, both counted from
    ``lo``. The census decodes exactly these values, so a point drawn from
    them decodes as its cell did.

    Parameters
    ----------
    lo, hi : ndarray (2,)
        The box's corners.
    side : int
    index : ndarray of int (m,)

    Returns
    -------
    ndarray (m, 2)

    Examples
    --------
    >>> cell_centres(np.array([0.0, 0.0]), np.array([1.0, 2.0]), 2, np.array([0, 1, 2])).tolist()
    [[0.25, 0.5], [0.75, 0.5], [0.25, 1.5]]
    """
    row, col = np.divmod(np.asarray(index), side)
    step = (hi - lo) / side
    return np.column_stack([lo[0] + (col + 0.5) * step[0], lo[1] + (row + 0.5) * step[1]])


@dataclass(frozen=True, eq=False)
class RegionCensus:
    """The distinct bitmaps a 2-D latent model decodes to over a box, and the share of the box each takes.

    Build it with :func:`region_census`; draw points from it with :func:`sample_regions`.

    Attributes
    ----------
    lo, hi : ndarray (2,)
        The box's corners.
    side : int
        The final grid's side: ``side x side`` cells, each decoded at its centre.
    bitmaps : ndarray of bool (n_regions, n_pixels)
        The distinct thresholded (> 0.5) decodings, by decreasing area; ties in
        order of first appearance among the cells (row-major).
    area : ndarray of float (n_regions,)
        Each region's share of the cells; they sum to 1.
    cells : ndarray of int32 (side * side,)
        The region of each cell, row-major: ``cells[row * side + col]``, where
        ``col`` counts steps of the first latent coordinate from ``lo[0]`` and
        ``row`` steps of the second from ``lo[1]`` (row 0 is the bottom of the
        plane, as ``imshow(..., origin="lower")`` draws it).
    history : tuple of (int, int)
        ``(side, distinct bitmaps)`` at each level, the final one last.
    converged : bool
        The last doubling found no bitmap its coarser grid had not found;
        False when the census stopped at ``max_side`` (finer grids may find more).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> sign = SimpleNamespace(inverse_transform=lambda Z: (Z[:, :1] > 0).astype(float))
    >>> census = region_census(sign, [-1, -1], [1, 1], start=2)
    >>> census.n_regions, census.area.tolist(), census.centres(1)[:2].tolist()
    (2, [0.5, 0.5], [[0.25, -0.75], [0.75, -0.75]])
    """

    lo: np.ndarray
    hi: np.ndarray
    side: int
    bitmaps: np.ndarray
    area: np.ndarray
    cells: np.ndarray
    history: tuple[tuple[int, int], ...]
    converged: bool

    @property
    def n_regions(self) -> int:
        """How many distinct bitmaps the final grid found."""
        return len(self.bitmaps)

    def centres(self, region: int) -> np.ndarray:
        """The centres of one region's cells, ``(m, 2)``, in row-major cell order.

        Raises
        ------
        ParameterError
            For a region outside ``0 .. n_regions - 1``.
        """
        if not isinstance(region, Integral) or not 0 <= region < self.n_regions:
            raise ParameterError(f"region must be an index from 0 to {self.n_regions - 1}, got {region!r}")
        return cell_centres(self.lo, self.hi, self.side, np.flatnonzero(self.cells == region))

    def to_dict(self) -> dict:
        """The census as JSON: the box, the grid, the history, whether it converged, and each region.

        ``regions`` lists every region, largest first, with its ``area``, its
        ``cells`` and its ``bitmap`` as a string of 0 and 1, row-major.
        ``note`` says what an unconverged census means (None when it converged).
        """
        width = self.bitmaps.shape[1]
        strings = np.where(self.bitmaps, ord("1"), ord("0")).astype(np.uint8).tobytes()
        counts = np.bincount(self.cells, minlength=self.n_regions)
        last = self.history[-1][0]
        note = None if self.converged else (
            f"not converged: the count still grew at side {last} (or no doubling was tried), and the next "
            "doubling would pass max_side; a finer grid may find more regions")
        return {
            "definition": DEFINITION,
            "lo": [float(v) for v in self.lo],
            "hi": [float(v) for v in self.hi],
            "side": self.side,
            "cells": self.side * self.side,
            "n_regions": self.n_regions,
            "history": [{"side": s, "distinct": k} for s, k in self.history],
            "converged": self.converged,
            "note": note,
            "regions": [{"area": float(self.area[k]), "cells": int(counts[k]),
                         "bitmap": strings[k * width:(k + 1) * width].decode("ascii")}
                        for k in range(self.n_regions)],
        }


def _box(lo, hi) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if lo.ndim != 1 or lo.shape != hi.shape:
        raise ParameterError(f"lo and hi must be two corners of the same length, got shapes {lo.shape} and {hi.shape}")
    if len(lo) != 2:
        raise ParameterError(f"regions need a 2-D model: the box has {len(lo)} latent dimension"
                             f"{'' if len(lo) == 1 else 's'}, and a census tiles a plane")
    if not (np.isfinite(lo).all() and np.isfinite(hi).all() and (lo < hi).all()):
        raise ParameterError(f"the box needs finite corners with lo < hi in both coordinates, got lo {lo.tolist()} "
                             f"and hi {hi.tolist()}")
    return lo, hi


def _decode(model, Z: np.ndarray, n_pixels: int | None = None) -> np.ndarray:
    """``model.inverse_transform(Z)`` checked to hold one row per point (of ``n_pixels`` when given)."""
    pixels = np.asarray(model.inverse_transform(Z))
    if pixels.ndim != 2 or len(pixels) != len(Z) or (n_pixels is not None and pixels.shape[1] != n_pixels):
        expected = f"({len(Z)}, {n_pixels if n_pixels is not None else 'n_pixels'})"
        raise ParameterError(f"model.inverse_transform returned an array of shape {pixels.shape} for {len(Z)} "
                             f"points; expected {expected}")
    return pixels


def _level_bytes(n_cells: int, chunk: int, n_pixels: int, n_bitmaps: int) -> int:
    """Working memory of one level: the cells' region numbers (int32, twice while they are renumbered by
    area), one chunk being decoded (index, centres and the decoder's layers), the distinct bitmaps
    (packed, and unpacked in the result)."""
    return 8 * n_cells + chunk * (8 + 16 + DECODE_BYTES * n_pixels) + n_bitmaps * ((n_pixels + 7) // 8 + n_pixels)


def _level(model, lo, hi, side: int, n_pixels: int, chunk: int, held: int,
           progress: Callable[[int, int, int], None] | None) -> tuple[np.ndarray, np.ndarray]:
    """Decode every cell of one grid: the distinct packed bitmaps in order of first appearance, and each
    cell's index among them (int32)."""
    n = side * side
    what = f"a census of {side:,}x{side:,} cells of {n_pixels}-pixel bitmaps"
    check_allocation(_level_bytes(n, chunk, n_pixels, held), what)
    cells = np.empty(n, dtype=np.int32)
    known = np.zeros((0, (n_pixels + 7) // 8), dtype=np.uint8)
    for start in range(0, n, chunk):
        index = np.arange(start, min(start + chunk, n))
        packed = np.packbits(_decode(model, cell_centres(lo, hi, side, index), n_pixels) > 0.5, axis=1)
        first, inverse = dedupe_rows(packed)
        both = np.concatenate([known, packed[first]])
        # The known rows are distinct and come first, so they keep their numbers; new ones follow.
        merged_first, merged = dedupe_rows(both)
        cells[start:start + len(index)] = merged[len(known):][inverse]
        if len(merged_first) > len(known):
            known = both[merged_first]
            check_allocation(_level_bytes(n, chunk, n_pixels, held + len(known)),
                             f"{what} ({len(known):,} distinct so far)")
        if progress is not None:
            progress(side, start + len(index), n)
    return known, cells


def _count(value, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < least:
        raise ParameterError(f"{name} must be an integer of at least {least}, got {value!r}")
    return int(value)


def region_census(model: LatentModel, lo, hi, start: int = 32, max_side: int = 1024, chunk: int | None = None,
                  progress: Callable[[int, int, int], None] | None = None) -> RegionCensus:
    """The distinct bitmaps a 2-D latent model decodes to over a box, refined until none is new.

    A grid of ``start x start`` cells is decoded at the cells' centres; the
    side doubles while the finer grid finds a bitmap the one before it had
    not (so the count has stopped growing when it stops). The census is the
    last grid's.

    Parameters
    ----------
    model : LatentModel
        Only its ``inverse_transform(Z)`` is used: ``Z`` (m, 2) to pixel values
        (m, n_pixels) in [0, 1]; an :class:`genval.Autoencoder` with
        ``n_latent=2``, say, or a 2-component PCA held to [0, 1] by
        :func:`genval.models.as_latent_model`.
    lo, hi : array-like (2,)
        The box's corners, e.g. ``space.box()``.
    start : int, default 32
        The first grid's side.
    max_side : int, default 1024
        No grid is finer than this: when the next doubling would pass it, the
        census stops unconverged. 1024 decodes about 1.4 million points in all.
    chunk : int, optional
        Cells decoded at once; default from the memory budget
        (:func:`genval._utils.budget.chunk_rows`).
    progress : callable, optional
        ``progress(side, cells_done, cells_total)`` after each chunk of each level.

    Returns
    -------
    RegionCensus

    Raises
    ------
    ParameterError
        For a box or a model (its ``n_latent``) that is not 2-D, corners that are
        not finite with ``lo < hi``, ``start < 1``, ``max_side < start``, or a
        model whose output is not one row per point.
    TypeError
        For a model without ``inverse_transform``.
    genval._utils.budget.MemoryBudgetError
        Before a level whose cells, chunk and distinct bitmaps would exceed
        the memory budget (also when the distinct bitmaps grow past it).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> sign = SimpleNamespace(inverse_transform=lambda Z: (Z[:, :1] > 0.5).astype(float))
    >>> census = region_census(sign, [-1, -1], [1, 1], start=2)
    >>> census.side, census.history, census.converged, census.area.tolist()
    (8, ((2, 1), (4, 2), (8, 2)), True, [0.75, 0.25])
    """
    lo, hi = _box(lo, hi)
    start = _count(start, "start", 1)
    max_side = _count(max_side, "max_side", start)
    if chunk is not None:
        chunk = _count(chunk, "chunk", 1)
    _check_planar(model)
    n_pixels = _decode(model, cell_centres(lo, hi, 1, np.zeros(1, dtype=np.int64))).shape[1]
    chunk = chunk or chunk_rows(DECODE_BYTES * n_pixels)
    history: list[tuple[int, int]] = []
    side, previous = start, None
    while True:
        known, cells = _level(model, lo, hi, side, n_pixels, chunk, 0 if previous is None else len(previous),
                              progress)
        history.append((side, len(known)))
        if previous is not None and len(dedupe_rows(np.concatenate([previous, known]))[0]) == len(previous):
            converged = True
            break
        if 2 * side > max_side:
            converged = False
            break
        previous, side = known, 2 * side
    return _census(lo, hi, side, known, cells, n_pixels, tuple(history), converged)


def _check_planar(model: LatentModel) -> None:
    """Refuse a model without ``inverse_transform``, or one that says its latent space is not 2-D."""
    if not callable(getattr(model, "inverse_transform", None)):
        raise TypeError(f"the model must have an inverse_transform(Z) method, got {type(model).__name__}")
    width = latent_width(model)  # genval's autoencoders and a PCA say it; any other model is taken at its box
    if width is not None and width != 2:
        raise ParameterError(f"regions need a 2-D model: this model's latent space has {width} dimensions")


def _census(lo: np.ndarray, hi: np.ndarray, side: int, known: np.ndarray, cells: np.ndarray, n_pixels: int,
            history: tuple, converged: bool) -> RegionCensus:
    """The census of the last level: its distinct bitmaps (packed in ``known``) ranked by area, largest first."""
    counts = np.bincount(cells, minlength=len(known))
    order = np.argsort(-counts, kind="stable")  # the largest first; ties keep first appearance
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return RegionCensus(lo=lo, hi=hi, side=side,
                        bitmaps=np.unpackbits(known[order], axis=1, count=n_pixels).astype(bool),
                        area=counts[order] / (side * side), cells=rank[cells], history=history,
                        converged=converged)


def sample_regions(census: RegionCensus, n: int, random_state=None) -> np.ndarray:
    """``n`` latent points spread evenly over a census's regions, in a random order.

    Each region gets ``n // n_regions`` points, and ``n % n_regions`` regions,
    drawn at random, one more; each point is the centre of a cell of its
    region drawn uniformly (with replacement), so it decodes to its region's
    bitmap exactly as the census saw it. A thin region is drawn as often as
    a large one: with ``n >= n_regions`` every bitmap the census found is
    drawn.

    Parameters
    ----------
    census : RegionCensus
    n : int
        Points, at least 1.
    random_state : int, numpy Generator or None
        One generator draws the regions with an extra point, the cells and the order.

    Returns
    -------
    ndarray (n, 2)

    Raises
    ------
    ParameterError
        For ``n < 1``.
    TypeError
        When ``census`` is not a :class:`RegionCensus`.
    genval._utils.budget.MemoryBudgetError
        When the points (and the cells sorted by region) would exceed the memory budget.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> sign = SimpleNamespace(inverse_transform=lambda Z: (Z[:, :1] > 0.5).astype(float))
    >>> census = region_census(sign, [-1, -1], [1, 1], start=4)
    >>> points = sample_regions(census, 5, random_state=0)  # 2 points in one region, 3 in the other
    >>> sign.inverse_transform(points)[:, 0].tolist()
    [1.0, 0.0, 1.0, 0.0, 1.0]
    >>> points[:2].tolist()  # cell centres of the 8x8 grid
    [[0.625, -0.875], [-0.875, 0.125]]
    """
    if not isinstance(census, RegionCensus):
        raise TypeError(f"census must be a RegionCensus (from region_census), got {type(census).__name__}")
    n = _count(n, "n", 1)
    # The points, each one's region, cell and offset, the order; the cells sorted by region.
    check_allocation(48 * n + 8 * len(census.cells), f"{n:,} points drawn region by region")
    rng = resolve_rng(random_state)
    n_regions = census.n_regions
    per_region = np.full(n_regions, n // n_regions, dtype=np.int64)
    per_region[rng.choice(n_regions, n % n_regions, replace=False)] += 1
    region = np.repeat(np.arange(n_regions), per_region)
    sizes = np.bincount(census.cells, minlength=n_regions)
    by_region = np.argsort(census.cells, kind="stable")
    offset = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    cells = by_region[offset[region] + rng.integers(0, sizes[region])]
    return cell_centres(census.lo, census.hi, census.side, cells)[rng.permutation(n)]
