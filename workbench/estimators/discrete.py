"""Discrete (plug-in family) estimators: entropy from symbol counts.

Rows are symbols (any integer-valued array; each distinct row is one symbol). MI and CMI follow
from the chain rule on joint counts: I(X;Y) = H(X) + H(Y) − H(X,Y),
I(X;Y|Z) = H(X,Z) + H(Y,Z) − H(X,Y,Z) − H(Z).

Four entropy estimators share that plumbing (n samples, n_k count of symbol k, p̂_k = n_k/n,
m occupied symbols):

* ``plugin``: H = −Σ p̂ log p̂ (maximum likelihood; biased low by about (m−1)/(2n)).
* ``miller_madow``: plug-in + (m−1)/(2n) (Miller 1955).
* ``shrinkage``: James–Stein shrinkage of p̂ toward a uniform target (Hausser & Strimmer 2009).
* ``chao_shen``: coverage-adjusted Horvitz–Thompson estimator (Chao & Shen 2003).

The bias-corrected estimators apply their correction to each joint entropy of the chain rule, so
their MI can come out slightly negative for independent data; only the plug-in MI is ≥ 0 by
construction.
"""
from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from ..errors import InputError
from . import register
from .base import Estimator
from .encoding import encode_rows, row_keys


def _occupied(counts: np.ndarray) -> np.ndarray:
    """The non-zero counts as float64 (selected before converting: tables are mostly 0)."""
    counts = np.asarray(counts).ravel()
    return counts[counts > 0].astype(np.float64)


def plugin_entropy_from_counts(counts: np.ndarray) -> float:
    """Maximum-likelihood entropy −Σ p̂ log p̂ = log n − (1/n) Σ n_k log n_k (nats) of an
    occupancy count vector (or table: every cell is a symbol)."""
    counts = _occupied(counts)  # a joint table is mostly empty cells: skip them first
    if counts.size <= 1:
        return 0.0  # exactly, not log n − n log n / n after rounding
    n = counts.sum()
    return max(0.0, float(np.log(n) - xlogy(counts, counts).sum() / n))


def miller_madow_entropy_from_counts(counts: np.ndarray) -> float:
    """Miller–Madow entropy (nats): plug-in + (m − 1)/(2n), m the number of occupied symbols."""
    counts = _occupied(counts)
    return plugin_entropy_from_counts(counts) + (counts.size - 1) / (2.0 * counts.sum())


def shrinkage_entropy_from_counts(counts: np.ndarray) -> float:
    """James–Stein shrinkage entropy (nats), Hausser & Strimmer (2009), eqs. 4–5.

    p_k = λ t_k + (1 − λ) p̂_k with λ = (1 − Σ p̂_k²) / ((n − 1) Σ (t_k − p̂_k)²) clipped to
    [0, 1], then H = −Σ p_k log p_k. The target t_k = 1/m is uniform over the *observed*
    support (m occupied symbols): the estimator does not guess how many symbols were never seen,
    so it cannot exceed log m. When p̂ already is uniform, λ is irrelevant and H = log m.
    """
    counts = _occupied(counts)
    n, m = counts.sum(), counts.size
    p_ml = counts / n
    target = 1.0 / m
    spread = float(np.sum((target - p_ml) ** 2))
    if n <= 1 or spread == 0.0:
        return float(np.log(m))
    lam = min(1.0, max(0.0, (1.0 - float(np.sum(p_ml ** 2))) / ((n - 1.0) * spread)))
    p = lam * target + (1.0 - lam) * p_ml
    return float(-np.sum(xlogy(p, p))) + 0.0


def chao_shen_entropy_from_counts(counts: np.ndarray) -> float:
    """Chao–Shen coverage-adjusted entropy (nats), Chao & Shen (2003).

    Good–Turing coverage C = 1 − f1/n (f1 = number of singletons), p_k = C p̂_k, and the
    Horvitz–Thompson sum H = −Σ p_k log p_k / (1 − (1 − p_k)^n). When every symbol is a
    singleton (f1 = n) the coverage would be 0; f1 = n − 1 is used instead, the usual convention
    (it keeps C = 1/n > 0).
    """
    counts = _occupied(counts)
    n = counts.sum()
    f1 = float(np.sum(counts == 1))
    if f1 >= n:
        f1 = n - 1.0
    p = (1.0 - f1 / n) * counts / n
    # 1 − (1 − p)^n without cancellation for small p; p = 1 (a single symbol) is included surely
    inclusion = np.ones_like(p)
    part = p < 1.0
    inclusion[part] = -np.expm1(n * np.log1p(-p[part]))
    return float(-np.sum(xlogy(p, p) / inclusion)) + 0.0  # + 0.0 turns -0.0 into 0.0


