"""The computations behind the Estimator Lab, with no UI: one estimate with its bootstrap
interval, error against sample size, estimate against one knob, and turning uploaded bytes
into ``x`` and ``y``. ``widgets.estimator_lab`` only wires widgets to these functions, so a
notebook user gets the same numbers without Panel.

Everything here computes in **nats** (what estimators return) and converts on request with
:func:`frame_in_units` / :meth:`LabEstimate.to`, so switching units never recomputes.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import param

from . import api
from .bench.tasks import Task, discrete_suite, suite
from .errors import FileLoadError, InputError, KnobError, WorkbenchError
from .estimators import families_supporting, get_estimator_class
from .estimators.base import QUANTITY_SYMBOLS
from .io import DEFAULT_MAX_BYTES, load_bytes, npz_names
from .measures.stats import bootstrap_ci
from .training import datasets
from .units import check_units, convert, convert_columns
from .validation import subsample_rows

#: The quantities the Lab offers, in the order its switch lists them.
LAB_QUANTITIES = ("mutual_info", "entropy")
#: Columns of the tidy frames that hold information values (converted by frame_in_units).
VALUE_COLUMNS = ("estimate", "truth", "error", "abs_error", "low", "high")


def methods_for(quantity: str) -> list[str]:
    """Registered methods that can compute ``quantity`` (``"mutual_info"`` or ``"entropy"``)."""
    _check_quantity(quantity)
    return families_supporting(quantity)


def _check_quantity(quantity: str) -> str:
    if quantity not in LAB_QUANTITIES:
        raise WorkbenchError(f"quantity must be one of {LAB_QUANTITIES}, got {quantity!r}")
    return quantity


def available_tasks() -> dict[str, Task]:
    """Ground-truth tasks by name: the benchmark :func:`~workbench.bench.tasks.suite` followed by
    the
    small :func:`~workbench.bench.tasks.discrete_suite` (for plug-in-family estimators)."""
    return {task.name: task for task in [*suite(), *discrete_suite()]}


def available_datasets() -> list[str]:
    """Names of the built-in datasets (:data:`workbench.training.datasets.BUILTIN`)."""
    return list(datasets.BUILTIN)


@lru_cache(maxsize=8)
def _dataset_xy(name: str) -> tuple[np.ndarray, np.ndarray]:
    data = datasets.load(name, seed=0)
    x, y = data.x, data.y
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def dataset_xy(name: str, n: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``x`` and labels ``y`` of a built-in dataset, all rows or ``n`` drawn without
    replacement (seeded). The full arrays are cached (read-only): refreshing is free."""
    if name not in datasets.BUILTIN:
        raise InputError(f"unknown dataset {name!r}; built-in ones: {available_datasets()}")
    x, y = _dataset_xy(name)
    idx = subsample_rows(len(x), n, seed)
    return (x, y) if idx is None else (x[idx], y[idx])


def task_truth(task: Any, quantity: str) -> float | None:
    """The exact value of ``quantity`` for a ground-truth task, in nats, or None if unknown.

    Tasks carry ``mutual_info`` (nats); an entropy is known only where the task has
    ``entropy_x`` (nats)."""
    attr = "mutual_info" if _check_quantity(quantity) == "mutual_info" else "entropy_x"
    value = getattr(task, attr, None)
    if callable(value):
        value = value()
    return None if value is None else float(value)


# ----- one estimate ------------------------------------------------------------------------
@dataclass(frozen=True)
class LabEstimate:
    """One estimate with its bootstrap interval (``low``/``high`` are None when skipped)."""

    value: float
    units: str
    quantity: str
    method: str
    n: int
    seconds: float
    low: float | None = None
    high: float | None = None
    confidence: float = 0.95
    n_resamples: int = 0
    scheme: str = ""
    truth: float | None = None
    note: str = ""

    @property
    def symbol(self) -> str:
        return QUANTITY_SYMBOLS[self.quantity]

    @property
    def abs_error(self) -> float | None:
        return None if self.truth is None else abs(self.value - self.truth)

    def to(self, units: str) -> LabEstimate:
        """The same estimate expressed in ``units``; nothing is recomputed."""
        if units == self.units:
            return self

        def conv(v):
            return None if v is None else convert(v, self.units, units)

        return replace(self, units=units, value=conv(self.value), low=conv(self.low),
                       high=conv(self.high), truth=conv(self.truth))


