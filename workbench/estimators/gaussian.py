"""Gaussian (parametric) estimators: exact for Gaussian data, a fast baseline otherwise.

``gaussian`` fits sample covariances: H = ½ log det(2πe Σ) and
I(X;Y) = ½ log(det Σ_X det Σ_Y / det Σ) = −½ Σ_i log(1 − ρ_i²), with ρ_i the canonical
correlations. ``gaussian_copula`` first maps every column through its ranks to a standard
normal (Ince et al. 2017), which makes the MI exact under any monotone transform of each
coordinate of a Gaussian.

Numerics: canonical correlations are the singular values of Q_Xᵀ Q_Y, with Q orthonormal bases
of the centred data from a thin SVD (no covariance matrix is ever inverted, so nearly collinear
columns stay accurate). Linearly dependent columns *within* one side are harmless (the side is
reduced to the subspace it spans, which carries the same information); a linear relation
*between* the sides makes the MI infinite and raises :class:`~workbench.errors.EstimationError`.
"""
from __future__ import annotations

import math

import numpy as np
import param
from scipy.special import digamma, ndtri
from scipy.stats import rankdata

from ..errors import EstimationError, InputError
from ..validation import drop_constant_columns, reject_constant_columns
from . import register
from .base import Estimator

#: Canonical correlations above this count as exact linear dependence (MI = ∞).
_RHO_MAX = 1.0 - 1e-12


