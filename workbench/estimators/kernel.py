"""Kernel estimators: pairwise-distance bounds on the entropy of a Gaussian mixture.

A noisy layer T = h(X) + N(0, σ²I) over n samples h_1..h_n is a mixture of n Gaussians
with equal weights, and Kolchinsky & Tracey (2017) bound its entropy with pairwise
distances between the components:

    H(T) ≤ (d/2) log(2πeσ²) − (1/n) Σ_i log (1/n) Σ_j exp(−‖h_i − h_j‖² / (2σ²))    (KL)
    H(T) ≥ (d/2) log(2πeσ²) − (1/n) Σ_i log (1/n) Σ_j exp(−‖h_i − h_j‖² / (8σ²))    (Bhattacharyya)

The lower bound is the upper bound evaluated at 4σ², shifted by (d/2) log(1/4). Saxe et al.
(2018) use these for the information plane of noisy networks.

Cost is O(n² d) time through BLAS (‖a‖² + ‖b‖² − 2 a·b), in row blocks of at most
``_BLOCK_ELEMENTS`` distances: memory never holds an n × n matrix.
"""
from __future__ import annotations

import math

import numpy as np
import param
from scipy.special import logsumexp

from ..validation import pow2_scaled, scaled_width
from . import register
from .base import SCALE_BOUNDS, Estimator, Subsampled, TorchBackend
from .encoding import encode_rows
from .matrix import pairwise_sq_dists

#: Distances held at once (4M float64 = 32 MB per block).
_BLOCK_ELEMENTS = 4_000_000


