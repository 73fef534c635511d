"""Exact per-point-radius max-norm counts in a few dimensions: a compiled kd-tree whose nodes
keep their bounding boxes and sizes.

KSG-type estimators count, for every point, the other points within its own radius in each
marginal space. The radius comes from the *joint* space, so in a 2-4 dimensional marginal a
ball holds many points (tens to thousands). A tree that visits every point inside
(``cKDTree.query_ball_point(return_length=True)``) or a sweep over all pairs costs time in
proportion to what is counted; here a node whose box lies wholly inside the ball adds its
size at once, so a query costs about the points near the ball's surface.

Exactness: a node's box is spanned by its own points' extreme coordinates, and float64
rounding is monotone, so if fl(hi_c − q_c) and fl(q_c − lo_c) are within r for every column
c, every point of the node is within r by the same float64 max-norm comparison the other
engines make (and if fl(lo_c − q_c) or fl(q_c − hi_c) is beyond r in some column, none is).
Leaves compare point by point. The counts therefore equal the O(n²) definition.
"""
from __future__ import annotations

import numba
import numpy as np

from .brute_force import _split_rows, self_inside

_JIT = dict(nogil=True, cache=True, boundscheck=False, error_model="numpy")
_LEAF = 16


@numba.njit(**_JIT)
def _build(points, leaf):
    """perm (points in leaf order), per node: start, stop, left child (−1: leaf), box."""
    n, d = points.shape
    cap = 2 * (n // leaf + 1) * 2 + 1
    start = np.empty(cap, np.int64)
    stop = np.empty(cap, np.int64)
    left = np.full(cap, -1, np.int64)
    lo = np.empty((cap, d))
    hi = np.empty((cap, d))
    perm = np.arange(n)
    stack = np.empty(cap, np.int64)
    start[0], stop[0] = 0, n
    count, top = 1, 0
    stack[0] = 0
    while top >= 0:
        node = stack[top]
        top -= 1
        a, b = start[node], stop[node]
        widest, width = 0, -1.0
        for c in range(d):
            mn = points[perm[a], c]
            mx = mn
            for i in range(a + 1, b):
                v = points[perm[i], c]
                mn = min(mn, v)
                mx = max(mx, v)
            lo[node, c], hi[node, c] = mn, mx
            if mx - mn > width:
                widest, width = c, mx - mn
        if b - a <= leaf or width <= 0.0:
            continue
        seg = perm[a:b].copy()
        keys = np.empty(b - a)
        for i in range(b - a):
            keys[i] = points[seg[i], widest]
        perm[a:b] = seg[np.argsort(keys)]
        mid = (a + b) // 2
        left[node] = count
        start[count], stop[count] = a, mid
        start[count + 1], stop[count + 1] = mid, b
        stack[top + 1], stack[top + 2] = count, count + 1
        top += 2
        count += 2
    return perm, start[:count], stop[:count], left[:count], lo[:count], hi[:count]


@numba.njit(**_JIT)
def _count(points, perm, start, stop, left, lo, hi, radii, strict, first, last, out):
    """out[perm[q]] for q in first..last: points within radii[perm[q]] of point perm[q]."""
    d = points.shape[1]
    stack = np.empty(256, np.int64)
    for q in range(first, last):
        i = perm[q]
        r = radii[i]
        total = 0
        top = 0
        stack[0] = 0
        while top >= 0:
            node = stack[top]
            top -= 1
            inside = True
            outside = False
            for c in range(d):
                v = points[i, c]
                near_hi = hi[node, c] - v  # largest difference in this column
                near_lo = v - lo[node, c]
                if strict:
                    if near_hi >= r or near_lo >= r:
                        inside = False
                    if lo[node, c] - v >= r or v - hi[node, c] >= r:
                        outside = True
                else:
                    if near_hi > r or near_lo > r:
                        inside = False
                    if lo[node, c] - v > r or v - hi[node, c] > r:
                        outside = True
            if outside:
                continue
            if inside:
                total += stop[node] - start[node]
                continue
            if left[node] < 0:
                for p in range(start[node], stop[node]):
                    j = perm[p]
                    dist = 0.0
                    for c in range(d):
                        dist = max(dist, abs(points[j, c] - points[i, c]))
                    if (dist < r) if strict else (dist <= r):
                        total += 1
                continue
            stack[top + 1] = left[node]
            stack[top + 2] = left[node] + 1
            top += 2
        out[i] = total


def count_rows(points: np.ndarray, radii: np.ndarray, strict: bool) -> np.ndarray:
    """For every row, the number of *other* rows within radii[i] in the max-norm (< if
    ``strict``, else ≤), as :func:`workbench.estimators.knn.count_neighbours` defines it."""
    points = np.ascontiguousarray(points, dtype=np.float64)
    radii = np.ascontiguousarray(radii, dtype=np.float64)
    perm, start, stop, left, lo, hi = _build(points, _LEAF)
    inside = np.empty(len(points), dtype=np.int64)
    _split_rows(len(points), lambda a, b: _count(points, perm, start, stop, left, lo, hi,
                                                 radii, bool(strict), a, b, inside))
    return inside - self_inside(radii, strict)


def warm_up() -> None:
    """Compile (or load from numba's disk cache) the kernels on a few points."""
    points = np.random.default_rng(0).standard_normal((64, 2))
    count_rows(points, np.full(64, 0.5), True)
    count_rows(points, np.full(64, 0.5), False)
