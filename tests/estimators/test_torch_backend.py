"""The torch backend equals the numpy/numba/tree engines: identical neighbour radii, indices and
counts (the same IEEE float64 comparisons), identical histogram codes, and KDE mixture terms
and Euclidean radii to float64 rounding. Run on CPU torch (CI has no GPU)."""
from __future__ import annotations

import numpy as np
import pytest

import workbench as wb
from workbench.errors import KnobError
from workbench.estimators import brute_force, get_estimator_class, knn
from workbench.estimators import torch_backend as tb
from workbench.estimators.binning import _fixed_width_bins
from workbench.estimators.kernel import mixture_log_terms

pytest.importorskip("torch")


def _data(kind: str, n: int, dims: tuple[int, ...], seed: int = 0):
    rng = np.random.default_rng(seed)
    blocks = [rng.normal(size=(n, d)) for d in dims]
    if kind == "ties":  # few distinct values per column: many equal distances and duplicates
        blocks = [np.round(b, 0) for b in blocks]
    elif kind == "dependent":
        blocks[1] = blocks[1] + blocks[0][:, :1]
    return blocks


def _sorted_rows(idx):
    return np.sort(idx, axis=1)


@pytest.mark.parametrize("kind", ["normal", "ties", "dependent"])
@pytest.mark.parametrize("rule", ["below_eps", "below_eps_or_atom", "span"])
@pytest.mark.parametrize("block_elements", [None, 997])  # 997: many uneven row blocks
def test_neighbour_rows_identical_to_brute_force_and_trees(kind, rule, block_elements):
    blocks = _data(kind, 400, (2, 1, 2))
    spaces = [(0,), (1,), (0, 2), (2,)]
    k = 3
    e_b, i_b, c_b = brute_force.neighbour_rows(blocks, k, spaces, rule)
    e_t, i_t, c_t = tb.neighbour_rows(blocks, k, spaces, rule, "cpu", block_elements)
    assert np.array_equal(e_t, e_b)
    # the same k + 1 nearest (lowest indices among ties), so the "span" radii agree too
    assert np.array_equal(_sorted_rows(i_t), _sorted_rows(i_b))
    for a, b in zip(c_t, c_b):
        assert np.array_equal(a, b)
    if rule != "span":  # the tree engine picks any of equidistant neighbours: radii only
        e_tree, _, c_tree = knn.neighbour_counts(blocks, k, spaces, rule, algorithm="tree")
        assert np.array_equal(e_t, e_tree)
        for a, b in zip(c_t, c_tree):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("kind", ["normal", "ties"])
def test_count_rows_identical(strict, kind):
    (points,) = _data(kind, 500, (3,), seed=1)
    rng = np.random.default_rng(2)
    radii = rng.choice([0.0, 0.5, 1.0, 2.0], size=len(points))  # zero radii: atoms and none
    expect = knn.count_neighbours(points, radii, strict=strict, algorithm="tree")
    assert np.array_equal(tb.count_rows(points, radii, strict, "cpu", 1000), expect)
    assert np.array_equal(brute_force.count_rows(points, radii, strict), expect)


@pytest.mark.parametrize("d", [2, 6])
def test_kth_neighbour_maxnorm_identical_euclidean_to_rounding(d):
    (points,) = _data("normal", 600, (d,), seed=3)
    eps_tree, _ = knn.kth_neighbour(points, 4, p=np.inf, algorithm="tree")
    eps_t, _ = tb.kth_neighbour(points, 4, p=np.inf)
    assert np.array_equal(eps_t, eps_tree)
    eps_tree, idx_tree = knn.kth_neighbour(points, 4, p=2, algorithm="tree")
    eps_t, idx_t = tb.kth_neighbour(points, 4, p=2, block_elements=5000)
    np.testing.assert_allclose(eps_t, eps_tree, rtol=1e-12)
    assert np.array_equal(_sorted_rows(idx_t), _sorted_rows(idx_tree))


