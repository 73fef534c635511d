"""Entropy rate of a symbol sequence (characters of a text, tokens, a discretised signal).

The entropy rate of a stationary process is h = lim_k H(X_{k+1} | X_1..X_k) (Cover & Thomas
2006, Thm 4.2.1). Two estimators:

**n-gram (block) estimator.** With H_k the entropy of the k-blocks (k consecutive symbols),
the conditional entropy h_k = H_{k+1} − H_k decreases to h; for an order-k Markov chain
h_k = h exactly. The block entropies are estimated from the counts of the N = n − k
overlapping (k+1)-blocks and of their first k symbols (so the k-block counts are the
marginals of the (k+1)-block counts and the plug-in h_k is ≥ 0), with a bias correction:

* ``"plugin"``: Ĥ = log N − (1/N) Σ_b n_b log n_b (biased low by about (m − 1)/(2N));
* ``"miller_madow"`` (Miller 1955): Ĥ + (m − 1)/(2N), m the number of observed blocks, so
  ĥ_k gains (m_{k+1} − m_k)/(2N);
* ``"grassberger"`` (Grassberger 2003, "Entropy estimates from insufficient samplings"):
  Ĥ = log N − (1/N) Σ_b n_b G(n_b), G(n) = ψ(n) + ½(−1)^n (ψ((n+1)/2) − ψ(n/2)).

Overlapping blocks are not independent, so these corrections are those of an i.i.d. sample
of the same size; for a Markov chain the leading bias of the plug-in conditional entropy is
still −(m_{k+1} − m_k)/(2N) (the contexts' transition counts are multinomial given the context
counts), which Miller–Madow removes. The block estimator needs N ≫ A^{k+1}: with A symbols
each extra order multiplies the blocks to be seen.

**Lempel–Ziv match-length estimator** (Kontoyiannis, Algoet, Suhov & Wyner 1998,
"Nonparametric entropy estimation for stationary processes and random fields, with
applications to English text"; the increasing-window form studied by Gao, Kontoyiannis &
Bienenstock 2008, "Estimating the entropy of binary time series"). For each position i let
Λ_i be one more than the length of the longest string starting at i that also starts at some
earlier position j < i (the match may run past i). By the recurrence-time theorem
(Wyner–Ziv, Ornstein–Weiss) Λ_i / log i → 1/h, and

    ĥ = (1/|I|) Σ_{i∈I} log₂(i + 1) / Λ_i

converges to h for stationary ergodic sources (positions whose match reaches the end of the
sequence are left out: their Λ_i is not observed). It needs no order and no block table, but
converges slowly (bias of order log log n / log n); compare it with the block estimator on
data of known rate before trusting either (see the tests and notebook 11). Match lengths come
from a suffix array built by prefix doubling, O(n log² n) in numpy, and one compiled
nearest-smaller-value pass over it.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma

from ..errors import InputError
from ..estimators.discrete import (
    miller_madow_entropy_from_counts,
    plugin_entropy_from_counts,
    symbol_counts,
)
from ..units import Estimate, check_units, convert, from_nats
from ..validation import to_numpy

CORRECTIONS = ("plugin", "miller_madow", "grassberger")
#: ``order="auto"``: the largest order whose (k+1)-blocks were seen this often on average.
AUTO_MIN_COUNT = 5


def symbols(seq: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, alphabet)``: a sequence (a string, or a 1-D array/list of hashable symbols)
    as int64 codes 0..A−1 and the sorted alphabet (characters for a string)."""
    if isinstance(seq, str):
        arr = np.frombuffer(seq.encode("utf-32-le"), dtype=np.uint32)
        alphabet, codes = np.unique(arr, return_inverse=True)
        return codes.astype(np.int64), np.array([chr(c) for c in alphabet])
    arr = to_numpy(seq, "seq")
    if arr.ndim != 1:
        raise InputError(f"seq must be one sequence (1-D), got shape {arr.shape}; for several "
                         "sequences estimate each, or join them with a separator symbol")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InputError("seq contains NaN or inf")
    alphabet, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.int64).ravel(), alphabet


def _codes(seq: Any, min_len: int = 2) -> np.ndarray:
    codes = symbols(seq)[0]
    if len(codes) < min_len:
        raise InputError(f"seq has {len(codes)} symbols; need at least {min_len}")
    return codes


