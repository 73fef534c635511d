"""Self-consistency tests of MI estimators (Song & Ermon 2020, "Understanding the limitations
of variational mutual information estimators", ICLR, §6), on Gaussian data whose MI is known.

X ~ N(0, I_d) and Y = ρX + √(1 − ρ²) E (E independent noise), so I(X;Y) = −(d/2) log(1 − ρ²).
Three properties any MI estimate should keep, each as a ratio with a known target:

* ``independence``: I(X; Y′) with Y′ an independent copy of Y: target 0 (an absolute error,
  in nats; the baseline every estimate is read against);
* ``data_processing``: I(X; [Y, Y³]) / I(X; Y): appending a function of Y adds no information,
  target 1 (I(X; g(Y)) ≤ I(X; Y) with equality for an invertible g);
* ``additivity``: I([X₁, X₂]; [Y₁, Y₂]) / I(X₁; Y₁) for two independent copies: target 2.

A test passes when the ratio is within ``REL_TOL`` of its target (the suite's 10 %), or, for
independence, when |estimate| ≤ ``ABS_TOL`` nats (the suite's 0.1 nat).
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import api
from ..errors import InputError
from .runner import ABS_TOL, REL_TOL

TESTS = ("independence", "data_processing", "additivity")
TARGETS = {"independence": 0.0, "data_processing": 1.0, "additivity": 2.0}


def _pair(n: int, dim: int, rho: float, rng: np.random.Generator):
    x = rng.standard_normal((n, dim))
    return x, rho * x + math.sqrt(1 - rho * rho) * rng.standard_normal((n, dim))


def _estimate(label: str, x, y, knobs: dict) -> float:
    method, knobs = label, dict(knobs)
    if label.startswith("auto:"):
        method, knobs = "auto", {"budget": label[len("auto:"):], **knobs}
    return float(api.mutual_info(x, y, method=method, units="nats", **knobs))


def self_consistency(methods: Sequence[str] = ("ksg", "gaussian"), n: int = 2000, dim: int = 1,
                     rho: float = 0.8, seed: int = 0,
                     knobs: dict | None = None) -> pd.DataFrame:
    """One row per (method, test): estimates (nats), the ratio, its target, whether it passes
    and the seconds spent. ``methods``: registered names, ``"auto"`` or ``"auto:thorough"``;
    ``knobs``: ``{method: {knob: value}}``."""
    if n < 20 or dim < 1 or not 0 < rho < 1:
        raise InputError(f"need n >= 20, dim >= 1 and 0 < rho < 1; got n={n}, dim={dim}, "
                         f"rho={rho}")
    rng = np.random.default_rng(seed)
    x1, y1 = _pair(n, dim, rho, rng)
    x2, y2 = _pair(n, dim, rho, rng)
    y_indep = _pair(n, dim, rho, rng)[1]
    truth = -0.5 * dim * math.log(1 - rho * rho)
    rows = []
    for label in methods:
        kn = (knobs or {}).get(label, {})
        start = time.perf_counter()
        base = _estimate(label, x1, y1, kn)
        values = {
            "independence": (_estimate(label, x1, y_indep, kn), None),
            "data_processing": (_estimate(label, x1, np.hstack([y1, y1 ** 3]), kn), base),
            "additivity": (_estimate(label, np.hstack([x1, x2]), np.hstack([y1, y2]), kn),
                           base),
        }
        seconds = time.perf_counter() - start
        for test in TESTS:
            value, denom = values[test]
            ratio = value if denom is None else value / denom
            target = TARGETS[test]
            ok = (abs(ratio) <= ABS_TOL if denom is None
                  else abs(ratio - target) <= REL_TOL * target)
            rows.append({"method": label, "test": test, "estimate": value, "reference": denom,
                         "ratio": ratio, "target": target, "passed": bool(ok),
                         "truth": truth, "seconds": seconds / len(TESTS), "units": "nats"})
    return pd.DataFrame(rows)


def consistency_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Methods × tests of ratios (independence: the estimate in nats), plus passes."""
    wide = frame.pivot(index="method", columns="test", values="ratio")[list(TESTS)]
    wide["passed"] = frame.groupby("method")["passed"].sum()
    return wide.loc[list(dict.fromkeys(frame["method"]))]


__all__ = ["self_consistency", "consistency_table", "TESTS", "TARGETS"]