def test_mixture_terms_equal_to_rounding_with_groups():
    rng = np.random.default_rng(4)
    h = rng.normal(size=(700, 5)) * 3.0
    groups = rng.integers(0, 7, size=700)
    a_np, b_np = mixture_log_terms(h, 0.3, groups)
    a_t, b_t = mixture_log_terms(h, 0.3, groups, device="cpu")
    np.testing.assert_allclose(a_t, a_np, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(b_t, b_np, rtol=1e-11, atol=1e-11)
    # the own term exp(0) = 1 exactly, even at a tiny variance (a_i = -log n for spread rows)
    a_np, _ = mixture_log_terms(h, 1e-12)
    a_t, _ = mixture_log_terms(h, 1e-12, device="cpu")
    assert np.array_equal(a_t, a_np) and np.allclose(a_t, -np.log(700))


@pytest.mark.parametrize("args", [
    dict(n_bins=30, bin_width=None, lo=None, hi=None, scope="layer"),
    dict(n_bins=7, bin_width=None, lo=-1.0, hi=1.0, scope="neuron"),   # out-of-range clipped
    dict(n_bins=30, bin_width=0.25, lo=None, hi=None, scope="neuron"),
])
def test_histogram_codes_identical(args):
    rng = np.random.default_rng(5)
    a = np.column_stack([np.tanh(rng.normal(size=1000) * 3), rng.normal(size=1000) * 2,
                         np.full(1000, 0.5)])  # a constant column is one bin
    expect = _fixed_width_bins(a, **args)
    assert np.array_equal(_fixed_width_bins(a, **args, device="cpu"), expect)


@pytest.mark.parametrize("method,quantity", [
    ("ksg", "mi"), ("ksg2", "mi"), ("mixed", "mi"), ("kde", "mi"), ("binning", "mi"),
    ("ksg", "cmi"), ("kl", "h"), ("kde", "h"), ("binning", "h"),
])
def test_estimators_give_the_same_number_on_either_backend(method, quantity):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(800, 2))
    y = x[:, :1] + 0.5 * rng.normal(size=(800, 1))
    z = rng.normal(size=(800, 1))
    if method == "mixed":  # a discrete x: atoms in the joint space
        x = rng.integers(0, 3, size=(800, 1)).astype(float)
        y = x + rng.normal(size=(800, 1))
    call = {"mi": lambda **kw: wb.mutual_info(x, y, method=method, **kw),
            "cmi": lambda **kw: wb.conditional_mutual_info(x, y, z, method=method, **kw),
            "h": lambda **kw: wb.entropy(x, method=method, **kw)}[quantity]
    a, b = float(call()), float(call(backend="torch", device="cpu"))
    if method == "kde":
        assert b == pytest.approx(a, rel=1e-12, abs=1e-12)
    else:  # counts and codes are identical, so the digamma sums are too
        assert a == b


def test_kl_chebyshev_identical_and_euclidean_to_rounding():
    x = np.random.default_rng(7).normal(size=(900, 3))
    for norm in ("chebyshev", "euclidean"):
        a = float(wb.entropy(x, method="kl", norm=norm))
        b = float(wb.entropy(x, method="kl", norm=norm, backend="torch"))
        assert b == pytest.approx(a, rel=1e-12) if norm == "euclidean" else a == b


@pytest.mark.parametrize("method", ["ksg", "ksg2", "kl", "mixed", "kde", "binning",
                                    "matrix_renyi", "dse"])
def test_backend_and_device_are_execution_settings(method):
    cls = get_estimator_class(method)
    assert "backend" not in cls.knob_names() and "device" not in cls.knob_names()
    assert {"backend", "device"} <= set(cls.setting_names())


def test_bad_or_missing_devices_fail_clearly():
    x = np.random.default_rng(8).normal(size=(100, 2))
    with pytest.raises(KnobError, match="not a torch device"):
        wb.mutual_info(x, x, method="ksg", device="gpu0")
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(KnobError, match="no CUDA GPU"):
            wb.mutual_info(x, x + 1, method="ksg", device="cuda")
