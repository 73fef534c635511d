"""Matrix / spectral estimators (matrix_renyi, vne, cauchy_schwarz) and
workbench.measures.representation.

Closed forms used: a Gram matrix of n coinciding points has rank one (entropy 0); of n points
far apart relative to σ it is the identity (A = I/n, entropy log n for every α); k tight,
far-apart clusters of equal size give A = blockdiag(J)/n with k eigenvalues 1/k (entropy log k,
and A∘A/tr = A, so I(X;X) = S(X) = log k).
"""
import math

import numpy as np
import pytest

import workbench as wb
from workbench.estimators.matrix import cauchy_schwarz_divergence, cs_qmi_from_grams, kernel_width
from workbench.measures.representation import (
    coding_rate,
    effective_rank,
    mcr2_delta_r,
    spectral_entropy,
    vne_spectrum,
)
from workbench.units import LN2

ALPHAS = (0.5, 1.0, 1.01, 2.0)


def _clusters(k=4, m=30, d=3, spread=1e-3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 100.0
    labels = np.repeat(np.arange(k), m)
    return centres[labels] + spread * rng.normal(size=(k * m, d)), labels


# ----- matrix_renyi -------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", ALPHAS)
def test_matrix_renyi_extremes(alpha):
    same = np.tile([1.0, -2.0, 3.0], (40, 1))
    assert wb.entropy(same, method="matrix_renyi", alpha=alpha, units="nats") == 0.0
    far = np.arange(50.0)[:, None] * 100.0  # spacing 100 σ: K = I to machine precision
    h = wb.entropy(far, method="matrix_renyi", alpha=alpha, sigma=1.0, units="nats")
    assert h == pytest.approx(math.log(50), rel=1e-12)


def test_matrix_renyi_alpha_order_and_von_neumann(rng):
    x = rng.normal(size=(300, 2))
    h = {a: wb.entropy(x, method="matrix_renyi", alpha=a, units="nats") for a in ALPHAS}
    # Rényi entropy is non-increasing in α, strictly unless the spectrum is flat
    assert h[0.5] > h[1.0] > h[1.01] > h[2.0] > 0
    # α = 1 is exactly the von Neumann entropy of A = K/n, computed here independently
    sigma = kernel_width(x)
    sq = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    lam = np.linalg.eigvalsh(np.exp(-sq / (2 * sigma**2)) / len(x))
    lam = lam[lam > 1e-14]
    assert h[1.0] == pytest.approx(-(lam * np.log(lam)).sum(), rel=1e-9)
    # and the α → 1 limit is continuous
    near = wb.entropy(x, method="matrix_renyi", alpha=1 + 1e-7, units="nats")
    assert near == pytest.approx(h[1.0], abs=1e-5)


def test_matrix_renyi_mi_with_itself_and_bounds(rng):
    z, _ = _clusters(spread=0.0)  # any within-cluster spread shows up in λ^α for α < 1
    for alpha in ALPHAS:
        h = wb.entropy(z, method="matrix_renyi", alpha=alpha, sigma=1.0, units="nats")
        i = wb.mutual_info(z, z, method="matrix_renyi", alpha=alpha, sigma=1.0, units="nats")
        assert h == pytest.approx(math.log(4), rel=1e-9)
        assert i == pytest.approx(h, rel=1e-9)
    # in general S(A∘B/tr) ≥ max(S(A), S(B)) (Sánchez Giraldo et al. 2015), so I ≤ min(H)
    x = rng.normal(size=(300, 2))
    h = wb.entropy(x, method="matrix_renyi", units="nats")
    i = wb.mutual_info(x, x, method="matrix_renyi", units="nats")
    assert 0 < i <= h + 1e-12


def test_matrix_renyi_independent_vs_dependent():
    rng = np.random.default_rng(3)
    x, noise = rng.normal(size=(400, 2)), rng.normal(size=(400, 2))
    h = wb.entropy(x, method="matrix_renyi", units="nats")
    indep = wb.mutual_info(x, noise, method="matrix_renyi", units="nats")
    dep = wb.mutual_info(x, 0.8 * x + 0.6 * noise, method="matrix_renyi", units="nats")
    # over 10 seeds (n=400, 2-D, median σ): I/H = 0.036 ± 0.004 (max 0.046) for independent
    # data and 0.31 ± 0.01 for ρ = 0.8 per coordinate
    assert abs(indep) < 0.07 * h
    assert dep > 0.25 * h


def test_matrix_renyi_torch_matches_numpy(rng):
    x, y = rng.normal(size=(200, 3)), rng.normal(size=(200, 2))
    for alpha in (1.0, 2.0):
        a = wb.mutual_info(x, y, method="matrix_renyi", alpha=alpha)
        b = wb.mutual_info(x, y, method="matrix_renyi", alpha=alpha, backend="torch")
        assert b == pytest.approx(float(a), rel=1e-9, abs=1e-12)
    a = wb.entropy(x, method="matrix_renyi", sigma_rule="silverman")
    b = wb.entropy(x, method="matrix_renyi", sigma_rule="silverman", backend="torch")
    assert b == pytest.approx(float(a), rel=1e-9)


def test_matrix_renyi_subsampling_is_seeded(rng):
    x = rng.normal(size=(500, 2))
    a = wb.entropy(x, method="matrix_renyi", max_samples=100, seed=1)
    b = wb.entropy(x, method="matrix_renyi", max_samples=100, seed=1)
    c = wb.entropy(x, method="matrix_renyi", max_samples=100, seed=2)
    assert a == b and a != c
    # units: the base class converts nats to bits
    nats = wb.entropy(x, method="matrix_renyi", max_samples=100, seed=1, units="nats")
    assert float(a) == pytest.approx(nats / LN2, rel=1e-12)


def test_matrix_bad_knobs(rng):
    x = rng.normal(size=(20, 2))
    for knobs in ({"alpha": 0}, {"sigma": -1.0}, {"sigma": 0.0}, {"sigma_rule": "scott"},
                  {"max_samples": 1}, {"backend": "jax"}):
        with pytest.raises(wb.KnobError):
            wb.entropy(x, method="matrix_renyi", **knobs)
    with pytest.raises(wb.KnobError, match="not a torch device"):
        wb.entropy(x, method="matrix_renyi", device="toaster")
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(wb.KnobError, match="no CUDA"):
            wb.entropy(x, method="matrix_renyi", device="cuda")


# ----- vne ----------------------------------------------------------------------------------
def test_vne_closed_forms(rng):
    d = 6
    spread = np.tile(np.eye(d), (5, 1)) * rng.uniform(0.5, 3.0, size=(5 * d, 1))
    assert wb.entropy(spread, method="vne", units="nats") == pytest.approx(math.log(d), rel=1e-12)
    same = np.tile(rng.normal(size=(1, d)), (20, 1)) * rng.uniform(1, 2, size=(20, 1))
    assert wb.entropy(same, method="vne", units="nats") == pytest.approx(0.0, abs=1e-12)
    # all-zero rows have no direction and are left out
    with_zeros = np.vstack([spread, np.zeros((7, d))])
    assert wb.entropy(with_zeros, method="vne") == pytest.approx(
        float(wb.entropy(spread, method="vne")), rel=1e-12)
    lam = vne_spectrum(rng.normal(size=(50, 4)))
    assert lam.sum() == pytest.approx(1.0) and (lam >= 0).all()


def test_vne_errors(rng):
    with pytest.raises(wb.NotSupportedError, match="cannot compute mutual_info"):
        wb.mutual_info(rng.normal(size=(20, 2)), rng.normal(size=(20, 2)), method="vne")
    with pytest.raises(wb.InputError, match="every row of z is zero"):
        wb.entropy(np.zeros((5, 3)), method="vne")


# ----- Cauchy–Schwarz -----------------------------------------------------------------------
def test_cs_divergence(rng):
    x = rng.normal(size=(300, 2))
    assert cauchy_schwarz_divergence(x, x) == pytest.approx(0.0, abs=1e-12)
    # Parzen-smoothed N(0, I) vs N(μ, I) with σ = 1: both become Gaussians of covariance
    # (1 + σ²/2)·I, and D_CS = |μ|² / (2(1 + σ²/2)), i.e. 0 and 2/3 for μ = (0, 0), (1, 1).
    # Over 10 seeds (n = 300): 0.014 ± 0.006 (max 0.027; the V-statistic's own-pair terms add
    # ~0.013) and 0.70 ± 0.11.
    same, shifted = (float(cauchy_schwarz_divergence(x, rng.normal(size=(300, 2)) + s,
                                                     sigma=1.0, units="nats"))
                     for s in (0.0, 1.0))
    assert 0 <= same < 0.05
    assert shifted == pytest.approx(2 / 3, abs=0.35)
    y = x + 1.0
    assert cauchy_schwarz_divergence(x, y) == pytest.approx(float(cauchy_schwarz_divergence(y, x)))
    with pytest.raises(wb.InputError, match="same number of features"):
        cauchy_schwarz_divergence(x, x[:, :1])
    with pytest.raises(wb.EstimationError, match="larger sigma"):
        cauchy_schwarz_divergence(x, x + 1e4, sigma=0.01)


def test_cs_qmi_formula_and_properties(rng):
    # the vectorised formula against the definition written out with loops (n = 5)
    kx, ky = (np.exp(-rng.uniform(0, 2, size=(5, 5))) for _ in range(2))
    kx, ky = (kx + kx.T) / 2, (ky + ky.T) / 2
    n = 5
    v_j = sum(kx[i, j] * ky[i, j] for i in range(n) for j in range(n)) / n**2
    v_m = kx.sum() / n**2 * ky.sum() / n**2
    v_c = sum(kx[i].sum() / n * ky[i].sum() / n for i in range(n)) / n
    assert cs_qmi_from_grams(kx, ky) == pytest.approx(max(math.log(v_j * v_m / v_c**2), 0))
    x = rng.normal(size=(300, 2))
    # a constant partner has Ky = 1: V_J = V_M = V_C = mean(Kx), so I_CS = 0 exactly
    assert wb.mutual_info(x, np.ones(300), method="cauchy_schwarz") == pytest.approx(0, abs=1e-12)
    indep = wb.mutual_info(x, rng.normal(size=(300, 2)), method="cauchy_schwarz", units="nats")
    dep = wb.mutual_info(x, x + 0.5 * rng.normal(size=(300, 2)), method="cauchy_schwarz",
                         units="nats")
    # over seeds 0-9 at this n = 300: independent 0.0019 ± 0.0008 nats (largest 0.0036),
    # partner x + 0.5·noise (ρ = 1/√1.25 ≈ 0.89 per coordinate) 0.079 ± 0.003 (smallest 0.073)
    assert 0 <= indep < 0.005 < 0.04 < dep


def test_cs_torch_matches_numpy(rng):
    x, y = rng.normal(size=(150, 2)), rng.normal(size=(150, 3))
    y[:, 0] += x[:, 0]
    a = wb.mutual_info(x, y, method="cauchy_schwarz")
    b = wb.mutual_info(x, y, method="cauchy_schwarz", backend="torch")
    assert b == pytest.approx(float(a), rel=1e-9)


# ----- representation -----------------------------------------------------------------------
def test_spectral_entropy():
    assert spectral_entropy([1, 1, 1, 1]) == pytest.approx(math.log(4))
    assert spectral_entropy([1, 1, 1, 1], alpha=2) == pytest.approx(math.log(4))
    assert spectral_entropy([3.0, 1e-20, -1e-18]) == 0.0
    with pytest.raises(wb.InputError):
        spectral_entropy([0.0, 0.0])
    with pytest.raises(wb.InputError):
        spectral_entropy([1.0, 2.0], alpha=0)


def test_effective_rank(rng):
    r, d = 5, 20
    q, _ = np.linalg.qr(rng.normal(size=(d, r)))
    # r equal singular values: exactly r
    z = np.vstack([q.T * 3.0, np.zeros((10, d))])
    assert effective_rank(z) == pytest.approx(r, rel=1e-10)
    # isotropic Gaussian in an r-dim subspace: singular values sqrt(n)(1 ± sqrt(r/n)), so the
    # normalised spectrum is nearly flat (n = 4000: within 1%)
    z = rng.normal(size=(4000, r)) @ q.T
    assert effective_rank(z) == pytest.approx(r, rel=0.01)
    assert isinstance(effective_rank(z), float) and not isinstance(effective_rank(z), wb.Estimate)
    assert effective_rank(np.ones((10, 3))) == pytest.approx(1.0)
    assert effective_rank(z + 50.0, center=True) == pytest.approx(effective_rank(z), rel=0.01)
    with pytest.raises(wb.InputError, match="all zeros"):
        effective_rank(np.ones((10, 3)), center=True)


def test_coding_rate_closed_forms():
    d, m, eps = 4, 25, 0.5
    assert coding_rate(np.zeros((30, d))) == 0.0
    # rows are the basis vectors, each m times: ZᵀZ = m·I, n = m·d, so
    # R = (d/2) log(1 + d·m / (n ε²)) = (d/2) log(1 + 1/ε²)
    z = np.tile(np.eye(d), (m, 1))
    r = coding_rate(z, eps=eps, units="nats")
    assert r == pytest.approx(d / 2 * math.log(1 + 1 / eps**2), rel=1e-12)
    assert r.units == "nats" and coding_rate(z, eps=eps) == pytest.approx(r / LN2)
    # the n×n path (n < d) gives the same number (Sylvester's determinant identity)
    wide = np.random.default_rng(0).normal(size=(5, 12))
    small = coding_rate(wide, units="nats")
    direct = 0.5 * np.linalg.slogdet(np.eye(12) + 12 / (5 * 0.5) * wide.T @ wide)[1]
    assert small == pytest.approx(direct, rel=1e-10)
    with pytest.raises(wb.InputError, match="eps"):
        coding_rate(z, eps=0)


def test_mcr2_delta_r(rng):
    d, m, eps = 4, 25, 0.5
    z = np.tile(np.eye(d), (m, 1))
    labels = np.tile(np.arange(d), m)
    # classes on orthogonal lines: R(Z_c) = ½ log(1 + d/ε²) for every class
    expected = d / 2 * math.log(1 + 1 / eps**2) - 0.5 * math.log(1 + d / eps**2)
    assert mcr2_delta_r(z, labels, eps=eps, units="nats") == pytest.approx(expected, rel=1e-12)
    assert mcr2_delta_r(z, np.zeros(len(z)), eps=eps) == pytest.approx(0.0, abs=1e-12)
    # well-separated classes beat shuffled labels, and ΔR ≥ 0 either way
    x = np.repeat(np.eye(3) * 5, 40, axis=0) + 0.1 * rng.normal(size=(120, 3))
    lab = np.repeat(np.arange(3), 40)
    good = mcr2_delta_r(x, lab)
    shuffled = mcr2_delta_r(x, rng.permutation(lab))
    assert good > shuffled >= 0
    with pytest.raises(wb.InputError, match="same number of samples"):
        mcr2_delta_r(x, lab[:-1])


def test_threads_knob_same_number_and_restored(rng):
    import torch

    x = rng.normal(size=(150, 3))
    before = torch.get_num_threads()
    a = wb.entropy(x, method="matrix_renyi")
    b = wb.entropy(x, method="matrix_renyi", threads=1)
    c = wb.entropy(x, method="matrix_renyi", threads=1, backend="torch")
    assert b == pytest.approx(float(a), rel=1e-12) and c == pytest.approx(float(a), rel=1e-9)
    assert torch.get_num_threads() == before
