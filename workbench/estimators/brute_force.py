"""Exact blocked brute-force neighbour search in the max-norm, compiled with numba.

For moderate n in several dimensions a max-norm ball that holds k points is wide: kd-trees
visit most of their leaves and their per-point-radius counts crawl. Sweeping every row against
all points is then faster, if each pair costs a handful of SIMD instructions. Two kernels do
the sweep, each for a range of rows, without the GIL (rows are shared out to one thread per
core):

* :func:`_neighbour_rows`: distance to the k-th nearest other point, the k + 1 nearest
  indices and, in the same sweep, the number of points within the radius a rule derives from
  them in each counted space (KSG-type statistics);
* :func:`_count_rows`: the number of points within given per-row radii (< or ≤).

Exactness. Every coordinate v becomes the integer code floor((v − low) / h) − _QMAX, held in
float32 (exact below 2^24), with one step h for all columns (the max-norm compares columns
directly). For any pair, the float64 max-norm distance D and the code distance
C = max_j |Δcode_j| satisfy |D / h − C| < 1 + 1e-9 (one step for the floors, float rounding far
below a step), so with a margin of _MARGIN steps C ≤ r/h − _MARGIN ⇒ D < r (surely inside) and
C ≥ r/h + _MARGIN ⇒ D > r (surely outside). Only the pairs in between, about one per row (the
k-th neighbour sits on the boundary), are settled with the float64 distance itself, the
quantity the O(n²) definition uses. Results are therefore identical to the definition, and to
the trees.

Memory: O(n) per thread (a few rows of code distances). Compiled functions are cached on disk
(numba ``cache=True``), so only the first call on a machine pays the compilation.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

#: Codes lie in [−_QMAX, _QMAX]; code differences (< 2^24) are exact in float32.
_QMAX = (1 << 22) - 1
_MARGIN = 2
#: Rows are scanned in chunks of this many columns: a vectorised test on a chunk decides
#: whether the rare scalar work (a new k-NN candidate, a pair on the boundary) is needed.
_CHUNK = 128
_SUBCHUNK = 16

_JIT = dict(nogil=True, cache=True, boundscheck=False, error_model="numpy")

#: Radius rules of :func:`neighbour_rows`, by the estimator that counts with them:
#: "below_eps" (KSG-1, Frenzel–Pompe): distance < ε_i, the joint k-th neighbour distance;
#: "below_eps_or_atom" (Gao et al.): < ε_i, or = 0 where ε_i = 0 (the point sits on an atom);
#: "span" (KSG-2): ≤ the largest distance, in that space, among the k + 1 nearest points.
RULES = ("below_eps", "below_eps_or_atom", "span")
_BELOW_EPS, _BELOW_EPS_OR_ATOM, _SPAN = range(3)



def codes_of(blocks: Sequence[np.ndarray]) -> tuple[np.ndarray, float]:
    """float32 integer codes of all columns of ``blocks``, as one (d, n) C-contiguous array
    (row c = column c), and the common step h."""
    lows = [b.min(axis=0) for b in blocks]
    span = max(float((b.max(axis=0) - lo).max()) for b, lo in zip(blocks, lows))
    step = span / (2 * _QMAX - 2) if span > 0 else 1.0
    codes = [(np.floor((b - lo) / step) - _QMAX).T for b, lo in zip(blocks, lows)]
    return np.ascontiguousarray(np.vstack(codes), dtype=np.float32), step


@numba.njit(inline="always", **_JIT)
def _max(o, a):
    """max(o, a) as arithmetic (exact on these integer codes): a max or a select that updates
    an array in place is compiled to a masked store, several times slower on x86."""
    return o + (a - o) * np.float32(a > o)


@numba.njit(inline="always", **_JIT)
def _code_distance(codes, c0, c1, i, out):
    """out[j] = max over the columns c0..c1 of |code[c, j] − code[c, i]|."""
    n = codes.shape[1]
    row = codes[c0]
    v = row[i]
    for j in range(n):
        out[j] = abs(row[j] - v)
    for c in range(c0 + 1, c1):
        row = codes[c]
        v = row[i]
        for j in range(n):
            out[j] = _max(out[j], abs(row[j] - v))


@numba.njit(inline="always", **_JIT)
def _exact_distance(points, i, j, c0, c1):
    """float64 max-norm distance of rows i and j over the columns c0..c1 of ``points``."""
    d = 0.0
    for c in range(c0, c1):
        a = abs(points[i, c] - points[j, c])
        if a > d:
            d = a
    return d


@numba.njit(inline="always", **_JIT)
def _space_distance(points, i, j, offsets, members):
    """float64 max-norm distance of rows i and j over the blocks flagged in ``members``."""
    d = 0.0
    for b in range(members.size):
        if members[b]:
            d = max(d, _exact_distance(points, i, j, offsets[b], offsets[b + 1]))
    return d


@numba.njit(inline="always", **_JIT)
def _any_below(dist, s, e, top):
    below = 0
    for j in range(s, e):
        below += dist[j] < top
    return below > 0


@numba.njit(inline="always", **_JIT)
def _flagged(dist, s, e, top, starts):
    """Writes to ``starts`` the first index of each sub-chunk of dist[s:e] that holds a value
    below ``top``, and returns how many there are. Vectorised tests on the chunk, then on its
    sub-chunks, keep the rare scalar work (a new k-NN candidate, a pair on a boundary) to
    the few places that need it."""
    count = 0
    if _any_below(dist, s, e, top):
        for t in range(s, e, _SUBCHUNK):
            if _any_below(dist, t, min(t + _SUBCHUNK, e), top):
                starts[count] = t
                count += 1
    return count


@numba.njit(inline="always", **_JIT)
def _smallest(dist, k, best, starts):
    """The (k+1)-th smallest value of ``dist``, scanning only the sub-chunks that hold a
    value below the running (k+1)-th smallest."""
    n = dist.size
    best[:] = np.float32(1 << 25)
    top = best[k]
    for s in range(0, n, _CHUNK):
        for q in range(_flagged(dist, s, min(s + _CHUNK, n), top, starts)):
            for j in range(starts[q], min(starts[q] + _SUBCHUNK, n)):
                c = dist[j]
                if c < top:
                    m = k
                    while m > 0 and best[m - 1] > c:
                        best[m] = best[m - 1]
                        m -= 1
                    best[m] = c
                    top = best[k]
    return top


@numba.njit(inline="always", **_JIT)
def _nearest(dist, points, i, k, offsets, members, best, starts, cand, cand_dist, idx_row):
    """The k + 1 nearest rows to row i (itself included) by float64 distance, then index,
    written to ``idx_row``; returns the k-th neighbour distance."""
    # k + 1 points lie within (top + 1) h, so every point within the k-th neighbour
    # distance has a code distance below top + 2: those are the candidates
    bound = _smallest(dist, k, best, starts) + np.float32(_MARGIN + 0.5)
    n = dist.size
    found = 0
    for s in range(0, n, _CHUNK):
        for q in range(_flagged(dist, s, min(s + _CHUNK, n), bound, starts)):
            for j in range(starts[q], min(starts[q] + _SUBCHUNK, n)):
                if dist[j] < bound:
                    cand[found] = j
                    cand_dist[found] = _space_distance(points, i, j, offsets, members)
                    found += 1
    # a stable sort keeps equal distances in index order
    order = np.argsort(cand_dist[:found], kind="mergesort")
    for m in range(k + 1):
        idx_row[m] = cand[order[m]]
    return cand_dist[order[k]]


@numba.njit(inline="always", **_JIT)
def _count_within(dist, points, i, r, strict, step, offsets, members):
    """Rows j (self included) whose float64 distance to row i, over the blocks flagged in
    ``members``, is < r (``strict``) or ≤ r; ``dist`` holds their code distances."""
    level = r / step
    # code distance < low: surely inside; >= high: surely outside; in between: settled exactly
    low = np.float32(min(max(np.floor(level) - (_MARGIN - 1), -1.0), 1 << 25))
    high = np.float32(min(max(np.ceil(level) + _MARGIN, 0.0), 1 << 25))
    n = dist.size
    inside = 0
    for s in range(0, n, _CHUNK):
        e = min(s + _CHUNK, n)
        surely = 0
        maybe = 0
        for j in range(s, e):
            surely += dist[j] < low
            maybe += dist[j] < high
        inside += surely
        if maybe == surely:
            continue
        for j in range(s, e):
            if dist[j] >= low and dist[j] < high:
                d = _space_distance(points, i, j, offsets, members)
                inside += (d < r) if strict else (d <= r)
    return inside


@numba.njit(**_JIT)
def _neighbour_rows(codes, points, offsets, k, spaces, rule, step, start, stop,
                    eps, idx, counts):
    """For rows start..stop of the joint space (the blocks of ``offsets``, codes and float64
    ``points``): eps[i], the distance to the k-th nearest other row; idx[i], the k + 1 nearest
    rows (self included) by distance, then index; and for every space s (blocks flagged in
    ``spaces[s]``), counts[s, i], the rows j (self included) within the radius that ``rule``
    sets (see :data:`RULES`)."""
    n = codes.shape[1]
    blocks = offsets.size - 1
    everything = np.ones(blocks, np.bool_)
    per_block = np.empty((blocks, n), np.float32)
    joint = np.empty(n, np.float32)
    scratch = np.empty(n, np.float32)
    best = np.empty(k + 1, np.float32)
    starts = np.empty(_CHUNK // _SUBCHUNK, np.int64)
    cand = np.empty(n, np.int64)
    cand_dist = np.empty(n)
    for i in range(start, stop):
        for b in range(blocks):
            _code_distance(codes, offsets[b], offsets[b + 1], i, per_block[b])
        joint_dist = _combine(per_block, everything, joint)
        e = _nearest(joint_dist, points, i, k, offsets, everything, best, starts, cand,
                     cand_dist, idx[i])
        eps[i] = e
        for s in range(spaces.shape[0]):
            members = spaces[s]
            dist = _combine(per_block, members, scratch)
            if rule == _SPAN:
                r = 0.0
                for m in range(k + 1):
                    r = max(r, _space_distance(points, i, idx[i, m], offsets, members))
                strict = False
            elif rule == _BELOW_EPS_OR_ATOM and e == 0:
                r, strict = 0.0, False
            else:
                r, strict = e, True
            counts[s, i] = _count_within(dist, points, i, r, strict, step, offsets, members)


@numba.njit(inline="always", **_JIT)
def _combine(per_block, members, out):
    """The code distances over the blocks flagged in ``members``: that block's own row if
    there is one, else their maximum, written to ``out``."""
    chosen = np.flatnonzero(members)
    if chosen.size == 1:
        return per_block[chosen[0]]
    a = per_block[chosen[0]]
    for m in range(1, chosen.size):
        other = per_block[chosen[m]]
        for j in range(out.size):
            out[j] = _max(a[j], other[j])
        a = out
    return out


@numba.njit(**_JIT)
def _count_rows(codes, points, radii, step, strict, start, stop, out):
    """For rows start..stop: out[i], the rows j (self included) within radii[i] (< if
    ``strict``, else ≤) in float64 max-norm distance."""
    n = codes.shape[1]
    dist = np.empty(n, np.float32)
    offsets = np.array([0, points.shape[1]])
    members = np.ones(1, np.bool_)
    for i in range(start, stop):
        _code_distance(codes, 0, codes.shape[0], i, dist)
        out[i] = _count_within(dist, points, i, radii[i], strict, step, offsets, members)


def self_inside(radii: np.ndarray, strict: bool) -> np.ndarray:
    """Whether each row's own point (distance 0) lies within its radius (< if ``strict``)."""
    return radii > 0 if strict else radii >= 0


