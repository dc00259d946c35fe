"""The memory budget, and the nearest-bitmap search that works within it.

Everything in genval that compares many points with many others (map
winners, nearest training items, batches of structural checks) works in
chunks sized by one budget, so memory stays bounded whatever the number of
points; anything whose size the caller decides (a result of ``n`` rows) is
estimated first and refused, with the estimate, when it exceeds the budget.

``GENVAL_MEMORY_BUDGET``
    Bytes one operation may use, as an integer or with a binary suffix
    (``512M``, ``1.5G``, ``64K``). Default: a quarter of the machine's
    memory, at most 1 GiB. Working arrays of one chunk take at most an
    eighth of it (:data:`CHUNK_SHARE`), leaving room for the results and the
    inputs the caller already holds.

Rule of thumb: lower it on a shared machine; raising it past a few hundred
megabytes rarely makes anything faster, since chunks of a few thousand rows
already keep matrix products efficient.
"""

from __future__ import annotations

import os
import re
import stat
from contextlib import nullcontext
from typing import IO

import numpy as np

from genval.errors import ParameterError

__all__ = ["CHUNK_SHARE", "MemoryBudgetError", "blas_limit", "check_allocation", "chunk_rows", "dedupe_rows",
           "memory_budget", "nearest_bitmaps", "read_at_most"]

ENV = "GENVAL_MEMORY_BUDGET"
CHUNK_SHARE = 8
_SUFFIX = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class MemoryBudgetError(ParameterError, MemoryError):
    """A request whose result would exceed the memory budget; the message gives the estimate.

    Both a :class:`ParameterError` (the caller asked for too much) and a
    ``MemoryError``.

    >>> issubclass(MemoryBudgetError, MemoryError), issubclass(MemoryBudgetError, ValueError)
    (True, True)
    """


def _machine_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX: assume a modest machine
        return 8 * 2**30


