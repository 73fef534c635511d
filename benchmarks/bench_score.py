"""MINDE and SΩI accuracy and cost at n = 5000 (the issue's claims): minde (MINDE-C and
MINDE-J) on the 5 × 5 Gaussian and the 3 × 3 Student-t tasks of the suite, soi on five
Gaussian variables against the closed-form O-information. Prints estimate, truth, relative
error, CPU seconds and wall seconds (wall / CPU shows how contended the machine was).

Default: seed 0; WORKBENCH_BENCH_SEEDS="0,1,2" for a spread; WORKBENCH_BENCH_N for n;
WORKBENCH_BENCH_TASKS ("multinormal-dense-5-5,student-t-dof2-3-3") for the tasks.
"""
from __future__ import annotations

import os
import time

import numpy as np

import workbench as wb
from workbench.bench import runner
from workbench.bench.tasks import get
from workbench.measures.multivariate import _gaussian_terms

TASKS = ("multinormal-dense-5-5", "student-t-dof2-3-3", "student-t-dof3-3-3")


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = float(fn())
    return value, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    n = int(os.environ.get("WORKBENCH_BENCH_N", 5000))
    seeds = [int(s) for s in os.environ.get("WORKBENCH_BENCH_SEEDS", "0").split(",")]
    names = os.environ.get("WORKBENCH_BENCH_TASKS", ",".join(TASKS)).split(",")
    print(f"{'task':<24} {'method':<9} {'seed':>4} {'estimate':>9} {'truth':>7} "
          f"{'rel.err':>8} {'cpu s':>6} {'wall s':>7}")
    for name in names:
        task = get(name.strip())
        for seed in seeds:
            x, y = runner.job_data(task, n, seed)
            for variant in ("c", "j"):
                value, cpu, wall = _timed(lambda: wb.mutual_info(
                    x, y, method="minde", variant=variant, seed=seed, units="nats"))
                print(f"{name:<24} minde-{variant:<3} {seed:>4} {value:>9.3f} "
                      f"{task.mutual_info:>7.3f} {value / task.mutual_info - 1:>+8.1%} "
                      f"{cpu:>6.1f} {wall:>7.1f}", flush=True)
    load = np.array([0.8, 0.7, 0.6, 0.5, 0.4])
    cov = np.outer(load, load) + np.diag(1 - load**2)
    tc, dtc = _gaussian_terms(cov, np.arange(5)[None, :])
    truth = float(tc[0] - dtc[0])
    for seed in seeds:
        x5 = np.random.default_rng(seed).multivariate_normal(np.zeros(5), cov, size=n)
        value, cpu, wall = _timed(lambda: wb.o_information(x5, method="soi", seed=seed,
                                                           units="nats"))
        print(f"{'5 Gaussians (Omega)':<24} {'soi':<9} {seed:>4} {value:>9.3f} {truth:>7.3f} "
              f"{value / truth - 1:>+8.1%} {cpu:>6.1f} {wall:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
