"""Multivariate Gaussian tasks.

For (X, Y) ~ N(0, Σ) with blocks Σ_X (dim_x × dim_x), Σ_Y and Σ_XY,

    I(X;Y) = ½ log(det Σ_X · det Σ_Y / det Σ)  = −½ Σ_i log(1 − ρ_i²)

over the canonical correlations ρ_i (Cover & Thomas, ch. 8). The dense and sparse constructors
follow the multinormal tasks of Czyż et al. (2023), "Beyond normal".
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...errors import InputError
from ...units import DEFAULT_UNITS, to_nats
from .base import Task


def check_covariance(cov, dim_x: int) -> np.ndarray:
    """``cov`` as a float array after checking it is a symmetric positive-definite matrix with
    more than ``dim_x`` rows."""
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise InputError(f"covariance must be a square matrix, got shape {cov.shape}")
    if not 1 <= dim_x < cov.shape[0]:
        raise InputError(f"dim_x must be in 1..{cov.shape[0] - 1} for a {cov.shape[0]}-dim "
                         f"covariance, got {dim_x}")
    if not np.allclose(cov, cov.T, atol=1e-12):
        raise InputError("covariance must be symmetric")
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise InputError("covariance must be positive definite (e.g. correlations too close "
                         "to ±1 or inconsistent)") from None
    return cov


def gaussian_mi(cov, dim_x: int) -> float:
    """Exact I(X;Y) in nats of a Gaussian with covariance (or Student-t scale) ``cov``, X being
    the first ``dim_x`` coordinates."""
    cov = np.asarray(cov, dtype=np.float64)
    logdet = lambda m: np.linalg.slogdet(m)[1]  # noqa: E731
    return float(0.5 * (logdet(cov[:dim_x, :dim_x]) + logdet(cov[dim_x:, dim_x:])
                        - logdet(cov)))


def gaussian_pointwise_mi(cov, dim_x: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log N(x,y; Σ) − log N(x; Σ_X) − log N(y; Σ_Y), row by row (zero-mean Gaussian)."""
    def quad_logdet(m, a):
        chol = np.linalg.cholesky(m)
        sol = np.linalg.solve(chol, a.T)
        return -0.5 * (sol * sol).sum(axis=0) - np.log(np.diag(chol)).sum()

    xy = np.column_stack([x, y])
    # the (2π)^{-d/2} factors cancel: d = dim_x + dim_y on both sides
    return (quad_logdet(cov, xy) - quad_logdet(cov[:dim_x, :dim_x], x)
            - quad_logdet(cov[dim_x:, dim_x:], y))


@dataclass(frozen=True, eq=False, kw_only=True)
class GaussianTask(Task):
    """(X, Y) ~ N(0, ``cov``); X is the first ``dim_x`` coordinates."""

    cov: np.ndarray = field(repr=False)

    def _sample(self, n, rng):
        z = rng.standard_normal((n, self.cov.shape[0])) @ np.linalg.cholesky(self.cov).T
        return z[:, :self.dim_x], z[:, self.dim_x:]

    def pointwise_mi(self, x, y):
        return gaussian_pointwise_mi(self.cov, self.dim_x, np.asarray(x), np.asarray(y))


def gaussian(cov, dim_x: int, name: str | None = None, description: str = "") -> GaussianTask:
    """A Gaussian task from any positive-definite covariance; X is the first ``dim_x``
    coordinates."""
    cov = check_covariance(cov, dim_x)
    d = cov.shape[0]
    return GaussianTask(name=name or f"multinormal-{dim_x}-{d - dim_x}", dim_x=dim_x,
                        dim_y=d - dim_x, mutual_info=gaussian_mi(cov, dim_x), cov=cov,
                        description=description or f"Gaussian {dim_x} x {d - dim_x}",
                        params={"cov": cov.tolist()})


def _check_corr(rho: float, what: str = "correlation") -> float:
    if not -1.0 < rho < 1.0:
        raise InputError(f"{what} must be strictly between -1 and 1, got {rho}")
    return float(rho)


def bivariate(rho: float = 0.75) -> GaussianTask:
    """1 × 1 standard bivariate normal with correlation ``rho``: I = −½ log(1 − ρ²)."""
    rho = _check_corr(rho)
    return gaussian([[1.0, rho], [rho, 1.0]], 1, name=f"1v1-normal-{rho:g}",
                    description=f"bivariate normal, correlation {rho:g}")


def dense(dim_x: int, dim_y: int, off_diag: float = 0.5) -> GaussianTask:
    """Unit variances and every off-diagonal correlation (within and across X, Y) equal to
    ``off_diag`` (Czyż et al. 2023 use 0.5)."""
    d = dim_x + dim_y
    cov = np.full((d, d), _check_corr(off_diag, "off_diag"))
    np.fill_diagonal(cov, 1.0)
    return gaussian(cov, dim_x, name=f"multinormal-dense-{dim_x}-{dim_y}",
                    description=f"Gaussian {dim_x} x {dim_y}, all correlations {off_diag:g}")


def sparse(dim_x: int, dim_y: int, n_pairs: int = 2, rho: float = 0.8) -> GaussianTask:
    """Independent standard coordinates except ``n_pairs`` pairs (X_i, Y_i) with correlation
    ``rho`` (the "2-pair" tasks of Czyż et al. 2023): I = −(n_pairs/2) log(1 − ρ²)."""
    if not 1 <= n_pairs <= min(dim_x, dim_y):
        raise InputError(f"n_pairs must be in 1..{min(dim_x, dim_y)}, got {n_pairs}")
    cov = np.eye(dim_x + dim_y)
    idx = np.arange(n_pairs)
    cov[idx, dim_x + idx] = cov[dim_x + idx, idx] = _check_corr(rho)
    return gaussian(cov, dim_x, name=f"multinormal-sparse-{dim_x}-{dim_y}",
                    description=f"Gaussian {dim_x} x {dim_y}, {n_pairs} pair(s) with "
                                f"correlation {rho:g}, the rest independent")


def rho_for_mi(mi: float, n_pairs: int = 1, units: str = DEFAULT_UNITS) -> float:
    """The correlation that gives ``n_pairs`` independent correlated pairs a total MI of ``mi``:
    ρ = sqrt(1 − exp(−2 I / n_pairs))."""
    mi_nats = to_nats(mi, units)
    if not (math.isfinite(mi_nats) and mi_nats > 0):
        raise InputError(f"target MI must be finite and positive, got {mi}")
    return math.sqrt(-math.expm1(-2.0 * mi_nats / n_pairs))


def from_mi(mi: float, dim_x: int = 1, dim_y: int = 1, units: str = DEFAULT_UNITS,
            n_pairs: int | None = None) -> GaussianTask:
    """A sparse Gaussian task with exactly ``mi`` (in ``units``), spread evenly over ``n_pairs``
    correlated coordinate pairs (default: ``min(dim_x, dim_y)``)."""
    n_pairs = n_pairs or min(dim_x, dim_y)
    task = sparse(dim_x, dim_y, n_pairs=n_pairs, rho=rho_for_mi(mi, n_pairs, units))
    label = f"{mi:g}{'b' if units == 'bits' else 'n'}"
    return GaussianTask(name=f"multinormal-mi{label}-{dim_x}-{dim_y}", dim_x=dim_x,
                        dim_y=dim_y, mutual_info=task.mutual_info, cov=task.cov,
                        description=f"{task.description}; I = {mi:g} {units}",
                        params={"mi": mi, "units": units, "n_pairs": n_pairs})
