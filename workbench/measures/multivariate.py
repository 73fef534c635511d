"""Multivariate measures: total correlation, dual total correlation, O- and S-information,
interaction information, multiplet sweeps, and the Shannon/Rajski distances.

Every function takes ``method``, that method's knobs, and ``units`` (``"bits"``, the default, or
``"nats"``), and returns an :class:`~workbench.units.Estimate`. Two paths:

* a **counting** method (default ``"plugin"``; ``"miller_madow"``, ``"shrinkage"``,
  ``"chao_shen"``, or a binning method to discretise continuous columns first): joint entropies
  of the symbol counts;
* any method that estimates **mutual information** (``"gaussian"``, ``"gaussian_copula"``,
  kNN ``"ksg"``, ...): continuous data through the identities
  TC = Σ_{i≥2} I(Xi; X1..X(i−1)) (chain rule) and S = Σ_i I(Xi; X−i), so
  DTC = S − TC and Ω = 2 TC − S. Every term is one MI estimate, so no differential entropy
  (and its bias) is needed.

Variables are passed either as one 2-D array, **one variable per column**, or as a list/tuple
of arrays, **one variable per array** (an array with several columns is then one vector-valued
variable, each distinct row a symbol). With X = (X1, ..., Xk) and X−i all but Xi:

* total correlation (Watanabe 1960): TC = Σ H(Xi) − H(X)
* dual total correlation (Han 1978): DTC = H(X) − Σ H(Xi | X−i), with H(Xi|X−i) = H(X) − H(X−i)
* O-information (Rosas, Mediano, Gastpar & Jensen 2019): Ω = TC − DTC; Ω > 0 means
  redundancy-dominated, Ω < 0 synergy-dominated (three fair bits with X3 = X1 xor X2: Ω = −1 bit;
  three copies of one fair bit: Ω = +1 bit)
* S-information (Rosas et al. 2019; James, Ellison & Crutchfield 2011's "exogenous
  information"): Σ = TC + DTC = Σ_i I(Xi; X−i)
* interaction information / co-information of three variables (McGill 1954; Bell 2003):
  I(X;Y;Z) = I(X;Y) − I(X;Y|Z), which for three variables equals Ω
* Shannon (variation-of-information) distance: d(X,Y) = H(X|Y) + H(Y|X) = 2H(X,Y) − H(X) − H(Y)
* Rajski distance (Rajski 1961): d(X,Y) / H(X,Y) in [0, 1], **unitless** (0 when H(X,Y) = 0)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import api
from ..errors import InputError, NotSupportedError
from ..estimators import get_estimator_class, registry
from ..estimators.base import Estimator
from ..estimators.discrete import CountingEstimator
from ..units import DEFAULT_UNITS, Estimate, check_units, from_nats
from ..validation import as_samples, check_same_length


class UnitlessEstimate(Estimate):
    """An :class:`Estimate` of a ratio: its value is the same in bits and in nats."""

    __slots__ = ()

    def __reduce__(self):
        return (UnitlessEstimate, (float(self), self.units, self.method, self.quantity,
                                   self.knobs))

    def to(self, units: str) -> UnitlessEstimate:
        return UnitlessEstimate(float(self), units, self.method, self.quantity, self.knobs)

    def describe(self) -> str:
        label = f"{self.quantity} = " if self.quantity else ""
        return f"{label}{float(self):.4g} (unitless) [{self.method}]"


def counting_methods() -> list[str]:
    """Methods the measures accept: those that estimate entropy from symbol counts."""
    return [name for name, cls in registry().items() if issubclass(cls, CountingEstimator)]


def mi_methods() -> list[str]:
    """Non-counting methods the multivariate measures accept: those that estimate MI."""
    return [name for name, cls in registry().items()
            if not issubclass(cls, CountingEstimator) and cls.supports("mutual_info")]


def _estimator(method: str, knobs: dict, allow_mi: bool = False) -> Estimator:
    cls = get_estimator_class(method)
    if issubclass(cls, CountingEstimator) or (allow_mi and cls.supports("mutual_info")):
        return cls(**knobs)
    also = f", or an MI method such as {', '.join(mi_methods()[:6])}" if allow_mi else ""
    raise NotSupportedError(
        f"method {method!r} ({cls.family}) does not count symbols, so it cannot give the "
        f"joint entropies these measures need; use one of {', '.join(counting_methods())}"
        f"{also}")


def _variables(data: Any, est: CountingEstimator) -> list[np.ndarray]:
    """One symbol-code array per variable."""
    if isinstance(data, (list, tuple)):
        codes = [est.symbols(v, f"variable {i}") for i, v in enumerate(data)]
        check_same_length(**{f"variable {i}": c for i, c in enumerate(codes)})
    else:
        arr = as_samples(data, "data", dtype=None)
        codes = [est.symbols(arr[:, j], f"data[:, {j}]") for j in range(arr.shape[1])]
    if len(codes) < 2:
        raise InputError(
            f"these measures need at least 2 variables, got {len(codes)}; pass a 2-D array with "
            "one column per variable, or a list of arrays (one per variable)")
    return codes


def _tc_nats(h, codes, h_all: float) -> float:
    """TC = Σ H(Xi) − H(X): needs the k single entropies only."""
    return sum(h(c) for c in codes) - h_all


def _dtc_nats(h, codes, h_all: float) -> float:
    """DTC = H(X) − Σ H(Xi | X−i), H(Xi | X−i) = H(X) − H(X−i): needs the k leave-one-out
    joint entropies only (= Σ H(X−i) − (k−1) H(X))."""
    return h_all - sum(h_all - h(*(codes[:i] + codes[i + 1:])) for i in range(len(codes)))


def _result(value_nats: float, units: str, est: Estimator, quantity: str) -> Estimate:
    return Estimate(from_nats(value_nats, units), units, est.label(), quantity, est.knobs())


def _continuous_variables(data: Any) -> list[np.ndarray]:
    if isinstance(data, (list, tuple)):
        arrays = [as_samples(v, f"variable {i}") for i, v in enumerate(data)]
        check_same_length(**{f"variable {i}": a for i, a in enumerate(arrays)})
    else:
        arr = as_samples(data, "data")
        arrays = [arr[:, j:j + 1] for j in range(arr.shape[1])]
    if len(arrays) < 2:
        raise InputError(
            f"these measures need at least 2 variables, got {len(arrays)}; pass a 2-D array with "
            "one column per variable, or a list of arrays (one per variable)")
    return arrays


def _mi_path(est: Estimator, variables: list[np.ndarray], need_s: bool):
    """(TC, S) in nats from MI estimates: TC = Σ_{i≥2} I(Xi; X<i), S = Σ_i I(Xi; X−i)
    (S is skipped, 0, unless ``need_s``)."""
    def mi(a, b):
        return float(est.mutual_info(a, b, units="nats"))

    k = len(variables)
    tc = sum(mi(np.hstack(variables[:i]), variables[i]) for i in range(1, k))
    s = sum(mi(np.hstack(variables[:i] + variables[i + 1:]), variables[i])
            for i in range(k)) if need_s else 0.0
    return tc, s


def _tc_dtc_nats(est: Estimator, data: Any, which: str = "both") -> tuple[float, float]:
    """(TC, DTC) in nats by the counting or the MI path, each computed once; ``which`` =
    "tc" or "dtc" skips what only the other needs (it is then 0)."""
    if isinstance(est, CountingEstimator):
        codes = _variables(data, est)
        h = est.entropy_of_codes
        h_all = h(*codes)
        return (_tc_nats(h, codes, h_all) if which != "dtc" else 0.0,
                _dtc_nats(h, codes, h_all) if which != "tc" else 0.0)
    if hasattr(est, "terms_nats"):  # score-based (soi): every term from one network
        terms = est.terms_nats(_continuous_variables(data))
        return terms["tc"], terms["dtc"]
    tc, s = _mi_path(est, _continuous_variables(data), need_s=which != "tc")
    return tc, s - tc


def _measure(data, method, knobs, units, which: str) -> Estimate:
    """TC, DTC, Ω or S ("tc", "dtc", "o", "s") by the counting or the MI path."""
    check_units(units)
    est = _estimator(method, knobs, allow_mi=True)
    symbol = {"tc": "TC(X)", "dtc": "DTC(X)", "o": "Ω(X)", "s": "Σ(X)"}[which]
    tc, dtc = _tc_dtc_nats(est, data, which if which in ("tc", "dtc") else "both")
    value = {"tc": tc, "dtc": dtc, "o": tc - dtc, "s": tc + dtc}[which]
    return _result(value, units, est, symbol)


def total_correlation(data: Any, method: str = "plugin", units: str = DEFAULT_UNITS,
                      **knobs: Any) -> Estimate:
    """Total correlation TC = Σ H(Xi) − H(X) (Watanabe 1960), in ``units``; for an MI method
    TC = Σ_{i≥2} I(Xi; X1..X(i−1))."""
    return _measure(data, method, knobs, units, "tc")


def dual_total_correlation(data: Any, method: str = "plugin", units: str = DEFAULT_UNITS,
                           **knobs: Any) -> Estimate:
    """Dual total correlation DTC = H(X) − Σ H(Xi | X−i) (Han 1978), in ``units``; for an MI
    method DTC = S − TC."""
    return _measure(data, method, knobs, units, "dtc")


def o_information(data: Any, method: str = "plugin", units: str = DEFAULT_UNITS,
                  **knobs: Any) -> Estimate:
    """O-information Ω = TC − DTC (Rosas et al. 2019), in ``units``.

    Ω > 0: redundancy dominates; Ω < 0: synergy dominates; Ω = 0 for two variables.
    Continuous data: ``method="gaussian"`` (exact for Gaussian data), ``"gaussian_copula"``
    or a kNN MI method (``"ksg"``).
    """
    return _measure(data, method, knobs, units, "o")


def s_information(data: Any, method: str = "plugin", units: str = DEFAULT_UNITS,
                  **knobs: Any) -> Estimate:
    """S-information Σ = TC + DTC = Σ_i I(Xi; X−i) (Rosas et al. 2019), in ``units``: the
    total amount of statistical dependence, redundant or synergistic."""
    return _measure(data, method, knobs, units, "s")


def interaction_information(x: Any, y: Any, z: Any, method: str = "plugin",
                            units: str = DEFAULT_UNITS, **knobs: Any) -> Estimate:
    """Interaction information (co-information) I(X;Y;Z) = I(X;Y) − I(X;Y|Z) (McGill 1954;
    Bell 2003), in ``units``; > 0 redundancy, < 0 synergy (XOR: −1 bit). ``method`` must
    estimate MI and CMI (counting, ``gaussian``, ``gaussian_copula``, ``ksg``)."""
    check_units(units)
    est = api.make_estimator(method, **knobs)
    value = (float(est.mutual_info(x, y, units="nats"))
             - float(est.conditional_mutual_info(x, y, z, units="nats")))
    return _result(value, units, est, "I(X;Y;Z)")


#: Multiplets per batch of the vectorised sweep (bounds memory: batch × k² floats).
_SWEEP_BATCH = 100_000
#: Methods whose sweep shares one covariance matrix across all multiplets.
_COVARIANCE_METHODS = ("gaussian", "gaussian_copula")


def _gaussian_terms(corr: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TC and DTC (nats) of the Gaussian with correlation ``corr`` restricted to each row of
    ``idx`` (m multiplets × k indices), from one batched Cholesky factorisation:
    H(X_S) = ½ log det(2πe Σ_S), so TC = −½ log det R (unit diagonal) and, with
    det R_{−i} = det R · (R⁻¹)_ii, DTC = ½ [log det R + Σ_i log (R⁻¹)_ii]."""
    sub = corr[idx[:, :, None], idx[:, None, :]]
    chol = np.linalg.cholesky(sub)
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    eye = np.broadcast_to(np.eye(idx.shape[1]), sub.shape)
    inv_l = np.linalg.solve(chol, eye)  # L⁻¹; R⁻¹ = L⁻ᵀ L⁻¹, so (R⁻¹)_ii = Σ_j (L⁻¹)_ji²
    inv_diag = (inv_l ** 2).sum(axis=1)
    return -0.5 * logdet, 0.5 * (logdet + np.log(inv_diag).sum(axis=1))


