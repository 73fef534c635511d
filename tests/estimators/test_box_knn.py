"""The compiled kd-tree k-NN query (box_tree.kth_neighbour) against cKDTree, the brute force
and the O(n²) definition.

Exactness is the claim, so every distance is compared with == (no tolerance): the engines do
the same float64 arithmetic (max |Δ|; Σ Δ² in cKDTree's summation order, then sqrt).
Indices among equidistant neighbours may differ between engines, so they are checked by what
they must satisfy: k + 1 distinct rows whose distances are the k + 1 smallest.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

import workbench as wb
from workbench.estimators import box_tree, brute_force, knn


def definition(p: np.ndarray, k: int, norm: float) -> tuple[np.ndarray, np.ndarray]:
    """k-th other-point distance from the full distance matrix, and the sorted k + 1
    smallest distances of every row (self included)."""
    diff = np.abs(p[:, None, :] - p[None, :, :])
    dist = diff.max(axis=2) if norm == np.inf else None
    if dist is None:
        raise ValueError("the definition serves the max-norm; Euclidean goes through cKDTree")
    smallest = np.sort(dist, axis=1)[:, :k + 1]
    return smallest[:, k], smallest


def data(kind: str, n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "continuous":
        return rng.standard_normal((n, d)) @ (np.eye(d) + 0.4)  # correlated columns
    if kind == "ties":  # one decimal: many equal coordinates and equal distances
        return np.round(rng.standard_normal((n, d)), 1)
    if kind == "duplicates":  # rows repeated up to 3 times: k-th distances of 0
        base = rng.standard_normal((n // 3 + 1, d))
        return base[rng.integers(0, len(base), n)]
    if kind == "integers":  # integer-valued coordinates: ties at every distance
        return rng.integers(-4, 5, (n, d)).astype(float)
    raise ValueError(kind)


def check_indices(p, k, norm, eps, idx):
    """idx holds k + 1 distinct rows per row, and their distances are the k + 1 smallest."""
    n = len(p)
    assert idx.shape == (n, k + 1)
    assert np.all(np.sort(idx, axis=1)[:, 1:] != np.sort(idx, axis=1)[:, :-1])
    got = np.abs(p[idx] - p[:, None, :])
    got = got.max(axis=2) if norm == np.inf else np.sqrt((got ** 2).sum(axis=2))
    # nearest first, and the last of them is the k-th neighbour
    assert np.all(np.diff(got, axis=1) >= -1e-12)
    if norm == np.inf:
        np.testing.assert_array_equal(got[:, k], eps)
        np.testing.assert_array_equal(np.sort(got, axis=1), definition(p, k, norm)[1])


@pytest.mark.parametrize("norm", [np.inf, 2])
@pytest.mark.parametrize("kind", ["continuous", "ties", "duplicates", "integers"])
@pytest.mark.parametrize("d", [2, 3, 5, 8])
def test_distances_equal_ckdtree_and_brute_force(d, kind, norm):
    for k in range(1, 6):
        p = data(kind, 301, d, seed=10 * d + k)  # 301: not a multiple of the leaf size
        eps, idx = box_tree.kth_neighbour(p, k, norm)
        ref = cKDTree(p).query(p, k=k + 1, p=norm)[0][:, k]
        np.testing.assert_array_equal(eps, ref)  # bit for bit
        if norm == np.inf:
            np.testing.assert_array_equal(eps, definition(p, k, norm)[0])
            brute, _, _ = brute_force.neighbour_rows([p], k, (), "below_eps")
            np.testing.assert_array_equal(eps, brute)
        check_indices(p, k, norm, eps, idx)


@pytest.mark.parametrize("d", [4, 6, 7])
@pytest.mark.parametrize("norm", [np.inf, 2])
def test_larger_data_and_every_dimension(d, norm):
    # several tree levels (n / 16 leaves), and d = 4..7 covers cKDTree's 4-wide summation
    p = data("continuous", 3000, d, seed=d)
    eps, idx = box_tree.kth_neighbour(p, 3, norm)
    np.testing.assert_array_equal(eps, cKDTree(p).query(p, k=4, p=norm)[0][:, 3])
    check_indices(p, 3, norm, eps, idx)


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("norm", [np.inf, 2])
def test_tiny_n(k, norm):
    # n = k + 1: every other row is a neighbour; a single node that is also a leaf
    p = data("continuous", k + 1, 3, seed=k)
    eps, idx = box_tree.kth_neighbour(p, k, norm)
    np.testing.assert_array_equal(eps, cKDTree(p).query(p, k=k + 1, p=norm)[0][:, k])
    assert all(sorted(row) == list(range(k + 1)) for row in idx.tolist())
    with pytest.raises(ValueError, match="more than k"):
        box_tree.kth_neighbour(p[:k], k, norm)


def test_all_points_equal_and_one_column_constant():
    # a node whose widest column has width 0 is not split: one big leaf
    p = np.zeros((50, 3))
    eps, _ = box_tree.kth_neighbour(p, 3)
    np.testing.assert_array_equal(eps, 0.0)
    p = data("continuous", 200, 3, seed=1)
    p[:, 1] = 7.0
    np.testing.assert_array_equal(box_tree.kth_neighbour(p, 2, 2)[0],
                                  cKDTree(p).query(p, k=3, p=2)[0][:, 2])


def test_rows_split_over_threads_give_the_same_result(monkeypatch):
    p = data("ties", 1001, 3, seed=4)  # 1001 rows into 3 uneven ranges
    alone = box_tree.kth_neighbour(p, 4)
    monkeypatch.setattr(brute_force, "THREADED_MIN_N", 1)
    monkeypatch.setattr(brute_force, "_THREAD_MIN_PAIRS", 1)
    monkeypatch.setattr(brute_force, "cores", lambda: 3)
    split = box_tree.kth_neighbour(p, 4)
    np.testing.assert_array_equal(alone[0], split[0])
    np.testing.assert_array_equal(alone[1], split[1])


def test_median_selection_builds_a_valid_tree():
    # every node's box spans exactly its own points, children split the parent's range at
    # its middle, and no point of the left child lies beyond the right child's lowest
    # value in the split column
    p = data("ties", 777, 3, seed=5)
    perm, tp, start, stop, left, lo, hi = box_tree._build(p, 16)
    np.testing.assert_array_equal(tp, p[perm])
    assert sorted(perm.tolist()) == list(range(len(p)))
    for node in range(len(start)):
        pts = p[perm[start[node]:stop[node]]]
        np.testing.assert_array_equal(pts.min(axis=0), lo[node])
        np.testing.assert_array_equal(pts.max(axis=0), hi[node])
        child = left[node]
        if child >= 0:
            assert start[child] == start[node] and stop[child + 1] == stop[node]
            assert stop[child] == (start[node] + stop[node]) // 2 == start[child + 1]
            c = int(np.argmax(hi[node] - lo[node]))
            assert hi[child, c] <= lo[child + 1, c]
        else:
            assert stop[node] - start[node] <= 16 or np.all(hi[node] == lo[node])


def test_kth_neighbour_auto_picks_the_box_tree_and_agrees():
    p = data("continuous", 2000, 4, seed=6)
    for norm in (np.inf, 2):
        auto = knn.kth_neighbour(p, 3, p=norm)
        tree = knn.kth_neighbour(p, 3, p=norm, algorithm="tree")
        np.testing.assert_array_equal(auto[0], tree[0])
    # other p-norms stay on cKDTree
    np.testing.assert_array_equal(knn.kth_neighbour(p, 3, p=1)[0],
                                  cKDTree(p).query(p, k=4, p=1)[0][:, 3])
    assert not knn.use_brute_force(20_000, 10, task="knn")


def test_stable_ranks_equal_the_stable_argsort():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((500, 3))
    a[:, 1] = np.round(a[:, 1], 1)  # ties in one column only
    a[5, 2] = -0.0
    a[6, 2] = 0.0  # equal but differently signed zeros
    ranks = knn._stable_ranks(a)
    np.testing.assert_array_equal(ranks, np.argsort(a, axis=0, kind="stable"))
    assert ranks.dtype == np.int64
    v = np.array([3.0, 1.0, 2.0, 1.0])  # 1-D input (jitter_rng is public)
    np.testing.assert_array_equal(knn._stable_ranks(v), [1, 3, 2, 0])


#: KL estimates of the inputs below, computed before the box-tree engine and the
#: column-major preprocessing (commit 7372dd0). Those changed only summation orders in the
#: column means and the whitening product (~1e-16 relative each), so the estimates agree to
#: ~1e-14; 1e-12 leaves room for other BLAS builds.
KL_BEFORE = {
    (2, "chebyshev"): 3.214742087571015,
    (5, "euclidean"): 7.806567845796267,
    (8, "chebyshev"): 12.521722617890399,
    (5, "euclidean", "int"): 35.502532877500144,
}


def test_kl_estimates_unchanged():
    rng = np.random.default_rng(5)
    got = {}
    for d in (2, 3, 5, 8):
        for norm in ("chebyshev", "euclidean"):
            x = rng.standard_normal((700, d)) @ (np.eye(d) + 0.3)
            x[::50] = x[1::50]  # a few duplicate pairs
            got[d, norm] = float(wb.entropy(x, method="kl", k=3, norm=norm, units="nats"))
            xi = np.round(rng.standard_normal((700, d)) * 300)  # integer-valued
            got[d, norm, "int"] = float(wb.entropy(xi, method="kl", k=5, norm=norm,
                                                   units="nats"))
    for key, value in KL_BEFORE.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


def test_device_argument_dispatches_to_torch_with_the_same_numbers():
    # the estimators' torch setting goes through the neighbour functions' ``device``
    pytest.importorskip("torch")
    x, y = data("ties", 400, 2, seed=8), data("continuous", 400, 2, seed=9)
    ours = knn.neighbour_counts([x, y], 3, [(0,), (1,)], "below_eps")
    torch = knn.neighbour_counts([x, y], 3, [(0,), (1,)], "below_eps", device="cpu")
    np.testing.assert_array_equal(ours[0], torch[0])
    for a, b in zip(ours[2], torch[2]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(knn.kth_neighbour(x, 3)[0],
                                  knn.kth_neighbour(x, 3, device="cpu")[0])
    np.testing.assert_array_equal(
        knn.count_neighbours(x, ours[0], strict=True),
        knn.count_neighbours(x, ours[0], strict=True, device="cpu"))


@pytest.mark.parametrize("norm", [2, np.inf])
def test_distances_that_overflow_still_fill_the_neighbour_list(norm):
    # Δ² (Euclidean) and |1e308 − (−1e308)| (max-norm) overflow to inf: every row must still
    # get k + 1 real rows (itself first) and the definition's k-th distance, never stale or
    # unset slots (this used to crash the process)
    points = np.array([[0.0, 0.0], [1e308, 0.0], [-1e308, 0.0]])
    with np.errstate(over="ignore"):
        diff = np.abs(points[:, None, :] - points[None, :, :])
        dist = np.sqrt((diff ** 2).sum(-1)) if norm == 2 else diff.max(-1)
    for _ in range(2):  # a second query must not see the first one's leftovers
        eps, idx = box_tree.kth_neighbour(points, 2, norm)
        assert np.array_equal(eps, np.sort(dist, axis=1)[:, 2])
        assert np.isinf(eps[1]) and np.isinf(eps[2])
        assert idx[:, 0].tolist() == [0, 1, 2]
        assert all(sorted(row) == [0, 1, 2] for row in idx.tolist())


def test_overflow_in_a_large_tree_matches_the_definition():
    rng = np.random.default_rng(3)
    points = rng.standard_normal((200, 3)) * np.array([1e-300, 1.0, 1e300])
    eps, idx = box_tree.kth_neighbour(points, 3, 2)
    dist = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    with np.errstate(over="ignore"):
        assert np.array_equal(np.sort(dist, axis=1)[:, 3], eps)
    assert np.all((idx >= 0) & (idx < 200))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_points_are_refused(bad):
    points = np.random.default_rng(0).standard_normal((50, 2))
    points[3, 0] = bad
    with pytest.raises(wb.errors.InputError, match="finite"):
        knn.kth_neighbour(points, 3)
    with pytest.raises(wb.errors.InputError, match="finite"):
        knn.count_neighbours(points, np.ones(50), strict=True)
