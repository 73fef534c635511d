"""Markov chains of any order with their exact entropy rate: the ground truth the entropy-rate
estimators are tested against.

An order-k chain over A symbols is given by ``transition`` of shape (A,)*k + (A,):
``transition[a_1, ..., a_k, b] = P(x_t = b | x_{t-k..t-1} = a_1..a_k)``. Its states are the
A^k contexts; with π the stationary distribution over contexts the entropy rate is

    h = −Σ_c π(c) Σ_b P(b | c) log P(b | c)        (Cover & Thomas 2006, Thm 4.2.4)

(an order-0 "chain", shape (A,), is i.i.d. and h = H(P)).
"""
from __future__ import annotations

from bisect import bisect_right
from typing import Any

import numpy as np

from ..errors import InputError
from ..units import Estimate, from_nats
from ..validation import check_seed
from .tokens import entropy_nats


def _check_transition(transition: Any) -> np.ndarray:
    p = np.asarray(transition, dtype=np.float64)
    if p.ndim < 1 or len(set(p.shape)) != 1 or p.shape[0] < 2:
        raise InputError(f"transition must have shape (A,)*k + (A,) with A ≥ 2 symbols, got "
                         f"{p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise InputError("transition probabilities must be finite and ≥ 0")
    if np.abs(p.sum(axis=-1) - 1).max() > 1e-9:
        raise InputError("every row of transition (last axis) must sum to 1")
    return p


def _context_chain(p: np.ndarray) -> np.ndarray:
    """The A^k × A^k transition matrix between contexts (a_1..a_k) -> (a_2..a_k, b)."""
    a, k = p.shape[0], p.ndim - 1
    rows = p.reshape(a ** k, a)
    m = np.zeros((a ** k, a ** k))
    ctx = np.arange(a ** k)
    for b in range(a):
        m[ctx, (ctx * a) % (a ** k) + b] += rows[:, b]
    return m


def stationary_contexts(transition: Any) -> np.ndarray:
    """Stationary distribution π over the A^k contexts (flattened, first symbol slowest).

    The left eigenvector of eigenvalue 1; the chain must be irreducible, so that π is unique.
    """
    p = _check_transition(transition)
    if p.ndim == 1:
        return np.ones(1)
    m = _context_chain(p)
    vals, vecs = np.linalg.eig(m.T)
    one = np.isclose(vals, 1.0, atol=1e-9)
    if one.sum() != 1:
        raise InputError("the chain is not irreducible (eigenvalue 1 is not simple): its "
                         "entropy rate depends on where it starts")
    pi = np.real(vecs[:, one][:, 0])
    return pi / pi.sum()


def markov_entropy_rate(transition: Any, units: str = "bits") -> Estimate:
    """Exact entropy rate h = −Σ_c π(c) Σ_b P(b|c) log P(b|c) of a stationary order-k chain."""
    p = _check_transition(transition)
    a, k = p.shape[0], p.ndim - 1
    rows = p.reshape(a ** k, a)
    h = float(stationary_contexts(p) @ entropy_nats(rows))
    return Estimate(from_nats(h, units), units, f"exact(order={k})", "h")


def sample_markov(transition: Any, n: int, seed: Any = 0) -> np.ndarray:
    """n symbols (int64 in [0, A)) of the chain, started in its stationary distribution so
    the sample is stationary from the first symbol."""
    p = _check_transition(transition)
    a, k = p.shape[0], p.ndim - 1
    if n < max(1, k):
        raise InputError(f"n must be at least the order {k}, got {n}")
    rng = check_seed(seed)
    rows = p.reshape(a ** k, a)
    out = np.empty(n, dtype=np.int64)
    ctx = int(rng.choice(a ** k, p=stationary_contexts(p))) if k else 0
    for j in range(k):  # the first k symbols are the digits of the starting context
        out[j] = (ctx // a ** (k - 1 - j)) % a
    # inverse-CDF draws from uniforms made up front; plain lists and bisect, because the loop
    # is sequential and numpy's per-call overhead would dominate it
    cdf = np.cumsum(rows, axis=1)
    cdf[:, -1] = 1.0
    table = cdf.tolist()
    u = rng.random(n).tolist()
    size = a ** k
    for t in range(k, n):
        b = bisect_right(table[ctx], u[t])
        out[t] = b
        ctx = (ctx * a) % size + b if k else 0
    return out