def multiplets(data: Any, orders: Any = (3,), method: str = "gaussian_copula",
               units: str = DEFAULT_UNITS, names: Any = None, **knobs: Any):
    """TC, DTC, O- and S-information of **every** multiplet (subset of columns) of each order
    in ``orders``, as a tidy pandas DataFrame: ``order``, ``multiplet`` (tuple of column
    indices), ``variables`` (names joined by ``,``), ``tc``, ``dtc``, ``o_information``,
    ``s_information``, ``units``, ``method``.

    With ``method="gaussian"`` or ``"gaussian_copula"`` (Ince et al. 2017: ranks → normal
    scores first) the correlation matrix is computed **once** and each order is one batched
    Cholesky pass over all C(n, k) multiplets (:func:`_gaussian_terms`); 20 variables,
    k = 3..5 (21 489 multiplets) take well under a second. Any other method (counting or MI)
    is looped multiplet by multiplet (slow for many multiplets). ``names`` label the columns
    (default: a DataFrame's column names, else ``x0, x1, ...``).
    """
    import itertools

    import pandas as pd

    check_units(units)
    if names is None and hasattr(data, "columns"):
        names = [str(c) for c in data.columns]
    arr = as_samples(data, "data", dtype=None)
    n_vars = arr.shape[1]
    names = [f"x{j}" for j in range(n_vars)] if names is None else [str(v) for v in names]
    if len(names) != n_vars:
        raise InputError(f"names has {len(names)} entries for {n_vars} columns")
    orders = [orders] if isinstance(orders, (int, np.integer)) else list(orders)
    bad = [k for k in orders if not isinstance(k, (int, np.integer)) or not 2 <= k <= n_vars]
    if bad or not orders:
        raise InputError(f"orders must be integers in 2..{n_vars} (the number of columns), "
                         f"got {orders}")
    frames = []
    # the shared-correlation sweep is the plain Gaussian (copula) estimate: knobs such as
    # bias_correct go through the per-multiplet path, which applies them
    fast = method in _COVARIANCE_METHODS and not knobs
    if fast:
        est = _estimator(method, knobs, allow_mi=True)
        x = arr.astype(np.float64)
        if np.ptp(x, axis=0).min() == 0:
            raise InputError("a column of data is constant: its multiplets have no defined "
                             "Gaussian entropy; drop it first")
        if method == "gaussian_copula":
            from ..estimators.gaussian import copula_normalize
            x = copula_normalize(x)
        corr = np.corrcoef(x, rowvar=False)
        label = est.label()
    for k in orders:
        idx = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(n_vars), k)),
                          dtype=np.int64).reshape(-1, k)
        if fast:
            parts = [_gaussian_terms(corr, idx[i:i + _SWEEP_BATCH])
                     for i in range(0, len(idx), _SWEEP_BATCH)]
            tc = np.concatenate([p[0] for p in parts])
            dtc = np.concatenate([p[1] for p in parts])
        else:  # TC and DTC of a multiplet share their terms (TC is part of S = TC + DTC)
            est = _estimator(method, knobs, allow_mi=True)
            tc, dtc = np.array([_tc_dtc_nats(est, arr[:, m]) for m in idx],
                               dtype=np.float64).reshape(-1, 2).T
            label = est.label()
        tc, dtc = from_nats(1.0, units) * tc, from_nats(1.0, units) * dtc
        frames.append(pd.DataFrame({
            "order": k, "multiplet": [tuple(int(v) for v in m) for m in idx],
            "variables": [",".join(names[j] for j in m) for m in idx],
            "tc": tc, "dtc": dtc, "o_information": tc - dtc, "s_information": tc + dtc,
            "units": units, "method": label}))
    return pd.concat(frames, ignore_index=True)


