"""Token-level entropy of a language model's predictive distributions.

At each position t a language model gives a distribution p_t(v) = p(x_t = v | x_<t) over the
vocabulary. Three numbers describe it (Shannon 1948; Cover & Thomas 2006, ch. 2 and 5):

* predictive entropy   H_t = −Σ_v p_t(v) log p_t(v)       (how unsure the model is),
* surprisal            s_t = −log p_t(x_t)                 (how surprised it was by the token
                                                             that came),
* cross-entropy        CE = (1/T) Σ_t s_t                   (the training loss; perplexity is
                                                             exp(CE) in nats, 2^CE in bits).

On text drawn from the model itself E[s_t] = E[H_t]; on human text the gap E[s_t] − E[H_t]
is the quantity the "stable entropy zone" of Arora et al. 2023 ("Stable entropy hypothesis and
entropy-aware decoding") and locally typical sampling (Meister et al. 2023, "Locally typical
sampling") reason about. Everything works on numpy arrays or torch tensors (converted to
numpy; torch is never imported here) along the last axis; results carry units.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import log_softmax, xlogy

from ..errors import InputError
from ..units import LN2, check_units
from ..validation import to_numpy

#: float64 rows of up to a million entries sum to 1 within this; float32 within ~1e-4.
_ROW_SUM_TOL = {8: 1e-6, 4: 1e-4, 2: 1e-2}


def _float_array(x: Any, name: str) -> np.ndarray:
    arr = to_numpy(x, name)
    if arr.dtype.kind not in "fiub":
        raise InputError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise InputError(f"{name} must have a non-empty last axis (the vocabulary), got "
                         f"shape {arr.shape}")
    return arr


def _scale(units: str) -> float:
    return 1.0 / LN2 if check_units(units) == "bits" else 1.0


def log_probs(probs: Any = None, *, logits: Any = None, name: str = "probs") -> np.ndarray:
    """Natural-log probabilities along the last axis from exactly one of ``probs`` (checked:
    finite, ≥ 0, rows summing to 1) or ``logits`` (any finite reals or −inf; log-softmax)."""
    if (probs is None) == (logits is None):
        raise InputError("pass exactly one of probs= or logits=")
    if logits is not None:
        z = _float_array(logits, "logits").astype(np.float64, copy=False)
        if np.isnan(z).any() or np.isposinf(z).any():
            raise InputError("logits contain NaN or +inf; pass finite logits (−inf masks a "
                             "token)")
        if np.isneginf(z).all(axis=-1).any():
            raise InputError("a row of logits is all −inf: no token has any probability")
        return log_softmax(z, axis=-1)
    p = check_probabilities(probs, name, hint="pass logits=")
    with np.errstate(divide="ignore"):
        return np.log(p)


def check_probabilities(probs: Any, name: str = "probs", tol: float | None = None,
                        hint: str = "pass logits=") -> np.ndarray:
    """``probs`` as float64, checked along the last axis: numeric, non-empty, finite,
    non-negative, rows summing to 1 within ``tol`` (None: by the input's float width,
    ``_ROW_SUM_TOL``); else :class:`InputError` naming ``name`` and ``hint`` (what to do with
    logits). The one validation of distributions that :func:`log_probs` and
    :func:`workbench.text.decoding.as_probabilities` share; nothing is renormalised."""
    p = _float_array(probs, name)
    tol = _ROW_SUM_TOL.get(p.dtype.itemsize, 1e-6) if tol is None else tol
    p = p.astype(np.float64, copy=False)
    if not np.isfinite(p).all():
        raise InputError(f"{name} contain NaN or inf: they must be finite; for logits {hint}")
    if (p < 0).any():
        raise InputError(f"{name} must be non-negative (smallest is {p.min():.3g}); for "
                         f"logits {hint}")
    sums = p.sum(axis=-1)
    if np.abs(sums - 1).max() > tol:
        raise InputError(f"{name} rows must sum to 1 along the last axis (worst row sums to "
                         f"{sums.flat[np.abs(sums - 1).argmax()]:.6g}); normalise them, or "
                         f"for logits {hint}")
    return p


def entropy_nats(p: np.ndarray) -> np.ndarray:
    """H(p) = −Σ_v p(v) ln p(v) in nats along the last axis of already-checked probabilities
    (0 · log 0 = 0), without validation: the one entropy kernel that
    :func:`token_entropy`, :mod:`~workbench.text.decoding`, :mod:`~workbench.text.semantic`
    and :mod:`~workbench.text.generate` share. ``+ 0.0`` turns the −0 of a one-hot row into 0."""
    return -xlogy(p, p).sum(axis=-1) + 0.0


def token_entropy(probs: Any = None, *, logits: Any = None, units: str = "bits") -> np.ndarray:
    """Entropy H_t = −Σ_v p_t(v) log p_t(v) of each predictive distribution (last axis).

    ``probs`` (rows summing to 1) or ``logits`` of shape (..., vocab); returns shape (...) in
    ``units``. 0 for a one-hot row, log V for a uniform one.
    """
    return entropy_nats(np.exp(log_probs(probs, logits=logits))) * _scale(units)


def _targets(targets: Any, lead_shape: tuple, vocab: int) -> np.ndarray:
    t = to_numpy(targets, "targets")
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "f" and np.all(t == np.round(t)):
            t = t.astype(np.int64)
        else:
            raise InputError(f"targets must be integer token ids, got dtype {t.dtype}")
    if t.shape != lead_shape:
        raise InputError(f"targets have shape {t.shape}; expected {lead_shape} (one id per "
                         "predictive distribution)")
    if t.size and (t.min() < 0 or t.max() >= vocab):
        raise InputError(f"targets must be ids in [0, {vocab}), got range "
                         f"[{t.min()}, {t.max()}]")
    return t.astype(np.int64, copy=False)


def surprisal(targets: Any, probs: Any = None, *, logits: Any = None,
              units: str = "bits") -> np.ndarray:
    """Surprisal s_t = −log p_t(x_t) of each observed token ``targets`` (shape (...)) under
    its predictive distribution (shape (..., vocab)); inf where the model gave it 0."""
    lp = log_probs(probs, logits=logits)
    t = _targets(targets, lp.shape[:-1], lp.shape[-1])
    return -np.take_along_axis(lp, t[..., None], axis=-1)[..., 0] * _scale(units)


def cross_entropy(targets: Any, probs: Any = None, *, logits: Any = None,
                  units: str = "bits") -> float:
    """Mean surprisal CE = (1/T) Σ_t −log p_t(x_t) over all positions, in ``units`` per
    token (the training loss in nats; bits per character for a character model)."""
    s = surprisal(targets, probs, logits=logits, units=units)
    if s.size == 0:
        raise InputError("no tokens: targets is empty")
    return float(s.mean())


def perplexity(targets: Any, probs: Any = None, *, logits: Any = None) -> float:
    """exp(CE in nats): the effective number of equally likely tokens (unitless)."""
    return float(np.exp(cross_entropy(targets, probs, logits=logits, units="nats")))


def sequence_log_prob(targets: Any, probs: Any = None, *, logits: Any = None,
                      normalize: bool = False) -> np.ndarray:
    """log p(x_1..x_T) = Σ_t log p_t(x_t) in nats for each sequence (sum over the
    second-to-last axis of (..., T, vocab) distributions); ``normalize=True`` divides by T
    (the length-normalised score Kuhn et al. 2023 and Malinin & Gales 2021 use)."""
    s = surprisal(targets, probs, logits=logits, units="nats")
    if s.ndim == 0:
        raise InputError("sequence_log_prob needs targets of shape (..., T)")
    total = -s.sum(axis=-1)
    return total / s.shape[-1] if normalize else total
