"""The computations behind the Estimator Lab, with no UI: one estimate with its bootstrap
interval, error against sample size, estimate against one knob, and turning uploaded bytes
into ``x`` and ``y``. ``widgets.estimator_lab`` only wires widgets to these functions, so a
notebook user gets the same numbers without Panel.

Everything here computes in **nats** (what estimators return) and converts on request with
:func:`workbench.units.convert_columns` (on :data:`VALUE_COLUMNS`) / :meth:`LabEstimate.to`,
so switching units never recomputes.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
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
from .io import DEFAULT_MAX_BYTES, MB, load_bytes, npz_names
from .measures.stats import bootstrap_ci
from .training import datasets
from .units import convert, from_nats
from .validation import subsample_rows

#: The quantities the Lab offers, in the order its switch lists them.
LAB_QUANTITIES = ("mutual_info", "entropy")
#: Columns of the tidy frames that hold information values (converted with
#: ``convert_columns(frame, VALUE_COLUMNS, units)``).
VALUE_COLUMNS = ("estimate", "truth", "error", "abs_error", "low", "high")
#: The menu entry that lets :func:`workbench.api.choose_method` pick the estimator.
AUTO = "auto"
#: Sample sizes the Lab draws from a task or a dataset.
MIN_N, MAX_N = 10, 200_000
#: Families whose estimates count symbols (observed values or bins): with n samples they can
#: say at most log n, reached when every sample is distinct.
SATURATING_FAMILIES = ("discrete", "binning")
#: An estimate within this fraction of log n counts as sitting at log n.
SATURATION_RTOL = 0.025
#: What the Lab says about ``auto`` (the rule is :func:`workbench.api.choose_method`).
AUTO_SUMMARY = ("Picks an estimator from the data: discrete or continuous, and how many "
                "dimensions (workbench.api.choose_method). The result says which it chose and "
                "why; it has no knobs of its own.")


def check_sample_size(n: Any, low: int = MIN_N, high: int = MAX_N) -> int:
    """``n`` as an int if ``low <= n <= high``; otherwise an :class:`InputError` that says
    which limit it crossed."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InputError(f"sample size n must be a whole number, got {n!r}")
    if n > high:
        raise InputError(f"sample size n = {n:,} is above the limit of {high:,}; lower it "
                         "(or upload a file to use more rows)")
    if n < low:
        raise InputError(f"sample size n = {n:,} is below the minimum of {low}; raise it")
    return int(n)


def methods_for(quantity: str) -> list[str]:
    """Registered methods that can compute ``quantity`` (``"mutual_info"`` or ``"entropy"``)."""
    _check_quantity(quantity)
    return families_supporting(quantity)


def is_saturated(value: float, n: int, method: str) -> bool:
    """Whether an estimate ``value`` (nats) of ``method`` on ``n`` samples sits at log n, the
    most a symbol-counting estimator (:data:`SATURATING_FAMILIES`) can say about n samples:
    every sample is its own symbol (e.g. plug-in entropy of continuous data), so the number
    measures n, not the data. Bias-corrected counters land a little above log n; they count
    too. Other families (differential entropies) have no such ceiling."""
    if method == AUTO or get_estimator_class(method).family not in SATURATING_FAMILIES:
        return False
    return n >= 2 and value >= (1 - SATURATION_RTOL) * math.log(n)


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
    #: The registered method that computed it and its knobs (what ``auto`` chose, if used).
    method_name: str = ""
    knobs: dict = field(default_factory=dict)
    #: Why ``auto`` chose ``method_name`` ('' when a method was named).
    reason: str = ""
    #: The estimate sits at log n (see :func:`is_saturated`).
    saturated: bool = False

    @property
    def symbol(self) -> str:
        return QUANTITY_SYMBOLS[self.quantity]

    @property
    def abs_error(self) -> float | None:
        return None if self.truth is None else abs(self.value - self.truth)

    @property
    def ceiling(self) -> float:
        """log n in this estimate's units: the most a counting estimate of n samples can give
        (where a saturated one sits)."""
        return from_nats(math.log(self.n), self.units)

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
             clock: ProgressClock | None = None, **knobs: Any) -> LabEstimate:
    """``quantity`` of the data with ``method`` and ``knobs``, in nats, timed.

    ``method="auto"`` lets :func:`workbench.api.choose_method` pick the method (and knobs) from
    the data; ``method_name``, ``knobs`` and ``reason`` say what it chose and why.
    ``n_resamples >= 10`` adds a bootstrap (or, for duplicate-sensitive estimators, subsampling)
    interval from :func:`workbench.bootstrap_ci` (resampling seeded by ``bootstrap_seed``; an
    estimator's own ``seed`` knob goes in ``knobs``); ``0`` skips it. ``truth`` (nats) is carried
    along for the error. ``seconds`` times the point estimate alone. With
    ``interval_budget_s``, an interval predicted (from that time) to take longer is skipped and
    ``note`` says so. ``clock`` (a :class:`ProgressClock`; not ``progress``, a neural knob)
    receives the point estimate's
    steps from estimators that report them (the neural ones) and is told when the interval
    starts."""
    data = _data(quantity, x, y)
    reason = ""
    if method == AUTO:
        choice = api.auto_choice(quantity, knobs, *data)
        method, knobs, reason = choice.method, choice.knobs, choice.reason
    est = api.make_estimator(method, **knobs)
    label = est.label()
    if clock is not None and "callback" in est.param:
        est.callback = clock
    value, seconds = _timed(est, quantity, data)
    n = len(np.asarray(data[0]))
    result = LabEstimate(value, "nats", quantity, label, n, seconds, truth=truth,
                         confidence=confidence, method_name=method, knobs=dict(knobs),
                         reason=reason, saturated=is_saturated(value, n, method))
    predicted = seconds * n_resamples
    if n_resamples and interval_budget_s is not None and predicted > interval_budget_s:
        return replace(result, note=f"interval skipped: {n_resamples} resamples would take about "
                                    f"{predicted:.0f} s, over the {interval_budget_s:g} s budget")
    if n_resamples:
        if clock is not None:
            clock.start_stage("interval")
        ci = bootstrap_ci(*data, method=method, units="nats", n_resamples=n_resamples,
                          confidence=confidence, resample_seed=bootstrap_seed, **knobs)
        result = replace(result, low=ci.low, high=ci.high, n_resamples=n_resamples,
                         scheme=ci.scheme)
    return result


