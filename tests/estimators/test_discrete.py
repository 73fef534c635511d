"""Discrete estimators (plugin, miller_madow, shrinkage, chao_shen) against exact entropies.

Exact truth comes from enumerating the pmf; tolerances are multiples of the spread over seeds,
measured once and written next to each tolerance.
"""
import math
import warnings

import numpy as np
import pytest

import workbench as wb
from workbench.estimators.discrete import (
    chao_shen_entropy_from_counts,
    shrinkage_entropy_from_counts,
)

METHODS = ["plugin", "miller_madow", "shrinkage", "chao_shen"]


def exact_h_bits(pmf) -> float:
    p = np.asarray(pmf, dtype=float).ravel()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def sample(pmf, n, seed):
    pmf = np.asarray(pmf, dtype=float)
    flat = np.random.default_rng(seed).choice(pmf.size, size=n, p=pmf.ravel())
    return np.unravel_index(flat, pmf.shape) if pmf.ndim > 1 else flat


@pytest.mark.parametrize("method", METHODS)
def test_entropy_of_known_pmf_large_n(method):
    pmf = [0.5, 0.25, 0.125, 0.125]  # H = 1.75 bits
    x = sample(pmf, 100_000, seed=3)
    # sd of the plug-in over 20 seeds at n=1e5: 2.1e-3 bits (theory sqrt(Var log2 p)/sqrt(n)
    # = 2.6e-3); all corrections here are O(m/n) = 1e-5; 0.012 bits is ~5 sd
    assert wb.entropy(x, method=method) == pytest.approx(exact_h_bits(pmf), abs=0.012)


@pytest.mark.parametrize("method", METHODS)
def test_entropy_of_dirichlet_pmf_and_units(method):
    pmf = np.random.default_rng(7).dirichlet(np.ones(10))
    x = sample(pmf, 100_000, seed=8)
    bits = wb.entropy(x, method=method)
    nats = wb.entropy(x, method=method, units="nats")
    # Var(log2 p) <= ~1.5 for this pmf -> sd ~4e-3 bits at n=1e5; 0.02 is ~5 sd
    assert bits == pytest.approx(exact_h_bits(pmf), abs=0.02)
    assert nats == pytest.approx(float(bits) * math.log(2), rel=1e-12)
    assert bits.units == "bits" and nats.units == "nats" and bits.method == method


def _mean_bias(method, k, n, seeds=200):
    errs = [wb.entropy(np.random.default_rng(s).integers(0, k, n), method=method) - math.log2(k)
            for s in range(seeds)]
    return float(np.mean(errs))


def test_bias_corrections_beat_plugin_at_small_n():
    # Uniform on 20 symbols, n = 30, 200 seeds. Measured mean bias (bits; standard error of the
    # mean in brackets): plugin -0.53 (0.010), miller_madow -0.18 (0.013),
    # shrinkage -0.35 (0.009), chao_shen +0.07 (0.017). The gaps are > 10 standard errors.
    plugin = abs(_mean_bias("plugin", 20, 30))
    for method in ("miller_madow", "shrinkage", "chao_shen"):
        assert abs(_mean_bias(method, 20, 30)) < plugin - 0.1, method


def test_bias_corrections_many_symbols():
    # Uniform on 100 symbols, n = 50 (most symbols unseen). Measured mean bias (bits; s.e.):
    # plugin -1.46 (0.008), miller_madow -0.91 (0.010), shrinkage -1.35 (0.006),
    # chao_shen +0.06 (0.028).
    plugin = abs(_mean_bias("plugin", 100, 50, seeds=100))
    assert abs(_mean_bias("miller_madow", 100, 50, seeds=100)) < plugin - 0.3
    assert abs(_mean_bias("shrinkage", 100, 50, seeds=100)) < plugin - 0.05
    assert abs(_mean_bias("chao_shen", 100, 50, seeds=100)) < 0.3


def test_miller_madow_is_plugin_plus_correction():
    x = np.random.default_rng(0).integers(0, 7, 40)
    m = np.unique(x).size
    diff = wb.entropy(x, method="miller_madow", units="nats") - wb.entropy(x, method="plugin",
                                                                          units="nats")
    assert diff == pytest.approx((m - 1) / (2 * 40), rel=1e-12)