def _extend(ids: np.ndarray, codes: np.ndarray, j: int) -> np.ndarray:
    """Compact ids of the (j+1)-blocks from those of the j-blocks (``ids``, length n−j+1)."""
    pair = ids[:-1] * (int(codes.max()) + 1) + codes[j:]
    return np.unique(pair, return_inverse=True)[1].ravel()


def _entropy_from_ids(ids: np.ndarray, correction: str) -> tuple[float, int]:
    """Entropy (nats) of the empirical distribution of ``ids`` and the number of distinct ids:
    the plug-in and Miller–Madow counts of :mod:`workbench.estimators.discrete`, and
    Grassberger's (2003) G(n) here."""
    counts = symbol_counts(ids)
    counts = counts[counts > 0]
    if correction == "grassberger":
        n, m = int(counts.sum()), len(counts)
        sign = np.where(counts % 2 == 0, 1.0, -1.0)
        g = digamma(counts) + 0.5 * sign * (digamma((counts + 1) / 2) - digamma(counts / 2))
        return float(np.log(n) - (counts * g).sum() / n), m
    entropy = (miller_madow_entropy_from_counts if correction == "miller_madow"
               else plugin_entropy_from_counts)
    return entropy(counts), len(counts)


def _check_correction(correction: str) -> str:
    if correction not in CORRECTIONS:
        raise InputError(f"correction must be one of {CORRECTIONS}, got {correction!r}")
    return correction


def _conditional(codes: np.ndarray, max_order: int, correction: str) -> list[dict]:
    """h_k for k = 0..max_order, each from the N = n − k windows of length k + 1."""
    n = len(codes)
    rows, ids = [], [codes]  # ids[j-1]: compact ids of the j-blocks at every start
    for k in range(max_order + 1):
        while len(ids) < k + 1:
            ids.append(_extend(ids[-1], codes, len(ids)))
        big = ids[k][: n - k]
        h_big, m_big = _entropy_from_ids(big, correction)
        if k:
            h_small, m_small = _entropy_from_ids(ids[k - 1][: n - k], correction)
        else:
            h_small, m_small = 0.0, 1
        rows.append({"order": k, "h": h_big - h_small, "block_entropy": h_big,
                     "blocks_seen": m_big, "contexts_seen": m_small, "windows": n - k})
    return rows


def conditional_entropies(seq: Any, max_order: int = 6, correction: str = "miller_madow",
                          units: str = "bits"):
    """A DataFrame of the block estimates for orders k = 0..``max_order``: ``h`` (conditional
    entropy H(X_{k+1} | X_1..X_k), the rate estimate at order k), ``block_entropy`` (H_{k+1}),
    ``blocks_seen`` (distinct (k+1)-blocks), ``contexts_seen`` (distinct k-blocks),
    ``windows`` (N = n − k) and ``units``. Undersampled orders (few windows per block) are
    biased low even after correction: read the curve where it flattens before it drops."""
    import pandas as pd

    codes = _codes(seq)
    _check_correction(correction)
    check_units(units)
    if not 0 <= max_order < len(codes) - 1:
        raise InputError(f"max_order must be in [0, {len(codes) - 2}], got {max_order}")
    frame = pd.DataFrame(_conditional(codes, max_order, correction))
    for col in ("h", "block_entropy"):
        frame[col] = [from_nats(v, units) for v in frame[col]]
    frame["units"] = units
    return frame


def auto_order(seq: Any, max_order: int = 10, min_count: float = AUTO_MIN_COUNT) -> int:
    """The largest order k ≤ ``max_order`` whose (k+1)-blocks were seen on average at least
    ``min_count`` times (N / m_{k+1} ≥ min_count): a rule of thumb that keeps the block
    estimator out of the undersampled regime, not a model selection."""
    codes = _codes(seq)
    n, best, ids = len(codes), 0, codes
    for k in range(min(max_order, n - 2) + 1):
        if k:
            ids = _extend(ids, codes, k)
        if (n - k) / len(np.unique(ids)) < min_count:
            break
        best = k
    return best


def ngram_entropy_rate(seq: Any, order: int | str = "auto", correction: str = "miller_madow",
                       units: str = "bits") -> Estimate:
    """Block estimate ĥ_k = Ĥ_{k+1} − Ĥ_k of the entropy rate at Markov order ``order``
    (``"auto"``: :func:`auto_order`), with the bias ``correction`` (see the module doc).
    Exact in the limit for an order-k Markov source; an upper bound on h (in expectation,
    for large N) for any stationary source, since conditioning on more past lowers entropy."""
    codes = _codes(seq)
    _check_correction(correction)
    check_units(units)
    if order == "auto":
        order = auto_order(codes)
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or \
            not 0 <= order < len(codes) - 1:
        raise InputError(f"order must be 'auto' or an int in [0, {len(codes) - 2}], got "
                         f"{order!r}")
    h = _conditional(codes, int(order), correction)[-1]["h"]
    return Estimate(from_nats(h, units), units, f"ngram(order={int(order)}, {correction})",
                    "h")


