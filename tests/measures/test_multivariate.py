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
