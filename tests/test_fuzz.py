"""Property-based fuzzing of every registered estimator (hypothesis).

For every method in the registry and every quantity it supports, random inputs (shapes from
empty to 3-D, float/int/bool dtypes, NaN and infinity, magnitudes from 1e-300 to 1e300, tied
and constant columns, mismatched lengths) must give either a finite number or an error of the
project's own family (:class:`workbench.errors.WorkbenchError`): never another exception, never
NaN. Slow methods run with tiny knobs (neural: 3 steps; matrices stay small because n <= 40).

The profile is derandomised, so CI sees the same examples on every run.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.errors import WorkbenchError
from workbench.estimators import registry

settings.register_profile(
    "workbench-fuzz", max_examples=10, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FUZZ = settings.get_profile("workbench-fuzz")

#: Knobs that keep each example fast; everything else stays at its default.
NEURAL = dict(steps=3, eval_every=1, patience=1, batch_size=8, hidden="4", embed_dim=2)
SCORE = dict(steps=3, eval_every=1, patience=1, batch_size=8, hidden="4", n_lambda=2)
TINY = {"mine": NEURAL, "nwj": NEURAL, "infonce": NEURAL, "smile": NEURAL,
        "compressed_ksg": {"dim": 1}, "dse": {"repeats": 1}, "minde": SCORE, "soi": SCORE,
        "score_max": {"steps": 3}}

CASES = [(name, q) for name, cls in registry().items() for q in cls.quantities()]

SCALES = (1.0, 1.0, -1.0, 1e-300, 1e-170, 1e154, 1e300, 1e308, 2.0 ** 60, 5e-324)
DTYPES = ("float64", "float64", "float64", "float32", "int64", "int8", "uint8", "bool")
KINDS = ("normal", "normal", "ties", "levels", "constant_column", "dependent", "copy")
#: At most one corruption per example, so most examples reach the numerical code.
CORRUPTIONS = (None,) * 6 + ("nan", "inf", "3d", "empty", "length", "tiny_n", "list",
                             "string", "complex", "none")


def _array(draw, n: int, d: int, partner: np.ndarray | None) -> np.ndarray:
    r = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    kind = draw(st.sampled_from(KINDS))
    a = r.standard_normal((n, d))
    if kind == "ties":
        a = np.round(a, 1)
    elif kind == "levels":
        a = r.integers(0, 3, (n, d)).astype(float)
    elif kind == "constant_column":
        a[:, 0] = 1.5
    elif kind == "dependent" and d > 1:
        a[:, -1] = 2 * a[:, 0] - 1
    elif kind == "copy" and partner is not None:  # y = x (or a function of it): I is large
        a = np.repeat(np.asarray(partner, dtype=float).reshape(n, -1)[:, :1], d, axis=1)
    dtype = draw(st.sampled_from(DTYPES))
    if dtype.startswith("float"):
        with np.errstate(over="ignore", under="ignore"):  # float32 at 1e300 is part of it
            a = (a * draw(st.sampled_from(SCALES))).astype(dtype)
    elif dtype == "bool":
        a = a > 0
    else:
        a = np.clip(np.round(a * 3), 0 if dtype == "uint8" else -100, 100).astype(dtype)
    return a[:, 0] if draw(st.booleans()) and d == 1 else a


@st.composite
def inputs(draw, count: int):
    """``count`` arrays with the same number of rows, at most one of them corrupted."""
    n = draw(st.sampled_from((3, 5, 12, 25, 40)))
    out = []
    for _ in range(count):
        out.append(_array(draw, n, draw(st.integers(1, 3)), out[0] if out else None))
    corruption = draw(st.sampled_from(CORRUPTIONS))
    i = draw(st.integers(0, count - 1))
    a = np.array(out[i], dtype=float)
    if corruption in ("nan", "inf"):
        a.flat[draw(st.integers(0, a.size - 1))] = np.nan if corruption == "nan" else -np.inf
        out[i] = a
    elif corruption == "3d":
        out[i] = a.reshape(n, -1)[:, :, None]
    elif corruption == "empty":
        out[i] = a.reshape(n, -1)[:, :0]
    elif corruption == "length":
        out[i] = a[:-1]
    elif corruption == "tiny_n":
        out = [np.asarray(b)[:1] for b in out]
    elif corruption == "list":
        out[i] = a.tolist()
    elif corruption == "string":
        out[i] = "data.csv"
    elif corruption == "complex":
        out[i] = a + 1j
    elif corruption == "none":
        out[i] = None
    return out


def _check(method: str, quantity: str, data: list) -> None:
    est = registry()[method](**TINY.get(method, {}))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numerical warnings are fine; wrong types are not
            value = getattr(est, quantity)(*data)
    except WorkbenchError:
        return
    assert isinstance(value, float), type(value)
    assert math.isfinite(value), value


@pytest.mark.parametrize(("method", "quantity"), CASES, ids=[f"{m}-{q}" for m, q in CASES])
def test_finite_number_or_workbench_error(method, quantity):
    count = {"entropy": 1, "mutual_info": 2, "conditional_mutual_info": 3}[quantity]

    @FUZZ
    @given(data=inputs(count))
    def run(data):
        _check(method, quantity, data)

    run()
