"""Units of information. Estimators compute in nats; the front door converts.

1 bit = ln 2 nats. Every public estimate takes ``units="bits"`` (the default) or ``"nats"``.
"""
from __future__ import annotations

import math

from .errors import WorkbenchError

LN2 = math.log(2.0)
UNITS = ("bits", "nats")
DEFAULT_UNITS = "bits"


def check_units(units: str) -> str:
    """Return ``units`` if it is ``"bits"`` or ``"nats"``, else raise a clear error."""
    if units not in UNITS:
        raise WorkbenchError(f"units must be 'bits' or 'nats', got {units!r}")
    return units


def from_nats(value: float, units: str) -> float:
    """Convert a value in nats to ``units``."""
    return value / LN2 if check_units(units) == "bits" else value


def to_nats(value: float, units: str) -> float:
    """Convert a value in ``units`` to nats."""
    return value * LN2 if check_units(units) == "bits" else value


def convert(value: float, from_units: str, to_units: str) -> float:
    """Convert between bits and nats."""
    return from_nats(to_nats(value, from_units), to_units)


def convert_columns(frame, columns, units: str, units_column: str = "units"):
    """A copy of the DataFrame ``frame`` with the ``columns`` of its bits / nats rows in
    ``units``.

    Each row is in the units named in its ``units_column``; every column is multiplied by one
    factor per distinct source unit (1 for rows already in ``units``; rows in other units, such
    as ``""`` for a loss or accuracy, keep their values and units). Missing columns are skipped.
    """
    check_units(units)
    out = frame.copy()
    factor = out[units_column].map({u: convert(1.0, u, units) for u in UNITS}).astype("float64")
    convertible = factor.notna()
    if convertible.any():
        factor = factor.fillna(1.0).to_numpy()  # positional: duplicate index labels are fine
        for col in columns:
            if col in out:
                out[col] = out[col] * factor
        out.loc[convertible, units_column] = units
    return out


class Estimate(float):
    """A float that remembers its units and how it was computed.

    It *is* a Python float (arithmetic, numpy and json treat it as one); the extra attributes
    let a user see which estimator ``method="auto"`` picked::

        >>> mi = workbench.mutual_info(x, y)          # doctest: +SKIP
        >>> mi.method, mi.units                       # doctest: +SKIP
        ('ksg', 'bits')
    """

    __slots__ = ("units", "method", "quantity", "knobs")

    def __new__(cls, value, units="bits", method="", quantity="", knobs=None):
        obj = super().__new__(cls, value)
        obj.units = check_units(units)
        obj.method = method
        obj.quantity = quantity
        obj.knobs = dict(knobs or {})
        return obj

    def __reduce__(self):
        return (Estimate, (float(self), self.units, self.method, self.quantity, self.knobs))

    def to(self, units: str) -> Estimate:
        """The same estimate in other units."""
        return Estimate(convert(float(self), self.units, units), units, self.method,
                        self.quantity, self.knobs)

    def describe(self) -> str:
        """Human-readable one-liner, e.g. ``'I(X;Y) = 0.5123 bits [ksg]'``."""
        label = f"{self.quantity} = " if self.quantity else ""
        return f"{label}{float(self):.4g} {self.units} [{self.method}]"
