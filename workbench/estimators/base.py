"""The estimator interface.

An estimator is a :class:`param.Parameterized` class: every knob is a typed, bounded
``param`` Parameter with a doc string. Panel builds widgets from the same declarations
(``pn.Param``), the CLI builds its flags from them, and knob validation happens in one place.

Subclasses set the class attributes ``method_name`` (the method name users type), ``family``,
``summary`` and ``references``, and implement any of ``_entropy``, ``_mutual_info`` and
``_conditional_mutual_info`` on validated 2-D float64 arrays, returning **nats**. The public
methods validate input, convert units and never return NaN.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import param

from ..errors import EstimationError, KnobError, NotSupportedError
from ..units import DEFAULT_UNITS, Estimate, check_units, from_nats
from ..validation import as_samples, check_same_length, subsample_rows

QUANTITIES = ("entropy", "mutual_info", "conditional_mutual_info")
QUANTITY_SYMBOLS = {"entropy": "H(X)", "mutual_info": "I(X;Y)",
                    "conditional_mutual_info": "I(X;Y|Z)"}


class Estimator(param.Parameterized):
    """Base class of all estimators. Knobs are the class's ``param`` Parameters."""

    method_name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    references: ClassVar[str] = ""
    #: "continuous", "discrete" or "any": what kind of data the estimator is meant for.
    data_kind: ClassVar[str] = "continuous"
    #: Integer (discrete) estimators keep integer dtypes; continuous ones get float64.
    integer_input: ClassVar[bool] = False
    #: True when repeated rows bias the estimate (kNN, kernels): bootstrap_ci then subsamples
    #: without replacement instead of resampling with replacement.
    duplicate_sensitive: ClassVar[bool] = False

    def __init__(self, **knobs: Any):
        unknown = sorted(set(knobs) - set(self.knob_names()))
        if unknown:
            raise KnobError(
                f"unknown knob(s) {unknown} for method {self.method_name!r}; its knobs are "
                f"{self.knob_names() or 'none'}")
        try:
            super().__init__(**knobs)
        except (ValueError, TypeError) as exc:
            raise KnobError(f"bad knob value for method {self.method_name!r}: {exc}") from exc

    # ----- introspection -------------------------------------------------------------
    @classmethod
    def knob_names(cls) -> list[str]:
        return [p for p in cls.param if p != "name"]

    @classmethod
    def supports(cls, quantity: str) -> bool:
        private = "_" + quantity
        return getattr(cls, private, None) is not getattr(Estimator, private, None)

    @classmethod
    def quantities(cls) -> list[str]:
        return [q for q in QUANTITIES if cls.supports(q)]

    @classmethod
    def describe_knobs(cls) -> list[dict]:
        """Each knob's name, type, default, bounds, allowed objects and doc."""
        out = []
        for pname in cls.knob_names():
            p = cls.param[pname]
            entry = {"name": pname, "type": type(p).__name__, "default": p.default,
                     "doc": (p.doc or "").strip()}
            bounds = getattr(p, "bounds", None)
            if bounds is not None:
                entry["bounds"] = list(bounds)
            objects = getattr(p, "objects", None)
            if objects:
                entry["objects"] = list(objects)
            out.append(entry)
        return out

    def knobs(self) -> dict:
        """Current knob values."""
        return {k: getattr(self, k) for k in self.knob_names()}

    def label(self) -> str:
        """``name(knob=value, ...)`` listing knobs that differ from their defaults."""
        changed = {k: v for k, v in self.knobs().items() if v != self.param[k].default}
        inner = ", ".join(f"{k}={v}" for k, v in changed.items())
        return f"{self.method_name}({inner})" if inner else self.method_name

    # ----- validation hooks ------------------------------------------------------------
    def min_samples(self) -> int:
        """Fewest rows this estimator accepts with its current knobs."""
        return 2

    def _prepare(self, x: Any, name: str) -> np.ndarray:
        return as_samples(x, name, min_samples=self.min_samples(),
                          dtype=None if self.integer_input else np.float64)

    def _check_result(self, value: float, quantity: str) -> float:
        value = float(value)
        if not math.isfinite(value):
            raise EstimationError(
                f"{self.method_name} produced a non-finite {quantity} ({value}) for these data; "
                "try "
                "another method or check the data for duplicates and constant columns")
        return value

    def _finish(self, value_nats: float, units: str, quantity: str) -> Estimate:
        value = self._check_result(value_nats, quantity)
        return Estimate(from_nats(value, units), units, self.label(), QUANTITY_SYMBOLS[quantity],
                        self.knobs())

    def _unsupported(self, quantity: str):
        from . import families_supporting  # late import: registry imports this module

        raise NotSupportedError(
            f"method {self.method_name!r} ({self.family}) cannot compute {quantity}; "
            "methods that can: "
            f"{', '.join(families_supporting(quantity))}")

    # ----- public API ------------------------------------------------------------------
    def entropy(self, x: Any, units: str = DEFAULT_UNITS) -> Estimate:
        """Entropy of ``x`` (rows are samples) in ``units``."""
        check_units(units)
        if not self.supports("entropy"):
            self._unsupported("entropy")
        return self._finish(self._entropy(self._prepare(x, "x")), units, "entropy")

    def mutual_info(self, x: Any, y: Any, units: str = DEFAULT_UNITS) -> Estimate:
        """Mutual information I(X;Y) in ``units``."""
        check_units(units)
        if not self.supports("mutual_info"):
            self._unsupported("mutual_info")
        xa, ya = self._prepare(x, "x"), self._prepare(y, "y")
        check_same_length(x=xa, y=ya)
        return self._finish(self._mutual_info(xa, ya), units, "mutual_info")

    def conditional_mutual_info(self, x: Any, y: Any, z: Any,
                                units: str = DEFAULT_UNITS) -> Estimate:
        """Conditional mutual information I(X;Y|Z) in ``units``."""
        check_units(units)
        if not self.supports("conditional_mutual_info"):
            self._unsupported("conditional_mutual_info")
        xa, ya, za = self._prepare(x, "x"), self._prepare(y, "y"), self._prepare(z, "z")
        check_same_length(x=xa, y=ya, z=za)
        return self._finish(self._conditional_mutual_info(xa, ya, za), units,
                            "conditional_mutual_info")

    # ----- to implement (nats, validated arrays) ------------------------------------------
    def _entropy(self, x: np.ndarray) -> float:  # pragma: no cover - marker
        raise NotImplementedError

    def _mutual_info(self, x: np.ndarray, y: np.ndarray) -> float:  # pragma: no cover
        raise NotImplementedError

    def _conditional_mutual_info(self, x, y, z) -> float:  # pragma: no cover
        raise NotImplementedError


class Seeded(param.Parameterized):
    """Mixin for stochastic estimators: same seed, same number."""

    seed = param.Integer(default=0, bounds=(0, None), doc="Random seed; same seed, same number.")


class Subsampled(Seeded):
    """Mixin for estimators whose cost grows fast with n: at most ``max_samples`` rows, a
    seeded random subset, are used."""

    max_samples = param.Integer(
        default=None, allow_None=True, bounds=(2, None),
        doc="Use at most this many rows (a seeded random subset); None uses every row.")

    def _subsample(self, *arrays: np.ndarray) -> list[np.ndarray]:
        """The same seeded subset of rows of every array (all of them when n <= max_samples)."""
        idx = subsample_rows(len(arrays[0]), self.max_samples, self.seed)
        return [a if idx is None else a[idx] for a in arrays]
