"""Decoding rules as pure functions on next-token distributions.

Every rule takes a probability vector ``p`` over the vocabulary (or a batch of them, one per
row) and returns a :class:`Truncation`: the renormalised distribution q that is sampled from,
the mask of kept tokens S, the kept mass ``p(S) = Σ_{i∈S} p_i`` and the entropy
``H(q) = -Σ_i q_i log q_i`` in bits or nats, where ``q_i = p_i 1[i∈S] / p(S)``.

* temperature τ (Ackley, Hinton & Sejnowski 1985; as used in every LM sampler):
  ``q_i ∝ p_i^{1/τ}`` (softmax of logits / τ); keeps the whole support.
* top-k (Fan, Lewis & Dauphin 2018, "Hierarchical neural story generation"): S = the k most
  probable tokens (ties broken towards the lower index).
* top-p / nucleus (Holtzman et al. 2020, "The curious case of neural text degeneration"):
  S = the smallest set of most probable tokens with ``p(S) ≥ p``.
* η-sampling (Hewitt, Manning & Liang 2022, "Truncation sampling as language model
  desmoothing"): S = {i : p_i > η} with ``η = min(ε, √ε · exp(-H(p)))``, H in nats.
* locally typical sampling (Meister, Pimentel, Wiher & Cotterell 2023, TACL, "Locally typical
  sampling"): order tokens by ``|-log p_i - H(p)|`` (closest to the conditional entropy first)
  and keep the shortest prefix of that order with mass ``≥ τ``.
* min-p (Nguyen et al. 2024, "Turning up the heat: min-p sampling for creative and coherent LLM
  outputs"): S = {i : p_i ≥ p_base · max_j p_j}.

:func:`decode` applies a temperature first and a truncation rule second (the order of
``transformers``' logits warpers), so ``kept_mass`` is measured on the tempered distribution.
Tokens of probability zero are never kept, except that top-k keeps exactly ``min(k, V)`` tokens
(zeros among them get q = 0). Inputs are checked: rows must be finite, non-negative and sum to
1 within ``SUM_TOLERANCE`` (they are then renormalised exactly); knobs outside their range raise
:class:`~workbench.errors.KnobError`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError, KnobError
from ..units import LN2, check_units
from .tokens import check_probabilities, entropy_nats

#: How far a row of probabilities may sum from 1 (float32 softmax over a few thousand tokens
#: is well inside; anything further is a bug upstream, not rounding).
SUM_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Truncation:
    """What a decoding rule returns. For one distribution the numbers are Python floats, for
    a batch (rows) they are arrays with one value per row."""

    probs: np.ndarray          # the renormalised distribution q (same shape as the input)
    kept: np.ndarray           # boolean mask of the kept tokens S
    kept_mass: Any             # p(S): mass of the input distribution on the kept tokens
    entropy: Any               # H(q) in ``units``
    units: str
    rule: str
    knobs: dict = field(default_factory=dict)

    @property
    def n_kept(self):
        """How many tokens the rule kept (per row for a batch)."""
        n = self.kept.sum(axis=-1)
        return int(n) if np.ndim(n) == 0 else n


@dataclass(frozen=True)
class Rule:
    """A rule's single knob with its range: ``(low, high)``, each end open or closed."""

    name: str
    knob: str
    default: float
    low: float
    high: float
    low_open: bool
    high_open: bool
    integer: bool
    doc: str


RULES: dict[str, Rule] = {r.name: r for r in (
    Rule("temperature", "temperature", 1.0, 0.0, math.inf, True, True, False,
         "divide the logits by τ: τ < 1 sharpens, τ > 1 flattens; nothing is cut"),
    Rule("top_k", "k", 10, 1, math.inf, False, True, True,
         "keep the k most probable tokens"),
    Rule("top_p", "p", 0.9, 0.0, 1.0, True, False, False,
         "keep the fewest most probable tokens whose mass reaches p (nucleus)"),
    Rule("eta", "epsilon", 3e-4, 0.0, 1.0, True, True, False,
         "keep tokens above η = min(ε, √ε·exp(-H)) (η-sampling)"),
    Rule("typical", "mass", 0.9, 0.0, 1.0, True, False, False,
         "keep the tokens whose surprisal is closest to the entropy, up to this mass"),
    Rule("min_p", "p_base", 0.1, 0.0, 1.0, False, False, False,
         "keep tokens with probability at least p_base times the largest one"),
)}


