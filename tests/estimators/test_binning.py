"""Binning estimators (fixed-width and adaptive) and the information-plane helpers."""
import math

import numpy as np
import pytest

import workbench as wb
from workbench.estimators.binning import (
    AdaptiveBinningEstimator,
    BinningEstimator,
    bin_codes,
    binned_mi_from_codes,
    entropy_from_codes,
    plane_terms,
)
from workbench.estimators.encoding import encode_rows

BINNERS = ["binning", "adaptive_binning"]


def twelve_bit_inputs():
    """All 4096 rows of 12 binary features (the Shwartz-Ziv & Tishby input set)."""
    return ((np.arange(4096)[:, None] >> np.arange(12)) & 1).astype(np.float64)


def test_uniform_variable_gives_log2_bins():
    u = np.random.default_rng(0).random(100_000)
    # fixed width on the observed range: plug-in bias -(B-1)/(2n ln2) = -1.1e-4 bits; over 20
    # seeds: mean error -1.1e-4, sd 4.8e-5, max |error| 2.4e-4
    assert wb.entropy(u, method="binning", n_bins=16) == pytest.approx(4.0, abs=1e-3)
    # equal-mass bins over 100 000 distinct values: exactly 6250 per bin -> exactly 4 bits
    assert wb.entropy(u, method="adaptive_binning", n_bins=16) == pytest.approx(4.0, abs=1e-12)


def test_adaptive_bins_have_near_equal_counts():
    rng = np.random.default_rng(1)
    a = np.column_stack([rng.exponential(size=1003), rng.normal(size=1003) ** 3])
    for j in range(2):
        counts = np.bincount(bin_codes(a[:, j], n_bins=10, adaptive=True)[0])
        assert counts.size == 10 and counts.max() - counts.min() <= 1
    # scope="layer": one ranking over all 2006 values -> near-equal counts over the pooled values
    est = AdaptiveBinningEstimator(n_bins=10, scope="layer")
    pooled = np.bincount(est._bin(a).ravel())
    assert pooled.size == 10 and pooled.max() - pooled.min() <= 1
    # ties share a bin: half zeros (ReLU-like) cannot be split across bins
    relu = np.maximum(rng.normal(size=1000), 0.0)
    codes, _ = bin_codes(relu, n_bins=10, adaptive=True)
    assert np.unique(codes[relu == 0]).size == 1


def test_label_vs_continuous_matches_exact_discrete_mi():
    rng = np.random.default_rng(2)
    pmf = np.array([0.5, 0.3, 0.2])
    y = rng.choice(3, size=20_000, p=pmf)
    x = y + 0.5 * rng.random(y.size)  # class c lives in [c, c + 0.5): its own bins
    mi = wb.mutual_info(x, y, method="binning", n_bins=30)
    # each bin holds one class, so H(Y|X_binned) = 0 and the binned MI is the plug-in H(Y) exactly
    assert mi == pytest.approx(float(wb.entropy(y, method="plugin")), abs=1e-12)
    # ... whose sd at n=2e4 is sqrt(Var log2 p)/sqrt(n) = 5.3e-3 bits; 0.025 is ~5 sd
    exact = float(-(pmf * np.log2(pmf)).sum())
    assert mi == pytest.approx(exact, abs=0.025)
    # equal-mass bins may straddle two classes (edges follow the data, not the gaps), so they
    # can only lose information: plug-in I(X_binned;Y) = H(Y) − H(Y|X_binned) <= H(Y). The loss
    # is bounded: the x values are distinct, so each bin holds ⌈n/30⌉ = 667 or 666 consecutive
    # ranks; only a bin holding a class boundary is mixed, there are 2 boundaries, and such a bin
    # (667 ranks, classes of thousands) mixes 2 classes, H(Y|bin) <= 1 bit. Hence
    # H(Y|X_binned) <= 2 · 667/n bits = 0.067 (seen over seeds 2-7: 0.004 to 0.037).
    adaptive = wb.mutual_info(x, y, method="adaptive_binning", n_bins=30)
    max_loss = 2 * math.ceil(y.size / 30) / y.size
    assert float(mi) - max_loss <= adaptive <= float(mi) + 1e-12


def test_information_plane_12_bits():
    x = twelve_bit_inputs()
    t = 0.9 * x - 0.45 + 0.01  # deterministic, non-whole: every row distinct after binning
    est = BinningEstimator(n_bins=30, range_min=-1.0, range_max=1.0)
    assert est.entropy(t) == pytest.approx(12.0, abs=1e-12)
    assert est.mutual_info(x, t) == pytest.approx(12.0, abs=1e-12)
    # the input is used as 4096 symbols; its code vector gives the same answer
    assert est.mutual_info(t, encode_rows(x)[0]) == pytest.approx(12.0, abs=1e-12)


