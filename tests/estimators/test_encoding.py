"""encode_rows / row_keys: rows to integer symbols, the shared step of every plug-in estimator.

Truth is ``np.unique(a, axis=0)``: two rows get the same code exactly when they are equal.
"""
import warnings

import numpy as np
import pytest

from workbench.estimators.discrete import joint_counts
from workbench.estimators.encoding import _MAX_KEY, encode_rows, row_keys


def same_partition(codes, reference) -> bool:
    """True when equal codes mark exactly the same rows as equal reference labels."""
    pairs = np.unique(np.column_stack([codes, reference]), axis=0)
    return len(pairs) == np.unique(codes).size == np.unique(reference).size


def check(a):
    """encode_rows(a) is a dense 0..m-1 coding with np.unique(axis=0)'s grouping, and row_keys
    groups the same way within its stated range; no warnings on the way."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        codes, m = encode_rows(a)
        key, size = row_keys(a)
    a2 = a.reshape(len(a), -1)
    reference = np.unique(a2, axis=0, return_inverse=True)[1].ravel()
    assert codes.dtype == np.int64 and codes.shape == (len(a),)
    assert m == np.unique(reference).size and np.array_equal(np.unique(codes), np.arange(m))
    assert same_partition(codes, reference)
    assert key.dtype == np.int64 and 0 <= key.min() and key.max() < size <= _MAX_KEY
    assert same_partition(key, reference)
    return codes, m


RNG = np.random.default_rng(0)
PROTOS = RNG.integers(0, 256, size=(7, 784))


@pytest.mark.parametrize("a", [
    RNG.integers(0, 3, size=(1000, 5)),
    RNG.integers(-5, 3, size=(1000, 40)),
    RNG.integers(0, 256, size=(300, 784)).astype(np.uint8),  # distinct early: stops early
    PROTOS[RNG.integers(0, 7, 2000)],  # 256**784 key range: folded in ~112 groups
    RNG.integers(0, 2, size=(500, 100)).astype(bool),
    RNG.integers(0, 2 ** 40, size=(1000, 4))[RNG.integers(0, 30, 1000)],  # 2**160 key range
    np.round(RNG.normal(size=(500, 3)), 1),  # fractional values: ranked per column
    np.array([[-2 ** 63, 2 ** 63 - 1], [0, 0], [-2 ** 63, 2 ** 63 - 1], [5, 5]]),  # full int64
    np.array([[2 ** 64 - 1, 1], [0, 1], [2 ** 64 - 1, 1]], dtype=np.uint64),  # above int64
    np.array([[1e300, np.inf, -0.0], [1e300, np.inf, 0.0], [-1e300, -np.inf, 0.0]]),
    np.column_stack([RNG.integers(0, 3, 900), RNG.random(900).round(1),
                     RNG.integers(0, 2 ** 62, 900)])[RNG.integers(0, 900, 900)],
], ids=["small", "negative", "uint8-wide", "prototypes-wide", "bool", "huge-spans",
        "fractional", "int64-extremes", "uint64", "huge-floats", "mixed"])
def test_grouping_matches_unique_rows(a):
    check(a)


def test_one_column_codes_are_sorted_ranks():
    for x in (np.array([5, -3, 5, 10 ** 15, -3]), np.array([0.5, -2.0, 0.5, 7.25, -2.0])):
        codes, m = check(x)
        assert codes.tolist() == [1, 0, 1, 2, 0] and m == 3


def test_multi_column_codes_are_mixed_radix_ranks():
    # column 0 least significant: codes rank Σ_j (a_j − min_j) Π_{i<j} s_i
    a = np.array([[1, 0], [0, 1], [0, 0], [1, 1], [0, 0]])
    codes, m = check(a)
    assert codes.tolist() == [1, 2, 0, 3, 0] and m == 4


def test_empty_and_constant():
    assert encode_rows(np.zeros((0, 3), dtype=int))[1] == 0
    codes, m = encode_rows(np.zeros((6, 0)))
    assert codes.tolist() == [0] * 6 and m == 1
    codes, m = check(np.full((6, 900), 3))
    assert codes.tolist() == [0] * 6 and m == 1


def test_joint_counts_keeps_large_codes_apart():
    # int64 codes above 2**53 next to float labels: stacking them as float64 would merge them
    big = np.array([2 ** 60, 2 ** 60 + 1, 2 ** 60, 2 ** 60 + 1])
    counts = joint_counts(big, np.full(4, 0.5))
    assert sorted(counts[counts > 0].tolist()) == [2, 2]
    # uint64 above 2**63 − 1 would wrap in int64
    huge_u = np.array([2 ** 64 - 1, 0, 2 ** 64 - 1, 0], dtype=np.uint64)
    counts = joint_counts(huge_u, np.sort(big))
    assert sorted(counts[counts > 0].tolist()) == [1, 1, 1, 1]
