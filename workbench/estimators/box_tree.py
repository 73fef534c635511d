"""Exact per-point-radius max-norm counts and k-nearest neighbours in a few dimensions: a
compiled kd-tree whose nodes keep their bounding boxes and sizes.

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

The same tree answers exact k-nearest-neighbour queries (:func:`kth_neighbour`, max-norm or
Euclidean): depth first, nearer child first, a node skipped when its box is no nearer than
the current (k+1)-th candidate. The box distance is a lower bound on every inside point's
float64 distance by the same monotonicity (the Euclidean one sums the squared gaps in the
order the point distance sums its squared differences), so pruning never drops a point that
could enter the candidates, and the distances equal cKDTree's and the brute force's bit for
bit. The tree is built by median selection (O(n) per level), moving the rows themselves
into leaf order so that node passes and leaf scans read memory sequentially, and queries
run in that order, so consecutive queries find their leaves in cache.
"""
from __future__ import annotations

import numba
import numpy as np

from .brute_force import _split_linear, _split_rows, self_inside

_JIT = dict(nogil=True, cache=True, boundscheck=False, error_model="numpy")
_LEAF = 16


@numba.njit(inline="always", **_JIT)
def _swap(tp, perm, i, j):
    perm[i], perm[j] = perm[j], perm[i]
    for c in range(tp.shape[1]):
        tp[i, c], tp[j, c] = tp[j, c], tp[i, c]


@numba.njit(**_JIT)
def _select(tp, c, perm, a, b, kth):
    """Reorder rows a..b of ``tp`` (and ``perm`` with them) so that row kth holds a
    median-rank value of column c, rows before it no larger and rows after it no smaller
    (Hoare's selection, median-of-three pivot): O(n) on average where sorting the node costs
    O(n log n), and all a median split needs."""
    lo, hi = a, b - 1
    while hi > lo:
        x, y, z = tp[lo, c], tp[(lo + hi) >> 1, c], tp[hi, c]
        pivot = max(min(x, y), min(max(x, y), z))
        i, j = lo, hi
        while i <= j:
            while tp[i, c] < pivot:
                i += 1
            while tp[j, c] > pivot:
                j -= 1
            if i <= j:
                _swap(tp, perm, i, j)
                i += 1
                j -= 1
        # now lo..j <= pivot <= i..hi, and everything strictly between j and i equals it
        if kth <= j:
            hi = j
        elif kth >= i:
            lo = i
        else:
            return