class EstimateCancelled(Exception):
    """Raised inside an estimate whose :class:`ProgressClock` was cancelled."""


@dataclass(frozen=True)
class ProgressReport:
    """Where a running job stands: its ``stage`` (``"estimate"``, ``"interval"``, ``"plots"``),
    seconds since that stage began, and, for estimators that report steps, ``step`` of
    ``total`` and a linear guess of the seconds left (None before the first step; training
    that stops early finishes sooner)."""

    stage: str
    elapsed: float
    step: int = 0
    total: int = 0
    estimate: float | None = None
    seconds_left: float | None = None

    @property
    def fraction(self) -> float | None:
        return self.step / self.total if self.total else None


class ProgressClock:
    """A ``callback(step, total, estimate)`` for a job running on another thread, and the
    clock that turns its reports into a :class:`ProgressReport` for the UI thread.

    :meth:`cancel` makes the next report (and the next :meth:`start_stage`) raise
    :class:`EstimateCancelled`: a neural estimator stops training, a job stops between stages."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self._clock = clock
        self._cancelled = False
        self.start_stage("estimate")

    def start_stage(self, stage: str) -> None:
        self._check()
        self._stage = (stage, self._clock())  # each state is replaced whole (thread-safe)
        self._last: tuple[int, int, float | None, float] | None = None

    def __call__(self, step: int, total: int, estimate: float | None = None) -> None:
        self._check()
        self._last = (int(step), int(total), estimate, self._clock())

    def cancel(self) -> None:
        self._cancelled = True

    def _check(self) -> None:
        if self._cancelled:
            raise EstimateCancelled("estimate cancelled: its result is no longer wanted")

    def report(self) -> ProgressReport:
        now, (stage, began), last = self._clock(), self._stage, self._last
        if last is None:
            return ProgressReport(stage, now - began)
        step, total, value, at = last
        left = None if step <= 0 else max((at - began) / step * (total - step) - (now - at), 0.0)
        return ProgressReport(stage, now - began, step, total, value, left)


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


# ----- the upload budget ----------------------------------------------------------------
def _megabytes(n_bytes: float) -> str:
    return f"{n_bytes / MB:.3g} MB"


class UploadBudget:
    """Bytes of uploads held in memory by every session of one server process, capped at
    ``limit`` bytes. Each holder (a session's upload slot) has one entry: :meth:`hold` sets it,
    refusing an amount that would take the total over the limit, and :meth:`release` frees it
    (a session clears its files or closes). Thread-safe."""

    def __init__(self, limit: int):
        if limit < 1:
            raise InputError(f"the upload budget must be at least 1 byte, got {limit!r}")
        self.limit = int(limit)
        self._held: dict[Any, int] = {}
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        """Bytes held now, all holders together."""
        with self._lock:
            return sum(self._held.values())

    def held(self, owner: Any) -> int:
        with self._lock:
            return self._held.get(owner, 0)

    def hold(self, owner: Any, n_bytes: int, what: str = "the upload") -> None:
        """Let ``owner`` hold ``n_bytes`` (replacing what it held), or raise a
        :class:`FileLoadError` that leaves it holding nothing."""
        with self._lock:
            others = sum(v for k, v in self._held.items() if k != owner)
            if others + n_bytes > self.limit:
                self._held.pop(owner, None)
                raise FileLoadError(
                    f"{what} needs {_megabytes(n_bytes)}, but uploads already hold "
                    f"{_megabytes(others)} of this server's {_megabytes(self.limit)} upload "
                    "budget (shared by every open page); upload a smaller file, forget other "
                    "uploads, or try again later")
            self._held[owner] = int(n_bytes)

    def release(self, owner: Any) -> None:
        """Free what ``owner`` held (nothing happens if it held nothing)."""
        with self._lock:
            self._held.pop(owner, None)


#: The budget every session of this process shares (``workbench serve`` runs one process):
#: four of the largest single uploads.
UPLOAD_BUDGET = UploadBudget(4 * DEFAULT_MAX_BYTES)


@dataclass(frozen=True)
class Upload:
    """A parsed upload: its file name, its arrays (an array, or a dict for an ``.npz``) and
    the bytes it counts against an :class:`UploadBudget` (the larger of the file and the
    arrays)."""

    filename: str
    content: Any
    n_bytes: int

    def first(self) -> np.ndarray:
        """The array, or an ``.npz`` file's first one."""
        content = self.content
        return next(iter(content.values())) if isinstance(content, dict) else content


def _array_bytes(content: Any) -> int:
    arrays = content.values() if isinstance(content, dict) else [content]
    return sum(np.asarray(a).nbytes for a in arrays)


def read_upload(data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
                budget: UploadBudget | None = None, owner: Any = None) -> Upload:
    """Parse an uploaded file once with :func:`workbench.io.load_bytes`: of an ``.npz``, the
    arrays ``x`` and ``y`` if it has both (others are never read), else its first array. With
    a ``budget``, ``owner`` holds the file's size before parsing (an upload
    over budget is refused unread) and then what the parsed arrays take; on any failure it
    holds nothing."""
    if not data:
        raise FileLoadError(f"{filename!r} is empty: choose a .npy, .npz or .csv file")
    try:
        if budget is not None:
            budget.hold(owner, len(data), repr(filename))
        key = None
        if filename.lower().endswith(".npz") and \
                {"x", "y"} <= set(npz_names(data, filename, max_bytes=max_bytes)):
            key = ("x", "y")
        content = load_bytes(data, filename, max_bytes=max_bytes, key=key)
        n_bytes = max(len(data), _array_bytes(content))
        if budget is not None:
            budget.hold(owner, n_bytes, repr(filename))
    except BaseException:
        if budget is not None:
            budget.release(owner)
        raise
    return Upload(filename, content, n_bytes)


def xy_from_uploads(first: Upload, second: Upload | None = None, *, y_columns: str = "-1",
                    quantity: str = "mutual_info") -> tuple[np.ndarray, np.ndarray | None]:
    """``(x, y)`` from parsed uploads:

    * entropy: ``x`` is the whole first file; ``y`` is None;
    * a second file: it is ``y``;
    * an ``.npz`` holding arrays named ``x`` and ``y``: those;
    * otherwise the columns ``y_columns`` of the one file are ``y``, the rest ``x``.
    """
    content = first.content
    if isinstance(content, dict) and "x" in content and "y" in content and second is None:
        return content["x"], (None if _check_quantity(quantity) == "entropy" else content["y"])
    if _check_quantity(quantity) == "entropy":
        return first.first(), None
    if second is not None:
        return first.first(), second.first()
    return split_columns(first.first(), y_columns)


def load_xy(x_bytes: bytes, x_name: str, y_bytes: bytes | None = None, y_name: str | None = None,
            *, y_columns: str = "-1", quantity: str = "mutual_info",
            max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, np.ndarray | None]:
    """``(x, y)`` from uploaded bytes: :func:`read_upload`, then :func:`xy_from_uploads`
    (a y file is read only for mutual information)."""
    if not x_bytes:
        raise FileLoadError("no file uploaded yet: choose a .npy, .npz or .csv file")
    first = read_upload(x_bytes, x_name, max_bytes=max_bytes)
    second = None
    if y_bytes is not None and _check_quantity(quantity) != "entropy":
        second = read_upload(y_bytes, y_name or "y", max_bytes=max_bytes)
    return xy_from_uploads(first, second, y_columns=y_columns, quantity=quantity)