def test_plane_helpers_agree_with_estimator():
    rng = np.random.default_rng(3)
    x = twelve_bit_inputs()
    y = (x[:, :3].sum(axis=1) >= 2).astype(int)
    t = np.tanh(x @ rng.normal(size=(12, 3)))
    est = BinningEstimator(n_bins=8, range_min=-1.0, range_max=1.0)
    t_codes, m = bin_codes(t, n_bins=8, range=(-1.0, 1.0))
    x_codes = encode_rows(x)[0]
    terms = plane_terms(t_codes, x_codes, y)
    assert terms["H(T)"] == pytest.approx(float(est.entropy(t)), abs=1e-12)
    assert terms["I(X;T)"] == pytest.approx(float(est.mutual_info(x, t)), abs=1e-12)
    assert terms["I(T;Y)"] == pytest.approx(float(est.mutual_info(t, y)), abs=1e-12)
    # deterministic net on distinct inputs: H(T|X) = 0, so I(X;T) = H(T) < 12 bits here
    assert terms["I(X;T)"] == pytest.approx(terms["H(T)"], abs=1e-12) and m < 4096
    assert 0.0 < terms["I(T;Y)"] <= float(wb.entropy(y, method="plugin")) + 1e-12
    nats = plane_terms(t_codes, x_codes, y, units="nats")
    assert nats["I(T;Y)"] == pytest.approx(terms["I(T;Y)"] * math.log(2), rel=1e-12)
    mm = binned_mi_from_codes(t_codes, y, correction="miller_madow")
    assert mm == pytest.approx(float(BinningEstimator(
        n_bins=8, range_min=-1.0, range_max=1.0, correction="miller_madow").mutual_info(t, y)))
    assert entropy_from_codes(np.array([5, 5, 9, 9])) == pytest.approx(1.0)
    # codes need not be dense, non-negative or integer-typed: labels are relabelled
    assert entropy_from_codes(np.array([-7, 10 ** 15, 0.5, 0.5])) == pytest.approx(1.5)
    assert binned_mi_from_codes(t_codes, y.astype(float)) == pytest.approx(terms["I(T;Y)"])
    with pytest.raises(wb.InputError, match="same length"):
        binned_mi_from_codes(t_codes, y[:-1])


def test_fixed_range_clips_into_edge_bins_and_bin_width():
    rng = np.random.default_rng(4)
    a = rng.normal(scale=3.0, size=(500, 2))
    clipped = np.clip(a, -1.0, 1.0)
    codes, _ = bin_codes(a, n_bins=30, range=(-1, 1))
    assert np.array_equal(codes, bin_codes(clipped, n_bins=30, range=(-1, 1))[0])
    edge = bin_codes(np.array([-50.0, -1.0, 0.999, 1.0, 50.0]), n_bins=4, range=(-1, 1))[0]
    assert edge.tolist() == [0, 0, 1, 1, 1]  # only the edge bins are occupied
    # bin_width overrides n_bins; width (hi-lo)/B reproduces B bins (power-of-two width: exact)
    u = rng.random(1000)
    by_width = BinningEstimator(bin_width=0.125, range_min=0.0, range_max=1.0, n_bins=3)
    by_count = BinningEstimator(n_bins=8, range_min=0.0, range_max=1.0)
    assert by_width.entropy(u) == by_count.entropy(u)


def test_scope_neuron_vs_layer():
    u = np.random.default_rng(5).random((20_000, 2))
    a = u * np.array([1.0, 1000.0])  # very different scales
    # per neuron each column gets 4 full bins: 2 + 2 bits (independent columns), within the
    # plug-in bias (m-1)/(2n ln 2) = 5e-4 bits and sd ~1e-3
    assert wb.entropy(a, method="binning", n_bins=4, scope="neuron") == pytest.approx(4.0,
                                                                                     abs=5e-3)
    # over the layer the small column sits in the first of 4 bins: only the big one counts
    assert wb.entropy(a, method="binning", n_bins=4, scope="layer") == pytest.approx(2.0,
                                                                                    abs=5e-3)
    assert wb.entropy(a, method="adaptive_binning", n_bins=4,
                      scope="neuron") == pytest.approx(4.0, abs=5e-3)


def test_wide_layer_encoding_matches_unique_rows():
    # 40 columns x 30 bins: the mixed-radix key does not fit in int64, columns are folded in groups
    rng = np.random.default_rng(6)
    a = np.tanh(rng.normal(size=(300, 40)) * (rng.random((300, 1)) < 0.5))
    codes, m = bin_codes(a, n_bins=30, range=(-1, 1))
    idx = np.clip(np.floor((a + 1) / (2 / 30)), 0, 29)
    _, ref = np.unique(idx, axis=0, return_inverse=True)
    ref = ref.ravel()
    assert m == ref.max() + 1
    # same partition of the rows: codes and ref are relabellings of each other
    assert np.unique(codes * (m + 1) + ref).size == m
    # all rows distinct after the first group of columns: the fold stops early, still exact
    distinct = np.tanh(rng.normal(size=(300, 40)))
    assert bin_codes(distinct, n_bins=30, range=(-1, 1))[1] == 300


