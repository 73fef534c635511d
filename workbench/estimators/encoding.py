"""Turn rows into integer symbols: the shared step of every plug-in (discrete, binning)
estimator, and the only place rows are hashed to symbols.

Column j is mapped to offsets o_j in 0..s_j−1: value − column minimum for an integer-valued
column (integer or bool dtype, or finite whole floats), else the rank among the column's
distinct values. A row's key is the mixed-radix number

    key = Σ_j o_j · Π_{i<j} s_i        (column 0 least significant),

folded a group of columns at a time. Before the next column would take the key range Π s past
``_MAX_KEY`` the partial key is re-encoded to its ranks 0..m−1 (m ≤ n distinct partial rows,
``np.unique(return_inverse=True)``), so the key never overflows int64 however wide the rows, and
once every partial row is distinct (m = n) the remaining columns are skipped. Loops run over
column groups, never over samples.
"""
from __future__ import annotations

import numpy as np

#: Bound on a key's range (0 ≤ key < size ≤ _MAX_KEY). Sizes are multiplied as Python ints
#: (exact); 2**62 leaves int64 a factor of 2 of headroom.
_MAX_KEY = 2 ** 62
#: Whole-number checks of float columns are done this many columns at a time, so a wide array
#: whose rows become distinct after a few columns is not scanned in full.
_CHECK_CHUNK = 64
#: Groups of at most this many columns are folded column by column, wider ones by one matmul.
_SMALL_GROUP = 4


def _column_extremes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column minima and maxima. ``min(axis=0)`` is ~20x slower than one reduction per column
    on a tall array with a few columns (numpy reduces across the short axis there), and the
    other way round for many columns."""
    if a.shape[1] > 16:
        return a.min(axis=0), a.max(axis=0)
    cols = [a[:, j] for j in range(a.shape[1])]
    return (np.array([c.min() for c in cols], dtype=a.dtype),
            np.array([c.max() for c in cols], dtype=a.dtype))


class _Columns:
    """Per-column offsets of a 2-D array: ``span(j)`` (s_j), ``offsets(j)`` and ``block(j, k)``
    (int64 o_j), resolved lazily so columns past an early stop are never examined."""

    def __init__(self, a: np.ndarray):
        if a.dtype.kind == "b":
            a = a.view(np.uint8)
        self.a, self.n, self.d = a, a.shape[0], a.shape[1]
        self.ranks: dict[int, np.ndarray] = {}  # columns offset by rank instead of by minimum
        kind = a.dtype.kind
        self.lo: list[int | None] = [None] * self.d
        self.spans: list[int | None] = [None] * self.d
        self.unchecked = np.zeros(self.d, dtype=bool)  # float columns not yet checked whole
        if kind in "iu":
            lo, hi = _column_extremes(a)
            lo, hi = lo.tolist(), hi.tolist()  # exact Python ints
            for j, (l, h) in enumerate(zip(lo, hi)):
                # uint64 above 2**63 − 1 would wrap in int64; a huge span would not fit a key
                if h < 2 ** 63 and h - l + 1 <= _MAX_KEY:
                    self.lo[j], self.spans[j] = l, h - l + 1
        elif kind == "f":
            lo, hi = _column_extremes(a)
            # NaN fails both comparisons; |v| < 2**62 makes the int64 cast and int() exact
            fits = (np.abs(lo) < 2.0 ** 62) & (np.abs(hi) < 2.0 ** 62)
            for j in np.flatnonzero(fits).tolist():
                l, h = int(lo[j]), int(hi[j])
                if h - l + 1 <= _MAX_KEY:
                    self.lo[j], self.spans[j] = l, h - l + 1
                    self.unchecked[j] = True
        # any other kind (complex, str, object): every column is offset by rank

    def rank(self, j: int) -> None:
        _, inv = np.unique(self.a[:, j], return_inverse=True)
        self.ranks[j] = inv.ravel().astype(np.int64, copy=False)
        self.lo[j], self.spans[j] = 0, int(self.ranks[j].max()) + 1

    def span(self, j: int) -> int:
        if self.unchecked[j]:
            stop = min(self.d, j + _CHECK_CHUNK)
            chunk = self.a[:, j:stop]
            whole = np.all(chunk == np.round(chunk), axis=0)
            for k in range(j, stop):
                if self.unchecked[k] and not whole[k - j]:
                    self.lo[k] = self.spans[k] = None  # fractional values: rank instead
            self.unchecked[j:stop] = False
        if self.spans[j] is None:
            self.rank(j)
        return self.spans[j]

    def offsets(self, c: int) -> np.ndarray:
        """A fresh int64 array of column c's offsets o_c (the caller may modify it)."""
        if c in self.ranks:
            return self.ranks[c].copy()
        off = self.a[:, c].astype(np.int64)
        off -= self.lo[c]  # |value − min| < span ≤ 2**62
        return off

    def block(self, j: int, k: int) -> np.ndarray:
        """(n, k − j) int64 offsets of columns j..k−1."""
        if any(c in self.ranks for c in range(j, k)):
            return np.column_stack([self.offsets(c) for c in range(j, k)])
        blk = self.a[:, j:k].astype(np.int64)
        blk -= np.array(self.lo[j:k], dtype=np.int64)
        return blk


