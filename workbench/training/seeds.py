"""Experiments over seeds: one tracked training run per (seed, activation, architecture), spread
over a Dask cluster by :func:`workbench.cluster.map_jobs`, gathered into one tidy frame.

A single run of the information plane answers nothing about compression: Saxe et al. (2018)
showed that whether I(X;T) falls late in training depends on the activation (tanh compresses,
ReLU does not, under 30-bin binning), and both papers average over initialisations
(Shwartz-Ziv & Tishby 2017 average 50 runs). :func:`run_seeds` trains the grid::

    frame = run_seeds(seeds=range(10), activations=("tanh", "relu"), epochs=300)
    seed_band(frame)                 # mean trajectory and spread per group, layer and epoch
    compression_over_seeds(frame)    # per group and layer: drop = peak - final, mean ± std

Every job is deterministic in its arguments (initialisation, batch order and row subsample
come from the seed; torch runs on one thread inside a job), so the frame is the same on
``scheduler="sync"``, a LocalCluster or a remote cluster; jobs come back in grid order.
"""
from __future__ import annotations

import inspect
import re
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError

#: Columns :func:`run_seeds` adds to the tracker's tidy rows.
GRID_COLUMNS = ("group", "seed", "activation", "arch")

# Loaders that seed the global RNGs (mnist1d's generator does, and puts them back) must not
# interleave with each other in one process: a LocalCluster runs jobs on threads.
_LOAD_LOCK = threading.Lock()
# torch's and BLAS's thread counts are process-wide. Jobs that run side by side on threads each
# ask for one thread; the first in saves the caller's settings and the last out restores them,
# so no job ever sees another count (a different count can change float sums, hence the
# numbers; and one thread is also fastest for these small networks on a busy machine).
_THREADS_LOCK = threading.Lock()
_THREADS_STATE: dict = {"inside": 0, "before": None, "blas": None}


def parse_seeds(text: Any) -> list[int]:
    """``"0-9"`` → 0..9, ``"0,3,5-7"`` → [0, 3, 5, 6, 7], ``4`` → [4]; a list of ints passes.

    Seeds are non-negative integers, each once, in the order given."""
    if isinstance(text, (int,)) and not isinstance(text, bool):
        items: list[int] = [int(text)]
    elif isinstance(text, str):
        items = []
        for part in (p.strip() for p in text.split(",")):
            m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
            if not m:
                raise InputError(f"seeds must look like '0-9' or '0,2,5-7', got {text!r}")
            lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
            if hi < lo:
                raise InputError(f"seed range {part!r} runs backwards; write {hi}-{lo}")
            items.extend(range(lo, hi + 1))
    else:
        try:
            items = [int(s) for s in text]
        except (TypeError, ValueError) as exc:
            raise InputError(f"seeds must be integers, got {text!r}") from exc
    if any(s < 0 for s in items):
        raise InputError(f"seeds must be >= 0, got {text!r}")
    if not items:
        raise InputError("give at least one seed")
    if len(set(items)) != len(items):
        raise InputError(f"seeds repeat in {text!r}: each seed once")
    return items


@contextmanager
def _one_thread():
    """torch and BLAS on one thread while any job of this process runs (see above); the
    caller's settings come back when the last one ends."""
    import torch
    from threadpoolctl import threadpool_limits

    with _THREADS_LOCK:
        if _THREADS_STATE["inside"] == 0:
            _THREADS_STATE["before"] = torch.get_num_threads()
            _THREADS_STATE["blas"] = threadpool_limits(limits=1)
            torch.set_num_threads(1)
        _THREADS_STATE["inside"] += 1
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _THREADS_STATE["inside"] -= 1
            if _THREADS_STATE["inside"] == 0:
                torch.set_num_threads(_THREADS_STATE["before"])
                _THREADS_STATE["blas"].restore_original_limits()


