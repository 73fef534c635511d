"""Spectral measures of representations that are not entropy / MI estimators.

Plain functions on an ``(n_samples, n_features)`` array ``z`` (rows are samples), usable from
the information-plane tracker or a notebook without building an estimator:

* :func:`spectral_entropy` — Shannon (α = 1) or Rényi α-entropy of a normalised spectrum; the
  shared last step of the matrix-based Rényi, VNE and diffusion spectral entropies.
* :func:`effective_rank` — exp of the entropy of the normalised singular values
  (Roy & Vetterli 2007). Unitless.
* :func:`coding_rate` — R(Z, ε) = ½ log det(I + d/(n ε²) ZᵀZ) (Ma et al. 2007; Yu et al. 2020).
* :func:`mcr2_delta_r` — the MCR² rate reduction ΔR = R(Z) − Σ_c (n_c/n) R(Z_c) (Yu et al.
  2020, "Learning diverse and discriminative representations via the principle of maximal
  coding rate reduction").

Information quantities come back as :class:`~workbench.units.Estimate` in the requested units
(bits by default); the effective rank is a plain float.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import xlogy

from ..errors import InputError
from ..units import DEFAULT_UNITS, Estimate, check_units, from_nats
from ..validation import as_samples, check_same_length, pow2_exponents

#: ε² = 0.5 as in the MCR² and ReduNet experiments (Yu et al. 2020; Chan et al. 2022).
DEFAULT_EPS = math.sqrt(0.5)


def spectral_entropy(weights: Any, alpha: float = 1.0) -> float:
    """Entropy (nats) of the distribution ``p = w / Σ w`` of non-negative spectral weights.

    α = 1 gives Shannon's −Σ p log p (the von Neumann entropy of a density matrix); any other
    α > 0 gives Rényi's 1/(1−α) log Σ p^α. Weights below ``len(w)·eps·max(w)`` — the size of
    the rounding error of a symmetric eigensolver — count as exact zeros, so a rank-one matrix
    gives exactly 0 and tiny negative eigenvalues are harmless.
    """
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size == 0 or not np.isfinite(w).all():
        raise InputError("spectral_entropy needs a non-empty vector of finite weights")
    if alpha <= 0:
        raise InputError(f"alpha must be > 0, got {alpha}")
    top = w.max()
    if top <= 0:
        raise InputError("spectral_entropy: all weights are zero; there is no spectrum to "
                         "normalise (is the matrix all zeros?)")
    w = np.where(w > w.size * np.finfo(np.float64).eps * top, w, 0.0)
    p = w / w.sum()
    if alpha == 1.0:
        value = -xlogy(p, p).sum()
    else:
        value = np.log(np.sum(p[p > 0] ** alpha)) / (1.0 - alpha)
    # rounding can leave -1e-17 for a single non-zero weight; + 0.0 turns -0.0 into 0.0
    return float(max(value, 0.0)) + 0.0


def _as_z(z: Any, name: str = "z") -> np.ndarray:
    return as_samples(z, name, min_samples=1)


def effective_rank(z: Any, center: bool = False) -> float:
    """Effective rank exp(−Σ p_i log p_i), p_i = s_i / Σ s_j over the singular values s of ``z``.

    Roy & Vetterli (2007), "The effective rank: a measure of effective dimensionality". Lies in
    [1, min(n, d)]; a matrix with r equal non-zero singular values has effective rank r.
    ``center=True`` subtracts the column means first (the rank of the spread, not of the mean).
    Unitless; raises :class:`~workbench.errors.InputError` for an all-zero matrix.
    """
    a = _as_z(z)
    if center:
        a = a - a.mean(axis=0)
    s = np.linalg.svd(a, compute_uv=False)
    if s.max(initial=0.0) <= 0:
        raise InputError("effective_rank: the matrix is all zeros (after centring, if asked); "
                         "its effective rank is undefined")
    return float(math.exp(spectral_entropy(s)))


def _check_eps(eps: float) -> float:
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
        raise InputError(f"eps (the coding precision) must be a finite number > 0, got {eps!r}")
    return float(eps)


def _coding_rate_nats(a: np.ndarray, eps: float) -> float:
    n, d = a.shape
    scale = d / (n * eps * eps)
    # Sylvester: det(I_d + c ZᵀZ) = det(I_n + c ZZᵀ); factor the smaller Gram matrix.
    gram = a.T @ a if d <= n else a @ a.T
    gram = np.eye(gram.shape[0]) + scale * gram
    _, logdet = np.linalg.slogdet(gram)
    return 0.5 * float(logdet)


def coding_rate(z: Any, eps: float = DEFAULT_EPS, units: str = DEFAULT_UNITS) -> Estimate:
    """Coding rate R(Z, ε) = ½ log det(I + d/(n ε²) ZᵀZ) of the rows of ``z``.

    The number of nats (or bits) needed to code the n samples up to a mean squared distortion
    ε² (Ma, Derksen, Hong & Wright 2007; used by MCR², Yu et al. 2020). ``z`` is not centred.
    R(0) = 0; for ZᵀZ = c·I_d, R = (d/2) log(1 + d c / (n ε²)).
    Default ε = √0.5 (ε² = 0.5, as in the MCR² experiments).
    """
    check_units(units)
    eps = _check_eps(eps)
    a = _as_z(z)
    value = _coding_rate_nats(a, eps)
    return Estimate(from_nats(value, units), units, "coding_rate", "R(Z)", {"eps": eps})


def mcr2_delta_r(z: Any, labels: Any, eps: float = DEFAULT_EPS,
                 units: str = DEFAULT_UNITS) -> Estimate:
    """MCR² rate reduction ΔR = R(Z, ε) − Σ_c (n_c/n) R(Z_c, ε) (Yu et al. 2020).

    ``labels`` gives each row's class (any discrete values; each distinct row of a 2-D label
    array is one class). Each class is coded with its own size n_c in R. ΔR ≥ 0 always
    (log det is concave and ZᵀZ/n = Σ_c (n_c/n) Z_cᵀZ_c/n_c); it is large when the classes span
    different, mutually orthogonal subspaces and 0 when every class has the same second moment.
    """
    check_units(units)
    eps = _check_eps(eps)
    a = _as_z(z)
    lab = as_samples(labels, "labels", min_samples=1, dtype=None)
    check_same_length(z=a, labels=lab)
    _, codes = np.unique(lab, axis=0, return_inverse=True)
    codes = codes.ravel()
    n = a.shape[0]
    within = sum(np.count_nonzero(codes == c) / n * _coding_rate_nats(a[codes == c], eps)
                 for c in range(int(codes.max()) + 1))
    value = _coding_rate_nats(a, eps) - within
    return Estimate(from_nats(value, units), units, "mcr2", "ΔR(Z, Π)", {"eps": eps})


def vne_spectrum(z: Any) -> np.ndarray:
    """Eigenvalues (ascending, summing to 1) of C = ZᵀZ/n after L2-normalising each row of ``z``.

    The spectrum behind the von Neumann entropy of representations (Kim et al., CVPR 2023).
    All-zero rows have no direction and are left out; a matrix of only zero rows raises.
    """
    a = _as_z(z)
    a = np.ldexp(a, -pow2_exponents(a, axis=1)[:, None])  # exact, keeps directions: no overflow
    norms = np.linalg.norm(a, axis=1)
    keep = norms > 0
    if not keep.any():
        raise InputError("vne: every row of z is zero, so no row can be L2-normalised; the "
                         "von Neumann entropy of representations is undefined")
    u = a[keep] / norms[keep, None]
    n, d = u.shape
    # tr(C) = 1 after row normalisation; the n×n Gram has the same non-zero spectrum.
    c = (u.T @ u if d <= n else u @ u.T) / n
    lam = np.clip(np.linalg.eigvalsh(c), 0.0, None)
    return lam / lam.sum()


__all__ = ["spectral_entropy", "effective_rank", "coding_rate", "mcr2_delta_r", "vne_spectrum",
           "DEFAULT_EPS"]
