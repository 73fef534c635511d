"""Multivariate Student-t tasks.

(X, Y) = Z / sqrt(W/ν) with Z ~ N(0, Σ) and W ~ χ²_ν independent: a multivariate t with scale
(dispersion) matrix Σ and ν degrees of freedom. Its MI (Arellano-Valle, Contreras-Reyes &
Genton 2013; used by Czyż et al. 2023) is

    I(X;Y) = I_Gauss(Σ) + f(ν) + f(ν + m + n) − f(ν + m) − f(ν + n),
    f(x) = log Γ(x/2) − (x/2) ψ(x/2),

with m = dim X, n = dim Y and I_Gauss(Σ) = ½ log(det Σ_X det Σ_Y / det Σ). The second part is
positive: X and Y are dependent even when Σ is the identity (they share the scale W).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import digamma, gammaln

from ...errors import InputError
from .base import Task
from .gaussian import check_covariance, gaussian_mi


def _f(x: float) -> float:
    return float(gammaln(x / 2.0) - (x / 2.0) * digamma(x / 2.0))


def student_t_correction(df: float, dim_x: int, dim_y: int) -> float:
    """The non-Gaussian part f(ν) + f(ν+m+n) − f(ν+m) − f(ν+n) of the Student-t MI (nats)."""
    return _f(df) + _f(df + dim_x + dim_y) - _f(df + dim_x) - _f(df + dim_y)


def _t_logpdf(z: np.ndarray, scale: np.ndarray, df: float) -> np.ndarray:
    """Log-density of a zero-centred multivariate t (rows of ``z``)."""
    d = scale.shape[0]
    chol = np.linalg.cholesky(scale)
    maha = (np.linalg.solve(chol, z.T) ** 2).sum(axis=0)
    return (gammaln((df + d) / 2) - gammaln(df / 2) - 0.5 * d * np.log(df * np.pi)
            - np.log(np.diag(chol)).sum() - 0.5 * (df + d) * np.log1p(maha / df))


@dataclass(frozen=True, eq=False, kw_only=True)
class StudentTask(Task):
    """Multivariate Student-t with scale matrix ``scale`` and ``df`` degrees of freedom."""

    scale: np.ndarray = field(repr=False)
    df: float = 1.0

    def _sample(self, n, rng):
        z = rng.standard_normal((n, self.scale.shape[0])) @ np.linalg.cholesky(self.scale).T
        w = rng.chisquare(self.df, size=n)
        t = z / np.sqrt(w / self.df)[:, None]
        return t[:, :self.dim_x], t[:, self.dim_x:]

    def pointwise_mi(self, x, y):
        x, y = np.asarray(x), np.asarray(y)
        k = self.dim_x
        return (_t_logpdf(np.column_stack([x, y]), self.scale, self.df)
                - _t_logpdf(x, self.scale[:k, :k], self.df)
                - _t_logpdf(y, self.scale[k:, k:], self.df))


def student_t(dim_x: int, dim_y: int, df: float, scale=None,
              name: str | None = None) -> StudentTask:
    """Multivariate t task; ``scale`` defaults to the identity (all dependence then comes from
    the shared heavy tail, as in the "Student-t" tasks of Czyż et al. 2023)."""
    if not df > 0:
        raise InputError(f"degrees of freedom must be positive, got {df}")
    d = dim_x + dim_y
    scale = check_covariance(np.eye(d) if scale is None else scale, dim_x)
    if scale.shape[0] != d:
        raise InputError(f"scale must be {d} x {d}, got {scale.shape}")
    mi = gaussian_mi(scale, dim_x) + student_t_correction(df, dim_x, dim_y)
    return StudentTask(name=name or f"student-t-dof{df:g}-{dim_x}-{dim_y}", dim_x=dim_x,
                       dim_y=dim_y, mutual_info=mi, scale=scale, df=float(df),
                       description=f"multivariate Student-t {dim_x} x {dim_y}, {df:g} dof",
                       params={"df": df, "scale": scale.tolist()})
