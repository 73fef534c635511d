"""Predictive uncertainty from an ensemble or MC-dropout: total = aleatoric + epistemic.

Given M predictive distributions p_m(y | x) for each input x (ensemble members, or dropout
masks), with p̄ = (1/M) Σ_m p_m:

* total       H[p̄]                      — entropy of the averaged prediction,
* aleatoric   (1/M) Σ_m H[p_m]          — expected entropy of one member (noise in the data),
* epistemic   H[p̄] − (1/M) Σ_m H[p_m]   — the mutual information I(y; m | x) between the label
  and the member index (disagreement between members; "BALD", Houlsby et al. 2011,
  "Bayesian active learning for classification and preference learning"; decomposition as in
  Depeweg et al. 2018, "Decomposition of uncertainty in Bayesian deep learning for efficient and
  risk-sensitive learning"; MC dropout: Gal & Ghahramani 2016).

By concavity of entropy (Jensen) epistemic ≥ 0, and epistemic ≤ min(log M, log C): M members can
disagree about at most log M nats, and about no more than the label entropy log C.

The helpers :func:`check_distributions` and :func:`categorical_entropy` work along the last axis
of numpy arrays or torch tensors and return the type they were given; attention entropy
(:mod:`workbench.attention`) uses them too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.special import xlogy

from ..errors import InputError
from ..units import LN2, check_units
from ..validation import to_numpy

#: thousand entries sums to 1 within ~1e-6, in half precision within ~1e-3.
_ROW_SUM_TOL = {8: 1e-6, 4: 1e-4, 2: 1e-2}


def _is_tensor(x: Any) -> bool:
    return isinstance(x, torch.Tensor)


def _row_sum_tol(dtype_itemsize: int) -> float:
    return _ROW_SUM_TOL.get(dtype_itemsize, 1e-6)


def check_distributions(probs: Any, name: str = "probs", *, min_ndim: int = 1,
                        what: str = "probability distributions along the last axis",
                        atol: float | None = None):
    """Validate ``probs`` as probability vectors along the last axis and return it as a float
    numpy array or a floating torch tensor (device kept, autograd graph kept).

    Checks: numeric, at least ``min_ndim`` dimensions, non-empty, finite, non-negative, every
    row summing to 1 within ``atol`` (by default 1e-6 for float64, 1e-4 for float32, 1e-2 for
    half precision). Raises :class:`~workbench.errors.InputError` saying what failed and how to
    fix it.
    """
    if _is_tensor(probs):
        if probs.is_complex():
            raise InputError(f"{name} is complex ({probs.dtype}); pass real probabilities")
        out = probs if probs.is_floating_point() else probs.to(torch.get_default_dtype())
        p = out.detach()  # checks need no graph; the returned tensor keeps it (differentiable)
        itemsize = p.element_size()
        lib = torch
    else:
        p = to_numpy(probs, name)
        if p.dtype.kind not in "biuf":
            raise InputError(f"{name} has dtype {p.dtype}; pass real-valued probabilities")
        if p.dtype.kind != "f":
            p = p.astype(np.float64)
        itemsize = p.dtype.itemsize
        lib = np
    shape = tuple(p.shape)
    if p.ndim < min_ndim:
        raise InputError(f"{name} has shape {shape} but must be {what} with at least "
                         f"{min_ndim} dimensions")
    if 0 in shape:
        raise InputError(f"{name} is empty (shape {shape}); pass {what}")
    finite = lib.isfinite(p)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise InputError(f"{name} has {bad} NaN or infinite value(s); {what} must be finite "
                         "(a row whose keys/classes are all masked comes out of softmax as NaN:"
                         " drop such rows first)")
    if bool((p < 0).any()):
        raise InputError(f"{name} has negative entries (min {float(p.min()):.3g}); pass "
                         f"probabilities, not logits: apply softmax over the last axis first")
    tol = _row_sum_tol(itemsize) if atol is None else float(atol)
    sums = p.sum(-1)
    worst = float(abs(sums - 1).max())
    if worst > tol:
        raise InputError(f"{name}: rows must sum to 1 over the last axis (size {shape[-1]}), but "
                         f"one is off by {worst:.3g} (tolerance {tol:g}); normalise, e.g. "
                         f"{name} / {name}.sum(-1, keepdims=True), or pass softmax outputs")
    return out if lib is torch else p


def categorical_entropy(probs: Any, units: str = "bits", *, validate: bool = True):
    """Entropy −Σ_c p_c log p_c of each distribution along the last axis (0·log 0 = 0).

    ``probs`` is a numpy array or torch tensor (..., C); the result has shape (...) and the
    same type (torch keeps device and floating dtype; half precision is computed in float32).
    Torch results are differentiable (usable as an entropy regulariser).
    """
    check_units(units)
    p = check_distributions(probs) if validate else probs
    if _is_tensor(p):
        work = p if p.dtype in (torch.float32, torch.float64) else p.float()
        h = -torch.special.xlogy(work, work).sum(-1)
        # Rows summing to 1 + eps can give -1e-17 (and one-hot rows -0.0); entropy is >= +0.
        h = h.clamp_min(0.0) + 0.0
        if units == "bits":
            h = h / LN2
        return h.to(p.dtype)
    h = np.maximum(-xlogy(p, p).sum(-1), 0.0)
    return h / LN2 if units == "bits" else h


# ---------------------------------------------------------------------------------------------
# decomposition
# ---------------------------------------------------------------------------------------------
@dataclass
class Decomposition:
    """Per-sample total, aleatoric and epistemic uncertainty (arrays of shape (n,)), in ``units``.

    Arrays have the type that was passed to :func:`decompose` (numpy or torch).
    """

    total: Any
    aleatoric: Any
    epistemic: Any
    units: str
    n_members: int
    n_classes: int

    def frame(self) -> pd.DataFrame:
        """Tidy frame: one row per sample with total, aleatoric, epistemic and units."""
        cols = {k: to_numpy(getattr(self, k)).astype(np.float64)
                for k in ("total", "aleatoric", "epistemic")}
        out = pd.DataFrame(cols)
        out["units"] = self.units
        return out

    def __repr__(self) -> str:
        means = ", ".join(f"{k}={float(getattr(self, k).mean()):.4g}"
                          for k in ("total", "aleatoric", "epistemic"))
        return (f"Decomposition(n={len(self.total)}, members={self.n_members}, "
                f"classes={self.n_classes}, mean {means} {self.units})")


def decompose(probs: Any, units: str = "bits") -> Decomposition:
    """Split predictive uncertainty into aleatoric and epistemic parts, per sample.

    ``probs`` has shape (members, n, classes): member m's predicted class distribution for
    sample i (softmax outputs of an ensemble, or of MC-dropout passes, see
    :func:`mc_dropout_probs`). Returns a :class:`Decomposition` with

    * ``total[i]     = H[(1/M) Σ_m p_m(·|x_i)]``
    * ``aleatoric[i] = (1/M) Σ_m H[p_m(·|x_i)]``
    * ``epistemic[i] = total[i] − aleatoric[i] = I(y; m | x_i)`` (BALD; Houlsby et al. 2011,
      Depeweg et al. 2018),

    in ``units`` ("bits" by default, or "nats"), of the array type given (numpy or torch).
    Identical members give epistemic = 0; M one-hot members each on a different class give
    aleatoric = 0 and epistemic = log M.
    """
    check_units(units)
    p = check_distributions(probs, min_ndim=3, what="an array of shape (members, n, classes)")
    if p.ndim != 3:
        raise InputError(f"probs has shape {tuple(p.shape)}; pass (members, n, classes), e.g. "
                         "np.stack([member.predict_proba(x) for member in ensemble])")
    members, _, classes = p.shape
    total = categorical_entropy(p.mean(0), units, validate=False)
    aleatoric = categorical_entropy(p, units, validate=False).mean(0)
    # Jensen makes total ≥ aleatoric exactly; rounding can leave -1e-16 where members agree.
    diff = total - aleatoric
    epistemic = diff.clamp_min(0.0) if _is_tensor(diff) else np.maximum(diff, 0.0)
    return Decomposition(total, aleatoric, epistemic, units, int(members), int(classes))


# ---------------------------------------------------------------------------------------------
# MC dropout
# ---------------------------------------------------------------------------------------------


def max_epistemic(members: int, classes: int, units: str = "bits") -> float:
    """Upper bound on epistemic uncertainty: min(log M, log C) (in ``units``)."""
    value = math.log(min(members, classes))
    return value / LN2 if check_units(units) == "bits" else value
