"""Bootstrap intervals and permutation tests."""
import numpy as np
import pytest

import workbench as wb


def test_bootstrap_interval_covers_truth_for_discrete_entropy():
    # Fair coin, n = 2000: H = 1 bit; the plug-in's sd is tiny (~1e-3 bits), so a 95 % interval
    # must contain values close to 1 and be ordered.
    x = np.random.default_rng(3).integers(0, 2, 2000)
    res = wb.bootstrap_ci(x, method="plugin", n_resamples=100, resample_seed=1)
    assert res.low <= res.estimate <= res.high
    assert res.high - res.low < 0.01
    assert abs(res.estimate - 1.0) < 0.01
    assert res.units == "bits" and res.scheme == "bootstrap"
    again = wb.bootstrap_ci(x, method="plugin", n_resamples=100, resample_seed=1)
    assert (again.low, again.high) == (res.low, res.high)
    assert "CI" in str(res)


def test_bootstrap_flags_an_interval_that_excludes_its_estimate():
    # 500 distinct samples: plug-in H = log2(500) = 8.97 bits, but a resample with replacement
    # holds ~316 distinct values, so every replicate is near 8.1 and the percentile interval
    # [8.08, 8.19] excludes the estimate; before, nothing said so
    x = np.arange(500)
    with pytest.warns(UserWarning, match="excludes the estimate"):
        res = wb.bootstrap_ci(x, method="plugin", n_resamples=50, resample_seed=0)
    assert not res.low <= res.estimate <= res.high
    assert res.excludes_estimate
    assert "excludes the estimate" in str(res) and "excludes_estimate=True" in repr(res)
    fine = wb.bootstrap_ci(np.random.default_rng(3).integers(0, 2, 2000), method="plugin",
                           n_resamples=50, resample_seed=1)
    assert not fine.excludes_estimate and "excludes" not in str(fine)


def test_bootstrap_rejects_bad_settings():
    x = np.arange(10) % 2
    with pytest.raises(wb.WorkbenchError):
        wb.bootstrap_ci(x, method="plugin", confidence=1.5)
    with pytest.raises(wb.WorkbenchError):
        wb.bootstrap_ci(x, method="plugin", scheme="jackknife")


def test_permutation_test_detects_dependence_and_independence():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, 500)
    dependent = wb.permutation_test(x, x % 2, method="plugin", n_permutations=99,
                                    resample_seed=0)
    assert dependent.p_value == pytest.approx(0.01)  # the smallest possible: 1/(1+99)
    independent = wb.permutation_test(x, rng.integers(0, 4, 500), method="plugin",
                                      n_permutations=99, resample_seed=0)
    # under H0 the p-value is uniform; with this seed it is far from the rejection region
    assert independent.p_value > 0.05
    assert independent.null_mean > 0  # plug-in MI is biased upward under independence