def _compress(key: np.ndarray) -> tuple[np.ndarray, int]:
    """Ranks 0..m−1 of the key values (same grouping, order kept) and m."""
    uniq, inv = np.unique(key, return_inverse=True)
    return inv.ravel().astype(np.int64, copy=False), int(uniq.size)


def _fold(a: np.ndarray) -> tuple[np.ndarray, int, bool]:
    """``(key, size, dense)`` for the rows of 2-D ``a`` (n ≥ 1): int64 keys, equal exactly
    when the rows are equal, in 0..size−1 (size ≤ ``_MAX_KEY``); ``dense`` when the keys are
    already the ranks 0..size−1. Keys order rows colexicographically (last column most
    significant) among the columns folded before an early stop."""
    cols = _Columns(a)
    n, d = cols.n, cols.d
    key, size, dense = None, 1, True  # key None: the constant key 0 of no columns yet
    j = 0
    while j < d:
        stop, total = j, size
        while stop < d and total * cols.span(stop) <= _MAX_KEY:
            total *= cols.span(stop)
            stop += 1
        if stop == j:  # the next column does not fit beside the current key
            if not dense:
                key, size = _compress(key)
                dense = True
            elif j not in cols.ranks:
                cols.rank(j)  # a huge span: its rank (≤ n values) fits beside m ≤ n
            else:  # m·s_j ≤ n² ≤ 2**62 whenever n ≤ 2**31
                raise ValueError(f"too many rows ({n}) to encode")
            if size == n:
                break  # every row already distinct: further columns cannot split them
            continue
        multipliers = []
        for c in range(j, stop):
            multipliers.append(size if not multipliers else multipliers[-1] * cols.spans[c - 1])
        # every partial sum stays below total ≤ _MAX_KEY: no overflow
        if stop - j > _SMALL_GROUP:
            part = cols.block(j, stop) @ np.array(multipliers, dtype=np.int64)
            key = part if key is None else key + part
        else:  # in place, column by column: fewer temporaries than a block and a matmul
            for c, mult in zip(range(j, stop), multipliers):
                off = cols.offsets(c)
                if mult != 1:
                    off *= mult
                if key is None:
                    key = off
                else:
                    key += off
        size, dense, j = total, False, stop
    if key is None:  # no columns: every row is the same (empty) row
        key = np.zeros(n, dtype=np.int64)
    return key, size, dense


def _as_2d(a) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim == 1:
        return a.reshape(-1, 1)
    if a.ndim > 2:
        return a.reshape(len(a), -1)
    return a


def row_keys(a) -> tuple[np.ndarray, int]:
    """``(key, size)``: one int64 key per row of ``a`` (1-D: one value per row), equal exactly
    when the rows are equal, with 0 ≤ key < size ≤ 2**62. Not necessarily dense 0..m−1; for
    counting (``np.bincount`` / ``np.unique(return_counts=True)``) no re-encoding is needed."""
    a = _as_2d(a)
    if a.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), 0
    key, size, _ = _fold(a)
    return key, size


def encode_rows(a) -> tuple[np.ndarray, int]:
    """Codes ``0..m-1`` (int64, one per row) and ``m``, the number of distinct rows.

    ``a`` is 1-D (one value per row) or 2-D (rows are samples), of any dtype ``np.unique``
    sorts. For one column the codes are the ranks of the distinct values in sorted order.
    """
    a = _as_2d(a)
    if a.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), 0
    key, size, dense = _fold(a)
    if dense:
        return key, size
    return _compress(key)
