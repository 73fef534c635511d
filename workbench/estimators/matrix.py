"""Matrix-based (spectral) estimators: Rényi α-entropy of Gram matrices, VNE, Cauchy–Schwarz.

* ``matrix_renyi`` — Sánchez Giraldo, Rao & Príncipe (2015), "Measures of entropy from data
  using infinitely divisible kernels": A = K/tr(K) for a Gaussian Gram matrix K,
  S_α(A) = 1/(1−α) log Σ λ_i(A)^α (α → 1: von Neumann −Σ λ log λ), joint entropy from the
  Hadamard product A∘B / tr(A∘B), I_α = S_α(A) + S_α(B) − S_α(A∘B / tr).
* ``vne`` — von Neumann entropy of representations (Kim et al., CVPR 2023, "VNE: an effective
  method for improving deep representation by manipulating eigenvalue distribution").
* ``cauchy_schwarz`` — Cauchy–Schwarz quadratic MI from Gram matrices (Principe 2010,
  "Information theoretic learning", ch. 2; Yu et al. 2024, "Cauchy–Schwarz divergence
  information bottleneck for regression"), and :func:`cauchy_schwarz_divergence`.

These are *representation* measures: they are finite for any sample, depend on the kernel width
and are not estimates of Shannon's differential entropy. Values are in nats internally (the
papers use log₂; the base class converts to the requested units).

Gram matrices are built with BLAS (‖a‖² + ‖b‖² − 2abᵀ), never a Python loop. ``backend="torch"``
(or any ``device`` other than ``"cpu"``, e.g. ``"cuda"``) runs the Gram matrix and the symmetric
eigensolver in torch; numbers agree with the numpy path to float64 rounding.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import param
import scipy.linalg

from ..errors import EstimationError, InputError, KnobError
from ..measures.representation import spectral_entropy, vne_spectrum
from ..torch_utils import limit_threads, torch_device
from ..units import DEFAULT_UNITS, Estimate, check_units, from_nats
from ..validation import (
    as_samples,
    drop_constant_columns,
    pow2_exponents,
    pow2_scaled,
    scaled_width,
)
from . import register
from .base import EXECUTION_PRECEDENCE, SCALE_BOUNDS, Estimator, Subsampled, TorchBackend

SIGMA_RULES = ("median", "silverman")

_SIGMA_DOC = ("Gaussian kernel width σ in k(a, b) = exp(−‖a−b‖²/(2σ²)), in the data's units. "
              "None: chosen per variable by sigma_rule.")
_RULE_DOC = ("How σ is chosen when sigma is None. 'median' (default): σ = the median pairwise "
             "distance, scale- and dimension-aware; it keeps the entropies well below log n so "
             "the MI of independent variables stays near 0. 'silverman': σ = "
             "1.06·s·√d·n^(−1/(4+d)), s² the mean per-column variance (Silverman's "
             "normal-reference rule, times √d because distances between d-dimensional points "
             "grow like √d); narrower, it resolves more detail but in 3+ dimensions the joint "
             "entropy saturates at log n and the MI of independent variables is inflated. "
             "Constant columns are ignored.")


# ----- kernels ------------------------------------------------------------------------------
def pairwise_sq_dists(a, b=None):
    """Squared Euclidean distances between the rows of ``a`` and ``b`` (default ``a``).

    Works on numpy arrays and torch tensors alike (BLAS matrix product, negatives from rounding
    clipped to 0; with ``b`` None the diagonal is exactly 0). Centre the data first for best
    accuracy.
    """
    same = b is None
    b = a if b is None else b
    aa = (a * a).sum(1)[:, None]
    bb = (b * b).sum(1)[None, :]
    sq = (aa + bb - 2.0 * (a @ b.T)).clip(0)
    if same:  # a point's distance to itself is 0, not the expansion's rounding error
        if isinstance(sq, np.ndarray):
            np.fill_diagonal(sq, 0.0)
        else:
            sq.fill_diagonal_(0.0)
    return sq


def kernel_width(x: np.ndarray, rule: str = "median", sq=None) -> float:
    """Gaussian kernel width σ for the rows of ``x`` by ``rule`` (see ``sigma_rule``).

    ``sq`` may pass the squared pairwise distances if they are already computed (numpy array or
    torch tensor; ``x`` then in the same units). Returns 1.0 when every row is the same (then K
    is all ones whatever σ is).
    """
    if rule not in SIGMA_RULES:
        raise KnobError(f"sigma_rule must be one of {SIGMA_RULES}, got {rule!r}")
    x = drop_constant_columns(np.asarray(x, dtype=np.float64))
    n, d = x.shape
    if d == 0:
        return 1.0
    if sq is None:  # work on x / 2**e (exact) so that no finite scale overflows or underflows
        x, e = pow2_scaled(x)
        return float(np.ldexp(kernel_width(x, rule, pairwise_sq_dists(x - x.mean(axis=0))), e))
    if rule == "silverman":
        s = math.sqrt(float(np.mean(np.var(x, axis=0))))
        return 1.06 * s * math.sqrt(d) * n ** (-1.0 / (4 + d))
    if not isinstance(sq, np.ndarray):
        sq = sq.cpu().numpy()
    sq = sq[np.triu_indices(n, 1)]
    median = float(np.median(sq))
    # more than half of the pairs may coincide (repeated rows): use the distinct pairs then
    return math.sqrt(median if median > 0 else float(np.median(sq[sq > 0])))


class KernelKnobs(TorchBackend, Subsampled):
    """Knobs and plumbing shared by the Gram-matrix estimators (matrix, diffusion)."""

    sigma = param.Number(default=None, allow_None=True, bounds=SCALE_BOUNDS,
                         softbounds=(0.01, 10), label="Kernel width σ", doc=_SIGMA_DOC)
    sigma_rule = param.Selector(default="median", objects=list(SIGMA_RULES), label="σ rule",
                                doc=_RULE_DOC)
    max_samples = param.Integer(
        default=2000, allow_None=True,
        doc="Largest number of rows used; larger inputs are subsampled without replacement "
            "(seeded). The eigensolver costs O(n³): n = 2000 takes about half a second on "
            "a CPU. None: use every row.")
    threads = param.Integer(
        default=None, allow_None=True, bounds=(1, None), precedence=EXECUTION_PRECEDENCE,
        doc="Execution setting: CPU threads for BLAS/LAPACK and torch during the estimate "
            "(restored afterwards). None: the libraries' defaults, fastest on an idle multi-core "
            "machine; 1 is several times faster when other processes keep the cores busy.")

    def _width(self, x: np.ndarray, sq=None) -> float:
        if self.sigma is not None:
            return float(self.sigma)
        return kernel_width(x, self.sigma_rule, sq)

    def _gram(self, x: np.ndarray, sigma: float | None = None):
        """Gaussian Gram matrix of the rows of ``x`` (numpy array or torch tensor). Distances
        and σ are taken in the units of x / 2**e (exact, :func:`pow2_scaled`), so any finite
        scale gives the same matrix."""
        x, e = pow2_scaled(x)
        sigma = self.sigma if sigma is None else sigma
        xc = x - x.mean(axis=0)
        if self._use_torch():
            import torch

            xc = torch.as_tensor(xc, dtype=torch.float64, device=torch_device(self.device))
        with limit_threads(self.threads):
            sq = pairwise_sq_dists(xc)
            sigma = (kernel_width(x, self.sigma_rule, sq) if sigma is None
                     else scaled_width(sigma, e))
            scaled = sq / (-2.0 * sigma * sigma)
            return scaled.exp() if self._use_torch() else np.exp(scaled, out=scaled)

    def _eigvalsh(self, m) -> np.ndarray:
        """Eigenvalues of a symmetric matrix as a float64 numpy array."""
        with limit_threads(self.threads):
            if isinstance(m, np.ndarray):
                # LAPACK divide and conquer (syevd), eigenvalues only, no finiteness check:
                # Gram entries are finite by construction and this is the O(n³) cost.
                return scipy.linalg.eigh(m, eigvals_only=True, driver="evd",
                                         check_finite=False, overwrite_a=True)
            import torch

            return torch.linalg.eigvalsh(m).cpu().numpy().astype(np.float64)


def _trace(m) -> float:
    return float(m.diagonal().sum())


# ----- matrix-based Rényi ---------------------------------------------------------------------
@register
class MatrixRenyi(KernelKnobs, Estimator):
    """Matrix-based Rényi α-entropy and MI of Gaussian Gram matrices.

    S_α(A) = 1/(1−α) log Σ_i λ_i(A)^α with A = K/tr(K), K_ij = exp(−‖x_i−x_j‖²/(2σ²));
    α = 1 is the von Neumann entropy −Σ λ log λ (computed exactly, not as a limit).
    I_α(X;Y) = S_α(A) + S_α(B) − S_α(A∘B / tr(A∘B)).
    0 ≤ S_α ≤ log n: 0 when all rows coincide (A has rank one), log n when the points are far
    apart relative to σ (A = I/n). Sánchez Giraldo, Rao & Príncipe (2015).
    """

    method_name = "matrix_renyi"
    family = "matrix"
    summary = ("Matrix-based Rényi α-entropy of a Gaussian Gram matrix (a representation "
               "measure, ≤ log n); MI via the Hadamard product.")
    references = ("Sánchez Giraldo, Rao & Príncipe (2015), Measures of entropy from data using "
                  "infinitely divisible kernels, IEEE Trans. Inf. Theory 61(1); Yu, "
                  "Sánchez Giraldo, "
                  "Jenssen & Príncipe (2020), Multivariate extension of matrix-based Rényi's "
                  "α-order entropy functional, IEEE TPAMI 42(11).")
    duplicate_sensitive = True

    alpha = param.Number(
        default=1.01, bounds=(0, 100), inclusive_bounds=(False, True), softbounds=(0.1, 5),
        step=0.01, label="Rényi order α",
        doc="Rényi order α in (0, 100]. Default 1.01, the value used in the information-plane "
            "studies of Yu et al. (close to Shannon's α = 1, which is also allowed exactly); "
            "α = 2 weights the large eigenvalues more; large α approaches the min-entropy "
            "−log λ_max, and beyond 100 λ^α underflows.")

    def _s(self, a) -> float:
        return spectral_entropy(self._eigvalsh(a), self.alpha)

    def _entropy(self, x):
        (x,) = self._subsample(x)
        k = self._gram(x)
        return self._s(k / _trace(k))

    def _mutual_info(self, x, y):
        x, y = self._subsample(x, y)
        kx, ky = self._gram(x), self._gram(y)
        joint = kx * ky
        joint = joint / _trace(joint)
        return self._s(kx / _trace(kx)) + self._s(ky / _trace(ky)) - self._s(joint)


# ----- von Neumann entropy of representations -----------------------------------------------
@register
class VonNeumannEntropy(Estimator):
    """Von Neumann entropy of representations S = −Σ λ_i log λ_i.

    λ are the eigenvalues of C = ZᵀZ/n after L2-normalising each row of Z (so tr C = 1);
    Kim et al. (CVPR 2023). 0 when all rows point the same way, log d when they are spread
    evenly over d orthogonal directions. A representation measure (of how many directions the
    rows use), not a differential entropy; all-zero rows are left out. No MI.
    """

    method_name = "vne"
    family = "matrix"
    summary = ("Von Neumann entropy of row-normalised representations (eigenvalues of ZᵀZ/n); "
               "a representation measure in [0, log d], not a differential entropy.")
    references = ("Kim, Kang, Hwang, Shin & Rhee (2023), VNE: an effective method for improving "
                  "deep representation by manipulating eigenvalue distribution, CVPR "
                  "(arXiv:2304.01434).")
    data_kind = "any"

    def _entropy(self, x):
        return spectral_entropy(vne_spectrum(x))


# ----- Cauchy–Schwarz ---------------------------------------------------------------------------
def _safe_log(value: float) -> float:
    if value <= 0:
        raise EstimationError("a Cauchy–Schwarz kernel sum underflowed to 0 (the kernel width is "
                              "tiny compared with the distances); pass a larger sigma")
    return math.log(value)


def cs_qmi_from_grams(kx, ky) -> float:
    """Cauchy–Schwarz quadratic MI (nats) from two Gram matrices on the same n samples.

    I_CS = log(V_J · V_M / V_C²) with V_J = mean(Kx∘Ky), V_M = mean(Kx)·mean(Ky),
    V_C = mean_i[rowmean_i(Kx) · rowmean_i(Ky)] (Principe 2010, §2.7; Yu et al. 2024).
    ≥ 0 by the Cauchy–Schwarz inequality; 0 when the Gram matrices factorise.
    """
    v_j, v_m, v_c = (float(v) for v in cs_qmi_terms(kx, ky))
    value = _safe_log(v_j) + _safe_log(v_m) - 2.0 * _safe_log(v_c)
    return max(value, 0.0)


def cs_qmi_terms(kx, ky):
    """``(V_J, V_M, V_C)`` of :func:`cs_qmi_from_grams` as 0-d arrays or tensors (numpy or
    torch Gram matrices; torch keeps the autograd graph, for the CS-IB loss)."""
    return (kx * ky).mean(), kx.mean() * ky.mean(), (kx.mean(1) * ky.mean(1)).mean()


def cauchy_schwarz_divergence(x: Any, y: Any, sigma: float | None = None,
                              sigma_rule: str = "median",
                              units: str = DEFAULT_UNITS) -> Estimate:
    """Cauchy–Schwarz divergence D_CS(p‖q) = −log[(∫pq)² / (∫p² ∫q²)] between two samples.

    With Gaussian Parzen windows every integral becomes a mean of kernel values between sample
    pairs, the kernel of width σ (two windows of width σ/√2 convolved; normalising constants
    cancel): D_CS = log mean K(x,x') + log mean K(y,y') − 2 log mean K(x,y). Symmetric, ≥ 0,
    0 for identical samples. ``x`` and ``y`` are ``(n, d)`` and ``(m, d)``; σ = None picks a
    width from the pooled sample by ``sigma_rule``. (Some papers define D_CS without the
    square, i.e. half of this value; this squared form matches the CS-QMI of
    :func:`cs_qmi_from_grams`.) Principe (2010), Information theoretic
    learning, §2.7; Yu et al. (2024).
    """
    check_units(units)
    xa, ya = as_samples(x, "x"), as_samples(y, "y")
    if xa.shape[1] != ya.shape[1]:
        raise InputError(f"x and y must have the same number of features to compare their "
                         f"distributions: x has {xa.shape[1]}, y has {ya.shape[1]}")
    pooled = np.vstack([xa, ya])
    if sigma is None:
        sigma = kernel_width(pooled, sigma_rule)
    elif not SCALE_BOUNDS[0] <= sigma <= SCALE_BOUNDS[1]:
        raise KnobError(f"sigma must be between {SCALE_BOUNDS[0]:g} and {SCALE_BOUNDS[1]:g} (the "
                        f"data's units), got {sigma}")
    e = int(pow2_exponents(pooled, axis=None))  # exact rescaling: no overflow at any scale
    xa, ya, pooled = np.ldexp(xa, -e), np.ldexp(ya, -e), np.ldexp(pooled, -e)
    centre = pooled.mean(axis=0)
    xa, ya = xa - centre, ya - centre
    scale = -2.0 * scaled_width(sigma, e, power=2)

    def mean_k(a, b):
        return float(np.exp(pairwise_sq_dists(a, b) / scale).mean())

    value = (_safe_log(mean_k(xa, xa)) + _safe_log(mean_k(ya, ya))
             - 2.0 * _safe_log(mean_k(xa, ya)))
    return Estimate(from_nats(max(value, 0.0), units), units, "cauchy_schwarz", "D_CS(p‖q)",
                    {"sigma": sigma})


@register
class CauchySchwarzMI(KernelKnobs, Estimator):
    """Cauchy–Schwarz quadratic mutual information I_CS = D_CS(p(x,y) ‖ p(x)p(y)).

    Estimated from the Gaussian Gram matrices Kx, Ky (product kernel on the joint):
    I_CS = log(V_J V_M / V_C²), see :func:`cs_qmi_from_grams`. A kernel dependence measure:
    0 under independence (in the large-sample limit), but not Shannon MI (it does not equal
    −½ log(1−ρ²) for a Gaussian). O(n²) memory; rows beyond max_samples are subsampled.
    """

    method_name = "cauchy_schwarz"
    family = "matrix"
    summary = ("Cauchy–Schwarz quadratic MI from Gaussian Gram matrices (a kernel dependence "
               "measure).")
    references = ("Principe (2010), Information theoretic learning, §2.7; Yu, Yu, Løkse, Jenssen "
                  "& Príncipe (2024), Cauchy–Schwarz divergence information bottleneck for "
                  "regression, ICLR.")
    duplicate_sensitive = True

    def _mutual_info(self, x, y):
        x, y = self._subsample(x, y)
        return cs_qmi_from_grams(self._gram(x), self._gram(y))


__all__ = ["MatrixRenyi", "VonNeumannEntropy", "CauchySchwarzMI", "cauchy_schwarz_divergence",
           "cs_qmi_from_grams", "cs_qmi_terms", "kernel_width", "pairwise_sq_dists", "KernelKnobs"]
