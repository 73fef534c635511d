"""Discrete (plug-in family) estimators: entropy from symbol counts.

Rows are symbols (any integer-valued array; each distinct row is one symbol). MI and CMI follow
from the chain rule on joint counts: I(X;Y) = H(X) + H(Y) − H(X,Y),
I(X;Y|Z) = H(X,Z) + H(Y,Z) − H(X,Y,Z) − H(Z).
"""
from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from . import register
from .base import Estimator
from .encoding import encode_rows


def plugin_entropy_from_counts(counts: np.ndarray) -> float:
    """Maximum-likelihood entropy −Σ p̂ log p̂ (nats) of an occupancy count vector."""
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.sum()
    return float(np.log(n) - xlogy(counts, counts).sum() / n)


class DiscreteEstimator(Estimator):
    """Shared chain-rule plumbing: subclasses give ``_entropy_counts(counts, n)``."""

    family = "discrete"
    data_kind = "discrete"
    integer_input = True

    def _entropy_counts(self, counts: np.ndarray) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _h(self, *arrays: np.ndarray) -> float:
        codes, m = encode_rows(np.column_stack(arrays) if len(arrays) > 1 else arrays[0])
        return self._entropy_counts(np.bincount(codes, minlength=m))

    def _entropy(self, x):
        return self._h(x)

    def _mutual_info(self, x, y):
        return self._h(x) + self._h(y) - self._h(x, y)

    def _conditional_mutual_info(self, x, y, z):
        return self._h(x, z) + self._h(y, z) - self._h(x, y, z) - self._h(z)


@register
class PluginEstimator(DiscreteEstimator):
    method_name = "plugin"
    summary = "Maximum-likelihood (plug-in) entropy −Σ p̂ log p̂; MI/CMI by the chain rule."
    references = "Paninski (2003), Estimation of entropy and mutual information."

    def _entropy_counts(self, counts):
        return plugin_entropy_from_counts(counts)