def _basis(a: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Orthonormal basis (n × r) of the column span of an already centred ``a``; directions
    with singular value below float64 resolution relative to ``scale`` (default: the largest
    singular value) are rank deficiency, not signal."""
    if a.shape[1] == 0:
        return a
    u, s, _ = np.linalg.svd(a, full_matrices=False)
    ref = s[0] if scale is None else scale
    tol = max(a.shape) * np.finfo(np.float64).eps * ref
    return u[:, s > tol]


def _centred(a: np.ndarray) -> np.ndarray:
    return a - a.mean(axis=0)


def logdet_bias(d: int, n: int) -> float:
    """E[log det S] − log det Σ for the unbiased sample covariance S of n Gaussian samples in d
    dimensions: Σ_{i=1..d} ψ((n−i)/2) + d·log(2/(n−1)) (the Wishart log-determinant mean)."""
    return float(np.sum(digamma((n - np.arange(1, d + 1)) / 2.0)) + d * math.log(2.0 / (n - 1)))


def _mi_from_bases(qx: np.ndarray, qy: np.ndarray, dof: int, bias_correct: bool = False) -> float:
    if qx.shape[1] == 0 or qy.shape[1] == 0:
        return 0.0
    if dof <= qx.shape[1] + qy.shape[1]:
        raise InputError(
            f"the Gaussian estimate needs more samples than dimensions: {dof} degree(s) of "
            f"freedom for {qx.shape[1]} + {qy.shape[1]} independent directions (every canonical "
            "correlation would be 1); add samples or reduce the dimension")
    rho = np.clip(np.linalg.svd(qx.T @ qy, compute_uv=False), 0.0, 1.0)
    if rho.max() > _RHO_MAX:
        raise EstimationError(
            "x and y are linearly dependent (a canonical correlation is 1, e.g. a column "
            "appears in both): the Gaussian MI is infinite. Remove the shared column(s)")
    mi = float(-0.5 * np.sum(np.log1p(-rho) + np.log1p(rho)))
    if bias_correct:
        # MI = ½(log det S_X + log det S_Y − log det S); subtract each term's expected bias
        dx, dy, n = qx.shape[1], qy.shape[1], dof + 1
        mi -= 0.5 * (logdet_bias(dx, n) + logdet_bias(dy, n) - logdet_bias(dx + dy, n))
    return mi


def gaussian_mi_nats(x: np.ndarray, y: np.ndarray, bias_correct: bool = False) -> float:
    """−½ Σ log(1 − ρ_i²) over the sample canonical correlations of ``x`` and ``y``; with
    ``bias_correct`` the expected finite-sample bias of each log-determinant is removed."""
    x, y = drop_constant_columns(x), drop_constant_columns(y)
    return _mi_from_bases(_basis(_centred(x)), _basis(_centred(y)), len(x) - 1, bias_correct)


def gaussian_cmi_nats(x: np.ndarray, y: np.ndarray, z: np.ndarray,
                      bias_correct: bool = False) -> float:
    """Gaussian I(X;Y|Z): the MI of the least-squares residuals of X and Y on Z (partial
    canonical correlations), = ½ log(det Σ_XZ det Σ_YZ / (det Σ_Z det Σ_XYZ)).

    With ``bias_correct`` the expected bias b(d, n) (:func:`logdet_bias`) of each of the four
    log-determinants is removed: ½[b(dx+dz) + b(dy+dz) − b(dz) − b(dx+dy+dz)] at n samples.
    Since b(dz+d, n) − b(dz, n) = Σ_{j=1..d} ψ((n−dz−j)/2) + d log(2/(n−1)) and the log terms
    cancel between the four determinants, this equals the residual MI's own correction with
    n − dz samples (dof n − 1 − dz), which is what is applied."""
    x, y, z = (drop_constant_columns(a) for a in (x, y, z))
    qz = _basis(_centred(z))

    def residual_basis(a):
        a = _centred(a)
        scale = float(np.linalg.norm(a, 2)) if a.size else 0.0
        return _basis(a - qz @ (qz.T @ a), scale)

    return _mi_from_bases(residual_basis(x), residual_basis(y), len(x) - 1 - qz.shape[1],
                          bias_correct)


def gaussian_entropy_nats(x: np.ndarray) -> float:
    """½ log det(2πe Σ) with the unbiased sample covariance Σ (no further bias correction)."""
    n, d = x.shape
    s = np.linalg.svd(_centred(x), compute_uv=False)
    if n - 1 < d or s[-1] <= max(n, d) * np.finfo(np.float64).eps * s[0]:
        raise EstimationError(
            "the sample covariance of x is singular (linearly dependent columns, or fewer "
            f"samples than dimensions: n={n}, d={d}); a degenerate Gaussian has differential "
            "entropy -inf. Drop redundant columns or add samples")
    logdet = 2.0 * float(np.sum(np.log(s))) - d * math.log(n - 1)
    return 0.5 * d * math.log(2 * math.pi * math.e) + 0.5 * logdet


def copula_normalize(a: np.ndarray) -> np.ndarray:
    """Each column through its ranks to a standard normal: ndtri(rank / (n + 1)); ties get
    their average rank."""
    if a.shape[1] == 0:
        return a
    return ndtri(rankdata(a, axis=0) / (len(a) + 1.0))


class _GaussianBase(Estimator):
    family = "gaussian"

    bias_correct = param.Boolean(default=False, doc=(
        "Remove the expected finite-sample bias of the sample log-determinants from the MI "
        "and CMI (Wishart mean: Σ ψ((n−i)/2) + d log(2/(n−1)) per determinant). Matters when "
        "the dimension is a sizeable fraction of n."))

    def min_samples(self) -> int:
        return 3


@register
class Gaussian(_GaussianBase):
    """Gaussian estimates from sample covariances: H = ½ log det(2πe Σ),
    I(X;Y) = ½ log(det Σ_X det Σ_Y / det Σ) via canonical correlations, and
    I(X;Y|Z) = ½ log(det Σ_XZ det Σ_YZ / (det Σ_Z det Σ_XYZ)) via partial canonical
    correlations. Exact (up to sampling error) for jointly Gaussian data; for other data it
    is a baseline that only sees linear dependence.
    """

    method_name = "gaussian"
    summary = "Gaussian (covariance) entropy, MI and CMI; exact for Gaussian data."
    references = ("Cover & Thomas (2006), Elements of Information Theory, ch. 8; "
                  "Kraskov et al. (2004) for canonical correlations as MI.")

    def _entropy(self, x):
        reject_constant_columns(x)  # already validated: only the constant columns to check
        return gaussian_entropy_nats(x)

    def _mutual_info(self, x, y):
        return gaussian_mi_nats(x, y, self.bias_correct)

    def _conditional_mutual_info(self, x, y, z):
        return gaussian_cmi_nats(x, y, z, self.bias_correct)


@register
class GaussianCopula(_GaussianBase):
    """Gaussian-copula MI (Ince et al. 2017): every column is rank-transformed to a standard
    normal, then the Gaussian formulas apply. Up to sampling error it is a lower bound on the
    true MI (the Gaussian copula has the least MI for given normal-score correlations) and
    exact for any monotone transform of each coordinate of a Gaussian; robust and fast in high
    dimension. ``bias_correct`` removes the Gaussian finite-sample bias (off by default).
    Entropy is not offered: the transform discards the marginals, so it would not estimate H(X).
    """

    method_name = "gaussian_copula"
    summary = "Gaussian-copula MI/CMI (rank-normalised columns); invariant to monotone maps."
    references = ("Ince et al. (2017), A statistical framework for neuroimaging data analysis "
                  "based on mutual information estimated via a Gaussian copula, Hum. Brain "
                  "Mapp. 38:1541-1573.")

    # a constant column stays constant under copula_normalize (tied ranks -> ndtri(½) = 0),
    # so gaussian_mi_nats / gaussian_cmi_nats drop it after the transform
    def _mutual_info(self, x, y):
        return gaussian_mi_nats(copula_normalize(x), copula_normalize(y), self.bias_correct)

    def _conditional_mutual_info(self, x, y, z):
        return gaussian_cmi_nats(copula_normalize(x), copula_normalize(y),
                                 copula_normalize(z), self.bias_correct)
