"""Score-based estimators: minde (MINDE-C, MINDE-J, entropy) and soi (O-/S-information).

Ground truths are closed forms for Gaussians: I = −(d/2) log(1 − ρ²) for d coordinate pairs
with correlation ρ; H = ½ log det(2πe Σ); Ω and S of a Gaussian from log-determinants of its
covariance (workbench.measures.multivariate._gaussian_terms).

The fast tests use the Gaussian reference (the network learns the residual to the exact
Gaussian denoiser) and train briefly, so the estimate is the Monte Carlo λ-integral of
score differences plus what the network adds: they fail if the integral, the masks, the
conditional solves or the units are wrong. The heavy ones (a plain network learning the
whole score; the issue's 10 % claims at n = 5000) run with WORKBENCH_FULL=1.
"""
import math
import os

import numpy as np
import pytest

import workbench as wb
from workbench.errors import InputError, KnobError
from workbench.measures.multivariate import _gaussian_terms

FULL = os.environ.get("WORKBENCH_FULL") == "1"
slow = pytest.mark.skipif(not FULL, reason="heavy score-network training; WORKBENCH_FULL=1")
RHO = 0.8
QUICK = {"steps": 60, "eval_every": 30, "n_lambda": 32, "reference": "gaussian"}


def _pair(n, d, seed, rho=RHO):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    return x, rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, d))


def _truth(d, rho=RHO):
    return -d / 2 * math.log(1 - rho**2)


@pytest.mark.parametrize("variant", ["c", "j"])
def test_minde_gaussian_reference_matches_the_closed_form(variant):
    x, y = _pair(2000, 2, seed=11)
    est = wb.mutual_info(x, y, method="minde", variant=variant, units="nats", **QUICK)
    # truth 1.022 nats. Error sources: the sample correlation (sd of the Gaussian MI at
    # n = 2000 is about 0.02 nat), the Monte Carlo λ-integral over 400 held-out rows × 32
    # strata and the briefly trained residual network. Measured on 4 other data seeds
    # (12-15) with the current defaults: C −0.061, +0.003, +0.009, −0.121; J −0.012, +0.006,
    # −0.020, −0.085 nats (seed 15 is as low with the earlier defaults, −0.117: the data's,
    # not the knobs').
    # 0.15 nat is 1.24× the worst of the eight.
    assert est == pytest.approx(_truth(2), abs=0.15)
    assert est.units == "nats" and est.method.startswith("minde")


def test_minde_independent_is_near_zero_and_never_negative():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(1500, 2)), rng.normal(size=(1500, 2))
    est = wb.mutual_info(x, y, method="minde", units="nats", **QUICK)
    # a mean of squares: ≥ 0 always; with |sample correlation| ~ 1/√n the Gaussian MI is
    # ~ d²/(2n) ≈ 0.001 nat, so 0.05 leaves room for the network's residual only (measured
    # on 4 other seeds: 0.0016 to 0.0027 nat)
    assert 0.0 <= est < 0.05


def test_minde_entropy_of_a_gaussian():
    rng = np.random.default_rng(5)
    cov = np.array([[4.0, 1.2], [1.2, 1.0]])
    x = rng.multivariate_normal([3.0, -1.0], cov, size=2000)
    truth = 0.5 * math.log(np.linalg.det(2 * math.pi * math.e * cov))
    est = wb.entropy(x, method="minde", units="nats", **QUICK)
    # the scales (log 2 + 0) come back through the standardisation's log-Jacobian. Measured
    # on 4 other data seeds (12-15): −0.002, +0.027, −0.047, +0.000 nats (the short training
    # adds noise to ε̂, which can only raise the KL term, hence low); 0.12 is 2.6× the worst.
    assert est == pytest.approx(truth, abs=0.12)


def test_minde_same_seed_same_number_and_units():
    x, y = _pair(300, 1, seed=2)
    knobs = {**QUICK, "steps": 20, "seed": 4}
    a = wb.mutual_info(x, y, method="minde", units="nats", **knobs)
    b = wb.mutual_info(x, y, method="minde", units="bits", **knobs)
    assert float(b) == pytest.approx(float(a) / math.log(2), rel=1e-12)


def test_minde_drops_monotone_copies_of_a_column():
    # Song & Ermon's data-processing test: Y³ is a monotone function of Y, so its copula is
    # Y's and it adds no information; the pair on a line used to raise the estimate by a third
    x, y = _pair(400, 1, seed=6)
    knobs = {**QUICK, "steps": 30, "seed": 1}
    plain = wb.mutual_info(x, y, method="minde", units="nats", **knobs)
    both = wb.mutual_info(x, np.column_stack([y, y**3, -np.exp(y)]), method="minde",
                          units="nats", **knobs)
    assert float(both) == float(plain)
    from workbench.estimators.score.base import _without_monotone_copies

    z = np.random.default_rng(0).normal(size=(50, 2))
    kept = _without_monotone_copies(np.column_stack([z[:, 0], z[:, 0], -z[:, 0], z[:, 1]]))
    assert np.array_equal(kept, z)


def test_minde_knobs_and_settings():
    cls = wb.estimators.get_estimator_class("minde")
    assert {"device", "threads", "progress", "callback"} <= set(cls.setting_names())
    assert "device" not in cls.knob_names() and "variant" in cls.knob_names()
    x, y = _pair(200, 1, seed=0)
    with pytest.raises(KnobError, match="lambda_min"):
        wb.mutual_info(x, y, method="minde", lambda_min=0, lambda_max=0, steps=1)
    with pytest.raises(KnobError):
        wb.mutual_info(x, y, method="minde", variant="x")
    with pytest.raises(InputError, match="constant"):
        wb.mutual_info(np.column_stack([x, np.ones(200)]), y, method="minde", steps=1,
                       marginals="standardize")
    seen = []
    wb.mutual_info(x, y, method="minde", steps=40, eval_every=20,
                   callback=lambda step, total, value: seen.append((step, total)))
    assert seen and seen[-1][1] == 40 and all(s <= 40 for s, _ in seen)


