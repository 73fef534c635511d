"""The 40-task benchmark suite, modelled on the "Beyond normal" suite (Czyż et al. 2023).

One- and low-dimensional non-Gaussian tasks, dense and sparse Gaussians up to 50 × 50,
Student-t tasks with heavy tails, and invertible transforms of sparse Gaussians: every task
carries its exact MI. Names are stable: code and saved benchmark tables refer to them.
"""
from __future__ import annotations

import fnmatch

from ...errors import InputError
from .base import Task
from .discrete import discrete_suite
from .gaussian import bivariate, dense, sparse
from .noise import additive_uniform
from .student import student_t
from .transforms import asinh, bimodal, half_cube, normal_cdf, spiral, swiss_roll, wiggly


def suite() -> list[Task]:
    """The 40 benchmark tasks (a fresh list each call; tasks are immutable)."""
    normal = bivariate(0.75)
    pairs = {d: sparse(d, d) for d in (3, 5, 25)}
    one_d = [normal, normal_cdf(normal), additive_uniform(0.1), additive_uniform(0.75),
             bimodal(0.75), wiggly(normal), half_cube(normal), student_t(1, 1, df=1),
             asinh(student_t(1, 1, df=1)), swiss_roll(normal_cdf(normal))]
    gaussians = ([dense(d, d) for d in (2, 3, 5, 25, 50)]
                 + [sparse(2, 2)] + list(pairs.values()))
    students = [student_t(d, d, df=df) for d, df in ((2, 1), (2, 2), (3, 2), (3, 3), (5, 2),
                                                     (5, 3))]
    transformed = ([normal_cdf(t) for t in pairs.values()]
                   + [half_cube(t) for t in pairs.values()]
                   + [spiral(t) for t in pairs.values()]
                   + [spiral(normal_cdf(t)) for t in pairs.values()]
                   + [asinh(student_t(d, d, df=df)) for d, df in ((2, 1), (3, 2), (5, 2))])
    return one_d + gaussians + students + transformed


def all_tasks() -> list[Task]:
    """The suite followed by the discrete tasks."""
    return suite() + discrete_suite()


def select(pattern: str | None = None, tasks: list[Task] | None = None) -> list[Task]:
    """Tasks whose names match ``pattern``: comma-separated shell patterns (``*``, ``?``) or
    substrings, e.g. ``"1v1-*,multinormal-dense-*"``, ``"student"`` or ``"xor-*"``. Searches
    ``tasks`` (default :func:`all_tasks`); no pattern selects the 40-task :func:`suite`."""
    if not pattern:
        return suite() if tasks is None else list(tasks)
    tasks = all_tasks() if tasks is None else list(tasks)
    pats = [p.strip() for p in pattern.split(",") if p.strip()]
    chosen = [t for t in tasks if any(fnmatch.fnmatchcase(t.name, p) or
                                      (not any(c in p for c in "*?[") and p in t.name)
                                      for p in pats)]
    if not chosen:
        raise InputError(f"no task matches {pattern!r}; names look like "
                         f"{', '.join(t.name for t in tasks[:4])}, ... "
                         "(workbench.bench.tasks.names())")
    return chosen


def get(name: str) -> Task:
    """The task (of :func:`all_tasks`) called ``name`` exactly."""
    for task in all_tasks():
        if task.name == name:
            return task
    raise InputError(f"no suite task named {name!r}; see workbench.bench.tasks.names()")


def names() -> list[str]:
    """Names of :func:`all_tasks`."""
    return [t.name for t in all_tasks()]
