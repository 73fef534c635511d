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
