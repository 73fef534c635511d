"""Diffusion spectral entropy (dse) and DSMI.

Closed forms: n coinciding points give K = J (all ones), M = D^{-1/2} K D^{-1/2} = J/n with the
single non-zero eigenvalue 1, so DSE = 0 exactly. Points far apart relative to σ give P = I
(n eigenvalues 1): DSE = log n for every t. c tight clusters far apart make the kernel graph
split into c components: P has c eigenvalues 1 and the rest in [0, 1), so as t grows
p → uniform over c and DSE → log c; within one cluster DSE → 0, hence DSMI(Z; labels) → log c.
"""
import math

import numpy as np
import pytest

import workbench as wb
from workbench.estimators import get_estimator_class


def _clusters(k=4, m=40, d=5, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 50.0
    labels = np.repeat(np.arange(k), m)
    return centres[labels] + 0.1 * rng.normal(size=(k * m, d)), labels


def test_dse_extremes():
    same = np.tile([0.5, 2.0, -1.0], (30, 1))
    for t in (1, 3):
        assert wb.entropy(same, method="dse", t=t, units="nats") == 0.0
        far = np.arange(40.0)[:, None] * 100.0
        h = wb.entropy(far, method="dse", sigma=1.0, t=t, units="nats")
        assert h == pytest.approx(math.log(40), rel=1e-12)


def test_dse_clusters_tend_to_log_c():
    z, labels = _clusters()
    h = [wb.entropy(z, method="dse", sigma=2.0, t=t, units="nats") for t in (1, 5, 50)]
    # at t = 1 the within-cluster eigenvalues still count; they die out as t grows
    assert h[0] > h[1] >= h[2]
    assert h[2] == pytest.approx(math.log(4), abs=1e-6)
    for matched in (True, False):
        i = wb.mutual_info(z, labels, method="dse", sigma=2.0, t=50, matched=matched,
                           units="nats")
        assert i == pytest.approx(math.log(4), abs=1e-6)
    # labels may come first: the discrete side is recognised either way
    swapped = wb.mutual_info(labels, z, method="dse", sigma=2.0, t=50, units="nats")
    assert swapped == pytest.approx(math.log(4), abs=1e-6)


def test_dsmi_independent_labels_near_zero():
    rng = np.random.default_rng(5)
    z, labels = rng.normal(size=(400, 2)), rng.integers(0, 4, 400)
    # over 10 seeds (n = 400, 4 classes, median σ, t = 1): matched DSMI = 0.004 ± 0.027 nats
    # (max |.| 0.054), while matched=False has the size bias 0.060 ± 0.014
    assert abs(wb.mutual_info(z, labels, method="dse", units="nats")) < 0.12


def test_dse_torch_matches_numpy(rng):
    z = rng.normal(size=(200, 3))
    labels = (z[:, 0] > 0).astype(int) + (z[:, 1] > 0)
    for quantity, args in (("entropy", (z,)), ("mutual_info", (z, labels))):
        a = getattr(wb, quantity)(*args, method="dse", t=2)
        b = getattr(wb, quantity)(*args, method="dse", t=2, backend="torch")
        assert b == pytest.approx(float(a), rel=1e-9, abs=1e-12)


def test_dse_seeded_subsampling(rng):
    z = rng.normal(size=(300, 2))
    labels = rng.integers(0, 3, 300)
    a = wb.mutual_info(z, labels, method="dse", max_samples=120, seed=3)
    b = wb.mutual_info(z, labels, method="dse", max_samples=120, seed=3)
    c = wb.mutual_info(z, labels, method="dse", max_samples=120, seed=4)
    assert a == b and a != c


def test_dsmi_needs_discrete_partner(rng):
    z, y = rng.normal(size=(50, 2)), rng.normal(size=(50, 1))
    with pytest.raises(wb.InputError, match="needs one discrete variable.*[Bb]in"):
        wb.mutual_info(z, y, method="dse")


def test_dse_bad_knobs(rng):
    z = rng.normal(size=(20, 2))
    for knobs in ({"t": 0}, {"repeats": 0}, {"sigma": -2.0}):
        with pytest.raises(wb.KnobError):
            wb.entropy(z, method="dse", **knobs)
    cls = get_estimator_class("dse")
    assert cls.supports("entropy") and cls.supports("mutual_info")
    assert not cls.supports("conditional_mutual_info")


@pytest.mark.parametrize("matched", [True, False])
@pytest.mark.parametrize("threads", [None, 2])
def test_dsmi_from_one_gram_matrix_equals_per_class_recomputation(matched, threads):
    # the definition: every class (and every matched subset) gets its own Gram matrix from its
    # own rows, with the width σ of all of Z; taking submatrices of Z's Gram matrix instead
    # changes only the rounding of the distances
    rng = np.random.default_rng(11)
    labels = rng.integers(0, 4, 300)
    z = rng.normal(size=(300, 6)) + 0.5 * labels[:, None]
    est = get_estimator_class("dse")(matched=matched, repeats=3, seed=2, threads=threads)
    sigma = est._width(z)
    draw = np.random.default_rng(2)
    total = 0.0
    for c in range(4):
        members = z[labels == c]
        h_all = (np.mean([est.dse(z[draw.choice(300, len(members), replace=False)], sigma)
                          for _ in range(3)]) if matched else est.dse(z, sigma))
        total += len(members) / 300 * (h_all - est.dse(members, sigma))
    assert est.mutual_info(z, labels, units="nats") == pytest.approx(total, rel=1e-9,
                                                                     abs=1e-12)
