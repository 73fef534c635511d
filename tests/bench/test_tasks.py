"""Ground-truth tasks: exact values checked against independent computations.

Monte-Carlo checks: the mean of log p(x,y)/(p(x)p(y)) over samples of the task is an unbiased
estimate of I(X;Y); we allow 4.5 standard errors (a false alarm about once in 150 000 runs per
check). No extra slack: the float rounding of a 40 000-term mean is ~1e-12 nats, far below
4.5 standard errors of any task with a non-constant pointwise MI.
"""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import integrate, stats

from workbench.bench import tasks
from workbench.bench.tasks.transforms import TransformedTask
from workbench.errors import InputError, NotSupportedError

N_MC = 40_000


def assert_mc_close(pmi: np.ndarray, truth: float):
    se = pmi.std(ddof=1) / math.sqrt(len(pmi))
    assert abs(pmi.mean() - truth) <= 4.5 * se, (pmi.mean(), truth, se)


def scipy_gaussian_pmi(cov, k, x, y):
    """Independent of the task code: scipy's own multivariate normal densities."""
    mvn = stats.multivariate_normal
    return (mvn(cov=cov).logpdf(np.column_stack([x, y])) - mvn(cov=cov[:k, :k]).logpdf(x)
            - mvn(cov=cov[k:, k:]).logpdf(y))


# ----------------------------------------------------------------- Gaussian --------------
def test_bivariate_closed_form():
    for rho in (0.1, 0.5, 0.75, -0.9):
        assert tasks.bivariate(rho).mutual_info == pytest.approx(-0.5 * math.log(1 - rho ** 2))


def test_sparse_closed_form_and_canonical_correlations():
    t = tasks.sparse(5, 4, n_pairs=3, rho=0.6)
    assert t.mutual_info == pytest.approx(-1.5 * math.log(1 - 0.36))
    # dense: compare with −½ Σ log(1 − ρ_i²) over canonical correlations from an SVD
    d = tasks.dense(3, 2, off_diag=0.4)
    c = d.cov
    wx = np.linalg.inv(np.linalg.cholesky(c[:3, :3]))
    wy = np.linalg.inv(np.linalg.cholesky(c[3:, 3:]))
    rhos = np.linalg.svd(wx @ c[:3, 3:] @ wy.T, compute_uv=False)
    assert d.mutual_info == pytest.approx(-0.5 * np.log1p(-rhos ** 2).sum())


@pytest.mark.parametrize("task", [tasks.bivariate(0.75), tasks.dense(3, 3), tasks.sparse(5, 5),
                                  tasks.dense(2, 5, off_diag=0.3)], ids=lambda t: t.name)
def test_gaussian_mi_matches_monte_carlo(task):
    x, y = task.sample(N_MC, seed=1)
    pmi = scipy_gaussian_pmi(task.cov, task.dim_x, x, y)
    assert_mc_close(pmi, task.mutual_info)
    # the task's own density ratio agrees with scipy's
    np.testing.assert_allclose(task.pointwise_mi(x[:100], y[:100]), pmi[:100], atol=1e-9)


def test_gaussian_samples_have_the_covariance():
    task = tasks.dense(2, 2, off_diag=0.5)
    x, y = task.sample(N_MC, seed=3)
    # sample covariance entries have standard error ~ sqrt((1 + 0.25)/n) ≈ 0.0056
    np.testing.assert_allclose(np.cov(np.column_stack([x, y]).T), task.cov, atol=0.03)


def test_from_mi_hits_the_target():
    assert tasks.from_mi(1.0, 1, 1, units="bits").mi("bits") == pytest.approx(1.0)
    t = tasks.from_mi(0.7, 3, 4, units="nats")
    assert t.mutual_info == pytest.approx(0.7) and (t.dim_x, t.dim_y) == (3, 4)
    assert tasks.rho_for_mi(-0.5 * math.log(1 - 0.25), units="nats") == pytest.approx(0.5)


def test_bad_gaussian_parameters_are_clear():
    with pytest.raises(InputError, match="strictly between"):
        tasks.bivariate(1.0)
    with pytest.raises(InputError, match="positive definite"):
        tasks.gaussian([[1, 2], [2, 1]], 1)
    with pytest.raises(InputError, match="n_pairs"):
        tasks.sparse(2, 2, n_pairs=3)


# ----------------------------------------------------------------- Student-t --------------
def scipy_t_pmi(scale, df, k, x, y):
    mvt = stats.multivariate_t
    return (mvt(shape=scale, df=df).logpdf(np.column_stack([x, y]))
            - mvt(shape=scale[:k, :k], df=df).logpdf(x) - mvt(shape=scale[k:, k:], df=df).logpdf(y))


