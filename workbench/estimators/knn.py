"""k-nearest-neighbour estimators: Kozachenko–Leonenko entropy, KSG mutual information
(both variants), Frenzel–Pompe conditional MI and the Gao et al. mixed estimator.

Neighbour searches never build an n × n matrix. Two exact engines, chosen per task by
:func:`use_brute_force` from the sample size and the dimension:

* trees: :class:`scipy.spatial.cKDTree` (O(n log n) in low dimension, queries spread over all
  cores with ``workers=-1``); one-dimensional marginal counts use a sorted array and
  ``np.searchsorted``, several times faster than a tree and exact (see :func:`count_neighbours`);
* blocked brute force, O(n²) time: in several dimensions a max-norm ball that holds k points is
  wide, trees visit most of their leaves and their per-point-radius counts
  (``query_ball_point``) crawl, so for moderate n it is faster to sweep blocks of rows against
  all points with int16 SIMD arithmetic, the joint k-NN and every marginal count in one sweep
  (:func:`neighbour_counts`), and to settle the few borderline pairs in float64. Memory: a few
  (block × n) int16 arrays of ~1 MB per thread, kept between calls; blocks are shared out to
  one thread per core.

Both give identical distances and counts: every decision is the float64 comparison
``max_j |v_j − w_j|`` (<, ≤) r, the quantity the O(n²) definition :func:`naive_ksg` uses.

Ties: kNN estimators assume continuous data. Repeated points (distance 0) break the
derivations, so ``kl``, ``ksg`` and ``ksg2`` add a tiny seeded Gaussian *jitter*
(``jitter`` × the column's standard deviation, 1e-10 by default) purely to break ties; it moves
every estimate by far less than its statistical error. Data with genuine atoms (discrete or
mixed variables) belong to ``mixed``, which handles ties exactly instead.
"""
from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import param
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

from ..errors import EstimationError
from ..validation import as_samples, check_seed, drop_constant_columns
from . import register
from .base import Estimator, Seeded

#: Passes of the exactness fix-up in the 1-D counter; each pass moves an interval end by one
#: element and rounding can misplace it by a handful of floats at most.
_MAX_FIXUP_PASSES = 64

#: ``algorithm`` values of the neighbour functions: "auto" applies :func:`use_brute_force`.
ALGORITHMS = ("auto", "brute", "tree")

#: Crossover of the engines: the largest n for which the brute force is faster, by task and
#: number of dimensions d (the entry for the largest listed d' <= d applies; none: never).
#: Measured on this project's 2-core machine under load (scipy 1.17, numpy 2.4, CPU time,
#: correlated Gaussians, k = 3; benchmarks/bench_knn.py prints a comparison). The brute force
#: costs about 0.16 ns × n² × (d + 15); trees grow far more slowly in n but steeply with d.
#: "ksg": joint k-NN plus marginal counts in one sweep, d = joint dimensions, against a tree
#:   k-NN plus counts that each pick their own engine (the "hybrid"). 5+5 dims, n = 5000:
#:   107 vs 442 ms with trees only, n = 40 000: 8.5 vs 14.2 s; 8+8, n = 40 000: 10 vs 53 s;
#:   4+4, n = 20 000: 1.45 vs 1.56 s (hybrid); 4+3, n = 20 000: 1.40 vs 1.44 s; 3+3,
#:   n = 5000: 87 vs 94 ms, n = 10 000: 340 vs 346 ms; 2+2, n = 5000: 89 vs 73 ms.
#: "knn": the k-th neighbour alone. 8 dims, n = 10 000: 203 vs 197 ms; 10 dims: 235 vs 371 ms,
#:   n = 40 000: 3.6 vs 2.9 s; 6 dims, n = 2000: 15 vs 12 ms.
#: "count": per-point-radius counts alone. 2 dims, n = 2000: 7 vs 10 ms, n = 5000: 28 vs 29 ms;
#:   3 dims, n = 10 000: 123 vs 179 ms, n = 40 000: 1.8 vs 1.4 s; 4 dims, n = 40 000: 2.2 vs
#:   2.9 s; 5 dims, n = 5000: 55 vs 815 ms.
#: The brute force takes fewer than 65 536 points (its per-row counts are uint16).
_BRUTE_MAX_N = {
    "ksg": {6: 10_000, 7: 20_000, 8: 40_000, 10: 65_535},
    "knn": {8: 10_000, 10: 25_000},
    "count": {2: 3_000, 3: 20_000, 4: 50_000, 5: 65_535},
}