def test_minde_weight_decay_shrinks_the_network_towards_no_dependence():
    # decoupled decay multiplies every weight by (1 − lr·wd) per step: at lr·wd = 0.5 the
    # plain network is all but zero after a few steps, so every mode predicts the same ε̂ and
    # the score difference (the MI) vanishes, where the same training without decay has
    # learnt some of the 1.02 nats (measured: 0.003 vs 0.93 nat after 100 steps)
    x, y = _pair(1000, 2, seed=9)
    knobs = {"steps": 100, "eval_every": 50, "n_lambda": 16, "reference": "none",
             "lr": 5e-3, "seed": 0}
    kept = wb.mutual_info(x, y, method="minde", units="nats", weight_decay=0.0, **knobs)
    decayed = wb.mutual_info(x, y, method="minde", units="nats", weight_decay=100.0, **knobs)
    assert float(decayed) < 0.05 < 0.5 < float(kept)


def _gaussian_five(n, seed):
    """Five variables: a shared factor (redundancy) and one that sums the others."""
    rng = np.random.default_rng(seed)
    load = np.array([0.8, 0.7, 0.6, 0.5])
    cov4 = np.outer(load, load) + np.diag(1 - load**2)
    w = np.full(4, 0.4)
    cov = np.zeros((5, 5))
    cov[:4, :4] = cov4
    cov[4, :4] = cov[:4, 4] = cov4 @ w
    cov[4, 4] = w @ cov4 @ w + 0.3
    x = rng.multivariate_normal(np.zeros(5), cov, size=n)
    sd = np.sqrt(np.diag(cov))
    tc, dtc = _gaussian_terms(cov / np.outer(sd, sd), np.arange(5)[None, :])
    return x, float(tc[0] - dtc[0]), float(tc[0] + dtc[0])


def test_soi_matches_gaussian_o_information_for_five_variables():
    x, omega, s_info = _gaussian_five(2000, seed=8)
    est = wb.o_information(x, method="soi", units="nats", **QUICK)
    # closed form Ω = 0.395 nats. Ω = 2 TC − S combines 11 integrals, each with its
    # sample-correlation error and Monte Carlo noise. Measured on 4 other data seeds:
    # +0.073, −0.098, +0.091, −0.009 nats (and +0.075, −0.069, +0.075, +0.025 with 4× the λ
    # draws: the error is the data's and the training's, not the integral's). 0.15 nat is
    # 1.5× the worst.
    assert est == pytest.approx(omega, abs=0.15)
    s_est = wb.s_information(x, method="soi", units="nats", **QUICK)
    assert s_est == pytest.approx(s_info, rel=0.1)


def test_soi_two_variables_is_mutual_information():
    x, y = _pair(1500, 1, seed=9)
    est = wb.mutual_info(x, y, method="soi", units="nats", **QUICK)
    # 0.511 nats; measured on 4 other data seeds: +0.055, −0.023, −0.017, +0.067 nats
    assert est == pytest.approx(_truth(1), abs=0.12)
    with pytest.raises(InputError, match="variables"):
        wb.o_information(np.random.default_rng(0).normal(size=(100, 11)), method="soi",
                         steps=1)


@slow
@pytest.mark.parametrize("variant", ["c", "j"])
def test_minde_plain_network_learns_a_gaussian(variant):
    # with the current defaults (averaged weights, weight decay 0.04): C 0.993, J 0.981 of
    # 1.022 nats (−2.8 %, −4.0 %, measured; without the decay −1.8 %, −2.9 %); with the live
    # weights C stopped at −15 % here
    x, y = _pair(5000, 2, seed=21)
    est = wb.mutual_info(x, y, method="minde", variant=variant, reference="none", units="nats")
    assert est == pytest.approx(_truth(2), rel=0.1)


@slow
@pytest.mark.parametrize("task", ["multinormal-dense-5-5", "student-t-dof2-3-3",
                                  "student-t-dof3-3-3"])
def test_minde_defaults_within_ten_percent_on_suite_tasks(task):
    # one default configuration for both kinds of task (issue 16). Measured with
    # benchmarks/bench_score.py, data and training seeds 0, 1, 2 (README has the table):
    # Gaussian +1.1, +6.9, −0.4 %; ν = 2 Student-t −3.5, −1.9, −6.7 % (seeds 3, 4: −9.9,
    # −8.2 %); ν = 3 Student-t +0.7, +6.4, +2.5 % (seeds 3, 4: +4.7, −6.4 %; before the
    # weight decay ν = 3 was +10.9, +29.8, −4.8 %), so 10 %
    from workbench.bench import runner
    from workbench.bench.tasks import get

    t = get(task)
    x, y = runner.job_data(t, 5000, 0)
    est = wb.mutual_info(x, y, method="minde", units="nats")
    assert est == pytest.approx(t.mutual_info, rel=0.1)


@slow
def test_soi_on_five_gaussians_as_shipped():
    # default knobs (Gaussian reference, up to 5000 steps), n = 5000; see
    # benchmarks/bench_score.py and README for the measured errors
    x, omega, _ = _gaussian_five(5000, seed=8)
    est = wb.o_information(x, method="soi", units="nats")
    assert est == pytest.approx(omega, abs=0.1)
