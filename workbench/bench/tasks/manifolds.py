"""Manifolds of known intrinsic dimension, for testing intrinsic-dimension estimators.

Each sampler returns an ``(n, ambient)`` float64 array whose rows lie on a manifold of the stated
dimension d; same ``seed``, same points.

* :func:`sphere` — uniform on the unit d-sphere S^d ⊂ R^(d+1) (normalised Gaussians).
* :func:`swiss_roll` — the 2-D swiss roll in R³ (t ∈ [1.5π, 4.5π], height ∈ [0, 21]).
* :func:`linear_subspace` — standard Gaussian coordinates in a random d-dimensional linear
  subspace of R^ambient (50 by default): flat, and without the boundary of a cube, whose
  points near faces bias every kNN estimator low.
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from ...validation import check_seed


def _check(d: int, n: int) -> None:
    if d < 1 or n < 1:
        raise InputError(f"need dimension d >= 1 and n >= 1 points, got d={d}, n={n}")


def sphere(d: int, n: int = 2000, seed=0) -> np.ndarray:
    """``n`` points uniform on the unit d-sphere in R^(d+1)."""
    _check(d, n)
    g = check_seed(seed).normal(size=(n, d + 1))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def swiss_roll(n: int = 2000, seed=0) -> np.ndarray:
    """``n`` points on the swiss roll (intrinsic dimension 2) in R³."""
    _check(2, n)
    rng = check_seed(seed)
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    h = 21 * rng.random(n)
    return np.column_stack([t * np.cos(t), h, t * np.sin(t)])


def linear_subspace(d: int, n: int = 2000, ambient: int = 50, seed=0) -> np.ndarray:
    """``n`` standard Gaussian points of R^d mapped into R^ambient by a random orthonormal
    frame."""
    _check(d, n)
    if ambient < d:
        raise InputError(f"ambient dimension {ambient} is smaller than d={d}")
    rng = check_seed(seed)
    frame, _ = np.linalg.qr(rng.normal(size=(ambient, d)))
    return rng.normal(size=(n, d)) @ frame.T


__all__ = ["sphere", "swiss_roll", "linear_subspace"]
