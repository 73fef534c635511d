"""k-nearest-neighbour estimators: Kozachenko–Leonenko entropy, KSG mutual information
(both variants), Frenzel–Pompe conditional MI and the Gao et al. mixed estimator.

Neighbour searches never build an n × n matrix. Two exact engines, chosen per task by
:func:`use_brute_force` from the sample size and the dimension:

* trees: the k-th neighbour (max-norm or Euclidean) on the compiled kd-tree of
  :mod:`.box_tree` (O(n log n) in low dimension, queries in leaf order, rows over all cores
  for large n; 1.5-3x faster than :class:`scipy.spatial.cKDTree` and bit-equal to it);
  counts in 2-6 dimensions on the same tree, whose nodes wholly inside a ball add their
  size at once; one-dimensional neighbours and counts gallop along the sorted values
  (:mod:`.sorted_counts`, compiled), several times faster than a tree and exact; cKDTree
  (queries spread over all cores with ``workers=-1``, asked in the tree's leaf order) for
  the remaining counts, other p-norms and ``algorithm="tree"``;
* a compiled brute force (:mod:`.brute_force`), O(n²) time and O(n) memory: in several
  dimensions a max-norm ball that holds k points is wide, trees visit most of their leaves and
  their per-point-radius counts crawl, so for moderate n it is faster to sweep every row
  against all points, the joint k-NN and every marginal count in one sweep.

Both give identical distances and counts: every decision is the float64 comparison
``max_j |v_j − w_j|`` (<, ≤) r, the quantity the O(n²) definition :func:`naive_ksg` uses.
One exception, with ties only: the ``span`` rule (``ksg2``) measures each marginal's extent
over the k neighbours found, and among equidistant k-th neighbours each engine may find
others; the default jitter removes such ties.

Ties: kNN estimators assume continuous data. Repeated points (distance 0) break the
derivations, so ``kl``, ``ksg`` and ``ksg2`` add a tiny seeded Gaussian *jitter*
(``jitter`` × the column's standard deviation, 1e-10 by default) purely to break ties; it moves
every estimate by far less than its statistical error. Each variable's noise is seeded by the
``seed`` knob and the variable's own content (:func:`jitter_rng`), not by its argument
position, so I(X;Y) = I(Y;X) exactly. ``kl`` refuses rows repeated more than k times: their
k-th neighbour distance would be the jitter's. Data with genuine atoms (discrete or mixed
variables) belong to ``mixed``, which handles ties exactly instead.

Scale: columns are standardised by :func:`workbench.validation.standardize` (an exact power of
two first, then centre and std), so the MI estimators give the same number at any finite scale
and ``kl`` shifts by exactly log|scale|.
"""
from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Sequence

import numpy as np
import param
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

from ..errors import EstimationError, InputError
from ..validation import (
    drop_constant_columns,
    pow2_exponents,
    reject_constant_columns,
    standardize,
)
from . import box_tree, brute_force, register, sorted_counts
from .base import Estimator, Seeded, TorchBackend

#: ``algorithm`` values of the neighbour functions: "auto" applies :func:`use_brute_force`.
ALGORITHMS = ("auto", "brute", "tree")

