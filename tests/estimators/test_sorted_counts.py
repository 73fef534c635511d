"""The sorted (galloping) 1-D counter and the leaf-order tree queries give exactly the counts
and distances of the O(n²) definition: ties, duplicates, radii equal to real distances, radii
of 0 and values whose sums v ± r round badly are all decided by the float64 difference."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import InputError
from workbench.estimators import box_tree, knn, sorted_counts


def definition_counts(v, radii, strict):
    d = np.abs(v[:, None] - v[None, :])
    inside = d < radii[:, None] if strict else d <= radii[:, None]
    return inside.sum(axis=1) - np.diag(inside)


@pytest.mark.parametrize("decimals,offset", [(0, 0.0), (1, 0.0), (8, 0.0), (8, 1e6),
                                             (3, 1e15)])
@pytest.mark.parametrize("strict", [True, False])
def test_count_1d_equals_definition(decimals, offset, strict):
    rng = np.random.default_rng(decimals)
    v = np.round(rng.standard_normal(700), decimals) + offset
    v[:50] = v[0]  # an atom: 50 exact duplicates
    d = np.abs(v[:, None] - v[None, :])
    radii = d[np.arange(v.size), rng.integers(0, v.size, v.size)]  # real distances, some 0
    radii[::7] = 0.0
    np.testing.assert_array_equal(sorted_counts.count_1d(v, radii, strict),
                                  definition_counts(v, radii, strict))


def test_count_1d_random_and_with_given_order():
    rng = np.random.default_rng(3)
    v = rng.standard_normal(2000)
    radii = rng.uniform(0, 0.5, v.size)
    expected = definition_counts(v, radii, True)
    np.testing.assert_array_equal(sorted_counts.count_1d(v, radii, True), expected)
    np.testing.assert_array_equal(
        sorted_counts.count_1d(v, radii, True, order=np.argsort(v)), expected)


def test_count_1d_extremes():
    # everything inside, nothing inside, and two points
    v = np.arange(10.0)
    np.testing.assert_array_equal(sorted_counts.count_1d(v, np.full(10, 100.0), True),
                                  np.full(10, 9))
    np.testing.assert_array_equal(sorted_counts.count_1d(v, np.full(10, 0.5), False),
                                  np.zeros(10))
    np.testing.assert_array_equal(sorted_counts.count_1d(np.array([0.0, 1.0]),
                                                         np.array([1.0, 1.0]), False), [1, 1])


@pytest.mark.parametrize("d", [2, 3, 4])
def test_leaf_order_tree_queries_equal_brute_force(d):
    # large enough for trees of many leaves; rounded coordinates tie at the k-th distance
    rng = np.random.default_rng(d)
    p = np.round(rng.standard_normal((3000, d)), 1)
    p[:40] = p[0]
    eps_tree, idx_tree = knn.kth_neighbour(p, 3, algorithm="tree")
    eps_brute, _ = knn.kth_neighbour(p, 3, algorithm="brute")
    np.testing.assert_array_equal(eps_tree, eps_brute)
    # the indices returned by the tree are the row's own k + 1 nearest, in the row's place
    far = np.abs(p[idx_tree] - p[:, None, :]).max(axis=2).max(axis=1)
    np.testing.assert_array_equal(far, eps_tree)
    for strict in (True, False):
        np.testing.assert_array_equal(
            knn.count_neighbours(p, eps_tree, strict=strict, algorithm="tree"),
            knn.count_neighbours(p, eps_tree, strict=strict, algorithm="brute"))


@pytest.mark.parametrize("d", [1, 2, 4])
def test_atom_check_counts_exactly_the_repeated_rows(d):
    # the projection sort only finds suspects; the verdict and the message's counts come from
    # the exact row comparison: 8 copies of one row and 5 of another (> k = 3) are atoms,
    # 3 copies of a third row are not, and rows that share a projection but differ are not
    rng = np.random.default_rng(d)
    x = rng.standard_normal((400, d))
    x[:7], x[7:11], x[11:13] = x[100], x[101], x[102]
    with pytest.raises(InputError, match="13 of 400 rows are copies of 2 value"):
        knn._reject_atoms(x, 3)
    x = rng.standard_normal((400, d))
    x[:3] = x[3]  # 4 copies = k + 1 > k: an atom
    with pytest.raises(InputError, match="4 of 400 rows"):
        knn._reject_atoms(x, 3)
    x[0] = rng.standard_normal(d)  # now 3 copies: fine
    knn._reject_atoms(x, 3)
    if d > 1:  # distinct rows with the same projection fl(w1 c) + fl(w1 (−c)) = 0 exactly
        w1 = np.random.default_rng(0).uniform(1.0, 2.0, d)[1]
        y = rng.standard_normal((400, d))
        y[:6] = 0.0
        for c in range(1, 6):
            y[c, 0], y[c, 1] = w1 * c, -float(c)
        knn._reject_atoms(y, 3)  # six suspects, all different rows: no error


@pytest.mark.parametrize("decimals", [0, 1, 8])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_kth_neighbour_1d_equals_definition_and_the_tree(decimals, k):
    rng = np.random.default_rng(k + decimals)
    v = np.round(rng.standard_normal(600), decimals)
    v[:20] = v[0]  # duplicates: k-th distances of 0
    d = np.abs(v[:, None] - v[None, :])
    expected = np.sort(d, axis=1)[:, k]  # column 0: the row itself (or a copy, also 0)
    eps, idx = sorted_counts.kth_neighbour_1d(v, k)
    np.testing.assert_array_equal(eps, expected)
    assert (idx[:, 0] == np.arange(v.size)).all()
    np.testing.assert_array_equal(d[np.arange(v.size)[:, None], idx].max(axis=1), expected)
    assert all(len(set(row)) == k + 1 for row in idx.tolist())
    for p in (np.inf, 2):
        tree_eps, _ = knn.kth_neighbour(v[:, None], k, p=p, algorithm="tree")
        np.testing.assert_array_equal(knn.kth_neighbour(v[:, None], k, p=p)[0], tree_eps)


@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("decimals,offset", [(1, 0.0), (8, 0.0), (8, 1e6)])
def test_box_tree_counts_equal_definition(d, decimals, offset):
    # ties at the radii (rounded data, radii equal to real distances), radii of 0, an atom of
    # 40 copies (a node of identical points is never split), and values whose differences
    # round badly far from 0
    rng = np.random.default_rng(d * 10 + decimals)
    p = np.round(rng.standard_normal((900, d)), decimals) + offset
    p[:40] = p[0]
    dist = np.abs(p[:, None, :] - p[None, :, :]).max(axis=2)
    radii = dist[np.arange(900), rng.integers(0, 900, 900)]
    radii[::11] = 0.0
    for strict in (True, False):
        inside = dist < radii[:, None] if strict else dist <= radii[:, None]
        expected = inside.sum(axis=1) - np.diag(inside)
        np.testing.assert_array_equal(box_tree.count_rows(p, radii, strict), expected)
        np.testing.assert_array_equal(knn.count_neighbours(p, radii, strict=strict), expected)