@pytest.mark.parametrize("dims,df,scale", [
    ((1, 1), 1, None), ((2, 2), 2, None), ((3, 2), 3, "dense")])
def test_student_t_formula_matches_monte_carlo(dims, df, scale):
    dx, dy = dims
    if scale == "dense":
        scale = np.full((dx + dy, dx + dy), 0.4) + 0.6 * np.eye(dx + dy)
    task = tasks.student_t(dx, dy, df=df, scale=scale)
    x, y = task.sample(N_MC, seed=2)
    pmi = scipy_t_pmi(task.scale, df, dx, x, y)
    assert_mc_close(pmi, task.mutual_info)
    np.testing.assert_allclose(task.pointwise_mi(x[:50], y[:50]), pmi[:50], atol=1e-8)


def test_student_t_identity_1x1_dof1_value():
    # f(1) + f(3) − 2 f(2) with f(x) = log Γ(x/2) − (x/2) ψ(x/2), evaluated by hand
    assert tasks.student_t(1, 1, df=1).mutual_info == pytest.approx(0.22417, abs=1e-4)
    # large ν: the t tends to a Gaussian and the correction to 0
    assert tasks.student_t_correction(1e6, 3, 3) == pytest.approx(0.0, abs=1e-5)


# ------------------------------------------------------------- additive noise -------------
@pytest.mark.parametrize("eps", [0.05, 0.1, 0.3, 0.5, 0.75, 2.0])
def test_additive_uniform_closed_form_vs_integration(eps):
    def fy(y):  # trapezoid density of X + U(−ε, ε)
        return (min(y + eps, 1.0) - max(y - eps, 0.0)) / (2 * eps)
    knots = sorted({-eps, eps, 1 - eps, 1 + eps})
    h_y = sum(integrate.quad(lambda y: -fy(y) * math.log(fy(y)) if fy(y) > 0 else 0.0,
                             a, b, epsabs=1e-12)[0] for a, b in zip(knots, knots[1:]))
    assert tasks.additive_uniform_mi(eps) == pytest.approx(h_y - math.log(2 * eps), abs=1e-8)


def test_additive_uniform_samples_and_monte_carlo():
    task = tasks.additive_uniform(0.3)
    x, y = task.sample(N_MC, seed=4)
    assert x.min() >= 0 and x.max() <= 1 and np.abs(y - x).max() <= 0.3
    assert_mc_close(task.pointwise_mi(x, y), task.mutual_info)


# ----------------------------------------------------------------- transforms -------------
TRANSFORMED = [t for t in tasks.suite() if isinstance(t, TransformedTask)]


@pytest.mark.parametrize("task", TRANSFORMED, ids=lambda t: t.name)
def test_transforms_are_invertible_functions_of_the_base_samples(task):
    x, y = task.sample(2000, seed=5)
    bx, by = task.base.sample(2000, seed=5)
    # deterministic: the transformed samples are f(base samples) drawn with the same seed
    fx = task.fx.forward(bx) if task.fx else bx
    fy = task.fy.forward(by) if task.fy else by
    np.testing.assert_array_equal(x, fx)
    np.testing.assert_array_equal(y, fy)
    # invertible: the inverse recovers the base samples (so no information is lost)
    ix, iy = task.invert(x, y)
    np.testing.assert_allclose(ix, bx, atol=1e-8, rtol=1e-8)
    np.testing.assert_allclose(iy, by, atol=1e-8, rtol=1e-8)


@pytest.mark.parametrize("name", ["1v1-bimodal-0.75", "wiggly-1v1-normal-0.75",
                                  "spiral-normal_cdf-multinormal-sparse-3-3",
                                  "swissroll-normal_cdf-1v1-normal-0.75"])
def test_transformed_density_ratio_monte_carlo(name):
    task = tasks.get(name)
    x, y = task.sample(N_MC, seed=6)
    assert_mc_close(task.pointwise_mi(x, y), task.mutual_info)


def test_elementwise_transforms_are_strictly_increasing():
    z = np.linspace(-7, 7, 20001).reshape(-1, 1)
    for f in (tasks.NormalCDF(), tasks.Asinh(), tasks.HalfCube(), tasks.Wiggly("x"),
              tasks.Wiggly("y"), tasks.GaussianToMixture((0.3, 0.7), (0.0, 5.0), (1.0, 1.0))):
        assert (np.diff(f.forward(z).ravel()) > 0).all(), f.name


def test_bimodal_margin_is_the_mixture():
    x, y = tasks.bimodal(0.75).sample(N_MC, seed=7)
    mix_cdf = lambda t: 0.3 * stats.norm.cdf(t) + 0.7 * stats.norm.cdf(t - 5)  # noqa: E731
    # Kolmogorov–Smirnov: p-values are uniform under the truth; 1e-4 rarely fails
    assert stats.kstest(x.ravel(), mix_cdf).pvalue > 1e-4


