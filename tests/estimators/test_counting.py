"""One-pass counting (compiled count loops, joint count tables) gives exactly the counts of
np.unique, and the discrete estimators the same numbers as the chain rule on separately
counted joint symbols (to float rounding: only the order of the additions differs)."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.estimators import counting, get_estimator_class
from workbench.estimators.discrete import (
    PluginEstimator,
    count_table,
    joint_counts,
    key_counts,
    plugin_entropy_from_counts,
)

METHODS = ["plugin", "miller_madow", "shrinkage", "chao_shen"]


def unique_counts(*cols):
    return np.unique(np.column_stack(cols), axis=0, return_counts=True)[1]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 1001])
@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_count_keys_equals_unique(n, m):
    # every loop remainder (n mod 4, n mod 2) and every number of variables
    rng = np.random.default_rng(n * 10 + m)
    sizes = [int(s) for s in rng.integers(1, 6, m)]
    keys = [rng.integers(0, s, n) for s in sizes]
    table = counting.count_keys(keys, sizes)
    assert table.sum() == n
    np.testing.assert_array_equal(np.sort(table[table > 0]), np.sort(unique_counts(*keys)))
    # cell key_0 + s_0 (key_1 + s_1 key_2 ...) holds the count of that joint symbol
    flat = np.ravel_multi_index(tuple(keys[::-1]), sizes[::-1])
    np.testing.assert_array_equal(table, np.bincount(flat, minlength=table.size))


def test_int_range_and_key_counts():
    v = np.array([5, -3, 7, 7, 0])
    assert counting.int_range(v) == (-3, 7)
    np.testing.assert_array_equal(key_counts(np.array([0, 2, 2]), 4), [1, 0, 2, 0])
    # a size past the table limit counts the occupied keys only
    np.testing.assert_array_equal(key_counts(np.array([0, 10**9, 10**9]), 10**9 + 1), [1, 2])


def test_count_table_marginals_are_the_separate_counts():
    rng = np.random.default_rng(1)
    x, y, z = rng.integers(0, 4, 500), rng.integers(0, 3, 500), rng.integers(0, 5, 500)
    table = count_table((x, 4), (y, 3), (z, 5))
    assert table.shape == (5, 3, 4)  # axes: z, y, x
    np.testing.assert_array_equal(table.sum(axis=(0, 1)), np.bincount(x, minlength=4))
    np.testing.assert_array_equal(table.sum(axis=(1, 2)), np.bincount(z, minlength=5))
    xz = table.sum(axis=1)
    np.testing.assert_array_equal(np.sort(xz[xz > 0]), np.sort(unique_counts(x, z)))
    assert count_table((x, 10**6), (y, 10**6)) is None  # too many cells: caller falls back


def chain_rule(est, x, y, z=None):
    """The estimator's value through separately counted joint symbols (np.unique codes)."""
    h = est.entropy_of_codes
    cx, cy = est.symbols(x), est.symbols(y)
    if z is None:
        return h(cx) + h(cy) - h(cx, cy)
    cz = est.symbols(z)
    return h(cx, cz) + h(cy, cz) - h(cx, cy, cz) - h(cz)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", ["small", "negative", "wide", "two_columns", "bool", "float",
                                  "huge"])
def test_table_path_equals_chain_rule(method, kind):
    rng = np.random.default_rng(7)
    n = 3000
    x = rng.integers(0, 6, n)
    y = (x + rng.integers(0, 3, n)) % 6
    z = rng.integers(0, 4, n)
    if kind == "negative":
        x, y = x - 3, -y
    elif kind == "wide":  # alphabet larger than the table limit allows for the joint
        x, y = rng.integers(0, 5000, n), rng.integers(0, 5000, n)
    elif kind == "two_columns":
        x = np.c_[x, rng.integers(0, 2, n)]
    elif kind == "bool":
        x, y = x > 2, y > 2
    elif kind == "float":
        x, y = x.astype(float), y.astype(float)
    elif kind == "huge":
        x = x.astype(np.uint64) + np.uint64(2**63)
    est = get_estimator_class(method)()
    prep = lambda a, name: est._prepare(a, name)  # noqa: E731
    xa, ya, za = prep(x, "x"), prep(y, "y"), prep(z, "z")
    assert est.mutual_info(x, y, units="nats") == pytest.approx(chain_rule(est, xa, ya),
                                                                abs=1e-12)
    assert est.conditional_mutual_info(x, y, z, units="nats") == pytest.approx(
        chain_rule(est, xa, ya, za), abs=1e-12)
    assert est.entropy(x, units="nats") == pytest.approx(est.entropy_of_codes(est.symbols(xa)),
                                                         abs=1e-12)


def test_plugin_entropy_alphabet_10_against_closed_form():
    # counts fixed by construction (not sampled): H = log 10 exactly for a uniform table
    x = np.tile(np.arange(10), 1000)
    assert PluginEstimator().entropy(x, units="nats") == pytest.approx(np.log(10), abs=1e-12)
    np.testing.assert_array_equal(joint_counts(x), np.full(10, 1000))
    assert plugin_entropy_from_counts(np.full(10, 1000)) == pytest.approx(np.log(10))


@pytest.mark.parametrize("sizes", [[70_000], [300, 300], [50, 50, 50]])
def test_count_keys_large_tables(sizes):
    # past _PARTIAL_ROWS_MAX_CELLS the loops keep one count row: same counts
    rng = np.random.default_rng(len(sizes))
    keys = [rng.integers(0, s, 5001) for s in sizes]
    flat = np.ravel_multi_index(tuple(keys[::-1]), sizes[::-1])
    np.testing.assert_array_equal(counting.count_keys(keys, sizes),
                                  np.bincount(flat, minlength=int(np.prod(sizes))))


def test_import_workbench_does_not_load_the_compiled_counters():
    # discrete is imported by `import workbench`; its numba kernels load on first use only
    import subprocess
    import sys

    code = ("import sys, workbench\n"
            "assert 'numba' not in sys.modules and 'torch' not in sys.modules\n"
            "print(float(workbench.entropy([0, 1, 0, 1], method='plugin')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert float(out) == pytest.approx(1.0)  # one fair bit
