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

from .brute_force import _split_linear, self_inside

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
    # O(n log c) work: threads only pay off for large n
    _split_linear(v.size, lambda a, b: _gallop_counts(s, r, bool(strict), a, b, inside))
    out = np.empty_like(inside)
    out[order] = inside
    return out - self_inside(radii, strict)


def warm_up() -> None:
    """Compile (or load from numba's disk cache) the kernel on a few points."""
    v = np.random.default_rng(0).standard_normal(64)
    count_1d(v, np.full(v.size, 0.5), True)
    count_1d(v, np.full(v.size, 0.5), False)


@numba.njit(**_JIT)
def _kth_rows(s, k, start, stop, eps, nearest):
    """For sorted s and p in start..stop: eps[p], the k-th smallest |s[j] − s[p]| over j ≠ p,
    and nearest[p] = p followed by the positions of the k nearest (ties: either side)."""
    n = s.size
    for p in range(start, stop):
        v = s[p]
        left, right = p - 1, p + 1
        nearest[p, 0] = p
        d = 0.0
        for m in range(1, k + 1):
            # distances grow (never shrink) away from p on either side: merge the two runs
            if right >= n or (left >= 0 and v - s[left] <= s[right] - v):
                d = v - s[left]
                nearest[p, m] = left
                left -= 1
            else:
                d = s[right] - v
                nearest[p, m] = right
                right += 1
        eps[p] = d


def kth_neighbour_1d(v: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Distance from every v_i to its k-th nearest *other* value (float64 differences, as the
    trees compute them) and the indices of the k + 1 nearest, the row itself first: one sort
    and O(k) per row, merging the runs to the left and to the right of the row's place."""
    v = np.ascontiguousarray(v, dtype=np.float64)
    if not 1 <= k < v.size:
        raise ValueError(f"k must be in 1..n-1 = {v.size - 1}, got {k}")
    order = np.argsort(v)
    s = v[order]
    eps = np.empty(v.size)
    nearest = np.empty((v.size, k + 1), dtype=np.int64)
    _split_linear(v.size, lambda a, b: _kth_rows(s, int(k), a, b, eps, nearest))
    out_eps = np.empty_like(eps)
    out_eps[order] = eps
    out_idx = np.empty_like(nearest)
    out_idx[order] = order[nearest]
    return out_eps, out_idx
