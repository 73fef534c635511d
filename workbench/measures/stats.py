"""Uncertainty for any estimator: bootstrap confidence intervals, permutation tests, and
surrogate tests for time series.

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


@dataclass(frozen=True, kw_only=True)
class NullTestResult:
    """An estimate, its p-value against a resampled null distribution, and that null."""

    estimate: float
    p_value: float
    null_mean: float
    null_std: float
    units: str
    method: str
    resample_seed: int | None
    null: np.ndarray = field(repr=False, compare=False)

    def _describe(self, quantity: str, count: int, what: str) -> str:
        return (f"{quantity} = {self.estimate:.4g} {self.units}, p = {self.p_value:.3g} "
                f"({count} {what}; null {self.null_mean:.3g} ± {self.null_std:.3g}; "
                f"{self.method})")


def _null_fields(observed: float, null: np.ndarray) -> dict:
    """p = (1 + #{null ≥ observed}) / (1 + len(null)) (Phipson & Smyth 2010) and the null's
    mean and standard deviation."""
    p = (1 + np.count_nonzero(null >= observed)) / (1 + len(null))
    return {"estimate": float(observed), "p_value": float(p), "null_mean": float(null.mean()),
            "null_std": float(null.std()), "null": null}


@dataclass(frozen=True, kw_only=True)
class PermutationResult(NullTestResult):
    """An estimate with its permutation p-value under H0: X and Y independent."""

    n_permutations: int

    def __str__(self) -> str:
        return self._describe("I(X;Y)", self.n_permutations, "permutations")


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


@dataclass(frozen=True)
class Resampled:
    """Replicates of a (scalar or vector) statistic and the interval they give."""

    replicates: np.ndarray
    bounds: tuple


def resample(statistic, arrays, point, *, n_resamples: int = 200, confidence: float = 0.95,
             scheme: str = "bootstrap", seed: Any = 0, min_samples: int = 2) -> Resampled:
    """Percentile bootstrap or subsampling interval of ``statistic(*arrays)`` (rows resampled
    together); ``point`` is its value on all rows (a float or a 1-D array).

    ``scheme="bootstrap"``: rows with replacement, percentile interval (Efron 1979).
    ``scheme="subsample"``: m = n // 2 rows without replacement, interval
    ``[θ̂ − √(m/n)·q_hi, θ̂ − √(m/n)·q_lo]`` with q the quantiles of θ̂*_m − θ̂
    (Politis & Romano 1994). One call of ``statistic`` per replicate: the estimators inside
    are vectorised over samples.
    """
    if not 0 < confidence < 1:
        raise WorkbenchError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 10:
        raise WorkbenchError(f"n_resamples must be at least 10, got {n_resamples}")
    if scheme not in ("bootstrap", "subsample"):
        raise WorkbenchError(f"scheme must be 'auto', 'bootstrap' or 'subsample', got {scheme!r}")
    rng = check_seed(seed)
    n = len(arrays[0])
    m = n if scheme == "bootstrap" else max(min_samples, n // 2)
    point = np.asarray(point, dtype=np.float64)
    reps = np.empty((n_resamples,) + point.shape)
    for b in range(n_resamples):
        idx = rng.integers(0, n, n) if scheme == "bootstrap" else rng.choice(n, m, replace=False)
        reps[b] = statistic(*[a[idx] for a in arrays])
    alpha = (1 - confidence) / 2
    if scheme == "bootstrap":
        low, high = np.quantile(reps, [alpha, 1 - alpha], axis=0)
    else:
        q_lo, q_hi = np.quantile(reps - point, [alpha, 1 - alpha], axis=0)
        scale = math.sqrt(m / n)
        low, high = point - scale * q_hi, point - scale * q_lo
    return Resampled(reps, (low, high))


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
    quantity, arrays = _quantity_and_data(x, y, z)
    est = api._resolve(method, quantity, knobs, *arrays)
    if scheme == "auto":
        scheme = "subsample" if est.duplicate_sensitive else "bootstrap"
    point = _call(quantity, est, arrays, units)
    res = resample(lambda *a: _call(quantity, est, a, units), arrays, point,
                   n_resamples=n_resamples, confidence=confidence, scheme=scheme,
                   seed=resample_seed, min_samples=est.min_samples())
    low, high = res.bounds
    reps = res.replicates
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
    return PermutationResult(**_null_fields(observed, null), n_permutations=n_permutations,
                             units=units, method=est.label(),
                             resample_seed=_seed_label(resample_seed))


@dataclass(frozen=True, kw_only=True)
class SurrogateResult(NullTestResult):
    """An estimate with its surrogate p-value (H0: the tested series carries no information
    at the tested timing)."""

    n_surrogates: int
    kind: str
    quantity: str = ""

    def __str__(self) -> str:
        return self._describe(self.quantity, self.n_surrogates, f"{self.kind} surrogates")


SURROGATES = ("shift", "block")


def surrogate_series(series: np.ndarray, n_surrogates: int, kind: str = "shift",
                     block: int | None = None, seed: Any = 0) -> np.ndarray:
    """``n_surrogates`` surrogates of a series (rows are time steps; 1-D or 2-D), shape
    ``(n_surrogates, *series.shape)``; each keeps the series' own dynamics.

    * ``"shift"``: circular time shift by an offset drawn uniformly from
      ``[block, n − block]`` (default ``block = max(1, n // 10)``; Quian Quiroga et al. 2002);
    * ``"block"``: cut into blocks of ``block`` steps (default ``max(1, round(√n))``) and
      permute the blocks (the dependence inside a block is kept; the last n mod block steps
      stay in place).

    Built as one fancy-index of the series, no loop over time steps.
    """
    if kind not in SURROGATES:
        raise WorkbenchError(f"surrogate kind must be one of {', '.join(SURROGATES)}, "
                             f"got {kind!r}")
    series = np.asarray(series)
    n = len(series)
    rng = check_seed(seed)
    if kind == "shift":
        block = max(1, n // 10) if block is None else int(block)
        if not 1 <= block <= n // 2:
            raise WorkbenchError(f"block (the smallest shift) must be in 1..{n // 2}, got {block}")
        shifts = rng.integers(block, n - block + 1, n_surrogates)
        idx = (np.arange(n)[None, :] + shifts[:, None]) % n
    else:
        block = max(1, round(math.sqrt(n))) if block is None else int(block)
        if not 1 <= block <= n // 2:
            raise WorkbenchError(f"block must be in 1..{n // 2}, got {block}")
        n_blocks = n // block
        order = np.argsort(rng.random((n_surrogates, n_blocks)), axis=1)
        moved = (order[:, :, None] * block + np.arange(block)).reshape(n_surrogates, -1)
        tail = np.broadcast_to(np.arange(n_blocks * block, n), (n_surrogates, n % block))
        idx = np.hstack([moved, tail])  # the n mod block last steps stay in place
    return series[idx]


def surrogate_test(statistic, series: Any, *, observed: float | None = None,
                   n_surrogates: int = 100, kind: str = "shift", block: int | None = None,
                   seed: Any = 0, units: str = DEFAULT_UNITS, method: str = "",
                   quantity: str = "") -> SurrogateResult:
    """p-value of ``statistic(series)`` against ``statistic`` of surrogates of ``series``
    (:func:`surrogate_series`): p = (1 + #{null ≥ observed}) / (1 + n_surrogates)
    (Phipson & Smyth 2010), never 0."""
    if n_surrogates < 10:
        raise WorkbenchError(f"n_surrogates must be at least 10, got {n_surrogates}")
    series = np.asarray(series)
    observed = float(statistic(series)) if observed is None else float(observed)
    null = np.array([float(statistic(s)) for s in
                     surrogate_series(series, n_surrogates, kind, block, seed)])
    return SurrogateResult(**_null_fields(observed, null), n_surrogates=n_surrogates,
                           kind=kind, units=units, method=method, quantity=quantity,
                           resample_seed=_seed_label(seed))
