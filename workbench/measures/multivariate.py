"""Multivariate measures of discrete variables, built on the counting estimators' entropies.

Every function takes ``method`` (a discrete method, default ``"plugin"``; ``"miller_madow"``,
``"shrinkage"``, ``"chao_shen"``, or a binning method to discretise continuous columns first),
that method's knobs, and ``units`` (``"bits"``, the default, or ``"nats"``), and returns an
:class:`~workbench.units.Estimate`.

Variables are passed either as one 2-D array, **one variable per column**, or as a list/tuple
of arrays, **one variable per array** (an array with several columns is then one vector-valued
variable, each distinct row a symbol). With X = (X1, ..., Xk) and X−i all but Xi:

* total correlation (Watanabe 1960): TC = Σ H(Xi) − H(X)
* dual total correlation (Han 1978): DTC = H(X) − Σ H(Xi | X−i), with H(Xi|X−i) = H(X) − H(X−i)
* O-information (Rosas, Mediano, Gastpar & Jensen 2019): Ω = TC − DTC; Ω > 0 means
  redundancy-dominated, Ω < 0 synergy-dominated (three fair bits with X3 = X1 xor X2: Ω = −1 bit;
  three copies of one fair bit: Ω = +1 bit)
* Shannon (variation-of-information) distance: d(X,Y) = H(X|Y) + H(Y|X) = 2H(X,Y) − H(X) − H(Y)
* Rajski distance (Rajski 1961): d(X,Y) / H(X,Y) in [0, 1], **unitless** (0 when H(X,Y) = 0)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError, NotSupportedError
from ..estimators import get_estimator_class, registry
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


def _estimator(method: str, knobs: dict) -> CountingEstimator:
    cls = get_estimator_class(method)
    if not issubclass(cls, CountingEstimator):
        raise NotSupportedError(
            f"method {method!r} ({cls.family}) does not count symbols, so it cannot give the "
            f"joint entropies these measures need; use one of {', '.join(counting_methods())}")
    return cls(**knobs)


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


def _joint(data, method, knobs):
    """(estimator, its entropy-of-codes function, one code array per variable, H(X) in nats)."""
    est = _estimator(method, knobs)
    codes = _variables(data, est)
    h = est.entropy_of_codes
    return est, h, codes, h(*codes)


def _tc_nats(h, codes, h_all: float) -> float:
    """TC = Σ H(Xi) − H(X): needs the k single entropies only."""
    return sum(h(c) for c in codes) - h_all


def _dtc_nats(h, codes, h_all: float) -> float:
    """DTC = H(X) − Σ H(Xi | X−i), H(Xi | X−i) = H(X) − H(X−i): needs the k leave-one-out
    joint entropies only (= Σ H(X−i) − (k−1) H(X))."""
    return h_all - sum(h_all - h(*(codes[:i] + codes[i + 1:])) for i in range(len(codes)))


def _result(value_nats: float, units: str, est: CountingEstimator, quantity: str) -> Estimate:
    return Estimate(from_nats(value_nats, units), units, est.label(), quantity, est.knobs())


def total_correlation(data: Any, method: str = "plugin", units: str = DEFAULT_UNITS,
                      **knobs: Any) -> Estimate:
    """Total correlation TC = Σ H(Xi) − H(X) (Watanabe 1960), in ``units``."""
    check_units(units)
    est, h, codes, h_all = _joint(data, method, knobs)
    return _result(_tc_nats(h, codes, h_all), units, est, "TC(X)")


def dual_total_correlation(data: Any, method: str = "plugin", units: str = DEFAULT_UNITS,
                           **knobs: Any) -> Estimate:
    """Dual total correlation DTC = H(X) − Σ H(Xi | X−i) (Han 1978), in ``units``."""
    check_units(units)
    est, h, codes, h_all = _joint(data, method, knobs)
    return _result(_dtc_nats(h, codes, h_all), units, est, "DTC(X)")


def o_information(data: Any, method: str = "plugin", units: str = DEFAULT_UNITS,
                  **knobs: Any) -> Estimate:
    """O-information Ω = TC − DTC (Rosas et al. 2019), in ``units``.

    Ω > 0: redundancy dominates; Ω < 0: synergy dominates; Ω = 0 for two variables.
    """
    check_units(units)
    est, h, codes, h_all = _joint(data, method, knobs)
    return _result(_tc_nats(h, codes, h_all) - _dtc_nats(h, codes, h_all), units, est, "Ω(X)")


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


__all__ = ["total_correlation", "dual_total_correlation", "o_information", "shannon_distance",
           "rajski_distance", "counting_methods", "UnitlessEstimate"]
