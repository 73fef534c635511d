"""Transfer entropy against closed forms: a linear Gaussian coupling and a binary copy."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from workbench.errors import InputError
from workbench.measures.timeseries import delay_embedding, transfer_entropy


def coupled_ar(n=3000, a=0.8, b=0.5, seed=0):
    """X i.i.d. N(0,1); Y_{t+1} = a X_t + b Y_t + ε_t, ε ~ N(0,1).

    TE(X→Y) = I(Y_{t+1}; X_t | Y_t) = ½ log(1 + a²): given Y_t, Y_{t+1} is a X_t plus unit
    noise and X_t is independent of Y_t. TE(Y→X) = 0 because X is i.i.d.
    """
    rng = np.random.default_rng(seed)
    x, e = rng.standard_normal(n), rng.standard_normal(n)
    y = np.zeros(n)
    # the recursion is a first-order IIR filter of u_t = a X_t + ε_t, 1 / (1 − b z⁻¹), started
    # from Y_0 = 0 (lfilter's zero initial state); it matches the step-by-step loop to ~1e-15
    y[1:] = lfilter([1.0], [1.0, -b], a * x[:-1] + e[:-1])
    return x, y


def test_coupled_ar_follows_its_recursion():
    # the filtered series obeys Y_{t+1} = a X_t + b Y_t + ε_t step by step (same draws)
    x, y = coupled_ar(n=500, seed=3)
    rng = np.random.default_rng(3)
    x0, e = rng.standard_normal(500), rng.standard_normal(500)
    np.testing.assert_array_equal(x, x0)
    assert y[0] == 0
    np.testing.assert_allclose(y[1:], 0.8 * x[:-1] + 0.5 * y[:-1] + e[:-1], rtol=0, atol=1e-12)


def test_embedding_indices():
    x, y = np.arange(10), np.arange(100, 110)
    future, src, tgt = delay_embedding(x, y, lag=2, history=3, source_history=2)
    # first predicted value Y_3 = 103; source X_{t+1-lag} = X_1 and X_0; target Y_0..Y_2
    np.testing.assert_array_equal(future[0], [103])
    np.testing.assert_array_equal(src[0], [0, 1])
    np.testing.assert_array_equal(tgt[0], [100, 101, 102])
    np.testing.assert_array_equal(future[-1], [109])
    np.testing.assert_array_equal(src[-1], [6, 7])
    assert len(future) == len(src) == len(tgt) == 7


def test_gaussian_te_exact_and_ksg_close():
    x, y = coupled_ar()
    truth = 0.5 * math.log(1 + 0.8 ** 2)  # 0.247 nats
    # Gaussian: sampling sd ≈ 0.015 at n = 3000
    assert transfer_entropy(x, y, method="gaussian", units="nats") == pytest.approx(truth,
                                                                                   abs=0.05)
    # KSG CMI (3-D joint space): measured 0.251 at this seed; sd over seeds ≈ 0.02
    assert transfer_entropy(x, y, method="ksg", units="nats") == pytest.approx(truth, abs=0.06)
    # no flow from Y to X
    assert abs(transfer_entropy(y, x, method="ksg", units="nats")) < 0.04
    assert abs(transfer_entropy(y, x, method="gaussian", units="nats")) < 0.01


def test_longer_histories_keep_the_value():
    x, y = coupled_ar(seed=1)
    truth = 0.5 * math.log(1 + 0.8 ** 2)
    # extra (irrelevant) past adds dimensions but no information
    assert transfer_entropy(x, y, history=2, source_history=2, method="gaussian",
                            units="nats") == pytest.approx(truth, abs=0.05)
    # with the wrong lag the source carries nothing about Y_{t+1} beyond Y_t
    assert abs(transfer_entropy(x, y, lag=3, method="gaussian", units="nats")) < 0.01


def test_binary_copy_process_is_one_bit():
    x = np.random.default_rng(2).integers(0, 2, 4000)
    y = np.empty_like(x)
    y[0] = 0
    y[1:] = x[:-1]  # Y_{t+1} = X_t
    # plug-in bias is O(states / n) ≈ 1e-3 bits
    assert transfer_entropy(x, y, method="plugin", units="bits") == pytest.approx(1.0, abs=0.01)
    assert abs(transfer_entropy(y, x, method="plugin", units="bits")) < 0.01


def test_validation():
    x = np.random.default_rng(3).standard_normal(50)
    with pytest.raises(InputError, match="1-D time series"):
        transfer_entropy(np.c_[x, x], x)
    with pytest.raises(InputError, match="same number of samples"):
        transfer_entropy(x, x[:40])
    with pytest.raises(InputError, match="too short"):
        transfer_entropy(x[:5], x[:5], lag=3, source_history=3)
    with pytest.raises(InputError, match="lag must be an integer"):
        transfer_entropy(x, x, lag=0)
    with pytest.raises(InputError, match="history must be an integer"):
        transfer_entropy(x, x, history=1.5)
    with pytest.raises(InputError, match="NaN"):
        transfer_entropy(np.r_[x[:-1], np.nan], x)


# --- VAR ground truth: multivariate TE, AIS, surrogate p-values ------------------------------

from workbench.bench.tasks import chain, coupled_pair  # noqa: E402
from workbench.measures import stats  # noqa: E402
from workbench.measures.timeseries import (  # noqa: E402
    active_information_storage,
    transfer_entropy_test,
)

#: Sampling sd of the Gaussian TE / AIS estimates below at n = 2e4, measured over 12 seeds:
#: <= 0.0076 bits (AIS with history 2 is the widest). Tolerances are 4 sd.
VAR_TOL = 0.03


def test_var_closed_forms_agree_with_the_simple_cases():
    pair = coupled_pair(coupling=0.5, memory_x=0.6, memory_y=0.4)
    # X is an AR(1) with coefficient 0.6 on its own: AIS = -½ log2(1 - 0.6²)
    assert pair.active_information_storage(0) == pytest.approx(-0.5 * math.log2(1 - 0.36))
    assert pair.transfer_entropy(1, 0) == pytest.approx(0.0, abs=1e-12)  # Y never drives X
    # Y_{t+1} | (Y_t, X_t) has variance 1; | Y_t alone it is 1 + 0.25 Var(X_t | Y_t)
    sigma = pair.covariance
    var_x_given_y = sigma[0, 0] - sigma[0, 1] ** 2 / sigma[1, 1]
    assert pair.transfer_entropy(0, 1) == pytest.approx(
        0.5 * math.log2(1 + 0.25 * var_x_given_y), abs=1e-12)
    # the chain X -> Y -> Z: X's effect on Z passes through Y, so TE(X -> Z | Y) = 0
    assert chain().transfer_entropy(0, 2, conditional=[1]) == pytest.approx(0.0, abs=1e-12)
    assert chain().transfer_entropy(0, 2) > 0.01


def test_te_and_ais_match_the_var_closed_forms():
    pair, ch = coupled_pair(), chain()
    v, w = pair.sample(20_000, seed=0), ch.sample(20_000, seed=1)
    te = transfer_entropy(v[:, 0], v[:, 1], method="gaussian")
    assert te == pytest.approx(pair.transfer_entropy(0, 1), abs=VAR_TOL)
    assert te.quantity == "TE(X→Y)" and te.units == "bits"
    te2 = transfer_entropy(v[:, 0], v[:, 1], history=2, source_history=2, method="gaussian")
    assert te2 == pytest.approx(pair.transfer_entropy(0, 1, history=2, source_history=2),
                                abs=VAR_TOL)
    ais = active_information_storage(v[:, 1], history=2, method="gaussian")
    assert ais == pytest.approx(pair.active_information_storage(1, history=2), abs=VAR_TOL)
    assert ais.quantity == "AIS(Y)"
    # multivariate TE: conditioning on the intermediate removes the indirect X -> Z flow
    cond = transfer_entropy(w[:, 0], w[:, 2], conditional=w[:, 1], method="gaussian")
    assert cond == pytest.approx(0.0, abs=VAR_TOL) and cond.quantity == "TE(X→Y|Z)"
    direct = transfer_entropy(w[:, 1], w[:, 2], conditional=w[:, 0], method="gaussian")
    assert direct == pytest.approx(ch.transfer_entropy(1, 2, conditional=[0]), abs=VAR_TOL)


def test_knn_te_on_a_var():
    # KSG CMI at n = 4000 in 3 dimensions: bias + sd about 0.02 bits (Frenzel & Pompe);
    # 0.06 bits still separates 0.21 from 0
    pair = coupled_pair()
    v = pair.sample(4000, seed=2)
    assert transfer_entropy(v[:, 0], v[:, 1], method="ksg") == pytest.approx(
        pair.transfer_entropy(0, 1), abs=0.06)


@pytest.mark.parametrize("kind", ["shift", "block"])
def test_surrogate_p_values_are_uniform_under_the_null(kind):
    # 100 independent uncoupled pairs (each series autocorrelated): with 19 surrogates
    # p is in {0.05, ..., 1}; under H0 P(p <= 0.2) = 0.2, so the count of p <= 0.2 over 100
    # seeds is Binomial(100, 0.2): mean 20, sd 4; accept 8..32 (3 sd). The mean p is
    # 0.525 with sd 0.29 / 10 = 0.029; accept 0.525 +- 0.1.
    pair = coupled_pair(coupling=0.0)
    ps = []
    for seed in range(100):
        v = pair.sample(400, seed=seed, burn_in=100)
        ps.append(transfer_entropy_test(v[:, 0], v[:, 1], method="gaussian", n_surrogates=19,
                                        surrogate=kind, resample_seed=seed).p_value)
    ps = np.array(ps)
    assert 8 <= np.count_nonzero(ps <= 0.2) <= 32
    assert abs(ps.mean() - 0.525) < 0.1


def test_surrogate_p_values_are_small_under_coupling():
    pair = coupled_pair(coupling=0.5)
    for seed in range(5):
        v = pair.sample(1000, seed=seed)
        result = transfer_entropy_test(v[:, 0], v[:, 1], method="gaussian", n_surrogates=49,
                                       resample_seed=seed)
        assert result.p_value == pytest.approx(1 / 50)  # the smallest possible
        assert result.estimate > result.null_mean + 5 * result.null_std
        assert "TE(X→Y)" in str(result)


def test_surrogate_series_and_errors():
    x = np.arange(20)
    shifted = stats.surrogate_series(x, 5, "shift", block=3, seed=0)
    assert shifted.shape == (5, 20)
    for row in shifted:  # a rotation by 3..17 steps
        k = (row[0] - x[0]) % 20
        assert 3 <= k <= 17 and np.array_equal(row, np.roll(x, -k))
    blocks = stats.surrogate_series(x, 5, "block", block=6, seed=0)
    for row in blocks:  # whole blocks of 6 moved, the last 2 steps in place
        assert sorted(row) == list(range(20)) and list(row[-2:]) == [18, 19]
        assert all(row[i] % 6 == 0 for i in range(0, 18, 6))
    with pytest.raises(InputError, match="history"):
        active_information_storage(x, history=0)
    with pytest.raises(stats.WorkbenchError, match="surrogate kind"):
        stats.surrogate_series(x, 5, "phase")
    with pytest.raises(stats.WorkbenchError, match="at least 10"):
        stats.surrogate_test(np.mean, x, n_surrogates=3)
    with pytest.raises(InputError, match="same number of samples"):
        transfer_entropy(x, x + 1.0, conditional=np.arange(10.0), method="gaussian")
