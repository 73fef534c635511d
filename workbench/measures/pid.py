"""Partial information decomposition (PID) of what two sources X1, X2 say about a target Y.

Williams & Beer (2010) split the joint mutual information into four non-negative atoms:

    I(X1,X2;Y) = Red + Unq1 + Unq2 + Syn,        I(Xi;Y) = Red + Unqi        (i = 1, 2),

so one atom fixes the other three; the *measures* differ in which one they define:

* ``imin`` (Williams & Beer 2010, "Nonnegative decomposition of multivariate information",
  arXiv:1004.2515): Red = Σ_y p(y) min_i I(Y=y; Xi), with the specific information
  I(Y=y; Xi) = Σ_xi p(xi|y) log[p(y|xi) / p(y)].
* ``broja`` (Bertschinger, Rauh, Olbrich, Jost & Ay 2014, "Quantifying unique information",
  Entropy 16:2161): Unq1 = min_{Q∈Δ_P} I_Q(Y; X1 | X2) over the distributions Q with the same
  pairwise marginals Q(xi, y) = P(xi, y); equivalently Syn = I_P(X1,X2;Y) − min_Q I_Q(X1,X2;Y).
  The minimisation is convex; it is solved here over the affine set Δ_P (a null-space
  parametrisation, started at the interior point P(x1|y) P(x2|y) P(y)) with scipy's SLSQP.
* ``mmi`` (minimum mutual information; Barrett 2015, "Exploration of synergistic and redundant
  information sharing in static and dynamical Gaussian systems", Phys. Rev. E 91:052802):
  Red = min_i I(Xi;Y). For jointly Gaussian (X1, X2, Y) with a scalar target every PID that
  depends only on the pairwise marginals (BROJA among them) gives this decomposition, so ``mmi``
  with ``method="gaussian"`` is the PID of Gaussian data. It takes any registered MI method.

``imin`` and ``broja`` work on discrete data (the plug-in joint pmf of the samples, or an exact
pmf through :func:`pid_from_pmf`); ``mmi`` on anything a MI method accepts. Ince's (2017) CCS is
not offered: its maximum-entropy step is iterative, so it would not be exact.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.linalg import null_space
from scipy.optimize import minimize
from scipy.special import xlogy

from .. import api
from ..errors import EstimationError, InputError, UnknownMethodError
from ..estimators.discrete import PluginEstimator
from ..units import DEFAULT_UNITS, Estimate, check_units, convert, from_nats
from ..validation import as_samples, check_same_length

ATOMS = ("redundancy", "unique1", "unique2", "synergy")
#: Measures on a discrete joint pmf, and those built from MI estimates of samples.
DISCRETE_MEASURES = ("imin", "broja")
SAMPLE_MEASURES = ("mmi",)
MEASURES = DISCRETE_MEASURES + SAMPLE_MEASURES
_SYMBOLS = {"redundancy": "Red", "unique1": "Unq1", "unique2": "Unq2", "synergy": "Syn"}


class PID(Mapping):
    """The four PID atoms (floats in ``units``), as a read-only mapping
    ``{"redundancy", "unique1", "unique2", "synergy"}``.

    Attributes: ``measure``, ``units``, ``mutual_info`` (I(X1,X2;Y)), ``mi1``/``mi2``
    (I(Xi;Y)), ``method`` (the MI method for ``mmi``, else ``"plugin"`` or ``"exact"``) and
    ``intervals`` (atom → (low, high) bootstrap interval, empty without resampling).
    """

    def __init__(self, atoms: dict, *, measure: str, units: str, mutual_info: float,
                 mi1: float, mi2: float, method: str = "", intervals: dict | None = None,
                 confidence: float | None = None):
        self._atoms = {a: float(atoms[a]) for a in ATOMS}
        self.measure = measure
        self.units = check_units(units)
        self.mutual_info = float(mutual_info)
        self.mi1, self.mi2 = float(mi1), float(mi2)
        self.method = method
        self.intervals = {a: (float(lo), float(hi)) for a, (lo, hi) in (intervals or {}).items()}
        self.confidence = confidence

    def __getitem__(self, atom: str) -> Estimate:
        if atom not in self._atoms:
            raise KeyError(f"{atom!r} is not a PID atom; atoms are {', '.join(ATOMS)}")
        return Estimate(self._atoms[atom], self.units, self.measure,
                        f"{_SYMBOLS[atom]}(X1,X2;Y)")

    def __iter__(self):
        return iter(ATOMS)

    def __len__(self) -> int:
        return len(ATOMS)

    def to(self, units: str) -> PID:
        """The same decomposition in other units."""
        c = convert(1.0, self.units, units)
        return PID({a: v * c for a, v in self._atoms.items()}, measure=self.measure,
                   units=units, mutual_info=self.mutual_info * c, mi1=self.mi1 * c,
                   mi2=self.mi2 * c, method=self.method,
                   intervals={a: (lo * c, hi * c) for a, (lo, hi) in self.intervals.items()},
                   confidence=self.confidence)

    def frame(self):
        """A tidy pandas DataFrame: one row per atom (atom, value, units, measure, and the
        interval's ``low``/``high`` when there is one)."""
        import pandas as pd

        rows = [{"atom": a, "value": v, "units": self.units, "measure": self.measure}
                for a, v in self._atoms.items()]
        if self.intervals:
            for row in rows:
                row["low"], row["high"] = self.intervals[row["atom"]]
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        atoms = ", ".join(f"{a}={v:.4g}" for a, v in self._atoms.items())
        return (f"PID({self.measure}: {atoms}; I(X1,X2;Y)={self.mutual_info:.4g} "
                f"{self.units})")


# --- discrete measures on an exact pmf p[x1, x2, y] (nats) ---------------------------------

def _h(p: np.ndarray) -> float:
    return float(-xlogy(p, p).sum())


def _mi_nats(p: np.ndarray) -> tuple[float, float, float]:
    """I(X1;Y), I(X2;Y), I(X1,X2;Y) of a joint pmf p[x1, x2, y], nats."""
    py = p.sum(axis=(0, 1))
    p1y, p2y, p12 = p.sum(axis=1), p.sum(axis=0), p.sum(axis=2)
    hy = _h(py)
    return (hy + _h(p1y.sum(axis=1)) - _h(p1y), hy + _h(p2y.sum(axis=1)) - _h(p2y),
            hy + _h(p12) - _h(p))


def _specific_info(pxy: np.ndarray) -> np.ndarray:
    """I(Y=y; X) = Σ_x p(x|y) log[p(x,y) / (p(x) p(y))] for every y, from p[x, y] (nats)."""
    px, py = pxy.sum(axis=1, keepdims=True), pxy.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(pxy > 0, pxy / (px * py), 1.0)
        return np.where(py[0] > 0, (pxy * np.log(ratio)).sum(axis=0) / py[0], 0.0)


def imin_redundancy(p: np.ndarray) -> float:
    """Williams–Beer I_min = Σ_y p(y) min_i I(Y=y; Xi) of p[x1, x2, y], nats."""
    py = p.sum(axis=(0, 1))
    spec = np.minimum(_specific_info(p.sum(axis=1)), _specific_info(p.sum(axis=0)))
    return float(py @ spec)


def broja_min_mi(p: np.ndarray) -> float:
    """min over Q ∈ Δ_P of I_Q(X1,X2;Y), nats (Bertschinger et al. 2014).

    Δ_P fixes Q(x1,y) = P(x1,y) and Q(x2,y) = P(x2,y), hence Q(y). Cells where either pairwise
    marginal vanishes are 0 in every Q; the others are Q = Q0 + N c with
    Q0 = P(x1,y) P(x2,y) / P(y) (inside Δ_P) and N a basis of the null space of the marginal
    constraints. The objective −H_Q(Y|X1,X2) = Σ q log[q / q(x1,x2)] is convex in c; SLSQP
    minimises it under q ≥ 0 with its exact gradient log q(y|x1,x2).
    """
    a, b, _ = p.shape
    p1y, p2y, py = p.sum(axis=1), p.sum(axis=0), p.sum(axis=(0, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        q0 = np.where(py > 0, p1y[:, None, :] * p2y[None, :, :] / py, 0.0)
    hy = _h(py)
    mask = q0 > 0
    cells = np.flatnonzero(mask)
    i1, i2, iy = np.unravel_index(cells, p.shape)
    c_ = p.shape[2]
    # constraint rows: one per (x1, y) and one per (x2, y); columns: the free cells
    rows = np.concatenate([i1 * c_ + iy, a * c_ + i2 * c_ + iy])
    cols = np.concatenate([np.arange(cells.size)] * 2)
    A = np.zeros(((a + b) * c_, cells.size))
    A[rows, cols] = 1.0
    N = null_space(A)
    base = q0.ravel()[cells]
    pair = i1 * b + i2  # the (x1, x2) cell of each free cell

    def objective(c):
        q = np.maximum(base + N @ c, 0.0)
        q12 = np.bincount(pair, q, minlength=a * b)
        return float(xlogy(q, q).sum() - xlogy(q12, q12).sum())

    def gradient(c):
        q = np.maximum(base + N @ c, 1e-300)
        q12 = np.bincount(pair, q, minlength=a * b)
        return N.T @ (np.log(q) - np.log(q12[pair]))

    if N.shape[1] == 0:
        return max(hy + objective(np.zeros(0)), 0.0)
    best = minimize(objective, np.zeros(N.shape[1]), jac=gradient, method="SLSQP",
                    constraints=[{"type": "ineq", "fun": lambda c: base + N @ c,
                                  "jac": lambda c: N}],
                    options={"ftol": 1e-15, "maxiter": 2000})
    value = min(best.fun, objective(np.zeros(N.shape[1])))
    if not np.isfinite(value):
        raise EstimationError(f"the BROJA optimisation failed: {best.message}")
    return max(hy + value, 0.0)


def _atoms_from_redundancy(red, mi1, mi2, mi12) -> dict:
    return {"redundancy": red, "unique1": mi1 - red, "unique2": mi2 - red,
            "synergy": mi12 - mi1 - mi2 + red}


def _discrete_atoms_nats(p: np.ndarray, measure: str) -> tuple[dict, tuple]:
    mi1, mi2, mi12 = _mi_nats(p)
    if measure == "imin":
        red = imin_redundancy(p)
    else:  # broja: synergy = I_P − min_Q I_Q; Red = I(X1;Y) − Unq1
        min_mi = min(broja_min_mi(p), mi12)
        # min_Q I_Q(X1X2;Y) = I(X2;Y) + Unq1, so Red = I(X1;Y) − Unq1
        red = mi1 - max(min_mi - mi2, 0.0)
    red = float(np.clip(red, 0.0, max(min(mi1, mi2), 0.0)))  # rounding only
    return _atoms_from_redundancy(red, mi1, mi2, mi12), (mi1, mi2, mi12)


def check_pmf(pmf: Any) -> np.ndarray:
    """A joint pmf p[x1, x2, y] as a float64 array that sums to 1 (else :class:`InputError`)."""
    p = np.asarray(pmf, dtype=np.float64)
    if p.ndim != 3 or p.size == 0:
        raise InputError(f"pmf must be a 3-D table p[x1, x2, y], got shape {p.shape}")
    if (p < 0).any() or not np.isfinite(p).all() or not np.isclose(p.sum(), 1.0, atol=1e-9):
        raise InputError(f"pmf must be non-negative and sum to 1 (sum is {p.sum():.6g})")
    return p / p.sum()


def _check_measure(measure: str, allowed=MEASURES) -> str:
    if measure not in allowed:
        raise UnknownMethodError(
            f"unknown PID measure {measure!r}; available: {', '.join(allowed)} "
            "(imin and broja for discrete data, mmi for any data and MI method)")
    return measure


def _make_pid(atoms_nats: dict, mis_nats, measure, units, method, intervals=None,
              confidence=None) -> PID:
    mi1, mi2, mi12 = (from_nats(v, units) for v in mis_nats)
    return PID({a: from_nats(v, units) for a, v in atoms_nats.items()}, measure=measure,
               units=units, mutual_info=mi12, mi1=mi1, mi2=mi2, method=method,
               intervals=intervals, confidence=confidence)


def pid_from_pmf(pmf: Any, measure: str = "broja", units: str = DEFAULT_UNITS) -> PID:
    """The PID of an exact joint pmf ``pmf[x1, x2, y]`` (``imin`` or ``broja``), in ``units``."""
    check_units(units)
    _check_measure(measure, DISCRETE_MEASURES)
    atoms, mis = _discrete_atoms_nats(check_pmf(pmf), measure)
    return _make_pid(atoms, mis, measure, units, "exact")


# --- samples --------------------------------------------------------------------------------

def _joint_pmf(c1: np.ndarray, c2: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """Plug-in pmf p[x1, x2, y] of three integer code arrays (codes 0..k−1), counted in one
    compiled pass over the samples (:func:`workbench.estimators.counting.count_keys`, the
    joint count of the discrete estimators; the last key varies slowest, so y goes first)."""
    from ..estimators.counting import count_keys

    shape = (int(c1.max()) + 1, int(c2.max()) + 1, int(cy.max()) + 1)
    return count_keys([cy, c2, c1], shape[::-1]).reshape(shape) / len(c1)


def _mmi_nats(est, x1, x2, y) -> tuple[dict, tuple]:
    def mi(a, b):
        return float(est.mutual_info(a, b, units="nats"))

    mi1, mi2, mi12 = mi(x1, y), mi(x2, y), mi(np.hstack([x1, x2]), y)
    return _atoms_from_redundancy(min(mi1, mi2), mi1, mi2, mi12), (mi1, mi2, mi12)


def gaussian_mmi_pid(cov: Any, d1: int = 1, d2: int = 1, units: str = DEFAULT_UNITS) -> PID:
    """Exact ``mmi`` PID of a jointly Gaussian (X1, X2, Y) with covariance ``cov`` (the first
    ``d1`` coordinates are X1, the next ``d2`` X2, the rest Y):
    I(A;Y) = ½ log[det Σ_A det Σ_Y / det Σ_AY] for A = X1, X2, (X1, X2), Red = min_i I(Xi;Y)
    (Barrett 2015)."""
    check_units(units)
    c = np.asarray(cov, dtype=np.float64)
    d = c.shape[0]
    if c.ndim != 2 or c.shape != (d, d) or d1 < 1 or d2 < 1 or d1 + d2 >= d:
        raise InputError(f"cov must be square with more than d1 + d2 = {d1 + d2} rows, got "
                         f"shape {c.shape}")
    ys = list(range(d1 + d2, d))

    def logdet(idx):
        sign, value = np.linalg.slogdet(c[np.ix_(idx, idx)])
        if sign <= 0:
            raise InputError("cov must be positive definite")
        return value

    def mi(idx):
        return 0.5 * (logdet(idx) + logdet(ys) - logdet(idx + ys))

    s1, s2 = list(range(d1)), list(range(d1, d1 + d2))
    mis = (mi(s1), mi(s2), mi(s1 + s2))
    return _make_pid(_atoms_from_redundancy(min(mis[:2]), *mis), mis, "mmi", units, "exact")


def pid(x1: Any, x2: Any, y: Any, measure: str = "broja", units: str = DEFAULT_UNITS, *,
        method: str = "gaussian", n_resamples: int = 0, confidence: float = 0.95,
        resample_seed: int | None = 0, **knobs: Any) -> PID:
    """Partial information decomposition of I(X1,X2;Y) from paired samples (rows).

    ``measure``: ``"imin"`` or ``"broja"`` (discrete samples: integer symbols, each distinct row
    one symbol; the plug-in pmf is decomposed) or ``"mmi"`` (any data; ``method`` and ``knobs``
    name the MI estimator, ``"gaussian"`` by default). With ``n_resamples > 0`` every atom gets
    a ``confidence`` interval from resampled rows (:func:`workbench.measures.stats.resample`:
    a bootstrap, or subsampling for kNN/kernel methods).

    >>> import numpy as np, workbench as wb
    >>> a, b = np.random.default_rng(0).integers(0, 2, (2, 4000))
    >>> round(wb.pid(a, b, a ^ b, measure="broja")["synergy"], 2)
    1.0
    """
    from .stats import resample

    check_units(units)
    _check_measure(measure)
    if measure in DISCRETE_MEASURES:
        if knobs:
            raise InputError(f"measure {measure!r} has no knobs; got {sorted(knobs)}")
        est = PluginEstimator()
        try:
            codes = [est.symbols(v, name) for v, name in ((x1, "x1"), (x2, "x2"), (y, "y"))]
        except InputError as exc:
            raise InputError(f"{exc}. PID measure {measure!r} needs discrete symbols; for "
                             "continuous data use measure='mmi' with an MI method") from exc
        check_same_length(x1=codes[0], x2=codes[1], y=codes[2])
        arrays, method_label, min_n = codes, "plugin", 2

        def statistic(c1, c2, cy):
            return _discrete_atoms_nats(_joint_pmf(c1, c2, cy), measure)
    else:
        arrays = [as_samples(v, name, dtype=None) for v, name in ((x1, "x1"), (x2, "x2"),
                                                                    (y, "y"))]
        check_same_length(x1=arrays[0], x2=arrays[1], y=arrays[2])
        est = api.make_estimator(method, **knobs)
        method_label, min_n = est.label(), est.min_samples()

        def statistic(a1, a2, ay):
            return _mmi_nats(est, a1, a2, ay)

    atoms, mis = statistic(*arrays)
    intervals = None
    if n_resamples:
        def vector(*arrs):
            return np.array([statistic(*arrs)[0][a] for a in ATOMS])
        duplicate_sensitive = getattr(est, "duplicate_sensitive", False)
        low, high = resample(vector, arrays, np.array([atoms[a] for a in ATOMS]),
                             n_resamples=n_resamples, confidence=confidence,
                             scheme="subsample" if duplicate_sensitive else "bootstrap",
                             seed=resample_seed, min_samples=min_n).bounds
        intervals = {a: (from_nats(lo, units), from_nats(hi, units))
                     for a, lo, hi in zip(ATOMS, low, high)}
    return _make_pid(atoms, mis, measure, units, method_label, intervals,
                     confidence if n_resamples else None)


__all__ = ["PID", "pid", "pid_from_pmf", "gaussian_mmi_pid", "imin_redundancy",
           "broja_min_mi", "ATOMS", "MEASURES", "check_pmf"]
