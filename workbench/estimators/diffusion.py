"""Diffusion spectral entropy (DSE) and mutual information (DSMI) of representations.

Liao, Liu, Christensen, Tong, Huguet, Wolf, Nickel, Adelstein & Krishnaswamy (2023),
"Assessing neural network representations during training using noise-resilient diffusion
spectral entropy" (ICML TAG-ML workshop; CISS 2024).

A Gaussian kernel K on the rows of Z defines the diffusion (random-walk) matrix P = D⁻¹K,
D = diag(row sums of K). P is similar to the symmetric M = D^{-1/2} K D^{-1/2}, so its
eigenvalues λ are real and come from a symmetric eigensolver. With diffusion time t,

    p_i = |λ_i|^t / Σ_j |λ_j|^t,      DSE(Z) = −Σ_i p_i log p_i.

Every connected component of the kernel graph contributes an eigenvalue 1 and the others decay
with t, so at large t the DSE of c well-separated clusters tends to log c: DSE measures how many
distinguishable directions the diffusion geometry keeps, not a differential entropy.

DSMI(Z; Y) = DSE(Z) − Σ_y p(y) DSE(Z | Y = y) needs a *discrete* Y (class labels). DSE grows
with the number of points, so by default (``matched=True``, as in the authors' reference code)
each class's DSE(Z | Y=y) is compared with the DSE of a random subset of Z of the same size
(averaged over ``repeats`` subsets): DSMI = Σ_y p(y)[DSE(Z*_{n_y}) − DSE(Z | Y=y)]. Then labels
independent of Z give DSMI ≈ 0 rather than a positive size effect.

Row order: the seeded subsets (``max_samples`` and the matched ones) are drawn by row
*position*, deliberately. A tracker measures the same inputs every epoch, so the same rows are
compared at every epoch (common random numbers: the curve moves with the representation, not
with the draw), and :meth:`RepresentationTracker.kernel_rows` can name them. Permuting the rows
therefore moves the matched DSMI by about the spread of the subset draw (0.009 nats for 3
classes, n = 600, ``repeats=5``; more repeats shrink it); the DSE itself and the DSMI with
``matched=False`` do not depend on the order while n <= ``max_samples``.
"""
from __future__ import annotations

import numpy as np
import param

from ..errors import InputError
from ..measures.representation import spectral_entropy
from ..torch_utils import limit_threads
from ..validation import check_seed, is_discrete
from . import register
from .base import Estimator
from .encoding import encode_rows
from .matrix import KernelKnobs


@register
class DiffusionSpectralEntropy(KernelKnobs, Estimator):
    """Diffusion spectral entropy −Σ p log p, p ∝ |λ(D⁻¹K)|^t; DSMI with discrete labels.

    0 when all rows coincide (P has the single non-zero eigenvalue 1); log n when the points
    are far apart relative to σ (P = I); log c for c tight, well-separated clusters as t grows.
    """

    method_name = "dse"
    family = "diffusion"
    summary = ("Diffusion spectral entropy of representations (eigenvalues of the diffusion "
               "matrix at time t); DSMI against discrete labels.")
    references = ("Liao, Liu et al. (2023), Assessing neural network representations during "
                  "training using noise-resilient diffusion spectral entropy, ICML TAG-ML "
                  "workshop / CISS 2024 (arXiv:2312.04823).")
    data_kind = "any"
    duplicate_sensitive = True

    t = param.Integer(default=1, bounds=(1, None), softbounds=(1, 10), label="Diffusion time t",
                      doc="Diffusion time: eigenvalues are raised to the power t. Larger t damps "
                          "the small (noise) eigenvalues; the authors use 1 or 2.")
    matched = param.Boolean(
        default=True,
        doc="DSMI only: compare each class with random subsets of Z of the same size (the "
            "authors' reference code) instead of with DSE of all of Z, which removes the growth "
            "of DSE with n.")
    repeats = param.Integer(default=5, bounds=(1, None), softbounds=(1, 20),
                            doc="DSMI with matched=True: random subsets averaged per class.")

    def dse(self, z: np.ndarray, sigma: float | None = None) -> float:
        """DSE (nats) of the rows of ``z`` with kernel width ``sigma`` (None: the knobs' choice;
        no subsampling)."""
        if len(z) == 1:
            return 0.0
        return self._dse_of_gram(self._gram(z, sigma))

    def _dse_of_gram(self, k) -> float:
        """DSE (nats) from a Gaussian Gram matrix (numpy array or torch tensor)."""
        if k.shape[0] == 1:
            return 0.0
        root = 1.0 / k.sum(1) ** 0.5
        lam = abs(self._eigvalsh(root[:, None] * k * root[None, :]))
        # spectral_entropy zeroes weights at rounding level; for integer t >= 1 a rounding-level
        # eigenvalue stays below that level after the power
        return spectral_entropy(lam ** self.t)

    def _entropy(self, x):
        (x,) = self._subsample(x)
        return self.dse(x)

    def _mutual_info(self, x, y):
        z, labels = _split_labels(x, y)
        z, labels = self._subsample(z, labels)
        codes, m = encode_rows(labels)
        n = len(z)
        counts = np.bincount(codes, minlength=m)
        # One Gram matrix of all rows, one kernel width: every class's and every matched
        # subset's Gram matrix is a submatrix of it (the same entries to float rounding as
        # recomputing them from the subset's rows), so no distance is computed twice.
        gram = self._gram(z)
        rng = check_seed(self.seed)
        # Each class costs 1 + repeats eigensolves of n_c × n_c matrices. Below a few hundred
        # rows several BLAS threads only wait for each other (on a busy 2-core machine a
        # 200 × 200 eigensolve takes 1 ms on one thread and 100 ms on two), so unless the
        # caller chose a thread count these small solves run on one thread.
        small = self.threads is None and int(counts.max()) <= _SMALL_SOLVE
        with limit_threads(1 if small else None):
            if not self.matched:
                h_all = self._dse_of_gram(gram)
            total = 0.0
            for c in range(m):  # loop over classes, not samples
                h_c = self._dse_of_gram(_submatrix(gram, np.flatnonzero(codes == c)))
                if self.matched:
                    h_all = np.mean([
                        self._dse_of_gram(_submatrix(gram, rng.choice(n, counts[c],
                                                                      replace=False)))
                        for _ in range(self.repeats)])
                total += counts[c] / n * (h_all - h_c)
        return total


#: Largest class (rows) whose eigensolves DSMI runs on one BLAS thread (see _mutual_info).
_SMALL_SOLVE = 512


def _submatrix(gram, rows: np.ndarray):
    """``gram[rows][:, rows]`` for a numpy array or a torch tensor."""
    if isinstance(gram, np.ndarray):
        return gram[np.ix_(rows, rows)]
    import torch

    idx = torch.as_tensor(rows, device=gram.device)
    return gram.index_select(0, idx).index_select(1, idx)


def _split_labels(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(representation, labels): the discrete side is the labels (``y`` when both are)."""
    if is_discrete(y):
        return x, y
    if is_discrete(x):
        return y, x
    raise InputError(
        "dse's mutual information (DSMI) needs one discrete variable (class labels: integers or "
        "few whole-number values) and neither input is discrete. Bin the continuous partner "
        "first, e.g. labels = np.digitize(y[:, 0], np.quantile(y[:, 0], [0.25, 0.5, 0.75])), "
        "or use a method for two continuous variables (e.g. 'ksg', 'matrix_renyi')")


__all__ = ["DiffusionSpectralEntropy"]