#: Crossover of the engines: the largest n for which the brute force is faster, by task and
#: number of dimensions d (the entry for the largest listed d' <= d applies; none: never).
#: Measured on this project's 2-core machine (scipy 1.17, numba 0.68, correlated Gaussians,
#: k = 3; brute / tree in ms; benchmarks/bench_knn.py prints a comparison). The brute force
#: costs about 1 ns × n² per pair of cores; trees grow far more slowly in n but steeply
#: with d.
#: "knn": the k-th neighbour alone, brute force against the compiled kd-tree of
#:   :mod:`.box_tree` (CPU ms, 2026-12-03, load average 4-6 from other jobs, so wall times
#:   were up to twice the CPU): 5 dims, n = 1000: 3.7 / 1.4, n = 20 000: 598 / 39; 8 dims,
#:   n = 2000: 12 / 4.6, n = 20 000: 734 / 109; 12 dims, n = 2000: 13 / 7.7, n = 20 000:
#:   786 / 314; 16 dims, n = 2000: 14 / 10, n = 40 000: 3606 / 1496; 20 dims, n = 2000:
#:   14 / 20, n = 10 000: 241 / 198; 32 dims, n = 10 000: 426 / 438, n = 30 000: 4101 /
#:   3043; 64 dims, n = 10 000: 735 / 994, n = 30 000: 6238 / 7453. (Against cKDTree, the
#:   engine before: 5 dims, n = 5000: 18 / 13; 10 dims, n = 40 000: 1271 / 1293.)
#: "count": per-point-radius counts alone (radii: the k-th neighbour distance of a joint space
#:   of twice the dimension); below 7 dims against the box tree (see _BOX_TREE_MAX_DIMS),
#:   from 7 on against cKDTree, measured before: 2 dims, n = 20 000: 98 / 119, n = 40 000:
#:   404 / 209; 3 dims, n = 40 000: 502 / 522; 4 dims: 620 / 1039; 5 dims: 654 / 1880 (the
#:   trees' lead shrinks as n^0.6, so the limits beyond 40 000 are extrapolated).
#: "ksg": joint k-NN plus marginal counts in one sweep, d = joint dimensions, against a
#:   k-NN plus counts that each pick their own engine by the rows above (the "hybrid"; CPU
#:   ms, 2026-12-03, load average 4-5, box-tree joint k-NN and box-tree counts): 3+3 dims,
#:   n = 1000: 5.0 / 2.6, n = 20 000: 942 / 138; 4+4, n = 1000: 5.0 / 4.1, n = 20 000:
#:   989 / 280; 5+5, n = 1000: 5.5 / 4.7, n = 5000: 82 / 70, n = 20 000: 1077 / 500; 8+8,
#:   n = 2000: 22 / 25, n = 10 000: 328 / 427; 10+10, n = 2000: 19 / 22, n = 10 000:
#:   354 / 625 (before, with cKDTree's k-NN and counts: 8+8, n = 40 000: 3155 / 4370).
_BRUTE_MAX_N = {
    "ksg": {16: 40_000, 20: 80_000},
    "knn": {20: 5_000, 32: 10_000, 64: 40_000},
    "count": {5: 5_000, 6: 10_000, 7: 200_000},
}


#: Counts in 2 to this many dimensions use the compiled box tree (:mod:`.box_tree`) where
#: ``_BRUTE_MAX_N["count"]`` does not pick the brute force; beyond, cKDTree does. Measured at
#: 2 dims against cKDTree / the brute force (ms, k = 3 radii from a 2+2 joint space, busy
#: 2-core machine): n = 5000: 40 / 147 / 93; 20 000: 211 / 637 / 1258; 100 000: 2966 / 7536;
#: then, with the branch-free node test (2-2.5x faster), box tree / brute force (CPU ms,
#: radii from a d+d joint space, load 4-5): 4 dims, n = 2000: 2.9 / 3.1, n = 10 000:
#: 31 / 63, n = 40 000: 202 / 1152; 5 dims, n = 2000: 4.2 / 3.1, n = 10 000: 53 / 89,
#: n = 40 000: 421 / 1304; 6 dims, n = 2000: 6.0 / 3.5, n = 10 000: 79 / 77, n = 40 000:
#: 702 / 1530.
_BOX_TREE_MAX_DIMS = 6


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