def self_counted(rule: str, eps: np.ndarray) -> np.ndarray:
    """Whether each row's own point lies within the radius ``rule`` sets: only "below_eps"
    is strict, and the other rules' radii are >= 0."""
    return self_inside(eps, strict=rule == "below_eps")


def neighbour_rows(blocks: Sequence[np.ndarray], k: int, spaces: Sequence[tuple[int, ...]],
                   rule: str) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Brute-force :func:`workbench.estimators.knn.neighbour_counts`: the joint k-NN of the
    stacked ``blocks`` and, for every space (block numbers), the number of *other* rows
    within the radius ``rule`` sets."""
    blocks = [np.ascontiguousarray(b, dtype=np.float64) for b in blocks]
    n = len(blocks[0])
    codes, step = codes_of(blocks)
    offsets = np.cumsum([0] + [b.shape[1] for b in blocks]).astype(np.int64)
    points = np.ascontiguousarray(np.hstack(blocks))
    members = np.zeros((len(spaces), len(blocks)), bool)
    for s, space in enumerate(spaces):
        members[s, list(space)] = True
    eps = np.empty(n)
    idx = np.empty((n, k + 1), dtype=np.int64)
    counts = np.empty((len(spaces), n), dtype=np.int64)
    code = RULES.index(rule)
    _split_rows(n, lambda a, b: _neighbour_rows(codes, points, offsets, int(k), members, code,
                                                step, a, b, eps, idx, counts))
    return eps, idx, list(counts - self_counted(rule, eps))


def count_rows(points: np.ndarray, radii: np.ndarray, strict: bool) -> np.ndarray:
    """Brute-force :func:`workbench.estimators.knn.count_neighbours`: for every row, the
    number of *other* rows within radii[i] (< if ``strict``, else ≤)."""
    points = np.ascontiguousarray(points, dtype=np.float64)
    radii = np.ascontiguousarray(radii, dtype=np.float64)
    codes, step = codes_of([points])
    inside = np.empty(len(points), dtype=np.int64)
    _split_rows(len(points), lambda a, b: _count_rows(codes, points, radii, step,
                                                      bool(strict), a, b, inside))
    return inside - self_inside(radii, strict)


def warm_up() -> None:
    """Compile the kernels, or load them from numba's disk cache, on a few points: the first
    compilation on a machine takes seconds, which a server would rather spend at start-up
    than on its first request."""
    points = np.random.default_rng(0).standard_normal((4 * _CHUNK, 2))
    neighbour_rows([points[:, :1], points[:, 1:]], 3, [(0,), (1,)], "below_eps")
    count_rows(points, np.ones(len(points)), True)
    from . import box_tree, counting, sorted_counts  # they import this module's helpers

    sorted_counts.warm_up()
    box_tree.warm_up()
    counting.warm_up()


# ----- threads -------------------------------------------------------------------------------
_POOL: tuple[int, ThreadPoolExecutor] | None = None
_POOL_LOCK = threading.Lock()
#: Below this many pairs one thread does the work: handing rows to the pool costs more.
_THREAD_MIN_PAIRS = 1 << 20


#: Fewest rows for which the O(n log n) engines (trees, sorted counts) share their rows out
#: to one thread per core: below it a thread hand-off costs more than it saves, and much
#: more on a busy machine (the O(n²) sweeps use _THREAD_MIN_PAIRS instead).
THREADED_MIN_N = 50_000


def cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1


def _split_rows(n: int, work: Callable[[int, int], None]) -> None:
    """Run work(start, stop) over the rows 0..n, in one contiguous range per core."""
    parts = min(cores(), max(1, n * n // _THREAD_MIN_PAIRS))
    if parts == 1:
        work(0, n)
        return
    edges = np.linspace(0, n, parts + 1).astype(int)
    # the calling thread takes the first range itself instead of idling until a worker is
    # scheduled: on a busy machine a hand-off can cost milliseconds
    futures = [_pool().submit(work, a, b) for a, b in zip(edges[1:-1], edges[2:])]
    try:
        work(edges[0], edges[1])
    finally:
        for f in futures:
            f.result()


def _split_linear(n: int, work: Callable[[int, int], None]) -> None:
    """:func:`_split_rows` for work that grows about linearly in n: one thread below
    :data:`THREADED_MIN_N` rows."""
    if n < THREADED_MIN_N:
        work(0, n)
    else:
        _split_rows(n, work)


def _pool() -> ThreadPoolExecutor:
    """One pool of worker threads per process; a forked child, which inherits the object but
    not its threads, makes its own."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():
            _POOL = (os.getpid(),
                     ThreadPoolExecutor(cores(), thread_name_prefix="workbench-knn"))
        return _POOL[1]


def _forget_pool_after_fork() -> None:
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()  # the parent's lock may have been held


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)
