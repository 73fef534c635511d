"""Multivariate discrete measures against exact values.

Balanced designs (every joint symbol repeated equally often) make the plug-in pmf equal the true
pmf, so the plug-in values are exact up to rounding (1e-12).
"""
import math

import numpy as np
import pytest

import workbench as wb
from workbench.estimators.base import Estimator
from workbench.measures import multivariate as measures

EXACT = 1e-12


def fair_bits(k, reps=50):
    """All 2**k combinations of k fair bits, each exactly ``reps`` times (rows)."""
    rows = (np.arange(2 ** k)[:, None] >> np.arange(k)) & 1
    return np.repeat(rows, reps, axis=0)


@pytest.fixture
def xor3():
    b = fair_bits(2)
    return np.column_stack([b, b[:, 0] ^ b[:, 1]])


@pytest.fixture
def copies3():
    return np.repeat(fair_bits(1), 3, axis=1)


def test_xor_is_synergistic(xor3):
    # H(X) = 2, H(Xi) = 1, H(X-i) = 2 bits: TC = 3 - 2 = 1, DTC = 2 - 0 = 2, Omega = -1
    assert measures.total_correlation(xor3) == pytest.approx(1.0, abs=EXACT)
    assert measures.dual_total_correlation(xor3) == pytest.approx(2.0, abs=EXACT)
    omega = measures.o_information(xor3)
    assert omega == pytest.approx(-1.0, abs=EXACT)
    assert omega.units == "bits" and omega.method == "plugin" and "Ω" in omega.quantity


def test_copies_are_redundant(copies3):
    # H(X) = H(Xi) = H(X-i) = 1 bit: TC = 2, DTC = 1, Omega = +1
    assert measures.total_correlation(copies3) == pytest.approx(2.0, abs=EXACT)
    assert measures.dual_total_correlation(copies3) == pytest.approx(1.0, abs=EXACT)
    assert measures.o_information(copies3) == pytest.approx(1.0, abs=EXACT)
    nats = measures.o_information(copies3, units="nats")
    assert nats == pytest.approx(math.log(2), abs=EXACT) and nats.units == "nats"


def test_sampled_xor_close_to_exact():
    rng = np.random.default_rng(0)
    b = rng.integers(0, 2, (20_000, 2))
    x = np.column_stack([b, b[:, 0] ^ b[:, 1]])
    # plug-in error at n=2e4 on 4-8 symbol pmfs: sd ~1e-4 bits plus bias ~1e-4; 5e-3 is generous
    # but still far from the +-1 bit the sign of Omega hinges on
    for method in ("plugin", "miller_madow", "shrinkage", "chao_shen"):
        assert measures.o_information(x, method=method) == pytest.approx(-1.0, abs=5e-3), method


def test_independent_variables_and_two_variable_case():
    ind = fair_bits(3)  # full factorial: exactly independent
    assert measures.total_correlation(ind) == pytest.approx(0.0, abs=EXACT)
    assert measures.dual_total_correlation(ind) == pytest.approx(0.0, abs=EXACT)
    # two variables: TC = DTC = I(X;Y) and Omega = 0
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, 500)
    y = (x + rng.integers(0, 2, 500)) % 3
    pair = np.column_stack([x, y])
    mi = float(wb.mutual_info(x, y, method="plugin"))
    assert mi > 0.1
    assert measures.total_correlation(pair) == pytest.approx(mi, abs=EXACT)
    assert measures.dual_total_correlation(pair) == pytest.approx(mi, abs=EXACT)
    assert measures.o_information(pair) == pytest.approx(0.0, abs=EXACT)


def test_list_of_variables(xor3):
    as_list = [xor3[:, 0], xor3[:, 1], xor3[:, 2]]
    assert measures.o_information(as_list) == pytest.approx(
        float(measures.o_information(xor3)), abs=EXACT)
    # a 2-column array in a list is one vector-valued variable: A = (X1, X2), B = X1 xor X2;
    # B is a function of A, so TC = I(A;B) = H(B) = 1 bit, Omega = 0 for two variables
    pair = [xor3[:, :2], xor3[:, 2]]
    assert measures.total_correlation(pair) == pytest.approx(1.0, abs=EXACT)
    assert measures.o_information(pair) == pytest.approx(0.0, abs=EXACT)