def _pair_entropies(x, y, method, knobs):
    est = _estimator(method, knobs)
    cx, cy = est.symbols(x, "x"), est.symbols(y, "y")
    check_same_length(x=cx, y=cy)
    h = est.entropy_of_codes
    return est, h(cx), h(cy), h(cx, cy)


def shannon_distance(x: Any, y: Any, method: str = "plugin", units: str = DEFAULT_UNITS,
                     **knobs: Any) -> Estimate:
    """Shannon (variation-of-information) distance d = H(X|Y) + H(Y|X), in ``units``."""
    check_units(units)
    est, hx, hy, hxy = _pair_entropies(x, y, method, knobs)
    return _result(2.0 * hxy - hx - hy, units, est, "d(X,Y)")


def rajski_distance(x: Any, y: Any, method: str = "plugin", units: str = DEFAULT_UNITS,
                    **knobs: Any) -> UnitlessEstimate:
    """Rajski distance d(X,Y) / H(X,Y) in [0, 1]; 0 when H(X,Y) = 0 (both constant).

    The ratio is **unitless**: ``units`` is accepted for a uniform signature and recorded on
    the result, but does not change the value.
    """
    check_units(units)
    est, hx, hy, hxy = _pair_entropies(x, y, method, knobs)
    value = (2.0 * hxy - hx - hy) / hxy if hxy > 0 else 0.0
    return UnitlessEstimate(value, units, est.label(), "d_R(X,Y)", est.knobs())


__all__ = ["total_correlation", "dual_total_correlation", "o_information", "s_information",
           "interaction_information", "multiplets", "shannon_distance", "rajski_distance",
           "counting_methods", "mi_methods", "UnitlessEstimate"]
