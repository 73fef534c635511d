"""Benchmark runner: every estimator on every ground-truth task, locally or on a Dask cluster.

Example::

    from . import runner as bench
    res = bench.run(estimators=("ksg", "gaussian"), ns=(5000,), seeds=(0,))
    res.summary()             # one row per estimator: tasks within tolerance, error, time
    res.save("bench-out")     # results.parquet, results.csv, summary.csv, config.json

Each job is one (task, n, seed, estimator). Its samples come from a generator seeded by
SHA-256 of (task name, n, seed) (:func:`workbench.bench.tasks.stable_seed`), so the same arguments
give the same table on any scheduler and in any process, and every estimator sees the same
samples of a (task, n, seed). An estimator that fails on a task gives a NaN estimate and its
error message in the ``error`` column; the run goes on.

Scoring follows Czyż et al. (2023): an estimate is *within tolerance* when
|estimate − truth| ≤ max(0.1 nat, 10 % of truth). Tasks are standardised per coordinate before
estimation (an affine map of each coordinate, which keeps the MI), as in their benchmark.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import api
from ..cluster import map_jobs, scheduler_label
from ..errors import InputError, UnknownMethodError
from ..estimators import get_estimator_class, registry
from ..torch_utils import limit_threads
from ..units import from_nats
from .tasks import Task, select, stable_seed
from .tasks import get as get_task

#: Estimators run by default (those not registered are skipped).
DEFAULT_ESTIMATORS = ("auto", "ksg", "ksg2", "gaussian", "gaussian_copula", "kde", "binning")
#: ``auto:BUDGET`` labels run ``method="auto"`` with that budget (plain ``auto`` is "fast").
AUTO_BUDGET_PREFIX = "auto:"
#: Tolerance of Czyż et al. (2023): max(ABS_TOL nats, REL_TOL × truth).
ABS_TOL = 0.1
REL_TOL = 0.1

COLUMNS = ["task", "estimator", "method", "n", "seed", "dim_x", "dim_y", "truth", "estimate",
           "abs_error", "within", "seconds", "units", "error"]


def tolerance(truth) -> Any:
    """The allowed absolute error (nats) for a true MI of ``truth`` nats."""
    return np.maximum(ABS_TOL, REL_TOL * np.asarray(truth, dtype=np.float64))


@dataclass(frozen=True)
class EstimatorSpec:
    """One column of the benchmark: a display ``label``, a registered ``method`` (or "auto")
    and its ``knobs``."""

    label: str
    method: str
    knobs: dict = field(default_factory=dict)


def _specs(estimators, knobs: dict | None) -> tuple[list[EstimatorSpec], list[str]]:
    explicit = estimators is not None
    if estimators is None:
        estimators = DEFAULT_ESTIMATORS
    if isinstance(estimators, str):
        estimators = [e.strip() for e in estimators.split(",") if e.strip()]
    knobs = knobs or {}
    reg = registry()
    specs, skipped = [], []
    for entry in estimators:
        if isinstance(entry, EstimatorSpec):
            spec = entry
        elif isinstance(entry, str) and entry.startswith(AUTO_BUDGET_PREFIX):
            budget = entry[len(AUTO_BUDGET_PREFIX):]
            if budget not in api.BUDGETS:
                raise InputError(f"{entry!r}: the budget must be one of {api.BUDGETS}")
            spec = EstimatorSpec(entry, "auto", {"budget": budget, **knobs.get(entry, {})})
        elif isinstance(entry, str):
            spec = EstimatorSpec(entry, entry, dict(knobs.get(entry, {})))
        else:
            label, method, kn = entry
            spec = EstimatorSpec(label, method, dict(kn))
        if spec.method != "auto" and spec.method not in reg:
            if explicit:
                raise UnknownMethodError(f"unknown method {spec.method!r}; available: "
                                         f"{', '.join(sorted(reg))} (or 'auto')")
            skipped.append(spec.method)
            continue
        if spec.method != "auto":
            get_estimator_class(spec.method)(**spec.knobs)  # bad knobs fail now, not per job
        specs.append(spec)
    if len({s.label for s in specs}) != len(specs):
        raise InputError("estimator labels must be unique; give repeated methods a label, e.g. "
                         "('ksg-k5', 'ksg', {'k': 5})")
    if not specs:
        raise InputError(f"no estimator to run (requested {list(estimators)}, none registered)")
    return specs, skipped


def _tasks(tasks) -> list[Task]:
    if tasks is None or isinstance(tasks, str):
        return select(tasks)
    if isinstance(tasks, Task):
        tasks = [tasks]
    out = [get_task(t) if isinstance(t, str) else t for t in tasks]
    if len({t.name for t in out}) != len(out):
        raise InputError("task names must be unique within a benchmark run")
    return out


def _standardize(a: np.ndarray) -> np.ndarray:
    sd = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def job_data(task: Task, n: int, seed: int, standardize: bool = True):
    """The samples a benchmark job uses for (task, n, seed): reproducible anywhere."""
    x, y = task.sample(n, np.random.default_rng(stable_seed(task.name, n, seed)))
    if standardize and not task.discrete:
        x, y = _standardize(x), _standardize(y)
    return x, y


def run_job(task: Task, spec: EstimatorSpec, n: int, seed: int,
            standardize: bool = True) -> dict:
    """One row of the benchmark table (never raises for a failing estimator)."""
    row = {"task": task.name, "estimator": spec.label, "method": spec.method, "n": int(n),
           "seed": int(seed), "dim_x": task.dim_x, "dim_y": task.dim_y,
           "truth": task.mutual_info, "estimate": np.nan, "seconds": np.nan, "error": ""}
    try:
        x, y = job_data(task, n, seed, standardize)
        method, knobs = spec.method, dict(spec.knobs)
        if method == "auto":
            # resolve here so the table records the choice (and any knobs the rule sets)
            choice = api.choose_method(x, y, budget=knobs.pop("budget", "fast"))
            method, knobs = choice.method, {**getattr(choice, "knobs", {}), **knobs}
        row["method"] = method
        if "seed" in get_estimator_class(method).knob_names():
            knobs.setdefault("seed", int(seed))  # replicate seeds vary stochastic estimators too
        start = time.perf_counter()
        value = api.mutual_info(x, y, method=method, units="nats", **knobs)
        row["seconds"] = time.perf_counter() - start
        row["estimate"] = float(value)
    except Exception as exc:  # noqa: BLE001 - one failure must not end a benchmark
        row["error"] = f"{type(exc).__name__}: {exc}"[:500]
    return row


def run(tasks: Iterable[Task | str] | str | None = None,
        estimators: Sequence[str | tuple | EstimatorSpec] | str | None = None,
        ns: Sequence[int] = (5000,), seeds: Sequence[int] = (0,), scheduler: Any = None,
        n_workers: int | None = None, knobs: dict | None = None, standardize: bool = True,
        progress: bool = False, blas_threads: int | None = 1) -> BenchResult:
    """Run ``estimators`` on ``tasks`` for every sample size in ``ns`` and seed in ``seeds``.

    tasks: None (the 40-task suite), a name pattern (see :func:`workbench.bench.tasks.select`), a
        Task, or a list of Task objects / exact task names.
    estimators: method names (``"auto"`` allowed), ``(label, method, knobs)`` tuples, or a
        comma-separated string. None runs :data:`DEFAULT_ESTIMATORS` that are registered.
    knobs: ``{method name: {knob: value}}`` for plain-name entries.
    scheduler: None or ``"local"`` (a LocalCluster on this machine: one worker, ``n_workers``
        threads, default 2), ``"sync"`` (no Dask), a scheduler address (``"tcp://host:8786"``),
        or a ``distributed.Client``. The table is the same whichever is used.
    standardize: rescale each coordinate to zero mean and unit variance first (keeps the MI).
    blas_threads: BLAS/OpenMP threads per job in this process (None: leave as is).
    """
    task_list = _tasks(tasks)
    specs, skipped = _specs(estimators, knobs)
    ns = [int(n) for n in ns]
    seeds = [int(s) for s in seeds]
    if not ns or min(ns) < 2 or not seeds:
        raise InputError(f"need sample sizes >= 2 and at least one seed, got ns={ns}, "
                         f"seeds={seeds}")
    jobs = [(task, spec, n, seed, standardize)
            for task in task_list for spec in specs for n in ns for seed in seeds]
    start = time.perf_counter()
    # One BLAS thread per job, as Dask's nanny-started workers use: jobs already run in
    # parallel, and nested BLAS threads on a busy machine slow a 2000 x 50 SVD a hundredfold.
    # (Affects this process only: a remote cluster's workers keep their own settings.)
    with limit_threads(blas_threads):
        rows = map_jobs(run_job, jobs, scheduler, n_workers, progress, desc="bench")
    table = pd.DataFrame(rows)
    table["abs_error"] = (table["estimate"] - table["truth"]).abs()
    table["within"] = table["abs_error"] <= tolerance(table["truth"])
    table["units"] = "nats"
    table = table[COLUMNS].reset_index(drop=True)
    config = {"tasks": [t.name for t in task_list],
              "estimators": [{"label": s.label, "method": s.method, "knobs": s.knobs}
                             for s in specs],
              "skipped": skipped, "ns": ns, "seeds": seeds, "standardize": standardize,
              "blas_threads": blas_threads,
              "scheduler": scheduler_label(scheduler),
              "tolerance": {"abs_nats": ABS_TOL, "rel": REL_TOL},
              "wall_seconds": time.perf_counter() - start}
    return BenchResult(table, config)


@dataclass
class BenchResult:
    """The tidy table of a benchmark run (one row per task × estimator × n × seed, values in
    nats) and the configuration that produced it."""

    table: pd.DataFrame
    config: dict

    def per_task(self) -> pd.DataFrame:
        """Mean estimate over seeds for each (estimator, n, task), with its error and whether
        that mean is within tolerance."""
        t = self.table
        g = t.groupby(["estimator", "n", "task"], sort=False)
        out = g.agg(truth=("truth", "first"), estimate=("estimate", "mean"),
                    std=("estimate", "std"), failures=("error", lambda e: int((e != "").sum())),
                    seconds=("seconds", "sum")).reset_index()
        out["abs_error"] = (out["estimate"] - out["truth"]).abs()
        out["within"] = out["abs_error"] <= tolerance(out["truth"])
        out["units"] = "nats"
        return out

    def summary(self, units: str = "nats") -> pd.DataFrame:
        """One row per (estimator, n): tasks, tasks within tolerance (mean over seeds),
        failures, median absolute error (over all runs) and total estimator time."""
        per = self.per_task()
        g = per.groupby(["estimator", "n"], sort=False)
        out = g.agg(tasks=("task", "count"), within=("within", "sum"),
                    failures=("failures", "sum")).reset_index()
        runs = self.table.groupby(["estimator", "n"], sort=False).agg(
            median_abs_error=("abs_error", "median"), total_seconds=("seconds", "sum"))
        out = out.merge(runs.reset_index(), on=["estimator", "n"], how="left")
        out["median_abs_error"] = out["median_abs_error"].map(lambda v: from_nats(v, units))
        out["units"] = units
        return out[["estimator", "n", "tasks", "within", "failures", "median_abs_error",
                    "total_seconds", "units"]]

    def errors(self) -> pd.DataFrame:
        """Rows whose estimator failed."""
        return self.table[self.table["error"] != ""]

    def save(self, directory: str | os.PathLike) -> dict[str, Path]:
        """Write ``results.parquet``, ``results.csv``, ``summary.csv`` and ``config.json``
        into ``directory`` (created if needed); each file is written whole, then renamed."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        writers = {
            "results.parquet": lambda p: self.table.to_parquet(p, index=False),
            "results.csv": lambda p: self.table.to_csv(p, index=False),
            "summary.csv": lambda p: self.summary().to_csv(p, index=False),
            "config.json": lambda p: p.write_text(json.dumps(self.config, indent=1,
                                                             default=str)),
        }
        paths = {}
        for name, write in writers.items():
            tmp = d / f".{name}.tmp"
            write(tmp)
            os.replace(tmp, d / name)
            paths[name] = d / name
        return paths

    @classmethod
    def load(cls, directory: str | os.PathLike) -> BenchResult:
        """Read a result written by :meth:`save`."""
        d = Path(directory)
        table = pd.read_parquet(d / "results.parquet")
        table["error"] = table["error"].fillna("")
        return cls(table, json.loads((d / "config.json").read_text()))

    def __repr__(self) -> str:
        return f"BenchResult({len(self.table)} runs)\n{self.summary().to_string(index=False)}"
