"""Coupled linear-Gaussian VAR(1) processes with closed-form transfer entropy and active
information storage (ground truth for :mod:`workbench.measures.timeseries`).

V_{t+1} = A V_t + ε_t, ε_t ~ N(0, Q) i.i.d., stationary when every eigenvalue of A lies inside
the unit circle. The stationary covariance Σ solves Σ = A Σ Aᵀ + Q (a discrete Lyapunov
equation) and the lagged covariances are Cov(V_{t+h}, V_t) = A^h Σ, so every embedded vector
(future value, delay windows of any variables) is jointly Gaussian with a known covariance and

    TE(X → Y | Z) = I(Y_{t+1}; X_t^(k) | Y_t^(l), Z_t^(k))
                  = ½ log[det Σ_{F,C} det Σ_{S,C} / (det Σ_C det Σ_{F,S,C})]

(F the future, S the source window, C the conditioning windows; Barnett, Barrett & Seth 2009:
for Gaussian processes TE is half the Granger causality), and AIS(Y) = I(Y_{t+1}; Y_t^(l)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_discrete_lyapunov

from ...errors import InputError
from ...units import DEFAULT_UNITS, from_nats
from .base import as_generator


@dataclass(frozen=True)
class VARProcess:
    """A stationary VAR(1) process V_{t+1} = A V_t + ε_t with noise covariance ``noise``."""

    coupling: np.ndarray
    noise: np.ndarray

    def __post_init__(self):
        a = np.atleast_2d(np.asarray(self.coupling, dtype=np.float64))
        q = np.atleast_2d(np.asarray(self.noise, dtype=np.float64))
        d = a.shape[0]
        if a.shape != (d, d) or q.shape != (d, d):
            raise InputError(f"coupling and noise must be square of one size, got {a.shape} "
                             f"and {q.shape}")
        if np.max(np.abs(np.linalg.eigvals(a))) >= 1:
            raise InputError("the process is not stationary: an eigenvalue of the coupling "
                             "matrix has modulus >= 1")
        if np.linalg.eigvalsh(q).min() <= 0:
            raise InputError("the noise covariance must be positive definite")
        object.__setattr__(self, "coupling", a)
        object.__setattr__(self, "noise", q)

    @property
    def dim(self) -> int:
        return self.coupling.shape[0]

    @property
    def covariance(self) -> np.ndarray:
        """The stationary covariance Σ = A Σ Aᵀ + Q."""
        return solve_discrete_lyapunov(self.coupling, self.noise)

    def sample(self, n: int, seed=0, burn_in: int = 500) -> np.ndarray:
        """``n`` consecutive states (rows) after ``burn_in`` steps from a stationary draw.

        The recursion runs over time steps (each step depends on the previous one), one
        matrix-vector product per step."""
        rng = as_generator(seed)
        chol = np.linalg.cholesky(self.noise)
        state = np.linalg.cholesky(self.covariance) @ rng.standard_normal(self.dim)
        noise = rng.standard_normal((n + burn_in, self.dim)) @ chol.T
        out = np.empty((n + burn_in, self.dim))
        a = self.coupling
        for t in range(n + burn_in):
            state = a @ state + noise[t]
            out[t] = state
        return out[burn_in:]

    def _lagged_cov(self, terms: list[tuple[int, int]]) -> np.ndarray:
        """Covariance of the variables ``(index, time offset)``, offsets relative to t."""
        sigma = self.covariance
        max_lag = max(o for _, o in terms) - min(o for _, o in terms)
        powers = [np.eye(self.dim)]
        for _ in range(max_lag):
            powers.append(self.coupling @ powers[-1])
        out = np.empty((len(terms), len(terms)))
        for r, (i, s) in enumerate(terms):
            for c, (j, u) in enumerate(terms):
                h = s - u  # Cov(V_{t+s}[i], V_{t+u}[j]) = (A^h Σ)[i, j] for h >= 0
                out[r, c] = (powers[h] @ sigma)[i, j] if h >= 0 else (powers[-h] @ sigma)[j, i]
        return out

    def _cmi(self, a: list, b: list, c: list) -> float:
        """I(A; B | C) in nats for lists of (index, offset)."""
        cov = self._lagged_cov(a + b + c)
        na, nb = len(a), len(b)
        ia, ib, ic = (list(range(na)), list(range(na, na + nb)),
                      list(range(na + nb, len(cov))))

        def logdet(idx):
            return np.linalg.slogdet(cov[np.ix_(idx, idx)])[1] if idx else 0.0

        return 0.5 * (logdet(ia + ic) + logdet(ib + ic) - logdet(ic) - logdet(ia + ib + ic))

    def transfer_entropy(self, source: int, target: int, history: int = 1,
                         source_history: int = 1, lag: int = 1, conditional=(),
                         units: str = DEFAULT_UNITS) -> float:
        """Exact TE(source → target | conditional) for the same embedding as
        :func:`workbench.measures.timeseries.transfer_entropy` (windows end at t + 1 − lag)."""
        def window(i, length):
            return [(i, 1 - lag - j) for j in range(length)]

        future = [(target, 1)]
        past = [(target, -j) for j in range(history)]
        others = [term for z in conditional for term in window(z, source_history)]
        value = self._cmi(future, window(source, source_history), past + others)
        return from_nats(max(value, 0.0), units)

    def active_information_storage(self, variable: int, history: int = 1,
                                   units: str = DEFAULT_UNITS) -> float:
        """Exact AIS = I(V_{t+1}[variable]; its last ``history`` values)."""
        value = self._cmi([(variable, 1)], [(variable, -j) for j in range(history)], [])
        return from_nats(max(value, 0.0), units)


def coupled_pair(coupling: float = 0.5, memory_x: float = 0.6, memory_y: float = 0.4,
                 ) -> VARProcess:
    """X_{t+1} = memory_x X_t + ε, Y_{t+1} = memory_y Y_t + coupling X_t + ε': X drives Y."""
    a = np.array([[memory_x, 0.0], [coupling, memory_y]])
    return VARProcess(a, np.eye(2))


def chain(coupling: float = 0.6, memory: float = 0.5) -> VARProcess:
    """X → Y → Z with equal memories: Z depends on X only through Y, so
    TE(X → Z | Y) is small while TE(X → Z) is not."""
    a = np.array([[memory, 0, 0], [coupling, memory, 0], [0, coupling, memory]])
    return VARProcess(a, np.eye(3))


__all__ = ["VARProcess", "coupled_pair", "chain"]