# ----- checks -------------------------------------------------------------------------------
def check_knob(rule: str, value: Any) -> float | int:
    """``value`` as the knob of ``rule`` (see :data:`RULES`), or a :class:`KnobError` that
    names the range."""
    if rule not in RULES:
        raise KnobError(f"unknown decoding rule {rule!r}; rules are {sorted(RULES)}")
    spec = RULES[rule]
    lo = ("(" if spec.low_open else "[") + f"{spec.low:g}"
    hi = f"{spec.high:g}" + (")" if spec.high_open else "]")
    what = f"{rule}: {spec.knob} must be {'an integer' if spec.integer else 'a number'} in " \
           f"{lo}, {hi}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise KnobError(f"{what}, got {value!r}")
    value = float(value)
    if math.isnan(value) or (spec.integer and value != math.floor(value)):
        raise KnobError(f"{what}, got {value!r}")
    below = value <= spec.low if spec.low_open else value < spec.low
    above = value >= spec.high if spec.high_open else value > spec.high
    if below or above:
        raise KnobError(f"{what}, got {value:g}")
    return int(value) if spec.integer else value


def as_probabilities(p: Any) -> np.ndarray:
    """``p`` as float64 rows of probabilities (1-D: one distribution; 2-D: one per row),
    renormalised exactly; :class:`InputError` if it is not a distribution."""
    try:
        arr = np.array(p, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"probabilities must be numbers: {exc}") from exc
    if arr.ndim not in (1, 2) or arr.shape[-1] == 0 or arr.size == 0:
        raise InputError(f"probabilities must be a non-empty vector or a 2-D batch of rows, "
                         f"got shape {arr.shape}")
    arr = check_probabilities(arr, "probabilities", SUM_TOLERANCE,
                              hint="use workbench.text.decoding.softmax")
    return arr / arr.sum(axis=-1, keepdims=True)


def softmax(logits: Any, temperature: float = 1.0) -> np.ndarray:
    """``exp(z_i / τ) / Σ_j exp(z_j / τ)`` per row, computed stably; ``-inf`` logits (masked
    tokens) get probability 0."""
    t = check_knob("temperature", temperature)
    z = np.array(logits, dtype=np.float64)
    if z.ndim not in (1, 2) or z.shape[-1] == 0 or z.size == 0:
        raise InputError(f"logits must be a non-empty vector or 2-D batch, got shape {z.shape}")
    if np.isnan(z).any() or (z == np.inf).any():
        raise InputError("logits must not be NaN or +inf")
    top = z.max(axis=-1, keepdims=True)
    if not np.isfinite(top).all():
        raise InputError("every row of logits needs at least one finite value")
    e = np.exp((z - top) / t)
    return e / e.sum(axis=-1, keepdims=True)


# ----- the rules ----------------------------------------------------------------------------
def _finish(p: np.ndarray, kept: np.ndarray, rule: str, knobs: dict,
            units: str) -> Truncation:
    """Renormalise ``p`` on ``kept`` and measure it; scalars for a single distribution."""
    masked = np.where(kept, p, 0.0)
    mass = masked.sum(axis=-1)
    q = masked / mass[..., None]
    h = entropy_nats(q)
    if units == "bits":
        h = h / LN2
    if p.ndim == 1:
        mass, h = float(mass), float(h)
    return Truncation(q, kept, mass, h, units, rule, dict(knobs))


def _prefix_mask(p: np.ndarray, order: np.ndarray, mass: float) -> np.ndarray:
    """Keep, in each row, the shortest prefix of ``order`` whose mass reaches ``mass`` of the
    row's total. The total is the computed sum, so ``mass = 1`` keeps the whole support despite
    rounding."""
    sorted_p = np.take_along_axis(p, order, axis=-1)
    cum = np.cumsum(sorted_p, axis=-1)
    last = np.argmax(cum >= mass * cum[..., -1:], axis=-1)  # first index reaching the mass
    keep_sorted = np.arange(p.shape[-1]) <= last[..., None]
    kept = np.zeros_like(keep_sorted)
    np.put_along_axis(kept, order, keep_sorted, axis=-1)
    return kept


def _descending(p: np.ndarray) -> np.ndarray:
    # stable on -p: equal probabilities keep their index order
    return np.argsort(-p, axis=-1, kind="stable")


def temperature(p: Any, t: float = 1.0, units: str = "bits") -> Truncation:
    """Tempered distribution ``q_i = p_i^{1/τ} / Σ_j p_j^{1/τ}`` (softmax of logits / τ).
    Nothing is cut: ``kept`` is the support of p and ``kept_mass`` is 1."""
    t = check_knob("temperature", t)
    units = check_units(units)
    p = as_probabilities(p)
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    return _finish(softmax(logp, t), p > 0, "temperature", {"temperature": t}, units)