def test_shannon_and_rajski_distances():
    b = fair_bits(2)
    x, y = b[:, 0], b[:, 1]
    # identical (up to relabelling) -> 0
    assert measures.shannon_distance(x, x) == pytest.approx(0.0, abs=EXACT)
    assert measures.shannon_distance(x, 5 - 3 * x) == pytest.approx(0.0, abs=EXACT)
    assert measures.rajski_distance(x, 1 - x) == pytest.approx(0.0, abs=EXACT)
    # independent fair bits: d = H(X|Y) + H(Y|X) = 2 bits, H(X,Y) = 2 -> Rajski 1
    assert measures.shannon_distance(x, y) == pytest.approx(2.0, abs=EXACT)
    rajski = measures.rajski_distance(x, y)
    assert rajski == pytest.approx(1.0, abs=EXACT)
    # Y = X xor Z with a biased Z: H(X,Y) = 1 + h(1/4) bits, d = 2 h(1/4)
    z = np.repeat([0, 0, 0, 1], 50)  # P(Z=1) = 1/4, and each (x, z) pair equally balanced
    xs = np.tile([0, 1], 100)
    ys = xs ^ z
    hb = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))
    assert measures.shannon_distance(xs, ys) == pytest.approx(2 * hb, abs=EXACT)
    assert measures.rajski_distance(xs, ys) == pytest.approx(2 * hb / (1 + hb), abs=EXACT)
    # both constant: H(X,Y) = 0 -> defined as 0
    assert measures.rajski_distance(np.zeros(10), np.ones(10)) == 0.0


def test_rajski_is_unitless():
    rng = np.random.default_rng(2)
    x, y = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    bits = measures.rajski_distance(x, y)
    nats = measures.rajski_distance(x, y, units="nats")
    assert float(bits) == float(nats) and float(bits.to("nats")) == float(bits)
    assert "unitless" in bits.describe()
    d_bits = measures.shannon_distance(x, y)
    assert measures.shannon_distance(x, y, units="nats") == pytest.approx(
        float(d_bits) * math.log(2), rel=1e-12)


def test_methods_and_knobs_pass_through():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, (60, 3))
    tc_mm = measures.total_correlation(x, method="miller_madow")
    assert tc_mm.method == "miller_madow"
    assert float(tc_mm) != float(measures.total_correlation(x))
    assert set(measures.counting_methods()) >= {"plugin", "miller_madow", "shrinkage",
                                                "chao_shen", "binning", "adaptive_binning"}
    # continuous columns through a binning method: the binned copies are exact redundancy
    u = rng.random(4000)
    tc = measures.total_correlation(np.column_stack([u, u, u]), method="adaptive_binning",
                                    n_bins=4)
    assert tc == pytest.approx(4.0, abs=EXACT)  # 3 * 2 bits - 2 bits
    with pytest.raises(wb.KnobError, match="unknown knob"):
        measures.total_correlation(x, method="plugin", n_bins=3)
    with pytest.raises(wb.UnknownMethodError):
        measures.total_correlation(x, method="nope")


def test_non_counting_method_is_refused(monkeypatch):
    class Smooth(Estimator):
        method_name = "smooth"
        family = "kernel"

        def _entropy(self, x):
            return 0.0

    monkeypatch.setattr(measures, "get_estimator_class", lambda name: Smooth)
    with pytest.raises(wb.NotSupportedError, match="plugin"):
        measures.o_information(np.zeros((10, 3), dtype=int), method="smooth")


def test_bad_input():
    x = np.random.default_rng(4).integers(0, 2, (20, 3))
    with pytest.raises(wb.InputError, match="at least 2 variables"):
        measures.total_correlation(x[:, 0])
    with pytest.raises(wb.InputError, match="same number of samples"):
        measures.o_information([x[:, 0], x[:-1, 1]])
    with pytest.raises(wb.InputError, match="same number of samples"):
        measures.shannon_distance(x[:, 0], x[:-1, 1])
    with pytest.raises(wb.InputError, match="NaN"):
        measures.total_correlation(np.array([[0, 1], [np.nan, 1], [1, 0]]))
    with pytest.raises(wb.InputError, match="non-integer"):
        measures.total_correlation(np.random.default_rng(0).normal(size=(10, 2)))
    with pytest.raises(wb.InputError, match="3 dimensions"):
        measures.dual_total_correlation(np.zeros((3, 2, 2), dtype=int))
    with pytest.raises(wb.InputError, match="non-numeric"):
        measures.rajski_distance(np.array(["a", "b"]), np.array([0, 1]))
    with pytest.raises(wb.WorkbenchError, match="units"):
        measures.o_information(x, units="bans")