def group_label(activation: str, arch: str | None, n_activations: int, n_archs: int) -> str:
    """The name of one grid cell in tables and legends: what varies (activation, arch)."""
    parts = []
    if n_activations > 1 or n_archs == 1:
        parts.append(activation)
    if n_archs > 1:
        parts.append(str(arch))
    return " ".join(parts)


#: The plain objective: cross-entropy on the MLP, every layer tracked.
PLAIN_OBJECTIVE = "cross_entropy"
#: run_experiment's plane-tracking keywords; a bottleneck run measures its T by the channel.
_PLANE_ONLY = ("estimators", "estimator_knobs", "n_bins", "bin_rule")


def objective_label(objective: str | None, beta: float | None = None) -> str:
    """How tables and legends name a training objective: ``vib β=0.001``; the plain one is
    left unnamed (''), as it always was."""
    if objective in (None, PLAIN_OBJECTIVE):
        return ""
    return f"{objective} β={beta:g}" if beta is not None else str(objective)


def ib_layout(arch: str) -> tuple[str, int]:
    """An IB run's encoder and bottleneck from a layer-widths text ``d-h1-…-k-c``: the hidden
    widths before the last form the encoder (``hidden``), the last hidden width is the
    bottleneck T (``k``): ``40-64-8-10`` → ``("64", 8)``."""
    from .models import parse_widths

    widths = parse_widths(arch)
    if len(widths) < 3:
        raise InputError(f"an IB objective needs at least one hidden width (the bottleneck), "
                         f"e.g. 40-64-8-10; got {arch!r}")
    return "-".join(map(str, widths[1:-2])), widths[-2]


def _ib_run(data, job: dict, store):
    """One bottleneck run (:func:`workbench.ib.experiment.run_ib_experiment`) from a grid job:
    the MLP's layer widths become encoder and bottleneck; the plane-tracking keywords do not
    apply (T is measured from its own noise)."""
    from ..ib.experiment import run_ib_experiment
    from .experiments import checked_arch

    job = {k: v for k, v in job.items() if k not in _PLANE_ONLY}
    job.pop("activation")  # the bottleneck network's encoder is ReLU
    # default: one 64-wide hidden layer and an 8-wide T (the MLP default would leave a 3-wide
    # T behind four narrow layers)
    arch = checked_arch(data, job.pop("arch") or f"{data.n_features}-64-8-{data.n_classes}")
    hidden, k = ib_layout(arch)
    if job.get("subsample", "default") in ("default", None):
        job.pop("subsample", None)  # the IB tracker's own default number of rows
    unknown = sorted(set(job) - set(inspect.signature(run_ib_experiment).parameters))
    if unknown:
        raise InputError(f"{unknown} do not apply to a bottleneck run (objective "
                         f"{job['objective']!r})")
    return run_ib_experiment(data, job.pop("objective"), job.pop("beta"), hidden=hidden, k=k,
                             store=store, threads=None, **job)


def requested_names(estimators) -> list[str]:
    """How the grid's tables name each requested estimator: the method name, or
    ``name(knob=value, ...)`` when knobs were given; ``#2``, ... tells repeats apart."""
    specs = [estimators] if isinstance(estimators, str) else list(estimators)
    out: list[str] = []
    for spec in specs:
        if isinstance(spec, str):
            name = spec
        elif isinstance(spec, (tuple, list)) and len(spec) == 2:
            knobs = ", ".join(f"{k}={v}" for k, v in dict(spec[1]).items())
            name = f"{spec[0]}({knobs})" if knobs else str(spec[0])
        else:  # an Estimator instance
            name = spec.label()
        base, i = name, 2
        while name in out:
            name, i = f"{base}#{i}", i + 1
        out.append(name)
    return out


