"""Exact one-dimensional neighbour counts on sorted values, compiled with numba.

For every point v_i and radius r_i, the number of points v_j with |v_j − v_i| < r_i (strict)
or ≤ r_i, decided by the float64 difference itself, the quantity the trees, the brute force
and the O(n²) definition compare (see :mod:`.knn`).

Rounding is monotone, so for a fixed v_i the rounded difference fl(s_j − v_i) never decreases
as s_j grows: on the sorted values s the points within r_i form one contiguous run around v_i's
own position p. Each end of the run is found by galloping (steps 1, 2, 4, ... away from p,
then bisection): O(log c_i) comparisons for a count c_i, all near p in memory. The queries
run in sorted order, so consecutive rows touch neighbouring cache lines; a ``searchsorted``
of v_i ± r_i in row order costs a cache miss per bisection step and compares rounded sums,
which need a fix-up pass where they disagree with the rounded difference.

Total cost: one argsort (O(n log n)) plus O(n log c̄) for the counts.
"""
from __future__ import annotations

import numba
import numpy as np

from .brute_force import _split_rows, self_inside

#: Fewest points for which the counts are shared out to one thread per core.
_THREADED_MIN_N = 50_000

_JIT = dict(nogil=True, cache=True, boundscheck=False, error_model="numpy")


@numba.njit(inline="always", **_JIT)
def _inside(d, r, strict):
    return d < r if strict else d <= r


@numba.njit(**_JIT)
def _gallop_counts(s, radii, strict, start, stop, out):
    """out[p] = #{j : |s[j] − s[p]| (<, ≤) radii[p]} for sorted s and p in start..stop."""
    n = s.size
    for p in range(start, stop):
        v = s[p]
        r = radii[p]
        if not _inside(0.0, r, strict):
            out[p] = 0
            continue
        # upper end: last j >= p inside (j = p is inside)
        good, step = p, 1
        bad = n
        while True:
            j = p + step
            if j >= n:
                break
            if _inside(s[j] - v, r, strict):
                good = j
                step *= 2
            else:
                bad = j
                break
        while bad - good > 1:
            mid = (good + bad) >> 1
            if _inside(s[mid] - v, r, strict):
                good = mid
            else:
                bad = mid
        upper = good
        # lower end: first j <= p inside
        good, step = p, 1
        bad = -1
        while True:
            j = p - step
            if j < 0:
                break
            if _inside(v - s[j], r, strict):
                good = j
                step *= 2
            else:
                bad = j
                break
        while good - bad > 1:
            mid = (good + bad) >> 1
            if _inside(v - s[mid], r, strict):
                good = mid
            else:
                bad = mid
        out[p] = upper - good + 1


def count_1d(v: np.ndarray, radii: np.ndarray, strict: bool,
             order: np.ndarray | None = None) -> np.ndarray:
    """For every i, the number of *other* j with |v_j − v_i| < radii[i] (``strict``) or
    ≤ radii[i], as float64 computes the difference. ``order`` (``np.argsort(v)``) may be
    passed when the caller has it."""
    v = np.ascontiguousarray(v, dtype=np.float64)
    radii = np.asarray(radii, dtype=np.float64)
    if order is None:
        order = np.argsort(v)
    s = v[order]
    r = np.ascontiguousarray(radii[order])
    inside = np.empty(v.size, dtype=np.int64)
    if v.size < _THREADED_MIN_N:  # O(n log c) work: threads only pay off for large n
        _gallop_counts(s, r, bool(strict), 0, v.size, inside)
    else:
        _split_rows(v.size, lambda a, b: _gallop_counts(s, r, bool(strict), a, b, inside))
    out = np.empty_like(inside)
    out[order] = inside
    return out - self_inside(radii, strict)


def warm_up() -> None:
    """Compile (or load from numba's disk cache) the kernel on a few points."""
    v = np.random.default_rng(0).standard_normal(64)
    count_1d(v, np.full(v.size, 0.5), True)
    count_1d(v, np.full(v.size, 0.5), False)
