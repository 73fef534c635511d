"""Discrete tasks from an explicit joint probability table; exact values by enumeration.

H(X) = −Σ p(x) log p(x), H(Y) likewise, H(X,Y) over the table, I(X;Y) = H(X) + H(Y) − H(X,Y).
Sampling draws cells by inverse CDF on the flattened table; each X (Y) symbol may stand for a
vector of integers (``x_values``), e.g. the two input bits of XOR.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import entr

from ...errors import InputError
from ...units import DEFAULT_UNITS, from_nats
from .base import Task


def _entropy(p: np.ndarray) -> float:
    return float(entr(np.asarray(p, dtype=np.float64)).sum())


def _values(values, k: int, side: str) -> np.ndarray:
    if values is None:
        return np.arange(k, dtype=np.int64).reshape(k, 1)
    arr = np.asarray(values)
    arr = arr.reshape(k, -1) if arr.ndim == 1 else arr
    if arr.shape[0] != k or arr.dtype.kind not in "iub":
        raise InputError(f"{side}_values must be integers with one row per {side} symbol "
                         f"({k}), got shape {arr.shape} and dtype {arr.dtype}")
    if len(np.unique(arr, axis=0)) != k:
        raise InputError(f"{side}_values must be distinct: each row names one symbol")
    return arr.astype(np.int64)


@dataclass(frozen=True, eq=False, kw_only=True)
class DiscreteTask(Task):
    """Samples (X, Y) from ``pmf[i, j] = P(X = x_values[i], Y = y_values[j])``."""

    pmf: np.ndarray = field(repr=False)
    x_values: np.ndarray = field(repr=False)
    y_values: np.ndarray = field(repr=False)

    def _sample(self, n, rng):
        cdf = np.cumsum(self.pmf.ravel())
        cells = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"),
                           cdf.size - 1)
        i, j = np.divmod(cells, self.pmf.shape[1])
        return self.x_values[i], self.y_values[j]

    # exact entropies in nats, like ``mutual_info``; ``entropies(units)`` converts
    @property
    def entropy_x(self) -> float:
        return _entropy(self.pmf.sum(axis=1))

    @property
    def entropy_y(self) -> float:
        return _entropy(self.pmf.sum(axis=0))

    @property
    def joint_entropy(self) -> float:
        return _entropy(self.pmf)

    def entropies(self, units: str = DEFAULT_UNITS) -> dict:
        """H(X), H(Y), H(X,Y) and I(X;Y) in ``units`` (bits by default)."""
        values = {"H(X)": self.entropy_x, "H(Y)": self.entropy_y,
                  "H(X,Y)": self.joint_entropy, "I(X;Y)": self.mutual_info}
        return {k: from_nats(v, units) for k, v in values.items()}

    def pointwise_mi(self, x, y):
        def index(values, table):
            # match each sample row to its symbol row (few symbols: a dense comparison is fine)
            hits = (np.asarray(values)[:, None, :] == table[None, :, :]).all(axis=2)
            return hits.argmax(axis=1)
        i = index(np.asarray(x).reshape(len(x), -1), self.x_values)
        j = index(np.asarray(y).reshape(len(y), -1), self.y_values)
        px, py = self.pmf.sum(axis=1), self.pmf.sum(axis=0)
        return np.log(self.pmf[i, j]) - np.log(px[i]) - np.log(py[j])


def from_pmf(pmf, name: str, x_values=None, y_values=None, description: str = "") -> DiscreteTask:
    """A discrete task from a joint table (rows: X symbols, columns: Y symbols)."""
    p = np.asarray(pmf, dtype=np.float64)
    if p.ndim != 2 or p.size == 0:
        raise InputError(f"pmf must be a 2-D table (X symbols x Y symbols), got shape {p.shape}")
    if (p < 0).any() or not np.isfinite(p).all() or not np.isclose(p.sum(), 1.0, atol=1e-9):
        raise InputError(f"pmf must be non-negative and sum to 1 (sum is {p.sum():.6g})")
    p = p / p.sum()
    xv, yv = _values(x_values, p.shape[0], "x"), _values(y_values, p.shape[1], "y")
    mi = max(_entropy(p.sum(axis=1)) + _entropy(p.sum(axis=0)) - _entropy(p), 0.0)
    return DiscreteTask(name=name, dim_x=xv.shape[1], dim_y=yv.shape[1], mutual_info=mi,
                        discrete=True, pmf=p, x_values=xv, y_values=yv,
                        description=description or f"discrete {p.shape[0]} x {p.shape[1]} table",
                        params={"pmf": p.tolist()})


def binary_symmetric_channel(flip: float = 0.1) -> DiscreteTask:
    """X a fair bit, Y = X flipped with probability ``flip``: I = log 2 − H_b(flip)."""
    if not 0 <= flip <= 1:
        raise InputError(f"flip probability must be in [0, 1], got {flip}")
    q = 1.0 - flip
    return from_pmf([[q / 2, flip / 2], [flip / 2, q / 2]], name=f"bsc-{flip:g}",
                    description=f"binary symmetric channel, flip probability {flip:g}")


def xor(noise: float = 0.0) -> DiscreteTask:
    """X = (A, B) two fair bits, Y = A xor B (flipped with probability ``noise``). Each bit
    alone says nothing about Y; together they give I = log 2 − H_b(noise): pure synergy."""
    x_values = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    parity = x_values.sum(axis=1) % 2
    pmf = np.where(parity[:, None] == np.arange(2)[None, :], 1.0 - noise, noise) / 4.0
    return from_pmf(pmf, name=f"xor-{noise:g}", x_values=x_values,
                    description=f"Y = A xor B with flip probability {noise:g}, X = (A, B)")


def noisy_copy(k: int = 4, noise: float = 0.2) -> DiscreteTask:
    """X uniform on k symbols; Y = X with probability 1 − noise, else uniform over the others."""
    if k < 2:
        raise InputError(f"k must be at least 2, got {k}")
    pmf = np.full((k, k), noise / (k - 1))
    np.fill_diagonal(pmf, 1.0 - noise)
    return from_pmf(pmf / k, name=f"copy{k}-{noise:g}",
                    description=f"{k}-symbol channel, error probability {noise:g}")


def discrete_suite() -> list[DiscreteTask]:
    """A few small discrete tasks with exact MI (for plug-in-family estimators)."""
    return [binary_symmetric_channel(0.1), binary_symmetric_channel(0.3), xor(0.0), xor(0.1),
            noisy_copy(4, 0.2), noisy_copy(16, 0.5)]