def use_brute_force(n: int, dims: int, task: str = "ksg") -> bool:
    """Whether the blocked brute force (True) or the trees (False) are faster for ``task``
    ("ksg", "knn" or "count", see ``_BRUTE_MAX_N``) on n points in ``dims`` dimensions."""
    limits = _BRUTE_MAX_N[task]
    listed = [d for d in limits if d <= dims]
    return bool(listed) and n <= limits[max(listed)]


def _check_algorithm(algorithm: str) -> None:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, not {algorithm!r}")


# ----- tree engine -----------------------------------------------------------------------------
def _tree(points: np.ndarray, leafsize: int = 16) -> cKDTree:
    # Measured (scipy 1.17, n = 5000 to 100 000, d = 2 to 10): balanced trees cost a
    # millisecond more to build and query 5-30 % faster; the per-point-radius counts run
    # fastest with leaves of about 64 points (up to 2x faster than 16 at d >= 5).
    return cKDTree(points, leafsize=leafsize)


def kth_neighbour(points: np.ndarray, k: int, p: float = np.inf,
                  tree: cKDTree | None = None,
                  algorithm: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Distance to the k-th nearest *other* point of every row, and the indices of the k + 1
    nearest points (the row itself included), in the ``p``-norm. ``algorithm`` picks the
    engine ("auto", "brute" or "tree"; the brute force serves the max-norm only). Among
    equidistant k-th neighbours the brute force returns the lowest indices, a tree any."""
    _check_algorithm(algorithm)
    points = np.ascontiguousarray(points, dtype=np.float64)
    brute = p == np.inf and tree is None and (
        algorithm == "brute" or (algorithm == "auto"
                                 and use_brute_force(*points.shape, task="knn")))
    if brute:
        eps, idx, _ = _brute_force([points], k, (), None, strict=False)
        return eps, idx
    tree = _tree(points) if tree is None else tree
    dist, idx = tree.query(points, k=k + 1, p=p, workers=-1)
    return dist[:, k], idx


def _within(dist: np.ndarray, radii: np.ndarray, strict: bool) -> np.ndarray:
    return dist < radii if strict else dist <= radii


def _count_1d(v: np.ndarray, radii: np.ndarray, strict: bool) -> np.ndarray:
    """Rows j with |v_j − v_i| (<, ≤) r_i, self included, on a sorted copy of ``v``.

    ``searchsorted(v ± r)`` compares against the rounded sums v_i ± r_i, which can disagree with
    the rounded difference |v_j − v_i| (the quantity trees and the joint-space search use) for
    values within a few ulps of the boundary. Because the rounded difference is monotone in
    v_j, the points within r_i form one contiguous run of the sorted values, and a few
    vectorised passes move each end of the run until it agrees with the rounded difference
    exactly.
    """
    s = np.sort(v)
    n = s.size
    hi = np.searchsorted(s, v + radii, side="left" if strict else "right")
    lo = np.searchsorted(s, v - radii, side="right" if strict else "left")
    for _ in range(_MAX_FIXUP_PASSES):
        changed = False
        grow = hi < n
        grow[grow] = _within(np.abs(s[hi[grow]] - v[grow]), radii[grow], strict)
        shrink = hi > 0
        shrink[shrink] = ~_within(np.abs(s[hi[shrink] - 1] - v[shrink]), radii[shrink], strict)
        shrink &= hi > lo
        hi = hi + grow - shrink
        changed |= bool(grow.any() or shrink.any())
        grow = lo > 0
        grow[grow] = _within(np.abs(s[lo[grow] - 1] - v[grow]), radii[grow], strict)
        shrink = lo < n
        shrink[shrink] = ~_within(np.abs(s[lo[shrink]] - v[shrink]), radii[shrink], strict)
        shrink &= lo < hi
        lo = lo - grow + shrink
        changed |= bool(grow.any() or shrink.any())
        if not changed:
            return np.maximum(hi - lo, 0)
    raise EstimationError("neighbour counting did not converge; the data contain values too "
                          "close to tell apart in float64 (rescale them)")  # pragma: no cover


def _self_inside(radii: np.ndarray, strict: bool) -> np.ndarray:
    return radii > 0 if strict else radii >= 0


def count_neighbours(points: np.ndarray, radii: np.ndarray, *, strict: bool,
                     tree: cKDTree | None = None, algorithm: str = "auto") -> np.ndarray:
    """For every row i, the number of *other* rows j with ‖p_j − p_i‖_∞ < r_i (``strict``) or
    ≤ r_i, exactly as float64 computes the max-norm distance. ``algorithm``: "auto", "brute"
    or "tree" (one-dimensional points always use the exact sorted counter).

    Trees count "≤ r"; strictness is exact because for floats d < r ⇔ d ≤ nextafter(r, 0).
    """
    _check_algorithm(algorithm)
    points = np.ascontiguousarray(points, dtype=np.float64)
    radii = np.asarray(radii, dtype=np.float64)
    if points.shape[1] == 1:
        return np.asarray(_count_1d(points[:, 0], radii, strict), dtype=np.int64) \
            - _self_inside(radii, strict)
    if tree is None and (algorithm == "brute" or (
            algorithm == "auto" and use_brute_force(*points.shape, task="count"))):
        _, _, (inside,) = _brute_force([points], None, [(0,)],
                                       lambda rows, eps, idx: [radii[rows]], strict=strict)
        return inside
    r = np.nextafter(radii, 0) if strict else radii
    tree = _tree(points, leafsize=64) if tree is None else tree
    inside = tree.query_ball_point(points, r=np.maximum(r, 0), p=np.inf,
                                   return_length=True, workers=-1)
    # nextafter(0, 0) is 0, which would count duplicates as "strictly closer" than 0
    inside = np.where(strict & (radii <= 0), 0, inside)
    return np.asarray(inside, dtype=np.int64) - _self_inside(radii, strict)


#: radii(rows, eps, idx) -> one array of radii for ``rows`` per counted space, given the
#: rows' joint k-th neighbour distances and neighbour indices (None when no k-NN was asked).
RadiiFn = Callable[[slice, np.ndarray, np.ndarray], Sequence[np.ndarray]]


def neighbour_counts(blocks: Sequence[np.ndarray], k: int, spaces: Sequence[tuple[int, ...]],
                     radii: RadiiFn, *, strict: bool, algorithm: str = "auto",
                     ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The KSG-type neighbour statistics in one call.

    ``blocks`` are (n, d_b) float64 arrays (x, y, z, ...) that together form the joint
    max-norm space. Returns ``eps`` (distance of every row to its k-th nearest other point in
    the joint space), ``idx`` (indices of the k + 1 nearest, the row itself included) and, for
    every space in ``spaces`` (a tuple of block numbers, e.g. ``(0, 2)`` for the x-z space),
    the number of *other* rows within ``radii(...)[space]`` of each row in that space,
    strictly (<) or not (≤), as :func:`count_neighbours` counts. ``radii`` (see
    ``RadiiFn``) may depend on each row's k-NN result, as KSG-2's do. ``algorithm``: "auto"
    (:func:`use_brute_force`), "brute" (one blocked sweep) or "tree" (trees only).
    """
    _check_algorithm(algorithm)
    blocks = [np.ascontiguousarray(b, dtype=np.float64) for b in blocks]
    n, dims = len(blocks[0]), sum(b.shape[1] for b in blocks)
    if algorithm == "brute" or (algorithm == "auto" and use_brute_force(n, dims)):
        return _brute_force(blocks, k, spaces, radii, strict=strict)
    # the joint k-NN and each count pick their engine separately ("tree" forces trees)
    part = "auto" if algorithm == "auto" else "tree"
    eps, idx = kth_neighbour(np.hstack(blocks), k, algorithm=part)
    counts = [count_neighbours(np.hstack([blocks[b] for b in space]), r, strict=strict,
                               algorithm=part)
              for space, r in zip(spaces, radii(slice(0, n), eps, idx))]
    return eps, idx, counts


# ----- brute-force engine ------------------------------------------------------------------
# Every coordinate v becomes the int16 code floor((v − low) / h) − _QMAX, with one step h for
# all columns (the max-norm compares columns directly) so that code differences fit in int16.
# For any pair, the float64 max-norm distance D and the code distance C = max_j |Δcode_j|
# satisfy |D / h − C| < 1 + 1e-10 (one step for the floors, float rounding far below a step),
# so with a margin of _MARGIN steps: C ≤ r/h − _MARGIN ⇒ D < r (surely inside) and
# C ≥ r/h + _MARGIN ⇒ D > r (surely outside). Only the pairs in between, about one per row
# (the k-th neighbour itself sits on the boundary), are settled in float64.
_QMAX = 16383
_MARGIN = 2
_I16 = np.iinfo(np.int16).max
#: Work arrays hold about this many pairs (rows × n): large enough to amortise the Python
#: overhead per numpy call, small enough for the level-2/3 caches.
_BLOCK_PAIRS = 1 << 19
#: The k-NN threshold halves the columns down to at least this many disjoint groups
#: (and at least 2(k + 1)): fewer groups make the per-row partition cheaper, more give a
#: tighter bound (4.4 candidates per row at 32 groups, 4.2 at 64, for k = 3 and n = 5000).
_GROUPS = 32


def _codes(blocks: Sequence[np.ndarray]) -> tuple[list[np.ndarray], float]:
    """int16 codes, one (d_b, n) C-contiguous array per block, and the common step h."""
    lows = [b.min(axis=0) for b in blocks]
    span = max(float((b.max(axis=0) - lo).max()) for b, lo in zip(blocks, lows))
    step = span / (2 * _QMAX - 2) if span > 0 else 1.0
    codes = [np.ascontiguousarray((np.floor((b - lo) / step) - _QMAX).astype(np.int16).T)
             for b, lo in zip(blocks, lows)]
    return codes, step


class _Workspace(threading.local):
    """Per-thread work arrays (rows × n), kept between calls (a few MB per thread): fresh
    megabyte-sized arrays cost ~3 ms of page faults per call at n = 5000."""

    def setup(self, rows: int, n: int, arrays: int) -> None:
        if getattr(self, "shape", None) != (rows, n, arrays):
            self.shape = (rows, n, arrays)
            self.codes = [np.empty((rows, n), np.int16) for _ in range(arrays)]
            self.tmp = np.empty((rows, n), np.int16)
            self.mask = np.empty((rows, n), bool)
            self.half = np.empty((rows, (n + 1) // 2), np.int16)
            self.quarter = np.empty((rows, (n + 3) // 4), np.int16)


def _code_distance(codes: np.ndarray, rows: slice, out: np.ndarray, tmp: np.ndarray) -> None:
    """out[i, j] = max over coordinates of |code[i] − code[j]| for i in ``rows``."""
    np.subtract(codes[0, rows, None], codes[0], out=out)
    np.abs(out, out=out)
    for c in codes[1:]:
        np.subtract(c[rows, None], c, out=tmp)
        np.abs(tmp, out=tmp)
        np.maximum(out, tmp, out=out)


def _block_kth(dist: np.ndarray, points: np.ndarray, start: int, k: int,
               ws: _Workspace) -> tuple[np.ndarray, np.ndarray]:
    """Exact k-th neighbour distances and k + 1 nearest indices of rows start.. from their
    code distances ``dist`` (rows × n)."""
    rows, n = dist.shape
    # Split the first m columns into `groups` interleaved groups of 2^s (group g holds columns
    # g, g + groups, ...); the rest (< 2^s columns) stay single. The (k+1)-th smallest of the
    # group minima and single columns bounds the (k+1)-th smallest code distance from above
    # (the row itself counts, at 0), so k + 1 points lie within (bound + 1) h and every point
    # within the k-th neighbour distance has code distance < bound + 2.
    shift = max(0, int(math.log2(n / max(_GROUPS, 2 * (k + 1)))))
    groups = n >> shift
    m = groups << shift
    mins, buffers = dist[:, :m], (ws.half, ws.quarter)
    for _ in range(shift):  # halving, two buffers in turn (numpy copies overlapping operands)
        half = mins.shape[1] // 2
        out, buffers = buffers[0][:rows, :half], buffers[::-1]
        np.minimum(mins[:, :half], mins[:, half:], out=out)
        mins = out
    single = dist[:, m:]
    bound = np.partition(np.concatenate([mins, single], axis=1), k, axis=1)[:, k]
    bound = np.minimum(bound.astype(np.int32) + _MARGIN, _I16).astype(np.int16)[:, None]
    # candidates: members of the groups whose minimum is within the bound
    grow, group = np.divmod(np.flatnonzero(mins <= bound), groups)
    members = dist[:, :m].reshape(rows, 1 << shift, groups)[grow, :, group]
    hit, pos = np.divmod(np.flatnonzero(members <= bound[grow]), 1 << shift)
    srow, scol = np.divmod(np.flatnonzero(single <= bound), max(n - m, 1))
    row = np.concatenate([grow[hit], srow])
    col = np.concatenate([pos * groups + group[hit], scol + m])
    exact = np.abs(points[row + start] - points[col]).max(axis=1)
    order = np.lexsort((col, exact, row))  # by row, then distance, then index
    row = row[order]
    nearest = order[np.searchsorted(row, np.arange(rows))[:, None] + np.arange(k + 1)]
    return exact[nearest[:, k]], col[nearest]


def _block_count(dist: np.ndarray, points: np.ndarray, start: int, radii: np.ndarray,
                 strict: bool, step: float, ws: _Workspace) -> np.ndarray:
    """Rows j (self included) with ‖p_j − p_i‖_∞ (<, ≤) r_i for the rows i = start..,
    from their code distances ``dist``; undecided pairs are settled in float64. (One scan
    for the undecided pairs of all spaces together measured no faster: it needs one more
    array.)"""
    rows, n = dist.shape
    level = radii / step
    low = np.clip(np.floor(level) - (_MARGIN - 1), -1, _I16)  # code distance < low: inside
    high = np.clip(np.ceil(level) + _MARGIN, 0, _I16)  # code distance >= high: outside
    shifted, mask = ws.tmp[:rows], ws.mask[:rows]
    np.subtract(dist, low.astype(np.int16)[:, None], out=shifted)
    np.less(shifted, 0, out=mask)
    inside = np.add.reduce(mask.view(np.uint8), axis=1, dtype=np.uint16).astype(np.int64)
    # low <= distance < high, as one unsigned comparison
    np.less(shifted.view(np.uint16), (high - low).astype(np.uint16)[:, None], out=mask)
    row, col = np.divmod(np.flatnonzero(mask), n)
    if row.size:
        exact = np.abs(points[row + start] - points[col]).max(axis=1)
        inside += np.bincount(row[_within(exact, radii[row], strict)], minlength=rows)
    return inside


def _brute_force(blocks: Sequence[np.ndarray], k: int | None,
                 spaces: Sequence[tuple[int, ...]], radii: RadiiFn | None, *, strict: bool,
                 ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """:func:`neighbour_counts` by blocks of rows against all points (k None: counts only)."""
    n = len(blocks[0])
    if n >= 1 << 16:  # per-row counts are accumulated in uint16
        raise ValueError("the brute-force neighbour search takes fewer than 65536 points")
    codes, step = _codes(blocks)
    joint = np.ascontiguousarray(np.hstack(blocks))
    in_space = [joint if len(s) == len(blocks) else np.ascontiguousarray(
        np.hstack([blocks[b] for b in s])) for s in spaces]
    multi = [i for i, s in enumerate(spaces) if 1 < len(s) < len(blocks)]
    whole = tuple(range(len(blocks)))
    counts_joint = whole in [tuple(s) for s in spaces]
    joint_array = counts_joint and len(blocks) > 1  # needs its own array (see below)
    eps = np.zeros(n)
    idx = np.zeros((n, 0 if k is None else k + 1), dtype=np.intp)
    counts = [np.empty(n, dtype=np.int64) for _ in spaces]
    rows = int(min(n, max(8, _BLOCK_PAIRS // n)))
    ws = _WORKSPACE

    def run(start: int) -> None:
        stop = min(start + rows, n)
        sl, r = slice(start, stop), stop - start
        ws.setup(rows, n, len(blocks) + len(multi) + joint_array)
        per_block = [a[:r] for a in ws.codes[:len(blocks)]]
        for c, out in zip(codes, per_block):
            _code_distance(c, sl, out, ws.tmp[:r])

        def combined(members: Sequence[int], out: np.ndarray) -> np.ndarray:
            if len(members) == 1:
                return per_block[members[0]]
            np.maximum(per_block[members[0]], per_block[members[1]], out=out)
            for b in members[2:]:
                np.maximum(out, per_block[b], out=out)
            return out

        # the joint distances go to the scratch array, which the k-NN step leaves alone,
        # unless a count needs them after other counts have used the scratch array
        joint_dist = None if k is None and not counts_joint else combined(
            whole, (ws.codes[-1] if joint_array else ws.tmp)[:r])
        e = nb = None
        if k is not None:
            e, nb = _block_kth(joint_dist, joint, start, k, ws)
            eps[sl], idx[sl] = e, nb
        if not spaces:
            return
        for i, (space, rad) in enumerate(zip(spaces, radii(sl, e, nb))):
            if tuple(space) == whole:
                dist = joint_dist
            else:
                extra = ws.codes[len(blocks) + multi.index(i)][:r] if i in multi else None
                dist = combined(space, extra)
            rad = np.asarray(rad, dtype=np.float64)
            counts[i][sl] = _block_count(dist, in_space[i], start, rad, strict, step, ws) \
                - _self_inside(rad, strict)

    starts = range(0, n, rows)
    if len(starts) == 1 or _cores() == 1:
        for s in starts:
            run(s)
    else:  # numpy releases the GIL inside each pass over a block
        list(_pool().map(run, starts))
    return eps, idx, counts


_WORKSPACE = _Workspace()
_POOL: tuple[int, ThreadPoolExecutor] | None = None
_POOL_LOCK = threading.Lock()


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1


def _pool() -> ThreadPoolExecutor:
    """One pool of worker threads per process (its threads keep their workspaces); a forked
    child, which inherits the object but not its threads, makes its own."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():
            _POOL = (os.getpid(),
                     ThreadPoolExecutor(_cores(), thread_name_prefix="workbench-knn"))
        return _POOL[1]


def _forget_pool_after_fork() -> None:
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()  # the parent's lock may have been held


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def condition_columns(rng: np.random.Generator, *arrays: np.ndarray, normalize: bool,
                      jitter: float) -> list[np.ndarray]:
    """Centre every column, scale it to unit std (``normalize``) and add seeded tie-breaking
    noise of ``jitter`` × the column's std. Centring first keeps the jitter above float64
    resolution for data far from 0. Columns must not be constant."""
    out = []
    for a in arrays:
        a = a - a.mean(axis=0)
        std = a.std(axis=0)
        if normalize:
            a = a / std
            std = np.ones_like(std)
        if jitter > 0:
            a = a + (jitter * std) * rng.standard_normal(a.shape)
        out.append(np.ascontiguousarray(a))
    return out


def _check_no_duplicates(eps: np.ndarray, what: str) -> None:
    zero = int(np.count_nonzero(eps <= 0))
    if zero:
        raise EstimationError(
            f"{zero} point(s) have their k-th neighbour at distance 0 in {what} (repeated "
            "rows), which the kNN formulas cannot handle; raise the `jitter` knob (tie "
            "breaking), increase `k`, or use method='mixed' for data with repeated values")


def unit_ball_log_volume(d: int, norm: str) -> float:
    """log of the volume of the unit ball in d dimensions: Euclidean π^{d/2}/Γ(d/2+1), or the
    max-norm cube [−1, 1]^d (2^d)."""
    if norm == "chebyshev":
        return d * math.log(2.0)
    return 0.5 * d * math.log(math.pi) - float(gammaln(0.5 * d + 1.0))


# ----- estimators ----------------------------------------------------------------------------------
class _KNN(Estimator):
    family = "knn"
    duplicate_sensitive = True

    k = param.Integer(default=3, bounds=(1, None),
                      doc="Number of nearest neighbours; larger k lowers variance and raises "
                          "bias (Kraskov et al. suggest 2-4).")

    def min_samples(self) -> int:
        return self.k + 1


class _Jittered(_KNN, Seeded):
    jitter = param.Number(default=1e-10, bounds=(0, None),
                          doc="Tie breaking: Gaussian noise of this size relative to each "
                              "column's std is added (seeded) so repeated values do not give "
                              "zero distances. 0 switches it off.")


@register
class KozachenkoLeonenko(_Jittered):
    """Kozachenko & Leonenko (1987) differential entropy from k-th neighbour distances:

    H = ψ(n) − ψ(k) + log V_d + (d/n) Σ_i log ε_i

    with ε_i the distance from x_i to its k-th nearest neighbour and V_d the volume of the unit
    ball of the chosen norm (Kraskov, Stögbauer & Grassberger 2004, eq. 20). Constant columns
    are rejected: their differential entropy is −∞.
    """

    method_name = "kl"
    summary = "Kozachenko-Leonenko kNN differential entropy."
    references = ("Kozachenko & Leonenko (1987), Problems Inform. Transmission 23:95-101; "
                  "Kraskov, Stögbauer & Grassberger (2004), Phys. Rev. E 69:066138.")

    norm = param.Selector(default="euclidean", objects=["euclidean", "chebyshev"],
                          doc="Distance used for the neighbours: 'euclidean' or 'chebyshev' "
                              "(max-norm). Both are consistent; Euclidean has lower bias.")

    def _entropy(self, x):
        x = as_samples(x, "x", min_samples=self.min_samples(), allow_constant=False)
        (x,) = condition_columns(check_seed(self.seed), x, normalize=False, jitter=self.jitter)
        n, d = x.shape
        p = np.inf if self.norm == "chebyshev" else 2
        eps, _ = kth_neighbour(x, self.k, p=p)
        _check_no_duplicates(eps, "x")
        return (digamma(n) - digamma(self.k) + unit_ball_log_volume(d, self.norm)
                + d * float(np.mean(np.log(eps))))


class _KSGBase(_Jittered):
    normalize = param.Boolean(default=True,
                              doc="Scale every column to unit std first. The max-norm compares "
                                  "coordinates directly, so columns on very different scales "
                                  "would leave the neighbourhoods to the largest one; MI is "
                                  "invariant to the scaling, the estimate's bias is not.")

    copula = param.Boolean(default=False,
                           doc="Rank-transform every column to a standard normal first "
                               "(Gaussian copula). MI is invariant to such monotone maps; "
                               "heavy tails and skew, which bias kNN estimates, are removed.")

    def _conditioned(self, *arrays):
        """Constant columns dropped (they carry no information), then conditioned; None if
        x or y is left without columns (the MI is then exactly 0)."""
        arrays = [drop_constant_columns(a) for a in arrays]
        if arrays[0].shape[1] == 0 or arrays[1].shape[1] == 0:
            return None
        arrays = [a for a in arrays if a.shape[1]]
        if self.copula:
            from .gaussian import copula_normalize

            arrays = [copula_normalize(a) for a in arrays]
        return condition_columns(check_seed(self.seed), *arrays, normalize=self.normalize,
                                 jitter=self.jitter)

    def _mutual_info(self, x, y):
        parts = self._conditioned(x, y)
        if parts is None:
            return 0.0
        return self._mi_from_parts(*parts)

    def _mi_from_parts(self, x, y) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


@register
class KSG(_KSGBase):
    """Kraskov, Stögbauer & Grassberger (2004) estimator 1 (KSG-1):

    I(X;Y) = ψ(k) + ψ(n) − ⟨ψ(n_x + 1) + ψ(n_y + 1)⟩

    ε_i is the max-norm distance to the k-th neighbour in the joint space; n_x (n_y) counts the
    other points *strictly* closer than ε_i in X (Y) space. Conditional MI follows Frenzel &
    Pompe (2007):

    I(X;Y|Z) = ψ(k) − ⟨ψ(n_xz + 1) + ψ(n_yz + 1) − ψ(n_z + 1)⟩.

    The raw estimate is returned: it can be slightly negative when X and Y are (nearly)
    independent, and clamping it at 0 would bias averages upward.
    """

    method_name = "ksg"
    summary = "Kraskov-Stögbauer-Grassberger kNN MI (KSG-1); Frenzel-Pompe CMI."
    references = ("Kraskov, Stögbauer & Grassberger (2004), Phys. Rev. E 69:066138; "
                  "Frenzel & Pompe (2007), Phys. Rev. Lett. 99:204101.")

    def _mi_from_parts(self, x, y):
        eps, _, (nx, ny) = neighbour_counts([x, y], self.k, [(0,), (1,)],
                                            lambda rows, eps, idx: (eps, eps), strict=True)
        _check_no_duplicates(eps, "the joint space")
        return (digamma(self.k) + digamma(len(x))
                - float(np.mean(digamma(nx + 1.0) + digamma(ny + 1.0))))

    def _conditional_mutual_info(self, x, y, z):
        parts = self._conditioned(x, y, z)
        if parts is None:
            return 0.0
        if len(parts) == 2:  # every z column was constant: I(X;Y|Z) = I(X;Y)
            return self._mutual_info(x, y)
        eps, _, (nxz, nyz, nz) = neighbour_counts(
            parts, self.k, [(0, 2), (1, 2), (2,)], lambda rows, eps, idx: (eps, eps, eps),
            strict=True)
        _check_no_duplicates(eps, "the joint space")
        return digamma(self.k) - float(np.mean(digamma(nxz + 1.0) + digamma(nyz + 1.0)
                                               - digamma(nz + 1.0)))


@register
class KSG2(_KSGBase):
    """Kraskov, Stögbauer & Grassberger (2004) estimator 2 (KSG-2):

    I(X;Y) = ψ(k) − 1/k + ψ(n) − ⟨ψ(n_x) + ψ(n_y)⟩

    ε_x,i (ε_y,i) is the largest X (Y) distance among the k joint nearest neighbours of point
    i, and n_x (n_y) counts the other points within ε_x,i (ε_y,i), boundary included. Lower
    bias than KSG-1 in high dimension, slightly higher variance. Raw (possibly slightly
    negative) estimate.
    """

    method_name = "ksg2"
    summary = "Kraskov-Stögbauer-Grassberger kNN MI, second estimator (KSG-2)."
    references = "Kraskov, Stögbauer & Grassberger (2004), Phys. Rev. E 69:066138."

    def _mi_from_parts(self, x, y):
        def radii(rows, eps, idx):
            # the k + 1 neighbours include the point itself, which adds distance 0
            return [np.abs(v[idx] - v[rows, None, :]).max(axis=(1, 2)) for v in (x, y)]

        eps, _, (nx, ny) = neighbour_counts([x, y], self.k, [(0,), (1,)], radii, strict=False)
        _check_no_duplicates(eps, "the joint space")
        return (digamma(self.k) - 1.0 / self.k + digamma(len(x))
                - float(np.mean(digamma(nx) + digamma(ny))))


@register
class MixedKSG(_KNN):
    """Gao, Kannan, Oh & Viswanath (2017) estimator for discrete, continuous and mixed data:

    I(X;Y) = ⟨ψ(k̃_i) + log n − ψ(n_x,i) − ψ(n_y,i)⟩

    ρ_i is the max-norm distance to the k-th neighbour in the joint space. If ρ_i > 0,
    k̃_i = k and n_x,i (n_y,i) counts the points strictly closer than ρ_i in X (Y) space; if
    ρ_i = 0 (point i sits on an atom), k̃_i, n_x,i and n_y,i count the points at distance 0.
    Counts include the point itself. No jitter: ties are information here.

    This is the authors' reference implementation. The paper's display formula,
    ψ(k̃) + log n − log(n_x + 1) − log(n_y + 1) with boundary-inclusive counts, has the same
    limit but a finite-n bias of order 1/k wherever one marginal count stays small: for
    X uniform on {0, 1, 2} and Y = X + N(0, 0.5²) at n = 2000 it gives 0.27 nats against the
    exact 0.62 (this form: 0.62), and 0.05 nats low on continuous Gaussians (this form:
    0.01, i.e. ≈ KSG-1). Purely discrete data give ≈ the plug-in estimate; discrete X with
    continuous Y reduces to Ross (2014).
    """

    method_name = "mixed"
    summary = "Gao-Kannan-Oh-Viswanath kNN MI for discrete, continuous or mixed data (ties ok)."
    references = ("Gao, Kannan, Oh & Viswanath (2017), Estimating mutual information for "
                  "discrete-continuous mixtures, NeurIPS; Ross (2014), PLoS ONE 9:e87357.")
    data_kind = "any"

    normalize = param.Boolean(default=True,
                              doc="Scale every column to unit std first (the max-norm mixes "
                                  "scales; atoms stay atoms).")

    def _mutual_info(self, x, y):
        x, y = drop_constant_columns(x), drop_constant_columns(y)
        if x.shape[1] == 0 or y.shape[1] == 0:
            return 0.0
        x, y = condition_columns(None, x, y, normalize=self.normalize, jitter=0.0)

        def radii(rows, rho, idx):
            # strictly closer than rho <=> within nextafter(rho, 0); atoms count distance 0
            r = np.where(rho == 0, 0.0, np.nextafter(rho, 0))
            return r, r

        rho, _, (nx, ny) = neighbour_counts([x, y], self.k, [(0,), (1,)], radii, strict=False)
        atoms = rho == 0
        k_tilde = np.full(len(x), float(self.k))
        if atoms.any():
            xy = np.hstack([x, y])
            k_tilde[atoms] = _tree(xy).query_ball_point(xy[atoms], r=0.0, p=np.inf,
                                                        return_length=True, workers=-1)
        return float(np.mean(digamma(k_tilde) - digamma(nx + 1.0) - digamma(ny + 1.0))) \
            + math.log(len(x))


def naive_ksg(x: np.ndarray, y: np.ndarray, k: int = 3) -> float:
    """KSG-1 in nats straight from the definition with full n × n distance matrices:
    O(n²) time and memory. A reference for tests and benchmarks, not for use; it applies no
    jitter or scaling, so pass continuous, already scaled 2-D arrays."""
    dx = np.abs(x[:, None, :] - x[None, :, :]).max(axis=2)
    dy = np.abs(y[:, None, :] - y[None, :, :]).max(axis=2)
    eps = np.sort(np.maximum(dx, dy), axis=1)[:, k]  # column 0 is the point itself
    nx = (dx < eps[:, None]).sum(axis=1) - 1
    ny = (dy < eps[:, None]).sum(axis=1) - 1
    n = len(x)
    return float(digamma(k) + digamma(n) - np.mean(digamma(nx + 1.0) + digamma(ny + 1.0)))
