"""Additive uniform noise: X ~ U(0, 1), N ~ U(−ε, ε) independent, Y = X + N.

Derivation. h(Y|X) = h(N) = log 2ε, so I = h(Y) − log 2ε. The density of Y is the trapezoid
f(y) = (min(y + ε, 1) − max(y − ε, 0)) / 2ε.

* ε ≤ ½: two linear ramps of width 2ε rising to 1 and a flat part at 1 (which adds nothing to
  −∫ f log f). Each ramp gives −2ε ∫₀¹ u log u du = ε/2, so h(Y) = ε and I = ε − log 2ε.
* ε > ½: with c = 2ε, two ramps of width 1 rising to 1/c give 1/(2c) + (log c)/c together and
  the flat part of width c − 1 at height 1/c gives ((c − 1)/c) log c, so h(Y) = log c + 1/(2c)
  and I = 1/(2c) = 1/(4ε).

Both branches equal 1/2 at ε = ½. The pointwise ratio is p(y|x)/p(y) = 1/(2ε f(y)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from .base import Task


def additive_uniform_mi(epsilon: float) -> float:
    """I(X; X + N) in nats for X ~ U(0,1), N ~ U(−ε, ε)."""
    if epsilon <= 0:
        raise InputError(f"epsilon must be positive, got {epsilon}")
    return 0.25 / epsilon if epsilon > 0.5 else epsilon - math.log(2.0 * epsilon)


@dataclass(frozen=True, eq=False, kw_only=True)
class AdditiveUniformTask(Task):
    epsilon: float = 0.1

    def _sample(self, n, rng):
        x = rng.random(n)
        return x, x + rng.uniform(-self.epsilon, self.epsilon, size=n)

    def pointwise_mi(self, x, y):
        y = np.asarray(y, dtype=np.float64).ravel()
        e = self.epsilon
        return -np.log(np.minimum(y + e, 1.0) - np.maximum(y - e, 0.0))


def additive_uniform(epsilon: float = 0.1) -> AdditiveUniformTask:
    """The "Uniform 1 × 1 (additive noise)" task of Czyż et al. (2023)."""
    return AdditiveUniformTask(name=f"1v1-additive-{epsilon:g}", dim_x=1, dim_y=1,
                               mutual_info=additive_uniform_mi(epsilon), epsilon=float(epsilon),
                               description=f"Y = X + U(-{epsilon:g}, {epsilon:g}), X ~ U(0, 1)",
                               params={"epsilon": epsilon})
