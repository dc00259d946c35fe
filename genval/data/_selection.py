"""Which items a loader keeps: the first ``limit``, or ``limit`` drawn at random (``--limit N --shuffle``).

A reader that knows how many items its file holds before it decodes them
(IDX and ``.npy`` from their headers, CSV from its first pass, an image
folder from its listing) draws the record numbers with :func:`draw_rows` and
decodes only those. C headers and text files, at most a 32nd of the memory
budget, are parsed whole and the drawn items taken from them
(:func:`take_rows`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from genval._utils.budget import check_allocation
from genval.data._formats import Decoded

__all__: list[str] = []


def draw_rows(n_total: int, limit: int | None, rng: np.random.Generator, source: str) -> np.ndarray:
    """``min(limit, n_total)`` distinct record numbers of ``range(n_total)``, drawn uniformly in a random order.

    Without ``limit``, a random permutation of every record. NumPy's draw
    without replacement holds the whole range only when it draws more than a
    50th of it (else Floyd's algorithm holds the draw alone): both are
    checked against the memory budget first, so a header that claims
    billions of records is refused, not allocated.

    >>> draw_rows(10, 3, np.random.default_rng(0), "f").tolist()
    [5, 9, 6]
    >>> sorted(draw_rows(5, None, np.random.default_rng(0), "f").tolist())
    [0, 1, 2, 3, 4]
    """
    n = n_total if limit is None else min(int(limit), n_total)
    check_allocation(8 * min(n_total, 50 * n + 10_000) + 24 * n,
                     f"{source}: drawing {n:,} of {n_total:,} items at random")
    return rng.choice(n_total, size=n, replace=False)


def take_rows(decoded: Decoded, rows: np.ndarray) -> Decoded:
    """The items ``rows`` of a fully decoded file, in that order (names and labels follow)."""
    return replace(decoded, X=decoded.X[rows],
                   names=None if decoded.names is None else [decoded.names[r] for r in rows],
                   labels=None if decoded.labels is None else [decoded.labels[r] for r in rows], rows=rows)