def test_shrinkage_by_hand():
    # counts [6, 2]: p_ml = [.75, .25], target 1/2, lambda = (1 - .625) / (7 * .125) = 3/7
    lam = 3 / 7
    p = lam * 0.5 + (1 - lam) * np.array([0.75, 0.25])
    assert shrinkage_entropy_from_counts(np.array([6, 2])) == pytest.approx(
        -(p * np.log(p)).sum(), rel=1e-12)
    # counts [3, 1]: lambda = .375 / (3 * .125) = 1 -> uniform over the 2 observed symbols
    assert shrinkage_entropy_from_counts(np.array([3, 1])) == pytest.approx(math.log(2))
    # already uniform over the observed support: log m whatever lambda is
    assert shrinkage_entropy_from_counts(np.array([5, 5, 5, 0])) == pytest.approx(math.log(3))


def test_chao_shen_by_hand_and_all_singletons():
    # counts [2, 1, 1]: n = 4, f1 = 2, coverage 1/2, p = [.25, .125, .125]
    p = np.array([0.25, 0.125, 0.125])
    expect = -(p * np.log(p) / (1 - (1 - p) ** 4)).sum()
    assert chao_shen_entropy_from_counts(np.array([2, 1, 1])) == pytest.approx(expect, rel=1e-12)
    # all singletons: f1 = n would give coverage 0; f1 = n-1 is used -> p = 1/n^2 each
    n = 10
    p = 1 / n ** 2
    expect = -n * p * math.log(p) / (1 - (1 - p) ** n)
    h = wb.entropy(np.arange(n), method="chao_shen", units="nats")
    assert math.isfinite(h) and h == pytest.approx(expect, rel=1e-12)
    assert h > math.log(n)  # unseen species: more than the plug-in ceiling log n


@pytest.mark.parametrize("method", METHODS)
def test_constant_is_zero_and_whole_floats_ok(method):
    assert wb.entropy(np.full(50, 3), method=method) == 0.0
    x = np.random.default_rng(1).integers(0, 5, 500)
    assert wb.entropy(x.astype(float), method=method) == wb.entropy(x, method=method)
    # labels are symbols: relabelling (including huge values) leaves the entropy unchanged
    huge = np.array([-2 ** 62, 2 ** 62, 7, 10 ** 18, 0])[x]
    assert wb.entropy(huge, method=method) == pytest.approx(float(wb.entropy(x, method=method)),
                                                            abs=1e-12)


@pytest.mark.parametrize("dtype", [np.int64, np.uint8])
def test_plugin_entropy_of_wide_integer_rows_is_exact(dtype):
    # 2000 rows of 784 pixels in 0..255 (MNIST-sized), drawn from 7 prototypes with fixed
    # counts: the plug-in pmf is counts/n exactly, so the plug-in entropy is known exactly.
    # 256**784 overflows any int64 (or float64) key: rows must be folded column group by column
    # group without overflow warnings. Prototypes 5 and 6 differ only in the last pixel, so
    # every column must be folded in.
    rng = np.random.default_rng(12)
    protos = rng.integers(0, 256, size=(7, 784))
    protos[6] = protos[5]
    protos[6, -1] = (protos[5, -1] + 1) % 256
    counts = np.array([700, 500, 300, 200, 150, 100, 50])
    x = np.repeat(protos, counts, axis=0)[rng.permutation(counts.sum())].astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = wb.entropy(x, method="plugin")
        h_mm = wb.entropy(x, method="miller_madow")
        mi = wb.mutual_info(x, x[:, -1:], method="plugin")
    assert h == pytest.approx(exact_h_bits(counts / counts.sum()), abs=1e-12)
    # Miller–Madow adds (m − 1)/(2n) nats with m = 7 occupied symbols
    assert h_mm == pytest.approx(float(h) + 6 / (2 * 2000 * math.log(2)), abs=1e-12)
    # the last pixel is a function of the row: I(X; X_last) = H(X_last)
    assert mi == pytest.approx(float(wb.entropy(x[:, -1], method="plugin")), abs=1e-12)


def test_mutual_info_of_known_joint_pmf():
    joint = np.array([[0.2, 0.05, 0.05], [0.05, 0.2, 0.05], [0.05, 0.05, 0.3]])
    truth = exact_h_bits(joint.sum(0)) + exact_h_bits(joint.sum(1)) - exact_h_bits(joint)
    x, y = sample(joint, 50_000, seed=11)
    # sd over 20 seeds at n=5e4: 5.1e-3 bits; 0.025 is ~5 sd
    for method in METHODS:
        assert wb.mutual_info(x, y, method=method) == pytest.approx(truth, abs=0.025), method
    assert wb.mutual_info(x, y, method="plugin") == wb.mutual_info(y, x, method="plugin")


