"""What a trained Gaussian bottleneck transmits, measured from its own noise.

A stochastic bottleneck maps each input x_i to p(t | x_i) = N(μ_i, diag σ_i²). With X uniform
over the n rows measured, T is a mixture of n Gaussians, and Kolchinsky & Tracey (2017) bound
the mixture's entropy with pairwise distances D between its components:

    I(X;T) = H(T) − H(T|X) ≤ −(1/n) Σ_i log (1/n) Σ_j exp(−KL(p_i ‖ p_j))        (upper)
    I(X;T)                 ≥ −(1/n) Σ_i log (1/n) Σ_j exp(−D_B(p_i, p_j))        (lower)

(D_B: Bhattacharyya distance). Both are exact limits: 0 when all components coincide, log n
when they are far apart. With one shared variance σ² the upper bound is the ``kde`` estimator
on the means (Saxe et al. 2018; Goldfeld et al. 2019 measure noisy networks the same way);
here every row may have its own diagonal variance, as a VIB encoder outputs. This measures the
*trained stochastic* T, not a deterministic proxy: no binning, no added noise of our choosing.

I(T;Y) = H(T) − Σ_y p(y) H(T|Y=y) uses the same pairwise estimate of each mixture entropy
(rows grouped by label): (1/n) Σ_i [log mean_{j: y_j = y_i} e^{−D_ij} − log mean_j e^{−D_ij}].
It is a difference of two bounds, not itself a bound (as for ``kde``).

Everything is in nats, float64, O(n² d) time in row blocks: the KL bound by matrix products
(fast), the Bhattacharyya bound by an (rows × n × d) sweep (several times slower).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..estimators.kernel import blocked_log_means
from ..units import check_units, convert

#: Pairwise distance entries (rows × columns × dims) held at once.
_BLOCK_ELEMENTS = 4_000_000
BOUNDS = ("upper", "lower")


def check_channel(mean, logvar) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, logvar)`` as float64 ``(n, d)`` arrays of one shape, finite; else InputError.
    A scalar or ``(d,)`` log-variance is a shared one, broadcast to every row."""
    mean = np.asarray(mean, dtype=np.float64)
    if mean.ndim == 1:
        mean = mean[:, None]
    if mean.ndim != 2 or len(mean) < 1:
        raise InputError(f"mean must be (n_samples, dims), got shape {mean.shape}")
    logvar = np.broadcast_to(np.asarray(logvar, dtype=np.float64), mean.shape).copy() \
        if np.ndim(logvar) < 2 else np.asarray(logvar, dtype=np.float64)
    if logvar.shape != mean.shape:
        raise InputError(f"logvar must match mean {mean.shape}, got {logvar.shape}")
    if not (np.isfinite(mean).all() and np.isfinite(logvar).all()):
        raise InputError("the bottleneck's mean and log-variance must be finite (is the "
                         "network diverging?)")
    return mean, logvar


def _kl_factors(mean, logvar):
    """Row factors of KL(N_i ‖ N_j) = ½ [u_i·w_jᵀ − 2 μ_i·v_jᵀ + c_j − e_i] (matrix products,
    BLAS), with w = e^{−lv}, v = μ e^{−lv}, u = e^{lv} + μ², c_j = Σ (μ_j² e^{−lv_j} + lv_j),
    e_i = Σ lv_i + d. The means are centred first (KL is translation invariant), which keeps
    the cancellation in the expansion small."""
    mean = mean - mean.mean(axis=0)
    w = np.exp(-logvar)
    v = mean * w
    u = np.exp(logvar) + mean ** 2
    c = (mean * v + logvar).sum(axis=1)
    e = logvar.sum(axis=1) + mean.shape[1]
    return mean, u, v, w, c, e


def _distances(mean, logvar, rows: slice, bound: str, factors=None) -> np.ndarray:
    """D(p_i, p_j) for the rows i in ``rows`` against every j: KL for the upper bound,
    Bhattacharyya for the lower one."""
    if bound == "upper":  # KL(N_i ‖ N_j), diagonal covariances
        m, u, v, w, c, e = factors
        kl = 0.5 * (u[rows] @ w.T - 2.0 * (m[rows] @ v.T) + c[None, :] - e[rows, None])
        return np.maximum(kl, 0.0)  # rounding may dip below 0; KL cannot
    # Bhattacharyya: (1/8) Δᵀ Σ⁻¹ Δ + ½ log(det Σ / √(det Σ_i det Σ_j)), Σ = (Σ_i + Σ_j)/2;
    # the average covariance does not factorise, so this one is an (rows, n, d) sweep
    mi, lvi = mean[rows, None, :], logvar[rows, None, :]
    mj, lvj = mean[None], logvar[None]
    avg = np.logaddexp(lvi, lvj) - math.log(2.0)
    terms = 0.25 * (mi - mj) ** 2 * np.exp(-avg) + avg - 0.5 * (lvi + lvj)
    return 0.5 * terms.sum(axis=2)


def pairwise_log_terms(mean, logvar, bound: str = "upper", groups=None):
    """Per row i, a_i = log (1/n) Σ_j e^{−D_ij} and, with integer ``groups``, the same mean
    over i's own group, b_i (see the module docstring)."""
    if bound not in BOUNDS:
        raise InputError(f"bound must be one of {BOUNDS}, got {bound!r}")
    mean, logvar = check_channel(mean, logvar)
    n, d = mean.shape
    if groups is not None:
        groups = np.asarray(groups).ravel()
        if len(groups) != n:
            raise InputError(f"groups need one label per row: {len(groups)} for {n} rows")
        groups = np.unique(groups, return_inverse=True)[1].ravel()
    factors = _kl_factors(mean, logvar) if bound == "upper" else None
    step = max(1, _BLOCK_ELEMENTS // (n * (1 if bound == "upper" else d)))
    return blocked_log_means(
        n, lambda start, stop: -_distances(mean, logvar, slice(start, stop), bound, factors),
        step, groups)


def channel_mi(mean, logvar, bound: str = "upper", units: str = "nats") -> float:
    """I(X;T) of the Gaussian channel x_i → N(mean_i, diag exp(logvar_i)), X uniform over the
    rows: the pairwise-distance upper (KL) or lower (Bhattacharyya) bound."""
    a, _ = pairwise_log_terms(mean, logvar, bound)
    return float(convert(max(0.0, -float(a.mean())), "nats", check_units(units)))