def seed_job(job: dict) -> tuple[pd.DataFrame, dict]:
    """One training run of the grid (module level, so a remote worker can import it).

    ``job`` holds :func:`~workbench.training.experiments.run_experiment` keywords plus
    ``root`` (run store folder or None) and the grid columns. Returns the tidy rows with the
    grid columns, and a summary of the run (id, seconds of training and tracking, final
    accuracies)."""
    from ..runs import RunStore
    from . import datasets
    from .experiments import run_experiment

    job = dict(job)
    grid = {k: job[k] for k in GRID_COLUMNS}
    del job["group"]
    root = job.pop("root")
    data = job.pop("data")
    if isinstance(data, str):
        with _LOAD_LOCK:
            data = datasets.load(data, seed=job["seed"])
    store = None if root is None else RunStore(root)
    objective = job.get("objective") or PLAIN_OBJECTIVE
    with _one_thread():
        if objective == PLAIN_OBJECTIVE:
            job.pop("objective", None)
            job.pop("beta", None)
            tracker, result, config = run_experiment(data, store=store, threads=None, **job)
        else:
            tracker, result, config = _ib_run(data, job, store)
    grid["arch"] = config["arch"]  # the default architecture by name, not None
    if tracker.store is not None:
        tracker.store.close()
    last = result.history[-1] if result.history else {}
    frame = tracker.frame()
    if objective == PLAIN_OBJECTIVE:
        labels = [e.label() for e in tracker.estimators]
        names = requested_names(job.get("estimators", ("binning",)))
    else:  # the bottleneck's channel bounds, whatever plane estimators were asked for
        labels = names = sorted(set(frame["estimator"]) - {""})
    # one name per requested estimator across the grid: the label can differ between runs
    # (the bin rule gives tanh a fixed range and ReLU an observed one)
    frame["estimator"] = frame["estimator"].map(dict(zip(labels, names))).fillna("")
    for k, v in grid.items():
        frame[k] = v
    info = {**grid, "objective": objective, "beta": config.get("beta"),
            "run": tracker.run_id, "epochs": result.epochs_completed,
            "train_seconds": float(sum(h["seconds"] for h in result.history)),
            "tracking_seconds": float(sum(c["seconds"] for c in tracker.costs)),
            "estimator_labels": dict(zip(names, labels)),
            "train_accuracy": last.get("train_accuracy"),
            "test_accuracy": last.get("test_accuracy")}
    return frame, info


