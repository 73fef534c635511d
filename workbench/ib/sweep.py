"""β sweeps: one bottleneck model per (β, seed), as jobs on any scheduler.

``sweep(betas=(1e-4, 1e-3, 1e-2), seeds=(0, 1), scheduler="local")`` trains every (β, seed)
with :func:`workbench.ib.experiment.run_ib_experiment` through
:func:`workbench.cluster.map_jobs` (a LocalCluster by default, ``"sync"`` for none, or a
scheduler address), stores each as a run when ``out`` is given, and returns one record per run
(:func:`workbench.ib.experiment.summary`). Every job is deterministic in its arguments (the
network, the batch order and the bottleneck noise each have their own seeded generator), so
the records are the same on every scheduler. :func:`ib_table` averages them per β.

Convention: loss = prediction + β · C, so a larger β compresses more.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..cluster import map_jobs
from ..errors import InputError
from ..training.seeds import parse_seeds


def parse_floats(text, name: str = "betas") -> list[float]:
    """``"1e-4,1e-3"`` (or a sequence) → ``[0.0001, 0.001]``; each finite and >= 0."""
    items = text.split(",") if isinstance(text, str) else list(text)
    try:
        out = [float(v) for v in items if str(v).strip()]
    except ValueError as exc:
        raise InputError(f"{name} must be numbers separated by commas, got {text!r}") from exc
    if not out or not all(math.isfinite(v) and v >= 0 for v in out):
        raise InputError(f"{name} must be one or more finite numbers >= 0, got {text!r}")
    return out


def train_one(data: str, objective: str, beta: float, seed: int, settings: dict,
              out: str | None = None) -> dict:
    """Train and summarise one (β, seed) run (a Dask job: module-level, plain arguments)."""
    from ..runs import RunStore
    from .experiment import run_ib_experiment, summary

    settings = dict(settings)
    ty_estimator = settings.pop("ty_estimator", "mixed")
    store = run = None
    if out is not None:
        store = RunStore(out)
        run = RunStore.new_id(f"ib-{objective}-beta{beta:g}-seed{seed}")
    tracker, result, config = run_ib_experiment(data, objective, beta, seed=seed, store=store,
                                                run=run, **settings)
    record = summary(tracker, result, config, ty_estimator=ty_estimator)
    if tracker.store is not None:
        tracker.store.update_config(summary=record)
    return record


def sweep(data: str = "mnist1d", objective: str = "vib",
          betas: Sequence[float] = (1e-4, 1e-3, 1e-2, 1e-1), seeds: Sequence[int] = (0,),
          *, scheduler=None, n_workers: int | None = None, out: str | None = None,
          progress: bool = False, **settings) -> list[dict]:
    """One record per (β, seed), β-major; ``settings`` go to
    :func:`~workbench.ib.experiment.run_ib_experiment` (``epochs``, ``hidden``, ``k``, ``lr``,
    ``batch_size``, ``every``, ``units``, ``subsample``) and ``ty_estimator`` (the registered
    estimator of I(T;Y) on a sampled T, default ``"mixed"``)."""
    from ..tracking.base import check_every
    from .losses import OBJECTIVES

    if objective not in OBJECTIVES:
        raise InputError(f"objective must be one of {sorted(OBJECTIVES)}, got {objective!r}")
    betas, seeds = parse_floats(betas), parse_seeds(seeds)
    settings.setdefault("every", [settings.get("epochs", 30)])
    settings["every"] = check_every(settings["every"])
    settings.setdefault("threads", 1)
    jobs = [(data, objective, beta, seed, settings, None if out is None else str(out))
            for beta in betas for seed in seeds]
    return map_jobs(train_one, jobs, scheduler, n_workers, progress, desc="ib runs")


def ib_table(records: Sequence[dict]) -> pd.DataFrame:
    """Per (objective, β): mean and seed std of I(X;T), I(T;Y), the bound and the accuracies
    (``*_std`` columns; 0 with one seed), and the number of seeds."""
    frame = pd.DataFrame(list(records))
    if frame.empty:
        raise InputError("no records to tabulate")
    cols = [c for c in ("I_XT", "I_XT_lower", "I_TY", "I_TY_channel", "bound_XT",
                        "train_accuracy", "test_accuracy") if c in frame]
    keys = [k for k in ("objective", "beta") if k in frame]
    grouped = frame.groupby(keys, sort=True)
    mean = grouped[cols].mean()
    std = grouped[cols].std(ddof=1).fillna(0.0).add_suffix("_std")
    table = mean.join(std).reset_index()
    table["seeds"] = grouped.size().to_numpy()
    table["units"] = frame["units"].iloc[0]
    return table


def format_table(records: Sequence[dict]) -> str:
    """The per-β table as aligned text, naming the estimators and the units."""
    table = ib_table(records)
    units = table["units"].iloc[0]
    first = records[0]
    lines = [f"I(X;T): {first['I_XT_estimator']}; I(T;Y): {first['I_TY_estimator']}; "
             f"bound: the objective's own term ({first['bound_kind']}); [{units}], "
             f"mean ± std over {int(table['seeds'].max())} seed(s)",
             f"{'objective':<14}{'beta':>9}{'I(X;T)':>16}{'I(T;Y)':>16}{'bound':>16}"
             f"{'train acc':>11}{'test acc':>11}"]

    def pm(row, col, digits=3):
        return f"{row[col]:.{digits}f}±{row[col + '_std']:.{digits}f}"

    for _, row in table.iterrows():
        lines.append(f"{row.get('objective', ''):<14}{row['beta']:>9.0e}{pm(row, 'I_XT'):>16}"
                     f"{pm(row, 'I_TY'):>16}{pm(row, 'bound_XT'):>16}"
                     f"{row['train_accuracy']:>11.3f}{row['test_accuracy']:>11.3f}")
    return "\n".join(lines)


def decreasing_in_beta(records: Sequence[dict], key: str = "I_XT") -> dict[int, bool]:
    """Per seed: does ``key`` strictly decrease as β grows?"""
    frame = pd.DataFrame(list(records)).sort_values("beta")
    return {int(seed): bool(np.all(np.diff(group[key].to_numpy()) < 0))
            for seed, group in frame.groupby("seed")}
