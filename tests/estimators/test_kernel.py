"""KDE pairwise-distance bounds (Kolchinsky & Tracey 2017) on noisy layers.

Every check here is exact up to floating point or follows from the bounds' limits:
a single component gives the Gaussian entropy exactly, and components much farther apart than
σ make both bounds equal log K + H(one Gaussian) up to exp(−distance²/8σ²) terms.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import logsumexp

import workbench as wb
import workbench.estimators.kernel as kernel
from workbench.errors import KnobError

VAR = 0.1


def one_gaussian(d, var=VAR):
    return 0.5 * d * math.log(2 * math.pi * math.e * var)


def clusters(n=600, k=4, d=3, spread=1e-3, seed=0):
    rng = np.random.default_rng(seed)
    centres = 5 * rng.standard_normal((k, d))
    labels = np.arange(n) % k
    return centres[labels] + spread * rng.standard_normal((n, d)), labels


def reference_upper(h, var):
    """The KL bound straight from its formula with the full n × n matrix."""
    d2 = ((h[:, None, :] - h[None, :, :]) ** 2).sum(axis=2)
    n, d = h.shape
    return one_gaussian(d, var) - np.mean(logsumexp(-d2 / (2 * var), axis=1) - math.log(n))


def test_single_cluster_is_one_gaussian_exactly():
    h = np.tile(np.random.default_rng(0).standard_normal(3) * 10, (200, 1))
    for bound in ("upper", "lower"):
        assert wb.entropy(h, method="kde", bound=bound, units="nats") == pytest.approx(
            one_gaussian(3), abs=1e-12)


def test_separated_clusters_bounds_bracket_and_meet():
    h, _ = clusters()
    upper = wb.entropy(h, method="kde", bound="upper", units="nats")
    lower = wb.entropy(h, method="kde", bound="lower", units="nats")
    assert upper >= lower
    # equal-weight, well separated: H = log 4 + H(one Gaussian) up to the tiny spread
    assert upper == pytest.approx(math.log(4) + one_gaussian(3), abs=1e-3)
    assert lower == pytest.approx(math.log(4) + one_gaussian(3), abs=1e-3)


def test_overlapping_mixture_upper_exceeds_lower():
    h = np.random.default_rng(1).standard_normal((300, 2)) * 0.5
    upper = wb.entropy(h, method="kde", bound="upper", units="nats")
    lower = wb.entropy(h, method="kde", bound="lower", units="nats")
    assert upper > lower + 0.01
    assert upper == pytest.approx(reference_upper(h, VAR), abs=1e-10)


def test_blocks_match_full_matrix(monkeypatch):
    h = np.random.default_rng(2).standard_normal((257, 4)) + 100.0  # far from 0: cancellation
    full = reference_upper(h, 0.05)
    monkeypatch.setattr(kernel, "_BLOCK_ELEMENTS", 1000)  # several row blocks of 3 rows
    assert wb.entropy(h, method="kde", noise_variance=0.05, units="nats") == pytest.approx(
        full, abs=1e-9)


def test_mutual_info_with_labels_and_inputs():
    h, labels = clusters()
    # the layer determines the label: I(T;Y) = H(Y) = log 4
    assert wb.mutual_info(h, labels, method="kde", units="nats") == pytest.approx(
        math.log(4), abs=1e-3)
    # inputs with distinct rows: I(X;T) = H(T) - H(one Gaussian), for either bound
    inputs = np.random.default_rng(3).standard_normal((len(h), 5))
    for bound in ("upper", "lower"):
        h_t = wb.entropy(h, method="kde", bound=bound, units="nats")
        assert wb.mutual_info(h, inputs, method="kde", bound=bound, units="nats") == \
            pytest.approx(h_t - one_gaussian(3), abs=1e-10)
    # labels unrelated to the clusters: I(T;Y) ≈ 0 (each class holds every cluster equally)
    shuffled = np.arange(len(h)) // 150
    assert abs(wb.mutual_info(h, shuffled, method="kde", units="nats")) < 1e-3


def test_mutual_info_grows_as_noise_shrinks():
    h = np.random.default_rng(4).standard_normal((400, 2))
    x = np.arange(400)
    values = [wb.mutual_info(h, x, method="kde", noise_variance=v) for v in (1.0, 0.1, 0.01)]
    assert values[0] < values[1] < values[2] <= math.log2(400) + 1e-9


def test_max_samples_is_seeded():
    h = np.random.default_rng(5).standard_normal((500, 2))
    a = wb.entropy(h, method="kde", max_samples=100, seed=1)
    assert a == wb.entropy(h, method="kde", max_samples=100, seed=1)
    assert a != wb.entropy(h, method="kde", max_samples=100, seed=2)
    assert wb.entropy(h, method="kde", max_samples=1000) == wb.entropy(h, method="kde")


def test_knobs_validated():
    h = np.zeros((10, 2))
    with pytest.raises(KnobError):
        wb.entropy(h, method="kde", noise_variance=0.0)
    with pytest.raises(KnobError):
        wb.entropy(h, method="kde", bound="middle")
    with pytest.raises(wb.NotSupportedError):
        wb.conditional_mutual_info(h, h, h, method="kde")
