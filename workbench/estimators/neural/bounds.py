"""Variational bounds on mutual information from a B×B critic score matrix S (diagonal: joint
samples; off-diagonal: product of marginals): DV, NWJ, InfoNCE, SMILE, and the JS training
objective (Poole et al. 2019)."""
from __future__ import annotations

import math


def _off_diagonal_logmeanexp(scores):
    import torch

    b = scores.shape[0]
    eye = torch.eye(b, dtype=torch.bool, device=scores.device)
    masked = scores.masked_fill(eye, -math.inf)
    return torch.logsumexp(masked.reshape(-1), 0) - math.log(b * (b - 1))


def dv_bound(scores):
    """Donsker–Varadhan: mean(diag S) − log mean_{i≠j} e^{S_ij}."""
    return scores.diagonal().mean() - _off_diagonal_logmeanexp(scores)


def nwj_bound(scores):
    """NWJ: mean(diag S) − mean_{i≠j} e^{S_ij − 1}."""
    return scores.diagonal().mean() - _off_diagonal_logmeanexp(scores - 1.0).exp()


def infonce_bound(scores):
    """InfoNCE: log B + mean_i [S_ii − log Σ_j e^{S_ij}] (≤ log B)."""
    import torch

    return math.log(scores.shape[0]) + (scores.diagonal()
                                        - torch.logsumexp(scores, dim=1)).mean()


def smile_value(scores, tau: float):
    """SMILE: mean(diag S) − log mean_{i≠j} e^{clip(S_ij, −τ, τ)}."""
    return scores.diagonal().mean() - _off_diagonal_logmeanexp(scores.clamp(-tau, tau))


def js_objective(scores):
    """Jensen–Shannon (f-GAN) objective −E_p softplus(−T) − E_{p⊗p} softplus(T)."""
    import torch
    from torch.nn.functional import softplus

    b = scores.shape[0]
    off = scores.masked_select(~torch.eye(b, dtype=torch.bool, device=scores.device))
    return -softplus(-scores.diagonal()).mean() - softplus(off).mean()


# ----- estimator base -----------------------------------------------------------------------