def symbol_counts(codes: np.ndarray) -> np.ndarray:
    """Occupancy counts of a 1-D array of integer symbol codes (any values, any order)."""
    codes = np.asarray(codes).ravel()
    if codes.dtype.kind not in "iu":
        codes = encode_rows(codes)[0]  # float or bool labels
    lo, hi = _counting().int_range(codes) if codes.size else (0, -1)
    if lo >= 0 and hi < 4 * codes.size + 1024:  # dense enough: O(n), zeros are ignored
        return _counting().count_keys([codes], [hi + 1])
    return np.unique(codes, return_counts=True)[1]


def joint_counts(*codes: np.ndarray) -> np.ndarray:
    """Occupancy counts of the joint symbol of several 1-D code arrays (any values).

    The arrays are the columns of :func:`~workbench.estimators.encoding.row_keys` (one
    mixed-radix key per sample, never overflowing); counting needs no inverse, so the key is
    counted as it is, without re-encoding it to ``0..m-1``.
    """
    parts = [np.asarray(c).ravel() for c in codes]
    if len({p.size for p in parts}) > 1:
        raise InputError("code arrays must have the same length (one code per sample), got "
                         f"lengths {[p.size for p in parts]}")
    if len(parts) == 1:
        return symbol_counts(row_keys(parts[0])[0])
    return symbol_counts(row_keys(np.column_stack([_as_int64(p) for p in parts]))[0])


def _as_int64(codes: np.ndarray) -> np.ndarray:
    """The same grouping as int64, so that stacked code arrays keep an integer dtype
    (``np.column_stack`` of int64 with float or uint64 gives float64, which merges codes above
    2**53): integer codes are cast, anything else (and uint64 above 2**63 − 1) relabelled."""
    if codes.dtype.kind in "iub" and not (codes.dtype == np.uint64
                                          and int(codes.max()) >= 2 ** 63):
        return codes.astype(np.int64, copy=False)
    return encode_rows(codes)[0]


#: Smallest cap on the cells of a count table (see :func:`table_cells_limit`).
_MIN_TABLE_CELLS = 1 << 16


def table_cells_limit(n: int) -> int:
    """Most cells a count table of n samples may have: 4n + 1024 (at least 2**16). Up to
    there one pass over the samples' keys counts every symbol and the
    table costs at most about as much memory as the samples; beyond it most cells would be
    empty and ``np.unique`` (a sort) counts the occupied ones instead."""
    return max(4 * n + 1024, _MIN_TABLE_CELLS)


def _counting():
    """The compiled counting kernels, imported on first use: ``import workbench`` imports
    this module and should not load numba."""
    from . import counting

    return counting


def key_counts(key: np.ndarray, size: int) -> np.ndarray:
    """Occupancy counts of keys in 0..size−1 (zeros for unseen keys are harmless: every
    entropy from counts ignores them)."""
    if size <= table_cells_limit(key.size):
        return _counting().count_keys([key], [size])
    return np.unique(key, return_counts=True)[1]


def count_table(*keyed: tuple[np.ndarray, int]) -> np.ndarray | None:
    """The joint count table of several variables given as ``(key, size)`` pairs (keys in
    0..size−1, one per sample), or None when it would exceed :func:`table_cells_limit`.

    One pass: the combined code key_0 + s_0 (key_1 + s_1 (key_2 + ...)) (last variable
    outermost) is counted by one compiled loop over the samples
    (:func:`.counting.count_keys`); no sort, no ``np.unique``, no loop over symbols. Axis
    ``i`` of the result is variable ``len(keyed) − 1 − i``, so every marginal (and every
    joint of a subset) is a sum over the other axes, exactly the counts a separate pass would
    give."""
    sizes = [int(s) for _, s in keyed]
    n = keyed[0][0].size
    cells = 1
    for s in sizes:
        cells *= s
    if cells > table_cells_limit(n):
        return None
    return _counting().count_keys([k for k, _ in keyed], sizes).reshape(sizes[::-1])