def _data(quantity: str, x: Any, y: Any) -> tuple:
    if _check_quantity(quantity) == "entropy":
        return (x,)
    if y is None:
        raise InputError("mutual information needs y as well as x; upload a y file or choose "
                         "which columns of x are y")
    return (x, y)


def estimate(x: Any, y: Any = None, *, method: str, quantity: str = "mutual_info",
             n_resamples: int = 20, confidence: float = 0.95, bootstrap_seed: int = 0,
             truth: float | None = None, interval_budget_s: float | None = None,
             **knobs: Any) -> LabEstimate:
    """``quantity`` of the data with ``method`` and ``knobs``, in nats, timed.

    ``n_resamples >= 10`` adds a bootstrap (or, for duplicate-sensitive estimators, subsampling)
    interval from :func:`workbench.bootstrap_ci` (resampling seeded by ``bootstrap_seed``; an
    estimator's own ``seed`` knob goes in ``knobs``); ``0`` skips it. ``truth`` (nats) is carried
    along for the error. ``seconds`` times the point estimate alone. With
    ``interval_budget_s``, an interval predicted (from that time) to take longer is skipped and
    ``note`` says so."""
    data = _data(quantity, x, y)
    est = api.make_estimator(method, **knobs)
    value, seconds = _timed(est, quantity, data)
    n = len(np.asarray(data[0]))
    result = LabEstimate(value, "nats", quantity, est.label(), n, seconds, truth=truth,
                         confidence=confidence)
    predicted = seconds * n_resamples
    if n_resamples and interval_budget_s is not None and predicted > interval_budget_s:
        return replace(result, note=f"interval skipped: {n_resamples} resamples would take about "
                                    f"{predicted:.0f} s, over the {interval_budget_s:g} s budget")
    if n_resamples:
        ci = bootstrap_ci(*data, method=method, units="nats", n_resamples=n_resamples,
                          confidence=confidence, resample_seed=bootstrap_seed, **knobs)
        result = replace(result, low=ci.low, high=ci.high, n_resamples=n_resamples,
                         scheme=ci.scheme)
    return result


# ----- sweeps ----------------------------------------------------------------------------
def _timed(est, quantity: str, data: tuple) -> tuple[float, float]:
    """``quantity`` in nats and the seconds it took."""
    start = time.perf_counter()
    value = float(getattr(est, quantity)(*data, units="nats"))
    return value, time.perf_counter() - start


def _tidy(rows: list[dict], columns: list[str], truth: float | None, method: str,
          quantity: str) -> pd.DataFrame:
    """The shared tail of the Lab's frames: truth, error, abs_error, units, method, quantity."""
    frame = pd.DataFrame(rows, columns=columns)
    frame["truth"] = np.nan if truth is None else truth
    frame["error"] = frame["estimate"] - frame["truth"]
    frame["abs_error"] = frame["error"].abs()
    frame["units"] = "nats"
    frame["method"] = method
    frame["quantity"] = quantity
    return frame


def _sweep_n(draw: Callable[[int, int], tuple], ns: Sequence[int], seeds: Sequence[int],
             method: str, quantity: str, truth: float | None, knobs: dict) -> pd.DataFrame:
    est = api.make_estimator(method, **knobs)
    rows = []
    for n in ns:
        for seed in seeds:
            value, seconds = _timed(est, quantity, _data(quantity, *draw(int(n), int(seed))))
            rows.append({"n": int(n), "seed": int(seed), "estimate": value, "seconds": seconds})
    return _tidy(rows, ["n", "seed", "estimate", "seconds"], truth, est.label(), quantity)


def error_vs_n(task: Any, method: str, ns: Sequence[int], seeds: Sequence[int] = (0, 1, 2), *,
               quantity: str = "mutual_info", **knobs: Any) -> pd.DataFrame:
    """Estimate on fresh samples of ``task`` for each ``n`` in ``ns`` and each seed.

    Tidy rows: ``n, seed, estimate, seconds, truth, error (= estimate − truth), abs_error,
    units ("nats"), method, quantity``. ``task`` has ``sample(n, seed) -> (x, y)`` and
    ``mutual_info`` (nats)."""
    truth = task_truth(task, quantity)
    return _sweep_n(lambda n, s: tuple(task.sample(n, s)), ns, seeds, method, quantity, truth,
                    knobs)