# ----- Lempel–Ziv match lengths ---------------------------------------------------------------
def _doubling_ranks(codes: np.ndarray) -> list[np.ndarray]:
    """Ranks of the blocks x[i : i + 2^l] (past the end padded by a symbol below all others)
    for l = 0, 1, ...: equal ranks at two different positions mean equal blocks lying wholly
    inside the sequence. The last level ranks the suffixes (all distinct)."""
    n = len(codes)
    rank = codes
    levels = [rank]
    step = 1
    while len(np.unique(rank)) < n:
        second = np.zeros(n, dtype=np.int64)
        second[: n - step] = rank[step:] + 1   # 0: the block's second half is past the end
        rank = np.unique(rank * (n + 1) + second, return_inverse=True)[1].ravel()
        levels.append(rank)
        step *= 2
    return levels


def _lcp(levels: list[np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Longest common prefix of the suffixes at i and j (i ≠ j elementwise), by binary
    lifting over the doubling ranks: add 2^l wherever the next 2^l symbols agree."""
    n = len(levels[0])
    out = np.zeros(len(i), dtype=np.int64)
    for lev in range(len(levels) - 1, -1, -1):
        a, b = i + out, j + out
        ok = (a < n) & (b < n)
        same = np.zeros(len(i), dtype=bool)
        same[ok] = levels[lev][a[ok]] == levels[lev][b[ok]]
        out += same.astype(np.int64) << lev
    return out


def match_lengths(seq: Any) -> np.ndarray:
    """L_i for every position i: the length of the longest string starting at i that also
    starts at some j < i (L_0 = 0). Λ_i = L_i + 1 is the length of the shortest new string.

    The earlier suffix sharing the longest prefix with suffix i is, in suffix-array order,
    the nearest one on either side that starts before i (previous/next smaller value)."""
    codes = _codes(seq, 1)
    n = len(codes)
    levels = _doubling_ranks(codes)
    from ._lz_kernel import nearest_smaller

    sa = np.argsort(levels[-1]).astype(np.int64)
    # in suffix-array order: the nearest rank on each side with an earlier start
    psv, nsv = nearest_smaller(sa)
    rank_of = levels[-1]
    best = np.zeros(n, dtype=np.int64)
    for side in (psv, nsv):
        q = side[rank_of]          # per position i: the neighbour's rank, −1 if none
        has = q >= 0
        i = np.flatnonzero(has)
        j = sa[q[has]]
        best[i] = np.maximum(best[i], _lcp(levels, i, j))
    return best


def lz_entropy_rate(seq: Any, units: str = "bits") -> Estimate:
    """Lempel–Ziv match-length estimate ĥ = mean_i log₂(i + 1) / Λ_i over positions i ≥ 1
    whose match does not reach the end (Kontoyiannis et al. 1998; see the module doc)."""
    check_units(units)
    codes = _codes(seq, 16)
    n = len(codes)
    L = match_lengths(codes)
    i = np.arange(n)
    keep = (i >= 1) & (i + L < n)
    if keep.sum() < 8:
        raise InputError("too few positions with an observed match length: the sequence is "
                         "(nearly) a repetition of its beginning; its entropy rate is ~0")
    bits = float(np.mean(np.log2(i[keep] + 1) / (L[keep] + 1)))
    value = convert(bits, "bits", units)
    return Estimate(value, units, "lz(increasing window)", "h")


def entropy_rate(seq: Any, method: str = "ngram", units: str = "bits", **kwargs: Any) -> Estimate:
    """Entropy rate by ``method="ngram"`` (:func:`ngram_entropy_rate`: ``order``,
    ``correction``) or ``"lz"`` (:func:`lz_entropy_rate`)."""
    if method == "ngram":
        return ngram_entropy_rate(seq, units=units, **kwargs)
    if method == "lz":
        if kwargs:
            raise InputError(f"the lz estimator takes no options, got {sorted(kwargs)}")
        return lz_entropy_rate(seq, units=units)
    raise InputError(f"method must be 'ngram' or 'lz', got {method!r}")
