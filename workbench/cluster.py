"""Run independent jobs locally or on a Dask cluster: one place decides what a ``scheduler`` is.

``scheduler`` is one of

* ``None`` or ``"local"``: a LocalCluster on this machine (one in-process worker with
  ``n_workers`` threads, default ``min(2, cpu count)``; no pickling of jobs, little start-up);
* ``"sync"``: no Dask at all, the jobs run one after another in this process;
* a scheduler address such as ``"tcp://host:8786"``: an existing cluster;
* a ``distributed.Client``: used as is (and left open).

Results come back in job order whichever is used, so a table built from them is the same on
every scheduler as long as each job is deterministic in its arguments.
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import Any

from .errors import InputError
from .extras import needs_extras

SCHEDULER_HELP = ("'local' (a LocalCluster on this machine, default), 'sync' (no Dask) or a Dask "
                  "scheduler address such as tcp://host:8786")


def check_scheduler(scheduler: Any) -> Any:
    """Return ``scheduler`` if it names a scheduler (see the module docstring), else raise."""
    if scheduler is None or scheduler in ("local", "sync"):
        return scheduler
    if isinstance(scheduler, str) and "://" in scheduler:
        return scheduler
    try:
        from distributed import Client
    except ImportError:  # the [dask] extra is not installed: no Client can be passed
        Client = ()
    if Client and isinstance(scheduler, Client):
        return scheduler
    raise InputError(f"scheduler must be None, 'local', 'sync', a scheduler address such as "
                     f"'tcp://host:8786' or a distributed.Client, got {scheduler!r}")


def scheduler_label(scheduler: Any) -> str:
    """A JSON-friendly name of ``scheduler`` for configs and run metadata."""
    return scheduler if isinstance(scheduler, str) else ("local" if scheduler is None else "client")


def map_jobs(fn: Callable, jobs: Sequence[tuple], scheduler: Any = None,
             n_workers: int | None = None, progress: bool = False,
             desc: str = "jobs") -> list:
    """``[fn(*job) for job in jobs]`` on ``scheduler``; results in job order.

    ``fn`` must be importable by name on the workers (a module-level function) for a remote
    cluster. An exception in a job propagates; catch inside ``fn`` to record failures instead.
    """
    scheduler = check_scheduler(scheduler)
    jobs = list(jobs)
    if scheduler == "sync":
        it = jobs
        if progress:
            from tqdm.auto import tqdm
            it = tqdm(jobs, desc=desc)
        return [fn(*job) for job in it]

    with needs_extras(f"scheduler {scheduler_label(scheduler)!r}",
                      hint="or run without Dask: scheduler 'sync', --scheduler sync"):
        from distributed import Client, LocalCluster
        from distributed import progress as dask_progress

    owned_cluster = owned_client = None
    if scheduler is None or scheduler == "local":
        threads = n_workers or min(2, os.cpu_count() or 1)
        owned_cluster = LocalCluster(n_workers=1, threads_per_worker=threads, processes=False,
                                     dashboard_address=":0")
        client = owned_client = Client(owned_cluster)
    elif isinstance(scheduler, str):
        client = owned_client = Client(scheduler)
    else:
        client = scheduler
    try:
        futures = [client.submit(fn, *job, pure=False) for job in jobs]
        if progress:
            dask_progress(futures)
        return client.gather(futures)
    finally:
        if owned_client is not None:
            owned_client.close()
        if owned_cluster is not None:
            owned_cluster.close()


def add_scheduler_arguments(parser: argparse.ArgumentParser) -> None:
    """``--scheduler`` and ``--workers``, the same on every subcommand that spreads work."""
    parser.add_argument("--scheduler", default="local", metavar="ADDRESS|local|sync",
                        help=SCHEDULER_HELP)
    parser.add_argument("--workers", type=int, default=None,
                        help="threads of the local cluster (default: up to 2)")
