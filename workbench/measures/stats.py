"""Uncertainty for any estimator: bootstrap confidence intervals and permutation tests.

Both take the same ``method``/``units``/knobs as the front door and return small frozen
result objects; neither changes what the estimators themselves return.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import api
from ..errors import WorkbenchError
from ..estimators.base import QUANTITY_SYMBOLS
from ..units import DEFAULT_UNITS
from ..validation import as_samples, check_same_length, check_seed


@dataclass(frozen=True)
class BootstrapResult:
    """A point estimate with a ``confidence`` interval ``[low, high]``.

    ``excludes_estimate`` is True when the interval does not contain the estimate itself: the
    resampling bias is larger than the spread (e.g. the plug-in entropy of mostly distinct
    samples, where a resample with replacement repeats rows and loses entropy), so the
    interval is not a confidence interval for the quantity; ``__str__`` says so and
    :func:`bootstrap_ci` warns.
    """

    estimate: float
    low: float
    high: float
    confidence: float
    units: str
    method: str
    quantity: str
    n_resamples: int
    scheme: str
    resample_seed: int | None
    replicates: np.ndarray = field(repr=False, compare=False)
    excludes_estimate: bool = False

    def __str__(self) -> str:
        pct = round(100 * self.confidence)
        text = (f"{self.quantity} = {self.estimate:.4g} {self.units} "
                f"[{pct}% CI {self.low:.4g} .. {self.high:.4g}; {self.method}, {self.scheme}]")
        if self.excludes_estimate:
            text += (" UNRELIABLE: the interval excludes the estimate (resampling bias "
                     f"{float(np.mean(self.replicates)) - self.estimate:+.3g} {self.units} "
                     "exceeds the spread)")
        return text


@dataclass(frozen=True)
class PermutationResult:
    """An estimate with its permutation p-value under H0: X and Y independent."""

    estimate: float
    p_value: float
    null_mean: float
    null_std: float
    n_permutations: int
    units: str
    method: str
    resample_seed: int | None
    null: np.ndarray = field(repr=False, compare=False)

    def __str__(self) -> str:
        return (f"I(X;Y) = {self.estimate:.4g} {self.units}, p = {self.p_value:.3g} "
                f"({self.n_permutations} permutations; null {self.null_mean:.3g} ± "
                f"{self.null_std:.3g}; {self.method})")


def _seed_label(seed):
    return None if isinstance(seed, np.random.Generator) else seed


def _quantity_and_data(x, y, z):
    data = [a for a in (x, y, z) if a is not None]
    arrays = [as_samples(a, n, dtype=None) for a, n in zip(data, "xyz")]
    if len(arrays) > 1:
        check_same_length(**dict(zip("xyz", arrays)))
    quantity = {1: "entropy", 2: "mutual_info", 3: "conditional_mutual_info"}[len(arrays)]
    return quantity, arrays


def _call(quantity: str, est, arrays, units):
    return float(getattr(est, quantity)(*arrays, units=units))


def bootstrap_ci(x: Any, y: Any = None, z: Any = None, *, method: str = "auto",
                 units: str = DEFAULT_UNITS, n_resamples: int = 200, confidence: float = 0.95,
                 scheme: str = "auto", resample_seed: int | None = 0,
                 **knobs: Any) -> BootstrapResult:
    """Confidence interval for H(X) (only ``x``), I(X;Y) (``x, y``) or I(X;Y|Z) (``x, y, z``).

    ``scheme="bootstrap"``: resample rows with replacement, percentile interval (Efron 1979).
    ``scheme="subsample"``: rows drawn without replacement at ``m = n // 2``; the interval is
    ``[θ̂ − √(m/n)·q_hi, θ̂ − √(m/n)·q_lo]`` with ``q`` the quantiles of ``θ̂*_m − θ̂``
    (Politis & Romano 1994). Repeated rows bias kNN and kernel estimators (a duplicate is a
    neighbour at distance 0), so ``"auto"`` subsamples for those and bootstraps otherwise.
    ``resample_seed`` seeds the resampling; a ``seed`` keyword is the estimator's own knob.
    An interval that excludes the estimate itself (resampling bias larger than the spread) is
    flagged (``excludes_estimate``, in ``str(result)``) and warned about.
    """
    if not 0 < confidence < 1:
        raise WorkbenchError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 10:
        raise WorkbenchError(f"n_resamples must be at least 10, got {n_resamples}")
    quantity, arrays = _quantity_and_data(x, y, z)
    est = api._resolve(method, quantity, knobs, *arrays)
    if scheme == "auto":
        scheme = "subsample" if est.duplicate_sensitive else "bootstrap"
    if scheme not in ("bootstrap", "subsample"):
        raise WorkbenchError(f"scheme must be 'auto', 'bootstrap' or 'subsample', got {scheme!r}")
    point = _call(quantity, est, arrays, units)
    rng = check_seed(resample_seed)
    n = len(arrays[0])
    m = n if scheme == "bootstrap" else max(est.min_samples(), n // 2)
    reps = np.empty(n_resamples)
    for b in range(n_resamples):
        idx = rng.integers(0, n, n) if scheme == "bootstrap" else rng.choice(n, m, replace=False)
        reps[b] = _call(quantity, est, [a[idx] for a in arrays], units)
    alpha = (1 - confidence) / 2
    if scheme == "bootstrap":
        low, high = np.quantile(reps, [alpha, 1 - alpha])
    else:
        q_lo, q_hi = np.quantile(reps - point, [alpha, 1 - alpha])
        scale = math.sqrt(m / n)
        low, high = point - scale * q_hi, point - scale * q_lo
    excludes = not low <= point <= high
    if excludes:
        warnings.warn(
            f"bootstrap_ci: the {round(100 * confidence)}% interval [{low:.4g}, {high:.4g}] "
            f"excludes the estimate {point:.4g} {units}: the replicates are biased (mean "
            f"{float(np.mean(reps)):.4g}) by more than their spread, typically an estimator "
            "that is sensitive to repeated rows or to the sample size (e.g. a plug-in entropy "
            "of mostly distinct values). The interval is not a valid confidence interval "
            "here, and the estimate itself is likely biased too: collect more samples or use "
            "a less biased estimator", stacklevel=2)
    return BootstrapResult(point, float(low), float(high), confidence, units, est.label(),
                           QUANTITY_SYMBOLS[quantity], n_resamples, scheme,
                           _seed_label(resample_seed), reps, bool(excludes))


def permutation_test(x: Any, y: Any, *, method: str = "auto", units: str = DEFAULT_UNITS,
                     n_permutations: int = 200, resample_seed: int | None = 0,
                     **knobs: Any) -> PermutationResult:
    """Test H0 "X and Y are independent" by shuffling the rows of ``y``.

    p = (1 + #{null ≥ observed}) / (1 + n_permutations) (Phipson & Smyth 2010), so p is
    never 0 and the test is exact at level p for any estimator. ``resample_seed`` seeds the
    shuffles; a ``seed`` keyword is the estimator's own knob.
    """
    if n_permutations < 10:
        raise WorkbenchError(f"n_permutations must be at least 10, got {n_permutations}")
    _, (xa, ya) = _quantity_and_data(x, y, None)
    est = api._resolve(method, "mutual_info", knobs, xa, ya)
    observed = float(est.mutual_info(xa, ya, units=units))
    rng = check_seed(resample_seed)
    null = np.array([float(est.mutual_info(xa, ya[rng.permutation(len(ya))], units=units))
                     for _ in range(n_permutations)])
    p = (1 + np.count_nonzero(null >= observed)) / (1 + n_permutations)
    return PermutationResult(observed, float(p), float(null.mean()), float(null.std()),
                             n_permutations, units, est.label(),
                             _seed_label(resample_seed), null)