def test_plugin_mi_nonnegative_and_symmetric():
    for seed in range(20):
        rng = np.random.default_rng(seed)
        x, y = rng.integers(0, 4, 30), rng.integers(0, 3, 30)
        mi = wb.mutual_info(x, y, method="plugin")
        assert mi >= 0.0
        assert mi == pytest.approx(float(wb.mutual_info(y, x, method="plugin")), abs=1e-12)


def test_cmi_markov_chain_is_near_zero():
    rng = np.random.default_rng(5)
    n = 20_000
    x = rng.integers(0, 4, n)
    z = np.where(rng.random(n) < 0.8, x, rng.integers(0, 4, n))
    y = np.where(rng.random(n) < 0.8, z, rng.integers(0, 4, n))
    cmi = wb.conditional_mutual_info(x, y, z, method="plugin")
    # X -> Z -> Y: I(X;Y|Z) = 0. The plug-in bias is (|X|-1)(|Y|-1)|Z|/(2n ln 2) = 1.3e-3 bits;
    # over 20 seeds: mean 1.37e-3, sd 3.3e-4, max 2.1e-3
    assert 0.0 <= cmi < 3e-3
    assert wb.mutual_info(x, y, method="plugin") > 0.3  # yet X and Y are dependent


def test_xor_cmi_is_one_bit():
    rng = np.random.default_rng(0)
    x, z = rng.integers(0, 2, 40_000), rng.integers(0, 2, 40_000)
    y = x ^ z
    assert wb.mutual_info(x, y, method="plugin") == pytest.approx(0.0, abs=1e-3)
    cmi = wb.conditional_mutual_info(x, y, z, method="plugin")
    # given Z, Y is a bijection of X, so the plug-in I(X;Y|Z) equals the plug-in H(X|Z) exactly
    h_x_given_z = (wb.entropy(np.column_stack([x, z]), method="plugin")
                   - wb.entropy(z, method="plugin"))
    assert cmi == pytest.approx(float(h_x_given_z), abs=1e-12)
    assert cmi == pytest.approx(1.0, abs=1e-3)
    for method in METHODS[1:]:
        assert wb.conditional_mutual_info(x, y, z, method=method) == pytest.approx(1.0, abs=2e-3)


def test_exactly_balanced_design_gives_exact_values():
    # every (x, z) pair exactly 100 times: plug-in pmf = true pmf, so values are exact
    x, z = np.divmod(np.repeat(np.arange(4), 100), 2)
    y = x ^ z
    assert wb.mutual_info(x, y, method="plugin") == pytest.approx(0.0, abs=1e-12)
    assert wb.conditional_mutual_info(x, y, z, method="plugin") == pytest.approx(1.0, abs=1e-12)
    assert wb.entropy(np.column_stack([x, z]), method="plugin") == pytest.approx(2.0, abs=1e-12)


def test_non_whole_floats_suggest_binning():
    x = np.random.default_rng(0).normal(size=100)
    with pytest.raises(wb.InputError, match="binning"):
        wb.entropy(x, method="plugin")
    with pytest.raises(wb.InputError, match="y has non-integer"):
        wb.mutual_info(np.arange(100), x, method="miller_madow")


@pytest.mark.parametrize("method", METHODS)
def test_bad_input(method):
    x = np.arange(10)
    with pytest.raises(wb.InputError, match="NaN"):
        wb.entropy(np.array([1.0, np.nan, 2.0]), method=method)
    with pytest.raises(wb.InputError, match="non-numeric"):
        wb.entropy(np.array(["a", "b", "c"]), method=method)
    with pytest.raises(wb.InputError, match="same number of samples"):
        wb.mutual_info(x, x[:-1], method=method)
    with pytest.raises(wb.InputError, match="3 dimensions"):
        wb.entropy(np.zeros((4, 2, 2), dtype=int), method=method)
    with pytest.raises(wb.KnobError, match="unknown knob"):
        wb.entropy(x, method=method, n_bins=3)


def test_registered_and_listed():
    listing = {m["name"]: m for m in wb.methods()}
    for method in METHODS:
        assert listing[method]["family"] == "discrete"
        assert listing[method]["computes"] == ["entropy", "mutual_info",
                                               "conditional_mutual_info"]
        assert listing[method]["references"]