def run_seeds(seeds: Any = range(3), activations: Iterable[str] | str | None = None,
              archs: Iterable[str | None] | str | None = (None,), *, data: Any = "tishby12",
              objective: str = PLAIN_OBJECTIVE, beta: float | None = None,
              scheduler: Any = "sync", n_workers: int | None = None, root: Any = None,
              tag: str = "seeds", progress: bool = False, **experiment) -> pd.DataFrame:
    """Train one tracked network per (activation, arch, seed) and return all tidy rows.

    ``seeds``: ints or text like ``"0-9"`` (:func:`parse_seeds`); ``activations`` and
    ``archs``: one or several (``None``: the dataset's default architecture). ``data`` is a
    built-in dataset name (loaded per seed, so the train/test split varies with the seed like
    the initialisation) or a :class:`~workbench.training.datasets.Dataset` (shared by all).
    ``experiment``: more :func:`~workbench.training.experiments.run_experiment` keywords
    (``epochs``, ``lr``, ``estimators``, ``every``, ``units``, ...).

    ``objective``: ``"cross_entropy"`` (default: the plain MLP, every layer tracked by
    ``estimators``; ``activations`` default to tanh) or an IB loss of
    :data:`workbench.ib.losses.OBJECTIVES` at ``beta`` (loss = prediction + β·C): then each run
    is :func:`workbench.ib.experiment.run_ib_experiment` on the bottleneck network made from
    the arch (``d-h…-k-c``: the last hidden width k is the Gaussian bottleneck T; ReLU
    encoder, so ``activations`` must be None or relu), the plane is T's (estimator
    ``channel``), the group is named by the objective (``vib β=0.001``) and every run summary
    and config carry ``objective`` and ``beta``.

    ``scheduler``: see :mod:`workbench.cluster` (``"sync"`` by default here, no Dask; ``None``
    or ``"local"``: a LocalCluster; an address: that cluster). With ``root`` every run is saved
    in that run store (ids ``<tag>-<group>-s<seed>-<random>``). The same grid gives the same
    numbers on every scheduler.

    Returns the tracker rows (:data:`workbench.runs.COLUMNS`) plus :data:`GRID_COLUMNS`; the
    ``estimator`` column names each estimator as requested (:func:`requested_names`), the same
    in every run, while the runs' own labels (the bin range the rule chose per activation,
    say) are in their configs and in ``estimator_labels`` of the run summaries;
    ``frame.attrs["runs"]`` lists each run's summary (run id, training and tracking seconds,
    final accuracies) in grid order.
    """
    from ..cluster import map_jobs
    from ..runs import RunStore

    seeds = parse_seeds(seeds)
    objective = objective or PLAIN_OBJECTIVE
    plain = objective == PLAIN_OBJECTIVE
    if not plain:
        from ..ib.losses import OBJECTIVES

        if objective not in OBJECTIVES or objective == "ce":
            raise InputError(f"objective must be {PLAIN_OBJECTIVE!r} or one of "
                             f"{sorted(set(OBJECTIVES) - {'ce'})}, got {objective!r}")
        beta = 1e-3 if beta is None else float(beta)
        if activations is not None and set([activations] if isinstance(activations, str)
                                           else activations) != {"relu"}:
            raise InputError(f"the IB objective {objective!r} trains a bottleneck network with "
                             f"a ReLU encoder; activations {activations!r} do not apply "
                             "(leave them out)")
    if activations is None:
        activations = ("tanh",) if plain else ("relu",)
    activations = [activations] if isinstance(activations, str) else list(activations)
    archs = [archs] if archs is None or isinstance(archs, str) else list(archs)
    if not activations or not archs:
        raise InputError("give at least one activation and one architecture")
    forbidden = sorted({"seed", "activation", "arch", "store", "run", "callbacks",
                        "tracker_callbacks", "stop_event", "pause_event", "threads"} &
                       set(experiment))
    if forbidden:
        raise InputError(f"run_seeds sets {forbidden} itself; pass seeds, activations and "
                         "archs instead")
    root = None if root is None else str(Path(root))
    jobs = []
    for arch in archs:
        for activation in activations:
            group = group_label(activation, arch, len(activations), len(archs))
            if not plain:  # the objective names the group, not the (fixed) activation
                group = " ".join(p for p in (objective_label(objective, beta),
                                             str(arch) if len(archs) > 1 else "") if p)
            for seed in seeds:
                # unsaved runs still need distinct names: the tables group rows by run
                name = f"{tag}-{group}-s{seed}"
                run = re.sub(r"[^A-Za-z0-9._-]+", "-", name) if root is None else \
                    RunStore.new_id(name)
                ib = {} if plain else {"objective": objective, "beta": beta}
                jobs.append(({**experiment, **ib, "data": data, "arch": arch,
                              "activation": activation, "seed": seed, "run": run,
                              "root": root, "group": group},))
    results = map_jobs(seed_job, jobs, scheduler=scheduler, n_workers=n_workers,
                       progress=progress, desc="runs")
    frame = pd.concat([f for f, _ in results], ignore_index=True)
    frame.attrs["runs"] = [info for _, info in results]
    return frame


def run_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame.attrs["runs"]`` of a :func:`run_seeds` frame as a table (one row per run)."""
    runs = frame.attrs.get("runs")
    if not runs:
        raise InputError("the frame carries no run summaries (frame.attrs['runs'])")
    return pd.DataFrame(runs)


__all__ = ["GRID_COLUMNS", "PLAIN_OBJECTIVE", "group_label", "ib_layout", "objective_label",
           "parse_seeds", "run_seeds",
           "requested_names", "run_summary", "seed_job"]