def mixture_log_terms(h: np.ndarray, variance: float, groups: np.ndarray | None = None,
                      device: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Per row i, a_i = log (1/n) Σ_j exp(−‖h_i − h_j‖²/(2·variance)) and, with ``groups``
    (integer codes), the same average over the rows j of i's own group, b_i. ``device``: run
    the pairwise work in torch there (:mod:`.torch_backend`; same numbers to rounding)."""
    h, e = pow2_scaled(h)  # exact rescaling, so that no finite scale overflows
    variance = scaled_width(variance, e, power=2)
    h = h - h.mean(axis=0)  # translation-invariant; centring limits cancellation in the sum
    if device is not None:
        from . import torch_backend

        return torch_backend.mixture_log_terms(h, variance, groups, device)

    def logits(start: int, stop: int) -> np.ndarray:
        return pairwise_sq_dists(h[start:stop], h) * (-0.5 / variance)

    return blocked_log_means(len(h), logits, max(1, _BLOCK_ELEMENTS // len(h)), groups)


def blocked_log_means(n: int, block_logits, step: int, groups=None):
    """Per row i, a_i = log (1/n) Σ_j e^{L_ij} and, with integer ``groups`` (codes 0..g−1),
    b_i = log of the same mean over the j in i's group, where ``block_logits(start, stop)``
    gives the rows start..stop of L (against all n columns), ``step`` rows at a time so that
    no n × n matrix is held. The diagonal is set to L_ii = 0 exactly (a component's distance
    to itself), not the rounding error of an expansion: it matters when the kernel is narrow
    against the spread. The blocks may be numpy arrays or torch tensors (then the sums stay on
    their device; call it under ``torch.no_grad()``); a and b come back as numpy arrays. The
    pairwise-distance mixture bounds (Kolchinsky & Tracey 2017) of :func:`mixture_log_terms`,
    its torch twin and :func:`workbench.ib.channel.pairwise_log_terms` share it."""
    a = b = log_sizes = None
    for start in range(0, n, step):
        stop = min(n, start + step)
        logits = block_logits(start, stop)
        ops = _ArrayOps(logits)
        if a is None:
            a = ops.empty(n)
            if groups is not None:
                groups = ops.codes(groups)
                log_sizes, b = ops.log_sizes(groups), ops.empty(n)
        rows = ops.arange(stop - start)
        logits[rows, rows + start] = 0.0
        a[start:stop] = ops.logsumexp(logits) - math.log(n)
        if groups is not None:
            same = groups[start:stop, None] == groups[None, :]
            b[start:stop] = ops.logsumexp(ops.where(same, logits)) - log_sizes[start:stop]
    return ops.numpy(a), None if b is None else ops.numpy(b)


class _ArrayOps:
    """The few operations :func:`blocked_log_means` needs, for numpy arrays or torch tensors
    (float64, on the blocks' device)."""

    def __init__(self, like):
        self.np = isinstance(like, np.ndarray)
        if not self.np:
            import torch

            self.torch, self.device = torch, like.device

    def empty(self, n: int):
        return np.empty(n) if self.np else self.torch.empty(n, dtype=self.torch.float64,
                                                              device=self.device)

    def arange(self, m: int):
        return np.arange(m) if self.np else self.torch.arange(m, device=self.device)

    def codes(self, groups):
        groups = np.asarray(groups, dtype=np.int64)
        return groups if self.np else self.torch.as_tensor(groups, device=self.device)

    def log_sizes(self, groups):
        if self.np:
            return np.log(np.bincount(groups))[groups]
        return self.torch.log(self.torch.bincount(groups).to(self.torch.float64))[groups]

    def logsumexp(self, z):
        return logsumexp(z, axis=1) if self.np else self.torch.logsumexp(z, dim=1)

    def where(self, mask, z):
        """z where mask, −∞ elsewhere."""
        if self.np:
            return np.where(mask, z, -np.inf)
        return self.torch.where(mask, z, self.torch.full_like(z, -math.inf))

    def numpy(self, v) -> np.ndarray:
        return v if self.np else v.cpu().numpy()


@register
class KDEBounds(TorchBackend, Estimator, Subsampled):
    """Entropy of the noisy layer T = h + N(0, σ²I) by the Kolchinsky & Tracey (2017)
    pairwise-distance bounds (``bound="upper"``: KL, ``"lower"``: Bhattacharyya), as used by
    Saxe et al. (2018).

    ``entropy(h)`` = H(T). ``mutual_info(h, partner)``: the *first* argument is the layer's
    activations h; the rows of the *second* are grouped by their distinct values, and
    I(T; partner) = H(T) − Σ_g p(g) H(T | g), each entropy by the same bound, i.e.
    (1/n) Σ_i [b_i − a_i] with a_i / b_i the log kernel averages over all rows / over row i's
    group. Two uses:

    * partner = discrete labels Y → I(T;Y) = H(T) − Σ_y p(y) H(T|Y=y);
    * partner = the inputs X (distinct rows) → every group is one row, H(T|X) =
      (d/2) log(2πeσ²) exactly, and I(X;T) = H(T) − (d/2) log(2πeσ²) for a deterministic
      layer; X's values are then not used, only which rows are equal.

    The MI is a difference of two bounds, not itself a bound. Constant activations are fine
    (the noise keeps H(T) finite).
    """

    method_name = "kde"
    family = "kernel"
    summary = "Kolchinsky-Tracey pairwise-distance bounds on a noisy layer's entropy; I(T;Y)."
    references = ("Kolchinsky & Tracey (2017), Estimating mixture entropy with pairwise "
                  "distances, Entropy 19:361; Saxe et al. (2018), On the information "
                  "bottleneck theory of deep learning, ICLR.")
    duplicate_sensitive = True

    noise_variance = param.Number(
        default=0.1, bounds=SCALE_BOUNDS, softbounds=(1e-4, 1), label="Noise variance σ²",
        doc="σ² of the Gaussian noise added to the layer, in the activations' squared units. "
            "0.1 suits activations of order 1 (tanh, ReLU nets as in Saxe et al. 2018, who "
            "use 1e-1 to 1e-3); smaller σ² resolves finer structure and raises I(X;T).")
    bound = param.Selector(default="upper", objects=["upper", "lower"],
                           doc="'upper': KL-divergence bound; 'lower': Bhattacharyya bound.")
    max_samples = param.Integer(
        allow_None=True,
        doc="Use at most this many rows (a seeded random subset) to cap the O(n²) time; "
            "None uses every row.")

    def _kernel_variance(self) -> float:
        # Bhattacharyya distance between N(a, σ²I) and N(b, σ²I) is ‖a−b‖²/(8σ²): the KL sum
        # at 4σ²
        return self.noise_variance * (1.0 if self.bound == "upper" else 4.0)

    def _entropy(self, h):
        (h,) = self._subsample(h)
        a, _ = mixture_log_terms(h, self._kernel_variance(), device=self._torch_device())
        d = h.shape[1]
        return 0.5 * d * math.log(2 * math.pi * math.e * self.noise_variance) - float(a.mean())

    def _mutual_info(self, h, partner):
        h, partner = self._subsample(h, partner)
        codes, m = encode_rows(partner)
        if m == len(h):  # one row per group: H(T | group) is one Gaussian's, exactly
            a, _ = mixture_log_terms(h, self._kernel_variance(), device=self._torch_device())
            return -float(a.mean())
        a, b = mixture_log_terms(h, self._kernel_variance(), codes,
                                 device=self._torch_device())
        return float(np.mean(b - a))