# --- continuous data: MI methods and the multiplet sweep ------------------------------------

def equicorrelated(k, rho):
    return (1 - rho) * np.eye(k) + rho * np.ones((k, k))


def gaussian_terms_exact(cov):
    """Closed-form TC, DTC (bits) of a Gaussian: H(X_S) = ½ log det(2πe Σ_S)."""
    k = len(cov)
    logdet = np.linalg.slogdet(cov)[1]
    loo = [np.linalg.slogdet(np.delete(np.delete(cov, i, 0), i, 1))[1] for i in range(k)]
    tc = 0.5 * (np.log(np.diag(cov)).sum() - logdet)
    dtc = 0.5 * (sum(loo) - (k - 1) * logdet)
    return tc / math.log(2), dtc / math.log(2)


def test_gaussian_o_information_equals_the_closed_form():
    # equicorrelated k = 3, rho = 0.5: det R_3 = 0.5^2 * 2 = 0.5, det R_2 = 0.75:
    # TC = -½ log2 0.5 = 0.5 bit, DTC = ½ (3 log2 0.75 - 2 log2 0.5) = 0.3774 bit
    cov = equicorrelated(3, 0.5)
    tc_exact, dtc_exact = gaussian_terms_exact(cov)
    assert tc_exact == pytest.approx(0.5, abs=1e-12)
    assert dtc_exact == pytest.approx(0.5 * (3 * math.log2(0.75) + 2), abs=1e-12)
    x = np.random.default_rng(0).multivariate_normal(np.zeros(3), cov, 100_000)
    # each Gaussian MI term has sd ~ 3e-3 bits at n = 1e5 (rho ~ 0.5; measured over seeds);
    # Omega and S combine five terms: 0.02 bits is > 3 sd
    tol = 0.02
    assert measures.o_information(x, method="gaussian") == pytest.approx(
        tc_exact - dtc_exact, abs=tol)
    assert measures.s_information(x, method="gaussian") == pytest.approx(
        tc_exact + dtc_exact, abs=tol)
    assert measures.total_correlation(x, method="gaussian") == pytest.approx(tc_exact, abs=tol)
    # a monotone map of each column leaves the copula (and the Gaussian-copula value) unchanged
    warped = np.column_stack([np.exp(x[:, 0]), x[:, 1] ** 3, np.arctan(x[:, 2])])
    assert measures.o_information(warped, method="gaussian_copula") == pytest.approx(
        tc_exact - dtc_exact, abs=tol)


def test_synergistic_gaussian_has_negative_o_information():
    # X3 = X1 + X2 + noise with independent X1, X2: Omega < 0 (synergy); closed form
    cov = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 2.25]])
    tc, dtc = gaussian_terms_exact(cov)
    assert tc - dtc < -0.5
    x = np.random.default_rng(1).multivariate_normal(np.zeros(3), cov, 50_000)
    omega = measures.o_information(x, method="gaussian", units="nats")
    assert omega.units == "nats" and omega.method == "gaussian"
    assert omega == pytest.approx((tc - dtc) * math.log(2), abs=0.03)
    # for three variables Omega is the co-information I(X;Y) - I(X;Y|Z)
    co = measures.interaction_information(x[:, 0], x[:, 1], x[:, 2], method="gaussian",
                                          units="nats")
    assert co == pytest.approx(float(omega), abs=1e-9)


def test_knn_path_and_interaction_information_of_xor():
    # kNN KSG on a 3-variable Gaussian at n = 3000: KSG bias is small in 1-2 dimensions; the
    # five MI terms have sd ~0.01 bits each, so 0.08 bits
    cov = equicorrelated(3, 0.6)
    tc, dtc = gaussian_terms_exact(cov)
    x = np.random.default_rng(2).multivariate_normal(np.zeros(3), cov, 3000)
    assert measures.o_information(x, method="ksg") == pytest.approx(tc - dtc, abs=0.08)
    b = fair_bits(2)
    assert measures.interaction_information(b[:, 0], b[:, 1], b[:, 0] ^ b[:, 1]) == \
        pytest.approx(-1.0, abs=EXACT)