class CountingEstimator(Estimator):
    """Entropy from symbol counts, MI and CMI by the chain rule on joint counts.

    Subclasses give ``_codes(a)`` (one int64 symbol per row of a validated array) and
    ``_entropy_counts(counts)`` (nats); ``_keys(a)`` may give cheaper keys (any one-to-one
    labels in 0..size−1, not necessarily all used). :meth:`symbols` validates and encodes
    once and :meth:`entropy_of_codes` gives the entropy of a joint symbol of already-encoded
    variables, for code that needs many entropies of the same data
    (:mod:`workbench.measures.multivariate`).

    MI and CMI count the joint table once (:func:`count_table`) and take every marginal as
    a sum of it, when the table is small enough; otherwise each joint symbol is counted on
    its own.
    """

    def _codes(self, a: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _entropy_counts(self, counts: np.ndarray) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _keys(self, a: np.ndarray) -> tuple[np.ndarray, int]:
        """``(key, size)``: one label per row, equal exactly when the rows are, in
        0..size−1."""
        codes = self._codes(a)
        return codes, int(codes.max()) + 1 if codes.size else 0

    def symbols(self, x, name: str = "x") -> np.ndarray:
        """Validate ``x`` (rows are samples) and return one int64 symbol code per row."""
        return self._codes(self._prepare(x, name))

    def entropy_of_codes(self, *codes: np.ndarray) -> float:
        """Entropy (nats) of the joint symbol of one or more 1-D code arrays of equal length."""
        return self._entropy_counts(joint_counts(*codes))

    def _entropy(self, x):
        return self._entropy_counts(key_counts(*self._keys(x)))

    def _mutual_info(self, x, y):
        kx, ky = self._keys(x), self._keys(y)
        h = self._entropy_counts
        table = count_table(kx, ky)  # axes (y, x)
        if table is not None:
            return h(table.sum(axis=0)) + h(table.sum(axis=1)) - h(table.ravel())
        h = self.entropy_of_codes
        return h(kx[0]) + h(ky[0]) - h(kx[0], ky[0])

    def _conditional_mutual_info(self, x, y, z):
        kx, ky, kz = self._keys(x), self._keys(y), self._keys(z)
        h = self._entropy_counts
        table = count_table(kx, ky, kz)  # axes (z, y, x)
        if table is not None:
            return (h(table.sum(axis=1).ravel()) + h(table.sum(axis=2).ravel())
                    - h(table.ravel()) - h(table.sum(axis=(1, 2))))
        h = self.entropy_of_codes
        cx, cy, cz = kx[0], ky[0], kz[0]
        return h(cx, cz) + h(cy, cz) - h(cx, cy, cz) - h(cz)


class DiscreteEstimator(CountingEstimator):
    """Integer-valued input; each distinct row is a symbol. Subclasses give
    ``_entropy_counts(counts)``."""

    family = "discrete"
    data_kind = "discrete"
    integer_input = True

    def _prepare(self, x, name):
        arr = super()._prepare(x, name)
        if arr.dtype.kind == "f":
            whole = arr == np.round(arr)
            if not whole.all():
                bad = float(arr[~whole].flat[0])
                raise InputError(
                    f"{name} has non-integer values (e.g. {bad!r}); discrete method "
                    f"{self.method_name!r} counts symbols. For continuous data use "
                    "method='binning' or 'adaptive_binning' (discretise first) or 'ksg'/'kl' "
                    "(kNN); to treat the values as labels, encode them as integers with "
                    f"np.unique({name}, return_inverse=True)[1]")
        return arr  # any magnitude and integer dtype: encode_rows never overflows

    def _codes(self, a):
        return encode_rows(a)[0]

    def _keys(self, a):
        # one column of small non-negative integers (labels, symbols) is its own key: no copy,
        # no sort; anything else gets a mixed-radix key (row_keys: one pass per column)
        if a.shape[1] == 1 and a.dtype.kind in "iu" and a.size:
            col = a[:, 0]
            lo, hi = _counting().int_range(col)
            if lo >= 0 and hi < table_cells_limit(col.size):
                return col.astype(np.intp, copy=False), hi + 1
        return row_keys(a)


@register
class PluginEstimator(DiscreteEstimator):
    method_name = "plugin"
    summary = "Maximum-likelihood (plug-in) entropy −Σ p̂ log p̂; MI/CMI by the chain rule."
    references = "Paninski (2003), Estimation of entropy and mutual information."

    def _entropy_counts(self, counts):
        return plugin_entropy_from_counts(counts)


@register
class MillerMadowEstimator(DiscreteEstimator):
    method_name = "miller_madow"
    summary = ("Plug-in entropy + (m−1)/(2n) bias correction (m occupied symbols); MI/CMI by "
               "the chain rule.")
    references = ("Miller (1955), Note on the bias of information estimates; "
                  "Paninski (2003), Estimation of entropy and mutual information.")

    def _entropy_counts(self, counts):
        return miller_madow_entropy_from_counts(counts)


@register
class ShrinkageEstimator(DiscreteEstimator):
    method_name = "shrinkage"
    summary = ("James–Stein shrinkage of the frequencies toward uniform over the observed "
               "symbols, then −Σ p log p; MI/CMI by the chain rule.")
    references = ("Hausser & Strimmer (2009), Entropy inference and the James-Stein estimator, "
                  "with application to nonlinear gene association networks, JMLR 10.")

    def _entropy_counts(self, counts):
        return shrinkage_entropy_from_counts(counts)


@register
class ChaoShenEstimator(DiscreteEstimator):
    method_name = "chao_shen"
    summary = ("Coverage-adjusted Horvitz–Thompson entropy, good when many symbols are unseen; "
               "MI/CMI by the chain rule.")
    references = ("Chao & Shen (2003), Nonparametric estimation of Shannon's index of diversity "
                  "when there are unseen species in sample, Environ. Ecol. Stat. 10.")

    def _entropy_counts(self, counts):
        return chao_shen_entropy_from_counts(counts)
