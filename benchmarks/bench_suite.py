"""Accuracy and speed of the MI estimators on the 40-task ground-truth suite.

One line per estimator: tasks within max(0.1 nat, 10 % of truth), median absolute error
(nats), total estimator time and its ratio to KSG's time in the same run. Moderate size by
default (n = 2000, seed 0: a few minutes on two cores); environment variables
WORKBENCH_BENCH_N, WORKBENCH_BENCH_SEEDS ("0,1,2"), WORKBENCH_BENCH_ESTIMATORS ("ksg,gaussian")
change it, and WORKBENCH_FULL=1 runs n = 5000 (the size of Czyż et al. 2023) with the neural
estimators and ``auto:thorough`` too.
"""
from __future__ import annotations

import os
import time

from workbench.bench import runner as bench
from workbench.estimators import registry

#: Fast estimators that apply to continuous data, run by default when registered.
FAST = ("auto", "ksg", "ksg2", "gaussian", "gaussian_copula", "kde", "binning", "mixed",
        "compressed_ksg")
NEURAL = ("infonce", "smile", "mine", "nwj")
#: The thorough budget of auto (trains MINDE on the 5-10-dimensional tasks), next to "auto".
THOROUGH = ("auto:thorough",)
REFERENCE = "ksg"


def _estimators(full: bool) -> list[str]:
    requested = os.environ.get("WORKBENCH_BENCH_ESTIMATORS")
    if requested:
        return [e.strip() for e in requested.split(",") if e.strip()]
    reg = registry()
    return [e for e in FAST + (NEURAL + THOROUGH if full else ())
            if e.startswith("auto") or e in reg]


def main() -> None:
    full = os.environ.get("WORKBENCH_FULL") == "1"
    n = int(os.environ.get("WORKBENCH_BENCH_N", 5000 if full else 2000))
    seeds = [int(s) for s in os.environ.get("WORKBENCH_BENCH_SEEDS", "0").split(",")]
    estimators = _estimators(full)
    print(f"suite: 40 tasks, n = {n}, seeds {seeds}, estimators {', '.join(estimators)}")
    start = time.perf_counter()
    result = bench.run(None, estimators=estimators, ns=(n,), seeds=seeds, scheduler="local")
    wall = time.perf_counter() - start
    summary = result.summary(units="nats")
    ref = summary.loc[summary["estimator"] == REFERENCE, "total_seconds"]
    ref_seconds = float(ref.iloc[0]) if len(ref) else float("nan")
    print(f"{'estimator':<16} {'within':>7} {'failed':>6} {'median |err| (nats)':>20} "
          f"{'time (s)':>9} {'time / ' + REFERENCE:>10}")
    for row in summary.sort_values("within", ascending=False).itertuples():
        print(f"{row.estimator:<16} {row.within:>3}/{row.tasks:<3} {row.failures:>6} "
              f"{row.median_abs_error:>20.4f} {row.total_seconds:>9.2f} "
              f"{row.total_seconds / ref_seconds:>10.2f}")
    print(f"tolerance max({bench.ABS_TOL} nat, {bench.REL_TOL:.0%} of truth); "
          f"wall time {wall:.1f} s on the local Dask cluster")


if __name__ == "__main__":
    main()