def test_multiplet_sweep_matches_single_calls_and_closed_form():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(7, 7))
    cov = a @ a.T + np.eye(7)
    x = rng.multivariate_normal(np.zeros(7), cov, 4000)
    table = measures.multiplets(x, orders=[3, 4], method="gaussian")
    assert len(table) == math.comb(7, 3) + math.comb(7, 4)
    assert set(table.columns) >= {"order", "multiplet", "variables", "tc", "dtc",
                                  "o_information", "s_information", "units", "method"}
    for _, row in table.sample(6, random_state=0).iterrows():
        cols = list(row["multiplet"])
        assert row["o_information"] == pytest.approx(
            float(measures.o_information(x[:, cols], method="gaussian")), abs=1e-9)
        assert row["s_information"] == pytest.approx(
            float(measures.s_information(x[:, cols], method="gaussian")), abs=1e-9)
    # the sample correlation of an exact covariance gives the closed form exactly
    chol = np.linalg.cholesky(cov)
    z = rng.normal(size=(500, 7))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    exact_data = z @ chol.T  # sample covariance == cov
    t = measures.multiplets(exact_data, orders=3, method="gaussian")
    row = t.iloc[0]
    tc, dtc = gaussian_terms_exact(cov[np.ix_([0, 1, 2], [0, 1, 2])])
    assert row["tc"] == pytest.approx(tc, abs=1e-9) and row["dtc"] == pytest.approx(dtc, abs=1e-9)


def test_multiplet_sweep_applies_knobs_such_as_bias_correct():
    # the shared-correlation sweep is the plain estimate; a knob must reach every multiplet
    x = np.random.default_rng(4).normal(size=(60, 4))
    table = measures.multiplets(x, orders=3, method="gaussian", bias_correct=True)
    for _, row in table.iterrows():
        cols = list(row["multiplet"])
        assert row["tc"] == pytest.approx(float(measures.total_correlation(
            x[:, cols], method="gaussian", bias_correct=True)), abs=1e-9)
    plain = measures.multiplets(x, orders=3, method="gaussian")
    assert not np.allclose(plain["tc"], table["tc"])  # n = 60: the correction is visible


def test_multiplet_sweep_names_counting_fallback_and_errors():
    import pandas as pd

    b = fair_bits(2)
    frame = pd.DataFrame({"a": b[:, 0], "b": b[:, 1], "xor": b[:, 0] ^ b[:, 1]})
    t = measures.multiplets(frame, orders=3, method="plugin")
    assert t.loc[0, "variables"] == "a,b,xor"
    assert t.loc[0, "o_information"] == pytest.approx(-1.0, abs=EXACT)
    with pytest.raises(wb.InputError, match="orders"):
        measures.multiplets(frame, orders=[4])
    with pytest.raises(wb.InputError, match="constant"):
        measures.multiplets(np.column_stack([np.ones(10), np.arange(10.0), np.arange(10.0) ** 2]))
    with pytest.raises(wb.NotSupportedError, match="MI method"):
        measures.o_information(np.random.default_rng(0).normal(size=(50, 3)), method="kl")


def test_multiplet_sweep_estimates_each_mi_once(monkeypatch):
    # the per-multiplet path: TC = Σ_{i≥2} I(Xi; X<i) (k − 1 MIs) and S = Σ_i I(Xi; X−i) (k
    # MIs) give both TC and DTC = S − TC, so a triplet costs 2 + 3 = 5 MI estimates, not 7
    # (TC again for DTC); the numbers are those of the single-measure functions
    from workbench.estimators.base import Estimator

    x = np.random.default_rng(5).normal(size=(80, 4))
    calls = []
    original = Estimator.mutual_info

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Estimator, "mutual_info", counted)
    table = measures.multiplets(x, orders=3, method="gaussian", bias_correct=True)
    assert len(calls) == 5 * len(table) == 20
    monkeypatch.setattr(Estimator, "mutual_info", original)
    for _, row in table.iterrows():
        cols = list(row["multiplet"])
        assert row["dtc"] == pytest.approx(float(measures.dual_total_correlation(
            x[:, cols], method="gaussian", bias_correct=True)), abs=1e-12)
        assert row["tc"] == pytest.approx(float(measures.total_correlation(
            x[:, cols], method="gaussian", bias_correct=True)), abs=1e-12)