def kth_neighbour(points: np.ndarray, k: int, p: float = np.inf, algorithm: str = "auto",
                  device: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distance to the k-th nearest *other* point of every row, and the indices of the k + 1
    nearest points (the row itself included), in the ``p``-norm. ``algorithm`` picks the
    engine: "auto" (the sorted values in 1-D; the brute force where ``_BRUTE_MAX_N["knn"]``
    says it is faster; else the compiled kd-tree of :mod:`.box_tree` for p = 2 and ∞, and
    cKDTree for other p), "brute" (the max-norm only) or "tree" (scipy's cKDTree). All give
    the same distances bit for bit; among equidistant k-th neighbours the brute force
    returns the lowest indices, the trees any. ``device`` (a torch device name) runs the
    search in torch instead (:mod:`.torch_backend`: the same max-norm distances, Euclidean
    ones to within an ulp). Non-finite coordinates raise :class:`InputError`."""
    _check_algorithm(algorithm)
    _require_finite(points)
    if device is not None:
        from . import torch_backend

        return torch_backend.kth_neighbour(points, k, p=p, device=device)
    points = np.ascontiguousarray(points, dtype=np.float64)
    if algorithm == "auto":
        if points.shape[1] == 1:  # every p-norm is |v_j − v_i| in 1-D
            return sorted_counts.kth_neighbour_1d(points[:, 0], k)
        if p == np.inf and use_brute_force(*points.shape, task="knn"):
            algorithm = "brute"
        elif p in (2, np.inf):
            return box_tree.kth_neighbour(points, k, p)
    if algorithm == "brute" and p == np.inf:
        eps, idx, _ = brute_force.neighbour_rows([points], k, (), "below_eps")
        return eps, idx
    tree = _tree(points)
    order = tree.indices  # query in the tree's leaf order: see _unpermute
    dist, idx = tree.query(points[order], k=k + 1, p=p, workers=_workers(len(points)))
    return _unpermute(order, dist[:, k]), _unpermute(order, idx)


def _require_finite(points) -> None:
    """The engines compare distances; a NaN or inf coordinate makes every comparison with it
    false and the neighbour lists meaningless (the estimators validate before they get here;
    this guards direct calls)."""
    if not np.isfinite(np.asarray(points, dtype=np.float64)).all():
        raise InputError("points must be finite: found NaN or inf coordinates")


def _workers(n: int) -> int:
    """cKDTree's ``workers``: the calling thread alone below
    :data:`.brute_force.THREADED_MIN_N` points, every core above."""
    return -1 if n >= brute_force.THREADED_MIN_N else 1


def _unpermute(order: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Rows computed for ``points[order]``, put back in the points' order.

    Trees answer the queries of neighbouring points from the same leaves; asked in the
    tree's own leaf order (``cKDTree.indices``) the leaves a query visits are still in cache
    from the previous one. Measured at n = 10^6 in 2 dimensions (k = 4, max-norm, 2 cores):
    1.07 s in leaf order against 2.72 s in the points' order. Each query's answer depends
    only on its point, so the results are the same numbers, in another order."""
    out = np.empty_like(rows)
    out[order] = rows
    return out


def count_neighbours(points: np.ndarray, radii: np.ndarray, *, strict: bool,
                     algorithm: str = "auto", device: str | None = None) -> np.ndarray:
    """For every row i, the number of *other* rows j with ‖p_j − p_i‖_∞ < r_i (``strict``) or
    ≤ r_i, exactly as float64 computes the max-norm distance. ``algorithm``: "auto", "brute"
    or "tree" (one-dimensional points always use the exact sorted counter).

    Trees count "≤ r"; strictness is exact because for floats d < r ⇔ d ≤ nextafter(r, 0).
    ``device`` (a torch device name) counts in torch instead (:mod:`.torch_backend`).
    Non-finite coordinates or radii raise :class:`InputError`.
    """
    _check_algorithm(algorithm)
    _require_finite(points)
    if np.isnan(np.asarray(radii, dtype=np.float64)).any():
        raise InputError("count_neighbours: radii contain NaN")
    if device is not None:
        from . import torch_backend

        return torch_backend.count_rows(points, radii, strict=strict, device=device)
    points = np.ascontiguousarray(points, dtype=np.float64)
    radii = np.asarray(radii, dtype=np.float64)
    if points.shape[1] == 1:
        return sorted_counts.count_1d(points[:, 0], radii, strict)
    if (algorithm == "brute" or (
            algorithm == "auto" and use_brute_force(*points.shape, task="count"))):
        return brute_force.count_rows(points, radii, strict)
    if algorithm == "auto" and points.shape[1] <= _BOX_TREE_MAX_DIMS:
        return box_tree.count_rows(points, radii, strict)
    r = np.nextafter(radii, 0) if strict else radii
    tree = _tree(points, leafsize=64)
    order = tree.indices  # query in the tree's leaf order: see _unpermute
    inside = _unpermute(order, tree.query_ball_point(
        points[order], r=np.maximum(r[order], 0), p=np.inf, return_length=True,
        workers=_workers(len(points))))
    # nextafter(0, 0) is 0, which would count duplicates as "strictly closer" than 0
    inside = np.where(strict & (radii <= 0), 0, inside)
    return np.asarray(inside, dtype=np.int64) - brute_force.self_inside(radii, strict)


#: How the counting radius of each space follows from a row's joint k-NN (see
#: :data:`.brute_force.RULES`).
RULES = brute_force.RULES


def radii_of(rule: str, blocks: Sequence[np.ndarray], space: tuple[int, ...],
             eps: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, bool]:
    """The radius of every row in ``space`` under ``rule``, and whether counts are strict (<):
    "below_eps": < ε; "below_eps_or_atom": < ε, or ≤ 0 where ε = 0; "span": ≤ the largest
    distance in ``space`` among the k + 1 nearest points (the row itself adds 0)."""
    if rule == "below_eps":
        return eps, True
    if rule == "below_eps_or_atom":  # strictly below ε <=> within nextafter(ε, 0)
        return np.where(eps == 0, 0.0, np.nextafter(eps, 0)), False
    if rule == "span":
        v = np.hstack([blocks[b] for b in space])
        return np.abs(v[idx] - v[:, None, :]).max(axis=(1, 2)), False
    raise ValueError(f"rule must be one of {RULES}, not {rule!r}")


def neighbour_counts(blocks: Sequence[np.ndarray], k: int, spaces: Sequence[tuple[int, ...]],
                     rule: str, *, algorithm: str = "auto", device: str | None = None,
                     ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The KSG-type neighbour statistics in one call.

    ``blocks`` are (n, d_b) float64 arrays (x, y, z, ...) that together form the joint
    max-norm space. Returns ``eps`` (distance of every row to its k-th nearest other point in
    the joint space), ``idx`` (indices of the k + 1 nearest, the row itself included) and, for
    every space in ``spaces`` (a tuple of block numbers, e.g. ``(0, 2)`` for the x-z space),
    the number of *other* rows within the radius that ``rule`` sets (:func:`radii_of`).
    ``algorithm``: "auto" (:func:`use_brute_force`), "brute" (one compiled sweep) or "tree"
    (trees only). ``device`` (a torch device name) computes everything in torch
    (:mod:`.torch_backend`, identical numbers): the one place where the estimators' torch
    setting turns into a different engine.
    """
    _check_algorithm(algorithm)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, not {rule!r}")
    if device is not None:
        from . import torch_backend

        return torch_backend.neighbour_rows(blocks, k, spaces, rule, device)
    blocks = [np.ascontiguousarray(b, dtype=np.float64) for b in blocks]
    n, dims = len(blocks[0]), sum(b.shape[1] for b in blocks)
    if algorithm == "brute" or (algorithm == "auto" and use_brute_force(n, dims)):
        return brute_force.neighbour_rows(blocks, k, spaces, rule)
    # the joint k-NN and each count pick their engine separately ("tree" forces trees)
    part = "auto" if algorithm == "auto" else "tree"
    eps, idx = kth_neighbour(np.hstack(blocks), k, algorithm=part)
    counts = []
    for space in spaces:
        radii, strict = radii_of(rule, blocks, space, eps, idx)
        counts.append(count_neighbours(np.hstack([blocks[b] for b in space]), radii,
                                       strict=strict, algorithm=part))
    return eps, idx, counts


def jitter_rng(seed, a: np.ndarray) -> np.random.Generator:
    """The tie-breaking noise generator of one variable: seeded by ``seed`` and a fingerprint of
    the variable's own content (the column-wise rank order, unchanged by scaling and shifts),
    never by its position in the argument list. So I(X;Y) and I(Y;X) jitter every variable
    identically and agree exactly, and rescaled data get the same noise."""
    ranks = _stable_ranks(a)
    digest = hashlib.blake2b(ranks.tobytes(), digest_size=8,
                             person=str(a.shape).encode()[:16]).digest()
    return np.random.default_rng([int(seed or 0), int.from_bytes(digest, "little")])


def _stable_ranks(a: np.ndarray) -> np.ndarray:
    """``np.argsort(a, axis=0, kind="stable")`` as int64, faster: each column is sorted
    contiguously by the default (introsort) argsort, several times faster than the stable
    merge sort, and a column whose sorted values hold a tie (only then may the two orders
    differ: the stable order is the unique one by value, then index) is sorted again stably."""
    if a.ndim != 2:
        return np.argsort(a, axis=0, kind="stable").astype(np.int64)
    at = np.ascontiguousarray(a.T)
    order = np.argsort(at, axis=1)
    s = np.take_along_axis(at, order, axis=1)
    ties = (s[:, 1:] == s[:, :-1]).any(axis=1)
    if ties.any():
        order[ties] = np.argsort(at[ties], axis=1, kind="stable")
    return order.astype(np.int64).T


def add_jitter(seed, a: np.ndarray, jitter: float, std: np.ndarray | float = 1.0) -> np.ndarray:
    """``a`` plus seeded Gaussian noise of ``jitter`` × ``std`` (per column); see
    :func:`jitter_rng`."""
    if jitter <= 0:
        return a
    return a + (jitter * np.asarray(std)) * jitter_rng(seed, a).standard_normal(a.shape)


def condition_columns(seed, *arrays: np.ndarray, normalize: bool,
                      jitter: float) -> list[np.ndarray]:
    """Centre every column, scale it to unit std (``normalize``) and add seeded tie-breaking
    noise of ``jitter`` × the column's std (:func:`add_jitter`). Scaling goes through
    :func:`workbench.validation.standardize`, so any finite scale gives the same result;
    without ``normalize`` all columns are divided by one common power of two (exact, relative
    scales kept). Centring first keeps the jitter above float64 resolution for data far
    from 0. Columns must not be constant."""
    if not normalize:
        e = max(int(pow2_exponents(a, axis=None)) for a in arrays)
        arrays = [np.ldexp(a, -e) for a in arrays]
    out = []
    for a in arrays:
        if normalize:
            a, std = standardize(a)[0], 1.0
        else:
            a = a - a.mean(axis=0)
            std = a.std(axis=0)
        out.append(np.ascontiguousarray(add_jitter(seed, a, jitter, std)))
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


# ----- estimators
# ----------------------------------------------------------------------------------
class _KNN(TorchBackend, Estimator):
    family = "knn"
    duplicate_sensitive = True

    k = param.Integer(default=3, bounds=(1, None), softbounds=(1, 20), label="k (neighbours)",
                      doc="Number of nearest neighbours; larger k lowers variance and raises "
                          "bias (Kraskov et al. suggest 2-4).")

    def min_samples(self) -> int:
        return self.k + 1

    def _neighbour_counts(self, blocks, spaces, rule):
        """:func:`neighbour_counts` with this estimator's k and execution settings."""
        return neighbour_counts(blocks, self.k, spaces, rule, device=self._torch_device())

    def _kth_neighbour(self, points, p):
        return kth_neighbour(points, self.k, p=p, device=self._torch_device())


class _Jittered(_KNN, Seeded):
    jitter = param.Number(default=1e-10, bounds=(0, 1), softbounds=(0, 1e-6),
                          doc="Tie breaking: Gaussian noise of this size relative to each "
                              "column's std is added (seeded) so repeated values do not give "
                              "zero distances. 0 switches it off; at most 1 (noise as large "
                              "as the data would no longer break ties but replace them).")


@register
class KozachenkoLeonenko(_Jittered):
    """Kozachenko & Leonenko (1987) differential entropy from k-th neighbour distances:

    H = ψ(n) − ψ(k) + log V_d + (d/n) Σ_i log ε_i

    with ε_i the distance from x_i to its k-th nearest neighbour and V_d the volume of the unit
    ball of the chosen norm (Kraskov, Stögbauer & Grassberger 2004, eq. 20). Constant columns
    are rejected: their differential entropy is −∞.

    The neighbours are searched in *whitened* coordinates u = W D⁻¹(x − x̄): D holds the
    columns' standard deviations and W = C^{-1/2} whitens their correlation matrix C; the
    change of variables is added back exactly, H(x) = H(u) + Σ log D_jj + ½ log det C. The
    whitened data of Ax + b are a rotation of those of x, so with the Euclidean norm the
    estimate shifts by exactly log|det A| under every invertible affine map, at any finite
    scale; with the max-norm, under maps that scale, flip and permute columns. Without
    whitening, columns on different scales or strongly correlated columns bias the kNN balls
    (3-D, column scales 2 / 0.5 / 100, n = 2000: 0.21 nats off the exact shift). Linearly
    dependent columns (C singular) are rejected: their entropy is −∞.

    Discrete data are refused: a row repeated more than k times has its k-th neighbour at
    distance 0 (an atom, differential entropy −∞), and the tie-breaking jitter alone would
    set the number.
    """

    method_name = "kl"
    summary = "Kozachenko-Leonenko kNN differential entropy."
    references = ("Kozachenko & Leonenko (1987), Problems Inform. Transmission 23:95-101; "
                  "Kraskov, Stögbauer & Grassberger (2004), Phys. Rev. E 69:066138.")

    norm = param.Selector(default="euclidean", objects=["euclidean", "chebyshev"],
                          doc="Distance used for the neighbours: 'euclidean' or 'chebyshev' "
                              "(max-norm). Both are consistent; Euclidean has lower bias.")

    def _entropy(self, x):
        # column-major: numpy reduces a narrow C-ordered (n, d) array along axis 0 several
        # times slower than contiguous columns (standardize's max, mean and std: 0.3 ms of a
        # 2-d, n = 5000 call); sums then run pairwise, which moves the result by ~1e-16
        x = np.asfortranarray(x)
        reject_constant_columns(x)  # already validated: only the constant columns to check
        _reject_atoms(x, self.k)
        u, log_scale = standardize(x)
        u, log_det = whiten(u)
        u = add_jitter(self.seed, u, self.jitter)
        n, d = u.shape
        p = np.inf if self.norm == "chebyshev" else 2
        eps, _ = self._kth_neighbour(u, p)
        _check_no_duplicates(eps, "x")
        return (digamma(n) - digamma(self.k) + unit_ball_log_volume(d, self.norm)
                + d * float(np.mean(np.log(eps))) + float(log_scale.sum()) + log_det)


#: Smallest eigenvalue of the correlation matrix, relative to the largest, that :func:`whiten`
#: accepts: below it the columns are linearly dependent to within ~1e-6 of their spread.
_MIN_CORR_EIGENVALUE = 1e-12


def whiten(z: np.ndarray) -> tuple[np.ndarray, float]:
    """``(z W, ½ log det C)`` for standardised columns ``z`` with correlation matrix C and
    W = C^{-1/2} (symmetric, so a permutation of the columns permutes the result). Raises
    :class:`InputError` when C is (nearly) singular."""
    if z.shape[1] == 1:
        return z, 0.0
    corr = (z.T @ z) / len(z)
    lam, vec = np.linalg.eigh(corr)
    if lam[0] <= _MIN_CORR_EIGENVALUE * lam[-1]:
        raise InputError(
            f"x's columns are linearly dependent (or nearly: correlation eigenvalues "
            f"{lam[0]:.2g} .. {lam[-1]:.2g}), or there are too few rows for its "
            f"{z.shape[1]} columns; the differential entropy is then -inf. Drop redundant "
            "columns (e.g. keep the leading principal components)")
    w = (vec / np.sqrt(lam)) @ vec.T
    return np.ascontiguousarray(z @ w), 0.5 * float(np.log(lam).sum())


@functools.lru_cache(maxsize=64)
def _projection_weights(d: int) -> np.ndarray:
    """Fixed weights of :func:`_reject_atoms`' projection (no global RNG use), made once per
    d: building a generator costs more than the whole check on small data."""
    weights = np.random.default_rng(0).uniform(1.0, 2.0, d)
    weights.flags.writeable = False
    return weights


def _reject_atoms(x: np.ndarray, k: int) -> None:
    """Raise :class:`InputError` when rows repeat more than ``k`` times (atoms).

    Equal rows have equal projections p = Σ_j w_j x_j (computed column by column, so every
    row's sum is rounded the same way), so only rows whose projection occurs more than k times
    in the sorted projections can be atoms; those few are checked exactly with ``np.unique``
    on rows. One 1-D sort instead of a lexicographic sort of all rows."""
    n, d = x.shape
    if n <= k:
        return
    proj = x[:, 0].copy()
    weights = _projection_weights(d)
    for j in range(1, d):
        proj += weights[j] * x[:, j]
    s = np.sort(proj)
    repeated = s[k:] == s[:-k]  # a value occupying k + 1 consecutive sorted places
    if not repeated.any():
        return
    suspects = x[np.isin(proj, s[k:][repeated])]
    _, counts = np.unique(suspects, axis=0, return_counts=True)
    heavy = counts > k
    if heavy.any():
        rows = int(counts[heavy].sum())
        raise InputError(
            f"x looks discrete: {rows} of {len(x)} rows are copies of {int(heavy.sum())} "
            f"value(s) that occur more than k = {k} times. Such atoms have differential "
            "entropy -inf and their k-th neighbour distance would be set by the tie-breaking "
            "jitter alone. Use a discrete estimator ('plugin', 'miller_madow') for discrete "
            "data, or raise k if the repeats are rare")


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
        return condition_columns(self.seed, *arrays, normalize=self.normalize,
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
        eps, _, (nx, ny) = self._neighbour_counts([x, y], [(0,), (1,)], "below_eps")
        _check_no_duplicates(eps, "the joint space")
        return (digamma(self.k) + digamma(len(x))
                - float(np.mean(digamma(nx + 1.0) + digamma(ny + 1.0))))

    def _conditional_mutual_info(self, x, y, z):
        parts = self._conditioned(x, y, z)
        if parts is None:
            return 0.0
        if len(parts) == 2:  # every z column was constant: I(X;Y|Z) = I(X;Y)
            return self._mutual_info(x, y)
        eps, _, (nxz, nyz, nz) = self._neighbour_counts(parts, [(0, 2), (1, 2), (2,)],
                                                        "below_eps")
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
        eps, _, (nx, ny) = self._neighbour_counts([x, y], [(0,), (1,)], "span")
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

        rho, _, (nx, ny) = self._neighbour_counts([x, y], [(0,), (1,)], "below_eps_or_atom")
        atoms = rho == 0
        k_tilde = np.full(len(x), float(self.k))
        if atoms.any():
            xy = np.hstack([x, y])
            device = self._torch_device()
            if device is None:  # only the atoms' rows are asked
                k_tilde[atoms] = _tree(xy).query_ball_point(xy[atoms], r=0.0, p=np.inf,
                                                            return_length=True, workers=-1)
            else:  # the points at distance 0, the row itself included
                k_tilde[atoms] = 1 + count_neighbours(xy, np.zeros(len(xy)), strict=False,
                                                      device=device)[atoms]
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