def test_spiral_keeps_norms_and_swiss_roll_embeds():
    a = np.random.default_rng(0).standard_normal((500, 4))
    s = tasks.Spiral(0.5, (1, 2))
    np.testing.assert_allclose(np.linalg.norm(s.forward(a), axis=1), np.linalg.norm(a, axis=1))
    roll = tasks.swiss_roll()
    assert (roll.dim_x, roll.dim_y) == (2, 1)
    three_d = tasks.swiss_roll(tasks.normal_cdf(tasks.sparse(2, 2, n_pairs=1)))
    x, y = three_d.sample(300, seed=0)
    assert x.shape == (300, 3)
    np.testing.assert_allclose(three_d.invert(x, y)[0],
                               three_d.base.sample(300, seed=0)[0], atol=1e-10)


# ----------------------------------------------------------------- discrete ---------------
@pytest.mark.parametrize("task", tasks.discrete_suite(), ids=lambda t: t.name)
def test_discrete_frequencies_match_pmf(task):
    n = 50_000
    x, y = task.sample(n, seed=8)
    assert x.dtype == np.int64 and task.discrete
    i = (x[:, None, :] == task.x_values[None]).all(axis=2).argmax(axis=1)
    j = (y[:, None, :] == task.y_values[None]).all(axis=2).argmax(axis=1)
    freq = np.bincount(i * task.pmf.shape[1] + j, minlength=task.pmf.size) / n
    p = task.pmf.ravel()
    # each cell frequency is binomial: 5 standard deviations (plus 1/n for p = 0 cells)
    assert (np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1 / n).all()


def test_discrete_exact_values():
    bsc = tasks.binary_symmetric_channel(0.1)
    hb = -(0.1 * math.log(0.1) + 0.9 * math.log(0.9))
    assert bsc.mutual_info == pytest.approx(math.log(2) - hb)
    assert bsc.entropy_x == pytest.approx(math.log(2))  # nats, like mutual_info
    assert bsc.entropies("bits")["H(X)"] == pytest.approx(1.0)
    x = tasks.xor()
    assert x.mi("bits") == pytest.approx(1.0) and (x.dim_x, x.dim_y) == (2, 1)
    # synergy: each input bit alone is independent of the parity
    pa_y = x.pmf.reshape(2, 2, 2).sum(axis=1)
    np.testing.assert_allclose(pa_y, np.outer(pa_y.sum(1), pa_y.sum(0)))
    assert x.entropies("bits")["H(X,Y)"] == pytest.approx(2.0)
    assert tasks.noisy_copy(4, 0.0).mi("bits") == pytest.approx(2.0)
    with pytest.raises(InputError, match="sum to 1"):
        tasks.from_pmf([[0.5, 0.6]], name="bad")


# ----------------------------------------------------------------- the suite --------------
def test_suite_has_40_unique_tasks_with_positive_finite_truth():
    suite = tasks.suite()
    assert len(suite) == 40
    assert len({t.name for t in suite}) == 40
    for t in suite:
        assert math.isfinite(t.mutual_info) and t.mutual_info > 0, t.name
        x, y = t.sample(20, seed=0)
        assert x.shape == (20, t.dim_x) and y.shape == (20, t.dim_y)
        assert np.isfinite(x).all() and np.isfinite(y).all(), t.name
    assert max(t.dim_x for t in suite) == 50


def test_sampling_is_reproducible():
    t = tasks.get("half_cube-multinormal-sparse-5-5")
    a, b = t.sample(100, seed=3), t.sample(100, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], t.sample(100, seed=4)[0])
    with pytest.raises(InputError, match="positive integer"):
        t.sample(0)


def test_select_and_get():
    assert {t.name for t in tasks.select("multinormal-dense-*")} == {
        f"multinormal-dense-{d}-{d}" for d in (2, 3, 5, 25, 50)}
    assert len(tasks.select("student")) == 11
    assert tasks.get("1v1-additive-0.75").mutual_info == pytest.approx(1 / 3)
    with pytest.raises(InputError, match="no task"):
        tasks.select("does-not-exist")
    with pytest.raises(NotSupportedError):
        tasks.Task(name="bare", dim_x=1, dim_y=1, mutual_info=0.0).pointwise_mi(0, 0)


def test_stable_seed_is_the_same_in_another_process():
    here = tasks.stable_seed("multinormal-dense-5-5", 5000, 0).generate_state(2).tolist()
    code = ("from workbench.bench.tasks import stable_seed; "
            "print(stable_seed('multinormal-dense-5-5', 5000, 0).generate_state(2).tolist())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": ""})
    assert out.stdout.strip() == str(here)