def top_k(p: Any, k: int = 10, units: str = "bits") -> Truncation:
    """Keep the ``k`` most probable tokens (all of them if ``k`` exceeds the vocabulary)."""
    k = check_knob("top_k", k)
    units = check_units(units)
    p = as_probabilities(p)
    order = _descending(p)
    keep_sorted = np.arange(p.shape[-1]) < k
    kept = np.zeros(p.shape, dtype=bool)
    np.put_along_axis(kept, order, np.broadcast_to(keep_sorted, p.shape), axis=-1)
    return _finish(p, kept, "top_k", {"k": k}, units)


def top_p(p: Any, top: float = 0.9, units: str = "bits") -> Truncation:
    """Nucleus: the smallest set of most probable tokens whose mass is at least ``top``."""
    top = check_knob("top_p", top)
    units = check_units(units)
    p = as_probabilities(p)
    return _finish(p, _prefix_mask(p, _descending(p), top) & (p > 0), "top_p", {"p": top},
                   units)


def eta(p: Any, epsilon: float = 3e-4, units: str = "bits") -> Truncation:
    """η-sampling: keep ``p_i > η`` with ``η = min(ε, √ε exp(-H(p)))``. The most probable token
    always stays, since ``max p ≥ exp(-H) > √ε exp(-H)``."""
    epsilon = check_knob("eta", epsilon)
    units = check_units(units)
    p = as_probabilities(p)
    threshold = np.minimum(epsilon, math.sqrt(epsilon) * np.exp(-entropy_nats(p)))
    kept = p > threshold[..., None]
    kept |= np.arange(p.shape[-1]) == np.argmax(p, axis=-1)[..., None]  # rounding guard
    return _finish(p, kept, "eta", {"epsilon": epsilon}, units)


def typical(p: Any, mass: float = 0.9, units: str = "bits") -> Truncation:
    """Locally typical set: tokens ordered by ``|-log p_i - H(p)|`` (ties towards the lower
    index), the shortest prefix of that order whose mass reaches ``mass``. Zero-probability
    tokens have infinite surprisal and come last, so they are never needed."""
    mass = check_knob("typical", mass)
    units = check_units(units)
    p = as_probabilities(p)
    with np.errstate(divide="ignore"):
        deviation = np.abs(-np.log(p) - entropy_nats(p)[..., None])
    order = np.argsort(deviation, axis=-1, kind="stable")
    return _finish(p, _prefix_mask(p, order, mass) & (p > 0), "typical", {"mass": mass},
                   units)


def min_p(p: Any, p_base: float = 0.1, units: str = "bits") -> Truncation:
    """Keep tokens with ``p_i ≥ p_base · max_j p_j`` (and ``p_i > 0``)."""
    p_base = check_knob("min_p", p_base)
    units = check_units(units)
    p = as_probabilities(p)
    kept = (p >= p_base * p.max(axis=-1, keepdims=True)) & (p > 0)
    return _finish(p, kept, "min_p", {"p_base": p_base}, units)


_FUNCS = {"temperature": temperature, "top_k": top_k, "top_p": top_p, "eta": eta,
          "typical": typical, "min_p": min_p}


def decode(p: Any, rule: str = "top_p", value: Any = None, temperature: float = 1.0,
           units: str = "bits") -> Truncation:
    """Temper ``p`` by ``temperature``, then apply ``rule`` with its knob ``value`` (default:
    the rule's default in :data:`RULES`). ``kept_mass`` is measured on the tempered
    distribution; ``knobs`` records both settings."""
    if rule not in RULES:
        raise KnobError(f"unknown decoding rule {rule!r}; rules are {sorted(RULES)}")
    value = RULES[rule].default if value is None else value
    tempered = _FUNCS["temperature"](p, temperature, units)
    if rule == "temperature":
        return _FUNCS["temperature"](p, value * tempered.knobs["temperature"], units)
    out = _FUNCS[rule](tempered.probs, value, units)
    knobs = {**out.knobs, "temperature": tempered.knobs["temperature"]}
    return Truncation(out.probs, out.kept, out.kept_mass, out.entropy, out.units, rule, knobs)


def sample(q: np.ndarray | Truncation, rng: np.random.Generator | int | None = None):
    """Draw one token index from each distribution (an int for a vector, an array for rows)
    by inverse CDF; ``rng`` is a Generator or a seed."""
    q = q.probs if isinstance(q, Truncation) else as_probabilities(q)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    cum = np.cumsum(q, axis=-1)
    u = rng.random(q.shape[:-1] + (1,)) * cum[..., -1:]
    # first index whose cumulative mass exceeds u: never a zero-probability token
    idx = np.minimum((cum <= u).sum(axis=-1), q.shape[-1] - 1)
    return int(idx) if q.ndim == 1 else idx
