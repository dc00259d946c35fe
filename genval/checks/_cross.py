"""One pass over fake-by-real blocks: ball memberships, nearest real items and realism bounds.

Every figure of :mod:`genval.checks._membership` that compares the two sets is a
per-row reduction of the same fake-by-real distance blocks; this pass computes
each block once and lets every requested reduction read it.
"""

from __future__ import annotations

import numpy as np

from genval.checks._blocks import (_block, _entries, _exact, _joined, _pairs, _Set, _Space, _sparse_nonzero, _spans,
                                   _to_block_units, _tolerance)


def _cross(space: _Space, R: _Set, F: _Set, budget: int, *, rR=None, rF=None, nearest: bool = False,
           ratio_of=None) -> dict:
    """One pass over fake-by-real blocks, keeping only per-row reductions.

    ``rR``/``rF`` (squared radii of the distinct real items / fakes) ask for the ball memberships
    (keys ``inside``, ``count``, ``covered``, ``reached``); ``nearest`` for each fake's nearest
    real item (``nearest``, ``distance``); ``ratio_of`` (squared radii, -1 for items left out)
    for the realism score (``realism``).
    """
    nF, nR = len(F.weight), len(R.weight)
    # The realism bounds take float64 temporaries: three times the memory per entry.
    entries = _entries(budget) // (3 if ratio_of is not None else 1)
    col_spans = _spans(nR, max(1, entries // 64))
    row_size = max(1, entries // (col_spans[0].stop - col_spans[0].start))
    tolF = _tolerance(space, F, R)
    tolR = _tolerance(space, R, F)
    reductions = []
    if rR is not None:
        reductions.append(_Balls(space, R, F, budget, rR, rF, tolR, tolF))
    if nearest:
        reductions.append(_Nearest(space, R, F, budget, tolF))
    if ratio_of is not None:
        reductions.append(_Realism(space, R, F, budget, ratio_of, tolF))
    for a in _spans(nF, row_size):
        for b in col_spans:
            D = _block(F, a, R, b)
            for reduction in reductions:
                reduction.add(D, a, b)
    out = {}
    for reduction in reductions:
        out.update(reduction.finish())
    return out


class _Balls:
    """Which k-NN balls hold which rows: precision, density, coverage (real balls) and recall (fake balls)."""

    def __init__(self, space: _Space, R: _Set, F: _Set, budget: int, rR: np.ndarray, rF: np.ndarray,
                 tolR: np.ndarray, tolF: np.ndarray):
        nF, nR = len(F.weight), len(R.weight)
        self.space, self.R, self.F, self.budget, self.rR, self.rF = space, R, F, budget, rR, rF
        self.unit = bool((R.weight == 1).all())
        self.loR, self.hiR = _to_block_units(space, rR, tolR)
        self.loF, self.hiF = _to_block_units(space, rF, tolF)
        self.inside = np.zeros(nF, dtype=bool)  # precision, per fake
        self.count = np.zeros(nF)  # density: real balls holding each fake, with multiplicity
        self.covered = np.zeros(nR, dtype=bool)  # coverage, per real item
        self.reached = np.zeros(nR, dtype=bool)  # recall, per real item
        self.unsure_real, self.unsure_fake = [], []

    def add(self, D: np.ndarray, a: slice, b: slice) -> None:
        m = D <= self.loR[None, b]
        self.inside[a] |= m.any(axis=1)
        self.count[a] += np.count_nonzero(m, axis=1) if self.unit else m.astype(np.float64) @ self.R.weight[b]
        self.covered[b] |= m.any(axis=0)
        m2 = D <= self.loF[a, None]
        self.reached[b] |= m2.any(axis=0)
        if not self.space.hamming:  # pairs too close to a radius for float32 to decide
            r, c = _sparse_nonzero((D <= self.hiR[None, b]) & ~m)
            _pairs(self.unsure_real, r + a.start, c + b.start, self.budget, "the undecided pairs")
            r, c = _sparse_nonzero((D <= self.hiF[a, None]) & ~m2)
            _pairs(self.unsure_fake, r + a.start, c + b.start, self.budget, "the undecided pairs")

    def finish(self) -> dict:
        space, R, F, budget = self.space, self.R, self.F, self.budget
        r, c = _joined(self.unsure_real)
        ok = _exact(space, F, r, R, c, budget) <= self.rR[c]
        self.inside[r[ok]] = True
        np.add.at(self.count, r[ok], R.weight[c[ok]])
        self.covered[c[ok]] = True
        r, c = _joined(self.unsure_fake)
        self.reached[c[_exact(space, F, r, R, c, budget) <= self.rF[r]]] = True
        return dict(inside=self.inside, count=self.count, covered=self.covered, reached=self.reached)


class _Nearest:
    """Each fake's nearest real item (the lowest index on ties) and its squared distance (count)."""

    def __init__(self, space: _Space, R: _Set, F: _Set, budget: int, tolF: np.ndarray):
        nF = len(F.weight)
        self.space, self.R, self.F, self.budget, self.tolF = space, R, F, budget, tolF
        self.best = np.full(nF, np.inf, dtype=np.float32)
        self.where = np.zeros(nF, dtype=np.intp)
        self.near = []

    def add(self, D: np.ndarray, a: slice, b: slice) -> None:
        at = D.argmin(axis=1)
        d = D[np.arange(len(D)), at]
        best = self.best
        if self.space.hamming:
            better = d < best[a]  # exact counts; blocks come in column order, so ties keep the first
            best[a] = np.where(better, d, best[a])
            self.where[a] = np.where(better, at + b.start, self.where[a])
        else:
            best[a] = np.minimum(best[a], d)
            r, c = _sparse_nonzero(D <= (best[a] + 2 * self.tolF[a])[:, None])
            _pairs(self.near, r + a.start, c + b.start, self.budget, "the candidates for the nearest real items")

    def finish(self) -> dict:
        if self.space.hamming:
            return {"nearest": self.where, "distance": self.best.astype(np.float64)}
        r, c = _joined(self.near)
        d = _exact(self.space, self.F, r, self.R, c, self.budget)
        order = np.lexsort((c, d, r))  # nearest first, then the lowest index
        r, c, d = r[order], c[order], d[order]
        first = np.unique(r, return_index=True)[1]
        return {"nearest": c[first], "distance": d[first]}


class _Realism:
    """Each fake's largest ``ratio_of[i] / d(j, i)`` over the real items (squared; -inf if all are left out)."""

    def __init__(self, space: _Space, R: _Set, F: _Set, budget: int, ratio_of: np.ndarray, tolF: np.ndarray):
        self.space, self.R, self.F, self.budget, self.ratio_of, self.tolF = space, R, F, budget, ratio_of, tolF
        self.scaled = ratio_of * space.scale ** 2
        self.top = np.full(len(F.weight), -np.inf)
        self.cand = []

    def add(self, D: np.ndarray, a: slice, b: slice) -> None:
        top, ratio_of = self.top, self.ratio_of
        if self.space.hamming:
            with np.errstate(divide="ignore", invalid="ignore"):
                q = ratio_of[None, b] / D.astype(np.float64)
            q[(D == 0) & (ratio_of[None, b] >= 0)] = np.inf
            q[np.broadcast_to(ratio_of[None, b] < 0, q.shape)] = -np.inf
            # Exact counts: the float64 ratios of small integers are told apart exactly.
            top[a] = np.maximum(top[a], q.max(axis=1))
            return
        # Each ratio lies between t / (D + tol) and t / (D - tol): keep the pairs whose
        # upper end reaches the best lower end so far; float64 settles them below.
        t = self.scaled[None, b]
        # A zero denominator means a distance of 0 is possible: a ratio of infinity.
        with np.errstate(divide="ignore", invalid="ignore"):
            wide = D + self.tolF[a, None]
            low = np.where(wide > 0, t / wide, np.inf)
            low[np.broadcast_to(t < 0, low.shape)] = -np.inf
            top[a] = np.maximum(top[a], low.max(axis=1))
            narrow = D - self.tolF[a, None]
            high = np.where(narrow > 0, t / narrow, np.inf)
        r, c = _sparse_nonzero((high * (1 + 1e-9) >= top[a, None]) & (t >= 0))
        _pairs(self.cand, r + a.start, c + b.start, self.budget, "the candidates for the realism score")

    def finish(self) -> dict:
        if self.space.hamming:
            return {"realism": self.top}
        r, c = _joined(self.cand)
        d = _exact(self.space, self.F, r, self.R, c, self.budget)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(d > 0, self.ratio_of[c] / d, np.inf)
        value = np.full(len(self.F.weight), -np.inf)
        np.maximum.at(value, r, q)
        return {"realism": value}