@pytest.mark.parametrize("method", BINNERS)
def test_constant_symmetry_nonnegativity_units(method):
    rng = np.random.default_rng(7)
    assert wb.entropy(np.full((50, 3), 0.37), method=method) == 0.0
    x = rng.normal(size=(300, 2))
    y = x[:, :1] + rng.normal(size=(300, 1))
    assert wb.mutual_info(x, y, method=method) == pytest.approx(
        float(wb.mutual_info(y, x, method=method)), abs=1e-12)
    for seed in range(5):
        r = np.random.default_rng(seed)
        assert wb.mutual_info(r.normal(size=60), r.normal(size=60), method=method,
                              n_bins=5) >= 0.0
    bits = wb.entropy(x, method=method, n_bins=6)
    assert wb.entropy(x, method=method, n_bins=6, units="nats") == pytest.approx(
        float(bits) * math.log(2), rel=1e-12)


def test_miller_madow_correction_knob():
    u = np.random.default_rng(8).random(200)
    plain = BinningEstimator(n_bins=10).entropy(u, units="nats")
    corrected = BinningEstimator(n_bins=10, correction="miller_madow").entropy(u, units="nats")
    m = np.unique(bin_codes(u, n_bins=10)[0]).size
    assert corrected - plain == pytest.approx((m - 1) / (2 * 200), rel=1e-12)


def test_discrete_inputs_are_symbols():
    y = np.random.default_rng(9).integers(0, 200, 5000)  # 200 levels, more than n_bins
    assert wb.entropy(y, method="binning", n_bins=4) == pytest.approx(
        float(wb.entropy(y, method="plugin")), abs=1e-12)
    binned = wb.entropy(y, method="binning", n_bins=4, discrete_as_symbols=False)
    assert binned == pytest.approx(2.0, abs=0.01)  # 4 equal-width bins of a uniform label


def test_binning_cmi_xor():
    rng = np.random.default_rng(10)
    x, z = rng.integers(0, 2, 20_000), rng.integers(0, 2, 20_000)
    y = (x ^ z) + 0.25 * rng.random(20_000)  # continuous Y that still encodes x xor z
    assert wb.conditional_mutual_info(x, y, z, method="binning", n_bins=4) == pytest.approx(
        1.0, abs=2e-3)
    assert wb.mutual_info(x, y, method="binning", n_bins=4) == pytest.approx(0.0, abs=2e-3)


@pytest.mark.parametrize("method", BINNERS)
def test_bad_input_and_knobs(method):
    x = np.arange(10.0) + 0.5
    with pytest.raises(wb.InputError, match="NaN"):
        wb.entropy(np.array([1.0, np.nan, 2.5]), method=method)
    with pytest.raises(wb.InputError, match="non-numeric"):
        wb.entropy(np.array(["a", "b"]), method=method)
    with pytest.raises(wb.InputError, match="same number of samples"):
        wb.mutual_info(x, x[:-1], method=method)
    with pytest.raises(wb.InputError, match="3 dimensions"):
        wb.entropy(np.zeros((4, 2, 2)), method=method)
    with pytest.raises(wb.KnobError, match="n_bins"):
        wb.entropy(x, method=method, n_bins=0)
    with pytest.raises(wb.KnobError, match="scope"):
        wb.entropy(x, method=method, scope="galaxy")
    with pytest.raises(wb.KnobError, match="correction"):
        wb.entropy(x, method=method, correction="nsb")


def test_bad_range_knobs():
    x = np.arange(10.0) + 0.5
    with pytest.raises(wb.KnobError, match="range_min"):
        wb.entropy(x, method="binning", range_min=1.0, range_max=1.0)
    with pytest.raises(wb.KnobError, match="range_min"):
        BinningEstimator(range_min=2.0, range_max=-2.0)
    with pytest.raises(wb.KnobError, match="bin_width"):
        wb.entropy(x, method="binning", bin_width=0.0)
    with pytest.raises(wb.KnobError, match="bin_width"):
        wb.entropy(x, method="binning", bin_width=1e-12)
    with pytest.raises(wb.InputError, match="range_min"):  # one end set, above all the data
        wb.entropy(x, method="binning", range_min=100.0)
    with pytest.raises(wb.KnobError, match="range_min"):
        bin_codes(x, range=(3, 1))
    est = BinningEstimator()
    est.range_min, est.range_max = 1.0, 0.0  # e.g. set from a widget after construction
    with pytest.raises(wb.KnobError, match="range_min"):
        est.entropy(x)


def test_front_door_and_listing():
    listing = {m["name"]: m for m in wb.methods()}
    for method in BINNERS:
        assert listing[method]["family"] == "binning"
        assert {k["name"] for k in listing[method]["knobs"]} >= {"n_bins", "scope", "correction"}
    assert {"bin_width", "range_min", "range_max"} <= {
        k["name"] for k in listing["binning"]["knobs"]}
    mi = wb.mutual_info(np.random.default_rng(0).random(100), np.arange(100) % 2,
                        method="binning", n_bins=5)
    assert mi.units == "bits" and mi.method == "binning(n_bins=5)"