def estimate_vs_n(x: Any, y: Any = None, *, method: str, ns: Sequence[int],
                  seeds: Sequence[int] = (0, 1, 2), quantity: str = "mutual_info",
                  truth: float | None = None, **knobs: Any) -> pd.DataFrame:
    """Like :func:`error_vs_n` for fixed data: each row estimates on ``n`` rows drawn without
    replacement (seeded), showing how the estimate settles as data grow."""
    arrays = [np.asarray(a) for a in _data(quantity, x, y)]
    total = len(arrays[0])
    bad = [n for n in ns if not 1 <= n <= total]
    if bad:
        raise InputError(f"sample sizes {bad} are outside 1..{total} (the rows available)")

    def draw(n: int, seed: int) -> tuple:
        idx = subsample_rows(total, n, seed)
        picked = arrays if idx is None else [a[idx] for a in arrays]
        return tuple(picked) if len(picked) == 2 else (picked[0], None)

    return _sweep_n(draw, ns, seeds, method, quantity, truth, knobs)


def default_ns(n: int, min_n: int = 2, num: int = 5) -> list[int]:
    """About ``num`` sample sizes, evenly spaced in log, from ``n/16`` (at least ``min_n``)
    up to ``n``."""
    low = max(min_n, n // 16, 2)
    if low >= n:
        return [n]
    return sorted({int(round(v)) for v in np.geomspace(low, n, num)})


def sweepable_knobs(method: str) -> list[str]:
    """Knobs of ``method`` worth sweeping: numbers, booleans and selectors (not the seed, and
    no execution setting: :meth:`Estimator.knob_names` leaves those out)."""
    cls = get_estimator_class(method)
    return [k for k in cls.knob_names() if k != "seed" and isinstance(
        cls.param[k], (param.Number, param.Boolean, param.Selector))]


def knob_sweep_values(method: str, knob: str, current: Any = None, num: int = 7) -> list:
    """Values to sweep ``knob`` over, from its declaration: every option of a selector or
    boolean; for numbers, a geometric ladder from a quarter to four times the current value
    (when it is None or 0: across the soft bounds, geometric when they are positive, or 0.1 to
    10 when the range is open), kept inside the bounds (exclusive bounds excluded) and, for
    integers, deduplicated. Execution settings are not knobs and cannot be swept."""
    cls = get_estimator_class(method)
    if knob in cls.setting_names():
        raise KnobError(f"{knob!r} is an execution setting of {method!r}, not a knob: it does not "
                        "change the estimate, so there is nothing to sweep")
    if knob not in cls.knob_names():
        raise KnobError(f"method {method!r} has no knob {knob!r}; its knobs: {cls.knob_names()}")
    p = cls.param[knob]
    if isinstance(p, param.Boolean):
        return [False, True]
    if isinstance(p, param.Selector):
        return list(p.objects)
    if not isinstance(p, param.Number):
        raise KnobError(f"knob {knob!r} of {method!r} is not numeric; it cannot be swept")
    center = p.default if current is None else current
    low, high = p.bounds or (None, None)
    if center is None or center == 0:  # no scale to go by: the range, or decades around 1
        soft_low, soft_high = p.get_soft_bounds()
        if soft_low is not None and soft_high is not None:
            spread = np.geomspace if soft_low > 0 else np.linspace
            values = spread(soft_low, soft_high, num)
        else:
            values = np.geomspace(0.1, 10.0, num) + max(low or 0, 0)
    else:
        values = center * np.geomspace(0.25, 4.0, num)
    low_in, high_in = getattr(p, "inclusive_bounds", (True, True))
    if low is not None:
        ok = values >= low if low_in else values > low
        values = values[ok] if ok.any() else np.array([low] if low_in else [])
    if high is not None:
        ok = values <= high if high_in else values < high
        values = values[ok] if ok.any() else np.array([high] if high_in else [])
    keep = [] if center is None else [center]
    if isinstance(p, param.Integer):
        return sorted({int(round(v)) for v in [*values, *keep]})
    return sorted({float(v) for v in [*values, *keep]})


def estimate_vs_knob(x: Any, y: Any = None, *, method: str, knob: str,
                     values: Sequence | None = None, quantity: str = "mutual_info",
                     truth: float | None = None, **knobs: Any) -> pd.DataFrame:
    """Estimate the same data once per value of ``knob`` (other knobs fixed at ``knobs``).

    Tidy rows: ``knob, value, estimate, seconds, truth, error, abs_error, units, method,
    quantity``. A value the estimator rejects for these data (e.g. ``k >= n``) is skipped and
    its message kept in ``frame.attrs["skipped"]``; if every value fails the first error is
    raised."""
    values = knob_sweep_values(method, knob, knobs.get(knob)) if values is None else values
    data = _data(quantity, x, y)
    rows, skipped, first_error = [], {}, None
    for value in values:
        try:
            est = api.make_estimator(method, **{**knobs, knob: value})
            result, seconds = _timed(est, quantity, data)
        except WorkbenchError as exc:
            skipped[value] = str(exc)
            first_error = first_error or exc
            continue
        rows.append({"knob": knob, "value": value, "estimate": result, "seconds": seconds})
    if not rows and first_error is not None:
        raise first_error
    frame = _tidy(rows, ["knob", "value", "estimate", "seconds"], truth, method, quantity)
    frame.attrs["skipped"] = skipped
    return frame


def frame_in_units(frame: pd.DataFrame, units: str) -> pd.DataFrame:
    """A copy of a tidy Lab frame with its value columns in ``units``."""
    check_units(units)
    if frame.empty:
        return frame.assign(units=units)
    current = set(frame["units"])
    if len(current) != 1:
        raise WorkbenchError(f"frame mixes units {sorted(current)}; convert it piecewise")
    check_units(current.pop())  # every row in one information unit, so all of them convert
    return convert_columns(frame, VALUE_COLUMNS, units)


# ----- uploaded files -------------------------------------------------------------------
def parse_columns(spec: str, n_columns: int) -> list[int]:
    """Column indices from a spec such as ``"-1"``, ``"3"``, ``"0,2"``, ``"2:4"`` or ``"-2:"``
    (Python indexing, ranges end-exclusive), checked against ``n_columns``."""
    picked: list[int] = []
    for part in (p.strip() for p in str(spec).split(",")):
        if not part:
            continue
        try:
            if ":" in part:
                lo, _, hi = part.partition(":")
                idx = range(n_columns)[slice(int(lo) if lo.strip() else None,
                                             int(hi) if hi.strip() else None)]
                picked.extend(idx)
            else:
                i = int(part)
                if not -n_columns <= i < n_columns:
                    raise IndexError
                picked.append(i % n_columns)
        except (ValueError, IndexError) as exc:
            raise InputError(f"y columns {spec!r}: {part!r} is not a column index or range of "
                             f"a file with {n_columns} columns (write e.g. -1, 3, 0,2 or 2:4)"
                             ) from exc
    picked = sorted(set(picked))
    if not picked:
        raise InputError(f"y columns {spec!r} selects no column; write e.g. -1 for the last")
    return picked


def split_columns(array: np.ndarray, y_columns: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` from one 2-D array: ``y`` holds the columns ``y_columns`` names
    (see :func:`parse_columns`), ``x`` all the others."""
    arr = np.asarray(array)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise InputError(f"one file can only be split into x and y if it has at least two "
                         f"columns; it has shape {arr.shape}. Upload a separate y file")
    ycols = parse_columns(y_columns, arr.shape[1])
    if len(ycols) == arr.shape[1]:
        raise InputError(f"y columns {y_columns!r} take every column, leaving none for x")
    xcols = [c for c in range(arr.shape[1]) if c not in ycols]
    return arr[:, xcols], arr[:, ycols]


def load_xy(x_bytes: bytes, x_name: str, y_bytes: bytes | None = None, y_name: str | None = None,
            *, y_columns: str = "-1", quantity: str = "mutual_info",
            max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, np.ndarray | None]:
    """``(x, y)`` from uploaded bytes, parsed safely by :func:`workbench.io.load_bytes`.

    * entropy: ``x`` is the whole first file; ``y`` is None;
    * a second file: it is ``y``;
    * an ``.npz`` holding arrays named ``x`` and ``y``: those;
    * otherwise the columns ``y_columns`` of the one file are ``y``, the rest ``x``.
    """
    if not x_bytes:
        raise FileLoadError("no file uploaded yet: choose a .npy, .npz or .csv file")
    quantity = _check_quantity(quantity)
    key = None  # an .npz: its first array, or only the arrays x and y (others are never read)
    if y_bytes is None and x_name.lower().endswith(".npz") and \
            {"x", "y"} <= set(npz_names(x_bytes, x_name, max_bytes=max_bytes)):
        key = ("x",) if quantity == "entropy" else ("x", "y")
    first = load_bytes(x_bytes, x_name, max_bytes=max_bytes, key=key)
    if isinstance(first, dict):
        return first["x"], first.get("y")
    if quantity == "entropy":
        return first, None
    if y_bytes is not None:
        second = load_bytes(y_bytes, y_name or "y", max_bytes=max_bytes)
        return first, second
    return split_columns(first, y_columns)