@numba.njit(**_JIT)
def _build(points, leaf):
    """perm (points in leaf order), tp = points[perm], per node: start, stop, left child
    (−1: leaf; the right child is left + 1), box. The rows themselves are moved while the
    tree is built, so every pass over a node and every later leaf scan reads memory in
    order (with an index into the original rows instead: 4x slower at n = 20 000)."""
    n, d = points.shape
    cap = 2 * (n // leaf + 1) * 2 + 1
    start = np.empty(cap, np.int64)
    stop = np.empty(cap, np.int64)
    left = np.full(cap, -1, np.int64)
    lo = np.empty((cap, d))
    hi = np.empty((cap, d))
    perm = np.arange(n)
    tp = points.copy()
    stack = np.empty(cap, np.int64)
    start[0], stop[0] = 0, n
    count, top = 1, 0
    stack[0] = 0
    while top >= 0:
        node = stack[top]
        top -= 1
        a, b = start[node], stop[node]
        for c in range(d):
            lo[node, c] = hi[node, c] = tp[a, c]
        for i in range(a + 1, b):
            for c in range(d):
                v = tp[i, c]
                lo[node, c] = min(lo[node, c], v)
                hi[node, c] = max(hi[node, c], v)
        widest, width = 0, -1.0
        for c in range(d):
            if hi[node, c] - lo[node, c] > width:
                widest, width = c, hi[node, c] - lo[node, c]
        if b - a <= leaf or width <= 0.0:
            continue
        mid = (a + b) // 2
        _select(tp, widest, perm, a, b, mid)
        left[node] = count
        start[count], stop[count] = a, mid
        start[count + 1], stop[count + 1] = mid, b
        stack[top + 1], stack[top + 2] = count, count + 1
        top += 2
        count += 2
    return perm, tp, start[:count], stop[:count], left[:count], lo[:count], hi[:count]


@numba.njit(**_JIT)
def _count(tp, perm, start, stop, left, lo, hi, radii, strict, first, last, out):
    """out[perm[q]] for q in first..last: points within radii[perm[q]] of point perm[q]
    (row q of the leaf-ordered points ``tp``), < if ``strict``, else ≤.

    Strict counts compare with the float just below r (for floats, x < r ⇔ x ≤ that
    float), so one test serves both. Per node, ``gap`` is the max-norm distance to its box
    (no point of it is nearer) and ``far`` to the box's farthest corner (none is farther):
    the node is wholly outside when gap > r, wholly inside when far ≤ r (see the module
    docstring for why these float comparisons are exact)."""
    d = tp.shape[1]
    stack = np.empty(256, np.int64)
    qv = np.empty(d)
    for q in range(first, last):
        i = perm[q]
        r = radii[i]
        if strict:  # d < r <=> d <= the float below r (d >= 0: nothing when r <= 0)
            if r <= 0.0:
                out[i] = 0
                continue
            r = np.nextafter(r, 0.0)
        for c in range(d):
            qv[c] = tp[q, c]
        total = 0
        top = 0
        stack[0] = 0
        while top >= 0:
            node = stack[top]
            top -= 1
            far = 0.0
            gap = 0.0
            for c in range(d):
                v = qv[c]
                a = lo[node, c]
                b = hi[node, c]
                far = max(far, max(b - v, v - a))
                gap = max(gap, max(a - v, v - b))
            if gap > r:
                continue
            if far <= r:
                total += stop[node] - start[node]
                continue
            child = left[node]
            if child < 0:
                if d == 2:  # the commonest case unrolled
                    for p in range(start[node], stop[node]):
                        total += max(abs(tp[p, 0] - qv[0]), abs(tp[p, 1] - qv[1])) <= r
                else:
                    for p in range(start[node], stop[node]):
                        dist = 0.0
                        for c in range(d):
                            dist = max(dist, abs(tp[p, c] - qv[c]))
                        total += dist <= r
                continue
            stack[top + 1] = child
            stack[top + 2] = child + 1
            top += 2
        out[i] = total


@numba.njit(inline="always", **_JIT)
def _sq_sum(g, d):
    """Σ_c g[c]² summed in cKDTree's order (``sqeuclidean_distance_double``: four running
    sums over the columns in steps of four, added up, then the remaining columns one by one),
    so that Euclidean distances equal scipy's bit for bit."""
    i = 0
    a0 = a1 = a2 = a3 = 0.0
    while i + 4 <= d:
        a0 += g[i] * g[i]
        a1 += g[i + 1] * g[i + 1]
        a2 += g[i + 2] * g[i + 2]
        a3 += g[i + 3] * g[i + 3]
        i += 4
    s = a0 + a1 + a2 + a3
    while i < d:
        s += g[i] * g[i]
        i += 1
    return s


@numba.njit(inline="always", **_JIT)
def _box_distance(qv, lo, hi, node, euclid, gap):
    """Lower bound on the distance from the point ``qv`` to every point of ``node``: the
    per-column gaps to the node's box, combined like a point's distance (max, or the squared
    sum in the same order). Rounding is monotone, so each gap is at most that column's
    rounded difference for every point inside, and so is the combination."""
    d = qv.size
    m = 0.0
    for c in range(d):
        v = qv[c]
        g = max(lo[node, c] - v, v - hi[node, c], 0.0)
        gap[c] = g
        m = max(m, g)
    return _sq_sum(gap, d) if euclid else m


@numba.njit(**_JIT)
def _knn(tp, perm, start, stop, left, lo, hi, k, euclid, first, last, dist_out, idx_out):
    """For the rows q in first..last of the leaf-ordered points ``tp`` (tp[q] is the original
    row i = perm[q]): dist_out[i], the (k+1)-th smallest distance to any row (itself
    included, so the k-th *other*), Euclidean if ``euclid`` (else the max-norm); idx_out[i],
    the original rows of the k + 1 nearest, nearest first (squared distances are compared
    throughout, the root taken at the end, as cKDTree does). Depth first, always into the
    nearer child, the farther one kept on a stack with its box distance; a pending node is
    dropped when its box is no nearer than the current (k+1)-th candidate, a point when it
    is not strictly nearer, so among equidistant points the one found first stays. Until
    k + 1 candidates are held every point and node is taken, so distances that overflow to
    inf still fill the list with real rows."""
    d = tp.shape[1]
    m = k + 1
    best = np.empty(m)
    where = np.empty(m, np.int64)
    stack = np.empty(256, np.int64)
    bound = np.empty(256)
    gap = np.empty(d)
    diff = np.empty(d)
    qv = np.empty(d)
    for q in range(first, last):
        for c in range(d):  # a copy the compiler may keep in registers
            qv[c] = tp[q, c]
        best[:] = np.inf
        worst = np.inf
        filled = 0
        top = -1
        node = 0
        while True:
            child = left[node]
            if child < 0:
                for p in range(start[node], stop[node]):
                    if d == 2 and not euclid:  # the commonest case unrolled: 10-15 % faster
                        dist = max(abs(tp[p, 0] - qv[0]), abs(tp[p, 1] - qv[1]))
                    elif euclid:
                        for c in range(d):
                            diff[c] = tp[p, c] - qv[c]
                        dist = _sq_sum(diff, d)
                    else:
                        dist = 0.0
                        for c in range(d):
                            dist = max(dist, abs(tp[p, c] - qv[c]))
                    if dist < worst or filled < m:
                        j = min(filled, k)
                        filled = min(filled + 1, m)
                        while j > 0 and best[j - 1] > dist:
                            best[j] = best[j - 1]
                            where[j] = where[j - 1]
                            j -= 1
                        best[j] = dist
                        where[j] = p
                        worst = best[k]
                # next: pop the nearest pending node that can still hold a nearer point
                node = -1
                while top >= 0:
                    if bound[top] < worst or filled < m:
                        node = stack[top]
                        top -= 1
                        break
                    top -= 1
                if node < 0:
                    break
                continue
            a = _box_distance(qv, lo, hi, child, euclid, gap)
            b = _box_distance(qv, lo, hi, child + 1, euclid, gap)
            if a <= b:
                if b < worst or filled < m:
                    top += 1
                    stack[top], bound[top] = child + 1, b
                node = child  # the nearer child is entered at once (at worst in vain)
            else:
                if a < worst or filled < m:
                    top += 1
                    stack[top], bound[top] = child, a
                node = child + 1
        i = perm[q]
        dist_out[i] = np.sqrt(worst) if euclid else worst
        for j in range(m):
            idx_out[i, j] = perm[where[j]]


def kth_neighbour(points: np.ndarray, k: int, p: float = np.inf,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every row to its k-th nearest *other* row and the k + 1 nearest rows
    (itself included, nearest first), in the max-norm (``p`` = inf) or the Euclidean norm
    (``p`` = 2): exact k-NN on this kd-tree, the queries in leaf order (consecutive queries
    visit the same, cached, leaves), the rows shared out to one thread per core for large n.

    The distances equal cKDTree's and the brute force's bit for bit (the same float64
    arithmetic: max |Δ|, or Σ Δ² summed in cKDTree's order, then sqrt). Among equidistant
    neighbours any may be returned (the first met in the search), like a tree; only the
    indices can differ then, never the k-th distance. Needs n > k."""
    if p not in (2, np.inf):
        raise ValueError(f"p must be 2 or inf, not {p!r}")
    points = np.ascontiguousarray(points, dtype=np.float64)
    n = len(points)
    if n <= k:
        raise ValueError(f"need more than k = {k} points, got {n}")
    perm, tp, start, stop, left, lo, hi = _build(points, _LEAF)
    eps = np.empty(n)
    idx = np.empty((n, k + 1), dtype=np.int64)
    _split_linear(n, lambda a, b: _knn(tp, perm, start, stop, left, lo, hi, int(k), p == 2,
                                       a, b, eps, idx))
    return eps, idx


def count_rows(points: np.ndarray, radii: np.ndarray, strict: bool) -> np.ndarray:
    """For every row, the number of *other* rows within radii[i] in the max-norm (< if
    ``strict``, else ≤), as :func:`workbench.estimators.knn.count_neighbours` defines it."""
    points = np.ascontiguousarray(points, dtype=np.float64)
    radii = np.ascontiguousarray(radii, dtype=np.float64)
    perm, tp, start, stop, left, lo, hi = _build(points, _LEAF)
    inside = np.empty(len(points), dtype=np.int64)
    # a count visits every node cut by its ball, far more work per row than a k-NN query, so
    # rows are shared out like the O(n²) sweeps (_split_rows), not from THREADED_MIN_N
    _split_rows(len(points), lambda a, b: _count(tp, perm, start, stop, left, lo, hi,
                                                 radii, bool(strict), a, b, inside))
    return inside - self_inside(radii, strict)


def warm_up() -> None:
    """Compile (or load from numba's disk cache) the kernels on a few points."""
    points = np.random.default_rng(0).standard_normal((64, 2))
    count_rows(points, np.full(64, 0.5), True)
    count_rows(points, np.full(64, 0.5), False)
    kth_neighbour(points, 3, np.inf)
    kth_neighbour(points, 3, 2)