def memory_budget() -> int:
    """Bytes one operation may use: ``GENVAL_MEMORY_BUDGET``, or a quarter of the memory up to 1 GiB.

    Raises
    ------
    ParameterError
        For a value that is not a positive size.

    Examples
    --------
    >>> import os
    >>> os.environ["GENVAL_MEMORY_BUDGET"] = "1.5M"
    >>> memory_budget()
    1572864
    >>> del os.environ["GENVAL_MEMORY_BUDGET"]
    """
    text = os.environ.get(ENV, "").strip()
    if not text:
        return min(2**30, _machine_memory() // 4)
    match = re.fullmatch(r"(\d+(?:\.\d*)?)\s*([KMGT]?)(?:i?B)?", text, flags=re.IGNORECASE)
    try:
        value = int(float(match.group(1)) * _SUFFIX[match.group(2).upper()]) if match else 0
    except OverflowError:  # thousands of digits: past any float, and any machine's memory
        value = 0
    if value < 1:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ParameterError(f"{ENV} must be a positive size such as 268435456, 512M or 1G, got {shown!r}")
    return value


def chunk_rows(bytes_per_row: int, budget: int | None = None) -> int:
    """How many rows one chunk holds when each costs ``bytes_per_row`` of working memory.

    A chunk may use ``budget / CHUNK_SHARE`` bytes; always at least one row.

    Examples
    --------
    >>> chunk_rows(100, budget=8000), chunk_rows(100, budget=100), chunk_rows(0, budget=8)
    (10, 1, 1)
    """
    budget = memory_budget() if budget is None else budget
    return max(1, (budget // CHUNK_SHARE) // max(1, int(bytes_per_row)))


def _size(nbytes: float) -> str:
    if nbytes >= 2**60:  # beyond a million TiB only the number's size matters (and a huge int overflows a float)
        return f"10^{len(str(int(nbytes))) - 1} bytes"
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{int(nbytes)} bytes"


def check_allocation(nbytes: float, what: str, budget: int | None = None) -> None:
    """Refuse, with the estimate, a result of ``nbytes`` larger than the budget.

    Raises
    ------
    MemoryBudgetError
        Naming ``what``, the estimate and the budget.

    Examples
    --------
    >>> check_allocation(10, "ten bytes", budget=100)
    >>> check_allocation(3 * 2**30, "1,000,000 decoded points", budget=2**30)
    Traceback (most recent call last):
    ...
    genval._utils.budget.MemoryBudgetError: 1,000,000 decoded points would need about 3.0 GiB, more than the memory budget of 1.0 GiB; ask for fewer or raise GENVAL_MEMORY_BUDGET
    """
    budget = memory_budget() if budget is None else budget
    if nbytes > budget:
        raise MemoryBudgetError(f"{what} would need about {_size(nbytes)}, more than the memory budget of "
                                f"{_size(budget)}; ask for fewer or raise {ENV}")


def read_at_most(f: IO[bytes], limit: int, source: str, what: str, hint: str = "") -> bytes:
    """All of a stream's bytes when there are at most ``limit``; at most ``limit + 1`` are ever read.

    A regular file larger than ``limit`` is refused unread; a device, a pipe
    or a gzip stream (``/dev/zero``, a gzip bomb) after ``limit + 1`` bytes.

    Raises
    ------
    MemoryBudgetError
        Naming ``source``, ``what`` it should be and the limit, then ``hint``.

    Examples
    --------
    >>> import io
    >>> read_at_most(io.BytesIO(b"abc"), 3, "a.h", "a C header")
    b'abc'
    >>> read_at_most(io.BytesIO(b"abcd"), 3, "a.h", "a C header")
    Traceback (most recent call last):
    ...
    genval._utils.budget.MemoryBudgetError: a.h: more than 3 bytes; expected a C header of at most 3 bytes
    """
    try:
        size = os.fstat(f.fileno()).st_size if stat.S_ISREG(os.fstat(f.fileno()).st_mode) else 0
    except (AttributeError, OSError, ValueError):  # not a file (a gzip stream, a buffer): its size shows as it is read
        size = 0
    if size <= limit:
        parts, got = [], 0
        while got <= limit and (part := f.read(min(limit + 1 - got, 1 << 20))):
            parts.append(part)
            got += len(part)
        if got <= limit:
            return b"".join(parts)
    raise MemoryBudgetError(f"{source}: more than {_size(limit)}; expected {what} of at most {_size(limit)}{hint}")


def dedupe_rows(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a 2-D array in order of first appearance, and the inverse.

    Rows are compared by their bytes (booleans packed 8 to a byte first), so
    this is exact for any dtype (``-0.0`` and ``0.0`` count as different).

    Returns
    -------
    first : ndarray of int (u,)
        Index of each distinct row's first occurrence, increasing.
    inverse : ndarray of int (n,)
        ``A[first[inverse]]`` equals ``A`` row by row.

    Examples
    --------
    >>> first, inverse = dedupe_rows(np.array([[1, 0], [0, 1], [1, 0]], dtype=bool))
    >>> first.tolist(), inverse.tolist()
    ([0, 1], [0, 1, 0])
    """
    A = np.asarray(A)
    if len(A) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    raw = np.packbits(A, axis=1) if A.dtype == bool else A.reshape(len(A), -1)
    raw = np.ascontiguousarray(raw)
    width = raw.dtype.itemsize * raw.shape[1]
    if width <= 8:  # small bitmaps: one integer per row sorts several times faster than raw bytes
        padded = np.zeros((len(raw), 8), dtype=np.uint8)
        padded[:, :width] = raw.view(np.uint8).reshape(len(raw), width)
        keys = padded.view(np.uint64).ravel()
    else:
        keys = raw.view(np.dtype((np.void, width))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)  # np.unique sorts by key; first appearance is what callers expect
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse.ravel()]


def nearest_bitmaps(Q: np.ndarray, R: np.ndarray, budget: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each bitmap of ``Q``, the nearest of ``R`` in Hamming distance (the first on ties).

    Both sets are deduplicated first, then compared chunk by chunk with the
    matrix-product form ``|q|^2 + |r|^2 - 2 q.r``, so the work and the memory
    follow the distinct rows and the budget, never ``len(Q) * len(R)`` at
    once.

    Parameters
    ----------
    Q : ndarray of bool (n, p)
    R : ndarray of bool (m, p), m >= 1
    budget : int, optional
        Bytes; default :func:`memory_budget`.

    Returns
    -------
    index : ndarray of int (n,)
    distance : ndarray of int64 (n,)
        Pixels that differ; exact, since float32 holds the integer counts of
        bitmaps up to 2**24 pixels.

    Examples
    --------
    >>> R = np.array([[1, 1, 0], [0, 0, 1], [1, 1, 0]], dtype=bool)
    >>> index, distance = nearest_bitmaps(np.array([[1, 0, 0], [0, 0, 1]], dtype=bool), R)
    >>> index.tolist(), distance.tolist()
    ([0, 1], [1, 0])
    """
    Q = np.asarray(Q, dtype=bool)
    R = np.asarray(R, dtype=bool)
    if len(R) == 0 or Q.shape[1:] != R.shape[1:] or Q.ndim != 2:
        raise ParameterError(f"expected (n, p) queries and (m >= 1, p) reference rows, got {Q.shape} and {R.shape}")
    budget = memory_budget() if budget is None else budget
    r_first, _ = dedupe_rows(R)
    q_first, q_inverse = dedupe_rows(Q)
    Ru, Qu = R[r_first], Q[q_first]
    p = R.shape[1]
    r_ink = Ru.sum(axis=1, dtype=np.float32)
    q_ink = Qu.sum(axis=1, dtype=np.float32)
    best = np.full(len(Qu), np.inf, dtype=np.float32)
    where = np.zeros(len(Qu), dtype=np.intp)
    # A reference block as float32, then per query row: its float32 copy and a distance row of the block.
    r_rows = max(1, min(len(Ru), chunk_rows(4 * p, budget) // 2))
    for r0 in range(0, len(Ru), r_rows):
        block = Ru[r0:r0 + r_rows].astype(np.float32)
        q_rows = chunk_rows(4 * (p + 2 * len(block)), budget)
        for q0 in range(0, len(Qu), q_rows):
            queries = Qu[q0:q0 + q_rows].astype(np.float32)
            dist = queries @ block.T
            dist *= -2.0
            dist += q_ink[q0:q0 + q_rows, None]
            dist += r_ink[None, r0:r0 + r_rows]
            at = dist.argmin(axis=1)
            d = dist[np.arange(len(dist)), at]
            # Strictly nearer only: an earlier block keeps its ties, so the first row wins.
            better = d < best[q0:q0 + q_rows]
            best[q0:q0 + q_rows][better] = d[better]
            where[q0:q0 + q_rows][better] = at[better] + r0
    return r_first[where][q_inverse], np.rint(best).astype(np.int64)[q_inverse]


SMALL_WORK = 1 << 26  # multiply-adds below which one BLAS thread beats two


def blas_limit(work: int):
    """A context that runs small linear algebra on one BLAS thread (``work``: multiply-adds per product).

    Two threads fighting over products a few dozen wide on a busy 2-core machine were 10x slower
    than one (an audit's scores: 60x); large products keep every core. ``GENVAL_BLAS_THREADS=N``
    sets the number, ``0`` leaves BLAS alone.

    Raises
    ------
    ParameterError
        For a ``GENVAL_BLAS_THREADS`` that is not a whole number.
    """
    setting = os.environ.get("GENVAL_BLAS_THREADS", "").strip()
    if setting:
        try:
            threads = int(setting)
        except ValueError:
            raise ParameterError(f"GENVAL_BLAS_THREADS must be a whole number, got {setting!r}") from None
        if threads <= 0:
            return nullcontext()
    elif work < SMALL_WORK:
        threads = 1
    else:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads, user_api="blas")
