"""Song & Ermon (2020) self-consistency of every MI method on Gaussian data (independence
baseline, data processing, additivity; see workbench.bench.consistency).

Default: n = 2000, 1-D X and Y (ρ = 0.8), every registered MI method for continuous data
except the slow neural ones; WORKBENCH_FULL=1 adds the neural and score-based estimators and
``auto:thorough``; WORKBENCH_BENCH_ESTIMATORS ("ksg,minde") picks the methods.
"""
from __future__ import annotations

import os
import time

from workbench.bench.consistency import consistency_table, self_consistency
from workbench.estimators import registry

#: Methods that train a network (minutes for the three tests each on a busy CPU).
SLOW = ("mine", "nwj", "infonce", "smile", "compressed_ksg", "minde", "soi", "score_max")
#: Representation measures and label-only methods: not estimators of I(X;Y) for
#: continuous pairs, so the tests do not apply.
NOT_APPLICABLE = ("matrix_renyi", "cauchy_schwarz", "dse", "kde", "mixed")


def _methods(full: bool) -> list[str]:
    requested = os.environ.get("WORKBENCH_BENCH_ESTIMATORS")
    if requested:
        return [e.strip() for e in requested.split(",") if e.strip()]
    names = [name for name, cls in registry().items()
             if cls.supports("mutual_info") and cls.data_kind == "continuous"
             and name not in NOT_APPLICABLE and (full or name not in SLOW)]
    return ["auto", *names, *(["auto:thorough"] if full else [])]


def main() -> None:
    full = os.environ.get("WORKBENCH_FULL") == "1"
    n = int(os.environ.get("WORKBENCH_BENCH_N", 2000))
    methods = _methods(full)
    start = time.perf_counter()
    frame = self_consistency(methods, n=n)
    table = consistency_table(frame)
    print(f"n = {n}, X, Y 1-D with rho = 0.8 (I = {frame['truth'].iloc[0]:.3f} nats); "
          "independence: estimate in nats (target 0); data processing I(X;[Y,Y^3])/I(X;Y) "
          "(target 1); additivity I([X1,X2];[Y1,Y2])/I(X1;Y1) (target 2)")
    print(table.round(3).to_string())
    print(f"wall time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
